//! Incremental request body decoding: Content-Length and chunked.
//!
//! A decoder is fed whatever bytes the connection has; it never consumes a
//! byte past the end of the body, so the caller can hand the rest of its
//! buffer to [`crate::http::parse_head`] as the next pipelined request.
//! Data is returned as sub-slices of the input (zero-copy); the decoder
//! allocates only to store chunked trailers.
//!
//! Typical loop:
//! ```
//! # use c10k::http::{BodyDecoder, BodyKind, Limits};
//! let input = b"5\r\nhello\r\n0\r\n\r\nGET /next";
//! let mut dec = BodyDecoder::new(BodyKind::Chunked, &Limits::default());
//! let (mut off, mut body) = (0, Vec::new());
//! while !dec.is_done() && off < input.len() {
//!     let d = dec.decode(&input[off..]).unwrap();
//!     off += d.consumed;
//!     body.extend_from_slice(d.data.unwrap_or_default());
//! }
//! assert_eq!((&body[..], &input[off..]), (&b"hello"[..], &b"GET /next"[..]));
//! ```

use super::request::{is_tchar, trim_ows};
use super::{BodyKind, HttpError, Limits};

/// The outcome of one [`BodyDecoder::decode`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Input bytes used (framing and data); the caller drops them.
    pub consumed: usize,
    /// Body bytes found, a sub-slice of the input. At most one chunk's worth:
    /// call again with the remaining input for more.
    pub data: Option<&'a [u8]>,
    /// The body ended; input after `consumed` belongs to the next request.
    pub done: bool,
}

/// Decodes one request body of the kind the head announced.
#[derive(Clone, Debug)]
pub enum BodyDecoder {
    /// Content-Length framing (and no body at all, as length 0).
    Length {
        remaining: u64,
    },
    Chunked(ChunkedDecoder),
}

impl BodyDecoder {
    /// The decoder for `kind`; `limits` bounds chunked bodies (Content-Length
    /// was already checked by `parse_head`).
    pub fn new(kind: BodyKind, limits: &Limits) -> BodyDecoder {
        match kind {
            BodyKind::None => BodyDecoder::Length { remaining: 0 },
            BodyKind::Length(n) => BodyDecoder::Length { remaining: n },
            BodyKind::Chunked => BodyDecoder::Chunked(ChunkedDecoder::new(limits)),
        }
    }

    /// Consume a prefix of `input`. Makes progress whenever `input` is not
    /// empty and the body is not done. After an error the decoder must not
    /// be used again: answer the status and close.
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<'a>, HttpError> {
        match self {
            BodyDecoder::Length { remaining } => {
                let n = (*remaining).min(input.len() as u64) as usize;
                *remaining -= n as u64;
                Ok(Decoded { consumed: n, data: (n > 0).then(|| &input[..n]), done: *remaining == 0 })
            }
            BodyDecoder::Chunked(c) => c.decode(input),
        }
    }

    pub fn is_done(&self) -> bool {
        match self {
            BodyDecoder::Length { remaining } => *remaining == 0,
            BodyDecoder::Chunked(c) => c.is_done(),
        }
    }

    /// Trailer fields received after the last chunk (always empty for
    /// Content-Length bodies).
    pub fn trailers(&self) -> &[(Vec<u8>, Vec<u8>)] {
        match self {
            BodyDecoder::Length { .. } => &[],
            BodyDecoder::Chunked(c) => c.trailers(),
        }
    }
}

/// Where the chunked decoder is in the RFC 9112 §7.1 grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading hex digits of a chunk size.
    Size {
        size: u64,
        digits: u8,
    },
    /// Whitespace after the size; only more whitespace or `;` may follow.
    SizeWs {
        size: u64,
    },
    /// Inside chunk extensions, up to CR.
    Ext {
        size: u64,
    },
    /// CR of the size line seen, LF expected.
    SizeLf {
        size: u64,
    },
    Data {
        remaining: u64,
    },
    DataCr,
    DataLf,
    /// Start of a trailer line, or of the empty line that ends the body.
    TrailerStart,
    TrailerLine,
    TrailerLf,
    FinalLf,
    Done,
}

