//! A generation's structural batches: its string and stack tables, CPU samples, frequency and
//! clock snapshot. Each batch is decoded on its own (in parallel), the pieces are combined, and
//! the tables are then interned into the capture once, so events refer to model ids directly.

use std::borrow::Cow;

use hashbrown::HashMap;
use rayon::prelude::*;

use super::batches::{Batch, BatchKind, Generation, LocateProblem};
use super::wire::{self, Version, ev};
use crate::model::{Capture, Frame, FrameId, StackId, StrId};

/// One frame of the trace's stack table.
#[derive(Clone, Copy, Debug)]
struct RawFrame {
    pc: u64,
    func: u64,
    file: u64,
    line: u64,
}

impl RawFrame {
    /// Reads the frame at `pos`, moving past it.
    fn read(data: &[u8], pos: &mut usize) -> Result<Self, (usize, String)> {
        Ok(RawFrame {
            pc: varint(data, pos, "frame pc")?,
            func: varint(data, pos, "frame function")?,
            file: varint(data, pos, "frame file")?,
            line: varint(data, pos, "frame line")?,
        })
    }
}

/// Where a stack's frames are in the file. They are read when the stack is interned, not when
/// its batch is decoded: a generation's table then takes 16 bytes a stack instead of 32 a frame,
/// while the next generation's is decoded beside the events of this one.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StackAt {
    /// File offset of the first frame.
    offset: usize,
    frames: u32,
}

/// One CPU profile sample, before its time is converted.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawSample {
    pub ticks: u64,
    pub p: u64,
    pub g: u64,
    pub stack: u64,
}

/// A near-simultaneous reading of the trace clock and the wall clock (Go 1.25+).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClockSnapshot {
    /// Trace clock, in ticks.
    pub ticks: u64,
    /// Monotonic clock, ns.
    pub mono: u64,
    /// Wall clock, Unix seconds.
    pub sec: u64,
    /// Wall clock, nanoseconds within the second.
    pub nsec: u64,
}

/// A map from the trace's own ids to values: dense when the ids are, sparse otherwise.
#[derive(Clone, Debug)]
pub(crate) struct IdTable<T> {
    dense: Vec<Option<T>>,
    sparse: HashMap<u64, T>,
}

impl<T> Default for IdTable<T> {
    fn default() -> Self {
        Self { dense: Vec::new(), sparse: HashMap::new() }
    }
}

impl<T> IdTable<T> {
    /// Builds a table; the first entry for an id wins and later ones are counted as
    /// duplicates.
    pub fn build(entries: Vec<(u64, T)>) -> (Self, usize) {
        let max = entries.iter().map(|e| e.0).max().unwrap_or(0);
        let mut table = Self::default();
        let mut duplicates = 0;
        // Runtime ids are dense from 1; we accept up to 2x waste before going sparse.
        if max <= (entries.len() as u64).saturating_mul(2) + 1024 {
            table.dense.resize_with(max as usize + 1, || None);
            for (id, value) in entries {
                match table.dense.get_mut(id as usize) {
                    Some(slot @ None) => *slot = Some(value),
                    _ => duplicates += 1,
                }
            }
        } else {
            for (id, value) in entries {
                if table.sparse.contains_key(&id) {
                    duplicates += 1;
                } else {
                    table.sparse.insert(id, value);
                }
            }
        }
        (table, duplicates)
    }

    /// The value for `id`.
    #[inline]
    pub fn get(&self, id: u64) -> Option<&T> {
        if self.sparse.is_empty() {
            self.dense.get(usize::try_from(id).ok()?).and_then(Option::as_ref)
        } else {
            self.sparse.get(&id)
        }
    }

    /// Maps every value, keeping ids.
    pub fn map<U>(&self, mut f: impl FnMut(u64, &T) -> U) -> IdTable<U> {
        IdTable {
            dense: self.dense.iter().enumerate().map(|(i, v)| v.as_ref().map(|v| f(i as u64, v))).collect(),
            sparse: self.sparse.iter().map(|(&id, v)| (id, f(id, v))).collect(),
        }
    }
}

