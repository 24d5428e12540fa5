//! Requests gathered over a loop turn for a handler that takes them
//! together ([`super::HttpHandler::on_requests`]): an interpreted host then
//! enters its interpreter once per turn instead of once per request.
//!
//! Each request is deferred and copied as it is parsed; at the end of the
//! turn the listener's requests go to the handler in one call, and its
//! answers are written with the rest of the turn's output.

use std::cell::RefCell;
use std::rc::Rc;

use super::reply::{self, ReplyId};
use super::{OwnedRequest, Request, Service};
use crate::reactor::Loop;
use crate::reactor::stats::add;

/// The requests of one listener waiting for the end of the turn.
#[derive(Default)]
pub(crate) struct Batch {
    pending: RefCell<Vec<OwnedRequest>>,
    /// The vector of the last batch delivered, emptied, to hold the next
    /// one: a request is over 2 KiB, and growing a fresh vector for every
    /// batch cost more than copying its requests.
    spare: RefCell<Vec<OwnedRequest>>,
}

/// Defers `req` into its listener's batch; the first one of a turn
/// schedules the delivery.
pub(crate) fn enqueue(lp: &Loop, svc: &Rc<Service>, req: &mut Request<'_>) {
    let Ok(owned) = req.hand_off_local() else { return };
    let mut pending = svc.batch.pending.borrow_mut();
    if pending.is_empty() {
        let svc = svc.clone();
        lp.at_turn_end(Box::new(move |lp| deliver(lp, &svc)));
    }
    pending.push(owned);
}

/// Whether `reply`'s request still waits in its batch: its streamed body
/// must wait too, since the host cannot take pieces of a request it has
/// not been given.
pub(crate) fn holds(svc: &Service, reply: ReplyId) -> bool {
    svc.batch.pending.borrow().iter().any(|r| r.reply() == reply)
}

fn deliver(lp: &Loop, svc: &Service) {
    let spare = std::mem::take(&mut *svc.batch.spare.borrow_mut());
    let mut reqs = std::mem::replace(&mut *svc.batch.pending.borrow_mut(), spare);
    if OwnedRequest::serve_all(&reqs, |views| svc.handler.on_requests(views)) > 0 {
        add(&lp.stats().request_callbacks, 1);
    }
    if svc.config.stream_bodies {
        // Bodies held back by `holds` may flow now (in this turn: the
        // loop settles notified connections before it writes).
        for req in &reqs {
            if let Ok((_, conn)) = reply::local_conn(req.reply()) {
                let _ = lp.conn_notify(conn);
            }
        }
    }
    reqs.clear();
    *svc.batch.spare.borrow_mut() = reqs;
}
