//! Timers: a one-shot fires once, no earlier than its delay; a repeating
//! timer fires until it stops itself; a stopped or ended timer never fires
//! and answers `C10K_ECLOSED`. Connection timeouts: an idle connection is
//! closed with `C10K_ETIMEDOUT`, a busy one is not, unless its timeout is a
//! fixed deadline.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use c10k::error::{C10K_ECLOSED, C10K_ETIMEDOUT};
use common::{Ev, Log, Probe, Server};

fn bump(counter: &AtomicUsize) {
    counter.fetch_add(1, Ordering::SeqCst);
}

/// Gives a misbehaving timer the chance to fire again.
fn linger() {
    thread::sleep(Duration::from_millis(150));
}

#[test]
fn a_one_shot_timer_fires_once_after_its_delay() {
    let lp = Server::bare();
    let fired = Arc::new(Mutex::new(Vec::new()));
    let f = fired.clone();
    let (start, id) = lp.on_loop(move |lp| {
        let start = Instant::now();
        let id = lp.timer_start(50, 0, Box::new(move |_, _| f.lock().unwrap().push(Instant::now())));
        (start, id)
    });
    common::wait_until("the timer fired", || !fired.lock().unwrap().is_empty());
    linger();
    let fired = fired.lock().unwrap().clone();
    assert_eq!(fired.len(), 1, "a one-shot timer fired {} times", fired.len());
    let waited = fired[0] - start;
    assert!(waited >= Duration::from_millis(50), "fired after {waited:?}, before its 50 ms delay");
    assert_eq!(lp.on_loop(move |lp| lp.timer_stop(id)), Err(C10K_ECLOSED), "stopping an ended timer");
    lp.finish();
}

/// While a 1 ms timer keeps the loop busy, one-shot timers started at
/// every point of a millisecond still wait their whole delay: a deadline
/// kept in whole milliseconds must round the start up, not down.
#[test]
fn one_shot_timers_never_fire_early_on_a_busy_loop() {
    let lp = Server::bare();
    let early = Arc::new(Mutex::new(Vec::new()));
    let fired = Arc::new(AtomicUsize::new(0));
    let (e, f) = (early.clone(), fired.clone());
    let ticker = lp.on_loop(|lp| lp.timer_start(1, 1, Box::new(|_, _| {})));
    for i in 0..40u64 {
        let (e, f) = (e.clone(), f.clone());
        lp.on_loop(move |lp| {
            let start = Instant::now();
            let delay = 5 + i % 7;
            lp.timer_start(
                delay,
                0,
                Box::new(move |_, _| {
                    let waited = start.elapsed();
                    if waited < Duration::from_millis(delay) {
                        e.lock().unwrap().push((delay, waited));
                    }
                    bump(&f);
                }),
            );
        });
        thread::sleep(Duration::from_micros(130));
    }
    common::wait_until("every timer fired", || fired.load(Ordering::SeqCst) == 40);
    assert_eq!(*early.lock().unwrap(), vec![], "timers that fired before their delay (delay ms, waited)");
    assert_eq!(lp.on_loop(move |lp| lp.timer_stop(ticker)), Ok(()));
    lp.finish();
}

#[test]
fn a_repeating_timer_fires_until_it_stops_itself() {
    let lp = Server::bare();
    let count = Arc::new(AtomicUsize::new(0));
    let stop_result = Arc::new(Mutex::new(None));
    let (c, s) = (count.clone(), stop_result.clone());
    let id = lp.on_loop(move |lp| {
        lp.timer_start(
            5,
            10,
            Box::new(move |lp, me| {
                if c.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
                    *s.lock().unwrap() = Some(lp.timer_stop(me));
                }
            }),
        )
    });
    common::wait_until("the timer fired five times", || count.load(Ordering::SeqCst) >= 5);
    linger();
    assert_eq!(count.load(Ordering::SeqCst), 5);
    assert_eq!(*stop_result.lock().unwrap(), Some(Ok(())));
    assert_eq!(lp.on_loop(move |lp| lp.timer_stop(id)), Err(C10K_ECLOSED));
    lp.finish();
}

