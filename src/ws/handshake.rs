//! The opening handshake (RFC 6455 section 4.2): which requests may
//! become WebSockets, the `Sec-WebSocket-Accept` value, and the
//! subprotocols a client offers.

use super::{base64, sha1::sha1};
use crate::http::server::Request;

/// The GUID RFC 6455 appends to the client's key.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// Length of a `Sec-WebSocket-Accept` value: base64 of 20 bytes.
pub const ACCEPT_LEN: usize = 28;

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
pub fn accept_key(key: &[u8]) -> [u8; ACCEPT_LEN] {
    let mut input = Vec::with_capacity(key.len() + GUID.len());
    input.extend_from_slice(key);
    input.extend_from_slice(GUID);
    let mut out = Vec::with_capacity(ACCEPT_LEN);
    base64::encode(&sha1(&input), &mut out);
    out.try_into().expect("base64 of 20 bytes is 28 bytes")
}

/// Why a request cannot become a WebSocket, as the HTTP answer it gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// 400, or 426 for an unsupported `Sec-WebSocket-Version` (answered
    /// with `Sec-WebSocket-Version: 13`).
    pub status: u16,
    pub reason: &'static str,
}

const fn refuse(reason: &'static str) -> Refusal {
    Refusal { status: 400, reason }
}

/// The comma-separated tokens of every header field named `name`.
fn tokens<'a>(req: &'a Request<'_>, name: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    (0..req.header_count())
        .filter_map(move |i| req.header_at(i).filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v))
        .flat_map(|v| v.split(|&c| c == b','))
        .map(|t| t.trim_ascii())
        .filter(|t| !t.is_empty())
}

fn has_token(req: &Request<'_>, name: &[u8], token: &[u8]) -> bool {
    tokens(req, name).any(|t| t.eq_ignore_ascii_case(token))
}

/// Whether the client asks for a WebSocket (`Upgrade: websocket`); the
/// rest of its handshake may still be wrong.
pub fn is_websocket_request(req: &Request<'_>) -> bool {
    has_token(req, b"upgrade", b"websocket")
}

/// Checks the client's handshake and returns its `Sec-WebSocket-Key`.
pub fn check<'r>(req: &'r Request<'_>) -> Result<&'r [u8], Refusal> {
    if req.method() != b"GET" {
        return Err(refuse("a WebSocket handshake must be a GET"));
    }
    if req.version_minor() < 1 {
        return Err(refuse("a WebSocket handshake needs HTTP/1.1"));
    }
    if !is_websocket_request(req) {
        return Err(refuse("missing Upgrade: websocket"));
    }
    if !has_token(req, b"connection", b"upgrade") {
        return Err(refuse("missing Connection: Upgrade"));
    }
    let versions: Vec<&[u8]> = tokens(req, b"sec-websocket-version").collect();
    if versions != [b"13"] {
        return Err(Refusal { status: 426, reason: "only Sec-WebSocket-Version 13 is supported" });
    }
    let mut keys = (0..req.header_count())
        .filter_map(|i| req.header_at(i))
        .filter(|(n, _)| n.eq_ignore_ascii_case(b"sec-websocket-key"));
    let key = match (keys.next(), keys.next()) {
        (Some((_, key)), None) => key.trim_ascii(),
        _ => return Err(refuse("need exactly one Sec-WebSocket-Key")),
    };
    if base64::decoded_len(key) != Some(16) {
        return Err(refuse("Sec-WebSocket-Key is not 16 bytes in base64"));
    }
    Ok(key)
}

/// The subprotocols the client offers, in its order of preference.
pub fn offered_subprotocols<'a>(req: &'a Request<'_>) -> impl Iterator<Item = &'a [u8]> + 'a {
    tokens(req, b"sec-websocket-protocol")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6455_example_key() {
        assert_eq!(&accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="), b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }
}
