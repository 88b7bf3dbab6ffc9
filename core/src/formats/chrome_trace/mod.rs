//! Chrome Trace Event Format JSON: Chromium and Perfetto exports, Node.js
//! `--trace-events-enabled`, viztracer, `tracing-chrome`, `go tool trace` JSON, and everything
//! else that writes it. Both the array form and the object form (`traceEvents` plus
//! `displayTimeUnit`, `stackFrames`, `samples` and other keys kept as metadata).
//!
//! Large files are read in parallel without a first pass: the event array is cut at guessed
//! element boundaries, the pieces are read at once (each borrowing from the mapped input), and
//! the guesses are checked in order afterwards — a piece is accepted only if the piece before
//! it ended exactly where it began, otherwise it is read again from the right place. That
//! works on files with one event per line and on files with no newline at all. Truncated
//! files (no `]`, a trailing comma, a cut-off last event) keep every complete event, with a
//! warning.
//!
//! Into the model: threads (`pid`/`tid`, named by `M` events) with their `B`/`E`/`X` spans
//! nested by depth; async operations (`b`/`e` matched on category, id and scope; legacy
//! `S`/`F`; objects `N`/`D`) as async tasks with lifetimes; flows as links; counters; `P`
//! samples, `samples` and V8 `ProfileChunk`s as timed samples; instants as marks. Each
//! interval keeps a reference to its input event so views can show `args` on selection
//! ([`event_details`]).

mod build;
pub(crate) mod chunk;
mod event;
pub(crate) mod json;
mod samples;
pub mod synth;

use std::ops::Range;

use rayon::prelude::*;

use self::chunk::{ChunkOut, End, Mode};
pub use self::event::NS_PER_US;
use self::json::{Cursor, Kind};
use self::samples::Top;
use super::{Format, Input, Sniff};
use crate::error::ParseError;
use crate::load::{Bytes, Progress};
use crate::model::{Capture, EventRef, FormatKind, MetadataEntry};

/// The Chrome Trace Event Format.
pub struct ChromeTrace;

impl Format for ChromeTrace {
    fn kind(&self) -> FormatKind {
        FormatKind::ChromeTrace
    }

    fn sniff(&self, head: &[u8], complete: bool) -> Sniff {
        match guess_json(head, complete) {
            JsonGuess::Trace => Sniff::Yes,
            JsonGuess::NeedMore => Sniff::NeedMore,
            JsonGuess::CpuProfile | JsonGuess::Other => Sniff::No,
        }
    }

    fn parse(&self, input: &Input<'_>) -> Result<Vec<Capture>, ParseError> {
        let mut capture = parse_with(input.bytes, input.path, input.progress, Some(input.shared), None)?;
        capture.raw = Some(input.shared.clone());
        Ok(vec![capture])
    }
}

/// What a JSON prefix looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JsonGuess {
    /// A Chrome trace: an array of event objects, or an object with `traceEvents`.
    Trace,
    /// A DevTools CPU profile: an object whose `nodes` hold `callFrame`s.
    CpuProfile,
    /// Something else (other JSON, or not JSON at all).
    Other,
    /// The prefix ends before it can tell.
    NeedMore,
}

/// Length of a UTF-8 byte order mark at the start, if any.
pub(crate) fn skip_bom(bytes: &[u8]) -> usize {
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 }
}

