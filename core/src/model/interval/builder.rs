//! [`IntervalsBuilder`], how parsers write intervals: rows appended, placed into slots made
//! ahead, or written into blocks of slots and gathered by run, sorted per run, then packed
//! into [`Intervals`]. A row's given end is kept against its start, so a writer writes the
//! start first. Apart from the table because only
//! writers need its extra state (the style lookup, every given end until it packs), and the
//! finished table has no way to change a row.

use hashbrown::HashMap;

use super::columns::{BlockPlan, Sparse, Style, StyleColumn, Times};
use super::store::FAR;
use super::{Interval, IntervalKind, Intervals};
use crate::model::stack::StackId;
use crate::model::strings::StrId;

/// Builds [`Intervals`]: rows are appended, or written into slots made ahead
/// ([`IntervalsBuilder::with_len`]); [`IntervalsBuilder::finish`] packs them.
///
/// Ends are not kept per row. A row's end is the start of the row after it in the finished
/// order unless [`IntervalsBuilder::set_end`] gave one; giving one that turns out to equal that
/// start costs nothing after `finish`. So a writer that knows a state is followed by the next in
/// the same lane skips `set_end`, and any other writer calls it for every row.
#[derive(Debug)]
pub struct IntervalsBuilder {
    start: Times,
    style: StyleColumn,
    styles: Vec<Style>,
    ids: HashMap<Style, u32>,
    /// Looks found lately and their ids, at a slot picked by a mix of their fields: a trace
    /// repeats a few hundred looks millions of times, and comparing one is cheaper than hashing
    /// it (an id of `u32::MAX`: an empty slot).
    recent: Vec<(Style, u32)>,
    ends: GivenEnds,
}

/// Slots of [`IntervalsBuilder::recent`], as a power of two.
const RECENT_BITS: u32 = 8;

/// The ends given to rows, held until [`IntervalsBuilder::finish`]: a goroutine-dense trace
/// gives millions of rows their own end (each goroutine's last state), so an end is kept as its
/// distance from its row's start, 8 bytes, where a whole time took 12 (16 MB of such a
/// trace's peak). The few that are 4.3 s or more after their row's start, or before it, are
/// kept whole beside them. Each list is in no order until sorted by row, and ends move with
/// their rows.
#[derive(Clone, Debug, Default)]
struct GivenEnds {
    near: Vec<NearEnd>,
    far: Vec<FarEnd>,
}

/// An end given to a row, `after` its row's start.
#[derive(Clone, Copy, Debug)]
struct NearEnd {
    row: u32,
    after: u32,
}

/// An end given to a row, as a time.
#[derive(Clone, Copy, Debug)]
#[repr(C, packed(4))]
struct FarEnd {
    row: u32,
    ns: i64,
}

/// What [`GivenEnds`] does alike to both of its lists.
trait GivenEnd: Copy {
    fn row(self) -> u32;
    fn set_row(&mut self, row: u32);
}

impl GivenEnd for NearEnd {
    fn row(self) -> u32 {
        self.row
    }
    fn set_row(&mut self, row: u32) {
        self.row = row;
    }
}

impl GivenEnd for FarEnd {
    fn row(self) -> u32 {
        self.row
    }
    fn set_row(&mut self, row: u32) {
        self.row = row;
    }
}

/// Moves the ends of the rows `rows` (a list sorted by row) to the rows `to` gives, keeping
/// the list sorted.
fn move_sorted<E: GivenEnd>(ends: &mut [E], rows: std::ops::Range<usize>, to: &impl Fn(usize) -> u32) {
    let from = ends.partition_point(|e| (e.row() as usize) < rows.start);
    let until = ends.partition_point(|e| (e.row() as usize) < rows.end);
    if let Some(ends) = ends.get_mut(from..until).filter(|e| !e.is_empty()) {
        for e in ends.iter_mut() {
            e.set_row(to(e.row() as usize));
        }
        ends.sort_by_key(|e| e.row());
    }
}

impl GivenEnds {
    /// Row `row`, which starts at `start`, ends at `end`.
    fn push(&mut self, row: u32, start: i64, end: i64) {
        match end.checked_sub(start).and_then(|d| u32::try_from(d).ok()) {
            Some(after) => self.near.push(NearEnd { row, after }),
            None => self.far.push(FarEnd { row, ns: end }),
        }
    }

