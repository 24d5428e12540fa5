//! The PROXY protocol, versions 1 (text) and 2 (binary), as HAProxy
//! specifies it (`doc/proxy-protocol.txt`): the header a load balancer
//! sends before the client's bytes to say who the client is.
//!
//! The parser is strict and incremental: it answers [`Parse::Incomplete`]
//! only while what it has is a valid beginning of a header, so a client
//! that is not a balancer is refused at its first wrong byte, and it never
//! consumes a byte past the header (what follows belongs to the protocol
//! above). A header longer than the cap is refused before it is read.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The longest version 1 header, CRLF included (the spec's figure).
pub const V1_MAX_BYTES: usize = 107;
/// The version 2 signature, the first 12 bytes of every v2 header.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Length of the fixed part of a version 2 header.
const V2_FIXED: usize = 16;
const V1_PREFIX: &[u8] = b"PROXY ";

const TLV_AUTHORITY: u8 = 0x02;
const TLV_CRC32C: u8 = 0x03;
const TLV_SSL: u8 = 0x20;
const SSL_SUB_VERSION: u8 = 0x21;
const SSL_SUB_CN: u8 = 0x22;
/// `PP2_CLIENT_SSL`: the client connected over TLS.
const CLIENT_SSL: u8 = 0x01;

/// What a complete header said.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyHeader {
    /// 1 or 2.
    pub version: u8,
    /// The client's connection as the balancer saw it: (source,
    /// destination). `None` when the header gives no address: v1 UNKNOWN,
    /// v2 LOCAL (the balancer's own health check), v2 UNSPEC or UNIX
    /// families, datagram transports. The socket's own addresses stand then.
    pub addrs: Option<(SocketAddr, SocketAddr)>,
    /// v2 LOCAL: the balancer speaks for itself, not for a client.
    pub local: bool,
    /// `PP2_TYPE_AUTHORITY`: the host name the client asked for (TLS SNI).
    pub authority: Option<Box<[u8]>>,
    /// `PP2_TYPE_SSL`, when the client came over TLS.
    pub tls: Option<TlsInfo>,
}

/// The TLS part of a v2 header (`PP2_TYPE_SSL` and its sub-TLVs).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// The `PP2_CLIENT_*` bits.
    pub client: u8,
    /// The client presented a certificate and it verified (`verify == 0`
    /// with a certificate bit set).
    pub verified_cert: bool,
    /// `PP2_SUBTYPE_SSL_VERSION`, e.g. `TLSv1.3`.
    pub version: Option<Box<[u8]>>,
    /// `PP2_SUBTYPE_SSL_CN`: the client certificate's common name.
    pub cn: Option<Box<[u8]>>,
}

/// The outcome of looking at the bytes received so far.
#[derive(Debug, PartialEq, Eq)]
pub enum Parse {
    /// A valid beginning: wait for more.
    Incomplete,
    /// The header, and how many bytes it took.
    Complete(ProxyHeader, usize),
}

/// Why a header was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyError(pub &'static str);

type Outcome = Result<Parse, ProxyError>;

/// Parses the start of `input`. `max_bytes` caps a v2 header (fixed part,
/// addresses and TLVs); v1 has its own cap of [`V1_MAX_BYTES`].
pub fn parse(input: &[u8], max_bytes: usize) -> Outcome {
    if input.is_empty() {
        return Ok(Parse::Incomplete);
    }
    if input[0] == V2_SIGNATURE[0] { parse_v2(input, max_bytes) } else { parse_v1(input) }
}

fn fail<T>(why: &'static str) -> Result<T, ProxyError> {
    Err(ProxyError(why))
}

/// Whether `input` and `prefix` agree on their common length.
fn agrees(input: &[u8], prefix: &[u8]) -> bool {
    let n = input.len().min(prefix.len());
    input[..n] == prefix[..n]
}

