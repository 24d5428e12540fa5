//! HTTP dates for hosts that handle conditional requests themselves.

use crate::error::{C10K_EINVAL, C10K_EPANIC};
use crate::http::parse_http_date;

/// Parses an HTTP-date (an `If-Modified-Since` or `Last-Modified` value) in
/// any of the three forms RFC 9110 section 5.6.7 says recipients accept:
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime
/// (`Sun Nov  6 08:49:37 1994`). On success stores the Unix time in
/// `*out_secs` and returns 0; `C10K_EINVAL` for anything else (the caller
/// then ignores the field, as the RFC says) or a NULL pointer. The text is
/// read, not kept. Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_http_date_parse(text: *const u8, len: usize, out_secs: *mut i64) -> i32 {
    guard!(C10K_EPANIC, {
        if text.is_null() || out_secs.is_null() {
            return C10K_EINVAL;
        }
        // SAFETY: text is valid for len bytes, per the caller.
        let text = unsafe { std::slice::from_raw_parts(text, len) };
        match parse_http_date(text).and_then(|s| i64::try_from(s).ok()) {
            // SAFETY: out_secs is non-null and writable, per the caller.
            Some(secs) => {
                unsafe { *out_secs = secs };
                0
            }
            None => C10K_EINVAL,
        }
    })
}
