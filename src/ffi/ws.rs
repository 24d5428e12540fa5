//! WebSocket (RFC 6455): accepting an upgrade, the callbacks, sending and
//! broadcasting from any thread.

use std::ffi::{c_char, c_void};

use super::boundary::Positive;
use super::cast::{carry, put, put_addr, put_if, put_view, try_bytes, try_slice, uncarry};
use super::http::{c10k_header, c10k_request, request, with_headers};
use super::sized::{init_sized, read_sized};
use crate::error::*;
use crate::reactor::{Handle, owned_loop};
use crate::ws::{self, Limits, Opcode, WsConfig, WsCtx, WsHandler};

/// What a WebSocket reports, on its loop's thread. Each callback gets
/// `user_data` first (the one given to `c10k_ws_accept`, until
/// `c10k_ws_set_user_data` changes it), then the WebSocket handle. Any
/// member but `on_message` may be NULL. Calling back into c10k from a
/// callback is allowed, closing the WebSocket included.
///
/// Added in 0.2.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_ws_callbacks {
    /// `sizeof(c10k_ws_callbacks)`: callbacks added in later versions are
    /// NULL for a caller built against this header.
    pub size: u32,
    /// The WebSocket is open (the 101 is queued): it may send.
    pub on_open: Option<unsafe extern "C" fn(user_data: *mut c_void, ws: u64)>,
    /// A whole message arrived, reassembled from its fragments and unmasked;
    /// `binary` is false for a text message (already checked to be UTF-8).
    /// `data` is borrowed: valid only until the callback returns. Required.
    pub on_message:
        Option<unsafe extern "C" fn(user_data: *mut c_void, ws: u64, data: *const u8, len: usize, binary: bool)>,
    /// A ping arrived; the library already queued the pong. `data` borrowed.
    pub on_ping: Option<unsafe extern "C" fn(user_data: *mut c_void, ws: u64, data: *const u8, len: usize)>,
    /// A pong arrived (the answer to `c10k_ws_ping` or to a keep-alive
    /// ping). `data` borrowed.
    pub on_pong: Option<unsafe extern "C" fn(user_data: *mut c_void, ws: u64, data: *const u8, len: usize)>,
    /// The write queue fell to its low-water mark after a send returned
    /// `C10K_QUEUE_FULL` (or a broadcast filled it): send again.
    pub on_drain: Option<unsafe extern "C" fn(user_data: *mut c_void, ws: u64)>,
    /// Last callback, exactly once per accepted WebSocket, when its
    /// connection is gone. `code` is the close code the peer sent (1005
    /// when its close frame carried none), the code the library failed the
    /// connection with (1002 protocol error, 1007 invalid UTF-8, 1009 too
    /// big, 1011 keep-alive timeout), or 1006 when the connection ended
    /// without a close frame. `reason` (UTF-8, borrowed) may be empty.
    /// After it returns the handle is dead and the library never uses this
    /// `user_data` again: free it here.
    pub on_close:
        Option<unsafe extern "C" fn(user_data: *mut c_void, ws: u64, code: u16, reason: *const u8, len: usize)>,
}

/// How `c10k_ws_accept` answers and what the WebSocket allows.
/// Initialise with `c10k_ws_options_init` (safe defaults), then change what
/// you need. Pointers in it are borrowed for the `c10k_ws_accept` call.
///
/// Added in 0.2.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_ws_options {
    /// `sizeof(c10k_ws_options)`, so that later versions can add fields: a
    /// shorter struct from an older header is accepted (its missing fields
    /// keep their defaults), a longer one refused with `C10K_EINVAL`.
    pub size: u32,
    /// Payload bytes of one data frame; a bigger frame closes the
    /// connection with 1009 (control frames carry at most 125 anyway).
    /// Default 16 MiB; 0 is refused.
    pub max_frame_bytes: u64,
    /// Bytes of one message, its fragments together; more closes with
    /// 1009. Default 16 MiB; 0 is refused.
    pub max_message_bytes: u64,
    /// A connection that received nothing for this long gets a ping; 0
    /// turns keep-alive pings off. Default 30000.
    pub ping_interval_ms: u32,
    /// No data or pong this long after a keep-alive ping: the connection is
    /// closed with 1011. Default 30000.
    pub ping_timeout_ms: u32,
    /// How long the peer has to answer a close frame and close; then the
    /// connection is reset. Default 5000.
    pub close_timeout_ms: u32,
    /// The subprotocol to answer with (`Sec-WebSocket-Protocol`): one the
    /// client offered (see `c10k_ws_subprotocol`), or NULL for none.
    pub subprotocol: *const u8,
    pub subprotocol_len: usize,
    /// Extra response headers for the 101 (copied), or NULL.
    pub headers: *const c10k_header,
    pub header_count: usize,
}

