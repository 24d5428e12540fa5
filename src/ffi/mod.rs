//! Every `extern "C"` item of the library. Each export is a thin wrapper
//! over the Rust modules, runs inside the panic boundary and answers NULL
//! pointers and stale handles with an error code.
//!
//! Every export's comment says what its pointers must be; those comments
//! become the header's, so the contract is written for C readers rather
//! than in a Rust `# Safety` section.
#![allow(clippy::missing_safety_doc)]

#[macro_use]
mod guard;
mod conn;
mod date;
mod http;
mod loop_;
mod server;
mod sized;
mod target;
mod version;

pub use conn::*;
pub use date::*;
pub use http::*;
pub use loop_::*;
pub use server::*;
pub use target::*;
pub use version::*;

use std::ffi::{CStr, c_char};
use std::net::SocketAddr;

use crate::error::{C10K_EINVAL, C10K_ENOMEM, Result};

/// Enough room for any address `c10k_*_addr` writes, NUL included.
pub const C10K_ADDRSTRLEN: usize = 64;

/// Parses a C string holding a numeric address.
///
/// # Safety
/// `addr` is NULL or points to a NUL-terminated string.
unsafe fn parse_c_addr(addr: *const c_char) -> Result<SocketAddr> {
    if addr.is_null() {
        return Err(C10K_EINVAL);
    }
    // SAFETY: the caller promises a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(addr) }.to_str().map_err(|_| C10K_EINVAL)?;
    crate::net::parse_addr(text)
}

/// Writes `addr` as `"127.0.0.1:8080"` or `"[::1]:8080"` with a NUL into `buf`.
///
/// # Safety
/// `buf` is NULL or valid for writing `len` bytes.
unsafe fn write_c_addr(addr: SocketAddr, buf: *mut c_char, len: usize) -> Result<()> {
    if buf.is_null() {
        return Err(C10K_EINVAL);
    }
    let text = addr.to_string();
    if text.len() + 1 > len {
        return Err(C10K_ENOMEM);
    }
    // SAFETY: buf has room for the text and its NUL, checked above.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf as *mut u8, text.len());
        *buf.add(text.len()) = 0;
    }
    Ok(())
}

/// 0 for `Ok`, the code for `Err`.
fn code(result: Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => e,
    }
}
