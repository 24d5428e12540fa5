//! Every `extern "C"` item of the library. Each export is a thin wrapper
//! over the Rust modules, runs inside the panic boundary and answers NULL
//! pointers and stale handles with an error code.
//!
//! Every export's comment says what its pointers must be; those comments
//! become the header's, so the contract is written for C readers rather
//! than in a Rust `# Safety` section.
#![allow(clippy::missing_safety_doc)]

#[macro_use]
mod boundary;
mod cast;
mod conn;
mod date;
mod drain;
mod handoff;
mod http;
mod loop_;
mod proxy;
mod reason;
mod server;
mod sized;
mod target;
mod version;
mod ws;

pub use conn::*;
pub use date::*;
pub use drain::*;
pub use handoff::*;
pub use http::*;
pub use loop_::*;
pub use proxy::*;
pub use server::*;
pub use target::*;
pub use version::*;
pub use ws::*;

/// Enough room for any address `c10k_*_addr` writes, NUL included.
pub const C10K_ADDRSTRLEN: usize = 64;
