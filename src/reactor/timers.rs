//! Timers on a binary heap with lazy cancellation. User timers and the
//! sources' own timers (idle timeouts, accept back-off) share the one heap:
//! an entry names what it is for, and the owner checks on expiry whether it
//! still applies.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::slab::Slab;

/// What an expired heap entry is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Due {
    /// A user timer: slot and generation in the timer slab.
    User(u32, u32),
    /// A source's own timer (a connection's idle deadline, a listener's
    /// pause after EMFILE): slot and generation of the source.
    Source(u32, u32),
}

pub type TimerFn = Box<dyn FnMut(&super::Loop, super::TimerId)>;

pub struct UserTimer {
    pub callback: Option<TimerFn>,
    pub repeat_ms: u64,
    pub deadline: u64,
}

#[derive(Default)]
pub struct Timers {
    heap: BinaryHeap<Reverse<(u64, Due)>>,
    pub user: Slab<UserTimer>,
}

impl Timers {
    pub fn schedule(&mut self, deadline_ms: u64, due: Due) {
        self.heap.push(Reverse((deadline_ms, due)));
    }

    /// The earliest deadline, if any (possibly of a cancelled entry: waking
    /// early is harmless, waking late is not).
    pub fn next_deadline(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((d, _))| *d)
    }

    /// The earliest entry, cancelled or not.
    pub fn peek(&self) -> Option<(u64, Due)> {
        self.heap.peek().map(|Reverse(e)| *e)
    }

    /// Drops the earliest entry.
    pub fn pop(&mut self) {
        self.heap.pop();
    }

    /// Pops one entry due at `now_ms`.
    pub fn pop_due(&mut self, now_ms: u64) -> Option<(u64, Due)> {
        match self.heap.peek() {
            Some(Reverse((d, _))) if *d <= now_ms => self.heap.pop().map(|Reverse(e)| e),
            _ => None,
        }
    }

    /// Starts a user timer; returns its slot and generation.
    pub fn start(&mut self, now_ms: u64, delay_ms: u64, repeat_ms: u64, callback: TimerFn) -> (u32, u32) {
        let deadline = now_ms.saturating_add(delay_ms);
        let (slot, generation) = self.user.insert(UserTimer { callback: Some(callback), repeat_ms, deadline });
        self.schedule(deadline, Due::User(slot, generation));
        (slot, generation)
    }

    /// Drops cancelled entries once they outnumber the live ones, so that a
    /// start/stop churn cannot grow the heap without bound.
    pub fn compact(&mut self, live_hint: usize) {
        if self.heap.len() > 64 && self.heap.len() > 4 * (live_hint + self.user.len()) {
            let user = &self.user;
            self.heap.retain(|Reverse((d, due))| match due {
                Due::User(s, g) => user.get(*s, *g).is_some_and(|t| t.deadline == *d),
                _ => true,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_deadline_order_only_when_due() {
        let mut t = Timers::default();
        t.schedule(30, Due::Source(1, 1));
        t.schedule(10, Due::Source(2, 1));
        t.schedule(20, Due::Source(3, 1));
        assert_eq!(t.next_deadline(), Some(10));
        assert_eq!(t.pop_due(5), None);
        assert_eq!(t.pop_due(25), Some((10, Due::Source(2, 1))));
        assert_eq!(t.pop_due(25), Some((20, Due::Source(3, 1))));
        assert_eq!(t.pop_due(25), None);
    }
}
