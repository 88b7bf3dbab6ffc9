//! [`Links`], the causal arrows between tasks (creation, unblocking, Chrome flows). A trace
//! draws one for every unblock, so they are stored in columns as intervals are, sharing their
//! time encoding.

use serde::Serialize;

use super::columns::Times;

/// What a [`Link`] between two tasks means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// `from` created `to`.
    Create,
    /// `from` unblocked `to`.
    Unblock,
    /// A Chrome flow event (`s`/`t`/`f`).
    Flow,
}

/// A causal arrow between two points of two tasks, drawn on the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Link {
    /// What the arrow means.
    pub kind: LinkKind,
    /// Index of the source task.
    pub from_task: u32,
    /// Time at the source.
    pub from_ns: i64,
    /// Index of the target task.
    pub to_task: u32,
    /// Time at the target.
    pub to_ns: i64,
}

/// All links of one capture: a link costs 15 bytes, not the 32 of a [`Link`], since a trace
/// draws one for every unblock (millions) and both its ends are at one time, except for Chrome
/// flows.
#[derive(Clone, Debug, Default)]
pub struct Links {
    kind: Vec<LinkKind>,
    from_task: Vec<u32>,
    to_task: Vec<u32>,
    from_ns: Times,
    /// `to_ns` of the links whose ends are at different times, by index, sorted.
    to_ns: Vec<(u32, i64)>,
}

impl Links {
    /// No links.
    pub const fn new() -> Self {
        Self {
            kind: Vec::new(),
            from_task: Vec::new(),
            to_task: Vec::new(),
            from_ns: Times::new(0),
            to_ns: Vec::new(),
        }
    }

    /// Number of links.
    pub fn len(&self) -> usize {
        self.kind.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }

    /// Room for `more` links, exactly.
    pub fn reserve_exact(&mut self, more: usize) {
        self.kind.reserve_exact(more);
        self.from_task.reserve_exact(more);
        self.to_task.reserve_exact(more);
        self.from_ns.reserve_exact(more);
    }

    /// Appends a link. Links pushed in time order cost least: the first one's time is the
    /// base the others are stored against, and one before it takes the times to 8 bytes.
    pub fn push(&mut self, link: Link) {
        if self.is_empty() && self.from_ns.is_narrow() {
            self.from_ns.base = link.from_ns;
        }
        let i = self.kind.len() as u32;
        self.kind.push(link.kind);
        self.from_task.push(link.from_task);
        self.to_task.push(link.to_task);
        self.from_ns.push(link.from_ns);
        if link.to_ns != link.from_ns {
            self.to_ns.push((i, link.to_ns));
        }
    }

    /// Link `i`.
    pub fn get(&self, i: usize) -> Option<Link> {
        let from_ns = self.from_ns.get(i);
        let to_ns = self
            .to_ns
            .binary_search_by_key(&(i as u32), |e| e.0)
            .ok()
            .and_then(|k| self.to_ns.get(k))
            .map_or(from_ns, |e| e.1);
        Some(Link {
            kind: *self.kind.get(i)?,
            from_task: *self.from_task.get(i)?,
            from_ns,
            to_task: *self.to_task.get(i)?,
            to_ns,
        })
    }

    /// Every link, in order.
    pub fn iter(&self) -> LinksIter<'_> {
        LinksIter { links: self, next: 0 }
    }

    /// Trims the tables to their length.
    pub fn shrink_to_fit(&mut self) {
        self.kind.shrink_to_fit();
        self.from_task.shrink_to_fit();
        self.to_task.shrink_to_fit();
        self.from_ns.shrink_to_fit();
        self.to_ns.shrink_to_fit();
    }

    /// Approximate heap bytes, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.kind.capacity()
            + self.from_task.capacity() * 4
            + self.to_task.capacity() * 4
            + self.from_ns.heap_bytes()
            + self.to_ns.capacity() * 16
    }
}

/// The links of a [`Links`], in order.
#[derive(Clone, Debug)]
pub struct LinksIter<'a> {
    links: &'a Links,
    next: usize,
}

impl Iterator for LinksIter<'_> {
    type Item = Link;

    fn next(&mut self) -> Option<Link> {
        let l = self.links.get(self.next)?;
        self.next += 1;
        Some(l)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.links.len().saturating_sub(self.next);
        (n, Some(n))
    }
}

impl ExactSizeIterator for LinksIter<'_> {}

impl<'a> IntoIterator for &'a Links {
    type Item = Link;
    type IntoIter = LinksIter<'a>;

    fn into_iter(self) -> LinksIter<'a> {
        self.iter()
    }
}

impl FromIterator<Link> for Links {
    fn from_iter<I: IntoIterator<Item = Link>>(iter: I) -> Self {
        let mut links = Links::default();
        links.extend(iter);
        links
    }
}

impl Extend<Link> for Links {
    fn extend<I: IntoIterator<Item = Link>>(&mut self, iter: I) {
        for l in iter {
            self.push(l);
        }
    }
}

impl PartialEq for Links {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_a_second_time_only_where_it_differs() {
        let links: Links = [
            Link { kind: LinkKind::Create, from_task: 0, from_ns: 5, to_task: 1, to_ns: 5 },
            Link { kind: LinkKind::Flow, from_task: 1, from_ns: 9, to_task: 0, to_ns: 30 },
        ]
        .into_iter()
        .collect();
        assert_eq!(links.iter().map(|l| l.to_ns).collect::<Vec<_>>(), [5, 30]);
        assert_eq!(links.get(1).map(|l| l.kind), Some(LinkKind::Flow));
        assert!(links.get(2).is_none());
    }
}
