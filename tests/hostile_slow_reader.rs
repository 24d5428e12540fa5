//! A client that reads a 100 MiB response slowly: the server sends it from
//! a file with sendfile as the socket drains, so its memory stays flat
//! whatever the client's pace, and every byte arrives.

mod hostile_support;
mod http_support;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use c10k::http::server::{Body, HttpConfig, HttpHandler, Request};
use hostile_support::rss_bytes;

const SIZE: u64 = 100 * 1024 * 1024;
const BLOCK: usize = 4096;

struct BigFile(std::path::PathBuf);

impl HttpHandler for BigFile {
    fn on_request(&self, req: &mut Request<'_>) {
        let f = OwnedFd::from(File::open(&self.0).unwrap());
        req.respond(200, &[(b"Content-Type", b"application/octet-stream")], Body::File(f, 0, SIZE)).unwrap();
    }
}

#[test]
fn a_slow_reader_of_100_mib_costs_the_server_no_memory() {
    // A file of 100 MiB in 4 KiB blocks, each starting with its own number.
    let path = std::env::temp_dir().join(format!("c10k-slow-reader-{}", std::process::id()));
    {
        let mut f = File::create(&path).unwrap();
        let mut mib = vec![0x5au8; 1024 * 1024];
        for m in 0..SIZE / (1024 * 1024) {
            for (b, block) in mib.chunks_exact_mut(BLOCK).enumerate() {
                block[..8].copy_from_slice(&(m * 256 + b as u64).to_le_bytes());
            }
            f.write_all(&mib).unwrap();
        }
    }
    let server = http_support::serve(HttpConfig::default(), BigFile(path.clone()));

    let rss_before = rss_bytes("self");
    let peak = Arc::new(AtomicU64::new(rss_before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_bytes("self"), Ordering::Relaxed);
                thread::sleep(Duration::from_millis(5));
            }
        })
    };

    let mut c = http_support::connect(server.addr);
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        c.read_exact(&mut byte).unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 200 "));
    assert!(String::from_utf8_lossy(&head).contains(&format!("Content-Length: {SIZE}")));

    // Slow for the first two seconds (16 KiB every 2 ms, about 8 MiB/s),
    // so the server's socket stays full; then as fast as it comes.
    let started = Instant::now();
    let mut buf = vec![0u8; 256 * 1024];
    let (mut got, mut carry, mut next) = (0u64, Vec::<u8>::new(), 0u64);
    while got < SIZE {
        let slow = started.elapsed() < Duration::from_secs(2);
        let want = if slow { 16 * 1024 } else { buf.len() };
        let n = c.read(&mut buf[..want]).unwrap();
        assert!(n > 0, "closed after {got} bytes");
        got += n as u64;
        carry.extend_from_slice(&buf[..n]);
        let whole = carry.len() / BLOCK * BLOCK;
        for block in carry[..whole].chunks_exact(BLOCK) {
            assert_eq!(
                u64::from_le_bytes(block[..8].try_into().unwrap()),
                next,
                "wrong block at offset {}",
                next * BLOCK as u64
            );
            assert!(block[8..].iter().all(|&b| b == 0x5a));
            next += 1;
        }
        carry.drain(..whole);
        if slow {
            thread::sleep(Duration::from_millis(2));
        }
    }
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();

    let growth = peak.load(Ordering::Relaxed).saturating_sub(rss_before);
    eprintln!("100 MiB response: RSS grew by {} KiB at most (client and server share this process)", growth / 1024);
    assert!(growth < 16 * 1024 * 1024, "RSS grew by {growth} bytes while serving 100 MiB");
    // The connection is still usable afterwards.
    c.write_all(b"HEAD /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let rest = hostile_support::read_all_lossy(&mut c);
    assert!(rest.starts_with(b"HTTP/1.1 200 ") && rest.ends_with(b"\r\n\r\n"), "{:?}", String::from_utf8_lossy(&rest));
    let _ = std::fs::remove_file(&path);
    assert!(hostile_support::wait_until(Duration::from_secs(5), || server.handle.stats().open_connections == 0));
}
