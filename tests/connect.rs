//! `Loop::connect`: `on_open` once established, then data flows; a refused
//! connection gets only `on_close` with `C10K_ECONNREFUSED`.

mod common;

use std::net::SocketAddr;

use c10k::error::C10K_ECONNREFUSED;
use common::{Ev, Log, Probe, Server};

/// A client handler: sends "ping" on open, closes once it has 4 bytes back.
fn pinger(log: &Log) -> Probe {
    let mut got = 0;
    Probe::new(log)
        .on_open(|lp, conn| {
            lp.conn_write(conn, b"ping").unwrap();
        })
        .on_data(move |lp, conn, data| {
            got += data.len();
            if got >= 4 {
                lp.conn_close(conn).unwrap();
            }
        })
}

fn ping_from(client_loop: &Server, target: SocketAddr) {
    let log = Log::default();
    let l = log.clone();
    let id = client_loop.on_loop(move |lp| lp.connect(&target, Box::new(pinger(&l)), 0)).unwrap();
    log.wait_for_closes(1);
    assert_eq!(log.of(id), vec![Ev::Open, Ev::Data(b"ping".to_vec()), Ev::Close(0)]);
}

#[test]
fn connects_to_an_echo_server_on_the_same_loop() {
    let server = Server::echo(Default::default());
    ping_from(&server, server.addr);
    server.finish();
}

#[test]
fn connects_to_an_echo_server_on_another_loop() {
    let server = Server::echo(Default::default());
    let other = Server::echo(Default::default());
    ping_from(&other, server.addr);
    other.finish();
    server.finish();
}

#[test]
fn a_refused_connection_gets_only_on_close() {
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let server = Server::echo(Default::default());
    let log = Log::default();
    let l = log.clone();
    let result = server.on_loop(move |lp| lp.connect(&closed_port, Box::new(pinger(&l)), 0));
    let id = result.expect("connect should report a refusal through on_close, not its return value");
    log.wait_for_closes(1);
    assert_eq!(log.of(id), vec![Ev::Close(C10K_ECONNREFUSED)]);
    server.finish();
}
