//! Helpers for the HTTP tests: a server on its own loop thread with the
//! `hello_http` behaviour, and raw-socket clients.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
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
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let lp = Loop::new().unwrap();
        let id = lp.http_listen(&"127.0.0.1:0".parse().unwrap(), &ListenOptions::default(), config, Box::new(handler)).unwrap();
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
    s
}

/// Sends `raw` and reads until the server closes.
pub fn exchange_until_close(addr: SocketAddr, raw: &[u8]) -> String {
    let mut s = connect(addr);
    s.write_all(raw).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads one response with a Content-Length body (or none) from `s`.
pub fn read_response(s: &mut TcpStream) -> (u16, String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "closed inside a head: {:?}", String::from_utf8_lossy(&buf));
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let status = head[9..12].parse().unwrap();
    let len = head
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap()))
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    (status, head, body)
}
