//! Turning ordered events into the model: a task per goroutine (and per proc, and one for the
//! GC) with its state intervals, create and unblock links, user annotations, CPU samples and
//! metrics.
//!
//! Intervals are appended as transitions close them, in time order, with the task each belongs
//! to in a side column; at the end one stable counting sort by task gives every task its
//! contiguous range, column by column so that only one extra column is alive at a time.

use crate::model::{OptId, OptNs};
use hashbrown::HashMap;

use super::idmap::{IdMap, Room};
use super::order::{NONE, OLD_UNDETERMINED, Ordered, gstatus, pstatus};
use super::problems::Problems;
use super::tables::{Interned, RawSample};
use super::wire::{self, ev};
use crate::model::{
    Capture, Counter, FrameId, IntervalKind, IntervalRange, Intervals, IntervalsBuilder, Link, LinkKind,
    SampleType, Samples, StackId, StrId, Task, TaskFlags, TaskKind, TraceInfo, UserLog, UserRegion, UserTask,
};

/// Event kinds as Go's reader reports them, for counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub(crate) enum Kind {
    Sync,
    Metric,
    Label,
    StackSample,
    RangeBegin,
    RangeActive,
    RangeEnd,
    TaskBegin,
    TaskEnd,
    RegionBegin,
    RegionEnd,
    Log,
    StateTransition,
    Experimental,
}

const KIND_NAMES: [&str; 14] = [
    "Sync",
    "Metric",
    "Label",
    "StackSample",
    "RangeBegin",
    "RangeActive",
    "RangeEnd",
    "TaskBegin",
    "TaskEnd",
    "RegionBegin",
    "RegionEnd",
    "Log",
    "StateTransition",
    "Experimental",
];

fn kind_of(typ: u8) -> Kind {
    match typ {
        ev::PROCS_CHANGE | ev::HEAP_ALLOC | ev::HEAP_GOAL => Kind::Metric,
        ev::GO_LABEL => Kind::Label,
        ev::STW_BEGIN | ev::GC_BEGIN | ev::GC_SWEEP_BEGIN | ev::GC_MARK_ASSIST_BEGIN => Kind::RangeBegin,
        ev::GC_ACTIVE | ev::GC_SWEEP_ACTIVE | ev::GC_MARK_ASSIST_ACTIVE => Kind::RangeActive,
        ev::STW_END | ev::GC_END | ev::GC_SWEEP_END | ev::GC_MARK_ASSIST_END => Kind::RangeEnd,
        ev::USER_TASK_BEGIN => Kind::TaskBegin,
        ev::USER_TASK_END => Kind::TaskEnd,
        ev::USER_REGION_BEGIN => Kind::RegionBegin,
        ev::USER_REGION_END => Kind::RegionEnd,
        ev::USER_LOG => Kind::Log,
        ev::FIRST_EXPERIMENTAL..=ev::LAST_EXPERIMENTAL => Kind::Experimental,
        _ => Kind::StateTransition,
    }
}

/// What a span on a lane is, to find it again when it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SpanKey {
    Region { user_task: u64, name: StrId },
    Assist,
    Sweep,
    Stw,
}

#[derive(Clone, Copy, Debug)]
struct OpenSpan {
    key: SpanKey,
    depth: u16,
    start: i64,
    label: StrId,
    stack: StackId,
}

/// Builder-side state of one task's lane: the kind of its open depth-0 interval (`None` when
/// none is open), when it began, with what label and stack. The latest stack seen goes
/// straight to the task, and spans to [`LaneSpans`]. Only tasks that may still change hold a
/// lane: a goroutine's is handed back when it ends (an ended goroutine's lane has nothing
/// open, which is what a new lane has), so lanes number the goroutines alive at once, not
/// all the trace's goroutines: a trace can have a goroutine per 16 bytes of file, and a lane
/// per goroutine was 17 bytes each at the parse's peak.
#[derive(Clone, Debug, Default)]
struct Lane {
    open: Option<IntervalKind>,
    since: i64,
    label: StrId,
    stack: StackId,
}

const _: () = assert!(size_of::<Lane>() <= 24);

/// The spans of a lane, kept apart from [`Lane`] because few lanes have any: procs (sweeps),
/// the GC lane (stop-the-world) and goroutines with user regions.
#[derive(Clone, Debug, Default)]
struct LaneSpans {
    open: Vec<OpenSpan>,
    /// The deepest span so far: spans begun before the trace go below it.
    max_depth: u16,
}

/// Strings the builder labels things with, interned once.
struct Names {
    running: StrId,
    runnable: StrId,
    syscall: StrId,
    waiting: StrId,
    ended: StrId,
    gc_mark: StrId,
    gc_sweep: StrId,
    gc_assist: StrId,
    gc_lane: StrId,
}

const COUNTER_NAMES: [&str; 3] =
    ["/memory/classes/heap/objects:bytes", "/gc/heap/goal:bytes", "/sched/gomaxprocs:threads"];

/// Tables sized from an estimate grow by a this-th of their length when it falls short
/// (a trace that contradicts itself closes more intervals than its events say), rather than
/// doubling: a doubled table of intervals would be mostly empty.
const GROWTH_DIVISOR: usize = 8;

/// Room for the tasks that are not goroutines (procs, the GC) when tables are sized from a
/// count of goroutines.
const LANES_BESIDE_GOROUTINES: usize = 64;

/// How the builder keeps intervals.
#[derive(Debug)]
enum Store {
    /// Appended with their task beside them, sorted by task at the end.
    Append { task: Vec<u32> },
    /// Only counted per task: the first of two passes over a large trace.
    Count { per_task: Vec<u32>, links: usize, ends: usize },
    /// Written straight into their final slots, as counted by a first pass: each task's count
    /// of slots, from where the task before it ends, in `counted` (varints in task order, read
    /// once as the tasks are made: a goroutine-dense trace's counts are a byte each where a
    /// `u32` each was 16 MB of its peak). A task's `intervals` says where its slots start and
    /// how many are written, so the ranges are in place when the pass ends; its slots end where
    /// the next task's begin, or at `next_start` for the last task made.
    Place { counted: Vec<u8>, read: usize, next_start: u32 },
    /// Written into slots taken `1 << shift` at a time as a task needs them (`owner[j]`: the
    /// task of block `j`), gathered by task at the end: one pass where its tasks are few
    /// against its intervals, so that the blocks they leave part empty cost little. A task's
    /// `intervals` says where its next interval goes and how many it wrote until then.
    Blocks { shift: u32, owner: Vec<u32>, room: usize },
}

/// What the first of two passes counted.
#[derive(Debug, Default)]
pub(crate) struct Counts {
    /// Intervals of each task, by task index, until the second pass takes them.
    pub per_task: Vec<u32>,
    /// Number of tasks.
    pub tasks: usize,
    /// Links.
    pub links: usize,
    /// Intervals whose end is not the next state's start.
    pub ends: usize,
    /// The trace's first time, which interval times are stored against.
    pub start: i64,
    /// The most goroutines alive at once, and the largest goroutine id.
    pub goroutines: Room,
    /// The counting pass's task table, whose memory the second pass's table takes over (see
    /// [`Tasks::reuse`](crate::model::Tasks::reuse)).
    pub tasks_memory: crate::model::Tasks,
}

