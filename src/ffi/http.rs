//! The HTTP server: listening, the request view, answers and deferred replies.

use std::ffi::{CStr, c_char, c_void};
use std::fs::OpenOptions;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

use super::conn::C10K_QUEUE_FULL;
use super::conn::{
    CConn, c10k_conn_callbacks, c10k_listen_options, c10k_listener, conn_callbacks, default_listen_options,
    finish_listen, listen_options,
};
use super::loop_::{c10k_loop, loop_ref};
use super::sized::{read_sized, write_sized};
use super::target::target_form_code;
use super::{code, parse_c_addr, write_c_addr};
use crate::error::*;
use crate::http::server::{self as http, Body, HttpConfig, HttpHandler, MinRate, ReplyId, Request, reply};
use crate::http::{Limits, percent_decode};
use crate::reactor::Handle;

/// A request, borrowed: valid only during the `on_request` call that
/// received it. Read it with the `c10k_request_*` functions and answer it
/// with one of `c10k_respond`, `c10k_respond_file`, `c10k_respond_path`,
/// `c10k_respond_upgrade`, or keep it open with `c10k_request_defer`.
/// Returning without any of these answers 500.
pub struct c10k_request {
    _opaque: [u8; 0],
}

/// One header field, borrowed for the call it is passed to.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_header {
    pub name: *const u8,
    pub name_len: usize,
    pub value: *const u8,
    pub value_len: usize,
}

/// What an HTTP server reports, on the loop thread (or, for `on_request`
/// with a worker pool, on a pool thread). `user_data` comes first.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_http_callbacks {
    /// `sizeof(c10k_http_callbacks)`: callbacks added in later versions are
    /// NULL for a caller built against this header.
    pub size: u32,
    /// A request arrived: its head and (unless `stream_bodies`) its whole
    /// body. Required.
    pub on_request: Option<unsafe extern "C" fn(user_data: *mut c_void, req: *mut c10k_request)>,
    /// The client went away before the deferred `reply` ended; the handle
    /// is dead from now on (further calls return `C10K_ECLOSED`). May be NULL.
    pub on_abort: Option<unsafe extern "C" fn(user_data: *mut c_void, reply: u64)>,
    /// With `stream_bodies`: a piece of the body of the request deferred as
    /// `reply`, borrowed for the call; `end` is true on the last call (with
    /// len 0). Return false to pause reading until `c10k_reply_resume_body`.
    /// May be NULL (the pieces are dropped).
    pub on_body: Option<
        unsafe extern "C" fn(user_data: *mut c_void, reply: u64, data: *const u8, len: usize, end: bool) -> bool,
    >,
    /// The connection of a streamed `reply` drained after
    /// `c10k_reply_write` returned `C10K_QUEUE_FULL`: write more. Runs on
    /// the loop thread. May be NULL. Added in 0.1.
    pub on_drain: Option<unsafe extern "C" fn(user_data: *mut c_void, reply: u64)>,
}

