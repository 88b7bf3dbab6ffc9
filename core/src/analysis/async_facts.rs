//! Leak facts of traces with threads and async operations (Chrome trace JSON from Node.js,
//! viztracer, Chromium, `tracing-chrome`): what began and never ended, what each unfinished
//! operation came from, and how each thread or task lane lived and ended. Rules
//! (`analysis::rules`, written separately) turn these facts into findings; nothing here
//! decides what is a leak.
//!
//! The facts, and why each is there:
//! - [`NeverEnded`]: async operations begun and never ended (`b` without `e`, `S` without
//!   `F`; a promise that never settled is a Node.js `PROMISE` resource never destroyed),
//!   grouped by name and category with the thread span that created them.
//! - [`OriginFamily`]: Node.js async_hooks resources record the resource whose work created
//!   them (`triggerAsyncId`). Following that chain up through resources of the same type (a
//!   promise created by a promise...) reaches the resource that started the work: a request
//!   (`HTTPINCOMINGMESSAGE`), a timer, a socket. Grouping those origins by the shape of what
//!   each left unfinished gives one family per leaking code path, counted per request.
//! - [`OpenSpans`]: spans begun and never ended (`B` without `E`), grouped by span stack.
//! - [`Lane`]: per thread (or per asyncio task, which viztracer draws as a thread): when it
//!   was active, how much of its life it spent blocked in a long call or suspended, and what
//!   another lane was doing when it ended (`Thread.join` at exit, asyncio's
//!   `_cancel_all_tasks` cancelling the tasks still pending when `asyncio.run` returns).

use hashbrown::HashMap;
use rayon::prelude::*;

use crate::model::{AsyncKind, Capture, IntervalKind, StackId, StrId, TaskFlags, TaskKind};

/// Leaf spans at least this long count as blocking calls (`lock.acquire`, `Queue.get`,
/// `read`): instrumenting tracers record every call, and a leaf that lasts a millisecond is
/// waiting, not computing.
pub const BLOCKING_CALL_NS: i64 = 1_000_000;

/// A lane whose last activity falls in the final share of the capture is alive at the end.
pub const ALIVE_AT_END_SHARE: f64 = 0.05;

/// Async operations of one name and category that were begun and never ended.
#[derive(Clone, Debug, PartialEq)]
pub struct NeverEnded {
    /// Operation name (`PROMISE`, `Timeout`, `NavigationRequest`).
    pub name: String,
    /// Category as written.
    pub category: String,
    /// Which construct (nestable `b`/`e`, legacy `S`/`F`, object `N`/`D`).
    pub kind: AsyncKind,
    /// How many never ended.
    pub count: u64,
    /// How many of the same name and category did end, for scale (208 of 10,634 promises).
    pub ended: u64,
    /// Task indices of the unfinished ones, ascending.
    pub tasks: Vec<u32>,
    /// When the oldest and newest of them began.
    pub began_ns: (i64, i64),
    /// Span stacks of the threads where they were created, with counts, most common first
    /// (the empty stack when the thread had no span open).
    pub creating_stacks: Vec<(StackId, u64)>,
}

/// Origins (resources that started a chain of work, or one callback run of a resource that
/// runs many: one request of a keep-alive connection) that left the same unfinished shape of
/// one operation type.
#[derive(Clone, Debug, PartialEq)]
pub struct OriginFamily {
    /// Name of the origin resource (`HTTPINCOMINGMESSAGE`), or `(outside the trace)` when
    /// the chain leads to a resource the trace never saw begin (the program's main module).
    pub origin_name: String,
    /// What each origin left unfinished: (operation name, links up the chain to the
    /// origin), sorted. Equal shapes mean the same code path.
    pub shape: Vec<(String, u32)>,
    /// Number of origins with this shape: for requests, how many requests leaked this way.
    /// Several runs of one resource count separately, so `origin_tasks` can be shorter.
    pub origins: u64,
    /// Unfinished operations in the family (`origins` × shape length).
    pub pending: u64,
    /// Task indices of the origins, where they are tasks of the capture, ascending.
    pub origin_tasks: Vec<u32>,
    /// Task indices of the unfinished operations, ascending.
    pub tasks: Vec<u32>,
}

