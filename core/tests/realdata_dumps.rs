//! Conformance: every Go goroutine dump in the real captures (`../shared/realdata`: debug=2
//! dumps with and without the runtime's `(leaked)` marks, SIGQUIT dumps, the 12,000-goroutine
//! `medium` dump, a Go 1.19 dump) parses to exactly the numbers in `ground_truth.json` and
//! `medium.expected.json`. Ignored unless asked for (`cargo test -- --ignored`), and then fails
//! when the captures are absent.
//!
//! The leak families (A1, B2, C3, ...) are defined by the test programs' function names in
//! realdata/README.md; mapping names to families here is a conformance check of what the parser
//! extracted (stacks, creators, states), not a leak rule.

// Test helpers fail the test the way the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use leakscope_core::model::{Capture, Task, TaskFlags, TaskKind};
use leakscope_core::{LoadOptions, Progress};
use serde_json::Value;

fn load(path: &Path) -> Vec<Capture> {
    leakscope_core::open(path, &LoadOptions::default(), &Progress::new())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn goroutines(c: &Capture) -> impl Iterator<Item = Task> + use<'_> {
    c.tasks.iter().filter(|t| t.kind == TaskKind::Goroutine)
}

/// The family of a goroutine, from the function names of the programs that made the captures.
fn family(c: &Capture, t: &Task) -> String {
    let funcs: Vec<&str> = c.stack_funcs(t.stack).collect();
    let has = |name: &str| funcs.contains(&name);
    for entry in ["main.sessionWorker", "main.fanoutSubscriber"] {
        if has(entry) {
            let step = if entry == "main.sessionWorker" { "main.sessionStep" } else { "main.fanoutStep" };
            let depth = funcs.iter().filter(|f| **f == step).count();
            let kind = funcs.iter().find_map(|f| f.strip_prefix("main.block").filter(|k| *k != "Kind"));
            let short = entry.trim_start_matches("main.");
            return format!("L:{short}/d{depth}/{}", kind.unwrap_or("?"));
        }
    }
    let created = t.created_by.map_or("", |f| c.func_name(f));
    let family = if has("main.waitForRelease") {
        "A1"
    } else if has("main.pollUpstream") {
        "A2"
    } else if has("main.publishAuditEvent") {
        "B1"
    } else if has("main.refreshCacheLater") {
        "B2"
    } else if has("main.notifyWebhook") {
        "B3"
    } else if has("database/sql.(*Tx).awaitDone") {
        "C3"
    } else if has("database/sql.(*Tx).QueryContext") {
        "C2"
    } else if has("database/sql.(*DB).QueryContext") {
        // Stuck in the driver inside an HTTP request (C1), or from a plain goroutine (C0).
        if created.starts_with("net/http.") { "C1" } else { "C0" }
    } else {
        "other"
    };
    family.to_owned()
}

/// The first frame outside the runtime, its internal packages and raw system calls, else the
/// leaf.
fn first_non_runtime_frame<'c>(c: &'c Capture, t: &Task) -> &'c str {
    let mut funcs = c.stack_funcs(t.stack).peekable();
    let leaf = funcs.peek().copied().unwrap_or("");
    funcs
        .find(|f| !f.starts_with("runtime.") && !f.starts_with("internal/") && !f.starts_with("syscall."))
        .unwrap_or(leaf)
}

/// The first comma-separated field of the status as the runtime printed it.
fn raw_first_field(c: &Capture, t: &Task) -> String {
    let mut s = c.str(t.state).to_owned();
    for (flag, text) in
        [(TaskFlags::LEAKED, " (leaked)"), (TaskFlags::SCAN, " (scan)"), (TaskFlags::DURABLE, " (durable)")]
    {
        if t.flags.contains(flag) {
            s.push_str(text);
        }
    }
    s
}

fn count<I: IntoIterator<Item = String>>(keys: I) -> BTreeMap<String, u64> {
    let mut map = BTreeMap::new();
    for k in keys {
        *map.entry(k).or_insert(0) += 1;
    }
    map
}

fn json_counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|o| o.iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(u64::MAX))).collect())
        .unwrap_or_default()
}