/// Settings of an HTTP listener. Initialise with `c10k_http_config_init`
/// (strict, safe defaults), then change what you need.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_http_config {
    /// `sizeof(c10k_http_config)`, so that later versions can add fields: a shorter
    /// struct from an older header is accepted (its missing fields keep
    /// their defaults), a longer one refused with `C10K_EINVAL`.
    pub size: u32,
    /// Socket options (backlog, SO_REUSEPORT, connection limit).
    pub listen: c10k_listen_options,
    /// Request line plus headers, in bytes; more answers 431. Default 8192.
    pub max_head_bytes: u32,
    /// Header fields per request (at most 128); more answers 431. Default 100.
    pub max_headers: u32,
    /// Body bytes; more answers 413. Default 1 MiB.
    pub max_body_bytes: u64,
    /// Time for a whole request head once it started; then 408. Default 10 s.
    pub header_timeout_ms: u32,
    /// Time between two reads of a body; then 408. Default 30 s.
    pub body_timeout_ms: u32,
    /// Idle time allowed between requests, and for a response to make
    /// progress. Default 60 s.
    pub keepalive_timeout_ms: u32,
    /// Requests per connection before it closes (0: no limit). Default 10000.
    pub max_requests_per_conn: u32,
    /// Deliver bodies through `on_body` in pieces instead of buffering
    /// them. The handler must then defer each request that has a body.
    pub stream_bodies: bool,
    /// Descriptor for a Common Log Format access log (borrowed: keep it
    /// open), written in batches; -1 (default) for none.
    pub access_log_fd: i32,
    /// A client that shuts down its sending side while its deferred reply
    /// is pending: false (default, as nginx) aborts the reply at once
    /// (`on_abort`); true treats it as a half-close still waiting for its
    /// answer.
    pub answer_half_closed: bool,
    /// Ceiling on the request bodies the whole process buffers at once (all
    /// listeners and loops together; each listener compares the total with
    /// its own value). A body that would pass it is answered 503 before it
    /// is read. Streamed bodies (`stream_bodies`) are not counted: use them
    /// for bodies larger than this. Default 64 MiB. Added in 0.2.
    pub max_buffered_body_bytes: u64,
    /// Bytes per second a request body must arrive at, measured over each
    /// `min_rate_window_ms` once `min_rate_grace_ms` have passed since it
    /// began; slower gets 408 and the connection closes. 0 turns it off.
    /// Default 240. Added in 0.2.
    pub min_body_rate: u32,
    /// Bytes per second a client must read a response at while output
    /// waits for it (same window and grace); slower aborts the connection.
    /// 0 turns it off. Default 240. Added in 0.2.
    pub min_response_rate: u32,
    /// Time from a transfer's start before the rates are enforced.
    /// Default 5000. Added in 0.2.
    pub min_rate_grace_ms: u32,
    /// The span each rate is measured over. Default 5000. Added in 0.2.
    pub min_rate_window_ms: u32,
}

/// Fills `config` with the defaults, `size` included. NULL is a no-op.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_http_config_init(config: *mut c10k_http_config) {
    guard!((), {
        // SAFETY: config is NULL or given for writing.
        if let Some(config) = unsafe { config.as_mut() } {
            *config = default_http_config();
        }
    })
}

fn default_http_config() -> c10k_http_config {
    let d = HttpConfig::default();
    c10k_http_config {
        size: size_of::<c10k_http_config>() as u32,
        listen: default_listen_options(),
        max_head_bytes: d.limits.max_head_bytes as u32,
        max_headers: d.limits.max_headers as u32,
        max_body_bytes: d.limits.max_body_bytes,
        header_timeout_ms: d.header_timeout_ms,
        body_timeout_ms: d.body_timeout_ms,
        keepalive_timeout_ms: d.keepalive_timeout_ms,
        max_requests_per_conn: d.max_requests_per_conn,
        stream_bodies: d.stream_bodies,
        access_log_fd: -1,
        answer_half_closed: d.answer_half_closed,
        max_buffered_body_bytes: d.max_buffered_body_bytes,
        min_body_rate: d.min_body_rate.bytes_per_sec,
        min_response_rate: d.min_response_rate.bytes_per_sec,
        min_rate_grace_ms: d.min_body_rate.grace_ms,
        min_rate_window_ms: d.min_body_rate.window_ms,
    }
}

/// Reads C settings (NULL: defaults).
///
/// # Safety
/// `config` is NULL or initialised by `c10k_http_config_init`.
pub(super) unsafe fn http_config(config: *const c10k_http_config) -> Result<(crate::net::ListenOptions, HttpConfig)> {
    // SAFETY: as the caller promises.
    let c = unsafe { read_sized(config, default_http_config()) }?;
    // SAFETY: the embedded options were initialised with the config.
    let listen = unsafe { listen_options(&c.listen) }?;
    let limits = Limits {
        max_head_bytes: c.max_head_bytes as usize,
        max_headers: c.max_headers as usize,
        max_body_bytes: c.max_body_bytes,
        ..Limits::default()
    };
    let config = HttpConfig {
        limits,
        header_timeout_ms: c.header_timeout_ms,
        body_timeout_ms: c.body_timeout_ms,
        keepalive_timeout_ms: c.keepalive_timeout_ms,
        max_requests_per_conn: c.max_requests_per_conn,
        stream_bodies: c.stream_bodies,
        access_log_fd: (c.access_log_fd >= 0).then_some(c.access_log_fd),
        answer_half_closed: c.answer_half_closed,
        max_buffered_body_bytes: c.max_buffered_body_bytes,
        min_body_rate: MinRate {
            bytes_per_sec: c.min_body_rate,
            grace_ms: c.min_rate_grace_ms,
            window_ms: c.min_rate_window_ms,
        },
        min_response_rate: MinRate {
            bytes_per_sec: c.min_response_rate,
            grace_ms: c.min_rate_grace_ms,
            window_ms: c.min_rate_window_ms,
        },
    };
    Ok((listen, config))
}

