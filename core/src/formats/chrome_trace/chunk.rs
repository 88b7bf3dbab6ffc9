//! One piece of the `traceEvents` array, read on its own thread: events are sorted into
//! compact per-thread, async, flow, counter, metadata and sample lists that hold chunk-local
//! string ids and byte offsets, never copies of the input. The pieces are merged in order
//! afterwards (`build.rs`).

use hashbrown::HashMap;

use super::event::{self, IdScope, RawEvent, RawId};
use super::json::{Cursor, JStr, JsonError, JsonErrorKind};
use crate::input::{Bytes, Progress};
use crate::model::{EventRef, OptId};

/// Chunk-local interned strings, borrowed from the input.
#[derive(Default)]
pub struct LocalStrings<'a> {
    map: HashMap<(&'a [u8], bool), u32, foldhash::fast::FixedState>,
    /// A direct-mapped cache in front of `map`: traces repeat a few names and categories
    /// millions of times, and comparing a slice is cheaper than hashing it.
    cache: Vec<u32>,
    /// Strings by local id.
    pub list: Vec<JStr<'a>>,
}

const CACHE_SLOTS: usize = 512;

fn slot(raw: &[u8]) -> usize {
    let first = raw.first().copied().unwrap_or(0) as usize;
    let last = raw.last().copied().unwrap_or(0) as usize;
    let mid = raw.get(raw.len() / 2).copied().unwrap_or(0) as usize;
    (raw.len().wrapping_mul(31) ^ first ^ (last << 3) ^ (mid << 5)) % CACHE_SLOTS
}

impl<'a> LocalStrings<'a> {
    /// The local id of `s`; id 0 is the empty string.
    pub fn id(&mut self, s: JStr<'a>) -> u32 {
        if s.raw.is_empty() {
            return 0;
        }
        if self.list.is_empty() {
            self.list.push(JStr::default());
        }
        if self.cache.is_empty() {
            self.cache = vec![0; CACHE_SLOTS];
        }
        let slot = slot(s.raw);
        if let Some(&cached) = self.cache.get(slot)
            && cached != 0
            && self.list.get(cached as usize).is_some_and(|c| c.raw == s.raw && c.escaped == s.escaped)
        {
            return cached;
        }
        let next = self.list.len() as u32;
        let id = *self.map.entry((s.raw, s.escaped)).or_insert(next);
        if id == next {
            self.list.push(s);
        }
        if let Some(c) = self.cache.get_mut(slot) {
            *c = id;
        }
        id
    }
}

/// An event that lives on a thread's track: `B`, `E`, `X`, instants.
#[derive(Clone, Copy, Debug)]
pub struct ThreadEv {
    /// Timestamp.
    pub ts_ns: i64,
    /// Duration of `X`; 0 otherwise.
    pub dur_ns: i64,
    /// Where the event is in the input.
    pub event: EventRef,
    /// Local string id of the name.
    pub name: u32,
    /// Phase byte.
    pub ph: u8,
}

/// A thread seen in this chunk.
pub struct LocalThread<'a> {
    /// Process key.
    pub pid: u64,
    /// Thread key.
    pub tid: u64,
    /// The tid as written, for threads without a name.
    pub tid_raw: RawId<'a>,
    /// Its events, in input order.
    pub events: Vec<ThreadEv>,
}

/// An async (`b`/`e`/`n`, `S`/`T`/`p`/`F`) or object (`N`/`O`/`D`) event.
#[derive(Clone, Copy, Debug)]
pub struct AsyncEv {
    /// Phase byte.
    pub ph: u8,
    /// Local string ids of category, scope and name.
    pub cat: u32,
    /// `scope`.
    pub scope: u32,
    /// `name`.
    pub name: u32,
    /// Id key.
    pub id: u64,
    /// Whether the id is process-local (`id2.local`, and object ids).
    pub local: bool,
    /// Process and thread keys.
    pub pid: u64,
    /// Thread key.
    pub tid: u64,
    /// Timestamp.
    pub ts_ns: i64,
    /// Where the event is in the input.
    pub event: EventRef,
    /// Node.js async_hooks `triggerAsyncId`, where the args carry one. (An `OptId` takes
    /// 8 bytes where an `Option<u64>` takes 16, and a Node.js trace is mostly these events.)
    pub trigger: OptId,
    /// Node.js async_hooks `executionAsyncId`, where the args carry one.
    pub execution: OptId,
}

