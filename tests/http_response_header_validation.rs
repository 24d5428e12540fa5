//! Response header validation: a header value with CR or LF is refused
//! with `C10K_EINVAL` and nothing is sent; the handler can still answer,
//! and the connection goes on.

mod http_support;

use std::io::Write;
use std::sync::{Mutex, mpsc};
use std::thread;

use c10k::error::C10K_EINVAL;
use c10k::http::server::{Body, HttpConfig, reply};
use http_support::*;

type Header = (&'static [u8], &'static [u8]);

const BAD: &[Header] = &[
    (b"X-Split", b"a\r\nSet-Cookie: evil=1"),
    (b"X-Lf", b"a\nb"),
    (b"X-Cr", b"a\rb"),
    (b"X-Nul", b"a\0b"),
    (b"Bad Name", b"v"),
    (b"", b"v"),
];

#[test]
fn an_inline_answer_with_a_bad_header_is_refused_and_nothing_is_sent() {
    let server = serve(
        HttpConfig::default(),
        handler(|req| {
            let i: usize = std::str::from_utf8(&req.path()[1..]).unwrap().parse().unwrap();
            assert_eq!(req.respond(200, &[BAD[i]], Body::Bytes(b"never")), Err(C10K_EINVAL));
            assert_eq!(req.respond(1000, &[], Body::Bytes(b"never")), Err(C10K_EINVAL));
            req.respond(500, &[], Body::Bytes(b"bad header")).unwrap();
        }),
    );
    let mut s = connect(server.addr);
    for i in 0..BAD.len() {
        s.write_all(format!("GET /{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
        let r = read_message(&mut s, false);
        assert_eq!(
            r.without_date(),
            "HTTP/1.1 500 Internal Server Error\r\nDate: *\r\nContent-Length: 10\r\n\r\nbad header",
            "header {i}"
        );
    }
    assert!(silent_for(&mut s, 20));
}

#[test]
fn a_deferred_answer_with_a_bad_header_is_refused_and_nothing_is_sent() {
    let (tx, rx) = mpsc::channel::<reply::ReplyId>();
    let worker = thread::spawn(move || {
        for id in rx {
            for &bad in BAD {
                assert_eq!(reply::send(id, 200, &[bad], Body::Bytes(b"never")), Err(C10K_EINVAL));
                assert_eq!(reply::start(id, 200, &[bad], None), Err(C10K_EINVAL));
            }
            reply::send(id, 500, &[], Body::Bytes(b"bad header")).unwrap();
        }
    });
    let tx = Mutex::new(tx);
    let server =
        serve(HttpConfig::default(), handler(move |req| tx.lock().unwrap().send(req.defer().unwrap()).unwrap()));
    let mut s = connect(server.addr);
    for _ in 0..2 {
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let r = read_message(&mut s, false);
        assert_eq!(
            r.without_date(),
            "HTTP/1.1 500 Internal Server Error\r\nDate: *\r\nContent-Length: 10\r\n\r\nbad header"
        );
    }
    drop(server);
    worker.join().unwrap();
}