/// Everything a generation's structural batches say, decoded but not yet interned.
#[derive(Debug, Default)]
pub(crate) struct GenTables<'a> {
    /// Timestamp units per second.
    pub freq: Option<u64>,
    /// Clock snapshot (Go 1.25+).
    pub clock: Option<ClockSnapshot>,
    /// String table.
    pub strings: IdTable<Cow<'a, str>>,
    /// Stack table.
    pub stacks: IdTable<StackAt>,
    /// The whole file, which `stacks` point into.
    pub file: &'a [u8],
    /// CPU samples, in file order.
    pub samples: Vec<RawSample>,
    /// What went wrong.
    pub problems: Vec<LocateProblem>,
}

impl GenTables<'_> {
    /// Frees the string and stack tables, once [`intern`] has put them into the capture.
    pub fn drop_interned(&mut self) {
        self.strings = IdTable::default();
        self.stacks = IdTable::default();
    }
}

/// What one structural batch decoded to.
#[derive(Default)]
struct Piece<'a> {
    strings: Vec<(u64, Cow<'a, str>)>,
    stacks: Vec<(u64, StackAt)>,
    samples: Vec<RawSample>,
    freq: Option<u64>,
    clock: Option<ClockSnapshot>,
    problems: Vec<LocateProblem>,
}

/// Decodes the structural batches of one generation, in parallel.
pub(crate) fn decode<'a>(bytes: &'a [u8], generation: &Generation, version: Version) -> GenTables<'a> {
    let pieces: Vec<Piece<'a>> = generation
        .batches
        .par_iter()
        .filter(|b| {
            matches!(b.kind, BatchKind::Strings | BatchKind::Stacks | BatchKind::CpuSamples | BatchKind::Sync)
        })
        .map(|b| decode_batch(bytes, b, version))
        .collect();
    // Sized exactly before the pieces are moved in: appending to a growing table would hold
    // up to twice it.
    let mut strings = Vec::with_capacity(pieces.iter().map(|p| p.strings.len()).sum());
    let mut stacks = Vec::with_capacity(pieces.iter().map(|p| p.stacks.len()).sum());
    let mut out = GenTables {
        samples: Vec::with_capacity(pieces.iter().map(|p| p.samples.len()).sum()),
        file: bytes,
        ..GenTables::default()
    };
    for mut piece in pieces {
        strings.append(&mut piece.strings);
        stacks.append(&mut piece.stacks);
        out.samples.append(&mut piece.samples);
        out.problems.append(&mut piece.problems);
        if let Some(f) = piece.freq {
            if out.freq.is_some() {
                out.problems.push(problem(
                    generation.offset,
                    "more than one frequency in a generation; the first is used",
                ));
            } else {
                out.freq = Some(f);
            }
        }
        if piece.clock.is_some() && out.clock.is_none() {
            out.clock = piece.clock;
        }
    }
    let (strings, dup_strings) = IdTable::build(strings);
    let (stacks, dup_stacks) = IdTable::build(stacks);
    if dup_strings > 0 {
        out.problems.push(problem(
            generation.offset,
            &format!(
                "{dup_strings} duplicate string ids in generation {}; the first of each is used",
                generation.number
            ),
        ));
    }
    if dup_stacks > 0 {
        out.problems.push(problem(
            generation.offset,
            &format!(
                "{dup_stacks} duplicate stack ids in generation {}; the first of each is used",
                generation.number
            ),
        ));
    }
    out.strings = strings;
    out.stacks = stacks;
    out
}

fn problem(offset: usize, message: &str) -> LocateProblem {
    LocateProblem { offset, message: message.to_owned() }
}

