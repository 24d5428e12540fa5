//! The process-wide table of open WebSockets: how a `uint64_t` handle,
//! used from any thread, finds its loop and connection, and the little
//! state senders on other threads share with the loop (closing, the
//! queue estimate that tells them to wait for `on_drain`).
//!
//! One mutex guards it, held for a lookup at a time: a send locks it once,
//! a broadcast once for all its recipients.

use std::sync::LazyLock;

use parking_lot::Mutex;

use super::WsId;
use crate::conn::DEFAULT_HIGH_WATER;
use crate::error::{C10K_ECLOSED, Result};
use crate::reactor::{ConnId, Handle, Kind, Loop, LoopHandle, Slab};

pub(super) struct Entry {
    pub lp: LoopHandle,
    pub conn: ConnId,
    /// A close frame was sent or asked for: no more data may be sent.
    pub closing: bool,
    /// A close asked for from a host, for the loop to send.
    pub pending_close: Option<(u16, Vec<u8>)>,
    /// Bytes queued by other threads and not yet known to have left.
    pub queued: u64,
    /// A sender on another thread was told the queue is full: `on_drain` is owed.
    pub blocked: bool,
}

static TABLE: LazyLock<Mutex<Slab<Entry>>> = LazyLock::new(|| Mutex::new(Slab::default()));

/// The table slot of a WebSocket handle; `C10K_EINVAL` for a handle of
/// another kind, `C10K_ECLOSED` for a number that is no handle.
fn key(ws: WsId) -> Result<(u32, u32)> {
    let ws = ws.expect(Kind::WebSocket)?;
    Ok((ws.slot(), ws.generation()))
}

pub(super) fn register(lp: &Loop, conn: ConnId) -> WsId {
    let entry = Entry { lp: lp.handle(), conn, closing: false, pending_close: None, queued: 0, blocked: false };
    let (slot, generation) = TABLE.lock().insert(entry);
    Handle::new(Kind::WebSocket, lp.id(), slot, generation)
}

pub(super) fn remove(ws: WsId) {
    if let Ok((slot, generation)) = key(ws) {
        TABLE.lock().remove(slot, generation);
    }
}

/// Runs `f` on the entry of `ws` under the lock.
pub(super) fn with<R>(ws: WsId, f: impl FnOnce(&mut Entry) -> Result<R>) -> Result<R> {
    let (slot, generation) = key(ws)?;
    let mut table = TABLE.lock();
    f(table.get_mut(slot, generation).ok_or(C10K_ECLOSED)?)
}

/// Runs `f` on each live entry among `ids` under one lock; unknown ones are skipped.
pub(super) fn each(ids: &[WsId], mut f: impl FnMut(WsId, &mut Entry)) {
    let mut table = TABLE.lock();
    for &ws in ids {
        if let Ok((slot, generation)) = key(ws)
            && let Some(e) = table.get_mut(slot, generation)
        {
            f(ws, e);
        }
    }
}

/// The connection of an open WebSocket.
pub(super) fn conn(ws: WsId) -> Result<ConnId> {
    with(ws, |e| Ok(e.conn))
}

/// Marks the WebSocket closing; false if it already was.
pub(super) fn mark_closing(ws: WsId) -> bool {
    with(ws, |e| Ok(!std::mem::replace(&mut e.closing, true))).unwrap_or(false)
}

pub(super) fn take_pending_close(ws: WsId) -> Option<(u16, Vec<u8>)> {
    with(ws, |e| Ok(e.pending_close.take())).ok().flatten()
}

/// Counts `len` more bytes queued by another thread; whether the queue is
/// now over the high-water mark (the sender must wait for `on_drain`).
pub(super) fn add_remote(e: &mut Entry, len: usize) -> bool {
    e.queued += len as u64;
    let full = e.queued > DEFAULT_HIGH_WATER as u64;
    e.blocked |= full;
    full
}

/// The loop's report of what the connection has queued; whether a sender
/// on another thread waits for `on_drain`.
pub(super) fn report_queue(ws: WsId, pending: u64) -> bool {
    with(ws, |e| {
        e.queued = pending;
        Ok(e.blocked)
    })
    .unwrap_or(false)
}

/// The connection drained: forgets that a sender was told to wait.
pub(super) fn drained(ws: WsId) {
    let _ = with(ws, |e| {
        e.blocked = false;
        e.queued = 0;
        Ok(())
    });
}
