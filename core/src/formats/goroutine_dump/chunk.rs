//! Parses one chunk of a dump (a run of whole goroutine blocks) into raw blocks that borrow from
//! the input, with chunk-local frame and stack tables. Chunks are independent so they parse in
//! parallel; `super::assemble` merges them in order.

use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::header::{self, Header};
use crate::load::Progress;
use crate::model::TaskFlags;

/// A frame as text, before interning into a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct RawFrame<'a> {
    pub func: &'a str,
    pub file: &'a str,
    pub line: u32,
}

/// Ancestor traceback under a block (`[originating from goroutine N]:`).
#[derive(Clone, Debug)]
pub(super) struct RawAncestor {
    pub goroutine_id: u64,
    pub stack: u32,
    pub created_by: Option<u32>,
}

/// One goroutine block.
#[derive(Clone, Debug)]
pub(super) struct RawBlock<'a> {
    /// Chunk-local 1-based line of the header.
    pub line: u64,
    pub header: Header<'a>,
    pub flags: TaskFlags,
    /// Chunk-local stack index.
    pub stack: u32,
    pub created_by: Option<u32>,
    pub parent_id: Option<u64>,
    pub ancestors: Vec<RawAncestor>,
}

/// A line outside any block: log lines before a dump, `SIGQUIT: quit`, register dumps.
#[derive(Clone, Copy, Debug)]
pub(super) struct TextLine<'a> {
    pub line: u64,
    /// Number of blocks of this chunk that come before it.
    pub after_blocks: usize,
    pub text: &'a str,
}

/// Everything one chunk yields.
#[derive(Default)]
pub(super) struct Chunk<'a> {
    pub blocks: Vec<RawBlock<'a>>,
    pub texts: Vec<TextLine<'a>>,
    pub frames: Vec<RawFrame<'a>>,
    /// Stacks as (start, len) into `stack_pool`, innermost frame first.
    pub stacks: Vec<(u32, u32)>,
    pub stack_pool: Vec<u32>,
    /// (chunk-local line, message).
    pub warnings: Vec<(u64, String)>,
    /// Lines in the chunk (a final line without newline counts).
    pub line_count: u64,
    pub cancelled: bool,
}

impl Chunk<'_> {
    pub(super) fn stack(&self, index: u32) -> &[u32] {
        stack_slice(&self.stack_pool, &self.stacks, index)
    }
}

/// Chunk-local interning of frames and stacks, keyed by borrowed text.
struct Tables<'a> {
    frames: Vec<RawFrame<'a>>,
    frame_index: HashTable<u32>,
    stacks: Vec<(u32, u32)>,
    stack_pool: Vec<u32>,
    stack_index: HashTable<u32>,
    hasher: FixedState,
}

impl<'a> Tables<'a> {
    fn new() -> Self {
        let mut t = Self {
            frames: Vec::new(),
            frame_index: HashTable::new(),
            stacks: Vec::new(),
            stack_pool: Vec::new(),
            stack_index: HashTable::new(),
            hasher: FixedState::default(),
        };
        t.stack(&[]);
        t
    }

    fn frame(&mut self, frame: RawFrame<'a>) -> u32 {
        let hash = self.hasher.hash_one(frame);
        let Self { frames, frame_index, hasher, .. } = self;
        if let Some(&i) = frame_index.find(hash, |&i| frames.get(i as usize) == Some(&frame)) {
            return i;
        }
        let i = frames.len() as u32;
        frames.push(frame);
        frame_index.insert_unique(hash, i, |&i| frames.get(i as usize).map_or(0, |f| hasher.hash_one(f)));
        i
    }

    fn stack(&mut self, frames: &[u32]) -> u32 {
        let hash = self.hasher.hash_one(frames);
        let Self { stacks, stack_pool, stack_index, hasher, .. } = self;
        if let Some(&i) = stack_index.find(hash, |&i| stack_slice(stack_pool, stacks, i) == frames) {
            return i;
        }
        let i = stacks.len() as u32;
        stacks.push((stack_pool.len() as u32, frames.len() as u32));
        stack_pool.extend_from_slice(frames);
        stack_index.insert_unique(hash, i, |&i| hasher.hash_one(stack_slice(stack_pool, stacks, i)));
        i
    }
}

