//! A first picture of a large Go execution trace: its first whole generations, read as a trace
//! of their own and marked as a part, before the whole is read; and its findings held back.

// Test helpers outside #[test] fns are not covered by clippy.toml's test allowances.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};

use leakscope_core::analysis::leaks::{self, Config, Severity};
use leakscope_core::{Bytes, Capture, LoadOptions, Preview, Progress, open_bytes};

fn sample(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-traces").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Loads `bytes`, asking for a first picture of inputs from `min_bytes`; returns the picture
/// (if one came) and the whole.
fn load(name: &str, bytes: Vec<u8>, min_bytes: u64) -> (Option<Capture>, Capture) {
    let got: Arc<Mutex<Vec<Capture>>> = Arc::default();
    let sink = Arc::clone(&got);
    let options = LoadOptions {
        preview: Some(Preview { min_bytes, sink: Arc::new(move |c| sink.lock().unwrap().push(c)) }),
        ..LoadOptions::default()
    };
    let mut whole = open_bytes(name, Bytes::Owned(bytes), &options, &Progress::new()).expect("parses");
    let mut pictures = std::mem::take(&mut *got.lock().unwrap());
    assert!(pictures.len() <= 1, "one first picture at most, got {}", pictures.len());
    assert_eq!(whole.len(), 1);
    (pictures.pop(), whole.remove(0))
}

#[test]
fn the_first_picture_is_the_first_generations_of_the_whole() {
    // Three generations of a flight recording.
    let bytes = sample("go-flight.1.trace");
    let len = bytes.len() as u64;
    let (picture, whole) = load("flight.trace", bytes, 0);
    let picture = picture.expect("a trace of three generations gives a first picture");

    assert_eq!(picture.source.path, "flight.trace");
    assert_eq!(picture.source.format, whole.source.format);
    assert_eq!(picture.source.bytes, len);
    let read = picture.source.preview_bytes.expect("marked as a part");
    assert!(read > 0 && read <= len / 2, "{read} of {len}");
    assert!(picture.source.truncated, "a part is judged as a cut trace");
    assert!(
        picture
            .warnings
            .list()
            .iter()
            .any(|w| w.message.starts_with("first picture: only the first 1 generation"))
    );
    assert_eq!(picture.trace.as_ref().map(|t| t.generations), Some(1));
    assert_eq!(whole.trace.as_ref().map(|t| t.generations), Some(3));
    assert_eq!((whole.source.preview_bytes, whole.source.truncated), (None, false));

    // The same start; the picture ends before the whole does, with fewer states.
    let (p, w) = (picture.time_range_ns.unwrap(), whole.time_range_ns.unwrap());
    assert_eq!(p.0, w.0);
    assert!(p.1 < w.1, "{p:?} within {w:?}");
    assert!(picture.intervals.len() < whole.intervals.len());
    // Every goroutine of the picture is one of the whole's, created by the same parent.
    let whole_tasks: HashSet<(u64, Option<u64>)> =
        whole.tasks.iter().map(|t| (t.id, t.parent_id.get())).collect();
    assert!(!picture.tasks.is_empty());
    for t in &picture.tasks {
        assert!(
            whole_tasks.contains(&(t.id, t.parent_id.get())),
            "task {} (parent {:?})",
            t.id,
            t.parent_id.get()
        );
    }
}

#[test]
fn no_first_picture_when_it_would_not_come_sooner() {
    // Below the size asked for.
    let bytes = sample("go-flight.1.trace");
    let len = bytes.len() as u64;
    assert!(load("t", bytes, len + 1).0.is_none());
    // One generation: the picture would be the whole.
    assert!(load("t", sample("go-leaky.trace"), 0).0.is_none());
    // A dump is read whole at once.
    assert!(load("d", sample("ctx-done-leak.after.debug2.txt"), 0).0.is_none());
}

#[test]
fn no_first_picture_unless_asked() {
    let bytes = sample("go-flight.1.trace");
    let whole = open_bytes("t", Bytes::Owned(bytes), &LoadOptions::default(), &Progress::new()).unwrap();
    assert!(whole.iter().all(|c| c.source.preview_bytes.is_none()));
}

#[test]
fn findings_on_a_first_picture_are_held_back_and_say_why() {
    // A trace with likely leaks, judged as if it were the first part of a larger one.
    let bytes = sample("go-leaky.trace");
    let mut capture =
        open_bytes("d", Bytes::Owned(bytes), &LoadOptions::default(), &Progress::new()).unwrap().remove(0);
    let whole = leaks::analyze_series(&[&capture], &Config::default());
    assert!(whole.findings.iter().any(|f| f.severity == Severity::Likely), "the sample has likely leaks");

    capture.source.preview_bytes = Some(capture.source.bytes / 4);
    let part = leaks::analyze_series(&[&capture], &Config::default());
    assert_eq!(part.findings.len(), whole.findings.len(), "the same families are shown");
    for (p, w) in part.findings.iter().zip(&whole.findings) {
        let expected = if w.severity == Severity::Likely { Severity::Possible } else { w.severity };
        assert_eq!(p.severity, expected, "{}", p.title);
        assert!(
            p.evidence.missing.iter().any(|m| m.contains("judged on the first 25%")),
            "{:?}",
            p.evidence.missing
        );
    }
}
