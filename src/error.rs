//! The one table of error codes: the `C10K_E*` constants, their names and
//! their messages all come from here.
//!
//! Codes are negative. Where an errno exists the code is `-errno` with
//! Linux's numbering, fixed in the header so that it does not change between
//! platforms; codes without an errno live at -1000 and below.

use std::ffi::CStr;
use std::io;

macro_rules! error_table {
    ($( $(#[$doc:meta])* $name:ident = $value:expr, $errno:expr, $msg:literal; )*) => {
        $( $(#[$doc])* pub const $name: i32 = $value; )*

        /// Every code: name, value, message; the header's constants are made from it.
        pub const ALL: &[(&str, i32, &str)] = &[ $( (stringify!($name), $value, $msg), )* ];

        /// The symbolic name of an error code, NUL-terminated for C.
        pub fn err_name_c(code: i32) -> Option<&'static CStr> {
            let text = match code { $( $value => concat!(stringify!($name), "\0"), )* _ => return None };
            CStr::from_bytes_with_nul(text.as_bytes()).ok()
        }

        /// A one-line English description of an error code, NUL-terminated for C.
        pub fn strerror_c(code: i32) -> Option<&'static CStr> {
            let text = match code { $( $value => concat!($msg, "\0"), )* _ => return None };
            CStr::from_bytes_with_nul(text.as_bytes()).ok()
        }

        /// Maps an OS error number to our code, or `None` when it has no entry.
        fn from_errno(errno: i32) -> Option<i32> {
            match errno { $( e if $errno != 0 && e == $errno => Some($value), )* _ => None }
        }
    };
}

error_table! {
    /// Success.
    C10K_OK = 0, 0, "success";
    /// Operation not permitted.
    C10K_EPERM = -1, libc::EPERM, "operation not permitted";
    /// No such file or directory.
    C10K_ENOENT = -2, libc::ENOENT, "no such file or directory";
    /// Interrupted system call.
    C10K_EINTR = -4, libc::EINTR, "interrupted system call";
    /// Input/output error.
    C10K_EIO = -5, libc::EIO, "input/output error";
    /// Bad file descriptor.
    C10K_EBADF = -9, libc::EBADF, "bad file descriptor";
    /// Resource temporarily unavailable.
    C10K_EAGAIN = -11, libc::EAGAIN, "resource temporarily unavailable";
    /// Out of memory.
    C10K_ENOMEM = -12, libc::ENOMEM, "out of memory";
    /// Permission denied.
    C10K_EACCES = -13, libc::EACCES, "permission denied";
    /// The object is busy: for example a loop freed from inside its own callback.
    C10K_EBUSY = -16, libc::EBUSY, "resource busy";
    /// Is a directory.
    C10K_EISDIR = -21, libc::EISDIR, "is a directory";
    /// Invalid argument (including NULL where a pointer is required).
    C10K_EINVAL = -22, libc::EINVAL, "invalid argument";
    /// Too many open files in the system.
    C10K_ENFILE = -23, libc::ENFILE, "too many open files in system";
    /// Too many open files in this process.
    C10K_EMFILE = -24, libc::EMFILE, "too many open files";
    /// Broken pipe: the peer closed the connection.
    C10K_EPIPE = -32, libc::EPIPE, "broken pipe";
    /// The call would wait for itself: for example `c10k_server_wait` from the server's own callback.
    C10K_EDEADLK = -35, libc::EDEADLK, "the call would wait for itself";
    /// Protocol error: for example a WebSocket handshake that was refused (and answered).
    C10K_EPROTO = -71, libc::EPROTO, "protocol error";
    /// Operation not supported.
    C10K_ENOTSUP = -95, libc::EOPNOTSUPP, "operation not supported";
    /// Address already in use.
    C10K_EADDRINUSE = -98, libc::EADDRINUSE, "address already in use";
    /// Cannot assign the requested address.
    C10K_EADDRNOTAVAIL = -99, libc::EADDRNOTAVAIL, "address not available";
    /// Network is unreachable.
    C10K_ENETUNREACH = -101, libc::ENETUNREACH, "network is unreachable";
    /// Connection aborted.
    C10K_ECONNABORTED = -103, libc::ECONNABORTED, "connection aborted";
    /// Connection reset by peer.
    C10K_ECONNRESET = -104, libc::ECONNRESET, "connection reset by peer";
    /// Transport endpoint is not connected.
    C10K_ENOTCONN = -107, libc::ENOTCONN, "socket is not connected";
    /// Timed out.
    C10K_ETIMEDOUT = -110, libc::ETIMEDOUT, "timed out";
    /// Connection refused.
    C10K_ECONNREFUSED = -111, libc::ECONNREFUSED, "connection refused";
    /// Host is unreachable.
    C10K_EHOSTUNREACH = -113, libc::EHOSTUNREACH, "host is unreachable";
    /// Operation canceled: for example a connection closed because its loop was freed.
    C10K_ECANCELED = -125, libc::ECANCELED, "operation canceled";
    /// The handle names a connection, timer or reply that is closed or never existed.
    C10K_ECLOSED = -1001, 0, "handle is closed or stale";
    /// A panic inside the library was caught at the C boundary; the object is now unusable.
    C10K_EPANIC = -1002, 0, "internal panic caught at the C boundary";
    /// A loop-thread-only function was called from a thread that does not own the loop.
    C10K_EWRONGTHREAD = -1003, 0, "called from a thread that does not own the loop";
    /// An error with no more precise code.
    C10K_EUNKNOWN = -1004, 0, "unknown error";
    /// The object is shutting down and takes no new work.
    C10K_ESHUTDOWN = -1005, 0, "shutting down";
}

/// The symbolic name of an error code, e.g. `"C10K_EINVAL"`.
pub fn err_name(code: i32) -> Option<&'static str> {
    err_name_c(code).and_then(|c| c.to_str().ok())
}

/// A one-line English description of an error code.
pub fn strerror(code: i32) -> Option<&'static str> {
    strerror_c(code).and_then(|c| c.to_str().ok())
}

