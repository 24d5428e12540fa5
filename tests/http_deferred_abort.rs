//! A deferred reply whose client left: `on_abort` runs exactly once for it,
//! and completing it afterwards answers `C10K_ECLOSED`.

mod http_support;

use std::io::Write;
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use c10k::error::C10K_ECLOSED;
use c10k::http::server::{Body, HttpConfig, HttpHandler, Request, reply};
use http_support::*;

struct Deferring {
    deferred: Mutex<mpsc::Sender<reply::ReplyId>>,
    aborted: Mutex<mpsc::Sender<reply::ReplyId>>,
    aborts: Arc<AtomicUsize>,
}

impl HttpHandler for Deferring {
    fn on_request(&self, req: &mut Request<'_>) {
        self.deferred.lock().unwrap().send(req.defer().unwrap()).unwrap();
    }
    fn on_abort(&self, reply: reply::ReplyId) {
        self.aborts.fetch_add(1, Ordering::SeqCst);
        self.aborted.lock().unwrap().send(reply).unwrap();
    }
}

struct Fixture {
    server: Server,
    deferred: mpsc::Receiver<reply::ReplyId>,
    aborted: mpsc::Receiver<reply::ReplyId>,
    aborts: Arc<AtomicUsize>,
}

fn fixture(config: HttpConfig) -> Fixture {
    let (dtx, deferred) = mpsc::channel();
    let (atx, aborted) = mpsc::channel();
    let aborts = Arc::new(AtomicUsize::new(0));
    let handler = Deferring { deferred: Mutex::new(dtx), aborted: Mutex::new(atx), aborts: aborts.clone() };
    Fixture { server: serve(config, handler), deferred, aborted, aborts }
}

fn request(f: &Fixture) -> (TcpStream, reply::ReplyId) {
    let mut s = connect(f.server.addr);
    s.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let id = f.deferred.recv_timeout(Duration::from_secs(5)).unwrap();
    (s, id)
}

fn assert_aborted_once(f: &Fixture, id: reply::ReplyId) {
    assert_eq!(f.aborted.recv_timeout(Duration::from_secs(5)).unwrap(), id);
    // Completing it now, whichever way, answers ECLOSED.
    assert_eq!(reply::send(id, 200, &[], Body::Bytes(b"late")), Err(C10K_ECLOSED));
    assert_eq!(reply::start(id, 200, &[], None), Err(C10K_ECLOSED));
    assert_eq!(reply::end(id), Err(C10K_ECLOSED));
    assert!(f.aborted.recv_timeout(Duration::from_millis(100)).is_err(), "on_abort ran twice");
    assert_eq!(f.aborts.load(Ordering::SeqCst), 1);
}

#[test]
fn a_client_that_resets_aborts_its_reply_once() {
    let f = fixture(HttpConfig::default());
    let (s, id) = request(&f);
    // SO_LINGER 0: close sends RST.
    linger_zero(&s);
    drop(s);
    assert_aborted_once(&f, id);
}

#[test]
fn a_client_that_closes_aborts_its_reply_once() {
    let f = fixture(HttpConfig::default());
    let (s, id) = request(&f);
    drop(s);
    assert_aborted_once(&f, id);
}

#[test]
fn with_answer_half_closed_a_silent_client_is_aborted_after_the_idle_timeout() {
    // A FIN alone may be a half-close still waiting for its answer: the
    // reply is aborted when it makes no progress for the keep-alive time.
    let f = fixture(HttpConfig { keepalive_timeout_ms: 200, answer_half_closed: true, ..HttpConfig::default() });
    let (s, id) = request(&f);
    drop(s);
    assert_aborted_once(&f, id);
}

#[test]
fn with_answer_half_closed_a_half_closed_client_still_gets_its_answer() {
    let f = fixture(HttpConfig { answer_half_closed: true, ..HttpConfig::default() });
    let (mut s, id) = request(&f);
    s.shutdown(std::net::Shutdown::Write).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    reply::send(id, 200, &[], Body::Bytes(b"still here")).unwrap();
    let r = read_message(&mut s, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"still here"[..]));
    assert!(closed_quietly(&mut s));
    assert_eq!(f.aborts.load(Ordering::SeqCst), 0);
}

#[test]
fn a_reply_the_host_aborts_resets_the_connection_without_on_abort() {
    let f = fixture(HttpConfig::default());
    let (mut s, id) = request(&f);
    reply::start(id, 200, &[], None).unwrap();
    reply::write(id, b"half of it").unwrap();
    reply::abort(id).unwrap();
    // The connection ends (RST: what was still queued is dropped) without
    // the last chunk: the client cannot take this for a whole response.
    let mut got = Vec::new();
    let _ = std::io::Read::read_to_end(&mut s, &mut got);
    let text = String::from_utf8_lossy(&got);
    assert!(!text.contains("0\r\n\r\n"), "the response looks complete: {text:?}");
    assert_eq!(reply::abort(id), Err(C10K_ECLOSED));
    assert_eq!(reply::end(id), Err(C10K_ECLOSED));
    assert!(f.aborted.recv_timeout(Duration::from_millis(200)).is_err(), "on_abort ran for a reply the host aborted");
}
