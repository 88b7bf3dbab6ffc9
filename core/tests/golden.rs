//! Golden tests: one test per file in `sample-traces/`, comparing a stable text summary of
//! everything parsed from it with `sample-traces/golden/<file>.txt`.
//!
//! The summary is each capture's report (`CaptureReport::to_text` with every group), then its
//! source facts, then its tasks folded by shape (kind, state, flags, wait, bubble, labels,
//! creator, stack with files and lines) with counts, then ancestors and samples; lists are
//! sorted so the text only changes when the parse does.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the golden files; review the diff.
//! To add a sample, add a line to the `golden!` list at the bottom.

// Test helpers fail the test the way the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use leakscope_core::model::{Capture, FrameId, StackId, Task};
use leakscope_core::report::CaptureReport;
use leakscope_core::{LoadOptions, Progress};

fn frame(c: &Capture, id: FrameId) -> String {
    let f = c.tables.frame(id);
    let (func, file) = (c.str(f.func), c.str(f.file));
    match (file.is_empty(), f.line, f.column) {
        (true, _, _) => func.to_owned(),
        (false, line, 0) => format!("{func} {file}:{line}"),
        (false, line, column) => format!("{func} {file}:{line}:{column}"),
    }
}

fn stack(c: &Capture, id: StackId, indent: &str) -> String {
    c.tables.stack(id).iter().fold(String::new(), |mut out, &f| {
        let _ = writeln!(out, "{indent}{}", frame(c, f));
        out
    })
}

/// One line for what a task is, without its id, so that tasks of the same shape fold.
fn task_shape(c: &Capture, t: &Task) -> String {
    let mut s = format!("{:?} [{}]", t.kind, c.str(t.state));
    if !c.str(t.name).is_empty() {
        let _ = write!(s, " name={}", c.str(t.name));
    }
    if !t.flags.is_empty() {
        let _ = write!(s, " flags={:?}", t.flags);
    }
    if let Some(b) = c.bubble(t) {
        let _ = write!(s, " bubble={b}");
    }
    let labels: Vec<String> = c
        .tables
        .labels(t.labels)
        .iter()
        .map(|l| format!("{:?}: {:?}", c.str(l.key), c.str(l.value)))
        .collect();
    if !labels.is_empty() {
        let _ = write!(s, " labels={{{}}}", labels.join(", "));
    }
    if let Some(f) = t.created_by {
        let _ = write!(s, " created_by={}", frame(c, f));
    }
    for (what, v) in [("start_ns", t.start_ns), ("end_ns", t.end_ns)] {
        if let Some(v) = v.get() {
            let _ = write!(s, " {what}={v}");
        }
    }
    s
}

/// Tasks of one shape: count, least and greatest id, parent ids, whole minutes waited.
type Shape = (u64, u64, u64, Vec<u64>, Vec<i64>);

