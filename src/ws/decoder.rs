//! The receiving side of RFC 6455, without sockets: bytes in, whole
//! messages and control frames out, or the protocol error that ends the
//! connection with its close code.
//!
//! Input is parsed where it lies (the loop's read buffer). A message whose
//! frame arrived whole in one read is unmasked into a scratch buffer the
//! caller lends and reuses; only a message split across reads or frames is
//! gathered in a buffer of its own, which exists until it is delivered.

use super::close;
use super::frame::{MAX_CONTROL_PAYLOAD, Opcode, unmask};
use super::utf8::Utf8Validator;

/// Bounds on what a peer may send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Payload bytes of one frame; more closes with 1009.
    pub max_frame_bytes: u64,
    /// Bytes of one message, all its fragments together; more closes with 1009.
    pub max_message_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_frame_bytes: 16 << 20, max_message_bytes: 16 << 20 }
    }
}

/// What the peer sent. Views are valid only during the callback.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    Message {
        data: &'a [u8],
        binary: bool,
    },
    Ping(&'a [u8]),
    Pong(&'a [u8]),
    /// `code` is [`close::NO_STATUS`] for a close frame without one.
    Close {
        code: u16,
        reason: &'a [u8],
    },
}

/// A violation that fails the connection: send a close frame with `code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtocolError {
    pub code: u16,
    pub reason: &'static str,
}

const fn error(code: u16, reason: &'static str) -> ProtocolError {
    ProtocolError { code, reason }
}

/// The frame being read.
#[derive(Clone, Copy, Debug)]
struct Frame {
    opcode: Opcode,
    fin: bool,
    key: [u8; 4],
    /// Payload bytes still to come.
    remaining: u64,
    /// Payload bytes already seen (the masking key's phase).
    seen: u64,
}

/// A data message gathered across reads or fragments.
struct Partial {
    binary: bool,
    data: Vec<u8>,
    utf8: Utf8Validator,
}

/// How far a frame head has arrived.
enum Head {
    /// At least this many bytes are needed.
    Incomplete(usize),
    /// The frame and the length of its head.
    Complete(Frame, usize),
}

pub struct Decoder {
    limits: Limits,
    /// The start of a frame head split across reads.
    head: [u8; 14],
    head_len: u8,
    frame: Option<Frame>,
    message: Option<Partial>,
    /// A control frame's payload split across reads.
    control: Vec<u8>,
}

impl Decoder {
    pub fn new(limits: Limits) -> Decoder {
        Decoder { limits, head: [0; 14], head_len: 0, frame: None, message: None, control: Vec::new() }
    }

    /// Whether the decoder holds no partial input (and no buffer).
    pub fn is_idle(&self) -> bool {
        self.head_len == 0 && self.frame.is_none() && self.message.is_none() && self.control.capacity() == 0
    }

