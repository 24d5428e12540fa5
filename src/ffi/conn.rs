//! Listeners, outgoing connections and the operations on a connection handle.

use std::ffi::{c_char, c_void};

use super::boundary::Positive;
use super::cast::{carry, handle, put, put_addr, put_box, take_box, try_addr, try_bytes, try_ref, uncarry};
use super::loop_::{c10k_loop, loop_ref};
use super::sized::{init_sized, read_sized};
use crate::conn::Acceptor;
use crate::conn::{ConnHandler, OwnedBuf};
use crate::error::*;
use crate::net::{ListenConfig, ListenOptions};
use crate::reactor::{ConnId, Kind, ListenerId, Loop, owned_loop};

/// A listening socket on a loop. Lifecycle: `c10k_listen` (or
/// `c10k_listen_fd`) → connections arrive with the callbacks given →
/// `c10k_listener_close`, which frees it. Connections it accepted stay open.
pub struct c10k_listener {
    loop_id: u16,
    id: ListenerId,
}

/// What a connection reports, on its loop's thread. Each callback gets
/// `user_data` first (the listener's or `c10k_connect`'s, until
/// `c10k_conn_set_user_data` changes it), then the connection handle. Any
/// member may be NULL. Calling back into c10k from a callback is allowed,
/// closing the connection included.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_conn_callbacks {
    /// `sizeof(c10k_conn_callbacks)`: callbacks added in later versions are
    /// NULL for a caller built against this header.
    pub size: u32,
    /// The connection is established: accepted, or an outgoing connect succeeded.
    pub on_open: Option<unsafe extern "C" fn(user_data: *mut c_void, conn: u64)>,
    /// Bytes arrived. `data` is borrowed: valid only until the callback returns.
    pub on_data: Option<unsafe extern "C" fn(user_data: *mut c_void, conn: u64, data: *const u8, len: usize)>,
    /// The peer shut down its sending side. Return true to keep the
    /// connection half-open (you may still write, then close); false, or a
    /// NULL callback, closes it once queued output is written.
    pub on_end: Option<unsafe extern "C" fn(user_data: *mut c_void, conn: u64) -> bool>,
    /// The write queue fell to the low-water mark after a write reported
    /// `C10K_QUEUE_FULL`: time to write again (or resume reading).
    pub on_drain: Option<unsafe extern "C" fn(user_data: *mut c_void, conn: u64)>,
    /// The idle timeout expired. Return true if you handled it (the
    /// connection stays until you close it); false, or a NULL callback,
    /// aborts it and `on_close` follows with `C10K_ETIMEDOUT`.
    pub on_timeout: Option<unsafe extern "C" fn(user_data: *mut c_void, conn: u64) -> bool>,
    /// Last callback, exactly once per connection, also when an outgoing
    /// connect fails (then without `on_open`). `reason` is 0 for a clean
    /// close or a negative `C10K_E*` code. After it returns the library never
    /// uses this `user_data` again: free it here.
    pub on_close: Option<unsafe extern "C" fn(user_data: *mut c_void, conn: u64, reason: i32)>,
}

