//! The column encodings behind [`Intervals`](super::Intervals).
//!
//! A trace's model is mostly these columns, so each stores a value in as few bytes as the
//! capture at hand allows and widens itself, once, when a value does not fit: nothing is ever
//! clamped, and a short or ordinary capture never pays for the widest case. They sit apart from
//! the tables that use them because they change for one reason only (memory), and the tables'
//! readers never see them.

use super::IntervalKind;
use crate::model::stack::StackId;
use crate::model::strings::StrId;

/// What an interval is besides its times: few distinct values in any capture (a state, a block
/// reason, a stack), so each is stored once and rows name it by index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(super) struct Style {
    pub(super) kind: IntervalKind,
    pub(super) depth: u16,
    pub(super) label: StrId,
    pub(super) stack: StackId,
}

impl Style {
    /// The styles with no label, stack or depth: one per kind, at the index of the kind, so
    /// that the commonest rows (running, runnable) never look up a table to be stored.
    pub(super) const PLAIN: [Style; 8] = [
        Style::plain(IntervalKind::Running),
        Style::plain(IntervalKind::Runnable),
        Style::plain(IntervalKind::Blocked),
        Style::plain(IntervalKind::Syscall),
        Style::plain(IntervalKind::Span),
        Style::plain(IntervalKind::Async),
        Style::plain(IntervalKind::Waiting),
        Style::plain(IntervalKind::Gc),
    ];

    pub(super) const fn plain(kind: IntervalKind) -> Style {
        Style { kind, depth: 0, label: StrId::EMPTY, stack: StackId::EMPTY }
    }
}

/// Times stored past a base in 32 bits while they fit (4.3 s, as long as most traces), then in
/// 48 (3.2 days, longer than any trace): 4 or 6 bytes a row instead of 8. A time outside that (a
/// corrupt or synthetic capture) turns the column into plain `i64`s once, so nothing is ever
/// clamped.
#[derive(Clone, Debug, Default)]
pub(super) struct Times {
    pub(super) base: i64,
    low: Vec<u32>,
    /// Bits 32 to 47 of every row, once a time needed them; until then `None`.
    high: Option<Vec<u16>>,
    /// The whole column, once a time did not fit in 48 bits; `low` and `high` are then empty.
    wide: Option<Vec<i64>>,
}

const TIME_BITS: u32 = 48;

impl Times {
    pub(super) const fn new(base: i64) -> Self {
        Self { base, low: Vec::new(), high: None, wide: None }
    }

