//! The PROXY protocol on a listener: who may send a header. The stage an
//! accepted connection goes through until its header is read is
//! `conn/proxy_stage.rs`.

use std::net::IpAddr;

use crate::error::{C10K_EINVAL, Result};

/// How many networks a listener's trusted list holds.
pub const MAX_TRUSTED_NETWORKS: usize = 16;

/// What a listener does with a connection from outside its trusted networks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Untrusted {
    /// Reset it at once: only the balancer may connect.
    #[default]
    Refuse,
    /// Serve it as a direct client: its socket address stands, and a
    /// header it sends is not read as one (it is the protocol's data).
    Plain,
}

/// PROXY protocol settings of a listener.
#[derive(Clone, Copy, Debug)]
pub struct ProxyOptions {
    /// Expect a header (v1 or v2) before the client's bytes.
    pub enabled: bool,
    /// Sources whose header is believed.
    pub trusted: Networks,
    pub untrusted: Untrusted,
    /// Time allowed for the whole header; then the connection is reset.
    pub header_timeout_ms: u32,
    /// Longest v2 header accepted (v1 has its own cap of 107 bytes).
    pub max_header_bytes: u32,
}

impl Default for ProxyOptions {
    fn default() -> Self {
        ProxyOptions {
            enabled: false,
            trusted: Networks::loopback(),
            untrusted: Untrusted::Refuse,
            header_timeout_ms: 5_000,
            max_header_bytes: 4096,
        }
    }
}

/// A short list of networks (address and prefix length), kept inline so
/// that listener options stay plain data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Networks {
    nets: [(IpAddr, u8); MAX_TRUSTED_NETWORKS],
    len: usize,
}

impl Networks {
    /// 127.0.0.0/8 and ::1: a balancer on the same host.
    pub fn loopback() -> Networks {
        Networks::parse("127.0.0.0/8, ::1/128").unwrap()
    }

    /// Parses `"10.0.0.0/8, 192.168.1.7, ::1/128"`: networks separated by
    /// commas or spaces; a bare address is a network of one. Empty text
    /// trusts nobody; `"0.0.0.0/0, ::/0"` trusts everyone.
    pub fn parse(text: &str) -> Result<Networks> {
        let mut out = Networks { nets: [(IpAddr::from([0u8; 4]), 0); MAX_TRUSTED_NETWORKS], len: 0 };
        for item in text.split([',', ' ', '\t', '\n']).filter(|s| !s.is_empty()) {
            let (ip, prefix) = match item.split_once('/') {
                Some((ip, prefix)) => (ip, Some(prefix)),
                None => (item, None),
            };
            let ip: IpAddr = ip.parse().map_err(|_| C10K_EINVAL)?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => max,
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    p.parse().map_err(|_| C10K_EINVAL)?
                }
                Some(_) => return Err(C10K_EINVAL),
            };
            if prefix > max || out.len == MAX_TRUSTED_NETWORKS {
                return Err(C10K_EINVAL);
            }
            out.nets[out.len] = (ip, prefix);
            out.len += 1;
        }
        Ok(out)
    }

    /// Whether `ip` is in one of the networks; an IPv4-mapped IPv6
    /// address (a dual-stack listener's) counts as its IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets[..self.len].iter().any(|&(net, prefix)| match (net, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(&net.octets(), &ip.octets(), prefix),
            (IpAddr::V6(net), IpAddr::V6(ip)) => same_prefix(&net.octets(), &ip.octets(), prefix),
            _ => false,
        })
    }
}

fn same_prefix(a: &[u8], b: &[u8], prefix: u8) -> bool {
    let bits = prefix as usize;
    let whole = bits / 8;
    if a[..whole] != b[..whole] {
        return false;
    }
    let rest = bits % 8;
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// How an accepted connection proceeds.
pub(crate) enum Admission {
    /// Read its header first.
    Header,
    /// Serve it as it is.
    Plain,
    Refuse,
}

/// Decides for a connection from `peer` (None: its address is unknown).
pub(crate) fn admit(options: &ProxyOptions, peer: Option<IpAddr>) -> Admission {
    if !options.enabled {
        return Admission::Plain;
    }
    match (peer.is_some_and(|ip| options.trusted.contains(ip)), options.untrusted) {
        (true, _) => Admission::Header,
        (false, Untrusted::Plain) => Admission::Plain,
        (false, Untrusted::Refuse) => Admission::Refuse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_match_by_prefix() {
        let n = Networks::parse("10.0.0.0/8, 192.168.1.7 fd00::/8,::1/128").unwrap();
        for yes in ["10.1.2.3", "192.168.1.7", "fd12::1", "::1", "::ffff:10.9.9.9"] {
            assert!(n.contains(ip(yes)), "{yes}");
        }
        for no in ["11.0.0.1", "192.168.1.8", "fe00::1", "::2", "127.0.0.1"] {
            assert!(!n.contains(ip(no)), "{no}");
        }
        let odd = Networks::parse("127.0.0.4/30").unwrap();
        assert!(odd.contains(ip("127.0.0.7")) && !odd.contains(ip("127.0.0.8")));
        assert!(Networks::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        assert!(!Networks::parse("").unwrap().contains(ip("127.0.0.1")));
        assert!(Networks::loopback().contains(ip("127.0.0.5")) && Networks::loopback().contains(ip("::1")));
    }

    #[test]
    fn networks_refuse_bad_text() {
        for bad in ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/+8", "example.org", "1.2.3.4/8/8"] {
            assert_eq!(Networks::parse(bad), Err(C10K_EINVAL), "{bad}");
        }
        let many = vec!["127.0.0.1"; MAX_TRUSTED_NETWORKS + 1].join(",");
        assert_eq!(Networks::parse(&many), Err(C10K_EINVAL));
    }

    #[test]
    fn admission_follows_the_options() {
        let on = ProxyOptions { enabled: true, ..ProxyOptions::default() };
        assert!(matches!(admit(&on, Some(ip("127.0.0.1"))), Admission::Header));
        assert!(matches!(admit(&on, Some(ip("192.0.2.1"))), Admission::Refuse));
        assert!(matches!(admit(&on, None), Admission::Refuse));
        let plain = ProxyOptions { untrusted: Untrusted::Plain, ..on };
        assert!(matches!(admit(&plain, Some(ip("192.0.2.1"))), Admission::Plain));
        assert!(matches!(admit(&ProxyOptions::default(), Some(ip("127.0.0.1"))), Admission::Plain));
    }
}
