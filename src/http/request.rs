//! Request head parsing: request line and header fields, over `httparse`.
//!
//! [`parse_head`] returns a [`Head`] that records byte positions instead of
//! borrowing the buffer, because the connection layer moves and compacts its
//! buffers between reads; accessors take the buffer back to hand out slices.
//!
//! On top of `httparse` (which checks the grammar: token method and names,
//! no control bytes in target or values, no obs-fold, no space before a
//! colon, no bare CR) this module enforces the RFC 9112 framing rules that
//! prevent request smuggling: one unambiguous body length, `chunked` last,
//! exactly one Host on HTTP/1.1.
//!
//! Bare LF line endings are accepted in the head, as `httparse` does and as
//! RFC 9112 §2.2 permits; a bare CR is rejected. Chunked framing lines
//! (see `body`) require CRLF.

use std::mem::MaybeUninit;
use std::ops::Range;

use super::target::{Authority, TargetForm, parse_authority, parse_target};
use super::{HttpError, Limits};

/// Most header fields a [`Head`] can hold; `Limits::max_headers` is capped
/// to it. The positions live inline in `Head` so a parse never allocates.
pub const HEADER_CAPACITY: usize = 128;

/// A byte range into the buffer that was parsed. `u32` keeps `Head` small;
/// a head can never be longer than `u32::MAX` bytes (the limit is capped).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// The same range as `usize` indices.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The bytes this span covers in `buf`.
    pub fn get(self, buf: &[u8]) -> &[u8] {
        &buf[self.range()]
    }

    fn of(buf: &[u8], part: &[u8]) -> Span {
        // `part` is always a sub-slice of `buf` handed back by httparse, so
        // the pointer difference is its offset.
        let start = part.as_ptr() as usize - buf.as_ptr() as usize;
        Span { start: start as u32, end: (start + part.len()) as u32 }
    }
}

/// The request method, for fast dispatch without comparing bytes.
/// Methods are case-sensitive (RFC 9110 §9.1): `get` is `Other`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Delete,
    Options,
    Patch,
    Connect,
    Trace,
    Other,
}

impl Method {
    /// Classify a method token.
    pub fn from_bytes(m: &[u8]) -> Method {
        match m {
            b"GET" => Method::Get,
            b"HEAD" => Method::Head,
            b"POST" => Method::Post,
            b"PUT" => Method::Put,
            b"DELETE" => Method::Delete,
            b"OPTIONS" => Method::Options,
            b"PATCH" => Method::Patch,
            b"CONNECT" => Method::Connect,
            b"TRACE" => Method::Trace,
            _ => Method::Other,
        }
    }
}

/// How the request body is delimited (RFC 9112 §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// Neither Content-Length nor Transfer-Encoding: no body.
    None,
    /// Content-Length, already checked against `Limits::max_body_bytes`.
    Length(u64),
    /// Transfer-Encoding ending in `chunked`.
    Chunked,
}

/// A parsed request head. Slices come from the accessors, given the buffer
/// that was passed to [`parse_head`] (same bytes, same offsets).
///
/// It is 2 KiB with its header positions: the connection parses into one
/// it keeps on its stack ([`parse_head_into`]) rather than moving one per
/// request.
#[derive(Clone, Debug)]
pub struct Head {
    /// Bytes of `buf` the head occupies; the body or next request follows.
    pub head_len: usize,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1 (and for later 1.x minors, which
    /// are processed as HTTP/1.1).
    pub version_minor: u8,
    pub method_kind: Method,
    pub body: BodyKind,
    /// Whether the client wants the connection kept after this exchange:
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
    /// `Connection: keep-alive`.
    pub keep_alive: bool,
    /// HTTP/1.1 `Expect: 100-continue` (ignored on HTTP/1.0, RFC 9110 §10.1.1).
    pub expect_continue: bool,
    /// `Connection: upgrade` together with an `Upgrade` header.
    pub upgrade: bool,
    /// Which request-target form the request used.
    pub form: TargetForm,
    /// The effective port: from an absolute- or authority-form target,
    /// else from `Host`; `None` when neither names one.
    pub port: Option<u16>,
    method: Span,
    target: Span,
    path: Span,
    query: Option<Span>,
    scheme: Option<Span>,
    host: Option<Span>,
    host_header: Option<Span>,
    header_count: usize,
    /// The first `header_count` are written; the rest are never read, so
    /// that a parse does not spend its time clearing them.
    headers: [MaybeUninit<(Span, Span)>; HEADER_CAPACITY],
}

impl Default for Head {
    /// An empty head, to parse into.
    fn default() -> Head {
        Head {
            head_len: 0,
            version_minor: 1,
            method_kind: Method::Other,
            body: BodyKind::None,
            keep_alive: false,
            expect_continue: false,
            upgrade: false,
            form: TargetForm::Origin,
            port: None,
            method: Span::default(),
            target: Span::default(),
            path: Span::default(),
            query: None,
            scheme: None,
            host: None,
            host_header: None,
            header_count: 0,
            headers: [MaybeUninit::uninit(); HEADER_CAPACITY],
        }
    }
}

impl Head {
    pub fn method<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        self.method.get(buf)
    }

