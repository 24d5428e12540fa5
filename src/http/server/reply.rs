//! Deferred replies: a request whose handler returned without answering is
//! completed later, from any thread, through a `uint64_t` reply handle.
//!
//! The table is process-wide and behind one mutex: it is touched only on
//! the deferred path (a handful of times per deferred request), and one
//! table lets any thread find the loop of a handle without knowing it.
//! The response bytes are serialised on the calling thread; the loop only
//! queues them, through its mailbox unless the caller is the loop thread.

use std::cell::RefCell;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::LazyLock;

use parking_lot::Mutex;

use super::ReqInfo;
use super::conn::CLOSE_LINGER_MS;
use crate::conn::DEFAULT_HIGH_WATER;
use crate::error::*;
use crate::http::{
    BodyMode, DateCache, HeadOptions, ResponseFraming, WrittenHead, head_size, unix_secs, write_chunk, write_head,
    write_last_chunk,
};
use crate::reactor::{ConnId, Handle, Kind, Loop, LoopHandle, Slab, owned_loop};

/// Names a deferred reply; stale handles are detected by generation.
pub type ReplyId = Handle;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReplyState {
    /// Nothing sent yet.
    Pending,
    /// The head is out; the body follows in this mode.
    Streaming { body: BodyMode, keep_alive: bool, status: u16 },
    /// Complete; the connection's handler collects it at the end of the turn.
    Ended { keep_alive: bool, status: u16, sent: u64 },
    /// Complete on another thread, its last bytes still on their way to the
    /// loop: not to be collected yet (the connection would finish, or
    /// close, before they are queued). What [`state`] says meanwhile.
    Delivering,
}

struct Entry {
    lp: LoopHandle,
    conn: ConnId,
    info: ReqInfo,
    state: ReplyState,
    sent: u64,
    /// Bytes written and not yet known to have left: what a streamed write
    /// added, until the loop reports its queue again.
    queued: u64,
    /// A streamed write was told the queue is full: `on_drain` is owed.
    blocked: bool,
    /// Deliveries posted to the loop from other threads and not yet run.
    posted: u32,
    /// A reason phrase instead of the standard one ([`set_reason`]).
    reason: Option<Box<[u8]>>,
}

static TABLE: LazyLock<Mutex<Slab<Entry>>> = LazyLock::new(|| Mutex::new(Slab::default()));

thread_local! {
    /// The `Date` of replies completed on this thread, formatted at most
    /// once a second.
    static DATE: RefCell<DateCache> = RefCell::new(DateCache::new());
}

/// Registers a deferred reply for `conn` on `lp`.
pub(crate) fn register(lp: &Loop, conn: ConnId, info: ReqInfo) -> ReplyId {
    let entry = Entry {
        lp: lp.handle(),
        conn,
        info,
        state: ReplyState::Pending,
        sent: 0,
        queued: 0,
        blocked: false,
        posted: 0,
        reason: None,
    };
    let (slot, generation) = TABLE.lock().insert(entry);
    Handle::new(Kind::Reply, lp.id(), slot, generation)
}

/// Removes a reply for its connection: returns its last state, or `None`
/// if it is unknown.
pub(crate) fn take(reply: ReplyId) -> Option<ReplyState> {
    TABLE.lock().remove(reply.slot(), reply.generation()).map(|e| e.state)
}

/// Makes a reply that has not started say `Connection: close` (the server
/// is shutting down).
pub(crate) fn close_after(reply: ReplyId) {
    if let Some(e) = TABLE.lock().get_mut(reply.slot(), reply.generation()) {
        e.info.keep_alive = false;
    }
}

/// Makes every reply of the loop `lp` that has not started say
/// `Connection: close`: the server is about to shut down, so that replies
/// completed from now on say so, even before the loop has had its turn.
pub(crate) fn close_after_on(lp: &LoopHandle) {
    let mut table = TABLE.lock();
    for (slot, generation) in table.keys() {
        if let Some(e) = table.get_mut(slot, generation)
            && std::sync::Arc::ptr_eq(e.lp.shared(), lp.shared())
        {
            e.info.keep_alive = false;
        }
    }
}

