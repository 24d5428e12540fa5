//! A slab with generations: a slot index plus a generation names an entry,
//! so a handle to a freed entry is detected instead of reaching its successor.

pub struct Slab<T> {
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    len: usize,
}

struct Entry<T> {
    generation: u32,
    value: Option<T>,
}

/// Generations are kept to this many bits so that they fit in a handle.
pub const GEN_BITS: u32 = 20;

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab { entries: Vec::new(), free: Vec::new(), len: 0 }
    }
}

impl<T> Slab<T> {
    /// Stores `value`, returning its slot and generation (never 0).
    pub fn insert(&mut self, value: T) -> (u32, u32) {
        self.len += 1;
        if let Some(slot) = self.free.pop() {
            let entry = &mut self.entries[slot as usize];
            entry.generation = next_generation(entry.generation);
            entry.value = Some(value);
            return (slot, entry.generation);
        }
        self.entries.push(Entry { generation: 1, value: Some(value) });
        ((self.entries.len() - 1) as u32, 1)
    }

    pub fn remove(&mut self, slot: u32, generation: u32) -> Option<T> {
        let entry = self.entries.get_mut(slot as usize)?;
        if entry.generation != generation {
            return None;
        }
        let value = entry.value.take()?;
        self.free.push(slot);
        self.len -= 1;
        Some(value)
    }

    pub fn get(&self, slot: u32, generation: u32) -> Option<&T> {
        let entry = self.entries.get(slot as usize)?;
        if entry.generation == generation { entry.value.as_ref() } else { None }
    }

    pub fn get_mut(&mut self, slot: u32, generation: u32) -> Option<&mut T> {
        let entry = self.entries.get_mut(slot as usize)?;
        if entry.generation == generation { entry.value.as_mut() } else { None }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    /// Slots and generations of every live entry.
    pub fn keys(&self) -> Vec<(u32, u32)> {
        let live = self.entries.iter().enumerate().filter(|(_, e)| e.value.is_some());
        live.map(|(i, e)| (i as u32, e.generation)).collect()
    }
}

fn next_generation(generation: u32) -> u32 {
    let next = (generation + 1) & ((1 << GEN_BITS) - 1);
    if next == 0 { 1 } else { next }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_generation_misses() {
        let mut slab = Slab::default();
        let (slot, generation) = slab.insert("a");
        assert_eq!(slab.remove(slot, generation), Some("a"));
        let (slot2, gen2) = slab.insert("b");
        assert_eq!(slot2, slot);
        assert_ne!(gen2, generation);
        assert!(slab.get(slot, generation).is_none());
        assert_eq!(slab.get(slot2, gen2), Some(&"b"));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn generations_wrap_without_zero() {
        assert_eq!(next_generation((1 << GEN_BITS) - 1), 1);
    }
}
