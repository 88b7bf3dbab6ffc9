//! Goroutine dump parsing speed, end to end (sniffing, splitting, parallel parsing, merging into
//! the final `Capture`), on generated dumps of realistic shape: a `debug=2` dump of 200,000
//! goroutines in 36 stacks and a ~300 MB `GOTRACEBACK=crash` SIGQUIT dump.
//!
//! Each input is also measured with two baselines in the same run, so a number can be judged
//! on a noisy shared machine: counting its lines with `memchr` (one pass over the bytes, the
//! floor for any line-based parser) and validating it as UTF-8; and the parse on a single
//! thread, for what one core does.
//!
//! The target (issue 2) is >= 1 GB/s end to end for `parse`.
//!
//! Before the criterion groups, issue 18's targets are measured end to end on each input:
//! `leakscope report --json` in this process (median of 3, MB/s, peak heap as a multiple of the
//! file through the counting allocator) against `wc -l` on the same file, with the load
//! average. Targets: 2 GB/s, heap at most 1.2x the file.

use leakscope_testkit::dump as dumpgen;
use leakscope_testkit::measure;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope_core::load::Bytes;
use leakscope_core::{LoadOptions, Progress};

#[global_allocator]
static ALLOC: leakscope_testkit::alloc::Counting = leakscope_testkit::alloc::Counting;

/// Issue 18's end-to-end targets, printed (criterion times the parse alone below).
fn measure_targets(inputs: &[(&str, &[u8])]) {
    let dir = std::env::temp_dir().join("leakscope-bench");
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    for (name, bytes) in inputs {
        let path = dir.join(format!("{name}.txt"));
        // Mapped like a user's capture: a dump's pages are handed back as its pieces are
        // merged, so the peak heap is the parse's memory beyond the binary.
        if measure::write_aged(&path, bytes).is_err() {
            continue;
        }
        let ours = measure::measure_report(&path, 3);
        let wc = measure::time_command(3, || {
            let mut c = std::process::Command::new("wc");
            c.arg("-l").arg(&path);
            c
        });
        measure::print(name, &ours, (Some(2000.0), 1.2), wc.map(|t| ("wc -l", t)));
        let _ = std::fs::remove_file(&path);
    }
}

fn inputs() -> Vec<(&'static str, &'static [u8])> {
    let debug2 = dumpgen::debug2_dump(200_000, 7).into_bytes();
    let sigquit = dumpgen::sigquit_dump(300 << 20, 11).into_bytes();
    // The loader's `Bytes::Static` wants 'static bytes; leaking two buffers once per run is fine.
    vec![
        ("debug2_200k_goroutines", Vec::leak(debug2) as &'static [u8]),
        ("sigquit_crash_300mb", Vec::leak(sigquit) as &'static [u8]),
    ]
}

fn bench(c: &mut Criterion) {
    // A child process this benchmark starts to measure resident memory stops here.
    measure::serve_child();
    let options = LoadOptions::default();
    let inputs = inputs();
    measure_targets(&inputs);
    for (name, bytes) in inputs {
        let mut group = c.benchmark_group(format!("goroutine_dump/{name}"));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(2));
        group.measurement_time(Duration::from_secs(if bytes.len() > 200 << 20 { 25 } else { 12 }));
        group.bench_function("baseline_memchr_lines", |b| {
            b.iter(|| memchr::memchr_iter(b'\n', black_box(bytes)).count());
        });
        group.bench_function("baseline_utf8_validate", |b| {
            b.iter(|| std::str::from_utf8(black_box(bytes)).is_ok());
        });
        let parse = || {
            let captures = leakscope_core::open_bytes(name, Bytes::Static(bytes), &options, &Progress::new());
            black_box(captures.map_or(0, |c| c.len()))
        };
        group.bench_function("parse", |b| b.iter(parse));
        // The same on one thread: what one core does, and how far the two-core number is from
        // twice that.
        if let Ok(pool) = rayon::ThreadPoolBuilder::new().num_threads(1).build() {
            group.bench_function("parse_1_thread", |b| b.iter(|| pool.install(parse)));
        }
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
