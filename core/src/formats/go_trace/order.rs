//! Putting the events of all threads into one consistent order.
//!
//! Each M writes its own batches, and timestamps across Ms are not trustworthy, so (like Go's
//! own reader) we emulate the scheduler: goroutines, procs and threads with their statuses and
//! per-generation sequence numbers. The next event of each M waits on a frontier; an event may
//! go when the state it needs holds (a `GoStart` needs its goroutine runnable with the previous
//! sequence number). The head of the frontier, the earliest event, almost always can go; when it
//! cannot, the others are tried in time order.
//!
//! Where Go's reader gives up on the whole file (an impossible transition, a frontier on which
//! nothing can advance), we keep going: an invalid event is applied as far as it makes sense or
//! dropped, and a stuck frontier is unblocked by forcing its earliest event. Each such repair is
//! counted and reported as a warning.

use hashbrown::{HashMap, HashSet};

use super::idmap::{IdMap, Room};

use super::batches::Batch;
use super::wire::{self, EventTable, Version, ev};

/// No goroutine, proc or thread (Go's -1).
pub(crate) const NONE: u64 = u64::MAX;

/// Goroutine statuses as the wire writes them.
pub(crate) mod gstatus {
    pub const RUNNABLE: u8 = 1;
    pub const RUNNING: u8 = 2;
    pub const SYSCALL: u8 = 3;
    pub const WAITING: u8 = 4;
}

/// Proc statuses as the wire writes them.
pub(crate) mod pstatus {
    pub const RUNNING: u8 = 1;
    pub const IDLE: u8 = 2;
    pub const SYSCALL: u8 = 3;
    pub const SYSCALL_ABANDONED: u8 = 4;
}

/// The `old` of a status event for a resource seen for the first time in the first generation:
/// its state before is unknown (it existed before the trace).
pub(crate) const OLD_UNDETERMINED: u8 = 0xfe;
/// The `old` of a proc status event for a proc that appears after the first generation.
pub(crate) const OLD_NOT_EXIST: u8 = 0xfd;

/// The scheduling context of an event: the goroutine, proc and thread it happened on, as they
/// were before the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ctx {
    pub g: u64,
    pub p: u64,
    pub m: u64,
}

/// A decoded timed event.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RawEvent {
    pub typ: u8,
    /// Nanoseconds on the trace clock.
    pub time: i64,
    /// Arguments after the timestamp delta.
    pub args: [u64; 4],
    /// Byte offset in the file, for warnings.
    pub offset: usize,
}

/// An event in its final order, with its context.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ordered {
    pub ev: RawEvent,
    pub ctx: Ctx,
    /// For status events, the status before (or [`OLD_UNDETERMINED`]); for `ProcSteal`, the
    /// proc's status before the steal.
    pub old: u8,
}

/// Nanoseconds per tick, and the conversion Go's reader uses (so our times equal its times).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Freq(pub f64);

impl Freq {
    /// From timestamp units per second.
    pub fn from_ticks_per_second(f: u64) -> Freq {
        Freq(1.0 / (f as f64 / 1e9))
    }

    /// Ticks to nanoseconds.
    #[inline]
    pub fn ns(self, ticks: u64) -> i64 {
        (ticks as f64 * self.0) as i64
    }
}

/// A sequence number within a generation, in 6 bytes, so that with a status and the range bits
/// a goroutine's state takes 8: the table has an entry per goroutine, and a trace can have one
/// per 80 bytes of file.
/// - A sequence number counts one goroutine's or proc's events within one generation (about a
///   second), far below 2^32; a larger one, from a corrupt file, is kept as `u32::MAX`, which
///   nothing succeeds, so its events wait and are forced through with a warning.
/// - Generations are only compared for equality, between a resource's last event and its next,
///   so their low 16 bits tell them apart unless the two are 65,536 generations (about 18 hours
///   of trace) apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, packed(2))]
struct Seq {
    seq: u32,
    generation: u16,
}

impl Seq {
    fn new(generation: u64, seq: u64) -> Self {
        Self { seq: u32::try_from(seq).unwrap_or(u32::MAX), generation: generation as u16 }
    }

    fn succeeds(self, prev: Seq) -> bool {
        self.generation == prev.generation && prev.seq.checked_add(1) == Some(self.seq)
    }
}

/// Special ranges in flight on a goroutine or proc, as bits.
const RANGE_STW: u8 = 1;
const RANGE_ASSIST: u8 = 2;
const RANGE_SWEEP: u8 = 4;

#[derive(Clone, Copy, Debug, Default)]
struct GState {
    status: u8,
    seq: Seq,
    ranges: u8,
}

const _: () = assert!(size_of::<GState>() <= 8);

#[derive(Clone, Copy, Debug)]
struct PState {
    status: u8,
    seq: Seq,
    ranges: u8,
}

