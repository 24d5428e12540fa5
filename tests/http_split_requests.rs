//! Requests split at every byte boundary: the first k bytes, a pause, then
//! the rest, for every k. No response comes early and the response is the
//! one the unsplit request gets.

mod http_support;

use std::io::Write;
use std::thread;
use std::time::Duration;

use c10k::http::server::HttpConfig;
use http_support::*;

const REQUESTS: &[&[u8]] = &[
    b"GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: split\r\nAccept: */*\r\nX-Empty:\r\n\r\n",
    b"POST /form HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world",
    b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\nX-B: b\r\n\r\n",
];

#[test]
fn every_split_point_gives_the_unsplit_response() {
    let server = serve(HttpConfig::default(), Inspect);
    for request in REQUESTS {
        let whole = exchange(server.addr, request).without_date();
        assert!(whole.starts_with("HTTP/1.1 200 OK\r\n"), "{whole}");
        for k in 1..request.len() {
            let mut s = connect(server.addr);
            s.write_all(&request[..k]).unwrap();
            // Both a pause for the server to read the piece alone and a
            // check that nothing was answered to a partial request.
            assert!(silent_for(&mut s, 2), "answered after {k} bytes");
            s.write_all(&request[k..]).unwrap();
            let r = read_message(&mut s, false);
            assert_eq!(r.without_date(), whole, "split at {k}");
        }
    }
}

#[test]
fn a_pipelined_pair_split_anywhere_gives_both_responses() {
    let server = serve(HttpConfig::default(), Inspect);
    let pair = [REQUESTS[2], REQUESTS[0]].concat();
    let mut s = connect(server.addr);
    s.write_all(&pair).unwrap();
    let first = read_message(&mut s, false).without_date();
    let second = read_message(&mut s, false).without_date();
    for k in 1..pair.len() {
        let mut s = connect(server.addr);
        s.write_all(&pair[..k]).unwrap();
        thread::sleep(Duration::from_millis(1));
        s.write_all(&pair[k..]).unwrap();
        assert_eq!(read_message(&mut s, false).without_date(), first, "split at {k}");
        assert_eq!(read_message(&mut s, false).without_date(), second, "split at {k}");
    }
}
