//! One HTTP connection: parse a head, read its body, call the handler,
//! write the answer, repeat. Requests are handled one at a time and in
//! order, so pipelined responses cannot overtake each other; what is read
//! meanwhile waits in a small per-connection buffer that exists only while
//! there is something in it.

use std::mem;
use std::rc::Rc;

use super::budget::{self, BodyBuffer};
use super::health;
use super::rate::{OutputWatch, RateMeter, Tick, Verdict};
use super::reply::{self, ReplyId, ReplyState};
use super::request::{Answer, Outcome, request_line};
use super::{HttpConfig, ReqInfo, Request, Service, batch, count_response};
use crate::conn::{ConnHandler, DEFAULT_HIGH_WATER, OutputProgress};
use crate::http::{BodyDecoder, BodyKind, CONTINUE, Head, HttpError, parse_head_into, write_error};
use crate::reactor::stats::add;
use crate::reactor::{ConnId, Loop};

/// Unprocessed input past which reading pauses (requests pipelined behind
/// one that is still being answered).
const MAX_BUFFERED_INPUT: usize = 64 * 1024;
/// How long a connection we are closing may take to take our last bytes.
pub(super) const CLOSE_LINGER_MS: u32 = 5_000;
/// How much a client may still send once we are closing, before a reset.
const LINGER_MAX_BYTES: u64 = 256 * 1024;
/// The answer to a body the process-wide budget cannot take.
const OVER_BUDGET: HttpError = HttpError { status: 503, reason: "request bodies over the memory budget, retry later" };

pub(crate) struct HttpConn {
    svc: Rc<Service>,
    /// Input not yet consumed; `None` when there is none (between
    /// requests): boxed, so that a connection holds 8 bytes for it, not 24.
    inbuf: Option<Box<Vec<u8>>>,
    phase: Phase,
    served: u32,
    /// The peer sent FIN: answer what was asked, then close.
    peer_ended: bool,
    /// Parsing waits for the write queue to drain (a client that pipelines
    /// without reading).
    output_blocked: bool,
    /// Request line of the deferred request, kept only for the access log
    /// (boxed: 16 bytes of every connection, not 24).
    log_line: Option<Box<[u8]>>,
    /// Graceful shutdown: close after the exchange in flight.
    draining: bool,
    /// Idle time and response rate, between requests and while a reply is
    /// pending.
    watch: OutputWatch,
}

enum Phase {
    /// Waiting for a request head; `started` once its first byte arrived.
    Head {
        started: bool,
    },
    Body(Box<BodyState>),
    /// The handler deferred: waiting for the reply to end.
    Waiting(ReplyId),
    /// Closing: input is read and dropped (this much so far), until the
    /// client closes too.
    Closed {
        dropped: u64,
    },
}

struct BodyState {
    head: Head,
    head_bytes: Vec<u8>,
    info: ReqInfo,
    decoder: BodyDecoder,
    body: BodyBuffer,
    /// The body's rate, against `HttpConfig::min_body_rate`.
    meter: RateMeter,
    /// Loop time of the last body bytes, against `body_timeout_ms`.
    last_data_ms: u64,
    /// With streaming bodies: the reply whose handler receives the pieces.
    stream: Option<ReplyId>,
    /// The handler asked to pause the stream.
    paused: bool,
}

impl HttpConn {
    pub fn new(svc: Rc<Service>) -> HttpConn {
        HttpConn {
            svc,
            inbuf: None,
            phase: Phase::Head { started: false },
            served: 0,
            peer_ended: false,
            output_blocked: false,
            log_line: None,
            draining: false,
            watch: OutputWatch::new(0, 0, false),
        }
    }

    /// Processes buffered input (after a reply ended or the queue drained).
    fn drive_buffered(&mut self, lp: &Loop, conn: ConnId) {
        let Some(mut buf) = self.inbuf.take() else {
            self.drive(lp, conn, &[]);
            return;
        };
        let used = self.drive(lp, conn, &buf);
        if used < buf.len() {
            buf.drain(..used);
            self.inbuf = Some(buf);
        }
    }

