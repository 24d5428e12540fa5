//! `c10k_server`: several loops, a worker pool, graceful shutdown, stats.

use std::ffi::{c_char, c_void};
use std::sync::Arc;

use super::cast::{carry, put_addr, put_box, take_box, try_addr, try_ref};
use super::conn::{CAcceptor, c10k_conn_callbacks, c10k_listen_options, conn_callbacks, listen_options};
use super::http::{CHttpHandler, c10k_http_callbacks, c10k_http_config, http_config};
use super::loop_::c10k_loop;
use super::sized::try_sized_array;
use super::sized::{init_sized, read_sized, write_sized};
use crate::error::*;
use crate::reactor::stats::Snapshot;
use crate::server::{Server, ServerConfig};

/// A server: N loops on N threads, each with its own `SO_REUSEPORT`
/// listener per address (the kernel spreads connections; a connection stays
/// on its loop for life), and optionally a worker pool for HTTP handlers.
///
/// Lifecycle: `c10k_server_new` → `c10k_server_listen` /
/// `c10k_server_http_listen` → `c10k_server_start` (all loops on library
/// threads) then `c10k_server_wait`, or `c10k_server_run` (loop 0 on the
/// calling thread) → `c10k_server_stop` or `c10k_server_request_stop` →
/// `c10k_server_free`.
///
/// Where handlers run, chosen per server:
/// 1. `workers == 0`: on the loop threads, inline (must not block).
/// 2. `workers > 0`: HTTP `on_request` runs on a pool thread and may block;
///    the loop reads the whole request first and writes the answer (files
///    with `sendfile`). A full queue answers 503 at once.
/// 3. Deferred replies (`c10k_request_defer`) work in both.
///
/// Connection callbacks (`c10k_server_listen`) and `on_abort`/`on_body`
/// run on the thread of the connection's loop.
pub struct c10k_server {
    server: Server,
}

/// Layout of a server. Initialise with `c10k_server_config_init`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_server_config {
    /// `sizeof(c10k_server_config)`; a shorter struct from an older header is accepted
    /// (its missing fields keep their defaults), a longer one refused.
    pub size: u32,
    /// Loops, one thread each; 0 (default): one per CPU.
    pub loops: u32,
    /// Worker threads for HTTP handlers; 0 (default): handlers run on the loops.
    pub workers: u32,
    /// Requests waiting for a worker before the loop answers 503. Default 1024.
    pub queue_limit: u32,
    /// Deadline of `c10k_server_request_stop` and of `c10k_server_free` on a
    /// running server, in milliseconds. Default 5000.
    pub shutdown_timeout_ms: u32,
    /// How long a graceful stop (`c10k_server_request_stop`,
    /// `c10k_server_stop`) drains before it stops accepting, in
    /// milliseconds: meanwhile everything is served as before, but an HTTP
    /// listener's `health_path` answers 503 and responses close their
    /// connections, so that a load balancer takes the process out of
    /// rotation and clients reconnect (to a sibling process on the same
    /// port or socket) before anything is refused; connections accepted
    /// meanwhile get their first request answered even after accepting
    /// stops. Set it to a few health check intervals. Default 0: stop
    /// accepting at once. Added in 0.2.
    pub drain_delay_ms: u32,
}

/// Counters of a loop or of a whole server. Set `size` to
/// `sizeof(c10k_stats)` before passing it; a caller built against an older
/// (shorter) header gets the fields it knows.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct c10k_stats {
    pub size: u32,
    /// Connections open now.
    pub open_connections: u64,
    pub accepted: u64,
    pub closed: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    /// Times accepting paused because descriptors ran out (EMFILE/ENFILE).
    pub accept_pauses: u64,
    /// Connections closed by an idle, header or body timeout.
    pub timeouts: u64,
    /// HTTP requests received (heads parsed).
    pub requests: u64,
    pub responses_1xx: u64,
    pub responses_2xx: u64,
    pub responses_3xx: u64,
    pub responses_4xx: u64,
    pub responses_5xx: u64,
    /// Requests answered 503 because the worker pool's queue was full.
    pub pool_rejections: u64,
    /// Calls into the host's request callbacks: one per request with
    /// `on_request`, one per batch with `on_requests`. Divided by
    /// `requests`, the host's crossings per request. Added in 0.2.
    pub request_callbacks: u64,
}

