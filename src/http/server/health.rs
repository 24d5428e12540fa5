//! A health check path the library answers itself, without the host's
//! handler: 200 while the server serves, 503 once it drains (a graceful
//! stop began), so that a load balancer's checks take the process out of
//! rotation before its connections close.

use super::Request;
use super::reply::Body;
use crate::error::{C10K_EINVAL, Result};

/// The longest health check path.
pub const MAX_HEALTH_PATH: usize = 128;

/// A request path, kept inline so that HTTP settings stay plain data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HealthPath {
    bytes: [u8; MAX_HEALTH_PATH],
    len: usize,
}

impl HealthPath {
    /// An origin-form path: `/` then visible ASCII, no query.
    pub fn new(path: &[u8]) -> Result<HealthPath> {
        let visible = path.iter().all(|&b| b.is_ascii_graphic() && b != b'?' && b != b'#');
        if !path.starts_with(b"/") || !visible || path.len() > MAX_HEALTH_PATH {
            return Err(C10K_EINVAL);
        }
        let mut bytes = [0; MAX_HEALTH_PATH];
        bytes[..path.len()].copy_from_slice(path);
        Ok(HealthPath { bytes, len: path.len() })
    }

    /// Whether a request's path (not decoded, without its query) is this one.
    pub fn matches(&self, path: &[u8]) -> bool {
        path == &self.bytes[..self.len]
    }
}

/// Answers a health check: any method, since balancers differ (HAProxy's
/// plain `option httpchk` sends OPTIONS).
pub(crate) fn answer(req: &mut Request<'_>, draining: bool) {
    let (status, body): (u16, &[u8]) = if draining { (503, b"draining\n") } else { (200, b"ok\n") };
    let headers: [(&[u8], &[u8]); 2] = [(b"Content-Type", b"text/plain"), (b"Cache-Control", b"no-store")];
    let _ = req.respond(status, &headers, Body::Bytes(body));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_match_exactly() {
        let p = HealthPath::new(b"/healthz").unwrap();
        assert!(p.matches(b"/healthz"));
        assert!(!p.matches(b"/healthz/") && !p.matches(b"/health") && !p.matches(b"/HEALTHZ"));
        for bad in [&b"healthz"[..], b"/a b", b"/a?b", b"", b"/\x7f"] {
            assert_eq!(HealthPath::new(bad), Err(C10K_EINVAL));
        }
        assert!(HealthPath::new(&[b'/'; MAX_HEALTH_PATH]).is_ok());
        assert!(HealthPath::new(&[b'/'; MAX_HEALTH_PATH + 1]).is_err());
    }
}
