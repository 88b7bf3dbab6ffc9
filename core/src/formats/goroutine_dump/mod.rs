//! Go goroutine dumps: `/debug/pprof/goroutine?debug=2`, `runtime.Stack(buf, true)`, SIGQUIT and
//! `GOTRACEBACK=all/system/crash` output, panics, fatal errors and `go test` timeouts.
//!
//! Large dumps are split at goroutine boundaries and the pieces parsed in parallel; each piece
//! borrows its strings from the input and interns frames, stacks and statuses locally, and the
//! pieces are merged in order. A file holding several dumps (a goroutine id seen twice, or a new
//! `SIGQUIT:`/`panic:`/`fatal error:` headline) becomes a series of captures, oldest first. The
//! sections `GOTRACEBACK=crash` prints for each thread after a `-----` line belong to the same
//! dump: they add the threads' g0 stacks and the stacks of goroutines that were running
//! elsewhere ("stack unavailable") when the first thread printed.

mod chunk;
mod header;

use crate::model::{OptId, OptNs};
use std::borrow::Cow;
use std::ops::Range;

use hashbrown::{HashMap, HashSet};
use rayon::prelude::*;

use self::chunk::{Chunk, RawBlock, RawFrame, Text};
use super::{Format, Input, Sniff, labels};
use crate::error::ParseError;
use crate::input::Progress;
use crate::model::{
    Ancestor, Capture, FormatKind, Frame, FrameId, LabelSetId, StackId, StrId, Task, TaskFlags, TaskKind,
};

/// The goroutine dump format.
pub struct GoroutineDump;

const NS_PER_MINUTE: i64 = 60_000_000_000;

impl Format for GoroutineDump {
    fn kind(&self) -> FormatKind {
        FormatKind::GoGoroutineDump
    }

    fn sniff(&self, head: &[u8], complete: bool) -> Sniff {
        // Text only: a NUL byte before the first header means binary data (a protobuf, a
        // trace), and the search stops there. Deciding by what comes before the first header
        // keeps the answer the same for a prefix and for the whole input.
        let binary_at = memchr::memchr(0, head);
        let text = head.get(..binary_at.unwrap_or(head.len())).unwrap_or(head);
        for at in memchr::memmem::find_iter(text, b"goroutine ") {
            let starts_line = at == 0 || head.get(at - 1) == Some(&b'\n');
            let line = text.get(at..).unwrap_or_default();
            let line = line.get(..memchr::memchr(b'\n', line).unwrap_or(line.len())).unwrap_or_default();
            // A header cut off by the end of the prefix is not one yet.
            let whole_line = complete || head.len() > at + line.len();
            if starts_line && whole_line && header::parse(line.strip_suffix(b"\r").unwrap_or(line)).is_some()
            {
                return Sniff::Yes;
            }
        }
        if complete || binary_at.is_some() { Sniff::No } else { Sniff::NeedMore }
    }

    fn parse(&self, input: &Input<'_>) -> Result<Vec<Capture>, ParseError> {
        parse_pieces(input.bytes, input.path, input.progress, piece_bytes(input.bytes), Some(input.shared))
    }
}

/// How many pieces a thread parses in a wave (see [`parse_pieces`]).
const PIECES_PER_THREAD_AND_WAVE: usize = 4;

/// Eight waves of [`PIECES_PER_THREAD_AND_WAVE`] pieces a thread; below 256 KiB a piece
/// costs more to merge than it saves.
fn piece_bytes(bytes: &[u8]) -> usize {
    let threads = rayon::current_num_threads().max(1);
    (bytes.len() / (threads * PIECES_PER_THREAD_AND_WAVE * 8)).max(256 << 10)
}

/// Parses dump text into a series of captures.
pub fn parse_bytes(bytes: &[u8], path: &str, progress: &Progress) -> Result<Vec<Capture>, ParseError> {
    parse_pieces(bytes, path, progress, piece_bytes(bytes), None)
}