/// Options of `c10k_listen`. Initialise with `c10k_listen_options_init`,
/// which sets `size`, then change what you need.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_listen_options {
    /// `sizeof(c10k_listen_options)`, so that later versions can add fields: a shorter
    /// struct from an older header is accepted (its missing fields keep
    /// their defaults), a longer one refused with `C10K_EINVAL`.
    pub size: u32,
    /// Length of the kernel's accept queue (capped by net.core.somaxconn). Default 4096.
    pub backlog: i32,
    /// Set `SO_REUSEPORT`, so several loops or processes can listen on one
    /// port and the kernel spreads connections. Default false.
    pub reuse_port: bool,
    /// For IPv6 addresses: refuse IPv4-mapped connections. Default true.
    pub ipv6_only: bool,
    /// Stop accepting while this many connections are open; resume below
    /// it. 0 (default): no limit.
    pub max_connections: u32,
    /// Idle timeout of accepted connections in milliseconds; reads and
    /// writes push it back. 0 (default): none.
    pub idle_timeout_ms: u32,
    /// Expect a PROXY protocol header (v1 or v2, as HAProxy, nginx and
    /// cloud balancers send) before each connection's bytes, from the
    /// networks in `proxy_trusted`. The client it names becomes the
    /// connection's peer address (`c10k_conn_peer_addr`,
    /// `c10k_request_peer_addr`, the access log); the socket's own peer
    /// stays readable with `c10k_conn_socket_peer_addr`. The host's
    /// callbacks start (`on_open`) once the header is read; a connection
    /// whose header is malformed, too long or late is reset without them.
    /// Default false. Added in 0.2.
    pub proxy_protocol: bool,
    /// Networks whose headers are believed, as text: `"10.0.0.0/8,
    /// 192.0.2.7, ::1/128"` (at most 16, separated by commas or spaces; a
    /// bare address is a network of one). Copied during the listen call.
    /// NULL (default): loopback, `127.0.0.0/8` and `::1`. Added in 0.2.
    pub proxy_trusted: *const c_char,
    /// What a connection from outside `proxy_trusted` gets:
    /// `C10K_PROXY_REFUSE` (default: reset at once) or `C10K_PROXY_PLAIN`
    /// (served as a direct client; bytes that look like a header are its
    /// data, not believed). Added in 0.2.
    pub proxy_untrusted: u32,
    /// Time allowed for the whole header, in milliseconds; then the
    /// connection is reset. Default 5000. Added in 0.2.
    pub proxy_header_timeout_ms: u32,
    /// Longest v2 header accepted, addresses and TLVs included (v1 headers
    /// have the spec's cap of 107 bytes). Default 4096; at least 16.
    /// Added in 0.2.
    pub proxy_max_header_bytes: u32,
}

/// `c10k_conn_write*` return this (not an error: the data was queued) when
/// the queue is above its high-water mark: stop writing until `on_drain`.
pub const C10K_QUEUE_FULL: i32 = 1;

pub(super) struct CConn {
    callbacks: c10k_conn_callbacks,
    /// User data to install when the connection opens (upgrade hand-off).
    initial_user_data: Option<usize>,
}

impl CConn {
    pub(super) fn new(callbacks: c10k_conn_callbacks) -> CConn {
        CConn { callbacks, initial_user_data: None }
    }

    /// A handler that gives the connection `user_data` when it opens.
    pub(super) fn with_user_data(callbacks: c10k_conn_callbacks, user_data: *mut c_void) -> CConn {
        CConn { callbacks, initial_user_data: Some(carry(user_data)) }
    }

    fn user_data(lp: &Loop, conn: ConnId) -> *mut c_void {
        uncarry(lp.conn_user_data(conn).unwrap_or(0))
    }
}

// SAFETY (all calls below): the host's callbacks, with its own user data and
// a borrowed view that outlives the call.
impl ConnHandler for CConn {
    fn on_open(&mut self, lp: &Loop, conn: ConnId) {
        if let Some(user_data) = self.initial_user_data.take() {
            let _ = lp.conn_set_user_data(conn, user_data);
        }
        if let Some(cb) = self.callbacks.on_open {
            unsafe { cb(Self::user_data(lp, conn), conn.0) }
        }
    }
    fn on_data(&mut self, lp: &Loop, conn: ConnId, data: &[u8]) {
        if let Some(cb) = self.callbacks.on_data {
            unsafe { cb(Self::user_data(lp, conn), conn.0, data.as_ptr(), data.len()) }
        }
    }
    fn on_end(&mut self, lp: &Loop, conn: ConnId) -> bool {
        self.callbacks.on_end.is_some_and(|cb| unsafe { cb(Self::user_data(lp, conn), conn.0) })
    }
    fn on_drain(&mut self, lp: &Loop, conn: ConnId) {
        if let Some(cb) = self.callbacks.on_drain {
            unsafe { cb(Self::user_data(lp, conn), conn.0) }
        }
    }
    fn on_timeout(&mut self, lp: &Loop, conn: ConnId) -> bool {
        self.callbacks.on_timeout.is_some_and(|cb| unsafe { cb(Self::user_data(lp, conn), conn.0) })
    }
    fn on_close(&mut self, _lp: &Loop, conn: ConnId, reason: i32, user_data: usize) {
        if let Some(cb) = self.callbacks.on_close {
            unsafe { cb(uncarry(user_data), conn.0, reason) }
        }
    }
}