fn summary(captures: &[Capture]) -> String {
    let mut out = String::new();
    for (i, c) in captures.iter().enumerate() {
        let _ = writeln!(out, "=== capture {} of {}", i + 1, captures.len());
        out.push_str(&CaptureReport::new(c).to_text(usize::MAX));
        let s = &c.source;
        let _ = writeln!(
            out,
            "source: format={:?} profile_type={:?} go_version={:?} captured_at_ns={:?} duration_ns={:?} bytes={} gzipped={} first_line={} headline={:?}",
            s.format.map(leakscope_core::model::FormatKind::name),
            s.profile_type,
            s.go_version,
            s.captured_at_ns,
            s.duration_ns,
            s.bytes,
            s.gzipped,
            s.first_line,
            s.headline
        );
        let _ = writeln!(
            out,
            "tables: {} strings, {} frames, {} stacks; {} tasks, {} ancestors, {} samples, {} intervals",
            c.strings.len(),
            c.tables.frame_count(),
            c.tables.stack_count(),
            c.tasks.len(),
            c.ancestors.len(),
            c.samples.len(),
            c.intervals.len()
        );
        // Tasks folded by shape: count, id range, parents, waits, then the stack.
        let mut shapes: BTreeMap<(String, String), Shape> = BTreeMap::new();
        for t in &c.tasks {
            let key = (task_shape(c, &t), stack(c, t.stack, "      "));
            let e = shapes.entry(key).or_insert((0, u64::MAX, 0, Vec::new(), Vec::new()));
            e.0 += 1;
            e.1 = e.1.min(t.id);
            e.2 = e.2.max(t.id);
            e.3.extend(t.parent_id.get());
            e.4.extend(t.wait_ns.get().map(|ns| ns / 60_000_000_000));
        }
        if !shapes.is_empty() {
            let _ = writeln!(out, "tasks by shape:");
        }
        for ((shape, frames), (n, lo, hi, mut parents, mut waits)) in shapes {
            parents.sort_unstable();
            parents.dedup();
            waits.sort_unstable();
            let _ = write!(out, "  {n} x {shape} ids={lo}..={hi}");
            if !parents.is_empty() {
                let _ = write!(out, " parents={parents:?}");
            }
            if let (Some(a), Some(b)) = (waits.first(), waits.last()) {
                let _ = write!(out, " wait_minutes={a}..={b}");
            }
            let _ = writeln!(out);
            out.push_str(&frames);
        }
        let mut ancestors: Vec<String> = c
            .ancestors
            .iter()
            .map(|a| {
                let task = c.tasks.get(a.task as usize).map_or(0, |t| t.id);
                let creator = a.created_by.map(|f| frame(c, f)).unwrap_or_default();
                format!(
                    "  of goroutine {task}: goroutine {} created_by={creator}\n{}",
                    a.goroutine_id,
                    stack(c, a.stack, "      ")
                )
            })
            .collect();
        ancestors.sort();
        if !ancestors.is_empty() {
            let _ = writeln!(out, "ancestors:");
            out.push_str(&ancestors.concat());
        }
        let mut samples: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (i, &st) in c.samples.stack.iter().enumerate() {
            let values =
                samples.entry(stack(c, st, "      ")).or_insert_with(|| vec![0; c.samples.types.len()]);
            for (ty, v) in values.iter_mut().enumerate() {
                *v += c.samples.value(i, ty);
            }
        }
        if !samples.is_empty() {
            let _ = writeln!(out, "samples by stack:");
        }
        for (frames, values) in samples {
            let _ = writeln!(out, "  {values:?}");
            out.push_str(&frames);
        }
    }
    out
}

fn check(file: &str) {
    let path = support::sample_traces().join(file);
    let mut captures = leakscope_core::open(&path, &LoadOptions::default(), &Progress::new())
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    for c in &mut captures {
        // The summary names the file, not where the checkout is.
        file.clone_into(&mut c.source.path);
    }
    let got = summary(&captures);
    let golden = support::sample_traces().join("golden").join(format!("{file}.txt"));
    support::check_golden(&golden, &got);
}

/// One test per sample file: `name: "file",`.
macro_rules! golden {
    ($($name:ident: $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check($file);
            }
        )*

        /// Every file in sample-traces/ has a golden test above.
        #[test]
        fn every_sample_has_a_golden_test() {
            let listed = [$($file),*];
            let mut missing = Vec::new();
            for entry in std::fs::read_dir(support::sample_traces()).unwrap() {
                let entry = entry.unwrap();
                let name = entry.file_name().to_string_lossy().into_owned();
                // Chrome traces and CPU profiles have their golden summaries in
                // golden_chrome/ (golden_chrome.rs); `*.truth.json` is what a sample program
                // printed about itself, read by the tests of its sample.
                let chrome = support::workspace()
                    .join("core/tests/golden_chrome")
                    .join(format!("{name}.summary"))
                    .is_file();
                let truth = name.ends_with(".truth.json");
                if entry.path().is_file()
                    && name != "README.md"
                    && !chrome
                    && !truth
                    && !listed.contains(&name.as_str())
                {
                    missing.push(name);
                }
            }
            missing.sort();
            assert!(missing.is_empty(), "sample files without a golden test: {missing:?}");
        }
    };
}

