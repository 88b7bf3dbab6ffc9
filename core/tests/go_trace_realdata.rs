//! Every execution trace in the real captures parses (the Go 1.27 ones in the current format, the
//! Go 1.19 one in the old format), and its numbers match `ground_truth.json`,
//! which was computed with Go's own trace reader (`internal/trace` via `golang.org/x/exp/trace`):
//! goroutines seen, existing at the start, created, created-and-ended and created-and-alive in
//! the window, per start function, end states, event counts by kind, and the goroutines blocked
//! at the end by leak family and block reason.
//!
//! How ground truth defines its numbers (reproduced here from the model):
//! - a goroutine "existed at start" when the first thing the trace says of it is a status (its
//!   state before the trace is undetermined), else it was "created in the window";
//! - start functions are the creation event's start PC (the new goroutine's entry function);
//! - end states are Go's `GoState` names of the last state of goroutines that did not end;
//! - the block reason of a goroutine blocked at the end is the reason of the block that put it
//!   there, or "status at trace start, no reason" when the trace never saw it block (only its
//!   status was recorded, which carries no reason);
//! - families are the scenario's leak shapes, recognised here by the functions on the stack
//!   (the classification is the test's, so that the parser is checked on stacks and reasons).

#![allow(clippy::expect_used, clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use leakscope_core::model::{Capture, IntervalKind, TaskFlags, TaskKind};
use leakscope_core::{LoadOptions, Progress};
use serde_json::Value;

fn load(path: &Path) -> Capture {
    let mut captures = leakscope_core::open(path, &LoadOptions::default(), &Progress::new())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(captures.len(), 1);
    captures.remove(0)
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0))).collect())
        .unwrap_or_default()
}

/// The scenario family of a goroutine, from its stack (see realdata/README.md).
fn family(funcs: &[&str]) -> Option<String> {
    let has = |f: &str| funcs.contains(&f);
    let named = [
        ("A1", "main.waitForRelease"),
        ("A2", "main.pollUpstream"),
        ("B1", "main.publishAuditEvent"),
        ("B2", "main.refreshCacheLater"),
        ("B3", "main.notifyWebhook"),
        ("C3", "database/sql.(*Tx).awaitDone"),
        ("C2", "database/sql.(*Tx).QueryContext"),
        ("C1", "database/sql.(*DB).QueryContext"),
    ];
    if let Some((name, _)) = named.iter().find(|(_, f)| has(f)) {
        return Some((*name).to_owned());
    }
    // The medium program: an entry function, a chain of helper steps, one blocking kind.
    let entry = funcs.iter().rev().find(|f| **f == "main.sessionWorker" || **f == "main.fanoutSubscriber")?;
    let depth = funcs.iter().filter(|f| f.ends_with("Step")).count();
    let kind = funcs.iter().find_map(|f| f.strip_prefix("main.block").filter(|k| *k != "Kind"))?;
    Some(format!("L:{}/d{depth}/{kind}", entry.trim_start_matches("main.")))
}

#[derive(Default, Debug, PartialEq)]
struct Numbers {
    goroutines_seen: u64,
    goroutines_existing_at_start: u64,
    goroutines_created_in_window: u64,
    created_and_alive_at_end: u64,
    created_and_ended_in_window: u64,
    created_by_start_func: BTreeMap<String, u64>,
    created_alive_at_end_by_start_func: BTreeMap<String, u64>,
    end_states_all_not_ended: BTreeMap<String, u64>,
    event_kinds: BTreeMap<String, u64>,
    events: u64,
    blocked_at_end_by_family_reason: BTreeMap<String, u64>,
    families_alive_at_end: BTreeMap<String, u64>,
}

fn numbers(c: &Capture) -> Numbers {
    let mut n = Numbers::default();
    for t in c.tasks.iter().filter(|t| t.kind == TaskKind::Goroutine) {
        n.goroutines_seen += 1;
        let created = !t.flags.contains(TaskFlags::EXISTED_BEFORE);
        let ended = t.flags.contains(TaskFlags::ENDED);
        let start = t.start_func.map(|f| c.func_name(f).to_owned()).unwrap_or_default();
        if created {
            n.goroutines_created_in_window += 1;
            *n.created_by_start_func.entry(start.clone()).or_default() += 1;
            if ended {
                n.created_and_ended_in_window += 1;
            } else {
                n.created_and_alive_at_end += 1;
                *n.created_alive_at_end_by_start_func.entry(start).or_default() += 1;
            }
        } else {
            n.goroutines_existing_at_start += 1;
        }
        if ended {
            continue;
        }
        let last = t.intervals.indices().rfind(|&i| c.intervals.depth(i) == 0).map(|i| c.intervals.kind(i));
        let state = match last {
            Some(IntervalKind::Running) => "Running",
            Some(IntervalKind::Runnable) => "Runnable",
            Some(IntervalKind::Syscall) => "Syscall",
            Some(IntervalKind::Blocked) => "Waiting",
            other => panic!("goroutine {} ends in {other:?}", t.id),
        };
        *n.end_states_all_not_ended.entry(state.to_owned()).or_default() += 1;
        let funcs: Vec<&str> = c.stack_funcs(t.stack).collect();
        if let Some(fam) = family(&funcs) {
            *n.families_alive_at_end.entry(fam.clone()).or_default() += 1;
            if state == "Waiting" {
                let reason = match c.str(t.state) {
                    "waiting" => "status at trace start, no reason",
                    r => r,
                };
                *n.blocked_at_end_by_family_reason.entry(format!("{fam} [{reason}]")).or_default() += 1;
            }
        }
    }
    let info = c.trace.as_ref().expect("trace info");
    n.event_kinds = info.event_counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    n.events = info.total_events();
    n
}

