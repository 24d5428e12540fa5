//! Bytes of other protocols on the plain HTTP/1.1 port: a TLS ClientHello,
//! the HTTP/2 connection preface, SSH and binary noise each get a clean
//! close or a 4xx/505 answer, nothing else; the server keeps serving.

mod hostile_support;
mod http_support;

use std::io::Write;
use std::time::Duration;

use c10k::http::server::HttpConfig;
use http_support::{Hello, read_response, serve};

/// A TLS 1.2/1.3 ClientHello record for "localhost" (as curl sends it, trimmed).
fn client_hello() -> Vec<u8> {
    let mut hello = vec![0x03, 0x03];
    hello.extend_from_slice(&[0x11; 32]); // random
    hello.push(0); // session id
    hello.extend_from_slice(&[0x00, 0x04, 0x13, 0x01, 0x13, 0x02]); // cipher suites
    hello.extend_from_slice(&[0x01, 0x00]); // compression: null
    let sni = b"localhost";
    let mut ext = vec![0x00, 0x00];
    let list_len = sni.len() + 3;
    ext.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
    ext.extend_from_slice(&(list_len as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    ext.extend_from_slice(sni);
    hello.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    hello.extend_from_slice(&ext);
    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

fn assert_clean_refusal(name: &str, raw: &[u8]) {
    let server = serve(HttpConfig { header_timeout_ms: 2000, ..HttpConfig::default() }, Hello);
    let mut c = http_support::connect(server.addr);
    c.write_all(raw).unwrap();
    let got = hostile_support::read_all_lossy(&mut c);
    let text = String::from_utf8_lossy(&got);
    let ok = got.is_empty()
        || (got.starts_with(b"HTTP/1.1 4") || got.starts_with(b"HTTP/1.1 505 "))
            && text.contains("Connection: close\r\n");
    assert!(ok, "{name}: {text:?}");
    eprintln!("{name}: {}", text.lines().next().unwrap_or("(closed without an answer)"));
    drop(c); // the server lingers until the client closes too
    // Served afterwards; nothing left open.
    let mut c = http_support::connect(server.addr);
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut c).0, 200);
    drop(c);
    assert!(hostile_support::wait_until(Duration::from_secs(5), || server.handle.stats().open_connections == 0));
    assert_eq!(server.handle.stats().responses_5xx, u64::from(got.starts_with(b"HTTP/1.1 505")));
}

#[test]
fn tls_client_hello() {
    assert_clean_refusal("TLS ClientHello", &client_hello());
}

#[test]
fn http2_preface() {
    // The preface followed by an empty SETTINGS frame, as h2 clients send it.
    let mut raw = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    raw.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    assert_clean_refusal("HTTP/2 preface", &raw);
}

#[test]
fn ssh_banner() {
    assert_clean_refusal("SSH banner", b"SSH-2.0-OpenSSH_9.6\r\n");
}

#[test]
fn binary_noise() {
    let noise: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    assert_clean_refusal("noise", &noise);
}
