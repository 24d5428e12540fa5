//! Base64 (RFC 4648, standard alphabet, padded): encoding for
//! `Sec-WebSocket-Accept`, decoding to check a `Sec-WebSocket-Key`.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the base64 form of `data` to `out`.
pub fn encode(data: &[u8], out: &mut Vec<u8>) {
    for group in data.chunks(3) {
        let b = [group[0], *group.get(1).unwrap_or(&0), *group.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
}

/// The length of the data `text` encodes, or `None` when it is not
/// canonical padded base64.
pub fn decoded_len(text: &[u8]) -> Option<usize> {
    if text.is_empty() || !text.len().is_multiple_of(4) {
        return None;
    }
    let pad = text.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    let body = &text[..text.len() - pad];
    let value = |c: u8| ALPHABET.iter().position(|&a| a == c);
    if !body.iter().all(|&c| value(c).is_some()) {
        return None;
    }
    // Canonical: the bits the padding leaves unused are zero.
    let last = value(body[body.len() - 1]).unwrap_or(0);
    let unused = match pad {
        1 => last & 0b11,
        2 => last & 0b1111,
        _ => 0,
    };
    (unused == 0).then_some(text.len() / 4 * 3 - pad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(data: &[u8]) -> String {
        let mut out = Vec::new();
        encode(data, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rfc_4648_vectors() {
        let cases =
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")];
        for (plain, coded) in cases {
            assert_eq!(enc(plain.as_bytes()), coded);
            if !coded.is_empty() {
                assert_eq!(decoded_len(coded.as_bytes()), Some(plain.len()));
            }
        }
        assert_eq!(enc(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn rejects_what_is_not_canonical_base64() {
        for bad in ["", "Zg=", "Zg===", "Z===", "Zh==", "Zm9v!A==", "Zm9vY", "dGhlIHNhbXBsZSBub25jZQ"] {
            assert_eq!(decoded_len(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(decoded_len(b"dGhlIHNhbXBsZSBub25jZQ=="), Some(16));
    }
}
