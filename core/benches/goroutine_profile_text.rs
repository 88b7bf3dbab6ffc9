//! Throughput of the goroutine profile `debug=1` text parser on a generated profile of
//! realistic shape (records of 6 to 36 frames, labels on a third, a few huge leak records).
//! The baseline in the same run counts the lines with memchr: the least any parser must do.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr,
    clippy::indexing_slicing
)]

use leakscope_testkit::pprof as profile_gen;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use leakscope_core::Progress;
use leakscope_core::formats::goroutine_profile_text as text;

fn bench(c: &mut Criterion) {
    let bytes = profile_gen::goroutine_profile_text(20_000);
    let parsed = text::parse_bytes(&bytes, "bench", &Progress::new()).unwrap();
    eprintln!(
        "debug1 text: {} bytes, {} records, {} goroutines, {} frames",
        bytes.len(),
        parsed[0].samples.len(),
        parsed[0].task_count(),
        parsed[0].tables.frame_count()
    );
    let mut group = c.benchmark_group("goroutine_profile_text");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_with_input(BenchmarkId::new("parse", "20k-records"), &bytes, |b, bytes| {
        b.iter(|| text::parse_bytes(bytes, "bench", &Progress::new()).unwrap());
    });
    group.bench_with_input(BenchmarkId::new("baseline-count-lines", "20k-records"), &bytes, |b, bytes| {
        b.iter(|| memchr::memchr_iter(b'\n', bytes).count());
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
