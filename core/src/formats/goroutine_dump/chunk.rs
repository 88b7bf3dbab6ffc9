//! Parses one chunk of a dump (a run of whole goroutine blocks) into raw blocks that borrow from
//! the input, with chunk-local frame, stack and status tables. Chunks are independent so they
//! parse in parallel; `super::Assembler` merges them in order.
//!
//! The parser works on bytes. Only the distinct strings it keeps (function and file names of
//! distinct frames, distinct status texts) are checked as UTF-8, so a 300 MB dump with a few
//! hundred distinct frames validates a few kilobytes, and a stray invalid byte in a log line
//! around the dump costs nothing.

use std::borrow::Cow;
use std::hash::BuildHasher;

use foldhash::fast::FixedState;
use hashbrown::HashTable;

use super::header::{self, Status};
use crate::input::Progress;
use crate::model::TaskFlags;

/// A frame as text, before interning into a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct RawFrame<'a> {
    pub func: Cow<'a, str>,
    pub file: Cow<'a, str>,
    pub line: u32,
}

/// An ancestor traceback under a block (`[originating from goroutine N]:`).
#[derive(Clone, Copy, Debug)]
pub(super) struct RawAncestor {
    /// Index of the block (in this chunk) it belongs to.
    pub block: u32,
    pub goroutine_id: u64,
    pub stack: u32,
    pub created_by: Option<u32>,
}

/// One goroutine block.
#[derive(Clone, Copy, Debug)]
pub(super) struct RawBlock<'a> {
    /// Chunk-local 1-based line of the header.
    pub line: u64,
    pub id: u64,
    /// `m=N` of the header.
    pub m: Option<u64>,
    /// Index into the chunk's statuses.
    pub status: u32,
    /// The label text between the braces, if any.
    pub labels: Option<&'a [u8]>,
    /// Flags of the block (the status's flags are added when merging).
    pub flags: TaskFlags,
    /// Chunk-local stack index.
    pub stack: u32,
    pub created_by: Option<u32>,
    pub parent_id: Option<u64>,
}

/// A line outside any block that matters for splitting a file into dumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Text<'a> {
    /// `SIGQUIT: quit`, `panic: ...`, `fatal error: ...`: what the program said before a dump.
    Headline(&'a [u8]),
    /// `-----`: under `GOTRACEBACK=crash` the runtime relays SIGQUIT to every thread, and each
    /// prints a section of the same dump after this line.
    RelayMarker,
    /// `PC=0x46a4a1 m=3 sigcode=0`: the thread a signal arrived on. Before Go 1.22 the g0 stack
    /// printed next is just `goroutine 0 [idle]:`, without `m=`.
    SignalThread(u64),
}

/// A [`Text`] and where it is.
#[derive(Clone, Copy, Debug)]
pub(super) struct TextLine<'a> {
    pub line: u64,
    /// Number of blocks of this chunk that come before it.
    pub after_blocks: usize,
    pub text: Text<'a>,
}

/// Everything one chunk yields.
#[derive(Default)]
pub(super) struct Chunk<'a> {
    pub blocks: Vec<RawBlock<'a>>,
    pub ancestors: Vec<RawAncestor>,
    pub texts: Vec<TextLine<'a>>,
    pub statuses: Vec<Status<'a>>,
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

/// A frame while parsing: borrowed bytes, validated when the chunk ends.
#[derive(Clone, Copy, Eq, Hash)]
struct FrameKey<'a> {
    line: u32,
    func: &'a [u8],
    file: &'a [u8],
}

impl PartialEq for FrameKey<'_> {
    fn eq(&self, other: &Self) -> bool {
        // The line and lengths reject most different frames before any bytes are compared.
        self.line == other.line
            && self.func.len() == other.func.len()
            && self.file.len() == other.file.len()
            && self.func == other.func
            && self.file == other.file
    }
}