/// Compares one capture with its ground truth; returns the differences.
fn check(c: &Capture, truth: &Value) -> Vec<String> {
    let diffs = std::cell::RefCell::new(Vec::new());
    let same = |what: &str, got: Value, want: &Value| {
        if &got != want {
            diffs.borrow_mut().push(format!("{what}: got {got}, want {want}"));
        }
    };
    let tasks: Vec<Task> = goroutines(c).collect();
    same("bytes", Value::from(c.source.bytes), &truth["bytes"]);
    same("goroutines", Value::from(c.task_count()), &truth["goroutines"]);
    same("goroutine tasks", Value::from(tasks.len()), &truth["goroutines"]);
    let counts = |name: &str, got: BTreeMap<String, u64>| (name.to_owned(), got, json_counts(&truth[name]));
    let maps = [
        counts("states", count(tasks.iter().map(|t| c.str(t.state).to_owned()))),
        counts("states_raw_first_field", count(tasks.iter().map(|t| raw_first_field(c, t)))),
        counts(
            "created_by_top",
            count(tasks.iter().map(|t| {
                t.created_by
                    .map_or_else(|| "(none: main goroutine)".to_owned(), |f| c.func_name(f).to_owned())
            })),
        ),
        counts("families", count(tasks.iter().map(|t| family(c, t)))),
        counts("family_state", count(tasks.iter().map(|t| format!("{} [{}]", family(c, t), c.str(t.state))))),
        counts(
            "other_by_first_non_runtime_frame",
            count(
                tasks
                    .iter()
                    .filter(|t| family(c, t) == "other")
                    .map(|t| format!("{} [{}]", first_non_runtime_frame(c, t), c.str(t.state))),
            ),
        ),
        counts(
            "minutes_field",
            count(tasks.iter().filter_map(|t| t.wait_ns.get()).map(|ns| (ns / 60_000_000_000).to_string())),
        ),
    ];
    for (name, got, want) in maps {
        if got != want {
            diffs.borrow_mut().push(format!("{name}: got {got:?}, want {want:?}"));
        }
    }
    let leaked = tasks.iter().filter(|t| t.is_leaked()).count();
    same("leaked_marked", Value::from(leaked), &truth["leaked_marked"]);
    let distinct: std::collections::HashSet<_> = tasks.iter().map(|t| (t.stack, t.created_by)).collect();
    same(
        "distinct_stacks_incl_created_by",
        Value::from(distinct.len()),
        &truth["distinct_stacks_incl_created_by"],
    );
    same("max_goroutine_id", Value::from(tasks.iter().map(|t| t.id).max()), &truth["max_goroutine_id"]);
    same(
        "has_creator_goroutine_ids",
        Value::from(tasks.iter().any(|t| t.parent_id.is_some())),
        &truth["has_creator_goroutine_ids"],
    );
    same(
        "m_g0_stacks_goroutine_0",
        Value::from(c.count_of_kind(TaskKind::Resource)),
        &truth["m_g0_stacks_goroutine_0"],
    );
    same(
        "truncated_last_record",
        Value::from(c.tasks.iter().any(|t| t.flags.contains(TaskFlags::TRUNCATED))),
        &truth["truncated_last_record"],
    );
    diffs.into_inner()
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn every_go_dump_matches_ground_truth() {
    let dir = support::realdata();
    let truth = support::ground_truth(&dir);
    let entries: Vec<(&String, &Value)> = truth
        .as_object()
        .expect("ground truth is an object")
        .iter()
        .filter(|(_, v)| v["kind"] == "go-dump")
        .collect();
    assert!(entries.len() >= 23, "expected every Go dump in the ground truth, found {}", entries.len());
    let mut failures = Vec::new();
    for (rel, want) in entries {
        let captures = load(&dir.join(rel));
        if captures.len() != 1 {
            failures.push(format!("{rel}: {} captures, want 1", captures.len()));
            continue;
        }
        let c = &captures[0];
        if !c.warnings.is_empty() {
            failures.push(format!("{rel}: unexpected warnings {:?}", c.warnings.lines()));
        }
        failures.extend(check(c, want).into_iter().map(|d| format!("{rel}: {d}")));
    }
    assert!(failures.is_empty(), "{} differences:\n{}", failures.len(), failures.join("\n"));
}

/// Every Go dump on disk is in the ground truth (none is silently left out of the check).
#[test]
#[ignore = "needs ../shared/realdata"]
fn ground_truth_covers_every_dump_on_disk() {
    let dir = support::realdata();
    let truth = support::ground_truth(&dir);
    let mut missing = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read realdata") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let is_dump = (name.starts_with("goroutine.debug2") || name.ends_with("goroutine.debug2.txt"))
                || name == "sigquit.stderr.txt";
            let rel = path.strip_prefix(&dir).expect("under realdata").to_string_lossy().replace('\\', "/");
            if is_dump && truth.get(&rel).is_none() {
                missing.push(rel);
            }
        }
    }
    assert!(missing.is_empty(), "dumps without ground truth: {missing:?}");
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn medium_dump_matches_its_expected_shapes() {
    let dir = support::realdata();
    let medium = dir.join("go127/medium");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(medium.join("medium.expected.json")).expect("read medium.expected.json"),
    )
    .expect("parse medium.expected.json");
    let captures = load(&medium.join("medium.goroutine.debug2.txt"));
    assert_eq!(captures.len(), 1);
    let c = &captures[0];
    assert_eq!(Value::from(c.task_count()), expected["num_goroutine"]);
    let mut got: BTreeMap<(String, u64, String), (u64, String)> = BTreeMap::new();
    let mut leaked_shapes = 0u64;
    for t in goroutines(c) {
        let fam = family(c, &t);
        let Some(rest) = fam.strip_prefix("L:") else { continue };
        let mut parts = rest.split('/');
        let (entry, depth, kind) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let key = (format!("main.{entry}"), depth[1..].parse().unwrap(), kind.to_lowercase());
        let slot = got.entry(key).or_insert((0, c.str(t.state).to_owned()));
        slot.0 += 1;
        assert_eq!(slot.1, c.str(t.state), "one state per shape");
        leaked_shapes += 1;
    }
    assert_eq!(Value::from(leaked_shapes), expected["leaked"]);
    let shapes = expected["shapes"].as_array().expect("shapes");
    assert_eq!(got.len(), shapes.len());
    for shape in shapes {
        let key = (
            shape["entry"].as_str().unwrap().to_owned(),
            shape["depth"].as_u64().unwrap(),
            shape["kind"].as_str().unwrap().to_owned(),
        );
        let (n, state) = got.get(&key).unwrap_or_else(|| panic!("shape {key:?} not found"));
        assert_eq!(Value::from(*n), shape["count"], "{key:?}");
        assert_eq!(state, shape["expected_wait_reason"].as_str().unwrap(), "{key:?}");
    }
    // 36 shapes plus the goroutine writing the dump, each with one creation site.
    assert_eq!(c.groups().len(), 37);
}