fn default_ws_options() -> c10k_ws_options {
    let d = WsConfig::default();
    c10k_ws_options {
        size: size_of::<c10k_ws_options>() as u32,
        max_frame_bytes: d.limits.max_frame_bytes,
        max_message_bytes: d.limits.max_message_bytes,
        ping_interval_ms: d.ping_interval_ms,
        ping_timeout_ms: d.ping_timeout_ms,
        close_timeout_ms: d.close_timeout_ms,
        subprotocol: std::ptr::null(),
        subprotocol_len: 0,
        headers: std::ptr::null(),
        header_count: 0,
    }
}

/// Fills the first `size` bytes of `opts` with the defaults and sets
/// `opts->size` to `size`. Pass `sizeof *opts`: a program built against an
/// older, smaller `c10k_ws_options` gets only the fields it knows, and nothing past
/// its struct is written. `C10K_EINVAL` for NULL or a `size` this library
/// does not know (less than 4 bytes, or larger than its own struct).
///
/// Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_ws_options_init(opts: *mut c10k_ws_options, size: usize) -> i32 {
    ffi!({ init_sized(opts, size, default_ws_options()) })
}

struct CWsHandler {
    callbacks: c10k_ws_callbacks,
}

// SAFETY (all calls below): the host's callbacks with its own user data and
// views that outlive the call.
impl WsHandler for CWsHandler {
    fn on_open(&mut self, cx: &WsCtx<'_>) {
        if let Some(cb) = self.callbacks.on_open {
            unsafe { cb(uncarry(cx.user_data), cx.ws.0) }
        }
    }
    fn on_message(&mut self, cx: &WsCtx<'_>, data: &[u8], binary: bool) {
        if let Some(cb) = self.callbacks.on_message {
            unsafe { cb(uncarry(cx.user_data), cx.ws.0, data.as_ptr(), data.len(), binary) }
        }
    }
    fn on_ping(&mut self, cx: &WsCtx<'_>, data: &[u8]) {
        if let Some(cb) = self.callbacks.on_ping {
            unsafe { cb(uncarry(cx.user_data), cx.ws.0, data.as_ptr(), data.len()) }
        }
    }
    fn on_pong(&mut self, cx: &WsCtx<'_>, data: &[u8]) {
        if let Some(cb) = self.callbacks.on_pong {
            unsafe { cb(uncarry(cx.user_data), cx.ws.0, data.as_ptr(), data.len()) }
        }
    }
    fn on_drain(&mut self, cx: &WsCtx<'_>) {
        if let Some(cb) = self.callbacks.on_drain {
            unsafe { cb(uncarry(cx.user_data), cx.ws.0) }
        }
    }
    fn on_close(&mut self, cx: &WsCtx<'_>, code: u16, reason: &[u8]) {
        if let Some(cb) = self.callbacks.on_close {
            unsafe { cb(uncarry(cx.user_data), cx.ws.0, code, reason.as_ptr(), reason.len()) }
        }
    }
}

/// Whether the request asks to become a WebSocket (`Upgrade: websocket`).
/// The rest of its handshake is checked by `c10k_ws_accept`. False for a
/// NULL request.
///
/// Added in 0.2.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_ws_is_upgrade(req: *const c10k_request) -> bool {
    ffi!(else false, { Ok(ws::is_upgrade(request(req)?)) })
}

/// The `index`-th subprotocol (0-based) the client offers in
/// `Sec-WebSocket-Protocol`, in its order of preference, as a view
/// borrowed for the `on_request` call. Returns 0, `C10K_ENOENT` past the
/// last one, or `C10K_EINVAL`.
///
/// Added in 0.2.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_ws_subprotocol(
    req: *const c10k_request,
    index: usize,
    out: *mut *const u8,
    out_len: *mut usize,
) -> i32 {
    ffi!({
        let r = request(req)?;
        put_view(ws::handshake::offered_subprotocols(r).nth(index).ok_or(C10K_ENOENT)?, out, out_len)
    })
}

