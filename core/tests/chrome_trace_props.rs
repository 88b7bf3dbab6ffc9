//! Property tests of the Chrome trace and CPU profile parsers: no input panics, a truncated
//! trace keeps exactly its complete events, and reading in guessed parallel pieces gives the
//! same capture as one sequential read.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers fail loudly

use leakscope_core::Progress;
use leakscope_core::analysis::{async_facts, spans};
use leakscope_core::formats::{chrome_trace, cpuprofile};
use leakscope_core::model::Capture;
use proptest::prelude::*;

/// One event, written as JSON by `text`.
#[derive(Clone, Debug)]
struct Ev {
    ph: char,
    pid: u8,
    tid: u8,
    ts: u32,
    dur: u16,
    name: &'static str,
    id: u8,
    frac: bool,
}

/// Names (JSON string contents) that stress the boundary guesser: strings ending in `},{` so
/// that `},{"` appears across the closing quote, escaped quotes, escapes.
const NAMES: &[&str] = &["a", "RunTask", "x},{", r#"q\"},{\"ph\":\"X"#, r"back\\slash", "\\n\\u00e9", "[{"];

impl Ev {
    fn text(&self) -> String {
        let ts = if self.frac { format!("{}.{:03}", self.ts, self.dur % 1000) } else { self.ts.to_string() };
        match self.ph {
            'M' => format!(
                r#"{{"ph":"M","pid":{},"tid":{},"name":"thread_name","args":{{"name":"{}"}}}}"#,
                self.pid, self.tid, self.name
            ),
            'C' => format!(
                r#"{{"ph":"C","pid":{},"ts":{ts},"name":"{}","args":{{"v":{}}}}}"#,
                self.pid, self.name, self.dur
            ),
            'b' | 'e' | 'n' => format!(
                r#"{{"ph":"{}","pid":{},"tid":{},"ts":{ts},"cat":"c","name":"{}","id":"0x{:x}"}}"#,
                self.ph, self.pid, self.tid, self.name, self.id
            ),
            's' | 'f' => format!(
                r#"{{"ph":"{}","pid":{},"tid":{},"ts":{ts},"cat":"c","name":"f","id":{}}}"#,
                self.ph, self.pid, self.tid, self.id
            ),
            _ => format!(
                r#"{{"pid":{},"tid":{},"ts":{ts},"ph":"{}","name":"{}","dur":{},"args":{{"k":[1,{{"n":"{}"}}]}}}}"#,
                self.pid, self.tid, self.ph, self.name, self.dur, self.name
            ),
        }
    }
}

fn event() -> impl Strategy<Value = Ev> {
    (
        prop::sample::select(vec!['X', 'X', 'X', 'B', 'E', 'i', 'b', 'e', 'n', 'C', 'M', 's', 'f']),
        1u8..3,
        1u8..4,
        0u32..5000,
        0u16..3000,
        prop::sample::select(NAMES.to_vec()),
        0u8..6,
        any::<bool>(),
    )
        .prop_map(|(ph, pid, tid, ts, dur, name, id, frac)| Ev { ph, pid, tid, ts, dur, name, id, frac })
}

/// A trace and the offsets where each event ends.
fn document(events: &[Ev], object_form: bool, newlines: bool) -> (String, Vec<usize>) {
    let mut text = String::from(if object_form { r#"{"otherData":{"a":"]}"},"traceEvents":["# } else { "[" });
    let mut ends = Vec::new();
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        if newlines {
            text.push('\n');
        }
        text.push_str(&e.text());
        ends.push(text.len());
    }
    text.push_str(if object_form { "]}" } else { "]" });
    (text, ends)
}

fn same(a: &Capture, b: &Capture) {
    assert_eq!(a.chrome().event_stats, b.chrome().event_stats);
    assert_eq!(a.tasks, b.tasks);
    assert!(a.intervals == b.intervals);
    assert_eq!(a.chrome().interval_events, b.chrome().interval_events);
    assert_eq!(a.links, b.links);
    assert_eq!(a.counters.len(), b.counters.len());
    assert_eq!(a.warnings.lines(), b.warnings.lines());
}

/// The model's invariants, and the Chrome reader's promise of one event per interval and one
/// detail per task (which the model allows to be empty for other formats).
fn check_invariants(c: &Capture) {
    if let Err(e) = c.validate() {
        panic!("{e}");
    }
    assert_eq!(c.chrome().interval_events.len(), c.intervals.len());
    assert_eq!(c.chrome().task_details.len(), c.tasks.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let p = Progress::new();
        let _ = chrome_trace::parse_bytes(&bytes, "p", &p);
        let _ = chrome_trace::parse_bytes_in_pieces(&bytes, "p", &p, 7);
        let _ = cpuprofile::parse_bytes(&bytes, "p", &p);
    }

    #[test]
    fn json_like_text_never_panics(text in r#"[\[{]{0,2}("ph"|"ts"|"id"|"args"|"nodes"|"callFrame"|"traceEvents"|[\[\]{}",:0-9a-zA-Z .\\-]){0,120}"#) {
        let p = Progress::new();
        if let Ok(c) = chrome_trace::parse_bytes(text.as_bytes(), "p", &p) {
            check_invariants(&c);
            let _ = async_facts::async_facts(&c);
            let _ = spans::span_self_time_stacks(&c);
        }
        let _ = chrome_trace::parse_bytes_in_pieces(text.as_bytes(), "p", &p, 3);
        let _ = cpuprofile::parse_bytes(text.as_bytes(), "p", &p);
    }

    #[test]
    fn truncation_keeps_exactly_the_complete_events(
        events in prop::collection::vec(event(), 1..40),
        object_form in any::<bool>(),
        newlines in any::<bool>(),
        cut in 0.0f64..1.0,
    ) {
        let (text, ends) = document(&events, object_form, newlines);
        let n = ((text.len() as f64) * cut) as usize;
        let prefix = &text.as_bytes()[..n];
        let complete = ends.iter().filter(|&&e| e <= n).count() as u64;
        match chrome_trace::parse_bytes(prefix, "p", &Progress::new()) {
            Ok(c) => {
                prop_assert_eq!(c.chrome().event_stats.events, complete);
                check_invariants(&c);
                let _ = async_facts::async_facts(&c);
            }
            // Only a prefix that never reaches the event array may fail.
            Err(_) => prop_assert!(!prefix.contains(&b'[') || (object_form && !text[..n].contains("traceEvents\":[")), "{}", &text[..n]),
        }
    }

    #[test]
    fn pieces_agree_with_one_read(
        events in prop::collection::vec(event(), 1..60),
        object_form in any::<bool>(),
        newlines in any::<bool>(),
        piece in 1usize..300,
    ) {
        let (text, _) = document(&events, object_form, newlines);
        let p = Progress::new();
        let whole = chrome_trace::parse_bytes(text.as_bytes(), "p", &p).unwrap();
        let split = chrome_trace::parse_bytes_in_pieces(text.as_bytes(), "p", &p, piece).unwrap();
        prop_assert_eq!(whole.chrome().event_stats.events, events.len() as u64);
        same(&whole, &split);
        check_invariants(&whole);
    }
}
