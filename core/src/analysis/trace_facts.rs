//! Facts about goroutines that only an execution trace can give, for the leak rules: whether a
//! goroutine is parked at the end and has not been woken since it parked (and since when), the
//! reason and stack of that block, how often it was woken before, whether its creator ended
//! while it stayed parked, and per entry function how many goroutines were alive over time.
//! Also the "block time by stack" profile (what `go tool trace -pprof=sync` shows).
//!
//! Everything is computed from the model (tasks and their state intervals), so it works for any
//! capture with goroutine state intervals; for captures without them it is empty.

use hashbrown::HashMap;

use crate::model::{Capture, FrameId, IntervalKind, OptNs, StackId, StrId, TaskFlags, TaskKind};

/// What a trace says about one goroutine, for leak rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoroutineFacts {
    /// Index of the goroutine's task.
    pub task: u32,
    /// Parked at the end of the trace, in a block that lasts to the end: it has not been
    /// unblocked since it blocked.
    pub blocked_at_end: bool,
    /// When that block began; for goroutines parked since before the trace, the trace's start
    /// (a lower bound, see `blocked_before_trace`).
    pub blocked_since_ns: OptNs,
    /// The block began before the trace did: the trace never saw it awake.
    pub blocked_before_trace: bool,
    /// How long it has been blocked at the end (a lower bound when `blocked_before_trace`).
    pub blocked_ns: OptNs,
    /// The block's reason in the trace's words (`chan receive`, `select`, `sync`, `sleep`,
    /// ...); empty when the trace only saw its status (which carries no reason).
    pub block_reason: StrId,
    /// The stack where it blocked (or its stack when the trace first saw it parked).
    pub block_stack: StackId,
    /// How many times it was woken (left a blocked state) during the trace.
    pub unblocks: u32,
    /// Its creator's task, where the trace saw the creation by a goroutine.
    pub creator: Option<u32>,
    /// When its creator ended, if the creator ended during the trace while this goroutine is
    /// still parked at the end: it was orphaned.
    pub orphaned_at_ns: OptNs,
}

// A trace can have a goroutine per 80 bytes of file, and these facts are kept for every one.
const _: () = assert!(size_of::<GoroutineFacts>() <= 56);

impl GoroutineFacts {
    /// Whether its creator ended during the trace and it stays parked at the end.
    pub fn is_orphan(&self) -> bool {
        self.orphaned_at_ns.is_some()
    }
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
    /// Live count over time: `(time, count from then on)`, starting at the trace's start,
    /// one step per change, ascending.
    pub live: Vec<(i64, u32)>,
    /// Task indices of the site's goroutines, ascending.
    pub members: Vec<u32>,
}

impl CreationSite {
    /// Whether the live count only went up during the trace: goroutines were created and none
    /// of the site's goroutines ended.
    pub fn only_grows(&self) -> bool {
        self.created > 0 && self.ended == 0
    }

    /// The most alive at once.
    pub fn peak(&self) -> u32 {
        self.live.iter().map(|&(_, n)| n).max().unwrap_or(0)
    }
}

/// The trace facts of one capture.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceFacts {
    /// The trace's start and end.
    pub start_ns: i64,
    /// The trace's end.
    pub end_ns: i64,
    /// One entry per goroutine task with state intervals, by task index ascending.
    pub goroutines: Vec<GoroutineFacts>,
    /// Creation sites, by entry function name (unknown last).
    pub sites: Vec<CreationSite>,
}