/// A flow event: `s`/`t`/`f`, or a slice with `bind_id` and `flow_in`/`flow_out`.
#[derive(Clone, Copy, Debug)]
pub struct FlowEv {
    /// `s`, `t`, `f`; `X`/`B` for v2 flows (then `flow_in`/`flow_out` say the direction).
    pub ph: u8,
    /// Local ids of category and name (v1 flows match on them).
    pub cat: u32,
    /// `name`.
    pub name: u32,
    /// Id key (`id` or `bind_id`).
    pub id: u64,
    /// Process key.
    pub pid: u64,
    /// Thread key.
    pub tid: u64,
    /// Timestamp.
    pub ts_ns: i64,
    /// v1: bind to the enclosing slice (`bp: "e"`) rather than the next one.
    pub enclosing: bool,
    /// v2: this slice receives the flow.
    pub flow_in: bool,
    /// v2: this slice starts the flow.
    pub flow_out: bool,
}

/// A counter (`C`) event; its values are `values` in [`ChunkOut::counter_values`].
#[derive(Clone, Copy, Debug)]
pub struct CounterEv {
    /// Process key.
    pub pid: u64,
    /// Local id of the name.
    pub name: u32,
    /// Id key, 0 when absent.
    pub id: u64,
    /// Whether there was an id.
    pub has_id: bool,
    /// Timestamp.
    pub ts_ns: i64,
    /// Range of (series name, value) pairs.
    pub values: (u32, u32),
}

/// What a metadata (`M`) event sets.
#[derive(Clone, Debug)]
pub enum MetaValue {
    /// `thread_name`, `process_name`, `process_labels`: text.
    Text(String),
    /// `thread_sort_index`, `process_sort_index`: a number.
    Index(i64),
}

/// A metadata event.
#[derive(Clone, Debug)]
pub struct MetaEv {
    /// Which metadata: `thread_name`, `process_name`, ...
    pub kind: MetaKind,
    /// Process key.
    pub pid: u64,
    /// Thread key.
    pub tid: u64,
    /// The value.
    pub value: MetaValue,
}

/// The metadata names the model uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaKind {
    /// `thread_name`
    ThreadName,
    /// `process_name`
    ProcessName,
    /// `thread_sort_index`
    ThreadSortIndex,
    /// `process_sort_index`
    ProcessSortIndex,
    /// `process_labels`
    ProcessLabels,
}

/// A `P` sample event, or a `Profile`/`ProfileChunk` (kept raw, decoded after the merge).
#[derive(Clone, Debug)]
pub struct SampleEv {
    /// Process key.
    pub pid: u64,
    /// Thread key.
    pub tid: u64,
    /// Timestamp.
    pub ts_ns: i64,
    /// Local name id.
    pub name: u32,
    /// `sf` key, where given.
    pub sf: Option<u64>,
    /// Id key (profile id of `Profile`/`ProfileChunk`).
    pub id: u64,
    /// Byte range of `args` (profile chunks) or `stack`.
    pub payload: Option<(usize, usize)>,
    /// Whether this is a V8 `Profile`/`ProfileChunk` event rather than a plain sample.
    pub profile: ProfileKind,
}

/// Which kind of `P` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileKind {
    /// A plain sample with `sf` or `stack`.
    Sample,
    /// V8's `Profile` header (`args.data.startTime`).
    Header,
    /// V8's `ProfileChunk` (`args.data.cpuProfile`, `timeDeltas`).
    Chunk,
}

/// How a chunk ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Reached the chunk's stop offset; the next element starts at `next`.
    Stop,
    /// Found the closing `]` of the array at `next - 1`.
    Closed,
    /// The input ended (a cut-off file).
    Eof,
    /// A speculative chunk hit an error: its start was probably not an element boundary.
    Failed,
    /// Cancelled through [`Progress`].
    Cancelled,
}