    /// Consumes `input`, calling `on_event` for each complete message and
    /// control frame. `on_event` returns false to stop: the rest of the
    /// input is ignored and `Ok(false)` returned. After an error the
    /// decoder must not be fed again.
    pub fn feed(
        &mut self,
        mut input: &[u8],
        scratch: &mut Vec<u8>,
        mut on_event: impl FnMut(Event<'_>) -> bool,
    ) -> Result<bool, ProtocolError> {
        loop {
            let mut frame = match self.frame {
                Some(f) => f,
                None if input.is_empty() => return Ok(true),
                None => match self.read_head(&mut input)? {
                    Some(f) => f,
                    None => return Ok(true),
                },
            };
            let take = frame.remaining.min(input.len() as u64) as usize;
            let (piece, rest) = input.split_at(take);
            input = rest;
            let last = take as u64 == frame.remaining;
            let go_on = if frame.opcode.is_control() {
                self.control_piece(&frame, piece, last, &mut on_event)?
            } else {
                self.data_piece(&frame, piece, last, scratch, &mut on_event)?
            };
            frame.remaining -= take as u64;
            frame.seen += take as u64;
            self.frame = (!last).then_some(frame);
            if !go_on {
                return Ok(false);
            }
            if !last {
                return Ok(true);
            }
        }
    }

    /// Reads a frame head from `input` (and what an earlier read left).
    fn read_head(&mut self, input: &mut &[u8]) -> Result<Option<Frame>, ProtocolError> {
        if self.head_len == 0 {
            // The common case: the whole head is in this read.
            if let Head::Complete(frame, n) = self.parse_head(input)? {
                *input = &input[n..];
                return Ok(Some(frame));
            }
        }
        loop {
            let have = self.head_len as usize;
            let need = match self.parse_head(&self.head[..have])? {
                Head::Complete(frame, _) => {
                    self.head_len = 0;
                    return Ok(Some(frame));
                }
                Head::Incomplete(need) => need,
            };
            if input.is_empty() {
                return Ok(None);
            }
            let n = (need - have).min(input.len());
            self.head[have..have + n].copy_from_slice(&input[..n]);
            self.head_len += n as u8;
            *input = &input[n..];
        }
    }

    /// Parses and checks a frame head; fails as soon as its first two bytes
    /// break a rule.
    fn parse_head(&self, b: &[u8]) -> Result<Head, ProtocolError> {
        if b.len() < 2 {
            return Ok(Head::Incomplete(2));
        }
        let fin = b[0] & 0x80 != 0;
        if b[0] & 0x70 != 0 {
            return Err(error(close::PROTOCOL_ERROR, "reserved bits set"));
        }
        let opcode = Opcode::from_u8(b[0] & 0x0f).ok_or(error(close::PROTOCOL_ERROR, "unknown opcode"))?;
        if b[1] & 0x80 == 0 {
            return Err(error(close::PROTOCOL_ERROR, "unmasked client frame"));
        }
        let len7 = b[1] & 0x7f;
        if opcode.is_control() {
            if !fin {
                return Err(error(close::PROTOCOL_ERROR, "fragmented control frame"));
            }
            if len7 as usize > MAX_CONTROL_PAYLOAD {
                return Err(error(close::PROTOCOL_ERROR, "control frame payload over 125 bytes"));
            }
        } else if opcode == Opcode::Continuation {
            if self.message.is_none() {
                return Err(error(close::PROTOCOL_ERROR, "continuation without a message to continue"));
            }
        } else if self.message.is_some() {
            return Err(error(close::PROTOCOL_ERROR, "new message inside a fragmented one"));
        }
        let ext = match len7 {
            126 => 2,
            127 => 8,
            _ => 0,
        };
        let head_len = 2 + ext + 4;
        if b.len() < head_len {
            return Ok(Head::Incomplete(head_len));
        }
        let len = match ext {
            2 => u16::from_be_bytes([b[2], b[3]]) as u64,
            8 => u64::from_be_bytes(b[2..10].try_into().unwrap()),
            _ => len7 as u64,
        };
        if len >> 63 != 0 {
            return Err(error(close::PROTOCOL_ERROR, "payload length with its top bit set"));
        }
        // Control frames are bounded by their 125 bytes, whatever the limits.
        if !opcode.is_control() {
            if len > self.limits.max_frame_bytes {
                return Err(error(close::TOO_BIG, "frame too big"));
            }
            let so_far = self.message.as_ref().map_or(0, |m| m.data.len() as u64);
            if so_far + len > self.limits.max_message_bytes {
                return Err(error(close::TOO_BIG, "message too big"));
            }
        }
        let key = b[head_len - 4..head_len].try_into().unwrap();
        Ok(Head::Complete(Frame { opcode, fin, key, remaining: len, seen: 0 }, head_len))
    }

    fn control_piece(
        &mut self,
        frame: &Frame,
        piece: &[u8],
        last: bool,
        on_event: &mut impl FnMut(Event<'_>) -> bool,
    ) -> Result<bool, ProtocolError> {
        if last && frame.seen == 0 {
            let mut buf = [0u8; MAX_CONTROL_PAYLOAD];
            let payload = &mut buf[..piece.len()];
            payload.copy_from_slice(piece);
            unmask(payload, frame.key, 0);
            return control_event(frame.opcode, payload, on_event);
        }
        let start = self.control.len();
        self.control.extend_from_slice(piece);
        unmask(&mut self.control[start..], frame.key, frame.seen as usize);
        if !last {
            return Ok(true);
        }
        let payload = std::mem::take(&mut self.control);
        control_event(frame.opcode, &payload, on_event)
    }

    fn data_piece(
        &mut self,
        frame: &Frame,
        piece: &[u8],
        last: bool,
        scratch: &mut Vec<u8>,
        on_event: &mut impl FnMut(Event<'_>) -> bool,
    ) -> Result<bool, ProtocolError> {
        let binary = frame.opcode == Opcode::Binary;
        if self.message.is_none() && frame.seen == 0 && last && frame.fin {
            // A whole message in one frame in this read: no buffer of its own.
            scratch.clear();
            scratch.extend_from_slice(piece);
            unmask(scratch, frame.key, 0);
            if !binary && std::str::from_utf8(scratch).is_err() {
                return Err(error(close::INVALID_PAYLOAD, "text message is not UTF-8"));
            }
            return Ok(on_event(Event::Message { data: scratch, binary }));
        }
        let m =
            self.message.get_or_insert_with(|| Partial { binary, data: Vec::new(), utf8: Utf8Validator::default() });
        let start = m.data.len();
        m.data.extend_from_slice(piece);
        unmask(&mut m.data[start..], frame.key, frame.seen as usize);
        if !m.binary && !m.utf8.feed(&m.data[start..]) {
            return Err(error(close::INVALID_PAYLOAD, "text message is not UTF-8"));
        }
        if !(last && frame.fin) {
            return Ok(true);
        }
        let m = self.message.take().expect("message in progress");
        if !m.binary && !m.utf8.is_complete() {
            return Err(error(close::INVALID_PAYLOAD, "text message is not UTF-8"));
        }
        Ok(on_event(Event::Message { data: &m.data, binary: m.binary }))
    }
}

fn control_event(
    opcode: Opcode,
    payload: &[u8],
    on_event: &mut impl FnMut(Event<'_>) -> bool,
) -> Result<bool, ProtocolError> {
    let event = match opcode {
        Opcode::Ping => Event::Ping(payload),
        Opcode::Pong => Event::Pong(payload),
        _ => close_event(payload)?,
    };
    Ok(on_event(event))
}

fn close_event(payload: &[u8]) -> Result<Event<'_>, ProtocolError> {
    match payload {
        [] => Ok(Event::Close { code: close::NO_STATUS, reason: &[] }),
        [_] => Err(error(close::PROTOCOL_ERROR, "close frame of one byte")),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !close::is_valid_on_wire(code) {
                return Err(error(close::PROTOCOL_ERROR, "invalid close code"));
            }
            if std::str::from_utf8(reason).is_err() {
                return Err(error(close::INVALID_PAYLOAD, "close reason is not UTF-8"));
            }
            Ok(Event::Close { code, reason })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let key = [0xa, 0xb, 0xc, 0xd];
        let mut out = vec![if fin { 0x80 } else { 0 } | opcode, 0x80 | payload.len() as u8];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        out
    }

    #[test]
    fn holds_a_buffer_only_while_a_message_is_split() {
        let mut d = Decoder::new(Limits::default());
        let mut scratch = Vec::new();
        let mut got = Vec::new();
        let mut feed = |d: &mut Decoder, bytes: &[u8]| {
            d.feed(bytes, &mut scratch, |e| {
                if let Event::Message { data, .. } = e {
                    got.push(data.to_vec());
                }
                true
            })
            .unwrap();
        };
        feed(&mut d, &masked(1, true, b"whole"));
        assert!(d.is_idle(), "a message whole in one read leaves nothing behind");
        let frame = masked(2, false, b"first half");
        feed(&mut d, &frame[..7]);
        assert!(!d.is_idle());
        feed(&mut d, &frame[7..]);
        feed(&mut d, &masked(9, true, b"ping in between"));
        assert!(!d.is_idle());
        feed(&mut d, &masked(0, true, b", second"));
        assert!(d.is_idle(), "the message's buffer is freed once delivered");
        assert_eq!(got, [b"whole".to_vec(), b"first half, second".to_vec()]);
    }

    #[test]
    fn small_limits_leave_control_frames_alone() {
        let mut d = Decoder::new(Limits { max_frame_bytes: 4, max_message_bytes: 6 });
        let mut scratch = Vec::new();
        let mut pings = 0;
        let ping = masked(9, true, &[1; 100]);
        assert_eq!(
            d.feed(&ping, &mut scratch, |_| {
                pings += 1;
                true
            }),
            Ok(true)
        );
        assert_eq!(pings, 1);
        let too_big = masked(2, true, b"12345");
        assert_eq!(d.feed(&too_big, &mut scratch, |_| true).unwrap_err().code, close::TOO_BIG);
        let mut d = Decoder::new(Limits { max_frame_bytes: 4, max_message_bytes: 6 });
        let mut bytes = masked(2, false, b"1234");
        bytes.extend(masked(0, true, b"567"));
        assert_eq!(d.feed(&bytes, &mut scratch, |_| true).unwrap_err().reason, "message too big");
    }
}
