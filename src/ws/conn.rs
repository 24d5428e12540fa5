//! One WebSocket on its loop: frames in through the decoder, automatic
//! pongs, keep-alive pings, the close handshake, and the host's callbacks.

use std::cell::Cell;

use super::decoder::{Decoder, Event};
use super::frame::{self, Opcode};
use super::{WsConfig, WsCtx, WsHandler, WsId, close, registry};
use crate::conn::ConnHandler;
use crate::reactor::{ConnId, Loop};

/// How much a peer may still send once the connection is closing, before
/// it is reset: enough for frames in flight, not for a flood.
const LINGER_MAX_BYTES: u64 = 256 * 1024;

thread_local! {
    /// Where whole frames are unmasked: one per loop thread, lent to the
    /// decoder for a read, so that an idle WebSocket holds no buffer.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Open,
    /// Our close frame is out; waiting for the peer's.
    CloseSent,
    /// Both close frames exchanged, or the connection failed: our side is
    /// shut down, input is dropped until the peer closes.
    Closed,
}

pub(crate) struct WsConn {
    decoder: Decoder,
    inner: Inner,
}

/// Everything but the decoder, so that the decoder's callback can borrow it.
struct Inner {
    ws: WsId,
    config: WsConfig,
    handler: Box<dyn WsHandler>,
    initial_user_data: Option<usize>,
    state: State,
    /// What `on_close` reports: the peer's close frame, or the code we failed with.
    close_status: Option<(u16, Vec<u8>)>,
    awaiting_pong: bool,
    dropped: u64,
}

impl WsConn {
    pub fn new(ws: WsId, config: WsConfig, user_data: usize, handler: Box<dyn WsHandler>) -> WsConn {
        WsConn {
            decoder: Decoder::new(config.limits),
            inner: Inner {
                ws,
                config,
                handler,
                initial_user_data: Some(user_data),
                state: State::Open,
                close_status: None,
                awaiting_pong: false,
                dropped: 0,
            },
        }
    }
}

impl Inner {
    fn cx<'a>(&self, lp: &'a Loop, conn: ConnId) -> WsCtx<'a> {
        WsCtx { lp, ws: self.ws, conn, user_data: lp.conn_user_data(conn).unwrap_or(0) }
    }

    fn send_control(&self, lp: &Loop, conn: ConnId, opcode: Opcode, payload: &[u8]) {
        let _ = lp.conn_write_with(conn, payload.len() + frame::MAX_SERVER_HEAD, |out| {
            frame::write_head(out, opcode, payload.len());
            out.extend_from_slice(payload);
        });
    }

    fn event(&mut self, lp: &Loop, conn: ConnId, event: Event<'_>) -> bool {
        match event {
            Event::Message { data, binary } => {
                // After our close frame, data is no longer for the host.
                if self.state == State::Open {
                    self.handler.on_message(&self.cx(lp, conn), data, binary);
                }
            }
            Event::Ping(data) => {
                if self.state == State::Open {
                    self.send_control(lp, conn, Opcode::Pong, data);
                    self.handler.on_ping(&self.cx(lp, conn), data);
                }
            }
            Event::Pong(data) => self.handler.on_pong(&self.cx(lp, conn), data),
            Event::Close { code, reason } => {
                self.close_status = Some((code, reason.to_vec()));
                if self.state == State::Open {
                    // Echo the code (RFC 6455 5.5.1), then close our side.
                    self.send_control(lp, conn, Opcode::Close, &close::payload(code, reason));
                }
                // The peer sends nothing after its close frame: close
                // once ours is written (RFC 6455 7.1.1: the server closes first).
                self.state = State::Closed;
                registry::mark_closing(self.ws);
                let _ = lp.conn_close(conn);
                return false;
            }
        }
        true
    }

    /// We failed the connection: FIN after the queued frames, then wait
    /// (bounded) for the peer to close. Closing at once could answer bytes
    /// it still sends with a reset that destroys our close frame.
    fn linger(&mut self, lp: &Loop, conn: ConnId) {
        self.state = State::Closed;
        registry::mark_closing(self.ws);
        let _ = lp.conn_shutdown(conn);
        let _ = lp.conn_set_timeout(conn, self.config.close_timeout_ms, false);
    }

    /// Fails the connection (RFC 6455 7.1.7) with a close frame saying why.
    fn fail(&mut self, lp: &Loop, conn: ConnId, code: u16, reason: &str) {
        if self.state == State::Open {
            self.send_control(lp, conn, Opcode::Close, &close::payload(code, reason.as_bytes()));
        }
        if self.close_status.is_none() {
            self.close_status = Some((code, reason.as_bytes().to_vec()));
        }
        self.linger(lp, conn);
    }

    /// Sends our close frame and waits for the peer's.
    fn start_close(&mut self, lp: &Loop, conn: ConnId, code: u16, reason: &[u8]) {
        if self.state != State::Open {
            return;
        }
        registry::mark_closing(self.ws);
        self.send_control(lp, conn, Opcode::Close, &close::payload(code, reason));
        self.state = State::CloseSent;
        let _ = lp.conn_set_timeout(conn, self.config.close_timeout_ms, false);
    }

    fn arm_ping(&self, lp: &Loop, conn: ConnId) {
        if self.config.ping_interval_ms != 0 {
            let _ = lp.conn_set_timeout(conn, self.config.ping_interval_ms, true);
        }
    }
}