/// Parses dump text split into pieces of about `piece_bytes` (at goroutine boundaries). The
/// result does not depend on the split, which tests check by comparing splits.
pub fn parse_bytes_in_pieces(
    bytes: &[u8],
    path: &str,
    progress: &Progress,
    piece_bytes: usize,
) -> Result<Vec<Capture>, ParseError> {
    parse_pieces(bytes, path, progress, piece_bytes, None)
}

/// Parses the pieces in waves of a few per thread while the wave before is merged, in order,
/// into the captures: the merge is serial (a fifth of a large dump's parse), so it runs beside
/// the next wave's parsing instead of after all of it. The thread that merges parses what is
/// left of the wave when it is done, so pieces much smaller than the merge keep both threads
/// busy: with one piece a thread, one thread merged and then waited (a 315 MB SIGQUIT dump's
/// report took 189 ms; 178 ms with four, medians of 21). Each piece's raw blocks are dropped
/// once merged and, where the input is a file mapping (`pages`), its pages handed back, so a
/// dump of any size holds about two waves of its text and blocks at once besides the captures.
fn parse_pieces(
    bytes: &[u8],
    path: &str,
    progress: &Progress,
    piece_bytes: usize,
    pages: Option<&std::sync::Arc<crate::input::Bytes>>,
) -> Result<Vec<Capture>, ParseError> {
    let ranges = split_chunks(bytes, piece_bytes.max(1));
    let last = ranges.len().saturating_sub(1);
    let pieces: Vec<(usize, Range<usize>)> = ranges.into_iter().enumerate().collect();
    let wave_len = rayon::current_num_threads().max(1) * PIECES_PER_THREAD_AND_WAVE;
    let parse_wave = |wave: &[(usize, Range<usize>)]| -> Vec<(usize, Range<usize>, Chunk<'_>)> {
        wave.par_iter()
            .map(|(i, range)| {
                if progress.is_cancelled() {
                    return (*i, range.clone(), Chunk { cancelled: true, ..Chunk::default() });
                }
                let chunk = chunk::parse(bytes.get(range.clone()).unwrap_or_default(), *i == last, progress);
                progress.advance(range.len() as u64);
                (*i, range.clone(), chunk)
            })
            .collect()
    };
    let mut merge = Merge { assembler: Assembler::new(path), first_line: 1, total_bytes: bytes.len(), pages };
    let mut pending = None;
    for wave in pieces.chunks(wave_len) {
        let (parsed, merged) =
            rayon::join(|| parse_wave(wave), || pending.take().is_none_or(|done| merge.wave(done)));
        if !merged {
            return Err(super::cancelled(FormatKind::GoGoroutineDump));
        }
        pending = Some(parsed);
    }
    if let Some(done) = pending
        && !merge.wave(done)
    {
        return Err(super::cancelled(FormatKind::GoGoroutineDump));
    }
    let captures = merge.assembler.finish();
    if captures.iter().all(|c| c.tasks.is_empty()) {
        return Err(ParseError::whole(
            FormatKind::GoGoroutineDump,
            "no goroutine block found (expected lines like \"goroutine 1 [running]:\")",
        ));
    }
    Ok(captures)
}

/// The merging side of [`parse_pieces`].
struct Merge<'a, 'p> {
    assembler: Assembler<'a>,
    /// Line of the next piece's first line.
    first_line: u64,
    total_bytes: usize,
    pages: Option<&'p std::sync::Arc<crate::input::Bytes>>,
}