/// Spans begun and never ended on threads of one name kind, with one span stack.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenSpans {
    /// Thread name kind (see [`name_kind`]).
    pub thread_kind: String,
    /// Span name.
    pub name: String,
    /// The span's stack (its name and the names of the spans it is nested in).
    pub stack: StackId,
    /// How many.
    pub count: u64,
    /// Interval indices, ascending.
    pub intervals: Vec<u32>,
}

/// How one thread (or task lane) lived.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    /// Task index.
    pub task: u32,
    /// Its name.
    pub name: String,
    /// Its name kind (see [`name_kind`]).
    pub kind: String,
    /// First and last activity (start of its first span, end of its last).
    pub first_ns: i64,
    /// Last activity.
    pub last_ns: i64,
    /// Top-level spans: how many, and how long in total.
    pub top_level_spans: u32,
    /// Time covered by top-level spans.
    pub top_level_ns: i64,
    /// Lifetime not covered by any span: a coroutine suspended between its slices, or a
    /// thread between tasks.
    pub suspended_ns: i64,
    /// Longest gap between two top-level spans.
    pub longest_gap_ns: i64,
    /// Time spent waiting: stretches of at least [`BLOCKING_CALL_NS`] inside a span with
    /// nothing nested in them (a whole leaf call, or a span between its children).
    pub blocked_ns: i64,
    /// The span holding the longest such stretch (interval index); its stack is the
    /// blocking call chain.
    pub longest_block: Option<u32>,
    /// Spans begun and never ended on this lane.
    pub open_spans: u32,
    /// Whether its last activity falls in the final [`ALIVE_AT_END_SHARE`] of the capture,
    /// or it has a span that never ended.
    pub alive_at_end: bool,
    /// The lane of the same process that was cancelling asyncio tasks or joining a thread
    /// when this one was last active, and the stack of that cancel or join.
    pub ended_under: Option<(u32, StackId)>,
    /// Another lane was inside asyncio's `_cancel_all_tasks` then: the task was still
    /// pending when the event loop shut down and was cancelled by it.
    pub cancelled_at_shutdown: bool,
    /// Another lane was inside a `join` (`Thread.join`) then: the thread ended when another
    /// waited for it, typically at exit.
    pub ended_when_joined: bool,
}

impl Lane {
    /// Lifetime from first to last activity.
    pub fn lifetime_ns(&self) -> i64 {
        self.last_ns - self.first_ns
    }

    /// Share of the lifetime spent in blocking calls.
    pub fn blocked_share(&self) -> f64 {
        let life = self.lifetime_ns();
        if life <= 0 { 0.0 } else { self.blocked_ns as f64 / life as f64 }
    }
}

/// All facts of one capture.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AsyncFacts {
    /// Unfinished async operations by (name, category), largest first.
    pub never_ended: Vec<NeverEnded>,
    /// Unfinished async_hooks resources by origin shape, largest first.
    pub origin_families: Vec<OriginFamily>,
    /// `B` without `E`, by (thread kind, span stack), largest first.
    pub open_spans: Vec<OpenSpans>,
    /// Every thread lane, in task order.
    pub lanes: Vec<Lane>,
}

