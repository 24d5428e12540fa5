//! Out of descriptors (EMFILE), the loop keeps serving the connections it
//! has, pauses accepting for a moment instead of spinning, and serves the
//! waiting clients once descriptors free up.
//!
//! The server runs in a child process (this test binary again, running the
//! ignored test `child_server`) whose soft RLIMIT_NOFILE leaves room for
//! about 20 connections; the parent is the client and talks to the child
//! over its stdin and stdout.

mod common;

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::process::{ChildStdin, ChildStdout};
use std::time::Duration;

use common::Server;

const CLIENTS: usize = 100;
const CHILD_ENV: &str = "C10K_EMFILE_CHILD";

/// The server side, run only as the child of `serves_everyone_despite_emfile_without_spinning`.
#[test]
#[ignore = "the child process of emfile::serves_everyone_despite_emfile_without_spinning"]
fn child_server() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let server = Server::echo(Default::default());
    let limit = common::open_fds() as u64 + 20;
    let mut lim = libc::rlimit { rlim_cur: limit, rlim_max: 0 };
    // SAFETY: valid pointers to rlimit values.
    unsafe {
        let mut old = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut old), 0);
        lim.rlim_max = old.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
    println!("CHILD addr {}", server.addr);
    for line in std::io::stdin().lines() {
        match line.unwrap().as_str() {
            "stats" => {
                let s = server.handle.stats();
                println!("CHILD stats {} {} {}", s.open_connections, s.accepted, s.accept_pauses);
            }
            "cpu" => {
                let before = server.on_loop(|_| common::thread_cpu_time());
                let wall = std::time::Instant::now();
                std::thread::sleep(Duration::from_secs(1));
                let cpu = server.on_loop(|_| common::thread_cpu_time()) - before;
                println!("CHILD cpu {} {}", cpu.as_micros(), wall.elapsed().as_micros());
            }
            "quit" => break,
            other => panic!("unknown command {other:?}"),
        }
    }
    server.finish();
    println!("CHILD done");
}

struct Child {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Child {
    /// The fields of the child's next line starting with `CHILD <word>`.
    fn expect(&mut self, word: &str) -> Vec<String> {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(self.stdout.read_line(&mut line).unwrap() > 0, "the child exited before saying {word}");
            // libtest may print "test child_server ... " before the first line.
            let Some(at) = line.find("CHILD ") else { continue };
            let mut fields = line[at..].split_whitespace().skip(1);
            if fields.next() == Some(word) {
                return fields.map(String::from).collect();
            }
        }
    }

    fn ask(&mut self, command: &str) -> Vec<u64> {
        writeln!(self.stdin, "{command}").unwrap();
        self.expect(command).iter().map(|f| f.parse().unwrap()).collect()
    }
}

#[test]
fn serves_everyone_despite_emfile_without_spinning() {
    let mut process = common::spawn_self("child_server", &[(CHILD_ENV, "1")]);
    let mut child =
        Child { stdin: process.stdin.take().unwrap(), stdout: BufReader::new(process.stdout.take().unwrap()) };
    let addr: std::net::SocketAddr = child.expect("addr")[0].parse().unwrap();

    // Every connect completes in the kernel's backlog; the server accepts what its limit allows.
    let mut clients: Vec<_> = (0..CLIENTS)
        .map(|i| {
            let mut s = common::client(addr);
            let msg = format!("message {i}").into_bytes();
            s.write_all(&msg).unwrap();
            s.set_nonblocking(true).unwrap();
            Some((s, msg, Vec::new()))
        })
        .collect();
    common::wait_until("the server ran out of descriptors", || child.ask("stats")[2] > 0);
    let [open, accepted, _] = child.ask("stats")[..] else { unreachable!() };
    assert!(open > 0 && accepted < CLIENTS as u64, "open {open}, accepted {accepted}: the limit did not bite");

    // With clients waiting in the backlog and no descriptor to take them, the loop sleeps.
    let [cpu, wall] = child.ask("cpu")[..] else { unreachable!() };
    eprintln!(
        "loop thread CPU while out of descriptors: {cpu} us in {wall} us; accepted {accepted} of {CLIENTS} at first"
    );
    assert!(cpu * 10 < wall * 3, "the loop thread used {cpu} us of CPU in {wall} us while out of descriptors");

    // Collect echoes, closing each client served; the rest get served as descriptors free up.
    let mut served = 0;
    common::wait_until("every client was served", || {
        for slot in clients.iter_mut() {
            let Some((s, msg, got)) = slot else { continue };
            let mut buf = [0u8; 64];
            match s.read(&mut buf) {
                Ok(0) => panic!("the server closed a client before echoing it"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("client read: {e}"),
            }
            if got.len() >= msg.len() {
                assert_eq!(got, msg);
                *slot = None;
                served += 1;
            }
        }
        served == CLIENTS
    });
    let [open, accepted, pauses] = child.ask("stats")[..] else { unreachable!() };
    assert_eq!(accepted, CLIENTS as u64);
    assert!(pauses > 0);
    assert!(open <= CLIENTS as u64);
    writeln!(child.stdin, "quit").unwrap();
    child.expect("done");
    assert!(process.wait().unwrap().success());
}