pub(super) struct CHttpHandler {
    callbacks: c10k_http_callbacks,
    user_data: usize,
}

// SAFETY: the handler is only called with its own user data, which the host
// declares usable from the threads its handlers run on.
unsafe impl Send for CHttpHandler {}
unsafe impl Sync for CHttpHandler {}

impl CHttpHandler {
    /// # Safety
    /// `callbacks` is NULL or a valid struct.
    pub(super) unsafe fn new(callbacks: *const c10k_http_callbacks, user_data: *mut c_void) -> Result<CHttpHandler> {
        if callbacks.is_null() {
            return Err(C10K_EINVAL);
        }
        let none = c10k_http_callbacks { size: 0, on_request: None, on_abort: None, on_body: None, on_drain: None };
        // SAFETY: as the caller promises.
        let callbacks = unsafe { read_sized(callbacks, none) }?;
        if callbacks.on_request.is_none() {
            return Err(C10K_EINVAL);
        }
        Ok(CHttpHandler { callbacks, user_data: user_data as usize })
    }
}

// SAFETY (all calls below): the host's callbacks with its own user data and
// views that outlive the call.
impl HttpHandler for CHttpHandler {
    fn on_request(&self, req: &mut Request<'_>) {
        if let Some(cb) = self.callbacks.on_request {
            unsafe { cb(self.user_data as *mut c_void, req as *mut Request as *mut c10k_request) }
        }
    }
    fn on_abort(&self, reply: ReplyId) {
        if let Some(cb) = self.callbacks.on_abort {
            unsafe { cb(self.user_data as *mut c_void, reply.0) }
        }
    }
    fn on_drain(&self, reply: ReplyId) {
        if let Some(cb) = self.callbacks.on_drain {
            unsafe { cb(self.user_data as *mut c_void, reply.0) }
        }
    }
    fn on_body(&self, reply: ReplyId, data: &[u8], end: bool) -> bool {
        match self.callbacks.on_body {
            Some(cb) => unsafe { cb(self.user_data as *mut c_void, reply.0, data.as_ptr(), data.len(), end) },
            None => true,
        }
    }
}

/// Serves HTTP/1.1 on a numeric address. Every request goes to
/// `callbacks->on_request` with `user_data`, on the loop thread. `config`
/// may be NULL for the defaults. On success `*out` receives a listener,
/// closed with `c10k_listener_close`.
///
/// Returns 0, `C10K_EINVAL` (NULL loop, address, callbacks, `on_request`
/// or out; bad address or config), `C10K_EADDRINUSE`, `C10K_EACCES`, or
/// `C10K_EWRONGTHREAD`.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_http_listen(
    lp: *mut c10k_loop,
    addr: *const c_char,
    config: *const c10k_http_config,
    callbacks: *const c10k_http_callbacks,
    user_data: *mut c_void,
    out: *mut *mut c10k_listener,
) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: pointers as documented, checked for NULL inside.
        let prepared = unsafe { loop_ref(lp) }.and_then(|lp| {
            let addr = unsafe { parse_c_addr(addr) }?;
            let (options, config) = unsafe { http_config(config) }?;
            let handler = unsafe { CHttpHandler::new(callbacks, user_data) }?;
            if out.is_null() {
                return Err(C10K_EINVAL);
            }
            Ok((lp, addr, options, config, handler))
        });
        match prepared {
            Ok((lp, addr, options, config, handler)) => {
                match lp.http_listen(&addr, &options, config, Box::new(handler)) {
                    // SAFETY: out is non-null and given for writing.
                    Ok(id) => unsafe { finish_listen(lp, id, out) },
                    Err(e) => e,
                }
            }
            Err(e) => e,
        }
    })
}

