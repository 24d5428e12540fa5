//! Helpers for the HTTP tests: a server on its own loop thread with the
//! `hello_http` behaviour (or any handler), raw-socket clients that read
//! exact responses, and the real clients (`curl`, Python's `http.client`).
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Output};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use c10k::http::server::{Body, HttpConfig, HttpHandler, Request};
use c10k::{ListenOptions, Loop, LoopHandle};

/// `GET /` → Hello, World!; `POST /echo` → the body; other paths → 404.
pub struct Hello;

impl HttpHandler for Hello {
    fn on_request(&self, req: &mut Request<'_>) {
        let text: &[(&[u8], &[u8])] = &[(b"Content-Type", b"text/plain")];
        let result = match (req.method(), req.path()) {
            (b"GET" | b"HEAD", b"/") => req.respond(200, text, Body::Bytes(b"Hello, World!")),
            (b"POST", b"/echo") => {
                let body = req.body().to_vec();
                req.respond(200, text, Body::Bytes(&body))
            }
            _ => req.respond(404, text, Body::Bytes(b"Not Found")),
        };
        result.unwrap();
    }
}

/// Answers every request with what it saw, one fact per line:
/// `METHOD TARGET HTTP/1.x`, `body N`, the body, then `trailer NAME: VALUE`
/// per trailer field.
pub struct Inspect;

impl HttpHandler for Inspect {
    fn on_request(&self, req: &mut Request<'_>) {
        let mut out = Vec::new();
        out.extend_from_slice(req.method());
        out.push(b' ');
        out.extend_from_slice(req.target());
        out.extend_from_slice(format!(" HTTP/1.{}\nbody {}\n", req.version_minor(), req.body().len()).as_bytes());
        out.extend_from_slice(req.body());
        out.push(b'\n');
        for (name, value) in req.trailers() {
            out.extend_from_slice(b"trailer ");
            out.extend_from_slice(name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.push(b'\n');
        }
        req.respond(200, &[(b"Content-Type", b"text/plain")], Body::Bytes(&out)).unwrap();
    }
}

/// A handler made of a closure over the request.
pub struct FnHandler<F>(pub F);

impl<F: Fn(&mut Request<'_>) + 'static> HttpHandler for FnHandler<F> {
    fn on_request(&self, req: &mut Request<'_>) {
        (self.0)(req)
    }
}

/// Makes a handler of `f` (the bound lets closures infer their argument).
pub fn handler<F: Fn(&mut Request<'_>) + Send + 'static>(f: F) -> FnHandler<F> {
    FnHandler(f)
}

/// A server running `handler` on a loop thread; stop it with the handle.
pub struct Server {
    pub addr: SocketAddr,
    pub handle: LoopHandle,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.stop();
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

pub fn serve<H: HttpHandler + Send + 'static>(config: HttpConfig, handler: H) -> Server {
    serve_with(ListenOptions::default(), config, handler)
}

pub fn serve_with<H: HttpHandler + Send + 'static>(options: ListenOptions, config: HttpConfig, handler: H) -> Server {
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let lp = Loop::new().unwrap();
        let id = lp.http_listen(&"127.0.0.1:0".parse().unwrap(), &options, config, Box::new(handler)).unwrap();
        tx.send((lp.listener_addr(id).unwrap(), lp.handle())).unwrap();
        lp.run().unwrap();
    });
    let (addr, handle) = rx.recv().unwrap();
    Server { addr, handle, thread: Some(thread) }
}

pub fn hello() -> Server {
    serve(HttpConfig::default(), Hello)
}

pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Sends `raw` and reads until the server closes.
pub fn exchange_until_close(addr: SocketAddr, raw: &[u8]) -> String {
    let mut s = connect(addr);
    s.write_all(raw).unwrap();
    String::from_utf8_lossy(&read_to_eof(&mut s)).into_owned()
}

/// Reads until EOF; a reset after some bytes ends the read too.
pub fn read_to_eof(s: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return out,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("no EOF within the read timeout; got {:?}", String::from_utf8_lossy(&out))
            }
            Err(_) => return out,
        }
    }
}

/// Whether the server closed the connection (EOF or reset) with nothing
/// more to say; panics on bytes.
pub fn closed_quietly(s: &mut TcpStream) -> bool {
    let rest = read_to_eof(s);
    assert!(rest.is_empty(), "unexpected bytes before EOF: {:?}", String::from_utf8_lossy(&rest));
    true
}

/// Whether nothing arrives within `ms` (the connection is open and silent).
pub fn silent_for(s: &mut TcpStream, ms: u64) -> bool {
    let old = s.read_timeout().unwrap();
    s.set_read_timeout(Some(Duration::from_millis(ms))).unwrap();
    let mut byte = [0u8; 1];
    let silent = match s.read(&mut byte) {
        Ok(0) => panic!("the server closed the connection"),
        Ok(_) => panic!("unexpected byte {:?}", byte[0] as char),
        Err(e) => matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
    };
    s.set_read_timeout(old).unwrap();
    silent
}

/// One response as read off the wire.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    /// Status line and header fields, CRLFs included, up to the empty line.
    pub head: String,
    /// The body, decoded if it was chunked.
    pub body: Vec<u8>,
    /// Every byte of the response as it arrived.
    pub raw: Vec<u8>,
}

impl Response {
    /// The first header named `name` (case-insensitive), value trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.head, name)
    }

    /// The raw response with the Date header's value blanked out.
    pub fn without_date(&self) -> String {
        without_date(&self.raw)
    }
}

pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// `raw` as text, with the value of a `Date:` header replaced by `*`.
pub fn without_date(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .split("\r\n")
        .map(|l| if l.starts_with("Date: ") { "Date: *" } else { l })
        .collect::<Vec<_>>()
        .join("\r\n")
}

fn read_byte(s: &mut TcpStream, raw: &mut Vec<u8>) -> u8 {
    let mut byte = [0u8; 1];
    assert_eq!(s.read(&mut byte).unwrap(), 1, "closed inside a response: {:?}", String::from_utf8_lossy(raw));
    raw.push(byte[0]);
    byte[0]
}

fn read_line(s: &mut TcpStream, raw: &mut Vec<u8>) -> String {
    let start = raw.len();
    while !raw[start..].ends_with(b"\r\n") {
        read_byte(s, raw);
    }
    String::from_utf8(raw[start..raw.len() - 2].to_vec()).unwrap()
}

/// Reads one response: Content-Length, chunked, or (without either, when
/// the response may have a body) close-delimited. `head_request`: the
/// request was HEAD, so there is no body whatever the headers say.
pub fn read_message(s: &mut TcpStream, head_request: bool) -> Response {
    let mut raw = Vec::new();
    while !raw.ends_with(b"\r\n\r\n") {
        read_byte(s, &mut raw);
    }
    let head = String::from_utf8(raw.clone()).unwrap();
    let status: u16 = head[9..12].parse().unwrap();
    let mut body = Vec::new();
    let bodiless = head_request || status < 200 || status == 204 || status == 304;
    if bodiless {
    } else if let Some(len) = header(&head, "content-length") {
        body = vec![0u8; len.parse().unwrap()];
        s.read_exact(&mut body).unwrap();
        raw.extend_from_slice(&body);
    } else if header(&head, "transfer-encoding") == Some("chunked") {
        loop {
            let line = read_line(s, &mut raw);
            let size = usize::from_str_radix(line.split(';').next().unwrap(), 16).unwrap();
            if size == 0 {
                while !read_line(s, &mut raw).is_empty() {}
                break;
            }
            let mut chunk = vec![0u8; size];
            s.read_exact(&mut chunk).unwrap();
            raw.extend_from_slice(&chunk);
            body.extend_from_slice(&chunk);
            assert!(read_line(s, &mut raw).is_empty(), "chunk data not followed by CRLF");
        }
    } else {
        body = read_to_eof(s);
        raw.extend_from_slice(&body);
    }
    Response { status, head, body, raw }
}

/// Reads one response with a Content-Length body (or none) from `s`.
pub fn read_response(s: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let r = read_message(s, false);
    (r.status, r.head, r.body)
}

/// Sends `raw` on a new connection and reads one response.
pub fn exchange(addr: SocketAddr, raw: &[u8]) -> Response {
    let mut s = connect(addr);
    s.write_all(raw).unwrap();
    read_message(&mut s, raw.starts_with(b"HEAD "))
}

/// Runs `program args`; `None` (with a note on stderr) if it is not installed.
fn run_tool(program: &str, args: &[&str]) -> Option<Output> {
    match Command::new(program).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            eprintln!("SKIPPED: {program} is not installed");
            None
        }
        Err(e) => panic!("cannot run {program}: {e}"),
    }
}

/// Runs curl quietly with `args`; `None` if curl is missing (skip the test).
pub fn curl(args: &[&str]) -> Option<Output> {
    let mut all = vec!["--silent", "--show-error", "--max-time", "10"];
    all.extend_from_slice(args);
    let out = run_tool("curl", &all)?;
    assert!(out.status.success(), "curl {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(out)
}

/// Runs a Python 3 program given `args` as `sys.argv[1:]`; `None` if
/// python3 is missing. Its stdout is returned as text.
pub fn python(code: &str, args: &[&str]) -> Option<String> {
    let mut all = vec!["-c", code];
    all.extend_from_slice(args);
    let out = run_tool("python3", &all)?;
    assert!(out.status.success(), "python failed: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap())
}

/// Unescapes `\r`, `\n`, `\t`, `\\`, `\0`, `\xNN`, and `\{N}` (the byte
/// before, N more times): the corpus notation.
pub fn unescape(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match bytes.next() {
            Some(b'r') => out.push(b'\r'),
            Some(b'n') => out.push(b'\n'),
            Some(b't') => out.push(b'\t'),
            Some(b'0') => out.push(0),
            Some(b'\\') => out.push(b'\\'),
            Some(b'{') => {
                let count: String = bytes.by_ref().take_while(|&b| b != b'}').map(char::from).collect();
                let last = *out.last().expect("\\{N} after nothing");
                out.extend(std::iter::repeat_n(last, count.parse().unwrap()));
            }
            Some(b'x') => {
                let hex = [bytes.next().unwrap(), bytes.next().unwrap()];
                out.push(u8::from_str_radix(std::str::from_utf8(&hex).unwrap(), 16).unwrap());
            }
            other => panic!("bad escape \\{:?} in {text:?}", other.map(|b| b as char)),
        }
    }
    out
}

/// Makes the next close send RST instead of FIN (SO_LINGER with 0 s).
pub fn linger_zero(s: &TcpStream) {
    let l = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a valid socket and a correctly sized option value.
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(s),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as u32,
        )
    };
    assert_eq!(rc, 0);
}
