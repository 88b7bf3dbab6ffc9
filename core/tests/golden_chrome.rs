//! Golden summaries of the Chrome trace and CPU profile samples in sample-traces/, one test per
//! file, plus the checks against what each sample program says it left behind. Run with
//! `UPDATE_GOLDEN=1` to rewrite the summaries after an intended change.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers fail loudly

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use leakscope_core::analysis::async_facts::async_facts;
use leakscope_core::analysis::flame::{FlameTree, sample_stacks};
use leakscope_core::analysis::spans::span_self_time_stacks;
use leakscope_core::model::{Capture, StackId, TaskKind};
use leakscope_core::{LoadOptions, Progress, open};

fn load(name: &str) -> Capture {
    let path = support::sample_traces().join(name);
    let mut caps = open(&path, &LoadOptions::default(), &Progress::new()).expect(name);
    assert_eq!(caps.len(), 1);
    caps.remove(0)
}

fn stack_text(c: &Capture, stack: StackId) -> String {
    let funcs: Vec<&str> = c.stack_funcs(stack).collect();
    funcs.iter().rev().copied().collect::<Vec<_>>().join(" > ")
}

/// The heaviest `n` stacks of `(stack, value)` pairs, by value then text.
fn top(c: &Capture, pairs: &[(StackId, i64)], n: usize) -> Vec<(i64, String)> {
    let mut v: Vec<(i64, String)> = pairs.iter().map(|&(s, v)| (v, stack_text(c, s))).collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    v.truncate(n);
    v
}

fn summary(c: &Capture) -> String {
    let mut s = String::new();
    let w = &mut s;
    writeln!(w, "format: {:?}", c.source.format).unwrap();
    writeln!(w, "duration_ns: {:?}", c.source.duration_ns).unwrap();
    writeln!(w, "events: {} (skipped {})", c.chrome().event_stats.events, c.chrome().event_stats.skipped)
        .unwrap();
    for (k, n) in &c.chrome().event_stats.by_kind {
        writeln!(w, "  kind {k}: {n}").unwrap();
    }
    for (k, n) in &c.chrome().event_stats.by_category {
        writeln!(w, "  category {k:?}: {n}").unwrap();
    }
    writeln!(w, "processes: {}", c.chrome().processes.len()).unwrap();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for t in &c.tasks {
        *kinds.entry(format!("{:?}", t.kind)).or_default() += 1;
    }
    writeln!(w, "tasks: {kinds:?}").unwrap();
    let mut lanes: BTreeMap<String, usize> = BTreeMap::new();
    for t in c.tasks.iter().filter(|t| t.kind == TaskKind::Thread) {
        *lanes.entry(leakscope_core::analysis::async_facts::name_kind(c.str(t.name))).or_default() += 1;
    }
    writeln!(w, "thread kinds: {lanes:?}").unwrap();
    writeln!(
        w,
        "intervals: {}, open spans: {}, marks: {}, links: {}, counters: {}, samples: {}",
        c.intervals.len(),
        c.chrome().open_spans.len(),
        c.chrome().marks.len(),
        c.links.len(),
        c.counters.len(),
        c.samples.len()
    )
    .unwrap();
    let spans = span_self_time_stacks(c);
    if !spans.is_empty() {
        let tree = FlameTree::from_stacks(c, spans.clone());
        writeln!(w, "span self time: total {} ns in {} stacks", tree.root().unwrap().total, spans.len())
            .unwrap();
        for (v, stack) in top(c, &spans, 5) {
            writeln!(w, "  {v} ns  {stack}").unwrap();
        }
    }
    if !c.samples.is_empty() {
        let by_count = sample_stacks(c, 0);
        writeln!(w, "samples by stack: {} stacks", by_count.len()).unwrap();
        for (v, stack) in top(c, &by_count, 5) {
            writeln!(w, "  {v}  {stack}").unwrap();
        }
    }
    let facts = async_facts(c);
    for n in &facts.never_ended {
        writeln!(w, "never ended: {} [{}] {:?}: {} (ended {})", n.name, n.category, n.kind, n.count, n.ended)
            .unwrap();
    }
    for f in &facts.origin_families {
        writeln!(
            w,
            "origin family: {} x{} pending {} shape {:?}",
            f.origin_name, f.origins, f.pending, f.shape
        )
        .unwrap();
    }
    for o in &facts.open_spans {
        writeln!(w, "open span: {} on {} x{}", o.name, o.thread_kind, o.count).unwrap();
    }
    let mut lane_facts: BTreeMap<String, (usize, usize, usize, usize)> = BTreeMap::new();
    for l in &facts.lanes {
        let e = lane_facts.entry(l.kind.clone()).or_default();
        e.0 += 1;
        e.1 += usize::from(l.cancelled_at_shutdown);
        e.2 += usize::from(l.alive_at_end && l.ended_when_joined && l.blocked_share() > 0.9);
        e.3 += usize::from(l.alive_at_end);
    }
    for (kind, (n, cancelled, idle_joined, alive)) in lane_facts {
        writeln!(
            w,
            "lanes {kind}: {n}, cancelled at shutdown {cancelled}, idle until joined {idle_joined}, alive at end {alive}"
        )
        .unwrap();
    }
    let mut warnings = c.warnings.lines();
    warnings.sort();
    for line in warnings {
        writeln!(w, "warning: {line}").unwrap();
    }
    s
}