/// What a frame's function says about its goroutine.
#[derive(Clone, Copy, Default)]
struct FrameInfo {
    /// Writes dumps: `runtime/pprof.writeGoroutineStacks`, `runtime.Stack`, `runtime/debug.Stack`.
    dumper: bool,
    /// `runtime.goexit`, the bottom of every goroutine's stack in system tracebacks.
    goexit: bool,
    /// A runtime function other than `runtime.main`: a goroutine started here is the runtime's.
    runtime: bool,
}

impl FrameInfo {
    fn of(func: &[u8]) -> Self {
        Self {
            dumper: matches!(
                func,
                b"runtime/pprof.writeGoroutineStacks" | b"runtime.Stack" | b"runtime/debug.Stack"
            ),
            goexit: func == b"runtime.goexit",
            runtime: func.starts_with(b"runtime.") && func != b"runtime.main",
        }
    }
}

/// Slots of the direct-mapped cache in front of the frame table.
const RECENT_FRAMES: usize = 1 << 12;

/// Chunk-local interning of frames, stacks and statuses, keyed by borrowed bytes.
struct Tables<'a> {
    /// Frame index + 1 by a cheap fingerprint of (line, function, file). A dump repeats a few
    /// hundred frames millions of times; checking the one candidate the fingerprint names costs
    /// a fraction of hashing a hundred bytes. A miss (or a collision, even a crafted one) falls
    /// back to the hash table, so the cache can only save work.
    recent: Vec<u32>,
    frames: Vec<FrameKey<'a>>,
    frame_info: Vec<FrameInfo>,
    frame_index: HashTable<u32>,
    stacks: Vec<(u32, u32)>,
    stack_pool: Vec<u32>,
    /// DUMPER and SYSTEM facts of each stack, worked out once per distinct stack.
    stack_flags: Vec<TaskFlags>,
    stack_index: HashTable<u32>,
    status_text: Vec<&'a [u8]>,
    status_index: HashTable<u32>,
    hasher: FixedState,
}

impl<'a> Tables<'a> {
    fn new() -> Self {
        let mut t = Self {
            recent: vec![0; RECENT_FRAMES],
            frames: Vec::new(),
            frame_info: Vec::new(),
            frame_index: HashTable::new(),
            stacks: Vec::new(),
            stack_pool: Vec::new(),
            stack_flags: Vec::new(),
            stack_index: HashTable::new(),
            status_text: Vec::new(),
            status_index: HashTable::new(),
            hasher: FixedState::default(),
        };
        t.stack(&[]);
        t
    }

    fn frame(&mut self, func: &'a [u8], file: &'a [u8], line: u32) -> u32 {
        let key = FrameKey { line, func, file };
        let slot = fingerprint(&key) % RECENT_FRAMES;
        if let Some(&cached) = self.recent.get(slot)
            && cached > 0
            && self.frames.get(cached as usize - 1) == Some(&key)
        {
            return cached - 1;
        }
        let hash = self.hasher.hash_one(key);
        let Self { frames, frame_info, frame_index, hasher, recent, .. } = self;
        let i = if let Some(&i) = frame_index.find(hash, |&i| frames.get(i as usize) == Some(&key)) {
            i
        } else {
            let i = frames.len() as u32;
            frames.push(key);
            frame_info.push(FrameInfo::of(func));
            frame_index.insert_unique(hash, i, |&i| frames.get(i as usize).map_or(0, |f| hasher.hash_one(f)));
            i
        };
        if let Some(c) = recent.get_mut(slot) {
            *c = i + 1;
        }
        i
    }

    fn stack(&mut self, frames: &[u32]) -> u32 {
        let hash = self.hasher.hash_one(frames);
        let Self { stacks, stack_pool, stack_index, stack_flags, frame_info, hasher, .. } = self;
        if let Some(&i) = stack_index.find(hash, |&i| stack_slice(stack_pool, stacks, i) == frames) {
            return i;
        }
        let i = stacks.len() as u32;
        stacks.push((stack_pool.len() as u32, frames.len() as u32));
        stack_pool.extend_from_slice(frames);
        stack_index.insert_unique(hash, i, |&i| hasher.hash_one(stack_slice(stack_pool, stacks, i)));
        let info = |f: &u32| frame_info.get(*f as usize).copied().unwrap_or_default();
        let mut flags = TaskFlags::empty();
        if frames.iter().any(|f| info(f).dumper) {
            flags |= TaskFlags::DUMPER;
        }
        if frames.iter().rev().map(info).find(|f| !f.goexit).is_some_and(|f| f.runtime) {
            flags |= TaskFlags::SYSTEM;
        }
        stack_flags.push(flags);
        i
    }

