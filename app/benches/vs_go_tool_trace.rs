//! leakscope against `go tool trace`, on realdata's largest Go execution trace, in one run on
//! the same file. Issue 5's targets, checked here:
//! - **time**: `leakscope report --json FILE` (a fresh process: map, parse, analyse, print) at
//!   least 10 times faster than `go tool trace -d=parsed FILE` (a fresh process that parses and
//!   prints every event);
//! - **memory**: the heap `leakscope report` holds at its worst (parse, analysis, report and its
//!   JSON, measured in this process with a counting allocator) at most 3 times the file's size.
//!
//! Criterion times each command on its own. The ratio is taken from runs of the two commands
//! taken in turns (one of each, again and again), so that the machine's load at a given moment
//! weighs on both alike; medians of those runs are compared.
//!
//! The trace: `$LEAKSCOPE_BENCH_TRACE`, else the largest Go 1.22+ trace under
//! `../shared/realdata` (beside the workspace). Go: `$LEAKSCOPE_GO`, else `../.govenv/bin/go`,
//! else `go` on the PATH. Without a trace the benchmark says so and fails (exit code 1): it has
//! checked nothing. Without Go it measures the rest and fails too, the time target unchecked. A
//! missed target fails the run (exit code 1) after everything is measured.
//!
//! Run: `cargo bench -p leakscope --bench vs_go_tool_trace`.

#![allow(
    missing_docs,
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_precision_loss,
    clippy::expect_used
)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use criterion::Criterion;
use leakscope_core::analysis::leaks::Config;
use leakscope_core::report::Report;
use leakscope_core::session::{Input, Purpose, Session};
use leakscope_core::{LoadOptions, Progress};

use leakscope_testkit::alloc as counting_alloc;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

/// How many times faster than `go tool trace -d=parsed` leakscope must be.
const SPEEDUP_TARGET: f64 = 10.0;
/// How many times the file's size leakscope's heap may reach.
const MEMORY_TARGET: f64 = 3.0;
/// Runs of each command, taken in turns, for the ratio.
const PAIRS: usize = 21;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("app/ has a parent").to_path_buf()
}

/// Whether a file starts with the header of a Go 1.22+ execution trace (`go 1.22 trace`...).
fn is_new_go_trace(path: &Path) -> bool {
    let mut head = [0u8; 16];
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    if std::io::Read::read_exact(&mut f, &mut head).is_err() {
        return false;
    }
    let Some(rest) = head.strip_prefix(b"go 1.") else { return false };
    let minor: String = rest.iter().take_while(|b| b.is_ascii_digit()).map(|&b| char::from(b)).collect();
    minor.parse::<u32>().is_ok_and(|m| m >= 22)
}

/// The largest Go 1.22+ execution trace under `dir`.
fn largest_trace(dir: &Path) -> Option<PathBuf> {
    let mut best: Option<(u64, PathBuf)> = None;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            let Ok(meta) = e.metadata() else { continue };
            if meta.is_dir() {
                todo.push(path);
            } else if best.as_ref().is_none_or(|(n, _)| meta.len() > *n) && is_new_go_trace(&path) {
                best = Some((meta.len(), path));
            }
        }
    }
    best.map(|(_, p)| p)
}

fn go_binary() -> Option<PathBuf> {
    leakscope_testkit::go::toolchain(0)
}

/// What `leakscope report --json` does, in this process: the heap's peak above what was live
/// before, in bytes.
fn report_peak_heap(trace: &Path) -> usize {
    let before = counting_alloc::reset_peak();
    let session = Session::load(
        vec![Input::file(trace)],
        &LoadOptions::default(),
        Purpose::Report,
        Config::default(),
        &Progress::new(),
        &mut |_| {},
    )
    .expect("the trace parses");
    let report = Report::from_session(&session);
    serde_json::to_writer_pretty(std::io::sink(), &report).expect("the report serialises");
    drop((report, session));
    counting_alloc::PEAK.load(Ordering::Relaxed) - before
}

