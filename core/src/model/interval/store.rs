//! [`Intervals`], the finished table: read-only, packed by
//! [`IntervalsBuilder::finish`](super::IntervalsBuilder::finish).

use super::columns::{Sparse, Style, StyleColumn, Times};
use super::{Interval, IntervalKind};
use crate::model::stack::StackId;
use crate::model::strings::StrId;

/// All intervals of one capture, in task order: each [`Task`](crate::model::Task) owns the
/// contiguous range named by its `intervals`. Within a task, intervals are sorted by
/// (depth, start), and intervals of one depth never overlap, so a view can binary-search each
/// depth row for the visible window.
///
/// A trace holds tens of millions of intervals, often five file bytes each, so a row costs
/// about ten bytes: its start in 48 bits, an index into a table of (kind, label, stack, depth)
/// combinations, and no end where it is the next row's start, which is so for almost every
/// goroutine state (one state ends where the next begins); an end that is not is kept as its
/// distance from the row's start (a goroutine-dense trace gives every goroutine's last state
/// one: 4 bytes each where a time took 8). Built with
/// [`IntervalsBuilder`](super::IntervalsBuilder).
#[derive(Clone, Debug, Default)]
pub struct Intervals {
    pub(super) start: Times,
    pub(super) style: StyleColumn,
    pub(super) styles: Vec<Style>,
    /// Ends that are not the next row's start, as their distance from the row's start, or
    /// [`FAR`] where that is 4.3 s or more.
    pub(super) ends: Sparse<u32>,
    /// The ends marked [`FAR`], by row.
    pub(super) far: Vec<(u32, i64)>,
}

/// An end in [`Intervals::far`].
pub(super) const FAR: u32 = u32::MAX;

impl Intervals {
    /// Number of intervals.
    #[inline]
    pub fn len(&self) -> usize {
        self.style.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.style.is_empty()
    }

    #[inline]
    fn style(&self, i: usize) -> Style {
        self.style.get(i).and_then(|s| self.styles.get(s as usize)).copied().unwrap_or_default()
    }

    /// Start of interval `i` (the capture's base time where there is no such interval).
    #[inline]
    pub fn start(&self, i: usize) -> i64 {
        self.start.get(i)
    }

    /// End of interval `i`.
    #[inline]
    pub fn end(&self, i: usize) -> i64 {
        match self.ends.get(i) {
            None => self.start.get(i + 1),
            Some(FAR) => self.far_end(i as u32),
            Some(after) => self.start.get(i) + i64::from(after),
        }
    }

    #[cold]
    fn far_end(&self, row: u32) -> i64 {
        let at = self.far.partition_point(|&(r, _)| r < row);
        self.far.get(at).filter(|&&(r, _)| r == row).map_or(i64::MAX, |&(_, ns)| ns)
    }

    /// The ends that are not the next row's start, as (row, end), by row.
    pub(super) fn given_ends(&self) -> impl Iterator<Item = (u32, i64)> + '_ {
        self.ends.entries().map(|(row, after)| match after {
            FAR => (row, self.far_end(row)),
            after => (row, self.start.get(row as usize) + i64::from(after)),
        })
    }

    /// State of interval `i`.
    #[inline]
    pub fn kind(&self, i: usize) -> IntervalKind {
        self.style(i).kind
    }

    /// Reason or name of interval `i`, [`StrId::EMPTY`] when none.
    #[inline]
    pub fn label(&self, i: usize) -> StrId {
        self.style(i).label
    }

    /// Stack at the start of interval `i`, [`StackId::EMPTY`] when none.
    #[inline]
    pub fn stack(&self, i: usize) -> StackId {
        self.style(i).stack
    }

    /// Nesting depth of interval `i`.
    #[inline]
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
            ("intervals.ends", self.ends.heap_bytes() + self.far.capacity() * size_of::<(u32, i64)>()),
        ]
    }

    /// Ends stored because they were not the next row's start, for tests and accounting.
    pub fn stored_ends(&self) -> usize {
        self.ends.len()
    }
}

impl PartialEq for Intervals {
    /// Same intervals, however stored.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::IntervalsBuilder;

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
}
