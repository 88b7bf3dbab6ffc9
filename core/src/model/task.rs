//! Tasks: the unit every format is mapped to. A task is a goroutine, an OS thread or an async
//! operation; it has a creator, a current (or final) state, a stack, and for formats that record
//! time, state intervals over its life.

use bitflags::bitflags;
use serde::Serialize;

use super::stack::{FrameId, LabelSetId, StackId};
use super::strings::StrId;

/// What kind of concurrent unit a task is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    /// A Go goroutine.
    #[default]
    Goroutine,
    /// An OS thread (Chrome trace `tid`, Python thread).
    Thread,
    /// An async operation with a lifetime (Chrome `b`/`e` pair, a promise, an asyncio task).
    AsyncTask,
    /// A scheduler resource shown as a lane: a Go P, a GC lane.
    Resource,
}

bitflags! {
    /// Facts about a task that the capture states outright.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct TaskFlags: u16 {
        /// The Go runtime's leak detector marked it: `[chan receive (leaked)]`.
        const LEAKED = 1 << 0;
        /// Blocked on something only its synctest bubble can wake: `(durable)`.
        const DURABLE = 1 << 1;
        /// Its status had the GC scan bit set when dumped: `(scan)`.
        const SCAN = 1 << 2;
        /// `LockOSThread` was in effect: `, locked to thread`.
        const LOCKED_TO_THREAD = 1 << 3;
        /// Running on another thread, so the dump has no stack for it.
        const STACK_UNAVAILABLE = 1 << 4;
        /// Some frames were elided from the stack (`...N frames elided...`).
        const FRAMES_ELIDED = 1 << 5;
        /// The record was cut off (end of a truncated dump).
        const TRUNCATED = 1 << 6;
        /// The task ended within the capture.
        const ENDED = 1 << 7;
        /// The task existed before the capture began (no creation event in a trace).
        const EXISTED_BEFORE = 1 << 8;
        /// A runtime-internal goroutine (GC workers, finalizer, ...), or an `M`'s g0 stack.
        const SYSTEM = 1 << 9;
        /// The goroutine that produced the dump (running `runtime/pprof.writeGoroutineStacks`,
        /// `runtime.Stack` or the signal handler).
        const DUMPER = 1 << 10;
        /// An async operation begun and never ended within the capture.
        const NEVER_ENDED = 1 << 11;
        /// A span on this thread was begun and never ended within the capture (Chrome `B`
        /// without `E`); `Capture::open_spans` lists them.
        const OPEN_SPAN = 1 << 12;
    }
}

/// A contiguous range of a capture's [`Intervals`](super::interval::Intervals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IntervalRange {
    /// Index of the first interval.
    pub start: u32,
    /// Number of intervals.
    pub len: u32,
}

impl IntervalRange {
    /// The range as indices.
    pub fn indices(self) -> std::ops::Range<usize> {
        self.start as usize..self.start as usize + self.len as usize
    }
}

