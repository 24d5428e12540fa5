//! `c10k_http_config`: the settings of an HTTP listener, their defaults
//! and their checks.

use std::ffi::c_char;

use super::super::cast::put_if;
use super::super::conn::{c10k_listen_options, listen_options};
use super::super::sized::read_sized;
use crate::error::*;
use crate::http::Limits;
use crate::http::server::{HttpConfig, MinRate};

/// The largest `max_head_bytes` of `c10k_http_config`: 1 MiB.
pub const C10K_MAX_HEAD_BYTES_LIMIT: u32 = 1 << 20;

/// The largest `max_headers` of `c10k_http_config`: a parsed request keeps
/// its header positions inline, without allocating.
pub const C10K_MAX_HEADERS_LIMIT: u32 = 128;
const _: () = assert!(C10K_MAX_HEADERS_LIMIT as usize == crate::http::HEADER_CAPACITY);

/// The smallest `max_head_bytes`: room for a request line and a Host.
const MIN_HEAD_BYTES: u32 = 64;

/// Settings of an HTTP listener. Initialise with `c10k_http_config_init`
/// (strict, safe defaults), then change what you need.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct c10k_http_config {
    /// `sizeof(c10k_http_config)`, so that later versions can add fields: a shorter
    /// struct from an older header is accepted (its missing fields keep
    /// their defaults), a longer one refused with `C10K_EINVAL`.
    pub size: u32,
    /// Socket options (backlog, SO_REUSEPORT, connection limit), read
    /// during the listen call; NULL (the default) for their defaults. A
    /// pointer rather than an embedded struct, so that each struct can grow.
    /// Changed in 0.2 (was embedded).
    pub listen: *const c10k_listen_options,
    /// Request line plus headers, in bytes; more answers 431. Default 8192;
    /// 64 to `C10K_MAX_HEAD_BYTES_LIMIT`, `C10K_EINVAL` otherwise.
    pub max_head_bytes: u32,
    /// Header fields per request; more answers 431. Default 100; 1 to
    /// `C10K_MAX_HEADERS_LIMIT`, `C10K_EINVAL` otherwise.
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
    /// open), written in batches; -1 (default) for none. Other negative
    /// values answer `C10K_EINVAL`.
    pub access_log_fd: i32,
    /// A client that shuts down its sending side while its deferred reply
    /// is pending: false (default, as nginx) aborts the reply at once
    /// (`on_abort`); true treats it as a half-close still waiting for its
    /// answer.
    pub answer_half_closed: bool,
    /// A path (`"/healthz"`, no query) the library answers itself, for any
    /// method and without calling `on_request`: 200 `ok` while serving,
    /// 503 `draining` once the server drains (a graceful stop began; see
    /// `drain_delay_ms` in `c10k_server_config`), so that a load
    /// balancer's health checks take the process out of rotation before
    /// its connections close. Copied during the listen call. NULL
    /// (default): none. Added in 0.2.
    pub health_path: *const c_char,
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
/// Added in 0.1.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_http_config_init(config: *mut c10k_http_config) {
    ffi!(else (), {
        put_if(config, default_http_config());
        Ok(())
    })
}

fn default_http_config() -> c10k_http_config {
    let d = HttpConfig::default();
    c10k_http_config {
        size: size_of::<c10k_http_config>() as u32,
        listen: std::ptr::null(),
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
        health_path: std::ptr::null(),
        max_buffered_body_bytes: d.max_buffered_body_bytes,
        min_body_rate: d.min_body_rate.bytes_per_sec,
        min_response_rate: d.min_response_rate.bytes_per_sec,
        min_rate_grace_ms: d.min_body_rate.grace_ms,
        min_rate_window_ms: d.min_body_rate.window_ms,
    }
}

/// Reads C settings (NULL: defaults); `config` is NULL or initialised by
/// `c10k_http_config_init`.
pub(crate) fn http_config(config: *const c10k_http_config) -> Result<(crate::net::ListenOptions, HttpConfig)> {
    let c = read_sized(config, default_http_config())?;
    let listen = listen_options(c.listen)?;
    let valid = (MIN_HEAD_BYTES..=C10K_MAX_HEAD_BYTES_LIMIT).contains(&c.max_head_bytes)
        && (1..=C10K_MAX_HEADERS_LIMIT).contains(&c.max_headers)
        && c.access_log_fd >= -1;
    if !valid {
        return Err(C10K_EINVAL);
    }
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
        health_path: super::super::drain::health_path(c.health_path)?,
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
