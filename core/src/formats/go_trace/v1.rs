//! The older trace format of Go 1.11-1.21 (headers `go 1.11 trace`, `go 1.19 trace`,
//! `go 1.21 trace`), read the way Go's own reader does: decode every per-P batch, merge the
//! batches into one order by goroutine sequence numbers and timestamps, put syscall exits at
//! their real time, then convert the events into the current format's events, which the same
//! builder turns into the model.
//!
//! Written from the format's description in Go's `internal/trace/internal/tracev1` and the
//! conversion in `internal/trace/tracev1.go`. Where Go's reader gives up (an impossible
//! transition, no consistent order), we keep going with a warning.

use std::borrow::Cow;

use hashbrown::{HashMap, HashSet};

use super::build::Builder;
use super::order::{NONE, OLD_UNDETERMINED, Ordered, RawEvent, gstatus, pstatus};
use super::problems::Problems;
use super::tables::{IdTable, Interned, RawSample};
use super::wire::{self, ev as v2};
use crate::error::ParseError;
use crate::input::Progress;
use crate::model::{Capture, FormatKind, Frame, FrameId};

const KIND: FormatKind = FormatKind::GoExecutionTrace;

/// Event types of the old format.
mod ev {
    pub const BATCH: u8 = 1;
    pub const FREQUENCY: u8 = 2;
    pub const STACK: u8 = 3;
    pub const GOMAXPROCS: u8 = 4;
    pub const PROC_START: u8 = 5;
    pub const PROC_STOP: u8 = 6;
    pub const GC_START: u8 = 7;
    pub const GC_DONE: u8 = 8;
    pub const STW_START: u8 = 9;
    pub const STW_DONE: u8 = 10;
    pub const GC_SWEEP_START: u8 = 11;
    pub const GC_SWEEP_DONE: u8 = 12;
    pub const GO_CREATE: u8 = 13;
    pub const GO_START: u8 = 14;
    pub const GO_END: u8 = 15;
    pub const GO_STOP: u8 = 16;
    pub const GO_SCHED: u8 = 17;
    pub const GO_PREEMPT: u8 = 18;
    pub const GO_SLEEP: u8 = 19;
    pub const GO_BLOCK: u8 = 20;
    pub const GO_UNBLOCK: u8 = 21;
    pub const GO_BLOCK_SEND: u8 = 22;
    pub const GO_BLOCK_RECV: u8 = 23;
    pub const GO_BLOCK_SELECT: u8 = 24;
    pub const GO_BLOCK_SYNC: u8 = 25;
    pub const GO_BLOCK_COND: u8 = 26;
    pub const GO_BLOCK_NET: u8 = 27;
    pub const GO_SYS_CALL: u8 = 28;
    pub const GO_SYS_EXIT: u8 = 29;
    pub const GO_SYS_BLOCK: u8 = 30;
    pub const GO_WAITING: u8 = 31;
    pub const GO_IN_SYSCALL: u8 = 32;
    pub const HEAP_ALLOC: u8 = 33;
    pub const HEAP_GOAL: u8 = 34;
    pub const TIMER_GOROUTINE: u8 = 35;
    pub const FUTILE_WAKEUP: u8 = 36;
    pub const STRING: u8 = 37;
    pub const GO_START_LOCAL: u8 = 38;
    pub const GO_UNBLOCK_LOCAL: u8 = 39;
    pub const GO_SYS_EXIT_LOCAL: u8 = 40;
    pub const GO_START_LABEL: u8 = 41;
    pub const GO_BLOCK_GC: u8 = 42;
    pub const GC_MARK_ASSIST_START: u8 = 43;
    pub const GC_MARK_ASSIST_DONE: u8 = 44;
    pub const USER_TASK_CREATE: u8 = 45;
    pub const USER_TASK_END: u8 = 46;
    pub const USER_REGION: u8 = 47;
    pub const USER_LOG: u8 = 48;
    pub const CPU_SAMPLE: u8 = 49;
}

/// For each type: (number of named arguments, whether a stack id follows, whether a timestamp
/// comes first, the first Go version that writes it).
fn describe(typ: u8) -> Option<(usize, bool, bool, u32)> {
    // The table reads like the format's event list; naming the module on every entry would
    // hide it.
    #[allow(clippy::wildcard_imports)]
    use ev::*;
    let d = match typ {
        // A stack's arguments are counted by its frame count instead.
        BATCH | STACK => (2, false, false, 5),
        FREQUENCY | TIMER_GOROUTINE => (1, false, false, 5),
        GOMAXPROCS | GC_START => (1, true, true, 5),
        PROC_START | STW_START | GO_WAITING | GO_IN_SYSCALL | HEAP_ALLOC | HEAP_GOAL => (1, false, true, 5),
        PROC_STOP | GC_DONE | STW_DONE | GO_END | GO_SYS_BLOCK | FUTILE_WAKEUP => (0, false, true, 5),
        GC_SWEEP_START | GO_STOP | GO_SCHED | GO_PREEMPT | GO_SLEEP | GO_BLOCK | GO_BLOCK_SEND
        | GO_BLOCK_RECV | GO_BLOCK_SELECT | GO_BLOCK_SYNC | GO_BLOCK_COND | GO_BLOCK_NET | GO_SYS_CALL => {
            (0, true, true, 5)
        }
        GC_SWEEP_DONE | GO_START => (2, false, true, 5),
        GO_CREATE | GO_UNBLOCK => (2, true, true, 5),
        GO_SYS_EXIT => (3, false, true, 5),
        STRING => (0, false, false, 7),
        GO_START_LOCAL => (1, false, true, 7),
        GO_UNBLOCK_LOCAL => (1, true, true, 7),
        GO_SYS_EXIT_LOCAL => (2, false, true, 7),
        GO_START_LABEL => (3, false, true, 8),
        GO_BLOCK_GC => (0, true, true, 8),
        GC_MARK_ASSIST_START => (0, true, true, 9),
        GC_MARK_ASSIST_DONE => (0, false, true, 9),
        USER_TASK_CREATE | USER_REGION => (3, true, true, 11),
        USER_TASK_END => (1, true, true, 11),
        USER_LOG => (2, true, true, 11),
        CPU_SAMPLE => (3, true, true, 19),
        _ => return None,
    };
    Some(d)
}

