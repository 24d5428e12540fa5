//! 2,000 clients connected at once to one echo loop: each sends its own
//! message and gets exactly that message back.

mod common;

use std::io::Write;
use std::sync::{Arc, Barrier};
use std::thread;

use common::Server;

const CLIENTS: usize = 2000;
const THREADS: usize = 8;

#[test]
fn two_thousand_clients_at_once_each_get_their_own_echo() {
    let limit = common::raise_nofile(2 * CLIENTS as u64 + 200);
    assert!(limit >= 2 * CLIENTS as u64 + 200, "RLIMIT_NOFILE is only {limit}");
    let server = Server::echo(Default::default());
    let addr = server.addr;
    // Connected, then echoing, then closing: each phase starts once every thread finished the one before.
    let connected = Arc::new(Barrier::new(THREADS + 1));
    let echo = Arc::new(Barrier::new(THREADS + 1));
    let clients: Vec<_> = (0..THREADS)
        .map(|t| {
            let (connected, echo) = (connected.clone(), echo.clone());
            thread::spawn(move || {
                let mut socks: Vec<_> = (0..CLIENTS / THREADS).map(|_| common::client(addr)).collect();
                connected.wait();
                echo.wait();
                let messages: Vec<Vec<u8>> =
                    (0..socks.len()).map(|i| format!("client {t}/{i}: {}", "x".repeat(i % 97)).into_bytes()).collect();
                for (s, m) in socks.iter_mut().zip(&messages) {
                    s.write_all(m).unwrap();
                }
                let mut wrong = 0;
                for (s, m) in socks.iter_mut().zip(&messages) {
                    if common::read_exact_or_err(s, m.len()).ok().as_ref() != Some(m) {
                        wrong += 1;
                    }
                }
                wrong
            })
        })
        .collect();
    connected.wait();
    common::wait_until("the loop has every client open", || server.handle.stats().open_connections == CLIENTS as u64);
    echo.wait();
    let wrong: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert_eq!(wrong, 0, "clients that did not get their own message back");
    let stats = server.handle.stats();
    assert_eq!(stats.accepted, CLIENTS as u64);
    server.finish();
}
