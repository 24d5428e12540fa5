//! Deferred replies: completed later, from any thread.

use super::super::boundary::Positive;
use super::super::cast::{handle, try_bytes, try_ref};
use super::files::dup_owned;
use super::respond::{c10k_header, with_headers};
use crate::http::server::{self as http, Body, reply};
use crate::reactor::Kind;

/// Completes a deferred reply with a whole response (as `c10k_respond`).
/// Headers and body are copied before this returns.
///
/// Returns 0; `C10K_ECLOSED` if the client left or the reply already
/// ended; `C10K_EINVAL` as `c10k_respond`, or if the reply was started;
/// `C10K_ENOMEM` when no copy can be made (nothing is sent: the reply
/// stays pending).
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_reply_send(
    reply: u64,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    body: *const u8,
    len: usize,
) -> i32 {
    ffi!({
        let body = try_bytes(body, len)?;
        with_headers(headers, n, |h| reply::send(handle(reply, Kind::Reply)?, status, h, Body::Bytes(body)))
    })
}

/// Completes a deferred reply with `len` bytes of the file `fd` from
/// `offset` (borrowed: duplicated), sent with `sendfile(2)`.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_reply_send_file(
    reply: u64,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    fd: i32,
    offset: u64,
    len: u64,
) -> i32 {
    ffi!({
        let file = dup_owned(fd)?;
        with_headers(headers, n, |h| reply::send(handle(reply, Kind::Reply)?, status, h, Body::File(file, offset, len)))
    })
}

/// Starts a streamed response to a deferred reply: the head now, the body
/// with `c10k_reply_write`, then `c10k_reply_end`. `content_length` points
/// to the exact body length, or is NULL when it is unknown (the body is
/// then sent chunked to HTTP/1.1 clients, close-delimited to HTTP/1.0).
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_reply_start(
    reply: u64,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    content_length: *const u64,
) -> i32 {
    ffi!({
        let length = try_ref(content_length).ok().copied();
        with_headers(headers, n, |h| reply::start(handle(reply, Kind::Reply)?, status, h, length))
    })
}

/// Sends `len` bytes (copied) of a started response. Returns 0,
/// `C10K_QUEUE_FULL` (positive: the bytes were taken, but the connection's
/// queue is above its high-water mark: wait for `on_drain` before writing
/// more), `C10K_EINVAL` for more than a declared length, `C10K_ENOMEM`
/// when no copy can be made (nothing is sent), or `C10K_ECLOSED`.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_reply_write(reply: u64, data: *const u8, len: usize) -> i32 {
    ffi!({
        let above = reply::write(handle(reply, Kind::Reply)?, try_bytes(data, len)?)?;
        Ok(if above { Positive::QueueFull } else { Positive::Done })
    })
}

/// Ends a started response. If fewer bytes than a declared length were
/// written, the connection closes after them.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_reply_end(reply: u64) -> i32 {
    ffi!({ reply::end(handle(reply, Kind::Reply)?) })
}

/// Gives up on a deferred reply, started or not: the connection is aborted
/// (RST), so the client cannot take a cut response for a complete one
/// (for example when a streamed body fails half-way). `on_abort` does not
/// run for it. Returns 0, or `C10K_ECLOSED` if the reply already ended or
/// the client left.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_reply_abort(reply: u64) -> i32 {
    ffi!({ reply::abort(handle(reply, Kind::Reply)?) })
}

/// Resumes a body stream paused by `on_body` returning false.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_reply_resume_body(reply: u64) -> i32 {
    ffi!({ http::resume_body(handle(reply, Kind::Reply)?) })
}
