//! Synthetic Chrome traces of any size, for benchmarks, memory measurements and fuzzing seeds:
//! several processes with named threads running nested work (`X` events written when they
//! end, children before their parents, as Chromium's trace buffer does; some `B`/`E` pairs),
//! async operations (`b`/`e` with nested steps, a few never ended), flows, counters,
//! instants and metadata, with `args` on some events. Deterministic for a given seed.

use crate::rng::Rng;
use std::io::{self, Write};

/// What to generate.
#[derive(Clone, Debug)]
pub struct SynthConfig {
    /// Stop once at least this many bytes are written.
    pub target_bytes: u64,
    /// Processes.
    pub processes: u32,
    /// Threads per process.
    pub threads_per_process: u32,
    /// Seed of the pseudo-random choices.
    pub seed: u64,
    /// One event per line (as Chromium and Perfetto write) or none at all (as Node.js and
    /// viztracer write).
    pub newlines: bool,
    /// `{"traceEvents":[...]}` rather than a bare array.
    pub object_form: bool,
}

impl Default for SynthConfig {
    fn default() -> Self {
        Self {
            target_bytes: 16 << 20,
            processes: 4,
            threads_per_process: 16,
            seed: 0x5eed,
            newlines: true,
            object_form: true,
        }
    }
}

const SPAN_NAMES: &[&str] = &[
    "ThreadControllerImpl::RunTask",
    "MessageLoop::RunTask",
    "v8.run",
    "v8.compile",
    "V8.GCScavenger",
    "Layout",
    "UpdateLayoutTree",
    "Paint",
    "CompositeLayers",
    "ParseHTML",
    "EvaluateScript",
    "FunctionCall",
    "TimerFire",
    "ResourceDispatcher::OnReceivedResponse",
    "SimpleWatcher::OnHandleReady",
    "TaskQueueManager::ProcessTaskFromWorkQueue",
    "db.query",
    "http.request",
    "json.decode",
    "cache.lookup",
    "fs.read",
    "render_frame",
    "handle_request",
    "serialize_response",
];

const CATEGORIES: &[&str] =
    &["toplevel", "v8", "blink", "disabled-by-default-devtools.timeline", "net", "app"];

const ASYNC_NAMES: &[&str] = &["NavigationRequest", "ResourceLoad", "PROMISE", "FetchTask", "db.transaction"];

/// Counts what goes through.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct Writer<W> {
    out: Counting<W>,
    first: bool,
    newlines: bool,
}

impl<W: Write> Writer<W> {
    fn event(&mut self, body: std::fmt::Arguments<'_>) -> io::Result<()> {
        let sep = match (self.first, self.newlines) {
            (true, true) => "\n",
            (true, false) => "",
            (false, true) => ",\n",
            (false, false) => ",",
        };
        self.first = false;
        self.out.write_all(sep.as_bytes())?;
        self.out.write_fmt(body)
    }
}

/// Per-thread clock and state.
struct Thread {
    pid: u32,
    tid: u32,
    now_us: u64,
}

