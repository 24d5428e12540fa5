//! Spare output buffers, kept per thread: a buffer whose bytes were sent
//! serves the next response instead of going back to the allocator. A loop
//! turn that answers many connections frees and then allocates as many
//! buffers at once, more than malloc's own per-thread cache keeps (and a
//! 1 KiB buffer is past its small bins), so each cost a slow-path malloc and
//! free: about 300 instructions per response.

use std::cell::RefCell;

use crate::error::{Result, reserve};

/// Buffers kept per thread, at most (a loop runs on one thread).
const MAX_SPARES: usize = 64;
/// Larger buffers go back to the allocator: kept ones stay small.
const MAX_KEPT_CAPACITY: usize = 4096;

thread_local! {
    static SPARES: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// An empty buffer with room for `size` bytes, or `C10K_ENOMEM`.
pub fn take(size: usize) -> Result<Vec<u8>> {
    let spare = SPARES.try_with(|s| s.borrow_mut().pop()).ok().flatten();
    let mut buf = spare.unwrap_or_default();
    reserve(&mut buf, size)?;
    Ok(buf)
}

/// Keeps `buf` for [`take`], unless it is large or enough are kept.
pub fn give(mut buf: Vec<u8>) {
    if buf.capacity() == 0 || buf.capacity() > MAX_KEPT_CAPACITY {
        return;
    }
    buf.clear();
    // During the thread's exit the pool may be gone: `buf` is then freed.
    let _ = SPARES.try_with(|s| {
        let mut spares = s.borrow_mut();
        if spares.len() < MAX_SPARES && spares.try_reserve(1).is_ok() {
            spares.push(buf);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_buffer_given_back_is_taken_again_empty() {
        let mut buf = take(100).unwrap();
        buf.extend_from_slice(b"sent");
        let at = buf.as_ptr();
        give(buf);
        let again = take(10).unwrap();
        assert!(again.is_empty() && again.capacity() >= 100);
        assert_eq!(again.as_ptr(), at);
    }

    #[test]
    fn large_buffers_are_not_kept() {
        let big = take(MAX_KEPT_CAPACITY + 1).unwrap();
        let at = big.as_ptr();
        give(big);
        let next = take(1).unwrap();
        assert_ne!(next.as_ptr(), at);
        assert!(next.capacity() < MAX_KEPT_CAPACITY + 1);
    }
}
