//! Leak analysis on the real captures (../shared/realdata): every leaking family is flagged,
//! the healthy scenario and every scenario's baseline goroutines produce no finding,
//! runtime-marked goroutines are proven, and `--baseline before/X` on `after/X` flags exactly
//! the families that grew.
//!
//! The family names (A1..C3) come from realdata/README.md; mapping stacks to them here is the
//! test's answer key, not something the rules know.

// Test fixtures panic on bad input by design: a broken fixture should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::format_push_string, clippy::indexing_slicing)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use leakscope_core::analysis::leaks::{self, Analysis, Config, RuleId, Severity};
use leakscope_core::{Capture, LoadOptions, Progress};

/// The family of a stack (function names, innermost first) per realdata/README.md.
fn family(funcs: &[&str], creator: Option<&str>) -> &'static str {
    let has = |f: &str| funcs.contains(&f);
    if has("main.waitForRelease") {
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
    } else if has("main.(*stuckConn).roundTrip") {
        if creator == Some("main.runTiny") {
            "C0"
        } else if has("database/sql.(*Tx).QueryContext") {
            "C2"
        } else {
            "C1"
        }
    } else if funcs
        .iter()
        .any(|f| f.starts_with("main.sessionWorker") || f.starts_with("main.fanoutSubscriber"))
    {
        "L"
    } else {
        "other"
    }
}

fn open(path: &Path) -> Capture {
    let mut list = leakscope_core::open(path, &LoadOptions::default(), &Progress::new())
        .unwrap_or_else(|e| panic!("{e}"));
    list.pop().expect("one capture")
}

/// Goroutines per family in a capture.
fn families(c: &Capture) -> BTreeMap<&'static str, u64> {
    let mut out = BTreeMap::new();
    for g in c.groups() {
        let funcs: Vec<&str> = c.stack_funcs(g.stack).collect();
        *out.entry(family(&funcs, g.created_by.map(|f| c.func_name(f)))).or_insert(0) += g.count;
    }
    out
}

/// Findings per family: (severity, rules) of each finding whose stacks belong to the family.
fn flagged(c: &Capture, a: &Analysis) -> BTreeMap<&'static str, Vec<(Severity, Vec<RuleId>)>> {
    let mut out: BTreeMap<&'static str, Vec<(Severity, Vec<RuleId>)>> = BTreeMap::new();
    for f in &a.findings {
        let creator = f.group.created_by.map(|x| c.func_name(x));
        let fams: BTreeSet<&str> =
            f.stacks.iter().map(|&s| family(&c.stack_funcs(s).collect::<Vec<_>>(), creator)).collect();
        assert_eq!(fams.len(), 1, "a finding mixes families {fams:?}: {}", f.title);
        for fam in fams {
            out.entry(fam).or_default().push((f.severity, f.rules.clone()));
        }
    }
    out
}

const SCENARIOS: [&str; 4] = ["ctx-done-leak", "detached-async", "blocking-client", "healthy"];
const DUMPS: [&str; 2] = ["goroutine.debug2.txt", "goroutine.debug2.leakmarked.txt"];

/// Every dump of every scenario, single capture: leaking families flagged, nothing else.
#[test]
#[ignore = "needs ../shared/realdata"]
fn dumps_flag_every_leaking_family_and_nothing_else() {
    let dir = support::realdata();
    let mut paths = Vec::new();
    for s in SCENARIOS {
        for phase in ["before", "after"] {
            for d in DUMPS {
                paths.push(dir.join(format!("go127/{s}/{phase}/{d}")));
            }
        }
        paths.push(dir.join(format!("go127/{s}/sigquit.stderr.txt")));
    }
    paths.push(dir.join("go119/mixed/before/goroutine.debug2.txt"));
    paths.push(dir.join("go127/medium/medium.goroutine.debug2.txt"));
    let config = Config::default();
    for path in &paths {
        let c = open(path);
        let a = leaks::analyze(&c, None, &config);
        let fams = families(&c);
        let got = flagged(&c, &a);
        assert!(
            !got.contains_key("other"),
            "{}: baseline goroutines flagged: {:?}",
            path.display(),
            got.get("other")
        );
        for (fam, count) in &fams {
            if *fam != "other" {
                assert!(
                    got.contains_key(fam),
                    "{}: family {fam} ({count} goroutines) not flagged",
                    path.display()
                );
            }
        }
        if path.to_string_lossy().contains("healthy") {
            assert!(a.findings.is_empty(), "{}: healthy capture has findings", path.display());
        }
    }
}