    /// The request target as sent (origin, absolute, authority or asterisk form).
    pub fn target<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        self.target.get(buf)
    }

    /// The target's path, not decoded (see [`percent_decode`]): up to the
    /// first `?` in origin-form, the URI's path in absolute-form (`/` when
    /// the URI has none), `*` in asterisk-form, empty in authority-form.
    pub fn path<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        match self.form {
            TargetForm::Absolute if self.path.start == self.path.end => b"/",
            _ => self.path.get(buf),
        }
    }

    /// The target after the first `?` (possibly empty), or `None` without `?`.
    pub fn query<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        self.query.map(|s| s.get(buf))
    }

    /// `http` or `https` as sent, for an absolute-form target.
    pub fn scheme<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        self.scheme.map(|s| s.get(buf))
    }

    /// The effective host (RFC 9112 §3.3): the target's authority when it
    /// has one (absolute- and authority-form), else the Host field's, without
    /// the port; an IP literal keeps its brackets. `None` for an HTTP/1.0
    /// request without Host; empty for an empty Host field.
    pub fn host<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        self.host.map(|s| s.get(buf))
    }

    /// The Host header value as sent, if present.
    pub fn host_header<'b>(&self, buf: &'b [u8]) -> Option<&'b [u8]> {
        self.host_header.map(|s| s.get(buf))
    }

    pub fn has_host(&self) -> bool {
        self.host_header.is_some()
    }

    pub fn header_count(&self) -> usize {
        self.header_count
    }

    /// Header `i` as (name, value) in arrival order; value without the
    /// surrounding whitespace. Panics if `i >= header_count()`.
    pub fn header<'b>(&self, buf: &'b [u8], i: usize) -> (&'b [u8], &'b [u8]) {
        let (n, v) = self.header_spans()[i];
        (n.get(buf), v.get(buf))
    }

    /// Positions of all headers, for callers that keep them without the buffer.
    pub fn header_spans(&self) -> &[(Span, Span)] {
        let written = &self.headers[..self.header_count];
        // SAFETY: `parse_window` writes the first `header_count` entries
        // before it sets the count, and `MaybeUninit<T>` has `T`'s layout.
        unsafe { std::slice::from_raw_parts(written.as_ptr().cast::<(Span, Span)>(), written.len()) }
    }

    /// Value of the first header called `name` (ASCII case-insensitive).
    pub fn find_header<'b>(&self, buf: &'b [u8], name: &[u8]) -> Option<&'b [u8]> {
        self.headers(buf).find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v)
    }

    /// All headers as (name, value) in arrival order.
    pub fn headers<'h, 'b>(&'h self, buf: &'b [u8]) -> impl Iterator<Item = (&'b [u8], &'b [u8])> + 'h
    where
        'b: 'h,
    {
        self.header_spans().iter().map(move |(n, v)| (n.get(buf), v.get(buf)))
    }
}

/// Parse a request head at the start of `buf`.
///
/// `Ok(None)`: incomplete, read more and call again with the grown buffer.
/// `Err`: answer `status` and close; the stream cannot be framed any more.
/// No allocation happens, except for the rare HTTP/1.2+ request line
/// (parsed from a copy that says HTTP/1.1).
pub fn parse_head(buf: &[u8], limits: &Limits) -> Result<Option<Head>, HttpError> {
    let mut head = Head::default();
    Ok(parse_head_into(buf, limits, &mut head)?.then_some(head))
}

/// [`parse_head`] into `head`, reused from one request to the next:
/// `Ok(true)` when a whole head was parsed. After `Ok(false)` or an error
/// `head` holds no request.
pub fn parse_head_into(buf: &[u8], limits: &Limits, head: &mut Head) -> Result<bool, HttpError> {
    let max_head = limits.max_head_bytes.min(u32::MAX as usize);
    // Parse no further than the limit: bytes past it can only earn a 431.
    let window = &buf[..buf.len().min(max_head)];
    head.header_count = 0;
    parse_window(window, buf.len() > max_head, limits, head)
}

