//! The PROXY protocol options of a listener, the socket's own peer behind
//! a balancer, and the TLVs its header carried.

use std::ffi::c_char;

use super::cast::{put_addr, try_cstr};
use super::conn::{c10k_listen_options, conn_ref};
use super::http::{c10k_request, request};
use super::sized::write_sized;
use crate::error::*;
use crate::net::{Networks, ProxyHeader, ProxyOptions, Untrusted};

/// `proxy_untrusted`: reset connections from outside the trusted networks.
pub const C10K_PROXY_REFUSE: u32 = 0;
/// `proxy_untrusted`: serve them as direct clients, header not believed.
pub const C10K_PROXY_PLAIN: u32 = 1;

/// The PROXY protocol fields of C listen options; `proxy_trusted` is NULL
/// or a NUL-terminated string.
pub(super) fn proxy_options(opts: &c10k_listen_options) -> Result<ProxyOptions> {
    let trusted = match opts.proxy_trusted.is_null() {
        true => Networks::loopback(),
        false => Networks::parse(try_cstr(opts.proxy_trusted)?.to_str().map_err(|_| C10K_EINVAL)?)?,
    };
    let untrusted = match opts.proxy_untrusted {
        C10K_PROXY_REFUSE => Untrusted::Refuse,
        C10K_PROXY_PLAIN => Untrusted::Plain,
        _ => return Err(C10K_EINVAL),
    };
    if opts.proxy_max_header_bytes < 16 {
        return Err(C10K_EINVAL);
    }
    Ok(ProxyOptions {
        enabled: opts.proxy_protocol,
        trusted,
        untrusted,
        header_timeout_ms: opts.proxy_header_timeout_ms,
        max_header_bytes: opts.proxy_max_header_bytes,
    })
}

/// Writes the address of the socket's own peer with a NUL into `buf` of
/// `len` bytes (`C10K_ADDRSTRLEN` is enough). Behind a balancer that sent
/// a PROXY protocol header this is the balancer, while
/// `c10k_conn_peer_addr` gives the client; otherwise both agree. Added in 0.2.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_conn_socket_peer_addr(conn: u64, buf: *mut c_char, len: usize) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        put_addr(lp.conn_socket_peer_addr(id)?, buf, len)
    })
}

/// Writes the address of the request's socket peer with a NUL into `buf`
/// of `len` bytes: the balancer when a PROXY protocol header named the
/// client (which `c10k_request_peer_addr` gives), else the client. Added in 0.2.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_socket_peer_addr(req: *const c10k_request, buf: *mut c_char, len: usize) -> i32 {
    ffi!({ put_addr(request(req)?.socket_peer_addr()?, buf, len) })
}

/// What a connection's PROXY protocol header said beyond the client's
/// address: the TLVs HAProxy and cloud balancers send. Set `size` to
/// `sizeof(c10k_proxy_info)` before passing it. The byte views are
/// borrowed from the connection: valid until it closes (for a request,
/// during `on_request`); NULL with length 0 when absent. Added in 0.2.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_proxy_info {
    pub size: u32,
    /// 1 or 2 when a header named the client or carried TLVs; 0 when there
    /// was none, or it said nothing (v1 `UNKNOWN`, v2 `LOCAL`).
    pub version: u32,
    /// `PP2_TYPE_AUTHORITY`: the host name the client asked for (TLS SNI).
    pub authority: *const u8,
    pub authority_len: usize,
    /// `PP2_TYPE_SSL` with `PP2_CLIENT_SSL`: the client came over TLS.
    pub tls: bool,
    /// The client presented a certificate and it verified.
    pub tls_verified_cert: bool,
    /// `PP2_SUBTYPE_SSL_VERSION`, e.g. `TLSv1.3`.
    pub tls_version: *const u8,
    pub tls_version_len: usize,
    /// `PP2_SUBTYPE_SSL_CN`: the client certificate's common name.
    pub tls_cn: *const u8,
    pub tls_cn_len: usize,
}

/// `(pointer, length)` of an optional byte string.
fn view(bytes: Option<&[u8]>) -> (*const u8, usize) {
    bytes.map_or((std::ptr::null(), 0), |b| (b.as_ptr(), b.len()))
}

fn proxy_info(header: Option<&ProxyHeader>) -> c10k_proxy_info {
    let tls = header.and_then(|h| h.tls.as_ref());
    let (authority, authority_len) = view(header.and_then(|h| h.authority.as_deref()));
    let (tls_version, tls_version_len) = view(tls.and_then(|t| t.version.as_deref()));
    let (tls_cn, tls_cn_len) = view(tls.and_then(|t| t.cn.as_deref()));
    c10k_proxy_info {
        size: size_of::<c10k_proxy_info>() as u32,
        version: header.map_or(0, |h| h.version as u32),
        authority,
        authority_len,
        tls: tls.is_some(),
        tls_verified_cert: tls.is_some_and(|t| t.verified_cert),
        tls_version,
        tls_version_len,
        tls_cn,
        tls_cn_len,
    }
}

/// Fills `*out` (whose `size` the caller set) with what the connection's
/// PROXY protocol header said. Returns 0, `C10K_EINVAL` for NULL or a bad
/// size, `C10K_ECLOSED`, or `C10K_EWRONGTHREAD`. Added in 0.2.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_conn_proxy_info(conn: u64, out: *mut c10k_proxy_info) -> i32 {
    ffi!({
        let (lp, id) = conn_ref(conn)?;
        write_sized(out, lp.conn_with_proxy_header(id, proxy_info)?)
    })
}

/// Fills `*out` (whose `size` the caller set) with what the PROXY
/// protocol header of the request's connection said. Returns 0,
/// `C10K_EINVAL`, or `C10K_ENOTCONN` on a worker pool thread (the
/// connection belongs to its loop's thread). Added in 0.2.
///
/// Thread safety: the thread running `on_request`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_request_proxy_info(req: *const c10k_request, out: *mut c10k_proxy_info) -> i32 {
    ffi!({ write_sized(out, request(req)?.with_proxy_header(proxy_info)?) })
}
