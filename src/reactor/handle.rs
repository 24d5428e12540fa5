//! Handles: `uint64_t` names for connections, timers, deferred replies and
//! the like, carrying their kind, the loop, the slot and a generation, so
//! that a stale handle, or one of another kind, is detected.
//!
//! Layout: `kind (4 bits) | loop id (12) | generation (20) | slot (28)`.
//! Zero is never a valid handle (no kind is 0).

use super::slab::GEN_BITS;
use crate::error::{C10K_ECLOSED, C10K_EINVAL, Result};

pub const LOOP_ID_BITS: u32 = 12;
pub const MAX_LOOPS: usize = 1 << LOOP_ID_BITS;
/// Slots per table a handle can name.
pub const SLOT_BITS: u32 = 28;
const KIND_BITS: u32 = 4;
const GEN_SHIFT: u32 = SLOT_BITS;
const LOOP_SHIFT: u32 = GEN_SHIFT + GEN_BITS;
const KIND_SHIFT: u32 = LOOP_SHIFT + LOOP_ID_BITS;
const _: () = assert!(KIND_SHIFT + KIND_BITS == 64);

/// Declares the kinds of handle. A new kind is one line here, with a value
/// never used before (docs/ABI.md lists them; values are never reused).
macro_rules! kinds {
    ($($(#[$doc:meta])* $name:ident = $value:literal,)*) => {
        /// What a handle names.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Kind {
            $($(#[$doc])* $name = $value,)*
        }

        impl Kind {
            /// The kind with these bits, if any has them.
            fn from_bits(bits: u8) -> Option<Kind> {
                match bits {
                    $($value => Some(Kind::$name),)*
                    _ => None,
                }
            }
        }
    };
}

kinds! {
    /// A TCP connection (`c10k_conn_*`).
    Conn = 1,
    /// A timer (`c10k_timer_*`).
    Timer = 2,
    /// A deferred HTTP reply (`c10k_reply_*`).
    Reply = 3,
    /// A listening socket (inside `c10k_listener`).
    Listener = 4,
    /// A WebSocket (`c10k_ws_*`).
    WebSocket = 5,
}

const _: () = assert!(Kind::WebSocket as u32 >> KIND_BITS == 0);

#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(pub u64);

impl Handle {
    pub fn new(kind: Kind, loop_id: u16, slot: u32, generation: u32) -> Handle {
        debug_assert!(slot >> SLOT_BITS == 0, "slot {slot} does not fit a handle");
        Handle(
            ((kind as u64) << KIND_SHIFT)
                | ((loop_id as u64) << LOOP_SHIFT)
                | ((generation as u64) << GEN_SHIFT)
                | slot as u64,
        )
    }

    /// The kind named in the handle, `None` for bits no kind has (a
    /// made-up number).
    pub fn kind(self) -> Option<Kind> {
        Kind::from_bits((self.0 >> KIND_SHIFT) as u8)
    }

    /// This handle if it is of `kind`; `C10K_EINVAL` for a handle of
    /// another kind, `C10K_ECLOSED` for one of no kind at all (never a
    /// handle, like 0).
    pub fn expect(self, kind: Kind) -> Result<Handle> {
        match self.kind() {
            Some(k) if k == kind => Ok(self),
            Some(_) => Err(C10K_EINVAL),
            None => Err(C10K_ECLOSED),
        }
    }

    pub fn loop_id(self) -> u16 {
        ((self.0 >> LOOP_SHIFT) & ((1 << LOOP_ID_BITS) - 1)) as u16
    }

    pub fn generation(self) -> u32 {
        ((self.0 >> GEN_SHIFT) & ((1 << GEN_BITS) - 1)) as u32
    }

    pub fn slot(self) -> u32 {
        (self.0 & ((1 << SLOT_BITS) - 1)) as u32
    }
}

/// A connection.
pub type ConnId = Handle;
/// A timer.
pub type TimerId = Handle;
/// A listener.
pub type ListenerId = Handle;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let max_slot = (1 << SLOT_BITS) - 1;
        let h = Handle::new(Kind::Listener, 4095, max_slot, (1 << GEN_BITS) - 1);
        assert_eq!(
            (h.kind(), h.loop_id(), h.slot(), h.generation()),
            (Some(Kind::Listener), 4095, max_slot, (1 << GEN_BITS) - 1)
        );
        let h = Handle::new(Kind::Conn, 7, 3, 9);
        assert_eq!((h.kind(), h.loop_id(), h.slot(), h.generation()), (Some(Kind::Conn), 7, 3, 9));
    }

    #[test]
    fn same_slot_different_kinds_differ() {
        let conn = Handle::new(Kind::Conn, 1, 0, 1);
        let timer = Handle::new(Kind::Timer, 1, 0, 1);
        assert_ne!(conn, timer);
        assert_eq!(timer.expect(Kind::Conn), Err(C10K_EINVAL));
        assert_eq!(conn.expect(Kind::Conn), Ok(conn));
    }

    #[test]
    fn numbers_of_no_kind_are_closed_handles() {
        for raw in [0, 12345, u64::MAX] {
            assert_eq!(Handle(raw).expect(Kind::Conn), Err(C10K_ECLOSED));
        }
    }
}
