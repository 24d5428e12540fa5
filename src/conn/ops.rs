//! The loop's side of connections: readiness, flushing, closing, and the
//! operations handlers call.

use std::net::SocketAddr;
use std::os::fd::RawFd;

use super::{Conn, ConnHandler, Flushed, OwnedBuf, WriteQueue};
use crate::error::*;
use crate::net::{self, ProxyHeader};
use crate::reactor::stats::{add, sub};
use crate::reactor::{ConnId, Due, Handle, Kind, Loop, Source, SourceCalls};

/// How long a closing connection may go without its peer taking any of
/// the output still queued, when it has no timeout of its own.
const CLOSE_FLUSH_TIMEOUT_MS: u32 = 30_000;

/// What [`Loop::conn_output`] finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputProgress {
    /// Bytes written to the socket since the connection opened.
    pub bytes_out: u64,
    /// Output is queued and the socket takes no more of it: the peer is
    /// not reading.
    pub stalled: bool,
}

impl Loop {
    /// Registers a connected (or connecting) socket; the loop owns `fd` from here on.
    pub(crate) fn insert_conn(&self, fd: RawFd, conn: Conn) -> Result<ConnId> {
        let connecting = conn.flags.connecting;
        let (slot, generation) = self.core.borrow_mut().insert_source(Box::new(conn));
        if let Err(e) = self.poll_add(fd, (slot, generation), !connecting, connecting) {
            self.core.borrow_mut().remove_source::<Conn>(slot, generation);
            net::close_fd(fd);
            return Err(e);
        }
        self.with_conn_raw(slot, generation, |c| {
            c.flags.reg_read = !connecting;
            c.flags.reg_write = connecting;
        });
        add(&self.stats().open_connections, 1);
        Ok(Handle::new(Kind::Conn, self.id(), slot, generation))
    }

    /// Runs `f` on a live connection by slot, ignoring closing ones.
    fn with_conn_raw<R>(&self, slot: u32, generation: u32, f: impl FnOnce(&mut Conn) -> R) -> Option<R> {
        match self.core.borrow_mut().source_mut::<Conn>(slot, generation) {
            Some(c) if !c.flags.closing => Some(f(c)),
            _ => None,
        }
    }

    /// Runs `f` on the connection `id` names, or fails with `C10K_ECLOSED`.
    fn with_conn<R>(&self, id: ConnId, f: impl FnOnce(&mut Conn) -> R) -> Result<R> {
        if id.expect(Kind::Conn)?.loop_id() != self.id() {
            return Err(C10K_ECLOSED);
        }
        self.with_conn_raw(id.slot(), id.generation(), f).ok_or(C10K_ECLOSED)
    }

    /// Calls one of the connection's handler methods, unless one is already running.
    pub(crate) fn call_handler(&self, slot: u32, generation: u32, f: impl FnOnce(&mut dyn ConnHandler, &Loop, ConnId)) {
        self.call_handler_after(slot, generation, |_| {}, f);
    }

    /// [`Self::call_handler`], running `before` on the connection in the
    /// same look-up that takes the handler.
    fn call_handler_after(
        &self,
        slot: u32,
        generation: u32,
        before: impl FnOnce(&mut Conn),
        f: impl FnOnce(&mut dyn ConnHandler, &Loop, ConnId),
    ) {
        let taken = self.with_conn_raw(slot, generation, |c| {
            before(c);
            c.handler.take()
        });
        let Some(Some(mut handler)) = taken else { return };
        f(&mut *handler, self, Handle::new(Kind::Conn, self.id(), slot, generation));
        // A handler installed during the call (an upgrade hand-off) replaces this one.
        if let Some(c) = self.core.borrow_mut().source_mut::<Conn>(slot, generation)
            && c.handler.is_none()
        {
            c.handler = Some(handler);
        }
    }

