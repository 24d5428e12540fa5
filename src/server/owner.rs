//! Which server the current thread works for. A server's callbacks run on
//! its loop and worker threads; there, stopping the server and waiting for
//! it, or freeing it, would wait for the very call that asks.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    static SERVER: Cell<u64> = const { Cell::new(0) };
}

static NEXT: AtomicU64 = AtomicU64::new(1);

/// A number naming a new server (never 0).
pub fn new_id() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Marks the calling thread, one of server `id`'s own, for its lifetime.
pub fn enter(id: u64) {
    SERVER.with(|s| s.set(id));
}

/// Marks the calling thread as server `id`'s while the guard lives (the
/// host's thread inside `Server::run`).
pub struct Scope(u64);

impl Scope {
    pub fn enter(id: u64) -> Scope {
        Scope(SERVER.with(|s| s.replace(id)))
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        SERVER.with(|s| s.set(self.0));
    }
}

/// Whether the calling thread is one of server `id`'s.
pub fn is_own(id: u64) -> bool {
    SERVER.with(|s| s.get() == id)
}
