//! What an execution trace says beyond tasks and intervals: the format version, how many
//! events of each kind it held, and the user annotations (`runtime/trace` tasks, regions and
//! logs) that span goroutines or carry text.
//!
//! User regions are drawn as [`IntervalKind::Span`](super::IntervalKind::Span) intervals at depth
//! 1 and deeper on their goroutine (the label is the region's name), so the timeline needs
//! nothing else to show them; [`TraceInfo::regions`] keeps what an interval cannot hold (the
//! user task each region belongs to). User tasks span goroutines, so they are a side table and
//! not model tasks: counting them as tasks would distort goroutine counts and groups.

use std::collections::BTreeMap;

use super::stack::StackId;
use super::strings::StrId;

/// The trace-only part of a capture of an execution trace.
#[derive(Clone, Debug, Default)]
pub struct TraceInfo {
    /// The format version from the header, as Go's minor version (`26` for `go 1.26 trace`,
    /// which Go 1.26 and 1.27 write).
    pub format_version: u32,
    /// Number of generations (the runtime starts one about every second).
    pub generations: u32,
    /// The runtime's number of the first generation in the file: 1 for a trace that starts
    /// where the process's first tracing did; higher for a later trace or a flight-recorder
    /// snapshot (`runtime/trace.FlightRecorder`), whose window starts wherever its ring does.
    /// 0 for the old format, which numbers no generations.
    pub first_generation: u64,
    /// Where the generation a cut-off trace ends in began (Go 1.26+ traces mark each
    /// generation's end, so a cut is told from corruption): events after it may be missing,
    /// so a goroutine seen blocking after it may have been woken by one the cut lost.
    pub cut_at_ns: Option<i64>,
    /// Timestamp units per second of the first generation (15,625,000 on most Linux/amd64).
    pub ticks_per_second: u64,
    /// Events per kind, counted as Go's `internal/trace` reader reports them (`StateTransition`,
    /// `Metric`, `Label`, `RangeBegin`, `RangeActive`, `RangeEnd`, `TaskBegin`, `TaskEnd`,
    /// `RegionBegin`, `RegionEnd`, `Log`, `StackSample`, `Sync`, `Experimental`), so they can be
    /// checked against `go tool trace`.
    pub event_counts: BTreeMap<&'static str, u64>,
    /// Batches of experiments (heap allocation events, ...) that were skipped.
    pub experimental_batches: u64,
    /// User tasks (`trace.NewTask`), in the order they began (or ended, for tasks begun before
    /// the trace).
    pub user_tasks: Vec<UserTask>,
    /// User regions (`trace.StartRegion`, `trace.WithRegion`), in the order they ended.
    pub regions: Vec<UserRegion>,
    /// User logs (`trace.Log`), in time order.
    pub logs: Vec<UserLog>,
}

/// A `runtime/trace` task: a logical operation that may span goroutines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserTask {
    /// The trace's task id.
    pub id: u64,
    /// The parent task's id, where it has one.
    pub parent_id: Option<u64>,
    /// The task type given to `trace.NewTask`; empty when the task began before the trace.
    pub name: StrId,
    /// When it began; `None` when it began before the trace.
    pub start_ns: Option<i64>,
    /// When it ended; `None` when still running at the end.
    pub end_ns: Option<i64>,
    /// Index of the goroutine task that began it.
    pub start_task: Option<u32>,
    /// Index of the goroutine task that ended it.
    pub end_task: Option<u32>,
    /// Stack where it began.
    pub start_stack: StackId,
}

/// A `runtime/trace` region: a span of one goroutine, inside a user task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserRegion {
    /// Index of the goroutine task it ran on.
    pub task: u32,
    /// The user task it belongs to (0 is the background task).
    pub user_task: u64,
    /// The region type.
    pub name: StrId,
    /// Start; the trace's start for regions begun before it.
    pub start_ns: i64,
    /// End; the trace's end for regions still open at the end.
    pub end_ns: i64,
    /// Stack where it began.
    pub stack: StackId,
}

/// A `runtime/trace` log message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserLog {
    /// When.
    pub time_ns: i64,
    /// Index of the goroutine task that logged it, if it ran on one.
    pub task: Option<u32>,
    /// The user task it belongs to (0 for none).
    pub user_task: u64,
    /// The category (`trace.Log`'s key).
    pub category: StrId,
    /// The message.
    pub message: StrId,
    /// Where it was logged.
    pub stack: StackId,
}

impl TraceInfo {
    /// Events of one kind (see [`TraceInfo::event_counts`]).
    pub fn event_count(&self, kind: &str) -> u64 {
        self.event_counts.get(kind).copied().unwrap_or(0)
    }

    /// All events, the sum of the kinds.
    pub fn total_events(&self) -> u64 {
        self.event_counts.values().sum()
    }
}
