//! The request a handler sees, and the ways it can answer: at once
//! (`respond`), later from any thread (`defer`), or by leaving HTTP
//! (`upgrade`).

use std::net::SocketAddr;
use std::os::fd::IntoRawFd;

use super::reply::{self, Body, ReplyId};
use super::{ReqInfo, Service, count_response};
use crate::conn::ConnHandler;
use crate::error::*;
use crate::http::{
    BodyKind, BodyMode, Head, HeadOptions, ResponseFraming, TargetForm, head_size, valid_reason, write_head,
};
use crate::net::ProxyHeader;
use crate::reactor::{ConnId, Loop};

/// Bodies up to this size are copied next to the head, into one buffer.
const INLINE_BODY_MAX: usize = 16 * 1024;

/// How the exchange ended, as far as the connection is concerned.
pub(crate) enum Outcome {
    /// The handler has not answered.
    Open,
    Done {
        keep_alive: bool,
    },
    Deferred(ReplyId),
    /// The connection leaves HTTP: this handler takes it, after a 101.
    Upgraded(Box<dyn ConnHandler>),
}

/// Where answers go.
pub(crate) enum Answer<'a> {
    /// On the loop thread, inside the handler call.
    Inline { lp: &'a Loop, conn: ConnId, svc: &'a Service, outcome: &'a mut Outcome },
    /// On another thread, through a deferred reply (the worker pool).
    /// `kept`: the handler deferred it to complete later itself.
    /// `peers`: copied for another thread; None on the loop's own thread,
    /// where they are asked of the connection when needed.
    Reply { reply: ReplyId, peers: Option<Peers>, kept: bool },
}

/// The client's address and the socket's peer (the balancer, when a
/// PROXY protocol header named the client), copied for another thread.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peers {
    client: Option<SocketAddr>,
    socket: Option<SocketAddr>,
}

/// A request: borrowed views valid for the handler call.
pub struct Request<'a> {
    head: &'a Head,
    buf: &'a [u8],
    body: &'a [u8],
    trailers: &'a [(Vec<u8>, Vec<u8>)],
    info: ReqInfo,
    answer: Answer<'a>,
    /// The reason phrase given with [`Request::set_reason`], until answered.
    reason: Option<Vec<u8>>,
}

impl<'a> Request<'a> {
    pub(crate) fn new(
        head: &'a Head,
        buf: &'a [u8],
        body: &'a [u8],
        trailers: &'a [(Vec<u8>, Vec<u8>)],
        info: ReqInfo,
        answer: Answer<'a>,
    ) -> Self {
        Request { head, buf, body, trailers, info, answer, reason: None }
    }

