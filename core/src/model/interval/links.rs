//! [`Links`], the causal arrows between tasks (creation, unblocking, Chrome flows). A trace
//! draws one for every goroutine created and every unblock, so they are stored as varint
//! deltas in blocks, not as a table of [`Link`]s.

use serde::Serialize;

use super::super::varint::{put_uvarint, unzigzag, uvarint, zigzag};

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

/// All links of one capture, delta-coded: a trace draws a link for every goroutine it creates
/// and every unblock, so a trace of 4 million short goroutines has 4 million links, and at the
/// 13 bytes of fixed columns they were a fifth of its model. Pushed in time order, a link's
/// source and target are near the previous link's (one creator makes many goroutines, numbered
/// one after another) and its time a little after, so it takes about 4 bytes as varints of
/// those deltas. Random access is by blocks of 64 links, each coded from scratch; only
/// the timeline reads links one by one, and only a focused task's.
#[derive(Clone, Debug, Default)]
pub struct Links {
    /// Per link: the zigzagged source delta shifted over the kind (2 bits) and a bit saying
    /// the ends' times differ; the zigzagged target delta; the zigzagged time delta; and, if
    /// the times differ, the zigzagged target time less the source time.
    bytes: Vec<u8>,
    /// Where each block of [`BLOCK`] links starts in `bytes`.
    blocks: Vec<usize>,
    len: usize,
    /// The first link's time: each block's first time is coded against it.
    base: i64,
    /// The last link pushed, to code the next one against.
    last: Cursor,
}

/// Links per independently coded block: a link read alone costs decoding up to this many.
const BLOCK: usize = 64;

/// The most bytes one link takes: four varints of up to 10 bytes.
const MAX_LINK_BYTES: usize = 40;

/// Bytes a link takes at least on a real trace, to reserve from a count of links: 4.2 on a
/// goroutine-dense trace, 5.3 on a busy one (whose links grow by an eighth beyond it).
const TYPICAL_LINK_BYTES: usize = 4;

/// Where the decoding of a block stands: the last link's source, target and time.
#[derive(Clone, Copy, Debug, Default)]
struct Cursor {
    from: u32,
    to: u32,
    ns: i64,
}

const fn kind_code(kind: LinkKind) -> u64 {
    match kind {
        LinkKind::Create => 0,
        LinkKind::Unblock => 1,
        LinkKind::Flow => 2,
    }
}

impl Links {
    /// No links.
    pub const fn new() -> Self {
        Self {
            bytes: Vec::new(),
            blocks: Vec::new(),
            len: 0,
            base: 0,
            last: Cursor { from: 0, to: 0, ns: 0 },
        }
    }

    /// Number of links.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room for about `more` links: their typical size, since their exact size is known only
    /// once they are coded.
    pub fn reserve_exact(&mut self, more: usize) {
        self.bytes.reserve_exact(more.saturating_mul(TYPICAL_LINK_BYTES));
        self.blocks.reserve_exact(more.div_ceil(BLOCK));
    }

    /// Appends a link. Links pushed in time order cost least.
    pub fn push(&mut self, link: Link) {
        if self.len == 0 {
            self.base = link.from_ns;
        }
        if self.len.is_multiple_of(BLOCK) {
            self.blocks.push(self.bytes.len());
            self.last = Cursor { from: 0, to: 0, ns: self.base };
        }
        if self.bytes.capacity() - self.bytes.len() < MAX_LINK_BYTES {
            // Reserved from a count of links, the bytes are near their size: grow them by an
            // eighth, not by doubling them. Small, they were not reserved: double them.
            let more = if self.bytes.capacity() < 1 << 16 {
                self.bytes.capacity()
            } else {
                self.bytes.capacity() / 8
            };
            self.bytes.reserve_exact(more + 4 * MAX_LINK_BYTES);
        }
        let last = self.last;
        let differs = link.to_ns != link.from_ns;
        let from = zigzag(i64::from(link.from_task) - i64::from(last.from));
        put_uvarint(&mut self.bytes, from << 3 | kind_code(link.kind) << 1 | u64::from(differs));
        put_uvarint(&mut self.bytes, zigzag(i64::from(link.to_task) - i64::from(last.to)));
        put_uvarint(&mut self.bytes, zigzag(link.from_ns.wrapping_sub(last.ns)));
        if differs {
            put_uvarint(&mut self.bytes, zigzag(link.to_ns.wrapping_sub(link.from_ns)));
        }
        self.last = Cursor { from: link.from_task, to: link.to_task, ns: link.from_ns };
        self.len += 1;
    }

    /// Link `i`.
    pub fn get(&self, i: usize) -> Option<Link> {
        if i >= self.len {
            return None;
        }
        let mut it = self.iter();
        it.seek(i);
        it.next()
    }

