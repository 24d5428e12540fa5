//! Thin wrappers over the socket system calls, each returning a `C10K_E*`
//! code on failure.

use std::mem;
use std::net::SocketAddr;
use std::os::fd::RawFd;

use super::addr::{sockaddr_from, sockaddr_to};
use crate::error::{C10K_EINVAL, Result, from_io, last_os_error};

/// How a listening socket is set up.
#[derive(Clone, Copy, Debug)]
pub struct ListenConfig {
    pub backlog: i32,
    pub reuse_port: bool,
    /// For `[::]`: accept only IPv6 (true) or IPv4-mapped addresses too.
    pub ipv6_only: bool,
}

impl Default for ListenConfig {
    fn default() -> Self {
        // Bursts of thousands of connects are what this library is for; the
        // kernel caps the value at net.core.somaxconn.
        ListenConfig { backlog: 4096, reuse_port: false, ipv6_only: true }
    }
}

fn check(ret: libc::c_int) -> Result<libc::c_int> {
    if ret < 0 { Err(last_os_error()) } else { Ok(ret) }
}

fn family(addr: &SocketAddr) -> libc::c_int {
    if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 }
}

fn new_socket(addr: &SocketAddr) -> Result<RawFd> {
    // SAFETY: plain system call.
    check(unsafe { libc::socket(family(addr), libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) })
}

fn set_int_opt(fd: RawFd, level: libc::c_int, name: libc::c_int, value: libc::c_int) -> Result<()> {
    // SAFETY: the option value is a valid int for the call's duration.
    check(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const _ as *const libc::c_void,
            mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Closes a descriptor, ignoring errors (there is nothing useful to do with them).
pub fn close_fd(fd: RawFd) {
    // SAFETY: the caller owns fd and does not use it afterwards.
    unsafe { libc::close(fd) };
}

/// A bound, listening, non-blocking socket.
pub fn listen_socket(addr: &SocketAddr, config: &ListenConfig) -> Result<RawFd> {
    let fd = new_socket(addr)?;
    let setup = || -> Result<()> {
        set_int_opt(fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1)?;
        if config.reuse_port {
            set_int_opt(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1)?;
        }
        if addr.is_ipv6() {
            set_int_opt(fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, config.ipv6_only as libc::c_int)?;
        }
        let (storage, len) = sockaddr_from(addr);
        // SAFETY: storage holds a valid sockaddr of length len.
        check(unsafe { libc::bind(fd, &storage as *const _ as *const libc::sockaddr, len) })?;
        // SAFETY: plain system call.
        check(unsafe { libc::listen(fd, config.backlog) }).map(drop)
    };
    setup().inspect_err(|_| close_fd(fd))?;
    Ok(fd)
}

/// Checks that `fd` is a listening stream socket and makes it non-blocking,
/// for descriptors inherited from a parent or from socket activation.
pub fn adopt_listener(fd: RawFd) -> Result<()> {
    let mut value: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len are valid for writing.
    let asked = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN, &mut value as *mut _ as *mut libc::c_void, &mut len)
    };
    if asked < 0 {
        let err = std::io::Error::last_os_error();
        // An open descriptor that is no socket (a tty, a file) is no listener.
        return Err(if err.raw_os_error() == Some(libc::ENOTSOCK) { C10K_EINVAL } else { from_io(&err) });
    }
    if value == 0 {
        return Err(C10K_EINVAL);
    }
    set_nonblocking(fd)
}

fn set_nonblocking(fd: RawFd) -> Result<()> {
    // SAFETY: plain fcntl calls on a descriptor the caller owns.
    let flags = check(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    check(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    check(unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) }).map(drop)
}

/// Accepts one connection: non-blocking, close-on-exec, `TCP_NODELAY` on.
pub fn accept(listener: RawFd) -> Result<RawFd> {
    // SAFETY: the peer address is not needed here; NULL pointers are allowed.
    let fd = check(unsafe {
        libc::accept4(listener, std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
    })?;
    // Not fatal: a socket without NODELAY still works, only slower.
    let _ = set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    Ok(fd)
}

/// Starts a non-blocking connect. `Ok((fd, true))` when it completed at once.
pub fn connect(addr: &SocketAddr) -> Result<(RawFd, bool)> {
    let fd = new_socket(addr)?;
    let _ = set_int_opt(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    let (storage, len) = sockaddr_from(addr);
    // SAFETY: storage holds a valid sockaddr of length len.
    let ret = unsafe { libc::connect(fd, &storage as *const _ as *const libc::sockaddr, len) };
    if ret == 0 {
        return Ok((fd, true));
    }
    // EINPROGRESS has no C10K_E* code of its own: compare the raw errno.
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EINPROGRESS) {
        return Ok((fd, false));
    }
    close_fd(fd);
    Err(crate::error::from_io(&err))
}

/// The pending error of a socket (0 when none), as a `C10K_E*` code.
pub fn take_error(fd: RawFd) -> i32 {
    let mut value: libc::c_int = 0;
    let mut len = mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: value and len are valid for writing.
    let ret = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, &mut value as *mut _ as *mut libc::c_void, &mut len)
    };
    if ret < 0 {
        return last_os_error();
    }
    if value == 0 { 0 } else { crate::error::from_io(&std::io::Error::from_raw_os_error(value)) }
}

