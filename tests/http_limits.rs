//! Size limits answered over the wire: a head over 8 KiB and more than 100
//! header fields get 431, a body over 1 MiB gets 413 whether declared or
//! grown chunk by chunk; each answer says `Connection: close` and closes.

mod http_support;

use std::io::Write;
use std::net::Shutdown;
use std::thread;

use http_support::*;

fn assert_refused(raw: &[u8], status: u16) {
    let server = hello();
    let text = exchange_until_close(server.addr, raw);
    assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
    assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
}

#[test]
fn a_head_over_8_kib_gets_431_and_close() {
    let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    raw.resize(8300, b'a');
    raw.extend_from_slice(b"\r\n\r\n");
    assert_refused(&raw, 431);
    // Also when the head never ends: the server stops at the limit.
    let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    raw.resize(20_000, b'a');
    assert_refused(&raw, 431);
}

#[test]
fn a_head_just_under_8_kib_is_served() {
    let server = hello();
    let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ".to_vec();
    raw.resize(8192 - 4, b'a');
    raw.extend_from_slice(b"\r\n\r\n");
    assert_eq!(exchange(server.addr, &raw).status, 200);
}

fn with_headers(n: usize) -> Vec<u8> {
    let mut raw = b"GET / HTTP/1.1\r\nHost: x\r\n".to_vec();
    for i in 1..n {
        raw.extend_from_slice(format!("X-H{i}: {i}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    raw
}

#[test]
fn one_hundred_and_one_header_fields_get_431_and_one_hundred_pass() {
    assert_refused(&with_headers(101), 431);
    let server = hello();
    assert_eq!(exchange(server.addr, &with_headers(100)).status, 200);
}

#[test]
fn a_declared_body_over_1_mib_gets_413_before_it_is_sent() {
    assert_refused(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n", 413);
    let server = hello();
    let mut s = connect(server.addr);
    let body = vec![b'b'; 1 << 20];
    s.write_all(format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes())
        .unwrap();
    s.write_all(&body).unwrap();
    let r = read_message(&mut s, false);
    assert_eq!((r.status, r.body.len()), (200, 1 << 20));
}

#[test]
fn a_chunked_body_growing_past_1_mib_gets_413_and_close() {
    let server = hello();
    let mut s = connect(server.addr);
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    // 64 KiB chunks, 17 of them: the 17th passes the limit. Written from
    // a thread, because the server stops reading once it refused.
    let mut writer = s.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let chunk = [b'c'; 65536];
        for _ in 0..17 {
            if writer
                .write_all(b"10000\r\n")
                .and_then(|_| writer.write_all(&chunk))
                .and_then(|_| writer.write_all(b"\r\n"))
                .is_err()
            {
                return;
            }
        }
        let _ = writer.shutdown(Shutdown::Write);
    });
    let text = String::from_utf8_lossy(&read_to_eof(&mut s)).into_owned();
    sender.join().unwrap();
    assert!(text.starts_with("HTTP/1.1 413 Content Too Large\r\n"), "{text}");
    assert!(text.contains("\r\nConnection: close\r\n"), "{text}");
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
}