    /// Sorts both lists by row.
    fn sort(&mut self) {
        self.near.sort_unstable_by_key(|e| e.row);
        self.far.sort_unstable_by_key(|e| e.row);
    }

    /// Moves every end to the row `to` gives for its row.
    fn move_all(&mut self, to: impl Fn(usize) -> u32) {
        for e in &mut self.near {
            e.row = to(e.row as usize);
        }
        for e in &mut self.far {
            e.row = to(e.row as usize);
        }
    }

    /// Moves the ends of the rows `rows` to the rows `to` gives, the lists being sorted by row
    /// (see [`GivenEnds::sort`]), and keeps them sorted.
    fn move_sorted(&mut self, rows: std::ops::Range<usize>, to: impl Fn(usize) -> u32) {
        move_sorted(&mut self.near, rows.clone(), &to);
        move_sorted(&mut self.far, rows, &to);
    }

    fn heap_bytes(&self) -> usize {
        self.near.capacity() * size_of::<NearEnd>() + self.far.capacity() * size_of::<FarEnd>()
    }
}

impl Default for IntervalsBuilder {
    fn default() -> Self {
        Self::new(0)
    }
}

/// A run is sorted by [`IntervalsBuilder::sink_deep_rows`] when at most one row in this many
/// is deeper than 0 (what it sets aside is 16 bytes a row).
const FEW_DEEP: usize = 8;

impl IntervalsBuilder {
    /// A builder for times from `base_ns` on (earlier ones work, at 8 bytes a row).
    pub fn new(base_ns: i64) -> Self {
        Self {
            start: Times::new(base_ns),
            style: StyleColumn::default(),
            styles: Style::PLAIN.to_vec(),
            ids: HashMap::new(),
            recent: Vec::new(),
            ends: GivenEnds::default(),
        }
    }

    /// A builder with `len` slots to [`set`](Self::set), all running from `base_ns` for now.
    pub fn with_len(len: usize, base_ns: i64) -> Self {
        let mut b = Self::new(base_ns);
        b.start.resize(len);
        b.style = StyleColumn::Narrow(vec![0; len]);
        b
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.style.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.style.is_empty()
    }

    /// Rows the builder has room for without growing.
    pub fn capacity(&self) -> usize {
        self.style.capacity().min(self.start.capacity())
    }

    /// Room for `more` rows beyond the current ones, exactly.
    pub fn reserve_exact(&mut self, more: usize) {
        self.start.reserve_exact(more);
        self.style.reserve_exact(more);
    }

    /// The id of a row's look (kind, label, stack, depth), for [`push_styled`](Self::push_styled):
    /// a writer with many rows of few looks finds each look's id once instead of at every row.
    pub fn style_id(&mut self, kind: IntervalKind, label: StrId, stack: StackId, depth: u16) -> u32 {
        if depth == 0 && label == StrId::EMPTY && stack == StackId::EMPTY {
            return kind as u32;
        }
        let style = Style { kind, depth, label, stack };
        let mix = (label.index() as u32)
            ^ (stack.index() as u32).rotate_left(11)
            ^ (u32::from(depth) << 20)
            ^ ((kind as u32) << 27);
        let slot = (mix.wrapping_mul(0x9e37_79b1) >> (32 - RECENT_BITS)) as usize;
        if let Some(&(seen, id)) = self.recent.get(slot)
            && seen == style
            && id != u32::MAX
        {
            return id;
        }
        let next = self.styles.len() as u32;
        let id = *self.ids.entry(style).or_insert(next);
        if id == next {
            self.styles.push(style);
        }
        if self.recent.is_empty() {
            self.recent = vec![(style, u32::MAX); 1 << RECENT_BITS];
        }
        if let Some(r) = self.recent.get_mut(slot) {
            *r = (style, id);
        }
        id
    }

    /// Appends a row whose end is the next row's start (or set with [`set_end`](Self::set_end));
    /// returns its index.
    pub fn push(
        &mut self,
        start_ns: i64,
        kind: IntervalKind,
        label: StrId,
        stack: StackId,
        depth: u16,
    ) -> u32 {
        let id = self.style_id(kind, label, stack, depth);
        let i = self.style.len() as u32;
        self.start.push(start_ns);
        self.style.push(id);
        i
    }

