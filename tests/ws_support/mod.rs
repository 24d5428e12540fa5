//! WebSocket tests' helpers: a server whose handler records every event
//! and hands out the handles, and a raw client that speaks frames by hand.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::Duration;

use c10k::http::server::{HttpConfig, HttpHandler, Request};
use c10k::net::ListenOptions;
use c10k::ws::{self, WsConfig, WsCtx, WsHandler, WsId};
use c10k::{Loop, LoopHandle};

/// The fuzz target's frame builder, so the tests mask frames the same way.
#[path = "../../fuzz/src/ws_frames.rs"]
mod frames;

/// What the server's WebSocket handler saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Open(WsId),
    Message(WsId, Vec<u8>, bool),
    Pong(WsId, Vec<u8>),
    Drain(WsId),
    Close(WsId, u16, Vec<u8>),
}

struct Recorder {
    events: Sender<Seen>,
    echo: bool,
}

impl WsHandler for Recorder {
    fn on_open(&mut self, cx: &WsCtx<'_>) {
        let _ = self.events.send(Seen::Open(cx.ws));
    }
    fn on_message(&mut self, cx: &WsCtx<'_>, data: &[u8], binary: bool) {
        if self.echo {
            let kind = if binary { ws::Opcode::Binary } else { ws::Opcode::Text };
            ws::send(cx.ws, kind, data).unwrap();
        }
        let _ = self.events.send(Seen::Message(cx.ws, data.to_vec(), binary));
    }
    fn on_pong(&mut self, cx: &WsCtx<'_>, data: &[u8]) {
        let _ = self.events.send(Seen::Pong(cx.ws, data.to_vec()));
    }
    fn on_drain(&mut self, cx: &WsCtx<'_>) {
        let _ = self.events.send(Seen::Drain(cx.ws));
    }
    fn on_close(&mut self, cx: &WsCtx<'_>, code: u16, reason: &[u8]) {
        let _ = self.events.send(Seen::Close(cx.ws, code, reason.to_vec()));
    }
}

struct Accept {
    config: WsConfig,
    events: Sender<Seen>,
    echo: bool,
}

impl HttpHandler for Accept {
    fn on_request(&self, req: &mut Request<'_>) {
        let handler = Box::new(Recorder { events: self.events.clone(), echo: self.echo });
        let _ = ws::accept(req, &self.config, None, &[], 0, handler);
    }
}

/// A WebSocket server on a loop thread; dropping it stops the loop.
pub struct WsServer {
    pub addr: SocketAddr,
    pub handle: LoopHandle,
    pub events: Receiver<Seen>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for WsServer {
    fn drop(&mut self) {
        self.handle.stop();
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl WsServer {
    pub fn start(config: WsConfig, echo: bool) -> WsServer {
        let (tx, events) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        let thread = thread::spawn(move || {
            let lp = Loop::new().unwrap();
            let accept = Accept { config, events: tx, echo };
            let id = lp
                .http_listen(
                    &"127.0.0.1:0".parse().unwrap(),
                    &ListenOptions::default(),
                    HttpConfig::default(),
                    Box::new(accept),
                )
                .unwrap();
            ready_tx.send((lp.listener_addr(id).unwrap(), lp.handle())).unwrap();
            lp.run().unwrap();
        });
        let (addr, handle) = ready.recv().unwrap();
        WsServer { addr, handle, events, thread: Some(thread) }
    }

    /// The next event, waiting up to 10 s.
    pub fn next(&self) -> Seen {
        self.events.recv_timeout(Duration::from_secs(10)).expect("no event from the server")
    }

    /// Waits for the next `Open` and returns its handle.
    pub fn opened(&self) -> WsId {
        match self.next() {
            Seen::Open(ws) => ws,
            other => panic!("expected an open, got {other:?}"),
        }
    }
}

/// A client speaking frames over a plain socket.
pub struct Client {
    pub s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        s.write_all(
            b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .unwrap();
        let mut c = Client { s, buf: Vec::new() };
        let end = loop {
            if let Some(i) = c.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            c.fill();
        };
        let head = String::from_utf8_lossy(&c.buf[..end]).into_owned();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(head.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), "{head}");
        c.buf.drain(..end);
        c
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 65536];
        let n = self.s.read(&mut chunk).expect("read");
        assert!(n > 0, "the server closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// Sends a masked frame.
    pub fn send(&mut self, opcode: u8, fin: bool, payload: &[u8]) {
        let mut out = Vec::new();
        frames::client_frame(&mut out, opcode, fin, payload, [0x12, 0x34, 0x56, 0x78]);
        self.s.write_all(&out).unwrap();
    }

    /// The next frame from the server: (opcode, payload); all must be final.
    pub fn recv(&mut self) -> (u8, Vec<u8>) {
        loop {
            if let Some((opcode, payload, used)) = parse(&self.buf) {
                self.buf.drain(..used);
                return (opcode, payload);
            }
            self.fill();
        }
    }

    /// Whether the server closes the connection (EOF) within 10 s.
    pub fn closed(&mut self) -> bool {
        let mut chunk = [0u8; 4096];
        loop {
            match self.s.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(_) => return false,
            }
        }
    }
}

/// One unmasked server frame at the start of `buf`: (opcode, payload, bytes used).
fn parse(buf: &[u8]) -> Option<(u8, Vec<u8>, usize)> {
    if buf.len() < 2 {
        return None;
    }
    assert_eq!(buf[0] & 0xf0, 0x80, "a final frame without reserved bits");
    assert_eq!(buf[1] & 0x80, 0, "server frames are not masked");
    let (len, off) = match buf[1] & 0x7f {
        126 if buf.len() >= 4 => (u16::from_be_bytes([buf[2], buf[3]]) as usize, 4),
        127 if buf.len() >= 10 => (u64::from_be_bytes(buf[2..10].try_into().unwrap()) as usize, 10),
        126 | 127 => return None,
        n => (n as usize, 2),
    };
    (buf.len() >= off + len).then(|| (buf[0] & 0x0f, buf[off..off + len].to_vec(), off + len))
}