impl From<Snapshot> for c10k_stats {
    fn from(s: Snapshot) -> c10k_stats {
        c10k_stats {
            size: size_of::<c10k_stats>() as u32,
            open_connections: s.open_connections,
            accepted: s.accepted,
            closed: s.closed,
            bytes_in: s.bytes_in,
            bytes_out: s.bytes_out,
            accept_pauses: s.accept_pauses,
            timeouts: s.timeouts,
            requests: s.requests,
            responses_1xx: s.responses_1xx,
            responses_2xx: s.responses_2xx,
            responses_3xx: s.responses_3xx,
            responses_4xx: s.responses_4xx,
            responses_5xx: s.responses_5xx,
            pool_rejections: s.pool_rejections,
            request_callbacks: s.request_callbacks,
        }
    }
}

/// Writes `snapshot` into a caller's struct after checking its size.
fn put_stats(snapshot: Snapshot, out: *mut c10k_stats) -> Result<()> {
    write_sized(out, snapshot.into())
}

/// Fills the first `size` bytes of `config` with the defaults and sets
/// `config->size` to `size`. Pass `sizeof *config`: a program built against an
/// older, smaller `c10k_server_config` gets only the fields it knows, and nothing past
/// its struct is written. `C10K_EINVAL` for NULL or a `size` this library
/// does not know (less than 4 bytes, or larger than its own struct).
///
/// Added in 0.1.
/// Changed in 0.2: takes the caller's `size`.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_config_init(config: *mut c10k_server_config, size: usize) -> i32 {
    ffi!({ init_sized(config, size, default_server_config()) })
}

fn default_server_config() -> c10k_server_config {
    let d = ServerConfig::default();
    c10k_server_config {
        size: size_of::<c10k_server_config>() as u32,
        loops: d.loops as u32,
        workers: d.workers as u32,
        queue_limit: d.queue_limit as u32,
        shutdown_timeout_ms: d.shutdown_timeout_ms,
        drain_delay_ms: d.drain_delay_ms,
    }
}

/// Creates a server (not yet running) and stores it in `*out`; `config`
/// may be NULL for the defaults. The worker threads, if any, start now.
/// Free it with `c10k_server_free`.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_new(config: *const c10k_server_config, out: *mut *mut c10k_server) -> i32 {
    ffi!({
        if out.is_null() {
            return Err(C10K_EINVAL);
        }
        let c = read_sized(config, default_server_config())?;
        let config = ServerConfig {
            loops: c.loops as usize,
            workers: c.workers as usize,
            queue_limit: c.queue_limit as usize,
            shutdown_timeout_ms: c.shutdown_timeout_ms,
            drain_delay_ms: c.drain_delay_ms,
        };
        put_box(out, c10k_server { server: Server::new(config)? })
    })
}

/// The server behind a C pointer.
pub(super) fn server_ref<'a>(server: *const c10k_server) -> Result<&'a Server> {
    Ok(&try_ref(server)?.server)
}

/// Serves raw TCP on `addr` on every loop; each accepted connection
/// reports to `callbacks` (copied) with `user_data`, on its loop's thread,
/// so the callbacks must be safe to run on several threads at once.
/// Before `c10k_server_start`/`_run` only (`C10K_EBUSY` after).
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_listen(
    server: *mut c10k_server,
    addr: *const c_char,
    opts: *const c10k_listen_options,
    callbacks: *const c10k_conn_callbacks,
    user_data: *mut c_void,
) -> i32 {
    ffi!({
        let s = server_ref(server)?;
        let (addr, options, callbacks) = (try_addr(addr)?, listen_options(opts)?, conn_callbacks(callbacks)?);
        let user_data = carry(user_data);
        s.listen(addr, options, Arc::new(move |_| Box::new(CAcceptor { callbacks, user_data })))
    })
}

/// Serves HTTP on `addr` on every loop. `on_request` runs on the loop
/// threads (no workers) or on the pool threads (workers), possibly on
/// several threads at once. Before `c10k_server_start`/`_run` only.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_http_listen(
    server: *mut c10k_server,
    addr: *const c_char,
    config: *const c10k_http_config,
    callbacks: *const c10k_http_callbacks,
    user_data: *mut c_void,
) -> i32 {
    ffi!({
        let s = server_ref(server)?;
        let addr = try_addr(addr)?;
        let (options, config) = http_config(config)?;
        let handler = CHttpHandler::new(callbacks, user_data)?;
        let listening = handler.listening();
        s.http_listen(addr, options, config, Arc::new(handler))?;
        listening.store(true, std::sync::atomic::Ordering::Release);
        Ok(())
    })
}

/// Starts every loop on a library thread; returns once all of them
/// listen (or with the first error, everything stopped again).
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_start(server: *mut c10k_server) -> i32 {
    ffi!({ server_ref(server)?.start() })
}