/// The request behind a C pointer.
///
/// # Safety
/// `req` is NULL or the pointer `on_request` received, during that call.
unsafe fn request<'a>(req: *const c10k_request) -> Result<&'a mut Request<'a>> {
    // SAFETY: as the caller promises; the view lives for the handler call.
    unsafe { (req as *mut Request<'a>).as_mut() }.ok_or(C10K_EINVAL)
}

/// Stores a borrowed byte view in two out-parameters.
///
/// # Safety
/// Both pointers are NULL or valid for writing.
unsafe fn put_bytes(bytes: &[u8], out: *mut *const u8, out_len: *mut usize) -> Result<()> {
    if out.is_null() || out_len.is_null() {
        return Err(C10K_EINVAL);
    }
    // SAFETY: checked non-null, given for writing.
    unsafe {
        *out = bytes.as_ptr();
        *out_len = bytes.len();
    }
    Ok(())
}

/// Runs `f` on the request and stores the view it returns.
unsafe fn view(
    req: *const c10k_request,
    out: *mut *const u8,
    out_len: *mut usize,
    f: impl for<'r> FnOnce(&'r Request<'r>) -> Option<&'r [u8]>,
) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: pointers as documented.
        code(unsafe { request(req) }.and_then(|r| unsafe { put_bytes(f(r).ok_or(C10K_ENOENT)?, out, out_len) }))
    })
}

/// Runs `pick` on the request and stores the (name, value) it returns.
unsafe fn field(
    req: *const c10k_request,
    out: [*mut *const u8; 2],
    out_len: [*mut usize; 2],
    pick: impl for<'r> FnOnce(&'r Request<'r>) -> Option<(&'r [u8], &'r [u8])>,
) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: pointers as documented.
        code(unsafe { request(req) }.and_then(|r| {
            let (name, value) = pick(r).ok_or(C10K_ENOENT)?;
            unsafe { put_bytes(name, out[0], out_len[0]) }?;
            unsafe { put_bytes(value, out[1], out_len[1]) }
        }))
    })
}

/// The request's views in one call (for bindings, where every call costs):
/// borrowed like the single accessors, valid during `on_request`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_request_info {
    /// `sizeof(c10k_request_info)`, set by the caller.
    pub size: u32,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version_minor: u32,
    /// Whether the connection stays open after this request.
    pub keep_alive: bool,
    pub method: *const u8,
    pub method_len: usize,
    /// The target as sent, not decoded.
    pub target: *const u8,
    pub target_len: usize,
    /// The target's path, not decoded.
    pub path: *const u8,
    pub path_len: usize,
    /// The query after `?`, not decoded; NULL when the target has no `?`.
    pub query: *const u8,
    pub query_len: usize,
    pub body: *const u8,
    pub body_len: usize,
    /// Read them with `c10k_request_header_at`.
    pub header_count: usize,
    /// Read them with `c10k_request_trailer_at`.
    pub trailer_count: usize,
    /// Which form the request-target has: `C10K_TARGET_ORIGIN`,
    /// `_ABSOLUTE`, `_AUTHORITY` (CONNECT) or `_ASTERISK` (OPTIONS). With
    /// absolute-form, `path` and `query` come from the URI (`path` is `/`
    /// when the URI has none). Added in 0.2.
    pub target_form: u32,
    /// `http` or `https` as sent, for an absolute-form target; NULL
    /// otherwise. Added in 0.2.
    pub scheme: *const u8,
    pub scheme_len: usize,
    /// The effective host (RFC 9112 section 3.3): the target's authority
    /// when it has one, else the Host field's, without the port; an IPv6
    /// literal keeps its brackets. Empty for an empty Host field; NULL only
    /// for an HTTP/1.0 request without Host. Added in 0.2.
    pub host: *const u8,
    pub host_len: usize,
    /// The effective port, from the same place as `host`; -1 when none is
    /// named. Added in 0.2.
    pub port: i32,
}

/// Fills `*out` (whose `size` the caller set to
/// `sizeof(c10k_request_info)`) with the request's views.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_get_info(req: *const c10k_request, out: *mut c10k_request_info) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: pointers as documented.
        code(unsafe { request(req) }.and_then(|r| {
            let view = |b: Option<&[u8]>| b.map_or((std::ptr::null(), 0), |b| (b.as_ptr(), b.len()));
            let (query, query_len) = view(r.query());
            let (scheme, scheme_len) = view(r.scheme());
            let (host, host_len) = view(r.host());
            let info = c10k_request_info {
                size: size_of::<c10k_request_info>() as u32,
                version_minor: r.version_minor() as u32,
                keep_alive: r.keep_alive(),
                method: r.method().as_ptr(),
                method_len: r.method().len(),
                target: r.target().as_ptr(),
                target_len: r.target().len(),
                path: r.path().as_ptr(),
                path_len: r.path().len(),
                query,
                query_len,
                body: r.body().as_ptr(),
                body_len: r.body().len(),
                header_count: r.header_count(),
                trailer_count: r.trailers().len(),
                target_form: target_form_code(r.target_form()),
                scheme,
                scheme_len,
                host,
                host_len,
                port: r.port().map_or(-1, i32::from),
            };
            unsafe { write_sized(out, info) }
        }))
    })
}

