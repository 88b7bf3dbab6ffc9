//! One module per input format, each behind the [`Format`] trait: a tri-state `sniff` on the
//! first bytes and a `parse` into the shared model.

use std::sync::Arc;

use crate::error::ParseError;
use crate::input::{Bytes, Progress};
use crate::model::{Capture, FormatKind};

pub mod chrome_trace;
pub mod cpuprofile;
pub mod go_trace;
pub mod goroutine_dump;
pub mod goroutine_profile_text;
pub mod labels;
pub mod pprof;

/// A format's answer to "is this yours?" on a prefix of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sniff {
    /// Yes: parse it with this format.
    Yes,
    /// No: this format cannot read it.
    No,
    /// Can't tell from this prefix; ask again with more bytes.
    NeedMore,
}

/// What a parser reads: the whole (decompressed) input and where it came from.
pub struct Input<'a> {
    /// The bytes to parse.
    pub bytes: &'a [u8],
    /// The same bytes, shared, for parsers whose captures keep referring to them.
    pub shared: &'a Arc<Bytes>,
    /// The path as given, for the captures' `source`.
    pub path: &'a str,
    /// Whether the file was gzip-compressed.
    pub gzipped: bool,
    /// Progress to advance and the cancel flag to poll.
    pub progress: &'a Progress,
    /// Where to send a first picture of a large input before the whole of it is read.
    pub preview: Option<&'a Preview>,
}

/// A request for a first picture of a large input: a parser that can read a useful part of
/// its input much sooner than the whole (the first generations of a Go execution trace) hands
/// that part's capture to `sink`, marked as cut off, before it reads the whole. The app shows
/// it while the rest is read; the command line never asks, so a report is always of the whole.
#[derive(Clone)]
pub struct Preview {
    /// Inputs smaller than this are read whole at once: their whole takes little longer than
    /// a part would.
    pub min_bytes: u64,
    /// Receives the first picture, on the parsing thread.
    pub sink: Arc<dyn Fn(Capture) + Send + Sync>,
}

impl std::fmt::Debug for Preview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Preview").field("min_bytes", &self.min_bytes).finish_non_exhaustive()
    }
}

/// One input format.
pub trait Format: Send + Sync {
    /// Which format this is.
    fn kind(&self) -> FormatKind;

    /// Whether `head` (the first bytes; `complete` if it is the whole input) looks like this
    /// format. Must be cheap and must never panic.
    fn sniff(&self, head: &[u8], complete: bool) -> Sniff;

    /// Whether `head` (the first bytes of an input no format said yes to) looks enough like this
    /// format that its parser's error says more than "unrecognised format". `gzipped` tells
    /// that the input came out of gzip. Must be cheap and must never panic.
    fn resembles(&self, head: &[u8], gzipped: bool) -> bool {
        let _ = (head, gzipped);
        false
    }

    /// Parses the whole input. A file may hold a series of captures (several dumps), oldest
    /// first. Bad records are skipped with a warning; an error means nothing usable was found.
    fn parse(&self, input: &Input<'_>) -> Result<Vec<Capture>, ParseError>;
}

/// Every format, in the order sniffing tries them: exact magic numbers first, loose text
/// heuristics after, so a stricter format is never shadowed. The JSON formats sit between:
/// they read keys (`traceEvents`, a first event's `ph`, `nodes` with `callFrame`s), never
/// claim input that is not JSON, and tell a CPU profile from a trace. pprof has no magic number
/// (its sniff validates protobuf structure and refuses text), so it goes last: any format with a
/// fixed header is asked before it.
pub fn all() -> &'static [&'static dyn Format] {
    &[
        &go_trace::GoTrace,
        &goroutine_profile_text::GoroutineProfileText,
        &chrome_trace::ChromeTrace,
        &cpuprofile::CpuProfile,
        &goroutine_dump::GoroutineDump,
        &pprof::Pprof,
    ]
}

/// The format registered for `kind`.
pub fn by_kind(kind: FormatKind) -> Option<&'static dyn Format> {
    all().iter().copied().find(|f| f.kind() == kind)
}

/// Prefix sizes sniffing looks at, in turn, while some format says it needs more. After the
/// last, the formats still undecided are asked about the whole input: a format whose telling
/// part may come late (a trace event's `ph` after a 32 MB string) must not depend on a window.
const SNIFF_PREFIXES: [usize; 4] = [4 << 10, 64 << 10, 1 << 20, 16 << 20];

/// What one round of sniffing decided.
#[derive(Clone, Copy)]
pub enum Detected {
    /// This format said yes.
    Format(&'static dyn Format),
    /// Every format said no: nothing more of the input can change that.
    Nothing,
    /// Some format needs a longer prefix ([`Detector::next_prefix`]).
    NeedMore,
}

/// Sniffing in rounds over growing prefixes, so that a caller who produces the input as it goes
/// (gzip inflation) can stop as soon as no format can match. [`detect`] runs the same rounds
/// over bytes already in memory, so both reach the same answer.
pub struct Detector {
    undecided: Vec<&'static dyn Format>,
    round: usize,
}

impl Default for Detector {
    fn default() -> Self {
        Self { undecided: all().to_vec(), round: 0 }
    }
}

impl Detector {
    /// How many bytes the next round looks at, or `None` for the whole input. A prefix round
    /// only applies when the input is longer than that.
    pub fn next_prefix(&self) -> Option<usize> {
        SNIFF_PREFIXES.get(self.round).copied()
    }

    /// One round: asks the formats still undecided about `head`, the first
    /// [`next_prefix`](Self::next_prefix) bytes of a longer input, or the whole input when
    /// `complete`. A complete round always decides.
    pub fn round(&mut self, head: &[u8], complete: bool) -> Detected {
        let mut still = Vec::new();
        for &format in &self.undecided {
            match format.sniff(head, complete) {
                Sniff::Yes => return Detected::Format(format),
                Sniff::NeedMore if !complete => still.push(format),
                Sniff::No | Sniff::NeedMore => {}
            }
        }
        self.undecided = still;
        self.round += 1;
        if self.undecided.is_empty() || complete { Detected::Nothing } else { Detected::NeedMore }
    }
}

/// The format of `bytes`, or the list of formats tried.
pub fn detect(bytes: &[u8]) -> Result<&'static dyn Format, Vec<FormatKind>> {
    let mut detector = Detector::default();
    loop {
        let (head, complete) = match detector.next_prefix() {
            Some(n) if bytes.len() > n => (bytes.get(..n).unwrap_or(bytes), false),
            _ => (bytes, true),
        };
        match detector.round(head, complete) {
            Detected::Format(format) => return Ok(format),
            Detected::Nothing => return Err(all().iter().map(|f| f.kind()).collect()),
            Detected::NeedMore => {}
        }
    }
}

/// The first format that `head` looks like although no format said yes to it: its parser is
/// asked to say what is wrong, so that a damaged file gets an error with its format and place
/// instead of "unrecognised format".
pub fn resembling(head: &[u8], gzipped: bool) -> Option<&'static dyn Format> {
    all().iter().copied().find(|f| f.resembles(head, gzipped))
}

/// A cancelled parse, as the error parsers return when they see the cancel flag.
pub(crate) fn cancelled(format: FormatKind) -> ParseError {
    ParseError::whole(format, "cancelled")
}