/// Fake procs of the old format's model of the world.
const TIMER_P: i32 = 1_000_002;
const SYSCALL_P: i32 = 1_000_004;

/// One decoded event.
#[derive(Clone, Copy, Debug, Default)]
struct Event {
    /// Ticks while merging, then nanoseconds from the first event.
    ts: i64,
    g: u64,
    args: [u64; 4],
    stack: u64,
    p: i32,
    typ: u8,
    offset: usize,
}

/// Everything the file says, decoded.
#[derive(Default)]
struct Decoded<'a> {
    strings: HashMap<u64, Cow<'a, str>>,
    /// The largest string id and the offset of its event: the ids the converter adds are laid
    /// out after it, and an error about them points there.
    max_string: Option<(u64, usize)>,
    inline: Vec<String>,
    inline_ids: HashMap<String, usize>,
    stacks: HashMap<u64, Vec<u64>>,
    frames: HashMap<u64, (u64, u64, u64)>,
    ticks_per_second: Option<i64>,
    timer_goroutines: HashSet<u64>,
    procs: Vec<(i32, Vec<Event>)>,
    samples: Vec<Event>,
}

/// Reads an old-format trace of Go 1.`minor`.
pub(crate) fn parse(
    bytes: &[u8],
    minor: u32,
    path: &str,
    progress: &Progress,
) -> Result<Capture, ParseError> {
    let mut problems = Problems::default();
    let mut decoded = decode(bytes, minor, &mut problems);
    let Some(ticks) = decoded.ticks_per_second.filter(|&t| t > 0) else {
        return Err(ParseError::at_offset(
            KIND,
            wire::HEADER_LEN as u64,
            "this Go 1.11-1.21 trace has no timestamp frequency (it is cut off or not a trace)",
        ));
    };
    progress.advance(bytes.len() as u64 / 2);
    if progress.is_cancelled() {
        return Err(super::super::cancelled(KIND));
    }
    let procs = std::mem::take(&mut decoded.procs);
    let samples = std::mem::take(&mut decoded.samples);
    let mut events = merge(procs, samples, &mut problems);
    fix_syscall_exits(&mut events, &mut problems);
    if events.is_empty() {
        return Err(ParseError::at_offset(
            KIND,
            wire::HEADER_LEN as u64,
            "no events in this Go 1.11-1.21 trace",
        ));
    }
    let min = events.first().map_or(0, |e| e.ts);
    let ns_per_tick = 1e9 / ticks as f64;
    for e in &mut events {
        // Sorted, so never negative; saturating because a corrupt trace's ticks can span more
        // than an i64.
        e.ts = (e.ts.saturating_sub(min) as f64 * ns_per_tick) as i64;
        if e.typ == ev::GO_UNBLOCK && decoded.timer_goroutines.contains(&e.g) {
            e.p = TIMER_P;
        }
        if e.typ == ev::GO_SYS_EXIT {
            e.p = SYSCALL_P;
        }
    }

    let mut capture = Capture::new(path, KIND);
    capture.source.go_version = Some(format!("go1.{minor}"));
    capture.source.bytes = bytes.len() as u64;
    let mut builder = Builder::new(capture);
    builder.set_format(minor, u64::try_from(ticks).ok());
    let mut converter = Converter::new(&decoded, &mut builder, minor)?;
    // Go's reader starts an old trace with a sync point just before its first event.
    builder.start_at(events.first().map_or(0, |e| e.ts).saturating_sub(1));
    converter.run(&events, &mut builder);
    progress.advance(bytes.len() as u64 - bytes.len() as u64 / 2);
    let end = builder.final_sync();
    problems.merge(std::mem::take(&mut builder.problems));
    let mut capture = builder.finish(end);
    problems.into_warnings(&mut capture.warnings);
    Ok(capture)
}

