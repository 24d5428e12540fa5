//! `c10k_http_listen` and the C callbacks an HTTP listener reports to.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::super::cast::{carry, try_addr, uncarry};
use super::super::conn::{c10k_listener, finish_listen};
use super::super::loop_::{c10k_loop, loop_ref};
use super::super::sized::read_sized;
use super::config::{c10k_http_config, http_config};
use super::request::{c10k_request, to_c};
use crate::error::*;
use crate::http::server::{HttpHandler, ReplyId, Request};

/// What an HTTP server reports, on the loop thread (or, for `on_request`
/// with a worker pool, on a pool thread). `user_data` comes first.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_http_callbacks {
    /// `sizeof(c10k_http_callbacks)`: callbacks added in later versions are
    /// NULL for a caller built against this header.
    pub size: u32,
    /// A request arrived: its head and (unless `stream_bodies`) its whole
    /// body. Required unless `on_requests` is set.
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
    /// The requests one loop turn produced, in one call at the end of the
    /// turn (for hosts where entering the host costs: Python, Lisp). When
    /// set, it replaces `on_request` on the loop thread, except for a
    /// request that asks to upgrade the connection (it goes to
    /// `on_request`, or to this with `n` = 1 when `on_request` is NULL),
    /// and with a worker pool (each request alone, on a pool thread).
    /// `reqs` holds `n` requests, already deferred: answer each with
    /// `c10k_respond` (or a sibling) during the call, or call
    /// `c10k_request_defer` to keep its reply handle and complete it later
    /// from any thread; one left unanswered gets a 500. The array and the
    /// requests are valid during the call. The answers of a turn are
    /// written together, one `writev` per connection. May be NULL.
    /// Added in 0.2.
    pub on_requests: Option<unsafe extern "C" fn(user_data: *mut c_void, reqs: *const *mut c10k_request, n: usize)>,
    /// The last callback, once, after a successful listen call: the
    /// library never uses `user_data` again (the listener is closed and
    /// every connection it accepted is gone; for a `c10k_server`, the
    /// server is freed), so free it here. Runs on the thread where that
    /// happened (a loop thread, or the one calling `c10k_listener_close`,
    /// `c10k_loop_free` or `c10k_server_free`). May be NULL. Added in 0.2.
    pub on_release: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

pub(crate) struct CHttpHandler {
    callbacks: c10k_http_callbacks,
    user_data: usize,
    /// Set once the listen call succeeded: a failing call never calls
    /// `on_release` (it drops the handler before returning).
    listening: Arc<AtomicBool>,
}

// SAFETY: the handler is only called with its own user data, which the host
// declares usable from the threads its handlers run on.
unsafe impl Send for CHttpHandler {}
unsafe impl Sync for CHttpHandler {}

impl CHttpHandler {
    /// `callbacks` is NULL (refused) or a struct that starts with its size.
    pub(crate) fn new(callbacks: *const c10k_http_callbacks, user_data: *mut c_void) -> Result<CHttpHandler> {
        if callbacks.is_null() {
            return Err(C10K_EINVAL);
        }
        let none = c10k_http_callbacks {
            size: 0,
            on_request: None,
            on_abort: None,
            on_body: None,
            on_drain: None,
            on_requests: None,
            on_release: None,
        };
        let callbacks = read_sized(callbacks, none)?;
        if callbacks.on_request.is_none() && callbacks.on_requests.is_none() {
            return Err(C10K_EINVAL);
        }
        Ok(CHttpHandler { callbacks, user_data: carry(user_data), listening: Arc::default() })
    }

    /// The flag to raise once the listen call that takes this handler
    /// succeeded.
    pub(crate) fn listening(&self) -> Arc<AtomicBool> {
        self.listening.clone()
    }
}

impl Drop for CHttpHandler {
    fn drop(&mut self) {
        if let (Some(cb), true) = (self.callbacks.on_release, self.listening.load(Ordering::Acquire)) {
            // SAFETY: the host's last callback with its own user data.
            unsafe { cb(uncarry(self.user_data)) }
        }
    }
}

// SAFETY (all calls below): the host's callbacks with its own user data and
// views that outlive the call.
impl HttpHandler for CHttpHandler {
    fn on_request(&self, req: &mut Request<'_>) {
        match self.callbacks.on_request {
            Some(cb) => unsafe { cb(uncarry(self.user_data), to_c(req)) },
            None => self.on_requests(std::slice::from_mut(req)),
        }
    }
    fn batched(&self) -> bool {
        self.callbacks.on_requests.is_some()
    }
    fn on_requests(&self, reqs: &mut [Request<'_>]) {
        if let Some(cb) = self.callbacks.on_requests {
            let ptrs: Vec<*mut c10k_request> = reqs.iter_mut().map(to_c).collect();
            unsafe { cb(uncarry(self.user_data), ptrs.as_ptr(), ptrs.len()) }
        }
    }
    fn on_abort(&self, reply: ReplyId) {
        if let Some(cb) = self.callbacks.on_abort {
            unsafe { cb(uncarry(self.user_data), reply.0) }
        }
    }
    fn on_drain(&self, reply: ReplyId) {
        if let Some(cb) = self.callbacks.on_drain {
            unsafe { cb(uncarry(self.user_data), reply.0) }
        }
    }
    fn on_body(&self, reply: ReplyId, data: &[u8], end: bool) -> bool {
        match self.callbacks.on_body {
            Some(cb) => unsafe { cb(uncarry(self.user_data), reply.0, data.as_ptr(), data.len(), end) },
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
/// Added in 0.1.
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
    ffi!({
        let lp = loop_ref(lp)?;
        let addr = try_addr(addr)?;
        let (options, config) = http_config(config)?;
        let handler = CHttpHandler::new(callbacks, user_data)?;
        if out.is_null() {
            return Err(C10K_EINVAL);
        }
        let listening = handler.listening();
        let id = lp.http_listen(&addr, &options, config, Box::new(handler))?;
        listening.store(true, Ordering::Release);
        finish_listen(lp, id, out)
    })
}