/// Chunked transfer coding decoder. Byte-at-a-time for framing so it
/// behaves the same however reads split the input; bulk for data.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
    total: u64,
    meta_bytes: usize,
    max_body: u64,
    max_meta: usize,
    max_trailers: usize,
    /// The trailer line being received; it may span several reads.
    line: Vec<u8>,
    trailers: Vec<(Vec<u8>, Vec<u8>)>,
}

impl ChunkedDecoder {
    pub fn new(limits: &Limits) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size { size: 0, digits: 0 },
            total: 0,
            meta_bytes: 0,
            max_body: limits.max_body_bytes,
            max_meta: limits.max_chunk_ext_and_trailer_bytes,
            max_trailers: limits.max_headers,
            line: Vec::new(),
            trailers: Vec::new(),
        }
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Trailer fields as (name, value), value OWS-trimmed, in arrival order.
    pub fn trailers(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.trailers
    }

    /// See [`BodyDecoder::decode`].
    pub fn decode<'a>(&mut self, input: &'a [u8]) -> Result<Decoded<'a>, HttpError> {
        let mut i = 0;
        while i < input.len() {
            match self.state {
                State::Data { remaining } => {
                    let n = remaining.min((input.len() - i) as u64) as usize;
                    let data = &input[i..i + n];
                    i += n;
                    let remaining = remaining - n as u64;
                    self.state = if remaining == 0 { State::DataCr } else { State::Data { remaining } };
                    return Ok(Decoded { consumed: i, data: Some(data), done: false });
                }
                State::Done => break,
                _ => {
                    self.step(input[i])?;
                    i += 1;
                }
            }
        }
        Ok(Decoded { consumed: i, data: None, done: self.is_done() })
    }

    /// Count extension and trailer bytes against their shared budget.
    fn meta(&mut self) -> Result<(), HttpError> {
        self.meta_bytes += 1;
        if self.meta_bytes > self.max_meta {
            return Err(HttpError::header_fields_too_large("chunk extensions or trailers too large"));
        }
        Ok(())
    }

    fn step(&mut self, b: u8) -> Result<(), HttpError> {
        const BAD_SIZE: HttpError = HttpError::bad_request("invalid chunk size line");
        self.state = match self.state {
            State::Size { size, digits } => match (b as char).to_digit(16) {
                // 16 hex digits fill a u64 exactly, so this also rules out overflow.
                Some(_) if digits == 16 => {
                    return Err(HttpError::bad_request("chunk size too long"));
                }
                Some(v) => State::Size { size: size << 4 | u64::from(v), digits: digits + 1 },
                None if digits == 0 => return Err(BAD_SIZE),
                None => match b {
                    b'\r' => State::SizeLf { size },
                    b';' => {
                        self.meta()?;
                        State::Ext { size }
                    }
                    b' ' | b'\t' => {
                        self.meta()?;
                        State::SizeWs { size }
                    }
                    _ => return Err(BAD_SIZE),
                },
            },
            State::SizeWs { size } => {
                self.meta()?;
                match b {
                    b' ' | b'\t' => State::SizeWs { size },
                    b';' => State::Ext { size },
                    _ => return Err(BAD_SIZE),
                }
            }
            State::Ext { size } => match b {
                b'\r' => State::SizeLf { size },
                // Extensions are skipped, not interpreted: only their bytes
                // are checked, so no CR, LF or NUL can hide in them.
                b'\t' | b' '..=b'~' | 0x80.. => {
                    self.meta()?;
                    State::Ext { size }
                }
                _ => return Err(HttpError::bad_request("invalid chunk extension")),
            },
            State::SizeLf { size } => match b {
                b'\n' if size == 0 => State::TrailerStart,
                b'\n' => {
                    // Refuse before reading the data, not after buffering it.
                    self.total = self.total.saturating_add(size);
                    if self.total > self.max_body {
                        return Err(HttpError::content_too_large("request body too large"));
                    }
                    State::Data { remaining: size }
                }
                _ => return Err(BAD_SIZE),
            },
            State::DataCr if b == b'\r' => State::DataLf,
            State::DataLf if b == b'\n' => State::Size { size: 0, digits: 0 },
            State::DataCr | State::DataLf => {
                return Err(HttpError::bad_request("missing CRLF after chunk data"));
            }
            State::TrailerStart => match b {
                b'\r' => State::FinalLf,
                b' ' | b'\t' => {
                    return Err(HttpError::bad_request("obsolete line folding in trailer"));
                }
                _ => {
                    self.line.clear();
                    self.trailer_byte(b)?;
                    State::TrailerLine
                }
            },
            State::TrailerLine if b == b'\r' => State::TrailerLf,
            State::TrailerLine => {
                self.trailer_byte(b)?;
                State::TrailerLine
            }
            State::TrailerLf if b == b'\n' => {
                self.finish_trailer()?;
                State::TrailerStart
            }
            State::TrailerLf | State::FinalLf if b != b'\n' => {
                return Err(HttpError::bad_request("invalid line ending in trailers"));
            }
            State::FinalLf => State::Done,
            State::TrailerLf | State::Data { .. } | State::Done => {
                unreachable!("decode handles data and done without step")
            }
        };
        Ok(())
    }

    fn trailer_byte(&mut self, b: u8) -> Result<(), HttpError> {
        if !matches!(b, b'\t' | b' '..=b'~' | 0x80..) {
            return Err(HttpError::bad_request("invalid byte in trailer"));
        }
        self.meta()?;
        self.line.push(b);
        Ok(())
    }

    fn finish_trailer(&mut self) -> Result<(), HttpError> {
        let colon = self.line.iter().position(|&b| b == b':');
        let Some(colon) = colon.filter(|&c| c > 0 && self.line[..c].iter().all(|&b| is_tchar(b))) else {
            return Err(HttpError::bad_request("invalid trailer field name"));
        };
        if self.trailers.len() >= self.max_trailers {
            return Err(HttpError::header_fields_too_large("too many trailer fields"));
        }
        let name = self.line[..colon].to_vec();
        let value = trim_ows(&self.line[colon + 1..]).to_vec();
        self.trailers.push((name, value));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Outcome = Result<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>, usize), u16>;

    /// Feed `pieces` in order the way a connection would: each piece is
    /// offered until it is used up or the body ends. Returns the body, the
    /// trailers and how many input bytes the body took.
    fn run(kind: BodyKind, limits: &Limits, pieces: &[&[u8]]) -> Outcome {
        let mut dec = BodyDecoder::new(kind, limits);
        let (mut body, mut used) = (Vec::new(), 0);
        for piece in pieces {
            let mut off = 0;
            while off < piece.len() && !dec.is_done() {
                let d = dec.decode(&piece[off..]).map_err(|e| e.status)?;
                assert!(d.consumed > 0 || d.done, "no progress");
                if let Some(data) = d.data {
                    // Zero-copy: the data lies inside the input.
                    let base = piece[off..].as_ptr() as usize;
                    assert!(data.as_ptr() as usize >= base && data.as_ptr() as usize + data.len() <= base + d.consumed);
                    body.extend_from_slice(data);
                }
                off += d.consumed;
                used += d.consumed;
                assert_eq!(d.done, dec.is_done());
            }
        }
        if !dec.is_done() {
            return Err(0);
        }
        Ok((body, dec.trailers().to_vec(), used))
    }

    fn small() -> Limits {
        Limits { max_body_bytes: 20, max_chunk_ext_and_trailer_bytes: 24, max_headers: 2, ..Limits::default() }
    }

    type Case = (&'static [u8], BodyKind, Limits, Outcome);

    fn tr(n: &str, v: &str) -> (Vec<u8>, Vec<u8>) {
        (n.as_bytes().to_vec(), v.as_bytes().to_vec())
    }

    fn cases() -> Vec<Case> {
        let d = Limits::default();
        let c = BodyKind::Chunked;
        let ok =
            |body: &str, trailers: Vec<(Vec<u8>, Vec<u8>)>, used: usize| Ok((body.as_bytes().to_vec(), trailers, used));
        vec![
            (b"helloGET / HTTP/1.1\r\n", BodyKind::Length(5), d, ok("hello", vec![], 5)),
            (b"GET / HTTP/1.1\r\n", BodyKind::Length(0), d, ok("", vec![], 0)),
            (b"GET / HTTP/1.1\r\n", BodyKind::None, d, ok("", vec![], 0)),
            (b"0123456789", BodyKind::Length(10), d, ok("0123456789", vec![], 10)),
            (b"5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n", c, d, ok("hello", vec![], 15)),
            (b"0\r\n\r\n0\r\n\r\n", c, d, ok("", vec![], 5)),
            (b"5;a=b;c\r\nhello\r\n6 ; x=\"q;\\\"\"\r\n world\r\n0;end\r\n\r\n", c, d, ok("hello world", vec![], 47)),
            (b"A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", c, d, ok("0123456789abcdefghij", vec![], 35)),
            (b"0005\r\nhello\r\n0000000000000000\r\n\r\nX", c, d, ok("hello", vec![], 33)),
            (b"000000000000000F\r\n0123456789abcde\r\n0\r\n\r\n", c, d, ok("0123456789abcde", vec![], 40)),
            (
                b"3\r\nabc\r\n0\r\nX-T: 1\r\nY:  two words \t\r\nZ:\r\n\r\nnext",
                c,
                d,
                ok("abc", vec![tr("X-T", "1"), tr("Y", "two words"), tr("Z", "")], 42),
            ),
            (b"5\r\nhelloX\r\n0\r\n\r\n", c, d, Err(400)),
            (b"5\r\nhello\n0\r\n\r\n", c, d, Err(400)),
            (b"5\r\nhello\r0\r\n\r\n", c, d, Err(400)),
            (b"g\r\n", c, d, Err(400)),
            (b"\r\n", c, d, Err(400)),
            (b"-1\r\n", c, d, Err(400)),
            (b"+1\r\na\r\n0\r\n\r\n", c, d, Err(400)),
            (b"0x5\r\nhello\r\n0\r\n\r\n", c, d, Err(400)),
            (b"00000000000000001\r\na\r\n0\r\n\r\n", c, d, Err(400)),
            (b"ffffffffffffffff\r\n", c, d, Err(413)),
            (b"5 \r\nhello\r\n0\r\n\r\n", c, d, Err(400)),
            (b"5\nhello\r\n0\r\n\r\n", c, d, Err(400)),
            (b"5\rxhello\r\n0\r\n\r\n", c, d, Err(400)),
            (b"5;a\x01\r\nhello\r\n0\r\n\r\n", c, d, Err(400)),
            (b"5;a\nhello\r\n0\r\n\r\n", c, d, Err(400)),
            (b"0\r\nX: a\r\n b\r\n\r\n", c, d, Err(400)),
            (b"0\r\nXa\r\n\r\n", c, d, Err(400)),
            (b"0\r\n: a\r\n\r\n", c, d, Err(400)),
            (b"0\r\nX : a\r\n\r\n", c, d, Err(400)),
            (b"0\r\nX: a\rb\r\n\r\n", c, d, Err(400)),
            (b"0\r\nX: a\nb\r\n\r\n", c, d, Err(400)),
            (b"0\r\nX: a\x00\r\n\r\n", c, d, Err(400)),
            (b"0\r\n\r\r", c, d, Err(400)),
            (b"0\r\n\n", c, d, Err(400)),
            (b"5\r\nhello\r\n", c, d, Err(0)),
            (b"hell", BodyKind::Length(5), d, Err(0)),
            // Limits: 20 body bytes, 24 extension+trailer bytes, 2 trailers.
            (b"a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", c, small(), ok("01234567890123456789", vec![], 35)),
            (b"a\r\n0123456789\r\nb\r\n", c, small(), Err(413)),
            (b"15\r\n", c, small(), Err(413)),
            (b"1;aaaaaaaaaaaaaaaaaaaaaaa\r\nx\r\n0\r\n\r\n", c, small(), ok("x", vec![], 35)),
            (b"1;aaaaaaaaaaaaaaaaaaaaaaaa\r\n", c, small(), Err(431)),
            (b"1                         \r\n", c, small(), Err(431)),
            (b"0\r\nA: 1\r\nB: 2\r\n\r\n", c, small(), ok("", vec![tr("A", "1"), tr("B", "2")], 17)),
            (b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", c, small(), Err(431)),
            (b"0\r\nA: 0123456789012345678901\r\n\r\n", c, small(), Err(431)),
        ]
    }

    #[test]
    fn whole_input_gives_the_expected_outcome() {
        for (input, kind, limits, expected) in cases() {
            assert_eq!(run(kind, &limits, &[input]), expected, "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn every_split_gives_the_same_outcome() {
        for (input, kind, limits, expected) in cases() {
            for p in 0..=input.len() {
                let (a, b) = input.split_at(p);
                assert_eq!(run(kind, &limits, &[a, b]), expected, "{:?} split at {p}", String::from_utf8_lossy(input));
            }
            for p in 0..input.len() {
                for q in p..=input.len() {
                    let pieces = [&input[..p], &input[p..q], &input[q..]];
                    assert_eq!(run(kind, &limits, &pieces), expected);
                }
            }
            let bytes: Vec<&[u8]> = input.chunks(1).collect();
            assert_eq!(run(kind, &limits, &bytes), expected, "{:?} byte by byte", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn data_comes_one_chunk_per_call() {
        let input = b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let mut dec = BodyDecoder::new(BodyKind::Chunked, &Limits::default());
        let d = dec.decode(input).unwrap();
        assert_eq!((d.consumed, d.data, d.done), (6, Some(&b"abc"[..]), false));
        let d = dec.decode(&input[6..]).unwrap();
        assert_eq!((d.consumed, d.data, d.done), (7, Some(&b"de"[..]), false));
        let d = dec.decode(&input[13..]).unwrap();
        assert_eq!((d.consumed, d.data, d.done), (7, None, true));
        assert_eq!(dec.decode(b"more").unwrap(), Decoded { consumed: 0, data: None, done: true });
    }

    #[test]
    fn largest_chunk_size_is_read_exactly() {
        let limits = Limits { max_body_bytes: u64::MAX, ..Limits::default() };
        let mut dec = ChunkedDecoder::new(&limits);
        let d = dec.decode(b"ffffffffffffffff\r\nab").unwrap();
        assert_eq!((d.consumed, d.data), (20, Some(&b"ab"[..])));
        assert_eq!(dec.state, State::Data { remaining: u64::MAX - 2 });
    }

    #[test]
    fn length_decoder_stops_at_the_end() {
        let mut dec = BodyDecoder::new(BodyKind::Length(3), &Limits::default());
        assert_eq!(dec.decode(b"a").unwrap(), Decoded { consumed: 1, data: Some(b"a"), done: false });
        assert_eq!(dec.decode(b"bcGET").unwrap(), Decoded { consumed: 2, data: Some(b"bc"), done: true });
        assert_eq!(dec.decode(b"GET").unwrap(), Decoded { consumed: 0, data: None, done: true });
        assert!(dec.trailers().is_empty());
    }
}