/// Converts an I/O error into a `C10K_E*` code.
pub fn from_io(err: &io::Error) -> i32 {
    if let Some(errno) = err.raw_os_error() {
        return from_errno(errno).unwrap_or(C10K_EUNKNOWN);
    }
    match err.kind() {
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => C10K_EINVAL,
        io::ErrorKind::OutOfMemory => C10K_ENOMEM,
        _ => C10K_EUNKNOWN,
    }
}

/// The current thread's `errno` as a `C10K_E*` code.
pub fn last_os_error() -> i32 {
    from_io(&io::Error::last_os_error())
}

/// `Result` whose error is a `C10K_E*` code.
pub type Result<T> = std::result::Result<T, i32>;

/// Makes room for `additional` more elements in `v`, or answers
/// `C10K_ENOMEM`: every buffer a caller's data grows goes through here, so
/// that a huge request fails instead of aborting the host process.
pub fn reserve<T>(v: &mut Vec<T>, additional: usize) -> Result<()> {
    v.try_reserve(additional).map_err(|_| C10K_ENOMEM)
}

/// A copy of `data`, or `C10K_ENOMEM`.
pub fn try_copy(data: &[u8]) -> Result<Vec<u8>> {
    let mut copy = Vec::new();
    reserve(&mut copy, data.len())?;
    copy.extend_from_slice(data);
    Ok(copy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_name_and_a_message() {
        for code in [C10K_OK, C10K_EINVAL, C10K_ECLOSED, C10K_EPANIC, C10K_ESHUTDOWN] {
            assert!(err_name(code).unwrap().starts_with("C10K_"));
            assert!(!strerror(code).unwrap().is_empty());
        }
        assert_eq!(err_name(-22), Some("C10K_EINVAL"));
        assert_eq!(strerror(12345), None);
    }

    #[test]
    fn os_errors_map_to_negative_errno() {
        assert_eq!(from_io(&io::Error::from_raw_os_error(libc::ECONNRESET)), C10K_ECONNRESET);
        assert_eq!(from_io(&io::Error::from_raw_os_error(libc::EMFILE)), C10K_EMFILE);
        assert_eq!(from_io(&io::Error::from_raw_os_error(9999)), C10K_EUNKNOWN);
    }
}
