//! `max_requests_per_conn`: the last allowed response says
//! `Connection: close` and the connection ends, even with more requests
//! pipelined behind it.

mod http_support;

use std::io::Write;

use c10k::http::server::HttpConfig;
use http_support::*;

#[test]
fn the_third_response_closes_when_the_limit_is_three() {
    let server = serve(HttpConfig { max_requests_per_conn: 3, ..HttpConfig::default() }, Hello);
    let mut s = connect(server.addr);
    for i in 1..=3 {
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let r = read_message(&mut s, false);
        assert_eq!(r.status, 200);
        let expected = if i == 3 { Some("close") } else { None };
        assert_eq!(r.header("Connection"), expected, "response {i}");
    }
    assert!(closed_quietly(&mut s));
}

#[test]
fn pipelined_requests_past_the_limit_are_not_answered() {
    let server = serve(HttpConfig { max_requests_per_conn: 3, ..HttpConfig::default() }, Hello);
    let mut s = connect(server.addr);
    s.write_all(&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n".repeat(5)).unwrap();
    let text = String::from_utf8_lossy(&read_to_eof(&mut s)).into_owned();
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
    assert_eq!(text.matches("Connection: close").count(), 1, "{text}");
}
