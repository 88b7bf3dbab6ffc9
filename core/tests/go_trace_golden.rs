//! Go's own golden traces (`sample-traces/go-testdata/*.test`, from `internal/trace/testdata`):
//! each is converted from Go's text form to the wire format and parsed. A trace Go's reader
//! accepts must parse without a warning and give a well-formed model; a trace Go's reader
//! rejects must still parse (we are lenient) but say what is wrong in a warning.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::print_stderr,
    clippy::indexing_slicing,
    clippy::many_single_char_names
)]

mod go_trace_text;
mod support;

use go_trace_text::Expect;
use leakscope_core::Progress;
use leakscope_core::formats::go_trace;
use leakscope_core::model::{Capture, TaskKind};

/// The model's invariants, with the trace's name on failure.
fn check_invariants(c: &Capture, name: &str) {
    if let Err(e) = c.validate() {
        panic!("{name}: {e}");
    }
}

#[test]
fn go_golden_traces() {
    let dir = support::sample_traces().join("go-testdata");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).expect("go-testdata").map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "test"));
    files.sort();
    assert!(files.len() >= 20, "Go's golden traces are missing from {}", dir.display());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let (expect, bytes) = go_trace_text::parse_test_file(&text);
        let capture = go_trace::parse_bytes(&bytes, &name, &Progress::new())
            .unwrap_or_else(|e| panic!("{name}: lenient parser refused the trace: {e}"));
        check_invariants(&capture, &name);
        let warnings = capture.warnings.lines();
        match expect {
            Expect::Success => assert!(warnings.is_empty(), "{name}: valid trace gave warnings {warnings:?}"),
            Expect::Failure(why) => {
                eprintln!("{name}: Go fails with {why:?}; we warn {warnings:?}");
                assert!(!warnings.is_empty(), "{name}: invalid trace ({why}) gave no warning");
                if why.contains("proc") {
                    assert!(
                        warnings.iter().any(|w| w.contains("proc")),
                        "{name}: {warnings:?} does not mention the proc"
                    );
                }
            }
        }
    }
}

/// Go's own old-format traces (Go 1.11, 1.19 and 1.21, from `internal/trace/internal/tracev1`)
/// all parse without a warning into a well-formed model.
#[test]
fn go_old_format_traces() {
    let dir = support::sample_traces().join("go-testdata-v1");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).expect("go-testdata-v1").map(|e| e.unwrap().path()).collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "trace"));
    files.sort();
    assert!(files.len() >= 9, "Go's old-format traces are missing from {}", dir.display());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let capture =
            go_trace::parse_bytes(&bytes, &name, &Progress::new()).unwrap_or_else(|e| panic!("{name}: {e}"));
        check_invariants(&capture, &name);
        assert!(capture.warnings.is_empty(), "{name}: {:?}", capture.warnings.lines());
        // Named like `http_1_19_good`: the Go version follows a lone `1`.
        let parts: Vec<&str> = name.split('_').collect();
        let minor = parts.windows(2).find(|w| w[0] == "1").map(|w| w[1]).unwrap();
        assert_eq!(capture.source.go_version.as_deref(), Some(format!("go1.{minor}").as_str()), "{name}");
        assert!(capture.tasks.iter().any(|t| t.kind == TaskKind::Goroutine), "{name}: no goroutines");
    }
}