/// The state of a reply without removing it; `Delivering` for one that
/// ended on another thread until the loop has queued its last bytes.
pub(crate) fn state(reply: ReplyId) -> Option<ReplyState> {
    TABLE.lock().get(reply.slot(), reply.generation()).map(|e| match e.state {
        ReplyState::Ended { .. } if e.posted > 0 => ReplyState::Delivering,
        state => state,
    })
}

/// The loop and connection of a reply, when the calling thread runs that
/// loop (`C10K_ENOTCONN` elsewhere).
pub(crate) fn local_conn(reply: ReplyId) -> Result<(&'static Loop, ConnId)> {
    let conn = TABLE.lock().get(reply.slot(), reply.generation()).map(|e| e.conn).ok_or(C10K_ECLOSED)?;
    Ok((owned_loop(reply.loop_id()).map_err(|_| C10K_ENOTCONN)?, conn))
}

/// The client's address of a reply (with `socket`, the socket's own
/// peer, which differs behind a PROXY protocol balancer), asked of its
/// connection: only on the thread of the reply's loop.
pub(crate) fn peer_addr(reply: ReplyId, socket: bool) -> Result<std::net::SocketAddr> {
    let (lp, conn) = local_conn(reply)?;
    if socket { lp.conn_socket_peer_addr(conn) } else { lp.conn_peer_addr(conn) }
}

/// Gives the reply's response the reason phrase `reason` (checked by the
/// caller); `C10K_EINVAL` once its head went out.
pub(crate) fn set_reason(reply: ReplyId, reason: &[u8]) -> Result<()> {
    let mut table = TABLE.lock();
    let e = table.get_mut(reply.slot(), reply.generation()).ok_or(C10K_ECLOSED)?;
    if e.state != ReplyState::Pending {
        return Err(C10K_EINVAL);
    }
    e.reason = Some(reason.into());
    Ok(())
}

/// A body for a whole response.
pub enum Body<'a> {
    Bytes(&'a [u8]),
    /// A file range, sent with `sendfile`; the descriptor is closed after.
    File(OwnedFd, u64, u64),
}

impl Body<'_> {
    fn len(&self) -> u64 {
        match self {
            Body::Bytes(b) => b.len() as u64,
            Body::File(_, _, len) => *len,
        }
    }
}

/// What the loop must do for a reply operation.
struct Delivery {
    reply: ReplyId,
    conn: ConnId,
    bytes: Vec<u8>,
    file: Option<(OwnedFd, u64, u64)>,
    /// Set when the response is complete.
    ended: bool,
    keep_alive: bool,
}

/// Runs `f` on the reply's entry under the lock, then hands the bytes it
/// produced to the loop.
fn operate(reply: ReplyId, f: impl FnOnce(&mut Entry) -> Result<Delivery>) -> Result<()> {
    reply.expect(Kind::Reply)?;
    let owned = owned_loop(reply.loop_id());
    let (lp, delivery) = {
        let mut table = TABLE.lock();
        let entry = table.get_mut(reply.slot(), reply.generation()).ok_or(C10K_ECLOSED)?;
        if matches!(entry.state, ReplyState::Ended { .. }) {
            return Err(C10K_ECLOSED);
        }
        let delivery = f(entry)?;
        entry.posted += u32::from(owned.is_err());
        (entry.lp.clone(), delivery)
    };
    match owned {
        Ok(lp) => deliver(lp, delivery),
        Err(_) => lp.post(Box::new(move |lp| {
            // Settled first: the bytes are queued below, on this thread,
            // before anything can collect the reply.
            settle(delivery.reply);
            deliver(lp, delivery)
        })),
    }
    Ok(())
}

/// A delivery posted from another thread has reached the loop.
fn settle(reply: ReplyId) {
    if let Some(e) = TABLE.lock().get_mut(reply.slot(), reply.generation()) {
        e.posted -= 1;
    }
}

