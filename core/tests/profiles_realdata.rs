//! Conformance of the pprof and `debug=1` text parsers with the real Go captures in
//! `../shared/realdata`: every `*.pb.gz` and every `*.debug1.txt` there is opened through the
//! loader (so sniffing is checked too) and compared with `ground_truth.json`, which was computed
//! with `go tool pprof` and from the files themselves. Ignored unless asked for
//! (`cargo test -- --ignored`), and then fails when the captures are absent.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr, clippy::indexing_slicing)]

mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use leakscope_core::model::{Capture, FormatKind, StackId};
use leakscope_core::{LoadOptions, Progress};
use serde_json::Value;

fn files_under(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn load(path: &Path) -> Capture {
    let mut captures = leakscope_core::open(path, &LoadOptions::default(), &Progress::new())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(captures.len(), 1, "{}", path.display());
    captures.remove(0)
}

fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/")
}

fn first_main_frame(c: &Capture, stack: StackId) -> Option<&str> {
    c.stack_funcs(stack).find(|f| f.starts_with("main."))
}

/// A value as `go tool pprof` prints it (`920ms`, `1.03s`, `5635.13kB`, `18947`) in base units
/// (nanoseconds, bytes, counts), with the half-unit of its last printed digit as tolerance.
fn pprof_quantity(text: &str) -> (f64, f64) {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "" | "B" | "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "mins" => 60e9,
        "hrs" => 3600e9,
        "kB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        other => panic!("unknown pprof unit {other:?} in {text:?}"),
    };
    let decimals = number.split_once('.').map_or(0, |(_, d)| d.len());
    let value: f64 = number.parse().unwrap_or_else(|_| panic!("not a number: {text:?}"));
    (value * scale, 0.5 * 10f64.powi(-(decimals as i32)) * scale)
}

fn assert_close(what: &str, ours: i64, theirs: &str) {
    let (value, tolerance) = pprof_quantity(theirs);
    assert!(
        (ours as f64 - value).abs() <= tolerance + 1e-6,
        "{what}: ours {ours}, go tool pprof printed {theirs} ({value} ± {tolerance})"
    );
}

/// Flat (value where the function is the leaf) and cum (value of samples whose stack holds the
/// function anywhere, counted once) of one column, per function name.
fn flat_cum(c: &Capture, column: usize, func: &str) -> (i64, i64) {
    let (mut flat, mut cum) = (0i64, 0i64);
    for (i, &stack) in c.samples.stack.iter().enumerate() {
        let v = c.samples.value(i, column);
        let mut funcs = c.stack_funcs(stack);
        if funcs.next() == Some(func) {
            flat += v;
        }
        if c.stack_funcs(stack).any(|f| f == func) {
            cum += v;
        }
    }
    (flat, cum)
}

/// Checks `go tool pprof -top` rows: flat and cum per function for one column.
fn check_rows(c: &Capture, column: usize, rows: &Value, name: &str) {
    let rows = rows.as_array().unwrap();
    if c.samples.total(column) != 0 {
        assert!(!rows.is_empty(), "{name}: no rows to compare");
    }
    for row in rows {
        let func = row["func"].as_str().unwrap();
        let func = func.trim_end_matches(" (inline)").trim_end_matches(" (partial-inline)");
        let (flat, cum) = flat_cum(c, column, func);
        assert_close(&format!("{name}: flat of {func}"), flat, row["flat"].as_str().unwrap());
        assert_close(&format!("{name}: cum of {func}"), cum, row["cum"].as_str().unwrap());
    }
}

