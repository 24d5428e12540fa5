//! Connections spread over every loop, and the counters add up: requests
//! counted equal requests sent.

mod server_support;

use std::sync::Arc;

use c10k::server::ServerConfig;
use server_support::*;

#[test]
fn connections_reach_every_loop_and_stats_add_up() {
    let config = ServerConfig { loops: 2, ..Default::default() };
    let (server, addr) = start(config, Arc::new(Sleepy));
    let clients = 400;
    let threads: Vec<_> = (0..8)
        .map(|_| std::thread::spawn(move || (0..clients / 8).map(|_| get(addr, "/")).filter(|s| *s == 200).count()))
        .collect();
    let ok: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(ok, clients);

    let (per_loop, total) = server.stats();
    assert_eq!(per_loop.len(), 2);
    for (i, s) in per_loop.iter().enumerate() {
        assert!(s.accepted > 0, "loop {i} accepted nothing: {per_loop:?}");
    }
    assert_eq!(total.requests, clients as u64);
    assert_eq!(total.responses_2xx, clients as u64);
    assert_eq!(total.accepted, clients as u64);
    assert_eq!(per_loop.iter().map(|s| s.requests).sum::<u64>(), total.requests);
    server.stop(1000).unwrap();
    assert_eq!(server.stats().1.open_connections, 0);
}
