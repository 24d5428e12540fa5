//! Handles carry a generation: once a connection has closed, every
//! operation on its handle answers `C10K_ECLOSED`, also after its slot went
//! to a new connection, and never touches that new connection.

mod common;

use std::io::Write;
use std::os::fd::IntoRawFd;

use c10k::error::C10K_ECLOSED;
use c10k::{ConnId, Loop};
use common::{Ev, Log, Probe};

/// Every operation on `id`, each with its result mapped to `Result<(), i32>`.
fn every_operation(lp: &Loop, id: ConnId) -> Vec<(&'static str, Result<(), i32>)> {
    let file = std::fs::File::open("/proc/self/stat").unwrap().into_raw_fd();
    vec![
        ("write", lp.conn_write(id, b"x").map(drop)),
        ("write_vec", lp.conn_write_vec(id, vec![0; 1000]).map(drop)),
        ("write_owned", lp.conn_write_owned(id, vec![0u8; 10]).map(drop).map_err(|(e, _)| e)),
        ("sendfile", lp.conn_sendfile(id, file, 0, 10).map(drop)),
        ("pending", lp.conn_pending(id).map(drop)),
        ("set_reading", lp.conn_set_reading(id, false)),
        ("set_timeout", lp.conn_set_timeout(id, 10, true)),
        ("set_write_marks", lp.conn_set_write_marks(id, 1, 2)),
        ("user_data", lp.conn_user_data(id).map(drop)),
        ("set_user_data", lp.conn_set_user_data(id, 7)),
        ("set_handler", lp.conn_set_handler(id, Box::new(common::Echo))),
        ("peer_addr", lp.conn_peer_addr(id).map(drop)),
        ("local_addr", lp.conn_local_addr(id).map(drop)),
        ("shutdown", lp.conn_shutdown(id)),
        ("close", lp.conn_close(id)),
        ("abort", lp.conn_abort(id)),
    ]
}

fn assert_all_closed(results: Vec<(&'static str, Result<(), i32>)>) {
    for (name, result) in results {
        assert_eq!(result, Err(C10K_ECLOSED), "conn_{name} on a stale handle");
    }
}

#[test]
fn a_closed_handle_answers_eclosed_even_after_its_slot_is_reused() {
    let log = Log::default();
    let l = log.clone();
    let server = common::probe_server("127.0.0.1:0", move || {
        Probe::new(&l).on_data(|lp, conn, data| {
            if data == b"close" {
                lp.conn_close(conn).unwrap();
            } else {
                lp.conn_write(conn, data).unwrap();
            }
        })
    });
    let mut first = common::client(server.addr);
    first.write_all(b"close").unwrap();
    let (_, end) = common::read_to_eof(&mut first);
    end.unwrap();
    log.wait_for_closes(1);
    let old = log.closes()[0].0;
    assert_all_closed(server.on_loop(move |lp| every_operation(lp, old)));

    // The next connection takes the freed slot with a new generation.
    let mut second = common::client(server.addr);
    assert_eq!(common::round_trip(&mut second, b"ping"), b"ping");
    let new = log.events().iter().rev().find(|(_, e)| *e == Ev::Open).unwrap().0;
    assert_ne!(new, old);
    assert_eq!(new.slot(), old.slot(), "the test expected the slot to be reused");
    assert_ne!(new.generation(), old.generation());
    assert_all_closed(server.on_loop(move |lp| every_operation(lp, old)));
    // None of that reached the new connection.
    assert_eq!(common::round_trip(&mut second, b"still here"), b"still here");
    assert_eq!(server.on_loop(move |lp| lp.conn_user_data(new)), Ok(0));
    assert_eq!(log.closes().len(), 1);

    drop(second);
    log.wait_for_closes(2);
    assert_all_closed(server.on_loop(move |lp| every_operation(lp, new)));
    server.finish();
    let closes = log.closes();
    assert_eq!(closes, vec![(old, 0), (new, 0)], "on_close must run exactly once per connection");
}

#[test]
fn closing_twice_answers_eclosed_the_second_time() {
    let log = Log::default();
    let results = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (l, r) = (log.clone(), results.clone());
    let server = common::probe_server("127.0.0.1:0", move || {
        let r = r.clone();
        Probe::new(&l).on_data(move |lp, conn, data| {
            let second = match data {
                b"close" => (lp.conn_close(conn), lp.conn_close(conn)),
                _ => (lp.conn_abort(conn), lp.conn_abort(conn)),
            };
            r.lock().unwrap().push(second);
        })
    });
    for request in [&b"close"[..], b"abort"] {
        let mut c = common::client(server.addr);
        c.write_all(request).unwrap();
        let _ = common::read_to_eof(&mut c);
    }
    log.wait_for_closes(2);
    assert_eq!(*results.lock().unwrap(), vec![(Ok(()), Err(C10K_ECLOSED)); 2]);
    server.finish();
    assert_eq!(log.closes().iter().map(|c| c.1).collect::<Vec<_>>(), vec![0, 0]);
}