    /// Consumes what it can of `input`; returns how much.
    fn drive(&mut self, lp: &Loop, conn: ConnId, input: &[u8]) -> usize {
        let mut off = 0;
        // Parsed into in place, for every pipelined request of `input`.
        let mut head = Head::default();
        loop {
            match &mut self.phase {
                Phase::Closed { dropped } => {
                    *dropped += input.len() as u64;
                    if *dropped > LINGER_MAX_BYTES {
                        // Still sending long after our answer: not a client
                        // finishing its request; stop reading and reset.
                        let _ = lp.conn_abort(conn);
                    }
                    return input.len();
                }
                Phase::Waiting(_) => return off,
                Phase::Head { .. } if off == input.len() => return off,
                Phase::Head { .. } => {
                    if lp.conn_pending(conn).unwrap_or(0) > DEFAULT_HIGH_WATER as u64 {
                        self.output_blocked = true;
                        return off;
                    }
                    match parse_head_into(&input[off..], &self.svc.config.limits, &mut head) {
                        Ok(false) => {
                            self.arm_header_timeout(lp, conn);
                            return off;
                        }
                        Err(e) => {
                            self.fail(lp, conn, &e);
                            return input.len();
                        }
                        Ok(true) => {
                            add(&lp.stats().requests, 1);
                            let start = off;
                            off += head.head_len;
                            if let Some(rest) = self.start_request(lp, conn, &head, &input[start..off]) {
                                return self.hand_over(lp, conn, rest, &input[off..]) + off;
                            }
                        }
                    }
                }
                Phase::Body(state) => {
                    if state.paused || off == input.len() {
                        return off;
                    }
                    let decoded = match state.decoder.decode(&input[off..]) {
                        Ok(d) => d,
                        Err(e) => {
                            self.fail(lp, conn, &e);
                            return input.len();
                        }
                    };
                    off += decoded.consumed;
                    state.meter.record(decoded.consumed as u64);
                    state.last_data_ms = lp.now_ms();
                    if let Some(data) = decoded.data {
                        match state.stream {
                            Some(reply) => state.paused = !self.svc.handler.on_body(reply, data, false),
                            None => {
                                if state.body.extend(data, self.svc.config.max_buffered_body_bytes).is_err() {
                                    self.fail(lp, conn, &OVER_BUDGET);
                                    return input.len();
                                }
                            }
                        }
                    }
                    if decoded.done {
                        self.body_done(lp, conn);
                    }
                }
            }
        }
    }

    /// A complete head: call the handler now, or read the body first.
    /// Returns the new handler when the request upgraded the connection.
    fn start_request(
        &mut self,
        lp: &Loop,
        conn: ConnId,
        head: &Head,
        head_bytes: &[u8],
    ) -> Option<Box<dyn ConnHandler>> {
        let max = self.svc.config.max_requests_per_conn;
        let draining = self.draining || lp.is_draining();
        let info = ReqInfo::new(head, !draining && (max == 0 || self.served + 1 < max));
        let kind = match head.body {
            BodyKind::Length(0) | BodyKind::None => return self.dispatch(lp, conn, head, head_bytes, &[], &[], info),
            kind => kind,
        };
        let config = &self.svc.config;
        // Charged before the body is read, or 100-continue asked for.
        let body = match kind {
            BodyKind::Length(n) if !config.stream_bodies => {
                match BodyBuffer::declared(&budget::PROCESS, n, config.max_buffered_body_bytes) {
                    Ok(body) => body,
                    Err(_) => {
                        self.fail_logged(lp, conn, &OVER_BUDGET, &request_line(head, head_bytes));
                        return None;
                    }
                }
            }
            _ => BodyBuffer::growing(&budget::PROCESS),
        };
        if head.expect_continue {
            let _ = lp.conn_write(conn, CONTINUE);
        }
        let decoder = BodyDecoder::new(kind, &config.limits);
        let now = lp.now_ms();
        let mut state = Box::new(BodyState {
            head: head.clone(),
            head_bytes: head_bytes.to_vec(),
            info,
            decoder,
            body,
            meter: RateMeter::new(now),
            last_data_ms: now,
            stream: None,
            paused: false,
        });
        if self.svc.config.stream_bodies {
            self.dispatch(lp, conn, &state.head, head_bytes, &[], &[], info);
            match self.phase {
                Phase::Waiting(reply) => {
                    state.stream = Some(reply);
                    // Not read until the batch gave the host its request;
                    // its delivery resumes the connection.
                    state.paused = batch::holds(&self.svc, reply);
                }
                // Answered without taking the body: the rest of the stream
                // cannot be framed cheaply, so the connection ends.
                _ => {
                    self.close(lp, conn);
                    return None;
                }
            }
        }
        // Armed last: a deferred dispatch set the output watch's timer.
        arm_body_timer(&self.svc.config, lp, conn, &mut state);
        self.phase = Phase::Body(state);
        None
    }

