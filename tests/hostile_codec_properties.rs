//! The fuzz targets' properties (fuzz/src/lib.rs) in `cargo test`: run on
//! the committed seed corpus, then on a few thousand deterministic mutations
//! of it, so a regression shows without a nightly toolchain. `make fuzz`
//! runs the real thing (libFuzzer, coverage-guided).

#[path = "../fuzz/src/lib.rs"]
mod props;

use std::fs;
use std::path::Path;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut out: Vec<Vec<u8>> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(!out.is_empty());
    out.sort();
    out
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Byte flips, insertions of interesting bytes, deletions, duplications and
/// splices of two seeds: enough to walk around the grammar's edges.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    const INTERESTING: &[&[u8]] = &[
        b"\r\n",
        b"\n",
        b"\r",
        b"\0",
        b" ",
        b"\t",
        b":",
        b";",
        b"0",
        b"f",
        b"chunked",
        b",",
        b"\x7f",
        b"\xff",
        b"\r\n\r\n",
    ];
    let mut d = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(d.len() + 1);
        match rng.below(6) {
            0 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] ^= 1 << rng.below(8);
            }
            1 => {
                let s = INTERESTING[rng.below(INTERESTING.len())];
                d.splice(at..at, s.iter().copied());
            }
            2 if at < d.len() => {
                let end = (at + 1 + rng.below(8)).min(d.len());
                d.drain(at..end);
            }
            3 if at < d.len() => {
                let end = (at + 1 + rng.below(32)).min(d.len());
                let piece = d[at..end].to_vec();
                d.splice(at..at, piece);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                d.truncate(at);
                d.extend_from_slice(&other[from..]);
            }
            _ if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] = rng.next() as u8;
            }
            _ => {}
        }
    }
    d
}

#[test]
fn request_split_seeds() {
    for s in seeds("http_request_split") {
        props::check_request_split(&s);
    }
}

#[test]
fn request_split_mutations() {
    let seeds = seeds("http_request_split");
    let mut rng = Rng(0x5eed_0001);
    for _ in 0..4000 {
        let d = mutate(&mut rng, &seeds);
        props::check_request_split(&d);
    }
}

#[test]
fn response_head_seeds() {
    for s in seeds("response_head") {
        props::check_response_head(&s);
    }
}

#[test]
fn response_head_mutations() {
    let seeds = seeds("response_head");
    let mut rng = Rng(0x5eed_0002);
    for _ in 0..4000 {
        let d = mutate(&mut rng, &seeds);
        props::check_response_head(&d);
    }
}

#[test]
fn response_head_refuses_splitting_bytes() {
    // The documented promise, spelled out: CR, LF and NUL never get through.
    for bad in [&b"a\r\nX-Evil: 1"[..], b"a\nb", b"a\rb", b"a\0b"] {
        let case =
            props::ResponseCase { status: 200, flags: 3, length: 0, headers: vec![(b"X".to_vec(), bad.to_vec())] };
        props::check_response_head(&case.encode());
    }
}

#[test]
fn proxy_header_seeds() {
    for s in seeds("proxy_header") {
        props::check_proxy_header(&s);
    }
}

#[test]
fn proxy_header_mutations() {
    let seeds = seeds("proxy_header");
    let mut rng = Rng(0x5eed_0003);
    for _ in 0..4000 {
        let d = mutate(&mut rng, &seeds);
        props::check_proxy_header(&d);
    }
}
