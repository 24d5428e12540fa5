//! Streaming request bodies (`HttpConfig::stream_bodies`): a 20 MiB upload
//! reaches `on_body` in bounded pieces, and `on_body` returning false stops
//! reading (the client is held back) until `resume_body`.

mod http_support;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use c10k::http::Limits;
use c10k::http::server::{Body, HttpConfig, HttpHandler, Request, reply, resume_body};
use http_support::*;

const UPLOAD: usize = 20 << 20;
/// No piece may be larger than this: the server does not accumulate.
const MAX_PIECE: usize = 1 << 20;

#[derive(Default)]
struct Stats {
    total: AtomicUsize,
    calls: AtomicUsize,
    largest: AtomicUsize,
    sum: AtomicUsize,
    ended: AtomicBool,
}

/// Counts body pieces; pauses after the first when `pause` is set, telling
/// the test through `paused`.
struct Uploads {
    stats: Arc<Stats>,
    pause: bool,
    paused: Mutex<mpsc::Sender<reply::ReplyId>>,
}

impl HttpHandler for Uploads {
    fn on_request(&self, req: &mut Request<'_>) {
        assert!(req.body().is_empty());
        req.defer().unwrap();
    }
    fn on_body(&self, reply: reply::ReplyId, data: &[u8], end: bool) -> bool {
        let s = &self.stats;
        assert!(!s.ended.load(Ordering::SeqCst), "a piece after the end");
        if end {
            assert!(data.is_empty());
            s.ended.store(true, Ordering::SeqCst);
            let text = format!("{} bytes, sum {}", s.total.load(Ordering::SeqCst), s.sum.load(Ordering::SeqCst));
            reply::send(reply, 200, &[], Body::Bytes(text.as_bytes())).unwrap();
            return true;
        }
        s.total.fetch_add(data.len(), Ordering::SeqCst);
        s.sum.fetch_add(data.iter().map(|&b| b as usize).sum::<usize>(), Ordering::SeqCst);
        s.largest.fetch_max(data.len(), Ordering::SeqCst);
        let first = s.calls.fetch_add(1, Ordering::SeqCst) == 0;
        if first && self.pause {
            self.paused.lock().unwrap().send(reply).unwrap();
            return false;
        }
        true
    }
}

fn config() -> HttpConfig {
    HttpConfig {
        stream_bodies: true,
        limits: Limits { max_body_bytes: 64 << 20, ..Limits::default() },
        ..HttpConfig::default()
    }
}

fn payload() -> Vec<u8> {
    (0..UPLOAD).map(|i| (i % 251) as u8).collect()
}

fn expected_answer(body: &[u8]) -> String {
    format!("{} bytes, sum {}", body.len(), body.iter().map(|&b| b as usize).sum::<usize>())
}

fn start(pause: bool) -> (Server, Arc<Stats>, mpsc::Receiver<reply::ReplyId>) {
    let stats = Arc::new(Stats::default());
    let (tx, rx) = mpsc::channel();
    let server = serve(config(), Uploads { stats: stats.clone(), pause, paused: Mutex::new(tx) });
    (server, stats, rx)
}

#[test]
fn a_20_mib_upload_arrives_in_bounded_pieces() {
    let (server, stats, _) = start(false);
    let body = payload();
    let mut s = connect(server.addr);
    let writer = {
        let mut w = s.try_clone().unwrap();
        let body = body.clone();
        thread::spawn(move || {
            w.write_all(format!("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes())
                .unwrap();
            w.write_all(&body).unwrap();
        })
    };
    let r = read_message(&mut s, false);
    writer.join().unwrap();
    assert_eq!(String::from_utf8(r.body).unwrap(), expected_answer(&body));
    assert!(stats.calls.load(Ordering::SeqCst) > 20, "{} pieces", stats.calls.load(Ordering::SeqCst));
    assert!(stats.largest.load(Ordering::SeqCst) <= MAX_PIECE, "a piece of {}", stats.largest.load(Ordering::SeqCst));
}

#[test]
fn a_chunked_upload_streams_too() {
    let (server, stats, _) = start(false);
    let mut s = connect(server.addr);
    let writer = {
        let mut w = s.try_clone().unwrap();
        thread::spawn(move || {
            w.write_all(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
            for _ in 0..64 {
                w.write_all(b"8000\r\n").unwrap();
                w.write_all(&[7u8; 0x8000]).unwrap();
                w.write_all(b"\r\n").unwrap();
            }
            w.write_all(b"0\r\n\r\n").unwrap();
        })
    };
    let r = read_message(&mut s, false);
    writer.join().unwrap();
    assert_eq!(String::from_utf8(r.body).unwrap(), expected_answer(&[7u8; 64 * 0x8000]));
    assert!(stats.calls.load(Ordering::SeqCst) >= 64);
}

#[test]
fn returning_false_pauses_reading_until_resume_body() {
    let (server, stats, paused) = start(true);
    let body = payload();
    let mut s = connect(server.addr);
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let mut w = s.try_clone().unwrap();
        let (body, done) = (body.clone(), done.clone());
        thread::spawn(move || {
            w.write_all(format!("PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes())
                .unwrap();
            w.write_all(&body).unwrap();
            done.store(true, Ordering::SeqCst);
        })
    };
    let reply = paused.recv_timeout(Duration::from_secs(5)).unwrap();
    // While paused: no more pieces, and the server holds the client back
    // (20 MiB cannot fit in the socket buffers, so the writer blocks).
    thread::sleep(Duration::from_millis(300));
    assert_eq!(stats.calls.load(Ordering::SeqCst), 1, "pieces arrived while paused");
    assert!(!done.load(Ordering::SeqCst), "the whole upload was taken while paused");
    assert!(silent_for(&mut s, 10));
    // Resume from another thread.
    thread::spawn(move || resume_body(reply).unwrap()).join().unwrap();
    let r = read_message(&mut s, false);
    writer.join().unwrap();
    assert_eq!(String::from_utf8(r.body).unwrap(), expected_answer(&body));
    assert!(stats.largest.load(Ordering::SeqCst) <= MAX_PIECE);
}