    /// Appends a row of a look whose id [`style_id`](Self::style_id) gave, ending as for
    /// [`push`](Self::push); returns its index.
    pub fn push_styled(&mut self, start_ns: i64, style: u32) -> u32 {
        let i = self.style.len() as u32;
        self.start.push(start_ns);
        self.style.push(style);
        i
    }

    /// Appends a whole interval, end included.
    pub fn push_interval(&mut self, iv: Interval) -> u32 {
        let i = self.push(iv.start_ns, iv.kind, iv.label, iv.stack, iv.depth);
        self.set_end(i, iv.end_ns.max(iv.start_ns));
        i
    }

    /// Writes row `i` (made by [`with_len`](Self::with_len)); its end as for [`push`](Self::push).
    pub fn set(
        &mut self,
        i: u32,
        start_ns: i64,
        kind: IntervalKind,
        label: StrId,
        stack: StackId,
        depth: u16,
    ) {
        if (i as usize) < self.style.len() {
            let id = self.style_id(kind, label, stack, depth);
            self.style.set(i as usize, id);
            self.start.set(i as usize, start_ns);
        }
    }

    /// Makes slots up to `len` (made by [`with_len`](Self::with_len)), for a writer that
    /// found it had too few.
    pub fn grow_len(&mut self, len: usize) {
        if len > self.len() {
            // Exactly: a resize alone would double the columns' room.
            self.reserve_exact(len - self.len());
            self.start.resize(len);
            self.style.resize(len);
        }
    }

    /// Brings together rows written a block at a time: a writer of many runs (a trace's tasks)
    /// that cannot count each run's rows ahead takes slots (see [`with_len`](Self::with_len))
    /// `block` at a time as a run needs them. `owner[j]` is the run whose rows block `j` holds;
    /// a run's blocks, in the order it took them, are full but the last, and `lens[run]` says
    /// how many rows it wrote. Afterwards the rows are each run's in turn, in the order they
    /// were written, with nothing between; returns where each run's rows begin. Ends given to
    /// rows move with them.
    ///
    /// The rows move in place (a block's worth aside), since a copy of the columns would be as
    /// much memory again: the blocks go to their places in run order, then each run's rows move
    /// down over the unwritten rows at the ends of the runs before it.
    pub fn gather_blocks(&mut self, block: usize, owner: &[u32], lens: &[u32]) -> Vec<u32> {
        let block = block.max(1);
        let mut blocks_of = vec![0u32; lens.len()];
        for &run in owner {
            if let Some(n) = blocks_of.get_mut(run as usize) {
                *n += 1;
            }
        }
        // Each run's first block's place, and where its rows begin once packed.
        let mut runs = Vec::with_capacity(lens.len());
        let (mut slot, mut start) = (0u32, 0u32);
        for (&blocks, &len) in blocks_of.iter().zip(lens) {
            runs.push((slot, start, len));
            slot += blocks;
            start += len;
        }
        // Block j's place, and the row its first row lands on (for the ends).
        let mut taken = vec![0u32; lens.len()];
        let mut places = Vec::with_capacity(owner.len());
        let mut lands = Vec::with_capacity(owner.len());
        for &run in owner {
            let k = taken.get_mut(run as usize).map_or(0, |k| std::mem::replace(k, *k + 1));
            let (first, begins, _) = runs.get(run as usize).copied().unwrap_or_default();
            places.push(first + k);
            lands.push(begins as usize + k as usize * block);
        }
        let plan = BlockPlan { block, slot: places, runs, rows: start as usize };
        self.start.gather_blocks(&plan);
        self.style.gather_blocks(&plan);
        // An end given to a row in no block (which a writer cannot do) is dropped by `finish`.
        self.ends
            .move_all(|row| lands.get(row / block).map_or(u32::MAX, |&land| (land + row % block) as u32));
        plan.runs.iter().map(|&(_, start, _)| start).collect()
    }

    /// Room for `more` ends given with [`set_end`](Self::set_end), exactly (for ends less
    /// than 4.3 s after their rows' starts).
    pub fn reserve_ends(&mut self, more: usize) {
        self.ends.near.reserve_exact(more);
    }

    /// Gives row `i` its own end. Row `i`'s start must be written already and not change
    /// after: the end is kept as its distance from it.
    pub fn set_end(&mut self, i: u32, end_ns: i64) {
        self.ends.push(i, self.start.get(i as usize), end_ns);
    }

