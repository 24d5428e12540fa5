//! A connection's queue of pending output: copied bytes, buffers lent by
//! the host with a release callback, buffers shared by many connections
//! (a broadcast frame), and file ranges sent with `sendfile`.
//! Consecutive memory chunks leave in one vectored write.

use std::collections::VecDeque;
use std::mem;
use std::os::fd::RawFd;
use std::sync::Arc;

use super::spare;
use crate::error::{C10K_EAGAIN, C10K_EINTR, C10K_EIO, C10K_ENOMEM, Result, reserve};
use crate::net;

/// Small copied writes are appended to the previous copy up to this size, so
/// that many small responses become one buffer and one iovec.
const COALESCE_LIMIT: usize = 16 * 1024;
/// At most this many iovecs per `sendmsg` (well under IOV_MAX).
const MAX_IOVECS: usize = 64;

/// A buffer the queue holds without copying; dropping it releases it.
pub trait OwnedBuf {
    fn bytes(&self) -> &[u8];
}

impl OwnedBuf for Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl<T: OwnedBuf + ?Sized> OwnedBuf for Box<T> {
    fn bytes(&self) -> &[u8] {
        (**self).bytes()
    }
}

enum Chunk {
    Copied(Vec<u8>),
    Owned(Box<dyn OwnedBuf>),
    /// One buffer queued on many connections: serialised once, freed
    /// when the last of them has written it.
    Shared(Arc<[u8]>),
    /// An owned descriptor: closed once sent or dropped.
    File {
        fd: RawFd,
        offset: u64,
        remaining: u64,
    },
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if let Chunk::File { fd, .. } = self {
            net::close_fd(*fd);
        }
    }
}

impl Chunk {
    fn memory(&self) -> Option<&[u8]> {
        match self {
            Chunk::Copied(v) => Some(v),
            Chunk::Owned(b) => Some(b.bytes()),
            Chunk::Shared(b) => Some(b),
            Chunk::File { .. } => None,
        }
    }
}

/// What a flush achieved.
#[derive(Debug, PartialEq, Eq)]
pub enum Flushed {
    /// Everything queued was written.
    All,
    /// The socket is full; wait for writability.
    Blocked,
}

#[derive(Default)]
pub struct WriteQueue {
    chunks: VecDeque<Chunk>,
    /// Bytes already written from the front chunk.
    front_pos: usize,
    /// Bytes waiting, files included.
    pending: u64,
}

impl WriteQueue {
    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Bytes waiting to be written.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    /// Room for one more chunk, or `C10K_ENOMEM`.
    fn reserve_chunk(&mut self) -> Result<()> {
        self.chunks.try_reserve(1).map_err(|_| C10K_ENOMEM)
    }

    /// Queues a copy of `data`; `C10K_ENOMEM` (and nothing queued) when
    /// the memory for it cannot be had.
    pub fn push_copy(&mut self, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let front_started = self.chunks.len() == 1 && self.front_pos > 0;
        if let Some(Chunk::Copied(last)) = self.chunks.back_mut()
            && !front_started
            && last.len() + data.len() <= COALESCE_LIMIT
        {
            reserve(last, data.len())?;
            last.extend_from_slice(data);
        } else {
            self.reserve_chunk()?;
            let mut copy = spare::take(data.len())?;
            copy.extend_from_slice(data);
            self.chunks.push_back(Chunk::Copied(copy));
        }
        self.pending += data.len() as u64;
        Ok(())
    }

    /// Lets `fill` append bytes straight into the queue's last buffer (or a
    /// new one), so a response is serialised once, in place. `size` bytes
    /// are reserved first (`C10K_ENOMEM` if they cannot be): enough for
    /// what `fill` writes, so that it never grows the buffer itself.
    pub fn push_with(&mut self, size: usize, fill: impl FnOnce(&mut Vec<u8>)) -> Result<()> {
        let front_started = self.chunks.len() == 1 && self.front_pos > 0;
        let reuse =
            matches!(self.chunks.back(), Some(Chunk::Copied(last)) if !front_started && last.len() < COALESCE_LIMIT);
        if !reuse {
            self.reserve_chunk()?;
            // A new buffer has room for a few small responses.
            self.chunks.push_back(Chunk::Copied(spare::take(size.max(1024))?));
        }
        let Some(Chunk::Copied(last)) = self.chunks.back_mut() else { unreachable!() };
        let reserved = reserve(last, size);
        if reserved.is_ok() {
            let before = last.len();
            fill(last);
            self.pending += (last.len() - before) as u64;
        }
        if last.is_empty() {
            spare::give(mem::take(last));
            self.chunks.pop_back();
        }
        reserved
    }