fn decode_batch<'a>(bytes: &'a [u8], batch: &Batch, version: Version) -> Piece<'a> {
    let mut piece = Piece::default();
    let data = bytes.get(batch.data.clone()).unwrap_or_default();
    let base = batch.data.start;
    let result = match batch.kind {
        BatchKind::Strings => strings(data, &mut piece),
        BatchKind::Stacks => stacks(data, base, &mut piece),
        BatchKind::CpuSamples => samples(data, &mut piece),
        BatchKind::Sync => sync(data, batch.time, version, &mut piece),
        BatchKind::Events | BatchKind::Experimental => Ok(()),
    };
    if let Err((at, message)) = result {
        piece.problems.push(LocateProblem { offset: base + at, message });
    }
    piece
}

type DecodeResult = Result<(), (usize, String)>;

fn varint(data: &[u8], pos: &mut usize, what: &str) -> Result<u64, (usize, String)> {
    let at = *pos;
    wire::uvarint(data, pos).map_err(|e| (at, format!("bad {what}: {e:?}; the rest of the batch is skipped")))
}

fn expect_byte(data: &[u8], pos: &mut usize, want: u8, what: &str) -> DecodeResult {
    match data.get(*pos) {
        Some(&b) if b == want => {
            *pos += 1;
            Ok(())
        }
        Some(&b) => Err((
            *pos,
            format!("expected {what} (event {want}), found event {b}; the rest of the batch is skipped"),
        )),
        None => Err((*pos, format!("missing {what}"))),
    }
}

fn strings<'a>(data: &'a [u8], piece: &mut Piece<'a>) -> DecodeResult {
    let mut pos = 0;
    expect_byte(data, &mut pos, ev::STRINGS, "strings header")?;
    while pos < data.len() {
        expect_byte(data, &mut pos, ev::STRING, "string")?;
        let id = varint(data, &mut pos, "string id")?;
        let len = varint(data, &mut pos, "string length")?;
        let end = usize::try_from(len).ok().and_then(|l| pos.checked_add(l)).filter(|&e| e <= data.len());
        let Some(end) = end else {
            return Err((pos, format!("string {id} of {len} bytes runs past its batch")));
        };
        let raw = data.get(pos..end).unwrap_or_default();
        let text = match std::str::from_utf8(raw) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => Cow::Owned(String::from_utf8_lossy(raw).into_owned()),
        };
        piece.strings.push((id, text));
        pos = end;
    }
    Ok(())
}

/// Checks every frame of a stack batch (starting at file offset `base`) and notes where each
/// stack's frames are.
fn stacks(data: &[u8], base: usize, piece: &mut Piece<'_>) -> DecodeResult {
    let mut pos = 0;
    expect_byte(data, &mut pos, ev::STACKS, "stacks header")?;
    while pos < data.len() {
        expect_byte(data, &mut pos, ev::STACK, "stack")?;
        let id = varint(data, &mut pos, "stack id")?;
        let n = varint(data, &mut pos, "frame count")?;
        // Every frame takes at least four bytes, which bounds what a corrupt count can reserve.
        if n > (data.len() - pos) as u64 / 4 + 1 {
            return Err((pos, format!("stack {id} claims {n} frames, more than its batch holds")));
        }
        let at = StackAt { offset: base + pos, frames: n as u32 };
        for _ in 0..n {
            RawFrame::read(data, &mut pos)?;
        }
        piece.stacks.push((id, at));
    }
    Ok(())
}

fn samples(data: &[u8], piece: &mut Piece<'_>) -> DecodeResult {
    let mut pos = 0;
    expect_byte(data, &mut pos, ev::CPU_SAMPLES, "CPU samples header")?;
    while pos < data.len() {
        expect_byte(data, &mut pos, ev::CPU_SAMPLE, "CPU sample")?;
        let ticks = varint(data, &mut pos, "sample time")?;
        // The thread is not needed: a sample is placed on its goroutine, else its proc.
        varint(data, &mut pos, "sample thread")?;
        let p = varint(data, &mut pos, "sample proc")?;
        let g = varint(data, &mut pos, "sample goroutine")?;
        let stack = varint(data, &mut pos, "sample stack")?;
        piece.samples.push(RawSample { ticks, p, g, stack });
    }
    Ok(())
}

