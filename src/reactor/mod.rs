//! The event loop: one poller, one thread, timers and a cross-thread mailbox.
//!
//! Loop state lives in a `RefCell` borrowed only for short stretches and
//! never across a callback, so callbacks may call back into the loop (write,
//! close, start timers) without aliasing. Anything that must wait until no
//! callback is running (freeing a connection, flushing output) is queued and
//! done at the end of the loop's turn.

mod handle;
mod registry;
mod slab;
mod source;
pub mod stats;
mod timers;

use std::cell::{Cell, RefCell};
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use polling::{Event, Events, PollMode, Poller};

pub use handle::{ConnId, Handle, Kind, ListenerId, TimerId};
pub use registry::{current_thread, owned_loop};
pub(crate) use slab::Slab;
pub(crate) use source::{Source, SourceCalls};
pub(crate) use timers::{Due, TimerFn};

use crate::error::{C10K_EBUSY, C10K_ECLOSED, C10K_EINVAL, C10K_EPANIC, Result, from_io};
use stats::Counters;

/// Size of the one read buffer a loop shares among its connections.
const READ_BUFFER_SIZE: usize = 64 * 1024;

/// A task posted from any thread, run on the loop thread.
pub type Task = Box<dyn FnOnce(&Loop) + Send>;

/// The part of a loop other threads may touch.
pub struct Shared {
    poller: Poller,
    mailbox: Mutex<Vec<Task>>,
    stop: AtomicBool,
    pub stats: Counters,
}

/// A `Send + Sync` reference to a loop for other threads: post tasks, stop
/// it, read its counters.
#[derive(Clone)]
pub struct LoopHandle {
    shared: Arc<Shared>,
}

impl LoopHandle {
    /// Runs `task` on the loop thread soon. Tasks run in the order posted.
    pub fn post(&self, task: Task) {
        self.shared.mailbox.lock().push(task);
        let _ = self.shared.poller.notify();
    }

    /// Makes `run` return after the current turn. Async-signal-safe: an
    /// atomic store and one `write` to an eventfd.
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
        let _ = self.shared.poller.notify();
    }

    pub fn stats(&self) -> stats::Snapshot {
        self.shared.stats.snapshot()
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Shared {
    /// See [`LoopHandle::stop`]; callable through a raw pointer from a signal handler.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.poller.notify();
    }
}

pub(crate) struct Core {
    sources: Slab<Box<dyn Source>>,
    pub timers: Timers,
    /// Sources with output to flush at the end of the turn.
    pub dirty: Vec<(u32, u32)>,
    /// Sources to free at the end of the turn, with the reason they close.
    pub closing: Vec<(u32, u32, i32)>,
    /// Work gathered during the turn, run once before output is written
    /// (batches of requests for a host that takes them together).
    pub turn_end: Vec<LocalTask>,
    pub now_ms: u64,
}

/// A task for the loop thread itself (not `Send`).
pub(crate) type LocalTask = Box<dyn FnOnce(&Loop)>;

pub(crate) use timers::Timers;

impl Core {
    /// Drops cancelled entries from the top of the timer heap, so that the
    /// loop neither wakes for them nor reports them as pending work.
    fn prune_timers(&mut self) {
        while let Some((deadline, due)) = self.timers.peek() {
            let live = match due {
                Due::User(s, g) => self.timers.user.get(s, g).is_some_and(|t| t.deadline == deadline),
                Due::Source(s, g) => self.sources.get(s, g).is_some_and(|src| src.timer_live(deadline)),
            };
            if live {
                break;
            }
            self.timers.pop();
        }
    }
}

/// An event loop. Not `Send`: it belongs to the thread that runs it; other
/// threads reach it through a [`LoopHandle`].
pub struct Loop {
    id: u16,
    shared: Arc<Shared>,
    pub(crate) core: RefCell<Core>,
    /// Taken while a callback borrows it, so that it is never aliased.
    read_buf: Cell<Vec<u8>>,
    events: RefCell<Events>,
    ready: Cell<Vec<Event>>,
    start: Instant,
    running: Cell<bool>,
    /// The process is going away: health checks answer 503 and responses
    /// end their connections, so that balancers and clients move on.
    draining: Cell<bool>,
    /// A panic unwound through a turn: the loop's state may be half
    /// updated, so it runs no more (it can still be freed).
    poisoned: Cell<bool>,
}

/// Marks the loop running while it lives; a panic unwinding through it
/// poisons the loop, and the loop is free-able afterwards either way.
struct Running<'a>(&'a Loop);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.poisoned.set(true);
        }
        self.0.running.set(false);
    }
}

