//! The task-lifecycle model every format is parsed into: tasks with creators, states, stacks and
//! intervals; interned strings, frames and stacks; samples; warnings.
//!
//! Times are `i64` nanoseconds. Stacks are innermost frame first. Ids are dense `u32`s into the
//! capture's own tables and mean nothing across captures: compare by text (function, file) when
//! matching two captures.

pub mod capture;
pub mod counter;
pub mod events;
pub mod funcname;
pub mod group;
mod intern;
pub mod interval;
pub mod sample;
pub mod stack;
pub mod strings;
pub mod task;
pub mod tasks;
pub mod trace;
mod validate;
mod varint;
pub mod wait;

pub use capture::{Capture, FormatKind, Source, Warning, Warnings};
pub use counter::Counter;
pub use events::{AsyncKind, ChromeInfo, EventRef, EventStats, Mark, MetadataEntry, Process, TaskDetail};
pub use group::Group;
pub(crate) use intern::LastKey;
pub use interval::{Interval, IntervalKind, Intervals, IntervalsBuilder, Link, LinkKind, Links, LinksIter};
pub use sample::{SampleType, Samples};
pub use stack::{Frame, FrameId, Label, LabelSetId, StackId, StackTables};
pub use strings::{StrId, Strings};
pub use task::{Ancestor, IntervalRange, OptId, OptNs, Task, TaskFlags, TaskKind};
pub use tasks::Tasks;
pub use trace::{TraceInfo, UserLog, UserRegion, UserTask};
pub use validate::InvariantError;
pub use wait::WaitKind;
