//! Slowloris: 300 connections each sending one byte of a request head every
//! 100 ms. With a 1 s header timeout every one of them is answered 408 and
//! closed, and normal clients are served while they are pending.

mod hostile_support;
mod http_support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use c10k::http::server::HttpConfig;
use http_support::{Hello, read_response, serve};

const SLOW: usize = 300;
const HEAD: &[u8] =
    b"GET / HTTP/1.1\r\nHost: slow\r\nX-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";

struct Slow {
    s: TcpStream,
    sent: usize,
    got: Vec<u8>,
    done: Option<Duration>,
}

#[test]
fn slow_heads_get_408_while_normal_clients_are_served() {
    let config = HttpConfig { header_timeout_ms: 1000, ..HttpConfig::default() };
    let server = serve(config, Hello);
    let addr = server.addr;

    let started = Instant::now();
    let mut slow: Vec<Slow> = (0..SLOW)
        .map(|_| {
            let s = TcpStream::connect(addr).unwrap();
            s.set_nonblocking(true).unwrap();
            Slow { s, sent: 0, got: Vec::new(), done: None }
        })
        .collect();

    // Normal clients, one request per connection, all through the attack.
    let stop = Arc::new(AtomicBool::new(false));
    let normal = {
        let stop = stop.clone();
        thread::spawn(move || {
            let mut served = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let mut c = http_support::connect(addr);
                c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                let (status, _, body) = read_response(&mut c);
                assert_eq!((status, &body[..]), (200, &b"Hello, World!"[..]));
                served.push((t.duration_since(started), t.elapsed()));
                thread::sleep(Duration::from_millis(20));
            }
            served
        })
    };

    // One byte per connection every 100 ms; stop writing to a connection
    // as soon as the server answered it.
    let deadline = started + Duration::from_secs(10);
    while slow.iter().any(|c| c.done.is_none()) && Instant::now() < deadline {
        for c in slow.iter_mut().filter(|c| c.done.is_none()) {
            let mut buf = [0u8; 4096];
            loop {
                match c.s.read(&mut buf) {
                    Ok(0) => {
                        c.done = Some(started.elapsed());
                        break;
                    }
                    Ok(n) => c.got.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(_) => {
                        c.done = Some(started.elapsed());
                        break;
                    }
                }
            }
            if c.done.is_none() && c.got.is_empty() && c.sent < HEAD.len() - 1 {
                if c.s.write(&HEAD[c.sent..c.sent + 1]).is_ok() {
                    c.sent += 1;
                }
            }
        }
        thread::sleep(Duration::from_millis(100));
    }
    let first_close = slow.iter().filter_map(|c| c.done).min().expect("no slow connection closed");
    stop.store(true, Ordering::Relaxed);
    let served = normal.join().unwrap();

    for (i, c) in slow.iter().enumerate() {
        let done =
            c.done.unwrap_or_else(|| panic!("slow connection {i} still open after 10 s ({} bytes sent)", c.sent));
        assert!(c.got.starts_with(b"HTTP/1.1 408 "), "connection {i}: {:?}", String::from_utf8_lossy(&c.got));
        assert!(done >= Duration::from_millis(900), "connection {i} closed after {done:?}, before its header timeout");
        assert!(c.sent < HEAD.len() - 1, "the head completed: the timeout is per head, not per byte");
    }
    // Normal requests went through while all 300 slow heads were pending,
    // and each was answered quickly.
    let during: Vec<_> = served.iter().filter(|(at, _)| *at < first_close).collect();
    assert!(during.len() >= 10, "only {} normal requests served while the slow ones were pending", during.len());
    let slowest = served.iter().map(|(_, took)| *took).max().unwrap();
    assert!(slowest < Duration::from_millis(500), "a normal request took {slowest:?}");

    let stats = server.handle.stats();
    assert!(stats.timeouts >= SLOW as u64, "{stats:?}");
    assert!(hostile_support::wait_until(Duration::from_secs(5), || server.handle.stats().open_connections == 0));
}