/// The tiny SIGQUIT dump holds 1-3 goroutines per family, created by the still-running main
/// goroutine, with no wait minutes and no baseline: nothing distinguishes A1..B3 there from a
/// healthy background goroutine, so only the client call (C0) is flagged. This pins that down
/// (and that nothing healthy is flagged) so a change in either direction is noticed.
#[test]
#[ignore = "needs ../shared/realdata"]
fn tiny_sigquit_flags_the_client_call_only() {
    let dir = support::realdata();
    let c = open(&dir.join("go127/tiny-sigquit/sigquit.stderr.txt"));
    let a = leaks::analyze(&c, None, &Config::default());
    let got = flagged(&c, &a);
    assert_eq!(got.keys().copied().collect::<Vec<_>>(), ["C0"]);
    assert!(got["C0"].iter().all(|(_, rules)| rules.contains(&RuleId::BlockedClientCall)));
}

/// Dumps taken right after the runtime's leak check mark leaked goroutines; those families are
/// proven.
#[test]
#[ignore = "needs ../shared/realdata"]
fn runtime_marked_goroutines_are_proven() {
    let dir = support::realdata();
    let truth = support::ground_truth(&dir);
    for s in SCENARIOS {
        for phase in ["before", "after"] {
            let rel = format!("go127/{s}/{phase}/goroutine.debug2.leakmarked.txt");
            let c = open(&dir.join(&rel));
            let marked = truth[&rel]["leaked_marked"].as_u64().unwrap();
            let a = leaks::analyze(&c, None, &Config::default());
            let proven: u64 = a
                .findings
                .iter()
                .filter(|f| f.rules.contains(&RuleId::RuntimeProven))
                .map(|f| f.evidence.runtime_marked)
                .sum();
            assert_eq!(proven, marked, "{rel}");
            for f in a.findings.iter().filter(|f| f.evidence.runtime_marked > 0) {
                assert_eq!(f.severity, Severity::Proven, "{rel}: {}", f.title);
            }
        }
    }
}

/// `--baseline before/X` on `after/X`: the `growing` rule fires on exactly the families that
/// grew (all leaking families in these scenarios) and never on baseline goroutines.
#[test]
#[ignore = "needs ../shared/realdata"]
fn baseline_flags_exactly_the_growing_families() {
    let dir = support::realdata();
    for s in SCENARIOS {
        for d in DUMPS {
            let before = open(&dir.join(format!("go127/{s}/before/{d}")));
            let after = open(&dir.join(format!("go127/{s}/after/{d}")));
            let a = leaks::analyze(&after, Some(&before), &Config::default());
            let growing: BTreeSet<&str> = flagged(&after, &a)
                .into_iter()
                .filter(|(_, v)| v.iter().any(|(_, rules)| rules.contains(&RuleId::Growing)))
                .map(|(k, _)| k)
                .collect();
            let (fb, fa) = (families(&before), families(&after));
            let expected: BTreeSet<&str> = fa
                .iter()
                .filter(|(k, n)| **k != "other" && **n > fb.get(*k).copied().unwrap_or(0))
                .map(|(k, _)| *k)
                .collect();
            assert_eq!(growing, expected, "{s}/{d}");
            if s == "healthy" {
                assert!(a.findings.is_empty(), "healthy with baseline has findings");
            }
        }
    }
}

const PROFILES: [&str; 4] =
    ["goroutine.debug1.txt", "goroutine.pb.gz", "goroutineleak.debug1.txt", "goroutineleak.pb.gz"];

