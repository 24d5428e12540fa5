//! The HTTP/1.1 server on a loop: per-connection state machines that parse
//! requests, call the host's handler and write responses in order.
//!
//! - [`conn`]: one connection: framing, pipelining, timeouts, keep-alive.
//! - [`request`]: the view of a request a handler gets, and inline answers.
//! - [`reply`]: deferred replies completed later from any thread.
//! - [`access_log`]: Common Log Format lines, batched.
//! - [`budget`]: the process-wide memory budget of buffered bodies.
//! - [`rate`]: minimum data rates for bodies and responses.
//! - [`health`]: the health check path balancers poll.

mod access_log;
mod batch;
mod budget;
mod conn;
mod health;
mod rate;
pub mod reply;
mod request;

use std::cell::RefCell;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::SystemTime;

pub use budget::buffered_body_bytes;
pub use health::{HealthPath, MAX_HEALTH_PATH};
pub use rate::MinRate;
pub use reply::{Body, ReplyId};
pub(crate) use request::OwnedRequest;
pub use request::Request;

use crate::conn::Acceptor;
use crate::conn::ConnHandler;
use crate::error::Result;
use crate::http::{DateCache, HTTP_DATE_LEN, Head, Limits, Method, unix_secs};
use crate::net::ListenOptions;
use crate::reactor::{ConnId, ListenerId, Loop};
use access_log::AccessLog;
use conn::HttpConn;

/// How an HTTP listener treats its clients. The defaults are strict.
#[derive(Clone, Copy, Debug)]
pub struct HttpConfig {
    pub limits: Limits,
    /// Time allowed for a whole request head once its first byte arrived
    /// (slowloris defence): 408 and close after it.
    pub header_timeout_ms: u32,
    /// Time allowed between two reads of a request body: 408 and close.
    pub body_timeout_ms: u32,
    /// Ceiling on the request bodies the whole process buffers at once
    /// (every listener and loop together; each listener checks the total
    /// against its own value). A body that would pass it is refused with
    /// 503 before it is read. Streamed bodies are not buffered and not
    /// counted.
    pub max_buffered_body_bytes: u64,
    /// A body that arrives slower than this, once its grace period is
    /// over, gets 408 and the connection closes.
    pub min_body_rate: MinRate,
    /// A response the client reads slower than this (while output waits
    /// for it), once its grace period is over, is cut: the connection is
    /// aborted, so that a slow reader cannot pin a large queued response.
    pub min_response_rate: MinRate,
    /// How long a keep-alive connection may sit idle between requests; also
    /// how long a response may make no progress towards a client that does
    /// not read.
    pub keepalive_timeout_ms: u32,
    /// Requests served on one connection before it is closed (0: no limit).
    pub max_requests_per_conn: u32,
    /// Hand bodies to the handler in pieces ([`HttpHandler::on_body`])
    /// instead of buffering them up to `limits.max_body_bytes`.
    pub stream_bodies: bool,
    /// Write a Common Log Format line per response to this descriptor.
    pub access_log_fd: Option<RawFd>,
    /// A client that shuts down its sending side while its deferred reply
    /// is pending: false (default, as nginx does) means it has gone, so the
    /// reply is aborted at once (`on_abort`) and the host can drop the
    /// work; true treats it as a half-close that still waits for the answer.
    pub answer_half_closed: bool,
    /// A path the library answers itself, for load balancers' health
    /// checks: 200 `ok`, or 503 `draining` once the loop drains.
    pub health_path: Option<HealthPath>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            limits: Limits::default(),
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            max_buffered_body_bytes: 64 * 1024 * 1024,
            min_body_rate: MinRate::DEFAULT,
            min_response_rate: MinRate::DEFAULT,
            keepalive_timeout_ms: 60_000,
            max_requests_per_conn: 10_000,
            stream_bodies: false,
            access_log_fd: None,
            answer_half_closed: false,
            health_path: None,
        }
    }
}