/// A thread name with its numbers replaced, so that `audit-57`, `handler_3`, `Task-62` and
/// `job-3-1` read as `audit-N`, `handler-N`, `Task-N` and `job-N-N`: lanes of one kind group
/// together.
pub fn name_kind(name: &str) -> String {
    // Numbers that stand alone (after a separator or at the start, before a separator or
    // at the end) are ids; digits inside a word (`V8`, `x86`) are part of the name.
    let bytes = name.as_bytes();
    let is_sep = |b: u8| matches!(b, b'-' | b'_' | b' ' | b'#' | b'.' | b'/' | b':');
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < bytes.len() {
        let run_end =
            (i..bytes.len()).find(|&j| !bytes.get(j).is_some_and(u8::is_ascii_digit)).unwrap_or(bytes.len());
        let before = i.checked_sub(1).and_then(|p| bytes.get(p)).copied();
        let after = bytes.get(run_end).copied();
        let standalone = run_end > i && before.is_none_or(is_sep) && after.is_none_or(is_sep);
        if standalone && i > 0 {
            if before.is_some() {
                out.pop();
                out.push('-');
            }
            out.push('N');
            i = run_end;
            continue;
        }
        let c = name.get(i..).and_then(|r| r.chars().next()).unwrap_or('\u{fffd}');
        out.push(c);
        i += c.len_utf8().max(1);
    }
    if out.ends_with('-') || out.is_empty() { name.to_owned() } else { out }
}

/// Computes the facts of a capture. Captures without async tasks or threads give empty lists.
pub fn async_facts(capture: &Capture) -> AsyncFacts {
    AsyncFacts {
        never_ended: never_ended(capture),
        origin_families: origin_families(capture),
        open_spans: open_spans(capture),
        lanes: lanes(capture),
    }
}

fn never_ended(cap: &Capture) -> Vec<NeverEnded> {
    let mut groups: HashMap<(StrId, StrId, AsyncKind), NeverEnded> = HashMap::new();
    let mut ended: HashMap<(StrId, StrId, AsyncKind), u64> = HashMap::new();
    let mut stacks: HashMap<(StrId, StrId, AsyncKind), HashMap<StackId, u64>> = HashMap::new();
    for (i, t) in cap.tasks.enumerate() {
        if t.kind != TaskKind::AsyncTask {
            continue;
        }
        let detail = cap.chrome().task_details.get(i);
        let category = detail.map_or(StrId::EMPTY, |d| d.category);
        let kind = detail.and_then(|d| d.async_kind).unwrap_or(AsyncKind::Nestable);
        let key = (t.name, category, kind);
        if !t.flags.contains(TaskFlags::NEVER_ENDED) {
            *ended.entry(key).or_insert(0) += 1;
            continue;
        }
        let start = t.start_ns.get().unwrap_or(0);
        let g = groups.entry(key).or_insert_with(|| NeverEnded {
            name: cap.str(t.name).to_owned(),
            category: cap.str(category).to_owned(),
            kind,
            count: 0,
            ended: 0,
            tasks: Vec::new(),
            began_ns: (start, start),
            creating_stacks: Vec::new(),
        });
        g.count += 1;
        g.tasks.push(i as u32);
        g.began_ns = (g.began_ns.0.min(start), g.began_ns.1.max(start));
        *stacks.entry(key).or_default().entry(t.stack).or_insert(0) += 1;
    }
    let mut out: Vec<NeverEnded> = groups
        .into_iter()
        .map(|(key, mut g)| {
            g.ended = ended.get(&key).copied().unwrap_or(0);
            let mut s: Vec<(StackId, u64)> = stacks.remove(&key).unwrap_or_default().into_iter().collect();
            s.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            g.creating_stacks = s;
            g
        })
        .collect();
    out.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)).then(a.category.cmp(&b.category))
    });
    out
}

/// An origin being collected: its task, its name, and its unfinished operations as
/// (name, chain length, task index).
type OriginEntry = (Option<u32>, String, Vec<(String, u32, u32)>);

/// Depth rows of one task: (depth, interval index range).
type Rows = Vec<(u16, std::ops::Range<usize>)>;

/// A lane and the stack it was in at some moment.
type LaneAt = (u32, StackId);

/// An origin: its async id and, where the trace saw it begin, its task index.
type Origin = (u64, Option<u32>);

/// Longest creation chain followed; a longer one is a cycle in damaged input.
const MAX_CHAIN: usize = 100_000;