/// [`parse_head_into`] over the first `max_head_bytes` of the input;
/// `too_large` when the input went on past them.
fn parse_window(window: &[u8], too_large: bool, limits: &Limits, head: &mut Head) -> Result<bool, HttpError> {
    let max_headers = limits.max_headers.min(HEADER_CAPACITY);
    let mut raw = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; HEADER_CAPACITY];
    let mut req = httparse::Request::new(&mut []);
    let head_len = match req.parse_with_uninit_headers(window, &mut raw[..max_headers]) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if too_large => return Err(too_large_error(window)),
        Ok(httparse::Status::Partial) => return Ok(false),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HttpError::header_fields_too_large("too many header fields"));
        }
        Err(httparse::Error::Version) => {
            return match classify_version(window) {
                VersionToken::Unsupported => Err(HttpError::version_not_supported("HTTP version not supported")),
                // RFC 9112 §2.3: a later 1.x minor is processed as HTTP/1.1.
                VersionToken::LaterMinor(at) => {
                    let mut copy = window.to_vec();
                    copy[at] = b'1';
                    parse_window(&copy, too_large, limits, head)
                }
                VersionToken::Incomplete if too_large => {
                    Err(HttpError::header_fields_too_large("request head too large"))
                }
                VersionToken::Incomplete => Ok(false),
                VersionToken::Invalid => Err(HttpError::bad_request("invalid HTTP version")),
            };
        }
        Err(httparse::Error::Token) => {
            return Err(HttpError::bad_request("invalid method or request target"));
        }
        Err(httparse::Error::HeaderName) => {
            return Err(HttpError::bad_request("invalid header field name"));
        }
        Err(httparse::Error::HeaderValue) => {
            return Err(HttpError::bad_request("invalid header field value"));
        }
        Err(_) => return Err(HttpError::bad_request("invalid line ending")),
    };
    // Complete implies all three are set.
    let (Some(method), Some(target), Some(version_minor)) = (req.method, req.path, req.version) else {
        return Err(HttpError::bad_request("invalid request line"));
    };
    let buf = window;
    let method = Span::of(buf, method.as_bytes());
    let method_kind = Method::from_bytes(method.get(buf));
    let target = Span::of(buf, target.as_bytes());
    let parsed = parse_target(target.get(buf), method_kind == Method::Connect, method_kind == Method::Options)?;
    let at = |r: Range<usize>| Span { start: target.start + r.start as u32, end: target.start + r.end as u32 };

    // Field by field, the header positions in place below; `Framing::finish`
    // sets the framing fields.
    head.head_len = head_len;
    head.version_minor = version_minor;
    head.method_kind = method_kind;
    head.form = parsed.form;
    head.port = None;
    head.method = method;
    head.target = target;
    head.path = at(parsed.path);
    head.query = parsed.query.map(at);
    head.scheme = parsed.scheme.map(at);
    head.host = None;
    let mut fr = Framing::default();
    for (slot, h) in head.headers.iter_mut().zip(req.headers.iter()) {
        let value = Span::of(buf, h.value);
        slot.write((Span::of(buf, h.name.as_bytes()), value));
        fr.field(h.name.as_bytes(), h.value, value)?;
    }
    head.header_count = req.headers.len();
    let host_field = fr.finish(head, limits)?;
    // RFC 9112 §3.2.2: a target with an authority overrides Host.
    let effective = match parsed.authority {
        Some(a) => Some((target.start, a)),
        None => host_field.zip(head.host_header).map(|(a, s)| (s.start, a)),
    };
    if let Some((base, a)) = effective {
        head.host = Some(Span { start: base + a.host.start as u32, end: base + a.host.end as u32 });
        head.port = a.port;
    }
    Ok(true)
}

/// The answer to a head still incomplete at `max_head_bytes`: 414 when the
/// request line itself does not fit (the target is what is long), else 431.
fn too_large_error(window: &[u8]) -> HttpError {
    let line_start = window.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(window.len());
    let line = &window[line_start..];
    if !line.contains(&b'\n') && line.contains(&b' ') {
        HttpError::uri_too_long("request target too long")
    } else {
        HttpError::header_fields_too_large("request head too large")
    }
}

/// What the framing-relevant headers said, gathered in one pass.
#[derive(Default)]
struct Framing<'b> {
    content_length: Option<u64>,
    te_present: bool,
    te_last_chunked: bool,
    te_other: bool,
    hosts: u32,
    host: Option<Span>,
    host_value: &'b [u8],
    conn_close: bool,
    conn_keep_alive: bool,
    conn_upgrade: bool,
    upgrade_header: bool,
    expect_continue: bool,
}