    /// Every link, in order.
    pub fn iter(&self) -> LinksIter<'_> {
        LinksIter { links: self, next: 0, pos: 0, last: Cursor::default() }
    }

    /// Trims the tables to their length.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
        self.blocks.shrink_to_fit();
    }

    /// Approximate heap bytes, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity() + self.blocks.capacity() * size_of::<usize>()
    }
}

/// The links of a [`Links`], in order.
#[derive(Clone, Debug)]
pub struct LinksIter<'a> {
    links: &'a Links,
    next: usize,
    pos: usize,
    last: Cursor,
}

impl LinksIter<'_> {
    /// Moves to link `i` (before the end), decoding from the start of its block.
    fn seek(&mut self, i: usize) {
        let Some(&pos) = self.links.blocks.get(i / BLOCK) else { return };
        (self.next, self.pos) = (i - i % BLOCK, pos);
        while self.next < i && self.next().is_some() {}
    }
}

impl Iterator for LinksIter<'_> {
    type Item = Link;

    fn next(&mut self) -> Option<Link> {
        if self.next >= self.links.len {
            return None;
        }
        if self.next.is_multiple_of(BLOCK) {
            self.last = Cursor { from: 0, to: 0, ns: self.links.base };
        }
        let bytes = self.links.bytes.as_slice();
        let head = uvarint(bytes, &mut self.pos)?;
        let to = uvarint(bytes, &mut self.pos)?;
        let dt = uvarint(bytes, &mut self.pos)?;
        let from_task = (i64::from(self.last.from) + unzigzag(head >> 3)) as u32;
        let to_task = (i64::from(self.last.to) + unzigzag(to)) as u32;
        let from_ns = self.last.ns.wrapping_add(unzigzag(dt));
        let to_ns = if head & 1 == 1 {
            from_ns.wrapping_add(unzigzag(uvarint(bytes, &mut self.pos)?))
        } else {
            from_ns
        };
        let kind = match (head >> 1) & 3 {
            0 => LinkKind::Create,
            1 => LinkKind::Unblock,
            _ => LinkKind::Flow,
        };
        self.last = Cursor { from: from_task, to: to_task, ns: from_ns };
        self.next += 1;
        Some(Link { kind, from_task, from_ns, to_task, to_ns })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.links.len.saturating_sub(self.next);
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
        let iter = iter.into_iter();
        self.reserve_exact(iter.size_hint().0);
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

    proptest::proptest! {
        /// Whatever the links (any tasks, any times, in any order), each comes back as pushed,
        /// read in order or alone, across blocks.
        #[test]
        fn links_come_back_as_pushed(
            raw in proptest::collection::vec(
                (0u8..3, proptest::prelude::any::<u32>(), proptest::prelude::any::<u32>(),
                 proptest::prelude::any::<i64>(), proptest::prelude::any::<i64>(),
                 0u8..4, 0u8..3),
                0..300,
            ),
        ) {
            let mut t = 0i64;
            let want: Vec<Link> = raw
                .iter()
                .map(|&(kind, from, to, wild, wild_to, near, same)| {
                    // Mostly near deltas as traces give, some anywhere in range.
                    t = if near == 0 { wild } else { t.wrapping_add(wild % 1000) };
                    let kind = [LinkKind::Create, LinkKind::Unblock, LinkKind::Flow][kind as usize];
                    let (from, to) = if near == 0 { (from, to) } else { (from % 8, to % 16) };
                    let to_ns = if same == 0 { wild_to } else { t };
                    Link { kind, from_task: from, from_ns: t, to_task: to, to_ns }
                })
                .collect();
            let mut links = Links::new();
            links.reserve_exact(want.len());
            for &l in &want {
                links.push(l);
            }
            proptest::prop_assert_eq!(links.len(), want.len());
            proptest::prop_assert_eq!(links.iter().collect::<Vec<_>>(), want.clone());
            for (i, l) in want.iter().enumerate().rev() {
                proptest::prop_assert_eq!(links.get(i), Some(*l));
            }
            proptest::prop_assert_eq!(links.get(want.len()), None);
            proptest::prop_assert_eq!(links.iter().skip(1).len(), want.len().saturating_sub(1));
        }
    }

    #[test]
    fn a_creator_making_goroutines_one_after_another_takes_few_bytes_a_link() {
        let mut links = Links::new();
        for i in 0..10_000u32 {
            let creator = i % 3;
            let t = 1_700_000_000_000 + i64::from(i) * 700;
            links.push(Link {
                kind: LinkKind::Create,
                from_task: creator,
                from_ns: t,
                to_task: 10 + i,
                to_ns: t,
            });
        }
        links.shrink_to_fit();
        let per_link = links.heap_bytes() as f64 / links.len() as f64;
        assert!(per_link < 5.0, "{per_link} bytes a link");
        assert_eq!(links.get(9_999).map(|l| (l.from_task, l.to_task)), Some((0, 10_009)));
    }
}
