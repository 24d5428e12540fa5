//! Whole-codec tests: a corpus of malformed requests with the exact status
//! each must get, valid pipelined traffic, and the no-allocation promise.
//!
//! Every case runs through [`Conn`], which drives the codec the way the
//! connection layer will (append bytes, parse a head, decode the body,
//! drain what was consumed), whole and split at every byte.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use super::*;

/// Counts allocations per thread, so the parse path can be shown not to
/// allocate while other tests run in parallel.
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations() -> usize {
    ALLOCATIONS.with(|a| a.get())
}

/// One request as the application would see it.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    method: Vec<u8>,
    path: Vec<u8>,
    body: Vec<u8>,
    trailers: Vec<(Vec<u8>, Vec<u8>)>,
    keep_alive: bool,
}

/// A connection's read side: buffered bytes, and the request in progress.
struct Conn {
    limits: Limits,
    buf: Vec<u8>,
    current: Option<(Seen, BodyDecoder)>,
    seen: Vec<Seen>,
}

impl Conn {
    fn new(limits: Limits) -> Self {
        Conn { limits, buf: Vec::new(), current: None, seen: Vec::new() }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), HttpError> {
        self.buf.extend_from_slice(bytes);
        loop {
            match &mut self.current {
                None => {
                    let Some(head) = parse_head(&self.buf, &self.limits)? else {
                        return Ok(());
                    };
                    let seen = Seen {
                        method: head.method(&self.buf).to_vec(),
                        path: head.path(&self.buf).to_vec(),
                        body: Vec::new(),
                        trailers: Vec::new(),
                        keep_alive: head.keep_alive,
                    };
                    self.current = Some((seen, BodyDecoder::new(head.body, &self.limits)));
                    self.buf.drain(..head.head_len);
                }
                Some((seen, dec)) => {
                    if !dec.is_done() {
                        if self.buf.is_empty() {
                            return Ok(());
                        }
                        let d = dec.decode(&self.buf)?;
                        seen.body.extend_from_slice(d.data.unwrap_or_default());
                        self.buf.drain(..d.consumed);
                    }
                    if dec.is_done() {
                        let (mut seen, dec) = self.current.take().unwrap();
                        seen.trailers = dec.trailers().to_vec();
                        self.seen.push(seen);
                    }
                }
            }
        }
    }
}

/// Status of the first error, whole input; 0 if none.
fn status_of(input: &[u8]) -> u16 {
    let mut c = Conn::new(Limits::default());
    c.feed(input).err().map_or(0, |e| e.status)
}

fn big_head() -> Vec<u8> {
    let mut r = b"GET / HTTP/1.1\r\nHost: a\r\nX-Big: ".to_vec();
    r.resize(r.len() + 8200, b'a');
    r.extend_from_slice(b"\r\n\r\n");
    r
}

fn long_target() -> Vec<u8> {
    let mut r = b"GET /".to_vec();
    r.resize(r.len() + 8200, b'a');
    r.extend_from_slice(b" HTTP/1.1\r\nHost: a\r\n\r\n");
    r
}

