//! Deferred replies completed from many threads: 8 threads complete 1,000
//! requests pipelined on 200 connections, and each connection gets its
//! answers in request order.

mod http_support;

use std::io::Write;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use c10k::http::server::{Body, HttpConfig, reply};
use http_support::*;

const CONNS: usize = 200;
const PER_CONN: usize = 5;

#[test]
fn eight_threads_complete_a_thousand_pipelined_requests_in_order() {
    let (tx, rx) = mpsc::channel::<(reply::ReplyId, Vec<u8>)>();
    let rx = Arc::new(Mutex::new(rx));
    let completed = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..8)
        .map(|w| {
            let (rx, completed) = (rx.clone(), completed.clone());
            thread::spawn(move || {
                loop {
                    let Ok((id, target)) = rx.lock().unwrap().recv() else { return };
                    // Alternate whole replies and streamed ones.
                    if target.ends_with(b"0") || target.ends_with(b"2") || target.ends_with(b"4") {
                        reply::send(id, 200, &[(b"X-Worker", format!("{w}").as_bytes())], Body::Bytes(&target))
                            .unwrap();
                    } else {
                        reply::start(id, 200, &[], Some(target.len() as u64)).unwrap();
                        reply::write(id, &target).unwrap();
                        reply::end(id).unwrap();
                    }
                    completed.lock().unwrap().push(w);
                }
            })
        })
        .collect();
    let tx = Mutex::new(tx);
    let server = serve(
        HttpConfig::default(),
        handler(move |req| {
            let id = req.defer().unwrap();
            tx.lock().unwrap().send((id, req.target().to_vec())).unwrap();
        }),
    );
    let clients: Vec<_> = (0..CONNS)
        .map(|c| {
            let mut s = connect(server.addr);
            let mut batch = Vec::new();
            for i in 0..PER_CONN {
                batch.extend_from_slice(format!("GET /c{c}/r{i} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes());
            }
            s.write_all(&batch).unwrap();
            s
        })
        .collect();
    for (c, mut s) in clients.into_iter().enumerate() {
        for i in 0..PER_CONN {
            let r = read_message(&mut s, false);
            assert_eq!(r.status, 200);
            assert_eq!(String::from_utf8(r.body).unwrap(), format!("/c{c}/r{i}"));
        }
        assert!(silent_for(&mut s, 1));
    }
    let completed = completed.lock().unwrap();
    assert_eq!(completed.len(), CONNS * PER_CONN);
    drop(server);
    for w in workers {
        w.join().unwrap();
    }
}
