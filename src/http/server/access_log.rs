//! The access log: one Common Log Format line per response, appended to a
//! buffer and written to the log descriptor by a timer, so that no request
//! waits for a `write` to a file.

use std::cell::RefCell;
use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::time::SystemTime;

use crate::http::unix_secs;
use crate::reactor::Loop;

const FLUSH_EVERY_MS: u64 = 200;
/// Past this many buffered bytes the buffer is written at once.
const FLUSH_AT: usize = 64 * 1024;

pub(crate) struct AccessLog {
    fd: RawFd,
    buf: Rc<RefCell<Vec<u8>>>,
}

impl AccessLog {
    /// Starts the timer that writes the buffer to `fd` (borrowed: the host keeps it open).
    pub fn start(lp: &Loop, fd: RawFd) -> AccessLog {
        let buf: Rc<RefCell<Vec<u8>>> = Rc::default();
        let timer_buf = Rc::downgrade(&buf);
        lp.timer_start(
            FLUSH_EVERY_MS,
            FLUSH_EVERY_MS,
            Box::new(move |lp, timer| match timer_buf.upgrade() {
                Some(buf) => write_out(fd, &mut buf.borrow_mut()),
                // The listener is gone: its log with it.
                None => drop(lp.timer_stop(timer)),
            }),
        );
        AccessLog { fd, buf }
    }

    /// Appends `host - - [date] "request line" status bytes`.
    pub fn record(&self, peer: Option<SocketAddr>, request_line: &[u8], status: u16, bytes: u64) {
        let mut buf = self.buf.borrow_mut();
        let host = peer.map_or_else(|| "-".to_string(), |p| p.ip().to_string());
        let _ = write!(buf, "{host} - - [{}] \"", clf_date(unix_secs(SystemTime::now())));
        buf.extend(request_line.iter().map(|&b| if b == b'"' || !(0x20..0x7f).contains(&b) { b'?' } else { b }));
        let _ = writeln!(buf, "\" {status} {bytes}");
        if buf.len() >= FLUSH_AT {
            write_out(self.fd, &mut buf);
        }
    }
}

impl Drop for AccessLog {
    fn drop(&mut self) {
        write_out(self.fd, &mut self.buf.borrow_mut());
    }
}

fn write_out(fd: RawFd, buf: &mut Vec<u8>) {
    let mut written = 0;
    while written < buf.len() {
        // SAFETY: the slice is valid; fd is the host's open log descriptor.
        let n = unsafe { libc::write(fd, buf[written..].as_ptr() as *const libc::c_void, buf.len() - written) };
        if n <= 0 {
            break; // a broken log must not take the server down
        }
        written += n as usize;
    }
    buf.clear();
}

/// `10/Oct/2000:13:55:36 +0000`: the CLF timestamp, in UTC.
fn clf_date(secs: u64) -> String {
    let imf = crate::http::format_http_date(secs); // "Sun, 06 Nov 1994 08:49:37 GMT"
    let s = std::str::from_utf8(&imf).unwrap_or("");
    format!("{}/{}/{}:{} +0000", &s[5..7], &s[8..11], &s[12..16], &s[17..25])
}

#[cfg(test)]
mod tests {
    #[test]
    fn clf_date_matches_the_common_log_format() {
        assert_eq!(super::clf_date(784111777), "06/Nov/1994:08:49:37 +0000");
    }
}
