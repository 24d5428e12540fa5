//! Response serialisation: status line, headers, chunks, error responses.
//!
//! The writer owns message framing: it derives Content-Length or
//! Transfer-Encoding from [`ResponseFraming`] and drops any the handler
//! passed, because a handler-supplied length that disagrees with the bytes
//! actually sent would desynchronise the connection for the next response.
//! Every handler header is validated, so response splitting is impossible.

use std::io::Write;

use super::date::HTTP_DATE_LEN;
use super::request::{is_tchar, trim_ows};
use super::{Head, HttpError, Method};

/// Interim response sent before reading a body the client asked to
/// `Expect: 100-continue`.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// What the handler knows about the body it is about to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResponseFraming {
    /// Exactly this many bytes (for HEAD: what the GET body would be).
    Length(u64),
    /// Streamed, length unknown in advance.
    Unknown,
}

/// How the body must be written after the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyMode {
    /// No body bytes at all (HEAD, 1xx, 204, 304).
    None,
    /// Exactly this many raw bytes.
    Length(u64),
    /// [`write_chunk`] per piece, then [`write_last_chunk`].
    Chunked,
    /// Raw bytes, then close the connection: the end of the body is the
    /// end of the stream (HTTP/1.0 client, unknown length).
    UntilClose,
}

/// Facts about the request that shape the response head.
#[derive(Clone, Copy, Debug)]
pub struct HeadOptions<'a> {
    /// The request's minor version: chunked needs an HTTP/1.1 client.
    pub version_minor: u8,
    /// The server is willing to keep the connection (the client asked for
    /// it and the server is not shutting down or over a request budget).
    pub keep_alive: bool,
    /// The request method was HEAD: headers as for GET, no body.
    pub head_request: bool,
    /// The current `Date` value, from a [`crate::http::DateCache`].
    pub date: &'a [u8; HTTP_DATE_LEN],
    /// A reason phrase instead of the status code's standard one (checked
    /// with [`valid_reason`]).
    pub reason: Option<&'a [u8]>,
}

impl<'a> HeadOptions<'a> {
    /// Options answering `head`, keeping the connection if the client wants.
    pub fn for_request(head: &Head, date: &'a [u8; HTTP_DATE_LEN]) -> Self {
        HeadOptions {
            version_minor: head.version_minor,
            keep_alive: head.keep_alive,
            head_request: head.method_kind == Method::Head,
            date,
            reason: None,
        }
    }
}

/// What [`write_head`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrittenHead {
    pub body: BodyMode,
    /// Whether the connection may carry another request after this response.
    pub keep_alive: bool,
}

/// Why [`write_head`] refused; `out` is then unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidHead {
    /// The status is not a three-digit code (100-999).
    Status,
    /// Header at this index failed [`validate_header`].
    Header(usize),
}

/// Whether `reason` may stand in a status line: RFC 9110's
/// `*( HTAB / SP / VCHAR / obs-text )`, so no CR, LF or other control byte.
pub fn valid_reason(reason: &[u8]) -> bool {
    reason.iter().all(|&b| b == b'\t' || b == b' ' || (0x21..=0x7e).contains(&b) || b >= 0x80)
}

/// Standard reason phrase of `status`, or `""` for codes without one (an
/// empty reason is valid in the status line).
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// Accept a header for a response: `name` a non-empty token, `value` free
/// of CR, LF and NUL, so it can neither end the line nor the head early, and
/// of the other control bytes but HTAB, which RFC 9110 §5.5 forbids in a
/// field value and which strict clients (httparse among them) reject.
#[allow(clippy::result_unit_err)] // the only failure is "invalid", nothing to describe
pub fn validate_header(name: &[u8], value: &[u8]) -> Result<(), ()> {
    let name_ok = !name.is_empty() && name.iter().all(|&b| is_tchar(b));
    let value_ok = !value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f);
    if name_ok && value_ok { Ok(()) } else { Err(()) }
}

fn has_token(value: &[u8], token: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|t| trim_ows(t).eq_ignore_ascii_case(token))
}

