//! Listening sockets handed over: by systemd's socket activation
//! (`LISTEN_FDS`), or by a previous process of the same server, so that a
//! restart never closes the socket clients connect to.

use std::ffi::c_void;
use std::sync::Arc;

use super::cast::{carry, put};
use super::conn::{CAcceptor, c10k_conn_callbacks, c10k_listen_options, conn_callbacks, listen_options};
use super::http::{CHttpHandler, c10k_http_callbacks, c10k_http_config, http_config};
use super::server::{c10k_server, server_ref};
use crate::error::*;
use crate::server::Bind;

/// The first descriptor `LISTEN_FDS` hands over (systemd's `SD_LISTEN_FDS_START`).
pub const C10K_LISTEN_FDS_START: i32 = 3;

/// Reads the systemd socket activation protocol: when `LISTEN_PID` is
/// this process's id, `LISTEN_FDS` descriptors starting at
/// `C10K_LISTEN_FDS_START` (3) were handed over, already listening. Their
/// count goes to `*out_count` (0 when the variables are absent or meant
/// for another process) and they are made close-on-exec. Pass each to
/// `c10k_listen_fd` / `c10k_server_http_listen_fd`, which take ownership.
///
/// With `unset_env`, `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES` are
/// removed so that child processes do not see them. Returns 0,
/// `C10K_EINVAL` for a NULL `out_count` or malformed variables, or
/// `C10K_EBADF` when a promised descriptor is not open. Works as well for
/// a supervisor or an old process that hands its sockets to a new one:
/// set the variables in the child, then exec. Added in 0.2.
///
/// With `unset_env` it changes the environment, which is unsafe while
/// other threads read it: call it at start-up, before creating threads.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_listen_fds_from_env(unset_env: bool, out_count: *mut u32) -> i32 {
    ffi!({
        if out_count.is_null() {
            return Err(C10K_EINVAL);
        }
        let found = listen_fds(std::env::var("LISTEN_PID").ok(), std::env::var("LISTEN_FDS").ok());
        if unset_env {
            for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
                // SAFETY: documented: called before other threads read the environment.
                unsafe { std::env::remove_var(name) };
            }
        }
        put(out_count, found?)
    })
}

/// How many descriptors the variables hand to this process; marks them
/// close-on-exec.
fn listen_fds(pid: Option<String>, fds: Option<String>) -> Result<u32> {
    let (Some(pid), Some(fds)) = (pid, fds) else { return Ok(0) };
    let pid: u32 = pid.parse().map_err(|_| C10K_EINVAL)?;
    if pid != std::process::id() {
        return Ok(0);
    }
    let count: u32 = fds.parse().map_err(|_| C10K_EINVAL)?;
    if count > i32::MAX as u32 - C10K_LISTEN_FDS_START as u32 {
        return Err(C10K_EINVAL);
    }
    for fd in C10K_LISTEN_FDS_START..C10K_LISTEN_FDS_START + count as i32 {
        // SAFETY: plain fcntl calls on descriptors the variables say we own.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } < 0 {
            return Err(C10K_EBADF);
        }
    }
    Ok(count)
}

/// Runs `f`; on failure closes `fd`, which the caller handed over.
fn closing_on_error<T>(fd: i32, f: impl FnOnce() -> Result<T>) -> Result<T> {
    f().inspect_err(|_| crate::net::close_fd(fd))
}

/// Serves raw TCP on `fd`, a socket already bound and listening (from
/// `c10k_listen_fds_from_env`, or inherited), on every loop: each loop
/// accepts from a duplicate of it, and the server owns `fd` from this call
/// on, even when it fails (closed by `c10k_server_free`). Otherwise as
/// `c10k_server_listen`; `opts` applies all but its socket fields. Returns
/// `C10K_EINVAL` if `fd` is not a listening socket. Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_listen_fd(
    server: *mut c10k_server,
    fd: i32,
    opts: *const c10k_listen_options,
    callbacks: *const c10k_conn_callbacks,
    user_data: *mut c_void,
) -> i32 {
    ffi!({
        let (s, options, callbacks) =
            closing_on_error(fd, || Ok((server_ref(server)?, listen_options(opts)?, conn_callbacks(callbacks)?)))?;
        let user_data = carry(user_data);
        s.listen_on(Bind::Fd(fd), options, Arc::new(move |_| Box::new(CAcceptor { callbacks, user_data })))
    })
}

/// Serves HTTP on `fd`, a socket already bound and listening (from
/// `c10k_listen_fds_from_env`, or inherited), on every loop. The server
/// owns `fd` from this call on, even when it fails. Otherwise as
/// `c10k_server_http_listen`. Added in 0.2.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn c10k_server_http_listen_fd(
    server: *mut c10k_server,
    fd: i32,
    config: *const c10k_http_config,
    callbacks: *const c10k_http_callbacks,
    user_data: *mut c_void,
) -> i32 {
    ffi!({
        let (s, (options, config), handler) = closing_on_error(fd, || {
            Ok((server_ref(server)?, http_config(config)?, CHttpHandler::new(callbacks, user_data)?))
        })?;
        s.http_listen_on(Bind::Fd(fd), options, config, Arc::new(handler))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_fds_only_for_this_process() {
        let me = Some(std::process::id().to_string());
        assert_eq!(listen_fds(None, Some("2".into())), Ok(0));
        assert_eq!(listen_fds(Some("1".into()), Some("2".into())), Ok(0));
        assert_eq!(listen_fds(me.clone(), Some("x".into())), Err(C10K_EINVAL));
        assert_eq!(listen_fds(Some("-3".into()), Some("1".into())), Err(C10K_EINVAL));
        assert_eq!(listen_fds(me.clone(), Some("0".into())), Ok(0));
        assert_eq!(listen_fds(me, Some("5000".into())), Err(C10K_EBADF));
    }
}