fn origin_families(cap: &Capture) -> Vec<OriginFamily> {
    // Async tasks by their id, for following `parent_id` (Node's triggerAsyncId). Only
    // captures whose async tasks carry triggers have origins.
    let mut by_id: HashMap<u64, u32> = HashMap::new();
    let mut any_trigger = false;
    for (i, t) in cap.tasks.enumerate() {
        if t.kind == TaskKind::AsyncTask {
            by_id.entry(t.id).or_insert(i as u32);
            any_trigger |= t.parent_id.is_some();
        }
    }
    if !any_trigger {
        return Vec::new();
    }
    // (origin id, callback run, operation name) -> (origin task, origin name, members). Each
    // operation type gets its own families: a request that left a promise and a timer
    // pending counts once among the promise leaks and once among the timer leaks.
    let mut origins: HashMap<(u64, Option<usize>, StrId), OriginEntry> = HashMap::new();
    // Per task on a chain already walked: its origin, the top of its same-type chain, and its
    // distance to the origin, so that a long chain is walked once, not once per member.
    let mut memo: HashMap<usize, (Origin, usize, u32)> = HashMap::new();
    for (i, t) in cap.tasks.enumerate() {
        if t.kind != TaskKind::AsyncTask || !t.flags.contains(TaskFlags::NEVER_ENDED) {
            continue;
        }
        let mut path: Vec<usize> = vec![i];
        let (origin, top_same, extra) = loop {
            let cur = path.last().copied().unwrap_or(i);
            if let Some(&known) = memo.get(&cur) {
                break known;
            }
            let Some(parent) = cap.tasks.get(cur).and_then(|c| c.parent_id.get()) else {
                // The chain ends in a resource of the op's own type that names no trigger:
                // that resource started the work.
                let id = cap.tasks.get(cur).map_or(t.id, |o| o.id);
                break ((id, Some(cur as u32)), cur, 0);
            };
            match by_id.get(&parent).map(|&p| (p, cap.tasks.get(p as usize))) {
                Some((p, Some(pt))) if pt.name == t.name && path.len() < MAX_CHAIN => path.push(p as usize),
                Some((p, _)) => break ((parent, Some(p)), cur, 1),
                None => break ((parent, None), cur, 1),
            }
        };
        let links = path.len() as u32 - 1;
        for (k, &node) in path.iter().enumerate() {
            memo.insert(node, (origin, top_same, links - k as u32 + extra));
        }
        let depth = links + extra;
        // A resource that runs its callback many times (a keep-alive connection's parser
        // serving request after request) starts a separate piece of work between runs: the
        // stretch in which the chain began is the origin.
        let began = cap.tasks.get(top_same).and_then(|o| o.start_ns.get());
        let run = origin.1.zip(began).and_then(|(o, ts)| callback_run(cap, o as usize, ts));
        let entry = origins.entry((origin.0, run, t.name)).or_insert_with(|| {
            let name = origin
                .1
                .and_then(|o| cap.tasks.get(o as usize))
                .map_or_else(|| "(outside the trace)".to_owned(), |o| cap.str(o.name).to_owned());
            (origin.1, name, Vec::new())
        });
        entry.2.push((cap.str(t.name).to_owned(), depth, i as u32));
    }
    let mut families: HashMap<(String, Vec<(String, u32)>), OriginFamily> = HashMap::new();
    for (_, (task, name, members)) in origins {
        let mut shape: Vec<(String, u32)> = members.iter().map(|m| (m.0.clone(), m.1)).collect();
        shape.sort();
        let f = families.entry((name.clone(), shape.clone())).or_insert_with(|| OriginFamily {
            origin_name: name,
            shape,
            origins: 0,
            pending: 0,
            origin_tasks: Vec::new(),
            tasks: Vec::new(),
        });
        f.origins += 1;
        f.pending += members.len() as u64;
        f.origin_tasks.extend(task);
        f.tasks.extend(members.iter().map(|m| m.2));
    }
    let mut out: Vec<OriginFamily> = families
        .into_values()
        .map(|mut f| {
            f.origin_tasks.sort_unstable();
            f.origin_tasks.dedup();
            f.tasks.sort_unstable();
            f
        })
        .collect();
    out.sort_by(|a, b| {
        b.origins
            .cmp(&a.origins)
            .then_with(|| a.origin_name.cmp(&b.origin_name))
            .then_with(|| a.shape.cmp(&b.shape))
    });
    out
}