fn parse_v1(input: &[u8]) -> Outcome {
    if !agrees(input, V1_PREFIX) {
        return fail("not a PROXY header");
    }
    let window = &input[..input.len().min(V1_MAX_BYTES)];
    let Some(lf) = window.iter().position(|&b| b == b'\n') else {
        if window.len() == V1_MAX_BYTES {
            return fail("v1 header longer than 107 bytes");
        }
        // A CR may only be the last byte so far (the CRLF's first half).
        if window[..window.len() - 1].contains(&b'\r') {
            return fail("v1 header with a bare CR");
        }
        return Ok(Parse::Incomplete);
    };
    if lf < V1_PREFIX.len() || window[lf - 1] != b'\r' {
        return fail("v1 header not ended by CRLF");
    }
    let line = &window[V1_PREFIX.len()..lf - 1];
    let header = v1_fields(line)?;
    Ok(Parse::Complete(header, lf + 1))
}

/// `TCP4 SRC DST SPORT DPORT`, `TCP6 ...`, or `UNKNOWN` and anything.
fn v1_fields(line: &[u8]) -> Result<ProxyHeader, ProxyError> {
    if line.contains(&b'\r') {
        return fail("v1 header with a bare CR");
    }
    if line == b"UNKNOWN" || line.starts_with(b"UNKNOWN ") {
        // The spec: a receiver ignores whatever follows UNKNOWN.
        return Ok(ProxyHeader { version: 1, ..ProxyHeader::default() });
    }
    let text = std::str::from_utf8(line).map_err(|_| ProxyError("v1 header is not ASCII"))?;
    let fields: Vec<&str> = text.split(' ').collect();
    let [proto, src, dst, sport, dport] = fields[..] else { return fail("v1 header needs five fields") };
    let (src, dst): (IpAddr, IpAddr) = match proto {
        "TCP4" => (v1_ip::<Ipv4Addr>(src)?.into(), v1_ip::<Ipv4Addr>(dst)?.into()),
        "TCP6" => (v1_ip::<Ipv6Addr>(src)?.into(), v1_ip::<Ipv6Addr>(dst)?.into()),
        _ => return fail("v1 protocol is not TCP4, TCP6 or UNKNOWN"),
    };
    let addrs = (SocketAddr::new(src, v1_port(sport)?), SocketAddr::new(dst, v1_port(dport)?));
    Ok(ProxyHeader { version: 1, addrs: Some(addrs), ..ProxyHeader::default() })
}

fn v1_ip<T: std::str::FromStr>(text: &str) -> Result<T, ProxyError> {
    text.parse().map_err(|_| ProxyError("v1 address does not match its protocol"))
}

/// A decimal port, 0 to 65535, without sign or leading zeros.
fn v1_port(text: &str) -> Result<u16, ProxyError> {
    let digits = !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit());
    if !digits || (text.len() > 1 && text.starts_with('0')) {
        return fail("v1 port is not a decimal number");
    }
    text.parse().map_err(|_| ProxyError("v1 port out of range"))
}

fn parse_v2(input: &[u8], max_bytes: usize) -> Outcome {
    if !agrees(input, &V2_SIGNATURE) {
        return fail("not a PROXY header");
    }
    if input.len() > 12 && input[12] >> 4 != 2 {
        return fail("v2 header with a version other than 2");
    }
    if input.len() < V2_FIXED {
        return Ok(Parse::Incomplete);
    }
    let total = V2_FIXED + u16::from_be_bytes([input[14], input[15]]) as usize;
    if total > max_bytes {
        return fail("v2 header longer than the configured cap");
    }
    if input.len() < total {
        return Ok(Parse::Incomplete);
    }
    let header = &input[..total];
    let (command, family, transport) = (header[12] & 0x0f, header[13] >> 4, header[13] & 0x0f);
    let local = match command {
        0 => true,
        1 => false,
        _ => return fail("v2 command is neither LOCAL nor PROXY"),
    };
    if family > 3 || transport > 2 {
        return fail("v2 address family or transport unknown");
    }
    let block = &header[V2_FIXED..];
    // INET, INET6 and UNIX address blocks have fixed sizes.
    let addr_len = [0, 12, 36, 216][family as usize];
    if block.len() < addr_len {
        return fail("v2 address block shorter than its family");
    }
    let mut out = ProxyHeader { version: 2, local, ..ProxyHeader::default() };
    if local || family == 0 {
        // The spec: use the real endpoints and discard the whole block.
        return Ok(Parse::Complete(out, total));
    }
    // Only stream connections over IP name a client a TCP server can use.
    if transport == 1 {
        out.addrs = v2_addrs(family, &block[..addr_len]);
    }
    read_tlvs(&block[addr_len..], &mut out)?;
    if let Some(crc_at) = crc32c_offset(&block[addr_len..]) {
        check_crc32c(header, V2_FIXED + addr_len + crc_at)?;
    }
    Ok(Parse::Complete(out, total))
}