/// Accepts the request as a WebSocket: answers 101 Switching Protocols
/// (with `Sec-WebSocket-Accept`, the chosen subprotocol and the extra
/// headers of `opts`, which may be NULL for the defaults) and hands the
/// connection over: from now on it reports to `callbacks` with
/// `user_data`, on the loop thread, `on_open` first. On success `*out_ws`
/// (may be NULL) receives the WebSocket handle, valid until `on_close`.
///
/// Returns 0; `C10K_EPROTO` when the client's handshake is wrong (not a
/// GET, no `Upgrade: websocket` or `Connection: Upgrade`, a bad
/// `Sec-WebSocket-Key`): the library has answered it (400, or 426 with
/// `Sec-WebSocket-Version: 13` for another version) and the request is
/// done; `C10K_EINVAL` with nothing sent, so the handler may still answer:
/// NULL request or callbacks, no `on_message`, a zero limit in `opts`, a
/// subprotocol the client
/// did not offer, a bad header, a request already answered, or a request
/// handled on a worker pool (a WebSocket needs the loop thread).
///
/// Added in 0.2.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_ws_accept(
    req: *mut c10k_request,
    opts: *const c10k_ws_options,
    callbacks: *const c10k_ws_callbacks,
    user_data: *mut c_void,
    out_ws: *mut u64,
) -> i32 {
    ffi!({
        let r = request(req)?;
        let o = read_sized(opts, default_ws_options())?;
        if callbacks.is_null() {
            return Err(C10K_EINVAL);
        }
        let none = c10k_ws_callbacks {
            size: 0,
            on_open: None,
            on_message: None,
            on_ping: None,
            on_pong: None,
            on_drain: None,
            on_close: None,
        };
        let callbacks = read_sized(callbacks, none)?;
        if callbacks.on_message.is_none() {
            return Err(C10K_EINVAL);
        }
        if o.max_frame_bytes == 0 || o.max_message_bytes == 0 {
            return Err(C10K_EINVAL);
        }
        let config = WsConfig {
            limits: Limits { max_frame_bytes: o.max_frame_bytes, max_message_bytes: o.max_message_bytes },
            ping_interval_ms: o.ping_interval_ms,
            ping_timeout_ms: o.ping_timeout_ms,
            close_timeout_ms: o.close_timeout_ms,
        };
        let subprotocol =
            if o.subprotocol.is_null() { None } else { Some(try_bytes(o.subprotocol, o.subprotocol_len)?) };
        let handler = Box::new(CWsHandler { callbacks });
        let id = with_headers(o.headers, o.header_count, |h| {
            ws::accept(r, &config, subprotocol, h, carry(user_data), handler)
        })?;
        put_if(out_ws, id.0);
        Ok(())
    })
}

/// Sends a message: text (`binary` false: must be UTF-8, else
/// `C10K_EINVAL`) or binary, `len` bytes copied before this returns (0 is
/// fine). From the loop thread it is queued at once; from any other
/// thread it is posted to the loop, and messages one thread sends arrive
/// in the order it sent them.
///
/// Returns 0; `C10K_QUEUE_FULL` (positive: the message was queued, but the
/// connection's queue is over its high-water mark: wait for `on_drain`
/// before sending more); `C10K_ECLOSED` once the WebSocket is closing or
/// closed (the message is dropped); `C10K_EINVAL`.
///
/// Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_ws_send(ws: u64, data: *const u8, len: usize, binary: bool) -> i32 {
    ffi!({
        let opcode = if binary { Opcode::Binary } else { Opcode::Text };
        queued(ws::send(Handle(ws), opcode, try_bytes(data, len)?))
    })
}

fn queued(result: Result<bool>) -> Result<Positive> {
    Ok(if result? { Positive::QueueFull } else { Positive::Done })
}