/// Which stretch of async task `task`'s life `ts_ns` falls in, counting the callback runs
/// (nested intervals at depth 1, Node's `*_CALLBACK`) that ended before it. A keep-alive
/// connection's parser runs one callback per request and the work of request n begins after
/// the callback of request n - 1 ended, so each stretch is one request.
fn callback_run(cap: &Capture, task: usize, ts_ns: i64) -> Option<usize> {
    let range = cap.tasks.get(task)?.intervals.indices();
    let iv = &cap.intervals;
    // Rows are sorted by depth, and one row's intervals do not overlap: their ends ascend.
    let first = iv.partition_point(range.clone(), |i| iv.depth(i) < 1);
    let last = iv.partition_point(range, |i| iv.depth(i) <= 1);
    Some(iv.partition_point(first..last, |i| iv.end(i) <= ts_ns) - first)
}

fn open_spans(cap: &Capture) -> Vec<OpenSpans> {
    let mut groups: HashMap<(String, StackId), OpenSpans> = HashMap::new();
    for t in cap.tasks.iter().filter(|t| t.flags.contains(TaskFlags::OPEN_SPAN)) {
        let range = t.intervals.indices();
        let first = cap.chrome().open_spans.partition_point(|&iv| (iv as usize) < range.start);
        let thread_kind = name_kind(cap.str(t.name));
        for &iv in cap.chrome().open_spans.get(first..).unwrap_or_default() {
            if !range.contains(&(iv as usize)) {
                break;
            }
            let stack = cap.intervals.stack(iv as usize);
            let name = cap.str(cap.intervals.label(iv as usize)).to_owned();
            let g = groups.entry((thread_kind.clone(), stack)).or_insert_with(|| OpenSpans {
                thread_kind: thread_kind.clone(),
                name,
                stack,
                count: 0,
                intervals: Vec::new(),
            });
            g.count += 1;
            g.intervals.push(iv);
        }
    }
    let mut out: Vec<OpenSpans> = groups.into_values().collect();
    out.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| a.thread_kind.cmp(&b.thread_kind)).then(a.name.cmp(&b.name))
    });
    out
}

/// Depth rows of one task's intervals: (depth, index range).
fn rows(cap: &Capture, task: usize) -> Rows {
    let Some(t) = cap.tasks.get(task) else { return Vec::new() };
    let range = t.intervals.indices();
    let iv = &cap.intervals;
    let mut out = Vec::new();
    let mut i = range.start;
    while i < range.end {
        let d = iv.depth(i);
        let n = (iv.partition_point(i..range.end, |k| iv.depth(k) == d) - i).max(1);
        out.push((d, i..i + n));
        i += n;
    }
    out
}

/// The last activity of a thread lane: the end of its last span, or the start of a span
/// that never ended.
fn last_activity(cap: &Capture, task: usize) -> Option<i64> {
    let t = cap.tasks.get(task)?;
    t.intervals
        .indices()
        .filter(|&i| cap.intervals.kind(i) == IntervalKind::Span)
        .map(|i| {
            if cap.chrome().open_spans.binary_search(&(i as u32)).is_ok() {
                cap.intervals.start(i)
            } else {
                cap.intervals.end(i)
            }
        })
        .max()
}

