//! Graceful shutdown: with 1,000 requests in flight, a stop lets every one
//! of them finish and reach its client, each told that the connection
//! closes; idle connections are closed.

mod server_support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use c10k::http::server::{Body, HttpHandler, Request, reply};
use c10k::server::ServerConfig;
use server_support::*;

/// Set once the stop has begun (the server refuses new connections).
static STOPPING: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

/// Answers every request from a thread of its own, once the stop has
/// begun: every request is in flight when it starts, however slow the
/// machine.
struct Later;

impl HttpHandler for Later {
    fn on_request(&self, req: &mut Request<'_>) {
        let id = req.defer().unwrap();
        thread::spawn(move || {
            let mut stopping = STOPPING.0.lock().unwrap();
            while !*stopping {
                stopping = STOPPING.1.wait(stopping).unwrap();
            }
            drop(stopping);
            reply::send(id, 200, &[], Body::Bytes(b"finished")).unwrap();
        });
    }
}

/// Sets `STOPPING` once `addr` refuses connections: the listeners are
/// closed, which the server does only after marking the pending replies
/// to close their connections.
fn release_when_refused(addr: SocketAddr) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        while TcpStream::connect(addr).is_ok() {
            thread::sleep(Duration::from_millis(5));
        }
        *STOPPING.0.lock().unwrap() = true;
        STOPPING.1.notify_all();
    })
}

fn raise_fd_limit() {
    let limit = libc::rlimit { rlim_cur: 8192, rlim_max: 8192 };
    // SAFETY: plain setrlimit call.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
}

#[test]
fn a_thousand_requests_in_flight_all_finish() {
    raise_fd_limit();
    let (server, addr) = start(ServerConfig { loops: 2, ..Default::default() }, Arc::new(Later));
    let mut clients: Vec<TcpStream> = (0..1000).map(|_| TcpStream::connect(addr).unwrap()).collect();
    for c in &mut clients {
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    }
    let idle = TcpStream::connect(addr).unwrap();
    while server.stats().1.requests < 1000 {
        thread::sleep(Duration::from_millis(5));
    }
    // A deadline far beyond the answers: stop returns as soon as they are
    // out, and a loaded machine cannot turn slowness into lost answers.
    let release = release_when_refused(addr);
    server.stop(60_000).unwrap();
    release.join().unwrap();

    for (i, c) in clients.iter_mut().enumerate() {
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut out = Vec::new();
        c.read_to_end(&mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with("finished"), "client {i} got {text:?}");
        assert!(text.contains("Connection: close"), "client {i} was not told the connection closes");
    }
    let total = server.stats().1;
    assert_eq!(total.responses_2xx, 1000);
    assert_eq!(total.open_connections, 0);
    // The idle keep-alive connection was closed without a response.
    let mut idle = idle;
    let mut out = Vec::new();
    idle.read_to_end(&mut out).unwrap();
    assert!(out.is_empty());
}
