//! Golden tests for the goroutine-profile text and pprof samples in `sample-traces/`: one test
//! per file, each comparing a stable text summary (format, profile type, columns and totals,
//! the heaviest samples with their frames and labels, groups, warnings) with
//! `core/tests/golden_profiles/<file>.summary`. Run with `UPDATE_GOLDEN=1` to rewrite the
//! summaries after a deliberate change, and review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr, clippy::indexing_slicing)]

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use leakscope_core::model::Capture;
use leakscope_core::{LoadOptions, Progress};

/// Samples shown per summary, and frames per sample.
const TOP_SAMPLES: usize = 8;
const TOP_FRAMES: usize = 12;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden_profiles")
}

fn summary(c: &Capture) -> String {
    let mut out = String::new();
    let s = &c.source;
    let _ = writeln!(out, "format: {}", s.format.map_or("none", |f| f.name()));
    let _ = writeln!(out, "profile_type: {}", s.profile_type.as_deref().unwrap_or("null"));
    let _ = writeln!(out, "captured_at_ns: {:?}", s.captured_at_ns);
    let _ = writeln!(out, "duration_ns: {:?}", s.duration_ns);
    let _ = writeln!(out, "gzipped: {}", s.gzipped);
    for comment in &s.comments {
        let _ = writeln!(out, "comment: {comment}");
    }
    if let Some(url) = &s.doc_url {
        let _ = writeln!(out, "doc_url: {url}");
    }
    let _ = writeln!(out, "task_count: {}", c.task_count());
    for (i, t) in c.samples.types.iter().enumerate() {
        let default = if i == c.samples.default_type { " (default)" } else { "" };
        let _ = writeln!(
            out,
            "column: {}/{} total {}{default}",
            c.str(t.kind),
            c.str(t.unit),
            c.samples.total(i)
        );
    }
    let distinct: std::collections::HashSet<_> = c.samples.stack.iter().collect();
    let _ = writeln!(
        out,
        "samples: {}, distinct stacks: {}, frames: {}",
        c.samples.len(),
        distinct.len(),
        c.tables.frame_count()
    );
    let col = c.samples.default_type;
    let stack_text = |i: usize| -> Vec<String> {
        c.tables
            .stack(c.samples.stack[i])
            .iter()
            .map(|&f| {
                let fr = c.tables.frame(f);
                let column = if fr.column > 0 { format!(":{}", fr.column) } else { String::new() };
                format!("{} {}:{}{column}", c.str(fr.func), c.str(fr.file), fr.line)
            })
            .collect()
    };
    let mut order: Vec<usize> = (0..c.samples.len()).collect();
    order.sort_by(|&a, &b| {
        c.samples.value(b, col).cmp(&c.samples.value(a, col)).then_with(|| stack_text(a).cmp(&stack_text(b)))
    });
    let _ = writeln!(out, "heaviest samples:");
    for &i in order.iter().take(TOP_SAMPLES) {
        let values: Vec<String> =
            (0..c.samples.types.len()).map(|t| c.samples.value(i, t).to_string()).collect();
        let mut labels: Vec<String> = c
            .tables
            .labels(c.samples.labels[i])
            .iter()
            .map(|l| format!("{}={}", c.str(l.key), c.str(l.value)))
            .collect();
        labels.sort();
        let labels = if labels.is_empty() { String::new() } else { format!(" {{{}}}", labels.join(", ")) };
        let _ = writeln!(out, "  [{}]{labels}", values.join(" "));
        let frames = stack_text(i);
        for f in frames.iter().take(TOP_FRAMES) {
            let _ = writeln!(out, "    {f}");
        }
        if frames.len() > TOP_FRAMES {
            let _ = writeln!(out, "    ... {} more frames", frames.len() - TOP_FRAMES);
        }
    }
    let groups = c.groups();
    if !groups.is_empty() {
        let _ = writeln!(out, "groups:");
        for g in &groups {
            let user = c.user_frame(g.stack).map_or("", |f| c.func_name(f));
            let leaked = if g.leaked { " leaked" } else { "" };
            let _ = writeln!(out, "  {} {}{leaked} {user}", g.count, g.wait_kind.name());
        }
    }
    let _ = writeln!(out, "warnings:");
    for w in c.warnings.lines() {
        let _ = writeln!(out, "  {w}");
    }
    out
}

fn check(file: &str) {
    let path = support::sample_traces().join(file);
    let captures = leakscope_core::open(&path, &LoadOptions::default(), &Progress::new())
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut text = String::new();
    for (i, c) in captures.iter().enumerate() {
        if captures.len() > 1 {
            let _ = writeln!(text, "=== capture {i}");
        }
        text.push_str(&summary(c));
    }
    let golden = golden_dir().join(format!("{file}.summary"));
    support::check_golden(&golden, &text);
}

macro_rules! golden {
    ($($name:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check($file);
            }
        )*

        /// Every profile sample in the folder has its test above.
        #[test]
        fn every_profile_sample_has_a_golden_test() {
            let known = [$($file),*];
            for entry in std::fs::read_dir(support::sample_traces()).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".pb.gz") || name.ends_with(".debug1.txt") {
                    assert!(known.contains(&name.as_str()), "{name} has no golden test");
                }
            }
        }
    };
}

golden! {
    ctx_done_leak_before_goroutine_debug1 => "ctx-done-leak.before.goroutine.debug1.txt",
    ctx_done_leak_after_goroutineleak_debug1 => "ctx-done-leak.after.goroutineleak.debug1.txt",
    ctx_done_leak_after_goroutine_pb => "ctx-done-leak.after.goroutine.pb.gz",
    ctx_done_leak_after_goroutineleak_pb => "ctx-done-leak.after.goroutineleak.pb.gz",
    ctx_done_leak_before_goroutineleak_debug1 => "ctx-done-leak.before.goroutineleak.debug1.txt",
    ctx_done_leak_before_goroutineleak_pb => "ctx-done-leak.before.goroutineleak.pb.gz",
    detached_async_after_goroutineleak_debug1 => "detached-async.after.goroutineleak.debug1.txt",
    detached_async_after_goroutineleak_pb => "detached-async.after.goroutineleak.pb.gz",
    go127_ci_after_goroutineleak_debug1 => "go127-ci.after.goroutineleak.debug1.txt",
    go127_ci_after_goroutineleak_pb => "go127-ci.after.goroutineleak.pb.gz",
    go127_ci_before_goroutineleak_debug1 => "go127-ci.before.goroutineleak.debug1.txt",
    go127_ci_before_goroutineleak_pb => "go127-ci.before.goroutineleak.pb.gz",
    ctx_done_leak_before_cpu_pb => "ctx-done-leak.before.cpu.pb.gz",
    ctx_done_leak_before_heap_pb => "ctx-done-leak.before.heap.pb.gz",
    go119_mixed_before_goroutine_debug1 => "go119-mixed.before.goroutine.debug1.txt",
    go119_mixed_before_goroutine_pb => "go119-mixed.before.goroutine.pb.gz",
    orders_api_after_goroutineleak_debug1 => "orders-api.after.goroutineleak.debug1.txt",
    go127_labelleak_goroutine_debug1 => "go127-labelleak.goroutine.debug1.txt",
    go127_labelleak_goroutine_pb => "go127-labelleak.goroutine.pb.gz",
}
