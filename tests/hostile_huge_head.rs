//! A client streams a request head of up to 1 GiB at the server. The server
//! answers 431 once the head passes its limit and closes, without buffering
//! more than the limit: the client stops sending when the server closes.

mod hostile_support;
mod http_support;

use std::io::{Read, Write};
use std::thread;
use std::time::Duration;

use c10k::http::server::HttpConfig;
use hostile_support::rss_bytes;
use http_support::{Hello, serve};

const GIB: u64 = 1 << 30;

#[test]
fn one_gib_of_headers_gets_431_and_a_close() {
    let server = serve(HttpConfig::default(), Hello);
    let rss_before = rss_bytes("self");
    let mut c = http_support::connect(server.addr);
    c.set_write_timeout(Some(Duration::from_secs(10))).unwrap();
    // Read concurrently, so the answer is taken before any reset.
    let mut reader = c.try_clone().unwrap();
    let answer = thread::spawn(move || hostile_support::read_all_lossy(&mut reader));

    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let line = {
        let mut l = b"X-Filler: ".to_vec();
        l.resize(1000, b'a');
        l.extend_from_slice(b"\r\n");
        l
    };
    let block: Vec<u8> = line.iter().copied().cycle().take(line.len() * 64).collect();
    let mut sent = 0u64;
    let mut error = None;
    while sent < GIB {
        match c.write(&block) {
            Ok(n) => sent += n as u64,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let got = answer.join().unwrap();
    eprintln!("sent {} KiB of head before the server closed ({:?})", sent / 1024, error.as_ref().map(|e| e.kind()));
    assert!(error.is_some(), "the server took 1 GiB of head");
    assert!(sent < 64 * 1024 * 1024, "sent {sent} bytes before the server stopped the client");
    assert!(got.starts_with(b"HTTP/1.1 431 "), "{:?}", String::from_utf8_lossy(&got));
    let growth = rss_bytes("self").saturating_sub(rss_before);
    assert!(growth < 16 * 1024 * 1024, "RSS grew by {growth}");
    let stats = server.handle.stats();
    assert_eq!(stats.responses_4xx, 1, "{stats:?}");
    assert!(hostile_support::wait_until(Duration::from_secs(5), || server.handle.stats().open_connections == 0));
}

#[test]
fn many_small_header_fields_get_431() {
    let server = serve(HttpConfig::default(), Hello);
    let mut req = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 0..200 {
        req.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\n");
    let got = http_support::exchange_until_close(server.addr, &req);
    assert!(got.starts_with("HTTP/1.1 431 "), "{got:?}");
    let mut c = http_support::connect(server.addr);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 12];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
}
