//! The request path (head parsing, body decoding, pipelining): the same
//! bytes cut at arbitrary points frame into the same requests, bodies and
//! errors as when they arrive in one read.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| c10k_fuzz::check_request_split(data));
