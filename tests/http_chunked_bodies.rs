//! Chunked transfer coding both ways: a chunked request body with
//! extensions and trailers reaches the handler decoded (trailers through
//! `Request::trailers`), and a deferred reply of unknown length goes out as
//! `Transfer-Encoding: chunked`, byte for byte, decodable by curl and Python.

mod http_support;

use std::io::Write;
use std::sync::mpsc;
use std::thread;

use c10k::http::server::{HttpConfig, reply};
use http_support::*;

#[test]
fn a_chunked_request_body_and_its_trailers_reach_the_handler() {
    let server = serve(HttpConfig::default(), Inspect);
    let mut s = connect(server.addr);
    s.write_all(
        b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;name=value\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nX-Checksum: abc123\r\nX-Other:  two words \r\n\r\n",
    )
    .unwrap();
    let r = read_message(&mut s, false);
    assert_eq!(r.status, 200);
    assert_eq!(
        String::from_utf8(r.body).unwrap(),
        "POST /up HTTP/1.1\nbody 11\nhello world\ntrailer X-Checksum: abc123\ntrailer X-Other: two words\n"
    );
    // The connection carries on after the trailers.
    s.write_all(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let r = read_message(&mut s, false);
    assert_eq!(String::from_utf8(r.body).unwrap(), "GET /next HTTP/1.1\nbody 0\n\n");
}

#[test]
fn curl_uploads_a_chunked_body() {
    let server = serve(HttpConfig::default(), Inspect);
    let url = format!("http://{}/curl", server.addr);
    let Some(out) = curl(&["-H", "Transfer-Encoding: chunked", "--data-binary", "from curl", &url]) else { return };
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "POST /curl HTTP/1.1\nbody 9\nfrom curl\n");
}

/// Defers every request and streams `pieces` from another thread.
fn streaming_server(pieces: &'static [&'static [u8]]) -> Server {
    let (tx, rx) = mpsc::channel::<reply::ReplyId>();
    thread::spawn(move || {
        for id in rx {
            reply::start(id, 200, &[(b"Content-Type", b"text/plain")], None).unwrap();
            for piece in pieces {
                reply::write(id, piece).unwrap();
            }
            reply::end(id).unwrap();
        }
    });
    let tx = std::sync::Mutex::new(tx);
    serve(HttpConfig::default(), handler(move |req| tx.lock().unwrap().send(req.defer().unwrap()).unwrap()))
}

const PIECES: &[&[u8]] = &[b"Hello", b"", b", chunked ", b"World!", &[b'x'; 300]];

#[test]
fn a_reply_of_unknown_length_is_sent_chunked_byte_for_byte() {
    let server = streaming_server(PIECES);
    let mut s = connect(server.addr);
    for _ in 0..2 {
        s.write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let r = read_message(&mut s, false);
        let x300 = "x".repeat(300);
        // An empty write sends nothing: an empty chunk would end the body.
        assert_eq!(
            r.without_date(),
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: *\r\nTransfer-Encoding: chunked\r\n\r\n\
                 5\r\nHello\r\na\r\n, chunked \r\n6\r\nWorld!\r\n12c\r\n{x300}\r\n0\r\n\r\n"
            )
        );
    }
}

#[test]
fn curl_and_python_decode_the_chunked_reply() {
    let server = streaming_server(PIECES);
    let expected = format!("Hello, chunked World!{}", "x".repeat(300));
    let url = format!("http://{}/stream", server.addr);
    if let Some(out) = curl(&["--include", &url]) {
        let text = String::from_utf8(out.stdout).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("Transfer-Encoding: chunked"), "{head}");
        assert_eq!(body, expected);
    }
    let code = "import http.client, sys\n\
        c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]))\n\
        for _ in range(2):\n    c.request('GET', '/stream')\n    r = c.getresponse()\n    print(r.status, r.getheader('Transfer-Encoding'), r.read().decode())\n";
    let port = server.addr.port().to_string();
    if let Some(out) = python(code, &["127.0.0.1", &port]) {
        assert_eq!(out, format!("200 chunked {expected}\n200 chunked {expected}\n"));
    }
}