    fn status(&mut self, text: &'a [u8]) -> u32 {
        let hash = self.hasher.hash_one(text);
        let Self { status_text, status_index, hasher, .. } = self;
        if let Some(&i) = status_index.find(hash, |&i| status_text.get(i as usize) == Some(&text)) {
            return i;
        }
        let i = status_text.len() as u32;
        status_text.push(text);
        status_index
            .insert_unique(hash, i, |&i| status_text.get(i as usize).map_or(0, |t| hasher.hash_one(t)));
        i
    }
}

/// A cheap mix of a frame's line, lengths and the ends of its names: enough to tell the frames
/// of one dump apart in a small cache, far cheaper than hashing every byte.
fn fingerprint(key: &FrameKey<'_>) -> usize {
    fn word(bytes: &[u8], from_end: bool) -> u64 {
        // Names are mostly longer than 8 bytes: a fixed-size read is one load, where copying
        // a length known only at run time called memcpy three times a frame.
        let whole = if from_end { bytes.last_chunk::<8>() } else { bytes.first_chunk::<8>() };
        if let Some(&w) = whole {
            return u64::from_le_bytes(w);
        }
        bytes.iter().fold(0u64, |w, &b| w << 8 | u64::from(b))
    }
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = u64::from(key.line) ^ ((key.func.len() as u64) << 32) ^ ((key.file.len() as u64) << 48);
    for w in [word(key.func, false), word(key.func, true), word(key.file, true)] {
        h = (h ^ w).wrapping_mul(K);
        h ^= h >> 29;
    }
    (h >> 32) as usize
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
    Frame { func: &'a [u8], text: &'a [u8], line: u64 },
    CreatedBy { func: &'a [u8], parent: Option<u64>, line: u64 },
}

/// The block under construction. Its frames go to the parser's reusable buffers.
struct Open<'a> {
    line: u64,
    id: u64,
    m: Option<u64>,
    status: u32,
    labels: Option<&'a [u8]>,
    flags: TaskFlags,
    created_by: Option<u32>,
    parent_id: Option<u64>,
    section: Section,
    ancestor_id: u64,
    ancestor_created_by: Option<u32>,
}

struct Parser<'a> {
    tables: Tables<'a>,
    blocks: Vec<RawBlock<'a>>,
    ancestors: Vec<RawAncestor>,
    texts: Vec<TextLine<'a>>,
    warnings: Vec<(u64, String)>,
    open: Option<Open<'a>>,
    pending: Option<Pending<'a>>,
    /// Frames of the open block's own stack and of its current ancestor, reused across blocks.
    frames: Vec<u32>,
    ancestor_frames: Vec<u32>,
}

/// How often (in lines) a chunk polls the cancel flag.
const CANCEL_POLL_LINES: u64 = 1 << 14;

