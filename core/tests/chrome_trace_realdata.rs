//! Chrome trace JSON and DevTools CPU profiles from ../shared/realdata, checked against
//! ground_truth.json and the programs' own `*.truth.json` (what never settled).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers fail loudly

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use leakscope_core::analysis::async_facts::{async_facts, name_kind};
use leakscope_core::model::{Capture, FormatKind, IntervalKind, TaskKind};
use leakscope_core::{LoadOptions, Progress, formats, open};
use serde_json::Value;

fn load(dir: &Path, rel: &str) -> Capture {
    let mut caps = open(&dir.join(rel), &LoadOptions::default(), &Progress::new()).expect(rel);
    assert_eq!(caps.len(), 1, "{rel}: one capture");
    caps.remove(0)
}

fn truth(dir: &Path, rel: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(rel)).expect(rel);
    serde_json::from_str(&text).expect(rel)
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object().unwrap().iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap())).collect()
}

fn is_json(rel: &str) -> bool {
    Path::new(rel).extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// Every JSON file in realdata is either a trace, a CPU profile, or claimed by no format.
#[test]
#[ignore = "needs ../shared/realdata"]
fn json_files_are_told_apart() {
    let dir = support::realdata();
    let gt = support::ground_truth(&dir);
    let mut seen = 0;
    for (rel, facts) in gt.as_object().unwrap() {
        let bytes = std::fs::read(dir.join(rel)).unwrap();
        let detected = formats::detect(&bytes).ok().map(formats::Format::kind);
        let expected = match facts["kind"].as_str() {
            Some("node-trace" | "viztracer") => Some(FormatKind::ChromeTrace),
            Some("cpuprofile") => Some(FormatKind::DevtoolsCpuProfile),
            _ if is_json(rel) => None,
            _ => continue,
        };
        if expected.is_some() || is_json(rel) {
            assert_eq!(detected, expected, "{rel}");
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} JSON files checked");
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn node_trace_matches_ground_truth() {
    let dir = support::realdata();
    let rel = "node/trace-events/node_trace.1.log";
    let gt = &support::ground_truth(&dir)[rel];
    let cap = load(&dir, rel);
    assert_eq!(cap.source.format, Some(FormatKind::ChromeTrace));
    assert_eq!(cap.chrome().event_stats.events, gt["events"].as_u64().unwrap());
    assert_eq!(cap.chrome().event_stats.skipped, 0);
    let phases: BTreeMap<String, u64> = cap.chrome().event_stats.by_kind.iter().cloned().collect();
    assert_eq!(phases, counts(&gt["ph"]));
    let categories: BTreeMap<String, u64> = cap.chrome().event_stats.by_category.iter().cloned().collect();
    assert_eq!(categories, counts(&gt["categories"]));
    let pids: Vec<u64> = cap.chrome().processes.iter().map(|p| p.pid).collect();
    let want: Vec<u64> = gt["pids"].as_array().unwrap().iter().map(|p| p.as_u64().unwrap()).collect();
    assert_eq!(pids, want);
    let span_s = cap.source.duration_ns.unwrap() as f64 / 1e9;
    assert!((span_s - gt["span_seconds"].as_f64().unwrap()).abs() < 0.001, "{span_s}");

    // Every `b` is an async interval: the outermost of an operation or one nested in it.
    let mut begins: BTreeMap<String, u64> = BTreeMap::new();
    for i in 0..cap.intervals.len() {
        if cap.intervals.kind(i) == IntervalKind::Async {
            *begins.entry(cap.str(cap.intervals.label(i)).to_owned()).or_default() += 1;
        }
    }
    for (name, n) in counts(&gt["async_hooks_begins_by_type_top"]) {
        assert_eq!(begins.get(&name), Some(&n), "begins of {name}");
    }
    // B/E and X spans are on the thread.
    let span_count =
        (0..cap.intervals.len()).filter(|&i| cap.intervals.kind(i) == IntervalKind::Span).count() as u64;
    assert_eq!(span_count, gt["ph"]["X"].as_u64().unwrap() + gt["ph"]["B"].as_u64().unwrap());
    assert!(cap.chrome().open_spans.is_empty());

    let facts = async_facts(&cap);
    let open: BTreeMap<String, u64> = facts.never_ended.iter().map(|n| (n.name.clone(), n.count)).collect();
    assert_eq!(open, counts(&gt["async_hooks_open_at_end_by_type"]));
    assert_eq!(open.values().sum::<u64>(), gt["async_hooks_open_at_end_total"].as_u64().unwrap());
    let promises = facts.never_ended.iter().find(|n| n.name == "PROMISE").unwrap();
    assert_eq!(promises.category, "node,node.async_hooks");
    assert_eq!(promises.ended, 10_634 - 208);
    assert!(promises.tasks.iter().all(|&t| cap.tasks.at(t as usize).start_ns.is_some()));

    // What the program reports as pending forever: one family per leaking route, counted per
    // request. Requests are the `HTTPINCOMINGMESSAGE` resources at the top of each chain.
    let program = truth(&dir, "node/trace-events/async_leak.truth.json");
    let mut families: Vec<u64> = facts
        .origin_families
        .iter()
        .filter(|f| f.origin_name == "HTTPINCOMINGMESSAGE" && f.shape.iter().all(|(n, _)| n == "PROMISE"))
        .map(|f| f.origins)
        .collect();
    families.sort_unstable();
    let mut pending: Vec<u64> =
        program["pending_forever"].as_object().unwrap().values().map(|v| v.as_u64().unwrap()).collect();
    pending.sort_unstable();
    assert_eq!(families, pending, "{:#?}", facts.origin_families);
    assert_eq!(families.iter().sum::<u64>(), program["leaked_promises_kept_reachable"].as_u64().unwrap());
    for f in &facts.origin_families {
        assert_eq!(f.pending, f.origins * f.shape.len() as u64);
        assert_eq!(f.origin_tasks.len() as u64, if f.origin_name.starts_with('(') { 0 } else { f.origins });
    }
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn viztracer_matches_ground_truth() {
    let dir = support::realdata();
    let rel = "python/viztracer-small.json";
    let gt = &support::ground_truth(&dir)[rel];
    let cap = load(&dir, rel);
    assert_eq!(cap.chrome().event_stats.events, gt["events"].as_u64().unwrap());
    let phases: BTreeMap<String, u64> = cap.chrome().event_stats.by_kind.iter().cloned().collect();
    assert_eq!(phases, counts(&gt["ph"]));
    let span_s = cap.source.duration_ns.unwrap() as f64 / 1e9;
    assert!((span_s - gt["span_seconds"].as_f64().unwrap()).abs() < 0.001, "{span_s}");
    let threads: Vec<&str> =
        cap.tasks.iter().filter(|t| t.kind == TaskKind::Thread).map(|t| cap.str(t.name)).collect();
    assert_eq!(threads.len() as u64, gt["threads_or_tasks"].as_u64().unwrap());
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for name in &threads {
        *kinds.entry(name_kind(name)).or_default() += 1;
    }
    assert_eq!(kinds, counts(&gt["thread_name_kinds"]));
    let meta = cap.chrome().metadata.iter().find(|m| m.key == "viztracer_metadata").unwrap();
    let meta: Value = serde_json::from_str(meta.text.as_deref().unwrap()).unwrap();
    assert_eq!(meta, gt["viztracer_metadata"]);
    assert!(cap.chrome().metadata.iter().any(|m| m.key == "file_info" && m.text.is_none()));

    // Function slices: every X is a span; durations are exact to the nanosecond.
    for (func, want) in gt["function_slices"].as_object().unwrap() {
        let mut durs: Vec<i64> = (0..cap.intervals.len())
            .filter(|&i| {
                let label = cap.str(cap.intervals.label(i));
                label == func || label.strip_prefix(func.as_str()).is_some_and(|r| r.starts_with(" ("))
            })
            .map(|i| cap.intervals.end(i) - cap.intervals.start(i))
            .collect();
        durs.sort_unstable();
        assert_eq!(durs.len() as u64, want["slices"].as_u64().unwrap(), "{func}");
        let max_us = *durs.last().unwrap() as f64 / 1e3;
        assert!((max_us - want["max_dur_us"].as_f64().unwrap()).abs() < 0.05, "{func} max {max_us}");
        let n = durs.len();
        let median =
            if n % 2 == 1 { durs[n / 2] as f64 } else { (durs[n / 2 - 1] + durs[n / 2]) as f64 / 2.0 };
        assert!((median / 1e3 - want["median_dur_us"].as_f64().unwrap()).abs() < 0.05, "{func} median");
    }

    // The program's own account of what it left behind.
    let program = truth(&dir, "python/viztracer-small.truth.json");
    let facts = async_facts(&cap);
    let pending: Vec<_> = facts.lanes.iter().filter(|l| l.cancelled_at_shutdown).collect();
    assert_eq!(pending.len() as u64, program["asyncio_pending_at_end"].as_u64().unwrap());
    let by_kind = |k: &str| pending.iter().filter(|l| l.kind == k).count() as u64;
    assert_eq!(by_kind("watch_cancel-N"), program["asyncio_pending_watch_cancel"].as_u64().unwrap());
    assert_eq!(by_kind("stuck_query-N"), program["asyncio_pending_stuck_query"].as_u64().unwrap());
    // Threads idle in a blocking call until the end, released only by a join at exit.
    let idle: Vec<_> = facts
        .lanes
        .iter()
        .filter(|l| l.alive_at_end && l.ended_when_joined && l.blocked_share() > 0.9)
        .collect();
    assert_eq!(idle.len() as u64, program["detached_audit_threads_alive_at_end"].as_u64().unwrap());
    assert!(idle.iter().all(|l| l.kind == "audit-N"));
    let block = idle[0].longest_block.unwrap() as usize;
    let chain: Vec<&str> = cap.stack_funcs(cap.intervals.stack(block)).collect();
    assert_eq!(chain[0], "_thread.lock.acquire");
    assert!(chain.iter().any(|f| f.starts_with("audit_publisher ")), "{chain:?}");
    // No lane is both: handler threads ended early, the main thread is busy.
    assert!(facts.lanes.iter().filter(|l| l.kind == "handler-N").all(|l| !l.alive_at_end));
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn cpuprofile_matches_ground_truth() {
    let dir = support::realdata();
    let rel = "node/cpuprofile/async_leak.cpuprofile";
    let gt = &support::ground_truth(&dir)[rel];
    let cap = load(&dir, rel);
    assert_eq!(cap.source.format, Some(FormatKind::DevtoolsCpuProfile));
    assert_eq!(cap.chrome().event_stats.kind("nodes"), gt["nodes"].as_u64().unwrap());
    assert_eq!(cap.samples.len() as u64, gt["samples"].as_u64().unwrap());
    let dur_s = cap.source.duration_ns.unwrap() as f64 / 1e9;
    assert!((dur_s - gt["duration_seconds"].as_f64().unwrap()).abs() < 0.001);
    // Time column: every sample stands for the gap to the next (the last one until the end),
    // so they add up to the time from the first sample to the end.
    let total_ns = cap.samples.total(1);
    let (_, end) = cap.time_range_ns.unwrap();
    assert_eq!(total_ns, end - cap.samples.time_ns[0]);

    let key = |cap: &Capture, f: leakscope_core::model::FrameId| {
        let frame = cap.tables.frame(f);
        let url = cap.str(frame.file);
        let base = url.rsplit('/').next().unwrap_or("");
        let func = cap.str(frame.func);
        if base.is_empty() { func.to_owned() } else { format!("{func} {base}") }
    };
    let mut self_samples: BTreeMap<String, u64> = BTreeMap::new();
    let mut inclusive: BTreeMap<String, u64> = BTreeMap::new();
    for &stack in &cap.samples.stack {
        let frames = cap.tables.stack(stack);
        *self_samples.entry(key(&cap, frames[0])).or_default() += 1;
        let mut seen: Vec<&str> = Vec::new();
        for &f in frames {
            let frame = cap.tables.frame(f);
            if cap.str(frame.file).ends_with("async_leak.js") {
                let name = cap.str(frame.func);
                let name = if name == "(anonymous)" { "" } else { name };
                if !seen.contains(&name) {
                    seen.push(name);
                    *inclusive.entry(name.to_owned()).or_default() += 1;
                }
            }
        }
    }
    for (k, n) in counts(&gt["top_self"]) {
        assert_eq!(self_samples.get(&k), Some(&n), "self samples of {k}");
    }
    for (k, n) in counts(&gt["script_functions_inclusive_samples"]) {
        assert_eq!(inclusive.get(&k), Some(&n), "inclusive samples of {k}");
    }
}
