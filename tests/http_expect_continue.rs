//! `Expect: 100-continue`: the server says `100 Continue` before the client
//! sends the body, then answers; requests without a body, and HTTP/1.0
//! requests, get no interim response.

mod http_support;

use std::io::{Read, Write};

use c10k::http::server::HttpConfig;
use http_support::*;

#[test]
fn the_client_gets_100_continue_before_sending_the_body() {
    let server = serve(HttpConfig::default(), Inspect);
    let mut s = connect(server.addr);
    s.write_all(b"POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 7\r\n\r\n").unwrap();
    let mut interim = [0u8; 25];
    s.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    assert!(silent_for(&mut s, 100), "no final response before the body");
    s.write_all(b"payload").unwrap();
    let r = read_message(&mut s, false);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"POST /up HTTP/1.1\nbody 7\npayload\n");
    // The same with a chunked body, on the same connection.
    s.write_all(b"POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    s.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    s.write_all(b"3\r\nabc\r\n0\r\n\r\n").unwrap();
    assert_eq!(read_message(&mut s, false).body, b"POST /c HTTP/1.1\nbody 3\nabc\n");
}

#[test]
fn no_interim_response_without_a_body_or_on_http_1_0() {
    let server = serve(HttpConfig::default(), Inspect);
    let mut s = connect(server.addr);
    s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n").unwrap();
    let r = read_message(&mut s, false);
    assert_eq!(r.status, 200);
    let mut s = connect(server.addr);
    s.write_all(b"POST /b HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n").unwrap();
    assert!(silent_for(&mut s, 100));
    s.write_all(b"hi").unwrap();
    let r = read_message(&mut s, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"POST /b HTTP/1.0\nbody 2\nhi\n"[..]));
}

#[test]
fn curl_waits_for_100_continue_and_gets_the_answer() {
    let server = serve(HttpConfig::default(), Inspect);
    let url = format!("http://{}/curl", server.addr);
    // A long timeout: if the server never said 100, curl would wait it out
    // and still send; -v shows whether the interim response came.
    let Some(out) =
        curl(&["-v", "--expect100-timeout", "30", "-H", "Expect: 100-continue", "--data-binary", "0123456789", &url])
    else {
        return;
    };
    let trace = String::from_utf8_lossy(&out.stderr);
    assert!(trace.contains("< HTTP/1.1 100 Continue"), "{trace}");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "POST /curl HTTP/1.1\nbody 10\n0123456789\n");
}
