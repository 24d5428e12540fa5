//! Helpers for the server tests: handlers, and a server started on a free port.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use c10k::ListenOptions;
use c10k::http::server::{Body, HttpConfig, HttpHandler, Request};
use c10k::server::{Server, ServerConfig};

/// Answers `Hello, World!`, or sleeps `ms` first for `/sleep?ms=N`.
pub struct Sleepy;

impl HttpHandler for Sleepy {
    fn on_request(&self, req: &mut Request<'_>) {
        if let Some(ms) = req.query().and_then(|q| std::str::from_utf8(q).ok()?.strip_prefix("ms=")?.parse().ok()) {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        req.respond(200, &[], Body::Bytes(b"Hello, World!")).unwrap();
    }
}

/// A started server with `handler` on 127.0.0.1:0.
pub fn start(config: ServerConfig, handler: Arc<dyn HttpHandler + Send + Sync>) -> (Server, SocketAddr) {
    let server = Server::new(config).unwrap();
    server
        .http_listen("127.0.0.1:0".parse().unwrap(), ListenOptions::default(), HttpConfig::default(), handler)
        .unwrap();
    server.start().unwrap();
    let addr = server.addrs()[0];
    (server, addr)
}

/// One GET over a new connection; returns the status.
pub fn get(addr: SocketAddr, target: &str) -> u16 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(20))).unwrap();
    write!(s, "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    std::str::from_utf8(&out[9..12]).unwrap().parse().unwrap()
}
