//! Go goroutine dumps: `/debug/pprof/goroutine?debug=2`, `runtime.Stack(buf, true)`, SIGQUIT and
//! `GOTRACEBACK=all/system/crash` output, panics, fatal errors and `go test` timeouts.
//!
//! Large dumps are split at goroutine boundaries and the pieces parsed in parallel; each piece
//! borrows its strings from the input and interns frames and stacks locally, and the pieces are
//! merged in order. A file holding several dumps (a goroutine id seen twice, or a new
//! `SIGQUIT:`/`panic:` headline) becomes a series of captures, oldest first.

mod chunk;
mod header;

use std::ops::Range;

use hashbrown::{HashMap, HashSet};
use rayon::prelude::*;

use self::chunk::{Chunk, RawBlock, RawFrame};
use super::{Format, Input, Sniff};
use crate::error::ParseError;
use crate::load::Progress;
use crate::model::{
    Ancestor, Capture, FormatKind, Frame, FrameId, Label, LabelSetId, StackId, Task, TaskFlags, TaskKind,
};

/// The goroutine dump format.
pub struct GoroutineDump;

const NS_PER_MINUTE: i64 = 60_000_000_000;

impl Format for GoroutineDump {
    fn kind(&self) -> FormatKind {
        FormatKind::GoGoroutineDump
    }

    fn sniff(&self, head: &[u8], complete: bool) -> Sniff {
        // Binary data is never a dump; checking the first KiB keeps the scan below from
        // wandering through a protobuf or trace.
        if head.iter().take(1024).any(|&b| b == 0) {
            return Sniff::No;
        }
        for line in head.split(|&b| b == b'\n') {
            if line.starts_with(b"goroutine ")
                && let Ok(text) = std::str::from_utf8(line)
                && header::parse(text.trim_end()).is_some()
            {
                return Sniff::Yes;
            }
        }
        if complete { Sniff::No } else { Sniff::NeedMore }
    }

    fn parse(&self, input: &Input<'_>) -> Result<Vec<Capture>, ParseError> {
        parse_bytes(input.bytes, input.path, input.progress)
    }
}

/// Parses dump text into a series of captures.
pub fn parse_bytes(bytes: &[u8], path: &str, progress: &Progress) -> Result<Vec<Capture>, ParseError> {
    let threads = rayon::current_num_threads().max(1);
    let target = (bytes.len() / (threads * 8)).max(256 << 10);
    let ranges = split_chunks(bytes, target);
    // Invalid UTF-8 (binary junk in a log around the dump) is replaced chunk by chunk so that
    // the rest of the file still parses as borrowed text.
    let repaired: Vec<Option<String>> = ranges
        .par_iter()
        .map(|r| {
            let piece = bytes.get(r.clone()).unwrap_or_default();
            std::str::from_utf8(piece).err().map(|_| String::from_utf8_lossy(piece).into_owned())
        })
        .collect();
    let last = ranges.len().saturating_sub(1);
    let chunks: Vec<Chunk<'_>> = ranges
        .par_iter()
        .zip(repaired.par_iter())
        .enumerate()
        .map(|(i, (range, fixed))| {
            let text = match fixed {
                Some(s) => s.as_str(),
                None => std::str::from_utf8(bytes.get(range.clone()).unwrap_or_default()).unwrap_or(""),
            };
            if progress.is_cancelled() {
                return Chunk { cancelled: true, ..Chunk::default() };
            }
            let chunk = chunk::parse(text, i == last, progress);
            progress.advance(range.len() as u64);
            chunk
        })
        .collect();
    if chunks.iter().any(|c| c.cancelled) {
        return Err(super::cancelled(FormatKind::GoGoroutineDump));
    }
    let mut assembler = Assembler::new(path);
    let mut first_line = 1u64;
    for (i, (chunk, fixed)) in chunks.iter().zip(&repaired).enumerate() {
        if fixed.is_some() {
            assembler.current.warnings.at_line(
                first_line,
                "invalid UTF-8 in this part of the file was replaced with U+FFFD".to_owned(),
            );
        }
        assembler.chunk(i, chunk, first_line);
        first_line += chunk.line_count;
    }
    let captures = assembler.finish();
    if captures.iter().all(|c| c.tasks.is_empty()) {
        return Err(ParseError::whole(
            FormatKind::GoGoroutineDump,
            "no goroutine block found (expected lines like \"goroutine 1 [running]:\")",
        ));
    }
    Ok(captures)
}

