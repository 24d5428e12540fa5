//! The PROXY protocol options of a listener and the socket's own peer
//! behind a balancer.

use std::ffi::c_char;

use super::cast::{put_addr, try_cstr};
use super::conn::{c10k_listen_options, conn_ref};
use super::http::{c10k_request, request};
use crate::error::*;
use crate::net::{Networks, ProxyOptions, Untrusted};

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
