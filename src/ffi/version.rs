//! Versions and error names.

use std::ffi::{CStr, c_char};

use crate::error;

/// The ABI version: changes whenever a change breaks programs built
/// against an earlier header (docs/ABI.md says which changes do). Bindings
/// refuse a library whose ABI differs. Computed by build.rs, which also
/// names the shared object with it.
pub const C10K_ABI_VERSION: u32 = parse_decimal(env!("C10K_ABI"));

/// A decimal number at compile time.
const fn parse_decimal(text: &str) -> u32 {
    let (bytes, mut value, mut i) = (text.as_bytes(), 0u32, 0);
    while i < bytes.len() {
        assert!(bytes[i].is_ascii_digit(), "C10K_ABI is not a number");
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// The crate's version, NUL-terminated.
fn c10k_version_c() -> &'static CStr {
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(text) => text,
        Err(_) => c"",
    }
}

/// The library's version as `"MAJOR.MINOR.PATCH"`; a static string.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_version() -> *const c_char {
    ffi!(else std::ptr::null(), { Ok(c10k_version_c().as_ptr()) })
}

/// The library's version packed as `(MAJOR << 16) | (MINOR << 8) | PATCH`,
/// comparable with `C10K_VERSION_HEX` from the header the program was built with.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_version_hex() -> u32 {
    ffi!(else 0, {
        let part = |s: &str| s.parse::<u32>().unwrap_or(0);
        Ok((part(env!("CARGO_PKG_VERSION_MAJOR")) << 16)
            | (part(env!("CARGO_PKG_VERSION_MINOR")) << 8)
            | part(env!("CARGO_PKG_VERSION_PATCH")))
    })
}

/// The library's ABI version; compare it with `C10K_ABI_VERSION` at start-up.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_abi_version() -> u32 {
    ffi!(else C10K_ABI_VERSION, { Ok(C10K_ABI_VERSION) })
}

/// A static English description of an error code, or `"unknown error code"`.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_strerror(code: i32) -> *const c_char {
    ffi!(else std::ptr::null(), { Ok(error::strerror_c(code).unwrap_or(c"unknown error code").as_ptr()) })
}

/// The symbolic name of an error code (`"C10K_EINVAL"`), or `"C10K_UNKNOWN"`.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_err_name(code: i32) -> *const c_char {
    ffi!(else std::ptr::null(), { Ok(error::err_name_c(code).unwrap_or(c"C10K_UNKNOWN").as_ptr()) })
}