/// Parses `bytes`, which start at a block boundary (or at the start of the input). `at_eof`
/// says whether the chunk ends the input, where a cut-off last block is expected.
pub(super) fn parse<'a>(bytes: &'a [u8], at_eof: bool, progress: &Progress) -> Chunk<'a> {
    let mut p = Parser {
        tables: Tables::new(),
        blocks: Vec::new(),
        ancestors: Vec::new(),
        texts: Vec::new(),
        warnings: Vec::new(),
        open: None,
        pending: None,
        frames: Vec::with_capacity(64),
        ancestor_frames: Vec::new(),
    };
    let mut pos = 0usize;
    let mut line_no = 0u64;
    let mut cancelled = false;
    let mut ends_mid_line = false;
    while let Some(rest) = bytes.get(pos..).filter(|r| !r.is_empty()) {
        line_no += 1;
        let (raw, next) = if let Some(i) = memchr::memchr(b'\n', rest) {
            (rest.get(..i).unwrap_or_default(), pos + i + 1)
        } else {
            ends_mid_line = true;
            (rest, bytes.len())
        };
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if ends_mid_line && at_eof {
            p.last_line_without_newline(line_no, line);
        } else {
            p.line(line_no, line);
        }
        pos = next;
        if line_no.is_multiple_of(CANCEL_POLL_LINES) && progress.is_cancelled() {
            cancelled = true;
            break;
        }
    }
    if at_eof && p.open.is_some() && p.pending.is_some_and(Pending::looks_like_go) {
        // The input ends right after a function line: its source line was cut off.
        p.cut_off(line_no + 1, b"");
    } else {
        p.finish_block();
    }
    p.into_chunk(line_no, cancelled)
}

/// Splits a source line (`\t/path/file.go:123 +0x1f fp=.. sp=.. pc=..`) into file and line.
/// Nothing after the line number (`+0x..`, `fp=`, `sp=`, `pc=`) holds a ':', so the last ':'
/// separates them even when the path has its own (`C:/Program Files/...`).
pub(super) fn parse_source_line(line: &[u8]) -> Option<(&[u8], u32)> {
    let t = line.trim_ascii_start();
    if t.starts_with(b"pc=") {
        // A symbolized cgo frame without a file: "\tpc=0x1234".
        return Some((b"", 0));
    }
    let colon = memchr::memrchr(b':', t)?;
    let file = t.get(..colon)?;
    let after = t.get(colon + 1..)?;
    let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
    let rest = after.get(digits..)?;
    if file.is_empty() || !(rest.is_empty() || rest.starts_with(b" ")) {
        return None;
    }
    let line = header::parse_u64(after.get(..digits)?)?;
    Some((file, u32::try_from(line).unwrap_or(u32::MAX)))
}

/// The function name of a frame line: the text before the argument list. Arguments never hold
/// parentheses, so the last '(' opens them.
pub(super) fn function_name(line: &[u8]) -> &[u8] {
    if line.ends_with(b")")
        && let Some(open) = memchr::memrchr(b'(', line)
        && open > 0
    {
        return line.get(..open).unwrap_or(line);
    }
    line
}

/// Splits `F in goroutine N` (Go 1.21+) into the function and the creator's id; older dumps
/// print only `F`.
fn split_creator(rest: &[u8]) -> (&[u8], Option<u64>) {
    let digits = rest.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    let (head, id) = rest.split_at(rest.len() - digits);
    match (head.strip_suffix(b" in goroutine "), header::parse_u64(id)) {
        (Some(func), Some(id)) => (func.trim_ascii_end(), Some(id)),
        _ => (rest, None),
    }
}

/// The `m=N` of a `PC=0x... m=N sigcode=N` line.
fn signal_thread(text: &[u8]) -> Option<u64> {
    let rest = text.strip_prefix(b"PC=")?;
    let m = rest.split(|&b| b == b' ').find_map(|field| field.strip_prefix(b"m="))?;
    header::parse_u64(m)
}

/// Whether a line outside any block says why a dump was taken.
fn is_headline(text: &[u8]) -> bool {
    text.starts_with(b"panic: ")
        || text.starts_with(b"fatal error: ")
        || (text.starts_with(b"SIG")
            && memchr::memchr(b':', text)
                .and_then(|colon| text.get(..colon))
                .is_some_and(|sig| sig.iter().all(u8::is_ascii_uppercase)))
}

impl Pending<'_> {
    /// Whether the waiting line is surely part of a goroutine block (a `created by`, or a Go
    /// frame `pkg.F(args)`), rather than a log line that happened to follow one.
    fn looks_like_go(self) -> bool {
        match self {
            Pending::CreatedBy { .. } => true,
            Pending::Frame { func, text, .. } => text.ends_with(b")") && looks_like_go_function(func),
        }
    }
}