fn sync(data: &[u8], batch_time: u64, version: Version, piece: &mut Piece<'_>) -> DecodeResult {
    let mut pos = 0;
    if version >= Version::GO125 {
        expect_byte(data, &mut pos, ev::SYNC, "sync header")?;
    }
    let mut last = batch_time;
    while pos < data.len() {
        let at = pos;
        let typ = data.get(pos).copied().unwrap_or_default();
        pos += 1;
        match typ {
            ev::FREQUENCY => {
                let f = varint(data, &mut pos, "frequency")?;
                if piece.freq.is_none() {
                    piece.freq = Some(f);
                }
            }
            ev::CLOCK_SNAPSHOT if version >= Version::GO125 => {
                let dt = varint(data, &mut pos, "clock snapshot time")?;
                let mono = varint(data, &mut pos, "monotonic clock")?;
                let sec = varint(data, &mut pos, "wall clock seconds")?;
                let nsec = varint(data, &mut pos, "wall clock nanoseconds")?;
                last = last.wrapping_add(dt);
                if piece.clock.is_none() {
                    piece.clock = Some(ClockSnapshot { ticks: last, mono, sec, nsec });
                }
            }
            other => {
                return Err((at, format!("unexpected event {other} in a sync batch; the rest is skipped")));
            }
        }
    }
    Ok(())
}

/// A generation's tables in model terms: trace string and stack ids mapped to interned ids.
#[derive(Debug, Default)]
pub(crate) struct Interned {
    /// Trace string id → model string.
    pub strings: IdTable<StrId>,
    /// Trace stack id → model stack.
    pub stacks: IdTable<StackId>,
    /// How many frames named string ids the table lacks.
    pub unknown_frame_strings: usize,
}

impl Interned {
    /// The model string for a trace string id; 0 and unknown ids give the empty string
    /// (unknown ones are counted by the caller).
    #[inline]
    pub fn str(&self, id: u64) -> Option<StrId> {
        if id == 0 { Some(StrId::EMPTY) } else { self.strings.get(id).copied() }
    }

    /// The model stack for a trace stack id; 0 is the empty stack.
    #[inline]
    pub fn stack(&self, id: u64) -> Option<StackId> {
        if id == 0 { Some(StackId::EMPTY) } else { self.stacks.get(id).copied() }
    }
}

