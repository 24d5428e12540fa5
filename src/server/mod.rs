//! A server: N loops on N threads (one per CPU by default), each with its
//! own `SO_REUSEPORT` listener so that the kernel spreads connections; a
//! connection stays on its loop for life. Optionally a worker pool runs the
//! HTTP handlers. Graceful shutdown and summed statistics.

mod owner;
mod pool;

use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::conn::Acceptor;
use crate::error::*;
use crate::http::server::{HttpConfig, HttpHandler};
use crate::net::ListenOptions;
use crate::reactor::stats::Snapshot;
use crate::reactor::{Loop, LoopHandle, Shared};
use pool::Pool;

/// How a server is laid out.
#[derive(Clone, Copy, Debug)]
pub struct ServerConfig {
    /// Loops (threads doing I/O); 0: one per CPU.
    pub loops: usize,
    /// Worker threads for HTTP handlers; 0: handlers run on the loops.
    pub workers: usize,
    /// Requests waiting for a worker; past it the loop answers 503.
    pub queue_limit: usize,
    /// Deadline of a stop requested without one (signals, drop).
    pub shutdown_timeout_ms: u32,
    /// How long a graceful stop drains before it stops accepting: health
    /// checks answer 503 and responses close their connections, while
    /// everything is still served, so that balancers and clients move on.
    pub drain_delay_ms: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig { loops: 0, workers: 0, queue_limit: 1024, shutdown_timeout_ms: 5_000, drain_delay_ms: 0 }
    }
}

/// Makes the acceptor of one listener on one loop.
pub type AcceptorFactory = Arc<dyn Fn(&Loop) -> Box<dyn Acceptor> + Send + Sync>;

/// Where a server listens.
#[derive(Clone, Copy, Debug)]
pub enum Bind {
    /// A numeric address; every loop opens its own `SO_REUSEPORT` socket.
    Addr(SocketAddr),
    /// A listening socket handed over (systemd's `LISTEN_FDS`, a previous
    /// process): the server owns it and every loop accepts from a
    /// duplicate, so no connection waiting in its queue is lost.
    Fd(RawFd),
}

#[derive(Clone)]
enum Spec {
    Tcp { bind: Bind, options: ListenOptions, make: AcceptorFactory },
    Http { bind: Bind, options: ListenOptions, config: HttpConfig, handler: Arc<dyn HttpHandler + Send + Sync> },
}