impl<'a> Merge<'a, '_> {
    /// Merges one wave of parsed pieces, in order; false when the parse was cancelled.
    fn wave(&mut self, wave: Vec<(usize, Range<usize>, Chunk<'a>)>) -> bool {
        if wave.iter().any(|(_, _, c)| c.cancelled) {
            return false;
        }
        let tasks = &mut self.assembler.current.tasks;
        if tasks.capacity() == 0 {
            // Sized once from the first wave's goroutines per byte (a guess a little over,
            // trimmed never: growing by doubling would hold two copies for a moment).
            let blocks: usize = wave.iter().map(|(_, _, c)| c.blocks.len()).sum();
            let read: usize = wave.iter().map(|(_, r, _)| r.len()).sum::<usize>().max(1);
            let estimate = (blocks as f64 * self.total_bytes as f64 / read as f64 * 1.02) as usize;
            tasks.reserve_exact(estimate.max(blocks));
            // The map of ids seen is looked up for every block; grown by doubling, it was
            // rehashed a dozen times on the way to a dump's 200,000 goroutines.
            self.assembler.seen.reserve(estimate.max(blocks));
        }
        for (i, range, chunk) in wave {
            self.assembler.chunk(i, &chunk, self.first_line);
            self.first_line += chunk.line_count;
            drop(chunk);
            if let Some(pages) = self.pages {
                pages.release_pages(range);
            }
        }
        true
    }
}

/// Splits the input at goroutine header lines into pieces of about `target` bytes. A piece
/// starts where the parser would start a block anyway, so the split never changes the result;
/// a line that merely starts with "goroutine " (a log line) is no place to split.
fn split_chunks(bytes: &[u8], target: usize) -> Vec<Range<usize>> {
    let finder = memchr::memmem::Finder::new(b"\ngoroutine ");
    let mut starts = vec![0usize];
    let mut pos = target;
    while pos < bytes.len() {
        let Some(i) = finder.find(bytes.get(pos..).unwrap_or_default()) else { break };
        let start = pos + i + 1;
        let line = bytes.get(start..).unwrap_or_default();
        let line = line.get(..memchr::memchr(b'\n', line).unwrap_or(line.len())).unwrap_or_default();
        if header::parse(line.strip_suffix(b"\r").unwrap_or(line)).is_some() {
            starts.push(start);
            pos = start + target;
        } else {
            pos = start;
        }
    }
    let mut ranges: Vec<Range<usize>> =
        starts.windows(2).filter_map(|w| Some(*w.first()?..*w.get(1)?)).collect();
    ranges.push(starts.last().copied().unwrap_or(0)..bytes.len());
    ranges
}

/// Builds captures from chunks in input order.
struct Assembler<'a> {
    path: &'a str,
    done: Vec<Capture>,
    current: Capture,
    /// Task index of each (kind, id) in the current capture: a repeat starts a new dump.
    seen: HashMap<(TaskKind, u64), u32>,
    /// A `-----` line came since the last headline: the next `SIGQUIT:` continues this dump.
    relay_marker: bool,
    /// The current capture is in its per-thread `GOTRACEBACK=crash` sections.
    in_relay: bool,
    /// Chunk whose local ids the maps below translate, reset per capture.
    mapped_chunk: Option<usize>,
    frame_map: Vec<Option<FrameId>>,
    stack_map: Vec<Option<StackId>>,
    state_map: Vec<Option<StrId>>,
    label_cache: HashMap<&'a [u8], LabelSetId>,
    /// Warnings about a distinct string (an invalid name, an unknown status part) already
    /// given in this capture: each is given once, at the first block that uses the string, so
    /// the warnings do not depend on how the input was split.
    said_once: HashSet<String>,
    /// Line of the block being merged.
    line: u64,
    /// The thread of the last `PC=... m=N` line, for an old-style `goroutine 0 [idle]:`.
    signal_thread: Option<u64>,
    /// Where to look for a free thread number for a g0 stack without one.
    next_thread_id: u64,
}

impl<'a> Assembler<'a> {
    fn new(path: &'a str) -> Self {
        Self {
            path,
            done: Vec::new(),
            current: Capture::new(path, FormatKind::GoGoroutineDump),
            seen: HashMap::new(),
            relay_marker: false,
            in_relay: false,
            mapped_chunk: None,
            frame_map: Vec::new(),
            stack_map: Vec::new(),
            state_map: Vec::new(),
            label_cache: HashMap::new(),
            said_once: HashSet::new(),
            line: 0,
            signal_thread: None,
            next_thread_id: 0,
        }
    }

