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

use std::ops::Range;

use rayon::prelude::*;

use self::chunk::{ChunkOut, End, Mode};
pub use self::event::NS_PER_US;
use self::json::{Cursor, Kind};
use self::samples::Top;
use super::{Format, Input, Sniff};
use crate::error::ParseError;
use crate::input::{Bytes, Progress};
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
        capture.chrome_mut().raw = Some(input.shared.clone());
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
                cap.source.truncated = true;
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
            cap.source.truncated = true;
            break;
        };
        if c.expect(b':').is_err() {
            cap.warnings.at_offset(c.pos as u64, "the trace object is cut off after a key");
            cap.source.truncated = true;
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
            cap.source.truncated = true;
            break;
        };
        match key_text.as_str() {
            "stackFrames" => top.stack_frames = Some(range),
            "samples" => top.samples = Some(range),
            _ => {
                cap.chrome_mut().metadata.push(metadata_entry(bytes, key_text, range.clone()));
                // Read again only if a view shows it (viztracer's sources: a quarter of its file).
                if let Some(shared) = shared {
                    shared.release_pages(range);
                }
            }
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
        let out = chunk::read(bytes, (start, stop), mode, progress, shared.map(|s| &**s));
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
    let raw = capture.chrome().raw.as_deref()?;
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
    fn selected_events_are_read_again_from_the_input() {
        let text = br#"{"traceEvents":[{"ph":"X","pid":1,"tid":1,"ts":1.5,"dur":2,"tts":7,"cat":"c","name":"a","args":{"url":"x","n":[1,2]}},
            {"ph":"b","pid":1,"tid":1,"ts":2,"cat":"net","name":"req","id":"0x1","args":{"u":1}}]}"#;
        let caps = crate::load::open_bytes(
            "t.json",
            Bytes::Owned(text.to_vec()),
            &crate::load::LoadOptions::default(),
            &Progress::new(),
        )
        .unwrap();
        let cap = &caps[0];
        let span = event_details(cap, cap.chrome().interval_events[0]).unwrap();
        assert_eq!((span.phase.as_str(), span.name.as_str(), span.category.as_str()), ("X", "a", "c"));
        assert_eq!((span.ts_ns, span.dur_ns, span.tts_ns), (Some(1_500), Some(2_000), Some(7_000)));
        let args: serde_json::Value = serde_json::from_str(span.args.as_deref().unwrap()).unwrap();
        assert_eq!(args, serde_json::json!({"url": "x", "n": [1, 2]}));
        let op = cap.tasks.iter().position(|t| t.kind == crate::model::TaskKind::AsyncTask).unwrap();
        let begin = event_details(cap, cap.chrome().task_details[op].begin_event).unwrap();
        assert_eq!((begin.phase.as_str(), begin.category.as_str()), ("b", "net"));
        assert!(begin.raw.starts_with('{') && begin.raw.ends_with('}'));
        // A capture parsed from borrowed bytes kept no input.
        let borrowed = parse_bytes(text, "t", &Progress::new()).unwrap();
        assert_eq!(event_details(&borrowed, borrowed.chrome().interval_events[0]), None);
    }

    /// Every phase the format has, in one trace.
    const ALL_PHASES: &str = r#"{"displayTimeUnit":"ns","otherData":{"version":"x"},
      "stackFrames":{"1":{"name":"main","category":"app"},"2":{"name":"work","parent":"1"}},
      "samples":[{"cpu":0,"tid":2,"ts":9,"name":"cycles","sf":"2","weight":3}],
      "traceEvents":[
      {"ph":"M","pid":1,"name":"process_name","args":{"name":"browser"}},
      {"ph":"M","pid":1,"name":"process_sort_index","args":{"sort_index":-1}},
      {"ph":"M","pid":1,"tid":2,"name":"thread_name","args":{"name":"main"}},
      {"ph":"M","pid":1,"tid":2,"name":"thread_sort_index","args":{"sort_index":3}},
      {"ph":"X","pid":1,"tid":2,"ts":1,"dur":10,"name":"outer"},
      {"ph":"B","pid":1,"tid":2,"ts":2,"name":"inner"},
      {"ph":"E","pid":1,"tid":2,"ts":4},
      {"ph":"E","pid":1,"tid":2,"ts":20},
      {"ph":"B","pid":1,"tid":3,"ts":5,"name":"stuck"},
      {"ph":"X","pid":1,"tid":3,"ts":6,"dur":1,"name":"after"},
      {"ph":"i","s":"t","pid":1,"tid":2,"ts":3,"name":"mark"},
      {"ph":"b","pid":1,"tid":2,"ts":2,"cat":"net","name":"req","id2":{"local":"0x1"}},
      {"ph":"b","pid":1,"tid":2,"ts":3,"cat":"net","name":"dns","id2":{"local":"0x1"}},
      {"ph":"n","pid":1,"tid":2,"ts":3.5,"cat":"net","name":"step","id2":{"local":"0x1"}},
      {"ph":"e","pid":1,"tid":2,"ts":4,"cat":"net","name":"dns","id2":{"local":"0x1"}},
      {"ph":"e","pid":1,"tid":2,"ts":8,"cat":"net","name":"req","id2":{"local":"0x1"}},
      {"ph":"b","pid":1,"tid":2,"ts":9,"cat":"net","name":"req","id2":{"local":"0x2"}},
      {"ph":"S","pid":1,"tid":2,"ts":2,"cat":"old","name":"load","id":7},
      {"ph":"T","pid":1,"tid":2,"ts":3,"cat":"old","name":"load","id":7,"args":{"step":"a"}},
      {"ph":"F","pid":1,"tid":2,"ts":6,"cat":"old","name":"load","id":7},
      {"ph":"N","pid":1,"tid":2,"ts":1,"name":"Layer","id":"0x9"},
      {"ph":"O","pid":1,"tid":2,"ts":2,"name":"Layer","id":"0x9","args":{"snapshot":{}}},
      {"ph":"N","pid":1,"tid":2,"ts":1,"name":"Layer","id":"0xa"},
      {"ph":"D","pid":1,"tid":2,"ts":5,"name":"Layer","id":"0xa"},
      {"ph":"s","pid":1,"tid":2,"ts":2,"cat":"f","name":"post","id":3},
      {"ph":"f","pid":1,"tid":3,"ts":5.5,"cat":"f","name":"post","id":3},
      {"ph":"X","pid":1,"tid":2,"ts":12,"dur":1,"name":"send","bind_id":"0x5","flow_out":true},
      {"ph":"X","pid":1,"tid":3,"ts":14,"dur":1,"name":"recv","bind_id":"0x5","flow_in":true},
      {"ph":"C","pid":1,"ts":1,"name":"mem","args":{"heap":10,"rss":"20"}},
      {"ph":"C","pid":1,"ts":2,"name":"mem","args":{"heap":11,"rss":21}},
      {"ph":"C","pid":1,"ts":2,"name":"fps","id":4,"args":{"value":60}},
      {"ph":"P","pid":1,"tid":2,"ts":7,"name":"sample","sf":"2"},
      {"ph":"P","pid":1,"tid":2,"ts":8,"name":"sample","stack":["main","work","leaf"]},
      {"ph":"P","pid":1,"tid":2,"ts":0,"name":"Profile","id":"0x1","args":{"data":{"startTime":1}}},
      {"ph":"P","pid":1,"tid":2,"ts":5,"name":"ProfileChunk","id":"0x1","args":{"data":{"cpuProfile":{"nodes":[{"id":1,"callFrame":{"functionName":"(root)","url":""}},{"id":2,"parent":1,"callFrame":{"functionName":"js","url":"a.js","lineNumber":4}}],"samples":[2,2]},"timeDeltas":[10,20]}}},
      {"ph":"c","pid":1,"ts":1,"name":"clock_sync"},
      {"ph":"?","pid":1,"ts":1,"name":"odd"}
    ]}"#;

    #[test]
    fn every_phase_lands_in_the_model() {
        use crate::model::{AsyncKind, LinkKind, TaskFlags, TaskKind};
        let cap = parse_bytes(ALL_PHASES.as_bytes(), "t", &Progress::new()).unwrap();
        let lines = cap.warnings.lines();
        assert!(lines.iter().any(|l| l.contains("1 events of unknown phase ?")), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("1 spans begun (B) and never ended")), "{lines:?}");
        assert_eq!(cap.chrome().event_stats.kind("c"), 1);
        assert_eq!(
            cap.chrome().metadata.iter().map(|m| m.key.as_str()).collect::<Vec<_>>(),
            ["displayTimeUnit", "otherData"]
        );
        assert_eq!(cap.chrome().metadata[0].text.as_deref(), Some("ns"));
        // Threads: names, sort index, process.
        assert_eq!(cap.chrome().processes.len(), 1);
        assert_eq!(
            (cap.str(cap.chrome().processes[0].name), cap.chrome().processes[0].sort_index),
            ("browser", Some(-1))
        );
        let main = cap.tasks.iter().position(|t| cap.str(t.name) == "main").unwrap();
        assert_eq!(cap.chrome().task_details[main].sort_index, Some(3));
        let spans: Vec<(&str, i64, i64, u16)> = cap
            .tasks
            .at(main)
            .intervals
            .indices()
            .map(|i| {
                (
                    cap.str(cap.intervals.label(i)),
                    cap.intervals.start(i),
                    cap.intervals.end(i),
                    cap.intervals.depth(i),
                )
            })
            .collect();
        assert_eq!(
            spans,
            [("outer", 1_000, 11_000, 0), ("send", 12_000, 13_000, 0), ("inner", 2_000, 4_000, 1)]
        );
        assert_eq!(
            cap.stack_funcs(cap.intervals.stack(cap.tasks.at(main).intervals.start as usize + 2))
                .collect::<Vec<_>>(),
            ["inner", "outer"]
        );
        assert!(lines.iter().any(|l| l.contains("1 span ends (E) without a begin")), "{lines:?}");
        let stuck = cap.tasks.iter().position(|t| t.flags.contains(TaskFlags::OPEN_SPAN)).unwrap();
        assert_eq!(cap.chrome().open_spans.len(), 1);
        assert_eq!(cap.intervals.end(cap.chrome().open_spans[0] as usize), cap.time_range_ns.unwrap().1);
        assert_eq!(cap.str(cap.intervals.label(cap.chrome().open_spans[0] as usize)), "stuck");
        assert_ne!(stuck, main);
        assert_eq!(cap.chrome().marks.iter().filter(|m| m.task == main as u32).count(), 1);
        // Async: nestable with a nested step and an instant, one never ended; legacy; objects.
        let ops: Vec<(&str, Option<AsyncKind>, bool)> = cap
            .tasks
            .iter()
            .enumerate()
            .filter(|(_, t)| t.kind == TaskKind::AsyncTask)
            .map(|(i, t)| {
                (
                    cap.str(t.name),
                    cap.chrome().task_details[i].async_kind,
                    t.flags.contains(TaskFlags::NEVER_ENDED),
                )
            })
            .collect();
        assert_eq!(
            ops,
            [
                ("Layer", Some(AsyncKind::Object), true),
                ("Layer", Some(AsyncKind::Object), false),
                ("req", Some(AsyncKind::Nestable), false),
                ("load", Some(AsyncKind::Legacy), false),
                ("req", Some(AsyncKind::Nestable), true),
            ]
        );
        let req = cap.tasks.iter().position(|t| cap.str(t.name) == "req").unwrap();
        let nested: Vec<(&str, u16)> = cap
            .tasks
            .at(req)
            .intervals
            .indices()
            .map(|i| (cap.str(cap.intervals.label(i)), cap.intervals.depth(i)))
            .collect();
        assert_eq!(nested, [("req", 0), ("dns", 1)]);
        assert_eq!(cap.str(cap.chrome().task_details[req].category), "net");
        // Created inside `outer` on the main thread.
        assert_eq!(cap.stack_funcs(cap.tasks.at(req).stack).collect::<Vec<_>>(), ["inner", "outer"]);
        assert_eq!(cap.chrome().marks.iter().filter(|m| m.task == req as u32).count(), 1);
        // Flows: v1 binds to the next slice on the target thread, v2 links send to recv.
        let flows: Vec<(i64, i64)> =
            cap.links.iter().filter(|l| l.kind == LinkKind::Flow).map(|l| (l.from_ns, l.to_ns)).collect();
        assert_eq!(flows, [(2_000, 6_000), (12_000, 14_000)]);
        // Counters: two series of one counter, one with an id.
        let counters: Vec<(&str, Vec<f64>)> =
            cap.counters.iter().map(|c| (cap.str(c.name), c.points().map(|p| p.1).collect())).collect();
        assert_eq!(
            counters,
            [("mem.heap", vec![10.0, 11.0]), ("mem.rss", vec![20.0, 21.0]), ("fps[4]", vec![60.0])]
        );
        // Samples: stackFrames, an inline stack, the samples array, a V8 profile chunk.
        let samples: Vec<Vec<&str>> =
            cap.samples.stack.iter().map(|&s| cap.stack_funcs(s).collect()).collect();
        assert_eq!(
            samples,
            [
                vec!["work", "main"],
                vec!["leaf", "work", "main"],
                vec!["work", "main"],
                vec!["js"],
                vec!["js"]
            ]
        );
        assert_eq!(cap.samples.time_ns, [7_000, 8_000, 9_000, 11_000, 31_000]);
        assert_eq!(cap.samples.value(2, 0), 3);
    }

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