fn stack_slice<'p>(pool: &'p [u32], stacks: &[(u32, u32)], i: u32) -> &'p [u32] {
    stacks.get(i as usize).and_then(|&(s, l)| pool.get(s as usize..(s + l) as usize)).unwrap_or(&[])
}

/// Which part of a block the next frames belong to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Stack,
    Ancestor,
}

/// What a function line is waiting for: its indented source line.
#[derive(Clone, Copy)]
enum Pending<'a> {
    Frame { func: &'a str, line: u64 },
    CreatedBy { func: &'a str, parent: Option<u64>, line: u64 },
}

/// Block under construction.
struct Open<'a> {
    line: u64,
    header: Header<'a>,
    flags: TaskFlags,
    frames: Vec<u32>,
    created_by: Option<u32>,
    parent_id: Option<u64>,
    section: Section,
    ancestor_id: u64,
    ancestor_frames: Vec<u32>,
    ancestor_created_by: Option<u32>,
    ancestors: Vec<RawAncestor>,
}

struct Parser<'a> {
    tables: Tables<'a>,
    blocks: Vec<RawBlock<'a>>,
    texts: Vec<TextLine<'a>>,
    warnings: Vec<(u64, String)>,
    open: Option<Open<'a>>,
    pending: Option<Pending<'a>>,
}

/// How often (in lines) a chunk polls the cancel flag.
const CANCEL_POLL_LINES: u64 = 1 << 14;

/// Parses `text`, which starts at a block boundary (or at the start of the input). `at_eof`
/// says whether the chunk ends the input, where a cut-off last block is expected.
pub(super) fn parse<'a>(text: &'a str, at_eof: bool, progress: &Progress) -> Chunk<'a> {
    let mut p = Parser {
        tables: Tables::new(),
        blocks: Vec::new(),
        texts: Vec::new(),
        warnings: Vec::new(),
        open: None,
        pending: None,
    };
    let bytes = text.as_bytes();
    let mut pos = 0usize;
    let mut line_no = 0u64;
    let mut cancelled = false;
    let mut ends_mid_line = false;
    while pos < bytes.len() {
        line_no += 1;
        let (end, next) = if let Some(i) = memchr::memchr(b'\n', bytes.get(pos..).unwrap_or_default()) {
            (pos + i, pos + i + 1)
        } else {
            ends_mid_line = true;
            (bytes.len(), bytes.len())
        };
        let raw = text.get(pos..end).unwrap_or("");
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if ends_mid_line && at_eof && p.open.is_some() {
            p.cut_off(line_no, line);
        } else {
            p.line(line_no, line);
        }
        pos = next;
        if line_no.is_multiple_of(CANCEL_POLL_LINES) && progress.is_cancelled() {
            cancelled = true;
            break;
        }
    }
    if at_eof && !ends_mid_line && p.pending.is_some() && p.open.is_some() {
        // The input ends right after a function line: its source line was cut off.
        p.cut_off(line_no + 1, "");
    } else {
        p.finish_block();
    }
    let Tables { frames, stacks, stack_pool, .. } = p.tables;
    Chunk {
        blocks: p.blocks,
        texts: p.texts,
        frames,
        stacks,
        stack_pool,
        warnings: p.warnings,
        line_count: line_no,
        cancelled,
    }
}

fn is_indented(line: &str) -> bool {
    line.starts_with(['\t', ' '])
}

/// Splits a source line (`\t/path/file.go:123 +0x1f fp=.. sp=.. pc=..`) into file and line.
/// The file may itself contain ':' (Windows drives), so the last ':' followed by digits wins.
pub(super) fn parse_source_line(line: &str) -> Option<(&str, u32)> {
    let t = line.trim_start_matches(['\t', ' ']);
    if t.starts_with("pc=") {
        // cgo symbolizer output without a file: "\tpc=0x1234".
        return Some(("", 0));
    }
    let end = t.find(" +0x").or_else(|| t.find(" fp=")).or_else(|| t.find(" pc=")).unwrap_or(t.len());
    let t = t.get(..end)?.trim_end();
    let colon = t.rfind(':')?;
    let num = t.get(colon + 1..)?;
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((t.get(..colon)?, num.parse().unwrap_or(u32::MAX)))
}