/// Queues the bytes on the loop thread and wakes the connection's handler
/// when the response ended.
fn deliver(lp: &Loop, d: Delivery) {
    let _ = lp.conn_write_vec(d.conn, d.bytes);
    if let Some((fd, offset, len)) = d.file {
        let _ = lp.conn_sendfile(d.conn, fd.into_raw_fd(), offset, len);
    }
    if !d.ended && report_queue(d.reply, lp.conn_pending(d.conn).unwrap_or(0)) {
        // The writer waits for on_drain: make the connection report its drain.
        let _ = lp.conn_want_drain(d.conn);
    }
    if d.ended {
        if !d.keep_alive {
            // The response gets the whole linger time to leave: a timer
            // armed earlier (a rate check) must not find the connection
            // closing and cut it before its bytes are out.
            let _ = lp.conn_set_timeout(d.conn, CLOSE_LINGER_MS, false);
            let _ = lp.conn_close(d.conn);
        }
        let _ = lp.conn_notify(d.conn);
    }
}

/// Serialises the head of the reply's response.
fn head(
    e: &Entry,
    status: u16,
    headers: &[(&[u8], &[u8])],
    framing: ResponseFraming,
) -> Result<(Vec<u8>, WrittenHead)> {
    if e.state != ReplyState::Pending {
        return Err(C10K_EINVAL);
    }
    let date = DATE.with_borrow_mut(|d| *d.get(unix_secs(std::time::SystemTime::now())));
    let mut bytes = Vec::new();
    reserve(&mut bytes, head_size(headers, e.reason.as_deref()))?;
    let opts = HeadOptions {
        version_minor: e.info.version_minor,
        keep_alive: e.info.keep_alive,
        head_request: e.info.head_request,
        date: &date,
        reason: e.reason.as_deref(),
    };
    let written = write_head(&mut bytes, status, headers, framing, opts).map_err(|_| C10K_EINVAL)?;
    Ok((bytes, written))
}

/// Sends a whole response: status, headers and body. Bytes are copied
/// before this returns; a file is taken (and closed), even on failure.
pub fn send(reply: ReplyId, status: u16, headers: &[(&[u8], &[u8])], body: Body<'_>) -> Result<()> {
    operate(reply, |e| {
        let (mut bytes, written) = head(e, status, headers, ResponseFraming::Length(body.len()))?;
        let with_body = written.body != BodyMode::None;
        let sent = if with_body { body.len() } else { 0 };
        let file = match body {
            Body::Bytes(b) if with_body => {
                reserve(&mut bytes, b.len())?;
                bytes.extend_from_slice(b);
                None
            }
            Body::File(fd, offset, len) if with_body => Some((fd, offset, len)),
            _ => None,
        };
        e.state = ReplyState::Ended { keep_alive: written.keep_alive, status, sent };
        Ok(Delivery { reply, conn: e.conn, bytes, file, ended: true, keep_alive: written.keep_alive })
    })
}

/// Starts a streamed response: the head now, the body with [`write`], then
/// [`end`]. `length`: the exact body length if known (then no chunked encoding).
pub fn start(reply: ReplyId, status: u16, headers: &[(&[u8], &[u8])], length: Option<u64>) -> Result<()> {
    operate(reply, |e| {
        let framing = length.map_or(ResponseFraming::Unknown, ResponseFraming::Length);
        let (bytes, written) = head(e, status, headers, framing)?;
        e.state = ReplyState::Streaming { body: written.body, keep_alive: written.keep_alive, status };
        Ok(Delivery { reply, conn: e.conn, bytes, file: None, ended: false, keep_alive: written.keep_alive })
    })
}

