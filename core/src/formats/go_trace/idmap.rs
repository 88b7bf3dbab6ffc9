//! A map keyed by goroutine id: a plain array where a first pass found the ids dense, else a
//! hash map that stores ids below 2^32 with 4-byte keys.
//!
//! The ordering and the builder each keep an entry per goroutine, and a trace can have a
//! goroutine per 80 bytes of file, so every byte of an entry is felt. Go numbers goroutines
//! from a counter (handed to each P 16 at a time), so the ids of a trace that starts with its
//! process are dense and an array indexed by id takes no key and no spare buckets. Ids past
//! 2^32 only come from a process that has started four billion goroutines (or a corrupt file);
//! those go to a second map with full keys.

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;

#[derive(Debug)]
pub(crate) struct IdMap<V> {
    /// Values of ids below its length, where `present` has their bit.
    dense: Vec<V>,
    present: Vec<u64>,
    dense_len: usize,
    narrow: HashMap<u32, V>,
    wide: HashMap<u64, V>,
    /// The most entries held at once and the largest id, for sizing the map of a second pass.
    room: Room,
}

/// What a map held: enough to size the map of a second pass over the same ids.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Room {
    /// The most entries held at once.
    pub most: usize,
    /// The largest id.
    pub largest: u64,
    /// Ids inserted while absent: every goroutine the map has seen, where `most` counts only
    /// those alive at once.
    pub seen: usize,
}

impl<V> Default for IdMap<V> {
    fn default() -> Self {
        Self {
            dense: Vec::new(),
            present: Vec::new(),
            dense_len: 0,
            narrow: HashMap::new(),
            wide: HashMap::new(),
            room: Room::default(),
        }
    }
}

impl<V: Default> IdMap<V> {
    /// An empty map for what a first pass over the same ids saw: an array indexed by id if the
    /// ids are dense (at most about twice as many slots as ids seen), else a hash map with room
    /// for them all (a map that grows doubles, and holds both tables while it moves).
    ///
    /// Dense is judged against every id seen, not only those alive at once: a trace that
    /// starts two million short-lived goroutines holds a few thousand at a time, and looking
    /// each up in a hash map was a quarter of its read; the array costs a few bytes per
    /// goroutine, which the model spends ten times over on each goroutine's task.
    pub(crate) fn for_room(room: Room) -> Self {
        let slots = room.largest.saturating_add(1);
        let ids = room.most.max(room.seen) as u64;
        let dense_enough = slots <= ids.saturating_mul(2).saturating_add(1024);
        match usize::try_from(slots) {
            Ok(slots) if dense_enough && (room.most > 0 || room.seen > 0) => {
                let mut dense = Vec::with_capacity(slots);
                dense.resize_with(slots, V::default);
                Self { dense, present: vec![0; slots.div_ceil(64)], dense_len: 0, ..Self::default() }
            }
            _ => Self { narrow: HashMap::with_capacity(room.most), ..Self::default() },
        }
    }

    /// What the map has held.
    pub(crate) fn room(&self) -> Room {
        self.room
    }

    fn len(&self) -> usize {
        self.dense_len + self.narrow.len() + self.wide.len()
    }

    fn note(&mut self, id: u64) {
        self.room.most = self.room.most.max(self.len());
        self.room.largest = self.room.largest.max(id);
    }

    /// The array slot of `id`, if it has one.
    #[inline]
    fn slot(&self, id: u64) -> Option<usize> {
        usize::try_from(id).ok().filter(|&i| i < self.dense.len())
    }

