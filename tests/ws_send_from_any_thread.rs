//! `ws::send` from the loop thread and from other threads: every thread's
//! messages arrive in the order it sent them, none lost; a closed
//! WebSocket, text that is not UTF-8 and a handle of another kind are
//! refused with their codes.

mod ws_support;

use std::thread;

use c10k::error::{C10K_ECLOSED, C10K_EINVAL};
use c10k::ws::{self, Opcode, WsConfig};
use ws_support::*;

#[test]
fn each_threads_messages_arrive_in_its_order() {
    let server = WsServer::start(WsConfig::default(), false);
    let mut client = Client::connect(server.addr);
    let ws = server.opened();
    const THREADS: usize = 4;
    const EACH: usize = 500;
    let senders: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                for i in 0..EACH {
                    let full = ws::send(ws, Opcode::Text, format!("{t}:{i}").as_bytes()).unwrap();
                    assert!(!full, "a reading client never fills the queue with this little");
                }
            })
        })
        .collect();
    let mut next = [0usize; THREADS];
    for _ in 0..THREADS * EACH {
        let (opcode, payload) = client.recv();
        assert_eq!(opcode, 1);
        let text = String::from_utf8(payload).unwrap();
        let (t, i) = text.split_once(':').unwrap();
        let (t, i): (usize, usize) = (t.parse().unwrap(), i.parse().unwrap());
        assert_eq!(i, next[t], "thread {t} out of order");
        next[t] += 1;
    }
    for s in senders {
        s.join().unwrap();
    }
    assert_eq!(next, [EACH; THREADS]);
}

#[test]
fn sends_from_the_loop_thread_go_out_in_the_same_turn() {
    let server = WsServer::start(WsConfig::default(), true);
    let mut client = Client::connect(server.addr);
    server.opened();
    for size in [0, 1, 125, 126, 65535, 65536, 1 << 20] {
        let data: Vec<u8> = (0..size).map(|i| (i * 7) as u8).collect();
        client.send(2, true, &data);
        assert_eq!(client.recv(), (2, data));
    }
}

#[test]
fn refusals() {
    let server = WsServer::start(WsConfig::default(), false);
    let mut client = Client::connect(server.addr);
    let ws = server.opened();
    assert_eq!(ws::send(ws, Opcode::Text, b"\xff"), Err(C10K_EINVAL));
    assert_eq!(ws::ping(ws, &[0; 126]), Err(C10K_EINVAL));
    assert_eq!(ws::close(ws, 1005, b"a reason needs a code"), Err(C10K_EINVAL));
    assert_eq!(ws::close(ws, 1006, b""), Err(C10K_EINVAL));
    // A connection's handle is not a WebSocket's.
    let conn = c10k::reactor::Handle::new(c10k::reactor::Kind::Conn, ws.loop_id(), ws.slot(), ws.generation());
    assert_eq!(ws::send(conn, Opcode::Text, b"x"), Err(C10K_EINVAL));
    ws::close(ws, 1000, b"bye").unwrap();
    assert_eq!(ws::send(ws, Opcode::Text, b"too late"), Err(C10K_ECLOSED));
    assert_eq!(ws::close(ws, 1000, b""), Err(C10K_ECLOSED));
    assert_eq!(client.recv(), (8, b"\x03\xe8bye".to_vec()));
    client.send(8, true, b"\x03\xe8");
    assert!(client.closed());
    assert_eq!(server.next(), Seen::Close(ws, 1000, vec![]));
    assert_eq!(ws::send(ws, Opcode::Binary, b"gone"), Err(C10K_ECLOSED));
}
