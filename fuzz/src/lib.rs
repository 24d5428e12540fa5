//! Properties checked by the fuzz targets, kept free of libFuzzer so that
//! `tests/hostile_codec_properties.rs` runs the same checks in `cargo test`
//! (it includes this file with `#[path]`).
//!
//! Input layouts (the committed seeds under `fuzz/corpus/` follow them):
//! - request split: byte 0 picks the limits, bytes 1-2 seed the cut points,
//!   the rest is the byte stream a client sends.
//! - response head: bytes 0-1 status (big-endian), byte 2 flags, bytes 3-10
//!   a body length, then records `[name_len][name][value_len][value]`.
#![allow(dead_code)]

use c10k::http::{
    BodyDecoder, BodyKind, BodyMode, HeadOptions, InvalidHead, Limits, ResponseFraming, parse_head, validate_header,
    write_head,
};

/// What a connection sees, in order. Bodies are whole (their pieces
/// depend on the cuts; their concatenation must not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Head {
        method: Vec<u8>,
        target: Vec<u8>,
        version_minor: u8,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        body: BodyKind,
        keep_alive: bool,
        expect_continue: bool,
    },
    Body(Vec<u8>),
    Trailers(Vec<(Vec<u8>, Vec<u8>)>),
    /// The stream cannot be framed any more: answer this status and close.
    Error(u16),
    /// The input ended inside a body, after these bytes of it.
    PartialBody(Vec<u8>),
}

/// The framing a connection does, over whatever reads it gets: append to
/// a buffer, parse heads at its start, decode bodies, repeat (pipelining).
pub struct Framer {
    limits: Limits,
    buf: Vec<u8>,
    body: Option<(BodyDecoder, Vec<u8>)>,
    events: Vec<Event>,
    dead: bool,
}

impl Framer {
    pub fn new(limits: Limits) -> Framer {
        Framer { limits, buf: Vec::new(), body: None, events: Vec::new(), dead: false }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        if self.dead {
            return;
        }
        self.buf.extend_from_slice(bytes);
        loop {
            match &mut self.body {
                None => match parse_head(&self.buf, &self.limits) {
                    Ok(None) => {
                        // Incomplete is only allowed while under the limit.
                        assert!(self.buf.len() <= self.limits.max_head_bytes, "partial head past the limit");
                        break;
                    }
                    Err(e) => {
                        assert!(matches!(e.status, 400 | 413 | 414 | 431 | 501 | 505), "status {}", e.status);
                        self.events.push(Event::Error(e.status));
                        self.dead = true;
                        break;
                    }
                    Ok(Some(h)) => {
                        let b = &self.buf;
                        assert!(h.head_len > 0 && h.head_len <= b.len());
                        assert!(h.head_len <= self.limits.max_head_bytes);
                        assert!(h.header_count() <= self.limits.max_headers.min(c10k::http::HEADER_CAPACITY));
                        assert!(h.version_minor <= 1);
                        if let BodyKind::Length(n) = h.body {
                            assert!(n <= self.limits.max_body_bytes);
                        }
                        // Path and query are parts of the target (an
                        // absolute-form URI without a path means `/`).
                        let target = h.target(b);
                        let path = h.path(b);
                        assert!(path.is_empty() || path == b"/" || target.windows(path.len()).any(|w| w == path));
                        if let Some(q) = h.query(b) {
                            assert!(target.ends_with(q));
                        }
                        let headers: Vec<_> = h.headers(b).map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
                        for (n, v) in &headers {
                            assert!(!n.is_empty());
                            assert!(!n.iter().chain(v).any(|&c| c == b'\r' || c == b'\n'));
                        }
                        self.events.push(Event::Head {
                            method: h.method(b).to_vec(),
                            target: target.to_vec(),
                            version_minor: h.version_minor,
                            headers,
                            body: h.body,
                            keep_alive: h.keep_alive,
                            expect_continue: h.expect_continue,
                        });
                        self.buf.drain(..h.head_len);
                        self.body = Some((BodyDecoder::new(h.body, &self.limits), Vec::new()));
                    }
                },
                Some((dec, data)) => {
                    if dec.is_done() {
                        let trailers = dec.trailers().to_vec();
                        self.events.push(Event::Body(std::mem::take(data)));
                        if !trailers.is_empty() {
                            self.events.push(Event::Trailers(trailers));
                        }
                        self.body = None;
                        continue;
                    }
                    if self.buf.is_empty() {
                        break;
                    }
                    match dec.decode(&self.buf) {
                        Err(e) => {
                            assert!(matches!(e.status, 400 | 413 | 431 | 501), "status {}", e.status);
                            self.events.push(Event::Error(e.status));
                            self.dead = true;
                            break;
                        }
                        Ok(d) => {
                            assert!(d.consumed > 0, "no progress on non-empty input");
                            assert!(d.consumed <= self.buf.len());
                            assert_eq!(d.done, dec.is_done());
                            if let Some(piece) = d.data {
                                assert!(!piece.is_empty());
                                data.extend_from_slice(piece);
                            }
                            assert!(data.len() as u64 <= self.limits.max_body_bytes, "body past the limit");
                            self.buf.drain(..d.consumed);
                        }
                    }
                }
            }
        }
    }

