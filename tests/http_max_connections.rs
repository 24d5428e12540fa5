//! `ListenOptions::max_connections`: past the limit the listener stops
//! accepting, so an extra client is not served until another leaves.

mod http_support;

use std::io::Write;

use c10k::ListenOptions;
use c10k::http::server::HttpConfig;
use http_support::*;

#[test]
fn a_client_beyond_the_limit_waits_until_another_closes() {
    let options = ListenOptions { max_connections: 2, ..ListenOptions::default() };
    let server = serve_with(options, HttpConfig::default(), Hello);
    let mut first = connect(server.addr);
    let mut second = connect(server.addr);
    for s in [&mut first, &mut second] {
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(read_message(s, false).status, 200);
    }
    // The kernel completes the handshake (backlog) but nobody reads.
    let mut third = connect(server.addr);
    third.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert!(silent_for(&mut third, 300), "the third client was served over the limit");
    // The first two are still served.
    second.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_message(&mut second, false).status, 200);
    drop(first);
    let r = read_message(&mut third, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"Hello, World!"[..]));
}
