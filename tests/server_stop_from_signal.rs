//! A stop requested from a signal handler (async-signal-safe
//! `request_stop`) ends both `run` and `start` + `wait`. In a file of its
//! own: a process-wide signal must not land in other tests' threads.

mod server_support;

use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::thread;
use std::time::Duration;

use c10k::server::{Server, ServerConfig};
use server_support::*;

static SERVER: AtomicPtr<Server> = AtomicPtr::new(std::ptr::null_mut());

extern "C" fn on_sigusr1(_: libc::c_int) {
    // SAFETY: the pointer is set while the server lives; request_stop is async-signal-safe.
    if let Some(server) = unsafe { SERVER.load(Ordering::Acquire).as_ref() } {
        server.request_stop();
    }
}

#[test]
fn a_signal_handler_stops_run_and_wait() {
    // SAFETY: installing a handler that only calls async-signal-safe code.
    unsafe { libc::signal(libc::SIGUSR1, on_sigusr1 as *const () as libc::sighandler_t) };
    for use_run in [true, false] {
        let server = Box::new(Server::new(ServerConfig { loops: 2, ..Default::default() }).unwrap());
        server
            .http_listen("127.0.0.1:0".parse().unwrap(), Default::default(), Default::default(), Arc::new(Sleepy))
            .unwrap();
        SERVER.store(&*server as *const Server as *mut Server, Ordering::Release);
        let server: &'static Server = Box::leak(server);
        let runner =
            thread::spawn(move || if use_run { server.run() } else { server.start().and_then(|()| server.wait()) });
        while server.addrs().is_empty() {
            thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(get(server.addrs()[0], "/"), 200);
        // SAFETY: sends a signal to this process.
        unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) };
        runner.join().unwrap().unwrap();
        assert!(TcpStream::connect(server.addrs()[0]).is_err(), "still listening after the stop");
        SERVER.store(std::ptr::null_mut(), Ordering::Release);
    }
}
