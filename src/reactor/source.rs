//! What the loop holds for each registered descriptor: a source behind a
//! trait, so that the reactor knows nothing of connections or listeners.
//! The layers above implement `Source` and reach their own sources back
//! through the typed accessors, by slot and generation.

use std::any::Any;

use super::Loop;

/// Something registered with the poller: a connection, a listener.
pub(crate) trait Source: Any {
    /// The functions the loop calls for this source. They get the loop and
    /// the source's slot and generation, not the source itself: the loop
    /// holds no borrow of it while they run, so they may call back in.
    fn calls(&self) -> &'static SourceCalls;

    /// Whether the source's timer entry for `deadline` still applies, so
    /// that the loop neither wakes for a cancelled one nor counts it as work.
    fn timer_live(&self, deadline: u64) -> bool;
}

/// How the loop reaches a kind of source, with (loop, slot, generation).
pub(crate) struct SourceCalls {
    /// The poller reported it readable and/or writable.
    pub ready: fn(&Loop, u32, u32, bool, bool),
    /// A `Due::Source` entry it scheduled is due (with that deadline).
    pub timer: fn(&Loop, u32, u32, u64),
    /// It asked to be notified (`Core::dirty`): runs before output is written.
    pub notify: fn(&Loop, u32, u32),
    /// It has output to write (`Core::dirty`), at the end of the turn.
    pub flush: fn(&Loop, u32, u32),
    /// It is queued for freeing (`Core::closing`), with the reason.
    pub free: fn(&Loop, u32, u32, i32),
    /// A graceful shutdown began: finish and close.
    pub shutdown: fn(&Loop, u32, u32),
    /// The loop is going away: close now.
    pub close: fn(&Loop, u32, u32),
}

impl super::Core {
    /// Registers `source` in the slab; returns its slot and generation.
    pub fn insert_source(&mut self, source: Box<dyn Source>) -> (u32, u32) {
        self.sources.insert(source)
    }

    /// Slots and generations of every live source.
    pub fn source_keys(&self) -> Vec<(u32, u32)> {
        self.sources.keys()
    }

    /// The source at (slot, generation), if it is a `T`.
    pub fn source<T: Source>(&self, slot: u32, generation: u32) -> Option<&T> {
        let source: &dyn Any = self.sources.get(slot, generation)?.as_ref();
        source.downcast_ref()
    }

    /// The source at (slot, generation), if it is a `T`.
    pub fn source_mut<T: Source>(&mut self, slot: u32, generation: u32) -> Option<&mut T> {
        let source: &mut dyn Any = self.sources.get_mut(slot, generation)?.as_mut();
        source.downcast_mut()
    }

    /// Takes the source at (slot, generation) out of the slab, if it is a `T`.
    pub fn remove_source<T: Source>(&mut self, slot: u32, generation: u32) -> Option<Box<T>> {
        self.source::<T>(slot, generation)?;
        let source: Box<dyn Any> = self.sources.remove(slot, generation)?;
        source.downcast().ok()
    }
}
