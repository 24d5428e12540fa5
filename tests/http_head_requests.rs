//! HEAD: the same head as GET, Content-Length included, and no body; the
//! connection then serves the next request normally.

mod http_support;

use std::io::Write;

use http_support::*;

#[test]
fn head_has_the_get_headers_and_no_body_and_the_next_request_works() {
    let server = hello();
    let mut s = connect(server.addr);
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let get = read_message(&mut s, false);
    // HEAD, then GET in the same packet: any stray body byte would corrupt
    // the second response.
    s.write_all(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let head = read_message(&mut s, true);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("Content-Length"), Some("13"));
    assert_eq!(head.without_date(), without_date(get.head.as_bytes()));
    let next = read_message(&mut s, false);
    assert_eq!(next.without_date(), get.without_date());
    assert_eq!(next.body, b"Hello, World!");
    assert!(silent_for(&mut s, 50));
}

#[test]
fn head_of_a_404_also_has_no_body() {
    let server = hello();
    let mut s = connect(server.addr);
    s.write_all(b"HEAD /missing HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let r = read_message(&mut s, true);
    assert_eq!((r.status, r.header("Content-Length")), (404, Some("9")));
    let r = read_message(&mut s, true);
    assert_eq!((r.status, r.header("Content-Length"), r.header("Connection")), (200, Some("13"), Some("close")));
    assert!(closed_quietly(&mut s));
}

#[test]
fn python_reads_head_then_get_on_one_connection() {
    let server = hello();
    let code = "import http.client, sys\n\
        c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]))\n\
        c.request('HEAD', '/')\nr = c.getresponse()\nprint(r.status, r.getheader('Content-Length'), repr(r.read()))\n\
        c.request('GET', '/')\nr = c.getresponse()\nprint(r.status, r.getheader('Content-Length'), repr(r.read()))\n";
    let port = server.addr.port().to_string();
    let Some(out) = python(code, &["127.0.0.1", &port]) else { return };
    assert_eq!(out, "200 13 b''\n200 13 b'Hello, World!'\n");
}
