//! The C boundary, in one place: the `ffi!` macro that every export's body
//! is, and the checked conversions from C arguments (`cast`).
//!
//! An export is written as
//! ```ignore
//! #[unsafe(no_mangle)]
//! pub unsafe extern "C" fn c10k_thing(lp: *mut c10k_loop, out: *mut u64) -> i32 {
//!     ffi!({ put(out, try_ref(lp)?.thing()?) })
//! }
//! ```
//! The signature stays written out so that cbindgen reads it; the body is
//! the macro, so no code runs outside the panic boundary. Inside, arguments
//! are reached only through `cast`'s functions, which answer NULL, a
//! handle of the wrong kind or a stale one with an error code.

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::error::{C10K_EPANIC, Result};

/// An export's body inside the panic boundary.
///
/// - `ffi!({ ... })`: an `int` export. The block evaluates to a
///   `Result<S>`; `Ok` becomes 0 or the positive status `S` names, `Err`
///   its code, a panic `C10K_EPANIC`.
/// - `ffi!(else FALLBACK, { ... })`: an export returning something else
///   (a count, a flag, nothing). The block evaluates to `Result<T>`; an
///   error or a panic answers `FALLBACK`, the value the header documents.
macro_rules! ffi {
    (else $fallback:expr, $body:block) => {
        $crate::ffi::boundary::value($fallback, || -> $crate::error::Result<_> { $body })
    };
    ($body:block) => {
        $crate::ffi::boundary::code(|| -> $crate::error::Result<_> { $body })
    };
}

/// What an `int` export answers on success.
pub(crate) trait Status {
    fn code(self) -> i32;
}

impl Status for () {
    fn code(self) -> i32 {
        0
    }
}

/// A success that is worth telling apart from plain 0: the header's
/// positive results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Positive {
    Done,
    /// `C10K_QUEUE_FULL`: the data was queued above the high-water mark.
    QueueFull,
    /// `C10K_STOPPED`: a stop was requested.
    Stopped,
}

impl Status for Positive {
    fn code(self) -> i32 {
        match self {
            Positive::Done => 0,
            Positive::QueueFull => super::conn::C10K_QUEUE_FULL,
            Positive::Stopped => super::loop_::C10K_STOPPED,
        }
    }
}

/// Runs an `int` export's body (see `ffi!`).
pub(crate) fn code<S: Status>(body: impl FnOnce() -> Result<S>) -> i32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status.code(),
        Ok(Err(e)) => e,
        Err(_) => C10K_EPANIC,
    }
}

/// Runs another export's body (see `ffi!`).
pub(crate) fn value<T>(fallback: T, body: impl FnOnce() -> Result<T>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(_)) | Err(_) => fallback,
    }
}