fn v2_addrs(family: u8, block: &[u8]) -> Option<(SocketAddr, SocketAddr)> {
    let port = |at: usize| u16::from_be_bytes([block[at], block[at + 1]]);
    match family {
        1 => {
            let ip = |at: usize| IpAddr::from(<[u8; 4]>::try_from(&block[at..at + 4]).unwrap());
            Some((SocketAddr::new(ip(0), port(8)), SocketAddr::new(ip(4), port(10))))
        }
        2 => {
            let ip = |at: usize| IpAddr::from(<[u8; 16]>::try_from(&block[at..at + 16]).unwrap());
            Some((SocketAddr::new(ip(0), port(32)), SocketAddr::new(ip(16), port(34))))
        }
        _ => None,
    }
}

/// Walks type-length-value records that must fill `tlvs` exactly.
fn tlvs(mut tlvs: &[u8]) -> impl Iterator<Item = Result<(u8, &[u8]), ProxyError>> {
    std::iter::from_fn(move || {
        if tlvs.is_empty() {
            return None;
        }
        if tlvs.len() < 3 {
            tlvs = &[];
            return Some(fail("v2 TLV cut short"));
        }
        let len = u16::from_be_bytes([tlvs[1], tlvs[2]]) as usize;
        if tlvs.len() < 3 + len {
            tlvs = &[];
            return Some(fail("v2 TLV longer than the header"));
        }
        let item = (tlvs[0], &tlvs[3..3 + len]);
        tlvs = &tlvs[3 + len..];
        Some(Ok(item))
    })
}

/// Keeps the TLVs this library exposes; skips the others.
fn read_tlvs(block: &[u8], out: &mut ProxyHeader) -> Result<(), ProxyError> {
    for tlv in tlvs(block) {
        let (kind, value) = tlv?;
        match kind {
            TLV_AUTHORITY => out.authority = Some(value.into()),
            TLV_CRC32C if value.len() != 4 => return fail("v2 CRC32C TLV is not 4 bytes"),
            TLV_SSL => out.tls = read_ssl(value)?,
            _ => {}
        }
    }
    Ok(())
}

/// `PP2_TYPE_SSL`: client bits, a 32-bit verify result, sub-TLVs.
fn read_ssl(value: &[u8]) -> Result<Option<TlsInfo>, ProxyError> {
    if value.len() < 5 {
        return fail("v2 SSL TLV cut short");
    }
    let client = value[0];
    let verify = u32::from_be_bytes([value[1], value[2], value[3], value[4]]);
    let mut info = TlsInfo { client, verified_cert: client & 0x06 != 0 && verify == 0, ..TlsInfo::default() };
    for sub in tlvs(&value[5..]) {
        let (kind, value) = sub?;
        match kind {
            SSL_SUB_VERSION => info.version = Some(value.into()),
            SSL_SUB_CN => info.cn = Some(value.into()),
            _ => {}
        }
    }
    Ok((client & CLIENT_SSL != 0).then_some(info))
}

/// Where, within the TLVs, the CRC32C value starts, if one is present.
/// Called after [`read_tlvs`] accepted them.
fn crc32c_offset(block: &[u8]) -> Option<usize> {
    let mut at = 0;
    for (kind, value) in tlvs(block).map_while(Result::ok) {
        if kind == TLV_CRC32C {
            return Some(at + 3);
        }
        at += 3 + value.len();
    }
    None
}

/// The spec: the checksum covers the whole header with its own value
/// zeroed; a receiver that supports it must refuse a mismatch.
fn check_crc32c(header: &[u8], value_at: usize) -> Result<(), ProxyError> {
    let expected = u32::from_be_bytes(header[value_at..value_at + 4].try_into().unwrap());
    let zeros = [0u8; 4];
    let parts: [&[u8]; 3] = [&header[..value_at], &zeros, &header[value_at + 4..]];
    if crc32c(&parts) != expected {
        return fail("v2 CRC32C mismatch");
    }
    Ok(())
}

