//! The worker pool: blocking handlers run on pool threads; a slow one does
//! not hold up the others; a full queue answers 503 at once.

mod server_support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use c10k::http::server::{Body, HttpHandler, Request};
use c10k::server::ServerConfig;
use server_support::*;

#[test]
fn a_slow_handler_does_not_delay_other_requests() {
    let config = ServerConfig { loops: 1, workers: 4, ..Default::default() };
    let (server, addr) = start(config, Arc::new(Sleepy));
    let slow = thread::spawn(move || get(addr, "/sleep?ms=3000"));
    thread::sleep(std::time::Duration::from_millis(100));
    for _ in 0..50 {
        assert_eq!(get(addr, "/"), 200);
    }
    assert!(!slow.is_finished(), "the fast requests waited for the slow one");
    assert_eq!(slow.join().unwrap(), 200);
    server.stop(1000).unwrap();
}

/// Tells the test a request arrived on a worker, then blocks it until the
/// test lets it go.
struct Gate {
    entered: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
}

impl HttpHandler for Gate {
    fn on_request(&self, req: &mut Request<'_>) {
        self.entered.lock().unwrap().send(()).unwrap();
        // An error means the test ended early: answer instead of hanging.
        let _ = self.release.lock().unwrap().recv();
        req.respond(200, &[], Body::Bytes(b"let through")).unwrap();
    }
}

#[test]
fn a_full_queue_answers_503_at_once() {
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let gate = Gate { entered: Mutex::new(entered_tx), release: Mutex::new(release_rx) };
    let config = ServerConfig { loops: 1, workers: 1, queue_limit: 1, ..Default::default() };
    let (server, addr) = start(config, Arc::new(gate));
    // Declared after the server, so dropped before it if an assertion fails.
    let release = release;
    let running = thread::spawn(move || get(addr, "/first"));
    entered.recv().unwrap(); // the only worker is busy now
    let queued = thread::spawn(move || get(addr, "/second"));
    while server.stats().1.requests < 2 {
        thread::yield_now();
    }
    // One handler runs, one request waits in the queue: the third is refused.
    assert_eq!(get(addr, "/third"), 503);
    release.send(()).unwrap();
    release.send(()).unwrap();
    assert_eq!(running.join().unwrap(), 200);
    assert_eq!(queued.join().unwrap(), 200);
    let total = server.stats().1;
    assert_eq!(total.pool_rejections, 1);
    assert_eq!(total.responses_5xx, 1);
    server.stop(1000).unwrap();
}

#[test]
fn a_queued_request_whose_client_left_is_skipped() {
    use std::io::Write;
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let gate = Gate { entered: Mutex::new(entered_tx), release: Mutex::new(release_rx) };
    let config = ServerConfig { loops: 1, workers: 1, ..Default::default() };
    let (server, addr) = start(config, Arc::new(gate));
    let release = release;
    let running = thread::spawn(move || get(addr, "/first"));
    entered.recv().unwrap();
    {
        let mut gone = std::net::TcpStream::connect(addr).unwrap();
        gone.write_all(b"GET /second HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        while server.stats().1.requests < 2 {
            thread::yield_now();
        }
    } // closed while its request waits for the busy worker
    while server.stats().1.closed < 1 {
        thread::yield_now();
    }
    release.send(()).unwrap();
    assert_eq!(running.join().unwrap(), 200);
    assert!(entered.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "the abandoned request ran");
    server.stop(1000).unwrap();
}