/// Writes a trace; returns the bytes written.
pub fn write_trace(w: impl Write, cfg: &SynthConfig) -> io::Result<u64> {
    let mut rng = Rng::new(cfg.seed);
    let mut wr = Writer { out: Counting { inner: w, written: 0 }, first: true, newlines: cfg.newlines };
    if cfg.object_form {
        wr.out.write_all(
            br#"{"displayTimeUnit":"ns","otherData":{"generator":"leakscope synth"},"traceEvents":["#,
        )?;
    } else {
        wr.out.write_all(b"[")?;
    }
    let mut threads: Vec<Thread> = Vec::new();
    for p in 0..cfg.processes.max(1) {
        let pid = 1000 + p * 100;
        wr.event(format_args!(
            r#"{{"ph":"M","pid":{pid},"tid":0,"name":"process_name","args":{{"name":"process-{p}"}}}}"#
        ))?;
        wr.event(format_args!(
            r#"{{"ph":"M","pid":{pid},"tid":0,"name":"process_sort_index","args":{{"sort_index":{p}}}}}"#
        ))?;
        for t in 0..cfg.threads_per_process.max(1) {
            let tid = pid + 1 + t;
            let name =
                if t == 0 { "CrRendererMain".to_owned() } else { format!("ThreadPoolForegroundWorker-{t}") };
            wr.event(format_args!(
                r#"{{"ph":"M","pid":{pid},"tid":{tid},"name":"thread_name","args":{{"name":"{name}"}}}}"#
            ))?;
            threads.push(Thread { pid, tid, now_us: 1_000_000 + rng.below(1000) });
        }
    }
    let mut next_async = 1u64;
    let mut open_async: Vec<(u32, u32, u64, &str, &str, u64)> = Vec::new();
    let mut next_flow = 1u64;
    let mut round = 0u64;
    while wr.out.written < cfg.target_bytes {
        round += 1;
        let k = rng.below(threads.len() as u64) as usize;
        let Some(th) = threads.get_mut(k) else { continue };
        th.now_us += rng.below(500);
        let (pid, tid) = (th.pid, th.tid);
        // One task: a tree of nested spans written children-first.
        let start = th.now_us;
        let root = SPAN_NAMES.get(rng.below(4) as usize).copied().unwrap_or("RunTask");
        let end = task(&mut wr, &mut rng, pid, tid, start, 0, root)?;
        th.now_us = end;
        if round.is_multiple_of(7) {
            let heap = 10_000_000 + rng.below(50_000_000);
            let rss = heap + rng.below(20_000_000);
            wr.event(format_args!(
                r#"{{"ph":"C","pid":{pid},"tid":{tid},"ts":{end},"name":"memory","cat":"app","args":{{"heap":{heap},"rss":{rss}}}}}"#
            ))?;
        }
        if round.is_multiple_of(5) {
            let id = next_async;
            next_async += 1;
            let name = rng.pick(ASYNC_NAMES);
            let cat = rng.pick(CATEGORIES);
            wr.event(format_args!(
                r#"{{"ph":"b","pid":{pid},"tid":{tid},"ts":{start},"cat":"{cat}","name":"{name}","id":"0x{id:x}","args":{{"url":"https://example.com/r/{id}"}}}}"#
            ))?;
            open_async.push((pid, tid, id, name, cat, start));
        }
        // Finish an older operation most of the time; a few never end.
        if open_async.len() > 32 || (!open_async.is_empty() && rng.below(4) > 0) {
            let i = rng.below(open_async.len() as u64) as usize;
            let (op_process, op_thread, id, name, cat, began) = open_async.swap_remove(i);
            // Threads keep their own clocks; an operation ends after it began.
            let end = end.max(began + 1);
            if rng.below(1000) > 2 {
                wr.event(format_args!(
                    r#"{{"ph":"n","pid":{op_process},"tid":{op_thread},"ts":{end},"cat":"{cat}","name":"step","id":"0x{id:x}"}}"#
                ))?;
                wr.event(format_args!(
                    r#"{{"ph":"e","pid":{op_process},"tid":{op_thread},"ts":{},"cat":"{cat}","name":"{name}","id":"0x{id:x}"}}"#,
                    end + 1
                ))?;
            }
        }
        if round.is_multiple_of(11) {
            let Some(to) = threads.get(rng.below(threads.len() as u64) as usize) else { continue };
            let id = next_flow;
            next_flow += 1;
            let (to_process, to_thread, to_ts) = (to.pid, to.tid, to.now_us.max(end) + 1);
            wr.event(format_args!(
                r#"{{"ph":"s","pid":{pid},"tid":{tid},"ts":{end},"cat":"toplevel","name":"PostTask","id":{id}}}"#
            ))?;
            wr.event(format_args!(
                r#"{{"ph":"f","bp":"e","pid":{to_process},"tid":{to_thread},"ts":{to_ts},"cat":"toplevel","name":"PostTask","id":{id}}}"#
            ))?;
        }
        if round.is_multiple_of(13) {
            wr.event(format_args!(
                r#"{{"ph":"i","s":"t","pid":{pid},"tid":{tid},"ts":{end},"cat":"blink","name":"MarkDOMContent"}}"#
            ))?;
        }
    }
    let newline = if cfg.newlines { "\n" } else { "" };
    if cfg.object_form {
        write!(wr.out, "{newline}]}}{newline}")?;
    } else {
        write!(wr.out, "{newline}]{newline}")?;
    }
    wr.out.flush()?;
    Ok(wr.out.written)
}