/// The function name of a frame line: the text before the argument list.
pub(super) fn function_name(line: &str) -> &str {
    if line.ends_with(')')
        && let Some(open) = line.rfind('(')
        && open > 0
    {
        return line.get(..open).unwrap_or(line);
    }
    line
}

impl<'a> Parser<'a> {
    fn line(&mut self, no: u64, line: &'a str) {
        if line.is_empty() {
            self.finish_block();
            return;
        }
        if line.starts_with("goroutine ")
            && let Some(h) = header::parse(line)
        {
            self.finish_block();
            self.open = Some(Open {
                line: no,
                flags: h.flags,
                header: h,
                frames: Vec::new(),
                created_by: None,
                parent_id: None,
                section: Section::Stack,
                ancestor_id: 0,
                ancestor_frames: Vec::new(),
                ancestor_created_by: None,
                ancestors: Vec::new(),
            });
            return;
        }
        if self.open.is_none() {
            self.text(no, line);
            return;
        }
        if is_indented(line) {
            if let Some(pending) = self.pending.take() {
                self.source_line(no, line, pending);
            } else {
                let trimmed = line.trim_start();
                if trimmed.starts_with("goroutine running on other thread") {
                    if let Some(open) = self.open.as_mut() {
                        open.flags |= TaskFlags::STACK_UNAVAILABLE;
                    }
                } else {
                    self.warnings.push((no, format!("source line without a function line: {trimmed:?}")));
                }
            }
            return;
        }
        if let Some(pending) = self.pending.take() {
            // The previous function line had no source line under it.
            if !self.frame_without_source(pending) {
                // Not part of a goroutine block after all (register dumps, log lines):
                // the block ended at the line before it.
                let (func, pno) = match pending {
                    Pending::Frame { func, line } | Pending::CreatedBy { func, line, .. } => (func, line),
                };
                self.finish_block();
                self.text(pno, func);
                self.text(no, line);
                return;
            }
        }
        if let Some(rest) = line.strip_prefix("created by ") {
            let (func, parent) = match rest.rsplit_once(" in goroutine ") {
                Some((f, n)) => (f, n.trim().parse().ok()),
                None => (rest, None),
            };
            self.pending = Some(Pending::CreatedBy { func: func.trim_end(), parent, line: no });
        } else if let Some(rest) = line.strip_prefix("[originating from goroutine ") {
            let id = rest.trim_end_matches("]:").trim().parse().unwrap_or(0);
            if let Some(open) = self.open.as_mut() {
                Self::close_ancestor(&mut self.tables, open);
                open.section = Section::Ancestor;
                open.ancestor_id = id;
            }
        } else if line.starts_with("...") && line.contains("elided") {
            let marker = self.tables.frame(RawFrame { func: line.trim(), file: "", line: 0 });
            if let Some(open) = self.open.as_mut() {
                open.flags |= TaskFlags::FRAMES_ELIDED;
                match open.section {
                    Section::Stack => open.frames.push(marker),
                    Section::Ancestor => open.ancestor_frames.push(marker),
                }
            }
        } else {
            self.pending = Some(Pending::Frame { func: function_name(line), line: no });
        }
    }

    /// A source line completing `pending`.
    fn source_line(&mut self, no: u64, line: &'a str, pending: Pending<'a>) {
        let Some((file, line_num)) = parse_source_line(line) else {
            self.warnings.push((no, format!("unreadable source line {:?}; frame skipped", line.trim())));
            return;
        };
        let Some(open) = self.open.as_mut() else { return };
        match pending {
            Pending::Frame { func, .. } => {
                let id = self.tables.frame(RawFrame { func, file, line: line_num });
                match open.section {
                    Section::Stack => open.frames.push(id),
                    Section::Ancestor => open.ancestor_frames.push(id),
                }
            }
            Pending::CreatedBy { func, parent, .. } => {
                let id = self.tables.frame(RawFrame { func, file, line: line_num });
                match open.section {
                    Section::Stack => {
                        open.created_by = Some(id);
                        open.parent_id = parent;
                    }
                    Section::Ancestor => open.ancestor_created_by = Some(id),
                }
            }
        }
    }