    #[inline]
    fn is_present(&self, i: usize) -> bool {
        self.present.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    fn set_present(&mut self, i: usize, on: bool) {
        let was = self.is_present(i);
        if let Some(w) = self.present.get_mut(i / 64) {
            if on {
                *w |= 1 << (i % 64);
            } else {
                *w &= !(1 << (i % 64));
            }
        }
        match (was, on) {
            (false, true) => self.dense_len += 1,
            (true, false) => self.dense_len -= 1,
            _ => {}
        }
    }

    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<&V> {
        if let Some(i) = self.slot(id) {
            return if self.is_present(i) { self.dense.get(i) } else { None };
        }
        match u32::try_from(id) {
            Ok(k) => self.narrow.get(&k),
            Err(_) => self.wide.get(&id),
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut V> {
        if let Some(i) = self.slot(id) {
            return if self.is_present(i) { self.dense.get_mut(i) } else { None };
        }
        match u32::try_from(id) {
            Ok(k) => self.narrow.get_mut(&k),
            Err(_) => self.wide.get_mut(&id),
        }
    }

    pub(crate) fn contains_key(&self, id: u64) -> bool {
        self.get(id).is_some()
    }

    pub(crate) fn insert(&mut self, id: u64, value: V) -> Option<V> {
        let old = if let Some(i) = self.slot(id) {
            let was = self.is_present(i);
            self.set_present(i, true);
            let old = self.dense.get_mut(i).map(|v| std::mem::replace(v, value));
            old.filter(|_| was)
        } else {
            match u32::try_from(id) {
                Ok(k) => self.narrow.insert(k, value),
                Err(_) => self.wide.insert(id, value),
            }
        };
        if old.is_none() {
            self.room.seen += 1;
        }
        self.note(id);
        old
    }

    pub(crate) fn remove(&mut self, id: u64) -> Option<V> {
        if let Some(i) = self.slot(id) {
            if !self.is_present(i) {
                return None;
            }
            self.set_present(i, false);
            return self.dense.get_mut(i).map(std::mem::take);
        }
        match u32::try_from(id) {
            Ok(k) => self.narrow.remove(&k),
            Err(_) => self.wide.remove(&id),
        }
    }

    /// The value of `id`, inserted as `value` if absent.
    pub(crate) fn or_insert(&mut self, id: u64, value: V) -> &mut V {
        // The ordering calls this for every goroutine that starts or is unblocked, nearly
        // always one it holds already: in the array, that is one bit read and no more. (An id
        // held was noted when it was inserted, and the map has not grown since.)
        if let Some(i) = self.slot(id) {
            if !self.is_present(i) {
                self.insert(id, value);
            }
            // `slot` is below the array's length, so this is always `Some`; the match keeps
            // the map's borrow out of the fallback below.
            if let Some(v) = self.dense.get_mut(i) {
                return v;
            }
        } else if !self.contains_key(id) {
            self.insert(id, value);
        }
        match u32::try_from(id) {
            Ok(k) => match self.narrow.entry(k) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(V::default()),
            },
            Err(_) => self.wide.entry(id).or_default(),
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
        assert_eq!(m.room(), Room { most: 3, largest: big, seen: 3 });
    }

    #[test]
    fn dense_ids_live_in_an_array_and_others_beside_it() {
        let mut m = IdMap::for_room(Room { most: 4, largest: 9, seen: 4 });
        assert_eq!(m.dense.len(), 10);
        assert_eq!(m.insert(3, 30u32), None);
        assert_eq!(m.insert(3, 31), Some(30));
        assert_eq!(m.insert(0, 1), None);
        assert_eq!(m.insert(1 << 40, 7), None);
        assert_eq!(m.insert(5000, 8), None);
        assert_eq!(m.get(3), Some(&31));
        assert_eq!(m.get(4), None);
        assert_eq!(m.get(5000), Some(&8));
        *m.or_insert(4, 40) += 1;
        assert_eq!(m.get(4), Some(&41));
        assert_eq!(*m.or_insert(4, 99), 41);
        assert_eq!(m.remove(3), Some(31));
        assert_eq!(m.remove(3), None);
        assert!(!m.contains_key(3));
        assert_eq!(m.room(), Room { most: 5, largest: 1 << 40, seen: 5 });
        // Sparse ids get a hash map.
        let sparse: IdMap<u32> = IdMap::for_room(Room { most: 4, largest: 1 << 20, seen: 4 });
        assert!(sparse.dense.is_empty());
        // Ids that come and go, few at once but dense over the trace, get an array.
        let churn: IdMap<u32> = IdMap::for_room(Room { most: 4, largest: 1 << 20, seen: 1 << 20 });
        assert_eq!(churn.dense.len(), (1 << 20) + 1);
    }
}
