//! Cross-check against Go's own trace reader: `go tool trace -d=parsed` prints every event in
//! its final order with its time; every goroutine state transition it reports must appear in
//! our model at the same nanosecond, with the same new state and reason, and nothing else.
//!
//! Needs a Go toolchain (1.22+): `$LEAKSCOPE_GO`, else `../.govenv/bin/go` beside the workspace,
//! else `go` on the PATH; skips with a message when there is none (fails in CI, which installs it). Runs over the traces in
//! `sample-traces/` and Go's golden traces that Go accepts, and, as an ignored test (`cargo test
//! -- --ignored`), over the real captures.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::print_stderr, clippy::indexing_slicing)]

mod go_trace_text;
mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use leakscope_core::model::{Capture, IntervalKind, TaskFlags, TaskKind};
use leakscope_core::{LoadOptions, Progress};

/// Events per kind in Go's output (the word after the context on each event line).
fn go_kinds(text: &str) -> BTreeMap<String, u64> {
    let mut kinds = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("M=")) {
        if let Some(kind) = line.split_whitespace().nth(3) {
            *kinds.entry(kind.to_owned()).or_default() += 1;
        }
    }
    kinds
}

/// One goroutine state change: time, new state (Go's names) and reason.
type Transition = (i64, String, String);

/// Transitions per goroutine id as Go's reader reports them, without the first sighting of
/// goroutines that existed before the trace (we date those back to the trace's start) and
/// without same-state transitions (statuses repeated at generation boundaries).
fn go_transitions(text: &str) -> BTreeMap<u64, Vec<Transition>> {
    let mut by_g: BTreeMap<u64, Vec<Transition>> = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.split_once(" StateTransition Time=").map(|(_, r)| r) else { continue };
        let Some((time, rest)) = rest.split_once(' ') else { continue };
        let Some(rest) = rest.strip_prefix("GoID=") else { continue };
        let (goid, rest) = rest.split_once(' ').unwrap();
        let (change, reason) = rest.split_once(" Reason=").unwrap();
        let (from, to) = change.split_once("->").unwrap();
        if from == to || from == "Undetermined" {
            continue;
        }
        let reason = reason.trim_matches('"').to_owned();
        by_g.entry(goid.parse().unwrap()).or_default().push((time.parse().unwrap(), to.to_owned(), reason));
    }
    by_g
}

fn our_transitions(c: &Capture) -> BTreeMap<u64, Vec<Transition>> {
    let mut by_g: BTreeMap<u64, Vec<Transition>> = BTreeMap::new();
    for task in c.tasks.iter().filter(|t| t.kind == TaskKind::Goroutine) {
        let list = by_g.entry(task.id).or_default();
        let mut prev_end = None;
        for (n, i) in task.intervals.indices().filter(|&i| c.intervals.depth(i) == 0).enumerate() {
            let start = c.intervals.start(i);
            if let Some(end) = prev_end {
                assert_eq!(end, start, "goroutine {}: state intervals must be contiguous", task.id);
            }
            prev_end = Some(c.intervals.end(i));
            if n == 0 && task.flags.contains(TaskFlags::EXISTED_BEFORE) {
                continue;
            }
            let state = match c.intervals.kind(i) {
                IntervalKind::Running => "Running",
                IntervalKind::Runnable => "Runnable",
                IntervalKind::Blocked => "Waiting",
                IntervalKind::Syscall => "Syscall",
                other => panic!("goroutine {} has a {other:?} state interval", task.id),
            };
            list.push((start, state.to_owned(), c.str(c.intervals.label(i)).to_owned()));
        }
        if let Some(end) = task.end_ns.get() {
            list.push((end, "NotExist".to_owned(), String::new()));
        }
    }
    by_g.retain(|_, v| !v.is_empty());
    by_g
}

/// How many times Go's reader is run on one trace before a difference counts. Go's reader is
/// not deterministic: for Go 1.11-1.21 traces it merges the per-P batches visiting the Ps in its
/// map's iteration order, which is random per process, so events of different Ps at the same
/// clock tick come out in an order that changes from run to run, and the times it then makes
/// strictly increasing change with it (e.g. `http_1_19_good.trace`: two syscalls at the same
/// tick on P 2 and P 5 get 6037332 and 6037334 in either order, about half the runs each). Our
/// order is fixed and is one that Go produces; a trace passes only if one of Go's runs matches
/// ours exactly, so nothing is compared less strictly.
const GO_RUNS: usize = 24;

