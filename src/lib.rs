//! c10k: C10K multiplexing for programs written in other languages.
pub mod http;