    fn chunk(&mut self, index: usize, chunk: &Chunk<'a>, first_line: u64) {
        let global = |local: u64| first_line + local - 1;
        // Warnings go to the capture their line belongs to, for a chunk may span two dumps.
        let mut warnings = chunk.warnings.iter().peekable();
        let mut flush = |this: &mut Self, before: u64| {
            while let Some((line, message)) = warnings.next_if(|(line, _)| *line < before) {
                this.current.warnings.at_line(global(*line), message.clone());
            }
        };
        let mut texts = chunk.texts.iter().peekable();
        let mut ancestors = chunk.ancestors.iter().peekable();
        for (b, block) in chunk.blocks.iter().enumerate() {
            while let Some(t) = texts.next_if(|t| t.after_blocks <= b) {
                flush(self, t.line);
                self.text(t.text, global(t.line));
            }
            flush(self, block.line);
            let task = self.block(index, chunk, block, global(block.line));
            while let Some(a) = ancestors.next_if(|a| a.block as usize <= b) {
                if let Some(task) = task {
                    let stack = self.map_stack(chunk, a.stack);
                    let created_by = a.created_by.map(|f| self.map_frame(chunk, f));
                    self.current.ancestors.push(Ancestor {
                        task,
                        goroutine_id: a.goroutine_id,
                        stack,
                        created_by,
                    });
                }
            }
        }
        for t in texts {
            flush(self, t.line);
            self.text(t.text, global(t.line));
        }
        flush(self, u64::MAX);
    }

    fn text(&mut self, text: Text<'_>, line: u64) {
        match text {
            Text::RelayMarker => self.relay_marker = true,
            Text::SignalThread(m) => self.signal_thread = Some(m),
            Text::Headline(_) if self.relay_marker => {
                self.relay_marker = false;
                self.in_relay = true;
            }
            Text::Headline(headline) => {
                if !self.current.tasks.is_empty() {
                    self.next_capture(line);
                }
                self.in_relay = false;
                if self.current.source.headline.is_none() {
                    self.current.source.headline = Some(String::from_utf8_lossy(headline).trim().to_owned());
                    self.current.source.first_line = line;
                }
            }
        }
    }

    fn next_capture(&mut self, first_line: u64) {
        let finished =
            std::mem::replace(&mut self.current, Capture::new(self.path, FormatKind::GoGoroutineDump));
        self.done.push(finished);
        self.current.source.first_line = first_line;
        self.seen.clear();
        self.mapped_chunk = None;
        self.label_cache.clear();
        self.said_once.clear();
        self.next_thread_id = 0;
        self.relay_marker = false;
        self.in_relay = false;
    }

