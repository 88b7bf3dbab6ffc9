//! A capture: everything one file (or one dump of a series in a file) says, in the shared model.

use hashbrown::HashMap;
use serde::Serialize;

use super::counter::Counter;
use super::events::{ChromeInfo, EventRef, TaskDetail};
use super::interval::{Intervals, Links};
use super::sample::Samples;
use super::stack::StackTables;
use super::strings::Strings;
use super::task::{Ancestor, Task, TaskKind};
use super::tasks::Tasks;

/// The input formats leakscope reads. The names are stable: they appear in `--json` output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum FormatKind {
    /// Go goroutine dump text: `debug=2`, `runtime.Stack(buf, true)`, SIGQUIT and panic output.
    #[serde(rename = "go-goroutine-dump")]
    GoGoroutineDump,
    /// Go goroutine profile text, `debug=1` (`goroutine profile: total N`).
    #[serde(rename = "go-goroutine-profile-text")]
    GoGoroutineProfileText,
    /// pprof protobuf (`profile.proto`), gzipped or raw.
    #[serde(rename = "pprof")]
    Pprof,
    /// Go execution trace (`runtime/trace`).
    #[serde(rename = "go-execution-trace")]
    GoExecutionTrace,
    /// Chrome Trace Event Format JSON.
    #[serde(rename = "chrome-trace")]
    ChromeTrace,
    /// DevTools `.cpuprofile` JSON.
    #[serde(rename = "devtools-cpuprofile")]
    DevtoolsCpuProfile,
}

impl FormatKind {
    /// The stable name used in output and errors.
    pub fn name(self) -> &'static str {
        match self {
            FormatKind::GoGoroutineDump => "go-goroutine-dump",
            FormatKind::GoGoroutineProfileText => "go-goroutine-profile-text",
            FormatKind::Pprof => "pprof",
            FormatKind::GoExecutionTrace => "go-execution-trace",
            FormatKind::ChromeTrace => "chrome-trace",
            FormatKind::DevtoolsCpuProfile => "devtools-cpuprofile",
        }
    }

    /// A name for people.
    pub fn title(self) -> &'static str {
        match self {
            FormatKind::GoGoroutineDump => "Go goroutine dump",
            FormatKind::GoGoroutineProfileText => "Go goroutine profile (debug=1 text)",
            FormatKind::Pprof => "pprof profile",
            FormatKind::GoExecutionTrace => "Go execution trace",
            FormatKind::ChromeTrace => "Chrome trace JSON",
            FormatKind::DevtoolsCpuProfile => "DevTools CPU profile",
        }
    }
}

impl std::fmt::Display for FormatKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a capture came from and what the file says about itself.
#[derive(Clone, Debug, Default)]
pub struct Source {
    /// Path as the user gave it (`-` for stdin, `bundled:...` for embedded samples).
    pub path: String,
    /// Detected format; `None` only for a default-constructed capture.
    pub format: Option<FormatKind>,
    /// pprof profile type (`goroutine`, `goroutineleak`, `cpu`, `heap`, ...), where known.
    pub profile_type: Option<String>,
    /// Go version, where the capture states it.
    pub go_version: Option<String>,
    /// Wall-clock time of capture (Unix ns), where the capture states it.
    pub captured_at_ns: Option<i64>,
    /// Span of time covered (profile duration, trace length), where known.
    pub duration_ns: Option<i64>,
    /// Size of the input after decompression.
    pub bytes: u64,
    /// Whether the file was gzip-compressed.
    pub gzipped: bool,
    /// Position of this capture in a file holding a series (several dumps), 0-based, oldest
    /// first; `series_len` is the number of captures in the file.
    pub series_index: usize,
    /// Number of captures in the file.
    pub series_len: usize,
    /// Line where this capture starts in the file, for series.
    pub first_line: u64,
    /// The capture is cut off: the file ends before the recording did (a trace still being
    /// written, a copy interrupted). Work open at its end may have finished after it.
    pub truncated: bool,
    /// What the program printed before the dump, where it says why (`SIGQUIT: quit`,
    /// `panic: test timed out after 10m0s`, `fatal error: all goroutines are asleep - deadlock!`).
    pub headline: Option<String>,
    /// Free-form notes the capture carries about itself, in file order (pprof `comment`s, which
    /// tools use for the command line or the build that was profiled).
    pub comments: Vec<String>,
    /// Where the writer documents this kind of capture (pprof `doc_url`), for a help link.
    pub doc_url: Option<String>,
    /// For a first picture of a large input (see [`crate::Preview`]): how many of its `bytes`
    /// this capture holds. `None` for a capture of the whole input.
    pub preview_bytes: Option<u64>,
}

