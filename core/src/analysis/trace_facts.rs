//! Facts about goroutines that only an execution trace can give, for the leak rules: whether a
//! goroutine is parked at the end and has not been woken since it parked (and since when), the
//! reason and stack of that block, how often it was woken before, whether its creator ended
//! while it stayed parked, and per entry function how many goroutines were alive over time.
//! Also the "block time by stack" profile (what `go tool trace -pprof=sync` shows).
//!
//! Everything is computed from the model (tasks and their state intervals), so it works for any
//! capture with goroutine state intervals; for captures without them it is empty.

use hashbrown::HashMap;

use crate::model::{Capture, FrameId, IntervalKind, LastKey, StackId, StrId, Task, TaskFlags, TaskKind};

/// What a trace says about a goroutine parked at its end, for leak rules: parked in a block
/// that lasts to the end, so it has not been woken since it blocked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parked {
    /// Index of the goroutine's task.
    pub task: u32,
    /// When the block began; for goroutines parked since before the trace, the trace's start
    /// (a lower bound, see `blocked_before_trace`).
    pub blocked_since_ns: i64,
    /// The block began before the trace did: the trace never saw it awake.
    pub blocked_before_trace: bool,
    /// The block's reason in the trace's words (`chan receive`, `select`, `sync`, `sleep`,
    /// ...); empty when the trace only saw its status (which carries no reason).
    pub block_reason: StrId,
    /// The stack where it blocked (or its stack when the trace first saw it parked).
    pub block_stack: StackId,
    /// How many times it was woken (left a blocked state) during the trace.
    pub unblocks: u32,
    /// Its creator's task, where the trace saw the creation by a goroutine.
    pub creator: Option<u32>,
    /// When its creator ended, if the creator ended during the trace while this goroutine
    /// stayed parked: it was orphaned.
    pub orphaned_at_ns: Option<i64>,
}

impl Parked {
    /// Whether its creator ended during the trace while it stayed parked.
    pub fn is_orphan(&self) -> bool {
        self.orphaned_at_ns.is_some()
    }

    /// How long it has been blocked at `end_ns`, the trace's end (a lower bound when
    /// `blocked_before_trace`).
    pub fn blocked_ns(&self, end_ns: i64) -> i64 {
        end_ns.saturating_sub(self.blocked_since_ns)
    }
}

/// The interval a goroutine is parked in at the end of the trace, if it is: its last state (a
/// task's intervals are in (depth, start) order, states at depth 0) is a block that lasts to
/// `end_ns`, and the goroutine did not end.
fn parked_in(capture: &Capture, task: &Task, end_ns: i64) -> Option<usize> {
    let iv = &capture.intervals;
    if task.kind != TaskKind::Goroutine || task.flags.contains(TaskFlags::ENDED) {
        return None;
    }
    let row = task.intervals.indices();
    // The end of the states, found by halving: a goroutine can have millions of them.
    let (mut lo, mut hi) = (row.start, row.end);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if iv.depth(mid) == 0 {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let last = lo.checked_sub(1).filter(|&i| i >= row.start)?;
    (iv.kind(last) == IntervalKind::Blocked && iv.end(last) == end_ns).then_some(last)
}

/// Goroutines that start in one function, and how many of them were alive over time.
///
/// A site is keyed by the goroutines' entry function: the trace names it at creation, and for
/// goroutines that existed before the trace it is the outermost frame of their stack, so both
/// meet in one site. The `go` statements that created the site's goroutines during the trace are
/// listed in `created_by`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreationSite {
    /// The entry function (a creation event's frame where the trace saw one); `None` for
    /// goroutines whose entry is unknown.
    pub start_func: Option<FrameId>,
    /// Distinct creating frames (the `go` statements) seen during the trace, ascending.
    pub created_by: Vec<FrameId>,
    /// Alive when the trace began (existed before it).
    pub alive_at_start: u32,
    /// Created during the trace.
    pub created: u32,
    /// Ended during the trace.
    pub ended: u32,
    /// Alive at the end.
    pub alive_at_end: u32,
    /// Parked at the end and not woken since they parked.
    pub blocked_at_end: u32,
    /// Task indices of the site's goroutines, ascending.
    pub members: Vec<u32>,
}

