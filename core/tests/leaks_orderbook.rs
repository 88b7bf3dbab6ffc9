//! The leak rules on a program they were not shaped on: the orderbook service
//! (sample-traces/generators/orderbook), eight defects of its own and a healthy background, with
//! the expected families in sample-traces/orderbook/expected.json.
//!
//! Checked for every capture: nothing healthy is flagged, pile-ups stay warnings, and every
//! leaking family is flagged wherever the format can show it: always in dumps and goroutineleak
//! profiles, in stateless profiles when the family is a crowd, and with a baseline when it grew.

// Test fixtures panic on bad input by design: a broken fixture should fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::collections::BTreeMap;

use leakscope_core::analysis::leaks::{self, Config, RuleId, Severity};
use leakscope_core::analysis::sites::is_wrapper;
use leakscope_core::{Capture, LoadOptions, Progress};
use serde_json::Value;

fn matches(func: &str, pattern: &str) -> bool {
    if pattern.ends_with(['.', '(', '/']) {
        return func.starts_with(pattern);
    }
    match func.strip_prefix(pattern) {
        Some("") => true,
        Some(rest) => rest.strip_prefix(".func").is_some_and(|n| n.starts_with(|c: char| c.is_ascii_digit())),
        None => false,
    }
}

/// The family of a stack, by expected.json's matchers (see its "how_to_use").
fn family<'e>(expected: &'e Value, funcs: &[&str], creator: Option<&str>) -> &'e str {
    let strs = |v: &Value, k: &str| -> Vec<String> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let start = funcs.iter().rev().find(|f| !is_wrapper(f)).copied().unwrap_or("");
    for name in expected["match_order"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        let m = &expected["families"][name]["match"];
        let any_of = |k: &str| strs(m, k).iter().any(|p| funcs.iter().any(|f| matches(f, p)));
        let ok = strs(m, "all").iter().all(|p| funcs.iter().any(|f| matches(f, p)))
            && (m.get("any").is_none() || any_of("any"))
            && !any_of("none")
            && (m.get("start").is_none() || strs(m, "start").iter().any(|p| matches(start, p)))
            && (m.get("created_by").is_none()
                || creator.is_some_and(|c| strs(m, "created_by").iter().any(|p| matches(c, p))))
            && (m.get("system").is_none() || (start.starts_with("runtime.") && start != "runtime.main"))
            && (m.get("empty").is_none() || funcs.is_empty());
        if ok {
            return name;
        }
    }
    "unmatched"
}

fn open(path: &std::path::Path) -> Capture {
    leakscope_core::open(path, &LoadOptions::default(), &Progress::new()).unwrap().pop().unwrap()
}

#[test]
fn orderbook_findings_match_the_expected_families() {
    let root = support::sample_traces().join("orderbook");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("expected.json")).unwrap()).unwrap();
    let config = Config::default();
    let mut checked = 0;
    for (file, capture) in expected["captures"].as_object().unwrap() {
        let verdicts = &capture["verdicts"];
        let list = |k: &str| -> Vec<&str> {
            verdicts
                .get(k)
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default()
        };
        let baseline = capture.get("baseline").and_then(Value::as_str);
        let c = open(&root.join(file));
        let base = baseline.map(|b| open(&root.join(b)));
        for with_baseline in [false, true] {
            if with_baseline && base.is_none() {
                continue;
            }
            let a = leaks::analyze(&c, if with_baseline { base.as_ref() } else { None }, &config);
            let mut flagged: BTreeMap<&str, Vec<(Severity, Vec<RuleId>)>> = BTreeMap::new();
            for f in &a.findings {
                let creator = f.group.created_by.map(|x| c.func_name(x));
                for &s in &f.stacks {
                    let funcs: Vec<&str> = c.stack_funcs(s).collect();
                    flagged
                        .entry(family(&expected, &funcs, creator))
                        .or_default()
                        .push((f.severity, f.rules.clone()));
                }
            }
            let what = format!("{file}{}", if with_baseline { " with baseline" } else { "" });
            for fam in list("must_not_flag") {
                assert!(!flagged.contains_key(fam), "{what}: healthy {fam} flagged: {:?}", flagged[fam]);
            }
            assert!(!flagged.contains_key("unmatched"), "{what}: a finding matches no family");
            for fam in list("pile_up") {
                if let Some(v) = flagged.get(fam) {
                    assert!(
                        v.iter().all(|(s, r)| *s == Severity::Warning && r == &[RuleId::PileUp]),
                        "{what}: {fam} {v:?}"
                    );
                }
            }
            let leak_profile = file.contains("goroutineleak");
            for fam in list("must_flag") {
                let count = capture["families"][fam]["count"].as_u64().unwrap_or(0);
                let grew = capture
                    .get("leaking_families_that_grew")
                    .and_then(Value::as_array)
                    .is_some_and(|g| g.iter().any(|x| x == fam));
                let visible = file.contains("debug2")
                    || file.contains("sigquit")
                    || leak_profile
                    || count >= config.thresholds.crowd
                    || (with_baseline && grew);
                if visible {
                    assert!(flagged.contains_key(fam), "{what}: {fam} ({count} goroutines) not flagged");
                }
                if with_baseline && grew && !leak_profile {
                    assert!(
                        flagged[fam]
                            .iter()
                            .any(|(_, r)| r.contains(&RuleId::Growing) || r.contains(&RuleId::PileUp)),
                        "{what}: {fam} grew but not growing"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} runs checked");
}