impl ConnHandler for WsConn {
    fn on_open(&mut self, lp: &Loop, conn: ConnId) {
        let s = &mut self.inner;
        if let Some(user_data) = s.initial_user_data.take() {
            let _ = lp.conn_set_user_data(conn, user_data);
        }
        s.arm_ping(lp, conn);
        s.handler.on_open(&s.cx(lp, conn));
    }

    fn on_data(&mut self, lp: &Loop, conn: ConnId, data: &[u8]) {
        let s = &mut self.inner;
        if s.state == State::Closed {
            s.dropped += data.len() as u64;
            if s.dropped > LINGER_MAX_BYTES {
                let _ = lp.conn_abort(conn);
            }
            return;
        }
        if s.awaiting_pong {
            // Anything from the peer shows it is alive.
            s.awaiting_pong = false;
            s.arm_ping(lp, conn);
        }
        let mut scratch = SCRATCH.take();
        let result = self.decoder.feed(data, &mut scratch, |event| s.event(lp, conn, event));
        SCRATCH.set(scratch);
        if let Err(e) = result {
            s.fail(lp, conn, e.code, e.reason);
        }
    }

    fn on_end(&mut self, _lp: &Loop, _conn: ConnId) -> bool {
        false
    }

    fn on_drain(&mut self, lp: &Loop, conn: ConnId) {
        let s = &mut self.inner;
        registry::drained(s.ws);
        s.handler.on_drain(&s.cx(lp, conn));
    }

    fn on_notify(&mut self, lp: &Loop, conn: ConnId) {
        let s = &mut self.inner;
        if let Some((code, reason)) = registry::take_pending_close(s.ws) {
            s.start_close(lp, conn, code, &reason);
        }
    }

    fn on_timeout(&mut self, lp: &Loop, conn: ConnId) -> bool {
        let s = &mut self.inner;
        if s.state != State::Open || s.config.ping_interval_ms == 0 {
            return false;
        }
        if s.awaiting_pong {
            s.fail(lp, conn, close::INTERNAL_ERROR, "keepalive ping timeout");
        } else {
            s.send_control(lp, conn, Opcode::Ping, b"c10k");
            s.awaiting_pong = true;
            let _ = lp.conn_set_timeout(conn, s.config.ping_timeout_ms, false);
        }
        true
    }

    fn on_shutdown(&mut self, lp: &Loop, conn: ConnId) {
        let s = &mut self.inner;
        match s.state {
            State::Open => s.start_close(lp, conn, close::GOING_AWAY, b"server shutting down"),
            // Stop waiting for a peer that has all we will send.
            State::Closed => drop(lp.conn_close(conn)),
            State::CloseSent => {}
        }
    }

    fn on_close(&mut self, lp: &Loop, conn: ConnId, _reason: i32, user_data: usize) {
        let s = &mut self.inner;
        registry::remove(s.ws);
        let (code, reason) = s.close_status.take().unwrap_or((close::ABNORMAL, Vec::new()));
        let cx = WsCtx { lp, ws: s.ws, conn, user_data };
        s.handler.on_close(&cx, code, &reason);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_idle_websocket_is_small() {
        // Boxed once per connection, beside the connection's own state; no
        // buffer hangs off it while idle (decoder tests show that).
        let size = std::mem::size_of::<super::WsConn>();
        assert!(size <= 256, "WsConn is {size} bytes");
    }
}
