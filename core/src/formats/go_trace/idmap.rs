//! A map keyed by goroutine id: a plain array where a first pass found the ids dense, else a
//! hash map that stores ids below 2^32 with 4-byte keys.
//!
//! The ordering and the builder each keep an entry per goroutine, and a trace can have a
//! goroutine per 16 bytes of file, so every byte of an entry is felt. Go numbers goroutines
//! from a counter (handed to each P 16 at a time), so the ids of a trace that starts with its
//! process are dense and an array indexed by id takes no key and no spare buckets. The array
//! is made in chunks of consecutive ids, each freed when its last id is removed: the ordering
//! removes a goroutine when it ends, so on a trace of millions of short goroutines its array
//! holds the chunks of the few thousand alive, where a whole array was 8 bytes a goroutine (32
//! MB of a 65 MB trace's peak). Ids past 2^32 only come from a process that has started four
//! billion goroutines (or a corrupt file); those go to a second map with full keys.

use hashbrown::HashMap;
use hashbrown::hash_map::Entry;

#[derive(Debug)]
pub(crate) struct IdMap<V> {
    /// Values of ids below `CHUNK` times its length, by chunk of consecutive ids; a chunk is
    /// made at its first id and freed when its last id is removed.
    dense: Vec<Option<Box<Chunk<V>>>>,
    /// A freed chunk kept for the next one made: a program that runs one short goroutine at a
    /// time would otherwise make and free a chunk per goroutine.
    spare: Option<Box<Chunk<V>>>,
    dense_len: usize,
    narrow: HashMap<u32, V>,
    wide: HashMap<u64, V>,
    /// The most entries held at once and the largest id, for sizing the map of a second pass.
    room: Room,
}

/// Ids per chunk of the array.
const CHUNK_BITS: u32 = 10;
const CHUNK: usize = 1 << CHUNK_BITS;

/// The values of `CHUNK` consecutive ids, where `present` has their bit. The values of absent
/// ids are `V::default()` (a removed value is taken out), so a freed chunk is reused as it is.
#[derive(Debug)]
struct Chunk<V> {
    live: u32,
    present: [u64; CHUNK / 64],
    values: [V; CHUNK],
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
            spare: None,
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
    /// each up in a hash map was a quarter of its read. The array is made in chunks as ids
    /// come and freed as they go, so such a trace's array holds the chunks of the goroutines
    /// alive, not 8 bytes for each of the millions (a seventh of that trace's peak).
    pub(crate) fn for_room(room: Room) -> Self {
        let slots = room.largest.saturating_add(1);
        let ids = room.most.max(room.seen) as u64;
        let dense_enough = slots <= ids.saturating_mul(2).saturating_add(1024);
        match usize::try_from(slots) {
            Ok(slots) if dense_enough && (room.most > 0 || room.seen > 0) => {
                let mut dense = Vec::with_capacity(slots.div_ceil(CHUNK));
                dense.resize_with(slots.div_ceil(CHUNK), || None);
                Self { dense, ..Self::default() }
            }
            _ => Self { narrow: HashMap::with_capacity(room.most), ..Self::default() },
        }
    }

