//! The PROXY protocol stage of an accepted connection: until its header is
//! read, the connection's handler is this stage. The host's handler opens
//! only after that, so from its first callback the connection's peer
//! address is the client the balancer named.

use super::ConnHandler;
use crate::net::ProxyOptions;
use crate::net::proxy::{Parse, ProxyHeader, parse};
use crate::reactor::{ConnId, Loop};

/// The handler of a connection until its header is read; then it installs
/// the host's handler, opens it and hands it the bytes that followed.
pub(crate) struct HeaderStage {
    inner: Option<Box<dyn ConnHandler>>,
    /// Header bytes split over several reads; empty in the common case.
    buf: Vec<u8>,
    options: ProxyOptions,
    /// The listener's idle timeout, restored once the header is in.
    idle_timeout_ms: u32,
}

impl HeaderStage {
    pub fn new(inner: Box<dyn ConnHandler>, options: ProxyOptions, idle_timeout_ms: u32) -> HeaderStage {
        HeaderStage { inner: Some(inner), buf: Vec::new(), options, idle_timeout_ms }
    }

    fn open_inner(&mut self, lp: &Loop, conn: ConnId, header: ProxyHeader, rest: &[u8]) {
        let _ = lp.conn_set_proxy_header(conn, header);
        let _ = lp.conn_set_timeout(conn, self.idle_timeout_ms, true);
        let Some(inner) = self.inner.take() else { return };
        if lp.conn_set_handler(conn, inner).is_err() {
            return;
        }
        // The host's handler is installed: these calls reach it.
        let (slot, generation) = (conn.slot(), conn.generation());
        lp.call_handler(slot, generation, |h, lp, id| h.on_open(lp, id));
        if !rest.is_empty() {
            lp.call_handler(slot, generation, |h, lp, id| h.on_data(lp, id, rest));
        }
    }
}

impl ConnHandler for HeaderStage {
    fn on_open(&mut self, lp: &Loop, conn: ConnId) {
        let _ = lp.conn_set_timeout(conn, self.options.header_timeout_ms, false);
    }

    fn on_data(&mut self, lp: &Loop, conn: ConnId, data: &[u8]) {
        let mut buf = std::mem::take(&mut self.buf);
        let input = if buf.is_empty() {
            data
        } else {
            buf.extend_from_slice(data);
            &buf[..]
        };
        match parse(input, self.options.max_header_bytes as usize) {
            Ok(Parse::Complete(header, used)) => self.open_inner(lp, conn, header, &input[used..]),
            Ok(Parse::Incomplete) => {
                if buf.is_empty() {
                    buf.extend_from_slice(data);
                }
                self.buf = buf;
            }
            // Not a balancer, or a broken one: nothing to answer in a
            // protocol we do not know yet.
            Err(_) => drop(lp.conn_abort(conn)),
        }
    }

    fn on_timeout(&mut self, _lp: &Loop, _conn: ConnId) -> bool {
        false
    }

    fn on_shutdown(&mut self, lp: &Loop, conn: ConnId) {
        let _ = lp.conn_abort(conn);
    }
    // on_close: the host's handler never opened, so it hears nothing.
}