fn many_headers() -> Vec<u8> {
    let mut r = b"GET / HTTP/1.1\r\nHost: a\r\n".to_vec();
    for i in 0..100 {
        r.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    r.extend_from_slice(b"\r\n");
    r
}

fn big_trailer() -> Vec<u8> {
    let mut r = b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ".to_vec();
    r.resize(r.len() + 8200, b't');
    r.extend_from_slice(b"\r\n\r\n");
    r
}

/// Malformed requests and the exact status each must get.
fn malformed() -> Vec<(Vec<u8>, u16)> {
    let fixed: &[(&[u8], u16)] = &[
        // Ambiguous framing: the request smuggling vectors.
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\nhello", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunkedx\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: deflate\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        // Header syntax.
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\tfolded\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\rHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\n\rHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: a\x1bb\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX(1): v\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX@y: v\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\n: v\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        // Request line.
        (b"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /\xff HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET  HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GE T / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"\x00GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400),
        (b"GET / http/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505),
        // Request targets and Host.
        (b"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400),
        (b"GET / HTTP/3\r\nHost: a\r\n\r\n", 505),
        (b"GET / HTTP/0.9\r\n\r\n", 505),
        // Sizes.
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n", 413),
        (b"POST / HTTP/1.0\r\nContent-Length: 18446744073709551615\r\n\r\n", 413),
        // Chunked bodies.
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000003\r\nabc\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100001\r\n", 413),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\r\n b\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX : a\r\n\r\n", 400),
    ];
    let mut all: Vec<(Vec<u8>, u16)> = fixed.iter().map(|(r, s)| (r.to_vec(), *s)).collect();
    all.push((big_head(), 431));
    all.push((long_target(), 414));
    all.push((many_headers(), 431));
    all.push((big_trailer(), 431));
    all
}

#[test]
fn corpus_is_large_enough() {
    assert!(malformed().len() >= 40);
}

#[test]
fn every_malformed_request_gets_its_status() {
    for (req, expected) in malformed() {
        assert_eq!(status_of(&req), expected, "{:?}", String::from_utf8_lossy(&req));
    }
}

#[test]
fn malformed_status_does_not_depend_on_how_reads_split() {
    for (req, expected) in malformed() {
        let step = if req.len() > 1000 { 97 } else { 1 };
        for p in (0..=req.len()).step_by(step) {
            let mut c = Conn::new(Limits::default());
            let got = c.feed(&req[..p]).and_then(|()| c.feed(&req[p..]));
            assert_eq!(got.err().map(|e| e.status), Some(expected), "{:?} split at {p}", String::from_utf8_lossy(&req));
        }
    }
}

fn pipelined() -> (Vec<u8>, Vec<Seen>) {
    let input = b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n\
        POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 15\r\n\r\nGET /x HTTP/1.1\
        POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
        5;ext=1\r\nhello\r\n6\r\n GET /\r\n0\r\nX-Sum: 6\r\n\r\n\
        PUT /empty HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n\
        GET /last HTTP/1.0\n\n"
        .to_vec();
    let seen = |m: &str, p: &str, b: &str, t: Vec<(Vec<u8>, Vec<u8>)>, k: bool| Seen {
        method: m.into(),
        path: p.into(),
        body: b.into(),
        trailers: t,
        keep_alive: k,
    };
    let expected = vec![
        seen("GET", "/a", "", vec![], true),
        // A body that looks like a request stays a body.
        seen("POST", "/echo", "GET /x HTTP/1.1", vec![], true),
        seen("POST", "/c", "hello GET /", vec![(b"X-Sum".to_vec(), b"6".to_vec())], true),
        seen("PUT", "/empty", "", vec![], true),
        seen("GET", "/last", "", vec![], false),
    ];
    (input, expected)
}

#[test]
fn pipelined_requests_in_one_buffer() {
    let (input, expected) = pipelined();
    let mut c = Conn::new(Limits::default());
    c.feed(&input).unwrap();
    assert_eq!(c.seen, expected);
    assert!(c.buf.is_empty() && c.current.is_none());
}

#[test]
fn pipelined_requests_split_anywhere() {
    let (input, expected) = pipelined();
    for p in 0..=input.len() {
        let mut c = Conn::new(Limits::default());
        c.feed(&input[..p]).unwrap();
        c.feed(&input[p..]).unwrap();
        assert_eq!(c.seen, expected, "split at {p}");
    }
    let mut c = Conn::new(Limits::default());
    for b in input.chunks(1) {
        c.feed(b).unwrap();
    }
    assert_eq!(c.seen, expected);
}

#[test]
fn next_request_after_an_incomplete_body_waits() {
    let mut c = Conn::new(Limits::default());
    c.feed(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab").unwrap();
    assert!(c.seen.is_empty());
    c.feed(b"cdGET /n HTTP/1.1\r\nHost: h\r\n").unwrap();
    assert_eq!(c.seen.len(), 1);
    assert_eq!(c.seen[0].body, b"abcd");
    assert_eq!(c.buf, b"GET /n HTTP/1.1\r\nHost: h\r\n");
}

#[test]
fn parsing_and_decoding_do_not_allocate() {
    let get = b"GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: bench/1.0\r\n\
        Accept: */*\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n";
    let post = b"POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\n\r\n";
    let limits = Limits::default();
    let mut date = DateCache::new();
    let mut out = Vec::with_capacity(4096);
    let before = allocations();
    let head = parse_head(get, &limits).unwrap().unwrap();
    let post_head = parse_head(post, &limits).unwrap().unwrap();
    let mut dec = BodyDecoder::new(post_head.body, &limits);
    let mut off = post_head.head_len;
    while !dec.is_done() {
        off += dec.decode(&post[off..]).unwrap().consumed;
    }
    let opts = HeadOptions::for_request(&head, date.get(784_111_777));
    write_head(&mut out, 200, &[(b"Content-Type", b"text/plain")], ResponseFraming::Length(13), opts).unwrap();
    let allocated = allocations() - before;
    assert_eq!(allocated, 0);
    assert_eq!((head.header_count(), off), (5, post.len()));
}