impl Loop {
    /// A new loop owned by the calling thread.
    pub fn new() -> Result<Box<Loop>> {
        ignore_sigpipe();
        let poller = Poller::new().map_err(|e| from_io(&e))?;
        let shared = Arc::new(Shared {
            poller,
            mailbox: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            stats: Counters::default(),
        });
        let mut lp = Box::new(Loop {
            id: 0,
            shared,
            core: RefCell::new(Core {
                sources: Slab::default(),
                timers: Timers::default(),
                dirty: Vec::new(),
                closing: Vec::new(),
                turn_end: Vec::new(),
                now_ms: 0,
            }),
            read_buf: Cell::new(vec![0; READ_BUFFER_SIZE]),
            events: RefCell::new(Events::new()),
            ready: Cell::new(Vec::new()),
            start: Instant::now(),
            running: Cell::new(false),
            draining: Cell::new(false),
            poisoned: Cell::new(false),
        });
        lp.id = registry::register(&*lp)?;
        Ok(lp)
    }

    /// Marks the loop as draining (a graceful stop began, or is about to),
    /// or not any more.
    pub fn set_draining(&self, draining: bool) {
        self.draining.set(draining);
    }

    pub fn is_draining(&self) -> bool {
        self.draining.get()
    }

    pub fn id(&self) -> u16 {
        self.id
    }

    pub fn handle(&self) -> LoopHandle {
        LoopHandle { shared: self.shared.clone() }
    }

    pub fn stats(&self) -> &Counters {
        &self.shared.stats
    }

    /// The poller's descriptor: readable when the loop has work, for hosts
    /// that nest this loop in their own.
    #[cfg(not(polling_test_poll_backend))]
    pub fn fd(&self) -> Result<RawFd> {
        Ok(std::os::fd::AsRawFd::as_raw_fd(&self.shared.poller))
    }

    /// The portable `poll(2)` backend has no single descriptor to watch.
    #[cfg(polling_test_poll_backend)]
    pub fn fd(&self) -> Result<RawFd> {
        Err(crate::error::C10K_ENOTSUP)
    }

    /// Milliseconds since the loop was created, as of the start of this turn.
    pub fn now_ms(&self) -> u64 {
        self.core.borrow().now_ms
    }

    /// Milliseconds until the next timer is due (0 when work is already
    /// waiting), or `None` when no timer is set.
    pub fn next_timeout_ms(&self) -> Option<u64> {
        let mut core = self.core.borrow_mut();
        core.prune_timers();
        if !core.dirty.is_empty() || !core.closing.is_empty() || !self.shared.mailbox.lock().is_empty() {
            return Some(0);
        }
        let now = self.clock_ms();
        core.timers.next_deadline().map(|d| d.saturating_sub(now))
    }

    fn clock_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn clock_ms_ceil(&self) -> u64 {
        self.start.elapsed().as_nanos().div_ceil(1_000_000) as u64
    }

    /// Runs until [`LoopHandle::stop`]. A stop requested before `run`
    /// starts makes it return at once (the request is not lost).
    pub fn run(&self) -> Result<()> {
        let _running = self.enter()?;
        loop {
            if self.shared.stop.swap(false, Ordering::AcqRel) {
                break Ok(());
            }
            self.turn(None)?;
        }
    }

    /// One turn: wait up to `timeout` for events (not at all with zero),
    /// run what is due, flush output. `Ok(true)` when a stop was requested
    /// (the request is consumed), so that a host driving the loop itself
    /// learns of it.
    pub fn run_once(&self, timeout: Option<Duration>) -> Result<bool> {
        let _running = self.enter()?;
        let result = self.turn(timeout);
        let stopped = self.shared.stop.swap(false, Ordering::AcqRel);
        result.map(|()| stopped)
    }