/// Builds one capture from ordered events.
pub(crate) struct Builder {
    pub capture: Capture,
    /// Lanes of the tasks that hold one, by slot.
    lanes: Vec<Lane>,
    /// The slot in `lanes` of each task that holds one. A map by task number in chunks that go
    /// when their tasks' lanes do: a trace of millions of short goroutines holds a few
    /// thousand lanes at a time, and a slot for every task was 4 bytes a goroutine.
    lane_of: IdMap<u32>,
    /// Slots handed back, for the next task that needs one.
    free_lanes: Vec<u32>,
    spans: HashMap<u32, LaneSpans>,
    goroutines: IdMap<u32>,
    procs: HashMap<u64, u32>,
    gc_lane: Option<u32>,
    iv: IntervalsBuilder,
    store: Store,
    trace_start: Option<i64>,
    last_time: i64,
    first_generation: bool,
    counts: [u64; 14],
    info: TraceInfo,
    active_user_tasks: HashMap<u64, usize>,
    counters: [Option<usize>; 3],
    /// Events of each counter's type in the trace, to size its series once.
    counter_sizes: [usize; 3],
    names: Names,
    pub problems: Problems,
    /// Store every interval's end, even where the next state begins at it: what the leaner
    /// default must come out equal to.
    #[cfg(test)]
    every_end: bool,
}