/// Sends a piece of a streamed body (copied before this returns).
/// `Ok(true)`: the connection's queue is above its high-water mark; the
/// piece was taken, but wait for [`super::HttpHandler::on_drain`] before
/// writing more.
pub fn write(reply: ReplyId, data: &[u8]) -> Result<bool> {
    let mut full = false;
    operate(reply, |e| {
        let ReplyState::Streaming { body, keep_alive, .. } = e.state else { return Err(C10K_EINVAL) };
        let mut bytes = Vec::new();
        // The chunk's size line and CRLF fit in 32 bytes.
        reserve(&mut bytes, data.len().saturating_add(32))?;
        match body {
            BodyMode::Chunked => write_chunk(&mut bytes, data),
            BodyMode::Length(n) if e.sent + data.len() as u64 > n => return Err(C10K_EINVAL),
            BodyMode::Length(_) | BodyMode::UntilClose => bytes.extend_from_slice(data),
            BodyMode::None => {}
        }
        e.sent += data.len() as u64;
        e.queued += bytes.len() as u64;
        full = e.queued > DEFAULT_HIGH_WATER as u64;
        e.blocked |= full;
        Ok(Delivery { reply, conn: e.conn, bytes, file: None, ended: false, keep_alive })
    })?;
    Ok(full)
}

/// The loop's report of how much the reply's connection has queued;
/// whether a writer waits for `on_drain`.
fn report_queue(reply: ReplyId, pending: u64) -> bool {
    let mut table = TABLE.lock();
    let Some(e) = table.get_mut(reply.slot(), reply.generation()) else { return false };
    e.queued = pending;
    e.blocked
}

/// The reply's connection drained: whether its writer was waiting, which
/// is then owed `on_drain`.
pub(crate) fn drained(reply: ReplyId, pending: u64) -> bool {
    let mut table = TABLE.lock();
    let Some(e) = table.get_mut(reply.slot(), reply.generation()) else { return false };
    e.queued = pending;
    std::mem::take(&mut e.blocked)
}

/// Ends a streamed response. A declared length that was not reached
/// closes the connection (the client would otherwise wait for the rest).
pub fn end(reply: ReplyId) -> Result<()> {
    operate(reply, |e| {
        let ReplyState::Streaming { body, mut keep_alive, status } = e.state else { return Err(C10K_EINVAL) };
        let mut bytes = Vec::new();
        match body {
            BodyMode::Chunked => write_last_chunk(&mut bytes),
            BodyMode::Length(n) if e.sent != n => keep_alive = false,
            BodyMode::UntilClose => keep_alive = false,
            _ => {}
        }
        e.state = ReplyState::Ended { keep_alive, status, sent: e.sent };
        Ok(Delivery { reply, conn: e.conn, bytes, file: None, ended: true, keep_alive })
    })
}

/// Gives up on a reply: its connection is aborted (RST), so that a client
/// never mistakes a cut response for a complete one. `on_abort` does not
/// run: the caller knows.
pub fn abort(reply: ReplyId) -> Result<()> {
    reply.expect(Kind::Reply)?;
    // Out of the table first, so the connection's close finds nothing to
    // report with on_abort.
    let (lp, conn) = {
        let mut table = TABLE.lock();
        match table.get(reply.slot(), reply.generation()) {
            Some(e) if !matches!(e.state, ReplyState::Ended { .. }) => {}
            _ => return Err(C10K_ECLOSED),
        }
        let e = table.remove(reply.slot(), reply.generation()).ok_or(C10K_ECLOSED)?;
        (e.lp, e.conn)
    };
    let abort = move |lp: &Loop| {
        let _ = lp.conn_abort(conn);
    };
    match owned_loop(reply.loop_id()) {
        Ok(own) => abort(own),
        Err(_) => lp.post(Box::new(abort)),
    }
    Ok(())
}

/// Asks the loop to run `task` with the connection of `reply` (for example
/// to resume reading a streamed body).
pub(crate) fn with_conn(reply: ReplyId, task: impl FnOnce(&Loop, ConnId) + Send + 'static) -> Result<()> {
    reply.expect(Kind::Reply)?;
    let (lp, conn) = {
        let table = TABLE.lock();
        let e = table.get(reply.slot(), reply.generation()).ok_or(C10K_ECLOSED)?;
        (e.lp.clone(), e.conn)
    };
    match owned_loop(reply.loop_id()) {
        Ok(lp) => task(lp, conn),
        Err(_) => lp.post(Box::new(move |lp| task(lp, conn))),
    }
    Ok(())
}
