//! The memory budget of buffered bodies and the minimum body rate, under
//! the attack they exist for: 1,000 clients each send all but the last 100
//! bytes of a 1 MiB body, then trickle. The server's memory stays bounded
//! (bodies past the budget get 503 before they are read), every trickling
//! connection is cut with 408 by the rate rule (the idle timeout is set far
//! beyond the test), and other clients keep being served throughout.

mod http_support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

use c10k::http::server::{HttpConfig, MinRate};
use http_support::*;

const CLIENTS: usize = 1000;
const BODY: usize = 1 << 20;
const SENT: usize = BODY - 100;

fn raise_fd_limit() {
    let limit = libc::rlimit { rlim_cur: 8192, rlim_max: 8192 };
    // SAFETY: plain setrlimit call.
    unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
}

fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:")).unwrap().trim().trim_end_matches(" kB").parse().unwrap();
    kb * 1024
}

/// One attacking client: its socket and how much of its request is out.
struct Attacker {
    s: TcpStream,
    sent: usize,
    /// The server ended the exchange (answered or closed).
    done: bool,
}

#[test]
fn a_thousand_nearly_complete_bodies_stay_within_the_budget_and_trickles_are_cut() {
    raise_fd_limit();
    let config = HttpConfig {
        // The test's own window: 1 s grace, 1 s windows; the idle timeout
        // between reads is far beyond the test, so only the rate can cut.
        min_body_rate: MinRate { bytes_per_sec: 240, grace_ms: 1_000, window_ms: 1_000 },
        body_timeout_ms: 600_000,
        ..HttpConfig::default()
    };
    let server = serve(config, Hello);
    let before = rss_bytes();

    let head = format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {BODY}\r\n\r\n");
    let mut request = head.into_bytes();
    let head_len = request.len();
    request.resize(head_len + SENT, b'x');
    let mut clients: Vec<Attacker> = (0..CLIENTS)
        .map(|_| {
            let s = TcpStream::connect(server.addr).unwrap();
            s.set_nonblocking(true).unwrap();
            Attacker { s, sent: 0, done: false }
        })
        .collect();

    // Send all but the last 100 bytes, and a byte every 10 s after, until
    // every attacker has been answered; meanwhile a well-behaved client
    // asks for / again and again, and the server's memory is sampled.
    let start = Instant::now();
    let mut peak = before;
    let mut served = 0;
    let mut slowest = Duration::ZERO;
    let mut last_trickle = Instant::now();
    let mut answers = Vec::new();
    while clients.iter().any(|c| !c.done) {
        assert!(start.elapsed() < Duration::from_secs(120), "attackers still connected after two minutes");
        let trickle = last_trickle.elapsed() >= Duration::from_secs(10);
        if trickle {
            last_trickle = Instant::now();
        }
        for c in clients.iter_mut().filter(|c| !c.done) {
            let total = head_len + SENT;
            if c.sent < total {
                match c.s.write(&request[c.sent..total]) {
                    Ok(n) => c.sent += n,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(_) => c.sent = total, // refused and closed: read the answer below
                }
            } else if trickle {
                let _ = c.s.write(b"x");
            }
            let mut buf = [0u8; 512];
            match c.s.read(&mut buf) {
                Ok(0) => c.done = true,
                Ok(n) => {
                    answers.push(String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_string());
                    c.done = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(_) => c.done = true,
            }
        }
        peak = peak.max(rss_bytes());
        let asked = Instant::now();
        let mut normal = connect(server.addr);
        normal.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let reply = String::from_utf8_lossy(&read_to_eof(&mut normal)).into_owned();
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "a normal request got {reply:?}");
        served += 1;
        slowest = slowest.max(asked.elapsed());
        thread::sleep(Duration::from_millis(20));
    }

    let grown = peak.saturating_sub(before);
    // Figures for docs/RELIABILITY.md (`-- --nocapture`), not assertions.
    eprintln!(
        "RSS +{} MiB at peak; {served} normal requests, slowest {slowest:?}; done in {:?}",
        grown >> 20,
        start.elapsed()
    );
    assert!(grown < 100 << 20, "the process grew by {} MiB", grown >> 20);
    let timeouts = answers.iter().filter(|a| a.starts_with("HTTP/1.1 408 ")).count();
    let refused = answers.iter().filter(|a| a.starts_with("HTTP/1.1 503 ")).count();
    // Bodies are admitted while the budget has room (again once cut bodies
    // free theirs), read, then cut for their rate; the others are refused.
    assert!(timeouts >= 1 && refused >= 1, "{timeouts} cut by the rate rule, {refused} refused");
    assert!(timeouts + refused >= CLIENTS / 2, "{timeouts} cut, {refused} refused of {CLIENTS}: {:?}", &answers[..5]);
    assert!(answers.iter().all(|a| a.starts_with("HTTP/1.1 408 ") || a.starts_with("HTTP/1.1 503 ")), "{answers:?}");
    assert!(served > 0);
    assert_eq!(c10k::http::server::buffered_body_bytes(), 0);
}