#[cfg(test)]
thread_local! {
    /// Builders made on this thread store every end (see `Builder::every_end`).
    pub(crate) static EVERY_END: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

impl Builder {
    /// A builder filling `capture`.
    pub fn new(mut capture: Capture) -> Self {
        let mut s = |t: &str| capture.strings.intern(t);
        let names = Names {
            running: s("running"),
            runnable: s("runnable"),
            syscall: s("syscall"),
            waiting: s("waiting"),
            ended: s("ended"),
            gc_mark: s("GC concurrent mark phase"),
            gc_sweep: s("GC incremental sweep"),
            gc_assist: s("GC mark assist"),
            gc_lane: s("GC"),
        };
        Self {
            capture,
            lanes: Vec::new(),
            lane_of: IdMap::default(),
            free_lanes: Vec::new(),
            spans: HashMap::new(),
            goroutines: IdMap::default(),
            procs: HashMap::new(),
            gc_lane: None,
            iv: IntervalsBuilder::default(),
            store: Store::Append { task: Vec::new() },
            trace_start: None,
            // Go's reader starts from 0, so a first event at time 0 becomes 1; we do the same so that
            // times match it exactly.
            last_time: 0,
            first_generation: true,
            counts: [0; 14],
            info: TraceInfo::default(),
            active_user_tasks: HashMap::new(),
            counters: [None; 3],
            counter_sizes: [0; 3],
            names,
            problems: Problems::default(),
            #[cfg(test)]
            every_end: EVERY_END.get(),
        }
    }

    /// Turns this builder into the first of two passes: it only counts each task's intervals
    /// (links, samples and metrics are not kept), for [`Builder::placing`] to use. `goroutines`
    /// sizes its table of goroutines, as estimated from the event counts.
    pub fn counting(mut self, goroutines: Room) -> Self {
        // Room for every task at once: grown by doubling, the counts (kept through the second
        // pass) held up to twice the room they needed, 13 MB of a 65 MB trace's peak. Every
        // task but the procs' and the GC's is a goroutine; more than the estimate grow as
        // before.
        let per_task = Vec::with_capacity(goroutines.seen.saturating_add(LANES_BESIDE_GOROUTINES));
        self.store = Store::Count { per_task, links: 0, ends: 0 };
        self.goroutines = IdMap::for_room(goroutines);
        self
    }

    /// Turns this builder into the second of two passes: `per_task` (from a counting pass over
    /// the same trace) gives every task its final range, so intervals are written in place and
    /// never sorted.
    /// It takes the counts per task and keeps them as varints (a byte a goroutine of a dense
    /// trace), read once as the tasks are made; the `u32`s go before the columns are made.
    pub fn placing(mut self, counts: &mut Counts) -> Self {
        let per_task = std::mem::take(&mut counts.per_task);
        let total = per_task.iter().map(|&n| n as usize).sum();
        let mut counted = Vec::with_capacity(per_task.len());
        for &n in &per_task {
            wire::put_uvarint(&mut counted, u64::from(n));
        }
        drop(per_task);
        self.capture.tasks.reuse(std::mem::take(&mut counts.tasks_memory));
        self.iv = IntervalsBuilder::with_len(total, counts.start);
        self.iv.reserve_ends(counts.ends);
        self.store = Store::Place { counted, read: 0, next_start: 0 };
        // Every task but the procs' and the GC's is a goroutine.
        self.goroutines = IdMap::for_room(Room {
            most: counts.tasks,
            largest: counts.goroutines.largest,
            seen: counts.tasks,
        });
        self
    }

    /// Makes this builder the only pass over a trace, writing intervals into blocks of
    /// `1 << shift` slots (see [`Store::Blocks`]); `goroutines` sizes its table of goroutines,
    /// as estimated from the event counts.
    pub fn in_blocks(mut self, shift: u32, goroutines: Room) -> Self {
        self.store = Store::Blocks { shift, owner: Vec::new(), room: 0 };
        self.goroutines = IdMap::for_room(goroutines);
        self
    }

    fn is_counting(&self) -> bool {
        matches!(self.store, Store::Count { .. })
    }

    /// Reserves room for a trace with these event counts (by wire type; `first_generation`
    /// counts the first generation's alone), so that the big tables are allocated once at
    /// their final size: growing them by doubling would copy them and, for a while, hold two
    /// copies. With what a first pass `counted`, tasks and links are sized exactly; from event
    /// counts alone they are close estimates, grown in small steps if short (see
    /// [`GROWTH_DIVISOR`]) and trimmed at the end.
    pub fn reserve(&mut self, counts: &[u64; 256], first_generation: &[u64; 256], counted: Option<&Counts>) {
        let n = |types: &[u8]| -> usize {
            types.iter().map(|&t| counts.get(usize::from(t)).copied().unwrap_or(0) as usize).sum()
        };
        let Estimate { lanes, intervals } = estimate(counts, first_generation);
        match &mut self.store {
            Store::Append { task } => {
                self.iv.reserve_exact(intervals);
                task.reserve_exact(intervals);
            }
            // Each lane leaves at most a block part empty.
            Store::Blocks { shift, room, .. } => *room = intervals + (lanes << *shift),
            Store::Count { .. } | Store::Place { .. } => {}
        }
        let tasks = counted.map_or(lanes, |c| c.tasks);
        self.capture.tasks.reserve_exact(tasks);
        self.lane_of.reserve_dense(self.capture.tasks.capacity());
        if self.is_counting() {
            return;
        }
        let links = counted.map_or_else(
            || {
                n(&[
                    ev::GO_CREATE,
                    ev::GO_CREATE_BLOCKED,
                    ev::GO_UNBLOCK,
                    ev::GO_SWITCH,
                    ev::GO_SWITCH_DESTROY,
                ])
            },
            |c| c.links,
        );
        self.capture.links.reserve_exact(links);
        self.counter_sizes = [n(&[ev::HEAP_ALLOC]), n(&[ev::HEAP_GOAL]), n(&[ev::PROCS_CHANGE])];
    }

    /// Makes times strictly increasing, as Go's reader does: an event no later than the one
    /// before it is moved just after it.
    pub fn fix_time(&mut self, t: i64) -> i64 {
        let t = if t <= self.last_time { self.last_time.saturating_add(1) } else { t };
        self.last_time = t;
        t
    }

    /// A generation begins (its sync point), at `time` (not yet fixed); `cut` when the file
    /// ends inside it.
    pub fn sync(&mut self, time: i64, generation_index: usize, number: u64, cut: bool) {
        let t = self.fix_time(time);
        self.trace_start.get_or_insert(t);
        self.first_generation = generation_index == 0;
        if self.first_generation {
            self.info.first_generation = number;
        }
        if cut {
            self.info.cut_at_ns = Some(t);
        }
        self.info.generations += 1;
        self.count(Kind::Sync);
    }

    /// Starts a trace that has no generations (the old format) at `time`, taken as is: Go's
    /// reader dates that first sync point just before the first event, outside its time fixing.
    pub fn start_at(&mut self, time: i64) {
        self.last_time = time;
        self.trace_start = Some(time);
        self.first_generation = true;
        self.info.generations = 1;
        self.count(Kind::Sync);
    }

    /// The sync event that closes the trace; returns its time, the trace's end.
    pub fn final_sync(&mut self) -> i64 {
        let t = self.fix_time(self.last_time);
        self.count(Kind::Sync);
        t
    }

    /// Records the format version and the first generation's frequency.
    pub fn set_format(&mut self, version: u32, ticks_per_second: Option<u64>) {
        self.info.format_version = version;
        if self.info.ticks_per_second == 0
            && let Some(f) = ticks_per_second
        {
            self.info.ticks_per_second = f;
        }
    }

    /// Counts a skipped experimental batch.
    pub fn experimental_batch(&mut self) {
        self.info.experimental_batches += 1;
    }

    fn count(&mut self, kind: Kind) {
        if let Some(c) = self.counts.get_mut(kind as usize) {
            *c += 1;
        }
    }

    fn start(&self) -> i64 {
        self.trace_start.unwrap_or(self.last_time)
    }

    /// When a state first seen at `t` on a proc or GC lane began: in the first generation, the
    /// trace's start (it was already going on), but never before the lane's last interval
    /// ended, which a trace that contradicts itself could otherwise overlap.
    fn backdated(&self, lane: u32, t: i64) -> i64 {
        if !self.first_generation {
            return t;
        }
        let last_end = self.lane(lane).map_or(i64::MIN, |l| l.since);
        self.start().max(last_end).min(t)
    }

    fn str(&mut self, ids: &Interned, id: u64, offset: usize) -> StrId {
        ids.str(id).unwrap_or_else(|| {
            self.problems.add("event names a string missing from its generation's table", offset);
            StrId::EMPTY
        })
    }

    fn stack(&mut self, ids: &Interned, id: u64, offset: usize) -> StackId {
        ids.stack(id).unwrap_or_else(|| {
            self.problems.add("event names a stack missing from its generation's table", offset);
            StackId::EMPTY
        })
    }

    fn new_task(&mut self, task: Task) -> u32 {
        let tasks = &mut self.capture.tasks;
        if tasks.len() == tasks.capacity() {
            let more = tasks.len() / GROWTH_DIVISOR + 64;
            tasks.reserve_exact(more);
            self.lane_of.reserve_dense(tasks.capacity());
        }
        let index = self.capture.tasks.len() as u32;
        let mut task = task;
        if let Store::Place { counted, read, next_start } = &mut self.store {
            task.intervals = IntervalRange { start: *next_start, len: 0 };
            // Past the counts (a task the first pass did not make, which cannot be): no slots.
            let count = wire::uvarint(counted, read).unwrap_or(0);
            *next_start = next_start.saturating_add(u32::try_from(count).unwrap_or(u32::MAX));
        }
        self.capture.tasks.push(task);
        index
    }

    /// The lane of `task`, where it holds one.
    #[inline]
    fn lane(&self, task: u32) -> Option<&Lane> {
        let slot = *self.lane_of.get(u64::from(task))?;
        self.lanes.get(slot as usize)
    }

    /// The lane of `task`, given one if it holds none; `None` for an unknown task.
    #[inline]
    fn lane_mut(&mut self, task: u32) -> Option<&mut Lane> {
        let slot = match self.lane_of.get(u64::from(task)) {
            Some(&slot) => slot,
            None => self.new_lane(task)?,
        };
        self.lanes.get_mut(slot as usize)
    }

    /// Gives `task` a lane: a goroutine's first event, or one after a contradictory end.
    #[cold]
    fn new_lane(&mut self, task: u32) -> Option<u32> {
        if task as usize >= self.capture.tasks.len() {
            return None;
        }
        let slot = self.free_lanes.pop().unwrap_or_else(|| {
            self.lanes.push(Lane::default());
            self.lanes.len() as u32 - 1
        });
        self.lane_of.insert(u64::from(task), slot);
        Some(slot)
    }

    /// Hands back the lane of a task that will not change again (an ended goroutine whose
    /// state and spans are closed); it gets a new one if a contradictory trace goes on with it.
    fn release_lane(&mut self, task: u32) {
        let Some(slot) = self.lane_of.remove(u64::from(task)) else { return };
        if let Some(lane) = self.lanes.get_mut(slot as usize) {
            *lane = Lane::default();
        }
        self.free_lanes.push(slot);
    }

    /// The task of a live goroutine, created (as existing before the trace) if unknown.
    #[inline]
    fn goroutine(&mut self, goid: u64, t: i64) -> u32 {
        if let Some(&task) = self.goroutines.get(goid) {
            return task;
        }
        let task = self.new_task(Task {
            id: goid,
            kind: TaskKind::Goroutine,
            flags: TaskFlags::EXISTED_BEFORE,
            ..Task::default()
        });
        if let Some(lane) = self.lane_mut(task) {
            lane.since = t;
        }
        self.goroutines.insert(goid, task);
        task
    }

    fn known_goroutine(&self, goid: u64) -> Option<u32> {
        if goid == NONE { None } else { self.goroutines.get(goid).copied() }
    }

    fn proc_lane(&mut self, p: u64) -> u32 {
        if let Some(&task) = self.procs.get(&p) {
            return task;
        }
        let name = self.capture.strings.intern(&format!("P{p}"));
        let task = self.new_task(Task { id: p, kind: TaskKind::Resource, name, ..Task::default() });
        self.procs.insert(p, task);
        task
    }

    fn gc_lane(&mut self) -> u32 {
        if let Some(task) = self.gc_lane {
            return task;
        }
        // Proc ids are small; the GC lane takes an id no proc can have.
        let task = self.new_task(Task {
            id: u64::MAX,
            kind: TaskKind::Resource,
            name: self.names.gc_lane,
            ..Task::default()
        });
        self.gc_lane = Some(task);
        task
    }

    /// Stores a closed interval of `task`. `followed` says the task's next depth-0 interval
    /// starts at `end` (a state closed by the next state), so its end need not be stored.
    // One argument per interval column: bundling them in a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    fn push_interval(
        &mut self,
        task: u32,
        start: i64,
        end: i64,
        kind: IntervalKind,
        label: StrId,
        stack: StackId,
        depth: u16,
        followed: bool,
    ) {
        let followed = followed && depth == 0;
        #[cfg(test)]
        let followed = followed && !self.every_end;
        match &mut self.store {
            Store::Append { task: tasks } => {
                let iv = &mut self.iv;
                if iv.is_empty() {
                    // Every time in the trace is from its first on.
                    *iv = IntervalsBuilder::new(self.trace_start.unwrap_or(start));
                }
                if iv.len() == iv.capacity() {
                    let more = iv.len() / GROWTH_DIVISOR + 1024;
                    iv.reserve_exact(more);
                    tasks.reserve_exact(more);
                }
                let i = iv.push(start, kind, label, stack, depth);
                if !followed {
                    iv.set_end(i, end);
                }
                tasks.push(task);
            }
            Store::Count { per_task, ends, .. } => {
                *ends += usize::from(!followed);
                if per_task.len() <= task as usize {
                    per_task.resize(task as usize + 1, 0);
                }
                if let Some(n) = per_task.get_mut(task as usize) {
                    *n += 1;
                }
            }
            Store::Place { next_start, .. } => {
                let tasks = &mut self.capture.tasks;
                let slots_end = tasks.intervals(task as usize + 1).map_or(*next_start, |r| r.start);
                let range = tasks.intervals_mut(task as usize).filter(|r| r.start + r.len < slots_end);
                let Some(range) = range else {
                    // Both passes see the same events in the same order, so this cannot happen.
                    self.problems
                        .add_at("internal: an interval beyond its task's counted range was dropped", None);
                    return;
                };
                let i = range.start + range.len;
                range.len += 1;
                self.iv.set(i, start, kind, label, stack, depth);
                if !followed {
                    self.iv.set_end(i, end);
                }
            }
            Store::Blocks { shift, owner, room } => {
                let Some(range) = self.capture.tasks.intervals_mut(task as usize) else {
                    self.problems.add_at("internal: an interval of an unknown task was dropped", None);
                    return;
                };
                // A task's first interval, or its block is full: it takes the next block.
                if range.len == 0 || range.start.trailing_zeros() >= *shift {
                    // Rows are numbered in 32 bits (as in every capture).
                    let Some(first) =
                        u32::try_from((owner.len() + 1) << *shift).ok().map(|end| end - (1 << *shift))
                    else {
                        self.problems.add_at("more intervals than 2^32: the rest were dropped", None);
                        return;
                    };
                    owner.push(task);
                    range.start = first;
                    let need = first as usize + (1 << *shift);
                    if self.iv.is_empty() {
                        // Every time in the trace is from its first on.
                        let slots = (*room).max(need);
                        self.iv = IntervalsBuilder::with_len(slots, self.trace_start.unwrap_or(start));
                    } else if self.iv.len() < need {
                        self.iv.grow_len(need.max(self.iv.len() + self.iv.len() / GROWTH_DIVISOR));
                    }
                }
                let i = range.start;
                range.start += 1;
                range.len += 1;
                self.iv.set(i, start, kind, label, stack, depth);
                if !followed {
                    self.iv.set_end(i, end);
                }
            }
        }
    }

    fn is_open(&self, task: u32) -> bool {
        self.lane(task).is_some_and(|l| l.open.is_some())
    }

    /// Whether the task is a goroutine that ended.
    fn is_ended(&self, task: u32) -> bool {
        self.capture.tasks.kind_and_flags(task as usize).is_some_and(|(_, f)| f.contains(TaskFlags::ENDED))
    }

    /// Closes the lane's open interval at `t` and opens `kind` (or nothing).
    #[inline]
    fn transition(&mut self, task: u32, t: i64, kind: Option<IntervalKind>, label: StrId, stack: StackId) {
        let Some(lane) = self.lane_mut(task) else { return };
        let closed = lane.open.map(|k| (lane.since, k, lane.label, lane.stack));
        lane.open = kind;
        lane.since = t;
        lane.label = label;
        lane.stack = stack;
        if stack != StackId::EMPTY {
            self.note_stack(task, stack);
        }
        if let Some((since, k, l, s)) = closed {
            self.push_interval(task, since, t, k, l, s, 0, kind.is_some());
        }
    }

    fn open_span(
        &mut self,
        task: u32,
        start: i64,
        key: SpanKey,
        label: StrId,
        stack: StackId,
        backdated: bool,
    ) {
        let lane = self.spans.entry(task).or_default();
        let depth = if backdated {
            lane.max_depth.saturating_add(1)
        } else {
            (1u16..=u16::MAX).find(|d| !lane.open.iter().any(|s| s.depth == *d)).unwrap_or(u16::MAX)
        };
        lane.max_depth = lane.max_depth.max(depth);
        lane.open.push(OpenSpan { key, depth, start, label, stack });
    }

    fn has_span(&self, task: u32, key: SpanKey) -> bool {
        self.spans.get(&task).is_some_and(|l| l.open.iter().any(|s| s.key == key))
    }

    /// The innermost open span of a lane.
    fn last_span(&self, task: u32) -> Option<OpenSpan> {
        self.spans.get(&task).and_then(|l| l.open.last()).copied()
    }

    /// The latest non-empty stack of a task becomes its stack.
    fn note_stack(&mut self, task: u32, stack: StackId) {
        self.capture.tasks.set_stack(task as usize, stack);
    }

    /// Closes the innermost open span with `key`; whether there was one.
    fn close_span(&mut self, task: u32, t: i64, key: SpanKey) -> Option<OpenSpan> {
        let lane = self.spans.get_mut(&task)?;
        let at = lane.open.iter().rposition(|s| s.key == key)?;
        let span = lane.open.remove(at);
        self.push_interval(
            task,
            span.start,
            t,
            IntervalKind::Span,
            span.label,
            span.stack,
            span.depth,
            false,
        );
        Some(span)
    }

    fn link(&mut self, kind: LinkKind, from: u32, to: u32, t: i64) {
        if let Store::Count { links, .. } = &mut self.store {
            *links += 1;
            return;
        }
        self.capture.links.push(Link { kind, from_task: from, from_ns: t, to_task: to, to_ns: t });
    }

    fn counter(&mut self, which: usize, t: i64, value: u64) {
        if self.is_counting() {
            return;
        }
        let slot = self.counter_slot(which);
        if let Some(c) = self.capture.counters.get_mut(slot) {
            c.push(t, value as f64);
        }
    }

    /// The index of counter `which` in the capture, added on first use.
    fn counter_slot(&mut self, which: usize) -> usize {
        if let Some(i) = self.counters.get(which).copied().flatten() {
            return i;
        }
        let name = self.capture.strings.intern(COUNTER_NAMES.get(which).copied().unwrap_or_default());
        let size = self.counter_sizes.get(which).copied().unwrap_or(0);
        self.capture.counters.push(Counter::with_capacity(name, size));
        let i = self.capture.counters.len() - 1;
        if let Some(s) = self.counters.get_mut(which) {
            *s = Some(i);
        }
        i
    }

    /// Applies one ordered event whose time was already fixed.
    pub fn event(&mut self, o: &Ordered, ids: &Interned) {
        let e = &o.ev;
        let t = e.time;
        let a = e.args;
        self.count(kind_of(e.typ));
        match e.typ {
            ev::GO_CREATE | ev::GO_CREATE_BLOCKED | ev::GO_CREATE_SYSCALL => self.create(o, ids),
            ev::GO_START => {
                let task = self.goroutine(a[0], t);
                self.transition(task, t, Some(IntervalKind::Running), StrId::EMPTY, StackId::EMPTY);
            }
            ev::GO_STOP | ev::GO_BLOCK => {
                let label = self.str(ids, a[0], e.offset);
                let stack = self.stack(ids, a[1], e.offset);
                let kind = if e.typ == ev::GO_STOP { IntervalKind::Runnable } else { IntervalKind::Blocked };
                let task = self.goroutine(o.ctx.g, t);
                self.transition(task, t, Some(kind), label, stack);
            }
            ev::GO_DESTROY | ev::GO_DESTROY_SYSCALL => {
                let task = self.goroutine(o.ctx.g, t);
                self.end_goroutine(task, t);
            }
            ev::GO_UNBLOCK | ev::GO_SWITCH | ev::GO_SWITCH_DESTROY => {
                let task = self.goroutine(a[0], t);
                self.transition(task, t, Some(IntervalKind::Runnable), StrId::EMPTY, StackId::EMPTY);
                // Unblocks by the runtime itself (netpoller, timers, sysmon) have no goroutine;
                // only goroutine-to-goroutine wake-ups are worth an arrow.
                if let Some(from) = self.known_goroutine(o.ctx.g).filter(|&f| f != task) {
                    self.link(LinkKind::Unblock, from, task, t);
                }
            }
            ev::GO_SYSCALL_BEGIN => {
                let stack = self.stack(ids, a[1], e.offset);
                let task = self.goroutine(o.ctx.g, t);
                self.transition(task, t, Some(IntervalKind::Syscall), StrId::EMPTY, stack);
            }
            ev::GO_SYSCALL_END => {
                let task = self.goroutine(o.ctx.g, t);
                self.transition(task, t, Some(IntervalKind::Running), StrId::EMPTY, StackId::EMPTY);
            }
            ev::GO_SYSCALL_END_BLOCKED => {
                let task = self.goroutine(o.ctx.g, t);
                self.transition(task, t, Some(IntervalKind::Runnable), StrId::EMPTY, StackId::EMPTY);
            }
            ev::GO_STATUS | ev::GO_STATUS_STACK => {
                let stack = if e.typ == ev::GO_STATUS_STACK {
                    self.stack(ids, a[3], e.offset)
                } else {
                    StackId::EMPTY
                };
                self.go_status(a[0], a[2] as u8, o.old, stack, t);
            }
            ev::PROC_STATUS => {
                let lane = self.proc_lane(a[0]);
                let running = matches!(a[1] as u8, pstatus::RUNNING | pstatus::SYSCALL);
                let is_open = self.is_open(lane);
                if running && !is_open {
                    let since = if o.old == OLD_UNDETERMINED { self.backdated(lane, t) } else { t };
                    self.transition(lane, since, Some(IntervalKind::Running), StrId::EMPTY, StackId::EMPTY);
                } else if !running && is_open {
                    self.transition(lane, t, None, StrId::EMPTY, StackId::EMPTY);
                }
            }
            ev::PROC_START => {
                let lane = self.proc_lane(a[0]);
                self.transition(lane, t, Some(IntervalKind::Running), StrId::EMPTY, StackId::EMPTY);
            }
            ev::PROC_STOP if o.ctx.p != NONE => {
                let lane = self.proc_lane(o.ctx.p);
                self.transition(lane, t, None, StrId::EMPTY, StackId::EMPTY);
            }
            ev::PROC_STEAL => {
                let lane = self.proc_lane(a[0]);
                self.transition(lane, t, None, StrId::EMPTY, StackId::EMPTY);
            }
            ev::GC_ACTIVE | ev::GC_BEGIN => {
                let lane = self.gc_lane();
                let is_open = self.is_open(lane);
                if !is_open {
                    let since = if e.typ == ev::GC_ACTIVE { self.backdated(lane, t) } else { t };
                    let label = self.names.gc_mark;
                    let stack =
                        if e.typ == ev::GC_BEGIN { self.stack(ids, a[1], e.offset) } else { StackId::EMPTY };
                    self.transition(lane, since, Some(IntervalKind::Gc), label, stack);
                }
            }
            ev::GC_END => {
                let lane = self.gc_lane();
                self.transition(lane, t, None, StrId::EMPTY, StackId::EMPTY);
            }
            ev::STW_BEGIN => {
                let kind = self.str(ids, a[0], e.offset);
                let label = self
                    .capture
                    .strings
                    .intern(&format!("stop-the-world ({})", self.capture.strings.resolve(kind)));
                let stack = self.stack(ids, a[1], e.offset);
                let lane = self.gc_lane();
                self.open_span(lane, t, SpanKey::Stw, label, stack, false);
            }
            ev::STW_END => {
                let lane = self.gc_lane();
                if self.close_span(lane, t, SpanKey::Stw).is_none() {
                    self.problems.add("stop-the-world ended that never began", e.offset);
                }
            }
            ev::GC_SWEEP_ACTIVE => {
                let lane = self.proc_lane(a[0]);
                if !self.has_span(lane, SpanKey::Sweep) {
                    let backdated = self.first_generation;
                    let since = if backdated { self.start() } else { t };
                    self.open_span(
                        lane,
                        since,
                        SpanKey::Sweep,
                        self.names.gc_sweep,
                        StackId::EMPTY,
                        backdated,
                    );
                }
            }
            ev::GC_SWEEP_BEGIN if o.ctx.p != NONE => {
                let stack = self.stack(ids, a[0], e.offset);
                let lane = self.proc_lane(o.ctx.p);
                self.open_span(lane, t, SpanKey::Sweep, self.names.gc_sweep, stack, false);
            }
            ev::GC_SWEEP_END if o.ctx.p != NONE => {
                let lane = self.proc_lane(o.ctx.p);
                self.close_span(lane, t, SpanKey::Sweep);
            }
            ev::GC_MARK_ASSIST_ACTIVE => {
                let task = self.goroutine(a[0], t);
                if !self.has_span(task, SpanKey::Assist) {
                    let backdated = self.first_generation;
                    let since = if backdated { self.start() } else { t };
                    self.open_span(
                        task,
                        since,
                        SpanKey::Assist,
                        self.names.gc_assist,
                        StackId::EMPTY,
                        backdated,
                    );
                }
            }
            ev::GC_MARK_ASSIST_BEGIN => {
                let stack = self.stack(ids, a[0], e.offset);
                let task = self.goroutine(o.ctx.g, t);
                self.open_span(task, t, SpanKey::Assist, self.names.gc_assist, stack, false);
            }
            ev::GC_MARK_ASSIST_END => {
                let task = self.goroutine(o.ctx.g, t);
                self.close_span(task, t, SpanKey::Assist);
            }
            ev::HEAP_ALLOC => self.counter(0, t, a[0]),
            ev::HEAP_GOAL => self.counter(1, t, a[0]),
            ev::PROCS_CHANGE => self.counter(2, t, a[0]),
            ev::GO_LABEL => {
                let label = self.str(ids, a[0], e.offset);
                let task = self.goroutine(o.ctx.g, t);
                self.capture.tasks.update(task as usize, |task| task.name = label);
            }
            ev::USER_TASK_BEGIN => {
                let name = self.str(ids, a[2], e.offset);
                let stack = self.stack(ids, a[3], e.offset);
                let start_task = self.known_goroutine(o.ctx.g);
                self.active_user_tasks.insert(a[0], self.info.user_tasks.len());
                self.info.user_tasks.push(UserTask {
                    id: a[0],
                    parent_id: (a[1] != 0).then_some(a[1]),
                    name,
                    start_ns: Some(t),
                    end_ns: None,
                    start_task,
                    end_task: None,
                    start_stack: stack,
                });
            }
            ev::USER_TASK_END => {
                let end_task = self.known_goroutine(o.ctx.g);
                match self.active_user_tasks.remove(&a[0]).and_then(|i| self.info.user_tasks.get_mut(i)) {
                    Some(task) => {
                        task.end_ns = Some(t);
                        task.end_task = end_task;
                    }
                    None => self.info.user_tasks.push(UserTask {
                        id: a[0],
                        parent_id: None,
                        name: StrId::EMPTY,
                        start_ns: None,
                        end_ns: Some(t),
                        start_task: None,
                        end_task,
                        start_stack: StackId::EMPTY,
                    }),
                }
            }
            ev::USER_REGION_BEGIN => {
                let name = self.str(ids, a[1], e.offset);
                let stack = self.stack(ids, a[2], e.offset);
                let task = self.goroutine(o.ctx.g, t);
                self.open_span(task, t, SpanKey::Region { user_task: a[0], name }, name, stack, false);
            }
            ev::USER_REGION_END => {
                let name = self.str(ids, a[1], e.offset);
                let task = self.goroutine(o.ctx.g, t);
                self.region_end(task, a[0], name, t, e.offset);
            }
            ev::USER_LOG => {
                let category = self.str(ids, a[1], e.offset);
                let message = self.str(ids, a[2], e.offset);
                let stack = self.stack(ids, a[3], e.offset);
                let task = self.known_goroutine(o.ctx.g);
                self.info.logs.push(UserLog { time_ns: t, task, user_task: a[0], category, message, stack });
            }
            _ => {}
        }
    }

    fn create(&mut self, o: &Ordered, ids: &Interned) {
        let e = &o.ev;
        let t = e.time;
        let (start_stack, stack) = if e.typ == ev::GO_CREATE_SYSCALL {
            (StackId::EMPTY, StackId::EMPTY)
        } else {
            (self.stack(ids, e.args[1], e.offset), self.stack(ids, e.args[2], e.offset))
        };
        let creator = self.known_goroutine(o.ctx.g);
        let leaf = |c: &Capture, s: StackId| -> Option<FrameId> { c.tables.stack(s).first().copied() };
        let task = self.new_task(Task {
            id: e.args[0],
            kind: TaskKind::Goroutine,
            parent_id: OptId::from((o.ctx.g != NONE && e.typ != ev::GO_CREATE_SYSCALL).then_some(o.ctx.g)),
            created_by: leaf(&self.capture, stack),
            start_func: leaf(&self.capture, start_stack),
            creation_stack: stack,
            start_ns: OptNs::some(t),
            ..Task::default()
        });
        self.goroutines.insert(e.args[0], task);
        let state = match e.typ {
            ev::GO_CREATE_BLOCKED => IntervalKind::Blocked,
            ev::GO_CREATE_SYSCALL => IntervalKind::Syscall,
            _ => IntervalKind::Runnable,
        };
        self.transition(task, t, Some(state), StrId::EMPTY, StackId::EMPTY);
        let from = match creator {
            Some(c) => Some(c),
            None if o.ctx.p != NONE => Some(self.proc_lane(o.ctx.p)),
            None => None,
        };
        if let Some(from) = from {
            self.link(LinkKind::Create, from, task, t);
        }
    }

    fn end_goroutine(&mut self, task: u32, t: i64) {
        self.transition(task, t, None, StrId::EMPTY, StackId::EMPTY);
        while let Some(key) = self.last_span(task).map(|s| s.key) {
            if let Some(span) = self.close_span(task, t, key) {
                self.note_region(task, span, t);
            }
        }
        // Its final state is "ended" unless a trace that contradicts itself goes on with it:
        // then the end of the trace names the state it was left in (`close_all`).
        let ended = self.names.ended;
        self.capture.tasks.update(task as usize, |task| {
            task.end_ns = OptNs::some(t);
            task.flags |= TaskFlags::ENDED;
            task.state = ended;
        });
        self.release_lane(task);
    }

    fn note_region(&mut self, task: u32, span: OpenSpan, end: i64) {
        if let SpanKey::Region { user_task, name } = span.key {
            self.info.regions.push(UserRegion {
                task,
                user_task,
                name,
                start_ns: span.start,
                end_ns: end,
                stack: span.stack,
            });
        }
    }

    fn region_end(&mut self, task: u32, user_task: u64, name: StrId, t: i64, offset: usize) {
        let key = SpanKey::Region { user_task, name };
        let innermost_region = self
            .spans
            .get(&task)
            .and_then(|l| l.open.iter().rev().find(|s| matches!(s.key, SpanKey::Region { .. })))
            .map(|s| s.key);
        if let Some(span) = self.close_span(task, t, key) {
            if innermost_region != Some(key) {
                self.problems.add("region ended while a region begun after it was still open", offset);
            }
            self.note_region(task, span, t);
            return;
        }
        // Begun before the trace: it spans from the trace's (or the goroutine's) start.
        let start = self
            .capture
            .tasks
            .get(task as usize)
            .and_then(|k| k.start_ns.get())
            .unwrap_or_else(|| self.start())
            .max(self.start());
        let lane = self.spans.entry(task).or_default();
        lane.max_depth = lane.max_depth.saturating_add(1);
        let depth = lane.max_depth;
        self.push_interval(task, start, t, IntervalKind::Span, name, StackId::EMPTY, depth, false);
        self.info.regions.push(UserRegion {
            task,
            user_task,
            name,
            start_ns: start,
            end_ns: t,
            stack: StackId::EMPTY,
        });
    }

    fn go_status(&mut self, goid: u64, status: u8, old: u8, stack: StackId, t: i64) {
        let kind = match status {
            gstatus::RUNNABLE => IntervalKind::Runnable,
            gstatus::RUNNING => IntervalKind::Running,
            gstatus::SYSCALL => IntervalKind::Syscall,
            _ => IntervalKind::Blocked,
        };
        let task = self.goroutine(goid, t);
        let first = old == OLD_UNDETERMINED;
        let since = if first && self.first_generation { self.start() } else { t };
        if stack != StackId::EMPTY {
            self.note_stack(task, stack);
        }
        let ended = self.is_ended(task);
        let Some(lane) = self.lane_mut(task) else { return };
        match lane.open {
            Some(open) if open == kind => {
                // The same state seen again at a generation boundary: the interval goes on, and
                // a stack fills in one we did not have.
                if lane.stack == StackId::EMPTY {
                    lane.stack = stack;
                }
            }
            None if !ended => {
                lane.open = Some(kind);
                lane.since = since;
                lane.label = StrId::EMPTY;
                lane.stack = stack;
            }
            _ => self.transition(task, t, Some(kind), StrId::EMPTY, stack),
        }
    }

    /// A CPU profile sample at `time` (already fixed).
    pub fn cpu_sample(&mut self, time: i64, sample: &RawSample, ids: &Interned) {
        self.count(Kind::StackSample);
        if self.capture.samples.types.is_empty() {
            let kind = self.capture.strings.intern("samples");
            let unit = self.capture.strings.intern("count");
            self.capture.samples.types.push(SampleType { kind, unit });
        }
        let stack = self.stack(ids, sample.stack, 0);
        let goroutine = if sample.g == 0 { None } else { self.known_goroutine(sample.g) };
        let task = match goroutine {
            Some(task) => Some(task),
            None if sample.p != NONE => Some(self.proc_lane(sample.p)),
            None => None,
        };
        if self.is_counting() {
            return;
        }
        let samples = &mut self.capture.samples;
        samples.push(stack, &[1], crate::model::LabelSetId::EMPTY);
        samples.time_ns.push(time);
        samples.task.push(task.unwrap_or(Samples::NO_TASK));
    }

    /// What a counting pass found, for the second pass to size everything exactly, once
    /// everything still open at `end` is closed.
    pub fn into_counts(mut self, end: i64) -> Counts {
        self.close_all(end);
        match self.store {
            Store::Count { mut per_task, links, ends } => {
                per_task.resize(self.capture.tasks.len(), 0);
                Counts {
                    tasks: per_task.len(),
                    per_task,
                    links,
                    ends,
                    start: self.trace_start.unwrap_or(end),
                    goroutines: Room::default(),
                    tasks_memory: std::mem::take(&mut self.capture.tasks),
                }
            }
            Store::Append { .. } | Store::Place { .. } | Store::Blocks { .. } => Counts::default(),
        }
    }

    /// Closes everything still open at `end` and hands over the capture.
    pub fn finish(mut self, end: i64) -> Capture {
        let start = self.trace_start.unwrap_or(end);
        self.close_all(end);
        self.set_start_funcs();
        let has_spans: Vec<bool> = (0..self.capture.tasks.len() as u32)
            .map(|t| self.spans.get(&t).is_some_and(|s| s.max_depth > 0))
            .collect();
        // The lanes and lookup tables are done with; free them before the sort needs room.
        self.lanes = Vec::new();
        self.lane_of = IdMap::default();
        self.free_lanes = Vec::new();
        self.spans = HashMap::new();
        self.goroutines = IdMap::default();
        self.procs = HashMap::new();
        self.active_user_tasks = HashMap::new();
        let tasks = self.capture.tasks.len();
        let intervals = match std::mem::replace(&mut self.store, Store::Append { task: Vec::new() }) {
            Store::Append { task } => {
                let (intervals, ranges) = sort_by_task(std::mem::take(&mut self.iv), task, &has_spans, tasks);
                for (task, range) in ranges.into_iter().enumerate() {
                    self.capture.tasks.set_intervals(task, range);
                }
                intervals
            }
            Store::Blocks { shift, owner, .. } => {
                let mut iv = std::mem::take(&mut self.iv);
                let tasks = &mut self.capture.tasks;
                let lens: Vec<u32> =
                    (0..tasks.len()).map(|t| tasks.intervals(t).map_or(0, |r| r.len)).collect();
                let starts = iv.gather_blocks(1 << shift, &owner, &lens);
                drop(owner);
                for (task, (start, len)) in starts.into_iter().zip(lens).enumerate() {
                    tasks.set_intervals(task, IntervalRange { start, len });
                }
                let ranges = tasks.iter().map(|t| t.intervals);
                iv.sort_each(ranges.zip(&has_spans).filter(|(_, s)| **s).map(|(r, _)| r.indices()));
                iv.finish()
            }
            Store::Place { .. } => {
                let mut iv = std::mem::take(&mut self.iv);
                let ranges = self.capture.tasks.iter().map(|t| t.intervals);
                iv.sort_each(ranges.zip(&has_spans).filter(|(_, s)| **s).map(|(r, _)| r.indices()));
                iv.finish()
            }
            Store::Count { .. } => IntervalsBuilder::default().finish(),
        };
        self.capture.intervals = intervals;
        // Tables sized from event counts are upper bounds (a status event per goroutine per
        // generation, links that were not drawn); trim them. A large allocation shrinks in
        // place, so this costs no copy where it matters.
        self.capture.tasks.shrink_to_fit();
        self.capture.links.shrink_to_fit();
        let samples = &mut self.capture.samples;
        samples.stack.shrink_to_fit();
        samples.values.shrink_to_fit();
        samples.time_ns.shrink_to_fit();
        samples.task.shrink_to_fit();
        for c in &mut self.capture.counters {
            c.shrink_to_fit();
        }
        self.capture.time_range_ns = Some((start, end));
        self.capture.source.duration_ns = Some(end.saturating_sub(start));
        for (name, count) in KIND_NAMES.iter().zip(self.counts) {
            if count > 0 {
                self.info.event_counts.insert(name, count);
            }
        }
        self.capture.trace = Some(Box::new(self.info));
        self.capture
    }

    /// Closes every lane's open interval and spans at `end` and sets the final states.
    fn close_all(&mut self, end: i64) {
        for task in 0..self.capture.tasks.len() as u32 {
            let lane = self.lane(task);
            let kind = lane.and_then(|l| l.open);
            if kind.is_some() {
                let (label, since, stack) = lane.map(|l| (l.label, l.since, l.stack)).unwrap_or_default();
                self.finish_state(task, kind, label, since, end);
                self.transition(task, end, None, StrId::EMPTY, stack);
            } else if !self.is_counting()
                && self
                    .capture
                    .tasks
                    .kind_and_flags(task as usize)
                    .is_some_and(|(k, f)| k == TaskKind::Goroutine && !f.contains(TaskFlags::ENDED))
            {
                // A goroutine left with nothing open waits; an ended one was named so when it
                // ended. (A counting pass's tasks are thrown away; only their counts matter.)
                let waiting = self.names.waiting;
                self.capture.tasks.update(task as usize, |t| t.state = waiting);
            }
            while let Some(span) = self.last_span(task) {
                if self.close_span(task, end, span.key).is_some() {
                    self.note_region(task, span, end);
                }
            }
        }
    }

    fn finish_state(&mut self, task: u32, kind: Option<IntervalKind>, label: StrId, since: i64, end: i64) {
        if self.is_counting() {
            return;
        }
        let names = &self.names;
        self.capture.tasks.update(task as usize, |t| {
            if t.kind != TaskKind::Goroutine {
                return;
            }
            t.state = match kind {
                Some(IntervalKind::Running) => names.running,
                Some(IntervalKind::Runnable) => names.runnable,
                Some(IntervalKind::Syscall) => names.syscall,
                Some(IntervalKind::Blocked) if !label.is_empty() => label,
                _ => names.waiting,
            };
            if kind == Some(IntervalKind::Blocked) {
                t.wait_ns = OptNs::some(end.saturating_sub(since));
            }
        });
    }

    /// Start functions of goroutines the trace did not see created (the outermost frame of
    /// their last stack, unless the stack was cut at the runtime's frame limit), and the SYSTEM
    /// flag for runtime goroutines.
    fn set_start_funcs(&mut self) {
        // The runtime records at most this many frames (`tracev2.MaxFramesPerStack`).
        const MAX_FRAMES: usize = 128;
        let capture = &mut self.capture;
        let goexit = capture.strings.find("runtime.goexit");
        // Found in one pass in order (as the task table reads fastest), changed after; only
        // what changes is kept, as a trace may hold millions of goroutines it did not see made.
        let mut changed = Vec::new();
        for (index, mut task) in capture.tasks.enumerate() {
            if task.kind != TaskKind::Goroutine {
                continue;
            }
            let before = (task.start_func, task.flags);
            if task.start_func.is_none() {
                let mut frames = capture.tables.stack(task.stack);
                if let [rest @ .., last] = frames
                    && goexit.is_some_and(|g| capture.tables.frame(*last).func == g)
                {
                    frames = rest;
                }
                if frames.len() < MAX_FRAMES {
                    task.start_func = frames.last().copied();
                }
            }
            let func = |f: Option<FrameId>| f.map(|f| capture.strings.resolve(capture.tables.frame(f).func));
            let start = func(task.start_func);
            let creator = func(task.created_by);
            if start.is_some_and(|s| s.starts_with("runtime.") && s != "runtime.main")
                || creator.is_some_and(|c| c.starts_with("runtime."))
            {
                task.flags |= TaskFlags::SYSTEM;
            }
            if (task.start_func, task.flags) != before {
                changed.push((index as u32, task.start_func, task.flags));
            }
        }
        for (index, start_func, flags) in changed {
            capture.tasks.update(index as usize, |t| (t.start_func, t.flags) = (start_func, flags));
        }
    }
}