/// Sends a ping with `len` (at most 125) bytes of payload, copied; the
/// peer's pong reaches `on_pong`. Returns as `c10k_ws_send`.
///
/// Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_ws_ping(ws: u64, data: *const u8, len: usize) -> i32 {
    ffi!({ queued(ws::ping(Handle(ws), try_bytes(data, len)?)) })
}

/// Starts the closing handshake: after the messages sent before, a close
/// frame with `code` (1000-1003, 1007-1014 or 3000-4999; or 1005 with no
/// reason for a close frame without a code) and a UTF-8 `reason` of at
/// most 123 bytes (copied). Sends fail with `C10K_ECLOSED` from now on;
/// messages still arriving are dropped. The connection closes when the
/// peer answers with its close frame and closes, or after the close
/// timeout; `on_close` follows.
///
/// Returns 0, `C10K_EINVAL` (bad code or reason), or `C10K_ECLOSED` (closing
/// already, or gone).
///
/// Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_ws_close(ws: u64, code: u16, reason: *const u8, len: usize) -> i32 {
    ffi!({ ws::close(Handle(ws), code, try_bytes(reason, len)?) })
}

/// Sends one message to `n` WebSockets: the frame is built once and its
/// one buffer is queued, shared and reference-counted, on every
/// connection (a room of 10,000 costs one copy). Handles that are closing,
/// closed or unknown are skipped. Works across loops: each loop queues its
/// own connections. `*out_sent` (may be NULL) receives how many
/// WebSockets it was queued for. A connection whose queue passes its
/// high-water mark reports `on_drain` once it has drained.
///
/// Returns 0 or `C10K_EINVAL` (NULL `ws` with `n` > 0, text that is not UTF-8).
///
/// Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_ws_broadcast(
    ws: *const u64,
    n: usize,
    data: *const u8,
    len: usize,
    binary: bool,
    out_sent: *mut usize,
) -> i32 {
    ffi!({
        // Handle is a transparent u64.
        let ids = try_slice(ws.cast::<Handle>(), n)?;
        put_if(out_sent, ws::broadcast(ids, binary, try_bytes(data, len)?)?);
        Ok(())
    })
}

/// Stops reading from the WebSocket, so that a peer sending faster than
/// the host answers is slowed down by TCP; messages already read may still
/// arrive. `c10k_ws_resume_read` undoes it. Returns 0 or `C10K_ECLOSED`.
///
/// Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_ws_pause_read(ws: u64) -> i32 {
    ffi!({ ws::set_reading(Handle(ws), false) })
}

/// Resumes reading after `c10k_ws_pause_read`. Returns 0 or `C10K_ECLOSED`.
///
/// Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_ws_resume_read(ws: u64) -> i32 {
    ffi!({ ws::set_reading(Handle(ws), true) })
}

/// Sets the `user_data` the WebSocket's callbacks get from now on (its
/// `on_close` included). Returns 0, `C10K_ECLOSED` or `C10K_EWRONGTHREAD`.
///
/// Added in 0.2.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_ws_set_user_data(ws: u64, user_data: *mut c_void) -> i32 {
    ffi!({ ws::set_user_data(Handle(ws), carry(user_data)) })
}

/// Writes the peer's address as `"127.0.0.1:5000"` or `"[::1]:5000"`
/// into `buf` of `len` bytes (`C10K_ADDRSTRLEN` is enough). Returns 0,
/// `C10K_ECLOSED`, `C10K_ENOMEM` (buffer too small) or `C10K_EWRONGTHREAD`.
///
/// Added in 0.2.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_ws_peer_addr(ws: u64, buf: *mut c_char, len: usize) -> i32 {
    ffi!({
        let ws = Handle(ws);
        let conn = ws::conn_of(ws)?;
        put_addr(owned_loop(ws.loop_id())?.conn_peer_addr(conn)?, buf, len)
    })
}

/// The connection handle under the WebSocket, for the `c10k_conn_*`
/// calls that make sense on it (write marks, addresses); writing raw bytes
/// to it would break the protocol. Returns 0, `C10K_ECLOSED`,
/// `C10K_EWRONGTHREAD` or `C10K_EINVAL` (NULL `out_conn`).
///
/// Added in 0.2.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_ws_conn(ws: u64, out_conn: *mut u64) -> i32 {
    ffi!({ put(out_conn, ws::conn_of(Handle(ws))?.0) })
}