/// Writes one span starting at `start` with random children; returns its end. A span's
/// children are drawn from a few names that depend on its own name, the way code calls the
/// same few functions: a thread ends up with hundreds of distinct stacks, not millions.
fn task<W: Write>(
    wr: &mut Writer<W>,
    rng: &mut Rng,
    pid: u32,
    tid: u32,
    start: u64,
    depth: u32,
    name: &str,
) -> io::Result<u64> {
    let cat = rng.pick(CATEGORIES);
    let as_pair = rng.below(8) == 0;
    if as_pair {
        wr.event(format_args!(
            r#"{{"ph":"B","pid":{pid},"tid":{tid},"ts":{start},"cat":"{cat}","name":"{name}"}}"#
        ))?;
    }
    let mut t = start + 1 + rng.below(20);
    let children = if depth >= 5 { 0 } else { rng.below(4 - u64::from(depth.min(3))) };
    let family = name.len() as u64 * 7 + u64::from(depth);
    for _ in 0..children {
        let child = SPAN_NAMES
            .get(((family + rng.below(3)) % SPAN_NAMES.len() as u64) as usize)
            .copied()
            .unwrap_or("child");
        t = task(wr, rng, pid, tid, t, depth + 1, child)? + rng.below(10);
    }
    let end = t + rng.below(50);
    if as_pair {
        wr.event(format_args!(
            r#"{{"ph":"E","pid":{pid},"tid":{tid},"ts":{end},"cat":"{cat}","name":"{name}"}}"#
        ))?;
    } else {
        // Fractional microseconds and thread times, as Chromium writes them; the end stays
        // on the whole microsecond so that children end inside their parents.
        let frac = rng.below(1000);
        let dur_ns = (end - start) * 1000 - frac;
        let dur = format!("{}.{:03}", dur_ns / 1000, dur_ns % 1000);
        let tts = start / 2;
        if rng.below(3) == 0 {
            let line = rng.below(2000);
            wr.event(format_args!(
                r#"{{"pid":{pid},"tid":{tid},"ts":{start}.{frac:03},"ph":"X","cat":"{cat}","name":"{name}","dur":{dur},"tts":{tts},"tdur":{dur},"args":{{"src_file":"../../base/task/sequence_manager.cc","src_func":"RunTask","line":{line}}}}}"#
            ))?;
        } else {
            wr.event(format_args!(
                r#"{{"pid":{pid},"tid":{tid},"ts":{start}.{frac:03},"ph":"X","cat":"{cat}","name":"{name}","dur":{dur},"tts":{tts},"tdur":{dur},"args":{{}}}}"#
            ))?;
        }
    }
    Ok(end)
}

/// A trace of about `target_bytes` in memory.
pub fn trace_bytes(cfg: &SynthConfig) -> Vec<u8> {
    let mut out = Vec::with_capacity(usize::try_from(cfg.target_bytes).unwrap_or(0) + 4096);
    // Writing to a Vec cannot fail.
    let _ = write_trace(&mut out, cfg);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakscope_core::Progress;
    use leakscope_core::formats::chrome_trace::parse_bytes;
    use leakscope_core::model::TaskKind;

    #[test]
    fn generated_traces_parse_whole() {
        for newlines in [true, false] {
            for object_form in [true, false] {
                let cfg =
                    SynthConfig { target_bytes: 200_000, newlines, object_form, ..SynthConfig::default() };
                let bytes = trace_bytes(&cfg);
                let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                let events = if object_form { &json["traceEvents"] } else { &json };
                let n = events.as_array().unwrap().len() as u64;
                let cap = parse_bytes(&bytes, "synth", &Progress::new()).unwrap();
                assert_eq!(cap.chrome().event_stats.events, n);
                assert_eq!(cap.chrome().event_stats.skipped, 0);
                assert_eq!(cap.count_of_kind(TaskKind::Thread), 64);
                assert!(cap.count_of_kind(TaskKind::AsyncTask) > 0);
                assert!(!cap.counters.is_empty());
                assert!(!cap.links.is_empty());
                assert!(cap.warnings.is_empty(), "{:?}", cap.warnings.lines());
            }
        }
    }
}

