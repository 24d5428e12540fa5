//! A handler's own reason phrase replaces the status code's standard one,
//! answered inline or through a deferred reply; one with CR or LF is refused.

mod http_support;

use std::io::Write;
use std::thread;

use c10k::error::C10K_EINVAL;
use c10k::http::server::{Body, HttpConfig, reply};
use http_support::*;

fn server() -> Server {
    serve(
        HttpConfig::default(),
        handler(|req| {
            match req.path() {
                b"/inline" => req.set_reason(b"Custom Thing").unwrap(),
                b"/deferred" => {
                    req.set_reason(b"Later, Renamed").unwrap();
                    let reply = req.defer().unwrap();
                    thread::spawn(move || reply::send(reply, 202, &[], Body::Bytes(b"d")).unwrap());
                    return;
                }
                _ => assert_eq!(req.set_reason(b"bad\r\nX-Injected: 1").unwrap_err(), C10K_EINVAL),
            }
            req.respond(299, &[], Body::Bytes(b"i")).unwrap();
        }),
    )
}

#[test]
fn the_handlers_reason_phrase_goes_out() {
    let server = server();
    let mut s = connect(server.addr);
    s.write_all(b"GET /inline HTTP/1.1\r\nHost: x\r\n\r\nGET /deferred HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (_, head, body) = read_response(&mut s);
    assert!(head.starts_with("HTTP/1.1 299 Custom Thing\r\n"), "{head}");
    assert_eq!(body, b"i");
    let (_, head, _) = read_response(&mut s);
    assert!(head.starts_with("HTTP/1.1 202 Later, Renamed\r\n"), "{head}");
}

#[test]
fn a_reason_with_a_line_break_is_refused_and_the_standard_one_stays() {
    let server = server();
    let mut s = connect(server.addr);
    s.write_all(b"GET /bad HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (_, head, _) = read_response(&mut s);
    assert!(head.starts_with("HTTP/1.1 299 \r\n"), "{head}");
    assert!(!head.contains("X-Injected"));
}
