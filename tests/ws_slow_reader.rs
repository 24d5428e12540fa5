//! A client that does not read: the sender learns it (`Ok(true)`, which C
//! sees as C10K_QUEUE_FULL) at the high-water mark, from the loop thread
//! and from another thread, and `on_drain` follows once the client reads.

mod ws_support;

use std::thread;

use c10k::ws::{self, Opcode, WsConfig};
use ws_support::*;

fn fill_until_full(ws: c10k::ws::WsId) -> usize {
    let chunk = vec![7u8; 64 * 1024];
    let mut sent = 0;
    loop {
        sent += 1;
        if ws::send(ws, Opcode::Binary, &chunk).unwrap() {
            return sent;
        }
        assert!(sent < 10_000, "the queue never reported full");
    }
}

#[test]
fn a_sender_on_another_thread_is_told_to_wait_then_drained() {
    let server = WsServer::start(WsConfig::default(), false);
    let mut client = Client::connect(server.addr);
    let ws = server.opened();
    let sent = thread::spawn(move || fill_until_full(ws)).join().unwrap();
    // Everything sent arrives, then the server reports the drain.
    for _ in 0..sent {
        let (opcode, payload) = client.recv();
        assert_eq!((opcode, payload.len()), (2, 64 * 1024));
    }
    assert_eq!(server.next(), Seen::Drain(ws));
}

#[test]
fn the_loop_thread_learns_it_from_the_send_itself() {
    let server = WsServer::start(WsConfig::default(), false);
    let mut client = Client::connect(server.addr);
    let ws = server.opened();
    let (tx, rx) = std::sync::mpsc::channel();
    server.handle.post(Box::new(move |_lp| {
        let _ = tx.send(fill_until_full(ws));
    }));
    let sent = rx.recv().unwrap();
    for _ in 0..sent {
        assert_eq!(client.recv().1.len(), 64 * 1024);
    }
    assert_eq!(server.next(), Seen::Drain(ws));
}
