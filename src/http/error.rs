//! The one error type of the codec: a status code to answer with.
//!
//! Every request-side error is fatal to the connection: after it the byte
//! stream can no longer be framed reliably, so the server answers with
//! `status` (see [`crate::http::response::write_error`]) and closes.

use std::fmt;

/// A request the server refuses, with the status to answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpError {
    /// 400, 413, 414, 431, 501 or 505.
    pub status: u16,
    /// Short human message for logs and for the error body.
    pub reason: &'static str,
}

impl HttpError {
    /// 400 Bad Request: the bytes do not form a valid HTTP/1.x request.
    pub const fn bad_request(reason: &'static str) -> Self {
        HttpError { status: 400, reason }
    }

    /// 413 Content Too Large: the body exceeds `Limits::max_body_bytes`.
    pub const fn content_too_large(reason: &'static str) -> Self {
        HttpError { status: 413, reason }
    }

    /// 414 URI Too Long: the request line does not fit in `Limits::max_head_bytes`.
    pub const fn uri_too_long(reason: &'static str) -> Self {
        HttpError { status: 414, reason }
    }

    /// 431 Request Header Fields Too Large: head or trailers over a limit.
    pub const fn header_fields_too_large(reason: &'static str) -> Self {
        HttpError { status: 431, reason }
    }

    /// 501 Not Implemented: a transfer coding this server cannot decode.
    pub const fn not_implemented(reason: &'static str) -> Self {
        HttpError { status: 501, reason }
    }

    /// 505 HTTP Version Not Supported: well-formed but not HTTP/1.0 or 1.1.
    pub const fn version_not_supported(reason: &'static str) -> Self {
        HttpError { status: 505, reason }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

impl std::error::Error for HttpError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_carry_their_status() {
        assert_eq!(HttpError::bad_request("x").status, 400);
        assert_eq!(HttpError::content_too_large("x").status, 413);
        assert_eq!(HttpError::uri_too_long("x").status, 414);
        assert_eq!(HttpError::header_fields_too_large("x").status, 431);
        assert_eq!(HttpError::not_implemented("x").status, 501);
        assert_eq!(HttpError::version_not_supported("x").status, 505);
    }

    #[test]
    fn display_shows_status_and_reason() {
        assert_eq!(HttpError::bad_request("bad host").to_string(), "400 bad host");
    }
}
