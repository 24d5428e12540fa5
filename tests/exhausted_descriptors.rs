//! Out of descriptors: a server limited to 256 (RLIMIT_NOFILE, in a child
//! process: this test binary run again) faces 1,000 clients. While the
//! backlog is full it pauses accepting instead of spinning on EMFILE (its
//! CPU time stays well under half a core), counts the pauses, and once
//! served clients free their descriptors it serves everyone.

mod hostile_support;
mod http_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use c10k::http::server::HttpConfig;
use c10k::{ListenOptions, Loop};

const CHILD_ENV: &str = "C10K_EXHAUSTED_CHILD";
const CLIENTS: usize = 1000;

/// The child: an HTTP server on a loop, under `ulimit -n 256`. It prints
/// `addr ADDR`, then a line of stats for every line read from stdin.
fn child_main() {
    let lim = libc::rlimit { rlim_cur: 256, rlim_max: 256 };
    // SAFETY: plain syscall with a valid struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    let lp = Loop::new().unwrap();
    let mut options = ListenOptions::default();
    options.socket.backlog = 2048;
    // Idle clients keep their descriptors for the whole test.
    let config = HttpConfig { header_timeout_ms: 60_000, ..HttpConfig::default() };
    let id = lp.http_listen(&"127.0.0.1:0".parse().unwrap(), &options, config, Box::new(http_support::Hello)).unwrap();
    // Straight to the descriptor: libtest may capture `println!`.
    writeln!(std::io::stdout(), "addr {}", lp.listener_addr(id).unwrap()).unwrap();
    let handle = lp.handle();
    thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if line.is_err() {
                break;
            }
            let s = handle.stats();
            let line = format!(
                "stats open={} accepted={} pauses={} requests={}\n",
                s.open_connections, s.accepted, s.accept_pauses, s.requests
            );
            std::io::stdout().write_all(line.as_bytes()).unwrap();
        }
        handle.stop();
    });
    lp.run().unwrap();
}

struct Stats {
    open: u64,
    accepted: u64,
    pauses: u64,
    requests: u64,
}

struct ChildServer {
    child: Child,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
}

impl ChildServer {
    fn stats(&mut self) -> Stats {
        writeln!(self.child.stdin.as_mut().unwrap()).unwrap();
        loop {
            let line = self.lines.next().expect("child exited").unwrap();
            // libtest may have put "test NAME ... " before it on the line.
            if let Some((_, rest)) = line.split_once("stats ") {
                let v: Vec<u64> = rest.split(' ').map(|kv| kv.split_once('=').unwrap().1.parse().unwrap()).collect();
                return Stats { open: v[0], accepted: v[1], pauses: v[2], requests: v[3] };
            }
        }
    }

    /// User plus system CPU time of the child, in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after = &stat[stat.rfind(')').unwrap() + 2..];
        let f: Vec<&str> = after.split(' ').collect();
        // Fields 14 and 15 (utime, stime), counted from after the comm field (3rd).
        f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
    }
}

#[test]
fn accepting_pauses_without_spinning_and_resumes() {
    if std::env::var_os(CHILD_ENV).is_some() {
        return child_main();
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "accepting_pauses_without_spinning_and_resumes", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr: SocketAddr = loop {
        let line = lines.next().expect("child exited").unwrap();
        if let Some((_, a)) = line.split_once("addr ") {
            break a.parse().unwrap();
        }
    };
    let mut server = ChildServer { child, lines };

    // 1,000 idle clients: the child can hold about 250 of them; the kernel
    // completes the others' handshakes into the backlog.
    let mut clients: Vec<TcpStream> = (0..CLIENTS)
        .map(|_| {
            let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            s
        })
        .collect();
    assert!(
        hostile_support::wait_until(Duration::from_secs(5), || server.stats().pauses > 0),
        "accepting never paused"
    );

    // Out of descriptors with a full backlog: measure the child's CPU.
    let (t0, c0) = (Instant::now(), server.cpu_ticks());
    thread::sleep(Duration::from_millis(1500));
    let (t1, c1) = (Instant::now(), server.cpu_ticks());
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let share = (c1 - c0) as f64 / hz / (t1 - t0).as_secs_f64();
    let held = server.stats();
    eprintln!(
        "out of descriptors: {} connections held, {} accepted, {} accept pauses, server CPU {:.1}% of a core",
        held.open,
        held.accepted,
        held.pauses,
        share * 100.0
    );
    assert!(held.open < 256 && held.accepted < CLIENTS as u64);
    assert!(share < 0.5, "the server spun on EMFILE: {:.0}% of a core", share * 100.0);

    // Every client asks now; each answer closes its connection, freeing a
    // descriptor for the next client in the backlog.
    for c in &mut clients {
        c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    }
    let mut served = 0;
    for (i, c) in clients.iter_mut().enumerate() {
        let mut out = Vec::new();
        c.read_to_end(&mut out).unwrap_or_else(|e| panic!("client {i}: {e}"));
        assert!(
            out.starts_with(b"HTTP/1.1 200 ") && out.ends_with(b"Hello, World!"),
            "client {i}: {:?}",
            String::from_utf8_lossy(&out)
        );
        served += 1;
    }
    drop(clients);
    let end = server.stats();
    eprintln!("all {served} clients served; {} accept pauses in all", end.pauses);
    assert_eq!(end.requests, CLIENTS as u64);
    assert!(hostile_support::wait_until(Duration::from_secs(5), || server.stats().open == 0));
    drop(server.child.stdin.take());
    assert!(server.child.wait().unwrap().success());
}