/// What a trace's event counts say it will need, before it is read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Estimate {
    /// Tasks with a lane: goroutines, procs and the GC.
    pub lanes: usize,
    /// Intervals: an upper bound unless the trace contradicts itself.
    pub intervals: usize,
}

/// Estimates a trace's lanes and intervals from its events counted by wire type
/// (`first_generation`: the first generation's alone).
pub(crate) fn estimate(counts: &[u64; 256], first_generation: &[u64; 256]) -> Estimate {
    const STATUSES: [u8; 2] = [ev::GO_STATUS, ev::GO_STATUS_STACK];
    let n = |types: &[u8]| -> usize {
        types.iter().map(|&t| counts.get(usize::from(t)).copied().unwrap_or(0) as usize).sum()
    };
    // Goroutines are created during the trace or existed before it; those the runtime
    // lists (with a status event) when tracing starts, in the first generation. Later
    // generations repeat the statuses of goroutines that act in them, so counting every
    // status would count long-lived goroutines once per second of trace.
    let first_statuses: usize =
        STATUSES.iter().map(|&t| first_generation.get(usize::from(t)).copied().unwrap_or(0) as usize).sum();
    let goroutines =
        n(&[ev::GO_CREATE, ev::GO_CREATE_BLOCKED, ev::GO_CREATE_SYSCALL]) + first_statuses.min(n(&STATUSES));
    // Every interval is closed once: by an event that ends a state (a switch ends three),
    // by the end of a span, or by the end of the trace (once per lane and open span).
    // Events that only open a state (creation, a first status, a proc or GC start) close
    // nothing, except where the trace contradicts itself; then the columns grow.
    let spans = n(&[
        ev::STW_BEGIN,
        ev::GC_SWEEP_BEGIN,
        ev::GC_SWEEP_ACTIVE,
        ev::GC_MARK_ASSIST_BEGIN,
        ev::GC_MARK_ASSIST_ACTIVE,
        ev::USER_REGION_BEGIN,
        ev::USER_REGION_END,
    ]);
    let closing = n(&[
        ev::GO_START,
        ev::GO_STOP,
        ev::GO_BLOCK,
        ev::GO_UNBLOCK,
        ev::GO_DESTROY,
        ev::GO_DESTROY_SYSCALL,
        ev::GO_SYSCALL_BEGIN,
        ev::GO_SYSCALL_END,
        ev::GO_SYSCALL_END_BLOCKED,
        ev::PROC_STOP,
        ev::PROC_STEAL,
        ev::GC_END,
    ]) + 3 * n(&[ev::GO_SWITCH, ev::GO_SWITCH_DESTROY]);
    let lanes = goroutines + LANES_BESIDE_GOROUTINES;
    let intervals = closing + spans + lanes;
    Estimate { lanes, intervals }
}