/// Splits the input at line starts of `goroutine ` headers into pieces of about `target` bytes.
fn split_chunks(bytes: &[u8], target: usize) -> Vec<Range<usize>> {
    let finder = memchr::memmem::Finder::new(b"\ngoroutine ");
    let mut starts = vec![0usize];
    let mut pos = target;
    while pos < bytes.len() {
        match finder.find(bytes.get(pos..).unwrap_or_default()) {
            Some(i) => {
                let start = pos + i + 1;
                starts.push(start);
                pos = start + target;
            }
            None => break,
        }
    }
    let mut ranges: Vec<Range<usize>> =
        starts.windows(2).filter_map(|w| Some(*w.first()?..*w.get(1)?)).collect();
    ranges.push(starts.last().copied().unwrap_or(0)..bytes.len());
    ranges
}

/// Whether a line outside any block announces a new dump and says why it was taken.
fn is_headline(text: &str) -> bool {
    text.starts_with("panic: ")
        || text.starts_with("fatal error: ")
        || (text.starts_with("SIG")
            && text.split_once(':').is_some_and(|(sig, _)| sig.bytes().all(|b| b.is_ascii_uppercase())))
}

/// Builds captures from chunks in input order.
struct Assembler<'p> {
    path: &'p str,
    done: Vec<Capture>,
    current: Capture,
    seen: HashSet<(TaskKind, u64)>,
    /// Chunk whose local ids `frame_map`/`stack_map` translate, reset per capture.
    mapped_chunk: Option<usize>,
    frame_map: Vec<Option<FrameId>>,
    stack_map: Vec<Option<StackId>>,
    label_cache: HashMap<String, LabelSetId>,
}

impl<'p> Assembler<'p> {
    fn new(path: &'p str) -> Self {
        Self {
            path,
            done: Vec::new(),
            current: Capture::new(path, FormatKind::GoGoroutineDump),
            seen: HashSet::new(),
            mapped_chunk: None,
            frame_map: Vec::new(),
            stack_map: Vec::new(),
            label_cache: HashMap::new(),
        }
    }

    fn chunk(&mut self, index: usize, chunk: &Chunk<'_>, first_line: u64) {
        let global = |local: u64| first_line + local - 1;
        for &(line, ref message) in &chunk.warnings {
            self.current.warnings.at_line(global(line), message.clone());
        }
        let mut texts = chunk.texts.iter().peekable();
        for (b, block) in chunk.blocks.iter().enumerate() {
            while let Some(t) = texts.next_if(|t| t.after_blocks <= b) {
                self.text(t.text, global(t.line));
            }
            self.block(index, chunk, block, global(block.line));
        }
        for t in texts {
            self.text(t.text, global(t.line));
        }
    }

