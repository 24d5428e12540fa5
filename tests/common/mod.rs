//! Helpers shared by the integration tests: a loop running on its own
//! thread, an echo handler, a recording handler, and small client-side tools.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use c10k::{Acceptor, ConnHandler, ConnId, ListenOptions, ListenerId, Loop, LoopHandle};

/// The most bytes any echo connection had queued, for backpressure tests.
pub static ECHO_MAX_PENDING: AtomicU64 = AtomicU64::new(0);

/// How long any wait in a test may last before it counts as a failure.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// Echoes every byte back, pausing reads while the queue is above its high mark.
pub struct Echo;

impl ConnHandler for Echo {
    fn on_data(&mut self, lp: &Loop, conn: ConnId, data: &[u8]) {
        let above = lp.conn_write(conn, data).unwrap();
        ECHO_MAX_PENDING.fetch_max(lp.conn_pending(conn).unwrap(), Ordering::Relaxed);
        if above {
            lp.conn_set_reading(conn, false).unwrap();
        }
    }
    fn on_drain(&mut self, lp: &Loop, conn: ConnId) {
        lp.conn_set_reading(conn, true).unwrap();
    }
}

pub struct EchoAcceptor;

impl Acceptor for EchoAcceptor {
    fn accept(&mut self, _lp: &Loop, _conn: ConnId) -> (Box<dyn ConnHandler>, usize) {
        (Box::new(Echo), 0)
    }
}

/// Runs `f` on the loop thread and returns its result.
pub fn on_loop<R, F>(handle: &LoopHandle, f: F) -> R
where
    R: Send + 'static,
    F: FnOnce(&Loop) -> R + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    handle.post(Box::new(move |lp| {
        let _ = tx.send(f(lp));
    }));
    rx.recv_timeout(PATIENCE).expect("the loop did not run a posted task")
}

/// Polls `cond` until it holds; panics naming `what` after [`PATIENCE`].
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < PATIENCE, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(2));
    }
}

/// A loop on its own thread, usually listening, shut down by
/// [`Server::finish`], which proves the loop closed everything.
pub struct Server {
    /// The listener's address (unspecified for a bare loop).
    pub addr: SocketAddr,
    pub listener: Option<ListenerId>,
    pub handle: LoopHandle,
    thread: thread::JoinHandle<()>,
}

impl Server {
    /// Listens on `addr` (port 0 picks one) with the acceptor `make` builds on the loop thread.
    pub fn start<M>(addr: &str, options: ListenOptions, make: M) -> Server
    where
        M: FnOnce() -> Box<dyn Acceptor> + Send + 'static,
    {
        let addr: SocketAddr = addr.parse().unwrap();
        Server::start_with(move |lp| {
            let id = lp.listen(&addr, &options, make()).unwrap();
            Some(id)
        })
    }

    /// A loop with nothing open, for timers and posted tasks.
    pub fn bare() -> Server {
        Server::start_with(|_| None)
    }

    fn start_with<F>(setup: F) -> Server
    where
        F: FnOnce(&Loop) -> Option<ListenerId> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || {
            let lp = Loop::new().unwrap();
            let listener = setup(&lp);
            let addr = listener.map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |id| lp.listener_addr(id).unwrap());
            tx.send((addr, listener, lp.handle())).unwrap();
            lp.run().unwrap();
        });
        let (addr, listener, handle) = rx.recv().unwrap();
        Server { addr, listener, handle, thread }
    }

    /// An echo server on 127.0.0.1.
    pub fn echo(options: ListenOptions) -> Server {
        Server::start("127.0.0.1:0", options, || Box::new(EchoAcceptor))
    }

    pub fn on_loop<R, F>(&self, f: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(&Loop) -> R + Send + 'static,
    {
        on_loop(&self.handle, f)
    }

    /// Closes the listener, waits until the loop reports nothing open
    /// (clients must have closed their side), then stops and joins the loop.
    pub fn finish(self) {
        if let Some(listener) = self.listener {
            self.on_loop(move |lp| lp.listener_close(listener)).unwrap();
        }
        wait_until("the loop reports no open handles", || self.on_loop(|lp| lp.open_handles()) == (0, 0));
        assert_eq!(self.handle.stats().open_connections, 0);
        self.handle.stop();
        self.thread.join().unwrap();
    }
}

