//! Sockets: numeric addresses, listening and connecting sockets, accepts,
//! socket options and the vectored, SIGPIPE-free writes the loop uses.

mod addr;
mod listener;
mod socket;

pub use addr::{parse_addr, sockaddr_from, sockaddr_to};
pub(crate) use listener::Listener;
pub use listener::{Acceptor, ListenOptions};
pub use socket::*;
