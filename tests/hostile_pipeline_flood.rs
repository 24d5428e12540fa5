//! 10,000 pipelined requests from a client that does not read, asking for
//! 20 MiB of responses in all (more than loopback socket buffers hold): the
//! server stops reading once its output queue is full (its memory stays
//! bounded, the client's writes block), and when the client reads at last
//! every response arrives, in order; the 10,000th (the default per-connection
//! budget) closes the connection.

mod hostile_support;
mod http_support;

use std::io::{BufReader, Write};
use std::thread;
use std::time::Duration;

use c10k::http::server::{Body, HttpConfig, HttpHandler, Request};
use hostile_support::rss_bytes;
use http_support::{Hello, serve};

const REQUESTS: usize = 10_000;
const BODY: usize = 2048;

/// `/`: as `hello_http`; `/n/I`: 2 KiB of the digit I % 10.
struct Numbered;

impl HttpHandler for Numbered {
    fn on_request(&self, req: &mut Request<'_>) {
        match req.path().strip_prefix(b"/n/") {
            Some(n) => {
                let digit = n[n.len() - 1];
                req.respond(200, &[], Body::Bytes(&[digit; BODY])).unwrap();
            }
            None => Hello.on_request(req),
        }
    }
}

#[test]
fn ten_thousand_pipelined_requests_without_reading() {
    let server = serve(HttpConfig::default(), Numbered);
    let c = http_support::connect(server.addr);
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let rss_before = rss_bytes("self");

    // Requests carry their number in the path, and their answers its last
    // digit; every tenth asks for `/` (200, "Hello, World!").
    let mut writer = c.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let mut all = Vec::new();
        for i in 0..REQUESTS {
            let path = if i % 10 == 0 { "/".to_string() } else { format!("/n/{i}") };
            write!(all, "GET {path} HTTP/1.1\r\nHost: x\r\nX-Pad: {}\r\n\r\n", "p".repeat(100)).unwrap();
        }
        writer.write_all(&all).unwrap();
        all.len()
    });

    // Not reading for a second: the server has to hold back.
    thread::sleep(Duration::from_secs(1));
    let stalled = server.handle.stats();
    let growth = rss_bytes("self").saturating_sub(rss_before);
    eprintln!(
        "after 1 s without reading: {} requests parsed, {} KiB out, RSS +{} KiB",
        stalled.requests,
        stalled.bytes_out / 1024,
        growth / 1024
    );
    assert!(stalled.requests < REQUESTS as u64, "the server answered everything into memory: {stalled:?}");
    assert!(growth < 16 * 1024 * 1024, "RSS grew by {growth}");

    let mut r = BufReader::new(c);
    for i in 0..REQUESTS {
        let (status, _, body) = read_response_from(&mut r);
        if i % 10 == 0 {
            assert_eq!((status, &body[..]), (200, &b"Hello, World!"[..]), "response {i}");
        } else {
            let digit = b'0' + (i % 10) as u8;
            assert!(status == 200 && body.len() == BODY && body.iter().all(|&b| b == digit), "response {i}");
        }
    }
    let bytes = sender.join().unwrap();
    eprintln!("{REQUESTS} requests ({} KiB) answered in order", bytes / 1024);
    drop(r);
    assert!(hostile_support::wait_until(Duration::from_secs(5), || server.handle.stats().open_connections == 0));
    assert_eq!(server.handle.stats().requests, REQUESTS as u64);
}

fn read_response_from(r: &mut impl std::io::BufRead) -> (u16, String, Vec<u8>) {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        assert!(r.read_line(&mut line).unwrap() > 0, "closed inside a head");
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    let status = head[9..12].parse().unwrap();
    let len = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).unwrap();
    (status, head, body)
}