fn name_of(fd: RawFd, peer: bool) -> Result<SocketAddr> {
    // SAFETY: an all-zero sockaddr_storage is valid; the kernel fills it.
    let mut storage: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut len = mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    let ptr = &mut storage as *mut _ as *mut libc::sockaddr;
    // SAFETY: storage and len are valid for writing.
    check(unsafe { if peer { libc::getpeername(fd, ptr, &mut len) } else { libc::getsockname(fd, ptr, &mut len) } })?;
    sockaddr_to(&storage).ok_or(C10K_EINVAL)
}

/// The local address a socket is bound to.
pub fn local_addr(fd: RawFd) -> Result<SocketAddr> {
    name_of(fd, false)
}

/// The address of the connected peer.
pub fn peer_addr(fd: RawFd) -> Result<SocketAddr> {
    name_of(fd, true)
}

/// Whether bytes wait to be read (or the peer's FIN), without taking them.
pub fn has_input(fd: RawFd) -> bool {
    let mut byte = 0u8;
    // SAFETY: byte is valid for writing one byte.
    let n =
        unsafe { libc::recv(fd, &mut byte as *mut u8 as *mut libc::c_void, 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    n >= 0
}

/// Makes the next `close` send RST instead of FIN.
pub fn set_linger_zero(fd: RawFd) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: linger is valid for the call's duration.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const _ as *const libc::c_void,
            mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
}

/// Shuts down the write side (sends FIN).
pub fn shutdown_write(fd: RawFd) -> Result<()> {
    // SAFETY: plain system call.
    check(unsafe { libc::shutdown(fd, libc::SHUT_WR) }).map(drop)
}

/// Reads into `buf`; `Ok(0)` is end of stream.
pub fn read(fd: RawFd, buf: &mut [u8]) -> Result<usize> {
    // SAFETY: buf is valid for writing buf.len() bytes.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
    if n < 0 { Err(last_os_error()) } else { Ok(n as usize) }
}

/// Writes the buffers in one `sendmsg` with `MSG_NOSIGNAL`: a vectored write
/// that never raises SIGPIPE.
pub fn write_vectored(fd: RawFd, iov: &[libc::iovec]) -> Result<usize> {
    if let [one] = iov {
        // One buffer (a reply, a broadcast frame): plain send(2) skips
        // copying an iovec array into the kernel.
        // SAFETY: the iovec points at memory valid for reading.
        let n = unsafe { libc::send(fd, one.iov_base, one.iov_len, libc::MSG_NOSIGNAL) };
        return if n < 0 { Err(last_os_error()) } else { Ok(n as usize) };
    }
    // SAFETY: an all-zero msghdr is valid; we fill the iovec fields.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_iov = iov.as_ptr() as *mut libc::iovec;
    msg.msg_iovlen = iov.len() as _;
    // SAFETY: every iovec points at memory valid for reading.
    let n = unsafe { libc::sendmsg(fd, &msg, libc::MSG_NOSIGNAL) };
    if n < 0 { Err(last_os_error()) } else { Ok(n as usize) }
}

/// Sends up to `count` bytes of `file` from `offset` with `sendfile`.
pub fn send_file(sock: RawFd, file: RawFd, offset: u64, count: usize) -> Result<usize> {
    let mut off = offset as libc::off_t;
    // SAFETY: off is valid for the call's duration.
    let n = unsafe { libc::sendfile(sock, file, &mut off, count) };
    if n < 0 { Err(last_os_error()) } else { Ok(n as usize) }
}

/// Duplicates a descriptor with close-on-exec set.
pub fn dup_cloexec(fd: RawFd) -> Result<RawFd> {
    // SAFETY: plain fcntl call.
    check(unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) })
}
