//! What trace formats with processes and raw events add to a capture (Chrome Trace Event JSON
//! first): processes, per-task details such as an async operation's category, instant marks,
//! a pointer from each interval back to the input event, event counts and top-level metadata.
//! They live together in one [`ChromeInfo`], boxed on the capture, so that the captures that
//! have none of them (dumps, pprof, Go traces: most of what people open) pay one pointer.

use std::ops::Range;
use std::sync::Arc;

use crate::input::Bytes;

use serde::Serialize;

use super::strings::StrId;

/// What only Chrome Trace Event JSON and V8 profiles (`.cpuprofile`) carry: see the module
/// documentation. `Capture::chrome` reads it, empty for other formats.
#[derive(Clone, Debug, Default)]
pub struct ChromeInfo {
    /// The input bytes, kept so that views re-read an event's fields (`args`) on selection
    /// instead of the parser keeping them.
    pub raw: Option<Arc<Bytes>>,
    /// Processes of multi-process traces (`pid`s); `TaskDetail::process` indexes it.
    pub processes: Vec<Process>,
    /// Trace facts per task (process, category, async kind, the events that began and ended
    /// it): empty, or exactly one per task.
    pub task_details: Vec<TaskDetail>,
    /// The input event behind each interval: empty, or exactly one per interval.
    pub interval_events: Vec<EventRef>,
    /// Instant events on tasks, sorted by (task, time).
    pub marks: Vec<Mark>,
    /// Indices of span intervals that were begun and never ended (`B` without `E`),
    /// ascending; they are drawn to the end of the capture.
    pub open_spans: Vec<u32>,
    /// Input events by kind and category.
    pub event_stats: EventStats,
    /// Top-level entries of the input besides its events (`otherData`, `metadata`,
    /// `displayTimeUnit`, ...).
    pub metadata: Vec<MetadataEntry>,
}

impl ChromeInfo {
    /// The empty info of formats that have none, so readers need not match on `Option`.
    pub const EMPTY: ChromeInfo = ChromeInfo {
        raw: None,
        processes: Vec::new(),
        task_details: Vec::new(),
        interval_events: Vec::new(),
        marks: Vec::new(),
        open_spans: Vec::new(),
        event_stats: EventStats { events: 0, by_kind: Vec::new(), by_category: Vec::new(), skipped: 0 },
        metadata: Vec::new(),
    };

    /// Approximate heap bytes of the per-task and per-interval tables, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.task_details.capacity() * size_of::<TaskDetail>()
            + self.interval_events.capacity() * size_of::<EventRef>()
            + self.marks.capacity() * size_of::<Mark>()
            + self.open_spans.capacity() * size_of::<u32>()
    }
}

/// Where an event is in the input (`Capture::raw`): byte offset and length packed into one
/// `u64` (40 bits of offset, 24 of length), so that ten million intervals cost 80 MB rather
/// than the events' text. A view re-reads the event from the input when it is selected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EventRef(u64);

impl EventRef {
    /// No event.
    pub const NONE: EventRef = EventRef(0);
    const LEN_BITS: u32 = 24;
    const MAX_LEN: u64 = (1 << Self::LEN_BITS) - 1;
    const MAX_OFFSET: u64 = (1 << (64 - Self::LEN_BITS)) - 1;

    /// The event at `offset` of `len` bytes. Events longer than 16 MiB keep their offset and
    /// a length of 0, meaning "read to the end of the value"; offsets past 1 TiB are dropped.
    pub fn new(offset: u64, len: u64) -> Self {
        if offset > Self::MAX_OFFSET {
            return Self::NONE;
        }
        let len = if len > Self::MAX_LEN { 0 } else { len };
        EventRef((offset << Self::LEN_BITS) | len)
    }

    /// Byte offset of the event's first byte.
    pub fn offset(self) -> u64 {
        self.0 >> Self::LEN_BITS
    }

    /// Length in bytes; 0 when unknown (very long events) or for [`EventRef::NONE`].
    pub fn len(self) -> u64 {
        self.0 & Self::MAX_LEN
    }

    /// Whether the length is unknown (or this is [`EventRef::NONE`]).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Whether this refers to no event.
    pub fn is_none(self) -> bool {
        self == Self::NONE
    }

