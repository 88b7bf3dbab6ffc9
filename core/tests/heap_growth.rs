//! The `heap-growth` rule over heap profiles of a program of our own
//! (`sample-traces/generators/heapleak`, Go 1.27.3, `runtime.MemProfileRate = 4096`), and its
//! join with the goroutine findings of the same moments: golden texts of the findings, the
//! same verdict for a baseline and for two files, and no likely finding for a healthy program
//! that churns allocations and fills a bounded cache.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::path::PathBuf;

use leakscope_core::analysis::leaks::{Config, RuleId, Severity};
use leakscope_core::report::Report;
use leakscope_core::session::Input;
use leakscope_core::{LoadOptions, Progress};

fn sample(name: &str) -> PathBuf {
    support::sample_traces().join("heapleak").join(name)
}

/// The findings as the report prints them, with paths relative to `sample-traces/heapleak`.
fn findings_text(report: &Report) -> String {
    let prefix = format!("{}/", support::sample_traces().join("heapleak").display());
    report.findings.iter().map(|f| f.to_text().replace(&prefix, "")).collect::<Vec<_>>().join("\n")
}

fn golden(name: &str) -> PathBuf {
    support::workspace().join("core/tests/golden_heap").join(name)
}

#[test]
fn leaky_heap_profiles_name_the_grown_sites() {
    let s = support::session(vec![
        Input::baseline(sample("leaky/before/heap.pb.gz")),
        Input::file(sample("leaky/after/heap.pb.gz")),
    ]);
    let report = Report::from_session(&s);
    assert!(report.findings.iter().all(|f| f.rule == RuleId::HeapGrowth));
    let likely: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Likely)
        .filter_map(|f| f.evidence.heap.as_ref().map(|h| h.site.as_str()))
        .collect();
    // The leaked goroutines' buffers first (the largest growth), then the connections' bufio
    // buffers, charged to dialConn.
    assert_eq!(likely.first(), Some(&"main.holdScratch"), "{likely:?}");
    assert!(likely.contains(&"net/http.(*Transport).dialConn"), "{likely:?}");
    let scratch = report.findings[0].evidence.heap.as_ref().unwrap();
    assert!(scratch.z > 5.0 && scratch.p_noise < 1e-6, "{scratch:?}");
    assert_eq!(scratch.period, 4096);
    support::check_golden(&golden("leaky.heap.findings.txt"), &findings_text(&report));
}

#[test]
fn a_baseline_and_two_files_give_the_same_heap_findings() {
    let (before, after) = (sample("leaky/before/heap.pb.gz"), sample("leaky/after/heap.pb.gz"));
    let based = Report::from_session(&support::session(vec![Input::baseline(&before), Input::file(&after)]));
    // Given newest first: the profiles' time stamps put them in order.
    let two = Report::from_session(&support::session(vec![Input::file(&after), Input::file(&before)]));
    assert!(!based.findings.is_empty());
    assert_eq!(findings_text(&based), findings_text(&two));
}

#[test]
fn heap_growth_joins_the_goroutine_findings_that_hold_it() {
    let s = support::session(vec![
        Input::file(sample("leaky/before/heap.pb.gz")),
        Input::file(sample("leaky/after/heap.pb.gz")),
        Input::file(sample("leaky/before/goroutine.debug2.txt.gz")),
        Input::file(sample("leaky/after/goroutine.debug2.txt.gz")),
    ]);
    let report = Report::from_session(&s);
    let goroutine = |wait: &str| {
        report
            .findings
            .iter()
            .find(|f| f.rule != RuleId::HeapGrowth && f.group.frames.first().is_some_and(|w| w == wait))
            .unwrap_or_else(|| panic!("a finding waiting in {wait}"))
    };
    let read_loop = goroutine("net/http.(*persistConn).readLoop");
    let memory = read_loop.evidence.memory.as_ref().unwrap();
    assert_eq!(memory.stack_bytes_min, 100 * 2048);
    let dial = memory.heap.iter().find(|l| l.site == "net/http.(*Transport).dialConn").unwrap();
    assert_eq!(dial.shared_frame, "net/http.(*Transport).dialConn");
    assert!(dial.allocated_by.iter().any(|f| f == "bufio.NewReaderSize"), "{dial:?}");
    let scratch = goroutine("main.holdScratch");
    let links = &scratch.evidence.memory.as_ref().unwrap().heap;
    // The buffers the leaked goroutines allocated, and nothing their creator allocated
    // elsewhere (the request's own allocations are held by the connections).
    assert_eq!(links.iter().map(|l| l.site.as_str()).collect::<Vec<_>>(), ["main.holdScratch"]);
    let heap = report
        .findings
        .iter()
        .find(|f| f.evidence.heap.as_ref().is_some_and(|h| h.site == "main.holdScratch"));
    assert_eq!(heap.unwrap().evidence.heap.as_ref().unwrap().held_by, std::slice::from_ref(&scratch.title));
    support::check_golden(&golden("leaky.joined.findings.txt"), &findings_text(&report));
}

#[test]
fn a_healthy_program_has_no_likely_heap_finding() {
    let s = support::session(vec![
        Input::baseline(sample("healthy/before/heap.pb.gz")),
        Input::file(sample("healthy/after/heap.pb.gz")),
    ]);
    let report = Report::from_session(&s);
    assert!(!report.fails_at(Severity::Likely), "{}", findings_text(&report));
    // Its churn is named as such.
    let after = s.verdict_captures()[0];
    let churn = &s.captures[after].analysis.benign;
    assert!(churn.iter().any(|e| e.reason.starts_with("allocation churn")), "{churn:?}");
}

#[test]
fn along_a_series_growth_must_go_on_to_the_newest_profile() {
    let open =
        |name: &str| leakscope_core::open(&sample(name), &LoadOptions::default(), &Progress::new()).unwrap();
    let (before, after, again) =
        (open("leaky/before/heap.pb.gz"), open("leaky/after/heap.pb.gz"), open("leaky/after/heap.pb.gz"));
    let config = Config::default();
    let growing = leakscope_core::analysis::leaks::analyze_series(&[&before[0], &after[0]], &config);
    assert!(growing.fails_at(Severity::Likely));
    // Grown, then flat: what filled and stopped (a cache) is not a leak.
    let levelled =
        leakscope_core::analysis::leaks::analyze_series(&[&before[0], &after[0], &again[0]], &config);
    assert!(
        levelled.findings.is_empty(),
        "{:?}",
        levelled.findings.iter().map(|f| &f.title).collect::<Vec<_>>()
    );
    // Flat, then grown: the series row is in the evidence.
    let late = leakscope_core::analysis::leaks::analyze_series(&[&before[0], &before[0], &after[0]], &config);
    let heap = late.findings[0].evidence.heap.as_ref().unwrap();
    assert_eq!(heap.series.len(), 3);
}

#[test]
fn the_same_profiles_give_the_same_report_to_the_last_bit() {
    // The raw sample estimates are sums of floats; summed in a hash map's order (seeded per
    // map) they differed in their last bits from one load to the next.
    let json = || {
        let s = support::session(vec![
            Input::baseline(sample("leaky/before/heap.pb.gz")),
            Input::file(sample("leaky/after/heap.pb.gz")),
        ]);
        serde_json::to_string(&Report::from_session(&s).to_json()).unwrap()
    };
    let first = json();
    for _ in 0..8 {
        assert_eq!(json(), first);
    }
}
