//! c10k: C10K multiplexing for programs written in other languages.
//!
//! The Rust core knows nothing of C: `reactor` is the loop, `net` the
//! sockets and listeners, `conn` the connections, `http` the HTTP/1.1
//! layer, `ws` WebSocket above it. `ffi` wraps them for C.

pub mod conn;
pub mod error;
#[allow(non_camel_case_types)]
pub mod ffi;
pub mod http;
pub mod net;
pub mod reactor;
pub mod server;
pub mod ws;

pub use conn::{Acceptor, ConnHandler, OwnedBuf};
pub use net::ListenOptions;
pub use reactor::{ConnId, ListenerId, Loop, LoopHandle, TimerId};