fn compare(go: &Path, path: &Path, name: &str) -> usize {
    let capture = leakscope_core::open(path, &LoadOptions::default(), &Progress::new())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .remove(0);
    let kinds: BTreeMap<String, u64> =
        capture.trace.as_ref().unwrap().event_counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    let got = our_transitions(&capture);
    let mut first_difference = None;
    for run in 1..=GO_RUNS {
        let out = Command::new(go)
            .args(["tool", "trace", "-d=parsed"])
            .arg(path)
            .output()
            .expect("run go tool trace");
        assert!(
            out.status.success(),
            "go tool trace failed on {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert_eq!(kinds, go_kinds(&text), "{name}: events per kind");
        let want = go_transitions(&text);
        match difference(&want, &got) {
            None => {
                if run > 1 {
                    eprintln!(
                        "{name}: identical to Go's run {run} (its earlier runs ordered same-tick events differently)"
                    );
                }
                return want.values().map(Vec::len).sum();
            }
            Some(d) => {
                first_difference.get_or_insert(d);
            }
        }
    }
    panic!(
        "{name}: none of {GO_RUNS} runs of go tool trace matches; the first run's difference:\n{}",
        first_difference.unwrap()
    );
}

/// The first goroutine whose transitions differ, with the transitions around the difference.
fn difference(want: &BTreeMap<u64, Vec<Transition>>, got: &BTreeMap<u64, Vec<Transition>>) -> Option<String> {
    let goroutines: std::collections::BTreeSet<u64> = want.keys().chain(got.keys()).copied().collect();
    for g in goroutines {
        let (w, o) = (want.get(&g).cloned().unwrap_or_default(), got.get(&g).cloned().unwrap_or_default());
        if w != o {
            let first = w.iter().zip(&o).position(|(a, b)| a != b).unwrap_or(w.len().min(o.len()));
            return Some(format!(
                "goroutine {g} differs at transition {first}:\n  go:  {:?}\n  us:  {:?}",
                w.get(first.saturating_sub(1)..(first + 2).min(w.len())),
                o.get(first.saturating_sub(1)..(first + 2).min(o.len()))
            ));
        }
    }
    None
}

#[test]
fn transitions_match_go_tool_trace() {
    let Some(go) = support::go_binary("transitions_match_go_tool_trace") else { return };
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in walk(&support::sample_traces()) {
        if entry.extension().is_some_and(|e| e == "trace") {
            files.push((entry.file_name().unwrap().to_string_lossy().into_owned(), entry));
        }
    }
    let tmp = std::env::temp_dir().join(format!("leakscope-go-golden-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for entry in walk(&support::sample_traces().join("go-testdata")) {
        if entry.extension().is_none_or(|e| e != "test") {
            continue;
        }
        let (expect, bytes) = go_trace_text::parse_test_file(&std::fs::read_to_string(&entry).unwrap());
        if expect == go_trace_text::Expect::Success {
            let out = tmp.join(entry.file_name().unwrap()).with_extension("trace");
            std::fs::write(&out, bytes).unwrap();
            files.push((entry.file_name().unwrap().to_string_lossy().into_owned(), out));
        }
    }
    let total = compare_all(&go, files);
    std::fs::remove_dir_all(&tmp).ok();
    assert!(total > 0);
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn transitions_match_go_tool_trace_on_realdata() {
    let realdata = support::realdata();
    let Some(go) = support::go_binary("transitions_match_go_tool_trace_on_realdata") else { return };
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in walk(&realdata) {
        if entry.extension().is_some_and(|e| e == "trace") {
            files.push((entry.strip_prefix(&realdata).unwrap().display().to_string(), entry));
        }
    }
    assert!(compare_all(&go, files) > 0);
}

/// Compares every trace with Go's reader, in name order; returns the transitions checked.
fn compare_all(go: &Path, mut files: Vec<(String, PathBuf)>) -> usize {
    files.sort();
    let mut total = 0;
    for (name, path) in &files {
        total += compare(go, path, name);
    }
    eprintln!("{} traces, {total} goroutine transitions identical to go tool trace", files.len());
    total
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