/// Per thread lane, the lane (and its stack there) that was cancelling asyncio tasks or
/// joining a thread when this lane was last active, found in one sweep over time: the
/// cancelling and joining spans are few, lanes can be tens of thousands.
fn ended_by(
    cap: &Capture,
    lanes: &[(usize, Rows)],
    process_of: &dyn Fn(usize) -> Option<u32>,
) -> HashMap<usize, (Option<LaneAt>, Option<LaneAt>)> {
    // (start, end, lane, stack, cancels?) of every span that cancels tasks or joins a thread.
    let mut special: Vec<(i64, i64, usize, StackId, bool)> = Vec::new();
    // (cancels?, joins?) by label index, read once a name: a trace repeats a few thousand
    // names in hundreds of thousands of spans, nearly all neither, whose intervals are then
    // not read whole.
    let mut kinds: Vec<Option<(bool, bool)>> = vec![None; cap.strings.len()];
    for (task, _) in lanes {
        let Some(t) = cap.tasks.get(*task) else { continue };
        for i in t.intervals.indices() {
            let label = cap.intervals.label(i);
            let (cancels, joins) = match kinds.get_mut(label.index()) {
                Some(Some(kind)) => *kind,
                slot => {
                    let text = cap.str(label);
                    let cancels = text.starts_with("_cancel_all_tasks");
                    let kind = (cancels, !cancels && is_join(text));
                    if let Some(slot) = slot {
                        *slot = Some(kind);
                    }
                    kind
                }
            };
            if !cancels && !joins {
                continue;
            }
            let Some(iv) = cap.intervals.get(i) else { continue };
            special.push((iv.start_ns, iv.end_ns, *task, iv.stack, cancels));
        }
    }
    special.sort_by_key(|s| (s.0, s.2));
    let mut order: Vec<(i64, usize)> =
        lanes.iter().filter_map(|(task, _)| Some((last_activity(cap, *task)?, *task))).collect();
    order.sort_unstable();
    let mut out = HashMap::new();
    let mut next = 0;
    let mut active: Vec<(i64, i64, usize, StackId, bool)> = Vec::new();
    for (at, task) in order {
        while let Some(&s) = special.get(next)
            && s.0 <= at
        {
            active.push(s);
            next += 1;
        }
        active.retain(|s| s.1 >= at);
        let pick = |cancels: bool| {
            active
                .iter()
                .filter(|s| s.4 == cancels && s.2 != task && process_of(s.2) == process_of(task))
                .min_by_key(|s| s.2)
                .map(|s| (s.2 as u32, s.3))
        };
        out.insert(task, (pick(true), pick(false)));
    }
    out
}

/// A function that waits for a thread to end: `Thread.join (file:line)`,
/// `std::thread::JoinHandle::join`, `pthread_join`.
fn is_join(func: &str) -> bool {
    let base = func.split(" (").next().unwrap_or(func);
    let last = base.rsplit(['.', ':']).next().unwrap_or(base);
    last == "join" || last.ends_with("_join")
}