/// Runs a command to its end with its output discarded; panics if it fails.
fn run(cmd: &mut Command) {
    let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status().expect("the command starts");
    assert!(status.success(), "{cmd:?} failed: {status}");
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() -> ExitCode {
    let trace = std::env::var_os("LEAKSCOPE_BENCH_TRACE")
        .map(PathBuf::from)
        .or_else(|| largest_trace(&workspace().join("../shared/realdata")));
    // Without a trace nothing is measured, so no target is met: a failure, not a pass.
    let Some(trace) = trace else {
        eprintln!(
            "vs_go_tool_trace: no Go execution trace to measure (none under {}; set LEAKSCOPE_BENCH_TRACE)",
            workspace().join("../shared/realdata").display()
        );
        return ExitCode::FAILURE;
    };
    let size = match std::fs::metadata(&trace) {
        Ok(m) => m.len(),
        Err(e) => {
            eprintln!("vs_go_tool_trace: cannot read {}: {e}", trace.display());
            return ExitCode::FAILURE;
        }
    };
    println!("trace: {} ({size} bytes)", trace.display());
    let mut missed = Vec::new();

    // Memory first, before Criterion's own allocations come and go.
    let peak = report_peak_heap(&trace);
    let ratio = peak as f64 / size as f64;
    println!(
        "peak heap of the report: {peak} bytes, {ratio:.2}x the file (target: at most {MEMORY_TARGET}x)"
    );
    if ratio > MEMORY_TARGET {
        missed.push(format!("memory: {ratio:.2}x the file, over {MEMORY_TARGET}x"));
    }

    let leakscope = env!("CARGO_BIN_EXE_leakscope");
    let ours = || {
        let mut c = Command::new(leakscope);
        c.arg("report").arg("--json").arg(&trace);
        c
    };
    let go = go_binary();
    let theirs = |go: &Path| {
        let mut c = Command::new(go);
        c.args(["tool", "trace", "-d=parsed"]).arg(&trace);
        c
    };

    let mut criterion = Criterion::default().configure_from_args();
    {
        let mut group = criterion.benchmark_group("end to end on realdata's largest trace");
        group.sample_size(20).measurement_time(Duration::from_secs(8)).warm_up_time(Duration::from_secs(1));
        group.bench_function("leakscope report --json", |b| b.iter(|| run(&mut ours())));
        if let Some(go) = &go {
            group.bench_function("go tool trace -d=parsed", |b| b.iter(|| run(&mut theirs(go))));
        }
        group.finish();
    }
    criterion.final_summary();

    match &go {
        // The time target is not met by going unchecked: the run measures the rest, then fails.
        None => {
            missed.push("time: not checked, no Go toolchain to compare with (set LEAKSCOPE_GO)".to_owned());
        }
        Some(go) => {
            let (mut a, mut b) = (Vec::with_capacity(PAIRS), Vec::with_capacity(PAIRS));
            for _ in 0..PAIRS {
                let t = Instant::now();
                run(&mut ours());
                a.push(t.elapsed());
                let t = Instant::now();
                run(&mut theirs(go));
                b.push(t.elapsed());
            }
            let (a, b) = (median(a), median(b));
            let speedup = b.as_secs_f64() / a.as_secs_f64();
            println!(
                "in turns, median of {PAIRS}: leakscope {:.1} ms, go tool trace {:.1} ms: {speedup:.1}x faster (target: at least {SPEEDUP_TARGET}x)",
                a.as_secs_f64() * 1e3,
                b.as_secs_f64() * 1e3
            );
            if speedup < SPEEDUP_TARGET {
                missed.push(format!("time: {speedup:.1}x faster, under {SPEEDUP_TARGET}x"));
            }
        }
    }
    if missed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("TARGET MISSED: {}", missed.join("; "));
        ExitCode::FAILURE
    }
}