    /// Makes the poller's interest match what the connection wants. A
    /// connection that wants nothing leaves the poller: registered with no
    /// interest, epoll would still report hang-ups and errors, level-triggered,
    /// and wake the loop forever (a socket shut down both ways while its
    /// handler keeps it, or a peer's RST while reading is paused).
    fn update_interest(&self, source: (u32, u32), c: &mut Conn) {
        let (read, write) = (c.wants_read(), c.wants_write());
        if (read, write) == (c.flags.reg_read, c.flags.reg_write) {
            return;
        }
        let registered = c.flags.reg_read || c.flags.reg_write;
        let result = match (registered, read || write) {
            (true, true) => self.poll_modify(c.fd, source, read, write),
            (false, true) => self.poll_add(c.fd, source, read, write),
            (true, false) => {
                self.poll_delete(c.fd);
                Ok(())
            }
            (false, false) => Ok(()),
        };
        if result.is_ok() {
            c.flags.reg_read = read;
            c.flags.reg_write = write;
        }
    }

    fn conn_ready(&self, slot: u32, generation: u32, readable: bool, writable: bool) {
        // One look-up for the common event, a readable connection.
        let state = self.with_conn_raw(slot, generation, |c| (c.flags.connecting, c.wants_read().then_some(c.fd)));
        match state {
            None => {}
            Some((true, _)) => self.finish_connect(slot, generation),
            Some((false, _)) if writable => {
                self.flush_conn(slot, generation);
                if readable {
                    self.read_conn(slot, generation);
                }
            }
            Some((false, Some(fd))) if readable => self.read_from(slot, generation, fd),
            Some((false, _)) => {}
        }
    }

    fn finish_connect(&self, slot: u32, generation: u32) {
        let error = self.with_conn_raw(slot, generation, |c| net::take_error(c.fd)).unwrap_or(0);
        if error != 0 {
            return self.close_now(slot, generation, error, false);
        }
        self.with_conn_raw(slot, generation, |c| {
            c.flags.connecting = false;
            self.update_interest((slot, generation), c);
        });
        self.call_handler(slot, generation, |h, lp, id| h.on_open(lp, id));
        self.mark_dirty(slot, generation);
    }

    fn read_conn(&self, slot: u32, generation: u32) {
        if let Some(Some(fd)) = self.with_conn_raw(slot, generation, |c| c.wants_read().then_some(c.fd)) {
            self.read_from(slot, generation, fd);
        }
    }

    /// One read from the connection's socket `fd`, handed to its handler.
    fn read_from(&self, slot: u32, generation: u32, fd: RawFd) {
        self.with_read_buf(|buf| match net::read(fd, buf) {
            Ok(0) => self.peer_ended(slot, generation),
            Ok(n) => {
                add(&self.stats().bytes_in, n as u64);
                let now = self.core.borrow().now_ms;
                self.call_handler_after(slot, generation, |c| c.touch(now), |h, lp, id| h.on_data(lp, id, &buf[..n]));
            }
            Err(C10K_EAGAIN | C10K_EINTR) => {}
            Err(e) => self.close_now(slot, generation, e, false),
        });
    }

    fn peer_ended(&self, slot: u32, generation: u32) {
        self.with_conn_raw(slot, generation, |c| {
            c.flags.eof = true;
            self.update_interest((slot, generation), c);
        });
        let mut keep = false;
        self.call_handler(slot, generation, |h, lp, id| keep = h.on_end(lp, id));
        if !keep {
            self.close_gracefully(slot, generation);
        }
    }

    fn mark_dirty(&self, slot: u32, generation: u32) {
        let mut core = self.core.borrow_mut();
        let Some(c) = core.source_mut::<Conn>(slot, generation) else { return };
        if c.flags.dirty || c.flags.closing {
            return;
        }
        c.flags.dirty = true;
        core.dirty.push((slot, generation));
    }

    /// Writes what the connection has queued; runs at the end of a turn and
    /// when the socket becomes writable.
    /// Runs the connection's `on_notify` while it is asked for.
    fn notify_conn(&self, slot: u32, generation: u32) {
        // A handler may notify itself again from on_notify (a reply it
        // completes at once): keep going until it stops asking.
        while self.with_conn_raw(slot, generation, |c| std::mem::take(&mut c.flags.notify)) == Some(true) {
            self.call_handler(slot, generation, |h, lp, id| h.on_notify(lp, id));
        }
    }

