//! A streamed body whose reply another thread completes the moment
//! `on_body` reports the end (as a binding's reader thread does): the
//! response must reach the client, also when the request asked to close.
//! The loop once collected such a reply before its bytes had arrived from
//! the other thread, and closed the connection with nothing sent.

mod http_support;

use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::Duration;

use c10k::http::server::{Body, HttpConfig, HttpHandler, Request, reply};
use http_support::*;

/// Hands each finished body's reply to a replier thread and, as a slow
/// host would, returns from `on_body` only once that thread has answered.
struct AnsweredElsewhere {
    to_replier: Mutex<mpsc::Sender<(reply::ReplyId, mpsc::Sender<()>)>>,
}

impl HttpHandler for AnsweredElsewhere {
    fn on_request(&self, req: &mut Request<'_>) {
        req.defer().unwrap();
    }
    fn on_body(&self, reply: reply::ReplyId, _data: &[u8], end: bool) -> bool {
        if end {
            let (answered, wait) = mpsc::channel();
            self.to_replier.lock().unwrap().send((reply, answered)).unwrap();
            wait.recv_timeout(Duration::from_secs(5)).unwrap();
        }
        true
    }
}

#[test]
fn a_reply_sent_as_the_body_ends_reaches_a_closing_client() {
    let (tx, rx) = mpsc::channel::<(reply::ReplyId, mpsc::Sender<()>)>();
    let replier = thread::spawn(move || {
        for (reply, answered) in rx {
            reply::send(reply, 200, &[], Body::Bytes(b"got it")).unwrap();
            answered.send(()).unwrap();
        }
    });
    let server = serve(
        HttpConfig { stream_bodies: true, ..HttpConfig::default() },
        AnsweredElsewhere { to_replier: Mutex::new(tx) },
    );
    let body = vec![b'x'; 200_000];
    for round in 0..20 {
        let mut request =
            format!("POST /up HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n", body.len())
                .into_bytes();
        request.extend_from_slice(&body);
        let response = exchange_until_close(server.addr, &request);
        assert!(response.starts_with("HTTP/1.1 200"), "round {round}: {response:?}");
        assert!(response.ends_with("got it"), "round {round}: {response:?}");
    }
    drop(server);
    replier.join().unwrap();
}