/// Interns a generation's tables into the capture. `frames_by_pc` persists across
/// generations: a PC names the same frame for the whole life of a process, so each distinct
/// frame's strings are interned once however many generations repeat it.
pub(crate) fn intern(
    tables: &GenTables<'_>,
    capture: &mut Capture,
    frames_by_pc: &mut HashMap<u64, FrameId>,
) -> Interned {
    let strings = tables.strings.map(|_, s| capture.strings.intern(s));
    let mut unknown = 0usize;
    let mut frame_ids: Vec<FrameId> = Vec::new();
    let stacks = tables.stacks.map(|_, at| {
        frame_ids.clear();
        let mut pos = at.offset;
        for _ in 0..at.frames {
            // Every frame was read once when its batch was decoded.
            let Ok(raw) = RawFrame::read(tables.file, &mut pos) else { break };
            let id = if let Some(&id) = frames_by_pc.get(&raw.pc) {
                id
            } else {
                let mut text = |sid: u64| match tables.strings.get(sid) {
                    Some(s) => capture.strings.intern(s),
                    None if sid == 0 => StrId::EMPTY,
                    None => {
                        unknown += 1;
                        capture.strings.intern("?")
                    }
                };
                let func = text(raw.func);
                let file = text(raw.file);
                let frame =
                    Frame { func, file, line: u32::try_from(raw.line).unwrap_or(u32::MAX), column: 0 };
                let id = capture.tables.frame_id(frame);
                frames_by_pc.insert(raw.pc, id);
                id
            };
            frame_ids.push(id);
        }
        capture.tables.stack_id(&frame_ids)
    });
    Interned { strings, stacks, unknown_frame_strings: unknown }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::go_trace::batches::{Batch, Generation};
    use crate::formats::go_trace::wire::put_uvarint;
    use crate::model::FormatKind;

    fn generation(batches: &[(BatchKind, Vec<u8>)]) -> (Vec<u8>, Generation) {
        let mut bytes = Vec::new();
        let mut g = Generation { number: 1, ..Generation::default() };
        for (kind, data) in batches {
            let start = bytes.len();
            bytes.extend_from_slice(data);
            g.batches.push(Batch { m: u64::MAX, time: 10, data: start..bytes.len(), kind: *kind });
        }
        (bytes, g)
    }

    fn string(out: &mut Vec<u8>, id: u64, s: &[u8]) {
        out.push(ev::STRING);
        put_uvarint(out, id);
        put_uvarint(out, s.len() as u64);
        out.extend_from_slice(s);
    }

    #[test]
    fn tables_decode_and_intern_with_frames_shared_by_pc() {
        let mut strings = vec![ev::STRINGS];
        string(&mut strings, 1, b"main.main");
        string(&mut strings, 2, b"main.go");
        string(&mut strings, 3, b"bad \xff utf-8");
        let mut stacks = vec![ev::STACKS];
        for (id, frames) in
            [(1u64, vec![(0x10u64, 1u64, 2u64, 7u64)]), (2, vec![(0x10, 1, 2, 7), (0x20, 3, 2, 9)])]
        {
            stacks.push(ev::STACK);
            put_uvarint(&mut stacks, id);
            put_uvarint(&mut stacks, frames.len() as u64);
            for (pc, f, file, line) in frames {
                for v in [pc, f, file, line] {
                    put_uvarint(&mut stacks, v);
                }
            }
        }
        let mut sync = vec![ev::SYNC, ev::FREQUENCY];
        put_uvarint(&mut sync, 15_625_000);
        sync.push(ev::CLOCK_SNAPSHOT);
        for v in [5, 99, 1_700_000_000, 42] {
            put_uvarint(&mut sync, v);
        }
        let (bytes, g) = generation(&[
            (BatchKind::Strings, strings),
            (BatchKind::Stacks, stacks),
            (BatchKind::Sync, sync),
        ]);
        let tables = decode(&bytes, &g, Version(26));
        assert!(tables.problems.is_empty(), "{:?}", tables.problems);
        assert_eq!(tables.freq, Some(15_625_000));
        assert_eq!(tables.clock, Some(ClockSnapshot { ticks: 15, mono: 99, sec: 1_700_000_000, nsec: 42 }));
        let mut capture = Capture::new("t", FormatKind::GoExecutionTrace);
        let mut by_pc = HashMap::new();
        let ids = intern(&tables, &mut capture, &mut by_pc);
        let two = ids.stack(2).unwrap();
        let funcs: Vec<&str> = capture.stack_funcs(two).collect();
        assert_eq!(funcs, vec!["main.main", "bad \u{fffd} utf-8"]);
        assert_eq!(capture.tables.stack(ids.stack(1).unwrap()).first(), capture.tables.stack(two).first());
        assert_eq!(ids.stack(0), Some(StackId::EMPTY));
        assert_eq!(ids.stack(3), None);
        assert_eq!(ids.str(0), Some(StrId::EMPTY));
    }

    #[test]
    fn corrupt_tables_are_reported_not_fatal() {
        let mut strings = vec![ev::STRINGS];
        string(&mut strings, 1, b"ok");
        strings.extend_from_slice(&[ev::STRING, 2, 200, 1]); // 200 bytes claimed, 1 present
        let mut stacks = vec![ev::STACKS, ev::STACK, 1];
        put_uvarint(&mut stacks, 1 << 40); // absurd frame count
        let (bytes, g) = generation(&[(BatchKind::Strings, strings), (BatchKind::Stacks, stacks)]);
        let tables = decode(&bytes, &g, Version(26));
        assert_eq!(tables.problems.len(), 2, "{:?}", tables.problems);
        assert!(tables.strings.get(1).is_some());
        assert!(tables.stacks.get(1).is_none());
    }
}