/// Decodes the whole file: strings, stacks and frequency wherever they are, and each P's
/// batches into that P's event list, in file order.
fn decode<'a>(bytes: &'a [u8], minor: u32, problems: &mut Problems) -> Decoded<'a> {
    let mut out = Decoded::default();
    let mut proc_index: HashMap<i32, usize> = HashMap::new();
    let mut g_by_proc: HashMap<i32, u64> = HashMap::new();
    let (mut cur_p, mut last_g, mut last_ts): (Option<i32>, u64, i64) = (None, 0, 0);
    let mut pos = wire::HEADER_LEN;
    let mut args: Vec<u64> = Vec::new();
    while pos < bytes.len() {
        let offset = pos;
        let Some(&b) = bytes.get(pos) else { break };
        pos += 1;
        let typ = b & 0x3f;
        let narg = usize::from(b >> 6) + 1;
        let Some((named, stack, timed, since)) = describe(typ).filter(|desc| desc.3 <= minor) else {
            problems
                .add("unknown event type in a Go 1.11-1.21 trace; the rest of the file is ignored", offset);
            break;
        };
        let _ = since;
        let value = |pos: &mut usize| wire::uvarint(bytes, pos).ok();
        if typ == ev::STRING {
            let (Some(id), Some(len)) = (value(&mut pos), value(&mut pos)) else {
                problems
                    .add("cut-off string in a Go 1.11-1.21 trace; the rest of the file is ignored", offset);
                break;
            };
            let end =
                usize::try_from(len).ok().and_then(|l| pos.checked_add(l)).filter(|&e| e <= bytes.len());
            let Some(end) = end else {
                problems
                    .add("cut-off string in a Go 1.11-1.21 trace; the rest of the file is ignored", offset);
                break;
            };
            let raw = bytes.get(pos..end).unwrap_or_default();
            pos = end;
            let text = match std::str::from_utf8(raw) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(String::from_utf8_lossy(raw).into_owned()),
            };
            if id == 0 || len == 0 || out.strings.contains_key(&id) {
                problems.add("invalid or duplicate string in a Go 1.11-1.21 trace", offset);
            } else {
                out.strings.insert(id, text);
                if out.max_string.is_none_or(|(max, _)| id > max) {
                    out.max_string = Some((id, offset));
                }
            }
            continue;
        }
        // Up to three arguments are inline (the count in the type byte's top bits, plus the
        // timestamp); more are prefixed with their length in bytes.
        args.clear();
        let mut sarg: Option<String> = None;
        if typ == ev::BATCH || narg <= 3 {
            let n = if typ == ev::BATCH { 2 } else { narg };
            for _ in 0..n {
                let Some(v) = value(&mut pos) else { break };
                args.push(v);
            }
            if args.len() != n {
                problems
                    .add("cut-off event in a Go 1.11-1.21 trace; the rest of the file is ignored", offset);
                break;
            }
        } else {
            let Some(len) = value(&mut pos) else {
                problems
                    .add("cut-off event in a Go 1.11-1.21 trace; the rest of the file is ignored", offset);
                break;
            };
            let end =
                usize::try_from(len).ok().and_then(|l| pos.checked_add(l)).filter(|&e| e <= bytes.len());
            let Some(end) = end.filter(|_| len <= 1 << 20) else {
                problems
                    .add("cut-off event in a Go 1.11-1.21 trace; the rest of the file is ignored", offset);
                break;
            };
            let mut p = pos;
            while p < end {
                match wire::uvarint(bytes.get(..end).unwrap_or_default(), &mut p) {
                    Ok(v) => args.push(v),
                    Err(_) => break,
                }
            }
            pos = end;
            if typ == ev::USER_LOG {
                let (Some(len), start) = (value(&mut pos), pos) else { break };
                let end = usize::try_from(len)
                    .ok()
                    .and_then(|l| start.checked_add(l))
                    .filter(|&e| e <= bytes.len());
                let Some(end) = end else {
                    problems.add(
                        "cut-off log message in a Go 1.11-1.21 trace; the rest of the file is ignored",
                        offset,
                    );
                    break;
                };
                sarg = Some(String::from_utf8_lossy(bytes.get(start..end).unwrap_or_default()).into_owned());
                pos = end;
            }
        }
        let want =
            if typ == ev::STACK { args.len() } else { named + usize::from(stack) + usize::from(timed) };
        if args.len() != want {
            problems.add("event with the wrong number of arguments in a Go 1.11-1.21 trace; skipped", offset);
            continue;
        }
        let arg = |i: usize| args.get(i).copied().unwrap_or(0);
        match typ {
            ev::BATCH => {
                if let Some(p) = cur_p {
                    g_by_proc.insert(p, last_g);
                }
                let pid = arg(0);
                let p = if pid == u64::MAX { -1 } else { i32::try_from(pid).unwrap_or(i32::MAX) };
                cur_p = Some(p);
                last_g = g_by_proc.get(&p).copied().unwrap_or(0);
                last_ts = arg(1) as i64;
                proc_index.entry(p).or_insert_with(|| {
                    out.procs.push((p, Vec::new()));
                    out.procs.len() - 1
                });
            }
            ev::FREQUENCY => out.ticks_per_second = Some(arg(0) as i64),
            ev::TIMER_GOROUTINE => {
                out.timer_goroutines.insert(arg(0));
            }
            ev::STACK => {
                let (id, size) = (arg(0), arg(1));
                if size > 1000 || args.len() as u64 != 2 + 4 * size {
                    problems.add("malformed stack in a Go 1.11-1.21 trace; skipped", offset);
                    continue;
                }
                if id != 0 && size > 0 {
                    let mut pcs = Vec::with_capacity(size as usize);
                    for f in args.get(2..).unwrap_or_default().chunks_exact(4) {
                        if let [pc, func, file, line] = *f {
                            pcs.push(pc);
                            out.frames.entry(pc).or_insert((func, file, line));
                        }
                    }
                    out.stacks.insert(id, pcs);
                }
            }
            ev::CPU_SAMPLE => {
                // [timestamp, real timestamp, P, G, stack]: placed by the real timestamp.
                let p = arg(2);
                out.samples.push(Event {
                    ts: arg(1) as i64,
                    p: if p == u64::MAX { -1 } else { i32::try_from(p).unwrap_or(-1) },
                    g: arg(3),
                    stack: arg(4),
                    typ,
                    offset,
                    ..Event::default()
                });
            }
            _ => {
                let Some(p) = cur_p else {
                    problems.add("event before any batch in a Go 1.11-1.21 trace; skipped", offset);
                    continue;
                };
                let mut e = Event { typ, p, g: last_g, offset, ..Event::default() };
                e.ts = last_ts.wrapping_add(arg(0) as i64);
                last_ts = e.ts;
                let n = args.len();
                for i in 1..n {
                    if i == n - 1 && stack {
                        e.stack = arg(i);
                    } else if let Some(slot) = e.args.get_mut(i - 1) {
                        *slot = arg(i);
                    }
                }
                match typ {
                    ev::GO_START | ev::GO_START_LOCAL | ev::GO_START_LABEL => {
                        last_g = e.args[0];
                        e.g = last_g;
                    }
                    ev::GO_END
                    | ev::GO_STOP
                    | ev::GO_SCHED
                    | ev::GO_PREEMPT
                    | ev::GO_SLEEP
                    | ev::GO_BLOCK
                    | ev::GO_BLOCK_SEND
                    | ev::GO_BLOCK_RECV
                    | ev::GO_BLOCK_SELECT
                    | ev::GO_BLOCK_SYNC
                    | ev::GO_BLOCK_COND
                    | ev::GO_BLOCK_NET
                    | ev::GO_SYS_BLOCK
                    | ev::GO_BLOCK_GC => last_g = 0,
                    ev::GO_SYS_EXIT | ev::GO_WAITING | ev::GO_IN_SYSCALL => e.g = e.args[0],
                    ev::USER_LOG => {
                        let text = sarg.take().unwrap_or_default();
                        let id = if let Some(&id) = out.inline_ids.get(&text) {
                            id
                        } else {
                            out.inline.push(text.clone());
                            out.inline_ids.insert(text, out.inline.len() - 1);
                            out.inline.len() - 1
                        };
                        e.args[3] = id as u64;
                    }
                    _ => {}
                }
                if let Some(list) = proc_index.get(&p).and_then(|&i| out.procs.get_mut(i)) {
                    list.1.push(e);
                }
            }
        }
    }
    out
}