    /// `C10K_EPANIC` once a panic went through the loop, `C10K_EBUSY` while
    /// it runs; otherwise marks it running on the calling thread.
    fn enter(&self) -> Result<Running<'_>> {
        if self.poisoned.get() {
            return Err(C10K_EPANIC);
        }
        if self.running.replace(true) {
            return Err(C10K_EBUSY);
        }
        registry::take_ownership(self.id);
        Ok(Running(self))
    }

    pub fn is_running(&self) -> bool {
        self.running.get()
    }

    fn turn(&self, timeout: Option<Duration>) -> Result<()> {
        self.finish_turn();
        let timeout = match self.next_timeout_ms() {
            Some(ms) => Some(timeout.map_or(Duration::from_millis(ms), |t| t.min(Duration::from_millis(ms)))),
            None => timeout,
        };
        let mut ready = self.ready.take();
        {
            let mut events = self.events.borrow_mut();
            events.clear();
            match self.shared.poller.wait(&mut events, timeout) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                // polling's poll(2) backend answers WouldBlock when a notify
                // from another thread raced its wake-up byte (flag seen, byte
                // not yet written): a spurious wake-up, not a dead loop.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(from_io(&e)),
            }
            ready.clear();
            ready.extend(events.iter());
        }
        self.core.borrow_mut().now_ms = self.clock_ms();
        for ev in &ready {
            self.dispatch(ev);
        }
        self.ready.set(ready);
        self.run_mailbox();
        self.run_timers();
        self.finish_turn();
        Ok(())
    }

    fn dispatch(&self, ev: &Event) {
        // The key carries the generation: an event for a source closed
        // earlier in this batch never reaches the one that took its slot.
        let (slot, generation) = (ev.key as u32, (ev.key >> 32) as u32);
        let Some(ready) = self.calls(slot, generation).map(|c| c.ready) else { return };
        ready(self, slot, generation, ev.readable, ev.writable);
    }

    /// The functions of the source at (slot, generation), if it is live.
    fn calls(&self, slot: u32, generation: u32) -> Option<&'static SourceCalls> {
        self.core.borrow().sources.get(slot, generation).map(|s| s.calls())
    }

    /// Runs one of every live source's functions (in slot order).
    fn each_source(&self, call: impl Fn(&SourceCalls) -> fn(&Loop, u32, u32)) {
        let keys = self.core.borrow().sources.keys();
        for (slot, generation) in keys {
            if let Some(calls) = self.calls(slot, generation) {
                call(calls)(self, slot, generation);
            }
        }
    }

    /// Starts a graceful shutdown: closes every listener and asks every
    /// connection's handler to finish its work and close (`on_shutdown`).
    pub fn begin_shutdown(&self) {
        self.each_source(|c| c.shutdown);
    }

    /// Closes every connection with `C10K_ECANCELED` and every listener.
    pub fn close_all_sources(&self) {
        self.each_source(|c| c.close);
        self.core.borrow_mut().timers.user = Default::default();
    }

    fn run_mailbox(&self) {
        let tasks = std::mem::take(&mut *self.shared.mailbox.lock());
        for task in tasks {
            task(self);
        }
    }

    fn run_timers(&self) {
        let now = self.core.borrow().now_ms;
        loop {
            let due = self.core.borrow_mut().timers.pop_due(now);
            match due {
                Some((deadline, Due::User(slot, generation))) => self.fire_user_timer(slot, generation, deadline),
                Some((deadline, Due::Source(slot, generation))) => {
                    if let Some(calls) = self.calls(slot, generation) {
                        (calls.timer)(self, slot, generation, deadline);
                    }
                }
                None => break,
            }
        }
        let mut core = self.core.borrow_mut();
        let live = core.sources.len();
        core.timers.compact(live);
    }

    /// Runs `task` at the end of this turn, before output is written; a
    /// task scheduled by one of those runs in the same turn too.
    pub(crate) fn at_turn_end(&self, task: LocalTask) {
        self.core.borrow_mut().turn_end.push(task);
    }

    /// Runs the end-of-turn tasks, then lets notified sources act
    /// (a pipelined request released by an answer may schedule another
    /// task), until neither is left: every answer of the turn is then
    /// queued before the first write, so each connection gets one.
    fn settle(&self) {
        loop {
            let tasks = std::mem::take(&mut self.core.borrow_mut().turn_end);
            if tasks.is_empty() {
                return;
            }
            for task in tasks {
                task(self);
            }
            let dirty = self.core.borrow().dirty.clone();
            for &(slot, generation) in &dirty {
                if let Some(calls) = self.calls(slot, generation) {
                    (calls.notify)(self, slot, generation);
                }
            }
        }
    }

    /// Flushes output and frees closed sources until neither is pending.
    fn finish_turn(&self) {
        loop {
            self.settle();
            let dirty = std::mem::take(&mut self.core.borrow_mut().dirty);
            for &(slot, generation) in &dirty {
                if let Some(calls) = self.calls(slot, generation) {
                    (calls.flush)(self, slot, generation);
                }
            }
            self.give_back_dirty(dirty);
            let closing = std::mem::take(&mut self.core.borrow_mut().closing);
            if closing.is_empty() && self.core.borrow().dirty.is_empty() && self.core.borrow().turn_end.is_empty() {
                break;
            }
            for (slot, generation, reason) in closing {
                if let Some(calls) = self.calls(slot, generation) {
                    (calls.free)(self, slot, generation, reason);
                }
            }
        }
    }

    /// Keeps the dirty list's allocation for the next turn.
    fn give_back_dirty(&self, mut dirty: Vec<(u32, u32)>) {
        let mut core = self.core.borrow_mut();
        if core.dirty.is_empty() {
            dirty.clear();
            core.dirty = dirty;
        }
    }

    /// Runs `f` with the shared read buffer.
    pub(crate) fn with_read_buf<R>(&self, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        let mut buf = self.read_buf.take();
        let result = f(&mut buf);
        self.read_buf.set(buf);
        result
    }

    // --- Poller registration, for the source modules ---

    pub(crate) fn poll_add(&self, fd: RawFd, source: (u32, u32), read: bool, write: bool) -> Result<()> {
        // SAFETY: every source is deleted from the poller before its descriptor closes.
        unsafe { self.shared.poller.add_with_mode(fd, interest(source, read, write), PollMode::Level) }
            .map_err(|e| from_io(&e))
    }

    pub(crate) fn poll_modify(&self, fd: RawFd, source: (u32, u32), read: bool, write: bool) -> Result<()> {
        // SAFETY: fd is open for as long as its source is registered.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        self.shared.poller.modify_with_mode(fd, interest(source, read, write), PollMode::Level).map_err(|e| from_io(&e))
    }

    pub(crate) fn poll_delete(&self, fd: RawFd) {
        // SAFETY: fd is still open here; it is closed right after.
        let _ = self.shared.poller.delete(unsafe { BorrowedFd::borrow_raw(fd) });
    }

    // --- Timers ---

    /// Calls `callback` after `delay_ms`, then every `repeat_ms` if that is not 0.
    pub fn timer_start(&self, delay_ms: u64, repeat_ms: u64, callback: TimerFn) -> TimerId {
        let mut core = self.core.borrow_mut();
        // Rounded up: the loop fires a deadline once the clock, rounded
        // down, reaches it, so a start rounded down would fire up to 1 ms early.
        let now = core.now_ms.max(self.clock_ms_ceil());
        let (slot, generation) = core.timers.start(now, delay_ms, repeat_ms, callback);
        Handle::new(Kind::Timer, self.id, slot, generation)
    }

    /// Stops a timer; its callback is dropped (at once, or when it returns
    /// if the timer stops itself).
    pub fn timer_stop(&self, timer: TimerId) -> Result<()> {
        if timer.expect(Kind::Timer)?.loop_id() != self.id {
            return Err(C10K_EINVAL);
        }
        let removed = self.core.borrow_mut().timers.user.remove(timer.slot(), timer.generation());
        removed.map(drop).ok_or(C10K_ECLOSED)
    }

    fn fire_user_timer(&self, slot: u32, generation: u32, deadline: u64) {
        let callback = {
            let mut core = self.core.borrow_mut();
            match core.timers.user.get_mut(slot, generation) {
                Some(t) if t.deadline == deadline => t.callback.take(),
                _ => None,
            }
        };
        let Some(mut callback) = callback else { return };
        callback(self, Handle::new(Kind::Timer, self.id, slot, generation));
        let mut core = self.core.borrow_mut();
        let now = core.now_ms;
        let Some(timer) = core.timers.user.get_mut(slot, generation) else { return };
        if timer.repeat_ms == 0 {
            core.timers.user.remove(slot, generation);
            return;
        }
        // Catch up from the deadline, not from now, so a repeating timer does not drift.
        timer.deadline = (deadline + timer.repeat_ms).max(now);
        timer.callback = Some(callback);
        let next = timer.deadline;
        core.timers.schedule(next, Due::User(slot, generation));
    }

    /// How many connections, listeners and timers are open.
    pub fn open_handles(&self) -> (usize, usize) {
        let core = self.core.borrow();
        (core.sources.len(), core.timers.user.len())
    }

    pub(crate) fn schedule(&self, deadline_ms: u64, due: Due) {
        self.core.borrow_mut().timers.schedule(deadline_ms, due);
    }
}

/// The poller event for a source (slot, generation): the key holds both.
fn interest((slot, generation): (u32, u32), read: bool, write: bool) -> Event {
    let key = ((generation as usize) << 32) | slot as usize;
    match (read, write) {
        (true, true) => Event::all(key),
        (true, false) => Event::readable(key),
        (false, true) => Event::writable(key),
        (false, false) => Event::none(key),
    }
}

impl Drop for Loop {
    /// Runs the tasks still posted, then closes every connection (each gets
    /// `on_close` with `C10K_ECANCELED`) and listener, and drops the timers.
    fn drop(&mut self) {
        self.run_mailbox();
        self.close_all_sources();
        self.finish_turn();
        registry::unregister(self.id);
    }
}

/// Makes writes to a closed socket fail with EPIPE instead of killing the
/// process. Our own writes pass MSG_NOSIGNAL, but `sendfile` cannot; a host
/// that installed its own SIGPIPE handler keeps it.
fn ignore_sigpipe() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: querying and setting a signal disposition.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGPIPE, std::ptr::null(), &mut old) == 0 && old.sa_sigaction == libc::SIG_DFL {
                libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            }
        }
    });
}