/// Profiles (debug=1 text and pprof, goroutine and goroutineleak): never a finding on healthy
/// or baseline goroutines; every family in a goroutineleak profile is proven; families large
/// enough to be seen without states or creators (a crowd at one stack) are flagged.
#[test]
#[ignore = "needs ../shared/realdata"]
fn profiles_flag_what_they_can_see_and_nothing_else() {
    let dir = support::realdata();
    let config = Config::default();
    for s in SCENARIOS {
        for phase in ["before", "after"] {
            for p in PROFILES {
                let path = dir.join(format!("go127/{s}/{phase}/{p}"));
                let c = open(&path);
                let a = leaks::analyze(&c, None, &config);
                let got = flagged(&c, &a);
                assert!(!got.contains_key("other"), "{}: {:?}", path.display(), got.get("other"));
                if s == "healthy" {
                    assert!(a.findings.is_empty(), "{}", path.display());
                }
                for (fam, count) in families(&c) {
                    if fam == "other" {
                        continue;
                    }
                    if p.starts_with("goroutineleak") {
                        assert!(
                            got.get(fam).is_some_and(|v| v.iter().all(|(sev, _)| *sev == Severity::Proven)),
                            "{}: {fam} not proven",
                            path.display()
                        );
                    } else if count >= config.thresholds.crowd {
                        assert!(got.contains_key(fam), "{}: {fam} ({count}) not flagged", path.display());
                    }
                }
            }
        }
    }
}

/// A baseline and a capture in any mix of formats (debug=2 dump, debug=1 text, pprof) are
/// matched family by family: exactly the growing families are reported as growing.
#[test]
#[ignore = "needs ../shared/realdata"]
fn baseline_matches_families_across_formats() {
    let dir = support::realdata();
    let formats = ["goroutine.debug2.txt", "goroutine.debug1.txt", "goroutine.pb.gz"];
    for s in SCENARIOS {
        for b in formats {
            for f in formats {
                let before = open(&dir.join(format!("go127/{s}/before/{b}")));
                let after = open(&dir.join(format!("go127/{s}/after/{f}")));
                let a = leaks::analyze(&after, Some(&before), &Config::default());
                let growing: BTreeMap<&str, (u64, u64)> = a
                    .findings
                    .iter()
                    .filter_map(|x| {
                        let g = x.growth.as_ref()?;
                        let funcs: Vec<&str> = after.stack_funcs(x.group.stack).collect();
                        Some((
                            family(&funcs, x.group.created_by.map(|c| after.func_name(c))),
                            (g.before, g.after),
                        ))
                    })
                    .collect();
                let (fb, fa) = (families(&before), families(&after));
                let expected: BTreeMap<&str, (u64, u64)> = fa
                    .iter()
                    .filter(|(k, n)| **k != "other" && **n > fb.get(*k).copied().unwrap_or(0))
                    .map(|(k, n)| (*k, (fb.get(k).copied().unwrap_or(0), *n)))
                    .collect();
                assert_eq!(growing, expected, "{s}: {b} -> {f}");
            }
        }
    }
}

/// Execution traces: every family alive at the end is flagged, nothing healthy is; families
/// whose goroutines were created during the trace and none ended are growing; the healthy
/// traces give no finding at all. (Go 1.19 traces are refused with a clear error elsewhere.)
#[test]
#[ignore = "needs ../shared/realdata"]
fn traces_flag_leaking_families_with_their_trace_evidence() {
    let dir = support::realdata();
    let truth = support::ground_truth(&dir);
    let config = Config::default();
    for s in SCENARIOS {
        for phase in ["before", "after"] {
            let rel = format!("go127/{s}/{phase}/exec.trace");
            let c = open(&dir.join(&rel));
            let a = leaks::analyze(&c, None, &config);
            let got = flagged(&c, &a);
            assert!(!got.contains_key("other"), "{rel}: {:?}", got.get("other"));
            let alive = truth[&rel]["families_alive_at_end"].as_object().unwrap();
            let expected: BTreeSet<&str> = alive.keys().map(String::as_str).collect();
            let flagged_families: BTreeSet<&str> = got.keys().copied().collect();
            assert_eq!(flagged_families, expected, "{rel}");
            for f in &a.findings {
                let te = f.evidence.trace.as_ref().expect("trace evidence");
                assert_eq!(te.blocked_at_end, f.count, "{rel}: {}: all parked to the end", f.title);
                // Sites the program starts (not net/http's connection goroutines, which
                // outlive any trace window on a keep-alive server) that only grew are growing.
                let program_site = f
                    .group
                    .created_by
                    .is_some_and(|cb| !leakscope_core::model::funcname::is_standard_library(c.func_name(cb)));
                let grew = te.site.as_ref().is_some_and(|site| {
                    site.ended == 0 && u64::from(site.created) >= config.thresholds.growth_min
                });
                if program_site && grew {
                    assert!(f.rules.contains(&RuleId::Growing), "{rel}: {} grew during the trace", f.title);
                }
            }
        }
    }
}
