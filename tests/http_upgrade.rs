//! Upgrade hand-off: a request asking `Connection: Upgrade` is answered 101
//! and the connection goes to the handler's `ConnHandler`, with the bytes
//! that followed the request in the same packet.

mod http_support;

use std::io::{Read, Write};

use c10k::http::server::{Body, HttpConfig};
use c10k::{ConnHandler, ConnId, Loop};
use http_support::*;

/// Echoes bytes, prefixed so an echo cannot be mistaken for HTTP.
struct Echo;

impl ConnHandler for Echo {
    fn on_open(&mut self, lp: &Loop, conn: ConnId) {
        lp.conn_write(conn, b"[echo ready]").unwrap();
    }
    fn on_data(&mut self, lp: &Loop, conn: ConnId, data: &[u8]) {
        lp.conn_write(conn, data).unwrap();
    }
}

fn upgrading_server() -> Server {
    serve(
        HttpConfig::default(),
        handler(|req| {
            // Only a request that asked (`Connection: Upgrade` and an
            // `Upgrade` header) may leave HTTP; any other is refused and
            // HTTP goes on.
            match req.upgrade(&[(b"Connection", b"Upgrade"), (b"Upgrade", b"echo")], Box::new(Echo)) {
                Ok(()) => {}
                Err(e) => {
                    assert_eq!(e, c10k::error::C10K_EINVAL);
                    req.respond(200, &[], Body::Bytes(b"plain")).unwrap();
                }
            }
        }),
    )
}

#[test]
fn the_client_gets_101_then_raw_bytes_echo_including_early_ones() {
    let server = upgrading_server();
    let mut s = connect(server.addr);
    s.write_all(b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly bytes\x00\xff")
        .unwrap();
    let r = read_message(&mut s, true);
    assert_eq!(r.without_date(), "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
    let want = b"[echo ready]early bytes\x00\xff";
    let mut got = vec![0u8; want.len()];
    s.read_exact(&mut got).unwrap();
    assert_eq!(&got[..], &want[..]);
    for msg in [&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], b"more", &[0u8; 5000]] {
        s.write_all(msg).unwrap();
        let mut got = vec![0u8; msg.len()];
        s.read_exact(&mut got).unwrap();
        assert_eq!(got, msg);
    }
    drop(s);
}

#[test]
fn without_upgrade_headers_the_connection_stays_http() {
    let server = upgrading_server();
    let mut s = connect(server.addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    for _ in 0..2 {
        let r = read_message(&mut s, false);
        assert_eq!((r.status, &r.body[..]), (200, &b"plain"[..]));
    }
}

#[test]
fn an_upgrade_request_with_a_body_is_refused_without_a_101() {
    let server = upgrading_server();
    let mut s = connect(server.addr);
    s.write_all(
        b"POST /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\nContent-Length: 4\r\n\r\nbody",
    )
    .unwrap();
    let r = read_message(&mut s, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"plain"[..]), "{}", r.without_date());
    // Still HTTP.
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_message(&mut s, false).body, b"plain");
}