/// Stores the method (`GET`) in `*out`/`*out_len`, borrowed from the
/// request: valid during `on_request`. Same rules for every
/// `c10k_request_*` view below.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_method(
    req: *const c10k_request,
    out: *mut *const u8,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: forwarded as documented.
    unsafe { view(req, out, out_len, |r| Some(r.method())) }
}

/// Stores the target as sent (`/path?query`, not decoded).
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_target(
    req: *const c10k_request,
    out: *mut *const u8,
    out_len: *mut usize,
) -> i32 {
    // SAFETY: forwarded as documented.
    unsafe { view(req, out, out_len, |r| Some(r.target())) }
}

/// Stores the target's path, not decoded (see `c10k_percent_decode`):
/// the URI's path for an absolute-form target (`/` when it has none), `*`
/// for `OPTIONS *`, empty for CONNECT's `host:port`.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_path(req: *const c10k_request, out: *mut *const u8, out_len: *mut usize) -> i32 {
    // SAFETY: forwarded as documented.
    unsafe { view(req, out, out_len, |r| Some(r.path())) }
}

/// Stores the query after `?`, not decoded; `C10K_ENOENT` when the target
/// has no `?`.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_query(req: *const c10k_request, out: *mut *const u8, out_len: *mut usize) -> i32 {
    // SAFETY: forwarded as documented.
    unsafe { view(req, out, out_len, |r| r.query()) }
}

/// Stores the body (empty if none; with `stream_bodies`, always empty).
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_body(req: *const c10k_request, out: *mut *const u8, out_len: *mut usize) -> i32 {
    // SAFETY: forwarded as documented.
    unsafe { view(req, out, out_len, |r| Some(r.body())) }
}

/// Stores the value of the first header named `name` (NUL-terminated,
/// case-insensitive); `C10K_ENOENT` if there is none.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_header(
    req: *const c10k_request,
    name: *const c_char,
    out: *mut *const u8,
    out_len: *mut usize,
) -> i32 {
    if name.is_null() {
        return C10K_EINVAL;
    }
    // SAFETY: name is a NUL-terminated string, per the caller.
    let name = unsafe { CStr::from_ptr(name) }.to_bytes();
    // SAFETY: forwarded as documented.
    unsafe { view(req, out, out_len, |r| r.header(name)) }
}

/// How many header fields the request has (0 for NULL).
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_header_count(req: *const c10k_request) -> usize {
    // SAFETY: as documented.
    guard!(0, { unsafe { request(req) }.map_or(0, |r| r.header_count()) })
}

/// Stores header field `index` (0-based, in arrival order) as two views;
/// `C10K_ENOENT` past the last one.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_header_at(
    req: *const c10k_request,
    index: usize,
    name: *mut *const u8,
    name_len: *mut usize,
    value: *mut *const u8,
    value_len: *mut usize,
) -> i32 {
    // SAFETY: forwarded as documented.
    unsafe { field(req, [name, value], [name_len, value_len], |r| r.header_at(index)) }
}

/// How many trailer fields a chunked body carried.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_trailer_count(req: *const c10k_request) -> usize {
    // SAFETY: as documented.
    guard!(0, { unsafe { request(req) }.map_or(0, |r| r.trailers().len()) })
}

/// Stores trailer field `index` as two views; `C10K_ENOENT` past the last.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_trailer_at(
    req: *const c10k_request,
    index: usize,
    name: *mut *const u8,
    name_len: *mut usize,
    value: *mut *const u8,
    value_len: *mut usize,
) -> i32 {
    // SAFETY: forwarded as documented.
    unsafe {
        field(req, [name, value], [name_len, value_len], |r| r.trailers().get(index).map(|(n, v)| (&n[..], &v[..])))
    }
}

