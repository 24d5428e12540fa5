//! Size limits applied while parsing requests.
//!
//! Every limit exists so that one peer cannot make the server hold an
//! unbounded amount of memory or work for a single request.

/// Bounds on what one request may make the server buffer or count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Request line plus header fields, including the final empty line.
    /// Exceeding it answers 431.
    pub max_head_bytes: usize,
    /// Number of header fields, and separately of chunked trailer fields.
    /// Exceeding it answers 431. Values above
    /// [`crate::http::request::HEADER_CAPACITY`] are capped to it, because a
    /// parsed head keeps its header positions inline to avoid allocating.
    pub max_headers: usize,
    /// Body size, declared (Content-Length) or decoded (chunked).
    /// Exceeding it answers 413.
    pub max_body_bytes: u64,
    /// Chunk extensions plus trailer fields of one chunked body: the bytes
    /// that are neither data nor framing digits. Exceeding it answers 431.
    pub max_chunk_ext_and_trailer_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head_bytes: 8192,
            max_headers: 100,
            max_body_bytes: 1024 * 1024,
            max_chunk_ext_and_trailer_bytes: 8192,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_documented_values() {
        let l = Limits::default();
        assert_eq!(l.max_head_bytes, 8192);
        assert_eq!(l.max_headers, 100);
        assert_eq!(l.max_body_bytes, 1_048_576);
        assert_eq!(l.max_chunk_ext_and_trailer_bytes, 8192);
    }
}
