//! A host can nest the loop in its own: wait for `fd()` to be readable
//! with `next_timeout_ms()`, then `run_once(Some(ZERO))`. Echo and timers
//! work that way, and `run_once` with a zero timeout never blocks.
#![cfg(not(polling_test_poll_backend))] // that backend has no descriptor to nest

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use c10k::Loop;

#[test]
fn a_nested_loop_echoes_and_fires_timers() {
    let lp = Loop::new().unwrap();
    let listener =
        lp.listen(&"127.0.0.1:0".parse().unwrap(), &Default::default(), Box::new(common::EchoAcceptor)).unwrap();
    let addr = lp.listener_addr(listener).unwrap();
    let fired = Rc::new(Cell::new(0));
    let f = fired.clone();
    lp.timer_start(30, 0, Box::new(move |_, _| f.set(f.get() + 1)));
    let client = thread::spawn(move || {
        let mut c = common::client(addr);
        let echoed = common::round_trip(&mut c, b"nested echo");
        drop(c);
        echoed
    });
    common::drive_until(&lp, "the client is done and the timer fired", |_| client.is_finished() && fired.get() == 1);
    assert_eq!(client.join().unwrap(), b"nested echo");
    common::drive_until(&lp, "the echo connection closed", |lp| lp.stats().snapshot().open_connections == 0);
    assert_eq!(fired.get(), 1);
    assert_eq!(lp.next_timeout_ms(), None, "no timer is left");
    lp.listener_close(listener).unwrap();
    assert_eq!(lp.open_handles(), (0, 0));
}

/// With nothing to do and no timer, `run_once(Some(ZERO))` returns at
/// once: a watchdog wakes the loop after 5 s, and must not have been needed.
#[test]
fn run_once_with_zero_timeout_does_not_block() {
    let lp = Loop::new().unwrap();
    let handle = lp.handle();
    let (cancel, cancelled) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        let needed = cancelled.recv_timeout(Duration::from_secs(5)).is_err();
        if needed {
            handle.post(Box::new(|_| ()));
        }
        needed
    });
    for _ in 0..100 {
        lp.run_once(Some(Duration::ZERO)).unwrap();
    }
    cancel.send(()).unwrap();
    assert!(!watchdog.join().unwrap(), "run_once(ZERO) blocked until the watchdog woke it");
    assert!(!common::loop_fd_ready(&lp, 0), "an idle loop reports work");
    assert_eq!(lp.open_handles(), (0, 0));
}
