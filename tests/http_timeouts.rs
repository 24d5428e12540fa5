//! Timeouts with small values: a head that does not complete in time
//! (slowloris) and a body that stalls get 408 and close; a keep-alive
//! connection that stays idle is closed quietly.

mod http_support;

use std::io::Write;
use std::thread;
use std::time::Duration;

use c10k::http::server::HttpConfig;
use http_support::*;

fn config() -> HttpConfig {
    HttpConfig { header_timeout_ms: 200, body_timeout_ms: 200, keepalive_timeout_ms: 200, ..HttpConfig::default() }
}

fn assert_408_then_eof(s: &mut std::net::TcpStream) {
    let text = String::from_utf8_lossy(&read_to_eof(s)).into_owned();
    assert!(text.starts_with("HTTP/1.1 408 Request Timeout\r\n"), "{text}");
    assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
}

#[test]
fn a_head_that_trickles_in_gets_408_and_close() {
    let server = serve(config(), Hello);
    let mut s = connect(server.addr);
    // A byte every 50 ms keeps the connection busy but never finishes the
    // head: the deadline is for the whole head, not between reads.
    let mut writer = s.try_clone().unwrap();
    let trickle = thread::spawn(move || {
        for b in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
            if writer.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
    });
    assert_408_then_eof(&mut s);
    trickle.join().unwrap();
}

#[test]
fn a_partial_head_that_stalls_gets_408_and_close() {
    let server = serve(config(), Hello);
    let mut s = connect(server.addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost:").unwrap();
    assert_408_then_eof(&mut s);
}

#[test]
fn a_body_that_stalls_gets_408_and_close() {
    let server = serve(config(), Hello);
    let mut s = connect(server.addr);
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc").unwrap();
    assert_408_then_eof(&mut s);
    let mut s = connect(server.addr);
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n").unwrap();
    assert_408_then_eof(&mut s);
}

#[test]
fn an_idle_keep_alive_connection_is_closed_quietly() {
    let server = serve(config(), Hello);
    let mut s = connect(server.addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_message(&mut s, false).status, 200);
    // No bytes at all (no 408 to a client that asked nothing), then EOF.
    assert!(closed_quietly(&mut s));
    // A connection that never sent anything is closed quietly too.
    let mut s = connect(server.addr);
    assert!(closed_quietly(&mut s));
}