    pub fn finish(mut self) -> Vec<Event> {
        if let Some((_, data)) = self.body.take() {
            self.events.push(Event::PartialBody(data));
        }
        self.events
    }
}

/// Limits from one byte: the defaults, or small ones so that every limit
/// is reached by short inputs.
pub fn limits_from(b: u8) -> Limits {
    if b & 0x80 == 0 {
        return Limits::default();
    }
    Limits {
        max_head_bytes: 16 + (b as usize & 0x0f) * 64,
        max_headers: 1 + (b as usize >> 4 & 0x07),
        max_body_bytes: [0, 1, 7, 64, 300, 4096, 65536, 1 << 20][(b & 0x07) as usize],
        max_chunk_ext_and_trailer_bytes: [0, 3, 40, 8192][(b >> 5 & 0x03) as usize],
    }
}

/// Frames `stream` delivered in the reads `cuts` makes of it.
pub fn frame(limits: Limits, stream: &[u8], mut cuts: impl FnMut() -> usize) -> Vec<Event> {
    let mut f = Framer::new(limits);
    let mut rest = stream;
    while !rest.is_empty() {
        let n = cuts().clamp(1, rest.len());
        f.feed(&rest[..n]);
        rest = &rest[n..];
    }
    f.feed(&[]);
    f.finish()
}

fn xorshift(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}

pub fn check_request_split(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let limits = limits_from(data[0]);
    let seed = u16::from_be_bytes([data[1], data[2]]);
    let stream = &data[3..];

    let whole = frame(limits, stream, || usize::MAX);
    // Reads of 1 to `max` bytes, `max` from the seed: small cuts land inside
    // tokens, line endings and chunk-size lines.
    let max = 1 + (seed as usize & 0x3f);
    let mut state = seed as u32 | 0x1_0000;
    let split = frame(limits, stream, || 1 + xorshift(&mut state) as usize % max);
    assert_eq!(whole, split, "cut into reads of at most {max} bytes");
    // One byte per read, the worst case for an incremental parser.
    if stream.len() <= 512 && seed & 0x40 != 0 {
        let bytewise = frame(limits, stream, || 1);
        assert_eq!(whole, bytewise, "one byte per read");
    }
}

/// Fuzz input for [`check_response_head`], decoded.
pub struct ResponseCase {
    pub status: u16,
    pub flags: u8,
    pub length: u64,
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
}

impl ResponseCase {
    pub fn decode(data: &[u8]) -> Option<ResponseCase> {
        if data.len() < 11 {
            return None;
        }
        let status = u16::from_be_bytes([data[0], data[1]]);
        let flags = data[2];
        let length = u64::from_be_bytes(data[3..11].try_into().unwrap());
        let mut rest = &data[11..];
        let mut headers = Vec::new();
        let take = |rest: &mut &[u8]| -> Option<Vec<u8>> {
            let (&n, tail) = rest.split_first()?;
            let n = (n as usize).min(tail.len());
            let (field, tail) = tail.split_at(n);
            *rest = tail;
            Some(field.to_vec())
        };
        while !rest.is_empty() && headers.len() < 64 {
            let name = take(&mut rest)?;
            let value = take(&mut rest).unwrap_or_default();
            headers.push((name, value));
        }
        Some(ResponseCase { status, flags, length, headers })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.status.to_be_bytes().to_vec();
        out.push(self.flags);
        out.extend_from_slice(&self.length.to_be_bytes());
        for (n, v) in &self.headers {
            out.push(n.len() as u8);
            out.extend_from_slice(n);
            out.push(v.len() as u8);
            out.extend_from_slice(v);
        }
        out
    }
}