#[derive(Clone, Copy, Debug)]
struct MState {
    g: u64,
    p: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gc {
    Undetermined,
    NotRunning,
    Running,
}

/// The result of trying to advance one event.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// The event took effect (and is in the queue, maybe with synthesized companions).
    Advanced,
    /// It took effect, but broke a rule of the format.
    AdvancedAnyway(&'static str),
    /// Not yet: another thread's events must come first.
    NotYet,
    /// Invalid and without a sensible effect: skipped.
    Dropped(&'static str),
}

/// The scheduler emulation.
pub(crate) struct Ordering {
    gs: IdMap<GState>,
    ps: HashMap<u64, PState>,
    /// Each thread's slot in `m_states`: looked up once an event, where a map of states was
    /// looked up twice (read before, written after); threads are few, events are many.
    ms: HashMap<u64, u32>,
    /// Threads' states, in the order they were first seen, with their ids.
    m_states: Vec<(u64, MState)>,
    active_tasks: HashSet<u64>,
    gc_seq: u64,
    gc: Gc,
    initial_gen: Option<u64>,
    /// Events ready to be consumed, in order.
    pub queue: Vec<Ordered>,
}

impl Default for Ordering {
    fn default() -> Self {
        Self::with_goroutines(Room::default())
    }
}

impl Ordering {
    /// An ordering with room for the goroutines a first pass over the same trace saw, so that
    /// its table never grows.
    pub fn with_goroutines(room: Room) -> Self {
        Self {
            gs: IdMap::for_room(room),
            ps: HashMap::new(),
            ms: HashMap::new(),
            m_states: Vec::new(),
            active_tasks: HashSet::new(),
            gc_seq: 0,
            gc: Gc::Undetermined,
            initial_gen: None,
            queue: Vec::new(),
        }
    }

    /// The most goroutines alive at once so far, and the largest goroutine id.
    pub fn goroutine_room(&self) -> Room {
        self.gs.room()
    }
}

/// Whether a context lacks something an event needs: a warning text if so.
fn needs(ctx: Ctx, p: bool, g: bool) -> Option<&'static str> {
    if ctx.m == NONE {
        Some("event without a thread")
    } else if p && ctx.p == NONE {
        Some("event needs a proc but its thread has none")
    } else if g && ctx.g == NONE {
        Some("event needs a running goroutine but its thread has none")
    } else {
        None
    }
}

impl Ordering {
    /// Tries to advance `ev`, written by thread `m` in generation `generation`. With `force`, sequence
    /// and state preconditions are waived (used to get past a stuck frontier).
    /// `slot` caches thread `m`'s slot in `m_states` from one call to the next (a thread's
    /// slot never changes once made): the map lookup it saves was a twentieth of a read. It is
    /// filled at the thread's first event, when the lookup would have made the slot anyway.
    pub fn advance(
        &mut self,
        ev: &RawEvent,
        (m, slot): (u64, &mut Option<u32>),
        generation: u64,
        force: bool,
    ) -> Outcome {
        let initial = *self.initial_gen.get_or_insert(generation) == generation;
        let mut cur = Ctx { g: NONE, p: NONE, m };
        let slot = if m == NONE {
            None
        } else if let Some(s) = *slot {
            Some(s as usize)
        } else {
            let s = self.m_slot(m);
            *slot = Some(s as u32);
            Some(s)
        };
        if let Some((_, ms)) = slot.and_then(|s| self.m_states.get(s)) {
            cur.g = ms.g;
            cur.p = ms.p;
        }
        let a = ev.args;
        let (outcome, new) = match ev.typ {
            ev::PROC_STATUS => self.proc_status(ev, cur, generation, initial),
            ev::PROC_START => self.proc_start(ev, cur, generation, force),
            ev::PROC_STOP => self.proc_stop(ev, cur),
            ev::PROC_STEAL => self.proc_steal(ev, cur, generation, force),
            ev::GO_STATUS | ev::GO_STATUS_STACK => self.go_status(ev, cur, generation, initial),
            ev::GO_CREATE | ev::GO_CREATE_BLOCKED => self.go_create(ev, cur, generation),
            ev::GO_CREATE_SYSCALL => self.go_create_syscall(ev, cur, generation),
            ev::GO_START => self.go_start(ev, cur, generation, force),
            ev::GO_DESTROY | ev::GO_STOP | ev::GO_BLOCK => self.go_stop_exec(ev, cur),
            ev::GO_DESTROY_SYSCALL => self.go_destroy_syscall(ev, cur),
            ev::GO_UNBLOCK => self.go_unblock(ev, cur, generation, force),
            ev::GO_SWITCH | ev::GO_SWITCH_DESTROY => self.go_switch(ev, cur, generation, force),
            ev::GO_SYSCALL_BEGIN => self.go_syscall_begin(ev, cur, generation),
            ev::GO_SYSCALL_END => self.go_syscall_end(ev, cur),
            ev::GO_SYSCALL_END_BLOCKED => self.go_syscall_end_blocked(ev, cur, force),
            ev::STW_BEGIN | ev::GC_MARK_ASSIST_BEGIN => self.go_range_begin(ev, cur),
            ev::GC_MARK_ASSIST_ACTIVE => self.go_range_active(ev, cur, a[0], initial),
            ev::STW_END | ev::GC_MARK_ASSIST_END => self.go_range_end(ev, cur),
            ev::GC_ACTIVE => self.gc_active(ev, cur, initial, force),
            ev::GC_BEGIN => self.gc_begin(ev, cur, force),
            ev::GC_END => self.gc_end(ev, cur, force),
            ev::GC_SWEEP_BEGIN => self.sweep_begin(ev, cur),
            ev::GC_SWEEP_ACTIVE => self.sweep_active(ev, cur, initial),
            ev::GC_SWEEP_END => self.sweep_end(ev, cur),
            ev::HEAP_ALLOC | ev::HEAP_GOAL => self.simple(ev, cur, needs(cur, true, false)),
            ev::PROCS_CHANGE | ev::USER_LOG => self.simple(ev, cur, needs(cur, true, true)),
            ev::GO_LABEL | ev::USER_REGION_BEGIN | ev::USER_REGION_END => {
                if cur.g == NONE {
                    (Outcome::Dropped("goroutine annotation on a thread running no goroutine"), cur)
                } else {
                    self.simple(ev, cur, needs(cur, true, true))
                }
            }
            ev::USER_TASK_BEGIN => {
                let conflict = !self.active_tasks.insert(a[0]);
                let warn = if conflict { Some("user task id begun twice") } else { needs(cur, true, true) };
                self.simple(ev, cur, warn)
            }
            ev::USER_TASK_END => {
                self.active_tasks.remove(&a[0]);
                self.simple(ev, cur, needs(cur, true, true))
            }
            ev::FIRST_EXPERIMENTAL..=ev::LAST_EXPERIMENTAL => self.simple(ev, cur, needs(cur, false, false)),
            _ => (Outcome::Dropped("event type that cannot appear in an event batch"), cur),
        };
        if matches!(outcome, Outcome::Advanced | Outcome::AdvancedAnyway(_))
            && let Some((_, ms)) = slot.and_then(|s| self.m_states.get_mut(s))
        {
            ms.g = new.g;
            ms.p = new.p;
        }
        outcome
    }

