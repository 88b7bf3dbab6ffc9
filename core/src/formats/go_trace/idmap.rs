//! A hash map keyed by goroutine id that stores ids below 2^32 with 4-byte keys.
//!
//! The ordering and the builder each keep an entry per goroutine, and a trace can have a
//! goroutine per 80 bytes of file, so the key's size is felt: a `u64` key pads a `u32` value to
//! 16 bytes where a `u32` key takes 8. Go numbers goroutines from a counter, so ids past 2^32
//! only come from a process that has started four billion goroutines (or a corrupt file);
//! those go to a second map with full keys.

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;

#[derive(Debug)]
pub(crate) struct IdMap<V> {
    narrow: HashMap<u32, V>,
    wide: HashMap<u64, V>,
    /// The most entries held at once, for sizing the map of a second pass.
    most: usize,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        Self { narrow: HashMap::new(), wide: HashMap::new(), most: 0 }
    }
}

impl<V> IdMap<V> {
    /// An empty map with room for `n` ids below 2^32: a map that grows doubles, and holds
    /// both tables while it moves.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self { narrow: HashMap::with_capacity(n), ..Self::default() }
    }

    /// The most entries the map has held at once.
    pub(crate) fn most_held(&self) -> usize {
        self.most
    }

    fn note_len(&mut self) {
        self.most = self.most.max(self.narrow.len() + self.wide.len());
    }

    pub(crate) fn get(&self, id: u64) -> Option<&V> {
        match u32::try_from(id) {
            Ok(k) => self.narrow.get(&k),
            Err(_) => self.wide.get(&id),
        }
    }

    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut V> {
        match u32::try_from(id) {
            Ok(k) => self.narrow.get_mut(&k),
            Err(_) => self.wide.get_mut(&id),
        }
    }

    pub(crate) fn contains_key(&self, id: u64) -> bool {
        self.get(id).is_some()
    }

    pub(crate) fn insert(&mut self, id: u64, value: V) -> Option<V> {
        let old = match u32::try_from(id) {
            Ok(k) => self.narrow.insert(k, value),
            Err(_) => self.wide.insert(id, value),
        };
        self.note_len();
        old
    }

    pub(crate) fn remove(&mut self, id: u64) -> Option<V> {
        match u32::try_from(id) {
            Ok(k) => self.narrow.remove(&k),
            Err(_) => self.wide.remove(&id),
        }
    }

    /// The value of `id`, inserted as `value` if absent.
    pub(crate) fn or_insert(&mut self, id: u64, value: V) -> &mut V {
        if !self.contains_key(id) {
            self.most = self.most.max(self.narrow.len() + self.wide.len() + 1);
        }
        match u32::try_from(id) {
            Ok(k) => match self.narrow.entry(k) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(value),
            },
            Err(_) => self.wide.entry(id).or_insert(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_on_both_sides_of_two_to_the_32() {
        let mut m = IdMap::default();
        let big = u64::from(u32::MAX) + 7;
        assert_eq!(m.insert(7, 'a'), None);
        assert_eq!(m.insert(big, 'b'), None);
        assert_eq!(m.get(7), Some(&'a'));
        assert_eq!(m.get(big), Some(&'b'));
        assert!(!m.contains_key(u64::from(u32::MAX)));
        *m.or_insert(big, 'x') = 'c';
        assert_eq!(*m.or_insert(u64::from(u32::MAX), 'd'), 'd');
        assert_eq!(m.remove(big), Some('c'));
        assert_eq!(m.get(big), None);
        assert_eq!(m.get_mut(7).map(|v| *v), Some('a'));
        assert_eq!(m.most_held(), 3);
    }
}