golden! {
    orders_api_after_debug2: "orders-api.after.debug2.txt.gz",
    orders_api_after_goroutineleak_debug1: "orders-api.after.goroutineleak.debug1.txt",
    orders_api_before_debug2: "orders-api.before.debug2.txt.gz",
    ctx_done_leak_after_goroutine_pb: "ctx-done-leak.after.goroutine.pb.gz",
    ctx_done_leak_after_goroutineleak_debug1: "ctx-done-leak.after.goroutineleak.debug1.txt",
    ctx_done_leak_after_goroutineleak_pb: "ctx-done-leak.after.goroutineleak.pb.gz",
    ctx_done_leak_before_goroutineleak_debug1: "ctx-done-leak.before.goroutineleak.debug1.txt",
    ctx_done_leak_before_goroutineleak_pb: "ctx-done-leak.before.goroutineleak.pb.gz",
    detached_async_after_goroutineleak_debug1: "detached-async.after.goroutineleak.debug1.txt",
    detached_async_after_goroutineleak_pb: "detached-async.after.goroutineleak.pb.gz",
    go127_ci_after_goroutine_debug2: "go127-ci.after.goroutine.debug2.txt",
    go127_ci_after_goroutineleak_debug1: "go127-ci.after.goroutineleak.debug1.txt",
    go127_ci_after_goroutineleak_pb: "go127-ci.after.goroutineleak.pb.gz",
    go127_ci_before_goroutine_debug2: "go127-ci.before.goroutine.debug2.txt",
    go127_ci_before_goroutineleak_debug1: "go127-ci.before.goroutineleak.debug1.txt",
    go127_ci_before_goroutineleak_pb: "go127-ci.before.goroutineleak.pb.gz",
    ctx_done_leak_before_cpu_pb: "ctx-done-leak.before.cpu.pb.gz",
    ctx_done_leak_before_goroutine_debug1: "ctx-done-leak.before.goroutine.debug1.txt",
    ctx_done_leak_before_heap_pb: "ctx-done-leak.before.heap.pb.gz",
    go_annotated_trace: "go-annotated.trace",
    go_flight_1_trace: "go-flight.1.trace",
    go_flight_2_trace: "go-flight.2.trace",
    go_leaky_trace: "go-leaky.trace",
    go119_mixed_before_goroutine_debug1: "go119-mixed.before.goroutine.debug1.txt",
    go119_mixed_before_goroutine_pb: "go119-mixed.before.goroutine.pb.gz",
    ctx_done_leak_after_debug2: "ctx-done-leak.after.debug2.txt",
    go119_mixed_before_debug2: "go119-mixed.before.debug2.txt",
    go127_ancestors_debug2: "go127-ancestors.debug2.txt",
    go127_cgo_symbolized_debug2: "go127-cgo-symbolized.debug2.txt",
    go127_cgo_debug2: "go127-cgo.debug2.txt",
    go127_crash: "go127-crash.txt",
    go127_deadlock: "go127-deadlock.txt",
    go127_healthy_before_debug2: "go127-healthy.before.debug2.txt",
    go127_labels_debug2: "go127-labels.debug2.txt",
    go127_labelleak_debug2: "go127-labelleak.debug2.txt",
    go127_labelleak_goroutine_debug1: "go127-labelleak.goroutine.debug1.txt",
    go127_labelleak_goroutine_pb: "go127-labelleak.goroutine.pb.gz",
    go127_leakdetect_debug2: "go127-leakdetect.debug2.txt",
    go127_minutes_debug2: "go127-minutes.debug2.txt",
    go127_panic: "go127-panic.txt",
    go127_series: "go127-series.log",
    go127_synctest_deadlock: "go127-synctest-deadlock.txt",
    go127_synctest_mutex: "go127-synctest-mutex.txt",
    go127_synctest_stack: "go127-synctest.stack.txt",
    go127_test_timeout: "go127-test-timeout.txt",
    go127_tiny_sigquit_stderr: "go127-tiny-sigquit.stderr.txt",
    heapleak_leaky_before_heap: "heapleak/leaky/before/heap.pb.gz",
    heapleak_leaky_after_heap: "heapleak/leaky/after/heap.pb.gz",
    heapleak_leaky_before_goroutine: "heapleak/leaky/before/goroutine.debug2.txt.gz",
    heapleak_leaky_after_goroutine: "heapleak/leaky/after/goroutine.debug2.txt.gz",
    heapleak_healthy_before_heap: "heapleak/healthy/before/heap.pb.gz",
    heapleak_healthy_after_heap: "heapleak/healthy/after/heap.pb.gz",
}
