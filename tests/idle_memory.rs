//! Idle connections are cheap: 10,000 of them cost the loop less than
//! 1 KiB of heap each.
//!
//! A counting global allocator measures the bytes the loop thread holds
//! (allocated minus freed on that thread) before and after the
//! connections are accepted. The clients live in a child process (this
//! binary again, running the ignored test `child_clients`): 10,000
//! connections on both ends would need more descriptors than the hard
//! limit allows one process.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{BufRead, BufReader, Write};
use std::sync::atomic::{AtomicI64, Ordering};

use c10k::ListenOptions;
use c10k::net::ListenConfig;
use common::Server;

const CONNS: usize = 10_000;
const ADDR_ENV: &str = "C10K_IDLE_MEMORY_ADDR";

struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}
/// Bytes allocated minus bytes freed by threads that turned counting on.
static HELD: AtomicI64 = AtomicI64::new(0);

fn count(delta: i64) {
    if COUNTING.try_with(|c| c.get()).unwrap_or(false) {
        HELD.fetch_add(delta, Ordering::Relaxed);
    }
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as i64);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as i64);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as i64));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as i64 - layout.size() as i64);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The clients, run only as the child of `ten_thousand_idle_connections_cost_under_1_kib_each`.
#[test]
#[ignore = "the child process of idle_memory::ten_thousand_idle_connections_cost_under_1_kib_each"]
fn child_clients() {
    let Ok(addr) = std::env::var(ADDR_ENV) else { return };
    common::raise_nofile(CONNS as u64 + 100);
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    let clients: Vec<_> = (0..CONNS).map(|_| std::net::TcpStream::connect(addr).unwrap()).collect();
    println!("CHILD ready");
    let _ = std::io::stdin().lines().next();
    drop(clients);
    println!("CHILD done");
}

#[test]
fn ten_thousand_idle_connections_cost_under_1_kib_each() {
    let limit = common::raise_nofile(CONNS as u64 + 100);
    assert!(limit >= CONNS as u64 + 100, "RLIMIT_NOFILE is only {limit}");
    let options = ListenOptions { socket: ListenConfig { backlog: 4096, ..Default::default() }, ..Default::default() };
    let server = Server::echo(options);
    server.on_loop(|_| COUNTING.with(|c| c.set(true)));
    server.on_loop(|_| ()); // the task that turned counting on has been freed
    let (held_before, rss_before) = (HELD.load(Ordering::SeqCst), vm_rss_kib());

    let addr = server.addr.to_string();
    let mut child = common::spawn_self("child_clients", &[(ADDR_ENV, &addr)]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut wait_for = |word: &str| {
        let mut line = String::new();
        while !line.contains(word) {
            line.clear();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "the client process exited before saying {word}");
        }
    };
    wait_for("CHILD ready");
    common::wait_until("every connection is accepted", || server.handle.stats().open_connections == CONNS as u64);
    server.on_loop(|_| ()); // the loop finished the turn that accepted the last one
    let held = HELD.load(Ordering::SeqCst) - held_before;
    let rss = vm_rss_kib() as i64 - rss_before as i64;
    let per_conn = held as f64 / CONNS as f64;
    println!(
        "idle connections: {per_conn:.0} heap bytes each on the loop thread ({held} for {CONNS}); VmRSS grew {rss} KiB"
    );

    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "quit").unwrap();
    wait_for("CHILD done");
    assert!(child.wait().unwrap().success());
    server.finish();
    assert!(per_conn > 0.0, "nothing was counted: the allocator does not see the loop thread");
    assert!(per_conn < 1024.0, "{per_conn:.0} bytes of heap per idle connection");
}