    /// Thread `m`'s slot in `m_states`, made (running nothing, holding no proc) when new.
    #[inline]
    fn m_slot(&mut self, m: u64) -> usize {
        let states = &mut self.m_states;
        *self.ms.entry(m).or_insert_with(|| {
            states.push((m, MState { g: NONE, p: NONE }));
            (states.len() - 1) as u32
        }) as usize
    }

    /// Thread `m`'s state, if it was seen.
    fn m_state(&mut self, m: u64) -> Option<&mut MState> {
        let slot = *self.ms.get(&m)? as usize;
        self.m_states.get_mut(slot).map(|(_, ms)| ms)
    }

    fn push(&mut self, ev: RawEvent, ctx: Ctx, old: u8) {
        self.queue.push(Ordered { ev, ctx, old });
    }

    fn done(&mut self, ev: &RawEvent, ctx: Ctx, warn: Option<&'static str>, new: Ctx) -> (Outcome, Ctx) {
        self.push(*ev, ctx, 0);
        (warn.map_or(Outcome::Advanced, Outcome::AdvancedAnyway), new)
    }

    fn simple(&mut self, ev: &RawEvent, cur: Ctx, warn: Option<&'static str>) -> (Outcome, Ctx) {
        self.done(ev, cur, warn, cur)
    }

    fn proc_status(&mut self, ev: &RawEvent, mut cur: Ctx, generation: u64, initial: bool) -> (Outcome, Ctx) {
        let pid = ev.args[0];
        let Ok(status) = u8::try_from(ev.args[1]) else {
            return (Outcome::Dropped("invalid proc status"), cur);
        };
        if !(pstatus::RUNNING..=pstatus::SYSCALL_ABANDONED).contains(&status) {
            return (Outcome::Dropped("invalid proc status"), cur);
        }
        let mut warn = None;
        let mut ev = *ev;
        let old = if let Some(s) = self.ps.get_mut(&pid) {
            let old = if status == pstatus::SYSCALL_ABANDONED && s.status == pstatus::SYSCALL {
                // Nothing was lost: the proc is still the one in the syscall we know of.
                ev.args[1] = u64::from(pstatus::SYSCALL);
                pstatus::RUNNING
            } else if status == pstatus::SYSCALL_ABANDONED && s.status == pstatus::SYSCALL_ABANDONED {
                pstatus::IDLE
            } else {
                if s.status != status {
                    warn = Some("proc status disagrees with what its events said");
                    s.status = status;
                }
                status_as_proc_state(s.status)
            };
            s.seq = Seq::new(generation, 0);
            old
        } else {
            self.ps.insert(pid, PState { status, seq: Seq::new(generation, 0), ranges: 0 });
            if initial { OLD_UNDETERMINED } else { OLD_NOT_EXIST }
        };
        let mut new = cur;
        if status == pstatus::RUNNING || status == pstatus::SYSCALL {
            new.p = pid;
        }
        if status == pstatus::SYSCALL_ABANDONED && old == pstatus::RUNNING {
            // The status is written by whoever steals the proc, not by the thread it is bound
            // to; the transition belongs to that thread.
            if let Some(&(mid, ms)) = self.m_states.iter().find(|(_, ms)| ms.p == pid) {
                cur = Ctx { g: ms.g, p: pid, m: mid };
            } else {
                warn = Some("proc about to be stolen is bound to no thread");
            }
        }
        self.push(ev, cur, old);
        (warn.map_or(Outcome::Advanced, Outcome::AdvancedAnyway), new)
    }

    fn proc_start(&mut self, ev: &RawEvent, cur: Ctx, generation: u64, force: bool) -> (Outcome, Ctx) {
        let pid = ev.args[0];
        let seq = Seq::new(generation, ev.args[1]);
        let ready = self
            .ps
            .get(&pid)
            .is_some_and(|s| s.status == pstatus::IDLE && seq.succeeds(s.seq) && cur.p == NONE);
        if !ready && !force {
            return (Outcome::NotYet, cur);
        }
        let state = self.ps.entry(pid).or_insert(PState { status: pstatus::IDLE, seq, ranges: 0 });
        state.status = pstatus::RUNNING;
        state.seq = seq;
        let warn = if ready { needs(cur, false, false) } else { Some("proc started out of sequence") };
        self.done(ev, cur, warn, Ctx { p: pid, ..cur })
    }

