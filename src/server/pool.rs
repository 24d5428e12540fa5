//! The worker pool: threads that run blocking handlers, fed by a bounded
//! queue (`parking_lot` mutex and condvar). The loops never wait on it:
//! when the queue is full they answer 503 at once.

use std::collections::VecDeque;
use std::sync::Arc;
use std::thread;

use parking_lot::{Condvar, Mutex};

use crate::http::server::{Body, HttpHandler, OwnedRequest, ReplyId, Request, reply};
use crate::reactor::stats::add;

type Job = Box<dyn FnOnce() + Send>;

struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

pub(crate) struct Pool {
    queue: Mutex<Queue>,
    ready: Condvar,
    limit: usize,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
}

impl Pool {
    /// Starts `workers` threads, marked as server `server`'s own.
    pub fn start(workers: usize, limit: usize, server: u64) -> Arc<Pool> {
        let pool = Arc::new(Pool {
            queue: Mutex::new(Queue { jobs: VecDeque::new(), closed: false }),
            ready: Condvar::new(),
            limit,
            threads: Mutex::new(Vec::new()),
        });
        let threads = (0..workers)
            .map(|i| {
                let pool = pool.clone();
                thread::Builder::new()
                    .name(format!("c10k-worker-{i}"))
                    .spawn(move || {
                        super::owner::enter(server);
                        pool.work()
                    })
                    .expect("spawning a worker thread")
            })
            .collect();
        *pool.threads.lock() = threads;
        pool
    }

    fn work(&self) {
        loop {
            let job = {
                let mut queue = self.queue.lock();
                loop {
                    if let Some(job) = queue.jobs.pop_front() {
                        break job;
                    }
                    if queue.closed {
                        return;
                    }
                    self.ready.wait(&mut queue);
                }
            };
            job();
        }
    }

    /// Queues `job`, or gives it back when the queue is full or closed.
    fn try_push(&self, job: Job) -> Result<(), Job> {
        let mut queue = self.queue.lock();
        if queue.closed || queue.jobs.len() >= self.limit {
            return Err(job);
        }
        queue.jobs.push_back(job);
        drop(queue);
        self.ready.notify_one();
        Ok(())
    }

    /// Lets the queued jobs finish, then joins the threads.
    pub fn shutdown(&self) {
        self.queue.lock().closed = true;
        self.ready.notify_all();
        for t in self.threads.lock().drain(..) {
            let _ = t.join();
        }
    }
}

/// Runs a shared handler on the pool: the loop defers each request, copies
/// it, and a worker answers it through the thread-safe reply functions.
pub(crate) struct Pooled {
    pub inner: Arc<dyn HttpHandler + Send + Sync>,
    pub pool: Arc<Pool>,
}

impl HttpHandler for Pooled {
    fn on_request(&self, req: &mut Request<'_>) {
        let Ok(owned) = req.hand_off() else { return };
        let reply = owned.reply();
        let inner = self.inner.clone();
        let job: Job = Box::new(move || serve(&owned, &*inner));
        if self.pool.try_push(job).is_err() {
            if let Some(lp) = req.inline_loop() {
                add(&lp.stats().pool_rejections, 1);
            }
            let headers: &[(&[u8], &[u8])] = &[(b"Content-Type", b"text/plain"), (b"Retry-After", b"1")];
            let _ = reply::send(reply, 503, headers, Body::Bytes(b"the worker pool is full\n"));
        }
    }
    fn on_abort(&self, reply: ReplyId) {
        self.inner.on_abort(reply);
    }
    fn on_drain(&self, reply: ReplyId) {
        self.inner.on_drain(reply);
    }
    fn on_body(&self, reply: ReplyId, data: &[u8], end: bool) -> bool {
        if matches!(reply::state(reply), Some(reply::ReplyState::Ended { .. })) {
            // Answered already (the queue was full, or the handler did not
            // want the body): the rest is read and dropped.
            return true;
        }
        self.inner.on_body(reply, data, end)
    }
}

fn serve(req: &OwnedRequest, handler: &(dyn HttpHandler + Send + Sync)) {
    req.serve(|r| handler.on_request(r));
}

/// Forwards a handler shared by several loops.
pub(crate) struct Shared(pub Arc<dyn HttpHandler + Send + Sync>);

impl HttpHandler for Shared {
    fn on_request(&self, req: &mut Request<'_>) {
        self.0.on_request(req);
    }
    fn batched(&self) -> bool {
        self.0.batched()
    }
    fn on_requests(&self, reqs: &mut [Request<'_>]) {
        self.0.on_requests(reqs);
    }
    fn on_abort(&self, reply: ReplyId) {
        self.0.on_abort(reply);
    }
    fn on_drain(&self, reply: ReplyId) {
        self.0.on_drain(reply);
    }
    fn on_body(&self, reply: ReplyId, data: &[u8], end: bool) -> bool {
        self.0.on_body(reply, data, end)
    }
}
