//! PROXY protocol on an HTTP listener, over real sockets: a trusted
//! balancer's header names the client the handler sees (the socket's peer
//! stays readable), LOCAL and UNKNOWN keep the socket's address, and a
//! header that is bad, late, too long or from an untrusted source is never
//! believed: the host's handler does not even hear of the connection.

mod http_support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::FromRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use c10k::ListenOptions;
use c10k::http::server::{Body, HttpConfig, HttpHandler, Request};
use c10k::net::{Networks, ProxyOptions, Untrusted};
use http_support::{Server, read_to_eof, serve_with};

/// Answers `peer=ADDR socket=ADDR`, counting the requests it saw.
struct Whoami(Arc<AtomicUsize>);

impl HttpHandler for Whoami {
    fn on_request(&self, req: &mut Request<'_>) {
        self.0.fetch_add(1, Ordering::SeqCst);
        let mut text = format!("peer={} socket={}", req.peer_addr().unwrap(), req.socket_peer_addr().unwrap());
        req.with_proxy_header(|h| {
            if let Some(authority) = h.and_then(|h| h.authority.as_deref()) {
                text += &format!(" authority={}", String::from_utf8_lossy(authority));
            }
            if let Some(tls) = h.and_then(|h| h.tls.as_ref()) {
                text += &format!(" tls={}", String::from_utf8_lossy(tls.version.as_deref().unwrap_or_default()));
            }
        })
        .unwrap();
        req.respond(200, &[], Body::Bytes(text.as_bytes())).unwrap();
    }
}

fn proxy_server(proxy: ProxyOptions) -> (Server, Arc<AtomicUsize>) {
    let seen = Arc::new(AtomicUsize::new(0));
    let options = ListenOptions { proxy: ProxyOptions { enabled: true, ..proxy }, ..ListenOptions::default() };
    (serve_with(options, HttpConfig::default(), Whoami(seen.clone())), seen)
}

/// A connection to `to` from the loopback address `from`.
fn connect_from(from: [u8; 4], to: SocketAddr) -> TcpStream {
    let local: SocketAddr = (from, 0).into();
    let (storage, len) = c10k::net::sockaddr_from(&local);
    let (remote, remote_len) = c10k::net::sockaddr_from(&to);
    // SAFETY: plain socket calls on a descriptor we own; the addresses are valid.
    let stream = unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert!(fd >= 0);
        assert_eq!(libc::bind(fd, &storage as *const _ as *const libc::sockaddr, len), 0);
        assert_eq!(libc::connect(fd, &remote as *const _ as *const libc::sockaddr, remote_len), 0);
        TcpStream::from_raw_fd(fd)
    };
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream
}

/// Sends `pieces` one write each, then reads until the server closes.
fn exchange(mut s: TcpStream, pieces: &[&[u8]]) -> String {
    for piece in pieces {
        if s.write_all(piece).is_err() {
            break; // reset already: what was read tells
        }
    }
    String::from_utf8_lossy(&read_to_eof(&mut s)).into_owned()
}

const GET: &[u8] = b"GET / HTTP/1.0\r\n\r\n";

fn v2(ver_cmd: u8, family: u8, block: &[u8]) -> Vec<u8> {
    let mut out = b"\r\n\r\n\0\r\nQUIT\n".to_vec();
    out.extend_from_slice(&[ver_cmd, family]);
    out.extend_from_slice(&(block.len() as u16).to_be_bytes());
    out.extend_from_slice(block);
    out
}

