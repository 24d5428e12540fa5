//! Checked conversions from C arguments to Rust values, used only inside
//! `ffi!` (rustls-ffi's `Castable` habit): no export dereferences, casts or
//! frees a raw pointer itself.
//!
//! These functions are safe to call although they read raw pointers: each
//! export's header comment is the contract that makes the pointer valid
//! (or NULL), and NULL is answered here with `C10K_EINVAL`. They are
//! private to `ffi`, whose only callers are those exports.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::ffi::{CStr, c_char};
use std::net::{SocketAddr, SocketAddrV4};

use crate::error::{C10K_EINVAL, C10K_ENOMEM, Result};
use crate::reactor::{Handle, Kind};

/// The object behind a C pointer, borrowed for the call.
pub(super) fn try_ref<'a, T>(ptr: *const T) -> Result<&'a T> {
    // SAFETY: NULL or a live object, per the export's contract.
    unsafe { ptr.as_ref() }.ok_or(C10K_EINVAL)
}

/// The object behind a C pointer, borrowed mutably for the call.
pub(super) fn try_mut<'a, T>(ptr: *mut T) -> Result<&'a mut T> {
    // SAFETY: NULL or a live object no one else uses during the call.
    unsafe { ptr.as_mut() }.ok_or(C10K_EINVAL)
}

/// `(ptr, len)` as a slice; NULL is fine with `len == 0`.
pub(super) fn try_bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8]> {
    try_slice(ptr, len)
}

/// `(ptr, n)` as a slice of C structs; NULL is fine with `n == 0`. More
/// than any allocation can hold (`SIZE_MAX` bytes, say) is `C10K_ENOMEM`:
/// no copy of it could be made.
pub(super) fn try_slice<'a, T>(ptr: *const T, n: usize) -> Result<&'a [T]> {
    match (ptr.is_null(), n) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(C10K_EINVAL),
        _ if n > isize::MAX as usize / size_of::<T>().max(1) => Err(C10K_ENOMEM),
        // SAFETY: valid for n elements, per the export's contract.
        (false, _) => Ok(unsafe { std::slice::from_raw_parts(ptr, n) }),
    }
}

/// A NUL-terminated string.
pub(super) fn try_cstr<'a>(ptr: *const c_char) -> Result<&'a CStr> {
    if ptr.is_null() {
        return Err(C10K_EINVAL);
    }
    // SAFETY: NUL-terminated, per the export's contract.
    Ok(unsafe { CStr::from_ptr(ptr) })
}

/// A C string holding a numeric address.
pub(super) fn try_addr(ptr: *const c_char) -> Result<SocketAddr> {
    crate::net::parse_addr(try_cstr(ptr)?.to_str().map_err(|_| C10K_EINVAL)?)
}

/// A `uint64_t` handle that must be of `kind`: `C10K_EINVAL` for a handle
/// of another kind, `C10K_ECLOSED` for a number that is no handle.
pub(super) fn handle(raw: u64, kind: Kind) -> Result<Handle> {
    Handle(raw).expect(kind)
}

/// Writes an out-parameter; NULL is `C10K_EINVAL`.
pub(super) fn put<T>(out: *mut T, value: T) -> Result<()> {
    *try_mut(out)? = value;
    Ok(())
}

/// Writes an optional out-parameter; NULL skips it.
pub(super) fn put_if<T>(out: *mut T, value: T) {
    // SAFETY: NULL or valid for writing, per the export's contract.
    if let Some(out) = unsafe { out.as_mut() } {
        *out = value;
    }
}

/// Hands a new object to C through `out`.
pub(super) fn put_box<T>(out: *mut *mut T, value: T) -> Result<()> {
    let out = try_mut(out)?;
    *out = Box::into_raw(Box::new(value));
    Ok(())
}

/// Takes back an object `put_box` gave out (None for NULL), to free it.
pub(super) fn take_box<T>(ptr: *mut T) -> Option<Box<T>> {
    // SAFETY: from put_box and not freed yet, per the export's contract.
    (!ptr.is_null()).then(|| unsafe { Box::from_raw(ptr) })
}

/// Writes `addr` as `"127.0.0.1:8080"` or `"[::1]:8080"` with a NUL into `buf`.
pub(super) fn put_addr(addr: SocketAddr, buf: *mut c_char, len: usize) -> Result<()> {
    if buf.is_null() {
        return Err(C10K_EINVAL);
    }
    let mut v4 = [0u8; V4_TEXT_MAX];
    let v6;
    let text: &[u8] = match addr {
        SocketAddr::V4(a) => {
            let n = v4_text(a, &mut v4);
            &v4[..n]
        }
        SocketAddr::V6(a) => {
            v6 = a.to_string();
            v6.as_bytes()
        }
    };
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

/// The longest IPv4 address with its port: `255.255.255.255:65535`.
const V4_TEXT_MAX: usize = 21;

/// Writes `addr` as `a.b.c.d:port` into `out`; returns the length. By
/// hand: a WSGI host asks for its client's address on every request, and
/// the formatting machinery cost more than the rest of that call.
fn v4_text(addr: SocketAddrV4, out: &mut [u8; V4_TEXT_MAX]) -> usize {
    let mut at = 0;
    let mut put = |value: u16, sep: u8| {
        if sep != 0 {
            out[at] = sep;
            at += 1;
        }
        let mut digits = [0u8; 5];
        let mut n = 0;
        let mut v = value;
        loop {
            digits[n] = b'0' + (v % 10) as u8;
            n += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for d in digits[..n].iter().rev() {
            out[at] = *d;
            at += 1;
        }
    };
    for (i, octet) in addr.ip().octets().into_iter().enumerate() {
        put(u16::from(octet), if i == 0 { 0 } else { b'.' });
    }
    put(addr.port(), b':');
    at
}

/// Copies `bytes` into the caller's buffer of `cap` bytes.
pub(super) fn put_bytes_into(bytes: &[u8], out: *mut u8, cap: usize) -> Result<()> {
    if bytes.len() > cap {
        return Err(C10K_ENOMEM);
    }
    if bytes.is_empty() {
        return Ok(());
    }
    if out.is_null() {
        return Err(C10K_EINVAL);
    }
    // SAFETY: out has cap >= bytes.len() bytes, per the export's contract.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), out, bytes.len()) };
    Ok(())
}

/// Stores a borrowed byte view in two out-parameters.
pub(super) fn put_view(bytes: &[u8], out: *mut *const u8, out_len: *mut usize) -> Result<()> {
    if out.is_null() || out_len.is_null() {
        return Err(C10K_EINVAL);
    }
    put(out, bytes.as_ptr())?;
    put(out_len, bytes.len())
}

/// A host's pointer (`void *user_data`, its loop) carried as an integer, so
/// that closures holding it can cross threads: the host vouches for where
/// its data may be used, and the library only hands it back.
pub(super) fn carry<T>(ptr: *mut T) -> usize {
    ptr as usize
}

/// The host's pointer back from `carry`.
pub(super) fn uncarry<T>(data: usize) -> *mut T {
    data as *mut T
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_text_matches_the_standard_form() {
        for text in ["0.0.0.0:0", "127.0.0.1:8080", "255.255.255.255:65535", "10.20.3.4:9", "1.0.100.0:10000"] {
            let addr: SocketAddrV4 = text.parse().unwrap();
            let mut out = [0u8; V4_TEXT_MAX];
            let n = v4_text(addr, &mut out);
            assert_eq!(&out[..n], text.as_bytes());
        }
    }
}
