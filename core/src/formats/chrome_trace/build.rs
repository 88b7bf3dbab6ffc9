//! Merging the chunks of an event array into one capture: strings interned once, events
//! gathered per thread and turned into nested spans (threads in parallel), async operations
//! matched on (category, id, scope), flows linked, counters and samples collected.

use crate::model::{OptId, OptNs};
use std::fmt::Write as _;
use std::ops::Range;

use hashbrown::HashMap;
use rayon::prelude::*;

use super::chunk::{AsyncEv, ChunkOut, MetaKind, MetaValue, ThreadEv};
use super::event::RawId;
use crate::model::{
    AsyncKind, Capture, Counter, EventRef, EventStats, Frame, FrameId, Interval, IntervalKind, IntervalRange,
    IntervalsBuilder, Link, LinkKind, Mark, Process, StackId, StrId, Task, TaskDetail, TaskFlags, TaskKind,
};

/// Marks "no parent" in span and node indices.
const NONE: u32 = u32::MAX;

/// Numbers the parse found worth a warning.
#[derive(Default)]
struct Anomalies {
    e_without_b: u64,
    clamped: u64,
    too_deep: u64,
    async_end_without_begin: u64,
    async_mismatched: u64,
    async_instant_outside: u64,
    flows_unbound: u64,
}

/// A span of one thread before it joins the capture.
#[derive(Clone, Copy)]
struct Span {
    start_ns: i64,
    end_ns: i64,
    name: StrId,
    node: u32,
    event: EventRef,
    depth: u16,
    open: bool,
    is_b: bool,
}

/// One thread's spans, built on a worker thread.
#[derive(Default)]
struct ThreadSpans {
    /// In start order (parents before children).
    spans: Vec<Span>,
    /// Local stack tree: (parent node, name) per node.
    nodes: Vec<(u32, StrId)>,
    marks: Vec<(i64, StrId, EventRef)>,
    e_without_b: u64,
    clamped: u64,
    too_deep: u64,
}

/// One thread's spans as interval columns in (depth, start) order, built on a worker.
#[derive(Default)]
struct ThreadColumns {
    start_ns: Vec<i64>,
    end_ns: Vec<i64>,
    label: Vec<StrId>,
    depth: Vec<u16>,
    event: Vec<EventRef>,
    /// Local stack node per span (its name under its caller's node).
    node: Vec<u32>,
    nodes: Vec<(u32, StrId)>,
    /// Positions (in these columns) of spans never ended.
    open: Vec<u32>,
    marks: Vec<(i64, StrId, EventRef)>,
    e_without_b: u64,
    clamped: u64,
    too_deep: u64,
}

impl From<ThreadSpans> for ThreadColumns {
    fn from(t: ThreadSpans) -> Self {
        let order = depth_order(&t.spans);
        let n = order.len();
        let mut c = ThreadColumns {
            start_ns: Vec::with_capacity(n),
            end_ns: Vec::with_capacity(n),
            label: Vec::with_capacity(n),
            depth: Vec::with_capacity(n),
            event: Vec::with_capacity(n),
            node: Vec::with_capacity(n),
            nodes: t.nodes,
            marks: t.marks,
            e_without_b: t.e_without_b,
            clamped: t.clamped,
            too_deep: t.too_deep,
            ..ThreadColumns::default()
        };
        for i in order {
            let Some(s) = t.spans.get(i as usize) else { continue };
            if s.open {
                c.open.push(c.start_ns.len() as u32);
            }
            c.start_ns.push(s.start_ns);
            c.end_ns.push(s.end_ns.max(s.start_ns));
            c.label.push(s.name);
            c.depth.push(s.depth);
            c.event.push(s.event);
            c.node.push(s.node);
        }
        c
    }
}

/// A thread across chunks.
struct GThread {
    pid: u64,
    tid: u64,
    tid_text: String,
    parts: Vec<(usize, usize)>,
    name: Option<String>,
    sort_index: Option<i64>,
}