/// Everything one chunk collected.
#[derive(Default)]
pub struct ChunkOut<'a> {
    /// The input ended inside an event: the file was cut off while being written. (An array
    /// that ends after a complete event without its `]` is allowed by the format.)
    pub cut_off: bool,
    /// Local strings.
    pub strings: LocalStrings<'a>,
    /// Threads by local index.
    pub threads: Vec<LocalThread<'a>>,
    thread_index: HashMap<(u64, u64), u32, foldhash::fast::FixedState>,
    last_thread: Option<((u64, u64), usize)>,
    /// The last pid and tid as written and their keys: consecutive events repeat them.
    last_pid: (RawId<'a>, u64),
    last_tid: (RawId<'a>, u64),
    /// Async and object events in input order.
    pub asyncs: Vec<AsyncEv>,
    /// Flow events in input order.
    pub flows: Vec<FlowEv>,
    /// Counter events in input order.
    pub counters: Vec<CounterEv>,
    /// (local series name, value) pairs of the counters.
    pub counter_values: Vec<(u32, f64)>,
    /// Metadata events.
    pub metas: Vec<MetaEv>,
    /// Sample and profile events in input order.
    pub samples: Vec<SampleEv>,
    /// Events by phase byte.
    pub phases: Vec<u64>,
    /// Events by local category id.
    pub categories: Vec<u64>,
    /// Events read (including skipped ones).
    pub events: u64,
    /// Events without a timestamp, skipped.
    pub missing_ts: u64,
    /// Elements of the array that were not objects, or could not be read.
    pub bad: u64,
    /// Warnings: (byte offset, message).
    pub warnings: Vec<(usize, String)>,
    /// Earliest timestamp and latest end seen.
    pub time_ns: Option<(i64, i64)>,
    /// How the chunk ended.
    pub end: Option<End>,
    /// Offset of the next element (Stop), just past `]` (ArrayEnd), or where reading stopped.
    pub next: usize,
}

/// Whether a chunk may trust its start offset. The first chunk starts at a known element;
/// later chunks start at a guessed one and give up at the first error, to be re-read if
/// the guess was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Errors are recorded and skipped.
    Lenient,
    /// The first error ends the chunk with [`End::Failed`].
    Speculative,
}

const CANCEL_POLL_EVENTS: u64 = 4096;

/// Bytes of a mapped input a reader maps in at once, ahead of it, and hands back once past:
/// the pages of the input resident at a time are a window per reading thread, not the pieces
/// they read (2 MB or more each), which on a 5 MB trace were as much as the whole file.
/// Mapped in at once (one system call), they cost fewer faults than page by page.
const WINDOW: usize = 1 << 20;

/// Reads array elements starting at `start` (an element or whitespace before one) until an
/// element would start at or after `stop`, the array closes, or the input ends.
///
/// With `pages`, the mapping `bytes` are read from, the pages ahead are mapped in a window at a
/// time and those behind handed back (see [`WINDOW`]).
pub fn read<'a>(
    bytes: &'a [u8],
    (start, stop): (usize, usize),
    mode: Mode,
    progress: &Progress,
    pages: Option<&Bytes>,
) -> ChunkOut<'a> {
    let mut out = ChunkOut { phases: vec![0; 128], ..ChunkOut::default() };
    out.strings.list.push(JStr::default());
    let mut c = Cursor::new(bytes, start);
    let mut ev = RawEvent::default();
    // The window of pages mapped in: from where it began to where the next one begins.
    let mut window = start..start;
    loop {
        let Some(b) = c.skip_ws() else {
            out.finish(End::Eof, c.pos);
            return out;
        };
        match b {
            b']' => {
                out.finish(End::Closed, c.pos + 1);
                return out;
            }
            // Stray or doubled commas (and a trailing one before `]`) are harmless.
            b',' => {
                c.pos += 1;
                continue;
            }
            _ => {}
        }
        if c.pos >= stop {
            out.finish(End::Stop, c.pos);
            return out;
        }
        if out.events.is_multiple_of(CANCEL_POLL_EVENTS) && progress.is_cancelled() {
            out.finish(End::Cancelled, c.pos);
            return out;
        }
        let at = c.pos;
        if at >= window.end
            && let Some(pages) = pages
        {
            pages.release_pages(window.start..at);
            window = at..at.saturating_add(WINDOW);
            pages.prefetch(window.clone());
        }
        if b == b'{' {
            match event::parse_into(&mut c, &mut ev) {
                Ok(()) => out.event(bytes, &ev),
                Err(e) if e.kind == JsonErrorKind::Eof => {
                    if mode == Mode::Speculative {
                        out.finish(End::Failed, at);
                        return out;
                    }
                    out.warnings
                        .push((at, format!("the input ends inside this event ({e}); it was cut off")));
                    out.cut_off = true;
                    out.finish(End::Eof, at);
                    return out;
                }
                Err(e) => {
                    if mode == Mode::Speculative {
                        out.finish(End::Failed, at);
                        return out;
                    }
                    out.bad += 1;
                    out.events += 1;
                    out.warnings.push((e.offset, format!("unreadable event skipped: {e}")));
                    // Resynchronise at the next element that looks like an event.
                    let Some(p) = next_candidate(bytes, e.offset.max(at + 1)) else {
                        out.finish(End::Eof, bytes.len());
                        return out;
                    };
                    c.pos = p;
                    continue;
                }
            }
        } else {
            // Not an event: skip it whole if it is well-formed JSON.
            if mode == Mode::Speculative || c.skip_value().is_err() {
                if mode == Mode::Lenient {
                    out.warnings
                        .push((at, "unreadable array element; the rest of the array is ignored".to_owned()));
                }
                out.finish(if mode == Mode::Speculative { End::Failed } else { End::Eof }, at);
                return out;
            }
            out.bad += 1;
            out.events += 1;
            out.warnings.push((at, "array element that is not an event object skipped".to_owned()));
        }
        match c.skip_ws() {
            Some(b',') => c.pos += 1,
            Some(b']') => {
                out.finish(End::Closed, c.pos + 1);
                return out;
            }
            None => {
                out.finish(End::Eof, c.pos);
                return out;
            }
            Some(_) => {
                // A missing comma: tolerated in lenient mode, a wrong guess otherwise.
                if mode == Mode::Speculative {
                    out.finish(End::Failed, at);
                    return out;
                }
                out.warnings.push((c.pos, "missing comma between events".to_owned()));
            }
        }
    }
}