    /// Start of row `i`.
    pub fn start(&self, i: usize) -> i64 {
        self.start.get(i)
    }

    /// Depth of row `i`.
    pub fn depth(&self, i: usize) -> u16 {
        self.style.get(i).and_then(|s| self.styles.get(s as usize)).map_or(0, |s| s.depth)
    }

    /// Reorders all rows: `perm[new] = old`.
    pub fn permute(&mut self, perm: &[u32]) {
        self.start.gather(perm);
        self.style.gather(perm);
        let mut new_of_old = vec![0u32; perm.len()];
        for (new, &old) in perm.iter().enumerate() {
            if let Some(slot) = new_of_old.get_mut(old as usize) {
                *slot = new as u32;
            }
        }
        self.ends.move_all(|row| new_of_old.get(row).copied().unwrap_or(row as u32));
    }

    /// The rows `at..at + len` in (depth, start) order, depth-0 rows and equal starts in the
    /// order they have, as offsets from `at`: what a stable sort by that key gives, made as a
    /// counting sort by depth (one pass; a proc's lane has millions of states and a few sweep
    /// spans, and a comparison sort of it was a tenth of a trace's read) followed by a stable
    /// sort of each deeper depth by start, whose rows are few and almost in order.
    fn depth_then_start_order(&self, at: usize, len: usize) -> Vec<u32> {
        let depths: Vec<u16> = (at..at + len).map(|i| self.depth(i)).collect();
        let deepest = depths.iter().copied().max().unwrap_or(0) as usize;
        // Where each depth's rows begin in the new order.
        let mut begin = vec![0usize; deepest + 2];
        for &d in &depths {
            if let Some(c) = begin.get_mut(d as usize + 1) {
                *c += 1;
            }
        }
        for d in 1..begin.len() {
            let before = begin.get(d - 1).copied().unwrap_or(0);
            if let Some(c) = begin.get_mut(d) {
                *c += before;
            }
        }
        let bounds = begin.clone();
        let mut order = vec![0u32; len];
        for (k, &d) in depths.iter().enumerate() {
            if let Some(next) = begin.get_mut(d as usize) {
                if let Some(slot) = order.get_mut(*next) {
                    *slot = k as u32;
                }
                *next += 1;
            }
        }
        for d in 1..=deepest {
            let (from, to) =
                (bounds.get(d).copied().unwrap_or(len), bounds.get(d + 1).copied().unwrap_or(len));
            if let Some(rows) = order.get_mut(from..to) {
                rows.sort_by_key(|&k| self.start.get(at + k as usize));
            }
        }
        order
    }

    /// Puts the rows of each of `runs` in (depth, start) order, except that depth-0 rows keep
    /// the order they have (a lane's states are written in time order already, and two states
    /// can share a start when one lasted no time). Ends given to those rows move with them.
    pub fn sort_each(&mut self, runs: impl IntoIterator<Item = std::ops::Range<usize>>) {
        self.ends.sort();
        // Which styles are deeper than 0, by id (styles are few, rows many).
        let deep_style: Vec<bool> = self.styles.iter().map(|s| s.depth > 0).collect();
        for run in runs {
            let (at, len) = (run.start, run.len());
            let key = |i: usize| match self.depth(i) {
                0 => (0, i64::MIN),
                d => (d, self.start.get(i)),
            };
            // Most runs are in order already: checked without a copy.
            if run.clone().zip(run.clone().skip(1)).all(|(a, b)| key(a) <= key(b)) {
                continue;
            }
            // A proc's lane: millions of states and a few spans, which go after them.
            let deep = self.style.offsets_where(at, len, &deep_style);
            if deep.len() <= len / FEW_DEEP {
                self.sink_deep_rows(at, len, &deep);
                continue;
            }
            // The new order as offsets into the run, applied in place below: a copy of the rows
            // would take 16 bytes a row of the run, and one run can be most of a trace.
            let mut order = self.depth_then_start_order(at, len);
            let mut new_of_old = vec![0u32; len];
            for (k, &old) in order.iter().enumerate() {
                if let Some(slot) = new_of_old.get_mut(old as usize) {
                    *slot = (at + k) as u32;
                }
            }
            self.ends
                .move_sorted(at..at + len, |row| new_of_old.get(row - at).copied().unwrap_or(row as u32));
            // Cycle by cycle: row k takes old row order[k]; a slot done is marked u32::MAX.
            for k in 0..len {
                if order.get(k).is_none_or(|&o| o == u32::MAX || o as usize == k) {
                    continue;
                }
                let saved = (self.start.get(at + k), self.style.get(at + k).unwrap_or_default());
                let mut j = k;
                while let Some(slot) = order.get_mut(j) {
                    let src = std::mem::replace(slot, u32::MAX) as usize;
                    if src == k || src == u32::MAX as usize {
                        self.start.set(at + j, saved.0);
                        self.style.set(at + j, saved.1);
                        break;
                    }
                    let row = (self.start.get(at + src), self.style.get(at + src).unwrap_or_default());
                    self.start.set(at + j, row.0);
                    self.style.set(at + j, row.1);
                    j = src;
                }
            }
        }
    }

