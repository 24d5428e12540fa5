//! HTTP dates for hosts that handle conditional requests themselves.

use super::cast::{put, try_bytes};
use crate::error::C10K_EINVAL;
use crate::http::parse_http_date;

/// Parses an HTTP-date (an `If-Modified-Since` or `Last-Modified` value) in
/// any of the three forms RFC 9110 section 5.6.7 says recipients accept:
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`). On success stores the Unix time in
/// `*out_secs` and returns 0; `C10K_EINVAL` for anything else (the caller
/// then ignores the field, as the RFC says) or a NULL pointer, with
/// `*out_secs` untouched. The text is read, not kept. Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_http_date_parse(text: *const u8, len: usize, out_secs: *mut i64) -> i32 {
    ffi!({
        let secs = parse_http_date(try_bytes(text, len)?).and_then(|s| i64::try_from(s).ok()).ok_or(C10K_EINVAL)?;
        put(out_secs, secs)
    })
}