    fn proc_stop(&mut self, ev: &RawEvent, cur: Ctx) -> (Outcome, Ctx) {
        let Some(state) = self.ps.get_mut(&cur.p) else {
            return (Outcome::Dropped("proc stop on a thread without a proc"), cur);
        };
        let warn = if state.status == pstatus::RUNNING || state.status == pstatus::SYSCALL {
            None
        } else {
            Some("proc stop for a proc that is not running")
        };
        state.status = pstatus::IDLE;
        self.done(ev, cur, warn, Ctx { p: NONE, ..cur })
    }

    fn proc_steal(&mut self, ev: &RawEvent, cur: Ctx, generation: u64, force: bool) -> (Outcome, Ctx) {
        let pid = ev.args[0];
        let seq = Seq::new(generation, ev.args[1]);
        let ready = self.ps.get(&pid).is_some_and(|s| {
            (s.status == pstatus::SYSCALL || s.status == pstatus::SYSCALL_ABANDONED) && seq.succeeds(s.seq)
        });
        if !ready && !force {
            return (Outcome::NotYet, cur);
        }
        let mut warn = if ready { needs(cur, false, false) } else { Some("proc stolen out of sequence") };
        let state = self.ps.entry(pid).or_insert(PState { status: pstatus::SYSCALL, seq, ranges: 0 });
        let old = state.status;
        state.status = pstatus::IDLE;
        state.seq = seq;
        if old == pstatus::SYSCALL_ABANDONED {
            self.push(*ev, cur, old);
            return (warn.map_or(Outcome::Advanced, Outcome::AdvancedAnyway), cur);
        }
        let mid = ev.args[2];
        let mut new = cur;
        if mid == cur.m {
            if cur.p != pid {
                warn = Some("thread stole a proc from itself that it did not hold");
            }
            new.p = NONE;
        } else {
            match self.m_state(mid) {
                Some(victim) => {
                    if victim.p != pid {
                        warn = Some("proc stolen from a thread that did not hold it");
                    }
                    victim.p = NONE;
                }
                None => warn = Some("proc stolen from a thread never seen"),
            }
        }
        self.push(*ev, cur, old);
        (warn.map_or(Outcome::Advanced, Outcome::AdvancedAnyway), new)
    }

    fn go_status(&mut self, ev: &RawEvent, mut cur: Ctx, generation: u64, initial: bool) -> (Outcome, Ctx) {
        let gid = ev.args[0];
        let mid = ev.args[1];
        let Ok(status @ gstatus::RUNNABLE..=gstatus::WAITING) = u8::try_from(ev.args[2]) else {
            return (Outcome::Dropped("invalid goroutine status"), cur);
        };
        let mut warn = None;
        let old = if let Some(s) = self.gs.get_mut(gid) {
            let old = s.status;
            if s.status != status {
                warn = Some("goroutine status disagrees with what its events said");
                s.status = status;
            }
            s.seq = Seq::new(generation, 0);
            old
        } else {
            if !initial {
                warn = Some("goroutine first appears after the first generation without being created");
            }
            self.gs.insert(gid, GState { status, seq: Seq::new(generation, 0), ranges: 0 });
            OLD_UNDETERMINED
        };
        let mut new = cur;
        match status {
            gstatus::RUNNING => new.g = gid,
            gstatus::SYSCALL => {
                if mid == NONE {
                    warn = Some("goroutine in a syscall without a thread");
                } else if mid == cur.m {
                    if !initial && cur.g != gid {
                        warn = Some("syscalling goroutine on a thread running another goroutine");
                    }
                    new.g = gid;
                } else {
                    if let Some(ms) = self.m_state(mid) {
                        if ms.g != gid {
                            warn = Some("syscalling goroutine on a thread running another goroutine");
                        }
                        cur.g = ms.g;
                    } else {
                        let slot = self.m_slot(mid);
                        if let Some((_, ms)) = self.m_states.get_mut(slot) {
                            ms.g = gid;
                        }
                    }
                    cur.m = mid;
                }
            }
            _ => {}
        }
        self.push(*ev, cur, old);
        (warn.map_or(Outcome::Advanced, Outcome::AdvancedAnyway), new)
    }

    fn go_create(&mut self, ev: &RawEvent, cur: Ctx, generation: u64) -> (Outcome, Ctx) {
        let mut warn = needs(cur, true, false);
        if self.gs.get(cur.g).is_some_and(|s| s.status != gstatus::RUNNING) {
            warn = Some("goroutine created by a goroutine that is not running");
        }
        let new_g = ev.args[0];
        if self.gs.contains_key(new_g) {
            return (Outcome::Dropped("goroutine created twice"), cur);
        }
        let status = if ev.typ == ev::GO_CREATE_BLOCKED { gstatus::WAITING } else { gstatus::RUNNABLE };
        self.gs.insert(new_g, GState { status, seq: Seq::new(generation, 0), ranges: 0 });
        self.done(ev, cur, warn, cur)
    }

    fn go_create_syscall(&mut self, ev: &RawEvent, cur: Ctx, generation: u64) -> (Outcome, Ctx) {
        let mut warn = needs(cur, false, false);
        if cur.g != NONE {
            warn = Some("goroutine created in a syscall on a thread already running one");
        }
        let new_g = ev.args[0];
        if self.gs.contains_key(new_g) {
            return (Outcome::Dropped("goroutine created twice"), cur);
        }
        self.gs.insert(new_g, GState { status: gstatus::SYSCALL, seq: Seq::new(generation, 0), ranges: 0 });
        self.done(ev, cur, warn, Ctx { g: new_g, ..cur })
    }

