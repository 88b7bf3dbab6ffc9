//! Flight-recorder snapshots (`runtime/trace.FlightRecorder`, Go 1.25+): `go-flight.1.trace`
//! and `go-flight.2.trace` in `sample-traces/`, written 4.5 s apart by
//! `sample-traces/generators/flightrec` after 24 and then 48 render goroutines had leaked
//! (blocked forever on an unbuffered channel send), beside 4 pool workers, a producer and two
//! ticker loops that work throughout. A snapshot is a window: every goroutine in it existed
//! before it began. The findings of one snapshot and of the two as a series are compared with
//! `core/tests/golden/go_trace/go-flight.findings.txt` (`UPDATE_GOLDEN=1` rewrites it).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

mod support;

use std::fmt::Write as _;

use leakscope_core::analysis::leaks::{Config, RuleId, Severity};
use leakscope_core::analysis::trace_facts::TraceFacts;
use leakscope_core::session::{Input, Purpose, Session};
use leakscope_core::{LoadOptions, Progress};

fn session(files: &[&str]) -> Session {
    let inputs = files.iter().map(|f| Input::file(support::sample_traces().join(f))).collect();
    Session::load(
        inputs,
        &LoadOptions::default(),
        Purpose::Report,
        Config::default(),
        &Progress::new(),
        &mut |_| {},
    )
    .unwrap_or_else(|f| panic!("{files:?}: {:?}", f.errors))
}

/// The verdict of a session as text: the series, then each finding of the verdict captures
/// (severity, rules, count, title, facts, explanation), then what was judged healthy.
fn summary(s: &Session) -> String {
    let mut out = String::new();
    for series in &s.series {
        let names: Vec<String> = series.members.iter().map(|&m| s.captures[m].name.clone()).collect();
        writeln!(out, "series: {}", names.join(" -> ")).unwrap();
    }
    for i in s.verdict_captures() {
        let c = &s.captures[i];
        writeln!(out, "== {}", c.name.clone()).unwrap();
        for f in &c.analysis.findings {
            writeln!(out, "[{:?}] {:?} x{}: {}", f.severity, f.rules, f.count, f.title).unwrap();
            for fact in &f.evidence.facts {
                writeln!(out, "  - {fact}").unwrap();
            }
            writeln!(out, "  why: {}", f.explanation).unwrap();
        }
        for b in &c.analysis.benign {
            writeln!(out, "healthy x{} {}: {}", b.count, b.key.wait, b.reason).unwrap();
        }
    }
    out
}

#[test]
fn a_snapshot_is_a_window_and_a_series_of_them_shows_growth() {
    let one = session(&["go-flight.1.trace"]);
    // Given newest first: the snapshots' clocks put them in order.
    let two = session(&["go-flight.2.trace", "go-flight.1.trace"]);
    let text = format!("{}\n{}", summary(&one), summary(&two));
    support::check_golden(
        &support::workspace().join("core/tests/golden/go_trace/go-flight.findings.txt"),
        &text,
    );

    // The flight recorder marks nothing itself: the window shows in the goroutines (all but
    // the runtime's existed before it) and in the generation it starts at.
    let c = &one.captures[0].capture;
    let window = TraceFacts::new(c).window.expect("a snapshot is a window");
    assert!(
        window.existed_before >= 24 + 7 && window.existed_before * 10 >= window.goroutines * 9,
        "{window:?}"
    );
    assert!(window.first_generation > 1, "{window:?}");
    assert!(!c.source.truncated && c.warnings.is_empty(), "{:?}", c.warnings.lines());

    // One snapshot: the leak is a candidate with the window's length, and the healthy
    // workers, producer and tickers are not flagged at all.
    let findings = &one.captures[0].analysis.findings;
    assert_eq!(findings.len(), 1, "{text}");
    let leak = &findings[0];
    assert_eq!((leak.rule, leak.severity, leak.count), (RuleId::LongWait, Severity::Possible, 24));
    assert_eq!(leak.key.wait, "main.render");
    assert!(leak.title.contains("for the whole 2.6 s window"), "{}", leak.title);
    assert!(
        leak.evidence.facts.iter().any(|f| f
            .contains("blocked for the whole 2.6 s window; the snapshot does not show when they started")),
        "{:?}",
        leak.evidence.facts
    );
    // Nothing claims a creator the window did not see.
    assert!(leak.group.created_by.is_none() && leak.evidence.created_by.is_none());
    assert!(!leak.evidence.facts.iter().any(|f| f.contains("orphan") || f.contains("no longer exists")));
    let healthy: Vec<&str> = one.captures[0].analysis.benign.iter().map(|b| b.key.wait.as_str()).collect();
    for f in ["main.worker", "main.tick", "main.produce"] {
        assert!(healthy.contains(&f), "{f} not judged healthy: {healthy:?}");
    }

    // Two snapshots: a series, oldest first, and the family grew between them.
    assert_eq!(two.series.len(), 1, "{text}");
    let newest = two.verdict_captures();
    assert_eq!(two.captures[newest[0]].name.clone(), "go-flight.2.trace");
    let findings = &two.captures[newest[0]].analysis.findings;
    let grown = findings.iter().find(|f| f.key.wait == "main.render").expect("render family");
    assert_eq!((grown.severity, grown.count), (Severity::Likely, 48));
    assert!(grown.rules.contains(&RuleId::Growing));
    let growth = grown.growth.as_ref().expect("growth evidence");
    assert_eq!((growth.before, growth.after), (24, 48));
    for f in findings {
        assert!(
            f.severity > Severity::Likely || f.key.wait == "main.render",
            "healthy family flagged: {}",
            f.title
        );
    }
}
