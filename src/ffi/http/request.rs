//! `c10k_request`: the borrowed view of a request during `on_request`.

use std::ffi::c_char;

use super::super::cast::{put, put_addr, put_view, try_cstr};
use super::super::sized::write_sized;
use super::super::target::target_form_code;
use crate::error::*;
use crate::http::server::Request;

/// A request, borrowed: valid only during the `on_request` call that
/// received it. Read it with the `c10k_request_*` functions and answer it
/// with one of `c10k_respond`, `c10k_respond_file`, `c10k_respond_path`,
/// `c10k_respond_upgrade`, or keep it open with `c10k_request_defer`.
/// Returning without any of these answers 500.
pub struct c10k_request {
    _opaque: [u8; 0],
}

/// The request behind a C pointer: the one `on_request` received, during
/// that call (the export's contract), or NULL.
pub(in crate::ffi) fn request<'a>(req: *const c10k_request) -> Result<&'a mut Request<'a>> {
    super::super::cast::try_mut(req.cast::<Request<'a>>().cast_mut())
}

/// The C pointer for a request passed to `on_request`.
pub(super) fn to_c(req: &mut Request<'_>) -> *mut c10k_request {
    (req as *mut Request<'_>).cast()
}

/// Runs `f` on the request and stores the view it returns.
fn view(
    req: *const c10k_request,
    out: *mut *const u8,
    out_len: *mut usize,
    f: impl for<'r> FnOnce(&'r Request<'r>) -> Option<&'r [u8]>,
) -> Result<()> {
    put_view(f(request(req)?).ok_or(C10K_ENOENT)?, out, out_len)
}

/// Runs `pick` on the request and stores the (name, value) it returns.
fn field(
    req: *const c10k_request,
    out: [*mut *const u8; 2],
    out_len: [*mut usize; 2],
    pick: impl for<'r> FnOnce(&'r Request<'r>) -> Option<(&'r [u8], &'r [u8])>,
) -> Result<()> {
    let (name, value) = pick(request(req)?).ok_or(C10K_ENOENT)?;
    put_view(name, out[0], out_len[0])?;
    put_view(value, out[1], out_len[1])
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
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_get_info(req: *const c10k_request, out: *mut c10k_request_info) -> i32 {
    ffi!({
        let r = request(req)?;
        {
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
            write_sized(out, info)
        }
    })
}

/// Stores the method (`GET`) in `*out`/`*out_len`, borrowed from the
/// request: valid during `on_request`. Same rules for every
/// `c10k_request_*` view below.
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_method(
    req: *const c10k_request,
    out: *mut *const u8,
    out_len: *mut usize,
) -> i32 {
    ffi!({ view(req, out, out_len, |r| Some(r.method())) })
}

/// Stores the target as sent (`/path?query`, not decoded).
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_target(
    req: *const c10k_request,
    out: *mut *const u8,
    out_len: *mut usize,
) -> i32 {
    ffi!({ view(req, out, out_len, |r| Some(r.target())) })
}

/// Stores the target's path, not decoded (see `c10k_percent_decode`):
/// the URI's path for an absolute-form target (`/` when it has none), `*`
/// for `OPTIONS *`, empty for CONNECT's `host:port`.
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_path(req: *const c10k_request, out: *mut *const u8, out_len: *mut usize) -> i32 {
    ffi!({ view(req, out, out_len, |r| Some(r.path())) })
}

/// Stores the query after `?`, not decoded; `C10K_ENOENT` when the target
/// has no `?`.
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_query(req: *const c10k_request, out: *mut *const u8, out_len: *mut usize) -> i32 {
    ffi!({ view(req, out, out_len, |r| r.query()) })
}

/// Stores the body (empty if none; with `stream_bodies`, always empty).
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_body(req: *const c10k_request, out: *mut *const u8, out_len: *mut usize) -> i32 {
    ffi!({ view(req, out, out_len, |r| Some(r.body())) })
}

/// Stores the value of the first header named `name` (NUL-terminated,
/// case-insensitive); `C10K_ENOENT` if there is none.
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_header(
    req: *const c10k_request,
    name: *const c_char,
    out: *mut *const u8,
    out_len: *mut usize,
) -> i32 {
    ffi!({
        let name = try_cstr(name)?.to_bytes();
        view(req, out, out_len, |r| r.header(name))
    })
}

/// How many header fields the request has (0 for NULL).
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_header_count(req: *const c10k_request) -> usize {
    ffi!(else 0, { Ok(request(req)?.header_count()) })
}

/// Stores header field `index` (0-based, in arrival order) as two views;
/// `C10K_ENOENT` past the last one.
///
/// Added in 0.1.
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
    ffi!({ field(req, [name, value], [name_len, value_len], |r| r.header_at(index)) })
}

/// How many trailer fields a chunked body carried.
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_trailer_count(req: *const c10k_request) -> usize {
    ffi!(else 0, { Ok(request(req)?.trailers().len()) })
}

/// Stores trailer field `index` as two views; `C10K_ENOENT` past the last.
///
/// Added in 0.1.
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
    ffi!({
        field(req, [name, value], [name_len, value_len], |r| r.trailers().get(index).map(|(n, v)| (&n[..], &v[..])))
    })
}

/// Stores the HTTP minor version in `*out_minor`: 0 for HTTP/1.0, 1 for
/// HTTP/1.1. Returns 0, or `C10K_EINVAL` for NULL. Added in 0.1;
/// `out_minor` since 0.2 (the version was the return value).
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_version(req: *const c10k_request, out_minor: *mut u32) -> i32 {
    ffi!({ put(out_minor, request(req)?.version_minor() as u32) })
}

/// Whether the connection stays open after this request (false for NULL).
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_keep_alive(req: *const c10k_request) -> bool {
    ffi!(else false, { Ok(request(req)?.keep_alive()) })
}

/// Writes the client's address (`"127.0.0.1:50000"`) with a NUL into
/// `buf` of `len` bytes (`C10K_ADDRSTRLEN` is enough).
///
/// Added in 0.1.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_peer_addr(req: *const c10k_request, buf: *mut c_char, len: usize) -> i32 {
    ffi!({ put_addr(request(req)?.peer_addr()?, buf, len) })
}
