//! Interned strings: every distinct string of a capture is stored once and named by a [`StrId`].
//!
//! Parsers borrow strings from the mapped file while they work and intern only the distinct
//! ones at the end, so a dump of 200,000 goroutines that repeats a few hundred function names
//! stores each name once. The arena is one `String`, which keeps lookups a slice away and the
//! memory of 10,000 names at a few hundred KiB.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

/// The name of an interned string in one capture's [`Strings`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StrId(u32);

impl StrId {
    /// The empty string, present in every table.
    pub const EMPTY: StrId = StrId(0);

    /// Position in the table; ids are dense from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// Whether this is the empty string.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The id at a raw index, for parsers that keep ids in packed `u32` columns while they
    /// work; an index that is not in the table resolves to "".
    pub(crate) const fn from_index(index: u32) -> StrId {
        StrId(index)
    }
}

/// A deduplicating string table.
#[derive(Clone)]
pub struct Strings {
    arena: String,
    /// (start, len) of each string in `arena`, indexed by `StrId`.
    spans: Vec<(usize, usize)>,
    table: HashTable<StrId>,
    hasher: FixedState,
}

impl Default for Strings {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Strings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Strings").field("len", &self.spans.len()).finish_non_exhaustive()
    }
}

impl Strings {
    /// A table holding only the empty string (as [`StrId::EMPTY`]).
    pub fn new() -> Self {
        let mut strings = Self {
            arena: String::new(),
            spans: Vec::new(),
            table: HashTable::new(),
            hasher: FixedState::default(),
        };
        strings.intern("");
        strings
    }

    /// The id of `s`, adding it if it is new.
    pub fn intern(&mut self, s: &str) -> StrId {
        let hash = self.hasher.hash_one(s);
        let Self { arena, spans, table, hasher } = self;
        let eq = |id: &StrId| span_str(arena, spans, *id) == s;
        if let Some(id) = table.find(hash, eq) {
            return *id;
        }
        let id = StrId(spans.len() as u32);
        spans.push((arena.len(), s.len()));
        arena.push_str(s);
        table.insert_unique(hash, id, |id| hasher.hash_one(span_str(arena, spans, *id)));
        id
    }

    /// The id of `s` if it was interned.
    pub fn find(&self, s: &str) -> Option<StrId> {
        let hash = self.hasher.hash_one(s);
        self.table.find(hash, |id| self.resolve(*id) == s).copied()
    }

    /// The text of `id`; an id from another table resolves to "" rather than panicking.
    pub fn resolve(&self, id: StrId) -> &str {
        span_str(&self.arena, &self.spans, id)
    }

    /// Number of distinct strings, the empty one included.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Always false: the empty string is always present.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Every (id, text) pair in id order.
    pub fn iter(&self) -> impl Iterator<Item = (StrId, &str)> {
        (0..self.spans.len()).map(|i| {
            let id = StrId(i as u32);
            (id, self.resolve(id))
        })
    }

    /// Bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.arena.capacity() + self.spans.capacity() * 16 + self.table.capacity() * 4
    }
}

fn span_str<'a>(arena: &'a str, spans: &[(usize, usize)], id: StrId) -> &'a str {
    spans.get(id.index()).and_then(|&(start, len)| arena.get(start..start + len)).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_deduplicates_and_resolves() {
        let mut s = Strings::new();
        let a = s.intern("main.main");
        let b = s.intern("runtime.gopark");
        assert_eq!(s.intern("main.main"), a);
        assert_ne!(a, b);
        assert_eq!(s.resolve(a), "main.main");
        assert_eq!(s.resolve(b), "runtime.gopark");
        assert_eq!(s.intern(""), StrId::EMPTY);
        assert_eq!(s.find("runtime.gopark"), Some(b));
        assert_eq!(s.find("nope"), None);
        assert_eq!(s.len(), 3);
    }

    #[test]
    fn foreign_id_resolves_to_empty() {
        let s = Strings::new();
        assert_eq!(s.resolve(StrId(99)), "");
    }
}