/// CRC-32C (Castagnoli), bitwise: headers are short and rare.
pub fn crc32c(parts: &[&[u8]]) -> u32 {
    let mut crc = !0u32;
    for &b in parts.iter().flat_map(|p| p.iter()) {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x82f6_3b78 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAP: usize = 4096;

    fn complete(input: &[u8]) -> (ProxyHeader, usize) {
        match parse(input, CAP) {
            Ok(Parse::Complete(h, n)) => (h, n),
            other => panic!("{other:?} for {:?}", String::from_utf8_lossy(input)),
        }
    }

    fn refused(input: &[u8]) -> bool {
        parse(input, CAP).is_err()
    }

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    #[test]
    fn v1_tcp4_and_tcp6_and_what_follows_is_left() {
        let (h, n) = complete(b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n");
        assert_eq!(n, 45);
        assert_eq!(h.addrs, Some((addr("192.0.2.1:56324"), addr("198.51.100.2:443"))));
        let (h, _) = complete(b"PROXY TCP6 2001:db8::1 ::1 65535 0\r\n");
        assert_eq!(h.addrs, Some((addr("[2001:db8::1]:65535"), addr("[::1]:0"))));
    }

    #[test]
    fn v1_unknown_uses_the_socket() {
        for input in [&b"PROXY UNKNOWN\r\n"[..], b"PROXY UNKNOWN ffff::1 ::1 1 2\r\n"] {
            let (h, n) = complete(input);
            assert_eq!((h.version, h.addrs, n), (1, None, input.len()));
        }
    }

    #[test]
    fn v1_strictness() {
        for bad in [
            &b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"[..],
            b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
            b"PROXY TCP4 ::1 5.6.7.8 1 2\r\n",
            b"PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
            b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
            b"PROXY TCP4 1.2.3.4\r5.6.7.8 1 2\r\n",
            b"proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
            b"GET / HTTP/1.1\r\n",
        ] {
            assert!(refused(bad), "{:?}", String::from_utf8_lossy(bad));
        }
        // Refused at the first wrong byte, without waiting for more.
        assert!(refused(b"G"));
        assert!(refused(b"PROXX"));
        assert_eq!(parse(b"PROX", CAP), Ok(Parse::Incomplete));
        // 107 bytes without a line end is the limit.
        let mut long = b"PROXY UNKNOWN ".to_vec();
        long.resize(V1_MAX_BYTES - 1, b'a');
        assert_eq!(parse(&long, CAP), Ok(Parse::Incomplete));
        long.push(b'a');
        assert!(refused(&long));
        long.truncate(V1_MAX_BYTES - 2);
        long.extend_from_slice(b"\r\n");
        assert_eq!(complete(&long).1, V1_MAX_BYTES);
    }

    pub(crate) fn v2(ver_cmd: u8, fam: u8, block: &[u8]) -> Vec<u8> {
        let mut out = V2_SIGNATURE.to_vec();
        out.extend_from_slice(&[ver_cmd, fam]);
        out.extend_from_slice(&(block.len() as u16).to_be_bytes());
        out.extend_from_slice(block);
        out
    }

    fn inet(tlvs: &[u8]) -> Vec<u8> {
        let mut block = vec![127, 0, 0, 5, 127, 0, 0, 1, 0x1f, 0x90, 0, 80];
        block.extend_from_slice(tlvs);
        block
    }

    #[test]
    fn v2_proxy_inet_and_inet6() {
        let mut input = v2(0x21, 0x11, &inet(&[]));
        input.extend_from_slice(b"GET /");
        let (h, n) = complete(&input);
        assert_eq!(n, 28);
        assert_eq!(h.addrs, Some((addr("127.0.0.5:8080"), addr("127.0.0.1:80"))));
        let mut block = [0u8; 36];
        block[15] = 1;
        block[31] = 2;
        block[32..].copy_from_slice(&[0, 7, 0, 9]);
        let (h, _) = complete(&v2(0x21, 0x21, &block));
        assert_eq!(h.addrs, Some((addr("[::1]:7"), addr("[::2]:9"))));
    }

    #[test]
    fn v2_local_unspec_unix_and_dgram_use_the_socket() {
        let (h, _) = complete(&v2(0x20, 0x00, &[]));
        assert!(h.local && h.addrs.is_none());
        // LOCAL discards whatever block follows, addresses included.
        assert!(complete(&v2(0x20, 0x11, &inet(&[0xff]))).0.local);
        assert_eq!(complete(&v2(0x21, 0x00, &[1, 2, 3])).0.addrs, None);
        assert_eq!(complete(&v2(0x21, 0x31, &[0; 216])).0.addrs, None);
        assert_eq!(complete(&v2(0x21, 0x12, &inet(&[]))).0.addrs, None);
    }

    #[test]
    fn v2_tlvs_skipped_or_kept() {
        let mut tlvs = vec![0x04, 0, 2, 0, 0]; // NOOP
        tlvs.extend_from_slice(&[0x02, 0, 11]);
        tlvs.extend_from_slice(b"example.org");
        let mut ssl = vec![0x07, 0, 0, 0, 0];
        ssl.extend_from_slice(&[0x21, 0, 7]);
        ssl.extend_from_slice(b"TLSv1.3");
        ssl.extend_from_slice(&[0x22, 0, 3]);
        ssl.extend_from_slice(b"bob");
        tlvs.extend_from_slice(&[0x20, 0, ssl.len() as u8]);
        tlvs.extend_from_slice(&ssl);
        tlvs.extend_from_slice(&[0xe0, 0, 1, 9]); // custom type
        let (h, _) = complete(&v2(0x21, 0x11, &inet(&tlvs)));
        assert_eq!(h.authority.as_deref(), Some(&b"example.org"[..]));
        let tls = h.tls.unwrap();
        assert!(tls.verified_cert);
        assert_eq!(tls.version.as_deref(), Some(&b"TLSv1.3"[..]));
        assert_eq!(tls.cn.as_deref(), Some(&b"bob"[..]));
        // A TLV that overruns the header, or is cut short, is refused.
        assert!(refused(&v2(0x21, 0x11, &inet(&[0x02, 0, 5, b'a']))));
        assert!(refused(&v2(0x21, 0x11, &inet(&[0x02, 0]))));
        assert!(refused(&v2(0x21, 0x11, &inet(&[0x20, 0, 2, 1, 0]))));
    }

    #[test]
    fn v2_crc32c_checked() {
        assert_eq!(crc32c(&[b"123456789"]), 0xe306_9283);
        let mut input = v2(0x21, 0x11, &inet(&[0x03, 0, 4, 0, 0, 0, 0]));
        let crc = crc32c(&[&input]);
        let at = input.len() - 4;
        input[at..].copy_from_slice(&crc.to_be_bytes());
        complete(&input);
        input[at] ^= 1;
        assert!(refused(&input));
    }

    #[test]
    fn v2_strictness_and_cap() {
        assert!(refused(&v2(0x11, 0x11, &inet(&[]))), "version 1 in a v2 header");
        assert!(refused(&v2(0x22, 0x11, &inet(&[]))), "command 2");
        assert!(refused(&v2(0x21, 0x41, &inet(&[]))), "family 4");
        assert!(refused(&v2(0x21, 0x13, &inet(&[]))), "transport 3");
        assert!(refused(&v2(0x21, 0x11, &[0; 11])), "short INET block");
        assert!(refused(&v2(0x21, 0x21, &[0; 35])), "short INET6 block");
        let big = v2(0x21, 0x11, &inet(&[0; 200]));
        assert!(parse(&big, 200).is_err() && parse(&big[..16], 200).is_err(), "cap applies before the body arrives");
        assert_eq!(parse(&big[..big.len() - 1], CAP), Ok(Parse::Incomplete));
        assert!(refused(b"\r\n\r\n\0\r\nQUIX"));
        assert_eq!(parse(b"\r\n\r\n\0\r\nQU", CAP), Ok(Parse::Incomplete));
    }
}