fn expected(truth: &Value) -> Numbers {
    let u =
        |k: &str| truth.get(k).and_then(Value::as_u64).unwrap_or_else(|| panic!("ground truth lacks {k}"));
    let m = |k: &str| counts(truth.get(k).unwrap_or(&Value::Null));
    Numbers {
        goroutines_seen: u("goroutines_seen"),
        goroutines_existing_at_start: u("goroutines_existing_at_start"),
        goroutines_created_in_window: u("goroutines_created_in_window"),
        created_and_alive_at_end: u("created_and_alive_at_end"),
        created_and_ended_in_window: u("created_and_ended_in_window"),
        created_by_start_func: m("created_by_start_func"),
        created_alive_at_end_by_start_func: m("created_alive_at_end_by_start_func"),
        end_states_all_not_ended: m("end_states_all_not_ended"),
        event_kinds: m("event_kinds"),
        events: u("events"),
        blocked_at_end_by_family_reason: m("blocked_at_end_by_family_reason"),
        families_alive_at_end: m("families_alive_at_end"),
    }
}

fn go_traces(realdata: &Path) -> Vec<String> {
    let truth = support::ground_truth(realdata);
    let mut paths: Vec<String> = truth
        .as_object()
        .expect("object")
        .iter()
        .filter(|(_, v)| v.get("kind").and_then(Value::as_str) == Some("go-trace"))
        .map(|(k, _)| k.clone())
        .collect();
    paths.sort();
    paths
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn every_real_trace_matches_ground_truth() {
    let realdata = support::realdata();
    let truth = support::ground_truth(&realdata);
    let paths = go_traces(&realdata);
    assert!(paths.len() >= 10, "expected the nine Go 1.27 traces and the Go 1.19 one, found {paths:?}");
    let mut failures = Vec::new();
    for rel in &paths {
        let capture = load(&realdata.join(rel));
        assert!(capture.warnings.is_empty(), "{rel}: warnings {:?}", capture.warnings.lines());
        let got = numbers(&capture);
        let want = expected(&truth[rel.as_str()]);
        if got != want {
            failures.push(format!("{rel}:\n  got  {got:?}\n  want {want:?}"));
        }
        let header = truth[rel.as_str()]["header"].as_str().unwrap_or_default();
        let version = header.trim_end_matches(" trace").replace("go ", "go");
        assert_eq!(capture.source.go_version.as_deref(), Some(version.as_str()), "{rel}: header {header}");
        let span = truth[rel.as_str()]["span_seconds"].as_f64().unwrap_or_default();
        let (start, end) = capture.time_range_ns.expect("time range");
        assert!(
            ((end - start) as f64 / 1e9 - span).abs() < 0.0015,
            "{rel}: span {} vs {span}",
            (end - start) as f64 / 1e9
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The trace facts the leak rules use: on every leaky scenario each family's entry function is
/// a site whose live count only grows, with every member parked at the end; the healthy
/// scenario has no such site outside the runtime (whose tracing helpers start with the trace).
#[test]
#[ignore = "needs ../shared/realdata"]
fn trace_facts_find_the_growing_families() {
    use leakscope_core::analysis::trace_facts::TraceFacts;
    let realdata = support::realdata();
    let truth = support::ground_truth(&realdata);
    let entries = [
        ("A1", "main.waitForRelease"),
        ("A2", "main.pollUpstream"),
        ("B1", "main.publishAuditEvent"),
        ("B2", "main.refreshCacheLater"),
        ("B3", "main.notifyWebhook"),
        ("C3", "database/sql.(*Tx).awaitDone"),
    ];
    for rel in go_traces(&realdata) {
        if !rel.contains("/after/") {
            continue;
        }
        let c = load(&realdata.join(&rel));
        let facts = TraceFacts::new(&c);
        let growing: Vec<&str> = facts
            .sites
            .iter()
            .filter(|s| s.only_grows())
            .filter_map(|s| s.start_func.map(|f| c.func_name(f)))
            .filter(|f| !f.starts_with("runtime"))
            .collect();
        let families = counts(&truth[rel.as_str()]["families_alive_at_end"]);
        if families.is_empty() {
            assert!(growing.is_empty(), "{rel}: healthy trace has growing sites {growing:?}");
            continue;
        }
        for (family, entry) in entries {
            let Some(&alive) = families.get(family) else { continue };
            let site = facts
                .sites
                .iter()
                .find(|s| s.start_func.is_some_and(|f| c.func_name(f) == entry))
                .unwrap_or_else(|| panic!("{rel}: no site for {entry}"));
            assert!(site.only_grows(), "{rel}: {entry} should only grow");
            assert_eq!(u64::from(site.blocked_at_end), alive, "{rel}: {entry} blocked at end");
            assert!(site.live(&c).windows(2).all(|w| w[0].1 <= w[1].1), "{rel}: {entry} live count dips");
        }
        // C1 and C2 are request goroutines stuck in the driver: their site is the server's
        // connection goroutine, which only grows too.
        if families.contains_key("C1") {
            assert!(growing.contains(&"net/http.(*conn).serve"), "{rel}: {growing:?}");
        }
    }
}
