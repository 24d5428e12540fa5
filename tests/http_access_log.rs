//! The access log: one Common Log Format line per response, for inline and
//! deferred answers, in a file the host gave, written within a second.

mod http_support;

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::sync::{Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use c10k::http::server::{Body, HttpConfig, reply};
use http_support::*;

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Checks `127.0.0.1 - - [dd/Mon/yyyy:hh:mm:ss +0000] "REQUEST" STATUS BYTES`
/// and returns the part after the timestamp.
fn after_clf_prefix(line: &str) -> &str {
    let rest = line.strip_prefix("127.0.0.1 - - [").unwrap_or_else(|| panic!("{line:?}"));
    let (stamp, rest) = rest.split_once("] ").unwrap_or_else(|| panic!("{line:?}"));
    let b = stamp.as_bytes();
    assert_eq!(stamp.len(), 26, "{stamp:?}");
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    assert!(digits(0..2) && b[2] == b'/' && MONTHS.contains(&&stamp[3..6]) && b[6] == b'/', "{stamp:?}");
    assert!(digits(7..11) && b[11] == b':' && digits(12..14) && b[14] == b':' && digits(15..17), "{stamp:?}");
    assert!(b[17] == b':' && digits(18..20) && &stamp[20..] == " +0000", "{stamp:?}");
    rest
}

/// Waits up to about a second for `count` lines in `file`.
fn lines(file: &mut File, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_millis(1500);
    loop {
        let mut text = String::new();
        file.rewind().unwrap();
        file.read_to_string(&mut text).unwrap();
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        if lines.len() >= count || Instant::now() > deadline {
            return lines;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn log_file(name: &str) -> File {
    let path = std::env::temp_dir().join(format!("c10k-{name}-{}.log", std::process::id()));
    let file = File::options().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    file
}

#[test]
fn inline_responses_are_logged_in_common_log_format() {
    let mut file = log_file("inline");
    let config = HttpConfig { access_log_fd: Some(file.as_raw_fd()), ..HttpConfig::default() };
    let server = serve(config, Hello);
    let mut s = connect(server.addr);
    s.write_all(
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .unwrap();
    read_message(&mut s, false);
    read_message(&mut s, false);
    read_message(&mut s, true);
    s.write_all(b"POST /echo?a=\"b\" HTTP/1.0\r\nContent-Length: 4\r\n\r\nabcd").unwrap();
    read_message(&mut s, false);
    let got = lines(&mut file, 4);
    let tails: Vec<&str> = got.iter().map(|l| after_clf_prefix(l)).collect();
    // A quote cannot be in a request target (RFC 3986): the request is
    // refused, and its untrusted request line logged as "-".
    assert_eq!(
        tails,
        ["\"GET / HTTP/1.1\" 200 13", "\"GET /x HTTP/1.1\" 404 9", "\"HEAD / HTTP/1.1\" 200 0", "\"-\" 400 23"]
    );
}

#[test]
fn deferred_responses_are_logged_too() {
    let mut file = log_file("deferred");
    let config = HttpConfig { access_log_fd: Some(file.as_raw_fd()), ..HttpConfig::default() };
    let (tx, rx) = mpsc::channel::<reply::ReplyId>();
    let worker = thread::spawn(move || {
        for id in rx {
            reply::send(id, 201, &[], Body::Bytes(b"created")).unwrap();
        }
    });
    let tx = Mutex::new(tx);
    let server = serve(config, handler(move |req| tx.lock().unwrap().send(req.defer().unwrap()).unwrap()));
    let mut s = connect(server.addr);
    s.write_all(b"PUT /thing HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_message(&mut s, false).status, 201);
    let got = lines(&mut file, 1);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(after_clf_prefix(&got[0]), "\"PUT /thing HTTP/1.1\" 201 7");
    drop(server);
    worker.join().unwrap();
}

#[test]
fn refused_requests_and_unanswered_handlers_are_logged_too() {
    let mut file = log_file("refused");
    let config = HttpConfig { access_log_fd: Some(file.as_raw_fd()), ..HttpConfig::default() };
    let server = serve(
        config,
        handler(|req| {
            if req.path() != b"/mute" {
                req.respond(200, &[], Body::Bytes(b"ok")).unwrap()
            }
        }),
    );
    // A malformed request has no trustworthy request line: "-".
    exchange_until_close(server.addr, b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n");
    let got = lines(&mut file, 1);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(after_clf_prefix(&got[0]), "\"-\" 400 26");
    // A handler that does not answer gets a 500 in its name.
    exchange_until_close(server.addr, b"GET /mute HTTP/1.1\r\nHost: x\r\n\r\n");
    let got = lines(&mut file, 2);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(after_clf_prefix(&got[1]), "\"GET /mute HTTP/1.1\" 500 27");
}
