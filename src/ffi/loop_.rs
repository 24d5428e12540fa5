//! `c10k_loop`: create, run, nest, stop, post, free; and timers.

use std::ffi::c_void;
use std::time::Duration;

use super::boundary::Positive;
use super::cast::{carry, handle, put, put_box, put_if, take_box, try_ref, uncarry};
use crate::error::*;
use crate::reactor::{Kind, Loop, LoopHandle, owned_loop};

/// An event loop: one poller and the thread that runs it.
///
/// Lifecycle: `c10k_loop_new` → listen, connect, start timers → `c10k_loop_run`
/// (or repeated `c10k_loop_run_once`) → `c10k_loop_stop` from anywhere →
/// `c10k_loop_free`. The thread that runs the loop (or, before the first run,
/// the one that created it) is its *loop thread*: the only thread that may
/// call loop-thread functions and the one on which every callback runs.
pub struct c10k_loop {
    /// What other threads may touch: post and stop.
    handle: LoopHandle,
    lp: Box<Loop>,
}

impl c10k_loop {
    /// The loop's counters; readable from any thread.
    pub(super) fn stats(&self) -> crate::reactor::stats::Snapshot {
        self.handle.stats()
    }
}

/// `c10k_loop_run_once` returns this (positive, not an error) when a stop
/// was requested.
pub const C10K_STOPPED: i32 = 2;

/// A task for `c10k_loop_post`: runs once on the loop thread.
pub type c10k_task_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, lp: *mut c10k_loop)>;

/// A timer callback: `timer` is the handle `c10k_timer_start` returned.
pub type c10k_timer_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, timer: u64)>;

/// The loop behind `lp`, if the calling thread owns it.
pub(super) fn loop_ref<'a>(lp: *const c10k_loop) -> Result<&'a Loop> {
    owned_loop(try_ref(lp)?.lp.id())
}

/// Creates a loop owned by the calling thread and stores it in `*out`.
///
/// Returns 0, `C10K_EINVAL` if `out` is NULL, or the error that creating the
/// poller gave (`C10K_EMFILE`, `C10K_ENOMEM`). The caller owns the loop and
/// frees it with `c10k_loop_free`. Creating the first loop sets SIGPIPE to
/// ignored if it was at its default (`sendfile` cannot suppress it per call).
///
/// Added in 0.1.
///
/// Thread safety: any thread; the caller becomes the loop thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_new(out: *mut *mut c10k_loop) -> i32 {
    ffi!({
        if out.is_null() {
            return Err(C10K_EINVAL);
        }
        let lp = Loop::new()?;
        put_box(out, c10k_loop { handle: lp.handle(), lp })
    })
}

/// Frees a loop. Tasks still posted run first; then every open connection
/// is closed (its `on_close` gets `C10K_ECANCELED`) and every timer dropped.
///
/// Returns `C10K_EBUSY` (and frees nothing) while a listener is open (close
/// them first: the caller owns those pointers) or while the loop is
/// running, for example from one of its own callbacks; NULL is a no-op.
/// No other thread may post to or stop the loop once this is called.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_free(lp: *mut c10k_loop) -> i32 {
    ffi!({
        if lp.is_null() {
            return Ok(());
        }
        let inner = loop_ref(lp)?;
        if inner.is_running() || inner.listener_count() > 0 {
            return Err(C10K_EBUSY);
        }
        drop(take_box(lp));
        Ok(())
    })
}

/// Runs the loop on the calling thread until `c10k_loop_stop`: every
/// callback of the loop runs on this thread, inside this call.
///
/// A stop requested before the call makes it return at once. One loop call
/// at a time: returns 0 after a stop, `C10K_EBUSY` if the loop is already
/// running, `C10K_EPANIC` if a panic inside the library was caught (the
/// loop then answers `C10K_EPANIC` to every run: close its listeners and
/// free it), or the poller's error.
///
/// Added in 0.1.
///
/// Thread safety: any thread; the caller becomes the loop thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_run(lp: *mut c10k_loop) -> i32 {
    ffi!({ try_ref(lp)?.lp.run() })
}

/// Runs one turn of the loop: waits up to `timeout_ms` for events (0: does
/// not wait; negative: waits until something happens), then runs the
/// callbacks that are due and flushes output.
///
/// For hosts with their own event loop: watch `c10k_loop_fd` for
/// readability and call this with 0 when it is readable, and when the time
/// from `c10k_loop_next_timeout` has passed. Returns 0, `C10K_STOPPED`
/// (positive) when `c10k_loop_stop` was called since the last turn (the
/// request is consumed: time for the host to stop driving the loop), or an
/// error as `c10k_loop_run`.
///
/// Added in 0.1.
///
/// Thread safety: any thread; the caller becomes the loop thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_run_once(lp: *mut c10k_loop, timeout_ms: i32) -> i32 {
    ffi!({
        let timeout = (timeout_ms >= 0).then(|| Duration::from_millis(timeout_ms as u64));
        let stopped = try_ref(lp)?.lp.run_once(timeout)?;
        Ok(if stopped { Positive::Stopped } else { Positive::Done })
    })
}

