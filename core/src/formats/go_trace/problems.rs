//! Problems found while reading a trace, counted by kind so that a file with a million bad
//! events reports each kind of problem once, with a count and where it first happened.

use hashbrown::HashMap;

use crate::model::Warnings;

#[derive(Debug)]
struct Entry {
    message: String,
    first_offset: Option<usize>,
    count: u64,
}

/// Problems by message, in the order first seen.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

impl Problems {
    /// Counts a problem at a byte offset.
    pub fn add(&mut self, message: &str, offset: usize) {
        self.add_at(message, Some(offset));
    }

    /// Counts a problem, at a byte offset where there is one.
    pub fn add_at(&mut self, message: &str, offset: Option<usize>) {
        if let Some(&i) = self.index.get(message) {
            if let Some(e) = self.entries.get_mut(i) {
                e.count += 1;
            }
            return;
        }
        self.index.insert(message.to_owned(), self.entries.len());
        self.entries.push(Entry { message: message.to_owned(), first_offset: offset, count: 1 });
    }

    /// Adds another collector's problems after these.
    pub fn merge(&mut self, other: Problems) {
        for e in other.entries {
            if let Some(mine) = self.index.get(&e.message).and_then(|&i| self.entries.get_mut(i)) {
                mine.count += e.count;
            } else {
                self.index.insert(e.message.clone(), self.entries.len());
                self.entries.push(e);
            }
        }
    }

    /// How many problems were counted, of every kind.
    pub fn total(&self) -> u64 {
        self.entries.iter().map(|e| e.count).sum()
    }

    /// The offset of the first problem that has one.
    pub fn first_offset(&self) -> Option<usize> {
        self.entries.iter().find_map(|e| e.first_offset)
    }

    /// Moves the problems into warnings, one per kind.
    pub fn into_warnings(self, warnings: &mut Warnings) {
        for e in self.entries {
            let message = if e.count > 1 {
                format!("{} ({} times; the first is at this offset)", e.message, e.count)
            } else {
                e.message
            };
            match e.first_offset {
                Some(offset) => warnings.at_offset(offset as u64, message),
                None => warnings.general(message),
            }
        }
    }
}
