//! Every framing rejection, over sockets: each request of
//! `tests/http_corpus/malformed.txt` gets exactly its status with
//! `Connection: close`, and nothing else, then EOF.

mod http_support;

use std::io::Write;

use http_support::*;

struct Case {
    status: u16,
    name: String,
    request: Vec<u8>,
}

fn corpus() -> Vec<Case> {
    let text = include_str!("http_corpus/malformed.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.splitn(3, " | ");
            let (status, name, request) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().expect(l));
            Case { status: status.parse().unwrap(), name: name.to_string(), request: unescape(request) }
        })
        .collect()
}

#[test]
fn the_corpus_is_big_enough_and_covers_every_status() {
    let cases = corpus();
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for status in [400, 413, 414, 431, 501, 505] {
        assert!(cases.iter().any(|c| c.status == status), "no case for {status}");
    }
}

#[test]
fn each_malformed_request_gets_its_status_and_close() {
    let server = hello();
    let mut failures = Vec::new();
    for case in corpus() {
        let mut s = connect(server.addr);
        s.write_all(&case.request).unwrap();
        let raw = read_to_eof(&mut s);
        let text = String::from_utf8_lossy(&raw);
        let want = format!("HTTP/1.1 {} ", case.status);
        let ok = text.starts_with(&want)
            && text.contains("\r\nConnection: close\r\n")
            // Exactly one response: its declared body ends the stream.
            && text.split_once("\r\n\r\n").is_some_and(|(head, body)| header(head, "content-length") == Some(&body.len().to_string()));
        if !ok {
            failures.push(format!("{} (want {}): {:?}", case.name, case.status, text));
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_body_is_never_read_as_the_next_request() {
    let server = serve(c10k::http::server::HttpConfig::default(), Inspect);
    let smuggled = b"GET /secret HTTP/1.1\r\nHost: x\r\n\r\n";
    // Content-Length body, then a chunked one, each carrying a request.
    let mut raw =
        format!("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", smuggled.len())
            .into_bytes();
    raw.extend_from_slice(smuggled);
    let text = exchange_until_close(server.addr, &raw);
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
    assert!(text.ends_with("POST /a HTTP/1.1\nbody 33\nGET /secret HTTP/1.1\r\nHost: x\r\n\r\n\n"), "{text}");

    let mut raw =
        b"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n21\r\n".to_vec();
    raw.extend_from_slice(smuggled);
    raw.extend_from_slice(b"\r\n0\r\n\r\n");
    let text = exchange_until_close(server.addr, &raw);
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
    assert!(!text.contains("GET /secret HTTP/1.1\nbody"), "{text}");
}
