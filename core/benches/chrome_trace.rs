//! Chrome trace and DevTools CPU profile parsing throughput (bytes per second), on generated
//! traces (with and without newlines) and on the real captures in ../shared/realdata when
//! present, with serde_json decoding the same events into a borrowed struct as the baseline
//! measured in the same run.
//!
//! Before the criterion groups, issue 18's targets are measured end to end on each input:
//! `leakscope report --json` in this process on the file mapped as a user's is (median of 3,
//! MB/s, peak heap through the counting allocator and peak resident growth from the kernel, as
//! multiples of the file) against Python's `json.load` of the same file (median of 3, in a
//! `python3` process), with the load average. Targets: 10x `json.load`, memory (resident
//! growth: the heap touched plus the mapped pages resident at once) at most 1.5x the file.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)] // a benchmark harness

use std::borrow::Cow;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope_core::Progress;
use leakscope_core::formats::{chrome_trace, cpuprofile};
use leakscope_testkit::chrome::{SynthConfig, trace_bytes};
use leakscope_testkit::measure;
use serde::Deserialize;

#[global_allocator]
static ALLOC: leakscope_testkit::alloc::Counting = leakscope_testkit::alloc::Counting;

fn realdata() -> Option<PathBuf> {
    let dir = std::env::var_os("LEAKSCOPE_REALDATA").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata"),
        PathBuf::from,
    );
    dir.join("ground_truth.json").is_file().then_some(dir)
}

/// The event fields leakscope reads, decoded by serde_json: the baseline.
#[derive(Deserialize)]
#[allow(dead_code)]
struct SerdeEvent<'a> {
    #[serde(borrow)]
    ph: Option<Cow<'a, str>>,
    #[serde(borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cat: Option<Cow<'a, str>>,
    pid: Option<serde_json::Value>,
    tid: Option<serde_json::Value>,
    ts: Option<f64>,
    dur: Option<f64>,
    id: Option<serde_json::Value>,
    args: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct SerdeObject<'a> {
    #[serde(borrow, rename = "traceEvents")]
    events: Vec<SerdeEvent<'a>>,
}

fn serde_events(bytes: &[u8]) -> usize {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        let events: Vec<SerdeEvent<'_>> = serde_json::from_slice(bytes).unwrap();
        events.len()
    } else {
        let object: SerdeObject<'_> = serde_json::from_slice(bytes).unwrap();
        object.events.len()
    }
}

fn inputs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let size = 64 << 20;
    for (label, newlines) in [("synth-64MiB-lines", true), ("synth-64MiB-no-newlines", false)] {
        let cfg = SynthConfig { target_bytes: size, newlines, ..SynthConfig::default() };
        out.push((label.to_owned(), trace_bytes(&cfg)));
    }
    if let Some(dir) = realdata() {
        for rel in ["node/trace-events/node_trace.1.log", "python/viztracer-small.json"] {
            if let Ok(bytes) = std::fs::read(dir.join(rel)) {
                out.push((rel.rsplit('/').next().unwrap_or(rel).to_owned(), bytes));
            }
        }
        // The viztracer trace is 43 MB; the real one here is 5 MB, where the few
        // megabytes any report costs (code, threads) weigh as much as the file.
        if let Some(long) = std::fs::read(dir.join("python/viztracer-small.json"))
            .ok()
            .and_then(|bytes| leakscope_testkit::chrome::lengthen(&bytes, 43 << 20))
        {
            out.push(("viztracer-small-lengthened-43MB".to_owned(), long));
        }
    } else {
        eprintln!("SKIPPED real captures: no ../shared/realdata (set LEAKSCOPE_REALDATA)");
    }
    out
}

/// Issue 18's end-to-end targets, printed (criterion times the parse alone below).
fn measure_targets(inputs: &[(String, Vec<u8>)]) {
    let dir = std::env::temp_dir().join("leakscope-bench");
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    for (label, bytes) in inputs {
        let path = dir.join(format!("{label}.json"));
        if measure::write_aged(&path, bytes).is_err() {
            continue;
        }
        let ours = measure::measure_report(&path, 3);
        let python = measure::time_command(3, || {
            let mut c = std::process::Command::new("python3");
            c.args(["-c", "import json, sys; json.load(open(sys.argv[1], 'rb'))"]).arg(&path);
            c
        });
        measure::print(label, &ours, (None, 1.5), python.map(|t| ("python3 json.load", t)));
        if let Some(t) = python {
            println!(
                "{label}: leakscope report is {:.1}x as fast as json.load (target 10x)",
                t.as_secs_f64() / ours.median.as_secs_f64().max(1e-9)
            );
        }
        let _ = std::fs::remove_file(&path);
    }
}

fn bench_chrome_trace(c: &mut Criterion) {
    // A child process this benchmark starts to measure resident memory stops here.
    measure::serve_child();
    measure_targets(&inputs());
    let mut group = c.benchmark_group("chrome_trace");
    group.sample_size(10).measurement_time(Duration::from_secs(20)).warm_up_time(Duration::from_secs(2));
    for (label, bytes) in inputs() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("leakscope/{label}"), |b| {
            b.iter(|| chrome_trace::parse_bytes(black_box(&bytes), "bench", &Progress::new()).unwrap());
        });
        group.bench_function(format!("serde_json-struct/{label}"), |b| {
            b.iter(|| serde_events(black_box(&bytes)));
        });
    }
    group.finish();
}

/// The leak facts and the span flamegraph must cost far less than the parse they follow.
fn bench_analysis(c: &mut Criterion) {
    let mut group = c.benchmark_group("chrome_trace_analysis");
    group.sample_size(10);
    for (label, bytes) in inputs() {
        let capture = chrome_trace::parse_bytes(&bytes, "bench", &Progress::new()).unwrap();
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("async_facts/{label}"), |b| {
            b.iter(|| leakscope_core::analysis::async_facts::async_facts(black_box(&capture)));
        });
        group.bench_function(format!("span_self_time_stacks/{label}"), |b| {
            b.iter(|| leakscope_core::analysis::spans::span_self_time_stacks(black_box(&capture)));
        });
    }
    group.finish();
}

fn bench_cpuprofile(c: &mut Criterion) {
    let Some(dir) = realdata() else { return };
    let Ok(bytes) = std::fs::read(dir.join("node/cpuprofile/async_leak.cpuprofile")) else { return };
    let mut group = c.benchmark_group("cpuprofile");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("leakscope/async_leak.cpuprofile", |b| {
        b.iter(|| cpuprofile::parse_bytes(black_box(&bytes), "bench", &Progress::new()).unwrap());
    });
    group.finish();
}

criterion_group!(benches, bench_chrome_trace, bench_analysis, bench_cpuprofile);
criterion_main!(benches);