/// A Go function name: no spaces, and a package qualifier (`main.f`, `net/http.(*conn).serve`).
fn looks_like_go_function(name: &[u8]) -> bool {
    !name.is_empty() && !name.iter().any(u8::is_ascii_whitespace) && memchr::memchr(b'.', name).is_some()
}

impl<'a> Parser<'a> {
    fn line(&mut self, no: u64, line: &'a [u8]) {
        let Some(&first) = line.first() else {
            self.finish_block();
            return;
        };
        if first == b'g'
            && let Some(h) = header::parse(line)
        {
            self.finish_block();
            self.start_block(no, h);
            return;
        }
        if self.open.is_none() {
            self.text(no, line);
            return;
        }
        if first == b'\t' || first == b' ' {
            self.indented(no, line);
            return;
        }
        if let Some(pending) = self.pending.take() {
            // A copy-paste that lost the indentation still leaves "file.go:12 +0x1f".
            if !line.ends_with(b")")
                && memchr::memchr(b' ', line)
                    .is_none_or(|i| line.get(i..).is_some_and(|r| r.starts_with(b" +0x")))
                && parse_source_line(line).is_some()
            {
                self.source_line(no, line, pending);
                return;
            }
            if !self.frame_without_source(pending) {
                // Not part of a goroutine block after all (a register dump, a log line): the
                // block ended at the line before it.
                let (text, pno) = match pending {
                    Pending::Frame { text, line, .. } => (text, line),
                    Pending::CreatedBy { line, .. } => (b"created by".as_slice(), line),
                };
                self.finish_block();
                self.text(pno, text);
                self.text(no, line);
                return;
            }
        }
        if let Some(rest) = line.strip_prefix(b"created by ") {
            let (func, parent) = split_creator(rest.trim_ascii_end());
            self.pending = Some(Pending::CreatedBy { func, parent, line: no });
        } else if let Some(rest) = line.strip_prefix(b"[originating from goroutine ") {
            let id = rest.strip_suffix(b"]:").and_then(|n| header::parse_u64(n.trim_ascii())).unwrap_or(0);
            self.close_ancestor();
            if let Some(open) = self.open.as_mut() {
                open.section = Section::Ancestor;
                open.ancestor_id = id;
            }
        } else if line.starts_with(b"...") && memchr::memmem::find(line, b"elided").is_some() {
            // "...N frames elided..." (Go 1.21+) or "...additional frames elided...": keep a
            // marker frame so the stack shows where frames are missing.
            let marker = self.tables.frame(line.trim_ascii(), b"", 0);
            if let Some(open) = self.open.as_mut() {
                open.flags |= TaskFlags::FRAMES_ELIDED;
                match open.section {
                    Section::Stack => self.frames.push(marker),
                    Section::Ancestor => self.ancestor_frames.push(marker),
                }
            }
        } else {
            self.pending = Some(Pending::Frame { func: function_name(line), text: line, line: no });
        }
    }

    fn start_block(&mut self, no: u64, h: header::Header<'a>) {
        let status = self.tables.status(h.status);
        self.frames.clear();
        self.ancestor_frames.clear();
        self.open = Some(Open {
            line: no,
            id: h.id,
            m: h.m,
            status,
            labels: h.labels,
            flags: TaskFlags::empty(),
            created_by: None,
            parent_id: None,
            section: Section::Stack,
            ancestor_id: 0,
            ancestor_created_by: None,
        });
    }

    fn indented(&mut self, no: u64, line: &'a [u8]) {
        if let Some(pending) = self.pending.take() {
            self.source_line(no, line, pending);
            return;
        }
        let trimmed = line.trim_ascii();
        if trimmed.starts_with(b"goroutine running on other thread") {
            if let Some(open) = self.open.as_mut() {
                open.flags |= TaskFlags::STACK_UNAVAILABLE;
            }
        } else {
            let text = String::from_utf8_lossy(trimmed);
            self.warnings.push((no, format!("source line without a function line: {text:?}")));
        }
    }