    /// Makes the array hold ids below `slots` (a map keyed by something that grows, such as
    /// task numbers), moving those a hash map holds into it.
    pub(crate) fn reserve_dense(&mut self, slots: usize) {
        let chunks = slots.div_ceil(CHUNK);
        if chunks <= self.dense.len() {
            return;
        }
        self.dense.resize_with(chunks, || None);
        let bound = chunks.saturating_mul(CHUNK) as u64;
        let moved: Vec<u32> = self.narrow.keys().copied().filter(|&k| u64::from(k) < bound).collect();
        for k in moved {
            if let Some(v) = self.narrow.remove(&k) {
                self.put(k as usize, v);
            }
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
        usize::try_from(id).ok().filter(|&i| i >> CHUNK_BITS < self.dense.len())
    }

    /// The chunk of slot `i` and the place in it, if the chunk is made and holds `i`.
    #[inline]
    fn chunk(&self, i: usize) -> Option<(&Chunk<V>, usize)> {
        let chunk = self.dense.get(i >> CHUNK_BITS)?.as_deref()?;
        let at = i & (CHUNK - 1);
        let word = chunk.present.get(at / 64)?;
        (word >> (at % 64) & 1 == 1).then_some((chunk, at))
    }

    /// The value of slot `i`, if present. A function of the array alone, so that a borrow it
    /// returns leaves the rest of the map free.
    #[inline]
    fn chunk_mut(dense: &mut [Option<Box<Chunk<V>>>], i: usize) -> Option<&mut V> {
        let chunk = dense.get_mut(i >> CHUNK_BITS)?.as_deref_mut()?;
        let at = i & (CHUNK - 1);
        let word = chunk.present.get(at / 64)?;
        if word >> (at % 64) & 1 == 1 { chunk.values.get_mut(at) } else { None }
    }

    /// Puts `value` in slot `i` (below the array's length), making its chunk if need be;
    /// returns the value it held, if present.
    fn put(&mut self, i: usize, value: V) -> Option<V> {
        let spare = &mut self.spare;
        let entry = self.dense.get_mut(i >> CHUNK_BITS)?;
        let chunk = entry.get_or_insert_with(|| {
            spare.take().unwrap_or_else(|| {
                Box::new(Chunk {
                    live: 0,
                    present: [0; CHUNK / 64],
                    values: std::array::from_fn(|_| V::default()),
                })
            })
        });
        let at = i & (CHUNK - 1);
        let word = chunk.present.get_mut(at / 64)?;
        let was = *word >> (at % 64) & 1 == 1;
        *word |= 1 << (at % 64);
        let old = std::mem::replace(chunk.values.get_mut(at)?, value);
        if was {
            Some(old)
        } else {
            chunk.live += 1;
            self.dense_len += 1;
            None
        }
    }

    /// Takes the value out of slot `i`, freeing its chunk if it was the chunk's last.
    fn take(&mut self, i: usize) -> Option<V> {
        let entry = self.dense.get_mut(i >> CHUNK_BITS)?;
        let chunk = entry.as_deref_mut()?;
        let at = i & (CHUNK - 1);
        let word = chunk.present.get_mut(at / 64)?;
        if *word >> (at % 64) & 1 == 0 {
            return None;
        }
        *word &= !(1 << (at % 64));
        let value = chunk.values.get_mut(at).map(std::mem::take);
        chunk.live -= 1;
        self.dense_len -= 1;
        if chunk.live == 0 {
            let freed = entry.take();
            if self.spare.is_none() {
                self.spare = freed;
            }
        }
        value
    }

    #[inline]
    pub(crate) fn get(&self, id: u64) -> Option<&V> {
        if let Some(i) = self.slot(id) {
            return self.chunk(i).and_then(|(c, at)| c.values.get(at));
        }
        self.get_hashed(id)
    }

    /// [`IdMap::get`] of an id past the array, out of line so that the array's lookup, once
    /// an event on a dense trace, stays small enough to inline.
    #[inline(never)]
    fn get_hashed(&self, id: u64) -> Option<&V> {
        match u32::try_from(id) {
            Ok(k) => self.narrow.get(&k),
            Err(_) => self.wide.get(&id),
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, id: u64) -> Option<&mut V> {
        if let Some(i) = self.slot(id) {
            return Self::chunk_mut(&mut self.dense, i);
        }
        self.get_mut_hashed(id)
    }

    #[inline(never)]
    fn get_mut_hashed(&mut self, id: u64) -> Option<&mut V> {
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
            self.put(i, value)
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
            return self.take(i);
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
            if self.chunk(i).is_none() {
                self.insert(id, value);
            }
            // The id is in the array now, so this is always `Some`; the match keeps the map's
            // borrow out of the fallback below.
            if let Some(v) = Self::chunk_mut(&mut self.dense, i) {
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
        assert_eq!(m.dense.len(), 1);
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
        assert_eq!(churn.dense.len(), (1 << 20) / CHUNK + 1);
    }

    #[test]
    fn a_chunk_goes_when_its_last_id_goes_and_comes_back_clean() {
        let mut m: IdMap<u64> = IdMap::for_room(Room { most: 4, largest: 5 * CHUNK as u64, seen: 5 * CHUNK });
        let made = |m: &IdMap<u64>| m.dense.iter().filter(|c| c.is_some()).count();
        assert_eq!(made(&m), 0);
        for id in 0..3 * CHUNK as u64 {
            assert_eq!(m.insert(id, id + 1), None);
        }
        assert_eq!(made(&m), 3);
        for id in 0..CHUNK as u64 {
            assert_eq!(m.remove(id), Some(id + 1));
        }
        // The first chunk is freed (kept as the spare), the others hold their values.
        assert_eq!(made(&m), 2);
        assert!(m.spare.is_some());
        assert_eq!(m.get(5), None);
        assert_eq!(m.get(CHUNK as u64 + 5), Some(&(CHUNK as u64 + 6)));
        // The spare comes back for the next chunk made, with no value of before.
        assert_eq!(*m.or_insert(4 * CHUNK as u64 + 1, 9), 9);
        assert!(m.spare.is_none());
        assert_eq!(m.get(4 * CHUNK as u64), None);
        assert_eq!(*m.or_insert(4 * CHUNK as u64, 0), 0);
        assert_eq!(m.insert(4 * CHUNK as u64 + 1, 10), Some(9));
        // One goroutine at a time: the chunk goes and comes back, the spare reused each time.
        for id in 0..100 {
            assert_eq!(m.insert(id, id), None);
            assert_eq!(m.remove(id), Some(id));
        }
        assert_eq!(m.get(3), None);
        assert_eq!(m.room().seen, 3 * CHUNK + 2 + 100);
        assert_eq!(m.len(), 2 * CHUNK + 2);
        // Two chunks freed in a row: the second is dropped (the spare is taken), and both are
        // made again clean.
        let (a, b) = (CHUNK as u64 + 1, 4 * CHUNK as u64);
        for id in (CHUNK as u64..2 * CHUNK as u64).chain([4 * CHUNK as u64, 4 * CHUNK as u64 + 1]) {
            assert!(m.remove(id).is_some());
        }
        assert_eq!(made(&m), 1);
        assert_eq!((m.get(a), m.get(b)), (None, None));
        assert_eq!((m.insert(a, 5), m.insert(b, 6)), (None, None));
        assert_eq!((m.get(a), m.get(b), m.get(a + 1)), (Some(&5), Some(&6), None));
        assert_eq!(m.len(), CHUNK + 2);
    }

    #[test]
    fn growing_the_array_moves_the_ids_a_hash_map_held() {
        let mut m: IdMap<u32> = IdMap::default();
        for id in [3u64, 2_000, 70_000, 1 << 40] {
            assert_eq!(m.insert(id, id as u32 + 1), None);
        }
        let room = m.room();
        m.reserve_dense(5_000);
        assert_eq!(m.dense.len(), 5);
        assert_eq!(m.narrow.len(), 1, "only 70,000 stays hashed");
        for id in [3u64, 2_000, 70_000, 1 << 40] {
            assert_eq!(m.get(id), Some(&(id as u32 + 1)));
        }
        assert_eq!((m.len(), m.room()), (4, room));
        assert_eq!(m.remove(2_000), Some(2_001));
        assert_eq!(m.get(2_000), None);
        m.reserve_dense(100);
        assert_eq!(m.dense.len(), 5, "never shrinks");
    }
}
