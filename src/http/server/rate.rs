//! Minimum data rates (Kestrel's `MinRequestBodyDataRate` and
//! `MinResponseDataRate`): a client that sends its body, or reads its
//! response, slower than a floor is cut, so that a trickle cannot hold a
//! connection and its buffers for as long as it likes.
//!
//! The rate is measured over a recent window, not since the start: a client
//! that sends fast and then trickles is caught one window later. Windows
//! that end within the grace period are not judged.

/// A floor on a transfer's rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MinRate {
    /// Bytes per second; 0 turns the check off.
    pub bytes_per_sec: u32,
    /// Time from the transfer's start before the rate is enforced.
    pub grace_ms: u32,
    /// The span the rate is measured over.
    pub window_ms: u32,
}

impl MinRate {
    /// Kestrel's reference values: 240 bytes/s after 5 s, over 5 s windows.
    pub const DEFAULT: MinRate = MinRate { bytes_per_sec: 240, grace_ms: 5_000, window_ms: 5_000 };

    pub(crate) fn enabled(&self) -> bool {
        self.bytes_per_sec > 0 && self.window_ms > 0
    }
}

/// Measures one transfer in windows of `MinRate::window_ms`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RateMeter {
    start_ms: u64,
    window_start_ms: u64,
    window_bytes: u64,
}

/// What a check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Fast enough, or not judged yet: check again at this time.
    CheckAt(u64),
    TooSlow,
}

impl RateMeter {
    pub fn new(now_ms: u64) -> RateMeter {
        RateMeter { start_ms: now_ms, window_start_ms: now_ms, window_bytes: 0 }
    }

    pub fn record(&mut self, bytes: u64) {
        self.window_bytes += bytes;
    }

    /// Starts a fresh window, forgetting what the current one measured (the
    /// transfer was paused by our side, which is not the client's doing).
    pub fn restart_window(&mut self, now_ms: u64) {
        self.window_start_ms = now_ms;
        self.window_bytes = 0;
    }

    /// Judges the window if it is over; `None` when the check is off.
    pub fn check(&mut self, now_ms: u64, rule: &MinRate) -> Option<Verdict> {
        if !rule.enabled() {
            return None;
        }
        let window_end = self.window_start_ms + u64::from(rule.window_ms);
        if now_ms < window_end {
            return Some(Verdict::CheckAt(window_end));
        }
        let judged = now_ms - self.start_ms >= u64::from(rule.grace_ms);
        // Over the time that actually passed, which a late timer stretches.
        let elapsed = now_ms - self.window_start_ms;
        if judged && self.window_bytes * 1000 < u64::from(rule.bytes_per_sec) * elapsed {
            return Some(Verdict::TooSlow);
        }
        self.restart_window(now_ms);
        Some(Verdict::CheckAt(now_ms + u64::from(rule.window_ms)))
    }
}

/// Watches a connection between requests and while a reply is pending:
/// no traffic either way for the idle time closes it, and output that
/// waits for the client through a whole window must leave at the minimum
/// response rate.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutputWatch {
    meter: RateMeter,
    /// The connection's bytes written at the last look.
    mark: u64,
    last_io_ms: u64,
    /// Output waited for the client at the last look.
    was_waiting: bool,
}

/// What a look at the connection found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tick {
    /// Look again at this time (`u64::MAX`: no need).
    At(u64),
    /// Nothing moved for the idle time.
    Idle,
    /// The client reads too slowly.
    TooSlow,
}

impl OutputWatch {
    pub fn new(now_ms: u64, bytes_out: u64, waiting: bool) -> OutputWatch {
        OutputWatch { meter: RateMeter::new(now_ms), mark: bytes_out, last_io_ms: now_ms, was_waiting: waiting }
    }

    /// The client sent something.
    pub fn input(&mut self, now_ms: u64) {
        self.last_io_ms = now_ms;
    }