pub(super) struct CAcceptor {
    pub callbacks: c10k_conn_callbacks,
    pub user_data: usize,
}

impl Acceptor for CAcceptor {
    fn accept(&mut self, _lp: &Loop, _conn: ConnId) -> (Box<dyn ConnHandler>, usize) {
        (Box::new(CConn::new(self.callbacks)), self.user_data)
    }
}

/// Fills the first `size` bytes of `opts` with the defaults and sets
/// `opts->size` to `size`. Pass `sizeof *opts`: a program built against an
/// older, smaller `c10k_listen_options` gets only the fields it knows, and nothing past
/// its struct is written. `C10K_EINVAL` for NULL or a `size` this library
/// does not know (less than 4 bytes, or larger than its own struct).
///
/// Added in 0.1.
/// Changed in 0.2: takes the caller's `size`.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_listen_options_init(opts: *mut c10k_listen_options, size: usize) -> i32 {
    ffi!({ init_sized(opts, size, default_listen_options()) })
}

pub(super) fn default_listen_options() -> c10k_listen_options {
    let d = ListenConfig::default();
    let proxy = crate::net::ProxyOptions::default();
    c10k_listen_options {
        size: size_of::<c10k_listen_options>() as u32,
        backlog: d.backlog,
        reuse_port: d.reuse_port,
        ipv6_only: d.ipv6_only,
        max_connections: 0,
        idle_timeout_ms: 0,
        proxy_protocol: proxy.enabled,
        proxy_trusted: std::ptr::null(),
        proxy_untrusted: super::proxy::C10K_PROXY_REFUSE,
        proxy_header_timeout_ms: proxy.header_timeout_ms,
        proxy_max_header_bytes: proxy.max_header_bytes,
    }
}

/// Reads C options (NULL: defaults), refusing a struct of another size.
/// `opts` is NULL or options initialised by `c10k_listen_options_init`.
pub(super) fn listen_options(opts: *const c10k_listen_options) -> Result<ListenOptions> {
    let opts = read_sized(opts, default_listen_options())?;
    if opts.backlog < 0 {
        return Err(C10K_EINVAL);
    }
    Ok(ListenOptions {
        socket: ListenConfig { backlog: opts.backlog, reuse_port: opts.reuse_port, ipv6_only: opts.ipv6_only },
        max_connections: opts.max_connections,
        idle_timeout_ms: opts.idle_timeout_ms,
        proxy: super::proxy::proxy_options(&opts)?,
    })
}

/// Reads the C callbacks, refusing NULL. `callbacks` is NULL or a struct
/// that starts with its size.
pub(super) fn conn_callbacks(callbacks: *const c10k_conn_callbacks) -> Result<c10k_conn_callbacks> {
    if callbacks.is_null() {
        return Err(C10K_EINVAL);
    }
    let none = c10k_conn_callbacks {
        size: 0,
        on_open: None,
        on_data: None,
        on_end: None,
        on_drain: None,
        on_timeout: None,
        on_close: None,
    };
    read_sized(callbacks, none)
}

/// Returns a new listener through `out` (checked for NULL before listening).
pub(super) fn finish_listen(lp: &Loop, id: ListenerId, out: *mut *mut c10k_listener) -> Result<()> {
    put_box(out, c10k_listener { loop_id: lp.id(), id })
}

/// The acceptor for C callbacks.
fn c_acceptor(callbacks: *const c10k_conn_callbacks, user_data: *mut c_void) -> Result<Box<dyn Acceptor>> {
    Ok(Box::new(CAcceptor { callbacks: conn_callbacks(callbacks)?, user_data: carry(user_data) }))
}