    fn body_done(&mut self, lp: &Loop, conn: ConnId) {
        let Phase::Body(state) = mem::replace(&mut self.phase, Phase::Head { started: false }) else { return };
        match state.stream {
            Some(reply) => {
                self.svc.handler.on_body(reply, &[], true);
                self.phase = Phase::Waiting(reply);
                self.collect(lp, conn);
            }
            None => {
                let upgraded = self.dispatch(
                    lp,
                    conn,
                    &state.head,
                    &state.head_bytes,
                    state.body.as_slice(),
                    state.decoder.trailers(),
                    state.info,
                );
                // `Request::upgrade` refuses a request with a body.
                debug_assert!(upgraded.is_none());
            }
        }
    }

    /// Calls the handler and acts on how it answered.
    #[allow(clippy::too_many_arguments)]
    fn dispatch(
        &mut self,
        lp: &Loop,
        conn: ConnId,
        head: &Head,
        buf: &[u8],
        body: &[u8],
        trailers: &[(Vec<u8>, Vec<u8>)],
        info: ReqInfo,
    ) -> Option<Box<dyn ConnHandler>> {
        let mut outcome = Outcome::Open;
        let svc = self.svc.clone();
        {
            let answer = Answer::Inline { lp, conn, svc: &svc, outcome: &mut outcome };
            let mut req = Request::new(head, buf, body, trailers, info, answer);
            match svc.config.health_path {
                Some(path) if path.matches(head.path(buf)) => {
                    health::answer(&mut req, self.draining || lp.is_draining())
                }
                _ if svc.handler.batched() && !head.upgrade => batch::enqueue(lp, &svc, &mut req),
                _ => {
                    add(&lp.stats().request_callbacks, 1);
                    svc.handler.on_request(&mut req);
                }
            }
        }
        match outcome {
            Outcome::Done { keep_alive } => self.finish(lp, conn, keep_alive),
            Outcome::Deferred(reply) => {
                self.phase = Phase::Waiting(reply);
                self.watch_output(lp, conn);
                if self.svc.log.is_some() {
                    self.log_line = Some(request_line(head, buf).into_boxed_slice());
                }
            }
            Outcome::Open => self.fail_logged(
                lp,
                conn,
                &HttpError { status: 500, reason: "the handler did not answer" },
                &request_line(head, buf),
            ),
            Outcome::Upgraded(handler) => return Some(handler),
        }
        None
    }

