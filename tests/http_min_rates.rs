//! Minimum data rates, one client at a time: a body that arrives fast and
//! then trickles is cut with 408 one window after it slows down; a client
//! that stops reading a large response is cut, one that reads it steadily
//! is not; with the rates off, neither is cut.

mod http_support;

use std::io::{Read, Write};
use std::thread;
use std::time::{Duration, Instant};

use c10k::http::server::{Body, HttpConfig, MinRate};
use http_support::*;

const RULE: MinRate = MinRate { bytes_per_sec: 1000, grace_ms: 1_000, window_ms: 1_000 };

fn config() -> HttpConfig {
    HttpConfig { min_body_rate: RULE, min_response_rate: RULE, body_timeout_ms: 600_000, ..HttpConfig::default() }
}

/// 32 MiB for `GET /big`, more than the kernel's socket buffers hold.
fn big() -> Server {
    serve(
        config(),
        handler(|req| {
            let body = vec![b'b'; 32 << 20];
            req.respond(200, &[], Body::Bytes(&body)).unwrap();
        }),
    )
}

#[test]
fn a_body_that_starts_fast_then_trickles_gets_408() {
    let server = serve(config(), Hello);
    let mut s = connect(server.addr);
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n").unwrap();
    s.write_all(&[b'x'; 50_000]).unwrap();
    let start = Instant::now();
    // Then 100 bytes a second, a tenth of the floor, until the server cuts.
    let mut writer = s.try_clone().unwrap();
    let trickle = thread::spawn(move || {
        while writer.write_all(b"xxxxxxxxxx").is_ok() && start.elapsed() < Duration::from_secs(30) {
            thread::sleep(Duration::from_millis(100));
        }
    });
    let reply = read_to_eof(&mut s);
    trickle.join().unwrap();
    let text = String::from_utf8_lossy(&reply);
    assert!(text.starts_with("HTTP/1.1 408 "), "{text:?}");
    // Cut by the rate rule, long before the 10-minute idle timeout.
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_body_sent_at_a_steady_rate_above_the_floor_is_served() {
    let server = serve(config(), Hello);
    let mut s = connect(server.addr);
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\nConnection: close\r\n\r\n").unwrap();
    // About 20,000 bytes a second for 3 s, past the grace period: twenty
    // times the floor, so that a loaded machine's pauses cannot matter.
    for _ in 0..60 {
        s.write_all(&[b'y'; 1000]).unwrap();
        thread::sleep(Duration::from_millis(50));
    }
    let text = String::from_utf8_lossy(&read_to_eof(&mut s)).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{:?}", &text[..text.len().min(200)]);
    assert!(text.ends_with(&"y".repeat(60000)));
}

#[test]
fn a_client_that_stops_reading_a_large_response_is_cut() {
    let server = big();
    let mut s = connect(server.addr);
    s.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 1024];
    s.read_exact(&mut buf).unwrap();
    let start = Instant::now();
    // Read nothing more until the server gives up on us.
    while server.handle.stats().open_connections > 0 {
        assert!(start.elapsed() < Duration::from_secs(30), "a reader that stopped was never cut");
        thread::sleep(Duration::from_millis(50));
    }
    assert!(server.handle.stats().timeouts >= 1);
}

#[test]
fn a_client_that_reads_steadily_gets_the_whole_response() {
    let server = big();
    let mut s = connect(server.addr);
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut got = 0usize;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match s.read(&mut buf).unwrap() {
            0 => break,
            n => got += n,
        }
        // Slow, but far above the floor: about 10 MB/s.
        thread::sleep(Duration::from_millis(10));
    }
    assert!(got > 32 << 20, "{got} bytes");
}

#[test]
fn with_the_rates_off_a_trickle_is_not_cut() {
    let off = MinRate { bytes_per_sec: 0, ..RULE };
    let server = serve(HttpConfig { min_body_rate: off, min_response_rate: off, ..config() }, Hello);
    let mut s = connect(server.addr);
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nConnection: close\r\n\r\n").unwrap();
    for _ in 0..30 {
        s.write_all(b"z").unwrap();
        thread::sleep(Duration::from_millis(100));
    }
    let text = String::from_utf8_lossy(&read_to_eof(&mut s)).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n") && text.ends_with(&"z".repeat(30)), "{text:?}");
}