/// The offset of the first `{"` at or after `from` that follows `}` and `,` (with optional
/// whitespace): where an element of an array of objects most likely starts. Inside a string
/// this can be fooled, which the caller's verification catches.
pub fn next_candidate(bytes: &[u8], from: usize) -> Option<usize> {
    let finder = memchr::memmem::Finder::new(b"{\"");
    let mut at = from;
    loop {
        let i = finder.find(bytes.get(at..)?)?;
        let p = at + i;
        if follows_element(bytes, p) {
            return Some(p);
        }
        at = p + 1;
    }
}

fn follows_element(bytes: &[u8], p: usize) -> bool {
    let mut i = p;
    let mut seen_comma = false;
    while i > 0 {
        i -= 1;
        match bytes.get(i) {
            Some(b' ' | b'\n' | b'\r' | b'\t') => {}
            Some(b',') if !seen_comma => seen_comma = true,
            Some(b'}') => return seen_comma,
            Some(b'[') => return !seen_comma,
            _ => return false,
        }
    }
    false
}

impl<'a> ChunkOut<'a> {
    fn finish(&mut self, end: End, next: usize) {
        self.end = Some(end);
        self.next = next;
    }

    /// The local index of thread (pid, tid), adding it if new. Traces write runs of events
    /// from one thread, so the last answer is tried before the map.
    fn thread(&mut self, pid: u64, tid: u64, tid_raw: RawId<'a>) -> usize {
        if let Some((key, i)) = self.last_thread
            && key == (pid, tid)
        {
            return i;
        }
        let next = self.threads.len();
        let i = *self.thread_index.entry((pid, tid)).or_insert(next as u32) as usize;
        if i == next {
            self.threads.push(LocalThread { pid, tid, tid_raw, events: Vec::new() });
        }
        self.last_thread = Some(((pid, tid), i));
        i
    }

