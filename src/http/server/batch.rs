//! Requests gathered over a loop turn for a handler that takes them
//! together ([`super::HttpHandler::on_requests`]): an interpreted host then
//! enters its interpreter once per turn instead of once per request.
//!
//! Each request is deferred and copied as it is parsed; at the end of the
//! turn the listener's requests go to the handler in one call, and its
//! answers are written with the rest of the turn's output.

use std::cell::RefCell;
use std::rc::Rc;

use super::{OwnedRequest, Request, Service};
use crate::reactor::Loop;
use crate::reactor::stats::add;

/// The requests of one listener waiting for the end of the turn.
#[derive(Default)]
pub(crate) struct Batch(RefCell<Vec<OwnedRequest>>);

/// Defers `req` into its listener's batch; the first one of a turn
/// schedules the delivery.
pub(crate) fn enqueue(lp: &Loop, svc: &Rc<Service>, req: &mut Request<'_>) {
    let Ok(owned) = req.hand_off_local() else { return };
    let mut pending = svc.batch.0.borrow_mut();
    if pending.is_empty() {
        let svc = svc.clone();
        lp.at_turn_end(Box::new(move |lp| deliver(lp, &svc)));
    }
    pending.push(owned);
}

fn deliver(lp: &Loop, svc: &Service) {
    let reqs = std::mem::take(&mut *svc.batch.0.borrow_mut());
    if OwnedRequest::serve_all(&reqs, |views| svc.handler.on_requests(views)) > 0 {
        add(&lp.stats().request_callbacks, 1);
    }
}