/// Listens on a numeric address, `"127.0.0.1:8080"` or `"[::1]:8080"`
/// (port 0 picks a free port; read it back with `c10k_listener_addr`).
/// Host names are refused: resolving them would block.
///
/// Every accepted connection reports to `callbacks` (copied) with
/// `user_data`; `on_open` comes first. On success `*out` receives a
/// listener the caller closes with `c10k_listener_close` (before freeing
/// the loop). `opts` may be NULL for defaults.
///
/// Returns 0, `C10K_EINVAL` (NULL loop, address, callbacks or out; bad
/// address or options), `C10K_EADDRINUSE`, `C10K_EACCES`, or
/// `C10K_EWRONGTHREAD`.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_listen(
    lp: *mut c10k_loop,
    addr: *const c_char,
    opts: *const c10k_listen_options,
    callbacks: *const c10k_conn_callbacks,
    user_data: *mut c_void,
    out: *mut *mut c10k_listener,
) -> i32 {
    ffi!({
        if out.is_null() {
            return Err(C10K_EINVAL);
        }
        let lp = loop_ref(lp)?;
        let (addr, options) = (try_addr(addr)?, listen_options(opts)?);
        let id = lp.listen(&addr, &options, c_acceptor(callbacks, user_data)?)?;
        finish_listen(lp, id, out)
    })
}

/// Like `c10k_listen`, but adopts `fd`, a socket already bound and
/// listening (inherited from a parent, or from socket activation). On
/// success the loop owns `fd` (made non-blocking; `c10k_listener_close`
/// closes it); if this fails, `fd` stays the caller's, untouched. `opts`
/// applies only `max_connections` and `idle_timeout_ms`. Returns 0,
/// `C10K_EBADF` if `fd` is not an open descriptor, `C10K_EINVAL` if it is
/// not a listening socket (or for NULL arguments and bad options), or
/// `C10K_EWRONGTHREAD`.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_listen_fd(
    lp: *mut c10k_loop,
    fd: i32,
    opts: *const c10k_listen_options,
    callbacks: *const c10k_conn_callbacks,
    user_data: *mut c_void,
    out: *mut *mut c10k_listener,
) -> i32 {
    ffi!({
        let lp = loop_ref(lp)?;
        if out.is_null() {
            return Err(C10K_EINVAL);
        }
        let (options, acceptor) = (listen_options(opts)?, c_acceptor(callbacks, user_data)?);
        let id = lp.listen_fd(fd, &options, acceptor)?;
        finish_listen(lp, id, out)
    })
}

/// Writes the listener's bound address (`"127.0.0.1:41234"`) with a NUL
/// into `buf` of `len` bytes; `C10K_ADDRSTRLEN` is always enough. Returns 0,
/// `C10K_EINVAL`, or `C10K_ENOMEM` if `buf` is too small.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_listener_addr(listener: *const c10k_listener, buf: *mut c_char, len: usize) -> i32 {
    ffi!({
        let l = try_ref(listener)?;
        put_addr(crate::reactor::owned_loop(l.loop_id)?.listener_addr(l.id)?, buf, len)
    })
}

/// Stops or restarts accepting on a listener, keeping its socket (the
/// kernel still queues up to `backlog` connections meanwhile).
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_listener_set_accepting(listener: *mut c10k_listener, accepting: bool) -> i32 {
    ffi!({
        let l = try_ref(listener)?;
        crate::reactor::owned_loop(l.loop_id)?.listener_set_accepting(l.id, accepting)
    })
}

/// Closes the listening socket and frees `listener` (consumed unless this
/// returns `C10K_EWRONGTHREAD`). Connections it accepted stay open. NULL is
/// a no-op.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_listener_close(listener: *mut c10k_listener) -> i32 {
    ffi!({
        if listener.is_null() {
            return Ok(());
        }
        let l = try_ref(listener)?;
        let result = crate::reactor::owned_loop(l.loop_id).and_then(|lp| lp.listener_close(l.id));
        if result != Err(C10K_EWRONGTHREAD) {
            drop(take_box(listener));
        }
        result
    })
}

