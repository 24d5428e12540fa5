//! IPv6: a listener on [::1] echoes, and the connection's peer is ::1.

mod common;

use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};

use common::{Log, Probe};

#[test]
fn echo_over_ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: ::1 is not available here");
        return;
    }
    let log = Log::default();
    let peers = Arc::new(Mutex::new(Vec::new()));
    let (l, p) = (log.clone(), peers.clone());
    let server = common::probe_server("[::1]:0", move || {
        let p = p.clone();
        Probe::new(&l).on_open(move |lp, conn| {
            p.lock().unwrap().push((lp.conn_peer_addr(conn).unwrap(), lp.conn_local_addr(conn).unwrap()));
        })
    });
    assert_eq!(server.addr.ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
    let mut c = common::client(server.addr);
    assert_eq!(common::round_trip(&mut c, b"hello over v6"), b"hello over v6");
    let (peer, local) = peers.lock().unwrap()[0];
    assert_eq!(peer, c.local_addr().unwrap(), "peer address");
    assert_eq!(peer.ip(), IpAddr::V6(Ipv6Addr::LOCALHOST));
    assert_eq!(local, server.addr);
    drop(c);
    log.wait_for_closes(1);
    assert_eq!(log.closes()[0].1, 0);
    server.finish();
}
