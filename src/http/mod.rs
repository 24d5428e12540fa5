//! The HTTP/1.1 codec: pure functions over byte slices, no sockets.

pub mod body;
pub mod date;
pub mod error;
pub mod limits;
pub mod request;

pub use body::{BodyDecoder, ChunkedDecoder, Decoded};
pub use date::{DateCache, format_http_date, http_date, parse_http_date};
pub use error::HttpError;
pub use limits::Limits;
pub use request::{BodyKind, Head, Method, Span, parse_head, percent_decode};
