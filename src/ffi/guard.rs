//! The panic boundary: no panic unwinds into C.

/// Runs `$body` (an expression of the export's return type); a panic
/// becomes `$fallback`.
macro_rules! guard {
    ($fallback:expr, $body:block) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(value) => value,
            Err(_) => $fallback,
        }
    };
}
