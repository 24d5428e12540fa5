//! `LoopHandle::post` from many threads: every task runs exactly once, on
//! the loop thread, in each poster's order. `stop` from another thread
//! makes `run` return; a stop requested before `run` is not lost.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use c10k::Loop;
use common::Server;

const THREADS: usize = 8;
const TASKS: usize = 10_000;

#[test]
fn tasks_from_eight_threads_run_once_in_order_on_the_loop_thread() {
    let lp = Server::bare();
    let loop_thread = lp.on_loop(|_| thread::current().id());
    // Written only on the loop thread; the mutex is there to satisfy Send.
    let seen = Arc::new(Mutex::new(vec![Vec::new(); THREADS]));
    let wrong_thread = Arc::new(Mutex::new(0usize));
    let posters: Vec<_> = (0..THREADS)
        .map(|t| {
            let (handle, seen, wrong) = (lp.handle.clone(), seen.clone(), wrong_thread.clone());
            thread::spawn(move || {
                for i in 0..TASKS {
                    let (seen, wrong) = (seen.clone(), wrong.clone());
                    handle.post(Box::new(move |_| {
                        if thread::current().id() != loop_thread {
                            *wrong.lock().unwrap() += 1;
                        }
                        seen.lock().unwrap()[t].push(i);
                    }));
                }
            })
        })
        .collect();
    for p in posters {
        p.join().unwrap();
    }
    // Posted after every other task, so it runs after them.
    lp.on_loop(|_| ());
    assert_eq!(*wrong_thread.lock().unwrap(), 0, "tasks ran off the loop thread");
    let seen = seen.lock().unwrap();
    for (t, order) in seen.iter().enumerate() {
        assert_eq!(order.len(), TASKS, "thread {t}: tasks lost or run twice");
        assert!(order.iter().enumerate().all(|(k, &i)| k == i), "thread {t}: tasks out of order");
    }
    lp.finish();
}

#[test]
fn stop_from_another_thread_makes_run_return() {
    let (tx, rx) = mpsc::channel();
    let looper = thread::spawn(move || {
        let lp = Loop::new().unwrap();
        tx.send(lp.handle()).unwrap();
        let result = lp.run();
        (result, lp.open_handles())
    });
    let handle = rx.recv().unwrap();
    common::on_loop(&handle, |_| ()); // the loop is running
    handle.stop();
    let (result, open) = looper.join().unwrap();
    assert_eq!(result, Ok(()));
    assert_eq!(open, (0, 0));
}

#[test]
fn a_stop_before_run_makes_run_return_at_once() {
    let (tx, rx) = mpsc::channel();
    let looper = thread::spawn(move || {
        let lp = Loop::new().unwrap();
        lp.handle().stop();
        tx.send(lp.run()).unwrap();
        // A stop is used once: the next run waits for a new one.
        let handle = lp.handle();
        let stopper = thread::spawn(move || {
            thread::sleep(std::time::Duration::from_millis(50));
            handle.stop();
        });
        let second = lp.run();
        stopper.join().unwrap();
        (second, lp.open_handles())
    });
    let first = rx.recv_timeout(common::PATIENCE).expect("run did not return after a stop requested before it");
    assert_eq!(first, Ok(()));
    let (second, open) = looper.join().unwrap();
    assert_eq!(second, Ok(()));
    assert_eq!(open, (0, 0));
}

#[test]
fn run_once_reports_a_stop_request_once() {
    let lp = c10k::Loop::new().unwrap();
    let zero = Some(std::time::Duration::ZERO);
    assert!(!lp.run_once(zero).unwrap());
    let handle = lp.handle();
    std::thread::spawn(move || handle.stop()).join().unwrap();
    assert!(lp.run_once(zero).unwrap(), "the stop request was lost");
    assert!(!lp.run_once(zero).unwrap(), "the stop request was not consumed");
}