/// The HTTP minor version: 0 for HTTP/1.0, 1 for HTTP/1.1; `C10K_EINVAL` for NULL.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_version(req: *const c10k_request) -> i32 {
    // SAFETY: as documented.
    guard!(C10K_EPANIC, { unsafe { request(req) }.map_or(C10K_EINVAL, |r| r.version_minor() as i32) })
}

/// Whether the connection stays open after this request (false for NULL).
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_keep_alive(req: *const c10k_request) -> bool {
    // SAFETY: as documented.
    guard!(false, { unsafe { request(req) }.is_ok_and(|r| r.keep_alive()) })
}

/// Writes the client's address (`"127.0.0.1:50000"`) with a NUL into
/// `buf` of `len` bytes (`C10K_ADDRSTRLEN` is enough).
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_peer_addr(req: *const c10k_request, buf: *mut c_char, len: usize) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: pointers as documented.
        code(unsafe { request(req) }.and_then(|r| unsafe { write_c_addr(r.peer_addr()?, buf, len) }))
    })
}

/// Percent-decodes `len` bytes at `input` into `out` (capacity `cap`),
/// storing the decoded length in `*out_len`. With `plus_as_space`, `+`
/// becomes a space (for query strings, not paths). Returns 0,
/// `C10K_EINVAL` for a malformed `%XY` or NULL pointers, `C10K_ENOMEM` if
/// `cap` is too small (the decoded form is never longer than the input).
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_percent_decode(
    input: *const u8,
    len: usize,
    plus_as_space: bool,
    out: *mut u8,
    cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard!(C10K_EPANIC, {
        if (input.is_null() && len > 0) || out_len.is_null() || (out.is_null() && cap > 0) {
            return C10K_EINVAL;
        }
        // SAFETY: input is valid for len bytes, per the caller.
        let input = if len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(input, len) } };
        let mut decoded = Vec::with_capacity(len);
        if percent_decode(input, &mut decoded, plus_as_space).is_err() {
            return C10K_EINVAL;
        }
        if decoded.len() > cap {
            return C10K_ENOMEM;
        }
        // SAFETY: out has cap >= decoded.len() bytes; out_len is non-null.
        unsafe {
            std::ptr::copy_nonoverlapping(decoded.as_ptr(), out, decoded.len());
            *out_len = decoded.len();
        }
        0
    })
}

/// At most this many headers are converted on the stack; more allocate.
const STACK_HEADERS: usize = 32;

/// Runs `f` with the C headers as Rust slices.
///
/// # Safety
/// `headers` is NULL with `n == 0`, or points to `n` valid headers.
unsafe fn with_headers<R>(
    headers: *const c10k_header,
    n: usize,
    f: impl FnOnce(&[(&[u8], &[u8])]) -> Result<R>,
) -> Result<R> {
    if headers.is_null() && n > 0 {
        return Err(C10K_EINVAL);
    }
    // SAFETY: as the caller promises.
    let raw = if n == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(headers, n) } };
    let convert = |h: &c10k_header| -> Result<(&[u8], &[u8])> {
        if (h.name.is_null() && h.name_len > 0) || (h.value.is_null() && h.value_len > 0) {
            return Err(C10K_EINVAL);
        }
        // SAFETY: each view is valid for its length, per the caller.
        let part = |p: *const u8, l: usize| if l == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(p, l) } };
        Ok((part(h.name, h.name_len), part(h.value, h.value_len)))
    };
    if n <= STACK_HEADERS {
        let mut stack: [(&[u8], &[u8]); STACK_HEADERS] = [(&[], &[]); STACK_HEADERS];
        for (slot, h) in stack.iter_mut().zip(raw) {
            *slot = convert(h)?;
        }
        f(&stack[..n])
    } else {
        f(&raw.iter().map(convert).collect::<Result<Vec<_>>>()?)
    }
}

/// A byte view from C, checked for NULL.
///
/// # Safety
/// `ptr` is NULL with `len == 0`, or valid for `len` bytes.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8]> {
    match (ptr.is_null(), len) {
        (_, 0) => Ok(&[]),
        (true, _) => Err(C10K_EINVAL),
        // SAFETY: as the caller promises.
        (false, _) => Ok(unsafe { std::slice::from_raw_parts(ptr, len) }),
    }
}