    /// Puts the rows `at..at + len` in the order [`depth_then_start_order`] gives, where few
    /// of them are deeper than 0 (see [`FEW_DEEP`]): the depth-0 rows move down over the deeper
    /// ones in one pass, which are set aside, sorted and written after them. Following the
    /// permutation's cycles instead reads and writes the rows in a scattered order, which was
    /// most of the end of a busy trace's read. Ends given to the rows move with them.
    ///
    /// [`depth_then_start_order`]: Self::depth_then_start_order
    /// `deep` is the deeper rows' offsets in the run, in order.
    fn sink_deep_rows(&mut self, at: usize, len: usize, deep: &[u32]) {
        // The depth-0 rows between the deeper ones move down a stretch at a time (copies of
        // a few columns' slices), where a row at a time read and wrote each through its
        // column's encoding.
        let aside: Vec<(u16, i64, u32)> = deep
            .iter()
            .map(|&k| {
                let row = at + k as usize;
                (self.depth(row), self.start.get(row), self.style.get(row).unwrap_or_default())
            })
            .collect();
        self.start.close_holes(at, len, deep);
        self.style.close_holes(at, len, deep);
        let to_row = at + len - deep.len();
        // Their places after the sort, by their places before it (a stable sort: equal depths
        // and starts keep their order, as in `depth_then_start_order`).
        let mut sorted: Vec<u32> = (0..aside.len() as u32).collect();
        sorted.sort_by_key(|&k| aside.get(k as usize).map(|&(d, s, _)| (d, s)));
        let mut place = vec![0u32; aside.len()];
        for (new, &old) in sorted.iter().enumerate() {
            if let Some(p) = place.get_mut(old as usize) {
                *p = new as u32;
            }
            if let Some(&(_, start, style)) = aside.get(old as usize) {
                self.start.set(to_row + new, start);
                self.style.set(to_row + new, style);
            }
        }
        // A row's place: a deeper row's from `place`, a depth-0 row's down by the deeper rows
        // before it.
        self.ends.move_sorted(at..at + len, |row| {
            let k = row - at;
            let before = deep.partition_point(|&d| (d as usize) < k);
            if deep.get(before).is_some_and(|&d| d as usize == k) {
                (to_row + place.get(before).copied().unwrap_or(0) as usize) as u32
            } else {
                (at + k - before) as u32
            }
        });
    }

    /// Packs the rows. A row without an end of its own ends where the next begins; given ends
    /// equal to that are dropped.
    pub fn finish(mut self) -> Intervals {
        let len = self.style.len();
        // Writers give a row one end; should one give two, one of them is kept. (A stable sort
        // could keep the last, but it would need a buffer as large as the ends.)
        self.ends.sort();
        let start = &self.start;
        let mut near =
            self.ends.near.iter().map(|e| (e.row, start.get(e.row as usize) + i64::from(e.after))).peekable();
        let mut far = self.ends.far.iter().map(|e| (e.row, e.ns)).peekable();
        // Both lists merged by row, the first end of a row kept (a near one before a far one).
        let one_a_row = std::iter::from_fn(move || {
            let first = match (near.peek(), far.peek()) {
                (Some(n), Some(f)) if f.0 < n.0 => far.next(),
                (Some(_), _) => near.next(),
                (None, _) => far.next(),
            }?;
            while near.next_if(|next| next.0 == first.0).is_some()
                || far.next_if(|next| next.0 == first.0).is_some()
            {}
            Some(first)
        });
        let kept = one_a_row.filter(|&(i, end)| {
            let i = i as usize;
            i < len && (i + 1 >= len || start.get(i + 1) != end)
        });
        let mut far = Vec::new();
        let ends = Sparse::from_sorted(
            len,
            kept.map(|(i, end)| {
                let start = start.get(i as usize);
                let end = end.max(start);
                match u32::try_from(end.saturating_sub(start)) {
                    Ok(after) if after != FAR => (i, after),
                    _ => {
                        far.push((i, end));
                        (i, FAR)
                    }
                }
            }),
        );
        far.shrink_to_fit();
        self.start.shrink_to_fit();
        self.style.shrink_to_fit();
        self.styles.shrink_to_fit();
        Intervals { start: self.start, style: self.style, styles: self.styles, ends, far }
    }