/// Tells trace JSON from CPU-profile JSON from anything else by reading keys, never by file
/// name: the array form's first event has a `ph`; the object form has `traceEvents`; a CPU
/// profile's `nodes` hold `callFrame`s.
pub(crate) fn guess_json(head: &[u8], complete: bool) -> JsonGuess {
    let more = if complete { JsonGuess::Other } else { JsonGuess::NeedMore };
    let mut c = Cursor::new(head, skip_bom(head));
    match c.skip_ws() {
        None => more,
        Some(b'[') => {
            c.pos += 1;
            match c.skip_ws() {
                None => more,
                Some(b']') => JsonGuess::Trace,
                Some(b'{') => {
                    let mut has_phase = false;
                    let read = c.object(|c, key| {
                        has_phase |= key.is("ph");
                        c.skip_value().map(|_| ())
                    });
                    match read {
                        _ if has_phase => JsonGuess::Trace,
                        Err(e) if e.kind == json::JsonErrorKind::Eof => more,
                        Ok(()) | Err(_) => JsonGuess::Other,
                    }
                }
                Some(_) => JsonGuess::Other,
            }
        }
        Some(b'{') => {
            let mut found = None;
            let read = c.object(|c, key| {
                if found.is_some() {
                    return c.skip_value().map(|_| ());
                }
                if key.is("traceEvents") {
                    found = Some(JsonGuess::Trace);
                    // Stop reading: the answer is known, and the value may be gigabytes.
                    return Err(json::JsonError { kind: json::JsonErrorKind::Eof, offset: c.pos });
                }
                if key.is("nodes") && c.kind()? == Kind::Array {
                    c.pos += 1;
                    if c.skip_ws() == Some(b'{') {
                        let mut has_frame = false;
                        let _ = c.object(|c, k| {
                            has_frame |= k.is("callFrame");
                            if has_frame {
                                return Err(json::JsonError {
                                    kind: json::JsonErrorKind::Eof,
                                    offset: c.pos,
                                });
                            }
                            c.skip_value().map(|_| ())
                        });
                        if has_frame {
                            found = Some(JsonGuess::CpuProfile);
                        }
                    }
                    return Err(json::JsonError { kind: json::JsonErrorKind::Eof, offset: c.pos });
                }
                c.skip_value().map(|_| ())
            });
            match (found, read) {
                (Some(g), _) => g,
                (None, Err(e)) if e.kind == json::JsonErrorKind::Eof => more,
                (None, Ok(()) | Err(_)) => JsonGuess::Other,
            }
        }
        Some(_) => JsonGuess::Other,
    }
}

/// Parses a trace held in memory (tests, benchmarks, fuzzing); the capture keeps no input,
/// so [`event_details`] finds nothing.
pub fn parse_bytes(bytes: &[u8], path: &str, progress: &Progress) -> Result<Capture, ParseError> {
    parse_with(bytes, path, progress, None, None)
}

/// Like [`parse_bytes`], but always cuts the event array into pieces of about `piece_bytes`
/// (however small the input), so that tests and fuzzing exercise the guessed boundaries and
/// their verification. The result is the same as reading the input in one piece.
pub fn parse_bytes_in_pieces(
    bytes: &[u8],
    path: &str,
    progress: &Progress,
    piece_bytes: usize,
) -> Result<Capture, ParseError> {
    parse_with(bytes, path, progress, None, Some(piece_bytes.max(1)))
}

fn parse_with(
    bytes: &[u8],
    path: &str,
    progress: &Progress,
    shared: Option<&std::sync::Arc<Bytes>>,
    piece_bytes: Option<usize>,
) -> Result<Capture, ParseError> {
    let kind = FormatKind::ChromeTrace;
    let mut cap = Capture::new(path, kind);
    let mut c = Cursor::new(bytes, skip_bom(bytes));
    let mut top = Top::default();
    let chunks = match c.skip_ws() {
        Some(b'[') => read_array(bytes, c.pos, progress, shared, piece_bytes).0,
        Some(b'{') => {
            let (chunks, top_found) = read_object(bytes, c.pos, progress, shared, piece_bytes, &mut cap)?;
            top = top_found;
            chunks
        }
        _ => {
            return Err(ParseError::at_offset(
                kind,
                c.pos as u64,
                "not a trace: expected a JSON array of events or an object with traceEvents",
            ));
        }
    };
    if chunks.iter().any(|ch| ch.end == Some(End::Cancelled)) || progress.is_cancelled() {
        return Err(super::cancelled(kind));
    }
    let events: u64 = chunks.iter().map(|ch| ch.events).sum();
    if events == 0 && top.samples.is_none() {
        // An empty trace is a valid trace; say so rather than failing.
        cap.warnings.general("the trace holds no events");
    }
    build::build(bytes, &mut cap, chunks, &top, progress);
    if progress.is_cancelled() {
        return Err(super::cancelled(kind));
    }
    Ok(cap)
}