fn golden(name: &str) -> Capture {
    let c = load(name);
    let text = summary(&c);
    let path = support::workspace().join("core/tests/golden_chrome").join(format!("{name}.summary"));
    support::check_golden(&path, &text);
    c
}

fn truth(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(support::sample_traces().join(name)).unwrap()).unwrap()
}

#[test]
fn node_pending_locks_trace() {
    let c = golden("node-pending-locks.trace.json");
    let program = truth("node-pending-locks.truth.json");
    let facts = async_facts(&c);
    // Each request that took the lock left its wait (and the `.then` chained on it) pending.
    let requests: u64 = facts
        .origin_families
        .iter()
        .filter(|f| f.origin_name == "HTTPINCOMINGMESSAGE" && f.shape.iter().all(|(n, _)| n == "PROMISE"))
        .map(|f| f.origins)
        .sum();
    assert_eq!(requests, program["pending_locks"].as_u64().unwrap());
}

#[test]
fn node_pending_locks_cpuprofile() {
    let c = golden("node-pending-locks.cpuprofile");
    assert!(c.samples.len() > 100);
    assert!(c.samples.stack.iter().any(|&s| c.stack_funcs(s).any(|f| f == "handle")));
}

#[test]
fn python_stuck_consumers_viztracer() {
    let c = golden("python-stuck-consumers.viztracer.json.gz");
    assert!(c.source.gzipped);
    let program = truth("python-stuck-consumers.truth.json");
    let facts = async_facts(&c);
    let cancelled = facts.lanes.iter().filter(|l| l.cancelled_at_shutdown).count() as u64;
    assert_eq!(cancelled, program["consumers_pending"].as_u64().unwrap());
    assert!(facts.lanes.iter().filter(|l| l.cancelled_at_shutdown).all(|l| l.kind == "drain-N"));
    let idle =
        facts.lanes.iter().filter(|l| l.alive_at_end && l.ended_when_joined && l.blocked_share() > 0.9);
    assert_eq!(idle.clone().count() as u64, program["heartbeats_alive"].as_u64().unwrap());
    assert!(idle.clone().all(|l| l.kind == "heartbeat-N"));
}

#[test]
fn node_healthy_locks_trace() {
    let c = golden("node-healthy-locks.trace.json");
    let program = truth("node-healthy-locks.truth.json");
    assert_eq!(program["pending_locks"], 0);
    // Every promise settled and was collected; what stays open is the client's sockets.
    let facts = async_facts(&c);
    assert!(facts.never_ended.iter().all(|n| n.name != "PROMISE"), "{:?}", facts.never_ended);
}

#[test]
fn python_healthy_consumers_viztracer() {
    let c = golden("python-healthy-consumers.viztracer.json.gz");
    let program = truth("python-healthy-consumers.truth.json");
    assert_eq!(program["consumers_pending"], 0);
    let facts = async_facts(&c);
    assert!(facts.lanes.iter().all(|l| !l.cancelled_at_shutdown));
    assert!(facts.lanes.iter().filter(|l| l.kind == "heartbeat-N").all(|l| !l.alive_at_end));
}