    /// GoDestroy, GoStop and GoBlock: the running goroutine leaves its thread.
    fn go_stop_exec(&mut self, ev: &RawEvent, cur: Ctx) -> (Outcome, Ctx) {
        if cur.g == NONE {
            return (Outcome::Dropped("goroutine event on a thread running no goroutine"), cur);
        }
        let mut warn = needs(cur, true, true);
        let Some(state) = self.gs.get_mut(cur.g) else {
            return (Outcome::Dropped("event for a goroutine that does not exist"), cur);
        };
        if state.status != gstatus::RUNNING {
            warn = Some("goroutine stopped that was not running");
        }
        match ev.typ {
            ev::GO_DESTROY => {
                self.gs.remove(cur.g);
            }
            ev::GO_STOP => state.status = gstatus::RUNNABLE,
            _ => state.status = gstatus::WAITING,
        }
        self.done(ev, cur, warn, Ctx { g: NONE, ..cur })
    }

    fn go_start(&mut self, ev: &RawEvent, cur: Ctx, generation: u64, force: bool) -> (Outcome, Ctx) {
        let gid = ev.args[0];
        let seq = Seq::new(generation, ev.args[1]);
        let ready = self.gs.get(gid).is_some_and(|s| s.status == gstatus::RUNNABLE && seq.succeeds(s.seq));
        if !ready && !force {
            return (Outcome::NotYet, cur);
        }
        let mut warn = needs(cur, true, false);
        if cur.g != NONE {
            warn = Some("goroutine started on a thread already running one");
        }
        if !ready {
            warn = Some("goroutine started out of sequence");
        }
        let state = self.gs.or_insert(gid, GState { status: gstatus::RUNNABLE, seq, ranges: 0 });
        state.status = gstatus::RUNNING;
        state.seq = seq;
        self.done(ev, cur, warn, Ctx { g: gid, ..cur })
    }

    fn go_unblock(&mut self, ev: &RawEvent, cur: Ctx, generation: u64, force: bool) -> (Outcome, Ctx) {
        let gid = ev.args[0];
        let seq = Seq::new(generation, ev.args[1]);
        let ready = self.gs.get(gid).is_some_and(|s| s.status == gstatus::WAITING && seq.succeeds(s.seq));
        if !ready && !force {
            return (Outcome::NotYet, cur);
        }
        let state = self.gs.or_insert(gid, GState { status: gstatus::WAITING, seq, ranges: 0 });
        state.status = gstatus::RUNNABLE;
        state.seq = seq;
        let warn = if ready { None } else { Some("goroutine unblocked out of sequence") };
        // Anything may unblock a goroutine (sysmon, the netpoller), so there is no context to
        // check.
        self.done(ev, cur, warn, cur)
    }

    fn go_switch(&mut self, ev: &RawEvent, cur: Ctx, generation: u64, force: bool) -> (Outcome, Ctx) {
        if cur.g == NONE {
            return (Outcome::Dropped("goroutine switch on a thread running no goroutine"), cur);
        }
        let next = ev.args[0];
        let seq = Seq::new(generation, ev.args[1]);
        let ready = self.gs.get(next).is_some_and(|s| s.status == gstatus::WAITING && seq.succeeds(s.seq));
        if !ready && !force {
            return (Outcome::NotYet, cur);
        }
        let mut warn = needs(cur, true, true);
        match self.gs.get_mut(cur.g) {
            Some(s) if s.status == gstatus::RUNNING => {}
            Some(_) => warn = Some("goroutine switched away from while not running"),
            None => return (Outcome::Dropped("switch from a goroutine that does not exist"), cur),
        }
        if !ready {
            warn = Some("goroutine switched to out of sequence");
        }
        // A switch is three events: unblock the next goroutine (the event itself reads as that),
        // block or destroy the current one, and start the next.
        self.push(*ev, cur, 0);
        let synth = |typ, args: [u64; 4]| RawEvent { typ, time: ev.time, args, offset: ev.offset };
        if ev.typ == ev::GO_SWITCH {
            if let Some(s) = self.gs.get_mut(cur.g) {
                s.status = gstatus::WAITING;
            }
            self.push(synth(ev::GO_BLOCK, [0; 4]), cur, 0);
        } else {
            self.gs.remove(cur.g);
            self.push(synth(ev::GO_DESTROY, [0; 4]), cur, 0);
        }
        let state = self.gs.or_insert(next, GState { status: gstatus::WAITING, seq, ranges: 0 });
        state.status = gstatus::RUNNING;
        state.seq = seq;
        self.push(synth(ev::GO_START, [next, ev.args[1], 0, 0]), Ctx { g: NONE, ..cur }, 0);
        (warn.map_or(Outcome::Advanced, Outcome::AdvancedAnyway), Ctx { g: next, ..cur })
    }

    fn go_syscall_begin(&mut self, ev: &RawEvent, cur: Ctx, generation: u64) -> (Outcome, Ctx) {
        if cur.g == NONE {
            return (Outcome::Dropped("syscall on a thread running no goroutine"), cur);
        }
        let mut warn = needs(cur, true, true);
        match self.gs.get_mut(cur.g) {
            Some(s) => {
                if s.status != gstatus::RUNNING {
                    warn = Some("syscall by a goroutine that is not running");
                }
                s.status = gstatus::SYSCALL;
            }
            None => return (Outcome::Dropped("syscall by a goroutine that does not exist"), cur),
        }
        if let Some(p) = self.ps.get_mut(&cur.p) {
            p.status = pstatus::SYSCALL;
            let pseq = Seq::new(generation, ev.args[0]);
            if !pseq.succeeds(p.seq) {
                warn = Some("syscall breaks its proc's sequence");
            }
            p.seq = pseq;
        }
        self.done(ev, cur, warn, cur)
    }