/// Connects to a numeric address. The handle goes to `*out_conn` at once;
/// `on_open` follows when the connection is established, or only
/// `on_close` with the error (`C10K_ECONNREFUSED`, ...) if it fails.
/// Writing before `on_open` returns `C10K_ENOTCONN`.
///
/// Returns 0, `C10K_EINVAL` (NULL loop, address, callbacks or `out_conn`,
/// or a bad address: nothing is attempted and no callback called), or an
/// immediate socket error.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_connect(
    lp: *mut c10k_loop,
    addr: *const c_char,
    callbacks: *const c10k_conn_callbacks,
    user_data: *mut c_void,
    out_conn: *mut u64,
) -> i32 {
    ffi!({
        let lp = loop_ref(lp)?;
        let (addr, callbacks) = (try_addr(addr)?, conn_callbacks(callbacks)?);
        // Without the handle the caller could never close it: refuse first.
        if out_conn.is_null() {
            return Err(C10K_EINVAL);
        }
        let id = lp.connect(&addr, Box::new(CConn::new(callbacks)), carry(user_data))?;
        put(out_conn, id.0)
    })
}

/// The loop owning `conn` (if the calling thread owns it) and the connection.
pub(super) fn conn_ref(conn: u64) -> Result<(&'static Loop, ConnId)> {
    let id = handle(conn, Kind::Conn)?;
    Ok((owned_loop(id.loop_id())?, id))
}

/// `C10K_QUEUE_FULL` when the queue went past its high-water mark.
fn queued(above: bool) -> Positive {
    if above { Positive::QueueFull } else { Positive::Done }
}

/// Queues a copy of `len` bytes at `data` for the connection. Output is
/// gathered and written with as few system calls as possible at the end of
/// the loop's turn.
///
/// Returns 0; `C10K_QUEUE_FULL` (positive: the bytes were queued, but the
/// queue is above its high-water mark, so wait for `on_drain`);
/// `C10K_ECLOSED` for a closed or stale handle; `C10K_EPIPE` after
/// `c10k_conn_close` or `c10k_conn_shutdown`; `C10K_ENOTCONN` before an
/// outgoing connection opened; `C10K_EINVAL` for NULL data with len > 0;
/// `C10K_ENOMEM` (nothing queued) when no copy of the bytes can be made.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_conn_write(conn: u64, data: *const u8, len: usize) -> i32 {
    ffi!({
        let bytes = try_bytes(data, len)?;
        let (lp, id) = conn_ref(conn)?;
        Ok(queued(lp.conn_write(id, bytes)?))
    })
}

/// Releases a buffer given to `c10k_conn_write_owned`.
pub type c10k_release_cb = Option<unsafe extern "C" fn(user_data: *mut c_void, data: *const u8, len: usize)>;

struct ForeignBuf {
    data: *const u8,
    len: usize,
    /// Called when the buffer is dropped; taken out when a failed write
    /// hands the buffer back (the host keeps it then).
    release: c10k_release_cb,
    user_data: *mut c_void,
}

impl OwnedBuf for ForeignBuf {
    fn bytes(&self) -> &[u8] {
        // The host lends data..data+len until release is called (checked
        // for NULL before the buffer was made).
        try_bytes(self.data, self.len).unwrap_or_default()
    }
}

impl Drop for ForeignBuf {
    fn drop(&mut self) {
        if let Some(release) = self.release {
            // SAFETY: the host's callback with its own buffer and user data.
            unsafe { release(self.user_data, self.data, self.len) }
        }
    }
}

/// Queues `len` bytes at `data` without copying them. On success the
/// library reads the buffer until it calls `release(release_data, data,
/// len)`, exactly once, on the loop thread: after the bytes are sent (at
/// once for `len` 0), or when the connection closes. If this fails,
/// `release` is never called and the buffer stays the caller's (the
/// preamble's rule: a failing function never calls its callback).
/// `release` may be NULL for memory that outlives the connection (static
/// data).
///
/// Returns as `c10k_conn_write`.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_conn_write_owned(
    conn: u64,
    data: *const u8,
    len: usize,
    release: c10k_release_cb,
    release_data: *mut c_void,
) -> i32 {
    ffi!({
        try_bytes(data, len)?;
        let (lp, id) = conn_ref(conn)?;
        let buf = ForeignBuf { data, len, release, user_data: release_data };
        match lp.conn_write_owned(id, buf) {
            Ok(above) => Ok(queued(above)),
            Err((e, mut buf)) => {
                buf.release = None;
                Err(e)
            }
        }
    })
}

