//! End-to-end measurements for the benchmarks of issue 18's targets: what `leakscope report
//! --json` costs on a file (median time, MB/s, peak heap as a multiple of the file), beside a
//! baseline tool timed in the same run, with the load average, so numbers taken on a shared
//! machine can be judged.
//!
//! The peak heap needs [`crate::alloc::Counting`] installed as the benchmark's global
//! allocator; without it the peak reads 0. It includes the file itself when the loader reads it
//! into memory, as it does for a file written moments ago: the same as the resident memory of
//! a mapped file whose pages were all read and kept (a Chrome trace keeps them, for the args a
//! selection shows), so the ratio compares with the peak RSS the issue quotes. Inputs of
//! formats whose parsers hand a mapping's pages back as they go are written with
//! [`write_aged`], so that they are mapped and the heap is what stays resident.

// Printing the results is what this module is for.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use leakscope_core::Progress;
use leakscope_core::analysis::leaks::Config;
use leakscope_core::load::LoadOptions;
use leakscope_core::report::Report;
use leakscope_core::session::{Input, Purpose, Session};

use crate::alloc;

/// What `leakscope report --json` does with a file, in this process; the JSON's length.
///
/// # Panics
/// When the file does not load: a benchmark input must.
pub fn report_json(path: &Path) -> usize {
    let session = Session::load(
        vec![Input::file(path)],
        &LoadOptions::default(),
        Purpose::Report,
        Config::default(),
        &Progress::new(),
        &mut |_| {},
    )
    .unwrap_or_else(|f| panic!("{} loads: {:?}", path.display(), f.errors));
    let report = Report::from_session(&session);
    serde_json::to_vec(&report.to_json()).map_or(0, |v| v.len())
}

/// Writes a benchmark input dated an hour back, so that the loader maps it as it maps a
/// user's capture instead of reading it into memory as it does a file written moments ago
/// (one that may still be being written). For a format that hands a mapping's pages back as it
/// parses (dumps, Go traces), the peak heap is then what the parse holds beyond the binary.
///
/// # Errors
/// When the file cannot be written or dated.
pub fn write_aged(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)?;
    let hour_ago = std::time::SystemTime::now() - Duration::from_hours(1);
    std::fs::File::options().write(true).open(path)?.set_modified(hour_ago)
}

/// The median of some durations (zero for none).
pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` says them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or_else(|_| "?".to_owned(), |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
}

/// A report's cost on one file.
#[derive(Clone, Copy, Debug)]
pub struct Measured {
    /// Bytes of the file.
    pub size: u64,
    /// Median wall time of the runs.
    pub median: Duration,
    /// Most heap held above what was live before, in bytes.
    pub peak_heap: usize,
}

impl Measured {
    /// Megabytes (10^6) per second.
    pub fn mb_per_s(&self) -> f64 {
        self.size as f64 / 1e6 / self.median.as_secs_f64().max(1e-9)
    }

    /// Peak heap as a multiple of the file.
    pub fn heap_ratio(&self) -> f64 {
        self.peak_heap as f64 / self.size.max(1) as f64
    }
}

/// `report_json` on `path`: once for the peak heap, then `runs` times for the median time.
pub fn measure_report(path: &Path, runs: usize) -> Measured {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let before = alloc::reset_peak();
    report_json(path);
    let peak_heap = alloc::PEAK.load(Ordering::Relaxed).saturating_sub(before);
    let times = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            report_json(path);
            t.elapsed()
        })
        .collect();
    Measured { size, median: median(times), peak_heap }
}

/// The median wall time of `runs` runs of a baseline command (output discarded), or `None`
/// when it cannot run or fails.
pub fn time_command(runs: usize, mut command: impl FnMut() -> Command) -> Option<Duration> {
    let mut times = Vec::new();
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let status = command().stdout(Stdio::null()).stderr(Stdio::null()).status().ok()?;
        if !status.success() {
            return None;
        }
        times.push(t.elapsed());
    }
    Some(median(times))
}

/// Prints one line of results: ours against the targets, and the baseline's time with the
/// ratio, then the load average.
pub fn print(name: &str, ours: &Measured, targets: (Option<f64>, f64), baseline: Option<(&str, Duration)>) {
    let (mb_target, heap_target) = targets;
    let mb_target = mb_target.map_or_else(String::new, |t| format!(" (target {t})"));
    println!(
        "{name}: {:.1} MB: report median {:.3} s = {:.1} MB/s{mb_target}; peak heap {:.1} MB = {:.2}x the file (target {heap_target}x); load average {}",
        ours.size as f64 / 1e6,
        ours.median.as_secs_f64(),
        ours.mb_per_s(),
        ours.peak_heap as f64 / 1e6,
        ours.heap_ratio(),
        load_average()
    );
    if let Some((tool, theirs)) = baseline {
        println!(
            "{name}: baseline {tool} median {:.3} s; leakscope report takes {:.2}x its time",
            theirs.as_secs_f64(),
            ours.median.as_secs_f64() / theirs.as_secs_f64().max(1e-9)
        );
    }
}
