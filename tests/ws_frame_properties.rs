//! The WebSocket fuzz target's properties (fuzz/src/ws_frames.rs) in
//! `cargo test`: on the committed seeds, on deterministic mutations of
//! them, and on generated valid traffic that must come back unchanged.
//! `make fuzz` runs the real thing (libFuzzer, coverage-guided).

#[path = "../fuzz/src/ws_frames.rs"]
mod props;

use std::fs;
use std::path::Path;

use props::xorshift;

fn seeds() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/ws_frames");
    let mut out: Vec<Vec<u8>> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(out.len() >= 10);
    out.sort();
    out
}

#[test]
fn seeds_decode_the_same_however_they_are_cut() {
    for seed in seeds() {
        props::check_stream(&seed);
        props::check_roundtrip(&seed);
    }
}

#[test]
fn mutated_seeds_keep_every_property() {
    let mut state = 0x2545_f491u32;
    for seed in seeds() {
        for _ in 0..150 {
            let mut data = seed.clone();
            for _ in 0..1 + xorshift(&mut state) % 4 {
                let i = xorshift(&mut state) as usize % data.len();
                match xorshift(&mut state) % 3 {
                    0 => data[i] ^= 1 << (xorshift(&mut state) % 8),
                    1 => data[i] = xorshift(&mut state) as u8,
                    _ => data.truncate(i.max(3)),
                }
            }
            props::check_stream(&data);
        }
    }
}

#[test]
fn generated_traffic_comes_back_unchanged() {
    let mut state = 0x1234_5678u32;
    for len in 0..300 {
        let data: Vec<u8> = (0..len * 7).map(|_| xorshift(&mut state) as u8).collect();
        props::check_roundtrip(&data);
        // Mostly ASCII, so text messages occur too.
        let text: Vec<u8> = data.iter().map(|b| b & 0x7f | 0x20).collect();
        props::check_roundtrip(&text);
    }
}
