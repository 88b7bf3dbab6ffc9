//! Throughput of the pprof parser on generated profiles of realistic shape: a 50 MB CPU
//! profile (hundreds of thousands of distinct stacks) and a goroutine profile. The baseline in
//! the same run decodes the same bytes into prost's owned `Profile` (every sample, label and
//! string allocated), which is what a straightforward decoder would do before any mapping.

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
use leakscope_core::formats::pprof::{self, proto::Profile};
use prost::Message;

fn bench(c: &mut Criterion) {
    let inputs = [
        ("cpu-50MB", profile_gen::cpu_profile(50 << 20)),
        ("goroutine-20k-records", profile_gen::goroutine_profile(20_000)),
    ];
    let mut group = c.benchmark_group("pprof");
    group.sample_size(10);
    for (name, bytes) in &inputs {
        let parsed = pprof::parse_bytes(bytes, name, &Progress::new()).unwrap();
        eprintln!(
            "{name}: {} bytes, {} samples, {} distinct stacks, {} frames, model ~{} MB",
            bytes.len(),
            parsed.samples.len(),
            parsed.tables.stack_count(),
            parsed.tables.frame_count(),
            parsed.heap_bytes() >> 20
        );
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("parse", name), bytes, |b, bytes| {
            b.iter(|| pprof::parse_bytes(bytes, name, &Progress::new()).unwrap());
        });
        group.bench_with_input(BenchmarkId::new("baseline-prost-decode", name), bytes, |b, bytes| {
            b.iter(|| Profile::decode(bytes.as_slice()).unwrap());
        });
        group.throughput(Throughput::Bytes(4096));
        group.bench_with_input(BenchmarkId::new("sniff-4KiB", name), bytes, |b, bytes| {
            b.iter(|| pprof::sniff(&bytes[..4096], false));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