/// What a [`Probe`] saw, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Open,
    Data(Vec<u8>),
    End,
    Drain,
    Timeout,
    Close(i32),
}

/// A shared, thread-safe record of connection events.
#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<(ConnId, Ev)>>>);

impl Log {
    pub fn push(&self, conn: ConnId, ev: Ev) {
        self.0.lock().unwrap().push((conn, ev));
    }

    pub fn events(&self) -> Vec<(ConnId, Ev)> {
        self.0.lock().unwrap().clone()
    }

    /// The events of one connection, without its id.
    pub fn of(&self, conn: ConnId) -> Vec<Ev> {
        self.events().into_iter().filter(|(c, _)| *c == conn).map(|(_, e)| e).collect()
    }

    /// Every connection's `on_close` reason, in order.
    pub fn closes(&self) -> Vec<(ConnId, i32)> {
        let events = self.events().into_iter();
        events.filter_map(|(c, e)| if let Ev::Close(r) = e { Some((c, r)) } else { None }).collect()
    }

    /// The bytes the connection received, concatenated.
    pub fn data(&self, conn: ConnId) -> Vec<u8> {
        self.of(conn).into_iter().flat_map(|e| if let Ev::Data(d) = e { d } else { Vec::new() }).collect()
    }

    pub fn wait_for_closes(&self, n: usize) {
        wait_until(&format!("{n} connection(s) closed"), || self.closes().len() >= n);
    }
}

type DataFn = Box<dyn FnMut(&Loop, ConnId, &[u8])>;
type ConnFn = Box<dyn FnMut(&Loop, ConnId)>;
type DecideFn = Box<dyn FnMut(&Loop, ConnId) -> bool>;

/// A handler that records every event in a [`Log`] and then does what the
/// test told it to (by default: echo data, close on end of stream).
pub struct Probe {
    log: Log,
    open: Option<ConnFn>,
    data: Option<DataFn>,
    end: Option<DecideFn>,
    timeout: Option<DecideFn>,
}

impl Probe {
    /// Echoes, and closes when the peer ends (the defaults of `ConnHandler`).
    pub fn new(log: &Log) -> Probe {
        let data: DataFn = Box::new(|lp, conn, data| {
            lp.conn_write(conn, data).unwrap();
        });
        Probe { log: log.clone(), open: None, data: Some(data), end: None, timeout: None }
    }

    pub fn on_open(mut self, f: impl FnMut(&Loop, ConnId) + 'static) -> Probe {
        self.open = Some(Box::new(f));
        self
    }

    pub fn on_data(mut self, f: impl FnMut(&Loop, ConnId, &[u8]) + 'static) -> Probe {
        self.data = Some(Box::new(f));
        self
    }

    pub fn on_end(mut self, f: impl FnMut(&Loop, ConnId) -> bool + 'static) -> Probe {
        self.end = Some(Box::new(f));
        self
    }

    pub fn on_timeout(mut self, f: impl FnMut(&Loop, ConnId) -> bool + 'static) -> Probe {
        self.timeout = Some(Box::new(f));
        self
    }
}

impl ConnHandler for Probe {
    fn on_open(&mut self, lp: &Loop, conn: ConnId) {
        self.log.push(conn, Ev::Open);
        if let Some(f) = &mut self.open {
            f(lp, conn);
        }
    }
    fn on_data(&mut self, lp: &Loop, conn: ConnId, data: &[u8]) {
        self.log.push(conn, Ev::Data(data.to_vec()));
        if let Some(f) = &mut self.data {
            f(lp, conn, data);
        }
    }
    fn on_end(&mut self, lp: &Loop, conn: ConnId) -> bool {
        self.log.push(conn, Ev::End);
        self.end.as_mut().is_some_and(|f| f(lp, conn))
    }
    fn on_drain(&mut self, _lp: &Loop, conn: ConnId) {
        self.log.push(conn, Ev::Drain);
    }
    fn on_timeout(&mut self, lp: &Loop, conn: ConnId) -> bool {
        self.log.push(conn, Ev::Timeout);
        self.timeout.as_mut().is_some_and(|f| f(lp, conn))
    }
    fn on_close(&mut self, _lp: &Loop, conn: ConnId, reason: i32, _user_data: usize) {
        self.log.push(conn, Ev::Close(reason));
    }
}

