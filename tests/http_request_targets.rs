//! The request-target forms of RFC 9112 §3.2 over sockets: absolute-form is
//! served like origin-form (its authority is the request's host, overriding
//! Host), asterisk-form reaches the handler only for OPTIONS, and a later
//! HTTP/1.x minor is answered as HTTP/1.1.

mod http_support;

use std::io::Write;

use c10k::http::server::{Body, HttpConfig};
use http_support::*;

/// Answers with what the request's parts were parsed as.
fn parts() -> Server {
    serve(
        HttpConfig::default(),
        handler(|req| {
            let s = |b: Option<&[u8]>| b.map_or("-".to_string(), |b| String::from_utf8_lossy(b).into_owned());
            let text = format!(
                "form={:?} scheme={} host={} port={} path={} query={} version=1.{}",
                req.target_form(),
                s(req.scheme()),
                s(req.host()),
                req.port().map_or("-".to_string(), |p| p.to_string()),
                s(Some(req.path())),
                s(req.query()),
                req.version_minor(),
            );
            req.respond(200, &[], Body::Bytes(text.as_bytes())).unwrap();
        }),
    )
}

fn body_of(server: &Server, raw: &str) -> (String, String) {
    let text = exchange_until_close(server.addr, raw.as_bytes());
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.lines().next().unwrap_or("").to_string(), body.to_string())
}

#[test]
fn absolute_form_gives_path_query_and_host_from_the_uri() {
    let server = parts();
    let (status, body) =
        body_of(&server, "GET http://Other.example:8081/a/b?x=1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, "form=Absolute scheme=http host=Other.example port=8081 path=/a/b query=x=1 version=1.1");
    let (_, body) = body_of(&server, "GET https://h2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert_eq!(body, "form=Absolute scheme=https host=h2 port=- path=/ query=- version=1.1");
}

#[test]
fn origin_form_takes_host_and_port_from_the_host_field() {
    let server = parts();
    let (_, body) = body_of(&server, "GET /p?q HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n");
    assert_eq!(body, "form=Origin scheme=- host=[::1] port=8080 path=/p query=q version=1.1");
    let (_, body) = body_of(&server, "GET / HTTP/1.0\r\n\r\n");
    assert_eq!(body, "form=Origin scheme=- host=- port=- path=/ query=- version=1.0");
}

#[test]
fn an_absolute_form_request_is_routed_like_its_path() {
    let server = hello();
    let text = exchange_until_close(
        server.addr,
        b"GET http://localhost/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(text.starts_with("HTTP/1.1 200 "), "{text:?}");
    assert!(text.ends_with("Hello, World!"), "{text:?}");
}

#[test]
fn asterisk_form_reaches_the_handler_for_options() {
    let server = parts();
    let (status, body) = body_of(&server, "OPTIONS * HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, "form=Asterisk scheme=- host=h port=- path=* query=- version=1.1");
}

#[test]
fn authority_form_reaches_the_handler_for_connect() {
    let server = parts();
    let (_, body) =
        body_of(&server, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n");
    assert_eq!(body, "form=Authority scheme=- host=example.com port=443 path= query=- version=1.1");
}

#[test]
fn a_later_http_1_minor_is_answered_as_http_1_1() {
    let server = parts();
    let mut s = connect(server.addr);
    // Kept alive like HTTP/1.1: two requests on one connection.
    s.write_all(b"GET /one HTTP/1.2\r\nHost: h\r\n\r\nGET /two HTTP/1.9\r\nHost: h\r\nConnection: close\r\n\r\n")
        .unwrap();
    let text = String::from_utf8_lossy(&read_to_eof(&mut s)).into_owned();
    assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 2, "{text:?}");
    assert!(text.contains("path=/one query=- version=1.1"), "{text:?}");
    assert!(text.contains("path=/two query=- version=1.1"), "{text:?}");
}