    /// Queues a vector without copying it (small ones are appended to the
    /// previous copy instead, which is cheaper than another iovec).
    pub fn push_vec(&mut self, data: Vec<u8>) -> Result<()> {
        if data.len() <= 512 {
            return self.push_copy(&data);
        }
        self.reserve_chunk()?;
        self.pending += data.len() as u64;
        self.chunks.push_back(Chunk::Copied(data));
        Ok(())
    }

    /// Takes the buffer out of `buf` and queues it; it is dropped
    /// (released) once sent or when the queue is discarded. If this fails,
    /// `buf` keeps it, untouched.
    pub fn push_owned<B: OwnedBuf + 'static>(&mut self, buf: &mut Option<B>) -> Result<()> {
        let Some(b) = buf else { return Ok(()) };
        // An empty chunk would never be advanced past (a write of nothing
        // writes 0 bytes), and flush would loop on it forever: sent, as it were.
        if b.bytes().is_empty() {
            *buf = None;
            return Ok(());
        }
        self.reserve_chunk()?;
        let Some(b) = buf.take() else { return Ok(()) };
        self.pending += b.bytes().len() as u64;
        self.chunks.push_back(Chunk::Owned(Box::new(b)));
        Ok(())
    }

    /// Queues a reference to a buffer other queues share.
    pub fn push_shared(&mut self, buf: Arc<[u8]>) -> Result<()> {
        if buf.is_empty() {
            return Ok(());
        }
        self.reserve_chunk()?;
        self.pending += buf.len() as u64;
        self.chunks.push_back(Chunk::Shared(buf));
        Ok(())
    }

    /// Queues `len` bytes of the file `fd` from `offset`; the queue owns `fd`.
    /// (`fd` is closed at once if this fails).
    pub fn push_file(&mut self, fd: RawFd, offset: u64, len: u64) -> Result<()> {
        if len == 0 {
            net::close_fd(fd);
            return Ok(());
        }
        if let Err(e) = self.reserve_chunk() {
            net::close_fd(fd);
            return Err(e);
        }
        self.pending += len;
        self.chunks.push_back(Chunk::File { fd, offset, remaining: len });
        Ok(())
    }

    /// Drops everything queued, releasing owned buffers and files.
    pub fn discard(&mut self) {
        self.chunks.clear();
        self.front_pos = 0;
        self.pending = 0;
    }

    /// Writes as much as the socket takes. Returns the bytes written and
    /// whether the queue emptied; an error is a broken connection.
    pub fn flush(&mut self, sock: RawFd) -> Result<(u64, Flushed)> {
        let mut written = 0u64;
        while let Some(front) = self.chunks.front() {
            let step = match front {
                Chunk::File { .. } => self.send_file_step(sock),
                _ => self.write_memory(sock).inspect(|&n| {
                    self.advance(n);
                }),
            };
            match step {
                Ok(n) => {
                    written += n as u64;
                    self.pending -= n as u64;
                }
                Err(C10K_EAGAIN) => return Ok((written, Flushed::Blocked)),
                Err(C10K_EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok((written, Flushed::All))
    }

    /// One `sendfile` from the file at the front of the queue.
    fn send_file_step(&mut self, sock: RawFd) -> Result<usize> {
        let Some(Chunk::File { fd, offset, remaining }) = self.chunks.front_mut() else { return Ok(0) };
        let n = net::send_file(sock, *fd, *offset, (*remaining).min(1 << 30) as usize)?;
        if n == 0 {
            // The file is shorter than promised: the peer would wait forever
            // for the missing bytes, so the connection is broken.
            return Err(C10K_EIO);
        }
        *offset += n as u64;
        *remaining -= n as u64;
        if *remaining == 0 {
            self.chunks.pop_front();
        }
        Ok(n)
    }

    /// One vectored write of the memory chunks at the front of the queue.
    fn write_memory(&self, sock: RawFd) -> Result<usize> {
        // Usually one chunk: an array that fits costs less to clear.
        match self.chunks.len() {
            1 => self.write_iovecs::<1>(sock),
            2..=4 => self.write_iovecs::<4>(sock),
            _ => self.write_iovecs::<MAX_IOVECS>(sock),
        }
    }

    /// [`Self::write_memory`] with at most `N` iovecs.
    fn write_iovecs<const N: usize>(&self, sock: RawFd) -> Result<usize> {
        let mut iov: [libc::iovec; N] = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; N];
        let mut count = 0;
        for (i, chunk) in self.chunks.iter().take(N).enumerate() {
            let Some(bytes) = chunk.memory() else { break };
            let bytes = if i == 0 { &bytes[self.front_pos..] } else { bytes };
            iov[count] = libc::iovec { iov_base: bytes.as_ptr() as *mut libc::c_void, iov_len: bytes.len() };
            count += 1;
        }
        net::write_vectored(sock, &iov[..count])
    }

    /// Drops the memory chunks that `n` written bytes completed.
    fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.chunks.front() else { break };
            let left = front.memory().map_or(0, |b| b.len()) - self.front_pos;
            if n < left {
                self.front_pos += n;
                return;
            }
            n -= left;
            self.front_pos = 0;
            if let Some(Chunk::Copied(sent)) = self.chunks.front_mut() {
                spare::give(mem::take(sent));
            }
            self.chunks.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    fn read_all(s: &mut UnixStream) -> Vec<u8> {
        use std::io::Read;
        s.set_nonblocking(true).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    #[test]
    fn small_copies_coalesce_into_one_chunk() {
        let mut q = WriteQueue::default();
        for _ in 0..16 {
            q.push_copy(b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
        }
        assert_eq!(q.chunks.len(), 1);
        assert_eq!(q.pending(), 16 * 19);
    }

    #[test]
    fn flushes_memory_owned_and_file_in_order() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let file = tempfile_with(b"FILE-DATA");
        let mut q = WriteQueue::default();
        q.push_copy(b"one ").unwrap();
        q.push_owned(&mut Some(vec![b'x'; 600])).unwrap();
        q.push_file(net::dup_cloexec(file.as_raw_fd()).unwrap(), 5, 4).unwrap();
        q.push_copy(b" two").unwrap();
        let (n, state) = q.flush(a.as_raw_fd()).unwrap();
        assert_eq!(state, Flushed::All);
        assert_eq!(n, 4 + 600 + 4 + 4);
        assert!(q.is_empty());
        let got = read_all(&mut b);
        assert_eq!(&got[..4], b"one ");
        assert_eq!(&got[604..], b"DATA two");
    }

    #[test]
    fn partial_writes_resume_where_they_stopped() {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut q = WriteQueue::default();
        let big: Vec<u8> = (0..4_000_000u32).map(|i| i as u8).collect();
        q.push_vec(big.clone()).unwrap();
        let mut got = Vec::new();
        loop {
            let (_, state) = q.flush(a.as_raw_fd()).unwrap();
            got.extend(read_all(&mut b));
            if state == Flushed::All {
                break;
            }
        }
        got.extend(read_all(&mut b));
        assert_eq!(got, big);
        assert_eq!(q.pending(), 0);
    }

    #[test]
    fn a_shared_buffer_is_written_by_every_queue_and_freed_by_the_last() {
        let frame: Arc<[u8]> = Arc::from(&b"broadcast"[..]);
        let pairs: Vec<_> = (0..3).map(|_| UnixStream::pair().unwrap()).collect();
        let mut queues: Vec<WriteQueue> = (0..3).map(|_| WriteQueue::default()).collect();
        for q in &mut queues {
            q.push_copy(b"<").unwrap();
            q.push_shared(frame.clone()).unwrap();
            q.push_copy(b">").unwrap();
        }
        assert_eq!(Arc::strong_count(&frame), 4);
        for (q, (a, b)) in queues.iter_mut().zip(pairs) {
            assert_eq!(q.flush(a.as_raw_fd()).unwrap(), (11, Flushed::All));
            let mut b = b;
            assert_eq!(read_all(&mut b), b"<broadcast>");
        }
        assert_eq!(Arc::strong_count(&frame), 1);
    }

    fn tempfile_with(data: &[u8]) -> std::fs::File {
        use std::io::{Seek, Write};
        let path = std::env::temp_dir().join(format!("c10k-wq-{}", std::process::id()));
        let mut f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        f.write_all(data).unwrap();
        f.rewind().unwrap();
        f
    }
}