    fn flush_conn(&self, slot: u32, generation: u32) {
        self.notify_conn(slot, generation);
        let now = self.core.borrow().now_ms;
        let outcome = self.with_conn_raw(slot, generation, |c| {
            c.flags.dirty = false;
            let result = c.wq.flush(c.fd);
            if let Ok((n, state)) = &result {
                add(&self.stats().bytes_out, *n);
                c.bytes_out += *n;
                if *n > 0 {
                    c.touch(now);
                }
                c.flags.want_write = *state == Flushed::Blocked;
                self.update_interest((slot, generation), c);
            }
            let drained = c.flags.above_high && c.wq.pending() <= c.low_water as u64;
            if drained {
                c.flags.above_high = false;
            }
            // Usually neither: then there is nothing to do after the flush.
            let waits = c.flags.shutdown_when_flushed || c.flags.close_when_flushed;
            (result.map(|(_, s)| s), drained, waits && c.wq.is_empty())
        });
        let Some((result, drained, flushed_for_end)) = outcome else { return };
        if let Err(e) = result {
            return self.close_now(slot, generation, e, false);
        }
        if drained {
            self.call_handler(slot, generation, |h, lp, id| h.on_drain(lp, id));
        }
        if flushed_for_end {
            self.after_flush(slot, generation);
        }
    }

    /// Carries out a shutdown or close that waited for the queue to empty.
    fn after_flush(&self, slot: u32, generation: u32) {
        let close = self.with_conn_raw(slot, generation, |c| {
            if !c.wq.is_empty() {
                return false;
            }
            if c.flags.shutdown_when_flushed && !c.flags.write_shut {
                c.flags.write_shut = true;
                let _ = net::shutdown_write(c.fd);
            }
            c.flags.close_when_flushed
        });
        if close == Some(true) {
            self.close_now(slot, generation, C10K_OK, false);
        }
    }

    fn close_gracefully(&self, slot: u32, generation: u32) {
        let unbounded = self.with_conn_raw(slot, generation, |c| {
            c.flags.close_when_flushed = true;
            self.update_interest((slot, generation), c);
            c.timeout.ms == 0
        });
        let Some(unbounded) = unbounded else { return };
        if unbounded {
            // A peer that never reads must not keep a closing connection forever.
            let _ = self.conn_set_timeout(
                Handle::new(Kind::Conn, self.id(), slot, generation),
                CLOSE_FLUSH_TIMEOUT_MS,
                true,
            );
        }
        self.mark_dirty(slot, generation);
    }

    /// Queues the connection for freeing at the end of the turn; its output is dropped.
    pub(crate) fn close_now(&self, slot: u32, generation: u32, reason: i32, reset: bool) {
        let mut core = self.core.borrow_mut();
        let Some(c) = core.source_mut::<Conn>(slot, generation) else { return };
        if c.flags.closing {
            return;
        }
        c.flags.closing = true;
        c.wq.discard();
        if reset {
            net::set_linger_zero(c.fd);
        }
        core.closing.push((slot, generation, reason));
    }

    /// Frees a connection queued by `close_now` and tells its handler.
    fn free_conn(&self, slot: u32, generation: u32, reason: i32) {
        let Some(mut conn) = self.core.borrow_mut().remove_source::<Conn>(slot, generation) else { return };
        // A connection that wanted nothing already left the poller; deleting
        // it again would cost a failing epoll_ctl per close.
        if conn.flags.reg_read || conn.flags.reg_write {
            self.poll_delete(conn.fd);
        }
        net::close_fd(conn.fd);
        sub(&self.stats().open_connections, 1);
        add(&self.stats().closed, 1);
        if let Some((lslot, lgen)) = conn.listener {
            self.listener_conn_closed(lslot, lgen);
        }
        if let Some(mut handler) = conn.handler.take() {
            handler.on_close(self, Handle::new(Kind::Conn, self.id(), slot, generation), reason, conn.user_data);
        }
    }

