//! Loads a capture the way the app does (mmap, sniff, parse) and prints how long it took and
//! what came out; run it under `/usr/bin/time -v` for peak memory:
//! `cargo run --release -p leakscope-core --example load_capture -- FILE`

use std::time::Instant;

use leakscope_core::{LoadOptions, Progress, open};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(path) = std::env::args().nth(1) else {
        return Err("usage: load_capture FILE".into());
    };
    let started = Instant::now();
    let captures = open(path.as_ref(), &LoadOptions::default(), &Progress::new())?;
    let elapsed = started.elapsed();
    let bytes = std::fs::metadata(&path)?.len();
    for c in &captures {
        eprintln!(
            "{}: {:?}, {} tasks, {} intervals, {} links, {} counters, {} samples, {} warnings, model ~{} MB",
            path,
            c.source.format,
            c.tasks.len(),
            c.intervals.len(),
            c.links.len(),
            c.counters.len(),
            c.samples.len(),
            c.warnings.list().len() as u64 + c.warnings.suppressed(),
            c.heap_bytes() >> 20
        );
    }
    eprintln!(
        "loaded {} MB in {:.3} s: {:.0} MB/s",
        bytes >> 20,
        elapsed.as_secs_f64(),
        bytes as f64 / 1e6 / elapsed.as_secs_f64()
    );
    Ok(())
}