/// Queues `len` bytes of the open file `fd` from `offset`, sent by the loop
/// with `sendfile(2)` in order with the other writes. `fd` is borrowed: the
/// library duplicates it, so the caller may close its own at once. If the
/// file turns out shorter than `len`, the connection is closed with
/// `C10K_EIO` (the peer would otherwise wait for bytes that never come).
///
/// Returns as `c10k_conn_write`, plus `C10K_EBADF` for a bad `fd`.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_conn_sendfile(conn: u64, fd: i32, offset: u64, len: u64) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        let dup = crate::net::dup_cloexec(fd)?;
        Ok(queued(lp.conn_sendfile(id, dup, offset, len)?))
    })
}

/// Stops reading from the connection (no `on_data` until resumed): the
/// kernel's buffers fill and TCP slows the peer down.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_conn_pause_read(conn: u64) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        lp.conn_set_reading(id, false)
    })
}

/// Resumes reading after `c10k_conn_pause_read`.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_conn_resume_read(conn: u64) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        lp.conn_set_reading(id, true)
    })
}

/// Half-close: sends FIN once queued output is written. Reading goes on;
/// further writes return `C10K_EPIPE`.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_conn_shutdown(conn: u64) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        lp.conn_shutdown(id)
    })
}

/// Closes the connection once queued output is written; `on_close`
/// follows (with 0) after the current callback returns, never inside this
/// call. Closing twice returns `C10K_ECLOSED` the second time (and changes
/// nothing); after `on_close` the handle is stale and every call returns
/// `C10K_ECLOSED`.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_conn_close(conn: u64) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        lp.conn_close(id)
    })
}

/// Closes the connection now: queued output is dropped and the peer gets
/// RST. `on_close` follows with 0 after the current callback returns.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_conn_abort(conn: u64) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        lp.conn_abort(id)
    })
}

/// Sets the `user_data` the connection's later callbacks receive.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_conn_set_user_data(conn: u64, user_data: *mut c_void) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        lp.conn_set_user_data(id, carry(user_data))
    })
}

/// Stores the connection's current `user_data` in `*out`.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_conn_user_data(conn: u64, out: *mut *mut c_void) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        put(out, uncarry(lp.conn_user_data(id)?))
    })
}

/// Writes the peer's address (`"127.0.0.1:50000"`) with a NUL into `buf`
/// of `len` bytes (`C10K_ADDRSTRLEN` is enough).
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_conn_peer_addr(conn: u64, buf: *mut c_char, len: usize) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        put_addr(lp.conn_peer_addr(id)?, buf, len)
    })
}

/// Writes the connection's local address with a NUL into `buf` of `len` bytes.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_conn_local_addr(conn: u64, buf: *mut c_char, len: usize) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        put_addr(lp.conn_local_addr(id)?, buf, len)
    })
}

/// Sets the idle timeout in milliseconds (0 removes it): when neither a
/// read nor a write happened for that long, `on_timeout` runs.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_conn_set_idle_timeout(conn: u64, ms: u32) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        lp.conn_set_timeout(id, ms, true)
    })
}

/// Sets the write queue's marks in bytes: writes return `C10K_QUEUE_FULL`
/// once more than `high` bytes wait, and `on_drain` runs when they fall to
/// `low`. Defaults: 1 MiB and 256 KiB. `C10K_EINVAL` if `low > high`.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub extern "C" fn c10k_conn_set_write_marks(conn: u64, low: u32, high: u32) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        lp.conn_set_write_marks(id, low, high)
    })
}

/// Stores in `*out` how many bytes are queued and not yet written.
///
/// Added in 0.1.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_conn_pending(conn: u64, out: *mut u64) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        put(out, lp.conn_pending(id)?)
    })
}