/// Duplicates a host's descriptor so that the library owns its copy.
fn dup_owned(fd: i32) -> Result<OwnedFd> {
    // SAFETY: dup_cloexec returns a new descriptor only we hold.
    crate::net::dup_cloexec(fd).map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Answers the request: status, `n` headers (copied; Content-Length,
/// Transfer-Encoding and, unless given, Date and Connection are added by
/// the library) and `len` body bytes (copied). HEAD requests get the
/// headers only. The response goes out with the others produced in this
/// turn, in one `writev`.
///
/// Returns 0; `C10K_EINVAL` for a status outside 100-999, a header value
/// with a CR, LF, NUL or other control byte (HTAB is fine), a bad name,
/// NULL views, or a request already answered (nothing is sent); `C10K_ECLOSED`/`C10K_EPIPE` if the connection is gone.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_respond(
    req: *mut c10k_request,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    body: *const u8,
    len: usize,
) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: pointers as documented.
        code(unsafe { request(req) }.and_then(|r| {
            let body = unsafe { bytes(body, len) }?;
            unsafe { with_headers(headers, n, |h| r.respond(status, h, Body::Bytes(body))) }
        }))
    })
}

/// Answers with `len` bytes of the open file `fd` from `offset`, sent by
/// the loop with `sendfile(2)`: the handler never pumps bytes. `fd` is
/// borrowed (the library duplicates it). Returns as `c10k_respond`, plus
/// `C10K_EBADF`.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_respond_file(
    req: *mut c10k_request,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    fd: i32,
    offset: u64,
    len: u64,
) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: pointers as documented.
        code(unsafe { request(req) }.and_then(|r| {
            let file = dup_owned(fd)?;
            unsafe { with_headers(headers, n, |h| r.respond(status, h, Body::File(file, offset, len))) }
        }))
    })
}

/// Answers with the whole file at `path` (NUL-terminated), sent with
/// `sendfile(2)`. If the file cannot be opened nothing is sent and the
/// error is returned (`C10K_ENOENT`, `C10K_EACCES`, `C10K_EISDIR`), so the
/// handler can answer 404 or 403 itself. The open never blocks the loop:
/// anything but a regular file (a FIFO, a device, a socket) is refused
/// with `C10K_EACCES`.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_respond_path(
    req: *mut c10k_request,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    path: *const c_char,
) -> i32 {
    guard!(C10K_EPANIC, {
        if path.is_null() {
            return C10K_EINVAL;
        }
        // SAFETY: path is NUL-terminated, per the caller.
        let path = unsafe { CStr::from_ptr(path) }.to_string_lossy().into_owned();
        // SAFETY: pointers as documented.
        code(unsafe { request(req) }.and_then(|r| {
            let (file, len) = open_regular(&path)?;
            unsafe { with_headers(headers, n, |h| r.respond(status, h, Body::File(file, 0, len))) }
        }))
    })
}

/// Opens a regular file for reading and returns it with its length.
///
/// `O_NONBLOCK`, so that opening a FIFO (which waits for a writer) or a
/// device cannot stall the loop; anything but a regular file is then
/// refused before a byte is read.
pub(super) fn open_regular(path: &str) -> Result<(OwnedFd, u64)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|e| from_io(&e))?;
    let meta = file.metadata().map_err(|e| from_io(&e))?;
    if meta.is_dir() {
        return Err(C10K_EISDIR);
    }
    if !meta.is_file() {
        return Err(C10K_EACCES);
    }
    Ok((file.into(), meta.len()))
}

/// Keeps the request open and stores its reply handle in `*out_reply`: the
/// handler returns, and any thread completes the reply later with
/// `c10k_reply_send` (or `c10k_reply_start`, `_write`, `_end`). Thousands
/// of pending replies cost no threads. If the client leaves first,
/// `on_abort` reports it and the handle answers `C10K_ECLOSED`. Requests
/// pipelined behind this one wait, in order.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_defer(req: *mut c10k_request, out_reply: *mut u64) -> i32 {
    guard!(C10K_EPANIC, {
        if out_reply.is_null() {
            return C10K_EINVAL;
        }
        // SAFETY: pointers as documented.
        code(unsafe { request(req) }.and_then(|r| r.defer()).map(|reply| unsafe { *out_reply = reply.0 }))
    })
}