/// Merges `chunks` (in input order) into `cap`.
pub(super) fn build(
    bytes: &[u8],
    cap: &mut Capture,
    mut chunks: Vec<ChunkOut<'_>>,
    top: &super::samples::Top,
    progress: &crate::input::Progress,
) {
    let maps: Vec<Vec<StrId>> = chunks
        .iter()
        .map(|ch| ch.strings.list.iter().map(|s| cap.strings.intern(&s.text())).collect())
        .collect();
    let global = |chunk: usize, local: u32| -> StrId {
        maps.get(chunk).and_then(|m| m.get(local as usize)).copied().unwrap_or(StrId::EMPTY)
    };
    stats(cap, &chunks, &global);

    // Threads, in order of first appearance.
    let mut index: HashMap<(u64, u64), usize> = HashMap::new();
    let mut threads: Vec<GThread> = Vec::new();
    for (ci, ch) in chunks.iter().enumerate() {
        for (li, t) in ch.threads.iter().enumerate() {
            let g = *index.entry((t.pid, t.tid)).or_insert_with(|| {
                threads.push(GThread {
                    pid: t.pid,
                    tid: t.tid,
                    tid_text: id_text(t.tid_raw),
                    parts: Vec::new(),
                    name: None,
                    sort_index: None,
                });
                threads.len() - 1
            });
            if let Some(gt) = threads.get_mut(g) {
                gt.parts.push((ci, li));
            }
        }
    }
    let mut processes: Vec<Process> = Vec::new();
    let mut process_index: HashMap<u64, u32> = HashMap::new();
    for t in &threads {
        process_of(&mut processes, &mut process_index, t.pid);
    }
    for ch in &chunks {
        for m in &ch.metas {
            match (m.kind, &m.value) {
                (MetaKind::ThreadName, MetaValue::Text(s)) => {
                    if let Some(t) = index.get(&(m.pid, m.tid)).and_then(|&g| threads.get_mut(g)) {
                        t.name = Some(s.clone());
                    }
                }
                (MetaKind::ThreadSortIndex, MetaValue::Index(v)) => {
                    if let Some(t) = index.get(&(m.pid, m.tid)).and_then(|&g| threads.get_mut(g)) {
                        t.sort_index = Some(*v);
                    }
                }
                (MetaKind::ProcessName | MetaKind::ProcessLabels, MetaValue::Text(s)) => {
                    let p = process_of(&mut processes, &mut process_index, m.pid);
                    let id = cap.strings.intern(s);
                    if let Some(p) = processes.get_mut(p as usize) {
                        if m.kind == MetaKind::ProcessName {
                            p.name = id;
                        } else {
                            p.labels = id;
                        }
                    }
                }
                (MetaKind::ProcessSortIndex, MetaValue::Index(v)) => {
                    let p = process_of(&mut processes, &mut process_index, m.pid);
                    if let Some(p) = processes.get_mut(p as usize) {
                        p.sort_index = Some(*v);
                    }
                }
                _ => {}
            }
        }
    }

    // Spans per thread, in parallel. Each thread's events are moved (not copied) out of the
    // chunks, joined, ordered and nested on a worker, which hands back finished columns.
    let trace_end = cap.time_range_ns.map_or(0, |(_, hi)| hi);
    let parts: Vec<Vec<(usize, Vec<ThreadEv>)>> = threads
        .iter()
        .map(|t| {
            t.parts
                .iter()
                .filter_map(|&(ci, li)| {
                    let local = chunks.get_mut(ci)?.threads.get_mut(li)?;
                    Some((ci, std::mem::take(&mut local.events)))
                })
                .collect()
        })
        .collect();
    let maps_ref = &maps;
    let built: Vec<ThreadColumns> = parts
        .into_par_iter()
        .map(|parts| {
            let total: usize = parts.iter().map(|p| p.1.len()).sum();
            let global = |ci: usize, mut e: ThreadEv| {
                let map = maps_ref.get(ci).map_or(&[][..], Vec::as_slice);
                e.name = map.get(e.name as usize).map_or(0, |s| s.index() as u32);
                e
            };
            // The first part's events grow into the thread's: a new buffer for all of them
            // would be pages the kernel must hand out afresh (2 ms of 160k events).
            let mut parts = parts.into_iter();
            let mut evs: Vec<ThreadEv> = match parts.next() {
                Some((ci, mut events)) => {
                    for e in &mut events {
                        *e = global(ci, *e);
                    }
                    events
                }
                None => Vec::new(),
            };
            evs.reserve_exact(total - evs.len());
            for (ci, events) in parts {
                evs.extend(events.into_iter().map(|e| global(ci, e)));
            }
            ThreadColumns::from(thread_spans(evs, trace_end))
        })
        .collect();

    // A cancel during the merge stops here; the caller turns it into an error.
    if progress.is_cancelled() {
        return;
    }
    // Stacks are interned once per distinct (parent, name) node, in thread order.
    let mut frame_cache: HashMap<StrId, FrameId> = HashMap::new();
    let mut stack_cache: HashMap<(StackId, FrameId), StackId> = HashMap::new();
    let node_stacks: Vec<Vec<StackId>> =
        built.iter().map(|b| intern_nodes(cap, &b.nodes, &mut frame_cache, &mut stack_cache)).collect();

    let mut anomalies = Anomalies::default();
    let total_spans: usize = built.iter().map(|b| b.start_ns.len()).sum();
    let async_events: usize = chunks.iter().map(|c| c.asyncs.len()).sum();
    let mut iv = IntervalsBuilder::new(cap.time_range_ns.map_or(0, |(lo, _)| lo));
    iv.reserve_exact(total_spans + async_events);
    // Every span is given its end (async operations may be too): grown as they come, the
    // ends were copied a dozen times over (12 MB of copies on a 45 MB trace).
    iv.reserve_ends(total_spans + async_events);
    cap.chrome_mut().interval_events.reserve_exact(total_spans + async_events);
    for ((t, b), stacks) in threads.iter().zip(built).zip(&node_stacks) {
        let task_index = cap.tasks.len() as u32;
        let name = cap.strings.intern(t.name.as_deref().unwrap_or(&t.tid_text));
        let first = iv.len() as u32;
        anomalies.e_without_b += b.e_without_b;
        anomalies.clamped += b.clamped;
        anomalies.too_deep += b.too_deep;
        let mut flags = TaskFlags::EXISTED_BEFORE;
        if !b.open.is_empty() {
            flags |= TaskFlags::OPEN_SPAN;
        }
        cap.chrome_mut().open_spans.extend(b.open.iter().map(|&i| first + i));
        let n = b.start_ns.len();
        // A span's look is its node's: the node is its name under its caller's node, so it
        // fixes the label, the stack and the depth. Each node's look is found once.
        let mut node_style = vec![u32::MAX; b.nodes.len()];
        let rows = b.start_ns.iter().zip(&b.end_ns).zip(&b.node).zip(b.label.iter().zip(&b.depth));
        for (((&start_ns, &end_ns), &node), (&label, &depth)) in rows {
            let style = match node_style.get_mut(node as usize) {
                Some(s) if *s != u32::MAX => *s,
                slot => {
                    let stack = stacks.get(node as usize).copied().unwrap_or_default();
                    let s = iv.style_id(IntervalKind::Span, label, stack, depth);
                    if let Some(slot) = slot {
                        *slot = s;
                    }
                    s
                }
            };
            let i = iv.push_styled(start_ns, style);
            iv.set_end(i, end_ns.max(start_ns));
        }
        cap.chrome_mut().interval_events.extend_from_slice(&b.event);
        for (time_ns, name, event) in b.marks {
            cap.chrome_mut().marks.push(Mark { task: task_index, time_ns, name, event });
        }
        // A thread is a lane of work, not something that waits: said so, rather than "other".
        let state = cap.strings.intern("thread");
        cap.tasks.push(Task {
            id: t.tid,
            kind: TaskKind::Thread,
            name,
            state,
            flags,
            intervals: IntervalRange { start: first, len: n as u32 },
            ..Task::default()
        });
        cap.chrome_mut().task_details.push(TaskDetail {
            process: process_index.get(&t.pid).copied(),
            sort_index: t.sort_index,
            ..TaskDetail::default()
        });
    }
    cap.chrome_mut().processes = processes;
    cap.intervals = iv.finish();

    let thread_task = |pid: u64, tid: u64| index.get(&(pid, tid)).map(|&g| g as u32);
    let rows = TaskRows::new(cap);
    asyncs(cap, &mut chunks, &global, &thread_task, &rows, &process_index, &mut anomalies);
    flows(cap, &chunks, &global, &thread_task, &rows, &mut anomalies);
    counters(cap, &chunks, &global);
    cap.chrome_mut().marks.sort_by_key(|m| (m.task, m.time_ns));
    super::samples::collect(bytes, cap, &chunks, &global, &thread_task, top);
    warn_anomalies(cap, &anomalies);
}

fn id_text(id: RawId<'_>) -> String {
    match id {
        RawId::None => String::new(),
        RawId::Num(raw) => String::from_utf8_lossy(raw).into_owned(),
        RawId::Str(s) => s.text().into_owned(),
    }
}

fn process_of(processes: &mut Vec<Process>, index: &mut HashMap<u64, u32>, pid: u64) -> u32 {
    *index.entry(pid).or_insert_with(|| {
        processes.push(Process { pid, ..Process::default() });
        processes.len() as u32 - 1
    })
}