    fn idle_due(&self, slot: u32, generation: u32, deadline: u64) {
        let now = self.core.borrow().now_ms;
        let check = self.with_conn_raw(slot, generation, |c| {
            if c.timeout.armed != deadline {
                return TimeoutCheck::Stale;
            }
            c.timeout.armed = 0;
            if c.timeout.ms == 0 {
                return TimeoutCheck::Stale;
            }
            if c.timeout.deadline > now {
                c.timeout.armed = c.timeout.deadline;
                return TimeoutCheck::Later(c.timeout.deadline);
            }
            c.timeout.ms = 0;
            TimeoutCheck::Expired
        });
        match check {
            Some(TimeoutCheck::Later(next)) => self.schedule(next, Due::Source(slot, generation)),
            Some(TimeoutCheck::Expired) => {
                add(&self.stats().timeouts, 1);
                let closing = self.with_conn_raw(slot, generation, |c| c.flags.close_when_flushed).unwrap_or(false);
                // A connection already closing is past its handler's say.
                let mut handled = false;
                if !closing {
                    self.call_handler(slot, generation, |h, lp, id| handled = h.on_timeout(lp, id));
                }
                if !handled {
                    self.close_now(slot, generation, C10K_ETIMEDOUT, true);
                }
            }
            _ => {}
        }
    }

    // --- Operations on a connection handle ---

    /// Queues output; `Ok(true)` means the queue is now above the high-water
    /// mark and the writer should wait for `on_drain`.
    fn queue(&self, id: ConnId, push: impl FnOnce(&mut WriteQueue) -> Result<()>) -> Result<bool> {
        let above = self.with_conn(id, |c| {
            if c.flags.close_when_flushed || c.flags.shutdown_when_flushed || c.flags.connecting {
                return Err(if c.flags.connecting { C10K_ENOTCONN } else { C10K_EPIPE });
            }
            push(&mut c.wq)?;
            let above = c.wq.pending() > c.high_water as u64;
            c.flags.above_high |= above;
            Ok(above)
        })??;
        self.mark_dirty(id.slot(), id.generation());
        Ok(above)
    }

    /// Queues a copy of `data`.
    pub fn conn_write(&self, id: ConnId, data: &[u8]) -> Result<bool> {
        self.queue(id, |q| q.push_copy(data))
    }

    /// Lets `fill` serialise output straight into the write queue, once
    /// `size` bytes (enough for what it writes) are reserved there.
    pub fn conn_write_with(&self, id: ConnId, size: usize, fill: impl FnOnce(&mut Vec<u8>)) -> Result<bool> {
        self.queue(id, |q| q.push_with(size, fill))
    }

    /// Makes the connection call `on_drain` once its queue is at the low
    /// mark (at the end of this turn if it already is), for a writer that
    /// was told to wait without this connection's own write saying so.
    pub fn conn_want_drain(&self, id: ConnId) -> Result<()> {
        self.with_conn(id, |c| c.flags.above_high = true)?;
        self.mark_dirty(id.slot(), id.generation());
        Ok(())
    }

    /// Schedules the handler's `on_notify` for the end of this turn.
    pub fn conn_notify(&self, id: ConnId) -> Result<()> {
        self.with_conn(id, |c| c.flags.notify = true)?;
        self.mark_dirty(id.slot(), id.generation());
        Ok(())
    }

    /// Queues `data` without copying it.
    pub fn conn_write_vec(&self, id: ConnId, data: Vec<u8>) -> Result<bool> {
        self.queue(id, |q| q.push_vec(data))
    }

    /// Queues a buffer shared with other connections (a broadcast), without copying it.
    pub fn conn_write_shared(&self, id: ConnId, buf: std::sync::Arc<[u8]>) -> Result<bool> {
        self.queue(id, |q| q.push_shared(buf))
    }