/// Goroutine states of the merge.
const G_DEAD: u8 = 0;
const G_RUNNABLE: u8 = 1;
const G_RUNNING: u8 = 2;
const G_WAITING: u8 = 3;
/// "Any sequence number" and "one more than the current".
const NO_SEQ: u64 = u64::MAX;
const SEQ_INC: u64 = u64::MAX - 1;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct GState {
    seq: u64,
    status: u8,
}

/// What an event requires of and does to its goroutine: (goroutine, required, next); `None`
/// for events that need no order.
fn transition(e: &Event) -> Option<(u64, GState, GState)> {
    let s = |seq, status| GState { seq, status };
    let a = e.args;
    Some(match e.typ {
        ev::GO_CREATE => (a[0], s(0, G_DEAD), s(1, G_RUNNABLE)),
        ev::GO_WAITING | ev::GO_IN_SYSCALL => (e.g, s(1, G_RUNNABLE), s(2, G_WAITING)),
        ev::GO_START | ev::GO_START_LABEL => (e.g, s(a[1], G_RUNNABLE), s(a[1].wrapping_add(1), G_RUNNING)),
        ev::GO_START_LOCAL => (e.g, s(NO_SEQ, G_RUNNABLE), s(SEQ_INC, G_RUNNING)),
        ev::GO_BLOCK
        | ev::GO_BLOCK_SEND
        | ev::GO_BLOCK_RECV
        | ev::GO_BLOCK_SELECT
        | ev::GO_BLOCK_SYNC
        | ev::GO_BLOCK_COND
        | ev::GO_BLOCK_NET
        | ev::GO_SLEEP
        | ev::GO_SYS_BLOCK
        | ev::GO_BLOCK_GC => (e.g, s(NO_SEQ, G_RUNNING), s(NO_SEQ, G_WAITING)),
        ev::GO_SCHED | ev::GO_PREEMPT => (e.g, s(NO_SEQ, G_RUNNING), s(NO_SEQ, G_RUNNABLE)),
        ev::GO_UNBLOCK | ev::GO_SYS_EXIT => (a[0], s(a[1], G_WAITING), s(a[1].wrapping_add(1), G_RUNNABLE)),
        ev::GO_UNBLOCK_LOCAL | ev::GO_SYS_EXIT_LOCAL => (a[0], s(NO_SEQ, G_WAITING), s(SEQ_INC, G_RUNNABLE)),
        // GC cycles are ordered like a goroutine of their own.
        ev::GC_START => (u64::MAX - 1, s(a[0], G_DEAD), s(a[0].wrapping_add(1), G_DEAD)),
        _ => return None,
    })
}

fn ready(current: GState, required: GState) -> bool {
    (required.seq == NO_SEQ || required.seq == current.seq) && required.status == current.status
}

