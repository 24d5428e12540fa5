//! Connections: per-connection state, the handler a connection reports to,
//! its write queue with high and low water marks, half-close, and timeouts.
//!
//! A connection that waits holds no buffer: reads go through the loop's
//! shared buffer and an empty write queue allocates nothing.

mod accept;
mod ops;
mod proxy_stage;
mod spare;
mod write_queue;

use std::net::SocketAddr;
use std::os::fd::RawFd;

use crate::net::ProxyHeader;
use crate::reactor::{ConnId, Loop};
pub use accept::Acceptor;
pub use ops::OutputProgress;
pub use write_queue::OwnedBuf;
pub(crate) use write_queue::{Flushed, WriteQueue};

/// What a connection reports to. Every method runs on the loop thread and
/// may call back into the loop.
pub trait ConnHandler {
    /// The connection is established (accepted, or an outgoing connect succeeded).
    fn on_open(&mut self, _lp: &Loop, _conn: ConnId) {}
    /// Bytes arrived; `data` is borrowed for the call.
    fn on_data(&mut self, lp: &Loop, conn: ConnId, data: &[u8]);
    /// The peer shut down its write side. Return true to keep the connection
    /// (half-open) and close it later; false closes it once output is flushed.
    fn on_end(&mut self, _lp: &Loop, _conn: ConnId) -> bool {
        false
    }
    /// The write queue fell to the low-water mark after having passed the high one.
    fn on_drain(&mut self, _lp: &Loop, _conn: ConnId) {}
    /// The connection's timeout expired. Return true when the handler dealt
    /// with it (for example wrote a 408 and closed); false aborts the
    /// connection with `C10K_ETIMEDOUT`.
    fn on_timeout(&mut self, _lp: &Loop, _conn: ConnId) -> bool {
        false
    }
    /// Someone called [`Loop::conn_notify`]: state the handler shares with
    /// other code (a deferred reply) changed. Runs at the end of the turn,
    /// never inside another of this handler's methods.
    fn on_notify(&mut self, _lp: &Loop, _conn: ConnId) {}
    /// The server is shutting down gracefully: finish what is in flight,
    /// then close. The default closes once queued output is written.
    fn on_shutdown(&mut self, lp: &Loop, conn: ConnId) {
        let _ = lp.conn_close(conn);
    }
    /// Last call: the connection is gone. `reason` is 0 for a clean close or
    /// a negative `C10K_E*` code; `user_data` is the connection's user data,
    /// handed back since the handle no longer answers.
    fn on_close(&mut self, _lp: &Loop, _conn: ConnId, _reason: i32, _user_data: usize) {}
}

/// Default high and low water marks of the write queue.
pub const DEFAULT_HIGH_WATER: u32 = 1024 * 1024;
pub const DEFAULT_LOW_WATER: u32 = 256 * 1024;

pub(crate) struct Conn {
    pub fd: RawFd,
    /// `None` while one of its methods runs.
    pub handler: Option<Box<dyn ConnHandler>>,
    pub user_data: usize,
    pub wq: WriteQueue,
    /// The listener that accepted it (slot, generation), for its connection count.
    pub listener: Option<(u32, u32)>,
    pub timeout: Timeout,
    pub low_water: u32,
    pub high_water: u32,
    pub flags: Flags,
    /// What a PROXY protocol header said of the client; boxed, since few
    /// connections have one and every connection pays for the field.
    pub proxy: Option<Box<ProxyHeader>>,
    /// Bytes written to the socket so far (for minimum data rates).
    pub bytes_out: u64,
    /// The socket's peer, once asked: a host that reads it for every
    /// request (a WSGI environ) makes no system call after the first.
    /// Boxed: an idle connection pays 8 bytes for it, not 32.
    pub peer: Option<Box<SocketAddr>>,
}

/// When a connection times out.
#[derive(Default)]
pub(crate) struct Timeout {
    /// 0: no timeout.
    pub ms: u32,
    /// Whether reads and writes push the deadline back (idle timeout) or
    /// not (a deadline for the whole request head, against slowloris).
    pub reset_on_io: bool,
    pub deadline: u64,
    /// Deadline of this connection's entry in the timer heap; 0 when none.
    pub armed: u64,
}

#[derive(Default)]
pub(crate) struct Flags {
    pub connecting: bool,
    pub read_paused: bool,
    pub eof: bool,
    /// The socket is full: waiting for writability.
    pub want_write: bool,
    pub close_when_flushed: bool,
    pub shutdown_when_flushed: bool,
    pub write_shut: bool,
    pub above_high: bool,
    pub dirty: bool,
    /// `on_notify` is due at the end of the turn.
    pub notify: bool,
    /// Queued for freeing at the end of the turn.
    pub closing: bool,
    /// Interest registered with the poller; neither means not in the poller.
    pub reg_read: bool,
    pub reg_write: bool,
}

impl Conn {
    pub fn new(
        fd: RawFd,
        handler: Option<Box<dyn ConnHandler>>,
        user_data: usize,
        listener: Option<(u32, u32)>,
    ) -> Conn {
        Conn {
            fd,
            handler,
            user_data,
            wq: WriteQueue::default(),
            listener,
            timeout: Timeout::default(),
            low_water: DEFAULT_LOW_WATER,
            high_water: DEFAULT_HIGH_WATER,
            flags: Flags::default(),
            proxy: None,
            bytes_out: 0,
            peer: None,
        }
    }

    fn wants_read(&self) -> bool {
        let f = &self.flags;
        !(f.connecting || f.read_paused || f.eof || f.close_when_flushed || f.closing)
    }

    fn wants_write(&self) -> bool {
        self.flags.connecting || self.flags.want_write
    }

    /// Pushes the idle deadline back after I/O.
    fn touch(&mut self, now_ms: u64) {
        if self.timeout.ms != 0 && self.timeout.reset_on_io {
            self.timeout.deadline = now_ms + self.timeout.ms as u64;
        }
    }
}
