//! Sockets: numeric addresses, listening and connecting sockets, accepts,
//! socket options and the vectored, SIGPIPE-free writes the loop uses;
//! the PROXY protocol a load balancer puts before its clients' bytes.

mod addr;
mod listener;
pub mod proxy;
mod proxy_accept;
mod socket;

pub use addr::{parse_addr, sockaddr_from, sockaddr_to};
pub use listener::ListenOptions;
pub(crate) use listener::{Accepted, Intake};
pub use proxy::{ProxyHeader, TlsInfo};
pub use proxy_accept::{MAX_TRUSTED_NETWORKS, Networks, ProxyOptions, Untrusted};
pub use socket::*;