/// Merges the per-P event lists into one order: among the Ps whose next event's goroutine is in
/// the state the event requires, the earliest goes. When none can go, the earliest is forced.
///
/// Ties between equal timestamps are broken with the same machinery as Go's reader (its heap and
/// its list of Ps waiting to be looked at), so that times made strictly increasing afterwards
/// agree with one of the results Go's reader gives: which one it gives changes from run to run
/// (see below), ours is fixed.
fn merge(procs: Vec<(i32, Vec<Event>)>, mut samples: Vec<Event>, problems: &mut Problems) -> Vec<Event> {
    samples.sort_by_key(|e| e.ts);
    let mut lists: Vec<Vec<Event>> = procs.into_iter().map(|(_, l)| l).collect();
    lists.push(samples);
    let total: usize = lists.iter().map(Vec::len).sum();
    let mut heads = vec![0usize; lists.len()];
    let head = |lists: &[Vec<Event>], heads: &[usize], p: usize| -> Option<Event> {
        lists.get(p).and_then(|l| l.get(heads.get(p).copied().unwrap_or(usize::MAX))).copied()
    };
    let mut gs: HashMap<u64, GState> = HashMap::new();
    let mut out = Vec::with_capacity(total);
    // Go visits the Ps first in its map's iteration order, which is random per process. That
    // first order is carried through the whole merge (Ps leave and rejoin the list one by one),
    // so it decides every tie between events of different Ps at the same tick, not only those
    // near the start, and Go's own output on such a trace varies between runs (http_1_19_good:
    // two syscalls at one tick on P 2 and P 5 swap, shifting both by 2 ns). Visiting the Ps
    // last first gives, on every old trace we have, an output Go's reader also gives.
    let mut available: Vec<usize> = (0..lists.len()).rev().collect();
    let mut frontier: Vec<(Event, usize)> = Vec::new();
    loop {
        let mut i = 0;
        while let Some(&p) = available.get(i) {
            let Some(e) = head(&lists, &heads, p) else {
                available.swap_remove(i);
                continue;
            };
            let go =
                transition(&e).is_none_or(|(g, req, _)| ready(gs.get(&g).copied().unwrap_or_default(), req));
            if !go {
                i += 1;
                continue;
            }
            if let Some(h) = heads.get_mut(p) {
                *h += 1;
            }
            available.swap_remove(i);
            heap_push(&mut frontier, (e, p));
        }
        let (e, p) = if let Some(f) = heap_pop(&mut frontier) {
            f
        } else {
            // Nothing can go: force the earliest waiting event.
            let Some((at, p)) = available
                .iter()
                .enumerate()
                .filter_map(|(at, &p)| head(&lists, &heads, p).map(|e| (e.ts, at, p)))
                .min()
                .map(|(_, at, p)| (at, p))
            else {
                break;
            };
            let Some(e) = head(&lists, &heads, p) else { break };
            problems.add(
                "no consistent order of goroutine events in this Go 1.11-1.21 trace; the earliest was applied anyway",
                e.offset,
            );
            if let Some(h) = heads.get_mut(p) {
                *h += 1;
            }
            available.swap_remove(at);
            (e, p)
        };
        available.push(p);
        if let Some((g, req, mut next)) = transition(&e) {
            let cur = gs.get(&g).copied().unwrap_or_default();
            if !ready(cur, req) {
                problems.add("impossible goroutine state transition in a Go 1.11-1.21 trace", e.offset);
            }
            if next.seq == NO_SEQ {
                next.seq = cur.seq;
            } else if next.seq == SEQ_INC {
                next.seq = cur.seq.wrapping_add(1);
            }
            gs.insert(g, next);
        }
        let mut e = e;
        e.typ = match e.typ {
            ev::GO_START_LOCAL => ev::GO_START,
            ev::GO_UNBLOCK_LOCAL => ev::GO_UNBLOCK,
            ev::GO_SYS_EXIT_LOCAL => ev::GO_SYS_EXIT,
            t => t,
        };
        out.push(e);
    }
    out
}

/// A binary min-heap on event time that moves an entry only past strictly greater ones.
fn heap_push(h: &mut Vec<(Event, usize)>, x: (Event, usize)) {
    h.push(x);
    let mut j = h.len() - 1;
    while j > 0 {
        let i = (j - 1) / 2;
        if !less(h, j, i) {
            break;
        }
        h.swap(i, j);
        j = i;
    }
}

fn heap_pop(h: &mut Vec<(Event, usize)>) -> Option<(Event, usize)> {
    let n = h.len().checked_sub(1)?;
    h.swap(0, n);
    let mut i = 0;
    loop {
        let j1 = 2 * i + 1;
        if j1 >= n {
            break;
        }
        let j = if j1 + 1 < n && less(h, j1 + 1, j1) { j1 + 1 } else { j1 };
        if !less(h, j, i) {
            break;
        }
        h.swap(i, j);
        i = j;
    }
    h.pop()
}

fn less(heap: &[(Event, usize)], i: usize, j: usize) -> bool {
    match (heap.get(i), heap.get(j)) {
        (Some(first), Some(second)) => first.0.ts < second.0.ts,
        _ => false,
    }
}

/// Syscall exits were written when the goroutine next ran; their real time is an argument.
/// Move them there (in time order), as Go's reader does.
fn fix_syscall_exits(events: &mut [Event], problems: &mut Problems) {
    if events.windows(2).any(|w| w.first().map(|e| e.ts) > w.get(1).map(|e| e.ts)) {
        problems.add_at(
            "timestamps out of order in this Go 1.11-1.21 trace (a known clock problem of some machines)",
            None,
        );
    }
    let mut last_block: HashMap<u64, i64> = HashMap::new();
    for e in events.iter_mut() {
        match e.typ {
            ev::GO_SYS_BLOCK | ev::GO_IN_SYSCALL => {
                last_block.insert(e.g, e.ts);
            }
            ev::GO_SYS_EXIT => {
                let real = e.args[2] as i64;
                if real == 0 {
                    continue;
                }
                match last_block.get(&e.g) {
                    Some(&block) if real >= block => e.ts = real,
                    Some(_) => {
                        problems.add("syscall exit before its block in a Go 1.11-1.21 trace", e.offset);
                    }
                    None => {
                        problems.add("syscall exit without a syscall in a Go 1.11-1.21 trace", e.offset);
                    }
                }
            }
            _ => {}
        }
    }
    events.sort_by_key(|e| e.ts);
}

/// Reason strings the conversion adds to the string table.
const REASONS: [&str; 12] = [
    "forever",
    "preempted",
    "runtime.Gosched",
    "sleep",
    "chan send",
    "chan receive",
    "network",
    "sync",
    "sync.(*Cond).Wait",
    "select",
    "",
    "GC mark assist wait for work",
];
const R_FOREVER: usize = 0;
const R_PREEMPTED: usize = 1;
const R_GOSCHED: usize = 2;
const R_SLEEP: usize = 3;
const R_CHAN_SEND: usize = 4;
const R_CHAN_RECV: usize = 5;
const R_NETWORK: usize = 6;
const R_SYNC: usize = 7;
const R_COND: usize = 8;
const R_SELECT: usize = 9;
const R_EMPTY: usize = 10;
const R_ASSIST: usize = 11;

