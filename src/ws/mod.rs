//! WebSocket (RFC 6455) on the loop: a layer above `http` (the upgrade)
//! and beside `http::server`. A host sees messages, not bytes.
//!
//! - [`handshake`]: which requests may upgrade, `Sec-WebSocket-Accept`.
//! - [`decoder`]: frames to messages, with every protocol check, no sockets.
//! - [`frame`], [`close`], [`utf8`]: the wire format's pieces.
//! - `conn`: one WebSocket on a loop: pongs, pings, the close handshake.
//! - `send`: sending and broadcasting from any thread.
//! - `registry`: the handle table that lets any thread find a WebSocket.
//!
//! permessage-deflate (RFC 7692) is not offered: a client asking for it
//! gets a WebSocket without it, as the RFC allows.

mod base64;
pub mod close;
mod conn;
pub mod decoder;
pub mod frame;
pub mod handshake;
mod registry;
mod send;
mod sha1;
pub mod utf8;

pub use decoder::{Decoder, Event, Limits, ProtocolError};
pub use frame::Opcode;
pub use send::{broadcast, close, ping, send, set_reading};

use crate::error::*;
use crate::http::server::Request;
use crate::reactor::{ConnId, Handle, Loop};

/// Names an open WebSocket from any thread; stale handles are detected.
pub type WsId = Handle;

/// How a WebSocket behaves. The defaults are safe for untrusted clients.
#[derive(Clone, Copy, Debug)]
pub struct WsConfig {
    pub limits: Limits,
    /// A connection that received nothing for this long gets a ping; 0: never.
    pub ping_interval_ms: u32,
    /// No answer (of any kind) this long after a ping: the connection is
    /// closed with 1011.
    pub ping_timeout_ms: u32,
    /// How long the peer has to answer our close frame and close its side.
    pub close_timeout_ms: u32,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            limits: Limits::default(),
            ping_interval_ms: 30_000,
            ping_timeout_ms: 30_000,
            close_timeout_ms: 5_000,
        }
    }
}

/// Where a WebSocket event happens: on its loop, for its connection.
pub struct WsCtx<'a> {
    pub lp: &'a Loop,
    pub ws: WsId,
    pub conn: ConnId,
    /// The connection's user data (`Loop::conn_set_user_data` changes it).
    pub user_data: usize,
}

/// The host's side of a WebSocket. Every method runs on the loop thread.
pub trait WsHandler {
    /// The 101 is queued: the WebSocket is open and may send.
    fn on_open(&mut self, _cx: &WsCtx<'_>) {}
    /// A whole message; `data` is borrowed for the call.
    fn on_message(&mut self, cx: &WsCtx<'_>, data: &[u8], binary: bool);
    /// A ping arrived (the pong is already queued).
    fn on_ping(&mut self, _cx: &WsCtx<'_>, _data: &[u8]) {}
    fn on_pong(&mut self, _cx: &WsCtx<'_>, _data: &[u8]) {}
    /// The write queue fell to its low-water mark after passing the high one.
    fn on_drain(&mut self, _cx: &WsCtx<'_>) {}
    /// Last call: the connection is gone. `code` is the peer's close code
    /// (1005 when its close frame had none), the code we failed the
    /// connection with, or 1006 when it ended without a close frame.
    fn on_close(&mut self, _cx: &WsCtx<'_>, _code: u16, _reason: &[u8]) {}
}

/// Turns the request into a WebSocket: answers 101 with
/// `Sec-WebSocket-Accept`, `subprotocol` (one the client offered) and
/// `headers`, and hands the connection to `handler`, which gets
/// `user_data` as the connection's user data.
///
/// A request whose handshake is wrong is answered here (400, or 426 for
/// an unsupported version) and gets `C10K_EPROTO`. `C10K_EINVAL`, with
/// nothing sent: a subprotocol the client did not offer, a bad header, a
/// request already answered, or a handler not running on the loop thread.
pub fn accept(
    req: &mut Request<'_>,
    config: &WsConfig,
    subprotocol: Option<&[u8]>,
    headers: &[(&[u8], &[u8])],
    user_data: usize,
    handler: Box<dyn WsHandler>,
) -> Result<WsId> {
    let (lp, conn) = req.inline_conn().ok_or(C10K_EINVAL)?;
    let key = match handshake::check(req) {
        Ok(key) => key,
        Err(refusal) => {
            let version: &[(&[u8], &[u8])] = &[(b"Sec-WebSocket-Version", b"13")];
            let headers = if refusal.status == 426 { version } else { &[] };
            let mut body = refusal.reason.as_bytes().to_vec();
            body.push(b'\n');
            req.respond(refusal.status, headers, crate::http::server::Body::Bytes(&body))?;
            return Err(C10K_EPROTO);
        }
    };
    if let Some(p) = subprotocol
        && !handshake::offered_subprotocols(req).any(|o| o == p)
    {
        return Err(C10K_EINVAL);
    }
    let accept = handshake::accept_key(key);
    let mut all: Vec<(&[u8], &[u8])> = Vec::with_capacity(headers.len() + 4);
    all.extend_from_slice(&[
        (b"Upgrade", b"websocket"),
        (b"Connection", b"Upgrade"),
        (b"Sec-WebSocket-Accept", &accept),
    ]);
    if let Some(p) = subprotocol {
        all.push((b"Sec-WebSocket-Protocol", p));
    }
    all.extend_from_slice(headers);
    let ws = registry::register(lp, conn);
    let ws_conn = conn::WsConn::new(ws, *config, user_data, handler);
    req.upgrade(&all, Box::new(ws_conn)).inspect_err(|_| registry::remove(ws))?;
    Ok(ws)
}

/// Whether the request asks for a WebSocket (`Upgrade: websocket`).
pub fn is_upgrade(req: &Request<'_>) -> bool {
    handshake::is_websocket_request(req)
}

/// Sets the user data its callbacks get. Loop thread of the WebSocket.
pub fn set_user_data(ws: WsId, user_data: usize) -> Result<()> {
    let conn = registry::conn(ws)?;
    crate::reactor::owned_loop(ws.loop_id())?.conn_set_user_data(conn, user_data)
}

/// The connection under a WebSocket. Loop thread of the WebSocket.
pub fn conn_of(ws: WsId) -> Result<ConnId> {
    let conn = registry::conn(ws)?;
    crate::reactor::owned_loop(ws.loop_id())?;
    Ok(conn)
}
