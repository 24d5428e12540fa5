//! Incremental UTF-8 validation for text messages that arrive in pieces:
//! an invalid byte is reported as soon as it arrives, even in the middle of
//! a fragment, and a character may be split across pieces.

/// Validation state between pieces: at most three bytes of a character
/// that the next piece must complete.
#[derive(Clone, Copy, Debug, Default)]
pub struct Utf8Validator {
    partial: [u8; 4],
    partial_len: u8,
}

impl Utf8Validator {
    /// Checks the next piece; false as soon as the text cannot be valid.
    pub fn feed(&mut self, mut data: &[u8]) -> bool {
        // First finish the character the previous piece left open.
        while self.partial_len > 0 {
            let Some((&b, rest)) = data.split_first() else { return true };
            data = rest;
            self.partial[self.partial_len as usize] = b;
            self.partial_len += 1;
            match std::str::from_utf8(&self.partial[..self.partial_len as usize]) {
                Ok(_) => self.partial_len = 0,
                Err(e) if e.error_len().is_some() => return false,
                Err(_) => {}
            }
        }
        match std::str::from_utf8(data) {
            Ok(_) => true,
            // `error_len() == None`: the piece ends inside a character that may still be valid.
            Err(e) if e.error_len().is_none() => {
                let tail = &data[e.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                true
            }
            Err(_) => false,
        }
    }

    /// Whether the text ended on a character boundary.
    pub fn is_complete(&self) -> bool {
        self.partial_len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_in_pieces(data: &[u8], cut: usize) -> bool {
        let mut v = Utf8Validator::default();
        data.chunks(cut.max(1)).all(|p| v.feed(p)) && v.is_complete()
    }

    #[test]
    fn agrees_with_std_at_every_cut() {
        let samples: [&[u8]; 10] = [
            "κόσμε".as_bytes(),
            "Hello-µ@ßöäüàá-UTF-8!!".as_bytes(),
            "\u{10FFFF}\u{FFFF}\u{0800}\u{007F}".as_bytes(),
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", // surrogate
            b"\xf4\x90\x80\x80",                                               // past U+10FFFF
            b"\xc0\xaf",                                                       // overlong
            b"\xe0\x80\xaf",
            b"abc\xff",
            b"\xf0\x9f\x98", // truncated at the end
            b"\xf0\x9f\x98\x80",
        ];
        for data in samples {
            let want = std::str::from_utf8(data).is_ok();
            for cut in 1..=data.len() {
                assert_eq!(valid_in_pieces(data, cut), want, "{data:?} cut {cut}");
            }
        }
    }

    #[test]
    fn fails_at_the_first_bad_byte_not_at_the_end() {
        let mut v = Utf8Validator::default();
        assert!(v.feed(b"ok \xce"));
        assert!(!v.feed(b"\x41 and more that never matters"));
        let mut v = Utf8Validator::default();
        // 0xED 0xA0 starts a surrogate: invalid before the third byte arrives.
        assert!(v.feed(b"\xed"));
        assert!(!v.feed(b"\xa0"));
    }
}