    /// The byte range, when the length is known.
    pub fn range(self) -> Option<Range<usize>> {
        if self.is_none() || self.is_empty() {
            return None;
        }
        let start = usize::try_from(self.offset()).ok()?;
        Some(start..start + self.len() as usize)
    }
}

/// A process of a multi-process trace (Chrome `pid`), for grouping its threads and async
/// operations in views.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Process {
    /// The pid (numeric ids by value; named ones hashed).
    pub pid: u64,
    /// `process_name` metadata, else empty.
    pub name: StrId,
    /// `process_labels` metadata, else empty.
    pub labels: StrId,
    /// `process_sort_index` metadata.
    pub sort_index: Option<i64>,
}

/// Which Trace Event Format construct an async task comes from. Rules treat them differently:
/// an unfinished `b`/`e` operation is suspicious, a live object (`N` without `D`) usually is
/// not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AsyncKind {
    /// Nestable async `b`/`e` (with `n` instants); Node.js async_hooks resources are these.
    Nestable,
    /// Legacy async `S`/`T`/`p`/`F`.
    Legacy,
    /// Object lifetime `N`/`O`/`D`.
    Object,
}

/// Trace facts about one task that [`Task`](super::task::Task) has no field for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskDetail {
    /// Index into `Capture::processes`.
    pub process: Option<u32>,
    /// Category (`cat`) of an async operation, as written (`node,node.async_hooks`).
    pub category: StrId,
    /// `thread_sort_index` metadata of a thread.
    pub sort_index: Option<i64>,
    /// For async tasks: which construct began it.
    pub async_kind: Option<AsyncKind>,
    /// For async tasks: the thread task on whose track it began.
    pub begun_on: Option<u32>,
    /// Node.js async_hooks `executionAsyncId` at creation: the resource whose callback was
    /// running (the trigger is `Task::parent_id`).
    pub execution_id: Option<u64>,
    /// The event that began the task (an async `b`), for views.
    pub begin_event: EventRef,
    /// The event that ended it, where one did.
    pub end_event: EventRef,
}

/// An instant event on a task (Chrome `i`/`I`/`R`, async `n` and steps, object snapshots).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Task index.
    pub task: u32,
    /// When.
    pub time_ns: i64,
    /// Name.
    pub name: StrId,
    /// The input event.
    pub event: EventRef,
}

/// How many input events there were, by kind and category, so that a person can check the
/// parser saw everything the file holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct EventStats {
    /// Events in the input (every element of the event array).
    pub events: u64,
    /// Events by kind (Chrome phase letter), sorted by kind.
    pub by_kind: Vec<(String, u64)>,
    /// Events by category as written, sorted by category.
    pub by_category: Vec<(String, u64)>,
    /// Events skipped: unknown kinds, no timestamp, unreadable.
    pub skipped: u64,
}

impl EventStats {
    /// The count of one kind.
    pub fn kind(&self, kind: &str) -> u64 {
        self.by_kind.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n)
    }

    /// The count of one category.
    pub fn category(&self, category: &str) -> u64 {
        self.by_category.iter().find(|(k, _)| k == category).map_or(0, |(_, n)| *n)
    }
}

/// A top-level entry of the input that is not events (`displayTimeUnit`, `otherData`,
/// `metadata`, `viztracer_metadata`, ...), kept for views to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataEntry {
    /// The key.
    pub key: String,
    /// Byte range of the value in the input.
    pub raw: Range<u64>,
    /// The value's text, for values up to [`MetadataEntry::TEXT_LIMIT`] bytes (strings
    /// unquoted and unescaped; other values as JSON).
    pub text: Option<String>,
}

impl MetadataEntry {
    /// Largest value whose text is copied into the entry.
    pub const TEXT_LIMIT: usize = 4096;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_refs_pack() {
        let r = EventRef::new(123_456_789_012, 345);
        assert_eq!((r.offset(), r.len()), (123_456_789_012, 345));
        assert_eq!(r.range(), Some(123_456_789_012..123_456_789_357));
        let long = EventRef::new(5, 1 << 30);
        assert_eq!((long.offset(), long.len(), long.range()), (5, 0, None));
        assert!(EventRef::NONE.is_none());
        assert!(EventRef::new(1 << 50, 3).is_none());
    }
}