#[test]
fn v1_and_v2_headers_name_the_client() {
    let (srv, _) = proxy_server(ProxyOptions::default());
    let answer = exchange(
        connect_from([127, 0, 0, 1], srv.addr),
        &[b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 80\r\nGET / HTTP/1.0\r\n\r\n"],
    );
    assert!(answer.contains("\r\n\r\npeer=203.0.113.7:5555 socket=127.0.0.1:"), "{answer}");

    let mut block = [0u8; 36];
    block[..16].copy_from_slice(&"2001:db8::9".parse::<std::net::Ipv6Addr>().unwrap().octets());
    block[31] = 1;
    block[32..].copy_from_slice(&[0x1f, 0x90, 0, 80]);
    let answer = exchange(connect_from([127, 0, 0, 3], srv.addr), &[&v2(0x21, 0x21, &block), GET]);
    assert!(answer.contains("peer=[2001:db8::9]:8080 socket=127.0.0.3:"), "{answer}");
}

#[test]
fn authority_and_tls_tlvs_reach_the_handler() {
    let (srv, _) = proxy_server(ProxyOptions::default());
    let mut block = vec![192, 0, 2, 1, 127, 0, 0, 1, 0, 7, 0, 80];
    block.extend_from_slice(&[0x02, 0, 11]);
    block.extend_from_slice(b"example.org");
    let ssl = [&[0x01, 0, 0, 0, 0, 0x21, 0, 7][..], b"TLSv1.3"].concat();
    block.extend_from_slice(&[0x20, 0, ssl.len() as u8]);
    block.extend_from_slice(&ssl);
    let answer = exchange(connect_from([127, 0, 0, 1], srv.addr), &[&v2(0x21, 0x11, &block), GET]);
    assert!(answer.ends_with("authority=example.org tls=TLSv1.3"), "{answer}");
}

#[test]
fn a_header_in_single_bytes_is_read_whole() {
    let (srv, _) = proxy_server(ProxyOptions::default());
    let mut stream = v2(0x21, 0x11, &[192, 0, 2, 1, 127, 0, 0, 1, 0, 7, 0, 80]);
    stream.extend_from_slice(GET);
    let s = connect_from([127, 0, 0, 1], srv.addr);
    s.set_nodelay(true).unwrap();
    let pieces: Vec<&[u8]> = stream.chunks(1).collect();
    let answer = exchange(s, &pieces);
    assert!(answer.contains("peer=192.0.2.1:7 socket=127.0.0.1:"), "{answer}");
}

#[test]
fn local_and_unknown_keep_the_socket_address() {
    let (srv, _) = proxy_server(ProxyOptions::default());
    for header in [v2(0x20, 0x00, &[]), b"PROXY UNKNOWN\r\n".to_vec()] {
        let answer = exchange(connect_from([127, 0, 0, 4], srv.addr), &[&header, GET]);
        let peer = answer.split("peer=").nth(1).unwrap_or_default();
        assert!(peer.starts_with("127.0.0.4:") && peer.contains(" socket=127.0.0.4:"), "{answer}");
    }
}

#[test]
fn bad_oversized_and_late_headers_never_reach_the_handler() {
    let (srv, seen) = proxy_server(ProxyOptions { header_timeout_ms: 300, max_header_bytes: 64, ..Default::default() });
    let refused = |pieces: &[&[u8]]| exchange(connect_from([127, 0, 0, 1], srv.addr), pieces);
    assert_eq!(refused(&[GET]), "", "plain HTTP where a header belongs");
    assert_eq!(refused(&[b"PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", GET]), "", "a port with a leading zero");
    assert_eq!(refused(&[&v2(0x21, 0x11, &[0; 100])]), "", "a v2 header over the cap");
    // Half a header, then silence: reset at the header timeout.
    assert_eq!(refused(&[b"PROXY TCP4 1.2.3.4"]), "");
    assert_eq!(seen.load(Ordering::SeqCst), 0);
}

#[test]
fn untrusted_sources_are_refused_or_served_plain() {
    let only_one = Networks::parse("127.0.0.1").unwrap();
    let forged: &[u8] = b"PROXY TCP4 203.0.113.66 127.0.0.1 4000 80\r\n";

    let (srv, seen) = proxy_server(ProxyOptions { trusted: only_one, ..Default::default() });
    assert_eq!(exchange(connect_from([127, 0, 0, 5], srv.addr), &[forged, GET]), "");
    assert_eq!(seen.load(Ordering::SeqCst), 0);

    let (srv, _) = proxy_server(ProxyOptions { trusted: only_one, untrusted: Untrusted::Plain, ..Default::default() });
    let answer = exchange(connect_from([127, 0, 0, 5], srv.addr), &[forged, GET]);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(!answer.contains("203.0.113.66"));
    let answer = exchange(connect_from([127, 0, 0, 5], srv.addr), &[GET]);
    assert!(answer.contains("peer=127.0.0.5:") && answer.contains("socket=127.0.0.5:"), "{answer}");
}
