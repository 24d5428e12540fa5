//! The PROXY protocol parser: strict, incremental, never past its header.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| c10k_fuzz::check_proxy_header(data));