/// Asks the loop to return from `c10k_loop_run` after its current turn.
///
/// Async-signal-safe: it is one atomic store and one `write(2)`, so a
/// SIGINT/SIGTERM handler may call it directly. Returns 0, or `C10K_EINVAL`
/// for NULL.
///
/// Added in 0.1.
///
/// Thread safety: any thread, and signal handlers.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_stop(lp: *mut c10k_loop) -> i32 {
    // catch_unwind is async-signal-safe (it only sets up a landing pad),
    // and nothing here allocates or locks.
    ffi!({
        try_ref(lp)?.handle.shared().stop();
        Ok(())
    })
}

/// Runs `cb(user_data, loop)` once on the loop thread, soon, and wakes the
/// loop if it is waiting. Tasks run in the order they were posted. If the
/// loop is freed first, pending tasks run during `c10k_loop_free`.
///
/// Returns 0, or `C10K_EINVAL` for a NULL loop or callback (then `cb` is
/// never called). Not for signal handlers: it takes a lock.
///
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_post(lp: *mut c10k_loop, cb: c10k_task_cb, user_data: *mut c_void) -> i32 {
    ffi!({
        let (lp_ref, cb) = (try_ref(lp)?, cb.ok_or(C10K_EINVAL)?);
        let (user_data, lp) = (carry(user_data), carry(lp));
        lp_ref.handle.post(Box::new(move |_| {
            // SAFETY: the host's callback with its own user data and loop.
            unsafe { cb(uncarry(user_data), uncarry(lp)) }
        }));
        Ok(())
    })
}

/// Test only: makes the loop's next turn panic inside the library, as a
/// bug there would, so that a host can test its `C10K_EPANIC` path: the
/// running `c10k_loop_run` (or `_run_once`) then returns `C10K_EPANIC`,
/// the loop runs no more (`C10K_EPANIC` again), and it can still be freed
/// once its listeners are closed. Never call it otherwise. Returns 0, or
/// `C10K_EINVAL` for NULL. Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_test_loop_panic(lp: *mut c10k_loop) -> i32 {
    ffi!({
        try_ref(lp)?.handle.post(Box::new(|_| panic!("c10k_test_loop_panic: a panic on purpose")));
        Ok(())
    })
}

/// Stores in `*out_fd` the loop's pollable descriptor: it becomes readable
/// when the loop has events to handle. The descriptor is the loop's: do not
/// close it. Returns 0, `C10K_EINVAL` for NULL, or `C10K_ENOTSUP` on a
/// platform whose poller has no such descriptor. Added in 0.1; `out_fd`
/// since 0.2 (the descriptor was the return value).
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_fd(lp: *const c10k_loop, out_fd: *mut i32) -> i32 {
    ffi!({
        let fd = try_ref(lp)?.lp.fd()?;
        put(out_fd, fd)
    })
}

/// Stores in `*out_ms` how many milliseconds a nesting host may wait before
/// calling `c10k_loop_run_once` again: 0 when work is waiting, -1 when no
/// timer is set (wait for `c10k_loop_fd` only). Stopped timers are not
/// counted.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_next_timeout(lp: *const c10k_loop, out_ms: *mut i64) -> i32 {
    ffi!({
        let ms = loop_ref(lp)?.next_timeout_ms().map_or(-1, |ms| ms.min(i64::MAX as u64) as i64);
        put(out_ms, ms)
    })
}

/// Counts what is open on the loop: connections plus listeners in
/// `*out_sources`, timers in `*out_timers` (either may be NULL). A program
/// that closed everything sees 0 and 0.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_open_handles(
    lp: *const c10k_loop,
    out_sources: *mut usize,
    out_timers: *mut usize,
) -> i32 {
    ffi!({
        let (sources, timers) = loop_ref(lp)?.open_handles();
        put_if(out_sources, sources);
        put_if(out_timers, timers);
        Ok(())
    })
}

/// Starts a timer: `cb(user_data, timer)` runs on the loop thread after
/// `delay_ms`, then every `repeat_ms` if that is not 0. The handle goes to
/// `*out_timer` (may be NULL). A one-shot timer ends after its callback; a
/// repeating one runs until `c10k_timer_stop`.
///
/// Returns 0, `C10K_EINVAL` (NULL loop or callback; `cb` is then never
/// called), or `C10K_EWRONGTHREAD`.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_timer_start(
    lp: *mut c10k_loop,
    delay_ms: u64,
    repeat_ms: u64,
    cb: c10k_timer_cb,
    user_data: *mut c_void,
    out_timer: *mut u64,
) -> i32 {
    ffi!({
        let (lp, cb) = (loop_ref(lp)?, cb.ok_or(C10K_EINVAL)?);
        let user_data = carry(user_data);
        let id = lp.timer_start(
            delay_ms,
            repeat_ms,
            Box::new(move |_, timer| {
                // SAFETY: the host's callback with its own user data.
                unsafe { cb(uncarry(user_data), timer.0) }
            }),
        );
        put_if(out_timer, id.0);
        Ok(())
    })
}

/// Stops a timer; its callback will not run again. Allowed from the timer's
/// own callback. Returns 0, or `C10K_ECLOSED` for a timer that already ended
/// or never existed.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_timer_stop(timer: u64) -> i32 {
    ffi!({
        let timer = handle(timer, Kind::Timer)?;
        owned_loop(timer.loop_id())?.timer_stop(timer)
    })
}
