//! The write queue keeps order across copied bytes, file ranges sent with
//! `sendfile` and owned buffers, and releases each owned buffer exactly
//! once: after sending it, or when the connection drops it unsent.

mod common;

use std::os::fd::{AsRawFd, IntoRawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use c10k::{ConnId, Loop, OwnedBuf};
use common::{Log, Probe};

/// An owned buffer that counts its releases.
struct Tracked {
    bytes: Vec<u8>,
    released: Arc<AtomicUsize>,
}

impl OwnedBuf for Tracked {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.released.fetch_add(1, Ordering::SeqCst);
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

/// What the server queues on open, as a list of steps sharing one file.
#[derive(Clone)]
enum Step {
    Copy(Vec<u8>),
    File(u64, u64),
    Owned(Vec<u8>),
}

struct Plan {
    file: Arc<std::fs::File>,
    steps: Vec<Step>,
    released: Arc<AtomicUsize>,
    abort: bool,
}

impl Plan {
    fn run(&self, lp: &Loop, conn: ConnId) {
        for step in &self.steps {
            match step {
                Step::Copy(b) => drop(lp.conn_write(conn, b).unwrap()),
                Step::File(off, len) => {
                    let fd = c10k::net::dup_cloexec(self.file.as_raw_fd()).unwrap();
                    lp.conn_sendfile(conn, fd, *off, *len).unwrap();
                }
                Step::Owned(b) => {
                    let buf = Tracked { bytes: b.clone(), released: self.released.clone() };
                    assert!(lp.conn_write_owned(conn, buf).is_ok());
                }
            }
        }
        if self.abort {
            lp.conn_abort(conn).unwrap();
        } else {
            lp.conn_close(conn).unwrap();
        }
    }

    /// The bytes a client should receive.
    fn expected(&self, content: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for step in &self.steps {
            match step {
                Step::Copy(b) | Step::Owned(b) => out.extend_from_slice(b),
                Step::File(off, len) => out.extend_from_slice(&content[*off as usize..(*off + *len) as usize]),
            }
        }
        out
    }

    fn owned(&self) -> usize {
        self.steps.iter().filter(|s| matches!(s, Step::Owned(_))).count()
    }
}

/// Serves `steps` to one client and returns what it read and how the stream ended.
fn serve(steps: Vec<Step>, abort: bool) -> (Vec<u8>, std::io::Result<()>, Vec<u8>, usize, usize) {
    let content = pattern(3 << 20, 7);
    let plan = Arc::new(Plan {
        file: Arc::new(common::temp_file(&content)),
        steps,
        released: Arc::new(AtomicUsize::new(0)),
        abort,
    });
    let log = Log::default();
    let (l, p) = (log.clone(), plan.clone());
    let server = common::probe_server("127.0.0.1:0", move || {
        let p = p.clone();
        Probe::new(&l).on_open(move |lp, conn| p.run(lp, conn))
    });
    let mut c = common::client(server.addr);
    let (got, end) = common::read_to_eof(&mut c);
    log.wait_for_closes(1);
    assert_eq!(log.closes().len(), 1);
    drop(c);
    server.finish();
    (got, end, plan.expected(&content), plan.owned(), plan.released.load(Ordering::SeqCst))
}

#[test]
fn copies_files_and_owned_buffers_arrive_in_order() {
    let steps = vec![
        Step::Copy(b"head:".to_vec()),
        Step::File(10, (2 << 20) + 5),
        Step::Owned(pattern(1 << 20, 1)),
        Step::Copy(b"|mid|".to_vec()),
        Step::Owned(b"small owned".to_vec()),
        Step::File(0, 100),
        Step::Copy(pattern(100_000, 2)),
        Step::Owned(pattern(3000, 3)),
        Step::Copy(b":tail".to_vec()),
    ];
    let (got, end, expected, owned, released) = serve(steps, false);
    end.unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "bytes out of order");
    assert_eq!(released, owned, "each owned buffer must be released exactly once");
}

#[test]
fn an_empty_owned_buffer_is_released_and_does_not_stall_the_queue() {
    let steps =
        vec![Step::Copy(b"before".to_vec()), Step::Owned(Vec::new()), Step::File(0, 0), Step::Owned(Vec::new())];
    let (got, end, expected, owned, released) = serve(steps, false);
    end.unwrap();
    assert_eq!(got, expected);
    assert_eq!(released, owned);
}

#[test]
fn an_abort_releases_unsent_owned_buffers_once() {
    let steps = vec![Step::Owned(pattern(1 << 20, 4)), Step::File(0, 1 << 20), Step::Owned(pattern(10, 5))];
    let (got, end, _, owned, released) = serve(steps, true);
    assert!(got.is_empty(), "aborted output reached the peer");
    assert_eq!(end.unwrap_err().kind(), std::io::ErrorKind::ConnectionReset);
    assert_eq!(released, owned);
}

/// A buffer refused (the connection is closing) is released at once, not leaked.
#[test]
fn an_owned_buffer_refused_by_a_closing_connection_is_released() {
    let released = Arc::new(AtomicUsize::new(0));
    let log = Log::default();
    let (l, r) = (log.clone(), released.clone());
    let server = common::probe_server("127.0.0.1:0", move || {
        let r = r.clone();
        Probe::new(&l).on_open(move |lp, conn| {
            lp.conn_close(conn).unwrap();
            let buf = Tracked { bytes: vec![1, 2, 3], released: r.clone() };
            // A failed write gives the buffer back; dropping it releases it.
            assert!(lp.conn_write_owned(conn, buf).is_err());
            assert_eq!(r.load(Ordering::SeqCst), 1);
            let fd = std::fs::File::open("/proc/self/stat").unwrap().into_raw_fd();
            assert!(lp.conn_sendfile(conn, fd, 0, 1).is_err());
        })
    });
    let mut c = common::client(server.addr);
    let (got, end) = common::read_to_eof(&mut c);
    assert!(got.is_empty());
    end.unwrap();
    log.wait_for_closes(1);
    drop(c);
    server.finish();
    assert_eq!(released.load(Ordering::SeqCst), 1);
}
