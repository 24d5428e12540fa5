//! Listening sockets on a loop: accepting in batches, the connection limit,
//! and backing off when descriptors run out. Each accepted socket goes to
//! the listener's `Intake`, supplied from above (`conn` makes it a
//! connection).

use std::net::SocketAddr;
use std::os::fd::RawFd;

use super::proxy_accept::{Admission, ProxyOptions, admit};
use super::socket::{self, ListenConfig};
use crate::error::*;
use crate::reactor::stats::add;
use crate::reactor::{Due, Handle, Kind, ListenerId, Loop, Source, SourceCalls};

/// Accepts at most this many connections per readiness event: a burst of
/// thousands of connects drains in a few turns (an accept costs about two
/// microseconds; with 64 per turn, p99 latency at 10,000 connections was
/// five times nginx's), while connections already open still get turns.
const ACCEPTS_PER_WAKEUP: usize = 512;
/// How long accepting pauses when the process is out of descriptors.
const EMFILE_BACKOFF_MS: u64 = 100;

/// Takes each socket a listener accepts, from the layer above.
pub(crate) trait Intake {
    /// Makes `socket` a connection, or closes it and answers `None`. The
    /// answer's function opens the connection, called once the listener
    /// has its intake back (so the listener is whole while the host runs).
    fn take(&mut self, lp: &Loop, socket: Accepted) -> Option<(Handle, fn(&Loop, Handle))>;
}

/// A socket a listener accepted, with what the listener says of it.
pub(crate) struct Accepted {
    pub fd: RawFd,
    /// The listener (slot, generation), told when the connection closes
    /// through [`Loop::listener_conn_closed`].
    pub listener: (u32, u32),
    /// Its PROXY protocol settings, when the connection sends a header first.
    pub header: Option<ProxyOptions>,
    /// The listener's idle timeout (0: none).
    pub idle_timeout_ms: u32,
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
    /// `None` while it takes a socket.
    intake: Option<Box<dyn Intake>>,
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

/// How the loop reaches a listener.
static LISTENER_CALLS: SourceCalls = SourceCalls {
    ready: |lp, slot, generation, _, _| lp.accept_ready(slot, generation),
    timer: |lp, slot, generation, _| lp.resume_accept_after_backoff(slot, generation),
    notify: |_, _, _| {},
    flush: |_, _, _| {},
    free: |_, _, _, _| {},
    shutdown: Loop::close_listener_source,
    close: Loop::close_listener_source,
};

impl Source for Listener {
    fn calls(&self) -> &'static SourceCalls {
        &LISTENER_CALLS
    }

    /// Its one timer, the pause after EMFILE, ends when the listener does.
    fn timer_live(&self, _deadline: u64) -> bool {
        true
    }
}

impl Loop {
    /// Listens on `addr`, handing each accepted socket to `intake`
    /// (`Loop::listen` is the public side).
    pub(crate) fn listen_with(
        &self,
        addr: &SocketAddr,
        options: &ListenOptions,
        intake: Box<dyn Intake>,
    ) -> Result<ListenerId> {
        let fd = socket::listen_socket(addr, &options.socket)?;
        self.add_listener(fd, options, intake).inspect_err(|_| socket::close_fd(fd))
    }

    /// Adopts the listening descriptor `fd` (`Loop::listen_fd` is the public side).
    pub(crate) fn listen_fd_with(
        &self,
        fd: RawFd,
        options: &ListenOptions,
        intake: Box<dyn Intake>,
    ) -> Result<ListenerId> {
        socket::adopt_listener(fd)?;
        self.add_listener(fd, options, intake)
    }

    fn add_listener(&self, fd: RawFd, options: &ListenOptions, intake: Box<dyn Intake>) -> Result<ListenerId> {
        let listener = Listener {
            fd,
            intake: Some(intake),
            options: *options,
            open: 0,
            stopped: false,
            backing_off: false,
            registered: true,
        };
        let (slot, generation) = self.core.borrow_mut().insert_source(Box::new(listener));
        if let Err(e) = self.poll_add(fd, (slot, generation), true, false) {
            self.core.borrow_mut().remove_source::<Listener>(slot, generation);
            return Err(e);
        }
        Ok(Handle::new(Kind::Listener, self.id(), slot, generation))
    }

    fn with_listener<R>(&self, slot: u32, generation: u32, f: impl FnOnce(&mut Listener) -> R) -> Option<R> {
        self.core.borrow_mut().source_mut::<Listener>(slot, generation).map(f)
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

    fn accept_ready(&self, slot: u32, generation: u32) {
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
        let Some((intake, idle_timeout_ms)) = self.with_listener(slot, generation, |l| {
            l.open += 1;
            (l.intake.take(), l.options.idle_timeout_ms)
        }) else {
            return socket::close_fd(fd);
        };
        add(&self.stats().accepted, 1);
        let Some(mut intake) = intake else {
            // Only a listener taking a socket lacks its intake, and that
            // never accepts again before it returns.
            socket::close_fd(fd);
            return self.listener_conn_closed(slot, generation);
        };
        let header = header_first.then_some(proxy);
        let accepted = Accepted { fd, listener: (slot, generation), header, idle_timeout_ms };
        let opened = intake.take(self, accepted);
        // Put the intake back, or every later connection would go nowhere.
        self.with_listener(slot, generation, |l| l.intake = Some(intake));
        match opened {
            Some((conn, open)) => open(self, conn),
            None => self.listener_conn_closed(slot, generation),
        }
    }

    /// Pauses accepting for a moment; counted, as the stats promise, when
    /// descriptors ran out.
    fn back_off(&self, slot: u32, generation: u32) {
        add(&self.stats().accept_pauses, 1);
        self.with_listener(slot, generation, |l| l.backing_off = true);
        let deadline = self.now_ms() + EMFILE_BACKOFF_MS;
        self.schedule(deadline, Due::Source(slot, generation));
    }

    fn resume_accept_after_backoff(&self, slot: u32, generation: u32) {
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
        let removed = self.core.borrow_mut().remove_source::<Listener>(id.slot(), id.generation());
        let Some(l) = removed else { return Err(C10K_ECLOSED) };
        self.poll_delete(l.fd);
        socket::close_fd(l.fd);
        Ok(())
    }

    /// How many listeners are open.
    pub fn listener_count(&self) -> usize {
        let core = self.core.borrow();
        core.source_keys().into_iter().filter(|&(s, g)| core.source::<Listener>(s, g).is_some()).count()
    }

    /// Closes the listener at (slot, generation): shutdown and the loop's end.
    fn close_listener_source(&self, slot: u32, generation: u32) {
        let _ = self.listener_close(Handle::new(Kind::Listener, self.id(), slot, generation));
    }
}