    /// Gives the connection to the handler a 101 installed, with the input
    /// that followed the request. Returns the input consumed.
    fn hand_over(&mut self, lp: &Loop, conn: ConnId, mut handler: Box<dyn ConnHandler>, rest: &[u8]) -> usize {
        self.phase = Phase::Closed { dropped: 0 };
        let _ = lp.conn_set_timeout(conn, 0, false);
        handler.on_open(lp, conn);
        if !rest.is_empty() {
            handler.on_data(lp, conn, rest);
        }
        let _ = lp.conn_set_handler(conn, handler);
        rest.len()
    }

    /// The exchange is over: wait for the next request, or close.
    fn finish(&mut self, lp: &Loop, conn: ConnId, keep_alive: bool) {
        self.served += 1;
        if !keep_alive || self.draining {
            return self.close(lp, conn);
        }
        self.phase = Phase::Head { started: false };
        self.watch_output(lp, conn);
    }

    /// Between requests and while a reply is pending: closes after the
    /// keep-alive time without traffic, and cuts a client that reads what
    /// waits for it slower than `min_response_rate`.
    fn watch_output(&mut self, lp: &Loop, conn: ConnId) {
        let config = &self.svc.config;
        if !config.min_response_rate.enabled() {
            // The reactor's idle timer alone: any traffic pushes it back.
            let _ = lp.conn_set_timeout(conn, config.keepalive_timeout_ms, true);
            return;
        }
        let (now, output) = (lp.now_ms(), output_progress(lp, conn));
        self.watch = OutputWatch::new(now, output.bytes_out, output.stalled);
        self.look_at_output(lp, conn, now, output);
    }

    /// One look for [`Self::watch_output`] at `output`, as of `now`;
    /// re-arms the timer unless the connection must end.
    fn look_at_output(&mut self, lp: &Loop, conn: ConnId, now: u64, output: OutputProgress) -> Tick {
        let config = &self.svc.config;
        let rule = &config.min_response_rate;
        let tick = self.watch.tick(now, output.bytes_out, output.stalled, rule, config.keepalive_timeout_ms);
        if let Tick::At(at) = tick
            && at != u64::MAX
        {
            let _ = lp.conn_set_timeout(conn, (at - now).clamp(1, u64::from(u32::MAX)) as u32, false);
        }
        tick
    }

    /// Collects a deferred reply that ended.
    fn collect(&mut self, lp: &Loop, conn: ConnId) {
        let Phase::Waiting(reply) = self.phase else { return };
        let Some(ReplyState::Ended { keep_alive, status, sent }) = reply::state(reply) else { return };
        reply::take(reply);
        count_response(lp, status);
        if let (Some(log), Some(line)) = (&self.svc.log, self.log_line.take()) {
            log.record(lp.conn_peer_addr(conn).ok(), &line, status, sent);
        }
        self.finish(lp, conn, keep_alive);
    }

    fn arm_header_timeout(&mut self, lp: &Loop, conn: ConnId) {
        if let Phase::Head { started: started @ false } = &mut self.phase {
            *started = true;
            let _ = lp.conn_set_timeout(conn, self.svc.config.header_timeout_ms, false);
        }
    }

    /// Answers a request that cannot be served and closes; the access log
    /// shows it as `"-"`, since its request line cannot be trusted.
    fn fail(&mut self, lp: &Loop, conn: ConnId, err: &HttpError) {
        self.fail_logged(lp, conn, err, b"-");
    }

    /// [`Self::fail`], logging `line` as the request.
    fn fail_logged(&mut self, lp: &Loop, conn: ConnId, err: &HttpError, line: &[u8]) {
        let date = self.svc.date(lp);
        let written = lp.conn_write_with(conn, 512, |out| write_error(out, err, &date));
        if written.is_ok() {
            count_response(lp, err.status);
            if let Some(log) = &self.svc.log {
                // The body write_error sends: the reason and a newline.
                log.record(lp.conn_peer_addr(conn).ok(), line, err.status, err.reason.len() as u64 + 1);
            }
        }
        self.close(lp, conn);
    }

