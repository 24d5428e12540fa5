//! The closing handshake both ways: the server's close frame, the peer's
//! answer, TCP closed by the server; the code `on_close` reports in each case.

mod ws_support;

use c10k::ws::{self, WsConfig};
use ws_support::*;

#[test]
fn server_initiated_close_waits_for_the_answer_then_closes_tcp() {
    let server = WsServer::start(WsConfig::default(), false);
    let mut client = Client::connect(server.addr);
    let ws = server.opened();
    ws::send(ws, ws::Opcode::Text, b"last words").unwrap();
    ws::close(ws, 4000, b"see you").unwrap();
    assert_eq!(client.recv(), (1, b"last words".to_vec()));
    assert_eq!(client.recv(), (8, b"\x0f\xa0see you".to_vec()));
    // Data the client sent before seeing our close is dropped, not delivered.
    client.send(1, true, b"ignored");
    client.send(8, true, b"\x0f\xa0");
    assert!(client.closed(), "the server closes TCP once both close frames passed");
    assert_eq!(server.next(), Seen::Close(ws, 4000, vec![]));
}

#[test]
fn client_initiated_close_is_echoed_and_reported() {
    let server = WsServer::start(WsConfig::default(), false);
    let mut client = Client::connect(server.addr);
    let ws = server.opened();
    client.send(8, true, b"\x03\xe9going");
    assert_eq!(client.recv(), (8, b"\x03\xe9going".to_vec()));
    assert!(client.closed());
    assert_eq!(server.next(), Seen::Close(ws, 1001, b"going".to_vec()));
}

#[test]
fn a_dropped_connection_is_1006() {
    let server = WsServer::start(WsConfig::default(), false);
    let client = Client::connect(server.addr);
    let ws = server.opened();
    drop(client);
    assert_eq!(server.next(), Seen::Close(ws, 1006, vec![]));
}

#[test]
fn a_protocol_error_reports_the_code_sent() {
    let server = WsServer::start(WsConfig::default(), false);
    let mut client = Client::connect(server.addr);
    let ws = server.opened();
    client.send(1, true, b"\xc3\x28");
    let (opcode, payload) = client.recv();
    assert_eq!((opcode, &payload[..2]), (8, &b"\x03\xef"[..]));
    client.send(8, true, b"\x03\xef");
    assert!(client.closed());
    drop(client);
    match server.next() {
        Seen::Close(id, 1007, _) => assert_eq!(id, ws),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_peer_that_never_answers_our_close_is_cut_after_the_close_timeout() {
    let config = WsConfig { close_timeout_ms: 200, ..WsConfig::default() };
    let server = WsServer::start(config, false);
    let mut client = Client::connect(server.addr);
    let ws = server.opened();
    ws::close(ws, 1000, b"").unwrap();
    assert_eq!(client.recv(), (8, b"\x03\xe8".to_vec()));
    // No answer: the server gives up and resets.
    assert_eq!(server.next(), Seen::Close(ws, 1006, vec![]));
}