/// Reorders intervals so each task's are contiguous, sorted by (depth, start), and returns each
/// task's range. Depth-0 intervals arrive in time order already and spans in the order they
/// ended, so a stable counting sort by task does most of the work; within tasks that have spans,
/// the spans are moved after the depth-0 intervals and sorted among themselves.
fn sort_by_task(
    mut iv: IntervalsBuilder,
    iv_task: Vec<u32>,
    has_spans: &[bool],
    tasks: usize,
) -> (Intervals, Vec<IntervalRange>) {
    let mut counts = vec![0u32; tasks];
    for &t in &iv_task {
        if let Some(c) = counts.get_mut(t as usize) {
            *c += 1;
        }
    }
    let mut ranges = Vec::with_capacity(tasks);
    let mut next = Vec::with_capacity(tasks);
    let mut at = 0u32;
    for &c in &counts {
        ranges.push(IntervalRange { start: at, len: c });
        next.push(at);
        at += c;
    }
    drop(counts);
    // perm[new position] = old position.
    let mut perm = vec![0u32; iv_task.len()];
    for (i, &t) in iv_task.iter().enumerate() {
        if let Some(slot) = next.get_mut(t as usize) {
            if let Some(p) = perm.get_mut(*slot as usize) {
                *p = i as u32;
            }
            *slot += 1;
        }
    }
    drop(iv_task);
    drop(next);
    for (range, _) in ranges.iter().zip(has_spans).filter(|(_, s)| **s) {
        let Some(part) = perm.get_mut(range.indices()) else { continue };
        let depth = |i: u32| iv.depth(i as usize);
        let mut spans: Vec<u32> = part.iter().copied().filter(|&i| depth(i) > 0).collect();
        spans.sort_by_key(|&i| (depth(i), iv.start(i as usize)));
        let zeros: Vec<u32> = part.iter().copied().filter(|&i| depth(i) == 0).collect();
        for (slot, i) in part.iter_mut().zip(zeros.into_iter().chain(spans)) {
            *slot = i;
        }
    }
    iv.permute(&perm);
    drop(perm);
    (iv.finish(), ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_puts_each_tasks_intervals_together_in_depth_then_start_order() {
        let mut iv = IntervalsBuilder::new(0);
        let mut task = Vec::new();
        let mut push = |t: u32, s: i64, e: i64, d: u16| {
            let i = iv.push(s, IntervalKind::Running, StrId::EMPTY, StackId::EMPTY, d);
            iv.set_end(i, e);
            task.push(t);
        };
        push(1, 0, 10, 0);
        push(0, 0, 5, 0);
        push(1, 4, 6, 2); // an inner span ends first
        push(1, 3, 8, 1);
        push(0, 5, 9, 0);
        push(1, 10, 20, 0);
        let (iv, ranges) = sort_by_task(iv, task, &[false, true], 2);
        assert_eq!(ranges, vec![IntervalRange { start: 0, len: 2 }, IntervalRange { start: 2, len: 4 }]);
        let column = |f: &dyn Fn(usize) -> i64| (0..iv.len()).map(f).collect::<Vec<_>>();
        assert_eq!(column(&|i| iv.start(i)), vec![0, 5, 0, 10, 3, 4]);
        assert_eq!(column(&|i| i64::from(iv.depth(i))), vec![0, 0, 0, 0, 1, 2]);
        assert_eq!(column(&|i| iv.end(i)), vec![5, 9, 10, 20, 8, 6]);
    }

    #[test]
    fn tables_sized_short_grow_in_small_steps_not_by_doubling() {
        let mut b = Builder::new(Capture::new("t", crate::model::FormatKind::GoExecutionTrace));
        // No events counted: room for 64 lanes and their closing intervals only.
        b.reserve(&[0; 256], &[0; 256], None);
        let (b, capacity) = two_intervals_each_for_5_000_tasks(b);
        assert!(capacity < 10_000 + 10_000 / 8 + 1024 + 1, "{capacity}");
        let capture = b.finish(20_000);
        // Trimmed to the tasks, in the task table's blocks of 64.
        assert_eq!(capture.tasks.capacity(), 5_000usize.next_multiple_of(64));
        assert_eq!(capture.tasks.at(4_999).intervals, IntervalRange { start: 9_998, len: 2 });
        assert_eq!(capture.intervals.kind(9_999), IntervalKind::Blocked);
        assert_eq!(capture.intervals.end(9_998), 4_999 + 1);
        assert_eq!(capture.intervals.end(9_999), 4_999 + 2);
        // Only the end no next state begins at is stored.
        assert_eq!(capture.intervals.stored_ends(), 5_000);
    }

    /// In blocks, too: 5,000 tasks take a block of 16 each where the room was for 64.
    #[test]
    fn blocks_beyond_the_room_grow_in_small_steps_not_by_doubling() {
        let b = Builder::new(Capture::new("t", crate::model::FormatKind::GoExecutionTrace));
        let mut b = b.in_blocks(4, Room::default());
        b.reserve(&[0; 256], &[0; 256], None);
        let (b, capacity) = two_intervals_each_for_5_000_tasks(b);
        assert!(capacity < 80_000 + 80_000 / 8 + 16 + 1, "{capacity}");
        let capture = b.finish(20_000);
        assert_eq!(capture.intervals.len(), 10_000);
        assert_eq!(capture.tasks.at(4_999).intervals, IntervalRange { start: 9_998, len: 2 });
        assert_eq!(capture.intervals.end(9_999), 4_999 + 2);
    }

    /// Gives 5,000 new tasks two intervals each; returns the builder and its rows' room.
    fn two_intervals_each_for_5_000_tasks(mut b: Builder) -> (Builder, usize) {
        for i in 0..5_000u32 {
            let task = b.new_task(Task::default());
            b.push_interval(
                task,
                i64::from(i),
                i64::from(i) + 1,
                IntervalKind::Running,
                StrId::EMPTY,
                StackId::EMPTY,
                0,
                true,
            );
            b.push_interval(
                task,
                i64::from(i) + 1,
                i64::from(i) + 2,
                IntervalKind::Blocked,
                StrId::EMPTY,
                StackId::EMPTY,
                0,
                false,
            );
        }
        assert!(b.capture.tasks.capacity() < 5_000 + 5_000 / 8 + 64 + 1, "{}", b.capture.tasks.capacity());
        let capacity = b.iv.capacity();
        (b, capacity)
    }

    #[test]
    fn every_wire_event_type_has_a_kind() {
        assert_eq!(kind_of(ev::GO_BLOCK), Kind::StateTransition);
        assert_eq!(kind_of(ev::GC_ACTIVE), Kind::RangeActive);
        assert_eq!(kind_of(ev::HEAP_GOAL), Kind::Metric);
        assert_eq!(kind_of(ev::USER_LOG), Kind::Log);
        assert_eq!(kind_of(130), Kind::Experimental);
        assert_eq!(KIND_NAMES.len(), Kind::Experimental as usize + 1);
    }
}
