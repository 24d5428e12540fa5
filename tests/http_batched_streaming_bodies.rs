//! A batched handler (`on_requests`) with streamed request bodies: the
//! request arrives already deferred in a batch, its body follows through
//! `on_body`, and the answer goes out after the body's end. The upload
//! must arrive whole, with no `on_abort` while the client still sends,
//! and pausing the stream must hold the client back until `resume_body`.

mod http_support;

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use c10k::http::Limits;
use c10k::http::server::{Body, HttpConfig, HttpHandler, Request, reply, resume_body};
use http_support::*;

const UPLOAD: usize = 4 << 20;
const PIECE: usize = 64 << 10;

#[derive(Default)]
struct Seen {
    /// Replies the handler got in a batch.
    batched: Vec<reply::ReplyId>,
    /// Body bytes per reply.
    bytes: HashMap<reply::ReplyId, usize>,
    /// `on_body` calls for a reply no batch had given yet.
    early_pieces: usize,
    aborted: Vec<reply::ReplyId>,
    pieces: usize,
}

/// Keeps each batched request, counts its body, answers the count after
/// the body's end. With `pause`, the first piece pauses the stream and
/// the reply goes to the test through `paused`.
struct BatchedUploads {
    seen: Arc<Mutex<Seen>>,
    pause: bool,
    paused: Mutex<mpsc::Sender<reply::ReplyId>>,
}

impl HttpHandler for BatchedUploads {
    fn on_request(&self, _req: &mut Request<'_>) {
        unreachable!("a batched handler gets on_requests");
    }
    fn batched(&self) -> bool {
        true
    }
    fn on_requests(&self, reqs: &mut [Request<'_>]) {
        let mut seen = self.seen.lock().unwrap();
        for req in reqs {
            assert!(req.body().is_empty());
            let reply = req.defer().unwrap();
            seen.batched.push(reply);
            seen.bytes.entry(reply).or_default();
        }
    }
    fn on_body(&self, reply: reply::ReplyId, data: &[u8], end: bool) -> bool {
        let mut seen = self.seen.lock().unwrap();
        // As a host that keeps its requests in a table: a piece of a
        // request it was not given has nowhere to go.
        let Some(&count) = seen.bytes.get(&reply) else {
            seen.early_pieces += 1;
            return true;
        };
        if end {
            let text = format!("{count} bytes");
            reply::send(reply, 200, &[], Body::Bytes(text.as_bytes())).unwrap();
            return true;
        }
        *seen.bytes.get_mut(&reply).unwrap() += data.len();
        seen.pieces += 1;
        if seen.pieces == 1 && self.pause {
            self.paused.lock().unwrap().send(reply).unwrap();
            return false;
        }
        true
    }
    fn on_abort(&self, reply: reply::ReplyId) {
        self.seen.lock().unwrap().aborted.push(reply);
    }
}

fn config() -> HttpConfig {
    HttpConfig {
        stream_bodies: true,
        limits: Limits { max_body_bytes: 64 << 20, ..Limits::default() },
        ..HttpConfig::default()
    }
}

fn start(pause: bool) -> (Server, Arc<Mutex<Seen>>, mpsc::Receiver<reply::ReplyId>) {
    start_with(config(), pause)
}

fn start_with(config: HttpConfig, pause: bool) -> (Server, Arc<Mutex<Seen>>, mpsc::Receiver<reply::ReplyId>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (tx, rx) = mpsc::channel();
    let server = serve(config, BatchedUploads { seen: seen.clone(), pause, paused: Mutex::new(tx) });
    (server, seen, rx)
}

/// Sends a `Content-Length` upload of `UPLOAD` bytes in `PIECE` writes from
/// its own thread; the thread returns once everything is written.
fn upload(s: &std::net::TcpStream, path: &str) -> thread::JoinHandle<()> {
    let mut w = s.try_clone().unwrap();
    let head = format!("PUT {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {UPLOAD}\r\n\r\n");
    thread::spawn(move || {
        w.write_all(head.as_bytes()).unwrap();
        let piece = [b'u'; PIECE];
        for _ in 0..UPLOAD / PIECE {
            w.write_all(&piece).unwrap();
        }
    })
}

#[test]
fn a_4_mib_upload_to_a_batched_handler_arrives_whole() {
    let (server, seen, _) = start(false);
    let mut s = connect(server.addr);
    let writer = upload(&s, "/up");
    let r = read_message(&mut s, false);
    writer.join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(String::from_utf8(r.body).unwrap(), format!("{UPLOAD} bytes"));
    let seen = seen.lock().unwrap();
    assert!(seen.aborted.is_empty(), "on_abort while the client was sending");
    assert_eq!(seen.batched.len(), 1);
    assert_eq!(seen.early_pieces, 0, "on_body before on_requests gave the request");
}

#[test]
fn the_connection_serves_the_next_upload_after_the_first() {
    let (server, seen, _) = start(false);
    let mut s = connect(server.addr);
    for i in 0..2 {
        let writer = upload(&s, &format!("/up{i}"));
        let r = read_message(&mut s, false);
        writer.join().unwrap();
        assert_eq!(String::from_utf8(r.body).unwrap(), format!("{UPLOAD} bytes"));
    }
    let seen = seen.lock().unwrap();
    assert!(seen.aborted.is_empty(), "on_abort while the client was sending");
    assert_eq!(seen.batched.len(), 2);
}

#[test]
fn a_paused_batched_stream_holds_the_client_back_until_resumed() {
    let (server, seen, paused) = start(true);
    let mut s = connect(server.addr);
    let writer = upload(&s, "/up");
    let reply = paused.recv_timeout(Duration::from_secs(5)).unwrap();
    // While paused: no more pieces, no answer, no abort; 4 MiB cannot fit
    // in the socket buffers, so the writer is still at work.
    thread::sleep(Duration::from_millis(300));
    assert!(silent_for(&mut s, 10));
    assert!(!writer.is_finished(), "the whole upload was taken while paused");
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.pieces, 1, "pieces arrived while paused");
        assert!(seen.aborted.is_empty(), "on_abort while paused");
    }
    thread::spawn(move || resume_body(reply).unwrap()).join().unwrap();
    let r = read_message(&mut s, false);
    writer.join().unwrap();
    assert_eq!(String::from_utf8(r.body).unwrap(), format!("{UPLOAD} bytes"));
    assert!(seen.lock().unwrap().aborted.is_empty());
}

#[test]
fn a_body_that_stops_half_way_gets_408_and_its_reply_is_aborted() {
    let (server, seen, _) = start_with(HttpConfig { body_timeout_ms: 300, ..config() }, false);
    let mut s = connect(server.addr);
    s.write_all(format!("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: {UPLOAD}\r\n\r\n").as_bytes()).unwrap();
    s.write_all(&[b'u'; PIECE]).unwrap();
    // The client sends nothing more: the library gives up on the body.
    let r = read_message(&mut s, false);
    assert_eq!(r.status, 408);
    assert!(closed_quietly(&mut s));
    drop(server);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.batched.len(), 1);
    // The host holds a reply whose body will never end: it must be told.
    assert_eq!(seen.aborted, seen.batched, "the host was not told its streamed request is gone");
}
