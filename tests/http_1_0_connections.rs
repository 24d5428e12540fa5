//! HTTP/1.0 clients: the connection closes after the response unless the
//! client asked `Connection: keep-alive` (and is then told so); a streamed
//! reply of unknown length is delimited by the close.

mod http_support;

use std::io::Write;
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;

use c10k::http::server::{HttpConfig, reply};
use http_support::*;

#[test]
fn http_1_0_closes_after_the_response_by_default() {
    let server = hello();
    let mut s = connect(server.addr);
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let r = read_message(&mut s, false);
    assert_eq!((r.status, &r.body[..]), (200, &b"Hello, World!"[..]));
    assert_eq!(r.header("Connection"), Some("close"));
    assert!(closed_quietly(&mut s));
}

#[test]
fn http_1_0_with_keep_alive_stays_open_and_says_so() {
    let server = hello();
    let mut s = connect(server.addr);
    for _ in 0..3 {
        s.write_all(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
        let r = read_message(&mut s, false);
        assert_eq!((r.status, &r.body[..]), (200, &b"Hello, World!"[..]));
        assert_eq!(r.header("Connection"), Some("keep-alive"));
        assert_eq!(r.header("Content-Length"), Some("13"));
    }
    assert!(silent_for(&mut s, 50));
    // The last one without keep-alive ends the connection.
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(read_message(&mut s, false).header("Connection"), Some("close"));
    assert!(closed_quietly(&mut s));
}

#[test]
fn a_streamed_reply_to_http_1_0_is_close_delimited() {
    let (tx, rx) = mpsc::channel::<reply::ReplyId>();
    thread::spawn(move || {
        for id in rx {
            reply::start(id, 200, &[], None).unwrap();
            reply::write(id, b"first ").unwrap();
            reply::write(id, b"second").unwrap();
            reply::end(id).unwrap();
        }
    });
    let tx = Mutex::new(tx);
    let server =
        serve(HttpConfig::default(), handler(move |req| tx.lock().unwrap().send(req.defer().unwrap()).unwrap()));
    // Even though the client asked to keep the connection: without a
    // length, only the close can end the body.
    let mut s = connect(server.addr);
    s.write_all(b"GET /s HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").unwrap();
    let r = read_message(&mut s, false);
    assert_eq!(r.without_date(), "HTTP/1.1 200 OK\r\nDate: *\r\nConnection: close\r\n\r\nfirst second");
}