fn column(c: &Capture, kind: &str) -> usize {
    c.samples.types.iter().position(|t| c.str(t.kind) == kind).unwrap_or_else(|| panic!("no {kind} column"))
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn every_pprof_file_matches_the_ground_truth() {
    let root = support::realdata();
    let truth = support::ground_truth(&root);
    let files = files_under(&root, ".pb.gz");
    assert!(files.len() >= 30, "expected the whole set, found {}", files.len());
    let mut checked = HashSet::new();
    for path in &files {
        let name = rel(&root, path);
        let c = load(path);
        assert_eq!(c.source.format, Some(FormatKind::Pprof), "{name}");
        assert!(c.source.gzipped, "{name}");
        assert!(c.warnings.is_empty(), "{name}: {:?}", c.warnings.lines());
        assert!(c.source.captured_at_ns.is_some_and(|t| t > 1_600_000_000_000_000_000), "{name}");
        let Some(t) = truth.get(&name) else {
            eprintln!("{name}: no ground truth; parsed only");
            continue;
        };
        match t["kind"].as_str().unwrap() {
            "go-goroutine-pb" => check_goroutine_pb(&name, &c, t),
            "go-cpu-pb" => check_cpu_pb(&name, &c, t),
            "go-heap-pb" => check_heap_pb(&name, &c, t),
            other => panic!("{name}: unexpected kind {other}"),
        }
        checked.insert(name);
    }
    // Every pprof entry of the ground truth was found and checked.
    for (name, t) in truth.as_object().unwrap() {
        if t["kind"].as_str().is_some_and(|k| k.ends_with("-pb")) {
            assert!(checked.contains(name), "{name} is in the ground truth but was not checked");
        }
    }
}

fn check_goroutine_pb(name: &str, c: &Capture, t: &Value) {
    let ty = t["type"].as_str().unwrap();
    assert_eq!(c.source.profile_type.as_deref(), Some(ty), "{name}");
    assert_eq!(c.samples.types.len(), 1, "{name}");
    assert_eq!(c.str(c.samples.types[0].kind), ty, "{name}");
    // `go tool pprof -traces`, which the ground truth was made with, prints no trace for a
    // sample without locations: a goroutine whose only frame was runtime.goexit, which the
    // runtime leaves out of the profile. The runtime counted it, so it stays in our total.
    let empty: i64 = (0..c.samples.len())
        .filter(|&i| c.tables.stack(c.samples.stack[i]).is_empty())
        .map(|i| c.samples.value(i, 0))
        .sum();
    let total = t["total"].as_i64().unwrap();
    assert_eq!(c.samples.total(0) - empty, total, "{name}: total of samples with a stack");
    assert_eq!(c.task_count(), (total + empty) as u64, "{name}");
    let distinct: HashSet<StackId> =
        c.samples.stack.iter().copied().filter(|&s| !c.tables.stack(s).is_empty()).collect();
    assert_eq!(distinct.len() as u64, t["distinct_stacks"].as_u64().unwrap(), "{name}: distinct stacks");
    // The top stacks: each (count, leaf, first main. frame) is one of our samples.
    let mut used = HashSet::new();
    for top in t["top_stacks"].as_array().unwrap() {
        let count = top["count"].as_i64().unwrap();
        let leaf = top["leaf"].as_str();
        let main = top["first_main_frame"].as_str();
        let found = (0..c.samples.len()).find(|&i| {
            let s = c.samples.stack[i];
            !used.contains(&i)
                && c.samples.value(i, 0) == count
                && c.stack_funcs(s).next() == leaf
                && first_main_frame(c, s) == main
        });
        let i = found.unwrap_or_else(|| panic!("{name}: no sample like {top}"));
        used.insert(i);
    }
    let groups = c.groups();
    assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), c.task_count(), "{name}");
    assert!(groups.windows(2).all(|w| w[0].count >= w[1].count), "{name}: groups sorted by count");
    assert_eq!(groups.iter().all(|g| g.leaked), ty == "goroutineleak", "{name}");
}

fn check_cpu_pb(name: &str, c: &Capture, t: &Value) {
    assert_eq!(c.source.profile_type.as_deref(), Some("cpu"), "{name}");
    let cpu = column(c, "cpu");
    assert_eq!(c.samples.default_type, cpu, "{name}");
    let header = &t["header"];
    // "Duration: 3s, Total samples = 920ms (30.66%)"
    let line = header["Duration"].as_str().unwrap();
    let duration = line.strip_prefix("Duration: ").unwrap().split(',').next().unwrap();
    assert_close(&format!("{name}: duration"), c.source.duration_ns.unwrap(), duration);
    let total = line.split("Total samples = ").nth(1).unwrap().split_whitespace().next().unwrap();
    assert_close(&format!("{name}: total"), c.samples.total(cpu), total);
    check_rows(c, cpu, &t["rows"], name);
    assert_eq!(c.task_count(), 0, "{name}");
}