    pub fn method(&self) -> &[u8] {
        self.head.method(self.buf)
    }
    /// The request target as sent (path and query, not decoded).
    pub fn target(&self) -> &[u8] {
        self.head.target(self.buf)
    }
    /// The target's path, not decoded: from the URI in absolute-form (`/`
    /// when it has none), `*` in asterisk-form, empty in authority-form.
    pub fn path(&self) -> &[u8] {
        self.head.path(self.buf)
    }
    /// The target's query after `?`, not decoded.
    pub fn query(&self) -> Option<&[u8]> {
        self.head.query(self.buf)
    }
    /// Which request-target form the client used.
    pub fn target_form(&self) -> TargetForm {
        self.head.form
    }
    /// `http` or `https` as sent, when the target is in absolute-form.
    pub fn scheme(&self) -> Option<&[u8]> {
        self.head.scheme(self.buf)
    }
    /// The effective host: the target's authority if it has one, else the
    /// Host field's; without the port. `None` only for HTTP/1.0 without Host.
    pub fn host(&self) -> Option<&[u8]> {
        self.head.host(self.buf)
    }
    /// The effective port, when the target or Host names one.
    pub fn port(&self) -> Option<u16> {
        self.head.port
    }
    /// 0 for HTTP/1.0, 1 for HTTP/1.1 (and later 1.x).
    pub fn version_minor(&self) -> u8 {
        self.head.version_minor
    }
    /// Whether the connection stays open after this exchange.
    pub fn keep_alive(&self) -> bool {
        self.info.keep_alive
    }
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &[u8]) -> Option<&[u8]> {
        self.head.find_header(self.buf, name)
    }
    pub fn header_count(&self) -> usize {
        self.head.header_count()
    }
    /// Header `i` as (name, value).
    pub fn header_at(&self, i: usize) -> Option<(&[u8], &[u8])> {
        (i < self.head.header_count()).then(|| self.head.header(self.buf, i))
    }
    /// The whole body (empty when bodies stream).
    pub fn body(&self) -> &[u8] {
        self.body
    }
    /// Trailer fields of a chunked body.
    pub fn trailers(&self) -> &[(Vec<u8>, Vec<u8>)] {
        self.trailers
    }
    /// The client's address: a trusted PROXY protocol header's, else the socket's peer.
    pub fn peer_addr(&self) -> Result<SocketAddr> {
        match &self.answer {
            Answer::Inline { lp, conn, .. } => lp.conn_peer_addr(*conn),
            Answer::Reply { peers: Some(peers), .. } => peers.client.ok_or(C10K_ENOTCONN),
            Answer::Reply { reply, peers: None, .. } => reply::peer_addr(*reply, false),
        }
    }
    /// Runs `f` on what the connection's PROXY protocol header said (None
    /// without one). On the loop's thread only: `C10K_ENOTCONN` on a worker.
    pub fn with_proxy_header<R>(&self, f: impl FnOnce(Option<&ProxyHeader>) -> R) -> Result<R> {
        let (lp, conn) = match &self.answer {
            Answer::Inline { lp, conn, .. } => (*lp, *conn),
            Answer::Reply { reply, peers: None, .. } => reply::local_conn(*reply)?,
            Answer::Reply { peers: Some(_), .. } => return Err(C10K_ENOTCONN),
        };
        lp.conn_with_proxy_header(conn, f)
    }
    /// The socket's own peer: the balancer, behind one.
    pub fn socket_peer_addr(&self) -> Result<SocketAddr> {
        match &self.answer {
            Answer::Inline { lp, conn, .. } => lp.conn_socket_peer_addr(*conn),
            Answer::Reply { peers: Some(peers), .. } => peers.socket.ok_or(C10K_ENOTCONN),
            Answer::Reply { reply, peers: None, .. } => reply::peer_addr(*reply, true),
        }
    }

    /// Answers with a whole response. Bytes are copied; a file is taken
    /// (and closed) even on failure. `C10K_EINVAL` for a bad status or
    /// header (nothing is sent) or a second answer.
    pub fn respond(&mut self, status: u16, headers: &[(&[u8], &[u8])], body: Body<'_>) -> Result<()> {
        let info = self.info;
        let Answer::Inline { lp, conn, svc, outcome } = &mut self.answer else {
            let Answer::Reply { reply, .. } = self.answer else { unreachable!() };
            return reply::send(reply, status, headers, body);
        };
        if !matches!(outcome, Outcome::Open) {
            return Err(C10K_EINVAL);
        }
        let (lp, conn) = (*lp, *conn);
        let date = svc.date(lp);
        let opts = HeadOptions {
            version_minor: info.version_minor,
            keep_alive: info.keep_alive,
            head_request: info.head_request,
            date: &date,
            reason: self.reason.as_deref(),
        };
        let len = match &body {
            Body::Bytes(b) => b.len() as u64,
            Body::File(_, _, len) => *len,
        };
        let inline_body = match &body {
            Body::Bytes(b) if b.len() <= INLINE_BODY_MAX => Some(*b),
            _ => None,
        };
        // A body sent apart from the head is copied first: if that copy
        // cannot be had, nothing at all is queued.
        let apart = match &body {
            Body::Bytes(b) if inline_body.is_none() && !opts.head_request => Some(try_copy(b)?),
            _ => None,
        };
        let mut written = None;
        let size = head_size(headers, opts.reason).saturating_add(inline_body.map_or(0, <[u8]>::len));
        lp.conn_write_with(conn, size, |out| {
            written = write_head(out, status, headers, ResponseFraming::Length(len), opts).ok();
            if let (Some(w), Some(b)) = (&written, inline_body)
                && w.body != BodyMode::None
            {
                out.extend_from_slice(b);
            }
        })?;
        let written = written.ok_or(C10K_EINVAL)?;
        if written.body != BodyMode::None && inline_body.is_none() {
            match (body, apart) {
                (Body::File(fd, offset, len), _) => lp.conn_sendfile(conn, fd.into_raw_fd(), offset, len)?,
                (Body::Bytes(_), Some(copy)) => lp.conn_write_vec(conn, copy)?,
                (Body::Bytes(b), None) => lp.conn_write(conn, b)?,
            };
        }
        **outcome = Outcome::Done { keep_alive: written.keep_alive };
        count_response(lp, status);
        if let Some(log) = &svc.log {
            let sent = if written.body == BodyMode::None { 0 } else { len };
            log.record(lp.conn_peer_addr(conn).ok(), &self.request_line(), status, sent);
        }
        Ok(())
    }

    /// Keeps the request open: the returned reply is completed later with
    /// [`reply::send`] or [`reply::start`], from any thread.
    /// Gives the response the reason phrase `reason` (copied) instead of
    /// the status code's standard one. `C10K_EINVAL` for a CR, LF or other
    /// control byte (HTAB is fine) or a request already answered.
    pub fn set_reason(&mut self, reason: &[u8]) -> Result<()> {
        if !valid_reason(reason) {
            return Err(C10K_EINVAL);
        }
        match &self.answer {
            Answer::Reply { reply, .. } => reply::set_reason(*reply, reason),
            Answer::Inline { outcome: Outcome::Open, .. } => {
                self.reason = Some(reason.to_vec());
                Ok(())
            }
            Answer::Inline { outcome: Outcome::Deferred(reply), .. } => reply::set_reason(*reply, reason),
            Answer::Inline { .. } => Err(C10K_EINVAL),
        }
    }

    pub fn defer(&mut self) -> Result<ReplyId> {
        match &mut self.answer {
            Answer::Reply { reply, kept, .. } => {
                *kept = true;
                Ok(*reply)
            }
            Answer::Inline { lp, conn, outcome, .. } => match outcome {
                Outcome::Open => {
                    let reply = reply::register(lp, *conn, self.info);
                    **outcome = Outcome::Deferred(reply);
                    if let Some(reason) = self.reason.take() {
                        reply::set_reason(reply, &reason)?;
                    }
                    Ok(reply)
                }
                Outcome::Deferred(reply) => Ok(*reply),
                _ => Err(C10K_EINVAL),
            },
        }
    }

    /// Answers 101 with `headers` (which name the new protocol) and hands
    /// the connection to `handler`: it gets `on_open`, then any bytes that
    /// followed the request, then everything the client sends. Only for a
    /// request that asked to upgrade and has no body (`C10K_EINVAL`
    /// otherwise: after a body the connection cannot change hands).
    pub fn upgrade(&mut self, headers: &[(&[u8], &[u8])], handler: Box<dyn ConnHandler>) -> Result<()> {
        if !self.head.upgrade || !matches!(self.head.body, BodyKind::None | BodyKind::Length(0)) {
            return Err(C10K_EINVAL);
        }
        let Answer::Inline { lp, conn, svc, outcome } = &mut self.answer else { return Err(C10K_EINVAL) };
        if !matches!(outcome, Outcome::Open) {
            return Err(C10K_EINVAL);
        }
        let date = svc.date(lp);
        let opts = HeadOptions { version_minor: 1, keep_alive: true, head_request: false, date: &date, reason: None };
        let mut ok = false;
        lp.conn_write_with(*conn, head_size(headers, None), |out| {
            ok = write_head(out, 101, headers, ResponseFraming::Length(0), opts).is_ok()
        })?;
        if !ok {
            return Err(C10K_EINVAL);
        }
        count_response(lp, 101);
        **outcome = Outcome::Upgraded(handler);
        Ok(())
    }

    /// Defers the request and copies it, for a handler on another thread.
    pub(crate) fn hand_off(&mut self) -> Result<OwnedRequest> {
        let peers = Peers { client: self.peer_addr().ok(), socket: self.socket_peer_addr().ok() };
        self.copy_deferred(Some(peers))
    }

    /// Defers the request and copies it, for a handler that answers later
    /// on this loop's thread (the peer address is then read on demand).
    pub(crate) fn hand_off_local(&mut self) -> Result<OwnedRequest> {
        self.copy_deferred(None)
    }

    fn copy_deferred(&mut self, peers: Option<Peers>) -> Result<OwnedRequest> {
        let reply = self.defer()?;
        Ok(OwnedRequest {
            head: self.head.clone(),
            buf: self.buf.to_vec(),
            body: self.body.to_vec(),
            trailers: self.trailers.to_vec(),
            info: self.info,
            reply,
            peers,
        })
    }

    /// The loop and connection the request arrived on, when the handler
    /// runs there (what a protocol taking the connection over needs).
    pub(crate) fn inline_conn(&self) -> Option<(&'a Loop, ConnId)> {
        match &self.answer {
            Answer::Inline { lp, conn, .. } => Some((*lp, *conn)),
            Answer::Reply { .. } => None,
        }
    }

    /// The loop the request arrived on, when the handler runs there.
    pub(crate) fn inline_loop(&self) -> Option<&Loop> {
        match &self.answer {
            Answer::Inline { lp, .. } => Some(lp),
            Answer::Reply { .. } => None,
        }
    }

    /// `METHOD TARGET HTTP/1.x`, for the access log.
    pub(crate) fn request_line(&self) -> Vec<u8> {
        request_line(self.head, self.buf)
    }
}