/// Answers 101 Switching Protocols with `n` headers (include `Upgrade`
/// and `Connection: upgrade`) and hands the connection over: from now on
/// it is a plain connection reporting to `callbacks` with `user_data`
/// (`on_open` first, then any bytes that followed the request). Only for a
/// request without a body that asked to upgrade; `C10K_EINVAL` otherwise
/// (nothing is sent, and the handler can still answer over HTTP).
///
/// Thread safety: the thread running `on_request` (the loop thread).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_respond_upgrade(
    req: *mut c10k_request,
    headers: *const c10k_header,
    n: usize,
    callbacks: *const c10k_conn_callbacks,
    user_data: *mut c_void,
) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: pointers as documented.
        code(unsafe { request(req) }.and_then(|r| {
            let callbacks = unsafe { conn_callbacks(callbacks) }?;
            unsafe { with_headers(headers, n, |h| r.upgrade(h, Box::new(CConn::with_user_data(callbacks, user_data)))) }
        }))
    })
}

/// Completes a deferred reply with a whole response (as `c10k_respond`).
/// Headers and body are copied before this returns.
///
/// Returns 0; `C10K_ECLOSED` if the client left or the reply already
/// ended; `C10K_EINVAL` as `c10k_respond`, or if the reply was started.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_reply_send(
    reply: u64,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    body: *const u8,
    len: usize,
) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: pointers as documented.
        code(unsafe { bytes(body, len) }.and_then(|body| unsafe {
            with_headers(headers, n, |h| reply::send(Handle(reply), status, h, Body::Bytes(body)))
        }))
    })
}

/// Completes a deferred reply with `len` bytes of the file `fd` from
/// `offset` (borrowed: duplicated), sent with `sendfile(2)`.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_reply_send_file(
    reply: u64,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    fd: i32,
    offset: u64,
    len: u64,
) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: pointers as documented.
        code(dup_owned(fd).and_then(|file| unsafe {
            with_headers(headers, n, |h| reply::send(Handle(reply), status, h, Body::File(file, offset, len)))
        }))
    })
}

/// Starts a streamed response to a deferred reply: the head now, the body
/// with `c10k_reply_write`, then `c10k_reply_end`. `content_length` points
/// to the exact body length, or is NULL when it is unknown (the body is
/// then sent chunked to HTTP/1.1 clients, close-delimited to HTTP/1.0).
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_reply_start(
    reply: u64,
    status: u16,
    headers: *const c10k_header,
    n: usize,
    content_length: *const u64,
) -> i32 {
    guard!(C10K_EPANIC, {
        // SAFETY: content_length is NULL or readable, per the caller.
        let length = unsafe { content_length.as_ref() }.copied();
        // SAFETY: pointers as documented.
        code(unsafe { with_headers(headers, n, |h| reply::start(Handle(reply), status, h, length)) })
    })
}

/// Sends `len` bytes (copied) of a started response. Returns 0,
/// `C10K_QUEUE_FULL` (positive: the bytes were taken, but the connection's
/// queue is above its high-water mark: wait for `on_drain` before writing
/// more), `C10K_EINVAL` for more than a declared length, or `C10K_ECLOSED`.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_reply_write(reply: u64, data: *const u8, len: usize) -> i32 {
    // SAFETY: pointers as documented.
    guard!(C10K_EPANIC, {
        match unsafe { bytes(data, len) }.and_then(|data| reply::write(Handle(reply), data)) {
            Ok(false) => 0,
            Ok(true) => C10K_QUEUE_FULL,
            Err(e) => e,
        }
    })
}

/// Ends a started response. If fewer bytes than a declared length were
/// written, the connection closes after them.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_reply_end(reply: u64) -> i32 {
    guard!(C10K_EPANIC, { code(reply::end(Handle(reply))) })
}

/// Gives up on a deferred reply, started or not: the connection is aborted
/// (RST), so the client cannot take a cut response for a complete one
/// (for example when a streamed body fails half-way). `on_abort` does not
/// run for it. Returns 0, or `C10K_ECLOSED` if the reply already ended or
/// the client left.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_reply_abort(reply: u64) -> i32 {
    guard!(C10K_EPANIC, { code(reply::abort(Handle(reply))) })
}

/// Resumes a body stream paused by `on_body` returning false.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_reply_resume_body(reply: u64) -> i32 {
    guard!(C10K_EPANIC, { code(http::resume_body(Handle(reply))) })
}
