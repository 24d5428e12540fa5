//! c10k: C10K multiplexing for programs written in other languages.
//!
//! The Rust core knows nothing of C: `reactor` is the loop, `net` the
//! sockets and listeners, `conn` the connections. `ffi` wraps them for C.

pub mod conn;
pub mod error;
pub mod net;
pub mod reactor;
#[allow(non_camel_case_types)]
pub mod ffi;

pub use conn::{ConnHandler, OwnedBuf};
pub use net::{Acceptor, ListenOptions};
pub use reactor::{ConnId, ListenerId, Loop, LoopHandle, TimerId};