/// Defines an optional integer that takes the integer's own size, one value standing for
/// "unknown" (where `Option` would double the size of an `i64` or `u64`). A known value equal
/// to the sentinel is kept as its neighbour.
macro_rules! sentinel_option {
    ($(#[$doc:meta])* $name:ident($int:ty), none = $none:expr, near = $near:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name($int);

        impl $name {
            /// Unknown.
            pub const NONE: Self = Self($none);

            /// A known value.
            pub const fn some(v: $int) -> Self {
                Self(if v == $none { $near } else { v })
            }

            /// The value, where known.
            pub const fn get(self) -> Option<$int> {
                if self.0 == $none { None } else { Some(self.0) }
            }

            /// Whether the value is known.
            pub const fn is_some(self) -> bool {
                self.0 != $none
            }

            /// Whether the value is unknown.
            pub const fn is_none(self) -> bool {
                self.0 == $none
            }

            /// The stored integer, sentinel included, for compact storage.
            pub(crate) const fn to_raw(self) -> $int {
                self.0
            }

            /// The value [`to_raw`](Self::to_raw) gave.
            pub(crate) const fn from_raw(raw: $int) -> Self {
                Self(raw)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::NONE
            }
        }

        impl From<Option<$int>> for $name {
            fn from(v: Option<$int>) -> Self {
                v.map_or(Self::NONE, Self::some)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.get().fmt(f)
            }
        }
    };
}

sentinel_option!(
    /// A time in nanoseconds that may be unknown, in eight bytes where `Option<i64>` takes
    /// sixteen: a capture can hold millions of tasks with three of them each. `i64::MIN` means
    /// unknown; a known time of `i64::MIN` is kept as `i64::MIN + 1`.
    OptNs(i64),
    none = i64::MIN,
    near = i64::MIN + 1
);

sentinel_option!(
    /// An id that may be unknown (a creator's goroutine id, a synctest bubble), in eight bytes:
    /// `u64::MAX` means unknown, and a known id of `u64::MAX` is kept as `u64::MAX - 1` (no Go
    /// runtime hands out that many goroutines).
    OptId(u64),
    none = u64::MAX,
    near = u64::MAX - 1
);

/// One goroutine, thread or async task.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Task {
    /// The format's own id: goroutine id, tid, async id. Unique within a capture per kind.
    pub id: u64,
    /// What the task is.
    pub kind: TaskKind,
    /// A name where the format gives one (thread name, async operation name).
    pub name: StrId,
    /// The current (dump) or final (trace) state as the capture spells it, without the
    /// decorations that became flags: `chan receive`, `select`, `IO wait`, `GC worker (idle)`.
    /// Unknown states are kept verbatim. Empty when the format has no state.
    pub state: StrId,
    /// Parsed facts.
    pub flags: TaskFlags,
    /// Lower bound of how long it has waited in `state` (dumps print whole minutes).
    pub wait_ns: OptNs,
    /// Current (dump) or final stack, innermost first.
    pub stack: StackId,
    /// Where it was created (`created by F` and the file:line under it, or a trace's creation
    /// stack leaf).
    pub created_by: Option<FrameId>,
    /// Goroutine id of the creator (`in goroutine N`), where known.
    pub parent_id: OptId,
    /// Labels (pprof labels, Go 1.27 traceback labels).
    pub labels: LabelSetId,
    /// Creation time, where the capture saw it.
    pub start_ns: OptNs,
    /// End time, where the capture saw it.
    pub end_ns: OptNs,
    /// State intervals over time, sorted by (depth, start); empty for dumps.
    pub intervals: IntervalRange,
    /// The function the goroutine started in, where the capture says it (an execution trace's
    /// creation event names it; for goroutines that existed before a trace began it is the
    /// outermost frame of their first complete stack). Dumps leave it `None`: there it is the
    /// outermost frame of `stack`. Groups by creation site use it to tell apart goroutines that
    /// one function starts with different `go` statements.
    pub start_func: Option<FrameId>,
    /// The creator's stack at the moment of creation, innermost first (an execution trace's
    /// creation event records it); [`StackId::EMPTY`] where unknown. `created_by` is its leaf.
    pub creation_stack: StackId,
}

#[cfg(test)]
mod sentinel_tests {
    use super::*;

    #[test]
    fn sentinels_round_trip_and_keep_their_neighbour() {
        assert_eq!(OptNs::from(Some(-5)).get(), Some(-5));
        assert_eq!(OptNs::from(None).get(), None);
        assert_eq!(OptNs::some(i64::MIN).get(), Some(i64::MIN + 1));
        assert_eq!(OptId::some(u64::MAX).get(), Some(u64::MAX - 1));
        assert!(OptId::default().is_none() && OptId::some(0).is_some());
        assert_eq!(format!("{:?}", OptNs::some(3)), "Some(3)");
    }
}

// A capture can hold millions of tasks (a dump of a leaking server, a trace that starts a
// goroutine per request); every byte here is a megabyte there. Optional times and ids use
// sentinels and frame ids a niche for that reason, and the rare synctest bubble id is kept
// apart ([`Capture::bubble`](super::Capture::bubble)).
const _: () = assert!(size_of::<Task>() <= 80);

impl Task {
    /// Whether the runtime itself marked this task leaked.
    pub fn is_leaked(&self) -> bool {
        self.flags.contains(TaskFlags::LEAKED)
    }
}

/// An ancestor traceback printed under a goroutine with `GODEBUG=tracebackancestors=N`
/// (`[originating from goroutine N]:`). It describes the creator's stack at creation time; it
/// is not a goroutine of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ancestor {
    /// Index of the task this ancestry belongs to.
    pub task: u32,
    /// The ancestor goroutine's id.
    pub goroutine_id: u64,
    /// The ancestor's stack when it created the next one down.
    pub stack: StackId,
    /// Where the ancestor itself was created.
    pub created_by: Option<FrameId>,
}