/// Appends `n` in decimal, without `fmt`'s machinery (the length of
/// every response).
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Byte by byte: a length is a few digits, less than a `memcpy` call costs.
    for &d in &digits[at..] {
        out.push(d);
    }
}

fn header_line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Append a response head to `out` and say how to send the body.
///
/// Added unless the handler set them: `Date`; `Connection: close` when the
/// connection will close, `Connection: keep-alive` for a keep-alive HTTP/1.0
/// client. Always derived from `framing` (handler copies dropped):
/// `Content-Length`, or `Transfer-Encoding: chunked` for an HTTP/1.1 client,
/// or nothing and a close-delimited body for HTTP/1.0. 1xx, 204 and 304
/// carry no framing headers; 1xx gets only the handler's headers (a 101
/// needs its own `Connection: upgrade`). A HEAD response keeps the
/// Content-Length of the would-be body; with unknown length it has neither
/// framing header, so it needs no close.
///
/// A handler `Connection` header is kept; a `close` token in it closes.
/// [`head_size`] bounds what it writes.
pub fn write_head(
    out: &mut Vec<u8>,
    status: u16,
    headers: &[(&[u8], &[u8])],
    framing: ResponseFraming,
    opts: HeadOptions<'_>,
) -> Result<WrittenHead, InvalidHead> {
    if !(100..=999).contains(&status) {
        return Err(InvalidHead::Status);
    }
    // One pass validates and finds what the handler said in `Connection`.
    let (mut said_close, mut said_keep_alive) = (false, false);
    for (i, &(name, value)) in headers.iter().enumerate() {
        if validate_header(name, value).is_err() {
            return Err(InvalidHead::Header(i));
        }
        if name.eq_ignore_ascii_case(b"connection") {
            said_close |= has_token(value, b"close");
            said_keep_alive |= has_token(value, b"keep-alive");
        }
    }
    let v11 = opts.version_minor == 1;
    let interim = status < 200;
    let bodiless = interim || status == 204 || status == 304;
    let body = match framing {
        _ if bodiless || opts.head_request => BodyMode::None,
        ResponseFraming::Length(n) => BodyMode::Length(n),
        ResponseFraming::Unknown if v11 => BodyMode::Chunked,
        ResponseFraming::Unknown => BodyMode::UntilClose,
    };

    let keep_alive = opts.keep_alive && !said_close && body != BodyMode::UntilClose;
    // Closing overrides a handler's `Connection: keep-alive`: one header, not two
    // that disagree (1xx keep theirs: a 101 names its upgrade there).
    let drop_connection = !interim && !keep_alive && !said_close;
    let mut has_date = false;
    let digit = |d: u16| b'0' + (d % 10) as u8;
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(&[digit(status / 100), digit(status / 10), digit(status), b' ']);
    out.extend_from_slice(opts.reason.unwrap_or(reason_phrase(status).as_bytes()));
    out.extend_from_slice(b"\r\n");
    for &(name, value) in headers {
        let framing_header =
            name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"transfer-encoding");
        if framing_header || (drop_connection && name.eq_ignore_ascii_case(b"connection")) {
            continue;
        }
        has_date |= name.eq_ignore_ascii_case(b"date");
        header_line(out, name, value);
    }
    if !interim {
        if !has_date {
            header_line(out, b"Date", opts.date);
        }
        if !bodiless {
            match framing {
                ResponseFraming::Length(n) => {
                    out.extend_from_slice(b"Content-Length: ");
                    push_decimal(out, n);
                    out.extend_from_slice(b"\r\n");
                }
                ResponseFraming::Unknown if v11 && !opts.head_request => {
                    header_line(out, b"Transfer-Encoding", b"chunked");
                }
                ResponseFraming::Unknown => {}
            }
        }
        if !keep_alive && !said_close {
            header_line(out, b"Connection", b"close");
        } else if keep_alive && !v11 && !said_keep_alive {
            header_line(out, b"Connection", b"keep-alive");
        }
    }
    out.extend_from_slice(b"\r\n");
    Ok(WrittenHead { body, keep_alive })
}