/// A structured, non-fatal problem found while parsing: a bad record skipped, a cut-off end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// What happened, for a person.
    pub message: String,
    /// 1-based line in the (decompressed) input, where the format is line-based.
    pub line: Option<u64>,
    /// Byte offset in the (decompressed) input.
    pub offset: Option<u64>,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.line, self.offset) {
            (Some(line), _) => write!(f, "line {line}: {}", self.message),
            (None, Some(offset)) => write!(f, "byte {offset}: {}", self.message),
            (None, None) => f.write_str(&self.message),
        }
    }
}

/// Warnings with a cap, so that a file with a million bad records reports a count instead of a
/// million lines.
#[derive(Clone, Debug, Default)]
pub struct Warnings {
    list: Vec<Warning>,
    suppressed: u64,
}

impl Warnings {
    /// Most warnings kept; later ones are counted.
    pub const CAP: usize = 200;

    /// Records a warning at a line.
    pub fn at_line(&mut self, line: u64, message: impl Into<String>) {
        self.push(Warning { message: message.into(), line: Some(line), offset: None });
    }

    /// Records a warning at a byte offset.
    pub fn at_offset(&mut self, offset: u64, message: impl Into<String>) {
        self.push(Warning { message: message.into(), line: None, offset: Some(offset) });
    }

    /// Records a warning about the whole input.
    pub fn general(&mut self, message: impl Into<String>) {
        self.push(Warning { message: message.into(), line: None, offset: None });
    }

    /// Records a warning.
    pub fn push(&mut self, mut warning: Warning) {
        if self.list.len() < Self::CAP {
            // Warnings quote the input; a 10 MB line must not come back whole.
            if let std::borrow::Cow::Owned(clipped) = crate::format::clip_names(&warning.message) {
                warning.message = clipped;
            }
            self.list.push(warning);
        } else {
            self.suppressed += 1;
        }
    }

    /// Adds another collector's warnings after these.
    pub fn extend(&mut self, other: Warnings) {
        self.suppressed += other.suppressed;
        for w in other.list {
            self.push(w);
        }
    }

    /// The kept warnings, in input order.
    pub fn list(&self) -> &[Warning] {
        &self.list
    }

    /// How many were dropped past the cap.
    pub fn suppressed(&self) -> u64 {
        self.suppressed
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.suppressed == 0
    }

    /// The warnings as lines for people, with a final count of those dropped.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self.list.iter().map(ToString::to_string).collect();
        if self.suppressed > 0 {
            out.push(format!("... and {} more warnings", self.suppressed));
        }
        out
    }
}

/// Everything one capture says, in the shared task-lifecycle model.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    /// Where it came from.
    pub source: Source,
    /// Interned strings.
    pub strings: Strings,
    /// Interned frames, stacks and labels.
    pub tables: StackTables,
    /// Goroutines, threads, async tasks, in input order.
    pub tasks: Tasks,
    /// synctest bubble ids, by goroutine id, where a dump printed them (Go 1.25+); few
    /// goroutines have one, so they are kept apart from [`Task`]. See [`Capture::bubble`].
    pub bubbles: HashMap<u64, u64>,
    /// Ancestor tracebacks (`tracebackancestors`), by task.
    pub ancestors: Vec<Ancestor>,
    /// State intervals of all tasks.
    pub intervals: Intervals,
    /// Arrows between tasks (create, unblock, flow).
    pub links: Links,
    /// Sampled stacks.
    pub samples: Samples,
    /// Numeric series.
    pub counters: Vec<Counter>,
    /// First and last timestamp, for formats with time.
    pub time_range_ns: Option<(i64, i64)>,
    /// Non-fatal problems found while parsing.
    pub warnings: Warnings,
    /// What an execution trace says beyond tasks and intervals (event counts, user tasks,
    /// regions, logs); `None` for other formats. Boxed: most captures are not traces.
    pub trace: Option<Box<super::trace::TraceInfo>>,
    /// What Chrome traces and V8 profiles add (processes, per-task details, marks, open
    /// spans, event counts, metadata, the input for re-reading events); `None` for other
    /// formats. Boxed: most captures are neither. Read it with [`Capture::chrome`].
    pub chrome: Option<Box<ChromeInfo>>,
}