fn lanes(cap: &Capture) -> Vec<Lane> {
    let (capture_start, capture_end) = cap.time_range_ns.unwrap_or((0, 0));
    let tail = ((capture_end - capture_start) as f64 * ALIVE_AT_END_SHARE) as i64;
    let thread_rows: Vec<(usize, Rows)> = cap
        .tasks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == TaskKind::Thread)
        .map(|(i, _)| (i, rows(cap, i)))
        .collect();
    let process_of = |task: usize| cap.chrome().task_details.get(task).and_then(|d| d.process);
    let ended_by = ended_by(cap, &thread_rows, &process_of);
    // Lanes are read alone, in parallel: a profiler's trace has hundreds of thousands of spans
    // on a few threads.
    let lane = |(task, rows): &(usize, Rows)| {
        let t = cap.tasks.get(*task)?;
        let spans: Vec<usize> =
            t.intervals.indices().filter(|&i| cap.intervals.kind(i) == IntervalKind::Span).collect();
        if spans.is_empty() {
            return None;
        }
        let start = |i: usize| cap.intervals.start(i);
        let end = |i: usize| cap.intervals.end(i);
        let first_ns = spans.iter().map(|&i| start(i)).min().unwrap_or(0);
        let open: Vec<usize> = spans
            .iter()
            .copied()
            .filter(|&i| cap.chrome().open_spans.binary_search(&(i as u32)).is_ok())
            .collect();
        // An open span is drawn to the end of the capture; the lane's own activity ends at
        // its last closed span or the open span's start.
        let last_ns = spans
            .iter()
            .map(|&i| if open.contains(&i) { start(i) } else { end(i) })
            .max()
            .unwrap_or(first_ns);
        let top: Vec<usize> = rows.first().map(|(_, r)| r.clone().collect()).unwrap_or_default();
        let top_level_ns: i64 = top.iter().map(|&i| end(i).min(last_ns.max(start(i))) - start(i)).sum();
        let longest_gap_ns = top
            .windows(2)
            .filter_map(|w| Some(start(*w.get(1)?) - end(*w.first()?)))
            .max()
            .unwrap_or(0)
            .max(0);
        // Waits: stretches of at least BLOCKING_CALL_NS inside one span with no span nested in
        // them (a whole leaf, or the time a span spends between its children: a tracer that
        // skips C functions shows `Condition.wait` waiting between its Python callees).
        let mut blocked_ns = 0;
        let mut longest: Option<(i64, u32)> = None;
        for (k, (_, row)) in rows.iter().enumerate() {
            let deeper = rows.get(k + 1).map(|(_, r)| r.clone()).unwrap_or(0..0);
            for i in row.clone() {
                if end(i) - start(i) < BLOCKING_CALL_NS || open.contains(&i) {
                    continue;
                }
                let first = cap.intervals.partition_point(deeper.clone(), |c| start(c) < start(i));
                let mut at = start(i);
                let mut waits = 0;
                let mut widest = 0;
                for c in first..deeper.end {
                    if start(c) >= end(i) {
                        break;
                    }
                    let gap = start(c) - at;
                    if gap >= BLOCKING_CALL_NS {
                        waits += gap;
                        widest = widest.max(gap);
                    }
                    at = at.max(end(c));
                }
                let gap = end(i) - at;
                if gap >= BLOCKING_CALL_NS {
                    waits += gap;
                    widest = widest.max(gap);
                }
                blocked_ns += waits;
                if widest > 0 && longest.is_none_or(|(d, _)| widest > d) {
                    longest = Some((widest, i as u32));
                }
            }
        }
        let (cancelling, joining) = ended_by.get(task).copied().unwrap_or((None, None));
        let ended_under = cancelling.or(joining);
        let name = cap.str(t.name).to_owned();
        Some(Lane {
            task: *task as u32,
            kind: name_kind(&name),
            name,
            first_ns,
            last_ns,
            top_level_spans: top.len() as u32,
            top_level_ns,
            suspended_ns: (last_ns - first_ns - top_level_ns).max(0),
            longest_gap_ns,
            blocked_ns,
            longest_block: longest.map(|(_, i)| i),
            open_spans: open.len() as u32,
            alive_at_end: !open.is_empty() || last_ns >= capture_end - tail,
            ended_under,
            cancelled_at_shutdown: cancelling.is_some(),
            ended_when_joined: joining.is_some(),
        })
    };
    thread_rows.par_iter().filter_map(lane).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_kinds() {
        assert_eq!(name_kind("audit-57"), "audit-N");
        assert_eq!(name_kind("handler_3"), "handler-N");
        assert_eq!(name_kind("Task-62"), "Task-N");
        assert_eq!(name_kind("watch_cancel-40"), "watch_cancel-N");
        assert_eq!(name_kind("MainThread"), "MainThread");
        assert_eq!(name_kind("worker7"), "worker7");
        assert_eq!(name_kind("job-0-1"), "job-N-N");
        assert_eq!(name_kind("V8.Worker 3"), "V8.Worker-N");
        assert_eq!(name_kind("1234"), "1234");
        assert_eq!(name_kind(""), "");
    }
}