impl TraceFacts {
    /// Computes the facts of a capture; empty when it has no time range or no intervals.
    pub fn new(capture: &Capture) -> Self {
        let Some((start_ns, end_ns)) = capture.time_range_ns else { return Self::default() };
        let iv = &capture.intervals;
        // Goroutine tasks by id: a sorted list of indices takes 4 bytes a goroutine where a
        // hash map takes 16 and more.
        let mut by_id: Vec<u32> = (0..capture.tasks.len() as u32)
            .filter(|&i| capture.tasks.get(i as usize).is_some_and(|t| t.kind == TaskKind::Goroutine))
            .collect();
        let id_of = |i: &u32| capture.tasks.get(*i as usize).map_or(u64::MAX, |t| t.id);
        by_id.sort_by_key(id_of);
        // Sized once: a trace can have hundreds of thousands of goroutines, and growing by
        // doubling would leave up to half the table unused.
        let mut goroutines = Vec::with_capacity(
            capture.tasks.iter().filter(|t| t.kind == TaskKind::Goroutine && t.intervals.len > 0).count(),
        );
        for (index, task) in capture.tasks.iter().enumerate() {
            if task.kind != TaskKind::Goroutine || task.intervals.len == 0 {
                continue;
            }
            // One walk over the task's state row, without collecting it: a goroutine that ran
            // all through a large trace has millions of intervals.
            let (mut states, mut unblocks, mut last) = (0usize, 0u32, None);
            for i in task.intervals.indices().take_while(|&i| iv.depth(i) == 0) {
                states += 1;
                last = Some(i);
                if iv.kind(i) == IntervalKind::Blocked && iv.end(i) < end_ns {
                    unblocks += 1;
                }
            }
            let ended = task.flags.contains(TaskFlags::ENDED);
            let blocked_at_end =
                !ended && last.is_some_and(|i| iv.kind(i) == IntervalKind::Blocked && iv.end(i) == end_ns);
            let since = last.filter(|_| blocked_at_end).map(|i| iv.start(i));
            let blocked_before_trace =
                blocked_at_end && states == 1 && task.flags.contains(TaskFlags::EXISTED_BEFORE);
            let creator = task
                .parent_id
                .get()
                .filter(|_| !task.flags.contains(TaskFlags::EXISTED_BEFORE))
                // The last task with the id, as the map this replaced kept: an id repeats when
                // the runtime recreates a goroutine for a cgo callback.
                .and_then(|p| {
                    let after = by_id.partition_point(|i| id_of(i) <= p);
                    after.checked_sub(1).and_then(|k| by_id.get(k).copied()).filter(|i| id_of(i) == p)
                })
                .filter(|&c| {
                    capture.tasks.get(c as usize).and_then(|t| t.start_ns.get()) <= task.start_ns.get()
                });
            let orphaned_at_ns = creator
                .filter(|_| blocked_at_end)
                .and_then(|c| capture.tasks.get(c as usize))
                .filter(|c| c.flags.contains(TaskFlags::ENDED))
                .and_then(|c| c.end_ns.get());
            goroutines.push(GoroutineFacts {
                task: index as u32,
                blocked_at_end,
                blocked_since_ns: OptNs::from(since),
                blocked_before_trace,
                blocked_ns: OptNs::from(since.map(|s| end_ns.saturating_sub(s))),
                block_reason: last.filter(|_| blocked_at_end).map(|i| iv.label(i)).unwrap_or_default(),
                block_stack: last
                    .filter(|_| blocked_at_end)
                    .map(|i| iv.stack(i))
                    .filter(|s| *s != StackId::EMPTY)
                    .unwrap_or(if blocked_at_end { task.stack } else { StackId::EMPTY }),
                unblocks,
                creator,
                orphaned_at_ns: OptNs::from(orphaned_at_ns),
            });
        }
        let sites = sites(capture, &goroutines, start_ns);
        Self { start_ns, end_ns, goroutines, sites }
    }

    /// The facts of one task, if it is a goroutine with intervals.
    pub fn goroutine(&self, task: u32) -> Option<&GoroutineFacts> {
        self.goroutines.binary_search_by_key(&task, |g| g.task).ok().and_then(|i| self.goroutines.get(i))
    }
}

