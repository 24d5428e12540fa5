//! The HTTP/1.1 codec: pure functions over byte slices, no sockets.
//!
//! - [`request`]: parse a request head into positions ([`Head`]).
//! - [`target`]: the request-target forms and the Host/authority syntax.
//! - [`body`]: decode a Content-Length or chunked body incrementally.
//! - [`response`]: serialise response heads, chunks and error responses.
//! - [`date`]: IMF-fixdate formatting and caching; parsing of all three HTTP-date forms.
//! - [`limits`], [`error`]: the bounds and the status-carrying error.

pub mod body;
mod chars;
pub mod date;
pub mod error;
pub mod limits;
pub mod request;
pub mod response;
pub mod server;
pub mod target;

#[cfg(test)]
mod corpus;

pub use body::{BodyDecoder, ChunkedDecoder, Decoded};
pub use date::{DateCache, HTTP_DATE_LEN, format_http_date, http_date, parse_http_date, unix_secs};
pub use error::HttpError;
pub use limits::Limits;
pub use request::{BodyKind, HEADER_CAPACITY, Head, Method, Span, parse_head, parse_head_into, percent_decode};
pub use response::{
    BodyMode, CONTINUE, HeadOptions, InvalidHead, ResponseFraming, WrittenHead, head_size, reason_phrase, valid_reason,
    validate_header, write_chunk, write_error, write_head, write_last_chunk,
};
pub use target::TargetForm;
