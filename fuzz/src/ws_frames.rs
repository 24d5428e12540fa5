//! Properties of the WebSocket frame decoder (`c10k::ws::Decoder`), kept
//! free of libFuzzer so that `tests/ws_frame_properties.rs` runs the same
//! checks in `cargo test` (both include this file with `#[path]`).
//!
//! Input layout of [`check_stream`] (the seeds under
//! `fuzz/corpus/ws_frames/` follow it): byte 0 picks the limits, bytes 1-2
//! seed the cut points, the rest is the byte stream a client sends.
//! [`check_roundtrip`] reads its input as a script of messages instead.
#![allow(dead_code)]

use c10k::ws::{Decoder, Event, Limits, ProtocolError, close};

/// What the decoder reports, owned, in order; the stream's end is either
/// an error or nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    Message(Vec<u8>, bool),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16, Vec<u8>),
    Failed(ProtocolError),
}

pub fn limits_from(b: u8) -> Limits {
    if b & 0x80 == 0 {
        return Limits::default();
    }
    let sizes = [0, 1, 125, 126, 1000, 65536, 70000, 1 << 20];
    Limits { max_frame_bytes: sizes[(b & 7) as usize], max_message_bytes: sizes[(b >> 3 & 7) as usize] }
}

/// Decodes `stream` delivered in the reads `cuts` makes of it, stopping
/// at a close frame as a server does.
pub fn decode(limits: Limits, stream: &[u8], mut cuts: impl FnMut() -> usize) -> Vec<Seen> {
    let mut d = Decoder::new(limits);
    let mut scratch = Vec::new();
    let mut seen = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let n = cuts().clamp(1, rest.len());
        let result = d.feed(&rest[..n], &mut scratch, |e| {
            let (owned, go_on) = match e {
                Event::Message { data, binary } => {
                    assert!(data.len() as u64 <= limits.max_message_bytes, "message past the limit");
                    if !binary {
                        assert!(std::str::from_utf8(data).is_ok(), "invalid UTF-8 delivered as text");
                    }
                    (Seen::Message(data.to_vec(), binary), true)
                }
                Event::Ping(p) => (Seen::Ping(p.to_vec()), true),
                Event::Pong(p) => (Seen::Pong(p.to_vec()), true),
                Event::Close { code, reason } => {
                    assert!(close::is_valid_on_wire(code) || code == close::NO_STATUS, "close code {code}");
                    assert!(std::str::from_utf8(reason).is_ok());
                    (Seen::Close(code, reason.to_vec()), false)
                }
            };
            if let Seen::Ping(p) | Seen::Pong(p) = &owned {
                assert!(p.len() <= 125, "control payload over 125 bytes");
            }
            seen.push(owned);
            go_on
        });
        rest = &rest[n..];
        match result {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                assert!(matches!(e.code, close::PROTOCOL_ERROR | close::INVALID_PAYLOAD | close::TOO_BIG));
                seen.push(Seen::Failed(e));
                break;
            }
        }
    }
    seen
}

pub fn xorshift(state: &mut u32) -> u32 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    *state
}

/// Whatever the bytes, the decoder reports the same events however the
/// stream is cut into reads, and never breaks its limits or lets invalid
/// UTF-8 through.
pub fn check_stream(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let limits = limits_from(data[0]);
    let seed = u16::from_be_bytes([data[1], data[2]]);
    let stream = &data[3..];
    let whole = decode(limits, stream, || usize::MAX);
    let max = 1 + (seed as usize & 0x3f);
    let mut state = seed as u32 | 0x1_0000;
    let split = decode(limits, stream, || 1 + xorshift(&mut state) as usize % max);
    assert_eq!(whole, split, "cut into reads of at most {max} bytes");
    if stream.len() <= 1024 && seed & 0x40 != 0 {
        assert_eq!(whole, decode(limits, stream, || 1), "one byte per read");
    }
}

/// A client frame: masked with `key`.
pub fn client_frame(out: &mut Vec<u8>, opcode: u8, fin: bool, payload: &[u8], key: [u8; 4]) {
    out.push(if fin { 0x80 } else { 0 } | opcode);
    match payload.len() {
        n @ 0..=125 => out.push(0x80 | n as u8),
        n @ 126..=0xffff => {
            out.push(0x80 | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(0x80 | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(&key);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
}

/// Valid traffic made from the fuzz input: messages split into fragments
/// with pings between them, masked with varying keys, then a close. The
/// decoder must give back exactly the messages, pings and close, under any
/// cutting of the stream.
pub fn check_roundtrip(data: &[u8]) {
    let mut stream = Vec::new();
    let mut want = Vec::new();
    let mut state = 0x9e37_79b9u32 ^ data.len() as u32;
    let mut rest = data;
    while let [head, tail @ ..] = rest {
        let len = (*head as usize & 0x3f).min(tail.len());
        let (body, tail) = tail.split_at(len);
        rest = tail;
        let binary = head & 0x80 != 0 || std::str::from_utf8(body).is_err();
        let mut key = [0u8; 4];
        key.copy_from_slice(&xorshift(&mut state).to_ne_bytes());
        // Fragments: up to four, a ping after the first when bit 6 says so.
        let pieces = 1 + (head >> 6 & 1) as usize * 3;
        let step = body.len().div_ceil(pieces).max(1);
        let chunks: Vec<&[u8]> = if body.is_empty() { vec![&[][..]] } else { body.chunks(step).collect() };
        for (i, chunk) in chunks.iter().enumerate() {
            let opcode = if i > 0 {
                0
            } else if binary {
                2
            } else {
                1
            };
            client_frame(&mut stream, opcode, i + 1 == chunks.len(), chunk, key);
            if i == 0 && chunks.len() > 1 {
                client_frame(&mut stream, 9, true, &body[..body.len().min(125)], key);
                want.push(Seen::Ping(body[..body.len().min(125)].to_vec()));
            }
        }
        want.push(Seen::Message(body.to_vec(), binary));
    }
    client_frame(&mut stream, 8, true, &close::payload(close::NORMAL, b"done"), [9, 8, 7, 6]);
    want.push(Seen::Close(close::NORMAL, b"done".to_vec()));
    let limits = Limits::default();
    let mut cut_state = state | 1;
    assert_eq!(decode(limits, &stream, || usize::MAX), want);
    assert_eq!(decode(limits, &stream, || 1 + xorshift(&mut cut_state) as usize % 17), want);
}