/// Runs loop 0 on the calling thread (so its callbacks arrive on a thread
/// the host owns) and the other loops on library threads. Returns after a
/// stop, once everything is closed.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_run(server: *mut c10k_server) -> i32 {
    ffi!({ server_ref(server)?.run() })
}

/// Stops gracefully: stops accepting, lets requests in flight finish and
/// their responses flush, closes idle keep-alive connections, aborts what
/// is left after `deadline_ms`, then returns 0.
///
/// From one of the server's own callbacks (which cannot wait for
/// themselves) it only asks for the stop, as `c10k_server_request_stop`,
/// and returns 0 at once: `c10k_server_run` returns once it is done, or a
/// thread in `c10k_server_wait` (or `c10k_server_free`) carries it out.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_stop(server: *mut c10k_server, deadline_ms: u32) -> i32 {
    ffi!({ server_ref(server)?.stop(deadline_ms) })
}

/// Requests a graceful stop with the configured `shutdown_timeout_ms`, and
/// returns at once. Async-signal-safe (atomics and one `write`): this is
/// the way to stop on SIGINT/SIGTERM. `c10k_server_run` carries it out;
/// after `c10k_server_start`, a thread blocked in `c10k_server_wait` does.
///
/// Added in 0.1.
///
/// Thread safety: any thread, and signal handlers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_request_stop(server: *mut c10k_server) -> i32 {
    // Signal handlers call it: catch_unwind is async-signal-safe, and
    // nothing here allocates or locks.
    ffi!({
        server_ref(server)?.request_stop();
        Ok(())
    })
}

/// Blocks until the server stopped, carrying out a stop requested by
/// `c10k_server_request_stop` meanwhile. Returns 0, or `C10K_EDEADLK`
/// (waiting nothing) from one of the server's own callbacks, which would
/// wait for themselves.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_wait(server: *mut c10k_server) -> i32 {
    ffi!({ server_ref(server)?.wait() })
}

/// Stops the server if it runs (with its `shutdown_timeout_ms`) and frees
/// it. NULL is a no-op. Returns 0, or `C10K_EBUSY` (and frees nothing)
/// from one of the server's own callbacks: the server is still running
/// them. Ask for a stop there instead, and free it from another thread.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_free(server: *mut c10k_server) -> i32 {
    ffi!({
        if server_ref(server).is_ok_and(Server::is_own_thread) {
            return Err(C10K_EBUSY);
        }
        drop(take_box(server));
        Ok(())
    })
}

/// How many loops the server runs.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_loop_count(server: *const c10k_server) -> u32 {
    ffi!(else 0, { Ok(server_ref(server)?.loop_count() as u32) })
}

/// Writes the address listener `index` (in the order of the listen calls)
/// is bound to, with a NUL, into `buf` of `len` bytes; useful after port 0.
/// `C10K_ENOENT` before the server runs or for a bad index.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_addr(
    server: *const c10k_server,
    index: usize,
    buf: *mut c_char,
    len: usize,
) -> i32 {
    ffi!({
        let addr = *server_ref(server)?.addrs().get(index).ok_or(C10K_ENOENT)?;
        put_addr(addr, buf, len)
    })
}

/// Stores the server's counters summed over its loops in `*total` (whose
/// `size` the caller set), and those of each loop in the array `per_loop`
/// of `per_loop_len` entries of `per_loop_size` bytes each: pass
/// `sizeof(c10k_stats)`, so that a program built against an older,
/// shorter `c10k_stats` is stepped through correctly (the library sets
/// each entry's `size`). `per_loop` may be NULL with length 0; entries
/// past the loop count are left alone. Returns 0, or `C10K_EINVAL` for
/// NULL or a size this library cannot write. Cheap: per-loop counters,
/// summed on read. Added in 0.1; `per_loop_size` since 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_stats(
    server: *const c10k_server,
    total: *mut c10k_stats,
    per_loop: *mut c10k_stats,
    per_loop_len: usize,
    per_loop_size: usize,
) -> i32 {
    ffi!({
        let (loops, sum) = server_ref(server)?.stats();
        put_stats(sum, total)?;
        let entries = try_sized_array(per_loop, per_loop_len.min(loops.len()), per_loop_size)?;
        for (entry, snapshot) in entries.into_iter().zip(loops) {
            put_stats(snapshot, entry)?;
        }
        Ok(())
    })
}

/// Stores a single loop's counters in `*out` (`size` set by the caller).
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_stats(lp: *const c10k_loop, out: *mut c10k_stats) -> i32 {
    // The loop's counters may be read from any thread.
    ffi!({ put_stats(try_ref(lp)?.stats(), out) })
}