fn trim(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

pub fn check_response_head(data: &[u8]) {
    let Some(case) = ResponseCase::decode(data) else { return };
    let headers: Vec<(&[u8], &[u8])> = case.headers.iter().map(|(n, v)| (&n[..], &v[..])).collect();
    let date = b"Sun, 06 Nov 1994 08:49:37 GMT";
    let opts = HeadOptions {
        version_minor: case.flags & 1,
        keep_alive: case.flags & 2 != 0,
        head_request: case.flags & 4 != 0,
        date,
        reason: None,
    };
    let framing = if case.flags & 8 != 0 { ResponseFraming::Unknown } else { ResponseFraming::Length(case.length) };
    let mut out = b"previous response".to_vec();
    let result = write_head(&mut out, case.status, &headers, framing, opts);

    let bad = headers.iter().position(|(n, v)| validate_header(n, v).is_err());
    let written = match result {
        Err(why) => {
            assert_eq!(out, b"previous response", "a refused head wrote something");
            match why {
                InvalidHead::Status => assert!(!(100..=999).contains(&case.status)),
                InvalidHead::Header(i) => {
                    assert!((100..=999).contains(&case.status));
                    assert_eq!(Some(i), bad);
                }
            }
            return;
        }
        Ok(w) => w,
    };
    assert!((100..=999).contains(&case.status));
    assert_eq!(bad, None, "an invalid header was accepted");
    // What validation promises: no CR, LF or NUL in a value, a token name.
    for (n, v) in &headers {
        assert!(!n.is_empty() && !v.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0)));
    }

    let head = &out[b"previous response".len()..];
    let mut parsed = [httparse::EMPTY_HEADER; 80];
    let mut resp = httparse::Response::new(&mut parsed);
    let n = match resp.parse(head) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("head does not parse back: {other:?}\n{}", String::from_utf8_lossy(head)),
    };
    assert_eq!(n, head.len(), "bytes after the head");
    assert_eq!(resp.code, Some(case.status));
    assert_eq!(resp.version, Some(1));

    // The handler's headers come out in order, unchanged but for framing
    // ones, which the writer owns, and for its Connection headers when the
    // writer closes a connection they did not say to close (one Connection
    // header, not two that disagree); nothing else of theirs turns into a line.
    let framing_header =
        |n: &[u8]| n.eq_ignore_ascii_case(b"content-length") || n.eq_ignore_ascii_case(b"transfer-encoding");
    let connection = |n: &[u8]| n.eq_ignore_ascii_case(b"connection");
    let said_close = headers.iter().any(|(n, v)| {
        connection(n) && String::from_utf8_lossy(v).split(',').any(|t| t.trim().eq_ignore_ascii_case("close"))
    });
    let overridden = case.status >= 200 && !written.keep_alive && !said_close;
    let expected: Vec<_> =
        headers.iter().filter(|(n, _)| !framing_header(n) && !(overridden && connection(n))).collect();
    let got = resp.headers;
    assert!(got.len() >= expected.len());
    for ((n, v), h) in expected.iter().zip(got.iter()) {
        assert_eq!(h.name.as_bytes(), *n);
        assert_eq!(trim(h.value), trim(v));
    }
    let added = &got[expected.len()..];
    let count = |name: &str| got.iter().filter(|h| h.name.eq_ignore_ascii_case(name)).count();
    let cl = count("content-length");
    let te = count("transfer-encoding");
    assert!(cl <= 1 && te <= 1 && cl + te <= 1, "conflicting framing");
    for h in added {
        assert!(matches!(h.name, "Date" | "Content-Length" | "Transfer-Encoding" | "Connection"), "added {}", h.name);
    }
    // The body mode agrees with the framing headers.
    match written.body {
        BodyMode::Length(len) => {
            let v = got.iter().find(|h| h.name == "Content-Length").expect("Content-Length");
            assert_eq!(v.value, len.to_string().as_bytes());
        }
        BodyMode::Chunked => {
            assert!(opts.version_minor == 1);
            assert!(got.iter().any(|h| h.name == "Transfer-Encoding" && h.value == b"chunked"));
        }
        BodyMode::UntilClose => assert!(!written.keep_alive && cl + te == 0),
        BodyMode::None => {
            assert!(opts.head_request || case.status < 200 || case.status == 204 || case.status == 304);
        }
    }
    if written.keep_alive {
        assert!(opts.keep_alive);
    }
}

