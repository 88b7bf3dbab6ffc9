//! Deduplicating tables for values and for slices of values, shared by frames, stacks and label
//! sets. Ids are dense `u32`s so that per-task and per-sample data stays four bytes wide.

use std::hash::{BuildHasher, Hash};

use foldhash::fast::FixedState;
use hashbrown::HashTable;

/// The last key looked up in a map and what it gave, compared before the map is hashed: tables
/// read in runs of one key (a trace's goroutines of one creation site, one after another) then
/// hash once a run instead of once a row.
pub(crate) struct LastKey<K, V>(Option<(K, V)>);

impl<K: PartialEq + Copy, V: Copy> LastKey<K, V> {
    pub(crate) fn new() -> Self {
        Self(None)
    }

    /// What `key` gives: the last answer if it is the last key, else `find`'s, kept.
    #[inline]
    pub(crate) fn get_or(&mut self, key: K, find: impl FnOnce() -> V) -> V {
        if let Some((k, v)) = self.0
            && k == key
        {
            return v;
        }
        let v = find();
        self.0 = Some((key, v));
        v
    }
}

/// A table of distinct `T` values named by their index.
#[derive(Clone)]
pub struct ValueTable<T> {
    values: Vec<T>,
    table: HashTable<u32>,
    hasher: FixedState,
}

impl<T> Default for ValueTable<T> {
    fn default() -> Self {
        Self { values: Vec::new(), table: HashTable::new(), hasher: FixedState::default() }
    }
}

impl<T: Hash + Eq + Clone> ValueTable<T> {
    /// The index of `value`, adding it if it is new.
    pub fn intern(&mut self, value: &T) -> u32 {
        let hash = self.hasher.hash_one(value);
        let Self { values, table, hasher } = self;
        if let Some(&i) = table.find(hash, |&i| values.get(i as usize) == Some(value)) {
            return i;
        }
        let i = values.len() as u32;
        values.push(value.clone());
        table.insert_unique(hash, i, |&i| values.get(i as usize).map_or(0, |v| hasher.hash_one(v)));
        i
    }
}

impl<T> ValueTable<T> {
    /// The value at `index`, if any.
    pub fn get(&self, index: u32) -> Option<&T> {
        self.values.get(index as usize)
    }

    /// Number of distinct values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Heap bytes of the values and their index, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.values.capacity() * size_of::<T>() + self.table.capacity() * (size_of::<u32>() + 1)
    }
}

/// A table of distinct slices of `T`, stored back to back in one pool.
#[derive(Clone)]
pub struct SliceTable<T> {
    pool: Vec<T>,
    /// (start, len) in `pool` of each slice, by index.
    spans: Vec<(u32, u32)>,
    table: HashTable<u32>,
    hasher: FixedState,
}

impl<T: Hash + Eq + Clone> Default for SliceTable<T> {
    fn default() -> Self {
        let mut t = Self {
            pool: Vec::new(),
            spans: Vec::new(),
            table: HashTable::new(),
            hasher: FixedState::default(),
        };
        // Index 0 is the empty slice so that "no stack" and "no labels" need no Option.
        t.intern(&[]);
        t
    }
}

impl<T: Hash + Eq + Clone> SliceTable<T> {
    /// The index of `items`, adding it if it is new.
    pub fn intern(&mut self, items: &[T]) -> u32 {
        let hash = self.hasher.hash_one(items);
        let Self { pool, spans, table, hasher } = self;
        if let Some(&i) = table.find(hash, |&i| slice_at(pool, spans, i) == items) {
            return i;
        }
        let i = spans.len() as u32;
        spans.push((pool.len() as u32, items.len() as u32));
        pool.extend_from_slice(items);
        table.insert_unique(hash, i, |&i| hasher.hash_one(slice_at(pool, spans, i)));
        i
    }

    /// Makes room for `additional` more distinct slices. Growing the table rehashes every
    /// slice it holds, which for half a million stacks of dozens of frames costs more than
    /// interning them; a parser that knows how many are coming asks once.
    pub fn reserve(&mut self, additional: usize) {
        let Self { pool, spans, table, hasher } = self;
        spans.reserve(additional);
        table.reserve(additional, |&i| hasher.hash_one(slice_at(pool, spans, i)));
    }
}

impl<T> SliceTable<T> {
    /// The slice at `index`; empty for an unknown index.
    pub fn get(&self, index: u32) -> &[T] {
        slice_at(&self.pool, &self.spans, index)
    }

    /// Number of distinct slices, the empty one included.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Total items across all slices, for memory accounting.
    pub fn pool_len(&self) -> usize {
        self.pool.len()
    }
}

fn slice_at<'a, T>(pool: &'a [T], spans: &[(u32, u32)], index: u32) -> &'a [T] {
    spans
        .get(index as usize)
        .and_then(|&(start, len)| pool.get(start as usize..start as usize + len as usize))
        .unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_deduplicate_with_empty_at_zero() {
        let mut t = SliceTable::<u32>::default();
        assert_eq!(t.intern(&[]), 0);
        let a = t.intern(&[1, 2, 3]);
        let b = t.intern(&[1, 2]);
        assert_eq!(t.intern(&[1, 2, 3]), a);
        assert_ne!(a, b);
        assert_eq!(t.get(a), &[1, 2, 3]);
        assert_eq!(t.get(99), &[] as &[u32]);
    }

    #[test]
    fn values_deduplicate() {
        let mut t = ValueTable::<(u32, u32)>::default();
        let a = t.intern(&(1, 2));
        assert_eq!(t.intern(&(1, 2)), a);
        assert_eq!(t.get(a), Some(&(1, 2)));
    }
}
