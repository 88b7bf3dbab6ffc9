//! State intervals over time, stored as a struct of arrays: a trace with ten million intervals
//! costs about 10 bytes each, and the timeline scans only the columns it draws.
//!
//! The module is split along what changes for different reasons:
//! - `columns`: the compact column encodings (times past a base in 4, 6 or 8 bytes, style
//!   indices in 2 or 4, sparse values) of intervals. Memory work happens
//!   here, and none of it shows through the public API.
//! - `store`: [`Intervals`], the finished, read-only table the views and the analysis read.
//! - `builder`: [`IntervalsBuilder`], how parsers write rows (appended, placed into slots
//!   made ahead, or written into blocks of slots gathered by run; then sorted per run) before
//!   packing them into [`Intervals`].
//! - `links`: [`Links`], the causal arrows between tasks, delta-coded in blocks.
//!
//! The row types every part shares, [`IntervalKind`] and [`Interval`], live here.

use serde::Serialize;

use super::stack::StackId;
use super::strings::StrId;

mod builder;
mod columns;
mod links;
mod store;

pub use builder::IntervalsBuilder;
pub use links::{Link, LinkKind, Links, LinksIter};
pub use store::Intervals;

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