#[test]
fn a_stopped_timer_never_fires() {
    let lp = Server::bare();
    let fired = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::new()));
    let (f, d, r) = (fired.clone(), done.clone(), results.clone());
    lp.on_loop(move |lp| {
        // Stopped at once.
        let f1 = f.clone();
        let a = lp.timer_start(20, 0, Box::new(move |_, _| bump(&f1)));
        r.lock().unwrap().push(lp.timer_stop(a));
        // Stopped by another timer's callback before it is due, in the same turn as its deadline would be near.
        let f2 = f.clone();
        let b = lp.timer_start(40, 5, Box::new(move |_, _| bump(&f2)));
        let r2 = r.clone();
        lp.timer_start(30, 0, Box::new(move |lp, _| r2.lock().unwrap().push(lp.timer_stop(b))));
        // Marks the end of the test, well after both deadlines.
        lp.timer_start(120, 0, Box::new(move |_, _| bump(&d)));
    });
    common::wait_until("the last timer fired", || done.load(Ordering::SeqCst) == 1);
    assert_eq!(fired.load(Ordering::SeqCst), 0, "a stopped timer fired");
    assert_eq!(*results.lock().unwrap(), vec![Ok(()), Ok(())]);
    lp.finish();
}

/// A server whose connections get a 150 ms timeout (`reset_on_io` as given).
fn timeout_server(log: &Log, reset_on_io: bool) -> Server {
    let l = log.clone();
    common::probe_server("127.0.0.1:0", move || {
        Probe::new(&l).on_open(move |lp, conn| lp.conn_set_timeout(conn, 150, reset_on_io).unwrap())
    })
}

/// Sends a byte every 20 ms for `rounds` rounds, checking each echo;
/// returns how many rounds went through.
fn keep_busy(addr: std::net::SocketAddr, rounds: usize) -> usize {
    let mut c = common::client(addr);
    for i in 0..rounds {
        let byte = [b'a' + (i % 26) as u8];
        if c.write_all(&byte).is_err() || common::read_exact_or_err(&mut c, 1).ok().as_deref() != Some(&byte[..]) {
            return i;
        }
        thread::sleep(Duration::from_millis(20));
    }
    rounds
}

#[test]
fn an_idle_connection_times_out_and_a_busy_one_does_not() {
    let log = Log::default();
    let server = timeout_server(&log, true);
    let addr = server.addr;
    let busy = thread::spawn(move || keep_busy(addr, 30));
    let mut idle = common::client(server.addr);
    let (got, _reset_or_eof) = common::read_to_eof(&mut idle);
    assert!(got.is_empty());
    assert_eq!(busy.join().unwrap(), 30, "the busy connection was closed");
    log.wait_for_closes(2);
    let closes = log.closes();
    assert_eq!(closes[0].1, C10K_ETIMEDOUT, "the idle connection closed first, timed out");
    assert_eq!(log.of(closes[0].0), vec![Ev::Open, Ev::Timeout, Ev::Close(C10K_ETIMEDOUT)]);
    assert_eq!(closes[1].1, 0, "the busy connection closed cleanly when its client left");
    assert!(!log.of(closes[1].0).contains(&Ev::Timeout));
    assert_eq!(server.handle.stats().timeouts, 1);
    drop(idle);
    server.finish();
}

#[test]
fn a_fixed_deadline_closes_even_a_busy_connection() {
    let log = Log::default();
    let server = timeout_server(&log, false);
    let rounds = keep_busy(server.addr, 30);
    assert!(rounds < 30, "the deadline did not close the busy connection");
    log.wait_for_closes(1);
    assert_eq!(log.closes()[0].1, C10K_ETIMEDOUT);
    server.finish();
}
