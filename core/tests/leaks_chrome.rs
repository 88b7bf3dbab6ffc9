//! The leak rules over Chrome trace JSON and DevTools CPU profiles: the bundled samples (leaky
//! and healthy runs of the same programs), synthetic traces for the rules the samples don't
//! reach, and every Chrome capture in ../shared/realdata against ground_truth.json and the
//! programs' own `*.truth.json`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)] // test helpers fail loudly

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use leakscope_core::analysis::leaks::{Analysis, Config, IgnoreScope, RuleId, Severity, analyze};
use leakscope_core::formats::chrome_trace;
use leakscope_core::model::Capture;
use leakscope_core::report::Report;
use leakscope_core::session::{Parsed, Purpose, Session};
use leakscope_core::{LoadOptions, Progress, open};
use serde_json::Value;
use std::time::Duration;

fn load(path: &Path) -> Capture {
    let mut caps = open(path, &LoadOptions::default(), &Progress::new()).expect("opens");
    assert_eq!(caps.len(), 1);
    caps.remove(0)
}

fn sample(name: &str) -> (Capture, Analysis) {
    let c = load(&support::sample_traces().join(name));
    let a = analyze(&c, None, &Config::default());
    (c, a)
}

fn truth(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// (rule, lane kind or origin, count) of every finding, sorted.
fn summary(a: &Analysis) -> Vec<(&'static str, String, u64)> {
    let mut v: Vec<_> = a
        .findings
        .iter()
        .map(|f| {
            let ev = f.evidence.async_work.as_ref().expect("async evidence");
            let who = ev.lane_kind.clone().or_else(|| ev.origin.clone()).unwrap_or_else(|| ev.what.clone());
            (f.rule.id(), who, f.count)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn node_pending_locks_trace() {
    let (c, a) = sample("node-pending-locks.trace.json");
    let program = truth(&support::sample_traces().join("node-pending-locks.truth.json"));
    let locks = program["pending_locks"].as_u64().unwrap();
    // Each request that took the lock left its wait and the `.then` chained on it.
    assert_eq!(summary(&a), vec![("never-settled", "HTTPINCOMINGMESSAGE".to_owned(), 2 * locks)]);
    let f = &a.findings[0];
    assert_eq!(f.severity, Severity::Likely);
    let ev = f.evidence.async_work.as_ref().unwrap();
    assert_eq!(ev.origins, locks);
    assert_eq!(ev.what, "PROMISE");
    assert_eq!(ev.per_origin, vec![("PROMISE".to_owned(), 1), ("PROMISE".to_owned(), 2)]);
    assert_eq!(f.title, "3 requests each left 2 promises that never settle (6 pending)");
    assert_eq!(f.group.members.len(), 6);
    assert!(f.group.members.iter().all(|&t| c.str(c.tasks.at(t as usize).name) == "PROMISE"));
    // The client's sockets open at exit are handles, listed apart, not findings.
    assert!(a.benign.iter().any(|b| b.key.wait == "TCPWRAP"), "{:?}", a.benign);
    assert!(a.ignored.is_empty());
}

#[test]
fn node_healthy_locks_trace() {
    let (_, a) = sample("node-healthy-locks.trace.json");
    assert_eq!(summary(&a), vec![]);
    assert!(a.benign.iter().all(|b| b.key.wait == "TCPWRAP"), "{:?}", a.benign);
}

#[test]
fn node_cpuprofile_has_no_lifetimes() {
    let (_, a) = sample("node-pending-locks.cpuprofile");
    assert!(a.findings.is_empty());
}

#[test]
fn python_stuck_consumers() {
    let (c, a) = sample("python-stuck-consumers.viztracer.json.gz");
    let program = truth(&support::sample_traces().join("python-stuck-consumers.truth.json"));
    assert_eq!(
        summary(&a),
        vec![
            ("idle-thread", "heartbeat-N".to_owned(), program["heartbeats_alive"].as_u64().unwrap()),
            ("pending-at-exit", "drain-N".to_owned(), program["consumers_pending"].as_u64().unwrap()),
        ]
    );
    let pending = a.findings.iter().find(|f| f.rule == RuleId::PendingAtExit).unwrap();
    assert_eq!(pending.severity, Severity::Likely);
    let chain: Vec<&str> =
        c.stack_funcs(pending.group.stack).map(|f| f.split(" (").next().unwrap()).collect();
    assert_eq!(chain, ["Queue.get", "drain_inbox"]);
    let idle = a.findings.iter().find(|f| f.rule == RuleId::IdleThread).unwrap();
    assert_eq!(idle.severity, Severity::Possible);
    assert_eq!(idle.evidence.async_work.as_ref().unwrap().joined_at_exit, 4);
    assert!(c.stack_funcs(idle.group.stack).any(|f| f.starts_with("heartbeat ")));
}

#[test]
fn python_healthy_consumers() {
    let (_, a) = sample("python-healthy-consumers.viztracer.json.gz");
    assert_eq!(summary(&a), vec![]);
}

#[test]
fn ignore_rules_apply_to_async_findings() {
    let c = load(&support::sample_traces().join("python-stuck-consumers.viztracer.json.gz"));
    let mut config = Config::default();
    config.add_ignore("^heartbeat", IgnoreScope::Anywhere, Some("ours".to_owned()), None).unwrap();
    let a = analyze(&c, None, &config);
    assert_eq!(summary(&a), vec![("pending-at-exit", "drain-N".to_owned(), 4)]);
    assert_eq!(a.ignored.len(), 1);
    assert_eq!(a.ignored[0].reason, "ours");
}

#[test]
fn report_json_carries_async_evidence() {
    let c = load(&support::sample_traces().join("node-pending-locks.trace.json"));
    let parsed = Parsed { captures: vec![c], baseline: false, load_time: Duration::ZERO };
    let session = Session::from_parsed(vec![parsed], Purpose::Report, Config::default());
    let report = serde_json::to_value(Report::from_session(&session)).unwrap();
    let f = &report["findings"][0];
    assert_eq!(f["rule"], "never-settled");
    assert_eq!(f["rules"], serde_json::json!(["never-settled"]));
    assert_eq!(f["severity"], "likely");
    assert_eq!(f["count"], 6);
    assert_eq!(f["evidence"]["async_work"]["origin"], "HTTPINCOMINGMESSAGE");
    assert_eq!(f["evidence"]["async_work"]["origins"], 3);
    assert!(!f["fix"].as_str().unwrap().is_empty());
    assert!(!f["explanation"].as_str().unwrap().is_empty());
}

fn parse(json: &str) -> Capture {
    chrome_trace::parse_bytes(json.as_bytes(), "synthetic.json", &Progress::new()).expect("parses")
}

/// A `tracing-chrome`-style trace: workers that entered `wait_for_job` and never left while
/// the main thread ran on; a worker whose span is only briefly open at the end is in flight.
#[test]
fn open_spans_off_the_main_thread() {
    let mut events = vec![
        r#"{"ph":"M","name":"thread_name","pid":1,"tid":1,"args":{"name":"main"}}"#.to_owned(),
        r#"{"ph":"M","name":"thread_name","pid":1,"tid":2,"args":{"name":"worker-1"}}"#.to_owned(),
        r#"{"ph":"M","name":"thread_name","pid":1,"tid":3,"args":{"name":"worker-2"}}"#.to_owned(),
        r#"{"ph":"M","name":"thread_name","pid":1,"tid":4,"args":{"name":"worker-3"}}"#.to_owned(),
        r#"{"ph":"B","name":"run","pid":1,"tid":1,"ts":0}"#.to_owned(),
        r#"{"ph":"B","name":"wait_for_job","pid":1,"tid":2,"ts":100}"#.to_owned(),
        r#"{"ph":"B","name":"wait_for_job","pid":1,"tid":3,"ts":150}"#.to_owned(),
        r#"{"ph":"B","name":"wait_for_job","pid":1,"tid":4,"ts":9990}"#.to_owned(),
    ];
    for k in 0..50 {
        events.push(format!(r#"{{"ph":"X","name":"step","pid":1,"tid":1,"ts":{},"dur":100}}"#, 200 * k + 10));
    }
    events.push(r#"{"ph":"X","name":"step","pid":1,"tid":1,"ts":9900,"dur":100}"#.to_owned());
    let c = parse(&format!("[{}]", events.join(",\n")));
    let a = analyze(&c, None, &Config::default());
    assert_eq!(summary(&a), vec![("open-span", "worker-N".to_owned(), 2)]);
    assert_eq!(a.findings[0].severity, Severity::Possible);
    assert_eq!(a.findings[0].group.members.len(), 2);
}

/// Chromium-style async events without triggers: the ones open far longer than any that
/// ended are flagged; one begun at the very end is in flight; a handle-like Node name is not.
#[test]
fn never_ended_without_origins() {
    let mut events = vec![r#"{"ph":"X","name":"task","pid":1,"tid":1,"ts":0,"dur":10}"#.to_owned()];
    for k in 0..20 {
        let ts = 100 * k;
        events.push(format!(r#"{{"ph":"b","name":"Fetch","cat":"net","id":{k},"pid":1,"tid":1,"ts":{ts}}}"#));
        events.push(format!(
            r#"{{"ph":"e","name":"Fetch","cat":"net","id":{k},"pid":1,"tid":1,"ts":{}}}"#,
            ts + 50
        ));
    }
    events.push(r#"{"ph":"b","name":"Fetch","cat":"net","id":100,"pid":1,"tid":1,"ts":1000}"#.to_owned());
    events.push(r#"{"ph":"b","name":"Fetch","cat":"net","id":101,"pid":1,"tid":1,"ts":1200}"#.to_owned());
    events.push(r#"{"ph":"b","name":"Fetch","cat":"net","id":102,"pid":1,"tid":1,"ts":9990}"#.to_owned());
    events.push(r#"{"ph":"X","name":"task","pid":1,"tid":1,"ts":9995,"dur":5}"#.to_owned());
    let c = parse(&format!("[{}]", events.join(",\n")));
    let a = analyze(&c, None, &Config::default());
    assert_eq!(summary(&a), vec![("never-ended", "Fetch".to_owned(), 2)]);
    let ev = a.findings[0].evidence.async_work.as_ref().unwrap();
    assert_eq!(ev.ended, Some(20));
    assert_eq!(ev.longest_ended_ns, Some(50_000));
}

/// Every Chrome trace and CPU profile in realdata: the families the programs report as
/// pending forever are found with their exact counts, and nothing else is flagged.
#[test]
#[ignore = "needs ../shared/realdata"]
fn realdata_chrome_captures() {
    let dir = support::realdata();
    let gt = support::ground_truth(&dir);
    let mut checked = 0;
    for (rel, facts) in gt.as_object().unwrap() {
        let kind = facts["kind"].as_str().unwrap_or("");
        if !matches!(kind, "node-trace" | "viztracer" | "cpuprofile") {
            continue;
        }
        let c = load(&dir.join(rel));
        let a = analyze(&c, None, &Config::default());
        let got = summary(&a);
        let program_truth = Path::new(rel).parent().unwrap().join(match kind {
            "viztracer" => "viztracer-small.truth.json",
            _ => "async_leak.truth.json",
        });
        let program = truth(&dir.join(program_truth));
        match kind {
            "node-trace" => {
                // One never-settled family per leaking route, counted in requests.
                let mut origins: Vec<u64> =
                    a.findings.iter().map(|f| f.evidence.async_work.as_ref().unwrap().origins).collect();
                origins.sort_unstable();
                let mut want: Vec<u64> = program["pending_forever"]
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|v| v.as_u64().unwrap())
                    .collect();
                want.sort_unstable();
                assert_eq!(origins, want, "{rel}: {got:?}");
                assert!(
                    a.findings
                        .iter()
                        .all(|f| f.rule == RuleId::NeverSettled && f.severity == Severity::Likely)
                );
                assert!(a.findings.iter().all(|f| f.evidence.async_work.as_ref().unwrap().origin.as_deref()
                    == Some("HTTPINCOMINGMESSAGE")));
                // Every pending promise of those requests, and nothing the ground truth
                // doesn't count as open at the end.
                let pending: u64 = a.findings.iter().map(|f| f.count).sum();
                assert!(pending <= facts["async_hooks_open_at_end_by_type"]["PROMISE"].as_u64().unwrap());
                assert!(pending >= program["leaked_promises_kept_reachable"].as_u64().unwrap());
            }
            "viztracer" => {
                let mut by_kind: BTreeMap<(&str, String), u64> = BTreeMap::new();
                for (rule, who, n) in &got {
                    *by_kind.entry((*rule, who.clone())).or_default() += n;
                }
                let want: BTreeMap<(&str, String), u64> = [
                    (
                        ("idle-thread", "audit-N".to_owned()),
                        program["detached_audit_threads_alive_at_end"].as_u64().unwrap(),
                    ),
                    (
                        ("pending-at-exit", "stuck_query-N".to_owned()),
                        program["asyncio_pending_stuck_query"].as_u64().unwrap(),
                    ),
                    (
                        ("pending-at-exit", "watch_cancel-N".to_owned()),
                        program["asyncio_pending_watch_cancel"].as_u64().unwrap(),
                    ),
                ]
                .into_iter()
                .collect();
                assert_eq!(by_kind, want, "{rel}");
                let pending: u64 =
                    a.findings.iter().filter(|f| f.rule == RuleId::PendingAtExit).map(|f| f.count).sum();
                assert_eq!(pending, program["asyncio_pending_at_end"].as_u64().unwrap());
            }
            // A CPU profile records samples, not lifetimes: nothing to judge.
            _ => assert_eq!(got, vec![], "{rel}"),
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} Chrome captures checked");
}

/// A healthy trace cut off while being written ends in the middle of requests: the work open
/// at the cut is in progress, not leaked. Wherever the cut falls, no finding is likely, and a
/// finding that remains says the capture is cut off.
#[test]
fn a_healthy_trace_cut_off_mid_write_is_no_likely_leak() {
    let bytes = std::fs::read(support::sample_traces().join("node-healthy-locks.trace.json")).unwrap();
    for tenth in 3..10 {
        let cut = bytes.len() * tenth / 10;
        let caps = leakscope_core::open_bytes(
            "cut.json",
            leakscope_core::Bytes::Owned(bytes[..cut].to_vec()),
            &LoadOptions::default(),
            &Progress::new(),
        )
        .expect("a cut-off trace opens");
        let c = &caps[0];
        assert!(c.source.truncated, "cut at {tenth}/10 is known to be cut off");
        let a = analyze(c, None, &Config::default());
        for f in &a.findings {
            assert!(f.severity >= Severity::Possible, "cut at {tenth}/10: {}", f.title);
            assert!(
                f.evidence.facts.iter().any(|x| x.contains("cut off")),
                "cut at {tenth}/10: {:?}",
                f.evidence.facts
            );
        }
    }
}
