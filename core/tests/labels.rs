//! pprof labels end to end on one labelled Go 1.27 program (`generators/labelleak`) captured
//! three ways at one moment: a debug=2 dump (labels in the headers), a debug=1 profile
//! (`# labels:`) and a protobuf profile (sample labels). Groups split by label set, and every
//! format gives the same goroutines per label set, in its groups and in its findings.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::collections::BTreeMap;

use leakscope_core::analysis::leaks::Config;
use leakscope_core::report::Report;
use leakscope_core::session::{Input, Purpose, Session};
use leakscope_core::{LoadOptions, Progress};
use serde_json::Value;

const FILES: [&str; 3] =
    ["go127-labelleak.debug2.txt", "go127-labelleak.goroutine.debug1.txt", "go127-labelleak.goroutine.pb.gz"];

fn report(name: &str) -> Value {
    let session = Session::load(
        vec![Input::file(support::sample_traces().join(name))],
        &LoadOptions::default(),
        Purpose::Report,
        Config::default(),
        &Progress::new(),
        &mut |_| {},
    )
    .unwrap_or_else(|f| panic!("{name} loads: {:?}", f.errors));
    Report::from_session(&session).to_json()
}

/// `route=/export tenant=acme` from a JSON `labels` object.
fn text(labels: Option<&Value>) -> String {
    let Some(Value::Object(map)) = labels else { return String::new() };
    map.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap())).collect::<Vec<_>>().join(" ")
}

fn counts_by_label_set(report: &Value) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for g in report["captures"][0]["groups"].as_array().unwrap() {
        *out.entry(text(g.get("labels"))).or_insert(0) += g["count"].as_u64().unwrap();
    }
    out
}

/// The label breakdown of the finding about `main.waitForReply`.
fn reply_finding_sets(report: &Value) -> Vec<(String, u64)> {
    let finding = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["group"]["user_function"] == "main.waitForReply")
        .unwrap_or_else(|| panic!("a finding about main.waitForReply in {:#}", report["findings"]));
    finding["evidence"]["label_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (text(s.get("labels")), s["count"].as_u64().unwrap()))
        .collect()
}

#[test]
fn counts_per_label_set_are_exact_and_equal_in_every_format() {
    let want: BTreeMap<String, u64> = [
        ("route=/export tenant=acme", 30),
        ("tenant=globex", 12),
        ("route=/import tenant=globex", 8),
        // five unlabelled reply waiters and main, which wrote the profiles
        ("", 6),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    for file in FILES {
        assert_eq!(counts_by_label_set(&report(file)), want, "{file}");
    }
}

#[test]
fn groups_split_by_label_set_and_carry_the_labels() {
    for file in FILES {
        let r = report(file);
        let reply: Vec<(String, u64)> = r["captures"][0]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|g| g["user_function"] == "main.waitForReply")
            .map(|g| (text(g.get("labels")), g["count"].as_u64().unwrap()))
            .collect();
        assert_eq!(
            reply,
            [
                ("route=/export tenant=acme".to_owned(), 30),
                ("tenant=globex".to_owned(), 12),
                (String::new(), 5)
            ],
            "{file}: one stack, three label sets, three groups"
        );
    }
}

#[test]
fn one_finding_per_site_with_its_label_breakdown() {
    let want =
        [("route=/export tenant=acme".to_owned(), 30), ("tenant=globex".to_owned(), 12), (String::new(), 5)];
    for file in FILES {
        let r = report(file);
        assert_eq!(reply_finding_sets(&r), want, "{file}");
        let finding = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["group"]["user_function"] == "main.waitForReply")
            .unwrap();
        assert_eq!(finding["count"], 47, "{file}: one finding across label sets");
        let facts = finding["evidence"]["facts"].as_array().unwrap();
        assert!(
            facts
                .iter()
                .any(|f| f == "by labels: 30 route=/export tenant=acme, 12 tenant=globex, 5 without labels"),
            "{file}: {facts:?}"
        );
    }
}

/// pprof's `-tagroot`: one synthetic root frame per value of the chosen key, the same in every
/// format.
#[test]
fn flamegraph_rooted_at_a_label() {
    use leakscope_core::analysis::flame::FlameTree;
    for file in FILES {
        let path = support::sample_traces().join(file);
        let captures = leakscope_core::load::open(&path, &LoadOptions::default(), &Progress::new()).unwrap();
        let capture = &captures[0];
        assert_eq!(FlameTree::label_keys(capture), ["route", "tenant"], "{file}");
        let tree = FlameTree::goroutines_by_label(capture, "route");
        let roots: Vec<(&str, i64)> =
            tree.children(0).map(|n| (tree.name(n), tree.nodes[n as usize].total)).collect();
        assert_eq!(roots, [("route unset", 18), ("route=/export", 30), ("route=/import", 8)], "{file}");
        assert_eq!(tree.nodes[0].total, 56, "{file}");
    }
}