/// PROXY protocol headers (`c10k::net::proxy`). Input layout: byte 0 sets
/// the v2 size cap (16 + 16 * byte), byte 1 is unused padding kept for
/// future options, the rest is what a balancer (or anyone) sends first.
pub fn check_proxy_header(data: &[u8]) {
    use c10k::net::proxy::{Parse, V1_MAX_BYTES, parse};
    if data.len() < 2 {
        return;
    }
    let cap = 16 + 16 * data[0] as usize;
    let stream = &data[2..];
    let whole = parse(stream, cap);
    match &whole {
        Ok(Parse::Complete(header, used)) => {
            let used = *used;
            assert!(used > 0 && used <= stream.len());
            match header.version {
                1 => assert!(used <= V1_MAX_BYTES && stream[..used].ends_with(b"\r\n")),
                2 => assert!(used <= cap && used >= 16),
                v => panic!("version {v}"),
            }
            assert!(!header.local || header.addrs.is_none(), "LOCAL named a client");
            // It never looks past the header: the same answer without
            // what follows, and a wait (never a refusal) before its end.
            assert_eq!(parse(&stream[..used], cap), whole);
            let step = (used / 64).max(1);
            for k in (0..used).step_by(step) {
                assert_eq!(parse(&stream[..k], cap), Ok(Parse::Incomplete), "prefix of {k} bytes");
            }
            if let Some((src, dst)) = header.addrs {
                let again = parse(&encode_proxy_header(header.version, src, dst), cap);
                assert!(matches!(again, Ok(Parse::Complete(h, _)) if h.addrs == Some((src, dst))));
            }
        }
        Ok(Parse::Incomplete) => {
            assert!(stream.len() < cap.max(V1_MAX_BYTES), "waiting past every cap");
            for k in 0..stream.len() {
                assert_eq!(parse(&stream[..k], cap), Ok(Parse::Incomplete), "a prefix refused");
            }
        }
        // A refusal is final: more bytes never make it acceptable.
        Err(_) => {
            for more in [&b"\r\n"[..], b" 1 2\r\n", &[0u8; 64]] {
                assert!(parse(&[stream, more].concat(), cap).is_err());
            }
        }
    }
}

/// A header naming `src` and `dst`, written as the spec shows it, apart
/// from the parser: the round trip checks both.
pub fn encode_proxy_header(version: u8, src: std::net::SocketAddr, dst: std::net::SocketAddr) -> Vec<u8> {
    use std::net::IpAddr;
    if version == 1 {
        let proto = if src.is_ipv4() { "TCP4" } else { "TCP6" };
        return format!("PROXY {proto} {} {} {} {}\r\n", src.ip(), dst.ip(), src.port(), dst.port()).into_bytes();
    }
    let mut block = Vec::new();
    let family = match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            block.extend_from_slice(&s.octets());
            block.extend_from_slice(&d.octets());
            0x11
        }
        (s, d) => {
            block.extend_from_slice(&to_v6(s).octets());
            block.extend_from_slice(&to_v6(d).octets());
            0x21
        }
    };
    block.extend_from_slice(&src.port().to_be_bytes());
    block.extend_from_slice(&dst.port().to_be_bytes());
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.extend_from_slice(&[0x21, family]);
    out.extend_from_slice(&(block.len() as u16).to_be_bytes());
    out.extend_from_slice(&block);
    out
}

fn to_v6(ip: std::net::IpAddr) -> std::net::Ipv6Addr {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        std::net::IpAddr::V6(v6) => v6,
    }
}
