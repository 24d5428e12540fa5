//! A streamed deferred reply written from another thread is told when the
//! client falls behind (`reply::write` returns true) and when to go on
//! (`on_drain`), so a slow client never makes the server buffer the stream.

mod http_support;

use std::io::Read;
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use c10k::http::server::{HttpConfig, HttpHandler, ReplyId, Request, reply};
use http_support::*;

const TOTAL: usize = 64 * 1024 * 1024;
const PIECE: usize = 256 * 1024;

/// Streams TOTAL bytes from a thread, pausing whenever a write says the
/// queue is full until on_drain arrives; reports the most it wrote ahead.
struct Streamer {
    drained: Mutex<Option<mpsc::Sender<()>>>,
    ahead: Mutex<Option<mpsc::Sender<usize>>>,
}

impl HttpHandler for Streamer {
    fn on_request(&self, req: &mut Request<'_>) {
        let id = req.defer().unwrap();
        let (drain_tx, drain_rx) = mpsc::channel();
        *self.drained.lock().unwrap() = Some(drain_tx);
        let report = self.ahead.lock().unwrap().take().unwrap();
        thread::spawn(move || {
            let length = TOTAL as u64;
            reply::start(id, 200, &[], Some(length)).unwrap();
            let piece = vec![b'x'; PIECE];
            let (mut sent, mut since_full, mut most_ahead) = (0, 0, 0);
            while sent < TOTAL {
                let full = reply::write(id, &piece).unwrap();
                sent += PIECE;
                since_full += PIECE;
                if full {
                    most_ahead = most_ahead.max(since_full);
                    drain_rx.recv_timeout(Duration::from_secs(20)).expect("on_drain never came");
                    since_full = 0;
                }
            }
            reply::end(id).unwrap();
            report.send(most_ahead).unwrap();
        });
    }

    fn on_drain(&self, _reply: ReplyId) {
        if let Some(tx) = self.drained.lock().unwrap().as_ref() {
            let _ = tx.send(());
        }
    }
}

#[test]
fn a_slow_client_pauses_the_writer_instead_of_filling_memory() {
    let (ahead_tx, ahead) = mpsc::channel();
    let streamer = Streamer { drained: Mutex::new(None), ahead: Mutex::new(Some(ahead_tx)) };
    let server = serve(HttpConfig::default(), streamer);
    let mut c = connect(server.addr);
    std::io::Write::write_all(&mut c, b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = 0usize;
    while got < TOTAL {
        if got < 16 * 1024 * 1024 {
            thread::sleep(Duration::from_millis(1)); // slow at first
        }
        let n = c.read(&mut buf).unwrap();
        assert!(n > 0, "the server closed after {got} bytes");
        got += n;
    }
    let most_ahead = ahead.recv_timeout(Duration::from_secs(20)).unwrap();
    assert!(most_ahead > 0, "the writer was never told to wait");
    // Told to wait once past the 1 MiB high-water mark, plus what the
    // kernel's socket buffers took meanwhile (several MiB on loopback): far
    // from the 64 MiB an unchecked writer would queue.
    assert!(most_ahead <= 16 * 1024 * 1024, "the writer got {most_ahead} bytes ahead");
}