/// Gives every accepted connection the handler `make` builds.
pub struct ProbeAcceptor<F>(pub F);

impl<F: FnMut() -> Probe> Acceptor for ProbeAcceptor<F> {
    fn accept(&mut self, _lp: &Loop, _conn: ConnId) -> (Box<dyn ConnHandler>, usize) {
        (Box::new((self.0)()), 0)
    }
}

/// A server on `addr` whose connections get the probe `make` builds.
pub fn probe_server<F>(addr: &str, make: F) -> Server
where
    F: FnMut() -> Probe + Send + 'static,
{
    Server::start(addr, ListenOptions::default(), move || Box::new(ProbeAcceptor(make)))
}

/// A blocking client with a read timeout, so that a missing reply fails the test instead of hanging it.
pub fn client(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    s
}

/// Reads until end of stream: the bytes, or the error that ended the stream.
pub fn read_to_eof(s: &mut TcpStream) -> (Vec<u8>, io::Result<()>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (got, Ok(())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) => return (got, Err(e)),
        }
    }
}

/// Writes `msg` and reads exactly its length back.
pub fn round_trip(s: &mut TcpStream, msg: &[u8]) -> Vec<u8> {
    s.write_all(msg).unwrap();
    let mut back = vec![0u8; msg.len()];
    s.read_exact(&mut back).unwrap();
    back
}

/// Raises the soft limit on open descriptors to `want` (at most the hard
/// limit) and returns the new soft limit.
pub fn raise_nofile(want: u64) -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: lim is valid for writing.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_cur < want {
        lim.rlim_cur = want.min(lim.rlim_max);
        // SAFETY: lim is a valid rlimit.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) }, 0);
    }
    lim.rlim_cur
}

/// How many descriptors the process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// CPU time (user + system) the calling thread has used.
pub fn thread_cpu_time() -> Duration {
    // SAFETY: an all-zero rusage is valid; the kernel fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: usage is valid for writing.
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_THREAD, &mut usage) }, 0);
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Re-runs this test binary with only the test `name` and the environment
/// `env`, with piped stdin and stdout, for parts that need their own process
/// (their own descriptor limit).
pub fn spawn_self(name: &str, env: &[(&str, &str)]) -> std::process::Child {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([name, "--exact", "--ignored", "--nocapture", "--test-threads=1"]);
    cmd.envs(env.iter().copied());
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped());
    cmd.spawn().unwrap()
}

/// Whether the loop's descriptor is readable within `timeout_ms`: whether
/// the loop has work (a host nesting the loop would call `run_once`).
pub fn loop_fd_ready(lp: &Loop, timeout_ms: i32) -> bool {
    let mut pfd = libc::pollfd { fd: lp.fd().expect("the poller has a descriptor"), events: libc::POLLIN, revents: 0 };
    // SAFETY: pfd is valid for the call.
    let n = unsafe { libc::poll(&mut pfd, 1, timeout_ms) };
    assert!(n >= 0, "poll: {}", io::Error::last_os_error());
    n == 1
}

/// Drives `lp` from the calling thread the way a host nests it: wait for
/// its descriptor with the loop's own next timeout, then `run_once` without
/// blocking; until `done` holds (panics after [`PATIENCE`]).
pub fn drive_until(lp: &Loop, what: &str, mut done: impl FnMut(&Loop) -> bool) {
    let start = Instant::now();
    while !done(lp) {
        assert!(start.elapsed() < PATIENCE, "timed out driving the loop until {what}");
        let timeout = lp.next_timeout_ms().map_or(50, |ms| ms.min(50) as i32);
        if lp.fd().is_ok() {
            loop_fd_ready(lp, timeout);
            lp.run_once(Some(Duration::ZERO)).unwrap();
        } else {
            // A poller without a descriptor (the portable poll backend): block in it.
            lp.run_once(Some(Duration::from_millis(timeout as u64))).unwrap();
        }
    }
}

/// An unlinked temporary file holding `data`.
pub fn temp_file(data: &[u8]) -> std::fs::File {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let name = format!("c10k-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let path = std::env::temp_dir().join(name);
    let mut f = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    f.write_all(data).unwrap();
    f
}

/// Reads exactly `n` bytes, or the error (end of stream included) that prevented it.
pub fn read_exact_or_err(s: &mut TcpStream, n: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    s.read_exact(&mut buf)?;
    Ok(buf)
}
