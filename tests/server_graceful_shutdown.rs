//! Graceful shutdown: with 1,000 requests in flight, a stop lets every one
//! of them finish and reach its client; idle connections are closed; a
//! stop requested from a signal handler works.

mod server_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::thread;
use std::time::Duration;

use c10k::http::server::{Body, HttpHandler, Request, reply};
use c10k::server::{Server, ServerConfig};
use server_support::*;

/// Answers every request 300 ms later, from a thread of its own.
struct Later;

impl HttpHandler for Later {
    fn on_request(&self, req: &mut Request<'_>) {
        let id = req.defer().unwrap();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            reply::send(id, 200, &[], Body::Bytes(b"finished")).unwrap();
        });
    }
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
    // A deadline far beyond the 300 ms answers: stop returns as soon as they
    // are out, and a loaded machine cannot turn slowness into lost answers.
    server.stop(60_000).unwrap();

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

static SERVER: AtomicPtr<Server> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn on_sigusr1(_: libc::c_int) {
    // SAFETY: the pointer is set while the server lives; request_stop is async-signal-safe.
    if let Some(server) = unsafe { SERVER.load(Ordering::Acquire).as_ref() } {
        server.request_stop();
    }
}

#[test]
fn a_signal_handler_stops_run_and_wait() {
    // SAFETY: installing a handler that only calls async-signal-safe code.
    unsafe { libc::signal(libc::SIGUSR1, on_sigusr1 as *const () as libc::sighandler_t) };
    for use_run in [true, false] {
        let server = Box::new(Server::new(ServerConfig { loops: 2, ..Default::default() }).unwrap());
        server
            .http_listen("127.0.0.1:0".parse().unwrap(), Default::default(), Default::default(), Arc::new(Sleepy))
            .unwrap();
        SERVER.store(&*server as *const Server as *mut Server, Ordering::Release);
        let server: &'static Server = Box::leak(server);
        let runner =
            thread::spawn(move || if use_run { server.run() } else { server.start().and_then(|()| server.wait()) });
        while server.addrs().is_empty() {
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(get(server.addrs()[0], "/"), 200);
        // SAFETY: sends a signal to this process.
        unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
        runner.join().unwrap().unwrap();
        assert!(TcpStream::connect(server.addrs()[0]).is_err(), "still listening after the stop");
        SERVER.store(std::ptr::null_mut(), Ordering::Release);
    }
}
