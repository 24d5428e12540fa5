//! Keep-alive and pipelining: many requests on one connection, sixteen in
//! one packet, answered in order.

mod http_support;

use std::io::Write;

use http_support::*;

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let server = hello();
    let mut s = connect(server.addr);
    for _ in 0..100 {
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let (status, head, body) = read_response(&mut s);
        assert_eq!(status, 200);
        assert!(head.contains("Content-Type: text/plain"));
        assert!(head.contains("Date: "));
        assert_eq!(body, b"Hello, World!");
    }
}

#[test]
fn sixteen_pipelined_requests_in_one_packet_are_answered_in_order() {
    let server = hello();
    let mut s = connect(server.addr);
    let mut batch = Vec::new();
    for i in 0..16 {
        if i % 2 == 0 {
            batch.extend_from_slice(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        } else {
            let body = format!("request {i}");
            batch.extend_from_slice(
                format!("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}", body.len()).as_bytes(),
            );
        }
    }
    s.write_all(&batch).unwrap();
    for i in 0..16 {
        let (status, _, body) = read_response(&mut s);
        assert_eq!(status, 200);
        if i % 2 == 0 {
            assert_eq!(body, b"Hello, World!");
        } else {
            assert_eq!(String::from_utf8(body).unwrap(), format!("request {i}"));
        }
    }
}

#[test]
fn unknown_paths_get_404_and_the_connection_stays() {
    let server = hello();
    let mut s = connect(server.addr);
    s.write_all(b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut s).0, 404);
    assert_eq!(read_response(&mut s).0, 200);
}
