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

/// The response heads to GETs of `paths`, pipelined on one connection.
fn heads(paths: &[&str]) -> Vec<String> {
    let server = server();
    let mut s = connect(server.addr);
    let burst: String = paths.iter().map(|p| format!("GET {p} HTTP/1.1\r\nHost: x\r\n\r\n")).collect();
    s.write_all(burst.as_bytes()).unwrap();
    paths.iter().map(|_| read_response(&mut s).1).collect()
}

#[test]
fn the_handlers_reason_phrase_goes_out() {
    let heads = heads(&["/inline", "/deferred"]);
    assert!(heads[0].starts_with("HTTP/1.1 299 Custom Thing\r\n"), "{}", heads[0]);
    assert!(heads[1].starts_with("HTTP/1.1 202 Later, Renamed\r\n"), "{}", heads[1]);
}

#[test]
fn a_reason_with_a_line_break_is_refused_and_the_standard_one_stays() {
    let head = &heads(&["/bad"])[0];
    assert!(head.starts_with("HTTP/1.1 299 \r\n"), "{head}");
    assert!(!head.contains("X-Injected"));
}