    /// Closes once output is written, giving a client that does not read a
    /// bounded time to take it.
    ///
    /// Unless the client already ended or the server is shutting down, the
    /// close lingers: our side sends FIN and input is read and dropped until
    /// the client closes too (or the linger time passes). Closing at once
    /// while the client still sends would answer its bytes with RST, which
    /// can destroy the response it has not read yet.
    fn close(&mut self, lp: &Loop, conn: ConnId) {
        if let Phase::Body(state) = mem::replace(&mut self.phase, Phase::Closed { dropped: 0 })
            && let Some(reply) = state.stream
        {
            // A streamed body cut short (408, bad framing): its host waits
            // for pieces that will not come.
            self.abort_open(reply);
        }
        self.inbuf = None;
        let _ = lp.conn_set_timeout(conn, CLOSE_LINGER_MS, false);
        if self.peer_ended || self.draining {
            let _ = lp.conn_close(conn);
        } else {
            let _ = lp.conn_shutdown(conn);
        }
    }

    /// Drops `reply` from the table, telling the host when it was still open.
    fn abort_open(&self, reply: ReplyId) {
        if !matches!(reply::take(reply), None | Some(ReplyState::Ended { .. })) {
            self.svc.handler.on_abort(reply);
        }
    }

    /// Whether a connection waiting for a request may be closed by a
    /// graceful shutdown. Not when a request already waits in the socket:
    /// it is served, then the connection closes. After a drain (the host
    /// asked for restarts that lose nothing), not when the connection has
    /// not sent its first request yet either: its client connected to send
    /// one, and gets its answer, as nginx does; the header timeout bounds
    /// the wait.
    fn idle_at_shutdown(&self, lp: &Loop, conn: ConnId) -> bool {
        let fresh = self.served == 0 && lp.is_draining();
        !fresh && !lp.conn_has_unread_input(conn).unwrap_or(false)
    }

    /// Pauses reading while input piles up unprocessed or the body stream is paused.
    fn update_reading(&self, lp: &Loop, conn: ConnId) {
        let body_paused = matches!(&self.phase, Phase::Body(s) if s.paused);
        let _ = lp
            .conn_set_reading(conn, !(body_paused || self.inbuf.as_ref().map_or(0, |b| b.len()) > MAX_BUFFERED_INPUT));
    }

    /// Input may be processed again: after a reply ended, the queue
    /// drained, or a paused body resumed.
    fn resume(&mut self, lp: &Loop, conn: ConnId) {
        self.collect(lp, conn);
        self.output_blocked = false;
        if let Phase::Body(state) = &mut self.phase {
            state.paused = false;
        }
        self.drive_buffered(lp, conn);
        if self.peer_ended && matches!(self.phase, Phase::Head { .. }) {
            self.close(lp, conn);
        }
        self.update_reading(lp, conn);
    }
}

/// Sets the connection's timer for a body: at the end of the rate
/// window, or when `body_timeout_ms` without data runs out, whichever
/// comes first. Returns false when the body must be refused now.
fn arm_body_timer(config: &HttpConfig, lp: &Loop, conn: ConnId, state: &mut BodyState) -> bool {
    let now = lp.now_ms();
    if state.paused {
        // Our side stopped reading: not the client's slowness.
        state.meter.restart_window(now);
    }
    let idle_end = match config.body_timeout_ms {
        0 => u64::MAX,
        ms => state.last_data_ms + u64::from(ms),
    };
    if now >= idle_end {
        return false;
    }
    let next = match state.meter.check(now, &config.min_body_rate) {
        Some(Verdict::TooSlow) => return false,
        Some(Verdict::CheckAt(at)) => at.min(idle_end),
        None => idle_end,
    };
    if next != u64::MAX {
        let _ = lp.conn_set_timeout(conn, (next - now).min(u64::from(u32::MAX)) as u32, false);
    }
    true
}

/// The connection's output so far; nothing moving when it is gone.
fn output_progress(lp: &Loop, conn: ConnId) -> OutputProgress {
    lp.conn_output(conn).unwrap_or(OutputProgress { bytes_out: 0, stalled: false })
}

