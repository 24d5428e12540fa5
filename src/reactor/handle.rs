//! Handles: `uint64_t` names for connections and timers that carry the
//! loop, the slot and a generation, so that a stale one is detected.
//!
//! Layout: `loop id (12 bits) | generation (20 bits) | slot (32 bits)`.
//! Zero is never a valid handle.

use super::slab::GEN_BITS;

pub const LOOP_ID_BITS: u32 = 12;
pub const MAX_LOOPS: usize = 1 << LOOP_ID_BITS;

#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(pub u64);

impl Handle {
    pub fn new(loop_id: u16, slot: u32, generation: u32) -> Handle {
        Handle(((loop_id as u64) << (32 + GEN_BITS)) | ((generation as u64) << 32) | slot as u64)
    }

    pub fn loop_id(self) -> u16 {
        (self.0 >> (32 + GEN_BITS)) as u16
    }

    pub fn generation(self) -> u32 {
        ((self.0 >> 32) & ((1 << GEN_BITS) - 1)) as u32
    }

    pub fn slot(self) -> u32 {
        self.0 as u32
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
        let h = Handle::new(4095, u32::MAX, (1 << GEN_BITS) - 1);
        assert_eq!((h.loop_id(), h.slot(), h.generation()), (4095, u32::MAX, (1 << GEN_BITS) - 1));
        let h = Handle::new(7, 3, 9);
        assert_eq!((h.loop_id(), h.slot(), h.generation()), (7, 3, 9));
    }
}