impl Spec {
    fn bind(&self) -> Bind {
        match self {
            Spec::Tcp { bind, .. } | Spec::Http { bind, .. } => *bind,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    /// Every loop on a thread of ours.
    Threads,
    /// Loop 0 on the thread that called `run`.
    Caller,
    Stopping,
    Stopped,
}

struct Inner {
    /// Marks the server's own threads (see `owner`).
    id: u64,
    config: ServerConfig,
    loop_count: usize,
    specs: Mutex<Vec<Spec>>,
    addrs: Mutex<Vec<SocketAddr>>,
    loops: Mutex<Vec<LoopHandle>>,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    pool: Option<Arc<Pool>>,
    state: Mutex<State>,
    changed: Condvar,
    stop_requested: AtomicBool,
    deadline_ms: AtomicU32,
    /// Loop 0's shared part, reachable from a signal handler without a lock.
    first_loop: AtomicPtr<Shared>,
    /// Self-pipe: `request_stop` writes a byte, `wait` reads it.
    wake: [RawFd; 2],
}

/// A multi-loop server. `Sync`: stop it, wait for it and read its
/// statistics from any thread.
pub struct Server {
    inner: Arc<Inner>,
}

impl Server {
    pub fn new(config: ServerConfig) -> Result<Server> {
        let loop_count = match config.loops {
            0 => thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        let mut wake = [0; 2];
        // SAFETY: wake has room for two descriptors.
        if unsafe { libc::pipe2(wake.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } < 0 {
            return Err(last_os_error());
        }
        let id = owner::new_id();
        let pool = (config.workers > 0).then(|| Pool::start(config.workers, config.queue_limit.max(1), id));
        let inner = Inner {
            id,
            config,
            loop_count,
            specs: Mutex::new(Vec::new()),
            addrs: Mutex::new(Vec::new()),
            loops: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            pool,
            state: Mutex::new(State::Idle),
            changed: Condvar::new(),
            stop_requested: AtomicBool::new(false),
            deadline_ms: AtomicU32::new(config.shutdown_timeout_ms),
            first_loop: AtomicPtr::new(std::ptr::null_mut()),
            wake,
        };
        Ok(Server { inner: Arc::new(inner) })
    }

    pub fn loop_count(&self) -> usize {
        self.inner.loop_count
    }

    /// Keeps a listener's spec; a handed-over descriptor is the server's
    /// from here on, even on failure.
    fn add_spec(&self, spec: Spec) -> Result<()> {
        let checked = match spec.bind() {
            Bind::Fd(fd) => crate::net::adopt_listener(fd).inspect_err(|_| crate::net::close_fd(fd)),
            Bind::Addr(_) => Ok(()),
        };
        checked?;
        if *self.inner.state.lock() != State::Idle {
            if let Bind::Fd(fd) = spec.bind() {
                crate::net::close_fd(fd);
            }
            return Err(C10K_EBUSY);
        }
        self.inner.specs.lock().push(spec);
        Ok(())
    }

    /// Serves raw TCP on `addr` on every loop (before `start` or `run`).
    pub fn listen(&self, addr: SocketAddr, options: ListenOptions, make: AcceptorFactory) -> Result<()> {
        self.listen_on(Bind::Addr(addr), options, make)
    }

    /// Serves raw TCP on `bind` on every loop (before `start` or `run`).
    pub fn listen_on(&self, bind: Bind, options: ListenOptions, make: AcceptorFactory) -> Result<()> {
        self.add_spec(Spec::Tcp { bind, options, make })
    }

    /// Serves HTTP on `addr` on every loop (before `start` or `run`). With
    /// workers, `handler` runs on the pool; otherwise on the loops.
    pub fn http_listen(
        &self,
        addr: SocketAddr,
        options: ListenOptions,
        config: HttpConfig,
        handler: Arc<dyn HttpHandler + Send + Sync>,
    ) -> Result<()> {
        self.http_listen_on(Bind::Addr(addr), options, config, handler)
    }

    /// Serves HTTP on `bind` on every loop, as [`Server::http_listen`].
    pub fn http_listen_on(
        &self,
        bind: Bind,
        options: ListenOptions,
        config: HttpConfig,
        handler: Arc<dyn HttpHandler + Send + Sync>,
    ) -> Result<()> {
        self.add_spec(Spec::Http { bind, options, config, handler })
    }

    /// The bound addresses, one per `listen`/`http_listen` in order, once running.
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.inner.addrs.lock().clone()
    }

    /// Starts every loop on a thread of its own; returns once all listen.
    pub fn start(&self) -> Result<()> {
        self.inner.claim(State::Threads)?;
        let started = (|| {
            let (first, addrs) = self.inner.spawn_loop(None)?;
            self.inner.publish(first, &addrs);
            for _ in 1..self.inner.loop_count {
                let (handle, _) = self.inner.spawn_loop(Some(addrs.clone()))?;
                self.inner.loops.lock().push(handle);
            }
            Ok(())
        })();
        started.inspect_err(|_| self.inner.shutdown(None, false))
    }

    /// Runs loop 0 on the calling thread (its callbacks arrive here) and the
    /// others on threads of ours; returns after a stop, once all is closed.
    pub fn run(&self) -> Result<()> {
        self.inner.claim(State::Caller)?;
        let _own = owner::Scope::enter(self.inner.id);
        let lp = Loop::new()?;
        let opened = self.inner.open_listeners(&lp, None).and_then(|addrs| {
            self.inner.publish(lp.handle(), &addrs);
            for _ in 1..self.inner.loop_count {
                let (handle, _) = self.inner.spawn_loop(Some(addrs.clone()))?;
                self.inner.loops.lock().push(handle);
            }
            Ok(())
        });
        let result = opened.and_then(|()| {
            loop {
                lp.run()?;
                if self.inner.stop_requested.load(Ordering::Acquire) {
                    break Ok(());
                }
            }
        });
        self.inner.shutdown(Some(&lp), result.is_ok());
        result
    }

    /// Asks for a graceful stop with the configured deadline.
    /// Async-signal-safe (atomics and `write`): call it from a SIGINT or
    /// SIGTERM handler. `run` carries it out; after `start`, a thread in
    /// `wait` does.
    pub fn request_stop(&self) {
        self.inner.request_stop();
    }

    /// Whether the calling thread is one of the server's own (a loop or a
    /// worker), where its callbacks run.
    pub fn is_own_thread(&self) -> bool {
        owner::is_own(self.inner.id)
    }

    /// Stops gracefully: stops accepting, lets requests in flight finish
    /// and their responses flush, closes idle connections, and after
    /// `deadline_ms` aborts what is left. Returns once everything is closed.
    ///
    /// On one of the server's own threads it cannot wait for itself: it
    /// only asks for the stop, as [`Server::request_stop`], and returns.
    pub fn stop(&self, deadline_ms: u32) -> Result<()> {
        self.inner.deadline_ms.store(deadline_ms, Ordering::Release);
        if self.is_own_thread() {
            self.inner.request_stop();
            return Ok(());
        }
        let mut state = self.inner.state.lock();
        match *state {
            State::Idle | State::Stopped => return Ok(()),
            State::Threads => {
                *state = State::Stopping;
                drop(state);
                self.inner.shutdown(None, true);
                return Ok(());
            }
            State::Caller => self.inner.request_stop(),
            State::Stopping => {}
        }
        while *state != State::Stopped {
            self.inner.changed.wait(&mut state);
        }
        Ok(())
    }

    /// Blocks until the server has stopped, carrying out a stop requested
    /// with `request_stop` (from a signal handler) meanwhile.
    /// `C10K_EDEADLK` on one of the server's own threads.
    pub fn wait(&self) -> Result<()> {
        if self.is_own_thread() {
            return Err(C10K_EDEADLK);
        }
        loop {
            {
                let mut state = self.inner.state.lock();
                match *state {
                    State::Idle | State::Stopped => return Ok(()),
                    State::Threads => {}
                    State::Caller | State::Stopping => {
                        self.inner.changed.wait_for(&mut state, Duration::from_millis(100));
                        continue;
                    }
                }
            }
            self.inner.wait_for_wake();
            if self.inner.stop_requested.load(Ordering::Acquire) {
                return self.stop(self.inner.deadline_ms.load(Ordering::Acquire));
            }
        }
    }

    /// Counters per loop, and their sum.
    pub fn stats(&self) -> (Vec<Snapshot>, Snapshot) {
        let per_loop: Vec<Snapshot> = self.inner.loops.lock().iter().map(|h| h.stats()).collect();
        let mut total = Snapshot::default();
        for s in &per_loop {
            total += *s;
        }
        (per_loop, total)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop(self.inner.config.shutdown_timeout_ms);
        if let Some(pool) = &self.inner.pool {
            pool.shutdown(); // never started: its threads still wait for work
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Here, not in Server's drop: a loop thread may still hold Inner.
        for fd in self.wake {
            crate::net::close_fd(fd);
        }
        for spec in self.specs.lock().iter() {
            if let Bind::Fd(fd) = spec.bind() {
                crate::net::close_fd(fd);
            }
        }
    }
}

impl Inner {
    /// Moves from Idle to `running`, or refuses.
    fn claim(&self, running: State) -> Result<()> {
        let mut state = self.state.lock();
        if *state != State::Idle {
            return Err(C10K_EBUSY);
        }
        *state = running;
        Ok(())
    }

    /// Records loop 0 and the bound addresses. When loop 0 runs on the
    /// caller's thread, a stop request stops it so that `run` can drain.
    fn publish(&self, first: LoopHandle, addrs: &[SocketAddr]) {
        if *self.state.lock() == State::Caller {
            self.first_loop.store(Arc::as_ptr(first.shared()) as *mut Shared, Ordering::Release);
        }
        self.loops.lock().insert(0, first);
        *self.addrs.lock() = addrs.to_vec();
    }

    /// Opens every listener on `lp`: on loop 0 at the requested addresses
    /// (port 0 resolves there), on the others at loop 0's bound addresses.
    fn open_listeners(&self, lp: &Loop, bound: Option<&[SocketAddr]>) -> Result<Vec<SocketAddr>> {
        let specs = self.specs.lock().clone();
        let shared_port = self.loop_count > 1;
        specs
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let acceptor = match spec {
                    Spec::Tcp { make, .. } => make(lp),
                    Spec::Http { config, handler, .. } => lp.http_acceptor(*config, self.http_handler(handler)),
                };
                let (Spec::Tcp { options, .. } | Spec::Http { options, .. }) = spec;
                let mut options = *options;
                options.socket.reuse_port |= shared_port;
                let id = match spec.bind() {
                    Bind::Addr(addr) => lp.listen(bound.map_or(&addr, |b| &b[i]), &options, acceptor)?,
                    Bind::Fd(fd) => lp.listen_fd(crate::net::dup_cloexec(fd)?, &options, acceptor)?,
                };
                lp.listener_addr(id)
            })
            .collect()
    }

    fn http_handler(&self, handler: &Arc<dyn HttpHandler + Send + Sync>) -> Box<dyn HttpHandler> {
        match &self.pool {
            Some(pool) => Box::new(pool::Pooled { inner: handler.clone(), pool: pool.clone() }),
            None => Box::new(pool::Shared(handler.clone())),
        }
    }

    /// Starts a loop on a new thread and waits until it listens.
    fn spawn_loop(self: &Arc<Self>, bound: Option<Vec<SocketAddr>>) -> Result<(LoopHandle, Vec<SocketAddr>)> {
        // A lock and a condition rather than a channel: std's channels
        // give the host's thread a handle that is never freed.
        let started = Arc::new((Mutex::new(None), Condvar::new()));
        let tell = started.clone();
        let send = move |result: Result<(LoopHandle, Vec<SocketAddr>)>| {
            *tell.0.lock() = Some(result);
            tell.1.notify_one();
        };
        let inner = self.clone();
        let index = self.threads.lock().len();
        let thread = thread::Builder::new()
            .name(format!("c10k-loop-{index}"))
            .spawn(move || {
                owner::enter(inner.id);
                // A panic while starting must still answer the waiting caller.
                let setup = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let lp = Loop::new()?;
                    let addrs = inner.open_listeners(&lp, bound.as_deref())?;
                    Ok((lp, addrs))
                }));
                match setup {
                    Ok(Ok((lp, addrs))) => {
                        send(Ok((lp.handle(), addrs)));
                        let _ = lp.run();
                    }
                    Ok(Err(e)) => send(Err(e)),
                    Err(_) => send(Err(C10K_EPANIC)),
                }
            })
            .map_err(|e| from_io(&e))?;
        self.threads.lock().push(thread);
        let mut result = started.0.lock();
        loop {
            if let Some(result) = result.take() {
                return result;
            }
            started.1.wait(&mut result);
        }
    }

    fn request_stop(&self) {
        self.stop_requested.store(true, Ordering::Release);
        let first = self.first_loop.load(Ordering::Acquire);
        // SAFETY: the loops list keeps loop 0's Shared alive while the pointer is set.
        if let Some(shared) = unsafe { first.as_ref() } {
            shared.stop();
        }
        // SAFETY: writing one byte to our own pipe.
        unsafe { libc::write(self.wake[1], b"x".as_ptr() as *const libc::c_void, 1) };
    }

    /// Blocks until something is written to the wake pipe, and drains it.
    fn wait_for_wake(&self) {
        let mut pfd = libc::pollfd { fd: self.wake[0], events: libc::POLLIN, revents: 0 };
        // SAFETY: pfd is valid; the pipe is ours.
        unsafe {
            libc::poll(&mut pfd, 1, 200);
            let mut buf = [0u8; 64];
            while libc::read(self.wake[0], buf.as_mut_ptr() as *mut libc::c_void, buf.len()) > 0 {}
        }
    }

    /// The graceful shutdown, after the configured drain when `drain`.
    /// `lp0` is loop 0 when it runs on this thread.
    fn shutdown(&self, lp0: Option<&Loop>, drain: bool) {
        *self.state.lock() = State::Stopping;
        let handles = self.loops.lock().clone();
        let on_each = |task: fn(&Loop)| {
            for (i, h) in handles.iter().enumerate() {
                match lp0 {
                    Some(lp) if i == 0 => task(lp),
                    _ => h.post(Box::new(task)),
                }
            }
        };
        // Loop 0 keeps running meanwhile when it is ours to run.
        let wait_until = |end: Instant, done: &dyn Fn() -> bool| {
            while Instant::now() < end && !done() {
                match lp0 {
                    Some(lp) => drop(lp.run_once(Some(Duration::from_millis(10)))),
                    None => thread::sleep(Duration::from_millis(5)),
                }
            }
        };
        if drain && self.config.drain_delay_ms > 0 {
            on_each(|lp| lp.set_draining(true));
            wait_until(Instant::now() + Duration::from_millis(self.config.drain_delay_ms as u64), &|| false);
        }
        // Replies completed from now on say `Connection: close`, even
        // those serialised before their loop runs `begin_shutdown`.
        for h in &handles {
            crate::http::server::reply::close_after_on(h);
        }
        on_each(Loop::begin_shutdown);
        let end = Instant::now() + Duration::from_millis(self.deadline_ms.load(Ordering::Acquire) as u64);
        wait_until(end, &|| handles.iter().map(|h| h.stats().open_connections).sum::<u64>() == 0);
        on_each(Loop::close_all_sources);
        if let Some(lp) = lp0 {
            let _ = lp.run_once(Some(Duration::ZERO));
        }
        for h in &handles {
            h.stop();
        }
        for t in self.threads.lock().drain(..) {
            let _ = t.join();
        }
        if let Some(pool) = &self.pool {
            pool.shutdown();
        }
        self.first_loop.store(std::ptr::null_mut(), Ordering::Release);
        *self.state.lock() = State::Stopped;
        self.changed.notify_all();
        // SAFETY: wakes a thread in `wait`.
        unsafe { libc::write(self.wake[1], b"x".as_ptr() as *const libc::c_void, 1) };
    }
}