impl<'b> Framing<'b> {
    fn field(&mut self, name: &[u8], value: &'b [u8], value_span: Span) -> Result<(), HttpError> {
        // Dispatch on length first: most headers are skipped after one compare.
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => {
                self.hosts += 1;
                self.host = Some(value_span);
                self.host_value = value;
            }
            6 if name.eq_ignore_ascii_case(b"expect") => {
                self.expect_continue |= value.eq_ignore_ascii_case(b"100-continue");
            }
            7 if name.eq_ignore_ascii_case(b"upgrade") => self.upgrade_header = true,
            10 if name.eq_ignore_ascii_case(b"connection") => {
                for t in list_elements(value) {
                    self.conn_close |= t.eq_ignore_ascii_case(b"close");
                    self.conn_keep_alive |= t.eq_ignore_ascii_case(b"keep-alive");
                    self.conn_upgrade |= t.eq_ignore_ascii_case(b"upgrade");
                }
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                // Identical repeats (`5, 5` or two equal fields) are allowed by
                // RFC 9110 §8.6; anything else makes the length ambiguous.
                for t in value.split(|&b| b == b',').map(trim_ows) {
                    let n = parse_decimal(t).ok_or(HttpError::bad_request("invalid Content-Length"))?;
                    if self.content_length.is_some_and(|c| c != n) {
                        return Err(HttpError::bad_request("conflicting Content-Length"));
                    }
                    self.content_length = Some(n);
                }
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                self.te_present = true;
                for t in list_elements(value) {
                    // chunked must be applied once and last (RFC 9112 §6.1):
                    // anything after it leaves the body length undeterminable.
                    if self.te_last_chunked {
                        return Err(HttpError::bad_request("chunked is not the final transfer coding"));
                    }
                    self.te_last_chunked = t.eq_ignore_ascii_case(b"chunked");
                    self.te_other |= !self.te_last_chunked;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Applies the framing rules to `head`; returns the Host field's
    /// authority, checked (RFC 9110 §7.2: an invalid one is a 400).
    fn finish(self, head: &mut Head, limits: &Limits) -> Result<Option<Authority>, HttpError> {
        let v11 = head.version_minor == 1;
        if self.hosts > 1 {
            return Err(HttpError::bad_request("more than one Host header"));
        }
        if v11 && self.hosts == 0 {
            return Err(HttpError::bad_request("missing Host header"));
        }
        let host = match self.host {
            Some(_) => Some(parse_authority(self.host_value).ok_or(HttpError::bad_request("invalid Host header"))?),
            None => None,
        };
        head.body = if self.te_present {
            // Both a length and a coding is the classic smuggling vector.
            if self.content_length.is_some() {
                return Err(HttpError::bad_request("both Content-Length and Transfer-Encoding"));
            }
            if !v11 {
                return Err(HttpError::bad_request("Transfer-Encoding in an HTTP/1.0 request"));
            }
            if !self.te_last_chunked {
                return Err(HttpError::bad_request("final transfer coding is not chunked"));
            }
            if self.te_other {
                return Err(HttpError::not_implemented("transfer coding not supported"));
            }
            BodyKind::Chunked
        } else if let Some(n) = self.content_length {
            // Refuse now, before the client sends (or we read) the body.
            if n > limits.max_body_bytes {
                return Err(HttpError::content_too_large("request body too large"));
            }
            BodyKind::Length(n)
        } else {
            BodyKind::None
        };
        head.host_header = self.host;
        head.keep_alive = !self.conn_close && (v11 || self.conn_keep_alive);
        head.expect_continue = v11 && self.expect_continue;
        head.upgrade = self.conn_upgrade && self.upgrade_header;
        Ok(host)
    }
}

/// `tchar` of RFC 9110 §5.6.2: the bytes allowed in methods and field names.
pub(crate) fn is_tchar(b: u8) -> bool {
    super::chars::TCHAR.has(b)
}

/// Non-empty elements of a comma-separated list, OWS trimmed (RFC 9110 §5.6.1).
fn list_elements(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(trim_ows).filter(|t| !t.is_empty())
}

pub(crate) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// `1*DIGIT` as u64: no sign, no whitespace, no overflow.
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

enum VersionToken {
    /// `HTTP/d` or `HTTP/d.d` that is not 1.x: answer 505.
    Unsupported,
    /// `HTTP/1.d` past 1.1; the minor digit is at this offset.
    LaterMinor(usize),
    /// Could still become such a version: wait for more bytes, so the
    /// answer does not depend on where the reads split the request.
    Incomplete,
    Invalid,
}

/// Classify the version field httparse rejected. The method and target were
/// accepted, so the version follows the second space of the first line.
fn classify_version(window: &[u8]) -> VersionToken {
    let line_start = window.iter().position(|&b| b != b'\r' && b != b'\n').unwrap_or(window.len());
    let line = &window[line_start..];
    let mut fields = line.splitn(3, |&b| b == b' ');
    let Some(rest) = fields.nth(2) else {
        return VersionToken::Invalid;
    };
    let end = rest.iter().position(|&b| matches!(b, b'\r' | b'\n' | b' '));
    let token = &rest[..end.unwrap_or(rest.len())];
    // Prefix of `HTTP/` DIGIT [ "." DIGIT ]; complete when one of the
    // two full shapes is followed by a terminator.
    let prefix_ok = token.len() <= 8
        && token.iter().zip(b"HTTP/0.0").all(|(&t, &p)| if p == b'0' { t.is_ascii_digit() } else { t == p });
    match end {
        Some(_) if prefix_ok && token.len() == 8 && token.starts_with(b"HTTP/1.") => {
            let token_start = token.as_ptr() as usize - window.as_ptr() as usize;
            VersionToken::LaterMinor(token_start + 7)
        }
        Some(_) if prefix_ok && (token.len() == 6 || token.len() == 8) => VersionToken::Unsupported,
        None if prefix_ok => VersionToken::Incomplete,
        _ => VersionToken::Invalid,
    }
}

/// Decode `%XY` escapes of `input` onto `out`. `plus_as_space` turns `+`
/// into a space, as form-encoded query strings need; paths must keep `+`.
///
/// A `%` not followed by two hex digits is an error; `out` is then left as
/// it was, so a caller can reuse one buffer.
#[allow(clippy::result_unit_err)] // the only failure is "malformed", nothing to describe
pub fn percent_decode(input: &[u8], out: &mut Vec<u8>, plus_as_space: bool) -> Result<(), ()> {
    let start = out.len();
    out.reserve(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = input[i];
        if b == b'%' {
            let hi = input.get(i + 1).and_then(|&c| (c as char).to_digit(16));
            let lo = input.get(i + 2).and_then(|&c| (c as char).to_digit(16));
            let (Some(hi), Some(lo)) = (hi, lo) else {
                out.truncate(start);
                return Err(());
            };
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(if plus_as_space && b == b'+' { b' ' } else { b });
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(req: &[u8]) -> Head {
        parse_head(req, &Limits::default()).expect("valid").expect("complete")
    }

    fn status(req: &[u8]) -> u16 {
        match parse_head(req, &Limits::default()) {
            Err(e) => e.status,
            Ok(Some(_)) => 200,
            Ok(None) => 0,
        }
    }

    #[test]
    fn typical_get_parses_every_field() {
        let buf = b"GET /a/b?x=1&y HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nX-Empty:\r\n\r\nNEXT";
        let h = ok(buf);
        assert_eq!(h.head_len, buf.len() - 4);
        assert_eq!(h.method(buf), b"GET");
        assert_eq!(h.method_kind, Method::Get);
        assert_eq!(h.target(buf), b"/a/b?x=1&y");
        assert_eq!(h.path(buf), b"/a/b");
        assert_eq!(h.query(buf), Some(&b"x=1&y"[..]));
        assert_eq!(h.version_minor, 1);
        assert_eq!(h.body, BodyKind::None);
        assert!(h.keep_alive && !h.expect_continue && !h.upgrade);
        assert_eq!(h.host(buf), Some(&b"example.com"[..]));
        assert_eq!(h.header_count(), 3);
        assert_eq!(h.header(buf, 1), (&b"Accept"[..], &b"*/*"[..]));
        assert_eq!(h.header(buf, 2), (&b"X-Empty"[..], &b""[..]));
        assert_eq!(h.find_header(buf, b"aCCEPT"), Some(&b"*/*"[..]));
        assert_eq!(h.find_header(buf, b"missing"), None);
        let names: Vec<&[u8]> = h.headers(buf).map(|(n, _)| n).collect();
        assert_eq!(names, [&b"Host"[..], b"Accept", b"X-Empty"]);
    }

    #[test]
    fn head_survives_moving_the_buffer() {
        let buf = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n".to_vec();
        let h = ok(&buf);
        let moved = buf.clone();
        drop(buf);
        assert_eq!(h.path(&moved), b"/x");
    }

    #[test]
    fn empty_query_and_no_query() {
        let buf = b"GET /p? HTTP/1.1\r\nHost: h\r\n\r\n";
        assert_eq!(ok(buf).query(buf), Some(&b""[..]));
        let buf = b"GET /p HTTP/1.1\r\nHost: h\r\n\r\n";
        assert_eq!(ok(buf).query(buf), None);
    }

    #[test]
    fn methods_are_classified_case_sensitively() {
        for (m, k) in [
            ("GET", Method::Get),
            ("HEAD", Method::Head),
            ("POST", Method::Post),
            ("PUT", Method::Put),
            ("DELETE", Method::Delete),
            ("OPTIONS", Method::Options),
            ("PATCH", Method::Patch),
            ("CONNECT", Method::Connect),
            ("TRACE", Method::Trace),
            ("get", Method::Other),
            ("PROPFIND", Method::Other),
        ] {
            let target = if m == "CONNECT" { "h:443" } else { "/" };
            let buf = format!("{m} {target} HTTP/1.1\r\nHost: h\r\n\r\n");
            assert_eq!(ok(buf.as_bytes()).method_kind, k, "{m}");
        }
    }

    #[test]
    fn every_prefix_is_incomplete() {
        let buf = b"POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
        for i in 0..buf.len() {
            assert!(parse_head(&buf[..i], &Limits::default()).unwrap().is_none(), "prefix {i}");
        }
        assert_eq!(ok(buf).body, BodyKind::Length(3));
    }

    #[test]
    fn keep_alive_rules() {
        assert!(ok(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
        assert!(!ok(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive);
        assert!(!ok(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n").keep_alive);
        assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
        assert!(ok(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
        assert!(!ok(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
    }

    #[test]
    fn expect_continue_only_on_http11() {
        assert!(ok(b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n").expect_continue);
        assert!(!ok(b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n").expect_continue);
        assert!(!ok(b"PUT / HTTP/1.1\r\nHost: h\r\nExpect: other\r\n\r\n").expect_continue);
    }

    #[test]
    fn upgrade_needs_token_and_header() {
        assert!(
            ok(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n").upgrade
        );
        assert!(!ok(b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n").upgrade);
        assert!(!ok(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n").upgrade);
    }

    #[test]
    fn content_length_forms() {
        let cl = |v: &str| {
            parse_head(
                format!("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: {v}\r\n\r\n").as_bytes(),
                &Limits::default(),
            )
        };
        assert_eq!(cl("0").unwrap().unwrap().body, BodyKind::Length(0));
        assert_eq!(cl("007").unwrap().unwrap().body, BodyKind::Length(7));
        assert_eq!(cl("5, 5").unwrap().unwrap().body, BodyKind::Length(5));
        assert_eq!(cl("1048576").unwrap().unwrap().body, BodyKind::Length(1_048_576));
        for bad in ["5, 6", "+5", "-1", "5a", "0x10", "", "5,", " , 5", "1 2", "18446744073709551616"] {
            assert_eq!(cl(bad).unwrap_err().status, 400, "{bad:?}");
        }
        assert_eq!(cl("1048577").unwrap_err().status, 413);
        assert_eq!(cl("18446744073709551615").unwrap_err().status, 413);
        let two = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n";
        assert_eq!(ok(two).body, BodyKind::Length(5));
        assert_eq!(status(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400);
    }

    #[test]
    fn transfer_encoding_forms() {
        let te = |v: &str| status(format!("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: {v}\r\n\r\n").as_bytes());
        assert_eq!(te("chunked"), 200);
        assert_eq!(te("CHUNKED"), 200);
        assert_eq!(te(" chunked ,"), 200);
        assert_eq!(te("chunked, gzip"), 400);
        assert_eq!(te("chunked, chunked"), 400);
        assert_eq!(te("gzip"), 400);
        assert_eq!(te("identity"), 400);
        assert_eq!(te("chunkedx"), 400);
        assert_eq!(te("chunked;a=b"), 400);
        assert_eq!(te(""), 400);
        assert_eq!(te("gzip, chunked"), 501);
        let two = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(status(two), 501);
        let two = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n";
        assert_eq!(status(two), 400);
        assert_eq!(ok(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n").body, BodyKind::Chunked);
    }

    #[test]
    fn versions() {
        assert_eq!(ok(b"GET / HTTP/1.0\r\n\r\n").version_minor, 0);
        for v in ["HTTP/1.2", "HTTP/1.9"] {
            let buf = format!("GET /v HTTP/1.1\r\nHost: h\r\n\r\n").replace("HTTP/1.1", v);
            let h = ok(buf.as_bytes());
            assert_eq!((h.version_minor, h.path(buf.as_bytes()), h.keep_alive), (1, &b"/v"[..], true), "{v}");
        }
        for v in ["HTTP/2.0", "HTTP/3.0", "HTTP/3", "HTTP/0.9", "HTTP/9.9"] {
            assert_eq!(status(format!("GET / {v}\r\nHost: h\r\n\r\n").as_bytes()), 505, "{v}");
        }
        for v in ["HTTP/1.x", "http/1.1", "HTTP/", "HTTP/11", "HTTPS/1.1", "FOO", "HTTP/2.0.1", "HTTP/1.10"] {
            assert_eq!(status(format!("GET / {v}\r\nHost: h\r\n\r\n").as_bytes()), 400, "{v}");
        }
    }

    #[test]
    fn version_verdict_does_not_depend_on_the_split() {
        for full in [
            &b"GET / HTTP/2.0\r\n\r\n"[..],
            b"GET / HTTP/3\r\n\r\n",
            b"GET / HTTP/2x\r\n\r\n",
            b"GET / HTTP/2.x\r\n\r\n",
        ] {
            let end = parse_head(full, &Limits::default()).unwrap_err().status;
            for i in 0..full.len() {
                match parse_head(&full[..i], &Limits::default()) {
                    Ok(None) => {}
                    Err(e) => {
                        assert_eq!(e.status, end, "{:?} at {i}", String::from_utf8_lossy(full))
                    }
                    Ok(Some(_)) => panic!("prefix parsed"),
                }
            }
        }
    }

    #[test]
    fn head_size_limit() {
        let limits = Limits { max_head_bytes: 64, ..Limits::default() };
        let fits = b"GET / HTTP/1.1\r\nHost: h\r\nX: 01234567890123456789012345678901\r\n\r\n";
        assert_eq!(fits.len(), 64);
        assert!(parse_head(fits, &limits).unwrap().is_some());
        let over = b"GET / HTTP/1.1\r\nHost: h\r\nX: 012345678901234567890123456789012\r\n\r\n";
        assert_eq!(parse_head(over, &limits).unwrap_err().status, 431);
        // Incomplete but already over the limit.
        assert_eq!(parse_head(&over[..65], &limits).unwrap_err().status, 431);
        assert!(parse_head(&over[..64], &limits).unwrap().is_none());
        // A complete head within the limit followed by a body is fine.
        let mut with_body = fits.to_vec();
        with_body.extend_from_slice(&[b'x'; 100]);
        assert_eq!(parse_head(&with_body, &limits).unwrap().unwrap().head_len, 64);
    }

    #[test]
    fn header_count_limit() {
        let limits = Limits { max_headers: 3, ..Limits::default() };
        let three = b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
        assert_eq!(parse_head(three, &limits).unwrap().unwrap().header_count(), 3);
        let four = b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        assert_eq!(parse_head(four, &limits).unwrap_err().status, 431);
        let mut many = b"GET / HTTP/1.1\r\nHost: h\r\n".to_vec();
        for i in 0..100 {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(status(&many), 431);
        let big = Limits { max_headers: 1000, max_head_bytes: 1 << 20, ..Limits::default() };
        assert_eq!(parse_head(&many, &big).unwrap().unwrap().header_count(), 101);
    }

    #[test]
    fn what_httparse_rejects_for_us() {
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  folded\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: h\r\nX : a\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: h\r\nX\t: a\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\rHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"GET  HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nX(y): a\r\nHost: h\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\n: a\r\nHost: h\r\n\r\n"), 400);
    }

    #[test]
    fn control_bytes_in_values_are_rejected_tab_and_obs_text_are_not() {
        for c in (0u8..0x20).chain([0x7f]) {
            let mut buf = b"GET / HTTP/1.1\r\nHost: h\r\nX-Long-Header-Name: 0123456789abcdef0123456789abcdef".to_vec();
            buf.push(c);
            buf.extend_from_slice(b"0123456789abcdef0123456789abcdef\r\n\r\n");
            let expect = if c == b'\t' { 200 } else { 400 };
            assert_eq!(status(&buf), expect, "byte {c:#x}");
        }
        let buf = b"GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9 \xff\r\n\r\n";
        assert_eq!(ok(buf).find_header(buf, b"x"), Some(&b"caf\xc3\xa9 \xff"[..]));
    }

    #[test]
    fn bare_lf_is_accepted() {
        let buf = b"GET / HTTP/1.1\nHost: h\nX: 1\n\nNEXT";
        let h = ok(buf);
        assert_eq!(h.head_len, buf.len() - 4);
        assert_eq!(h.find_header(buf, b"x"), Some(&b"1"[..]));
    }

    #[test]
    fn leading_empty_lines_are_skipped() {
        let buf = b"\r\n\r\nGET /z HTTP/1.1\r\nHost: h\r\n\r\n";
        let h = ok(buf);
        assert_eq!(h.path(buf), b"/z");
        assert_eq!(h.head_len, buf.len());
    }

    #[test]
    fn host_rules() {
        assert_eq!(status(b"GET / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
        assert!(!ok(b"GET / HTTP/1.0\r\n\r\n").has_host());
        assert!(ok(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").has_host());
    }

    #[test]
    fn host_field_must_be_a_valid_authority() {
        for good in ["example.com", "example.com:8080", "127.0.0.1", "[::1]:80", "h:", ""] {
            assert_eq!(status(format!("GET / HTTP/1.1\r\nHost: {good}\r\n\r\n").as_bytes()), 200, "{good:?}");
        }
        for bad in ["a, b", "a,b", "a b", "a/b", "u@h", "h:x", "h:65536", "[::1", "h\"", "h:80:80"] {
            assert_eq!(status(format!("GET / HTTP/1.1\r\nHost: {bad}\r\n\r\n").as_bytes()), 400, "{bad:?}");
            assert_eq!(status(format!("GET / HTTP/1.0\r\nHost: {bad}\r\n\r\n").as_bytes()), 400, "{bad:?}");
        }
        let buf = b"GET / HTTP/1.1\r\nHost: Example.com:8080\r\n\r\n";
        let h = ok(buf);
        assert_eq!(
            (h.host(buf), h.port, h.host_header(buf)),
            (Some(&b"Example.com"[..]), Some(8080), Some(&b"Example.com:8080"[..]))
        );
    }

    #[test]
    fn absolute_form_overrides_host() {
        let buf = b"GET http://other.example:81/p?q=1 HTTP/1.1\r\nHost: h\r\n\r\n";
        let h = ok(buf);
        assert_eq!(h.form, TargetForm::Absolute);
        assert_eq!((h.scheme(buf), h.host(buf), h.port), (Some(&b"http"[..]), Some(&b"other.example"[..]), Some(81)));
        assert_eq!((h.path(buf), h.query(buf)), (&b"/p"[..], Some(&b"q=1"[..])));
        let buf = b"GET https://h2 HTTP/1.1\r\nHost: h\r\n\r\n";
        let h = ok(buf);
        assert_eq!(
            (h.scheme(buf), h.host(buf), h.path(buf), h.query(buf)),
            (Some(&b"https"[..]), Some(&b"h2"[..]), &b"/"[..], None)
        );
        // Host is still required and still checked.
        assert_eq!(status(b"GET http://h/ HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET http://h/ HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
        assert_eq!(status(b"GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    }

    #[test]
    fn target_forms_are_checked_against_the_method() {
        let buf = b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
        assert_eq!((ok(buf).form, ok(buf).path(buf)), (TargetForm::Asterisk, &b"*"[..]));
        let buf = b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n";
        let h = ok(buf);
        assert_eq!(
            (h.form, h.host(buf), h.port, h.path(buf)),
            (TargetForm::Authority, Some(&b"h"[..]), Some(443), &b""[..])
        );
        for bad in
            ["GET *", "HEAD *", "GET h:443", "CONNECT /", "CONNECT *", "GET a/b", "GET /a#b", "POST index", "GET /%zz"]
        {
            assert_eq!(status(format!("{bad} HTTP/1.1\r\nHost: h\r\n\r\n").as_bytes()), 400, "{bad:?}");
        }
    }

    #[test]
    fn a_request_line_past_the_head_limit_is_414() {
        let limits = Limits { max_head_bytes: 64, ..Limits::default() };
        let long = format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(100));
        assert_eq!(parse_head(long.as_bytes(), &limits).unwrap_err().status, 414);
        assert_eq!(parse_head(&long.as_bytes()[..65], &limits).unwrap_err().status, 414);
        let long_method = "A".repeat(100);
        assert_eq!(parse_head(long_method.as_bytes(), &limits).unwrap_err().status, 431);
        let long_header = format!("GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n", "a".repeat(100));
        assert_eq!(parse_head(long_header.as_bytes(), &limits).unwrap_err().status, 431);
    }

    #[test]
    fn percent_decoding() {
        let mut out = Vec::new();
        percent_decode(b"/a%20b+c%2F%2f", &mut out, false).unwrap();
        assert_eq!(out, b"/a b+c//");
        out.clear();
        percent_decode(b"q=a+b%2B", &mut out, true).unwrap();
        assert_eq!(out, b"q=a b+");
        out.clear();
        percent_decode(b"%00%ff%C3%A9", &mut out, false).unwrap();
        assert_eq!(out, b"\x00\xff\xc3\xa9");
        out.clear();
        out.extend_from_slice(b"keep");
        for bad in [&b"%"[..], b"%2", b"%zz", b"a%g1", b"%%41", b"abc%4"] {
            assert_eq!(percent_decode(bad, &mut out, false), Err(()));
            assert_eq!(out, b"keep", "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
