//! The frame format (RFC 6455 section 5.2): opcodes, the server's frame
//! heads, and unmasking.

/// Frame opcodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Opcode {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
}

impl Opcode {
    pub fn from_u8(b: u8) -> Option<Opcode> {
        Some(match b {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            _ => return None,
        })
    }

    pub fn is_control(self) -> bool {
        self as u8 & 0x8 != 0
    }
}

/// Payload bytes a control frame may carry.
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// The longest head a server writes (no mask).
pub const MAX_SERVER_HEAD: usize = 10;

/// Appends the head of an unmasked, final frame carrying `len` payload bytes.
pub fn write_head(out: &mut Vec<u8>, opcode: Opcode, len: usize) {
    out.push(0x80 | opcode as u8);
    match len {
        0..=125 => out.push(len as u8),
        126..=0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
}

/// A whole unmasked frame, head and payload, in one buffer.
pub fn frame(opcode: Opcode, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(MAX_SERVER_HEAD + payload.len());
    write_head(&mut out, opcode, payload.len());
    out.extend_from_slice(payload);
    out
}

/// XORs `data` with the masking key, starting `phase` bytes into it (for a
/// payload that arrives in pieces). Eight bytes at a time.
pub fn unmask(data: &mut [u8], key: [u8; 4], phase: usize) {
    let mut k = [0u8; 8];
    for (i, b) in k.iter_mut().enumerate() {
        *b = key[(phase + i) % 4];
    }
    let word = u64::from_ne_bytes(k);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let v = u64::from_ne_bytes((&*chunk).try_into().unwrap()) ^ word;
        chunk.copy_from_slice(&v.to_ne_bytes());
    }
    for (b, m) in chunks.into_remainder().iter_mut().zip(k) {
        *b ^= m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_use_the_shortest_length_form() {
        let head = |len| {
            let mut out = Vec::new();
            write_head(&mut out, Opcode::Binary, len);
            out
        };
        assert_eq!(head(0), [0x82, 0]);
        assert_eq!(head(125), [0x82, 125]);
        assert_eq!(head(126), [0x82, 126, 0, 126]);
        assert_eq!(head(65535), [0x82, 126, 0xff, 0xff]);
        assert_eq!(head(65536), [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
    }

    #[test]
    fn unmasking_matches_rfc_example_at_any_phase() {
        // RFC 6455 5.7: a masked "Hello".
        let mut data = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        unmask(&mut data, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&data, b"Hello");
        let key = [1, 2, 3, 4];
        let plain: Vec<u8> = (0..100u8).collect();
        let mut masked = plain.clone();
        unmask(&mut masked, key, 0);
        for cut in 0..plain.len() {
            let mut pieces = masked.clone();
            let (a, b) = pieces.split_at_mut(cut);
            unmask(a, key, 0);
            unmask(b, key, cut);
            assert_eq!(pieces, plain, "cut {cut}");
        }
    }
}