pub(crate) fn request_line(head: &Head, buf: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(64);
    line.extend_from_slice(head.method(buf));
    line.push(b' ');
    line.extend_from_slice(head.target(buf));
    line.extend_from_slice(if head.version_minor == 1 { b" HTTP/1.1" } else { b" HTTP/1.0" });
    line
}

/// A request copied out of its connection, answered through its reply.
pub(crate) struct OwnedRequest {
    head: Head,
    buf: Vec<u8>,
    body: Vec<u8>,
    trailers: Vec<(Vec<u8>, Vec<u8>)>,
    info: ReqInfo,
    reply: ReplyId,
    peers: Option<Peers>,
}

impl OwnedRequest {
    /// Lets `handle` answer the request; one it neither answered nor kept
    /// deferred gets a 500. A request whose client already left is skipped.
    pub fn serve(&self, handle: impl FnOnce(&mut Request<'_>)) {
        Self::serve_all(std::slice::from_ref(self), |reqs| handle(&mut reqs[0]));
    }

    /// [`Self::serve`] for several requests in one call of `handle`;
    /// returns how many it was given (0: every client had left, and
    /// `handle` was not called).
    pub fn serve_all(reqs: &[OwnedRequest], handle: impl FnOnce(&mut [Request<'_>])) -> usize {
        let mut views: Vec<Request<'_>> = reqs
            .iter()
            // Skipped: a client that left while its request waited.
            .filter(|r| reply::state(r.reply).is_some())
            .map(|r| {
                let answer = Answer::Reply { reply: r.reply, peers: r.peers, kept: false };
                Request::new(&r.head, &r.buf, &r.body, &r.trailers, r.info, answer)
            })
            .collect();
        if views.is_empty() {
            return 0;
        }
        handle(&mut views);
        for req in &views {
            let Answer::Reply { reply, kept, .. } = req.answer else { continue };
            if !kept && reply::state(reply) == Some(reply::ReplyState::Pending) {
                let _ = reply::send(reply, 500, &[], Body::Bytes(b"the handler did not answer\n"));
            }
        }
        views.len()
    }

    pub fn reply(&self) -> ReplyId {
        self.reply
    }
}