    fn event(&mut self, bytes: &'a [u8], ev: &RawEvent<'a>) {
        self.events += 1;
        if let Some(n) = self.phases.get_mut(usize::from(ev.ph & 0x7f)) {
            *n += 1;
        }
        let cat = self.strings.id(ev.cat);
        if self.categories.len() <= cat as usize {
            self.categories.resize(cat as usize + 1, 0);
        }
        if let Some(n) = self.categories.get_mut(cat as usize) {
            *n += 1;
        }
        let event = EventRef::new(ev.range.start as u64, ev.range.len() as u64);
        if ev.ph == b'M' {
            self.meta(bytes, ev);
            return;
        }
        let Some(ts_ns) = ev.ts_ns else {
            if is_known_phase(ev.ph) {
                self.missing_ts += 1;
            }
            return;
        };
        let (pid, tid) = (cached_key(&mut self.last_pid, ev.pid), cached_key(&mut self.last_tid, ev.tid));
        let end_ns = ev.end_ns().unwrap_or(ts_ns);
        self.time_ns = Some(match self.time_ns {
            None => (ts_ns, end_ns),
            Some((lo, hi)) => (lo.min(ts_ns), hi.max(end_ns)),
        });
        match ev.ph {
            b'B' | b'E' | b'X' | b'i' | b'I' | b'R' => {
                let name = self.strings.id(ev.name);
                let dur_ns = if ev.ph == b'X' { ev.dur_ns.unwrap_or(0).max(0) } else { 0 };
                let ph = if ev.ph == b'R' { b'I' } else { ev.ph };
                let t = self.thread(pid, tid, ev.tid);
                if let Some(t) = self.threads.get_mut(t) {
                    t.events.push(ThreadEv { ts_ns, dur_ns, event, name, ph });
                }
                if ev.bind_id.is_some() && (ev.flow_in || ev.flow_out) {
                    self.flows.push(FlowEv {
                        ph: ev.ph,
                        cat,
                        name,
                        id: ev.bind_id.key(),
                        pid,
                        tid,
                        ts_ns,
                        enclosing: true,
                        flow_in: ev.flow_in,
                        flow_out: ev.flow_out,
                    });
                }
            }
            b'b' | b'e' | b'n' | b'S' | b'T' | b'p' | b'F' | b'N' | b'O' | b'D' => {
                let (trigger, execution) = async_hooks_ids(bytes, ev);
                let name = self.strings.id(ev.name);
                let scope = self.strings.id(ev.scope);
                // Object ids are process-local by definition; async ids unless `id2.global`.
                let local = matches!(ev.ph, b'N' | b'O' | b'D') || ev.id_scope == IdScope::Local;
                self.thread(pid, tid, ev.tid);
                self.asyncs.push(AsyncEv {
                    ph: ev.ph,
                    cat,
                    scope,
                    name,
                    id: ev.id.key(),
                    local,
                    pid,
                    tid,
                    ts_ns,
                    event,
                    trigger: OptId::from(trigger),
                    execution: OptId::from(execution),
                });
            }
            b's' | b't' | b'f' => {
                let name = self.strings.id(ev.name);
                self.flows.push(FlowEv {
                    ph: ev.ph,
                    cat,
                    name,
                    id: ev.id.key(),
                    pid,
                    tid,
                    ts_ns,
                    enclosing: ev.ph != b'f' || ev.bp.is("e"),
                    flow_in: false,
                    flow_out: false,
                });
            }
            b'C' => self.counter(bytes, ev, pid, ts_ns),
            b'P' => {
                let name = self.strings.id(ev.name);
                let profile = if ev.name.is("ProfileChunk") {
                    ProfileKind::Chunk
                } else if ev.name.is("Profile") {
                    ProfileKind::Header
                } else {
                    ProfileKind::Sample
                };
                let payload = match profile {
                    ProfileKind::Sample => ev.stack.clone(),
                    _ => ev.args.clone(),
                }
                .map(|r| (r.start, r.end));
                self.thread(pid, tid, ev.tid);
                self.samples.push(SampleEv {
                    pid,
                    tid,
                    ts_ns,
                    name,
                    sf: ev.sf.is_some().then(|| ev.sf.key()),
                    id: ev.id.key(),
                    payload,
                    profile,
                });
            }
            _ => {}
        }
    }

