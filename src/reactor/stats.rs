//! Per-loop counters. One thread writes them (the loop's), any thread reads
//! them: plain load-and-store of relaxed atomics, no locked instructions.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

macro_rules! counters {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// Counters one loop keeps.
        #[derive(Default)]
        pub struct Counters { $( $(#[$doc])* pub $name: AtomicU64, )* }

        /// A snapshot of the counters.
        #[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
        pub struct Snapshot { $( $(#[$doc])* pub $name: u64, )* }

        impl Counters {
            pub fn snapshot(&self) -> Snapshot {
                Snapshot { $( $name: self.$name.load(Relaxed), )* }
            }
        }

        impl std::ops::AddAssign for Snapshot {
            fn add_assign(&mut self, other: Snapshot) {
                $( self.$name += other.$name; )*
            }
        }
    };
}

counters! {
    /// Connections open now.
    open_connections,
    /// Connections accepted since the loop started.
    accepted,
    /// Connections closed since the loop started.
    closed,
    /// Bytes read from sockets.
    bytes_in,
    /// Bytes written to sockets.
    bytes_out,
    /// Times accepting paused because descriptors ran out (EMFILE/ENFILE).
    accept_pauses,
    /// Connections closed by an idle, header or body timeout.
    timeouts,
    /// HTTP requests whose head was parsed.
    requests,
    /// HTTP responses with a 1xx status (101 included).
    responses_1xx,
    /// HTTP responses with a 2xx status.
    responses_2xx,
    /// HTTP responses with a 3xx status.
    responses_3xx,
    /// HTTP responses with a 4xx status.
    responses_4xx,
    /// HTTP responses with a 5xx status.
    responses_5xx,
    /// Requests answered 503 because the worker pool's queue was full.
    pool_rejections,
    /// Calls into the host's request callbacks: one per request with
    /// `on_request`, one per batch with `on_requests`. Divided by
    /// `requests`: the host's crossings per request.
    request_callbacks,
}

/// Adds `n` to a counter only this thread writes.
#[inline]
pub fn add(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

/// Subtracts `n` from a counter only this thread writes.
#[inline]
pub fn sub(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_sub(n), Relaxed);
}