    fn go_syscall_end(&mut self, ev: &RawEvent, cur: Ctx) -> (Outcome, Ctx) {
        if cur.g == NONE {
            return (Outcome::Dropped("syscall end on a thread running no goroutine"), cur);
        }
        let mut warn = needs(cur, true, true);
        match self.gs.get_mut(cur.g) {
            Some(s) => {
                if s.status != gstatus::SYSCALL {
                    warn = Some("syscall end by a goroutine not in a syscall");
                }
                s.status = gstatus::RUNNING;
            }
            None => return (Outcome::Dropped("syscall end by a goroutine that does not exist"), cur),
        }
        if let Some(p) = self.ps.get_mut(&cur.p) {
            if p.status != pstatus::SYSCALL {
                warn = Some("syscall end on a proc not in a syscall");
            }
            p.status = pstatus::RUNNING;
        }
        self.done(ev, cur, warn, cur)
    }

    fn go_syscall_end_blocked(&mut self, ev: &RawEvent, cur: Ctx, force: bool) -> (Outcome, Ctx) {
        // The goroutine lost its proc during the syscall; until that loss (a ProcStop or a
        // ProcSteal elsewhere) has been seen, this event must wait.
        if cur.p != NONE && !force && self.ps.get(&cur.p).is_some_and(|p| p.status == pstatus::SYSCALL) {
            return (Outcome::NotYet, cur);
        }
        if cur.g == NONE {
            return (Outcome::Dropped("syscall end on a thread running no goroutine"), cur);
        }
        let mut warn = needs(cur, false, true);
        match self.gs.get_mut(cur.g) {
            Some(s) => {
                if s.status != gstatus::SYSCALL {
                    warn = Some("syscall end by a goroutine not in a syscall");
                }
                s.status = gstatus::RUNNABLE;
            }
            None => return (Outcome::Dropped("syscall end by a goroutine that does not exist"), cur),
        }
        self.done(ev, cur, warn, Ctx { g: NONE, ..cur })
    }

    fn go_destroy_syscall(&mut self, ev: &RawEvent, cur: Ctx) -> (Outcome, Ctx) {
        if cur.g == NONE {
            return (Outcome::Dropped("goroutine exit on a thread running no goroutine"), cur);
        }
        let mut warn = needs(cur, false, true);
        match self.gs.get(cur.g) {
            Some(s) if s.status != gstatus::SYSCALL => warn = Some("goroutine left a syscall it was not in"),
            Some(_) => {}
            None => return (Outcome::Dropped("exit of a goroutine that does not exist"), cur),
        }
        self.gs.remove(cur.g);
        let mut new = Ctx { g: NONE, ..cur };
        if cur.p != NONE {
            // The thread may be reused by the platform; treat the proc as lost with it.
            if let Some(p) = self.ps.get_mut(&cur.p) {
                if p.status != pstatus::SYSCALL {
                    warn = Some("proc in an unexpected state at a cgo callback's end");
                }
                p.status = pstatus::SYSCALL_ABANDONED;
            }
            new.p = NONE;
            let steal =
                RawEvent { typ: ev::PROC_STEAL, time: ev.time, args: [cur.p, 0, 0, 0], offset: ev.offset };
            self.push(steal, cur, pstatus::SYSCALL);
        }
        self.done(ev, cur, warn, new)
    }

    fn go_range_begin(&mut self, ev: &RawEvent, cur: Ctx) -> (Outcome, Ctx) {
        let bit = if ev.typ == ev::STW_BEGIN { RANGE_STW } else { RANGE_ASSIST };
        let mut warn = needs(cur, true, true);
        match self.gs.get_mut(cur.g) {
            Some(s) => {
                if s.ranges & bit != 0 {
                    warn = Some("range begun twice on one goroutine");
                }
                s.ranges |= bit;
            }
            None if bit == RANGE_ASSIST => {
                return (Outcome::Dropped("mark assist on a thread running no known goroutine"), cur);
            }
            None => warn = Some("stop-the-world on a thread running no known goroutine"),
        }
        self.done(ev, cur, warn, cur)
    }

    fn go_range_active(&mut self, ev: &RawEvent, cur: Ctx, gid: u64, initial: bool) -> (Outcome, Ctx) {
        let warn = match self.gs.get_mut(gid) {
            Some(s) => {
                let had = s.ranges & RANGE_ASSIST != 0;
                s.ranges |= RANGE_ASSIST;
                match (initial, had) {
                    (true, true) => Some("active range already in flight in the first generation"),
                    (false, false) => Some("goroutine is missing an active range"),
                    _ => None,
                }
            }
            None => return (Outcome::Dropped("mark assist for an unknown goroutine"), cur),
        };
        self.done(ev, cur, warn, cur)
    }

    fn go_range_end(&mut self, ev: &RawEvent, cur: Ctx) -> (Outcome, Ctx) {
        let bit = if ev.typ == ev::STW_END { RANGE_STW } else { RANGE_ASSIST };
        let mut warn = needs(cur, true, true);
        match self.gs.get_mut(cur.g) {
            Some(s) => {
                if s.ranges & bit == 0 {
                    warn = Some("range ended that was not in flight");
                }
                s.ranges &= !bit;
            }
            None if bit == RANGE_ASSIST => {
                return (Outcome::Dropped("mark assist end on a thread running no known goroutine"), cur);
            }
            None => warn = Some("stop-the-world end on a thread running no known goroutine"),
        }
        self.done(ev, cur, warn, cur)
    }

