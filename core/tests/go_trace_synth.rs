//! The benchmark's trace generator writes valid traces: they parse without a warning, every
//! goroutine the generator made is there, and the model holds together.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

use leakscope_testkit::go_trace as synth_trace;

use leakscope_core::Progress;
use leakscope_core::formats::go_trace;
use leakscope_core::model::TaskKind;

#[test]
fn generated_traces_are_valid() {
    let shape = synth_trace::Shape {
        bytes: 600 << 10,
        events_per_generation: 40_000,
        goroutines: 300,
        threads: 4,
        seed: 7,
    };
    let bytes = synth_trace::generate(shape);
    let c = go_trace::parse_bytes(&bytes, "synth", &Progress::new()).expect("parses");
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
    let info = c.trace.as_ref().unwrap();
    assert!(info.generations >= 2, "several generations");
    assert!(c.tasks.iter().filter(|t| t.kind == TaskKind::Goroutine).count() > 300);
    eprintln!("{} bytes, {} intervals, {:?}", bytes.len(), c.intervals.len(), info.event_counts);
    if let Some(p) = std::env::var_os("LEAKSCOPE_SYNTH_OUT") {
        std::fs::write(p, &bytes).unwrap();
    }
    assert!(c.intervals.len() > 50_000);
    assert!(!c.samples.is_empty());
}