impl Capture {
    /// A new capture for `path` in `format`.
    pub fn new(path: &str, format: FormatKind) -> Self {
        Self {
            source: Source {
                path: path.to_owned(),
                format: Some(format),
                series_len: 1,
                ..Source::default()
            },
            ..Self::default()
        }
    }

    /// The synctest bubble of a goroutine, where a dump printed one.
    pub fn bubble(&self, task: &Task) -> Option<u64> {
        if task.kind == TaskKind::Goroutine { self.bubbles.get(&task.id).copied() } else { None }
    }

    /// Resolves an interned string.
    pub fn str(&self, id: super::StrId) -> &str {
        self.strings.resolve(id)
    }

    /// Number of goroutines (or threads, tasks) the capture describes: the task list where the
    /// format lists tasks one by one, else the summed counts of a goroutine count profile.
    pub fn task_count(&self) -> u64 {
        if !self.tasks.is_empty() {
            // Scheduler resources (a dump's per-thread g0 stacks, a trace's Ps) are lanes, not
            // tasks anybody created.
            return self.tasks.iter().filter(|t| t.kind != TaskKind::Resource).count() as u64;
        }
        if self.is_goroutine_count_profile() { self.samples.total(0).max(0) as u64 } else { 0 }
    }

    /// Whether the samples count goroutines (goroutine or goroutineleak profiles, in any form).
    pub fn is_goroutine_count_profile(&self) -> bool {
        matches!(self.source.profile_type.as_deref(), Some("goroutine" | "goroutineleak"))
            && self.tasks.is_empty()
            && !self.samples.types.is_empty()
    }

    /// Whether the stacks are a Go program's (dumps, Go's text profiles and traces, pprof): the
    /// formats whose function names follow Go's `package.Func` and whose runtime frames Go's
    /// tracebacks elide.
    pub fn is_go(&self) -> bool {
        matches!(
            self.source.format,
            Some(
                FormatKind::GoGoroutineDump
                    | FormatKind::GoGoroutineProfileText
                    | FormatKind::GoExecutionTrace
                    | FormatKind::Pprof
            )
        )
    }

    /// Whether this is a goroutine leak profile: every goroutine in it was found leaked by the
    /// runtime's GC-based detector.
    pub fn is_leak_profile(&self) -> bool {
        self.source.profile_type.as_deref() == Some("goroutineleak")
    }

    /// What Chrome traces and V8 profiles add, empty for other formats.
    pub fn chrome(&self) -> &ChromeInfo {
        static EMPTY: ChromeInfo = ChromeInfo::EMPTY;
        self.chrome.as_deref().unwrap_or(&EMPTY)
    }

    /// The Chrome part for a parser to fill, made on first use.
    pub fn chrome_mut(&mut self) -> &mut ChromeInfo {
        self.chrome.get_or_insert_default()
    }

    /// The trace details of task `index`, where the format has them.
    pub fn task_detail(&self, index: usize) -> Option<&TaskDetail> {
        self.chrome().task_details.get(index)
    }

    /// The input bytes of an event, where the capture kept its input.
    pub fn event_bytes(&self, event: EventRef) -> Option<&[u8]> {
        self.chrome().raw.as_deref().and_then(|raw| raw.get(event.range()?))
    }

    /// Number of tasks of one kind.
    pub fn count_of_kind(&self, kind: TaskKind) -> usize {
        self.tasks.iter().filter(|t| t.kind == kind).count()
    }

    /// Approximate heap bytes of the model, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.strings.heap_bytes()
            + self.tables.heap_bytes()
            + self.tasks.heap_bytes()
            + self.intervals.heap_bytes()
            + self.links.heap_bytes()
            + self.samples.values.capacity() * 8
            + self.samples.stack.capacity() * 8
            + self.chrome.as_deref().map_or(0, ChromeInfo::heap_bytes)
    }
}