fn sites(capture: &Capture, goroutines: &[GoroutineFacts], start_ns: i64) -> Vec<CreationSite> {
    // Keyed by the function's name: the creation event names the entry by its start PC and a
    // stack by a PC inside it, so the two frames differ in their line.
    let mut index: HashMap<Option<StrId>, usize> = HashMap::new();
    let mut sites: Vec<CreationSite> = Vec::new();
    // Each site's creation and end times, apart: a (time, ±1) pair would take 16 bytes.
    let mut changes: Vec<(Vec<i64>, Vec<i64>)> = Vec::new();
    for g in goroutines {
        let Some(task) = capture.tasks.get(g.task as usize) else { continue };
        let key = task.start_func.map(|f| capture.tables.frame(f).func);
        let slot = *index.entry(key).or_insert_with(|| {
            sites.push(CreationSite {
                start_func: task.start_func,
                created_by: Vec::new(),
                alive_at_start: 0,
                created: 0,
                ended: 0,
                alive_at_end: 0,
                blocked_at_end: 0,
                live: Vec::new(),
                members: Vec::new(),
            });
            changes.push((Vec::new(), Vec::new()));
            sites.len() - 1
        });
        let (Some(site), Some((creations, ends))) = (sites.get_mut(slot), changes.get_mut(slot)) else {
            continue;
        };
        site.members.push(g.task);
        if task.flags.contains(TaskFlags::EXISTED_BEFORE) {
            site.alive_at_start += 1;
        } else {
            site.created += 1;
            // The creation event's frame is the entry itself; prefer it to a frame inside it.
            if site.created == 1 {
                site.start_func = task.start_func;
            }
            creations.push(task.start_ns.get().unwrap_or(start_ns));
            if let Some(f) = task.created_by
                && !site.created_by.contains(&f)
            {
                site.created_by.push(f);
            }
        }
        if task.flags.contains(TaskFlags::ENDED) {
            site.ended += 1;
            ends.push(task.end_ns.get().unwrap_or(start_ns));
        } else {
            site.alive_at_end += 1;
        }
        if g.blocked_at_end {
            site.blocked_at_end += 1;
        }
    }
    for (site, (mut creations, mut ends)) in sites.iter_mut().zip(changes) {
        site.created_by.sort_unstable();
        creations.sort_unstable();
        ends.sort_unstable();
        let mut live = i64::from(site.alive_at_start);
        site.live.push((start_ns, site.alive_at_start));
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
            live += delta;
            let n = live.max(0) as u32;
            match site.live.last_mut() {
                Some(last) if last.0 == t => last.1 = n,
                _ => site.live.push((t, n)),
            }
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
    for task in capture.tasks.iter().filter(|t| t.kind == TaskKind::Goroutine) {
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
        let g = |id: u64| f.goroutines.iter().find(|g| c.tasks[g.task as usize].id == id).unwrap();
        assert!(!g(1).blocked_at_end);
        assert_eq!(
            (g(2).blocked_since_ns.get(), g(2).blocked_ns.get(), g(2).unblocks),
            (Some(20), Some(80), 0)
        );
        assert_eq!(g(2).orphaned_at_ns, OptNs::some(30));
        assert_eq!(c.str(g(2).block_reason), "chan receive");
        assert_eq!((g(3).blocked_since_ns.get(), g(3).unblocks), (Some(50), 1));
        assert!(g(3).is_orphan());
        assert!(g(4).blocked_before_trace && !g(4).is_orphan());
        assert_eq!(g(4).blocked_since_ns, OptNs::some(0));

        let worker =
            f.sites.iter().find(|s| s.start_func.is_some_and(|s| c.func_name(s) == "main.worker")).unwrap();
        assert_eq!(
            (worker.alive_at_start, worker.created, worker.ended, worker.blocked_at_end),
            (1, 2, 0, 3)
        );
        assert_eq!(worker.live, vec![(0, 1), (10, 2), (15, 3)]);
        assert!(worker.only_grows());
        assert_eq!(worker.peak(), 3);
        let main =
            f.sites.iter().find(|s| s.start_func.is_some_and(|s| c.func_name(s) == "main.main")).unwrap();
        assert_eq!(main.live, vec![(0, 1), (30, 0)]);
        assert!(!main.only_grows());
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
