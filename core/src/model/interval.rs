//! State intervals over time, stored as a struct of arrays: a trace with ten million intervals
//! costs about 30 bytes each, and the timeline scans only the columns it draws.

use hashbrown::HashMap;
use serde::Serialize;

use super::stack::StackId;
use super::strings::StrId;

/// The closed set of interval states the views colour by. The open detail (block reason, span
/// name) is the interval's label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
#[repr(u8)]
pub enum IntervalKind {
    /// On a CPU.
    Running,
    /// Ready, waiting for a CPU.
    Runnable,
    /// Parked; the label says why (chan receive, select, sync, ...).
    #[default]
    Blocked,
    /// In a system call.
    Syscall,
    /// A span of work (Chrome `X`/`B`-`E`, a user region); the label is its name.
    Span,
    /// An async operation's lifetime (Chrome `b`-`e`).
    Async,
    /// Waiting as seen in a dump: from the dump's minutes back from capture time.
    Waiting,
    /// A GC phase on a GC lane.
    Gc,
}

/// One interval, all columns at once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interval {
    /// Start.
    pub start_ns: i64,
    /// End (>= start).
    pub end_ns: i64,
    /// State.
    pub kind: IntervalKind,
    /// Reason or name, [`StrId::EMPTY`] when none.
    pub label: StrId,
    /// Stack at the start, [`StackId::EMPTY`] when none.
    pub stack: StackId,
    /// Nesting depth (0 = outermost); spans nest, goroutine states are all depth 0.
    pub depth: u16,
}

/// What an interval is besides its times: few distinct values in any capture (a state, a block
/// reason, a stack), so each is stored once and rows name it by index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
struct Style {
    kind: IntervalKind,
    depth: u16,
    label: StrId,
    stack: StackId,
}

impl Style {
    /// The styles with no label, stack or depth: one per kind, at the index of the kind, so
    /// that the commonest rows (running, runnable) never look up a table to be stored.
    const PLAIN: [Style; 8] = [
        Style::plain(IntervalKind::Running),
        Style::plain(IntervalKind::Runnable),
        Style::plain(IntervalKind::Blocked),
        Style::plain(IntervalKind::Syscall),
        Style::plain(IntervalKind::Span),
        Style::plain(IntervalKind::Async),
        Style::plain(IntervalKind::Waiting),
        Style::plain(IntervalKind::Gc),
    ];

    const fn plain(kind: IntervalKind) -> Style {
        Style { kind, depth: 0, label: StrId::EMPTY, stack: StackId::EMPTY }
    }
}

/// Times stored past a base in 32 bits while they fit (4.3 s, as long as most traces), then in
/// 48 (3.2 days, longer than any trace): 4 or 6 bytes a row instead of 8. A time outside that (a
/// corrupt or synthetic capture) turns the column into plain `i64`s once, so nothing is ever
/// clamped.
#[derive(Clone, Debug, Default)]
struct Times {
    base: i64,
    low: Vec<u32>,
    /// Bits 32 to 47 of every row, once a time needed them; until then `None`.
    high: Option<Vec<u16>>,
    /// The whole column, once a time did not fit in 48 bits; `low` and `high` are then empty.
    wide: Option<Vec<i64>>,
}

const TIME_BITS: u32 = 48;

impl Times {
    fn new(base: i64) -> Self {
        Self { base, ..Self::default() }
    }

    fn narrow(&self, t: i64) -> Option<(u32, u16)> {
        let d = t.checked_sub(self.base)?;
        (0..1i64 << TIME_BITS).contains(&d).then_some((d as u32, (d >> 32) as u16))
    }

