//! Which loops exist and which thread owns each: how a bare handle finds its
//! loop, and how a loop-thread-only call from the wrong thread is refused
//! instead of racing.

use std::cell::Cell;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use super::Loop;
use super::handle::MAX_LOOPS;
use crate::error::{C10K_ECLOSED, C10K_ENOMEM, C10K_EWRONGTHREAD, Result};

struct Slot {
    ptr: AtomicPtr<Loop>,
    owner: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot { ptr: AtomicPtr::new(ptr::null_mut()), owner: AtomicU64::new(0) };
static LOOPS: [Slot; MAX_LOOPS] = [EMPTY; MAX_LOOPS];
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static THREAD_ID: Cell<u64> = const { Cell::new(0) };
}

/// A small number naming the current thread (std's ThreadId has no stable integer form).
pub fn current_thread() -> u64 {
    THREAD_ID.with(|id| {
        if id.get() == 0 {
            id.set(NEXT_THREAD.fetch_add(1, Ordering::Relaxed));
        }
        id.get()
    })
}

/// Reserves an id for `lp`, owned by the calling thread. Id 0 is never used,
/// so that no valid handle is 0.
pub fn register(lp: *const Loop) -> Result<u16> {
    for (id, slot) in LOOPS.iter().enumerate().skip(1) {
        if slot.ptr.compare_exchange(ptr::null_mut(), lp as *mut Loop, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            slot.owner.store(current_thread(), Ordering::Release);
            return Ok(id as u16);
        }
    }
    Err(C10K_ENOMEM)
}

pub fn unregister(id: u16) {
    let slot = &LOOPS[id as usize];
    slot.owner.store(0, Ordering::Release);
    slot.ptr.store(ptr::null_mut(), Ordering::Release);
}

/// Makes the calling thread the owner of loop `id`.
pub fn take_ownership(id: u16) {
    LOOPS[id as usize].owner.store(current_thread(), Ordering::Release);
}

/// The loop with `id` if the calling thread owns it.
///
/// Safe to dereference for the duration of the caller's call: only the owner
/// thread frees a loop, and that thread is busy calling us.
pub fn owned_loop(id: u16) -> Result<&'static Loop> {
    let slot = LOOPS.get(id as usize).ok_or(C10K_ECLOSED)?;
    let owner = slot.owner.load(Ordering::Acquire);
    if owner == 0 {
        return Err(C10K_ECLOSED);
    }
    if owner != current_thread() {
        return Err(C10K_EWRONGTHREAD);
    }
    let lp = slot.ptr.load(Ordering::Acquire);
    // SAFETY: see above; the pointer is non-null while the owner is set.
    unsafe { lp.as_ref() }.ok_or(C10K_ECLOSED)
}
