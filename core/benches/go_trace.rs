//! Go execution trace parsing throughput, on a trace generated in the repository with the shape
//! of a busy server (threads running goroutines that block, wake each other, spawn and end,
//! syscalls, allocation metrics, CPU samples; several generations with their own tables).

#![allow(missing_docs, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakscope_core::Progress;
use leakscope_core::formats::go_trace;

use leakscope_testkit::go_trace::{Shape, generate};

fn parse(c: &mut Criterion) {
    let bytes = generate(Shape { bytes: 8 << 20, ..Shape::default() });
    let mut group = c.benchmark_group("go_trace");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.sample_size(10);
    group.bench_function("parse 8 MiB server-shaped trace", |b| {
        b.iter(|| go_trace::parse_bytes(&bytes, "bench", &Progress::new()).expect("generated trace parses"));
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
