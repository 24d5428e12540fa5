//! Draining: the health check path an HTTP listener answers itself, and
//! marking a loop as draining, so that load balancers stop sending before
//! a process stops accepting.

use std::ffi::c_char;

use super::cast::try_cstr;
use super::loop_::{c10k_loop, loop_ref};
use crate::error::*;
use crate::http::server::HealthPath;

/// The `health_path` of C HTTP settings: NULL (none) or a NUL-terminated string.
pub(super) fn health_path(path: *const c_char) -> Result<Option<HealthPath>> {
    if path.is_null() {
        return Ok(None);
    }
    HealthPath::new(try_cstr(path)?.to_bytes()).map(Some)
}

/// Marks the loop as draining (or, with false, serving again): its HTTP
/// listeners' `health_path` answers 503 and their responses close their
/// connections, while everything else is served as before. For hosts
/// that run loops themselves; a `c10k_server` drains on its own during a
/// graceful stop (`drain_delay_ms`). Returns 0, `C10K_EINVAL` or
/// `C10K_EWRONGTHREAD`. Added in 0.2.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_set_draining(lp: *mut c10k_loop, draining: bool) -> i32 {
    ffi!({
        loop_ref(lp)?.set_draining(draining);
        Ok(())
    })
}

/// Starts a graceful shutdown of a loop the host runs itself, the one a
/// `c10k_server` gives its loops when it stops: the loop's listeners
/// close, requests in flight are finished and answered with
/// `Connection: close`, idle keep-alive connections close cleanly (FIN,
/// then lingering, never a reset). After `c10k_loop_set_draining(lp,
/// true)` a connection that has not sent its first request yet is answered
/// too (its client connected to send one; the header timeout bounds the
/// wait), so that a restart behind `SO_REUSEPORT` loses nothing. Keep
/// running the loop until `c10k_loop_open_handles` reports no sources, or
/// a deadline of your own passes, then free it. Listener pointers stay the
/// host's: `c10k_listener_close` still frees them (answering
/// `C10K_ECLOSED`). Returns 0, `C10K_EINVAL` or `C10K_EWRONGTHREAD`. Added
/// in 0.2.
///
/// Thread safety: loop thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_loop_shutdown(lp: *mut c10k_loop) -> i32 {
    ffi!({
        let lp = loop_ref(lp)?;
        crate::http::server::reply::close_after_on(&lp.handle());
        lp.begin_shutdown();
        Ok(())
    })
}