impl CreationSite {
    /// Whether the live count only went up during the trace: goroutines were created and none
    /// of the site's goroutines ended.
    pub fn only_grows(&self) -> bool {
        self.created > 0 && self.ended == 0
    }

    /// Live count over time: `(time, count from then on)`, starting at the trace's start,
    /// one step per change, ascending.
    ///
    /// Worked out from the members' creations and ends when asked for (the rules ask for a few
    /// sites), not kept: a step takes 16 bytes and a site can have two per goroutine.
    pub fn live(&self, capture: &Capture) -> Vec<(i64, u32)> {
        let members = self.members.iter().filter_map(|&m| capture.tasks.get(m as usize));
        live_count(capture, members, self.alive_at_start)
    }

    /// The most alive at once.
    pub fn peak(&self, capture: &Capture) -> u32 {
        self.live(capture).iter().map(|&(_, n)| n).max().unwrap_or(0)
    }
}

/// Live count over time of `tasks`, `alive_at_start` of them alive when the trace began:
/// `(time, count from then on)`, starting at the trace's start, one step per change,
/// ascending. A site's chart and the timeline's goroutine counter track both come from here.
pub fn live_count(
    capture: &Capture,
    tasks: impl Iterator<Item = Task>,
    alive_at_start: u32,
) -> Vec<(i64, u32)> {
    let start_ns = capture.time_range_ns.map_or(0, |(s, _)| s);
    // Creations and ends apart: a (time, ±1) pair would take 16 bytes. Both in one pass, by
    // internal iteration (see `Tasks::by_id`).
    let (mut creations, mut ends): (Vec<i64>, Vec<i64>) = (Vec::new(), Vec::new());
    tasks.for_each(|t| {
        if !t.flags.contains(TaskFlags::EXISTED_BEFORE) {
            creations.push(t.start_ns.get().unwrap_or(start_ns));
        }
        if t.flags.contains(TaskFlags::ENDED) {
            ends.push(t.end_ns.get().unwrap_or(start_ns));
        }
    });
    creations.sort_unstable();
    ends.sort_unstable();
    let mut live = Vec::with_capacity(1 + creations.len() + ends.len());
    live.push((start_ns, alive_at_start));
    let mut count = i64::from(alive_at_start);
    // Merged in time order; at one time the order does not matter, only the count after.
    let (mut born, mut gone) = (creations.iter().peekable(), ends.iter().peekable());
    loop {
        let (t, delta) = match (born.peek(), gone.peek()) {
            (Some(&&tc), Some(&&te)) if te <= tc => (te, -1),
            (Some(&&tc), _) => (tc, 1),
            (None, Some(&&te)) => (te, -1),
            (None, None) => break,
        };
        if delta > 0 {
            born.next();
        } else {
            gone.next();
        }
        count += delta;
        let n = count.max(0) as u32;
        match live.last_mut() {
            Some(last) if last.0 == t => last.1 = n,
            _ => live.push((t, n)),
        }
    }
    live
}

/// A trace that is a window onto a running program rather than a recording of it from its
/// start: most of its goroutines existed before it began, so it never saw their creation nor
/// when their waits began. A flight-recorder snapshot (`runtime/trace.FlightRecorder`, Go 1.25+)
/// is one: an ordinary trace of the last seconds, which marks nothing of its own; so is
/// `/debug/pprof/trace?seconds=N` on a service. A goroutine blocked through the whole window
/// may have blocked a moment or an hour before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// The window's length.
    pub span_ns: i64,
    /// Goroutines of the program (not the runtime's) that existed before the window began.
    pub existed_before: u32,
    /// Goroutines of the program seen in the window.
    pub goroutines: u32,
    /// The runtime's number of the window's first generation (above 1 when tracing had run
    /// before the window: a flight recorder's ring, or a later trace), 0 when unknown.
    pub first_generation: u64,
}

impl Window {
    /// Whether the capture is a window: more than half of the program's goroutines, and at
    /// least two, existed before it began. A program traced from its start has only `main`
    /// and what it started before `trace.Start` (`go test -trace`, `trace.Start` in main).
    fn of(capture: &Capture, start_ns: i64, end_ns: i64) -> Option<Window> {
        let program = || {
            capture.tasks.iter().filter(|t| {
                t.kind == TaskKind::Goroutine && !t.flags.contains(TaskFlags::SYSTEM) && t.intervals.len > 0
            })
        };
        let goroutines = program().count() as u32;
        let existed_before = program().filter(|t| t.flags.contains(TaskFlags::EXISTED_BEFORE)).count() as u32;
        let first_generation = capture.trace.as_ref().map_or(0, |t| t.first_generation);
        (existed_before >= 2 && existed_before * 2 > goroutines).then_some(Window {
            span_ns: end_ns.saturating_sub(start_ns),
            existed_before,
            goroutines,
            first_generation,
        })
    }
}

