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

use leakscope_testkit::dump as dumpgen;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope_core::load::Bytes;
use leakscope_core::{LoadOptions, Progress};

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
    let options = LoadOptions::default();
    for (name, bytes) in inputs() {
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