/// Stop-the-world reasons by the old format's kind number (Go 1.21; older versions only wrote
/// the first two, as 0 and 1).
const STW_REASONS: [&str; 17] = [
    "",
    "GC mark termination",
    "GC sweep termination",
    "write heap dump",
    "goroutine profile",
    "goroutine profile cleanup",
    "all goroutine stack trace",
    "read mem stats",
    "AllThreadsSyscall",
    "GOMAXPROCS",
    "start trace",
    "stop trace",
    "CountPagesInUse (test)",
    "ReadMetricsSlow (test)",
    "ReadMemStatsSlow (test)",
    "PageCachePagesLeaked (test)",
    "ResetDebugLog (test)",
];

/// Turns old events into current ones, with the same rules as Go's converter: goroutines that
/// existed when tracing started (created, started or waiting before the first GOMAXPROCS event)
/// become status events, first sightings of procs become proc statuses, syscalls that did not
/// block become a begin and an end.
struct Converter {
    ids: Interned,
    /// Model string ids by trace string id, inline strings after them, then `REASONS`, then
    /// `STW_REASONS`, in one id space as Go's converter lays them out.
    inline_base: u64,
    reason_base: u64,
    stw_base: u64,
    minor: u32,
    pre_init: bool,
    created_pre_init: Vec<u64>,
    seen_procs: HashSet<i32>,
    last_stw: u64,
}

impl Converter {
    /// Fails when the trace's largest string id leaves no room for the ids laid out after it
    /// (Go writes ids from 1 up, so only a corrupt trace gets near u64::MAX).
    fn new(d: &Decoded<'_>, builder: &mut Builder, minor: u32) -> Result<Self, ParseError> {
        let (max, max_offset) = d.max_string.unwrap_or((0, wire::HEADER_LEN));
        let added = d.inline.len() as u64 + REASONS.len() as u64 + STW_REASONS.len() as u64;
        // The last id laid out is `max + added`; when that fits, every base below it does.
        let bases = max.checked_add(added).map(|_| {
            let inline_base = max.saturating_add(1);
            let reason_base = inline_base.saturating_add(d.inline.len() as u64);
            (inline_base, reason_base, reason_base.saturating_add(REASONS.len() as u64))
        });
        let Some((inline_base, reason_base, stw_base)) = bases else {
            return Err(ParseError::at_offset(
                KIND,
                max_offset as u64,
                format!(
                    "string id {max} leaves no room for the {added} ids the conversion adds after the largest one \
                     (Go numbers strings from 1; this Go 1.11-1.21 trace is corrupt)"
                ),
            ));
        };
        // Every id below is at most `max + added`, which fits; the additions saturate anyway so
        // that a later change cannot bring the overflow back.
        let capture = &mut builder.capture;
        let mut strings: Vec<(u64, crate::model::StrId)> =
            d.strings.iter().map(|(&id, s)| (id, capture.strings.intern(s))).collect();
        let at = |base: u64, i: usize| base.saturating_add(i as u64);
        strings.extend(
            d.inline.iter().enumerate().map(|(i, s)| (at(inline_base, i), capture.strings.intern(s))),
        );
        strings
            .extend(REASONS.iter().enumerate().map(|(i, s)| (at(reason_base, i), capture.strings.intern(s))));
        strings.extend(
            STW_REASONS.iter().enumerate().map(|(i, s)| (at(stw_base, i), capture.strings.intern(s))),
        );
        let (strings, _) = IdTable::build(strings);
        let mut frame_ids: HashMap<u64, FrameId> = HashMap::new();
        let mut stacks = Vec::with_capacity(d.stacks.len());
        for (&id, pcs) in &d.stacks {
            let frames: Vec<FrameId> = pcs
                .iter()
                .map(|pc| {
                    *frame_ids.entry(*pc).or_insert_with(|| {
                        let (func, file, line) = d.frames.get(pc).copied().unwrap_or_default();
                        let text = |sid: u64| d.strings.get(&sid).map_or("", AsRef::as_ref);
                        let frame = Frame {
                            func: capture.strings.intern(text(func)),
                            file: capture.strings.intern(text(file)),
                            line: u32::try_from(line).unwrap_or(u32::MAX),
                            column: 0,
                        };
                        capture.tables.frame_id(frame)
                    })
                })
                .collect();
            stacks.push((id, capture.tables.stack_id(&frames)));
        }
        let (stacks, _) = IdTable::build(stacks);
        Ok(Self {
            ids: Interned { strings, stacks, unknown_frame_strings: 0 },
            inline_base,
            reason_base,
            stw_base,
            minor,
            pre_init: true,
            created_pre_init: Vec::new(),
            seen_procs: HashSet::new(),
            last_stw: 0,
        })
    }

    fn reason(&self, r: usize) -> u64 {
        self.reason_base.saturating_add(r as u64)
    }

    /// A stack id the model knows, or 0: the old format refers to empty stacks it never wrote.
    fn stack(&self, id: u64) -> u64 {
        if self.ids.stacks.get(id).is_some() { id } else { 0 }
    }

