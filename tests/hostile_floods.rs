//! Floods of misbehaving connections: 20,000 connect-and-close cycles,
//! clients that reset in the middle of a large response, half-open clients.
//! The server stays healthy: it serves the next client and its count of
//! open connections returns to 0.

mod hostile_support;
mod http_support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::Duration;

use c10k::http::server::{Body, HttpConfig, HttpHandler, Request};
use hostile_support::wait_until;
use http_support::{Hello, linger_zero, read_response, serve};

/// `GET /big`: 4 MiB from memory; anything else: as `hello_http`.
struct Big;

impl HttpHandler for Big {
    fn on_request(&self, req: &mut Request<'_>) {
        if req.path() == b"/big" {
            let body = vec![b'x'; 4 * 1024 * 1024];
            req.respond(200, &[], Body::Bytes(&body)).unwrap();
        } else {
            Hello.on_request(req);
        }
    }
}

fn healthy(server: &http_support::Server) {
    let mut c = http_support::connect(server.addr);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c).0, 200);
    drop(c);
    let ok = wait_until(Duration::from_secs(10), || server.handle.stats().open_connections == 0);
    assert!(ok, "connections left open: {:?}", server.handle.stats());
}

#[test]
fn twenty_thousand_connect_and_close_cycles() {
    let server = serve(HttpConfig::default(), Hello);
    let addr = server.addr;
    // Four threads; half the closes are resets, which also keeps the
    // client side's TIME_WAIT sockets (and its ephemeral ports) in check.
    let threads: Vec<_> = (0..4)
        .map(|t| {
            thread::spawn(move || {
                for i in 0..5000 {
                    let s = TcpStream::connect(addr).unwrap();
                    if (i + t) % 2 == 0 {
                        linger_zero(&s);
                    }
                    drop(s);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // A connection reset while still in the backlog may be dropped by the
    // kernel before accept (ECONNABORTED): nearly all are accepted.
    let ok = wait_until(Duration::from_secs(10), || server.handle.stats().accepted >= 19_900);
    assert!(ok, "{:?}", server.handle.stats());
    thread::sleep(Duration::from_millis(200));
    healthy(&server);
    let stats = server.handle.stats();
    assert_eq!(stats.accepted, stats.closed);
    assert_eq!(stats.requests, 1, "{stats:?}");
}

#[test]
fn reset_in_the_middle_of_a_response() {
    let server = serve(HttpConfig::default(), Big);
    for i in 0..200 {
        let mut c = http_support::connect(server.addr);
        c.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut buf = vec![0u8; 1 + i * 997 % 65536];
        c.read_exact(&mut buf).unwrap();
        linger_zero(&c);
        drop(c);
    }
    healthy(&server);
}

#[test]
fn half_open_clients_still_get_their_answer() {
    let server = serve(HttpConfig::default(), Big);
    for i in 0..100 {
        let mut c = http_support::connect(server.addr);
        // Two pipelined requests, then the client says it will send no more.
        c.write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nping",
        )
        .unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let (s1, _, b1) = read_response(&mut c);
        let (s2, _, b2) = read_response(&mut c);
        assert_eq!((s1, &b1[..], s2, &b2[..]), (200, &b"Hello, World!"[..], 200, &b"ping"[..]), "client {i}");
        // Then the server closes its side too.
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }
    // A large response to a half-open client is sent whole.
    let mut c = http_support::connect(server.addr);
    c.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let (status, _, body) = read_response(&mut c);
    assert_eq!((status, body.len()), (200, 4 * 1024 * 1024));
    healthy(&server);
}
