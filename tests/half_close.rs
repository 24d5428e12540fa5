//! Half-close: a peer that shuts down its write side still gets the reply.
//! With `on_end` returning true the handler replies and closes when it
//! likes; by default the server flushes what it has queued, then closes.

mod common;

use std::cell::Cell;
use std::io::Write;
use std::net::Shutdown;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use c10k::Loop;
use common::{Ev, Log, Probe};

/// Collects the request; on end of stream answers with its length, then
/// shuts down and closes.
#[test]
fn kept_half_open_the_handler_replies_after_end_of_stream() {
    let log = Log::default();
    let l = log.clone();
    let server = common::probe_server("127.0.0.1:0", move || {
        let count = Rc::new(Cell::new(0));
        let c = count.clone();
        Probe::new(&l).on_data(move |_, _, data| c.set(c.get() + data.len())).on_end(move |lp: &Loop, conn| {
            let got = count.get();
            lp.conn_write(conn, format!("you sent {got} bytes").as_bytes()).unwrap();
            lp.conn_shutdown(conn).unwrap();
            lp.conn_close(conn).unwrap();
            true
        })
    });
    let mut c = common::client(server.addr);
    c.write_all(b"hello").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    let (reply, end) = common::read_to_eof(&mut c);
    assert_eq!(String::from_utf8_lossy(&reply), "you sent 5 bytes");
    end.expect("the stream should end with FIN, not an error");
    log.wait_for_closes(1);
    let conn = log.closes()[0].0;
    assert_eq!(log.of(conn), vec![Ev::Open, Ev::Data(b"hello".to_vec()), Ev::End, Ev::Close(0)]);
    drop(c);
    server.finish();
}

/// The handler queues 8 MiB the client does not read until after it has
/// shut down its side: the server sees the end with output still queued,
/// and the client still gets every byte, then a clean end of stream.
#[test]
fn by_default_queued_output_is_flushed_before_closing() {
    const SIZE: usize = 8 << 20;
    let body: Arc<Vec<u8>> = Arc::new((0..SIZE).map(|i| (i % 253) as u8).collect());
    let pending_at_end = Arc::new(AtomicU64::new(0));
    let log = Log::default();
    let (l, b, p) = (log.clone(), body.clone(), pending_at_end.clone());
    let server = common::probe_server("127.0.0.1:0", move || {
        let (b, p) = (b.clone(), p.clone());
        Probe::new(&l)
            .on_data(move |lp, conn, _| {
                lp.conn_write(conn, &b).unwrap();
            })
            .on_end(move |lp, conn| {
                p.store(lp.conn_pending(conn).unwrap(), Ordering::SeqCst);
                false
            })
    });
    let mut c = common::client(server.addr);
    c.write_all(b"go").unwrap();
    c.shutdown(Shutdown::Write).unwrap();
    common::wait_until("the server saw the end of stream", || log.events().iter().any(|(_, e)| *e == Ev::End));
    let (got, end) = common::read_to_eof(&mut c);
    end.expect("the stream should end with FIN, not an error");
    assert_eq!(got.len(), SIZE);
    assert!(got == *body, "the bytes differ");
    assert!(pending_at_end.load(Ordering::SeqCst) > 0, "the test did not have output queued at the end of stream");
    log.wait_for_closes(1);
    assert_eq!(log.closes()[0].1, 0);
    drop(c);
    server.finish();
}

/// Replies and shuts down its side, keeping the connection (both ways shut)
/// until the test closes it: nothing is left to do for it, so the loop's
/// descriptor must not report work, or the loop would spin.
#[test]
#[cfg(not(polling_test_poll_backend))] // that backend has no descriptor to watch
fn a_connection_shut_down_both_ways_does_not_wake_the_loop() {
    let lp = Loop::new().unwrap();
    let log = Log::default();
    let l = log.clone();
    let listener = lp
        .listen(
            &"127.0.0.1:0".parse().unwrap(),
            &Default::default(),
            Box::new(common::ProbeAcceptor(move || {
                Probe::new(&l).on_data(|_, _, _| {}).on_end(|lp, conn| {
                    lp.conn_write(conn, b"bye").unwrap();
                    lp.conn_shutdown(conn).unwrap();
                    true
                })
            })),
        )
        .unwrap();
    let addr = lp.listener_addr(listener).unwrap();
    let client = std::thread::spawn(move || {
        let mut c = common::client(addr);
        c.write_all(b"hi").unwrap();
        c.shutdown(Shutdown::Write).unwrap();
        let (reply, end) = common::read_to_eof(&mut c);
        (c, reply, end.is_ok())
    });
    common::drive_until(&lp, "the server saw the end of stream", |_| log.events().iter().any(|(_, e)| *e == Ev::End));
    let mut client = Some(client);
    let mut result = None;
    common::drive_until(&lp, "the client read the reply and EOF", |_| {
        if client.as_ref().is_some_and(|c| c.is_finished()) {
            result = Some(client.take().unwrap().join().unwrap());
        }
        result.is_some()
    });
    let (c, reply, clean_end) = result.unwrap();
    assert_eq!(reply, b"bye");
    assert!(clean_end);
    // Settle: whatever the last events were, they have been handled now.
    for _ in 0..3 {
        lp.run_once(Some(std::time::Duration::ZERO)).unwrap();
    }
    assert!(!common::loop_fd_ready(&lp, 0), "the loop reports work for a connection that has none: it would spin");
    let conn = log.events()[0].0;
    lp.conn_close(conn).unwrap();
    common::drive_until(&lp, "the connection closed", |_| log.closes().len() == 1);
    assert_eq!(log.closes()[0].1, 0);
    lp.listener_close(listener).unwrap();
    assert_eq!(lp.open_handles(), (0, 0));
    drop(c);
}