    fn gc_active(&mut self, ev: &RawEvent, cur: Ctx, initial: bool, force: bool) -> (Outcome, Ctx) {
        let seq = ev.args[0];
        if initial {
            let warn = (self.gc != Gc::Undetermined)
                .then_some("GC active in the first generation after other GC events");
            self.gc_seq = seq;
            self.gc = Gc::Running;
            return self.done(ev, cur, warn, cur);
        }
        if seq != self.gc_seq.wrapping_add(1) && !force {
            return (Outcome::NotYet, cur);
        }
        let warn = (self.gc != Gc::Running).then_some("GC active while no GC was in progress");
        self.gc_seq = seq;
        self.gc = Gc::Running;
        self.done(ev, cur, warn, cur)
    }

    fn gc_begin(&mut self, ev: &RawEvent, cur: Ctx, force: bool) -> (Outcome, Ctx) {
        let seq = ev.args[0];
        if self.gc == Gc::Undetermined {
            self.gc_seq = seq;
            self.gc = Gc::Running;
            return self.done(ev, cur, None, cur);
        }
        if seq != self.gc_seq.wrapping_add(1) && !force {
            return (Outcome::NotYet, cur);
        }
        let warn = if self.gc == Gc::Running {
            Some("GC began while one was in progress")
        } else {
            needs(cur, true, true)
        };
        self.gc_seq = seq;
        self.gc = Gc::Running;
        self.done(ev, cur, warn, cur)
    }

    fn gc_end(&mut self, ev: &RawEvent, cur: Ctx, force: bool) -> (Outcome, Ctx) {
        let seq = ev.args[0];
        if seq != self.gc_seq.wrapping_add(1) && !force {
            return (Outcome::NotYet, cur);
        }
        let warn = match self.gc {
            Gc::Running => needs(cur, true, true),
            Gc::NotRunning | Gc::Undetermined => Some("GC ended while none was known to be in progress"),
        };
        self.gc_seq = seq;
        self.gc = Gc::NotRunning;
        self.done(ev, cur, warn, cur)
    }

    fn sweep_begin(&mut self, ev: &RawEvent, cur: Ctx) -> (Outcome, Ctx) {
        let Some(p) = self.ps.get_mut(&cur.p) else {
            return (Outcome::Dropped("sweep on a thread without a proc"), cur);
        };
        let warn = (p.ranges & RANGE_SWEEP != 0).then_some("sweep begun twice on one proc");
        p.ranges |= RANGE_SWEEP;
        self.done(ev, cur, warn, cur)
    }

    fn sweep_active(&mut self, ev: &RawEvent, cur: Ctx, initial: bool) -> (Outcome, Ctx) {
        let Some(p) = self.ps.get_mut(&ev.args[0]) else {
            return (Outcome::Dropped("sweep active on an unknown proc"), cur);
        };
        let had = p.ranges & RANGE_SWEEP != 0;
        p.ranges |= RANGE_SWEEP;
        let warn = match (initial, had) {
            (true, true) => Some("active range already in flight in the first generation"),
            (false, false) => Some("proc is missing an active range"),
            _ => None,
        };
        self.done(ev, cur, warn, cur)
    }

    fn sweep_end(&mut self, ev: &RawEvent, cur: Ctx) -> (Outcome, Ctx) {
        let Some(p) = self.ps.get_mut(&cur.p) else {
            return (Outcome::Dropped("sweep end on a thread without a proc"), cur);
        };
        let warn = (p.ranges & RANGE_SWEEP == 0).then_some("sweep ended that was not in flight");
        p.ranges &= !RANGE_SWEEP;
        self.done(ev, cur, warn, cur)
    }
}

/// The Go API's proc state for a wire proc status (a proc in a syscall counts as running).
fn status_as_proc_state(status: u8) -> u8 {
    match status {
        pstatus::RUNNING | pstatus::SYSCALL => pstatus::RUNNING,
        _ => pstatus::IDLE,
    }
}

/// Why an event could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DecodeError {
    pub offset: usize,
    pub message: &'static str,
}

/// One thread's batches in a generation, read one event at a time.
///
/// Events are decoded a run at a time into a buffer: one tight loop over a batch's bytes
/// instead of a decode interleaved with the merge of the threads, which keeps the decoder's
/// branches and the bytes hot (the merge visits each thread in turn). A run is at most
/// [`DECODE_RUN`] events, so a trace with hundreds of threads buffers little per thread.
#[derive(Debug)]
pub(crate) struct Cursor<'b> {
    /// The thread.
    pub m: u64,
    /// The thread's slot in the ordering's states, once its first event was advanced.
    pub m_slot: Option<u32>,
    batches: Vec<&'b Batch>,
    /// The batch being decoded, the offset of its next undecoded event, and the time of the
    /// last decoded one (`None` before its first).
    idx: usize,
    off: usize,
    last: Option<i64>,
    /// Decoded events not yet handed out, and the next one.
    buf: Vec<RawEvent>,
    pos: usize,
    /// An unreadable event, handed out after the events before it.
    err: Option<DecodeError>,
}

/// What [`Cursor::ev`] reads before the cursor's first event.
const NO_EVENT: RawEvent = RawEvent { typ: 0, time: 0, args: [0; 4], offset: 0 };

/// Most events decoded ahead per thread (about 56 KB).
const DECODE_RUN: usize = 1024;