/// Append one chunk: hex size, CRLF, data, CRLF. Empty data writes nothing,
/// because an empty chunk would be read as the end of the body.
pub fn write_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let _ = write!(out, "{:x}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// An upper bound of what [`write_head`] writes for `headers` and
/// `reason` (`None`: the standard phrase): theirs, each with its `: ` and
/// CRLF, plus the status line and the framing, `Date` and `Connection`
/// headers the library adds. Tight, so that a loop turn's responses share
/// one buffer without growing it more than needed.
pub fn head_size(headers: &[(&[u8], &[u8])], reason: Option<&[u8]>) -> usize {
    // "HTTP/1.1 NNN " and CRLF; "Date: " 29 bytes CRLF; the longer framing
    // header, "Content-Length: " 20 digits CRLF; "Connection: keep-alive"
    // CRLF; the blank line.
    const ADDED: usize = 15 + 37 + 38 + 24 + 2;
    const LONGEST_PHRASE: usize = 31;
    let fixed = ADDED + reason.map_or(LONGEST_PHRASE, <[u8]>::len);
    headers.iter().fold(fixed, |sum, (name, value)| sum.saturating_add(name.len() + value.len() + 4))
}

/// Append the last chunk and the empty trailer section.
pub fn write_last_chunk(out: &mut Vec<u8>) {
    out.extend_from_slice(b"0\r\n\r\n");
}

/// Append a complete response for a refused request: `err.status`, a short
/// text body with `err.reason`, and `Connection: close` (after a request
/// error the stream cannot be framed, so the connection must end).
pub fn write_error(out: &mut Vec<u8>, err: &HttpError, date: &[u8; HTTP_DATE_LEN]) {
    let _ = write!(out, "HTTP/1.1 {} {}\r\nDate: ", err.status, reason_phrase(err.status));
    out.extend_from_slice(date);
    let _ = write!(
        out,
        "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}\n",
        err.reason.len() + 1,
        err.reason
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &[u8; 29] = b"Sun, 06 Nov 1994 08:49:37 GMT";

    fn opts(version_minor: u8, keep_alive: bool) -> HeadOptions<'static> {
        HeadOptions { version_minor, keep_alive, head_request: false, date: DATE, reason: None }
    }

    fn head(
        status: u16,
        headers: &[(&[u8], &[u8])],
        framing: ResponseFraming,
        o: HeadOptions,
    ) -> (String, WrittenHead) {
        let mut out = Vec::new();
        let w = write_head(&mut out, status, headers, framing, o).unwrap();
        (String::from_utf8(out).unwrap(), w)
    }

    #[test]
    fn closing_replaces_a_handler_keep_alive_with_one_connection_header() {
        let (s, w) = head(200, &[(b"Connection", b"keep-alive")], ResponseFraming::Length(0), opts(1, false));
        assert_eq!(s.matches("Connection:").count(), 1, "{s}");
        assert!(s.contains("Connection: close\r\n"));
        assert!(!w.keep_alive);
    }

    #[test]
    fn http11_with_length() {
        let (s, w) = head(200, &[(b"Content-Type", b"text/plain")], ResponseFraming::Length(13), opts(1, true));
        assert_eq!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 13\r\n\r\n"
        );
        assert_eq!(w, WrittenHead { body: BodyMode::Length(13), keep_alive: true });
    }

    #[test]
    fn http11_unknown_length_is_chunked() {
        let (s, w) = head(200, &[], ResponseFraming::Unknown, opts(1, true));
        assert_eq!(s, "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nTransfer-Encoding: chunked\r\n\r\n");
        assert_eq!(w, WrittenHead { body: BodyMode::Chunked, keep_alive: true });
    }

    #[test]
    fn http10_unknown_length_is_close_delimited() {
        let (s, w) = head(200, &[], ResponseFraming::Unknown, opts(0, true));
        assert_eq!(s, "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: close\r\n\r\n");
        assert_eq!(w, WrittenHead { body: BodyMode::UntilClose, keep_alive: false });
    }

    #[test]
    fn http10_keep_alive_is_announced() {
        let (s, w) = head(404, &[], ResponseFraming::Length(0), opts(0, true));
        assert_eq!(
            s,
            "HTTP/1.1 404 Not Found\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"
        );
        assert!(w.keep_alive);
        let (s, w) = head(200, &[], ResponseFraming::Length(0), opts(0, false));
        assert!(s.ends_with("Connection: close\r\n\r\n") && !w.keep_alive);
    }

    #[test]
    fn closing_http11_says_close() {
        let (s, w) = head(200, &[], ResponseFraming::Length(2), opts(1, false));
        assert!(s.ends_with("Content-Length: 2\r\nConnection: close\r\n\r\n"), "{s}");
        assert!(!w.keep_alive);
    }

    #[test]
    fn handler_headers_win_except_framing() {
        let hs: &[(&[u8], &[u8])] = &[
            (b"date", b"Mon, 07 Nov 1994 08:49:37 GMT"),
            (b"Content-Length", b"999"),
            (b"transfer-encoding", b"gzip"),
            (b"Connection", b"Close"),
        ];
        let (s, w) = head(200, hs, ResponseFraming::Length(5), opts(1, true));
        assert_eq!(
            s,
            "HTTP/1.1 200 OK\r\ndate: Mon, 07 Nov 1994 08:49:37 GMT\r\nConnection: Close\r\nContent-Length: 5\r\n\r\n"
        );
        assert_eq!(w, WrittenHead { body: BodyMode::Length(5), keep_alive: false });
    }

    #[test]
    fn bodiless_statuses_have_no_framing() {
        for status in [204, 304] {
            let (s, w) = head(status, &[], ResponseFraming::Length(10), opts(1, true));
            assert!(!s.contains("Content-Length") && !s.contains("Transfer-Encoding"), "{s}");
            assert!(s.contains("Date: "));
            assert_eq!(w, WrittenHead { body: BodyMode::None, keep_alive: true });
        }
        let (s, w) = head(304, &[], ResponseFraming::Unknown, opts(0, true));
        assert_eq!(
            s,
            "HTTP/1.1 304 Not Modified\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nConnection: keep-alive\r\n\r\n"
        );
        assert!(w.keep_alive);
    }

    #[test]
    fn switching_protocols_carries_only_handler_headers() {
        let hs: &[(&[u8], &[u8])] = &[(b"Connection", b"Upgrade"), (b"Upgrade", b"websocket")];
        let (s, w) = head(101, hs, ResponseFraming::Unknown, opts(1, true));
        assert_eq!(s, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
        assert_eq!(w.body, BodyMode::None);
    }

    #[test]
    fn head_responses_keep_length_but_have_no_body() {
        let o = HeadOptions { head_request: true, ..opts(1, true) };
        let (s, w) = head(200, &[], ResponseFraming::Length(1234), o);
        assert!(s.ends_with("Content-Length: 1234\r\n\r\n"), "{s}");
        assert_eq!(w, WrittenHead { body: BodyMode::None, keep_alive: true });
        let (s, w) = head(200, &[], ResponseFraming::Unknown, o);
        assert!(!s.contains("Transfer-Encoding") && !s.contains("Connection"), "{s}");
        assert_eq!(w, WrittenHead { body: BodyMode::None, keep_alive: true });
    }

    #[test]
    fn options_from_a_parsed_request() {
        let buf = b"HEAD / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        let h = crate::http::parse_head(buf, &crate::http::Limits::default()).unwrap().unwrap();
        let o = HeadOptions::for_request(&h, DATE);
        assert_eq!((o.version_minor, o.keep_alive, o.head_request), (0, true, true));
    }

    #[test]
    fn invalid_input_is_refused_and_leaves_out_unchanged() {
        let mut out = b"previous".to_vec();
        let f = ResponseFraming::Length(0);
        let bad: [(&[u8], &[u8]); 5] =
            [(b"X", b"a\r\nSet-Cookie: evil=1"), (b"X", b"a\nb"), (b"X", b"a\0b"), (b"X Y", b"v"), (b"", b"v")];
        for (i, h) in bad.iter().enumerate() {
            let hs = [(&b"Ok"[..], &b"fine"[..]), *h];
            assert_eq!(write_head(&mut out, 200, &hs, f, opts(1, true)), Err(InvalidHead::Header(1)), "case {i}");
        }
        assert_eq!(write_head(&mut out, 99, &[], f, opts(1, true)), Err(InvalidHead::Status));
        assert_eq!(write_head(&mut out, 1000, &[], f, opts(1, true)), Err(InvalidHead::Status));
        assert_eq!(out, b"previous");
    }

    #[test]
    fn header_validation() {
        assert_eq!(validate_header(b"X-Custom_1!", b"any value\twith tab \xff"), Ok(()));
        assert_eq!(validate_header(b"X", b""), Ok(()));
        for (n, v) in [
            (&b"X:"[..], &b"v"[..]),
            (b"X\r", b"v"),
            (b"\xff", b"v"),
            (b"X", b"\r"),
            (b"X", b"\n"),
            (b"X", b"\0"),
            (b"X", b"a\x01b"),
            (b"X", b"\x1b[2J"),
            (b"X", b"\x7f"),
        ] {
            assert_eq!(validate_header(n, v), Err(()));
        }
    }

    #[test]
    fn head_size_bounds_every_head() {
        let hs: &[(&[u8], &[u8])] = &[(b"Content-Type", b"text/plain"), (b"X", b"")];
        let long_reason = vec![b'r'; 700];
        for status in [100, 101, 200, 204, 304, 431, 505, 999] {
            for (minor, keep_alive, head_request) in
                [(0, true, false), (0, false, true), (1, true, false), (1, false, false)]
            {
                for framing in [ResponseFraming::Length(u64::MAX), ResponseFraming::Unknown] {
                    for reason in [None, Some(&long_reason[..]), Some(&b""[..])] {
                        let o = HeadOptions { reason, head_request, ..opts(minor, keep_alive) };
                        let mut out = Vec::new();
                        write_head(&mut out, status, hs, framing, o).unwrap();
                        assert!(out.len() <= head_size(hs, reason), "{status} {minor} {framing:?}");
                    }
                }
            }
        }
        assert!(reason_phrase(431).len() == 31 && (100..1000).all(|s| reason_phrase(s).len() <= 31));
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 13, 999, 1_000_000, u64::MAX] {
            let mut out = b"x".to_vec();
            push_decimal(&mut out, n);
            assert_eq!(out, format!("x{n}").into_bytes());
        }
    }

    #[test]
    fn unknown_status_has_an_empty_reason() {
        let (s, _) = head(299, &[], ResponseFraming::Length(0), opts(1, true));
        assert!(s.starts_with("HTTP/1.1 299 \r\n"));
        assert_eq!(reason_phrase(431), "Request Header Fields Too Large");
        assert_eq!(reason_phrase(505), "HTTP Version Not Supported");
    }

    #[test]
    fn chunks() {
        let mut out = Vec::new();
        write_chunk(&mut out, b"hello");
        write_chunk(&mut out, b"");
        write_chunk(&mut out, &[b'x'; 26]);
        write_last_chunk(&mut out);
        let mut expected = b"5\r\nhello\r\n1a\r\n".to_vec();
        expected.extend_from_slice(&[b'x'; 26]);
        expected.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(out, expected);
        // Our own decoder reads it back.
        let mut dec = crate::http::ChunkedDecoder::new(&crate::http::Limits::default());
        let (mut off, mut body) = (0, Vec::new());
        while !dec.is_done() {
            let d = dec.decode(&out[off..]).unwrap();
            off += d.consumed;
            body.extend_from_slice(d.data.unwrap_or_default());
        }
        assert_eq!((off, body.len()), (out.len(), 31));
    }

    #[test]
    fn error_response_is_complete_and_closes() {
        let mut out = Vec::new();
        write_error(&mut out, &HttpError::bad_request("missing Host header"), DATE);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "HTTP/1.1 400 Bad Request\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: 20\r\nConnection: close\r\n\r\nmissing Host header\n"
        );
    }
}
