//! The response writer: handler headers are validated so that `write_head`
//! never emits a CR or LF of theirs, and what it writes parses back.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| c10k_fuzz::check_response_head(data));