/// A real trace made about `target` bytes long, as if its program had been traced for longer:
/// its timed events again and again, each copy after the one before in time (the thread names
/// and other metadata once), written as the trace was (key order, spacing, numbers). For
/// measuring a parser at the sizes users open when only a smaller capture of the kind is at
/// hand (the issue's 43 MB viztracer trace, from the 5 MB one in ../shared/realdata). `None`
/// when `trace` is not a JSON object whose `traceEvents` array holds objects.
pub fn lengthen(trace: &[u8], target: usize) -> Option<Vec<u8>> {
    let key = b"\"traceEvents\"";
    let at = trace.windows(key.len()).position(|w| w == key)?;
    let open = at + trace.get(at..)?.iter().position(|&b| b == b'[')?;
    let (events, close) = elements(trace, open)?;
    let ts = |e: &[u8]| number_after(e, b"\"ts\":");
    let dur = |e: &[u8]| number_after(e, b"\"dur\":").map_or(0.0, |(_, d)| d);
    let timed: Vec<(&[u8], std::ops::Range<usize>, f64)> =
        events.iter().filter_map(|e| ts(e).map(|(r, t)| (*e, r, t))).collect();
    let first = timed.iter().map(|t| t.2).fold(f64::INFINITY, f64::min);
    let last = timed.iter().map(|(e, _, t)| t + dur(e)).fold(f64::NEG_INFINITY, f64::max);
    if !first.is_finite() || !last.is_finite() {
        return None;
    }
    let span = (last - first).max(0.0) + 1.0;
    // The rest of the document (viztracer's source files, say) is written once.
    let (events_len, rest) = (close - open, trace.len() - (close - open));
    let copies = ((target.saturating_sub(rest) + events_len / 2) / events_len.max(1)).max(1);
    let separator = if trace.get(open..close)?.windows(2).any(|w| w == b", ") { &b", "[..] } else { b"," };
    let mut out = Vec::with_capacity(trace.len() * copies + 4096);
    out.extend_from_slice(trace.get(..=open)?);
    let mut first_out = true;
    let mut put = |out: &mut Vec<u8>, parts: &[&[u8]]| {
        if !std::mem::take(&mut first_out) {
            out.extend_from_slice(separator);
        }
        for part in parts {
            out.extend_from_slice(part);
        }
    };
    for e in events.iter().filter(|e| ts(e).is_none()) {
        put(&mut out, &[e]);
    }
    for k in 0..copies {
        for (e, range, t) in &timed {
            let shifted = format!("{}", t + span * k as f64);
            let shifted = if k == 0 { e.get(range.clone())?.to_vec() } else { shifted.into_bytes() };
            put(&mut out, &[e.get(..range.start)?, &shifted, e.get(range.end..)?]);
        }
    }
    out.extend_from_slice(trace.get(close..)?);
    Some(out)
}

/// The number after the first `key` (a quoted key and its colon) in `event`: where it is
/// written, and its value.
fn number_after(event: &[u8], key: &[u8]) -> Option<(std::ops::Range<usize>, f64)> {
    let k = event.windows(key.len()).position(|w| w == key)? + key.len();
    let from = k + event.get(k..)?.iter().position(|b| !b.is_ascii_whitespace())?;
    let len = event
        .get(from..)?
        .iter()
        .position(|b| !matches!(b, b'0'..=b'9' | b'.' | b'-' | b'e' | b'E' | b'+'))?;
    let value = std::str::from_utf8(event.get(from..from + len)?).ok()?.parse().ok()?;
    Some((from..from + len, value))
}

/// The elements of the JSON array whose `[` is at `open`, as written, and the offset of its
/// `]`: a scanner that knows strings and nesting, which is all splitting an array needs.
fn elements(bytes: &[u8], open: usize) -> Option<(Vec<&[u8]>, usize)> {
    let mut out = Vec::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut start = None;
    for (i, &b) in bytes.iter().enumerate().skip(open + 1) {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                if depth == 0 {
                    start = Some(i);
                }
                depth += 1;
            }
            b'}' | b']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    out.push(bytes.get(start.take()?..=i)?);
                }
            }
            b']' => return Some((out, i)),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod lengthen_tests {
    use super::lengthen;

    #[test]
    fn lengthen_repeats_the_timed_events_later_and_the_metadata_once() {
        let trace = br#"{"traceEvents":[{"ph":"M","pid":1,"tid":2,"name":"thread_name","args":{"name":"w"}},
            {"ph":"X","pid":1,"tid":2,"name":"a","ts":10,"dur":5},{"ph":"X","pid":1,"tid":2,"name":"b","ts":20,"dur":10}],
            "meta":{"kept":true}}"#;
        // Three times the events' bytes, and the rest of the document once.
        let open = trace.iter().position(|&b| b == b'[').unwrap();
        let close = trace.iter().rposition(|&b| b == b']').unwrap();
        let long = lengthen(trace, trace.len() + 2 * (close - open)).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&long).unwrap();
        let events = doc["traceEvents"].as_array().unwrap();
        assert_eq!(events.iter().filter(|e| e["ph"] == "M").count(), 1);
        let ts: Vec<f64> = events.iter().filter_map(|e| e["ts"].as_f64()).collect();
        // Three copies of a span of 21 µs (10 to 30, plus one), each after the one before.
        assert_eq!(ts, vec![10.0, 20.0, 31.0, 41.0, 52.0, 62.0]);
        assert_eq!(doc["meta"]["kept"], true);
        // Written as it was: key order, numbers, the rest of the object.
        let text = String::from_utf8_lossy(&long);
        assert!(text.contains(r#"{"ph":"X","pid":1,"tid":2,"name":"a","ts":31,"dur":5}"#), "{text}");
        assert!(text.contains(r#"{"ph":"X","pid":1,"tid":2,"name":"b","ts":20,"dur":10}"#), "{text}");
        assert!(lengthen(b"[]", 100).is_none());
    }
}
