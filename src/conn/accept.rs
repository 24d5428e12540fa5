//! Where sockets become connections: the ones a listener accepts (handed
//! over by `net` through its `Intake`) and the ones the loop connects.

use std::net::SocketAddr;
use std::os::fd::RawFd;

use super::proxy_stage::HeaderStage;
use super::{Conn, ConnHandler};
use crate::error::Result;
use crate::net::{self, Accepted, Intake, ListenOptions};
use crate::reactor::{ConnId, Handle, ListenerId, Loop};

/// Makes the handler of each accepted connection.
pub trait Acceptor {
    /// Returns the handler for `conn` and its initial user data; `on_open` follows.
    fn accept(&mut self, lp: &Loop, conn: ConnId) -> (Box<dyn ConnHandler>, usize);
}

/// A listener's intake: each socket it accepts becomes a connection with
/// the handler the acceptor makes.
struct ConnIntake(Box<dyn Acceptor>);

impl Intake for ConnIntake {
    fn take(&mut self, lp: &Loop, socket: Accepted) -> Option<(Handle, fn(&Loop, Handle))> {
        let Accepted { fd, listener, header, idle_timeout_ms } = socket;
        let id = lp.insert_conn(fd, Conn::new(fd, None, 0, Some(listener))).ok()?;
        let (mut handler, user_data) = self.0.accept(lp, id);
        if let Some(proxy) = header {
            handler = Box::new(HeaderStage::new(handler, proxy, idle_timeout_ms));
        }
        let _ = lp.conn_set_user_data(id, user_data);
        let _ = lp.conn_set_handler(id, handler);
        if idle_timeout_ms != 0 {
            let _ = lp.conn_set_timeout(id, idle_timeout_ms, true);
        }
        Some((id, open))
    }
}

fn open(lp: &Loop, id: ConnId) {
    lp.call_handler(id.slot(), id.generation(), |h, lp, id| h.on_open(lp, id));
}

impl Loop {
    /// Listens on a numeric address (`"127.0.0.1:8080"`, `"[::1]:0"`).
    pub fn listen(
        &self,
        addr: &SocketAddr,
        options: &ListenOptions,
        acceptor: Box<dyn Acceptor>,
    ) -> Result<ListenerId> {
        self.listen_with(addr, options, Box::new(ConnIntake(acceptor)))
    }

    /// Adopts a descriptor that is already listening (inherited, or from
    /// socket activation): the loop owns it from here on. On failure it
    /// stays the caller's (`C10K_EBADF` if it is not open, `C10K_EINVAL` if
    /// it is no listening socket).
    pub fn listen_fd(&self, fd: RawFd, options: &ListenOptions, acceptor: Box<dyn Acceptor>) -> Result<ListenerId> {
        self.listen_fd_with(fd, options, Box::new(ConnIntake(acceptor)))
    }

    /// Starts an outgoing connection. `on_open` follows when it is
    /// established; if it fails, only `on_close` with the error follows.
    pub fn connect(&self, addr: &SocketAddr, handler: Box<dyn ConnHandler>, user_data: usize) -> Result<ConnId> {
        let (fd, _) = net::connect(addr)?;
        let mut conn = Conn::new(fd, Some(handler), user_data, None);
        // Even an immediate success reports through the poller, so that
        // `on_open` never runs inside `connect`.
        conn.flags.connecting = true;
        self.insert_conn(fd, conn)
    }
}