    fn run(&mut self, events: &[Event], builder: &mut Builder) {
        // For each event, the index of the next event on the same goroutine: a syscall blocked
        // if that next event is its block.
        let mut next_same_g = vec![usize::MAX; events.len()];
        let mut last: HashMap<u64, usize> = HashMap::new();
        for (i, e) in events.iter().enumerate().rev() {
            if let Some(slot) = next_same_g.get_mut(i) {
                *slot = last.get(&e.g).copied().unwrap_or(usize::MAX);
            }
            last.insert(e.g, i);
        }
        for (i, e) in events.iter().enumerate() {
            let blocked_syscall =
                next_same_g.get(i).and_then(|&n| events.get(n)).is_some_and(|n| n.typ == ev::GO_SYS_BLOCK);
            self.event(e, blocked_syscall, builder);
        }
    }

    // The event's parts as the current format has them; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    fn emit(&self, builder: &mut Builder, e: &Event, typ: u8, args: [u64; 4], time: i64, g: u64, old: u8) {
        let ctx = super::order::Ctx {
            g: if g == 0 { NONE } else { g },
            p: if e.p < 0 { NONE } else { e.p as u64 },
            m: NONE,
        };
        let o =
            Ordered { ev: RawEvent { typ, time: builder.fix_time(time), args, offset: e.offset }, ctx, old };
        builder.event(&o, &self.ids);
    }

    fn event(&mut self, src: &Event, blocked_syscall: bool, builder: &mut Builder) {
        let args = src.args;
        let stk = self.stack(src.stack);
        let time = src.ts;
        let status = |b: &mut Builder, this: &Self, g: u64, s: u8| {
            this.emit(b, src, v2::GO_STATUS, [g, NONE, u64::from(s), 0], time, src.g, OLD_UNDETERMINED);
        };
        let block = |b: &mut Builder, this: &Self, r: usize| {
            this.emit(b, src, v2::GO_BLOCK, [this.reason(r), stk, 0, 0], time, src.g, 0);
        };
        match src.typ {
            ev::GOMAXPROCS => {
                if self.pre_init {
                    self.pre_init = false;
                    for g in std::mem::take(&mut self.created_pre_init) {
                        self.emit(
                            builder,
                            src,
                            v2::GO_STATUS,
                            [g, NONE, u64::from(gstatus::RUNNABLE), 0],
                            time,
                            0,
                            OLD_UNDETERMINED,
                        );
                    }
                    return;
                }
                self.emit(builder, src, v2::PROCS_CHANGE, [args[0], stk, 0, 0], time, src.g, 0);
            }
            ev::PROC_START | ev::PROC_STOP => {
                let start = src.typ == ev::PROC_START;
                if self.seen_procs.insert(src.p) {
                    let s = if start { pstatus::RUNNING } else { pstatus::IDLE };
                    self.emit(
                        builder,
                        src,
                        v2::PROC_STATUS,
                        [src.p as u64, u64::from(s), 0, 0],
                        time,
                        src.g,
                        OLD_UNDETERMINED,
                    );
                } else if start {
                    self.emit(builder, src, v2::PROC_START, [src.p as u64, 0, 0, 0], time, src.g, 0);
                } else {
                    self.emit(builder, src, v2::PROC_STOP, [0; 4], time, src.g, 0);
                }
            }
            ev::GC_START => self.emit(builder, src, v2::GC_BEGIN, [args[0], stk, 0, 0], time, src.g, 0),
            ev::GC_DONE => self.emit(builder, src, v2::GC_END, [0; 4], time, src.g, 0),
            ev::STW_START => {
                let kind = if self.minor < 21 {
                    if args[0] <= 1 { args[0] + 1 } else { 0 }
                } else if (args[0] as usize) < STW_REASONS.len() {
                    args[0]
                } else {
                    0
                };
                self.last_stw = self.stw_base.saturating_add(kind);
                self.emit(builder, src, v2::STW_BEGIN, [self.last_stw, 0, 0, 0], time, src.g, 0);
            }
            ev::STW_DONE => self.emit(builder, src, v2::STW_END, [self.last_stw, 0, 0, 0], time, src.g, 0),
            ev::GC_SWEEP_START => self.emit(builder, src, v2::GC_SWEEP_BEGIN, [stk, 0, 0, 0], time, src.g, 0),
            ev::GC_SWEEP_DONE => {
                self.emit(builder, src, v2::GC_SWEEP_END, [args[0], args[1], 0, 0], time, src.g, 0);
            }
            ev::GO_CREATE => {
                if self.pre_init {
                    self.created_pre_init.push(args[0]);
                    return;
                }
                self.emit(
                    builder,
                    src,
                    v2::GO_CREATE,
                    [args[0], self.stack(args[1]), stk, 0],
                    time,
                    src.g,
                    0,
                );
            }
            ev::GO_START => {
                if self.pre_init {
                    self.created_pre_init.retain(|&g| g != args[0]);
                    status(builder, self, args[0], gstatus::RUNNING);
                } else {
                    self.emit(builder, src, v2::GO_START, [args[0], args[1], 0, 0], time, src.g, 0);
                }
            }
            ev::GO_START_LABEL => {
                self.emit(builder, src, v2::GO_START, [args[0], args[1], 0, 0], time, src.g, 0);
                self.emit(builder, src, v2::GO_LABEL, [args[2], 0, 0, 0], time, src.g, 0);
            }
            ev::GO_END => self.emit(builder, src, v2::GO_DESTROY, [0; 4], time, src.g, 0),
            ev::GO_STOP => block(builder, self, R_FOREVER),
            ev::GO_SCHED | ev::GO_PREEMPT => {
                let r = if src.typ == ev::GO_SCHED { R_GOSCHED } else { R_PREEMPTED };
                self.emit(builder, src, v2::GO_STOP, [self.reason(r), stk, 0, 0], time, src.g, 0);
            }
            ev::GO_SLEEP => block(builder, self, R_SLEEP),
            ev::GO_BLOCK => block(builder, self, R_EMPTY),
            ev::GO_BLOCK_SEND => block(builder, self, R_CHAN_SEND),
            ev::GO_BLOCK_RECV => block(builder, self, R_CHAN_RECV),
            ev::GO_BLOCK_SELECT => block(builder, self, R_SELECT),
            ev::GO_BLOCK_SYNC => block(builder, self, R_SYNC),
            ev::GO_BLOCK_COND => block(builder, self, R_COND),
            ev::GO_BLOCK_NET => block(builder, self, R_NETWORK),
            ev::GO_BLOCK_GC => block(builder, self, R_ASSIST),
            ev::GO_UNBLOCK => {
                self.emit(builder, src, v2::GO_UNBLOCK, [args[0], args[1], stk, 0], time, src.g, 0);
            }
            ev::GO_SYS_CALL => {
                self.emit(builder, src, v2::GO_SYSCALL_BEGIN, [0, stk, 0, 0], time, src.g, 0);
                if !blocked_syscall {
                    self.emit(builder, src, v2::GO_SYSCALL_END, [0; 4], time.saturating_add(1), src.g, 0);
                }
            }
            ev::GO_SYS_EXIT => self.emit(builder, src, v2::GO_SYSCALL_END_BLOCKED, [0; 4], time, src.g, 0),
            ev::GO_WAITING | ev::GO_IN_SYSCALL => {
                self.created_pre_init.retain(|&g| g != args[0]);
                let s = if src.typ == ev::GO_WAITING { gstatus::WAITING } else { gstatus::SYSCALL };
                status(builder, self, args[0], s);
            }
            ev::HEAP_ALLOC => self.emit(builder, src, v2::HEAP_ALLOC, [args[0], 0, 0, 0], time, src.g, 0),
            ev::HEAP_GOAL => self.emit(builder, src, v2::HEAP_GOAL, [args[0], 0, 0, 0], time, src.g, 0),
            ev::GC_MARK_ASSIST_START => {
                self.emit(builder, src, v2::GC_MARK_ASSIST_BEGIN, [stk, 0, 0, 0], time, src.g, 0);
            }
            ev::GC_MARK_ASSIST_DONE => {
                self.emit(builder, src, v2::GC_MARK_ASSIST_END, [0; 4], time, src.g, 0);
            }
            ev::USER_TASK_CREATE => {
                self.emit(
                    builder,
                    src,
                    v2::USER_TASK_BEGIN,
                    [args[0], args[1], args[2], stk],
                    time,
                    src.g,
                    0,
                );
            }
            ev::USER_TASK_END => {
                self.emit(builder, src, v2::USER_TASK_END, [args[0], stk, 0, 0], time, src.g, 0);
            }
            ev::USER_REGION => {
                let typ = match args[1] {
                    0 => v2::USER_REGION_BEGIN,
                    1 => v2::USER_REGION_END,
                    _ => {
                        builder.problems.add(
                            "user region with an unknown mode in a Go 1.11-1.21 trace; skipped",
                            src.offset,
                        );
                        return;
                    }
                };
                self.emit(builder, src, typ, [args[0], args[2], stk, 0], time, src.g, 0);
            }
            ev::USER_LOG => {
                let message = self.inline_base.saturating_add(args[3]);
                self.emit(builder, src, v2::USER_LOG, [args[0], args[1], message, stk], time, src.g, 0);
            }
            ev::CPU_SAMPLE => {
                let time = builder.fix_time(time);
                let g = if src.g == 0 { NONE } else { src.g };
                let p = if src.p < 0 { NONE } else { src.p as u64 };
                builder.cpu_sample(time, &RawSample { ticks: 0, p, g, stack: stk }, &self.ids);
            }
            // Go's converter has no counterpart for these; they carry nothing the model shows.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::go_trace::wire::put_uvarint;

    /// A Go 1.21 trace: one string with id `string_id`, a frequency, and one batch on P 0 that
    /// starts the proc.
    fn trace_with_string(string_id: u64) -> Vec<u8> {
        let mut out = b"go 1.21 trace\0\0\0".to_vec();
        out.push(ev::STRING);
        put_uvarint(&mut out, string_id);
        put_uvarint(&mut out, 4);
        out.extend_from_slice(b"main");
        out.push(ev::FREQUENCY);
        put_uvarint(&mut out, 1_000_000_000);
        // The type byte's top bits hold the argument count less one.
        out.push(ev::BATCH | 1 << 6);
        put_uvarint(&mut out, 0);
        put_uvarint(&mut out, 100);
        out.push(ev::PROC_START | 1 << 6);
        put_uvarint(&mut out, 5);
        put_uvarint(&mut out, 1);
        out
    }

    #[test]
    fn a_small_trace_parses() {
        let c = parse(&trace_with_string(1), 21, "t", &Progress::new()).unwrap();
        assert!(c.strings.find("main").is_some());
    }

    /// `max + 1` on a string id of u64::MAX panicked with overflow checks and wrapped in
    /// release, so the ids laid out after it collided with real ones.
    #[test]
    fn regression_string_id_u64_max_is_an_error_not_an_overflow() {
        let err = parse(&trace_with_string(u64::MAX), 21, "t", &Progress::new()).unwrap_err();
        assert_eq!(err.location, crate::error::Location::Offset(wire::HEADER_LEN as u64), "{err}");
        assert!(err.message.contains("string id"), "{err}");
        // The 29 ids the conversion adds (12 reasons, 17 stop-the-world kinds) must fit after it.
        assert!(parse(&trace_with_string(u64::MAX - 28), 21, "t", &Progress::new()).is_err());
        let fits = parse(&trace_with_string(u64::MAX - 29), 21, "t", &Progress::new()).unwrap();
        assert!(fits.strings.find("main").is_some());
    }
}
