//! 16 MiB echoed through a client that reads slowly: everything arrives, in
//! order, and the server's queue never holds much more than its high mark.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::thread;
use std::time::Duration;

#[test]
fn sixteen_mib_through_a_slow_reader() {
    let server = common::Server::echo(Default::default());
    let mut client = TcpStream::connect(server.addr).unwrap();
    let data: Vec<u8> = (0..16 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let mut writer = client.try_clone().unwrap();
    let sent = data.clone();
    let sender = thread::spawn(move || writer.write_all(&sent).unwrap());

    let mut got = Vec::with_capacity(data.len());
    let mut buf = vec![0u8; 64 * 1024];
    while got.len() < data.len() {
        if got.len() < 4 * 1024 * 1024 {
            thread::sleep(Duration::from_millis(2)); // slow at first, so the server's queue fills
        }
        let n = client.read(&mut buf).unwrap();
        assert!(n > 0, "server closed early");
        got.extend_from_slice(&buf[..n]);
    }
    sender.join().unwrap();
    assert!(got == data, "echoed bytes differ");
    // Backpressure: the server's queue stayed near its 1 MiB high mark
    // (plus at most one 64 KiB read) instead of holding the stream.
    let max_pending = common::ECHO_MAX_PENDING.load(std::sync::atomic::Ordering::Relaxed);
    assert!(max_pending > 512 * 1024, "the slow reader never filled the queue ({max_pending})");
    assert!(max_pending <= 1024 * 1024 + 64 * 1024, "queue grew to {max_pending} bytes");
    drop(client);
    server.finish();
}