    /// Adds a block as a task; returns its index, or `None` when it only completed an earlier
    /// task of the same dump.
    fn block(
        &mut self,
        chunk_index: usize,
        chunk: &Chunk<'a>,
        block: &RawBlock<'a>,
        line: u64,
    ) -> Option<u32> {
        self.relay_marker = false;
        let signal_thread = self.signal_thread.take();
        let (kind, id) = match (block.id, block.m) {
            // `goroutine 0 ... m=N` is the g0 (scheduler) stack of thread M N, not a goroutine.
            (0, Some(m)) => (TaskKind::Resource, m),
            // Before Go 1.22 a g0 stack was `goroutine 0 [idle]:`; its thread is the one the
            // `PC=... m=N` line before it names, else the next number not yet used.
            (0, None) => (TaskKind::Resource, signal_thread.unwrap_or_else(|| self.unused_thread_id())),
            _ => (TaskKind::Goroutine, block.id),
        };
        let replace = match self.seen.get(&(kind, id)).copied() {
            None => None,
            Some(earlier) if self.in_relay => {
                // A thread's crash section prints the goroutine it was running, which the first
                // thread could only list as "stack unavailable": fill that in, same dump.
                let unavailable = self
                    .current
                    .tasks
                    .get(earlier as usize)
                    .is_some_and(|t| t.flags.contains(TaskFlags::STACK_UNAVAILABLE));
                if !unavailable || block.flags.contains(TaskFlags::STACK_UNAVAILABLE) {
                    return None;
                }
                Some(earlier)
            }
            Some(_) => {
                // The same goroutine again: the file holds another dump from here on.
                self.next_capture(line);
                None
            }
        };
        if self.current.tasks.is_empty() && self.current.source.first_line == 0 {
            self.current.source.first_line = line;
        }
        if self.mapped_chunk != Some(chunk_index) {
            self.mapped_chunk = Some(chunk_index);
            self.frame_map.clear();
            self.frame_map.resize(chunk.frames.len(), None);
            self.stack_map.clear();
            self.stack_map.resize(chunk.stacks.len(), None);
            self.state_map.clear();
            self.state_map.resize(chunk.statuses.len(), None);
        }
        self.line = line;
        let status = chunk.statuses.get(block.status as usize);
        if let Some(status) = status {
            if let Some(part) = &status.unknown_part {
                self.warn_once(format!("unknown part {part:?} in a goroutine status; kept out of the state"));
            }
            if matches!(status.state, Cow::Owned(_)) {
                self.warn_once(format!(
                    "invalid UTF-8 in the state {:?} was replaced with U+FFFD",
                    status.state
                ));
            }
        }
        let state = if let Some(id) = self.state_map.get(block.status as usize).copied().flatten() {
            id
        } else {
            let id = self.current.strings.intern(status.map_or("", |s| s.state.as_ref()));
            if let Some(slot) = self.state_map.get_mut(block.status as usize) {
                *slot = Some(id);
            }
            id
        };
        let stack = self.map_stack(chunk, block.stack);
        let created_by = block.created_by.map(|f| self.map_frame(chunk, f));
        let labels = match block.labels {
            Some(raw) => self.labels(raw, line),
            None => LabelSetId::EMPTY,
        };
        let name = match kind {
            TaskKind::Resource => self.current.strings.intern(&format!("M{id}")),
            _ => StrId::EMPTY,
        };
        let task = Task {
            id,
            kind,
            name,
            state,
            flags: block.flags | status.map_or(TaskFlags::empty(), |s| s.flags),
            wait_ns: OptNs::from(
                status.and_then(|s| s.wait_minutes).map(|m| (m as i64).saturating_mul(NS_PER_MINUTE)),
            ),
            stack,
            created_by,
            parent_id: OptId::from(block.parent_id),
            labels,
            ..Task::default()
        };
        if kind == TaskKind::Goroutine {
            match status.and_then(|s| s.bubble) {
                Some(bubble) => self.current.bubbles.insert(id, bubble),
                None => self.current.bubbles.remove(&id),
            };
        }
        if let Some(index) = replace
            && (index as usize) < self.current.tasks.len()
        {
            self.current.tasks.set(index as usize, task);
            return Some(index);
        }
        let index = self.current.tasks.len() as u32;
        self.current.tasks.push(task);
        self.seen.insert((kind, id), index);
        Some(index)
    }

    fn labels(&mut self, raw: &'a [u8], line: u64) -> LabelSetId {
        if let Some(&id) = self.label_cache.get(raw) {
            return id;
        }
        let text = String::from_utf8_lossy(raw);
        let id = match labels::parse(&text) {
            Ok(pairs) => labels::intern(&mut self.current, &pairs),
            Err(why) => {
                self.current.warnings.at_line(line, format!("unreadable goroutine labels {{{text}}}: {why}"));
                LabelSetId::EMPTY
            }
        };
        self.label_cache.insert(raw, id);
        id
    }