/// Reads the object form: every key in turn, the events array in parallel, the rest kept as
/// metadata entries (or, for `stackFrames` and `samples`, byte ranges read later).
fn read_object<'a>(
    bytes: &'a [u8],
    open: usize,
    progress: &Progress,
    shared: Option<&std::sync::Arc<Bytes>>,
    piece_bytes: Option<usize>,
    cap: &mut Capture,
) -> Result<(Vec<ChunkOut<'a>>, Top), ParseError> {
    let kind = FormatKind::ChromeTrace;
    let mut c = Cursor::new(bytes, open + 1);
    let mut chunks = Vec::new();
    let mut top = Top::default();
    let mut saw_events = false;
    loop {
        match c.skip_ws() {
            None => {
                cap.warnings.at_offset(c.pos as u64, "the trace object is not closed (file cut off)");
                break;
            }
            Some(b'}') => break,
            Some(b',') => {
                c.pos += 1;
                continue;
            }
            Some(b'"') => {}
            Some(_) => {
                cap.warnings.at_offset(c.pos as u64, "unreadable top-level content; the rest is ignored");
                break;
            }
        }
        let key_at = c.pos;
        let Ok(key) = c.string() else {
            cap.warnings.at_offset(key_at as u64, "the trace object is cut off inside a key");
            break;
        };
        if c.expect(b':').is_err() {
            cap.warnings.at_offset(c.pos as u64, "the trace object is cut off after a key");
            break;
        }
        let key_text = key.text().into_owned();
        if key.is("traceEvents") && c.kind().ok() == Some(Kind::Array) {
            saw_events = true;
            let (read, end) = read_array(bytes, c.pos, progress, shared, piece_bytes);
            chunks = read;
            match end {
                Some(next) => c.pos = next,
                None => break,
            }
            continue;
        }
        let value = c.skip_value();
        let Ok(range) = value else {
            cap.warnings.at_offset(key_at as u64, format!("the value of {key_text:?} is cut off; ignored"));
            break;
        };
        match key_text.as_str() {
            "stackFrames" => top.stack_frames = Some(range),
            "samples" => top.samples = Some(range),
            _ => cap.metadata.push(metadata_entry(bytes, key_text, range)),
        }
    }
    if !saw_events && top.samples.is_none() {
        return Err(ParseError::at_offset(kind, open as u64, "the trace object has no traceEvents array"));
    }
    Ok((chunks, top))
}

fn metadata_entry(bytes: &[u8], key: String, range: Range<usize>) -> MetadataEntry {
    let raw = bytes.get(range.clone()).unwrap_or_default();
    let text = (raw.len() <= MetadataEntry::TEXT_LIMIT).then(|| {
        let mut c = Cursor::new(bytes, range.start);
        match c.kind() {
            Ok(Kind::String) => c.string().map(|s| s.text().into_owned()).unwrap_or_default(),
            _ => String::from_utf8_lossy(raw).into_owned(),
        }
    });
    MetadataEntry { key, raw: range.start as u64..range.end as u64, text }
}

/// Smallest input worth splitting: below this, one thread reads faster than several start.
const PARALLEL_MIN_BYTES: usize = 4 << 20;

/// Reads the event array whose `[` is at `open`. Returns the chunks in order and the offset
/// just past the closing `]` (None if the input ended first).
fn read_array<'a>(
    bytes: &'a [u8],
    open: usize,
    progress: &Progress,
    shared: Option<&std::sync::Arc<Bytes>>,
    piece_bytes: Option<usize>,
) -> (Vec<ChunkOut<'a>>, Option<usize>) {
    let first = open + 1;
    let len = bytes.len().saturating_sub(first);
    let threads = rayon::current_num_threads().max(1);
    let starts: Vec<usize> = if piece_bytes.is_none() && (len < PARALLEL_MIN_BYTES || threads == 1) {
        vec![first]
    } else {
        // Several pieces per thread balance uneven pieces; pieces stay small enough that the
        // pages of finished ones can be handed back early.
        let size = piece_bytes.unwrap_or_else(|| (len / (threads * 4)).clamp(2 << 20, 32 << 20));
        let mut starts = vec![first];
        let mut at = first + size;
        while at < bytes.len() {
            match chunk::next_candidate(bytes, at) {
                Some(p) => {
                    starts.push(p);
                    at = p + size;
                }
                None => break,
            }
        }
        starts
    };
    let stops: Vec<usize> = starts.iter().skip(1).copied().chain(std::iter::once(usize::MAX)).collect();
    let read_piece = |i: usize, start: usize, stop: usize, mode: Mode| {
        if let Some(shared) = shared {
            shared.prefetch(start..stop.min(bytes.len()).saturating_add(64 << 10));
        }
        let out = chunk::read(bytes, start, stop, mode, progress);
        let end = out.next.min(bytes.len());
        progress.advance(end.saturating_sub(start) as u64);
        if let Some(shared) = shared {
            shared.release_pages(start..end);
        }
        let _ = i;
        out
    };
    let mut pieces: Vec<Option<ChunkOut<'a>>> = starts
        .par_iter()
        .zip(stops.par_iter())
        .enumerate()
        .map(|(i, (&start, &stop))| {
            let mode = if i == 0 { Mode::Lenient } else { Mode::Speculative };
            Some(read_piece(i, start, stop, mode))
        })
        .collect();
    // Check the guesses in order; re-read a piece that began at a wrong place.
    let mut out = Vec::with_capacity(pieces.len());
    let mut expected = first;
    let mut end = None;
    for (i, (&start, &stop)) in starts.iter().zip(&stops).enumerate() {
        let piece = pieces.get_mut(i).and_then(Option::take);
        let piece = match piece {
            Some(p) if start == expected && p.end != Some(End::Failed) => p,
            _ if expected < stop => read_piece(i, expected, stop, Mode::Lenient),
            // The piece before ran past this one's whole range: nothing starts here.
            _ => continue,
        };
        let done = piece.end;
        expected = piece.next;
        out.push(piece);
        match done {
            Some(End::Stop) => {}
            Some(End::Closed) => {
                end = Some(expected);
                break;
            }
            _ => break,
        }
    }
    (out, end)
}

