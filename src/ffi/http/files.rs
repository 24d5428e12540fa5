//! Opening the files a response sends.

use std::ffi::{CStr, OsStr};
use std::fs::OpenOptions;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;

use crate::error::*;

/// Opens a regular file for reading and returns it with its length.
///
/// `O_NONBLOCK`, so that opening a FIFO (which waits for a writer) or a
/// device cannot stall the loop; anything but a regular file is then
/// refused before a byte is read.
pub(super) fn open_regular(path: &CStr) -> Result<(OwnedFd, u64)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(OsStr::from_bytes(path.to_bytes()))
        .map_err(|e| from_io(&e))?;
    let meta = file.metadata().map_err(|e| from_io(&e))?;
    if meta.is_dir() {
        return Err(C10K_EISDIR);
    }
    if !meta.is_file() {
        return Err(C10K_EACCES);
    }
    Ok((file.into(), meta.len()))
}

/// Duplicates a host's descriptor so that the library owns its copy.
pub(super) fn dup_owned(fd: i32) -> Result<OwnedFd> {
    // SAFETY: dup_cloexec returns a new descriptor only we hold.
    crate::net::dup_cloexec(fd).map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
}
