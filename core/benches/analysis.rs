//! Leak analysis speed on a 200,000-goroutine dump (issue 3: analysis must take well under the
//! time the parse took). Parse, analysis, analysis against a baseline and the goroutine flame
//! tree are measured in the same run on the same generated capture, so their ratio holds on a
//! noisy machine.

use leakscope_testkit::dump as dumpgen;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope_core::analysis::flame::FlameTree;
use leakscope_core::analysis::leaks::{self, Config};
use leakscope_core::load::Bytes;
use leakscope_core::{Capture, LoadOptions, Progress};

fn parse(bytes: &'static [u8]) -> Capture {
    let mut list =
        leakscope_core::open_bytes("bench", Bytes::Static(bytes), &LoadOptions::default(), &Progress::new())
            .unwrap_or_default();
    list.pop().unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let after: &'static [u8] = Vec::leak(dumpgen::debug2_dump(200_000, 7).into_bytes());
    let before: &'static [u8] = Vec::leak(dumpgen::debug2_dump(20_000, 7).into_bytes());
    let capture = parse(after);
    let baseline = parse(before);
    let config = Config::default();
    let mut group = c.benchmark_group("analysis/debug2_200k_goroutines");
    group.throughput(Throughput::Bytes(after.len() as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(2));
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("parse", |b| b.iter(|| parse(black_box(after))));
    group.bench_function("analyze", |b| b.iter(|| leaks::analyze(black_box(&capture), None, &config)));
    group.bench_function("analyze_with_baseline", |b| {
        b.iter(|| leaks::analyze(black_box(&capture), Some(&baseline), &config));
    });
    group.bench_function("groups", |b| b.iter(|| black_box(&capture).groups()));
    group.bench_function("flame_tree", |b| b.iter(|| FlameTree::goroutines(black_box(&capture))));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
