//! Where a Go execution trace's memory goes: parses a file the way the app does (mmap, sniff,
//! parse) under a counting allocator and prints the peak heap, what the finished model holds,
//! structure by structure, and the peak resident set (heap plus the mapped pages still
//! resident), each as a multiple of the file size; with `--report`, the peak heap of what
//! `leakscope report` does (load, analysis, report) measured on its own, as the benchmarks do.
//! `cargo run --release -p leakscope-core --example trace_memory -- FILE [--report]`
//! (the targets themselves are checked by `cargo bench -p leakscope --bench vs_go_tool_trace`)

#![allow(clippy::print_stderr, clippy::cast_precision_loss)]

use std::sync::atomic::Ordering;
use std::time::Instant;

use leakscope_core::model::{Capture, Counter};
use leakscope_core::{LoadOptions, Progress, open};

use leakscope_testkit::alloc::{Counting, LIVE, PEAK};

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak resident set so far, from the kernel (`VmHWM`), in bytes.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn model_parts(c: &Capture) -> Vec<(&'static str, usize)> {
    let iv = &c.intervals;
    let trace = c.trace.as_deref();
    let mut parts = iv.parts().to_vec();
    parts.extend([
        ("links", c.links.heap_bytes()),
        ("tasks", c.tasks.heap_bytes()),
        ("strings", c.strings.heap_bytes()),
        ("stack tables", c.tables.heap_bytes()),
        (
            "samples",
            c.samples.stack.capacity() * 4
                + c.samples.values.capacity() * 8
                + c.samples.labels.capacity() * 4
                + c.samples.time_ns.capacity() * 8
                + c.samples.task.capacity() * 4,
        ),
        ("counters", c.counters.iter().map(Counter::heap_bytes).sum()),
        ("chrome details", c.chrome.as_deref().map_or(0, leakscope_core::model::ChromeInfo::heap_bytes)),
        (
            "trace info",
            trace.map_or(0, |t| {
                t.user_tasks.capacity() * 64 + t.regions.capacity() * 48 + t.logs.capacity() * 48
            }),
        ),
    ]);
    parts
}

/// Runs `work`; with `profile`, prints the live heap above `base` (as a multiple of the file)
/// whenever it has moved by a twentieth of the file since last printed, with the time and
/// `stage`.
fn sampled<T>(
    profile: bool,
    file: f64,
    base: usize,
    stage: &(dyn Fn() -> String + Sync),
    work: impl FnOnce() -> T,
) -> T {
    let started = Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        if profile {
            s.spawn(|| {
                let mut last = 0usize;
                while !done.load(Ordering::Relaxed) {
                    let live = LIVE.load(Ordering::Relaxed).saturating_sub(base);
                    if live.abs_diff(last) as f64 > file * 0.05 {
                        let at = started.elapsed().as_secs_f64();
                        eprintln!("  {at:>7.3} s  {}  live {:.2}x", stage(), live as f64 / file);
                        last = live;
                    }
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
            });
        }
        let out = work();
        done.store(true, Ordering::Relaxed);
        out
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        return Err("usage: trace_memory FILE [--report]".into());
    };
    let report = args.next().as_deref() == Some("--report");
    let file = std::fs::metadata(&path)?.len() as f64;
    let x = |b: usize| b as f64 / file;
    let started = Instant::now();
    let progress = Progress::new();
    // With LEAKSCOPE_MEMORY_PROFILE set, the live heap is sampled as the parse goes.
    let profile = std::env::var_os("LEAKSCOPE_MEMORY_PROFILE").is_some();
    let captures =
        sampled(profile, file, 0, &|| format!("progress {:>5.1}%", progress.fraction() * 100.0), || {
            open(path.as_ref(), &LoadOptions::default(), &progress)
        })?;
    let elapsed = started.elapsed().as_secs_f64();
    let peak_heap = PEAK.load(Ordering::Relaxed);
    let rss = peak_rss().unwrap_or(0);
    let live = LIVE.load(Ordering::Relaxed);
    eprintln!("file {:.1} MB, parsed in {elapsed:.3} s", file / 1e6);
    for c in &captures {
        eprintln!(
            "{} tasks, {} intervals, {} links, {} samples",
            c.tasks.len(),
            c.intervals.len(),
            c.links.len(),
            c.samples.len()
        );
        let max_goid = c
            .tasks
            .iter()
            .filter(|t| t.kind == leakscope_core::model::TaskKind::Goroutine)
            .map(|t| t.id)
            .max();
        eprintln!(
            "  ({} task shapes, {} ends stored, largest goroutine id {max_goid:?})",
            c.tasks.shapes(),
            c.intervals.stored_ends()
        );
        for k in &c.counters {
            eprintln!("  counter {}: {} points in {} bytes", c.str(k.name), k.len(), k.heap_bytes());
        }
        let n = c.intervals.len().max(1) as f64;
        for (name, bytes) in model_parts(c) {
            eprintln!(
                "  {name:<20} {:>8.1} MB {:>5.2}x  {:>5.1} B/interval",
                bytes as f64 / 1e6,
                x(bytes),
                bytes as f64 / n
            );
        }
    }
    eprintln!("heap after parse  {:>8.1} MB {:>5.2}x", live as f64 / 1e6, x(live));
    eprintln!(
        "peak heap (parse) {:>8.1} MB {:>5.2}x ({peak_heap} bytes)",
        peak_heap as f64 / 1e6,
        x(peak_heap)
    );
    eprintln!("peak RSS (parse)  {:>8.1} MB {:>5.2}x", rss as f64 / 1e6, x(rss));
    if report {
        // What `leakscope report` holds: the session's load (the same parse) and the analysis
        // and report on top of the model, measured on their own after this parse's model goes.
        drop(captures);
        let base = leakscope_testkit::alloc::reset_peak();
        let started = Instant::now();
        let bytes = sampled(profile, file, base, &|| "report".to_owned(), || {
            leakscope_testkit::measure::report_json(path.as_ref())
        });
        let peak_heap = PEAK.load(Ordering::Relaxed).saturating_sub(base);
        eprintln!("report ({bytes} bytes of JSON) in {:.3} s", started.elapsed().as_secs_f64());
        eprintln!("peak heap (report)    {:>8.1} MB {:>5.2}x", peak_heap as f64 / 1e6, x(peak_heap));
    }
    Ok(())
}
