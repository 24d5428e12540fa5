//! Keep-alive pings: an idle peer gets pings; one that answers stays, one
//! that does not is closed with 1011.

mod ws_support;

use c10k::ws::WsConfig;
use ws_support::*;

fn config() -> WsConfig {
    WsConfig { ping_interval_ms: 100, ping_timeout_ms: 150, ..WsConfig::default() }
}

#[test]
fn a_peer_that_answers_pings_stays_open() {
    let server = WsServer::start(config(), true);
    let mut client = Client::connect(server.addr);
    server.opened();
    for _ in 0..3 {
        let (opcode, payload) = client.recv();
        assert_eq!(opcode, 9, "a ping");
        client.send(10, true, &payload);
    }
    client.send(1, true, b"still here");
    assert_eq!(client.recv(), (1, b"still here".to_vec()));
}

#[test]
fn a_silent_peer_is_closed_with_1011() {
    let server = WsServer::start(config(), false);
    let mut client = Client::connect(server.addr);
    let ws = server.opened();
    assert_eq!(client.recv().0, 9);
    let (opcode, payload) = client.recv();
    assert_eq!((opcode, &payload[..2]), (8, &1011u16.to_be_bytes()[..]));
    client.send(8, true, &payload[..2]);
    assert!(client.closed());
    drop(client);
    match server.next() {
        Seen::Close(id, 1011, _) => assert_eq!(id, ws),
        other => panic!("{other:?}"),
    }
}