    /// Approximate heap bytes, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.start.heap_bytes()
            + self.style.heap_bytes()
            + self.styles.capacity() * size_of::<Style>()
            + self.ids.capacity() * (size_of::<Style>() + 4)
            + self.recent.capacity() * size_of::<(Style, u32)>()
            + self.ends.heap_bytes()
    }
}

impl From<Intervals> for IntervalsBuilder {
    /// Takes finished intervals back to append more.
    fn from(iv: Intervals) -> Self {
        if iv.styles.len() < Style::PLAIN.len() {
            // Never built (a default): nothing to keep but the base.
            return Self::new(iv.start.base);
        }
        let ids =
            iv.styles.iter().enumerate().skip(Style::PLAIN.len()).map(|(i, s)| (*s, i as u32)).collect();
        let mut ends = GivenEnds::default();
        for (row, ns) in iv.given_ends() {
            ends.push(row, iv.start.get(row as usize), ns);
        }
        Self { start: iv.start, style: iv.style, styles: iv.styles, ids, recent: Vec::new(), ends }
    }
}

impl FromIterator<Interval> for Intervals {
    /// Packs intervals given in their final order.
    fn from_iter<I: IntoIterator<Item = Interval>>(iter: I) -> Self {
        let all: Vec<Interval> = iter.into_iter().collect();
        let base = all.iter().map(|iv| iv.start_ns).min().unwrap_or(0);
        let mut b = IntervalsBuilder::new(base);
        b.reserve_exact(all.len());
        for iv in all {
            b.push_interval(iv);
        }
        b.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_keep_their_ids_when_they_share_a_recent_slot() {
        // More looks than recent slots, revisited in a scrambled order: every row reads back
        // the look it was pushed with, and a look keeps the id its first row got.
        let looks: Vec<(IntervalKind, StrId, StackId, u16)> = (0..2_000u32)
            .map(|k| {
                let kind = if k % 3 == 0 { IntervalKind::Blocked } else { IntervalKind::Span };
                (kind, StrId::from_index(k % 700), StackId(k / 7), (k % 5) as u16)
            })
            .collect();
        let mut b = IntervalsBuilder::new(0);
        let mut first_id: HashMap<usize, u32> = HashMap::new();
        let mut pushed = Vec::new();
        for step in 0..20_000usize {
            let k = step.wrapping_mul(7_919) % looks.len();
            let (kind, label, stack, depth) = looks[k];
            let id = b.style_id(kind, label, stack, depth);
            assert_eq!(*first_id.entry(k).or_insert(id), id, "look {k}");
            b.push_styled(step as i64, id);
            pushed.push(looks[k]);
        }
        let iv = b.finish();
        for (i, &(kind, label, stack, depth)) in pushed.iter().enumerate() {
            assert_eq!(
                (iv.kind(i), iv.label(i), iv.stack(i), iv.depth(i)),
                (kind, label, stack, depth),
                "row {i}"
            );
        }
    }

    #[test]
    fn placed_rows_sorted_per_run_keep_their_ends() {
        let mut b = IntervalsBuilder::with_len(5, 100);
        // A lane: two states, a span written between them, then a nested span.
        b.set(0, 100, IntervalKind::Running, StrId::EMPTY, StackId::EMPTY, 0);
        b.set(1, 103, IntervalKind::Span, StrId::EMPTY, StackId::EMPTY, 2);
        b.set_end(1, 104);
        b.set(2, 110, IntervalKind::Blocked, StrId::EMPTY, StackId::EMPTY, 0);
        b.set_end(2, 150);
        b.set(3, 102, IntervalKind::Span, StrId::EMPTY, StackId::EMPTY, 1);
        b.set_end(3, 108);
        b.set(4, 150, IntervalKind::Running, StrId::EMPTY, StackId::EMPTY, 0);
        b.set_end(4, 160);
        b.sort_each(std::iter::once(0..4));
        let iv = b.finish();
        let got: Vec<(i64, i64, u16)> = (0..5).map(|i| (iv.start(i), iv.end(i), iv.depth(i))).collect();
        assert_eq!(got, [(100, 110, 0), (110, 150, 0), (102, 108, 1), (103, 104, 2), (150, 160, 0)]);
    }

    /// The counting sort by depth gives exactly what a stable sort by (depth, start), depth-0
    /// rows keeping their order, gives: on random runs with ties, many depths and long ones.
    #[test]
    fn depth_then_start_order_is_the_stable_sort_by_depth_and_start() {
        let mut random = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        let mut next = |m: u64| random() % m;
        for round in 0..200 {
            let len = 1 + next(300) as usize;
            let depths = 1 + next(if round % 3 == 0 { 2 } else { 6 });
            let mut b = IntervalsBuilder::with_len(len + 2, 0);
            for i in 0..len + 2 {
                let depth = next(depths) as u16;
                // Starts from a small range, so equal starts are common.
                b.set(i as u32, next(40) as i64, IntervalKind::Span, StrId::EMPTY, StackId::EMPTY, depth);
            }
            let at = 1;
            let key = |i: usize| match b.depth(i) {
                0 => (0, i64::MIN),
                d => (d, b.start.get(i)),
            };
            let mut want: Vec<u32> = (0..len as u32).collect();
            want.sort_by_key(|&k| key(at + k as usize));
            assert_eq!(b.depth_then_start_order(at, len), want, "round {round}");
        }
    }

    #[test]
    fn sort_each_moves_whole_rows_with_their_ends_in_long_runs() {
        // Deeper rows of every depth in any number: the permutation is followed cycle by cycle.
        sort_each_matches_the_stable_sort(12345, 200, |x| (x >> 60) as u16 % 3);
    }

    #[test]
    fn sort_each_sinks_a_few_deep_rows_below_many_states() {
        // A proc's lane: a deeper row now and then among depth-0 rows (set aside and sorted),
        // and none at all at the edges; several lengths and seeds.
        for (seed, n) in [(7u64, 1000usize), (99, 64), (3, 17), (123_456, 5000)] {
            sort_each_matches_the_stable_sort(seed, n, |x| {
                if (x >> 40) % 23 == 0 { 1 + (x >> 50) as u16 % 3 } else { 0 }
            });
        }
    }

    #[test]
    fn sort_each_sinks_deep_rows_at_the_edges_and_side_by_side() {
        // Deeper rows first, last and next to each other: the stretches between them are
        // empty or one row long. A counter stands in for the random numbers so that the
        // depths fall where wanted.
        for deep_at in [vec![0usize, 1, 5, 63], vec![63], vec![0], vec![10, 11, 12, 40]] {
            let k = std::cell::Cell::new(0u64);
            sort_each_matches_the_stable_sort(0, 64, |_| {
                let i = k.get();
                k.set(i + 1);
                if deep_at.contains(&(i as usize)) { 1 + (i % 2) as u16 } else { 0 }
            });
        }
    }

    /// Rows of interleaved runs written a block at a time come out each run's in turn, in the
    /// order written, with their ends: random runs and block sizes, runs with no rows, one block
    /// or many, a block of one row, and more slots made than taken.
    #[test]
    fn gather_blocks_puts_each_runs_rows_together_in_order() {
        let mut random = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let mut next = |m: u64| random() % m;
        for round in 0..300 {
            let runs = 1 + next(12) as usize;
            let block = [1usize, 2, 3, 4, 7, 64][round % 6];
            let writes = next(400) as usize;
            let spare = next(3) as usize * block;
            let mut b = IntervalsBuilder::with_len(spare, 0);
            // What each run wrote, and its writing place: (next row, rows written).
            let mut want: Vec<Vec<(i64, u32, Option<i64>)>> = vec![Vec::new(); runs];
            let mut cursor = vec![(0usize, 0u32); runs];
            let mut owner = Vec::new();
            for w in 0..writes {
                // Some runs write much more than others.
                let run = (next(runs as u64 * runs as u64) as f64).sqrt() as usize;
                let (at, len) = cursor[run];
                let at = if len == 0 || at % block == 0 {
                    owner.push(run as u32);
                    let first = (owner.len() - 1) * block;
                    b.grow_len(first + block);
                    first
                } else {
                    at
                };
                // Some rounds' later rows start past 4.3 s (the 48-bit column) or, once, long
                // before the base (the 64-bit one), which move as the rest.
                let start = w as i64 * 10
                    + next(5) as i64
                    + match (round % 5, w * 2 > writes) {
                        (1, true) => 6 << 30,
                        (2, true) if w % 50 == 0 => i64::MIN / 2,
                        _ => 0,
                    };
                let label = next(1000) as u32;
                b.set(at as u32, start, IntervalKind::Blocked, StrId::from_index(label), StackId::EMPTY, 0);
                let far = if next(5) == 0 { 5 << 30 } else { 0 };
                let end = (next(3) == 0).then(|| start + 1 + next(7) as i64 + far);
                if let Some(e) = end {
                    b.set_end(at as u32, e);
                }
                want[run].push((start, label, end));
                cursor[run] = (at + 1, len + 1);
            }
            let lens: Vec<u32> = cursor.iter().map(|&(_, len)| len).collect();
            let starts = b.gather_blocks(block, &owner, &lens);
            let iv = b.finish();
            assert_eq!(iv.len(), writes, "round {round}");
            let mut row = 0;
            for (run, rows) in want.iter().enumerate() {
                assert_eq!(starts[run] as usize, row, "round {round}: run {run}'s start");
                for &(start, label, end) in rows {
                    assert_eq!(
                        (iv.start(row), iv.label(row)),
                        (start, StrId::from_index(label)),
                        "round {round}"
                    );
                    if let Some(e) = end {
                        assert_eq!(iv.end(row), e, "round {round}: row {row}'s end moved with it");
                    }
                    row += 1;
                }
            }
        }
    }

    /// Sorts a run of `n` rows after a run already in order, with depths from `depth_of` (of a
    /// random number) and every third row given its own end (some far after their start), and
    /// checks the rows against a stable sort by (depth, start) with depth-0 rows in their
    /// order, and the ends with them.
    fn sort_each_matches_the_stable_sort(mut x: u64, n: usize, depth_of: impl Fn(u64) -> u16) {
        let first = 3usize;
        let mut b = IntervalsBuilder::with_len(first + n, 0);
        for i in 0..first {
            b.set(i as u32, i as i64, IntervalKind::Running, StrId::from_index(9999), StackId::EMPTY, 0);
        }
        let mut rows = Vec::new();
        for k in 0..n {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let depth = depth_of(x);
            // Depth-0 rows keep their order, so give them rising starts; others any.
            let start = if depth == 0 { 10_000 + k as i64 * 10 } else { (x >> 20) as i64 % 5_000 };
            let row = first + k;
            b.set(row as u32, start, IntervalKind::Span, StrId::from_index(k as u32), StackId::EMPTY, depth);
            // Some ends 5.4 s after their start, which are kept whole.
            let end = (k % 3 == 0).then_some(start + 1 + k as i64 + if k % 7 == 0 { 5 << 30 } else { 0 });
            if let Some(e) = end {
                b.set_end(row as u32, e);
            }
            rows.push((depth, start, k as u32, end));
        }
        let mut want = rows.clone();
        want.sort_by_key(|&(d, s, _, _)| if d == 0 { (0, i64::MIN) } else { (d, s) });
        b.sort_each([0..first, first..first + n]);
        let iv = b.finish();
        for i in 0..first {
            assert_eq!((iv.start(i), iv.label(i)), (i as i64, StrId::from_index(9999)));
        }
        for (k, &(depth, start, label, end)) in want.iter().enumerate() {
            let i = first + k;
            assert_eq!(
                (iv.depth(i), iv.start(i), iv.label(i)),
                (depth, start, StrId::from_index(label)),
                "row {i}"
            );
            if let Some(e) = end {
                assert_eq!(iv.end(i), e, "row {i}'s end moved with it");
            }
        }
    }
}