/// An event's fields, read again from the input when a view selects it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventDetails {
    /// Phase letter.
    pub phase: String,
    /// Name.
    pub name: String,
    /// Categories.
    pub category: String,
    /// Timestamp.
    pub ts_ns: Option<i64>,
    /// Duration (`X`).
    pub dur_ns: Option<i64>,
    /// Thread time and thread duration.
    pub tts_ns: Option<i64>,
    /// Thread duration.
    pub tdur_ns: Option<i64>,
    /// `args`, pretty-printed JSON.
    pub args: Option<String>,
    /// The whole event as written.
    pub raw: String,
}

/// Re-reads the input event behind `event` (from `Capture::interval_events` or a
/// `TaskDetail`), for a view's selection panel. `None` when the capture kept no input.
pub fn event_details(capture: &Capture, event: EventRef) -> Option<EventDetails> {
    let raw = capture.raw.as_deref()?;
    let bytes: &[u8] = raw;
    let mut c = Cursor::new(bytes, usize::try_from(event.offset()).ok()?);
    let ev = event::parse(&mut c).ok()?;
    let args = ev.args.clone().and_then(|r| bytes.get(r)).map(|a| {
        serde_json::from_slice::<serde_json::Value>(a)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| String::from_utf8_lossy(a).into_owned())
    });
    Some(EventDetails {
        phase: if ev.ph == 0 { String::new() } else { char::from(ev.ph).to_string() },
        name: ev.name.text().into_owned(),
        category: ev.cat.text().into_owned(),
        ts_ns: ev.ts_ns,
        dur_ns: ev.dur_ns,
        tts_ns: ev.tts_ns(),
        tdur_ns: ev.tdur_ns(),
        args,
        raw: String::from_utf8_lossy(bytes.get(ev.range.clone()).unwrap_or_default()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses() {
        assert_eq!(guess_json(br#"[{"ph":"X"}]"#, true), JsonGuess::Trace);
        assert_eq!(guess_json(br#"  [ {"name":"a","ph":"B""#, false), JsonGuess::Trace);
        assert_eq!(guess_json(br#"[{"name":"a","#, false), JsonGuess::NeedMore);
        assert_eq!(guess_json(br#"[{"name":"a"}]"#, true), JsonGuess::Other);
        assert_eq!(guess_json(b"[1,2]", true), JsonGuess::Other);
        assert_eq!(guess_json(b"[]", true), JsonGuess::Trace);
        assert_eq!(guess_json(br#"{"metadata":{"a":1},"traceEvents":["#, false), JsonGuess::Trace);
        assert_eq!(guess_json(br#"{"nodes":[{"id":1,"callFrame":{"#, false), JsonGuess::CpuProfile);
        assert_eq!(guess_json(br#"{"nodes":[{"id":1}],"x":2}"#, true), JsonGuess::Other);
        assert_eq!(guess_json(br#"{"scenario":"healthy","phases":[]}"#, true), JsonGuess::Other);
        assert_eq!(guess_json(br#"{"scenario":"heal"#, false), JsonGuess::NeedMore);
        assert_eq!(guess_json(b"goroutine 1 [running]:\n", false), JsonGuess::Other);
        assert_eq!(guess_json(b"\xEF\xBB\xBF[{\"ph\":\"M\"}]", true), JsonGuess::Trace);
        assert_eq!(guess_json(b"", true), JsonGuess::Other);
        assert_eq!(guess_json(b"", false), JsonGuess::NeedMore);
    }
}