/// The host's side of an HTTP server. Methods run on the loop thread.
pub trait HttpHandler {
    /// A request arrived: its head and, unless bodies stream, its body. The
    /// handler answers with [`Request::respond`] (or a sibling), or defers
    /// with [`Request::defer`] and completes the reply later. Returning
    /// without either answers 500.
    fn on_request(&self, req: &mut Request<'_>);
    /// Whether requests go to [`Self::on_requests`], gathered over each
    /// loop turn, instead of to `on_request` one by one. A request asking
    /// to upgrade the connection still goes to `on_request`.
    fn batched(&self) -> bool {
        false
    }
    /// With [`Self::batched`]: the requests of one loop turn, each deferred
    /// (answered through its reply, on this thread or another; one neither
    /// answered nor kept with [`Request::defer`] gets a 500).
    fn on_requests(&self, _reqs: &mut [Request<'_>]) {}
    /// The client went away before the deferred `reply` ended; the handle
    /// is dead from now on.
    fn on_abort(&self, _reply: ReplyId) {}
    /// A streamed reply's connection drained after [`reply::write`] said
    /// its queue was full: write more.
    fn on_drain(&self, _reply: ReplyId) {}
    /// With `stream_bodies`: a piece of the body of the request deferred as
    /// `reply` (`end` on the last call, with empty data). Return false to
    /// pause reading until [`resume_body`].
    fn on_body(&self, _reply: ReplyId, _data: &[u8], _end: bool) -> bool {
        true
    }
}

/// What shaping a response needs to know of its request, kept instead of
/// the head so that a deferred reply costs a few bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ReqInfo {
    pub version_minor: u8,
    pub keep_alive: bool,
    pub head_request: bool,
}

impl ReqInfo {
    fn new(head: &Head, keep_alive: bool) -> ReqInfo {
        ReqInfo {
            version_minor: head.version_minor,
            keep_alive: head.keep_alive && keep_alive,
            head_request: head.method_kind == Method::Head,
        }
    }
}

/// What every connection of one listener shares.
pub(crate) struct Service {
    pub config: HttpConfig,
    pub handler: Box<dyn HttpHandler>,
    date: RefCell<TurnDate>,
    pub log: Option<AccessLog>,
    batch: batch::Batch,
}

impl Service {
    /// The current `Date` value: the clock is read once per loop turn and
    /// the text formatted once a second (a turn answers many requests).
    pub fn date(&self, lp: &Loop) -> [u8; HTTP_DATE_LEN] {
        let mut date = self.date.borrow_mut();
        let turn = lp.now_ms();
        if date.turn_ms != Some(turn) {
            date.turn_ms = Some(turn);
            date.secs = unix_secs(SystemTime::now());
        }
        let secs = date.secs;
        *date.cache.get(secs)
    }
}

/// [`Service::date`]'s memory: the loop time it last read the clock at.
#[derive(Default)]
struct TurnDate {
    turn_ms: Option<u64>,
    secs: u64,
    cache: DateCache,
}

struct HttpAcceptor(Rc<Service>);

impl Acceptor for HttpAcceptor {
    fn accept(&mut self, _lp: &Loop, _conn: ConnId) -> (Box<dyn ConnHandler>, usize) {
        (Box::new(HttpConn::new(self.0.clone())), 0)
    }
}

impl Loop {
    /// Serves HTTP/1.1 on `addr` with `handler`.
    pub fn http_listen(
        &self,
        addr: &SocketAddr,
        options: &ListenOptions,
        config: HttpConfig,
        handler: Box<dyn HttpHandler>,
    ) -> Result<ListenerId> {
        self.listen(addr, options, self.http_acceptor(config, handler))
    }

    /// Serves HTTP/1.1 on an already listening descriptor (owned from here
    /// on; the caller's still if this fails).
    pub fn http_listen_fd(
        &self,
        fd: RawFd,
        options: &ListenOptions,
        config: HttpConfig,
        handler: Box<dyn HttpHandler>,
    ) -> Result<ListenerId> {
        self.listen_fd(fd, options, self.http_acceptor(config, handler))
    }

    pub(crate) fn http_acceptor(&self, config: HttpConfig, handler: Box<dyn HttpHandler>) -> Box<dyn Acceptor> {
        let log = config.access_log_fd.map(|fd| AccessLog::start(self, fd));
        Box::new(HttpAcceptor(Rc::new(Service {
            config,
            handler,
            date: RefCell::default(),
            log,
            batch: batch::Batch::default(),
        })))
    }
}

/// Resumes reading a streamed body after [`HttpHandler::on_body`] returned
/// false. Any thread.
pub fn resume_body(reply: ReplyId) -> Result<()> {
    reply::with_conn(reply, |lp, conn| {
        let _ = lp.conn_set_reading(conn, true);
        let _ = lp.conn_notify(conn);
    })
}

/// Counts a response in its status class.
pub(crate) fn count_response(lp: &Loop, status: u16) {
    let s = lp.stats();
    let counter = match status {
        100..=199 => &s.responses_1xx,
        200..=299 => &s.responses_2xx,
        300..=399 => &s.responses_3xx,
        400..=499 => &s.responses_4xx,
        _ => &s.responses_5xx,
    };
    crate::reactor::stats::add(counter, 1);
}
