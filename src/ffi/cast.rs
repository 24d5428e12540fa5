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
use std::net::SocketAddr;

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
    // Formatted on the stack, IPv4 by hand: bindings ask for it on every
    // request, and `fmt` takes longer than the rest of the call.
    let mut text = [0u8; 64];
    let n = match addr {
        SocketAddr::V4(v4) => format_v4(&mut text, v4.ip().octets(), v4.port()),
        SocketAddr::V6(_) => {
            let mut cursor = std::io::Cursor::new(&mut text[..]);
            std::io::Write::write_fmt(&mut cursor, format_args!("{addr}")).map_err(|_| C10K_ENOMEM)?;
            cursor.position() as usize
        }
    };
    if n + 1 > len {
        return Err(C10K_ENOMEM);
    }
    // SAFETY: buf has room for the text and its NUL, checked above.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buf as *mut u8, n);
        *buf.add(n) = 0;
    }
    Ok(())
}

/// Writes "a.b.c.d:port" at the start of `out` (room for 21 bytes) and
/// returns its length: what `SocketAddrV4`'s `Display` writes.
fn format_v4(out: &mut [u8], ip: [u8; 4], port: u16) -> usize {
    fn decimal(out: &mut [u8], mut n: usize, value: u32) -> usize {
        let mut digits = [0u8; 5];
        let mut count = 0;
        let mut v = value;
        loop {
            digits[count] = b'0' + (v % 10) as u8;
            count += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        while count > 0 {
            count -= 1;
            out[n] = digits[count];
            n += 1;
        }
        n
    }
    let mut n = 0;
    for (i, octet) in ip.iter().enumerate() {
        if i > 0 {
            out[n] = b'.';
            n += 1;
        }
        n = decimal(out, n, u32::from(*octet));
    }
    out[n] = b':';
    decimal(out, n + 1, u32::from(port))
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
    use super::format_v4;

    #[test]
    fn ipv4_addresses_read_as_display_writes_them() {
        for (ip, port) in [([127, 0, 0, 1], 8080), ([0, 0, 0, 0], 0), ([255, 255, 255, 255], 65535), ([10, 20, 3, 100], 5)] {
            let mut out = [0u8; 64];
            let n = format_v4(&mut out, ip, port);
            let expected = std::net::SocketAddrV4::new(ip.into(), port).to_string();
            assert_eq!(std::str::from_utf8(&out[..n]).unwrap(), expected);
        }
    }
}