fn check_heap_pb(name: &str, c: &Capture, t: &Value) {
    assert_eq!(c.source.profile_type.as_deref(), Some("heap"), "{name}");
    assert_eq!(c.samples.types.len(), 4, "{name}");
    assert_eq!(c.samples.default_type, column(c, "inuse_space"), "{name}");
    for kind in ["inuse_objects", "inuse_space"] {
        let col = column(c, kind);
        let section = &t[kind];
        // "Showing nodes accounting for 5635.13kB, 100% of 5635.13kB total"
        let line = section["header"]["Showing nodes accounting for"].as_str().unwrap();
        let total = line.rsplit(" of ").next().unwrap().trim_end_matches(" total");
        assert_close(&format!("{name}: {kind} total"), c.samples.total(col), total);
        check_rows(c, col, &section["rows"], &format!("{name} {kind}"));
    }
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn every_debug1_text_matches_the_ground_truth() {
    let root = support::realdata();
    let truth = support::ground_truth(&root);
    let files = files_under(&root, ".debug1.txt");
    assert!(files.len() >= 19, "expected the whole set, found {}", files.len());
    for path in &files {
        let name = rel(&root, path);
        let c = load(path);
        assert_eq!(c.source.format, Some(FormatKind::GoGoroutineProfileText), "{name}");
        let t = truth.get(&name).unwrap_or_else(|| panic!("{name}: no ground truth"));
        assert_eq!(t["kind"], "go-debug1", "{name}");
        assert_eq!(c.source.profile_type.as_deref(), t["profile"].as_str(), "{name}");
        assert_eq!(c.samples.len() as u64, t["records"].as_u64().unwrap(), "{name}: records");
        assert_eq!(c.samples.total(0), t["sum_of_records"].as_i64().unwrap(), "{name}: sum of records");
        assert_eq!(c.task_count(), t["sum_of_records"].as_u64().unwrap(), "{name}");
        // No warnings also means the header's total equals the sum of the records.
        assert_eq!(t["total"], t["sum_of_records"], "{name}");
        assert!(c.warnings.is_empty(), "{name}: {:?}", c.warnings.lines());
        for i in 0..c.samples.len() {
            let frames = c.tables.stack(c.samples.stack[i]);
            for &f in frames {
                let frame = c.tables.frame(f);
                assert!(!c.str(frame.func).is_empty(), "{name}: a frame without a function");
                let ext = Path::new(c.str(frame.file)).extension().and_then(|e| e.to_str());
                assert!(matches!(ext, Some("go" | "s")), "{name}: {}", c.str(frame.file));
                assert!(frame.line > 0, "{name}");
            }
        }
        assert_eq!(c.groups().iter().all(|g| g.leaked), t["profile"] == "goroutineleak", "{name}");
    }
}

/// The medium capture states the exact count of each of its 36 leak shapes; both the pb and the
/// text form must reproduce them as groups keyed by the first `main.` frame under the leaf.
#[test]
#[ignore = "needs ../shared/realdata"]
fn medium_capture_shapes() {
    let root = support::realdata();
    let dir = root.join("go127/medium");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("medium.expected.json")).unwrap()).unwrap();
    let leaked = expected["leaked"].as_u64().unwrap();
    for file in ["medium.goroutine.pb.gz", "medium.goroutine.debug1.txt"] {
        let c = load(&dir.join(file));
        assert_eq!(c.task_count(), expected["num_goroutine"].as_u64().unwrap(), "{file}");
        let groups = c.groups();
        let shapes = expected["shapes"].as_array().unwrap();
        assert_eq!(shapes.iter().map(|s| s["count"].as_u64().unwrap()).sum::<u64>(), leaked);
        // The 36 shapes have distinct stacks, so the groups holding a shape's entry function
        // are exactly the shapes; their counts, sorted, are the expected counts, sorted.
        let entries: HashSet<&str> = shapes.iter().map(|s| s["entry"].as_str().unwrap()).collect();
        let mut ours: Vec<u64> = groups
            .iter()
            .filter(|g| c.stack_funcs(g.stack).any(|f| entries.contains(f)))
            .map(|g| g.count)
            .collect();
        let mut theirs: Vec<u64> = shapes.iter().map(|s| s["count"].as_u64().unwrap()).collect();
        ours.sort_unstable();
        theirs.sort_unstable();
        assert_eq!(ours, theirs, "{file}");
    }
}
