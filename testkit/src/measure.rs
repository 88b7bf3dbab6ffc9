//! End-to-end measurements for the benchmarks of issue 18's targets: what `leakscope report
//! --json` costs on a file (median time, MB/s, peak heap as a multiple of the file), beside a
//! baseline tool timed in the same run, with the load average, so numbers taken on a shared
//! machine can be judged.
//!
//! The peak heap needs [`crate::alloc::Counting`] installed as the benchmark's global
//! allocator; without it the peak reads 0. It includes the file itself when the loader reads it
//! into memory, as it does for a file written moments ago. Inputs written with [`write_aged`]
//! are mapped as a user's file is, and parsers that hand a mapping's pages back as they go
//! (dumps, Go traces, Chrome traces) then hold what the heap says plus the pages being read.
//! So the peak resident growth is measured too, in a fresh process (the kernel's high-water
//! mark over the report, less what was resident before it): the heap that was touched and the
//! mapped pages resident at once, which is what a user's `leakscope report` adds to its
//! footprint, and what memory targets are judged on.

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
/// parses (dumps, Go traces, Chrome traces), the peak heap is then what the parse holds beyond
/// the binary.
///
/// Written in 64 KiB pieces, as the programs that make captures write them (a tracer's
/// buffers, a runtime's dump): one write of the whole lets the kernel (6.x) cache the file in
/// large folios, and a mapping of those faults in, and keeps, far more than the pages read. On
/// a 12.9 MB Node.js trace that made the resident growth of the same parse 25.5 MB instead of
/// 14.7 MB.
///
/// # Errors
/// When the file cannot be written or dated.
pub fn write_aged(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::File::create(path)?;
    for piece in bytes.chunks(64 << 10) {
        file.write_all(piece)?;
    }
    let hour_ago = std::time::SystemTime::now() - Duration::from_hours(1);
    file.set_modified(hour_ago)
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
    /// Most resident memory above what was resident before, in bytes: the heap that was
    /// touched plus the pages of a mapped file that were resident at once. What a user's
    /// `leakscope report` adds to its start-up footprint. `None` where the kernel cannot say.
    pub peak_resident: Option<usize>,
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

    /// Peak resident growth as a multiple of the file.
    pub fn resident_ratio(&self) -> Option<f64> {
        self.peak_resident.map(|r| r as f64 / self.size.max(1) as f64)
    }
}

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`).
fn status_bytes(field: &str) -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The environment variable that makes a benchmark process a child measuring one file.
const CHILD: &str = "LEAKSCOPE_MEASURE_RESIDENT";

/// In a benchmark process started by [`measure_report`] to measure resident memory: reports
/// the one file it was given, prints how much its resident set grew, and exits. Elsewhere it
/// returns at once. A benchmark that calls [`measure_report`] calls this first, before it
/// makes its inputs.
///
/// A fresh process, because in the benchmark's own the heap that earlier runs freed is kept by
/// the allocator and reused (hiding growth) or fragmented across threads' arenas (adding to
/// it): neither is what a user's `leakscope report` sees.
pub fn serve_child() {
    let Some(path) = std::env::var_os(CHILD) else { return };
    // A new high-water mark (Linux 4.0+: `5` to `clear_refs`) from what is resident now.
    let growth = std::fs::write("/proc/self/clear_refs", "5").ok().and_then(|()| {
        let before = status_bytes("VmRSS:")?;
        report_json(Path::new(&path));
        Some(status_bytes("VmHWM:")?.saturating_sub(before))
    });
    println!("{CHILD}={}", growth.map_or_else(|| "?".to_owned(), |g| g.to_string()));
    std::process::exit(0);
}

/// The resident growth of reporting `path`, measured in a fresh copy of this benchmark (see
/// [`serve_child`]); `None` where it cannot be (no `/proc`, or already in such a child).
fn resident_in_child(path: &Path) -> Option<usize> {
    if std::env::var_os(CHILD).is_some() {
        return None;
    }
    let out = Command::new(std::env::current_exe().ok()?)
        .arg("--bench")
        .env(CHILD, path)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout.lines().find_map(|l| l.strip_prefix(CHILD)?.strip_prefix('=')?.parse().ok())
}

/// `report_json` on `path`: once for the peak heap, then `runs` times for the median time.
pub fn measure_report(path: &Path, runs: usize) -> Measured {
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let before = alloc::reset_peak();
    report_json(path);
    let peak_heap = alloc::PEAK.load(Ordering::Relaxed).saturating_sub(before);
    let peak_resident = resident_in_child(path);
    let times = (0..runs.max(1))
        .map(|_| {
            let t = Instant::now();
            report_json(path);
            t.elapsed()
        })
        .collect();
    Measured { size, median: median(times), peak_heap, peak_resident }
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
    let (mb_target, memory_target) = targets;
    let mb_target = mb_target.map_or_else(String::new, |t| format!(" (target {t})"));
    // The memory target is judged on what is resident where the kernel says it (a mapped file's
    // pages count as long as they stay), else on the heap.
    let (heap_target, resident_target) = match ours.peak_resident {
        Some(_) => (String::new(), format!(" (target {memory_target}x)")),
        None => (format!(" (target {memory_target}x)"), String::new()),
    };
    println!(
        "{name}: {:.1} MB: report median {:.3} s = {:.1} MB/s{mb_target}; peak heap {:.1} MB = {:.2}x the file{heap_target}; load average {}",
        ours.size as f64 / 1e6,
        ours.median.as_secs_f64(),
        ours.mb_per_s(),
        ours.peak_heap as f64 / 1e6,
        ours.heap_ratio(),
        load_average()
    );
    if let (Some(bytes), Some(ratio)) = (ours.peak_resident, ours.resident_ratio()) {
        println!(
            "{name}: peak resident growth {:.1} MB = {ratio:.2}x the file{resident_target} (heap touched and mapped pages resident at once)",
            bytes as f64 / 1e6
        );
    }
    if let Some((tool, theirs)) = baseline {
        println!(
            "{name}: baseline {tool} median {:.3} s; leakscope report takes {:.2}x its time",
            theirs.as_secs_f64(),
            ours.median.as_secs_f64() / theirs.as_secs_f64().max(1e-9)
        );
    }
}