    /// A function line with no source line under it is still a frame for cgo (`non-Go
    /// function at pc=0x...`); returns false when it isn't a frame at all.
    fn frame_without_source(&mut self, pending: Pending<'a>) -> bool {
        let Pending::Frame { func, .. } = pending else { return false };
        if !func.starts_with("non-Go function") {
            return false;
        }
        let id = self.tables.frame(RawFrame { func, file: "", line: 0 });
        if let Some(open) = self.open.as_mut() {
            match open.section {
                Section::Stack => open.frames.push(id),
                Section::Ancestor => open.ancestor_frames.push(id),
            }
        }
        true
    }

    fn text(&mut self, no: u64, text: &'a str) {
        self.texts.push(TextLine { line: no, after_blocks: self.blocks.len(), text });
    }

    fn close_ancestor(tables: &mut Tables<'a>, open: &mut Open<'a>) {
        if open.section == Section::Ancestor {
            let stack = tables.stack(&open.ancestor_frames);
            open.ancestors.push(RawAncestor {
                goroutine_id: open.ancestor_id,
                stack,
                created_by: open.ancestor_created_by.take(),
            });
            open.ancestor_frames.clear();
        }
    }

    /// The last line of the input, cut off mid-line inside a block (pprof stops `debug=2`
    /// output at 64 MiB wherever it is): keep what is whole, mark the block truncated.
    fn cut_off(&mut self, no: u64, line: &'a str) {
        self.pending = None;
        if let Some(open) = self.open.as_mut() {
            open.flags |= TaskFlags::TRUNCATED;
            let id = open.header.id;
            self.warnings.push((
                no,
                format!(
                    "the dump is cut off in the middle of goroutine {id} (pprof truncates debug=2 output at 64 MiB); \
                     its partial stack is kept{}",
                    if line.is_empty() { String::new() } else { format!(", the partial line {line:?} is dropped") }
                ),
            ));
        }
        self.finish_block();
    }

    fn finish_block(&mut self) {
        if let Some(pending) = self.pending.take()
            && !self.frame_without_source(pending)
        {
            let (func, line) = match pending {
                Pending::Frame { func, line } | Pending::CreatedBy { func, line, .. } => (func, line),
            };
            self.warnings
                .push((line, format!("function line without a source line: {func:?}; frame skipped")));
        }
        let Some(mut open) = self.open.take() else { return };
        Self::close_ancestor(&mut self.tables, &mut open);
        let stack = self.tables.stack(&open.frames);
        if let Some(part) = open.header.unknown_part {
            self.warnings.push((open.line, format!("unknown header field {part:?} kept out of the state")));
        }
        self.blocks.push(RawBlock {
            line: open.line,
            header: open.header,
            flags: open.flags,
            stack,
            created_by: open.created_by,
            parent_id: open.parent_id,
            ancestors: open.ancestors,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_lines() {
        assert_eq!(
            parse_source_line("\t/usr/local/go/src/net/http/server.go:3604 +0x4fd"),
            Some(("/usr/local/go/src/net/http/server.go", 3604))
        );
        assert_eq!(parse_source_line("        /src/x.go:12"), Some(("/src/x.go", 12)));
        assert_eq!(
            parse_source_line(
                "\t/usr/local/go/src/runtime/proc.go:474 +0xca fp=0x25f7653bfc70 sp=0x25f7653bfc50 pc=0x48c82a"
            ),
            Some(("/usr/local/go/src/runtime/proc.go", 474))
        );
        assert_eq!(
            parse_source_line("\tC:/Program Files/Go/src/runtime/proc.go:398 +0x1"),
            Some(("C:/Program Files/Go/src/runtime/proc.go", 398))
        );
        assert_eq!(parse_source_line("\tpc=0x4567"), Some(("", 0)));
        assert_eq!(parse_source_line("\tnot a source line"), None);
    }

    #[test]
    fn function_names() {
        assert_eq!(
            function_name("net/http.(*conn).serve(0x39dad06545a0, {0xb789c0, 0x39dad0623440})"),
            "net/http.(*conn).serve"
        );
        assert_eq!(function_name("main.main()"), "main.main");
        assert_eq!(
            function_name("internal/poll.(*pollDesc).waitRead(...)"),
            "internal/poll.(*pollDesc).waitRead"
        );
        assert_eq!(function_name("panic({0x6c47e0?, 0x8a4b50?})"), "panic");
        assert_eq!(function_name("main.Map[...].Get(0x1)"), "main.Map[...].Get");
        assert_eq!(function_name("non-Go function"), "non-Go function");
    }
}
