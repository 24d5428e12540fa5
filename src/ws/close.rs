//! Close status codes (RFC 6455 section 7.4) and the close frame's payload.

/// Normal closure.
pub const NORMAL: u16 = 1000;
/// The endpoint is going away (server shutting down).
pub const GOING_AWAY: u16 = 1001;
/// The peer broke the protocol.
pub const PROTOCOL_ERROR: u16 = 1002;
/// A close frame without a status code (never sent on the wire).
pub const NO_STATUS: u16 = 1005;
/// The connection ended without a close frame (never sent on the wire).
pub const ABNORMAL: u16 = 1006;
/// A text message that is not UTF-8.
pub const INVALID_PAYLOAD: u16 = 1007;
/// A message or frame over the configured limit.
pub const TOO_BIG: u16 = 1009;
/// The server met an unexpected condition (here: the peer stopped answering pings).
pub const INTERNAL_ERROR: u16 = 1011;

/// Whether `code` may appear in a close frame: the codes RFC 6455 and the
/// IANA registry define for the wire, and the ranges for libraries and
/// applications. 1004-1006, 1015 and unassigned ones are protocol errors.
pub fn is_valid_on_wire(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Writes a close frame's payload: the code and the reason, or nothing for
/// [`NO_STATUS`].
pub fn payload(code: u16, reason: &[u8]) -> Vec<u8> {
    if code == NO_STATUS {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(2 + reason.len());
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(reason);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes() {
        for ok in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            assert!(is_valid_on_wire(ok), "{ok}");
        }
        for bad in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            assert!(!is_valid_on_wire(bad), "{bad}");
        }
    }
}
