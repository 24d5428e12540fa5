//! A handler that takes requests in batches (`on_requests`): the requests
//! one loop turn produced arrive in one call, each answered in order, and
//! the stats count one host call per batch.

mod http_support;

use std::io::Write;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use c10k::http::server::{Body, HttpConfig, HttpHandler, Request, reply};
use http_support::*;

/// Answers `GET /n` with `n`; `/later` from another thread; `/none` not at all.
struct Batched {
    sizes: Arc<Mutex<Vec<usize>>>,
}

impl HttpHandler for Batched {
    fn on_request(&self, _req: &mut Request<'_>) {
        unreachable!("a batched handler gets on_requests");
    }
    fn batched(&self) -> bool {
        true
    }
    fn on_requests(&self, reqs: &mut [Request<'_>]) {
        self.sizes.lock().unwrap().push(reqs.len());
        for req in reqs {
            match req.path() {
                b"/none" => {}
                b"/later" => {
                    let reply = req.defer().unwrap();
                    thread::spawn(move || reply::send(reply, 200, &[], Body::Bytes(b"later")).unwrap());
                }
                path => {
                    let body = path[1..].to_vec();
                    req.respond(200, &[], Body::Bytes(&body)).unwrap();
                }
            }
        }
    }
}

fn batched_server() -> (Server, Arc<Mutex<Vec<usize>>>) {
    let sizes = Arc::new(Mutex::new(Vec::new()));
    (serve(HttpConfig::default(), Batched { sizes: sizes.clone() }), sizes)
}

#[test]
fn requests_of_one_turn_arrive_in_one_call() {
    let (server, sizes) = batched_server();
    let mut clients: Vec<_> = (0..20).map(|_| connect(server.addr)).collect();
    // Every connection accepted and served once before the measured turn.
    for (i, s) in clients.iter_mut().enumerate() {
        s.write_all(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
        assert_eq!(read_response(s).2, i.to_string().as_bytes());
    }
    sizes.lock().unwrap().clear();
    let before = server.handle.stats();
    // Hold the loop while all twenty requests arrive: its next wait sees them all.
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    server.handle.post(Box::new(move |_| {
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
    }));
    held_rx.recv().unwrap();
    for (i, s) in clients.iter_mut().enumerate() {
        s.write_all(format!("GET /again{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
    }
    go_tx.send(()).unwrap();
    for (i, s) in clients.iter_mut().enumerate() {
        assert_eq!(read_response(s).2, format!("again{i}").as_bytes());
    }
    assert_eq!(*sizes.lock().unwrap(), vec![20]);
    let after = server.handle.stats();
    assert_eq!(after.requests - before.requests, 20);
    assert_eq!(after.request_callbacks - before.request_callbacks, 1);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let (server, _) = batched_server();
    let mut s = connect(server.addr);
    let mut burst = Vec::new();
    for i in 0..16 {
        let path = if i % 5 == 3 { "later".to_string() } else { i.to_string() };
        burst.extend_from_slice(format!("GET /{path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
    }
    s.write_all(&burst).unwrap();
    for i in 0..16 {
        let (status, _, body) = read_response(&mut s);
        assert_eq!(status, 200);
        let expected = if i % 5 == 3 { "later".to_string() } else { i.to_string() };
        assert_eq!(body, expected.as_bytes());
    }
}

#[test]
fn a_request_left_unanswered_gets_500_and_the_connection_goes_on() {
    let (server, _) = batched_server();
    let mut s = connect(server.addr);
    s.write_all(b"GET /none HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).0, 500);
    assert_eq!(read_response(&mut s).2, b"next");
}
