//! Helpers shared by the integration tests: a loop running on its own
//! thread, and an echo handler.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;

use c10k::{Acceptor, ConnHandler, ConnId, ListenOptions, Loop, LoopHandle};

/// The most bytes any echo connection had queued, for backpressure tests.
pub static ECHO_MAX_PENDING: AtomicU64 = AtomicU64::new(0);

/// Echoes every byte back, pausing reads while the queue is above its high mark.
pub struct Echo;

impl ConnHandler for Echo {
    fn on_data(&mut self, lp: &Loop, conn: ConnId, data: &[u8]) {
        let above = lp.conn_write(conn, data).unwrap();
        ECHO_MAX_PENDING.fetch_max(lp.conn_pending(conn).unwrap(), Ordering::Relaxed);
        if above {
            lp.conn_set_reading(conn, false).unwrap();
        }
    }
    fn on_drain(&mut self, lp: &Loop, conn: ConnId) {
        lp.conn_set_reading(conn, true).unwrap();
    }
}

pub struct EchoAcceptor;

impl Acceptor for EchoAcceptor {
    fn accept(&mut self, _lp: &Loop, _conn: ConnId) -> (Box<dyn ConnHandler>, usize) {
        (Box::new(Echo), 0)
    }
}

/// A loop on its own thread with whatever `setup` listens on; returns the
/// address `setup` reports, the loop's handle and the thread.
pub fn spawn_loop<F>(setup: F) -> (SocketAddr, LoopHandle, thread::JoinHandle<()>)
where
    F: FnOnce(&Loop) -> SocketAddr + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let lp = Loop::new().unwrap();
        let addr = setup(&lp);
        tx.send((addr, lp.handle())).unwrap();
        lp.run().unwrap();
    });
    let (addr, handle) = rx.recv().unwrap();
    (addr, handle, thread)
}

/// An echo server on 127.0.0.1 on a free port.
pub fn spawn_echo(options: ListenOptions) -> (SocketAddr, LoopHandle, thread::JoinHandle<()>) {
    spawn_loop(move |lp| {
        let id = lp.listen(&"127.0.0.1:0".parse().unwrap(), &options, Box::new(EchoAcceptor)).unwrap();
        lp.listener_addr(id).unwrap()
    })
}
