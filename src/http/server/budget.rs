//! The process-wide budget for request bodies buffered in memory.
//!
//! Each listener bounds one body (`Limits::max_body_bytes`); this bounds
//! them all together, so that many clients each sending most of a large
//! body cannot add up to an unbounded amount of memory. A body is charged
//! for the memory it holds (its declared length when it has one, charged
//! before a byte of it is read; its buffer's capacity when chunked) and
//! released when the request is done with it. A body that does not fit is
//! refused with 503; hosts that take larger bodies stream them
//! (`HttpConfig::stream_bodies`), which buffers nothing.

use std::sync::atomic::{AtomicU64, Ordering};

/// A total of charged bytes with a ceiling given at each charge.
pub(crate) struct Budget {
    charged: AtomicU64,
}

/// The one budget of the process's buffered bodies.
pub(crate) static PROCESS: Budget = Budget { charged: AtomicU64::new(0) };

/// Bytes of request bodies the process holds right now.
pub fn buffered_body_bytes() -> u64 {
    PROCESS.charged.load(Ordering::Relaxed)
}

impl Budget {
    /// Adds `n` unless the total would pass `limit`.
    fn charge(&self, n: u64, limit: u64) -> bool {
        self.charged
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |total| {
                total.checked_add(n).filter(|&after| after <= limit)
            })
            .is_ok()
    }

    fn release(&self, n: u64) {
        self.charged.fetch_sub(n, Ordering::AcqRel);
    }
}

/// A request body being buffered, charged to the budget until dropped.
pub(crate) struct BodyBuffer {
    budget: &'static Budget,
    bytes: Vec<u8>,
    /// What this body holds of the budget.
    charged: u64,
    /// The declared length, already charged: the buffer grows to it at once.
    declared: Option<u64>,
}

/// The budget cannot take this body: answer 503.
pub(crate) struct OverBudget;

impl BodyBuffer {
    /// A buffer for a body of `len` declared bytes, charged now, so that a
    /// body that cannot fit is refused before it is read.
    pub fn declared(budget: &'static Budget, len: u64, limit: u64) -> Result<BodyBuffer, OverBudget> {
        if !budget.charge(len, limit) {
            return Err(OverBudget);
        }
        Ok(BodyBuffer { budget, bytes: Vec::new(), charged: len, declared: Some(len) })
    }

    /// A buffer for a body of unknown length (chunked), charged as it grows.
    pub fn growing(budget: &'static Budget) -> BodyBuffer {
        BodyBuffer { budget, bytes: Vec::new(), charged: 0, declared: None }
    }

    /// Appends `data`. A body without a declared length grows by doubling,
    /// each growth charged first.
    pub fn extend(&mut self, data: &[u8], limit: u64) -> Result<(), OverBudget> {
        let need = self.bytes.len() + data.len();
        if need > self.bytes.capacity() {
            let target = match self.declared {
                Some(len) => need.max(len as usize),
                None => {
                    let target = need.max(self.bytes.capacity() * 2).max(4096);
                    let extra = (target - self.bytes.capacity()) as u64;
                    if !self.budget.charge(extra, limit) {
                        return Err(OverBudget);
                    }
                    self.charged += extra;
                    target
                }
            };
            self.bytes.reserve_exact(target - self.bytes.len());
        }
        self.bytes.extend_from_slice(data);
        Ok(())
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for BodyBuffer {
    fn drop(&mut self) {
        self.budget.release(self.charged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_charged_until_dropped_and_refused_past_the_limit() {
        let budget: &'static Budget = Box::leak(Box::new(Budget { charged: AtomicU64::new(0) }));
        let total = || budget.charged.load(Ordering::Relaxed);
        let limit = 12_000;
        let mut a = BodyBuffer::declared(budget, 6_000, limit).ok().unwrap();
        assert_eq!(total(), 6_000);
        assert!(BodyBuffer::declared(budget, 7_000, limit).is_err());
        a.extend(b"hello", limit).ok().unwrap();
        assert_eq!(a.as_slice(), b"hello");
        assert_eq!(total(), 6_000);
        let mut chunked = BodyBuffer::growing(budget);
        chunked.extend(&[1; 3000], limit).ok().unwrap();
        assert_eq!(total(), 6_000 + 4096);
        assert!(chunked.extend(&[1; 2000], limit).is_err());
        drop(a);
        chunked.extend(&[1; 2000], limit).ok().unwrap();
        assert_eq!(chunked.as_slice().len(), 5000);
        assert_eq!(total(), 8192);
        drop(chunked);
        assert_eq!(total(), 0);
    }
}