/// The trace facts of one capture.
///
/// The facts of a parked goroutine are worked out when asked for, from its intervals, not kept:
/// the rules ask about the members of a few families, while a trace can have a goroutine per 18
/// bytes of file and these facts live beside the whole model while the rules run. What is kept
/// takes 8 bytes a goroutine (a site's member and the lookup by id).
#[derive(Clone, Debug)]
pub struct TraceFacts<'c> {
    capture: &'c Capture,
    /// The trace's start.
    pub start_ns: i64,
    /// The trace's end.
    pub end_ns: i64,
    /// Goroutine tasks sorted by id, to find a creator by its id.
    by_id: Vec<u32>,
    /// Creation sites, by entry function name (unknown last).
    pub sites: Vec<CreationSite>,
    /// Whether the trace is a window onto a running program (a flight-recorder snapshot).
    pub window: Option<Window>,
    /// Where the generation a cut-off trace ends in began: blocks after it may have ended in
    /// events the cut lost.
    pub cut_at_ns: Option<i64>,
}

impl<'c> TraceFacts<'c> {
    /// Computes the facts of a capture; empty when it has no time range or no intervals.
    pub fn new(capture: &'c Capture) -> Self {
        let Some((start_ns, end_ns)) = capture.time_range_ns else {
            return Self {
                capture,
                start_ns: 0,
                end_ns: 0,
                by_id: Vec::new(),
                sites: Vec::new(),
                window: None,
                cut_at_ns: None,
            };
        };
        // A sorted list of indices takes 4 bytes a goroutine where a hash map takes 16 and more.
        // Each of the three reads every goroutine, and the leak rules wait on them: on two
        // cores, a trace of 4 million goroutines has them in about 80 ms instead of 150.
        let (by_id, (sites, window)) = rayon::join(
            || capture.tasks.by_id(|t| t.kind == TaskKind::Goroutine),
            || (sites(capture, end_ns), Window::of(capture, start_ns, end_ns)),
        );
        let cut_at_ns = capture.trace.as_ref().and_then(|t| t.cut_at_ns).filter(|_| capture.source.truncated);
        Self { capture, start_ns, end_ns, by_id, sites, window, cut_at_ns }
    }

    /// The facts of one task, if it is a goroutine parked at the end.
    pub fn parked(&self, index: u32) -> Option<Parked> {
        let capture = self.capture;
        let task = capture.tasks.get(index as usize)?;
        let last = parked_in(capture, &task, self.end_ns)?;
        let iv = &capture.intervals;
        // One walk over the task's states, without collecting them: a goroutine that ran all
        // through a large trace has millions of intervals.
        let (mut states, mut unblocks) = (0usize, 0u32);
        for i in task.intervals.indices().take_while(|&i| i <= last) {
            states += 1;
            if iv.kind(i) == IntervalKind::Blocked && i != last {
                unblocks += 1;
            }
        }
        let existed_before = task.flags.contains(TaskFlags::EXISTED_BEFORE);
        let id_of = |i: &u32| capture.tasks.id(*i as usize).unwrap_or(u64::MAX);
        let creator = task
            .parent_id
            .get()
            .filter(|_| !existed_before)
            // The last task with the id: an id repeats when the runtime recreates a goroutine
            // for a cgo callback.
            .and_then(|p| {
                let after = self.by_id.partition_point(|i| id_of(i) <= p);
                after.checked_sub(1).and_then(|k| self.by_id.get(k).copied()).filter(|i| id_of(i) == p)
            })
            .filter(|&c| capture.tasks.get(c as usize).and_then(|t| t.start_ns.get()) <= task.start_ns.get());
        let orphaned_at_ns = creator
            .and_then(|c| capture.tasks.get(c as usize))
            .filter(|c| c.flags.contains(TaskFlags::ENDED))
            .and_then(|c| c.end_ns.get());
        Some(Parked {
            task: index,
            blocked_since_ns: iv.start(last),
            blocked_before_trace: states == 1 && existed_before,
            block_reason: iv.label(last),
            block_stack: Some(iv.stack(last)).filter(|s| *s != StackId::EMPTY).unwrap_or(task.stack),
            unblocks,
            creator,
            orphaned_at_ns,
        })
    }