    fn get(&self, i: usize) -> i64 {
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

    fn push(&mut self, t: i64) {
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

    fn set(&mut self, i: usize, t: i64) {
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

    fn resize(&mut self, n: usize) {
        if let Some(w) = &mut self.wide {
            w.resize(n, self.base);
        } else {
            self.low.resize(n, 0);
            if let Some(h) = &mut self.high {
                h.resize(n, 0);
            }
        }
    }

    fn reserve_exact(&mut self, n: usize) {
        if let Some(w) = &mut self.wide {
            w.reserve_exact(n);
        } else {
            self.low.reserve_exact(n);
            if let Some(h) = &mut self.high {
                h.reserve_exact(n);
            }
        }
    }

    fn capacity(&self) -> usize {
        self.wide.as_ref().map_or(self.low.capacity(), Vec::capacity)
    }

    fn shrink_to_fit(&mut self) {
        self.low.shrink_to_fit();
        if let Some(h) = &mut self.high {
            h.shrink_to_fit();
        }
        if let Some(w) = &mut self.wide {
            w.shrink_to_fit();
        }
    }

    /// Rows in the order `perm` names them (new position → old), one column at a time, so the
    /// extra memory is the largest column's.
    fn gather(&mut self, perm: &[u32]) {
        if let Some(w) = &mut self.wide {
            gather(w, perm);
        } else {
            gather(&mut self.low, perm);
            if let Some(h) = &mut self.high {
                gather(h, perm);
            }
        }
    }

    fn heap_bytes(&self) -> usize {
        self.low.capacity() * 4
            + self.high.as_ref().map_or(0, |h| h.capacity() * 2)
            + self.wide.as_ref().map_or(0, |w| w.capacity() * 8)
    }
}

/// Rows' indices into the style table: 2 bytes a row while there are at most 65,536 styles (a
/// trace has a few thousand), 4 once there are more.
#[derive(Clone, Debug)]
enum StyleColumn {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl Default for StyleColumn {
    fn default() -> Self {
        StyleColumn::Narrow(Vec::new())
    }
}

impl StyleColumn {
    fn len(&self) -> usize {
        match self {
            StyleColumn::Narrow(v) => v.len(),
            StyleColumn::Wide(v) => v.len(),
        }
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn capacity(&self) -> usize {
        match self {
            StyleColumn::Narrow(v) => v.capacity(),
            StyleColumn::Wide(v) => v.capacity(),
        }
    }

    fn get(&self, i: usize) -> Option<u32> {
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

    fn push(&mut self, id: u32) {
        if let (StyleColumn::Narrow(v), Ok(narrow)) = (&mut *self, u16::try_from(id)) {
            v.push(narrow);
            return;
        }
        self.widen();
        if let StyleColumn::Wide(v) = self {
            v.push(id);
        }
    }

    fn set(&mut self, i: usize, id: u32) {
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

    fn reserve_exact(&mut self, more: usize) {
        match self {
            StyleColumn::Narrow(v) => v.reserve_exact(more),
            StyleColumn::Wide(v) => v.reserve_exact(more),
        }
    }

    fn shrink_to_fit(&mut self) {
        match self {
            StyleColumn::Narrow(v) => v.shrink_to_fit(),
            StyleColumn::Wide(v) => v.shrink_to_fit(),
        }
    }

    fn gather(&mut self, perm: &[u32]) {
        match self {
            StyleColumn::Narrow(v) => gather(v, perm),
            StyleColumn::Wide(v) => gather(v, perm),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            StyleColumn::Narrow(v) => v.capacity() * 2,
            StyleColumn::Wide(v) => v.capacity() * 4,
        }
    }
}

fn gather<T: Copy + Default>(col: &mut Vec<T>, perm: &[u32]) {
    let out: Vec<T> = perm.iter().map(|&i| col.get(i as usize).copied().unwrap_or_default()).collect();
    *col = out;
}

/// Values for a few of many rows: a bit per row says which have one, and a running count per
/// 64 rows finds a row's value without a search (1.5 bits a row besides the values).
#[derive(Clone, Debug, Default)]
struct Sparse<T> {
    bits: Vec<u64>,
    /// Set bits before each word of `bits`.
    before: Vec<u32>,
    values: Vec<T>,
}

impl<T: Copy> Sparse<T> {
    /// From `(row, value)` pairs sorted by row, without repeats, for `rows` rows.
    fn from_sorted(rows: usize, entries: impl IntoIterator<Item = (u32, T)>) -> Self {
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

    fn get(&self, row: usize) -> Option<T> {
        let word = *self.bits.get(row / 64)?;
        let bit = 1u64 << (row % 64);
        if word & bit == 0 {
            return None;
        }
        let rank = self.before.get(row / 64)?.to_owned() as usize + (word & (bit - 1)).count_ones() as usize;
        self.values.get(rank).copied()
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    /// `(row, value)` pairs, by row.
    fn entries(&self) -> impl Iterator<Item = (u32, T)> + '_ {
        let rows = self.bits.iter().enumerate().flat_map(|(w, &word)| {
            (0..64u32).filter(move |b| word >> b & 1 == 1).map(move |b| w as u32 * 64 + b)
        });
        rows.zip(self.values.iter().copied())
    }

    fn heap_bytes(&self) -> usize {
        self.bits.capacity() * 8 + self.before.capacity() * 4 + self.values.capacity() * size_of::<T>()
    }
}

/// All intervals of one capture, in task order: each [`Task`](super::task::Task) owns the
/// contiguous range named by its `intervals`. Within a task, intervals are sorted by
/// (depth, start), and intervals of one depth never overlap, so a view can binary-search each
/// depth row for the visible window.
///
/// A trace holds tens of millions of intervals, often five file bytes each, so a row costs
/// about ten bytes: its start in 48 bits, an index into a table of (kind, label, stack, depth)
/// combinations, and no end where it is the next row's start, which is so for almost every
/// goroutine state (one state ends where the next begins). Built with [`IntervalsBuilder`].
#[derive(Clone, Debug, Default)]
pub struct Intervals {
    start: Times,
    style: StyleColumn,
    styles: Vec<Style>,
    /// Ends that are not the next row's start.
    ends: Sparse<i64>,
}

impl Intervals {
    /// Number of intervals.
    pub fn len(&self) -> usize {
        self.style.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.style.is_empty()
    }

    fn style(&self, i: usize) -> Style {
        self.style.get(i).and_then(|s| self.styles.get(s as usize)).copied().unwrap_or_default()
    }

    /// Start of interval `i` (the capture's base time where there is no such interval).
    pub fn start(&self, i: usize) -> i64 {
        self.start.get(i)
    }

    /// End of interval `i`.
    pub fn end(&self, i: usize) -> i64 {
        self.ends.get(i).unwrap_or_else(|| self.start.get(i + 1))
    }

    /// State of interval `i`.
    pub fn kind(&self, i: usize) -> IntervalKind {
        self.style(i).kind
    }

    /// Reason or name of interval `i`, [`StrId::EMPTY`] when none.
    pub fn label(&self, i: usize) -> StrId {
        self.style(i).label
    }

    /// Stack at the start of interval `i`, [`StackId::EMPTY`] when none.
    pub fn stack(&self, i: usize) -> StackId {
        self.style(i).stack
    }

    /// Nesting depth of interval `i`.
    pub fn depth(&self, i: usize) -> u16 {
        self.style(i).depth
    }

    /// The first index in `range` at which `pred` is false, `pred` being true then false
    /// over the range (as `slice::partition_point`).
    pub fn partition_point(&self, range: std::ops::Range<usize>, pred: impl Fn(usize) -> bool) -> usize {
        let (mut lo, mut hi) = (range.start, range.end.max(range.start));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if pred(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Interval `i`, all columns.
    pub fn get(&self, i: usize) -> Option<Interval> {
        let s = *self.styles.get(self.style.get(i)? as usize)?;
        Some(Interval {
            start_ns: self.start(i),
            end_ns: self.end(i),
            kind: s.kind,
            label: s.label,
            stack: s.stack,
            depth: s.depth,
        })
    }

    /// Intervals `range`, in order.
    pub fn iter(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = Interval> + '_ {
        range.filter_map(|i| self.get(i))
    }

    /// Approximate heap bytes, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.parts().iter().map(|p| p.1).sum()
    }

    /// Heap bytes by part, to show where memory goes.
    pub fn parts(&self) -> [(&'static str, usize); 4] {
        [
            ("intervals.start", self.start.heap_bytes()),
            ("intervals.style", self.style.heap_bytes()),
            ("intervals.styles", self.styles.capacity() * size_of::<Style>()),
            ("intervals.ends", self.ends.heap_bytes()),
        ]
    }

    /// Ends stored because they were not the next row's start, for tests and accounting.
    pub fn stored_ends(&self) -> usize {
        self.ends.len()
    }
}

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
    ends: Vec<GivenEnd>,
}

/// An end given to a row. Packed to 12 bytes: a trace can give thousands of rows their own end,
/// and they are all held until [`IntervalsBuilder::finish`].
#[derive(Clone, Copy, Debug)]
#[repr(C, packed(4))]
struct GivenEnd {
    row: u32,
    ns: i64,
}

impl Default for IntervalsBuilder {
    fn default() -> Self {
        Self::new(0)
    }
}

impl IntervalsBuilder {
    /// A builder for times from `base_ns` on (earlier ones work, at 8 bytes a row).
    pub fn new(base_ns: i64) -> Self {
        Self {
            start: Times::new(base_ns),
            style: StyleColumn::default(),
            styles: Style::PLAIN.to_vec(),
            ids: HashMap::new(),
            ends: Vec::new(),
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

    fn style_id(&mut self, kind: IntervalKind, label: StrId, stack: StackId, depth: u16) -> u32 {
        if depth == 0 && label == StrId::EMPTY && stack == StackId::EMPTY {
            return kind as u32;
        }
        let style = Style { kind, depth, label, stack };
        let next = self.styles.len() as u32;
        let id = *self.ids.entry(style).or_insert(next);
        if id == next {
            self.styles.push(style);
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

    /// Room for `more` ends given with [`set_end`](Self::set_end), exactly.
    pub fn reserve_ends(&mut self, more: usize) {
        self.ends.reserve_exact(more);
    }

    /// Gives row `i` its own end.
    pub fn set_end(&mut self, i: u32, end_ns: i64) {
        self.ends.push(GivenEnd { row: i, ns: end_ns });
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
        for e in &mut self.ends {
            e.row = new_of_old.get(e.row as usize).copied().unwrap_or(e.row);
        }
    }

    /// Puts the rows of each of `runs` in (depth, start) order, except that depth-0 rows keep
    /// the order they have (a lane's states are written in time order already, and two states
    /// can share a start when one lasted no time). Ends given to those rows move with them.
    pub fn sort_each(&mut self, runs: impl IntoIterator<Item = std::ops::Range<usize>>) {
        self.ends.sort_unstable_by_key(|e| e.row);
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
            // The new order as offsets into the run, applied in place below: a copy of the rows
            // would take 16 bytes a row of the run, and one run can be most of a trace.
            let mut order: Vec<u32> = (0..len as u32).collect();
            // Stable: depth-0 rows keep their order.
            order.sort_by_key(|&k| key(at + k as usize));
            // Ends are sorted by row, so this run's are one stretch of them.
            let from = self.ends.partition_point(|e| (e.row as usize) < at);
            let to = self.ends.partition_point(|e| (e.row as usize) < at + len);
            if let Some(ends) = self.ends.get_mut(from..to).filter(|e| !e.is_empty()) {
                let mut new_of_old = vec![0u32; len];
                for (k, &old) in order.iter().enumerate() {
                    if let Some(slot) = new_of_old.get_mut(old as usize) {
                        *slot = (at + k) as u32;
                    }
                }
                for e in ends.iter_mut() {
                    e.row = new_of_old.get(e.row as usize - at).copied().unwrap_or(e.row);
                }
                ends.sort_by_key(|e| e.row);
            }
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

    /// Packs the rows. A row without an end of its own ends where the next begins; given ends
    /// equal to that are dropped.
    pub fn finish(mut self) -> Intervals {
        let len = self.style.len();
        // Writers give a row one end; should one give two, one of them is kept. (A stable sort
        // could keep the last, but it would need a buffer as large as the ends.)
        self.ends.sort_unstable_by_key(|e| e.row);
        self.ends.dedup_by_key(|e| e.row);
        let start = &self.start;
        let kept = self.ends.iter().map(|e| (e.row, e.ns)).filter(|&(i, end)| {
            let i = i as usize;
            i < len && (i + 1 >= len || start.get(i + 1) != end)
        });
        let ends = Sparse::from_sorted(len, kept.map(|(i, end)| (i, end.max(start.get(i as usize)))));
        self.start.shrink_to_fit();
        self.style.shrink_to_fit();
        self.styles.shrink_to_fit();
        Intervals { start: self.start, style: self.style, styles: self.styles, ends }
    }

    /// Approximate heap bytes, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.start.heap_bytes()
            + self.style.heap_bytes()
            + self.styles.capacity() * size_of::<Style>()
            + self.ids.capacity() * (size_of::<Style>() + 4)
            + self.ends.capacity() * size_of::<GivenEnd>()
    }
}

impl PartialEq for Intervals {
    /// Same intervals, however stored.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i))
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
        let ends = iv.ends.entries().map(|(row, ns)| GivenEnd { row, ns }).collect();
        Self { start: iv.start, style: iv.style, styles: iv.styles, ids, ends }
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
            from_ns: Times { base: 0, low: Vec::new(), high: None, wide: None },
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
        if self.is_empty() && self.from_ns.wide.is_none() {
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

    fn row(start_ns: i64, end_ns: i64, depth: u16, label: u32) -> Interval {
        Interval { start_ns, end_ns, depth, label: StrId::from_index(label), ..Interval::default() }
    }

    #[test]
    fn ends_are_stored_only_where_the_next_row_does_not_begin() {
        let rows = [row(10, 20, 0, 0), row(20, 35, 0, 0), row(40, 50, 0, 0), row(5, 7, 1, 0)];
        let iv: Intervals = rows.into_iter().collect();
        assert_eq!(iv.stored_ends(), 3);
        assert_eq!((0..iv.len()).map(|i| iv.get(i).unwrap()).collect::<Vec<_>>(), rows);
    }

    #[test]
    fn times_far_from_the_base_widen_the_column_and_stay_exact() {
        let rows = [row(0, 1, 0, 0), row(i64::MAX - 5, i64::MAX, 0, 0), row(i64::MIN, i64::MIN + 1, 0, 0)];
        let iv: Intervals = rows.into_iter().collect();
        assert_eq!((0..3).map(|i| iv.get(i).unwrap()).collect::<Vec<_>>(), rows);
        assert!(iv.get(3).is_none());
    }

    #[test]
    fn times_past_32_bits_add_a_high_column_pushed_or_set() {
        let far = 5_000_000_000; // past 2^32 ns from the base
        let rows = [row(10, 20, 0, 0), row(20, far, 0, 0), row(far, far + 7, 0, 0)];
        let iv: Intervals = rows.into_iter().collect();
        assert_eq!((0..3).map(|i| iv.get(i).unwrap()).collect::<Vec<_>>(), rows);
        // A short capture keeps 4 bytes a row.
        let short: Intervals = rows[..1].iter().copied().collect();
        assert_eq!(short.parts()[0].1, 4);

        let mut b = IntervalsBuilder::with_len(3, 0);
        b.set(0, 10, IntervalKind::Running, StrId::EMPTY, StackId::EMPTY, 0);
        b.set(2, far, IntervalKind::Blocked, StrId::EMPTY, StackId::EMPTY, 0);
        b.set(1, 20, IntervalKind::Runnable, StrId::EMPTY, StackId::EMPTY, 0);
        b.set_end(2, far + 7);
        let iv = b.finish();
        assert_eq!((0..3).map(|i| iv.get(i).unwrap().start_ns).collect::<Vec<_>>(), [10, 20, far]);
        assert_eq!(iv.get(2).unwrap().end_ns, far + 7);
    }

    #[test]
    fn more_styles_than_two_bytes_name_widen_the_style_column() {
        let rows: Vec<Interval> = (0..70_000).map(|k| row(k, k + 1, 0, k as u32 + 1)).collect();
        let iv: Intervals = rows.iter().copied().collect();
        assert!(rows.iter().enumerate().all(|(i, r)| iv.get(i) == Some(*r)));
        assert_eq!(iv.stored_ends(), 1);
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

    #[test]
    fn sort_each_moves_whole_rows_with_their_ends_in_long_runs() {
        // A run of rows in a scrambled order (many cycles of the permutation), after a run
        // already in order; every row has its own label, and every third its own end.
        let (first, n) = (3usize, 200usize);
        let mut b = IntervalsBuilder::with_len(first + n, 0);
        for i in 0..first {
            b.set(i as u32, i as i64, IntervalKind::Running, StrId::from_index(9999), StackId::EMPTY, 0);
        }
        let mut x = 12345u64;
        let mut rows = Vec::new();
        for k in 0..n {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let depth = (x >> 60) as u16 % 3;
            // Depth-0 rows keep their order, so give them rising starts; others any.
            let start = if depth == 0 { 10_000 + k as i64 * 10 } else { (x >> 20) as i64 % 5_000 };
            let row = first + k;
            b.set(row as u32, start, IntervalKind::Span, StrId::from_index(k as u32), StackId::EMPTY, depth);
            let end = (k % 3 == 0).then_some(start + 1 + k as i64);
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