    /// A source line completing `pending`.
    fn source_line(&mut self, no: u64, line: &'a [u8], pending: Pending<'a>) {
        let Some((file, line_num)) = parse_source_line(line) else {
            let text = String::from_utf8_lossy(line.trim_ascii());
            self.warnings.push((no, format!("unreadable source line {text:?}; frame skipped")));
            return;
        };
        let Some(open) = self.open.as_mut() else { return };
        match pending {
            Pending::Frame { func, .. } => {
                let id = self.tables.frame(func, file, line_num);
                match open.section {
                    Section::Stack => self.frames.push(id),
                    Section::Ancestor => self.ancestor_frames.push(id),
                }
            }
            Pending::CreatedBy { func, parent, .. } => {
                let id = self.tables.frame(func, file, line_num);
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
        if !func.starts_with(b"non-Go function") {
            return false;
        }
        let id = self.tables.frame(func, b"", 0);
        if let Some(open) = self.open.as_ref() {
            match open.section {
                Section::Stack => self.frames.push(id),
                Section::Ancestor => self.ancestor_frames.push(id),
            }
        }
        true
    }

    fn text(&mut self, no: u64, text: &'a [u8]) {
        let text = if text == b"-----" {
            Text::RelayMarker
        } else if let Some(m) = signal_thread(text) {
            Text::SignalThread(m)
        } else if is_headline(text) {
            Text::Headline(text)
        } else {
            return;
        };
        self.texts.push(TextLine { line: no, after_blocks: self.blocks.len(), text });
    }

    fn close_ancestor(&mut self) {
        let Some(open) = self.open.as_mut() else { return };
        if open.section == Section::Ancestor {
            let stack = self.tables.stack(&self.ancestor_frames);
            self.ancestors.push(RawAncestor {
                block: self.blocks.len() as u32,
                goroutine_id: open.ancestor_id,
                stack,
                created_by: open.ancestor_created_by.take(),
            });
            self.ancestor_frames.clear();
        }
    }

    /// The input's last line, without a line end. pprof stops `debug=2` output at 64 MiB
    /// wherever it is, so a partial line inside a block means the block was cut off; but the
    /// line may also be a complete trailer (`FAIL`, `exit status 2`) that just lacks its
    /// newline, or the start of the next header.
    fn last_line_without_newline(&mut self, no: u64, line: &'a [u8]) {
        if line.is_empty() {
            self.line(no, line);
            return;
        }
        let header_start =
            line.strip_prefix(b"goroutine ").is_some_and(|rest| rest.first().is_some_and(u8::is_ascii_digit));
        if b"goroutine ".starts_with(line) || header_start {
            if let Some(h) = header::parse(line) {
                // A whole header: its block has no frames yet.
                self.finish_block();
                self.start_block(no, h);
                self.cut_off(no, b"");
            } else {
                self.finish_block();
                let text = String::from_utf8_lossy(line);
                self.warnings.push((
                    no,
                    format!("the dump is cut off in a goroutine header ({text:?}); that goroutine is lost"),
                ));
            }
            return;
        }
        let indented = matches!(line.first(), Some(b'\t' | b' '));
        let pending_is_not_a_frame = self.pending.is_some_and(
            |p| !matches!(p, Pending::Frame { func, .. } if func.starts_with(b"non-Go function")),
        );
        if self.open.is_none() || (!indented && pending_is_not_a_frame) {
            // No block, or the line under a function line is not its source line: the block
            // already ended and this is a trailer.
            self.line(no, line);
            return;
        }
        // Any line of a block could be cut to this: a source line, a keyword prefix, or a
        // function name (which has no space before its arguments). A line with words in it
        // ("exit status 2") is a trailer that lacks its newline.
        let name = line.split(|&b| b == b'(').next().unwrap_or(line);
        let part_of_block = indented
            || b"created by ".starts_with(line)
            || line.starts_with(b"created by ")
            || line.starts_with(b"[originating")
            || line.starts_with(b"...")
            || line.starts_with(b"non-Go ")
            || b"non-Go function".starts_with(line)
            || !name.iter().any(u8::is_ascii_whitespace);
        if part_of_block {
            self.cut_off(no, line);
        } else {
            self.line(no, line);
        }
    }

    /// The block ends in the middle: keep what is whole, mark it truncated.
    fn cut_off(&mut self, no: u64, line: &[u8]) {
        // A `non-Go function` line before the cut is a whole frame; any other waiting function
        // line lost its source line.
        if let Some(pending) = self.pending.take() {
            self.frame_without_source(pending);
        }
        if let Some(open) = self.open.as_mut() {
            open.flags |= TaskFlags::TRUNCATED;
            let id = open.id;
            let partial = if line.is_empty() {
                String::new()
            } else {
                format!("; the partial line {:?} is dropped", String::from_utf8_lossy(line))
            };
            self.warnings.push((
                no,
                format!(
                    "the dump is cut off in the middle of goroutine {id} (pprof stops debug=2 output at 64 MiB); \
                     its partial stack is kept{partial}"
                ),
            ));
        }
        self.finish_block();
    }

    fn finish_block(&mut self) {
        let mut trailer = None;
        if let Some(pending) = self.pending.take()
            && !self.frame_without_source(pending)
        {
            match pending {
                // A trailer such as "FAIL" right after the last frame is not a frame; it comes
                // after the block.
                Pending::Frame { text, line, .. } if !pending.looks_like_go() => trailer = Some((line, text)),
                Pending::Frame { text, line, .. } | Pending::CreatedBy { func: text, line, .. } => {
                    let text = String::from_utf8_lossy(text);
                    self.warnings.push((
                        line,
                        format!("function line without a source line: {text:?}; frame skipped"),
                    ));
                }
            }
        }
        self.close_ancestor();
        self.push_block();
        if let Some((line, text)) = trailer {
            self.text(line, text);
        }
    }

    fn push_block(&mut self) {
        let Some(open) = self.open.take() else { return };
        let stack = self.tables.stack(&self.frames);
        let mut flags = open.flags | self.tables.stack_flags.get(stack as usize).copied().unwrap_or_default();
        let creator_is_runtime = open
            .created_by
            .and_then(|f| self.tables.frame_info.get(f as usize))
            .is_some_and(|info| info.runtime);
        // Goroutine ids start at 1: goroutine 0 is always a thread's g0 stack.
        if creator_is_runtime || open.id == 0 {
            flags |= TaskFlags::SYSTEM;
        }
        self.blocks.push(RawBlock {
            line: open.line,
            id: open.id,
            m: open.m,
            status: open.status,
            labels: open.labels,
            flags,
            stack,
            created_by: open.created_by,
            parent_id: open.parent_id,
        });
    }

    fn into_chunk(mut self, line_count: u64, cancelled: bool) -> Chunk<'a> {
        // Names and statuses are checked as UTF-8 once each here; the merge warns about the
        // invalid ones where a capture first uses them.
        let Tables { frames: keys, stacks, stack_pool, status_text, .. } = self.tables;
        let frames = keys
            .iter()
            .map(|k| RawFrame {
                func: String::from_utf8_lossy(k.func),
                file: String::from_utf8_lossy(k.file),
                line: k.line,
            })
            .collect();
        let statuses = status_text.iter().map(|t| header::parse_status(t)).collect();
        self.warnings.sort_by_key(|&(line, _)| line);
        Chunk {
            blocks: self.blocks,
            ancestors: self.ancestors,
            texts: self.texts,
            statuses,
            frames,
            stacks,
            stack_pool,
            warnings: self.warnings,
            line_count,
            cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(line: &str) -> Option<(&str, u32)> {
        parse_source_line(line.as_bytes()).map(|(f, l)| (std::str::from_utf8(f).unwrap(), l))
    }

    #[test]
    fn source_lines() {
        assert_eq!(
            src("\t/usr/local/go/src/net/http/server.go:3604 +0x4fd"),
            Some(("/usr/local/go/src/net/http/server.go", 3604))
        );
        assert_eq!(src("        /src/x.go:12"), Some(("/src/x.go", 12)));
        assert_eq!(
            src(
                "\t/usr/local/go/src/runtime/proc.go:474 +0xca fp=0x25f7653bfc70 sp=0x25f7653bfc50 pc=0x48c82a"
            ),
            Some(("/usr/local/go/src/runtime/proc.go", 474))
        );
        assert_eq!(
            src("\tC:/Program Files/Go/src/runtime/proc.go:398 +0x1"),
            Some(("C:/Program Files/Go/src/runtime/proc.go", 398))
        );
        // Go 1.17-era system tracebacks had fp= and sp= without pc=.
        assert_eq!(src("\t/x/y.go:7 +0x2 fp=0xc0 sp=0xb0"), Some(("/x/y.go", 7)));
        // Symbolized cgo frames.
        assert_eq!(src("\tcgo_c.c:9 pc=0x4e12a8"), Some(("cgo_c.c", 9)));
        assert_eq!(src("\tpc=0x4567"), Some(("", 0)));
        assert_eq!(src("\tnot a source line"), None);
        assert_eq!(src("\t/x.go:"), None);
        assert_eq!(src("\t/x.go:12abc"), None);
        assert_eq!(src("\t:12"), None);
        assert_eq!(src("\t/x.go:99999999999"), Some(("/x.go", u32::MAX)));
    }

    #[test]
    fn function_names() {
        let name = |line: &str| std::str::from_utf8(function_name(line.as_bytes())).unwrap().to_owned();
        assert_eq!(
            name("net/http.(*conn).serve(0x39dad06545a0, {0xb789c0, 0x39dad0623440})"),
            "net/http.(*conn).serve"
        );
        assert_eq!(name("main.main()"), "main.main");
        assert_eq!(name("internal/poll.(*pollDesc).waitRead(...)"), "internal/poll.(*pollDesc).waitRead");
        assert_eq!(name("panic({0x6c47e0?, 0x8a4b50?})"), "panic");
        assert_eq!(name("main.Map[...].Get(0x1)"), "main.Map[...].Get");
        assert_eq!(name("non-Go function at pc=0x4e12a8"), "non-Go function at pc=0x4e12a8");
        assert_eq!(name("c_dispatch"), "c_dispatch");
    }

    #[test]
    fn creators() {
        let split = |s: &str| {
            let (f, id) = split_creator(s.as_bytes());
            (std::str::from_utf8(f).unwrap().to_owned(), id)
        };
        assert_eq!(split("main.main in goroutine 1"), ("main.main".to_owned(), Some(1)));
        assert_eq!(split("net/http.(*Server).Serve"), ("net/http.(*Server).Serve".to_owned(), None));
        assert_eq!(split("main.f in goroutine "), ("main.f in goroutine ".to_owned(), None));
        assert_eq!(
            split("main.f in goroutine 99999999999999999999"),
            ("main.f in goroutine 99999999999999999999".to_owned(), None)
        );
        assert_eq!(split("x in goroutine 7"), ("x".to_owned(), Some(7)));
    }

    #[test]
    fn signal_threads() {
        assert_eq!(signal_thread(b"PC=0x4116ce m=0 sigcode=0"), Some(0));
        assert_eq!(signal_thread(b"PC=0x46a4a1 m=12 sigcode=0 addr=0x0"), Some(12));
        assert_eq!(signal_thread(b"PC=0x46a4a1 sigcode=0"), None);
        assert_eq!(signal_thread(b"PCX m=1"), None);
    }

    #[test]
    fn headlines() {
        assert!(is_headline(b"SIGQUIT: quit"));
        assert!(is_headline(b"SIGSEGV: segmentation violation"));
        assert!(is_headline(b"panic: boom"));
        assert!(is_headline(b"fatal error: all goroutines are asleep - deadlock!"));
        assert!(!is_headline(b"Signal 99"));
        assert!(!is_headline(b"SIGnal: x"));
        assert!(!is_headline(b"panicked: x"));
    }
}