    /// Every goroutine parked at the end, by task index.
    pub fn all_parked(&self) -> impl Iterator<Item = Parked> + '_ {
        (0..self.capture.tasks.len() as u32).filter_map(|i| self.parked(i))
    }
}

/// The creation sites of the goroutines with state intervals.
fn sites(capture: &Capture, end_ns: i64) -> Vec<CreationSite> {
    // In order, as the task table reads fastest (a block of packed rows at a time), and
    // tested in the loops: a filter's `next` per task is a call (see `Tasks::by_id`).
    let counted = |t: &Task| t.kind == TaskKind::Goroutine && t.intervals.len > 0;
    // Keyed by the function's name: the creation event names the entry by its start PC and a
    // stack by a PC inside it, so the two frames differ in their line.
    let key = |task: &Task| task.start_func.map(|f| capture.tables.frame(f).func);
    let mut index: HashMap<Option<StrId>, usize> = HashMap::new();
    let mut sites: Vec<CreationSite> = Vec::new();
    // Counted first and filled second, so each member list is allocated once at its size: the
    // lists hold every goroutine and are kept beside the model while the leak rules run.
    // Goroutines of one site come one after another: the last site is tried before the map
    // (a lookup per goroutine was a third of this on a trace of 4 million).
    let mut last = LastKey::new();
    for task in &capture.tasks {
        if !counted(&task) {
            continue;
        }
        let k = key(&task);
        let slot = last.get_or(k, || {
            *index.entry(k).or_insert_with(|| {
                sites.push(CreationSite {
                    start_func: task.start_func,
                    created_by: Vec::new(),
                    alive_at_start: 0,
                    created: 0,
                    ended: 0,
                    alive_at_end: 0,
                    blocked_at_end: 0,
                    members: Vec::new(),
                });
                sites.len() - 1
            })
        });
        let Some(site) = sites.get_mut(slot) else { continue };
        if task.flags.contains(TaskFlags::EXISTED_BEFORE) {
            site.alive_at_start += 1;
        } else {
            site.created += 1;
            // The creation event's frame is the entry itself; prefer it to a frame inside it.
            if site.created == 1 {
                site.start_func = task.start_func;
            }
            if let Some(f) = task.created_by
                && !site.created_by.contains(&f)
            {
                site.created_by.push(f);
            }
        }
        if task.flags.contains(TaskFlags::ENDED) {
            site.ended += 1;
        } else {
            site.alive_at_end += 1;
        }
        if parked_in(capture, &task, end_ns).is_some() {
            site.blocked_at_end += 1;
        }
    }
    for site in &mut sites {
        site.created_by.sort_unstable();
        site.members.reserve_exact((site.alive_at_start + site.created) as usize);
    }
    let mut last = LastKey::new();
    for (g, task) in capture.tasks.enumerate() {
        if !counted(&task) {
            continue;
        }
        let k = key(&task);
        let slot = last.get_or(k, || index.get(&k).copied());
        if let Some(site) = slot.and_then(|slot| sites.get_mut(slot)) {
            site.members.push(g as u32);
        }
    }
    let name = |s: &CreationSite| s.start_func.map(|f| capture.func_name(f));
    sites.sort_by(|a, b| match (name(a), name(b)) {
        (Some(x), Some(y)) => x.cmp(y).then_with(|| a.start_func.cmp(&b.start_func)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    sites
}

/// Which blocked time a block profile counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockReasons {
    /// Waits on synchronisation: reasons naming a channel, `sync` or `select`, as
    /// `go tool trace -pprof=sync` counts them.
    Sync,
    /// Network waits (`-pprof=net`).
    Network,
    /// Every blocked interval, whatever its reason (including blocks with no known reason).
    All,
}

impl BlockReasons {
    fn accepts(self, reason: &str) -> bool {
        match self {
            BlockReasons::Sync => {
                reason.contains("chan") || reason.contains("sync") || reason.contains("select")
            }
            BlockReasons::Network => reason == "network",
            BlockReasons::All => true,
        }
    }
}

/// Blocked time by the stack each block began at, as `(stack, nanoseconds)` pairs sorted by
/// stack, for [`FlameTree::from_stacks`](super::flame::FlameTree::from_stacks).
///
/// `go tool trace -pprof=sync` counts a block only once it ends; with `include_open` the blocks
/// still open at the end of the trace count too, up to the end (those are where leaks sit).
pub fn block_time_stacks(
    capture: &Capture,
    reasons: BlockReasons,
    include_open: bool,
) -> Vec<(StackId, i64)> {
    state_time_stacks(capture, IntervalKind::Blocked, include_open, |label| {
        reasons.accepts(capture.str(label))
    })
}

/// Time goroutines spent in one state by the stack the state began at (syscall time with
/// [`IntervalKind::Syscall`], scheduler latency with [`IntervalKind::Runnable`]), as
/// `(stack, nanoseconds)` pairs sorted by stack. Intervals whose label `accept` rejects are
/// skipped, and so are intervals still open at the end unless `include_open`.
pub fn state_time_stacks(
    capture: &Capture,
    state: IntervalKind,
    include_open: bool,
    mut accept: impl FnMut(StrId) -> bool,
) -> Vec<(StackId, i64)> {
    let end = capture.time_range_ns.map_or(i64::MAX, |(_, e)| e);
    let iv = &capture.intervals;
    let mut sums: HashMap<StackId, i64> = HashMap::new();
    for task in &capture.tasks {
        if task.kind != TaskKind::Goroutine {
            continue;
        }
        for i in task.intervals.indices() {
            let Some(v) = iv.get(i) else { continue };
            if v.kind != state || v.depth != 0 || (!include_open && v.end_ns >= end) || !accept(v.label) {
                continue;
            }
            *sums.entry(v.stack).or_insert(0) += v.end_ns - v.start_ns;
        }
    }
    let mut out: Vec<(StackId, i64)> = sums.into_iter().filter(|&(_, ns)| ns > 0).collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FormatKind, Frame, IntervalRange, StackId, Task};

    /// Goroutine 1 (existed before) creates 2 and 3 and ends; 2 blocks for good; 3 blocks, is
    /// woken once and blocks again until the end; 4 existed before, parked the whole trace.
    fn capture() -> Capture {
        let mut c = Capture::new("t", FormatKind::GoExecutionTrace);
        let func = c.strings.intern("main.worker");
        let entry = c.tables.frame_id(Frame { func, ..Frame::default() });
        let other = c.strings.intern("main.main");
        let main = c.tables.frame_id(Frame { func: other, ..Frame::default() });
        let stack = c.tables.stack_id(&[entry]);
        let recv = c.strings.intern("chan receive");
        let push = |c: &mut Capture, start_ns, end_ns, kind, label, stack| {
            let mut b = crate::model::IntervalsBuilder::from(std::mem::take(&mut c.intervals));
            b.push_interval(crate::model::Interval { start_ns, end_ns, kind, label, stack, depth: 0 });
            c.intervals = b.finish();
        };
        let task = |c: &mut Capture,
                    id,
                    flags,
                    parent: Option<u64>,
                    start: Option<i64>,
                    end: Option<i64>,
                    start_func,
                    intervals: &[(i64, i64, IntervalKind, StrId, StackId)]| {
            let first = c.intervals.len() as u32;
            for &(s, e, k, l, st) in intervals {
                push(c, s, e, k, l, st);
            }
            c.tasks.push(Task {
                id,
                flags,
                parent_id: parent.into(),
                start_ns: start.into(),
                end_ns: end.into(),
                start_func: Some(start_func),
                created_by: Some(main),
                intervals: IntervalRange { start: first, len: intervals.len() as u32 },
                ..Task::default()
            });
        };
        let (run, blk) = (IntervalKind::Running, IntervalKind::Blocked);
        task(
            &mut c,
            1,
            TaskFlags::EXISTED_BEFORE | TaskFlags::ENDED,
            None,
            None,
            Some(30),
            main,
            &[(0, 30, run, StrId::EMPTY, StackId::EMPTY)],
        );
        task(
            &mut c,
            2,
            TaskFlags::empty(),
            Some(1),
            Some(10),
            None,
            entry,
            &[(10, 20, run, StrId::EMPTY, StackId::EMPTY), (20, 100, blk, recv, stack)],
        );
        task(
            &mut c,
            3,
            TaskFlags::empty(),
            Some(1),
            Some(15),
            None,
            entry,
            &[
                (15, 40, blk, recv, stack),
                (40, 50, run, StrId::EMPTY, StackId::EMPTY),
                (50, 100, blk, recv, stack),
            ],
        );
        task(
            &mut c,
            4,
            TaskFlags::EXISTED_BEFORE,
            None,
            None,
            None,
            entry,
            &[(0, 100, blk, StrId::EMPTY, stack)],
        );
        c.time_range_ns = Some((0, 100));
        c
    }

    #[test]
    fn blocked_at_end_orphans_and_sites() {
        let c = capture();
        let f = TraceFacts::new(&c);
        let task = |id: u64| c.tasks.iter().position(|t| t.id == id).unwrap() as u32;
        let g = |id: u64| f.parked(task(id)).unwrap();
        // 1 ended; the others are parked.
        assert!(f.parked(task(1)).is_none());
        assert_eq!(f.all_parked().map(|p| p.task).collect::<Vec<_>>(), [task(2), task(3), task(4)]);
        assert_eq!((g(2).blocked_since_ns, g(2).blocked_ns(f.end_ns), g(2).unblocks), (20, 80, 0));
        assert_eq!((g(2).orphaned_at_ns, g(2).creator), (Some(30), Some(task(1))));
        assert_eq!(c.str(g(2).block_reason), "chan receive");
        assert_eq!((g(3).blocked_since_ns, g(3).unblocks), (50, 1));
        assert!(g(3).is_orphan());
        assert!(g(4).blocked_before_trace && !g(4).is_orphan() && g(4).creator.is_none());
        assert_eq!((g(4).blocked_since_ns, g(4).orphaned_at_ns), (0, None));

        let worker =
            f.sites.iter().find(|s| s.start_func.is_some_and(|s| c.func_name(s) == "main.worker")).unwrap();
        assert_eq!(
            (worker.alive_at_start, worker.created, worker.ended, worker.blocked_at_end),
            (1, 2, 0, 3)
        );
        assert_eq!(worker.live(&c), vec![(0, 1), (10, 2), (15, 3)]);
        assert!(worker.only_grows());
        assert_eq!(worker.peak(&c), 3);
        let main =
            f.sites.iter().find(|s| s.start_func.is_some_and(|s| c.func_name(s) == "main.main")).unwrap();
        assert_eq!(main.live(&c), vec![(0, 1), (30, 0)]);
        assert!(!main.only_grows());
    }

    #[test]
    fn a_trace_is_a_window_when_most_goroutines_existed_before_it() {
        let mut c = capture();
        // Goroutines 1 and 4 of 4 existed before: half is not most.
        assert_eq!(TraceFacts::new(&c).window, None);
        c.tasks.update(1, |t| t.flags |= TaskFlags::EXISTED_BEFORE);
        c.trace = Some(Box::new(crate::model::TraceInfo {
            first_generation: 7,
            cut_at_ns: Some(50),
            ..Default::default()
        }));
        let f = TraceFacts::new(&c);
        assert_eq!(
            f.window,
            Some(Window { span_ns: 100, existed_before: 3, goroutines: 4, first_generation: 7 })
        );
        // A cut counts only where the file is marked cut off.
        assert_eq!(f.cut_at_ns, None);
        c.source.truncated = true;
        assert_eq!(TraceFacts::new(&c).cut_at_ns, Some(50));
    }

    #[test]
    fn block_time_counts_closed_blocks_like_go_and_open_ones_on_request() {
        let c = capture();
        let stack = c.tables.stack_ids().last().unwrap();
        // Only goroutine 3's first block ended before the trace did.
        assert_eq!(block_time_stacks(&c, BlockReasons::Sync, false), vec![(stack, 25)]);
        // Open ones too (goroutine 4 has no reason, so only `All` counts it).
        assert_eq!(block_time_stacks(&c, BlockReasons::Sync, true), vec![(stack, 25 + 80 + 50)]);
        assert_eq!(block_time_stacks(&c, BlockReasons::All, true), vec![(stack, 25 + 80 + 50 + 100)]);
        assert!(block_time_stacks(&c, BlockReasons::Network, true).is_empty());
    }
}
