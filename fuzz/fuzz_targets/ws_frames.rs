//! The WebSocket frame decoder: the same events however the stream is cut,
//! limits and UTF-8 always enforced, valid traffic given back unchanged.
#![no_main]

#[path = "../src/ws_frames.rs"]
mod props;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    props::check_stream(data);
    props::check_roundtrip(data);
});
