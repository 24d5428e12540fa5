//! Listening sockets on a loop: accepting in batches, the connection limit,
//! and backing off when descriptors run out.

use std::net::SocketAddr;
use std::os::fd::RawFd;

use super::proxy_accept::{Admission, HeaderStage, ProxyOptions, admit};
use super::socket::{self, ListenConfig};
use crate::conn::{Conn, ConnHandler};
use crate::error::*;
use crate::reactor::stats::add;
use crate::reactor::{ConnId, Due, Handle, Kind, ListenerId, Loop, Source};

/// Accepts at most this many connections per readiness event: a burst of
/// thousands of connects drains in a few turns (an accept costs about two
/// microseconds; with 64 per turn, p99 latency at 10,000 connections was
/// five times nginx's), while connections already open still get turns.
const ACCEPTS_PER_WAKEUP: usize = 512;
/// How long accepting pauses when the process is out of descriptors.
const EMFILE_BACKOFF_MS: u64 = 100;

/// Makes the handler of each accepted connection.
pub trait Acceptor {
    /// Returns the handler for `conn` and its initial user data; `on_open` follows.
    fn accept(&mut self, lp: &Loop, conn: ConnId) -> (Box<dyn ConnHandler>, usize);
}

/// Whether a connection on `fd` sends a PROXY header first; the socket's
/// peer address is read only when the listener expects headers.
fn admission(proxy: &ProxyOptions, fd: RawFd) -> Admission {
    if !proxy.enabled {
        return Admission::Plain;
    }
    admit(proxy, socket::peer_addr(fd).ok().map(|a| a.ip()))
}

/// Options of a listener beyond the socket's own.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListenOptions {
    pub socket: ListenConfig,
    /// Stop accepting while this many connections are open (0: no limit).
    pub max_connections: u32,
    /// Idle timeout given to every accepted connection (0: none).
    pub idle_timeout_ms: u32,
    /// PROXY protocol headers from a balancer.
    pub proxy: ProxyOptions,
}

pub(crate) struct Listener {
    fd: RawFd,
    acceptor: Option<Box<dyn Acceptor>>,
    options: ListenOptions,
    open: u32,
    /// Paused by the owner (`listener_set_accepting`).
    stopped: bool,
    /// Paused after EMFILE/ENFILE until a timer fires.
    backing_off: bool,
    registered: bool,
}

impl Listener {
    fn wants_accept(&self) -> bool {
        let full = self.options.max_connections != 0 && self.open >= self.options.max_connections;
        !(self.stopped || self.backing_off || full)
    }
}

impl Loop {
    /// Listens on a numeric address (`"127.0.0.1:8080"`, `"[::1]:0"`).
    pub fn listen(
        &self,
        addr: &SocketAddr,
        options: &ListenOptions,
        acceptor: Box<dyn Acceptor>,
    ) -> Result<ListenerId> {
        let fd = socket::listen_socket(addr, &options.socket)?;
        self.add_listener(fd, options, acceptor).inspect_err(|_| socket::close_fd(fd))
    }

    /// Adopts a descriptor that is already listening (inherited, or from
    /// socket activation): the loop owns it from here on. On failure it
    /// stays the caller's (`C10K_EBADF` if it is not open, `C10K_EINVAL` if
    /// it is no listening socket).
    pub fn listen_fd(&self, fd: RawFd, options: &ListenOptions, acceptor: Box<dyn Acceptor>) -> Result<ListenerId> {
        socket::adopt_listener(fd)?;
        self.add_listener(fd, options, acceptor)
    }

    fn add_listener(&self, fd: RawFd, options: &ListenOptions, acceptor: Box<dyn Acceptor>) -> Result<ListenerId> {
        let listener = Listener {
            fd,
            acceptor: Some(acceptor),
            options: *options,
            open: 0,
            stopped: false,
            backing_off: false,
            registered: true,
        };
        let (slot, generation) = self.core.borrow_mut().sources.insert(Source::Listener(listener));
        if let Err(e) = self.poll_add(fd, (slot, generation), true, false) {
            self.core.borrow_mut().sources.remove(slot, generation);
            return Err(e);
        }
        Ok(Handle::new(Kind::Listener, self.id(), slot, generation))
    }

    fn with_listener<R>(&self, slot: u32, generation: u32, f: impl FnOnce(&mut Listener) -> R) -> Option<R> {
        match self.core.borrow_mut().sources.get_mut(slot, generation) {
            Some(Source::Listener(l)) => Some(f(l)),
            _ => None,
        }
    }

    /// Registers or unregisters the listener's read interest to match its state.
    fn refresh_listener(&self, slot: u32, generation: u32) {
        self.with_listener(slot, generation, |l| {
            let want = l.wants_accept();
            if want != l.registered && self.poll_modify(l.fd, (slot, generation), want, false).is_ok() {
                l.registered = want;
            }
        });
    }

