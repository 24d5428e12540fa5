//! The HTTP server's exports, one job per file: settings, listening,
//! the request view, answers, deferred replies, percent-decoding.
//! (Declared in the order the header lists them.)

mod config;

mod listen;

mod request;

mod percent;

mod respond;

mod reply;

mod files;

pub use config::*;
pub use listen::*;
pub use percent::*;
pub use reply::*;
pub use request::*;
pub use respond::*;