    fn meta(&mut self, bytes: &'a [u8], ev: &RawEvent<'a>) {
        let kind = match ev.name.raw {
            b"thread_name" => MetaKind::ThreadName,
            b"process_name" => MetaKind::ProcessName,
            b"thread_sort_index" => MetaKind::ThreadSortIndex,
            b"process_sort_index" => MetaKind::ProcessSortIndex,
            b"process_labels" => MetaKind::ProcessLabels,
            _ => return,
        };
        let Some(args) = ev.args.clone() else { return };
        let (pid, tid) = (ev.pid.key(), ev.tid.key());
        if matches!(kind, MetaKind::ThreadName | MetaKind::ThreadSortIndex) {
            self.thread(pid, tid, ev.tid);
        }
        let mut value = None;
        let mut c = Cursor::new(bytes, args.start);
        let read = c.object(|c, key| {
            match kind {
                MetaKind::ThreadName | MetaKind::ProcessName if key.is("name") => {
                    if let Ok(s) = c.string() {
                        value = Some(MetaValue::Text(s.text().into_owned()));
                    }
                }
                MetaKind::ProcessLabels if key.is("labels") => {
                    if let Ok(s) = c.string() {
                        value = Some(MetaValue::Text(s.text().into_owned()));
                    }
                }
                MetaKind::ThreadSortIndex | MetaKind::ProcessSortIndex if key.is("sort_index") => {
                    if let Some(v) = c.int()? {
                        value = Some(MetaValue::Index(v));
                    }
                }
                _ => {}
            }
            // Whatever the arm above did not consume (a value of an unexpected type).
            if matches!(c.skip_ws(), Some(b',' | b'}')) { Ok(()) } else { c.skip_value().map(|_| ()) }
        });
        if read.is_err() {
            self.warnings.push((args.start, format!("unreadable args of a {} metadata event", kind.name())));
        }
        if let Some(value) = value {
            self.metas.push(MetaEv { kind, pid, tid, value });
        }
    }

    fn counter(&mut self, bytes: &'a [u8], ev: &RawEvent<'a>, pid: u64, ts_ns: i64) {
        let name = self.strings.id(ev.name);
        let first = self.counter_values.len() as u32;
        if let Some(args) = ev.args.clone() {
            let mut c = Cursor::new(bytes, args.start);
            let strings = &mut self.strings;
            let values = &mut self.counter_values;
            let read = c.object(|c, key| {
                if let Some(v) = c.float()? {
                    values.push((strings.id(key), v));
                }
                Ok(())
            });
            if read.is_err() {
                self.warnings.push((args.start, "unreadable counter values skipped".to_owned()));
            }
        }
        let last = self.counter_values.len() as u32;
        self.counters.push(CounterEv {
            pid,
            name,
            id: ev.id.key(),
            has_id: ev.id.is_some(),
            ts_ns,
            values: (first, last),
        });
    }
}

/// The key of `id`, reusing the last one when the text is the same.
fn cached_key<'a>(cache: &mut (RawId<'a>, u64), id: RawId<'a>) -> u64 {
    if cache.0 != id || !id.is_some() {
        *cache = (id, id.key());
    }
    cache.1
}

impl MetaKind {
    /// The metadata event's name.
    pub fn name(self) -> &'static str {
        match self {
            MetaKind::ThreadName => "thread_name",
            MetaKind::ProcessName => "process_name",
            MetaKind::ThreadSortIndex => "thread_sort_index",
            MetaKind::ProcessSortIndex => "process_sort_index",
            MetaKind::ProcessLabels => "process_labels",
        }
    }
}

/// Phases of the Trace Event Format that the parser knows (some only to count and skip:
/// clock syncs `c`, context `(`/`)`, memory dumps `V`/`v`, linked ids `=`).
pub fn is_known_phase(ph: u8) -> bool {
    matches!(
        ph,
        b'B' | b'E'
            | b'X'
            | b'i'
            | b'I'
            | b'R'
            | b'C'
            | b'b'
            | b'e'
            | b'n'
            | b'S'
            | b'T'
            | b'p'
            | b'F'
            | b's'
            | b't'
            | b'f'
            | b'M'
            | b'P'
            | b'N'
            | b'O'
            | b'D'
            | b'c'
            | b'('
            | b')'
            | b'V'
            | b'v'
            | b'='
    )
}

/// Node.js's async_hooks events carry `args.data.triggerAsyncId` and `executionAsyncId` on the
/// `b` that creates a resource: the resource whose work created it, and the one running then.
/// They are the creation chain of a promise, so they are read here rather than left raw.
fn async_hooks_ids(bytes: &[u8], ev: &RawEvent<'_>) -> (Option<u64>, Option<u64>) {
    if ev.ph != b'b' {
        return (None, None);
    }
    let Some(args) = ev.args.clone() else { return (None, None) };
    let raw = bytes.get(args.clone()).unwrap_or_default();
    if raw.len() < 20 || memchr::memmem::find(raw, b"AsyncId").is_none() {
        return (None, None);
    }
    let mut trigger = None;
    let mut execution = None;
    let mut c = Cursor::new(bytes, args.start);
    let _ = c.object(|c, key| {
        if !key.is("data") || c.kind()? != super::json::Kind::Object {
            return c.skip_value().map(|_| ());
        }
        c.object(|c, key| {
            if key.is("triggerAsyncId") {
                trigger = c.int()?.map(|v| v as u64);
            } else if key.is("executionAsyncId") {
                execution = c.int()?.map(|v| v as u64);
            } else {
                c.skip_value()?;
            }
            Ok(())
        })
    });
    (trigger, execution)
}