    fn map_frame(&mut self, chunk: &Chunk<'_>, local: u32) -> FrameId {
        if let Some(Some(id)) = self.frame_map.get(local as usize) {
            return *id;
        }
        let (func, file, line) = chunk
            .frames
            .get(local as usize)
            .map_or(("", "", 0), |RawFrame { func, file, line }| (func.as_ref(), file.as_ref(), *line));
        let frame = Frame {
            func: self.current.strings.intern(func),
            file: self.current.strings.intern(file),
            line,
            column: 0,
        };
        let known = self.current.tables.frame_count();
        let id = self.current.tables.frame_id(frame);
        let invalid = chunk
            .frames
            .get(local as usize)
            .is_some_and(|f| matches!(f.func, Cow::Owned(_)) || matches!(f.file, Cow::Owned(_)));
        if invalid && self.current.tables.frame_count() > known {
            self.warn_once(format!(
                "invalid UTF-8 in the frame {func:?} ({file:?}) was replaced with U+FFFD",
                func = self.current.str(frame.func),
                file = self.current.str(frame.file)
            ));
        }
        if let Some(slot) = self.frame_map.get_mut(local as usize) {
            *slot = Some(id);
        }
        id
    }

    fn unused_thread_id(&mut self) -> u64 {
        // Only goes up, so a file of a million bare g0 headers costs a million steps in all.
        while self.seen.contains_key(&(TaskKind::Resource, self.next_thread_id)) {
            self.next_thread_id = self.next_thread_id.saturating_add(1);
        }
        self.next_thread_id
    }

    fn warn_once(&mut self, message: String) {
        if !self.said_once.contains(&message) {
            self.current.warnings.at_line(self.line, message.clone());
            self.said_once.insert(message);
        }
    }

    fn map_stack(&mut self, chunk: &Chunk<'_>, local: u32) -> StackId {
        if let Some(Some(id)) = self.stack_map.get(local as usize) {
            return *id;
        }
        let frames: Vec<FrameId> = chunk.stack(local).iter().map(|&f| self.map_frame(chunk, f)).collect();
        let id = self.current.tables.stack_id(&frames);
        if let Some(slot) = self.stack_map.get_mut(local as usize) {
            *slot = Some(id);
        }
        id
    }

    fn finish(mut self) -> Vec<Capture> {
        if !self.current.tasks.is_empty() || self.done.is_empty() {
            self.done.push(self.current);
        } else if let Some(last) = self.done.last_mut() {
            // Trailing text after the last dump (an "exit status 2") may carry warnings.
            last.warnings.extend(std::mem::take(&mut self.current.warnings));
        }
        self.done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUMP: &[u8] = b"goroutine 1 [running]:\nmain.main()\n\t/a.go:3 +0x1d\n";

    #[test]
    fn sniff_finds_a_header_after_log_lines() {
        let mut text = b"2026/11/21 log line\ngoroutine profile: total 3\n".to_vec();
        text.extend_from_slice(DUMP);
        assert_eq!(GoroutineDump.sniff(&text, true), Sniff::Yes);
        assert_eq!(GoroutineDump.sniff(b"just text\n", false), Sniff::NeedMore);
        assert_eq!(GoroutineDump.sniff(b"just text\n", true), Sniff::No);
        assert_eq!(GoroutineDump.sniff(b"\x1f\x8b\x08\x00binary", false), Sniff::No);
    }

    /// Found by fuzzing: a NUL within the first KiB but after the end of a short prefix made
    /// the prefix a dump and the whole input not one.
    #[test]
    fn regression_sniff_prefix_yes_whole_no() {
        let mut whole = DUMP.to_vec();
        whole.extend_from_slice(b"\0\0binary tail");
        let prefix = &whole[..DUMP.len()];
        assert_eq!(GoroutineDump.sniff(prefix, false), Sniff::Yes);
        assert_eq!(GoroutineDump.sniff(&whole, true), Sniff::Yes);
        // Binary before the first header is not a dump, whatever follows.
        let mut binary_first = b"\0\x01".to_vec();
        binary_first.extend_from_slice(DUMP);
        assert_eq!(GoroutineDump.sniff(&binary_first, true), Sniff::No);
        assert_eq!(GoroutineDump.sniff(&binary_first[..1], false), Sniff::No);
        // A header line cut by the end of the prefix needs more.
        assert_eq!(GoroutineDump.sniff(&DUMP[..22], false), Sniff::NeedMore);
        assert_eq!(GoroutineDump.sniff(&DUMP[..22], true), Sniff::Yes);
    }
}