    fn narrow(&self, t: i64) -> Option<(u32, u16)> {
        let d = t.checked_sub(self.base)?;
        (0..1i64 << TIME_BITS).contains(&d).then_some((d as u32, (d >> 32) as u16))
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> i64 {
        if let Some(wide) = &self.wide {
            return wide.get(i).copied().unwrap_or(self.base);
        }
        let low = self.low.get(i).copied().unwrap_or(0);
        let high = self.high.as_ref().and_then(|h| h.get(i)).copied().unwrap_or(0);
        self.base + (i64::from(high) << 32 | i64::from(low))
    }

    /// The high column, made (all zeros, with the low column's room) when first needed.
    fn high(&mut self) -> &mut Vec<u16> {
        let (len, room) = (self.low.len(), self.low.capacity());
        self.high.get_or_insert_with(|| {
            let mut h = Vec::with_capacity(room);
            h.resize(len, 0);
            h
        })
    }

    fn widen(&mut self) -> &mut Vec<i64> {
        if self.wide.is_none() {
            let all = (0..self.low.len()).map(|i| self.get(i)).collect();
            self.low = Vec::new();
            self.high = None;
            self.wide = Some(all);
        }
        self.wide.get_or_insert_with(Vec::new)
    }

    pub(super) fn push(&mut self, t: i64) {
        match (self.wide.is_none(), self.narrow(t)) {
            (true, Some((low, high))) => {
                if high != 0 || self.high.is_some() {
                    self.high().push(high);
                }
                self.low.push(low);
            }
            _ => self.widen().push(t),
        }
    }

    pub(super) fn set(&mut self, i: usize, t: i64) {
        match (self.wide.is_none(), self.narrow(t)) {
            (true, Some((low, high))) => {
                if let Some(l) = self.low.get_mut(i) {
                    *l = low;
                }
                if (high != 0 || self.high.is_some())
                    && let Some(h) = self.high().get_mut(i)
                {
                    *h = high;
                }
            }
            _ => {
                if let Some(slot) = self.widen().get_mut(i) {
                    *slot = t;
                }
            }
        }
    }

    pub(super) fn resize(&mut self, n: usize) {
        if let Some(w) = &mut self.wide {
            w.resize(n, self.base);
        } else {
            self.low.resize(n, 0);
            if let Some(h) = &mut self.high {
                h.resize(n, 0);
            }
        }
    }

    pub(super) fn reserve_exact(&mut self, n: usize) {
        if let Some(w) = &mut self.wide {
            w.reserve_exact(n);
        } else {
            self.low.reserve_exact(n);
            if let Some(h) = &mut self.high {
                h.reserve_exact(n);
            }
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.wide.as_ref().map_or(self.low.capacity(), Vec::capacity)
    }

    pub(super) fn shrink_to_fit(&mut self) {
        self.low.shrink_to_fit();
        if let Some(h) = &mut self.high {
            h.shrink_to_fit();
        }
        if let Some(w) = &mut self.wide {
            w.shrink_to_fit();
        }
    }

    /// Moves the rows `at..at + len` that are not at the offsets `holes` (increasing, each
    /// below `len`) down over those, in their order; the last `holes.len()` rows of the range
    /// are left as they were, to be written.
    pub(super) fn close_holes(&mut self, at: usize, len: usize, holes: &[u32]) {
        if let Some(w) = &mut self.wide {
            close_holes(w, at, len, holes);
        } else {
            close_holes(&mut self.low, at, len, holes);
            if let Some(h) = &mut self.high {
                close_holes(h, at, len, holes);
            }
        }
    }

    /// Rows in the order `perm` names them (new position → old), one column at a time, so the
    /// extra memory is the largest column's.
    pub(super) fn gather(&mut self, perm: &[u32]) {
        if let Some(w) = &mut self.wide {
            gather(w, perm);
        } else {
            gather(&mut self.low, perm);
            if let Some(h) = &mut self.high {
                gather(h, perm);
            }
        }
    }

    /// As [`gather_blocks`]: every part of the column the same way.
    pub(super) fn gather_blocks(&mut self, plan: &BlockPlan) {
        if let Some(w) = &mut self.wide {
            gather_blocks(w, plan);
        } else {
            gather_blocks(&mut self.low, plan);
            if let Some(h) = &mut self.high {
                gather_blocks(h, plan);
            }
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.low.capacity() * 4
            + self.high.as_ref().map_or(0, |h| h.capacity() * 2)
            + self.wide.as_ref().map_or(0, |w| w.capacity() * 8)
    }
}

/// Rows' indices into the style table: 2 bytes a row while there are at most 65,536 styles (a
/// trace has a few thousand), 4 once there are more.
#[derive(Clone, Debug)]
pub(super) enum StyleColumn {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl Default for StyleColumn {
    fn default() -> Self {
        StyleColumn::Narrow(Vec::new())
    }
}

impl StyleColumn {
    pub(super) fn len(&self) -> usize {
        match self {
            StyleColumn::Narrow(v) => v.len(),
            StyleColumn::Wide(v) => v.len(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(super) fn capacity(&self) -> usize {
        match self {
            StyleColumn::Narrow(v) => v.capacity(),
            StyleColumn::Wide(v) => v.capacity(),
        }
    }

    #[inline]
    pub(super) fn get(&self, i: usize) -> Option<u32> {
        match self {
            StyleColumn::Narrow(v) => v.get(i).map(|&s| u32::from(s)),
            StyleColumn::Wide(v) => v.get(i).copied(),
        }
    }

    fn widen(&mut self) {
        if let StyleColumn::Narrow(v) = self {
            let mut wide = Vec::with_capacity(v.capacity());
            wide.extend(v.iter().map(|&s| u32::from(s)));
            *self = StyleColumn::Wide(wide);
        }
    }

    pub(super) fn push(&mut self, id: u32) {
        if let (StyleColumn::Narrow(v), Ok(narrow)) = (&mut *self, u16::try_from(id)) {
            v.push(narrow);
            return;
        }
        self.widen();
        if let StyleColumn::Wide(v) = self {
            v.push(id);
        }
    }

    pub(super) fn set(&mut self, i: usize, id: u32) {
        if let (StyleColumn::Narrow(v), Ok(narrow)) = (&mut *self, u16::try_from(id)) {
            if let Some(slot) = v.get_mut(i) {
                *slot = narrow;
            }
            return;
        }
        self.widen();
        if let StyleColumn::Wide(v) = self
            && let Some(slot) = v.get_mut(i)
        {
            *slot = id;
        }
    }

    pub(super) fn reserve_exact(&mut self, more: usize) {
        match self {
            StyleColumn::Narrow(v) => v.reserve_exact(more),
            StyleColumn::Wide(v) => v.reserve_exact(more),
        }
    }

    pub(super) fn shrink_to_fit(&mut self) {
        match self {
            StyleColumn::Narrow(v) => v.shrink_to_fit(),
            StyleColumn::Wide(v) => v.shrink_to_fit(),
        }
    }

    pub(super) fn gather(&mut self, perm: &[u32]) {
        match self {
            StyleColumn::Narrow(v) => gather(v, perm),
            StyleColumn::Wide(v) => gather(v, perm),
        }
    }

    /// The offsets in `at..at + len` of the rows whose style `marked` marks (by style id; ids
    /// past its end are unmarked), in order: one pass over the column, without a lookup of
    /// the style table per row.
    pub(super) fn offsets_where(&self, at: usize, len: usize, marked: &[bool]) -> Vec<u32> {
        fn scan<T: Copy + Into<u32>>(col: &[T], at: usize, len: usize, marked: &[bool]) -> Vec<u32> {
            let rows = col.get(at..at + len).unwrap_or_default();
            let is = |s: T| marked.get(s.into() as usize).copied().unwrap_or(false);
            rows.iter().enumerate().filter(|&(_, &s)| is(s)).map(|(k, _)| k as u32).collect()
        }
        match self {
            StyleColumn::Narrow(v) => scan(v, at, len, marked),
            StyleColumn::Wide(v) => scan(v, at, len, marked),
        }
    }

    /// As [`gather_blocks`].
    pub(super) fn gather_blocks(&mut self, plan: &BlockPlan) {
        match self {
            StyleColumn::Narrow(v) => gather_blocks(v, plan),
            StyleColumn::Wide(v) => gather_blocks(v, plan),
        }
    }

    pub(super) fn resize(&mut self, n: usize) {
        match self {
            StyleColumn::Narrow(v) => v.resize(n, 0),
            StyleColumn::Wide(v) => v.resize(n, 0),
        }
    }

    /// As [`Times::close_holes`].
    pub(super) fn close_holes(&mut self, at: usize, len: usize, holes: &[u32]) {
        match self {
            StyleColumn::Narrow(v) => close_holes(v, at, len, holes),
            StyleColumn::Wide(v) => close_holes(v, at, len, holes),
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        match self {
            StyleColumn::Narrow(v) => v.capacity() * 2,
            StyleColumn::Wide(v) => v.capacity() * 4,
        }
    }
}

/// See [`Times::close_holes`]: the stretch after the k-th hole moves down by k + 1, in one copy.
fn close_holes<T: Copy>(col: &mut [T], at: usize, len: usize, holes: &[u32]) {
    let Some(rows) = col.get_mut(at..at + len) else { return };
    for (k, &hole) in holes.iter().enumerate() {
        let from = hole as usize + 1;
        let to = holes.get(k + 1).map_or(len, |&next| next as usize);
        if from < to && to <= rows.len() {
            rows.copy_within(from..to, from - (k + 1));
        }
    }
}

/// Where the blocks of rows written a block at a time go (see
/// `IntervalsBuilder::gather_blocks`): rows of one run, in blocks taken as it needed them, come
/// together as the run's rows, runs one after another.
pub(super) struct BlockPlan {
    /// Rows in a block.
    pub(super) block: usize,
    /// Block `j`'s place once the blocks are in run order (each run's blocks in the order it took
    /// them, all of a run's blocks full but its last).
    pub(super) slot: Vec<u32>,
    /// Each run's rows, as (their first block's place, their start once packed, their number), by
    /// run: the rows move down over the unwritten ends of the runs before them.
    pub(super) runs: Vec<(u32, u32, u32)>,
    /// Rows once packed.
    pub(super) rows: usize,
}

/// Moves a column's rows as `plan` says, in place: the blocks go to their places by following
/// the permutation's cycles (a block's worth of rows aside), then each run's rows move down in
/// one copy. Rows past `plan.rows` are dropped. A copy of the column would be as much memory
/// again, and the column can be most of a trace's model.
fn gather_blocks<T: Copy + Default>(col: &mut Vec<T>, plan: &BlockPlan) {
    let b = plan.block;
    if b > 0 && col.len() >= plan.slot.len() * b {
        let mut placed = vec![false; plan.slot.len()];
        let mut carried = vec![T::default(); b];
        for first in 0..plan.slot.len() {
            if placed.get(first).is_none_or(|&p| p) {
                continue;
            }
            if let Some(rows) = col.get(first * b..(first + 1) * b) {
                carried.copy_from_slice(rows);
            }
            // Block `at`'s rows are carried to its place, and that place's rows taken on, until
            // the cycle closes (a place seen before ends it too, should `slot` not be a
            // permutation, rather than going round for ever).
            let mut at = first;
            loop {
                if let Some(done) = placed.get_mut(at) {
                    *done = true;
                }
                let to = plan.slot.get(at).map_or(first, |&s| s as usize);
                if let Some(rows) = col.get_mut(to * b..(to + 1) * b) {
                    rows.swap_with_slice(&mut carried);
                }
                if to == first || placed.get(to).is_none_or(|&p| p) {
                    break;
                }
                at = to;
            }
        }
        for &(slot, start, len) in &plan.runs {
            let from = slot as usize * b;
            if from + (len as usize) <= col.len() {
                col.copy_within(from..from + len as usize, start as usize);
            }
        }
    }
    col.truncate(plan.rows);
}

fn gather<T: Copy + Default>(col: &mut Vec<T>, perm: &[u32]) {
    let out: Vec<T> = perm.iter().map(|&i| col.get(i as usize).copied().unwrap_or_default()).collect();
    *col = out;
}

/// Values for a few of many rows: a bit per row says which have one, and a running count per
/// 64 rows finds a row's value without a search (1.5 bits a row besides the values).
#[derive(Clone, Debug, Default)]
pub(super) struct Sparse<T> {
    bits: Vec<u64>,
    /// Set bits before each word of `bits`.
    before: Vec<u32>,
    values: Vec<T>,
}

impl<T: Copy> Sparse<T> {
    /// From `(row, value)` pairs sorted by row, without repeats, for `rows` rows.
    pub(super) fn from_sorted(rows: usize, entries: impl IntoIterator<Item = (u32, T)>) -> Self {
        let words = rows.div_ceil(64);
        let mut bits = vec![0u64; words];
        let mut values = Vec::new();
        for (row, v) in entries {
            if let Some(w) = bits.get_mut(row as usize / 64) {
                *w |= 1 << (row % 64);
                values.push(v);
            }
        }
        let mut before = Vec::with_capacity(words);
        let mut n = 0u32;
        for w in &bits {
            before.push(n);
            n += w.count_ones();
        }
        values.shrink_to_fit();
        Self { bits, before, values }
    }

    #[inline]
    pub(super) fn get(&self, row: usize) -> Option<T> {
        let word = *self.bits.get(row / 64)?;
        let bit = 1u64 << (row % 64);
        if word & bit == 0 {
            return None;
        }
        let rank = self.before.get(row / 64)?.to_owned() as usize + (word & (bit - 1)).count_ones() as usize;
        self.values.get(rank).copied()
    }

    pub(super) fn len(&self) -> usize {
        self.values.len()
    }

    /// `(row, value)` pairs, by row.
    pub(super) fn entries(&self) -> impl Iterator<Item = (u32, T)> + '_ {
        let rows = self.bits.iter().enumerate().flat_map(|(w, &word)| {
            (0..64u32).filter(move |b| word >> b & 1 == 1).map(move |b| w as u32 * 64 + b)
        });
        rows.zip(self.values.iter().copied())
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.bits.capacity() * 8 + self.before.capacity() * 4 + self.values.capacity() * size_of::<T>()
    }
}