/// Reads the numbers of a JSON array of numbers (`timeDeltas`, `samples`) at the cursor.
pub fn int_array(c: &mut Cursor<'_>, out: &mut Vec<i64>) -> Result<(), JsonError> {
    c.array(|c| {
        out.push(c.int()?.unwrap_or(0));
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> ChunkOut<'_> {
        let start = text.find('[').unwrap() + 1;
        read(text.as_bytes(), (start, usize::MAX), Mode::Lenient, &Progress::new(), None)
    }

    #[test]
    fn sorts_events_by_kind() {
        let text = r#"[{"ph":"X","pid":1,"tid":2,"ts":1,"dur":2,"name":"a","cat":"c"},
            {"ph":"b","pid":1,"tid":2,"ts":1,"name":"op","cat":"c","id":"0x1","args":{"data":{"triggerAsyncId":5,"executionAsyncId":6}}},
            {"ph":"C","pid":1,"ts":3,"name":"mem","args":{"heap":10,"rss":"20"}},
            {"ph":"M","pid":1,"tid":2,"name":"thread_name","args":{"name":"main"}},
            {"ph":"s","pid":1,"tid":2,"ts":1,"id":9,"name":"f","cat":"c"},
            {"ph":"Z","pid":1,"tid":2,"ts":1}]"#;
        let out = read_all(text);
        assert_eq!(out.end, Some(End::Closed));
        assert_eq!(out.next, text.len());
        assert_eq!(out.events, 6);
        assert_eq!(out.threads.len(), 1);
        assert_eq!(out.threads[0].events.len(), 1);
        assert_eq!(out.asyncs.len(), 1);
        assert_eq!((out.asyncs[0].trigger.get(), out.asyncs[0].execution.get()), (Some(5), Some(6)));
        assert_eq!(out.counters.len(), 1);
        assert_eq!(out.counter_values.len(), 2);
        assert_eq!(out.metas.len(), 1);
        assert_eq!(out.flows.len(), 1);
        assert_eq!(out.phases[usize::from(b'Z')], 1);
    }

    #[test]
    fn truncation_keeps_complete_events() {
        let text =
            r#"[{"ph":"X","pid":1,"tid":2,"ts":1,"dur":2,"name":"a"},{"ph":"X","pid":1,"tid":2,"ts":5,"du"#;
        let out = read_all(text);
        assert_eq!(out.end, Some(End::Eof));
        assert_eq!(out.threads[0].events.len(), 1);
        assert_eq!(out.warnings.len(), 1);
        let text = r#"[{"ph":"X","pid":1,"tid":2,"ts":1,"dur":2,"name":"a"},"#;
        let out = read_all(text);
        assert_eq!((out.end, out.warnings.len()), (Some(End::Eof), 0));
        assert_eq!(out.threads[0].events.len(), 1);
    }

    #[test]
    fn bad_events_are_skipped() {
        let text = r#"[{"ph":"X","ts":1,"name":"a"},{"ph":"X" "ts":2},{"ph":"X","ts":3,"name":"c"},7,{"ph":"X","ts":4}]"#;
        let out = read_all(text);
        assert_eq!(out.end, Some(End::Closed));
        assert_eq!(out.threads[0].events.len(), 3);
        assert_eq!(out.bad, 2);
    }

    #[test]
    fn candidates_follow_elements() {
        let text = br#"[{"a":1}, {"b":"x},{"}, {"d":2}]"#;
        assert_eq!(next_candidate(text, 0), Some(1));
        let first = next_candidate(text, 2).unwrap();
        assert_eq!(&text[first..first + 5], br#"{"b":"#);
        // A string ending in `},{` fools the finder; the caller's verification catches it.
        let fooled = next_candidate(text, first + 1).unwrap();
        assert_eq!(&text[fooled..fooled + 3], br#"{"}"#);
        assert_eq!(next_candidate(b"[", 0), None);
    }
}
