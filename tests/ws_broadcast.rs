//! Broadcast: one frame, serialised once, reaches every open WebSocket on
//! every loop, in the order broadcast; closed handles are skipped.

mod ws_support;

use std::thread;

use c10k::ws::{self, WsConfig};
use ws_support::*;

#[test]
fn every_client_on_every_loop_gets_every_message_in_order() {
    // Two servers: two loops, each with its own clients.
    let servers = [WsServer::start(WsConfig::default(), false), WsServer::start(WsConfig::default(), false)];
    let mut clients = Vec::new();
    let mut ids = Vec::new();
    for server in &servers {
        for _ in 0..20 {
            clients.push(Client::connect(server.addr));
            ids.push(server.opened());
        }
    }
    // From a thread that owns no loop, interleaved with sends to one client.
    let targets = ids.clone();
    thread::spawn(move || {
        for i in 0..100 {
            let text = format!("message {i}");
            assert_eq!(ws::broadcast(&targets, false, text.as_bytes()).unwrap(), targets.len());
        }
        assert_eq!(ws::broadcast(&targets, true, &[0u8; 70_000]).unwrap(), targets.len());
    })
    .join()
    .unwrap();
    for c in &mut clients {
        for i in 0..100 {
            assert_eq!(c.recv(), (1, format!("message {i}").into_bytes()));
        }
        assert_eq!(c.recv(), (2, vec![0u8; 70_000]));
    }
}

#[test]
fn closed_and_foreign_handles_are_skipped() {
    let server = WsServer::start(WsConfig::default(), false);
    let mut a = Client::connect(server.addr);
    let wa = server.opened();
    let mut b = Client::connect(server.addr);
    let wb = server.opened();
    ws::close(wb, 1000, b"").unwrap();
    assert_eq!(b.recv(), (8, b"\x03\xe8".to_vec()));
    let not_ws = c10k::reactor::Handle(12345);
    assert_eq!(ws::broadcast(&[wa, wb, not_ws], false, b"only a").unwrap(), 1);
    assert_eq!(a.recv(), (1, b"only a".to_vec()));
    assert_eq!(ws::broadcast(&[wa], false, b"\xff"), Err(c10k::error::C10K_EINVAL));
}