    fn text(&mut self, text: &str, line: u64) {
        if !is_headline(text) {
            return;
        }
        if !self.current.tasks.is_empty() {
            self.next_capture(line);
        }
        if self.current.source.headline.is_none() {
            self.current.source.headline = Some(text.trim().to_owned());
            self.current.source.first_line = line;
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
    }

    fn block(&mut self, chunk_index: usize, chunk: &Chunk<'_>, block: &RawBlock<'_>, line: u64) {
        let h = &block.header;
        let (kind, id) = match (h.id, h.m) {
            // `goroutine 0 ... m=N` is the g0 (scheduler) stack of thread M N, not a goroutine.
            (0, Some(m)) => (TaskKind::Resource, m),
            _ => (TaskKind::Goroutine, h.id),
        };
        if !self.seen.insert((kind, id)) {
            // The same goroutine again: the file holds another dump from here on.
            self.next_capture(line);
            self.seen.insert((kind, id));
        }
        if self.current.tasks.is_empty() && self.current.source.first_line == 0 {
            self.current.source.first_line = line;
        }
        if self.mapped_chunk != Some(chunk_index) {
            self.mapped_chunk = Some(chunk_index);
            self.frame_map.clear();
            self.frame_map.resize(chunk.frames.len(), None);
            self.stack_map.clear();
            self.stack_map.resize(chunk.stacks.len(), None);
        }
        let mut flags = block.flags;
        let funcs =
            || chunk.stack(block.stack).iter().filter_map(|&f| chunk.frames.get(f as usize)).map(|f| f.func);
        if funcs().any(|f| {
            matches!(f, "runtime/pprof.writeGoroutineStacks" | "runtime.Stack" | "runtime/debug.Stack")
        }) {
            flags |= TaskFlags::DUMPER;
        }
        let creator = block.created_by.and_then(|f| chunk.frames.get(f as usize)).map(|f| f.func);
        let start_func = funcs().rfind(|f| *f != "runtime.goexit");
        if kind == TaskKind::Resource
            || creator.is_some_and(|c| c.starts_with("runtime."))
            || start_func.is_some_and(|f| f.starts_with("runtime.") && f != "runtime.main")
        {
            flags |= TaskFlags::SYSTEM;
        }
        let stack = self.map_stack(chunk, block.stack);
        let created_by = block.created_by.map(|f| self.map_frame(chunk, f));
        let labels = match h.labels {
            Some(raw) => self.labels(raw, line),
            None => LabelSetId::EMPTY,
        };
        let name = match kind {
            TaskKind::Resource => self.current.strings.intern(&format!("M{id}")),
            _ => crate::model::StrId::EMPTY,
        };
        let task_index = self.current.tasks.len() as u32;
        for a in &block.ancestors {
            let stack = self.map_stack(chunk, a.stack);
            let created_by = a.created_by.map(|f| self.map_frame(chunk, f));
            self.current.ancestors.push(Ancestor {
                task: task_index,
                goroutine_id: a.goroutine_id,
                stack,
                created_by,
            });
        }
        let state = self.current.strings.intern(h.state);
        self.current.tasks.push(Task {
            id,
            kind,
            name,
            state,
            flags,
            wait_ns: h.wait_minutes.map(|m| (m as i64).saturating_mul(NS_PER_MINUTE)),
            stack,
            created_by,
            parent_id: block.parent_id,
            labels,
            bubble: h.bubble,
            ..Task::default()
        });
    }

    fn labels(&mut self, raw: &str, line: u64) -> LabelSetId {
        if let Some(&id) = self.label_cache.get(raw) {
            return id;
        }
        let id = match header::parse_labels(raw) {
            Ok(pairs) => {
                let mut labels: Vec<Label> = pairs
                    .iter()
                    .map(|(k, v)| Label {
                        key: self.current.strings.intern(k),
                        value: self.current.strings.intern(v),
                    })
                    .collect();
                self.current.tables.label_set_id(&mut labels)
            }
            Err(why) => {
                self.current.warnings.at_line(line, format!("unreadable goroutine labels {{{raw}}}: {why}"));
                LabelSetId::EMPTY
            }
        };
        self.label_cache.insert(raw.to_owned(), id);
        id
    }

    fn map_frame(&mut self, chunk: &Chunk<'_>, local: u32) -> FrameId {
        if let Some(Some(id)) = self.frame_map.get(local as usize) {
            return *id;
        }
        let RawFrame { func, file, line } =
            chunk.frames.get(local as usize).copied().unwrap_or(RawFrame { func: "", file: "", line: 0 });
        let frame = Frame {
            func: self.current.strings.intern(func),
            file: self.current.strings.intern(file),
            line,
            column: 0,
        };
        let id = self.current.tables.frame_id(frame);
        if let Some(slot) = self.frame_map.get_mut(local as usize) {
            *slot = Some(id);
        }
        id
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