impl<'b> Cursor<'b> {
    /// A cursor over `batches` (one thread's, in file order).
    pub fn new(m: u64, batches: Vec<&'b Batch>) -> Self {
        Self { m, m_slot: None, batches, idx: 0, off: 0, last: None, buf: Vec::new(), pos: 0, err: None }
    }

    /// The event `next` moved to, where it last returned true. It is read in place in the
    /// decoded run: a copy of it out of the run was a twentieth of a read.
    #[inline]
    pub fn ev(&self) -> &RawEvent {
        self.buf.get(self.pos.wrapping_sub(1)).unwrap_or(&NO_EVENT)
    }

    /// The current event (see [`Cursor::ev`]) and the thread's slot for [`Ordering::advance`].
    #[inline]
    pub fn current(&mut self) -> (&RawEvent, (u64, &mut Option<u32>)) {
        (self.buf.get(self.pos.wrapping_sub(1)).unwrap_or(&NO_EVENT), (self.m, &mut self.m_slot))
    }

    /// Moves to the next event (see [`Cursor::ev`]); false at the end. A bad event skips the
    /// rest of its batch and is returned as an error; calling again continues with the next
    /// batch.
    #[inline]
    pub fn next(&mut self, bytes: &[u8], freq: Freq, version: Version) -> Result<bool, DecodeError> {
        if self.pos < self.buf.len() {
            self.pos += 1;
            return Ok(true);
        }
        self.refill(bytes, freq, version)
    }

    #[inline(never)]
    fn refill(&mut self, bytes: &[u8], freq: Freq, version: Version) -> Result<bool, DecodeError> {
        loop {
            if let Some(e) = self.err.take() {
                return Err(e);
            }
            self.buf.clear();
            self.pos = 0;
            let Some(batch) = self.batches.get(self.idx) else {
                return Ok(false);
            };
            let data = bytes.get(batch.data.clone()).unwrap_or_default();
            let table = version.event_table();
            let mut last = self.last.unwrap_or_else(|| freq.ns(batch.time));
            while self.off < data.len() && self.buf.len() < DECODE_RUN {
                let offset = batch.data.start + self.off;
                match read_event(data, &mut self.off, table) {
                    Ok((typ, dt, args)) => {
                        let time = freq.ns(dt).saturating_add(last);
                        last = time;
                        self.buf.push(RawEvent { typ, time, args, offset });
                    }
                    Err(message) => {
                        self.off = data.len();
                        self.err = Some(DecodeError { offset, message });
                        break;
                    }
                }
            }
            self.last = Some(last);
            if self.off >= data.len() {
                self.idx += 1;
                self.off = 0;
                self.last = None;
            }
            if !self.buf.is_empty() {
                self.pos = 1;
                return Ok(true);
            }
        }
    }
}

/// Counts the events of each type in a batch, up to the first unreadable one (a cheap pass that
/// lets the builder size its tables once instead of growing them), and returns the largest
/// goroutine id that its creations and statuses name.
pub(crate) fn count_events(data: &[u8], version: Version, counts: &mut [u64; 256]) -> u64 {
    let table = version.event_table();
    let mut pos = 0;
    let mut largest = 0;
    while pos < data.len() {
        let typ = data.get(pos).copied().unwrap_or_default();
        let names_goroutine = matches!(
            typ,
            ev::GO_CREATE
                | ev::GO_CREATE_BLOCKED
                | ev::GO_CREATE_SYSCALL
                | ev::GO_STATUS
                | ev::GO_STATUS_STACK
        );
        // Most events are only counted: their numbers are stepped over, not read. (A number
        // too long to read then counts the events after it too; the counts size tables, for
        // which more is harmless.)
        if !names_goroutine
            && let Ok(n) = table.args(typ)
            && let Some(next) = wire::skip_uvarints(data, pos + 1, n as u32)
        {
            if let Some(c) = counts.get_mut(usize::from(typ)) {
                *c += 1;
            }
            pos = next;
            continue;
        }
        match read_event(data, &mut pos, table) {
            Ok((typ, _, args)) => {
                if let Some(c) = counts.get_mut(usize::from(typ)) {
                    *c += 1;
                }
                if names_goroutine {
                    largest = largest.max(args[0]);
                }
            }
            Err(_) => return largest,
        }
    }
    largest
}

/// Reads one timed event: its type, timestamp delta and arguments.
// Always inlined: out of line, passing its result back through memory cost a third of it
// (measured: a busy trace's read took 7% more instructions with it merely `#[inline]`).
#[allow(clippy::inline_always)]
#[inline(always)]
fn read_event(data: &[u8], pos: &mut usize, table: &EventTable) -> Result<(u8, u64, [u64; 4]), &'static str> {
    let typ = *data.get(*pos).ok_or("empty event")?;
    let n = table.args(typ)?;
    *pos += 1;
    let mut p = *pos;
    let dt = wire::uvarint(data, &mut p).map_err(|_| "bad timestamp; the rest of the batch is skipped")?;
    let mut arg =
        || wire::uvarint(data, &mut p).map_err(|_| "bad event argument; the rest of the batch is skipped");
    // Unrolled by the count (at most 4 after the timestamp): a loop over it cost a tenth of
    // decoding.
    let mut args = [0u64; 4];
    if n > 1 {
        let [first, second, third, fourth] = &mut args;
        *first = arg()?;
        if n > 2 {
            *second = arg()?;
            if n > 3 {
                *third = arg()?;
                if n > 4 {
                    *fourth = arg()?;
                }
            }
        }
    }
    *pos = p;
    Ok((typ, dt, args))
}