    /// Queues a buffer owned elsewhere; it is dropped once sent or when the
    /// connection closes. On failure it comes back with the error, untouched.
    pub fn conn_write_owned<B: OwnedBuf + 'static>(&self, id: ConnId, buf: B) -> std::result::Result<bool, (i32, B)> {
        let mut buf = Some(buf);
        match self.queue(id, |q| q.push_owned(&mut buf)) {
            Ok(above) => Ok(above),
            // push_owned takes the buffer only when it succeeds.
            Err(e) => Err((e, buf.take().expect("a failed write keeps its buffer"))),
        }
    }

    /// Queues `len` bytes of the file `fd` from `offset`, sent with
    /// `sendfile`. Takes ownership of `fd`, even on failure.
    pub fn conn_sendfile(&self, id: ConnId, fd: RawFd, offset: u64, len: u64) -> Result<bool> {
        let mut fd = Some(fd);
        let result = self.queue(id, |q| q.push_file(fd.take().unwrap(), offset, len));
        if let Some(fd) = fd {
            net::close_fd(fd);
        }
        result
    }

    /// Bytes queued and not yet written.
    pub fn conn_pending(&self, id: ConnId) -> Result<u64> {
        self.with_conn(id, |c| c.wq.pending())
    }

    /// How the connection's output moves, in one look (it is taken after
    /// every response).
    pub fn conn_output(&self, id: ConnId) -> Result<OutputProgress> {
        self.with_conn(id, |c| OutputProgress {
            bytes_out: c.bytes_out,
            // Known without a system call (a `poll(2)` per request cost
            // pipelining 2x): the last write found the send buffer full.
            stalled: c.flags.want_write && c.wq.pending() > 0,
        })
    }

    /// Stops (`paused`) or restarts reading.
    pub fn conn_set_reading(&self, id: ConnId, reading: bool) -> Result<()> {
        self.with_conn(id, |c| {
            c.flags.read_paused = !reading;
            self.update_interest((id.slot(), id.generation()), c);
        })
    }

    /// Sends FIN once queued output is written; reading goes on.
    pub fn conn_shutdown(&self, id: ConnId) -> Result<()> {
        self.with_conn(id, |c| c.flags.shutdown_when_flushed = true)?;
        self.mark_dirty(id.slot(), id.generation());
        Ok(())
    }

    /// Closes after queued output is written; `on_close` follows with 0.
    /// A connection already closing answers `C10K_ECLOSED` (closing twice).
    pub fn conn_close(&self, id: ConnId) -> Result<()> {
        if self.with_conn(id, |c| c.flags.close_when_flushed)? {
            return Err(C10K_ECLOSED);
        }
        self.close_gracefully(id.slot(), id.generation());
        Ok(())
    }

    /// Closes now, dropping queued output and sending RST.
    pub fn conn_abort(&self, id: ConnId) -> Result<()> {
        self.with_conn(id, |_| ())?;
        self.close_now(id.slot(), id.generation(), C10K_OK, true);
        Ok(())
    }

    pub fn conn_user_data(&self, id: ConnId) -> Result<usize> {
        self.with_conn(id, |c| c.user_data)
    }

    pub fn conn_set_user_data(&self, id: ConnId, user_data: usize) -> Result<()> {
        self.with_conn(id, |c| c.user_data = user_data)
    }

    /// Replaces the connection's handler (upgrade hand-off). Allowed from the
    /// old handler's own callbacks: the new one takes over when it returns.
    pub fn conn_set_handler(&self, id: ConnId, handler: Box<dyn ConnHandler>) -> Result<()> {
        self.with_conn(id, |c| c.handler = Some(handler))
    }

    /// The client's address: the one a trusted PROXY protocol header
    /// named, else the socket's peer.
    pub fn conn_peer_addr(&self, id: ConnId) -> Result<SocketAddr> {
        match self.with_conn(id, |c| c.proxy.as_ref().and_then(|p| p.addrs))? {
            Some((source, _)) => Ok(source),
            None => self.conn_socket_peer_addr(id),
        }
    }

    /// Whether input waits in the socket that the loop has not read yet.
    pub fn conn_has_unread_input(&self, id: ConnId) -> Result<bool> {
        Ok(net::has_input(self.with_conn(id, |c| c.fd)?))
    }

    /// The socket's own peer (the balancer, behind one), whatever a PROXY
    /// protocol header said.
    pub fn conn_socket_peer_addr(&self, id: ConnId) -> Result<SocketAddr> {
        let (fd, known) = self.with_conn(id, |c| (c.fd, c.peer.as_deref().copied()))?;
        if let Some(peer) = known {
            return Ok(peer);
        }
        let peer = net::peer_addr(fd)?;
        self.with_conn(id, |c| c.peer = Some(Box::new(peer)))?;
        Ok(peer)
    }

    /// Keeps what a PROXY protocol header said, if it said anything.
    pub(crate) fn conn_set_proxy_header(&self, id: ConnId, header: ProxyHeader) -> Result<()> {
        let said = header.addrs.is_some() || header.authority.is_some() || header.tls.is_some();
        self.with_conn(id, |c| c.proxy = said.then(|| Box::new(header)))
    }

    /// Runs `f` on the connection's PROXY protocol header (None without one).
    pub fn conn_with_proxy_header<R>(&self, id: ConnId, f: impl FnOnce(Option<&ProxyHeader>) -> R) -> Result<R> {
        self.with_conn(id, |c| f(c.proxy.as_deref()))
    }

    pub fn conn_local_addr(&self, id: ConnId) -> Result<SocketAddr> {
        net::local_addr(self.with_conn(id, |c| c.fd)?)
    }

    /// Sets the connection's timeout; 0 removes it. With `reset_on_io`, any
    /// read or write pushes it back (an idle timeout); without, it is a
    /// deadline from now.
    pub fn conn_set_timeout(&self, id: ConnId, ms: u32, reset_on_io: bool) -> Result<()> {
        let now = self.now_ms();
        let arm = self.with_conn(id, |c| {
            c.timeout.ms = ms;
            c.timeout.reset_on_io = reset_on_io;
            c.timeout.deadline = now + ms as u64;
            let arm = ms != 0 && (c.timeout.armed == 0 || c.timeout.armed > c.timeout.deadline);
            if arm {
                c.timeout.armed = c.timeout.deadline;
            }
            arm.then_some(c.timeout.deadline)
        })?;
        if let Some(deadline) = arm {
            self.schedule(deadline, Due::Source(id.slot(), id.generation()));
        }
        Ok(())
    }

    /// Sets the write queue's marks: writes report "above" past `high`, and
    /// `on_drain` follows when the queue falls to `low`.
    pub fn conn_set_write_marks(&self, id: ConnId, low: u32, high: u32) -> Result<()> {
        if low > high {
            return Err(C10K_EINVAL);
        }
        self.with_conn(id, |c| {
            c.low_water = low;
            c.high_water = high;
        })
    }
}

/// How the loop reaches a connection.
static CONN_CALLS: SourceCalls = SourceCalls {
    ready: Loop::conn_ready,
    timer: Loop::idle_due,
    notify: Loop::notify_conn,
    flush: Loop::flush_conn,
    free: Loop::free_conn,
    shutdown: |lp, slot, generation| lp.call_handler(slot, generation, |h, lp, id| h.on_shutdown(lp, id)),
    close: |lp, slot, generation| lp.close_now(slot, generation, C10K_ECANCELED, true),
};

impl Source for Conn {
    fn calls(&self) -> &'static SourceCalls {
        &CONN_CALLS
    }

    fn timer_live(&self, deadline: u64) -> bool {
        self.timeout.armed == deadline
    }
}

enum TimeoutCheck {
    /// The heap entry was superseded or the timeout removed.
    Stale,
    /// I/O pushed the deadline back: wait again.
    Later(u64),
    Expired,
}
