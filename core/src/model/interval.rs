//! State intervals over time, stored as a struct of arrays: a trace with ten million intervals
//! costs about 30 bytes each, and the timeline scans only the columns it draws.

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

/// All intervals of one capture, in task order: each [`Task`](super::task::Task) owns the
/// contiguous range named by its `intervals`. Within a task, intervals are sorted by
/// (depth, start), and intervals of one depth never overlap, so a view can binary-search each
/// depth row for the visible window.
#[derive(Clone, Debug, Default)]
pub struct Intervals {
    /// Start of each interval.
    pub start_ns: Vec<i64>,
    /// End of each interval (>= start).
    pub end_ns: Vec<i64>,
    /// State of each interval.
    pub kind: Vec<IntervalKind>,
    /// Reason or name of each interval, [`StrId::EMPTY`] when none.
    pub label: Vec<StrId>,
    /// Stack at the start of each interval, [`StackId::EMPTY`] when none.
    pub stack: Vec<StackId>,
    /// Nesting depth (0 = outermost); spans nest, goroutine states are all depth 0.
    pub depth: Vec<u16>,
}

impl Intervals {
    /// Number of intervals.
    pub fn len(&self) -> usize {
        self.start_ns.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.start_ns.is_empty()
    }

    /// Appends one interval.
    pub fn push(
        &mut self,
        start_ns: i64,
        end_ns: i64,
        kind: IntervalKind,
        label: StrId,
        stack: StackId,
        depth: u16,
    ) {
        self.start_ns.push(start_ns);
        self.end_ns.push(end_ns.max(start_ns));
        self.kind.push(kind);
        self.label.push(label);
        self.stack.push(stack);
        self.depth.push(depth);
    }

    /// Approximate heap bytes, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.start_ns.capacity() * 8
            + self.end_ns.capacity() * 8
            + self.kind.capacity()
            + self.label.capacity() * 4
            + self.stack.capacity() * 4
            + self.depth.capacity() * 2
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

/// A named numeric series over time (Chrome `C` events, Go heap metrics).
#[derive(Clone, Debug, Default)]
pub struct Counter {
    /// Series name.
    pub name: StrId,
    /// Sample times, ascending.
    pub time_ns: Vec<i64>,
    /// Values at those times.
    pub value: Vec<f64>,
}
