//! Answering a request from its handler: whole responses, files,
//! upgrades, or a deferred reply to complete later.

use std::ffi::{c_char, c_void};

use super::super::cast::{put, try_bytes, try_cstr, try_slice};
use super::super::conn::{CConn, c10k_conn_callbacks, conn_callbacks};
use super::files::{dup_owned, open_regular};
use super::request::{c10k_request, request};
use crate::error::*;
use crate::http::server::Body;

/// One header field, borrowed for the call it is passed to.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_header {
    pub name: *const u8,
    pub name_len: usize,
    pub value: *const u8,
    pub value_len: usize,
}

/// At most this many headers are converted on the stack; more allocate.
const STACK_HEADERS: usize = 32;
/// Most responses have this many headers or fewer: converted into a
/// smaller array, which costs less to clear.
const FEW_HEADERS: usize = 4;

/// Runs `f` with the C headers (`n` at `headers`) as Rust slices.
pub(in crate::ffi) fn with_headers<R>(
    headers: *const c10k_header,
    n: usize,
    f: impl FnOnce(&[(&[u8], &[u8])]) -> Result<R>,
) -> Result<R> {
    let raw = try_slice(headers, n)?;
    match n {
        0..=FEW_HEADERS => on_stack::<FEW_HEADERS, R>(raw, f),
        ..=STACK_HEADERS => on_stack::<STACK_HEADERS, R>(raw, f),
        _ => {
            let mut heap = Vec::new();
            heap.try_reserve_exact(n).map_err(|_| C10K_ENOMEM)?;
            for h in raw {
                heap.push(convert(h)?);
            }
            f(&heap)
        }
    }
}

/// [`with_headers`] for at most `N` headers, converted into an array.
fn on_stack<const N: usize, R>(raw: &[c10k_header], f: impl FnOnce(&[(&[u8], &[u8])]) -> Result<R>) -> Result<R> {
    let mut stack: [(&[u8], &[u8]); N] = [(&[], &[]); N];
    for (slot, h) in stack.iter_mut().zip(raw) {
        *slot = convert(h)?;
    }
    f(&stack[..raw.len()])
}

fn convert(h: &c10k_header) -> Result<(&[u8], &[u8])> {
    Ok((try_bytes(h.name, h.name_len)?, try_bytes(h.value, h.value_len)?))
}

/// Answers the request: status, `n` headers (copied; Content-Length,
/// Transfer-Encoding and, unless given, Date and Connection are added by
/// the library) and `len` body bytes (copied). HEAD requests get the
/// headers only. The response goes out with the others produced in this
/// turn, in one `writev`.
///
/// Returns 0; `C10K_EINVAL` for a status outside 100-999, a header value
/// with a CR, LF, NUL or other control byte (HTAB is fine), a bad name,
/// NULL views, or a request already answered (nothing is sent); `C10K_ENOMEM`
/// when the response cannot be copied (nothing is sent: the handler may
/// still answer, or defer); `C10K_ECLOSED`/`C10K_EPIPE` if the connection is gone.
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_respond(
    req: *mut c10k_request,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    body: *const u8,
    len: usize,
) -> i32 {
    ffi!({
        let (r, body) = (request(req)?, try_bytes(body, len)?);
        with_headers(headers, n, |h| r.respond(status, h, Body::Bytes(body)))
    })
}

/// Answers with `len` bytes of the open file `fd` from `offset`, sent by
/// the loop with `sendfile(2)`: the handler never pumps bytes. `fd` is
/// borrowed (the library duplicates it). Returns as `c10k_respond`, plus
/// `C10K_EBADF`.
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_respond_file(
    req: *mut c10k_request,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    fd: i32,
    offset: u64,
    len: u64,
) -> i32 {
    ffi!({
        let r = request(req)?;
        let file = dup_owned(fd)?;
        with_headers(headers, n, |h| r.respond(status, h, Body::File(file, offset, len)))
    })
}

/// Answers with the whole file at `path` (NUL-terminated), sent with
/// `sendfile(2)`. If the file cannot be opened nothing is sent and the
/// error is returned (`C10K_ENOENT`, `C10K_EACCES`, `C10K_EISDIR`), so the
/// handler can answer 404 or 403 itself. The open never blocks the loop:
/// anything but a regular file (a FIFO, a device, a socket) is refused
/// with `C10K_EACCES`.
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_respond_path(
    req: *mut c10k_request,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    path: *const c_char,
) -> i32 {
    ffi!({
        let (r, path) = (request(req)?, try_cstr(path)?);
        let (file, len) = open_regular(path)?;
        with_headers(headers, n, |h| r.respond(status, h, Body::File(file, 0, len)))
    })
}

/// Keeps the request open and stores its reply handle in `*out_reply`: the
/// handler returns, and any thread completes the reply later with
/// `c10k_reply_send` (or `c10k_reply_start`, `_write`, `_end`). Thousands
/// of pending replies cost no threads. If the client leaves first,
/// `on_abort` reports it and the handle answers `C10K_ECLOSED`. Requests
/// pipelined behind this one wait, in order.
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_defer(req: *mut c10k_request, out_reply: *mut u64) -> i32 {
    ffi!({
        if out_reply.is_null() {
            return Err(C10K_EINVAL);
        }
        put(out_reply, request(req)?.defer()?.0)
    })
}

/// Answers 101 Switching Protocols with `n` headers (include `Upgrade`
/// and `Connection: upgrade`) and hands the connection over: from now on
/// it is a plain connection reporting to `callbacks` with `user_data`
/// (`on_open` first, then any bytes that followed the request). Only for a
/// request without a body that asked to upgrade, from a handler on the
/// loop thread (not a worker pool's); `C10K_EINVAL` otherwise (nothing is
/// sent, and the handler can still answer over HTTP).
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_respond_upgrade(
    req: *mut c10k_request,
    headers: *const c10k_header,
    n: usize,
    callbacks: *const c10k_conn_callbacks,
    user_data: *mut c_void,
) -> i32 {
    ffi!({
        let (r, callbacks) = (request(req)?, conn_callbacks(callbacks)?);
        with_headers(headers, n, |h| r.upgrade(h, Box::new(CConn::with_user_data(callbacks, user_data))))
    })
}
