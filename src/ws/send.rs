//! Sending from any thread. On the WebSocket's loop thread a frame is
//! serialised straight into the connection's write queue; from another
//! thread it is serialised there and posted to the loop's mailbox, so
//! frames one thread sends arrive in the order it sent them.

use std::sync::Arc;

use super::frame::{self, MAX_CONTROL_PAYLOAD, MAX_SERVER_HEAD, Opcode};
use super::{WsId, close as codes, registry};
use crate::error::*;
use crate::reactor::{ConnId, Kind, Loop, LoopHandle, owned_loop};

/// Frames up to this size are serialised into the queue's coalescing
/// buffer; bigger ones get a buffer of their own (one copy, not two).
const INLINE_FRAME_MAX: usize = 16 * 1024;

/// Sends a text or binary message, or a pong. Text must be UTF-8.
/// `Ok(true)`: queued, but the connection's queue is over its high-water
/// mark: wait for `on_drain` before sending more. `C10K_ECLOSED` once the
/// WebSocket is closing or gone.
pub fn send(ws: WsId, opcode: Opcode, data: &[u8]) -> Result<bool> {
    let ws = ws.expect(Kind::WebSocket)?;
    match opcode {
        Opcode::Text if std::str::from_utf8(data).is_err() => return Err(C10K_EINVAL),
        Opcode::Text | Opcode::Binary => {}
        Opcode::Ping | Opcode::Pong if data.len() <= MAX_CONTROL_PAYLOAD => {}
        _ => return Err(C10K_EINVAL),
    }
    match owned_loop(ws.loop_id()) {
        Ok(lp) => {
            let conn = registry::with(ws, |e| if e.closing { Err(C10K_ECLOSED) } else { Ok(e.conn) })?;
            write_frame(lp, conn, opcode, data)
        }
        Err(C10K_EWRONGTHREAD) => {
            let bytes = frame::frame(opcode, data);
            let (handle, conn, full) = registry::with(ws, |e| {
                if e.closing {
                    return Err(C10K_ECLOSED);
                }
                Ok((e.lp.clone(), e.conn, registry::add_remote(e, bytes.len())))
            })?;
            handle.post(Box::new(move |lp| deliver(lp, ws, conn, bytes)));
            Ok(full)
        }
        Err(e) => Err(e),
    }
}

/// Sends a ping (at most 125 bytes); the peer's pong reaches `on_pong`.
pub fn ping(ws: WsId, data: &[u8]) -> Result<bool> {
    send(ws, Opcode::Ping, data)
}

fn write_frame(lp: &Loop, conn: ConnId, opcode: Opcode, data: &[u8]) -> Result<bool> {
    if data.len() + MAX_SERVER_HEAD <= INLINE_FRAME_MAX {
        lp.conn_write_with(conn, data.len() + MAX_SERVER_HEAD, |out| {
            frame::write_head(out, opcode, data.len());
            out.extend_from_slice(data);
        })
    } else {
        lp.conn_write_vec(conn, frame::frame(opcode, data))
    }
}

/// Queues a frame another thread serialised.
fn deliver(lp: &Loop, ws: WsId, conn: ConnId, bytes: Vec<u8>) {
    if lp.conn_write_vec(conn, bytes).is_err() {
        return; // closed meanwhile: the host learns it from on_close
    }
    if registry::report_queue(ws, lp.conn_pending(conn).unwrap_or(0)) {
        // A sender was told to wait: make the connection report its drain.
        let _ = lp.conn_want_drain(conn);
    }
}

/// Starts the closing handshake: a close frame with `code` (1000-1003,
/// 1007-1014 or 3000-4999, or 1005 for a frame without a code) and a
/// UTF-8 `reason` of at most 123 bytes, after what was sent before. The
/// connection closes when the peer answers (or after the close timeout).
pub fn close(ws: WsId, code: u16, reason: &[u8]) -> Result<()> {
    let valid = codes::is_valid_on_wire(code) || (code == codes::NO_STATUS && reason.is_empty());
    if !valid || reason.len() > MAX_CONTROL_PAYLOAD - 2 || std::str::from_utf8(reason).is_err() {
        return Err(C10K_EINVAL);
    }
    let (handle, conn) = registry::with(ws, |e| {
        if e.closing {
            return Err(C10K_ECLOSED);
        }
        e.closing = true;
        e.pending_close = Some((code, reason.to_vec()));
        Ok((e.lp.clone(), e.conn))
    })?;
    // The connection sends it from on_notify, after the frames queued before.
    on_loop(ws, handle, move |lp| {
        let _ = lp.conn_notify(conn);
    })
}

/// Stops or restarts reading from the WebSocket (backpressure towards a
/// peer that sends faster than the host can answer). Messages already read
/// may still arrive.
pub fn set_reading(ws: WsId, reading: bool) -> Result<()> {
    let (handle, conn) = registry::with(ws, |e| Ok((e.lp.clone(), e.conn)))?;
    on_loop(ws, handle, move |lp| {
        let _ = lp.conn_set_reading(conn, reading);
    })
}

/// Runs `task` on the loop of `ws`: now on its thread, else through its mailbox.
fn on_loop(ws: WsId, handle: LoopHandle, task: impl FnOnce(&Loop) + Send + 'static) -> Result<()> {
    match owned_loop(ws.loop_id()) {
        Ok(lp) => task(lp),
        Err(C10K_EWRONGTHREAD) => handle.post(Box::new(task)),
        Err(e) => return Err(e),
    }
    Ok(())
}

/// Sends one message to many WebSockets: the frame is serialised once and
/// its one buffer queued, shared, on every connection. Handles that are
/// closing or gone are skipped. Returns how many WebSockets it was queued
/// for. A connection whose queue passes its high-water mark reports
/// `on_drain` once it empties.
pub fn broadcast(ids: &[WsId], binary: bool, data: &[u8]) -> Result<usize> {
    if !binary && std::str::from_utf8(data).is_err() {
        return Err(C10K_EINVAL);
    }
    let shared: Arc<[u8]> = frame::frame(if binary { Opcode::Binary } else { Opcode::Text }, data).into();
    // Recipients grouped by loop: one mailbox post per foreign loop.
    let mut groups: Vec<(u16, LoopHandle, Vec<ConnId>)> = Vec::new();
    let mut count = 0;
    registry::each(ids, |ws, e| {
        if e.closing {
            return;
        }
        count += 1;
        match groups.iter_mut().find(|g| g.0 == ws.loop_id()) {
            Some(g) => g.2.push(e.conn),
            None => groups.push((ws.loop_id(), e.lp.clone(), vec![e.conn])),
        }
    });
    for (loop_id, handle, conns) in groups {
        let shared = shared.clone();
        let task = move |lp: &Loop| {
            for conn in conns {
                let _ = lp.conn_write_shared(conn, shared.clone());
            }
        };
        match owned_loop(loop_id) {
            Ok(lp) => task(lp),
            Err(_) => handle.post(Box::new(task)),
        }
    }
    Ok(count)
}
