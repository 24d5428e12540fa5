//! Reason phrases of one's own (`"299 Custom Thing"`, a WSGI application's
//! status line) instead of the status code's standard phrase.

use super::cast::{handle, try_bytes};
use super::http::{c10k_request, request};
use crate::error::*;
use crate::http::server::reply;
use crate::http::valid_reason;
use crate::reactor::Kind;

/// Gives the response to `req` the reason phrase `reason` (`len` bytes,
/// copied) instead of the status code's standard one; call it before
/// answering (or deferring). An empty phrase is allowed.
///
/// Returns 0; `C10K_EINVAL` for a NULL request or view, a CR, LF or other
/// control byte in `reason` (HTAB is fine), or a request already answered;
/// `C10K_ECLOSED` if its client left. Added in 0.2.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_set_reason(req: *mut c10k_request, reason: *const u8, len: usize) -> i32 {
    ffi!({
        let (r, reason) = (request(req)?, try_bytes(reason, len)?);
        r.set_reason(reason)
    })
}

/// Gives the response of the deferred `reply` the reason phrase `reason`
/// (`len` bytes, copied) instead of the standard one; call it before
/// `c10k_reply_send`, `c10k_reply_send_file` or `c10k_reply_start`.
///
/// Returns 0; `C10K_EINVAL` for a NULL view, a CR, LF or other control byte
/// (HTAB is fine), or a reply whose head went out; `C10K_ECLOSED` if the
/// client left or the reply ended. Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_reply_set_reason(reply: u64, reason: *const u8, len: usize) -> i32 {
    ffi!({
        let reason = try_bytes(reason, len)?;
        if !valid_reason(reason) {
            return Err(C10K_EINVAL);
        }
        reply::set_reason(handle(reply, Kind::Reply)?, reason)
    })
}