    /// Looks at the connection: `bytes_out` written so far; `waiting`:
    /// output is queued and the socket takes no more (the client is not
    /// reading; a full queue with room in the socket is our own delay, not
    /// the client's); `idle_ms` 0 means no idle limit.
    pub fn tick(&mut self, now_ms: u64, bytes_out: u64, waiting: bool, rule: &MinRate, idle_ms: u32) -> Tick {
        if bytes_out > self.mark {
            self.meter.record(bytes_out - self.mark);
            self.mark = bytes_out;
            self.last_io_ms = now_ms;
        }
        let idle_end = match idle_ms {
            0 => u64::MAX,
            ms => self.last_io_ms + u64::from(ms),
        };
        if now_ms >= idle_end {
            return Tick::Idle;
        }
        // Judged only when output waited at both ends of the window: a
        // response queued a moment ago has not had its chance yet.
        if !(waiting && self.was_waiting) {
            self.meter.restart_window(now_ms);
        }
        self.was_waiting = waiting;
        match self.meter.check(now_ms, rule) {
            Some(Verdict::TooSlow) => Tick::TooSlow,
            Some(Verdict::CheckAt(at)) => Tick::At(at.min(idle_end)),
            None => Tick::At(idle_end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: MinRate = MinRate { bytes_per_sec: 100, grace_ms: 2_000, window_ms: 1_000 };

    #[test]
    fn windows_inside_the_grace_period_are_not_judged() {
        let mut m = RateMeter::new(0);
        assert_eq!(m.check(500, &RULE), Some(Verdict::CheckAt(1_000)));
        assert_eq!(m.check(1_000, &RULE), Some(Verdict::CheckAt(2_000)));
        assert_eq!(m.check(2_000, &RULE), Some(Verdict::TooSlow));
    }

    #[test]
    fn a_fast_start_does_not_excuse_a_trickle() {
        let mut m = RateMeter::new(0);
        m.record(1_000_000);
        assert_eq!(m.check(1_000, &RULE), Some(Verdict::CheckAt(2_000)));
        m.record(150);
        assert_eq!(m.check(2_000, &RULE), Some(Verdict::CheckAt(3_000)));
        m.record(99);
        assert_eq!(m.check(3_000, &RULE), Some(Verdict::TooSlow));
    }

    #[test]
    fn a_late_check_judges_the_time_that_passed() {
        let mut m = RateMeter::new(0);
        m.record(150);
        m.restart_window(2_000);
        m.record(150);
        assert_eq!(m.check(4_000, &RULE), Some(Verdict::TooSlow));
    }

    #[test]
    fn a_reader_that_stops_is_cut_and_one_that_keeps_up_is_not() {
        let mut w = OutputWatch::new(0, 0, true);
        // 2.5 MB left in the first window (the kernel's buffers), then nothing.
        assert_eq!(w.tick(1_000, 2_500_000, true, &RULE, 60_000), Tick::At(2_000));
        assert_eq!(w.tick(2_000, 2_500_100, true, &RULE, 60_000), Tick::At(3_000));
        assert_eq!(w.tick(3_000, 2_500_150, true, &RULE, 60_000), Tick::TooSlow);
    }

    #[test]
    fn output_queued_just_now_is_not_judged() {
        let mut w = OutputWatch::new(0, 0, false);
        assert_eq!(w.tick(2_500, 0, true, &RULE, 60_000), Tick::At(3_500));
        assert_eq!(w.tick(3_500, 500_000, true, &RULE, 60_000), Tick::At(4_500));
    }

    #[test]
    fn a_socket_with_room_is_our_delay_not_the_clients() {
        let mut w = OutputWatch::new(0, 0, true);
        assert_eq!(w.tick(2_000, 0, false, &RULE, 60_000), Tick::At(3_000));
        assert_eq!(w.tick(3_000, 0, true, &RULE, 60_000), Tick::At(4_000));
        assert_eq!(w.tick(4_000, 0, true, &RULE, 60_000), Tick::TooSlow);
    }

    #[test]
    fn no_traffic_for_the_idle_time_is_idle() {
        let mut w = OutputWatch::new(0, 0, false);
        assert_eq!(w.tick(1_000, 0, false, &RULE, 1_500), Tick::At(1_500));
        w.input(1_200);
        assert_eq!(w.tick(1_500, 0, false, &RULE, 1_500), Tick::At(2_500));
        assert_eq!(w.tick(2_700, 0, false, &RULE, 1_500), Tick::Idle);
        let off = MinRate { bytes_per_sec: 0, ..RULE };
        assert_eq!(OutputWatch::new(0, 0, false).tick(10, 0, false, &off, 0), Tick::At(u64::MAX));
    }

    #[test]
    fn zero_turns_the_check_off() {
        let mut m = RateMeter::new(0);
        assert_eq!(m.check(10_000, &MinRate { bytes_per_sec: 0, ..RULE }), None);
    }
}
