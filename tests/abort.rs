//! `conn_abort`: the peer sees a reset, output still queued is dropped, and
//! `on_close` follows exactly once, with 0.

mod common;

use std::io::{ErrorKind, Write};

use common::{Ev, Log, Probe};

#[test]
fn abort_resets_the_peer_and_drops_queued_output() {
    let log = Log::default();
    let l = log.clone();
    let server = common::probe_server("127.0.0.1:0", move || {
        Probe::new(&l).on_data(|lp, conn, _| {
            // Queued, never flushed: the abort comes in the same callback.
            lp.conn_write(conn, &vec![b'x'; 4 << 20]).unwrap();
            assert_eq!(lp.conn_pending(conn), Ok(4 << 20));
            lp.conn_abort(conn).unwrap();
        })
    });
    let mut c = common::client(server.addr);
    c.write_all(b"please abort").unwrap();
    let (got, end) = common::read_to_eof(&mut c);
    assert_eq!(got.len(), 0, "queued output reached the peer");
    let err = end.expect_err("the stream ended cleanly instead of with a reset");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    log.wait_for_closes(1);
    let conn = log.closes()[0].0;
    assert_eq!(log.of(conn), vec![Ev::Open, Ev::Data(b"please abort".to_vec()), Ev::Close(0)]);
    assert_eq!(server.handle.stats().bytes_out, 0);
    drop(c);
    server.finish();
    assert_eq!(log.closes().len(), 1, "on_close ran again after the loop closed");
}