    pub(crate) fn accept_ready(&self, slot: u32, generation: u32) {
        for _ in 0..ACCEPTS_PER_WAKEUP {
            let Some(Some(fd)) = self.with_listener(slot, generation, |l| l.wants_accept().then_some(l.fd)) else {
                break;
            };
            match socket::accept(fd) {
                Ok(conn_fd) => self.adopt_accepted(slot, generation, conn_fd),
                Err(C10K_EAGAIN) => break,
                // The peer gave up before we accepted, or a signal: try the next one.
                Err(C10K_ECONNABORTED | C10K_EINTR) => continue,
                // Out of descriptors or memory, or an error that would not
                // clear by retrying: pause rather than spin.
                Err(_) => {
                    self.back_off(slot, generation);
                    break;
                }
            }
        }
        self.refresh_listener(slot, generation);
    }

    fn adopt_accepted(&self, slot: u32, generation: u32, fd: RawFd) {
        let Some(proxy) = self.with_listener(slot, generation, |l| l.options.proxy) else {
            return socket::close_fd(fd);
        };
        let header_first = match admission(&proxy, fd) {
            Admission::Header => true,
            Admission::Plain => false,
            Admission::Refuse => {
                socket::set_linger_zero(fd);
                return socket::close_fd(fd);
            }
        };
        let Some((acceptor, idle_ms)) = self.with_listener(slot, generation, |l| {
            l.open += 1;
            (l.acceptor.take(), l.options.idle_timeout_ms)
        }) else {
            return socket::close_fd(fd);
        };
        add(&self.stats().accepted, 1);
        let Ok(id) = self.insert_conn(fd, Conn::new(fd, None, 0, Some((slot, generation)))) else {
            // Put the acceptor back, or every later connection would get no handler.
            self.with_listener(slot, generation, |l| l.acceptor = acceptor);
            self.listener_conn_closed(slot, generation);
            return;
        };
        let Some(mut acceptor) = acceptor else { return };
        let (mut handler, user_data) = acceptor.accept(self, id);
        if header_first {
            handler = Box::new(HeaderStage::new(handler, proxy, idle_ms));
        }
        self.with_listener(slot, generation, |l| l.acceptor = Some(acceptor));
        let _ = self.conn_set_user_data(id, user_data);
        let _ = self.conn_set_handler(id, handler);
        if idle_ms != 0 {
            let _ = self.conn_set_timeout(id, idle_ms, true);
        }
        self.call_handler(id.slot(), id.generation(), |h, lp, id| h.on_open(lp, id));
    }

    /// Pauses accepting for a moment; counted, as the stats promise, when
    /// descriptors ran out.
    fn back_off(&self, slot: u32, generation: u32) {
        add(&self.stats().accept_pauses, 1);
        self.with_listener(slot, generation, |l| l.backing_off = true);
        let deadline = self.now_ms() + EMFILE_BACKOFF_MS;
        self.schedule(deadline, Due::ResumeAccept(slot, generation));
    }

    pub(crate) fn resume_accept_after_backoff(&self, slot: u32, generation: u32) {
        self.with_listener(slot, generation, |l| l.backing_off = false);
        self.refresh_listener(slot, generation);
    }

    /// A connection this listener accepted has closed: it may accept again.
    pub(crate) fn listener_conn_closed(&self, slot: u32, generation: u32) {
        self.with_listener(slot, generation, |l| l.open -= 1);
        self.refresh_listener(slot, generation);
    }

    /// Stops or restarts accepting (graceful shutdown, host-side limits).
    pub fn listener_set_accepting(&self, id: ListenerId, accepting: bool) -> Result<()> {
        self.with_listener(id.slot(), id.generation(), |l| l.stopped = !accepting).ok_or(C10K_ECLOSED)?;
        self.refresh_listener(id.slot(), id.generation());
        Ok(())
    }

    /// The address the listener is bound to (with the real port after port 0).
    pub fn listener_addr(&self, id: ListenerId) -> Result<SocketAddr> {
        let fd = self.with_listener(id.slot(), id.generation(), |l| l.fd).ok_or(C10K_ECLOSED)?;
        socket::local_addr(fd)
    }

    /// Closes the listening socket; connections it accepted stay open.
    pub fn listener_close(&self, id: ListenerId) -> Result<()> {
        if id.expect(Kind::Listener)?.loop_id() != self.id() {
            return Err(C10K_ECLOSED);
        }
        let removed = self.core.borrow_mut().sources.remove(id.slot(), id.generation());
        let Some(Source::Listener(l)) = removed else { return Err(C10K_ECLOSED) };
        self.poll_delete(l.fd);
        socket::close_fd(l.fd);
        Ok(())
    }

    /// How many listeners are open.
    pub fn listener_count(&self) -> usize {
        let mut core = self.core.borrow_mut();
        let keys = core.sources.keys();
        keys.into_iter().filter(|&(s, g)| matches!(core.sources.get_mut(s, g), Some(Source::Listener(_)))).count()
    }

    /// Starts an outgoing connection. `on_open` follows when it is
    /// established; if it fails, only `on_close` with the error follows.
    pub fn connect(&self, addr: &SocketAddr, handler: Box<dyn ConnHandler>, user_data: usize) -> Result<ConnId> {
        let (fd, _) = socket::connect(addr)?;
        let mut conn = Conn::new(fd, Some(handler), user_data, None);
        // Even an immediate success reports through the poller, so that
        // `on_open` never runs inside `connect`.
        conn.flags.connecting = true;
        self.insert_conn(fd, conn)
    }
}