impl ConnHandler for HttpConn {
    fn on_open(&mut self, lp: &Loop, conn: ConnId) {
        let _ = lp.conn_set_timeout(conn, self.svc.config.header_timeout_ms, false);
    }

    fn on_data(&mut self, lp: &Loop, conn: ConnId, data: &[u8]) {
        self.watch.input(lp.now_ms());
        match &mut self.inbuf {
            None => {
                // The common case: parse straight from the loop's read buffer.
                let used = self.drive(lp, conn, data);
                if used < data.len() {
                    self.inbuf = Some(Box::new(data[used..].to_vec()));
                }
            }
            Some(buf) => {
                buf.extend_from_slice(data);
                self.drive_buffered(lp, conn);
            }
        }
        self.update_reading(lp, conn);
    }

    fn on_end(&mut self, _lp: &Loop, _conn: ConnId) -> bool {
        self.peer_ended = true;
        // Keep the connection only for a pending answer the config says a
        // half-closed client still waits for; closing aborts the reply.
        matches!(self.phase, Phase::Waiting(_)) && self.svc.config.answer_half_closed
    }

    fn on_drain(&mut self, lp: &Loop, conn: ConnId) {
        if let Phase::Waiting(reply) = self.phase {
            if reply::drained(reply, lp.conn_pending(conn).unwrap_or(0)) {
                self.svc.handler.on_drain(reply);
            }
        }
        if self.output_blocked {
            self.resume(lp, conn);
        }
    }

    fn on_notify(&mut self, lp: &Loop, conn: ConnId) {
        self.resume(lp, conn);
    }

    fn on_timeout(&mut self, lp: &Loop, conn: ConnId) -> bool {
        if let Phase::Body(state) = &mut self.phase {
            // A body that still arrives fast enough only moves the timer.
            if !arm_body_timer(&self.svc.config, lp, conn, state) {
                self.fail(lp, conn, &HttpError { status: 408, reason: "request body timeout or too slow" });
            }
            return true;
        }
        match self.phase {
            Phase::Head { started: true } => self.fail(lp, conn, &HttpError { status: 408, reason: "request timeout" }),
            Phase::Body(_) => unreachable!("handled above"),
            Phase::Head { started: false } | Phase::Waiting(_) if self.svc.config.min_response_rate.enabled() => {
                match self.look_at_output(lp, conn, lp.now_ms(), output_progress(lp, conn)) {
                    Tick::At(_) => {}
                    Tick::Idle if matches!(self.phase, Phase::Head { .. }) => self.close(lp, conn),
                    // A reply that made no progress for the keep-alive
                    // time, or a client that reads too slowly: abort.
                    Tick::Idle | Tick::TooSlow => return false,
                }
            }
            Phase::Head { started: false } => self.close(lp, conn),
            // A reply that made no progress for the keep-alive time, or a
            // client that did not take our last bytes: abort.
            Phase::Waiting(_) | Phase::Closed { .. } => return false,
        }
        true
    }

    fn on_shutdown(&mut self, lp: &Loop, conn: ConnId) {
        self.draining = true;
        match self.phase {
            Phase::Head { started: false } if self.inbuf.is_none() && self.idle_at_shutdown(lp, conn) => {
                self.close(lp, conn)
            }
            Phase::Closed { .. } => drop(lp.conn_close(conn)), // stop lingering
            Phase::Waiting(reply) => reply::close_after(reply),
            _ => {}
        }
    }

    fn on_close(&mut self, _lp: &Loop, _conn: ConnId, _reason: i32, _user_data: usize) {
        let reply = match &self.phase {
            Phase::Waiting(reply) => Some(*reply),
            Phase::Body(state) => state.stream,
            _ => None,
        };
        if let Some(reply) = reply {
            self.abort_open(reply);
        }
    }
}
