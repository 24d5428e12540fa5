//! `c10k_percent_decode`: the decoding paths and query strings need.

use super::super::cast::{put, put_bytes_into, try_bytes};
use crate::error::*;
use crate::http::percent_decode;

/// Percent-decodes `len` bytes at `input` into `out` (capacity `cap`),
/// storing the decoded length in `*out_len`. With `plus_as_space`, `+`
/// becomes a space (for query strings, not paths). Returns 0,
/// `C10K_EINVAL` for a malformed `%XY` or NULL pointers, `C10K_ENOMEM` if
/// `cap` is too small (the decoded form is never longer than the input).
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_percent_decode(
    input: *const u8,
    len: usize,
    plus_as_space: bool,
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    ffi!({
        let input = try_bytes(input, len)?;
        if out_len.is_null() || (out.is_null() && cap > 0) {
            return Err(C10K_EINVAL);
        }
        let mut decoded = Vec::new();
        decoded.try_reserve(len).map_err(|_| C10K_ENOMEM)?;
        percent_decode(input, &mut decoded, plus_as_space).map_err(|_| C10K_EINVAL)?;
        put_bytes_into(&decoded, out, cap)?;
        put(out_len, decoded.len())
    })
}