fn stats(cap: &mut Capture, chunks: &[ChunkOut<'_>], global: &impl Fn(usize, u32) -> StrId) {
    let mut phases = [0u64; 128];
    let mut categories: HashMap<StrId, u64> = HashMap::new();
    let mut stats = EventStats::default();
    let mut unknown = 0u64;
    let mut time: Option<(i64, i64)> = None;
    for (ci, ch) in chunks.iter().enumerate() {
        stats.events += ch.events;
        stats.skipped += ch.missing_ts + ch.bad;
        for (p, n) in phases.iter_mut().zip(&ch.phases) {
            *p += n;
        }
        for (local, &n) in ch.categories.iter().enumerate() {
            if n > 0 {
                *categories.entry(global(ci, local as u32)).or_insert(0) += n;
            }
        }
        for (offset, message) in &ch.warnings {
            cap.warnings.at_offset(*offset as u64, message.clone());
        }
        cap.source.truncated |= ch.cut_off;
        if let Some((lo, hi)) = ch.time_ns {
            time = Some(time.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        if ch.missing_ts > 0 {
            cap.warnings.general(format!("{} events without a timestamp skipped", ch.missing_ts));
        }
    }
    for (ph, &n) in phases.iter().enumerate() {
        if n == 0 {
            continue;
        }
        let ph = ph as u8;
        if !super::chunk::is_known_phase(ph) {
            unknown += n;
            cap.warnings.general(format!("{n} events of unknown phase {} skipped", describe_phase(ph)));
        }
        stats.by_kind.push((describe_phase(ph), n));
    }
    stats.skipped += unknown;
    stats.by_kind.sort();
    stats.by_category = categories.into_iter().map(|(id, n)| (cap.str(id).to_owned(), n)).collect();
    stats.by_category.sort();
    cap.chrome_mut().event_stats = stats;
    cap.time_range_ns = time;
    cap.source.duration_ns = time.map(|(lo, hi)| hi - lo);
}

fn describe_phase(ph: u8) -> String {
    match ph {
        0 => "(none)".to_owned(),
        b if b.is_ascii_graphic() => char::from(b).to_string(),
        b => format!("0x{b:02x}"),
    }
}

/// Sorts a thread's events by time the way trace viewers do: by timestamp, input order
/// breaking ties, except that `X` events starting together go longest first (the parent
/// before its children).
fn order_events(evs: &mut [ThreadEv]) {
    if !evs.windows(2).all(|w| w.first().map(|e| e.ts_ns) <= w.get(1).map(|e| e.ts_ns)) {
        if evs.iter().any(|e| e.event == EventRef::NONE) {
            evs.sort_by_key(|e| e.ts_ns);
        } else if from_completion_order(evs) {
            // Every time differs, so no two events tie below.
            return;
        } else {
            // The events are in input order, so their offsets break ties as a stable sort
            // would; an unstable sort needs no scratch copy of them, and was quicker.
            evs.sort_unstable_by_key(|e| (e.ts_ns, e.event.offset()));
        }
    }
    let mut i = 0;
    while i < evs.len() {
        let ts = evs.get(i).map_or(0, |e| e.ts_ns);
        let mut j = i + 1;
        while evs.get(j).is_some_and(|e| e.ts_ns == ts) {
            j += 1;
        }
        if j - i > 1
            && let Some(run) = evs.get_mut(i..j)
        {
            let xs: Vec<usize> =
                (0..run.len()).filter(|&k| run.get(k).is_some_and(|e| e.ph == b'X')).collect();
            if xs.len() > 1 {
                let mut sorted: Vec<ThreadEv> = xs.iter().filter_map(|&k| run.get(k).copied()).collect();
                sorted.sort_by_key(|e| std::cmp::Reverse(e.dur_ns));
                for (&k, e) in xs.iter().zip(sorted) {
                    if let Some(slot) = run.get_mut(k) {
                        *slot = e;
                    }
                }
            }
        }
        i = j;
    }
}

/// Puts a thread's events in time order in linear time when they were written as each one
/// ended (viztracer's `X` events: callees before their caller); false when they were not, and
/// then they are left in some order for the caller to sort.
///
/// Written so, the events are the post-order of their call tree, where each call's subtree is
/// a contiguous run ending with the call; time order is the pre-order, where the same run
/// begins with the call, so an event moves to the start of its subtree's run plus one for
/// each caller above it. The subtrees are found with a stack of the runs so far: an event
/// takes in every run that began no earlier than itself. The result counts only if its times
/// strictly increase: then it is the one order the sort by (time, input order) gives, and no
/// two events tie. Sorting the same 160k events took 4 ms.
fn from_completion_order(evs: &mut [ThreadEv]) -> bool {
    let Ok(n) = u32::try_from(evs.len()) else { return false };
    // Per event, the start of its subtree's run, and its caller (`n` for none) until that
    // becomes its depth.
    let mut place = vec![0u32; evs.len()];
    let mut up = vec![n; evs.len()];
    // Subtrees not yet taken in by a caller: (time, event).
    let mut roots: Vec<(i64, u32)> = Vec::new();
    for (i, e) in (0..n).zip(evs.iter()) {
        let mut start = i;
        while let Some(&(ts, root)) = roots.last()
            && ts >= e.ts_ns
        {
            roots.pop();
            start = place.get(root as usize).copied().unwrap_or(start);
            if let Some(c) = up.get_mut(root as usize) {
                *c = i;
            }
        }
        if let Some(p) = place.get_mut(i as usize) {
            *p = start;
        }
        roots.push((e.ts_ns, i));
    }
    // Callers come after their callees, so a walk from the last event meets each caller
    // first and has turned its entry into its depth by the time its callees look it up.
    for i in (0..evs.len()).rev() {
        let caller = up.get(i).copied().unwrap_or(n);
        let depth = if caller < n { up.get(caller as usize).map_or(0, |&d| d + 1) } else { 0 };
        if let Some(d) = up.get_mut(i) {
            *d = depth;
        }
        if let Some(p) = place.get_mut(i) {
            *p = p.saturating_add(depth);
        }
    }
    // Only a permutation can be applied in place (by following its cycles).
    let mut taken = vec![false; evs.len()];
    for &p in &place {
        match taken.get_mut(p as usize) {
            Some(t) if !*t => *t = true,
            _ => return false,
        }
    }
    for i in 0..evs.len() {
        while let Some(&to) = place.get(i)
            && to as usize != i
        {
            evs.swap(i, to as usize);
            place.swap(i, to as usize);
        }
    }
    evs.windows(2).all(|w| w.first().map(|e| e.ts_ns) < w.get(1).map(|e| e.ts_ns))
}

/// Turns one thread's `B`/`E`/`X`/instant events into nested spans.
fn thread_spans(mut evs: Vec<ThreadEv>, trace_end: i64) -> ThreadSpans {
    order_events(&mut evs);
    // Room for every span at once: grown as they come, the spans of a big thread are copied
    // over and over into pages the kernel hands out afresh.
    let spans = evs.iter().filter(|e| matches!(e.ph, b'X' | b'B')).count();
    let mut out = ThreadSpans { spans: Vec::with_capacity(spans), ..ThreadSpans::default() };
    let mut node_index: HashMap<(u32, StrId), u32> = HashMap::new();
    let mut stack: Vec<u32> = Vec::new();
    for ev in &evs {
        let name = StrId::from_index(ev.name);
        match ev.ph {
            b'X' | b'B' => {
                close_finished(&mut out.spans, &mut stack, ev.ts_ns);
                let parent = stack.last().and_then(|&p| out.spans.get(p as usize));
                let Ok(depth) = u16::try_from(stack.len()) else {
                    out.too_deep += 1;
                    continue;
                };
                let parent_node = parent.map_or(NONE, |p| p.node);
                let mut end_ns = if ev.ph == b'X' { ev.ts_ns.saturating_add(ev.dur_ns) } else { i64::MAX };
                if ev.ph == b'X'
                    && let Some(p) = parent
                    && !p.open
                    && end_ns > p.end_ns
                {
                    // Rounded microseconds often push a child a hair past its parent.
                    end_ns = p.end_ns;
                    out.clamped += 1;
                }
                let next = out.nodes.len() as u32;
                let node = *node_index.entry((parent_node, name)).or_insert(next);
                if node == next {
                    out.nodes.push((parent_node, name));
                }
                stack.push(out.spans.len() as u32);
                out.spans.push(Span {
                    start_ns: ev.ts_ns,
                    end_ns,
                    name,
                    node,
                    event: ev.event,
                    depth,
                    open: ev.ph == b'B',
                    is_b: ev.ph == b'B',
                });
            }
            b'E' => {
                close_finished(&mut out.spans, &mut stack, ev.ts_ns);
                // `X` spans still open here outlive the `B` being closed: cut them at its end.
                while let Some(&top) = stack.last() {
                    match out.spans.get_mut(top as usize) {
                        Some(s) if !s.is_b => {
                            s.end_ns = s.end_ns.min(ev.ts_ns);
                            out.clamped += 1;
                            stack.pop();
                        }
                        _ => break,
                    }
                }
                let Some(top) = stack.pop() else {
                    out.e_without_b += 1;
                    continue;
                };
                // A `B` nested in an `X` that ended first is cut at the `X`'s end.
                let parent_end = stack
                    .last()
                    .and_then(|&p| out.spans.get(p as usize))
                    .filter(|p| !p.open)
                    .map_or(i64::MAX, |p| p.end_ns);
                if let Some(s) = out.spans.get_mut(top as usize) {
                    s.end_ns = ev.ts_ns.min(parent_end).max(s.start_ns);
                    s.open = false;
                    if ev.ts_ns > parent_end {
                        out.clamped += 1;
                    }
                }
            }
            _ => out.marks.push((ev.ts_ns, name, ev.event)),
        }
    }
    for s in &mut out.spans {
        if s.open {
            s.end_ns = trace_end.max(s.start_ns);
        }
    }
    out
}

fn close_finished(spans: &mut [Span], stack: &mut Vec<u32>, ts_ns: i64) {
    while let Some(&top) = stack.last() {
        match spans.get(top as usize) {
            Some(s) if !s.open && s.end_ns <= ts_ns => {
                stack.pop();
            }
            _ => break,
        }
    }
}

/// Span indices in (depth, start) order: spans were made in start order, so a stable
/// counting sort by depth is enough.
fn depth_order(spans: &[Span]) -> Vec<u32> {
    let max_depth = spans.iter().map(|s| s.depth as usize).max().unwrap_or(0);
    let mut counts = vec![0u32; max_depth + 2];
    for s in spans {
        if let Some(c) = counts.get_mut(s.depth as usize + 1) {
            *c += 1;
        }
    }
    for d in 1..counts.len() {
        let prev = counts.get(d - 1).copied().unwrap_or(0);
        if let Some(c) = counts.get_mut(d) {
            *c += prev;
        }
    }
    let mut out = vec![0u32; spans.len()];
    for (i, s) in spans.iter().enumerate() {
        if let Some(at) = counts.get_mut(s.depth as usize) {
            if let Some(slot) = out.get_mut(*at as usize) {
                *slot = i as u32;
            }
            *at += 1;
        }
    }
    out
}

/// Interns a thread's local stack tree: each node's stack is its name on top of its
/// parent's stack.
fn intern_nodes(
    cap: &mut Capture,
    nodes: &[(u32, StrId)],
    frames: &mut HashMap<StrId, FrameId>,
    stacks: &mut HashMap<(StackId, FrameId), StackId>,
) -> Vec<StackId> {
    let mut out: Vec<StackId> = Vec::with_capacity(nodes.len());
    for &(parent, name) in nodes {
        let parent_stack = if parent == NONE {
            StackId::EMPTY
        } else {
            out.get(parent as usize).copied().unwrap_or(StackId::EMPTY)
        };
        let frame = *frames
            .entry(name)
            .or_insert_with(|| cap.tables.frame_id(Frame { func: name, ..Frame::default() }));
        let stack = *stacks.entry((parent_stack, frame)).or_insert_with(|| {
            let mut frames: Vec<FrameId> = Vec::with_capacity(cap.tables.stack(parent_stack).len() + 1);
            frames.push(frame);
            frames.extend_from_slice(cap.tables.stack(parent_stack));
            cap.tables.stack_id(&frames)
        });
        out.push(stack);
    }
    out
}

/// Per task, where each depth's row of intervals starts, to find the span open at a time.
struct TaskRows {
    rows: Vec<Vec<Range<usize>>>,
}

impl TaskRows {
    fn new(cap: &Capture) -> Self {
        let rows = cap
            .tasks
            .iter()
            .map(|t| {
                let r = t.intervals.indices();
                let iv = &cap.intervals;
                let mut rows: Vec<Range<usize>> = Vec::new();
                let mut i = r.start;
                while i < r.end {
                    let d = iv.depth(i);
                    let n = (iv.partition_point(i..r.end, |k| iv.depth(k) == d) - i).max(1);
                    rows.push(i..i + n);
                    i += n;
                }
                rows
            })
            .collect();
        Self { rows }
    }

    /// The innermost interval of task `task` that contains `ts_ns`.
    fn innermost(&self, cap: &Capture, task: u32, ts_ns: i64) -> Option<usize> {
        let mut found = None;
        for row in self.rows.get(task as usize)? {
            let iv = &cap.intervals;
            let k = iv.partition_point(row.clone(), |i| iv.start(i) <= ts_ns);
            if k == row.start {
                break;
            }
            let i = k - 1;
            let end = iv.end(i);
            if end < ts_ns {
                break;
            }
            found = Some(i);
        }
        found
    }

    /// The earliest interval start at or after `ts_ns` on task `task`.
    fn next_start(&self, cap: &Capture, task: u32, ts_ns: i64) -> Option<i64> {
        self.rows
            .get(task as usize)?
            .iter()
            .filter_map(|row| {
                let iv = &cap.intervals;
                let k = iv.partition_point(row.clone(), |i| iv.start(i) < ts_ns);
                row.contains(&k).then(|| iv.start(k))
            })
            .min()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct AsyncKey {
    kind: u8,
    cat: StrId,
    scope: StrId,
    name: StrId,
    id: u64,
    pid: u64,
}

/// One async operation being assembled.
struct Op {
    kind: AsyncKind,
    id: u64,
    name: StrId,
    category: StrId,
    process: Option<u32>,
    begun_on: Option<u32>,
    trigger: OptId,
    execution: OptId,
    begin_event: EventRef,
    end_event: EventRef,
    start_ns: i64,
    end_ns: Option<i64>,
    /// Nested intervals and instants, which most operations (a Node.js async resource) have
    /// none of: boxed, an operation takes 8 bytes for them instead of 48, and the operations
    /// of a trace are all held at once.
    more: Option<Box<OpNested>>,
}

/// An operation's nested intervals and instants.
#[derive(Default)]
struct OpNested {
    /// (start, end, name, depth, event, open)
    intervals: Vec<(i64, i64, StrId, u16, EventRef, bool)>,
    marks: Vec<(i64, StrId, EventRef)>,
}

impl Op {
    fn more(&mut self) -> &mut OpNested {
        self.more.get_or_insert_with(Box::default)
    }

    /// Adds a nested interval. Most operations that have one have only one (a Node.js
    /// promise's callback), so the first is given room for itself alone, not the four a
    /// vector's first growth makes: 96 bytes less for each of thousands of operations.
    fn push_nested(&mut self, interval: (i64, i64, StrId, u16, EventRef, bool)) {
        let intervals = &mut self.more().intervals;
        if intervals.capacity() == 0 {
            intervals.reserve_exact(1);
        }
        intervals.push(interval);
    }

    /// Adds a mark (an instant inside the operation), sized as [`Op::push_nested`] is.
    fn push_mark(&mut self, mark: (i64, StrId, EventRef)) {
        let marks = &mut self.more().marks;
        if marks.capacity() == 0 {
            marks.reserve_exact(1);
        }
        marks.push(mark);
    }

    fn nested_len(&self) -> usize {
        self.more.as_ref().map_or(0, |m| m.intervals.len())
    }
}

fn async_kind(ph: u8) -> Option<AsyncKind> {
    match ph {
        b'b' | b'e' | b'n' => Some(AsyncKind::Nestable),
        b'S' | b'T' | b'p' | b'F' => Some(AsyncKind::Legacy),
        b'N' | b'O' | b'D' => Some(AsyncKind::Object),
        _ => None,
    }
}

#[allow(clippy::too_many_arguments)]
fn asyncs(
    cap: &mut Capture,
    chunks: &mut [ChunkOut<'_>],
    global: &impl Fn(usize, u32) -> StrId,
    thread_task: &impl Fn(u64, u64) -> Option<u32>,
    rows: &TaskRows,
    process_index: &HashMap<u64, u32>,
    anomalies: &mut Anomalies,
) {
    // Where each chunk's async events start in one numbering of them all, so that an entry of
    // the order below names its event in 4 bytes (chunk, then index within it: input order).
    let mut firsts: Vec<u32> = Vec::with_capacity(chunks.len());
    let mut total = 0usize;
    for ch in chunks.iter() {
        firsts.push(u32::try_from(total).unwrap_or(u32::MAX));
        total += ch.asyncs.len();
    }
    // (key, ts, event): sorted, this puts each key's events in time order, then input order.
    // Sized exactly: grown by doubling, it held up to twice its size at the peak of a parse.
    let mut order: Vec<(u32, i64, u32)> = Vec::with_capacity(
        chunks.iter().map(|c| c.asyncs.iter().filter(|a| async_kind(a.ph).is_some()).count()).sum(),
    );
    let mut keys: HashMap<AsyncKey, u32> = HashMap::new();
    for (ci, ch) in chunks.iter().enumerate() {
        let first = firsts.get(ci).copied().unwrap_or(u32::MAX);
        for (i, a) in ch.asyncs.iter().enumerate() {
            let Some(kind) = async_kind(a.ph) else { continue };
            // Past four billion async events (a file of hundreds of gigabytes) the numbering
            // would wrap; such events are left out rather than matched wrongly.
            let Some(event) =
                u32::try_from(i).ok().and_then(|i| first.checked_add(i)).filter(|&e| e != u32::MAX)
            else {
                break;
            };
            let key = AsyncKey {
                kind: kind as u8,
                cat: if kind == AsyncKind::Object { StrId::EMPTY } else { global(ci, a.cat) },
                scope: global(ci, a.scope),
                // Nestable events with one id form one tree whatever their names; legacy and
                // object events are told apart by name too.
                name: if kind == AsyncKind::Nestable { StrId::EMPTY } else { global(ci, a.name) },
                id: a.id,
                pid: if a.local { a.pid } else { 0 },
            };
            let next = keys.len() as u32;
            let k = *keys.entry(key).or_insert(next);
            order.push((k, a.ts_ns, event));
        }
    }
    // The keys are numbered; the map is not needed for the matching, which is when the parse
    // of an async-heavy trace (Node.js) peaks.
    drop(keys);
    order.sort_unstable();
    let event_at = |event: u32| -> Option<(usize, &AsyncEv)> {
        let ci = firsts.partition_point(|&f| f <= event).saturating_sub(1);
        let i = event - firsts.get(ci).copied().unwrap_or(0);
        chunks.get(ci).and_then(|c| c.asyncs.get(i as usize)).map(|a| (ci, a))
    };
    let trace_end = cap.time_range_ns.map_or(0, |(_, hi)| hi);
    // The finished operations are all held until they are sorted, at the peak of an
    // async-heavy parse: counted first, they take one allocation of their size, not a doubled
    // one (a third of a Node.js trace's begin events nest in an operation and make none).
    let ops = count_ops(&order, |event| event_at(event).map_or(0, |(_, a)| a.ph));
    let mut done: Vec<Op> = Vec::with_capacity(ops);
    let mut open: Vec<Op> = Vec::new();
    // Per open op, the stack of open nested intervals (indices into its `intervals`).
    let mut nested: Vec<Vec<usize>> = Vec::new();
    let mut current_key = u32::MAX;
    for &(k, _, event) in &order {
        let Some((ci, a)) = event_at(event) else { continue };
        if k != current_key {
            finish_open(&mut open, &mut nested, &mut done, trace_end);
            current_key = k;
        }
        let name = global(ci, a.name);
        match a.ph {
            b'b' | b'S' | b'N' => {
                // A `b` inside an open nestable operation nests in it; everything else begins
                // a new operation.
                if a.ph == b'b'
                    && let (Some(op), Some(stack)) = (open.last_mut(), nested.last_mut())
                {
                    let depth = u16::try_from(stack.len() + 1).unwrap_or(u16::MAX);
                    stack.push(op.nested_len());
                    op.push_nested((a.ts_ns, i64::MAX, name, depth, a.event, true));
                    continue;
                }
                open.push(new_op(a, name, global(ci, a.cat), thread_task, process_index));
                nested.push(Vec::new());
            }
            b'e' | b'F' | b'D' => {
                let (Some(op), Some(stack)) = (open.last_mut(), nested.last_mut()) else {
                    anomalies.async_end_without_begin += 1;
                    continue;
                };
                if let Some(top) = stack.pop() {
                    if let Some(iv) = op.more.as_mut().and_then(|m| m.intervals.get_mut(top)) {
                        if name != StrId::EMPTY && iv.2 != name {
                            anomalies.async_mismatched += 1;
                        }
                        iv.1 = a.ts_ns.max(iv.0);
                        iv.5 = false;
                    }
                    continue;
                }
                if a.ph == b'e' && name != StrId::EMPTY && name != op.name {
                    anomalies.async_mismatched += 1;
                }
                op.end_ns = Some(a.ts_ns.max(op.start_ns));
                op.end_event = a.event;
                if let (Some(op), Some(_)) = (open.pop(), nested.pop()) {
                    done.push(op);
                }
            }
            _ => match open.last_mut() {
                Some(op) => op.push_mark((a.ts_ns, name, a.event)),
                None => anomalies.async_instant_outside += 1,
            },
        }
    }
    finish_open(&mut open, &mut nested, &mut done, trace_end);
    debug_assert_eq!(done.len(), ops, "count_ops follows the matching's rule");
    // The matching order is done with: freed before the tasks are made.
    drop(order);
    for chunk in chunks.iter_mut() {
        chunk.asyncs = Vec::new();
    }
    done.sort_by_key(|op| (op.start_ns, op.begin_event.offset()));
    let rows_added: usize = done.iter().map(|op| 1 + op.nested_len()).sum();
    cap.tasks.reserve_exact(done.len());
    cap.chrome_mut().task_details.reserve_exact(done.len());
    cap.chrome_mut().interval_events.reserve_exact(rows_added);

    // The operations' intervals follow the threads'; the threads' are read meanwhile (the
    // creating span of each operation), so these are appended once all are made.
    let mut added: Vec<Interval> = Vec::with_capacity(rows_added);
    let threads_end = cap.intervals.len() as u32;
    for op in done {
        let task_index = cap.tasks.len() as u32;
        let first = threads_end + added.len() as u32;
        let end_for_view = op.end_ns.unwrap_or(trace_end).max(op.start_ns);
        let row = |start_ns, end_ns, label, depth| Interval {
            start_ns,
            end_ns,
            kind: IntervalKind::Async,
            label,
            stack: StackId::EMPTY,
            depth,
        };
        added.push(row(op.start_ns, end_for_view, op.name, 0));
        cap.chrome_mut().interval_events.push(op.begin_event);
        let OpNested { intervals: mut nested, marks } = op.more.map(|m| *m).unwrap_or_default();
        nested.sort_by_key(|iv| (iv.3, iv.0));
        for (start, end, name, depth, event, _) in nested {
            added.push(row(start, end.min(end_for_view), name, depth));
            cap.chrome_mut().interval_events.push(event);
        }
        for (time_ns, name, event) in marks {
            cap.chrome_mut().marks.push(Mark { task: task_index, time_ns, name, event });
        }
        // The creating span: what the thread that began the operation was doing then.
        let creator =
            op.begun_on.and_then(|t| rows.innermost(cap, t, op.start_ns)).map(|i| cap.intervals.stack(i));
        let stack = creator.unwrap_or(StackId::EMPTY);
        let mut flags = TaskFlags::empty();
        // Said as a state, so the views group and filter by it as they do a goroutine's: the
        // operations still open at the end are the ones a leak is made of.
        let state = if op.end_ns.is_some() {
            flags |= TaskFlags::ENDED;
            cap.strings.intern("ended")
        } else {
            flags |= TaskFlags::NEVER_ENDED;
            cap.strings.intern("open at end")
        };
        let len = threads_end + added.len() as u32 - first;
        cap.tasks.push(Task {
            id: op.id,
            kind: TaskKind::AsyncTask,
            name: op.name,
            state,
            flags,
            stack,
            created_by: cap.tables.stack(stack).first().copied(),
            parent_id: op.trigger,
            start_ns: OptNs::some(op.start_ns),
            end_ns: OptNs::from(op.end_ns),
            intervals: IntervalRange { start: first, len },
            ..Task::default()
        });
        cap.chrome_mut().task_details.push(TaskDetail {
            process: op.process,
            category: op.category,
            async_kind: Some(op.kind),
            begun_on: op.begun_on,
            execution_id: op.execution.get(),
            begin_event: op.begin_event,
            end_event: op.end_event,
            sort_index: None,
        });
    }
    if !added.is_empty() {
        let mut iv = IntervalsBuilder::from(std::mem::take(&mut cap.intervals));
        iv.reserve_exact(added.len());
        for row in added {
            iv.push_interval(row);
        }
        cap.intervals = iv.finish();
    }
}

/// How many operations the matching in [`asyncs`] makes of events in its order: a begin makes
/// one unless it is a `b` nested in the operation open on its key. The matching's own rule, on
/// depths alone.
fn count_ops(order: &[(u32, i64, u32)], phase: impl Fn(u32) -> u8) -> usize {
    let mut ops = 0;
    let mut current_key = u32::MAX;
    // Per open operation, how many nested intervals it has open.
    let mut open: Vec<u32> = Vec::new();
    for &(k, _, event) in order {
        if k != current_key {
            open.clear();
            current_key = k;
        }
        match (phase(event), open.last_mut()) {
            (b'b', Some(depth)) => *depth += 1,
            (b'b' | b'S' | b'N', _) => {
                ops += 1;
                open.push(0);
            }
            (b'e' | b'F' | b'D', Some(depth)) if *depth > 0 => *depth -= 1,
            (b'e' | b'F' | b'D', Some(_)) => {
                open.pop();
            }
            _ => {}
        }
    }
    ops
}

fn new_op(
    a: &AsyncEv,
    name: StrId,
    category: StrId,
    thread_task: &impl Fn(u64, u64) -> Option<u32>,
    process_index: &HashMap<u64, u32>,
) -> Op {
    Op {
        kind: async_kind(a.ph).unwrap_or(AsyncKind::Nestable),
        id: a.id,
        name,
        category,
        process: process_index.get(&a.pid).copied(),
        begun_on: thread_task(a.pid, a.tid),
        trigger: a.trigger,
        execution: a.execution,
        begin_event: a.event,
        end_event: EventRef::NONE,
        start_ns: a.ts_ns,
        end_ns: None,
        more: None,
    }
}

fn finish_open(open: &mut Vec<Op>, nested: &mut Vec<Vec<usize>>, done: &mut Vec<Op>, trace_end: i64) {
    nested.clear();
    for mut op in open.drain(..) {
        for iv in op.more.iter_mut().flat_map(|m| m.intervals.iter_mut()) {
            if iv.5 {
                iv.1 = trace_end.max(iv.0);
            }
        }
        done.push(op);
    }
}

/// One flow event with the thread task it happened on.
#[derive(Clone, Copy)]
struct FlowPoint {
    ts_ns: i64,
    task: u32,
    /// (chunk, index): input order, to break timestamp ties.
    order: (usize, usize),
    flow: super::chunk::FlowEv,
}

fn flows(
    cap: &mut Capture,
    chunks: &[ChunkOut<'_>],
    global: &impl Fn(usize, u32) -> StrId,
    thread_task: &impl Fn(u64, u64) -> Option<u32>,
    rows: &TaskRows,
    anomalies: &mut Anomalies,
) {
    // v1 flows match on (category, name, id); v2 on the binding id alone.
    let mut v1: HashMap<(StrId, StrId, u64), Vec<FlowPoint>> = HashMap::new();
    let mut v2: HashMap<u64, Vec<FlowPoint>> = HashMap::new();
    for (ci, ch) in chunks.iter().enumerate() {
        for (i, f) in ch.flows.iter().enumerate() {
            let Some(task) = thread_task(f.pid, f.tid) else { continue };
            let point = FlowPoint { ts_ns: f.ts_ns, task, order: (ci, i), flow: *f };
            if matches!(f.ph, b's' | b't' | b'f') {
                v1.entry((global(ci, f.cat), global(ci, f.name), f.id)).or_default().push(point);
            } else {
                v2.entry(f.id).or_default().push(point);
            }
        }
    }
    let mut links: Vec<Link> = Vec::new();
    for (_, mut points) in v1 {
        points.sort_by_key(|p| (p.ts_ns, p.order));
        if points.len() < 2 {
            anomalies.flows_unbound += 1;
        }
        for w in points.windows(2) {
            let (Some(from), Some(to)) = (w.first(), w.get(1)) else { continue };
            // A flow end binds to the slice that begins next on its thread unless told to
            // bind to the enclosing one.
            let to_ns = if to.flow.ph == b'f' && !to.flow.enclosing {
                rows.next_start(cap, to.task, to.ts_ns).unwrap_or(to.ts_ns)
            } else {
                to.ts_ns
            };
            links.push(Link {
                kind: LinkKind::Flow,
                from_task: from.task,
                from_ns: from.ts_ns,
                to_task: to.task,
                to_ns,
            });
        }
    }
    for (_, mut points) in v2 {
        points.sort_by_key(|p| (p.ts_ns, p.order));
        let mut source: Option<&FlowPoint> = None;
        for p in &points {
            if p.flow.flow_in
                && let Some(from) = source.take()
            {
                links.push(Link {
                    kind: LinkKind::Flow,
                    from_task: from.task,
                    from_ns: from.ts_ns,
                    to_task: p.task,
                    to_ns: p.ts_ns,
                });
            }
            if p.flow.flow_out {
                source = Some(p);
            }
        }
    }
    links.sort_by_key(|l| (l.from_ns, l.from_task, l.to_ns, l.to_task));
    cap.links.extend(links);
}

/// Points of one counter series.
type Series = Vec<(StrId, Vec<(i64, f64)>)>;

fn counters(cap: &mut Capture, chunks: &[ChunkOut<'_>], global: &impl Fn(usize, u32) -> StrId) {
    // (pid, name, id) -> series name -> points
    let mut series: HashMap<(u64, StrId, Option<u64>), Series> = HashMap::new();
    let mut order: Vec<(u64, StrId, Option<u64>)> = Vec::new();
    let mut pids: Vec<u64> = Vec::new();
    for (ci, ch) in chunks.iter().enumerate() {
        for c in &ch.counters {
            let key = (c.pid, global(ci, c.name), c.has_id.then_some(c.id));
            let entry = series.entry(key).or_insert_with(|| {
                order.push(key);
                Vec::new()
            });
            pids.push(c.pid);
            let values = ch.counter_values.get(c.values.0 as usize..c.values.1 as usize).unwrap_or_default();
            for &(sname, v) in values {
                let sname = global(ci, sname);
                match entry.iter_mut().find(|(n, _)| *n == sname) {
                    Some((_, points)) => points.push((c.ts_ns, v)),
                    None => entry.push((sname, vec![(c.ts_ns, v)])),
                }
            }
        }
    }
    pids.sort_unstable();
    pids.dedup();
    let many_processes = pids.len() > 1;
    for key in order {
        let Some(list) = series.remove(&key) else { continue };
        let (pid, name, id) = key;
        let single = list.len() == 1;
        for (sname, mut points) in list {
            points.sort_by_key(|p| p.0);
            let mut label = cap.str(name).to_owned();
            if let Some(id) = id {
                let _ = write!(label, "[{id}]");
            }
            if !single {
                label.push('.');
                label.push_str(cap.str(sname));
            }
            if many_processes {
                let _ = write!(label, " (pid {pid})");
            }
            let name = cap.strings.intern(&label);
            cap.counters.push(Counter::from_points(name, points));
        }
    }
}

fn warn_anomalies(cap: &mut Capture, a: &Anomalies) {
    let open_spans = cap.chrome().open_spans.len();
    let w = &mut cap.warnings;
    if open_spans > 0 {
        w.general(format!(
            "{open_spans} spans begun (B) and never ended (E); they are drawn to the end of the trace"
        ));
    }
    if a.e_without_b > 0 {
        w.general(format!("{} span ends (E) without a begin (B) skipped", a.e_without_b));
    }
    if a.clamped > 0 {
        w.general(format!("{} spans reached past their parent and were cut at its end", a.clamped));
    }
    if a.too_deep > 0 {
        w.general(format!("{} spans nested deeper than 65535 levels skipped", a.too_deep));
    }
    if a.async_end_without_begin > 0 {
        w.general(format!("{} async ends (e/F/D) without a begin skipped", a.async_end_without_begin));
    }
    if a.async_mismatched > 0 {
        w.general(format!("{} async ends named differently from the begin they closed", a.async_mismatched));
    }
    if a.async_instant_outside > 0 {
        w.general(format!(
            "{} async instants or steps outside any open operation skipped",
            a.async_instant_outside
        ));
    }
    if a.flows_unbound > 0 {
        w.general(format!("{} flows with a single event (no arrow drawn)", a.flows_unbound));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ph: u8, ts: i64, dur: i64, name: u32) -> ThreadEv {
        ThreadEv { ts_ns: ts, dur_ns: dur, event: EventRef::NONE, name, ph }
    }

    #[test]
    fn events_with_offsets_sort_as_a_stable_sort_by_time_would() {
        // Times with ties, in input order (ascending offsets), as a viztracer thread has them.
        let times = [30, 10, 20, 10, 30, 5, 20, 10, 40, 5];
        let evs: Vec<ThreadEv> = times
            .iter()
            .enumerate()
            .map(|(i, &ts)| ThreadEv {
                event: EventRef::new(100 * i as u64, 50),
                ..ev(b'i', ts, 0, i as u32)
            })
            .collect();
        let mut stable = evs.clone();
        stable.sort_by_key(|e| e.ts_ns);
        let mut ours = evs;
        order_events(&mut ours);
        let names = |v: &[ThreadEv]| v.iter().map(|e| e.name).collect::<Vec<_>>();
        assert_eq!(names(&ours), names(&stable));
    }

    /// Calls of a random call tree, each written after its callees (as viztracer writes them):
    /// their start times, in input order. With `ties`, a first callee may start with its
    /// caller.
    fn calls_written_as_they_end(next: &mut impl FnMut() -> u64, ties: bool) -> Vec<i64> {
        fn call(next: &mut impl FnMut() -> u64, depth: u32, t: &mut i64, ties: bool, out: &mut Vec<i64>) {
            let start = *t;
            if !(ties && next().is_multiple_of(3)) {
                *t += 1 + (next() % 3) as i64;
            }
            let callees = if depth < 5 { next() % 4 } else { 0 };
            for _ in 0..callees {
                call(next, depth + 1, t, ties, out);
            }
            *t += 1;
            out.push(start);
        }
        let mut out = Vec::new();
        let mut t = 0;
        for _ in 0..=next() % 5 {
            call(next, 0, &mut t, ties, &mut out);
        }
        out
    }

    #[test]
    fn events_written_as_they_end_are_ordered_as_the_sort_orders_them() {
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        let (mut fast, mut sorted) = (0, 0);
        for case in 0..600 {
            let mut times = calls_written_as_they_end(&mut next, case % 3 == 1);
            if case % 3 == 2 {
                // Not written as they ended: a few swapped.
                for _ in 0..2 {
                    let (a, b) = ((next() as usize) % times.len(), (next() as usize) % times.len());
                    times.swap(a, b);
                }
            }
            let evs: Vec<ThreadEv> = times
                .iter()
                .enumerate()
                .map(|(i, &ts)| ThreadEv {
                    event: EventRef::new(100 * i as u64 + 1, 50),
                    ..ev(b'X', ts, 1, i as u32)
                })
                .collect();
            let mut want = evs.clone();
            want.sort_by_key(|e| (e.ts_ns, e.event.offset()));
            let mut ours = evs;
            if from_completion_order(&mut ours) {
                fast += 1;
                let key = |v: &[ThreadEv]| v.iter().map(|e| (e.ts_ns, e.event, e.name)).collect::<Vec<_>>();
                assert_eq!(key(&ours), key(&want), "case {case}");
            } else {
                sorted += 1;
                assert!(
                    case % 3 != 0,
                    "case {case}: a tree written as it ended, with distinct times, was sorted"
                );
            }
        }
        assert!(fast >= 200 && sorted > 0, "{fast} in linear time, {sorted} sorted");
    }

    #[test]
    fn spans_nest_and_clamp() {
        let evs = vec![
            ev(b'X', 0, 100, 1),
            ev(b'X', 10, 20, 2),
            ev(b'X', 10, 95, 3), // same start, longer: parent of 2, ends past 1
            ev(b'B', 40, 0, 4),
            ev(b'E', 50, 0, 4),
            ev(b'B', 60, 0, 5),  // never ended
            ev(b'E', 200, 0, 6), // closes 5, cut at the end of 3
            ev(b'E', 300, 0, 7), // nothing open
            ev(b'I', 5, 0, 8),
        ];
        let t = thread_spans(evs, 1000);
        let got: Vec<_> =
            t.spans.iter().map(|s| (s.name.index(), s.start_ns, s.end_ns, s.depth, s.open)).collect();
        assert_eq!(
            got,
            [
                (1, 0, 100, 0, false),
                (3, 10, 100, 1, false),
                (2, 10, 30, 2, false),
                (4, 40, 50, 2, false),
                (5, 60, 100, 2, false),
            ]
        );
        assert_eq!(t.e_without_b, 1);
        assert_eq!(t.clamped, 2);
        assert_eq!(t.marks.len(), 1);
        let order = depth_order(&t.spans);
        assert_eq!(order, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn unended_b_runs_to_trace_end() {
        let t = thread_spans(vec![ev(b'B', 10, 0, 1), ev(b'X', 20, 5, 2)], 500);
        assert_eq!((t.spans[0].end_ns, t.spans[0].open), (500, true));
        assert_eq!((t.spans[1].end_ns, t.spans[1].depth), (25, 1));
    }

    #[test]
    fn count_ops_follows_the_matching() {
        // (key, phase) in matched order; the event number indexes the phases.
        let events: &[(u32, u8)] = &[
            // Key 0, nestable: a b, two nested b/e pairs, the e that ends it, then a second
            // b on the same key, left open: 2 operations.
            (0, b'b'),
            (0, b'b'),
            (0, b'e'),
            (0, b'b'),
            (0, b'e'),
            (0, b'e'),
            (0, b'b'),
            // Key 1, legacy: S inside an open S makes another; F, F; an F with nothing open.
            (1, b'S'),
            (1, b'T'),
            (1, b'S'),
            (1, b'F'),
            (1, b'F'),
            (1, b'F'),
            // Key 2: an end without a begin, then an object's N and D, then an instant.
            (2, b'e'),
            (2, b'N'),
            (2, b'D'),
            (2, b'n'),
        ];
        let order: Vec<(u32, i64, u32)> =
            events.iter().enumerate().map(|(i, &(k, _))| (k, i as i64, i as u32)).collect();
        let ops = count_ops(&order, |e| events.get(e as usize).map_or(0, |&(_, ph)| ph));
        assert_eq!(ops, 2 + 2 + 1);
        // A key change closes whatever was open: the nested b of key 3 begins its own op.
        let order = [(3, 0, 0), (4, 1, 1)];
        assert_eq!(count_ops(&order, |_| b'b'), 2);
    }
}
