//! pprof's tools in the app's flamegraph (egui_kittest, no GPU): "Root at label" puts one root
//! frame per value of the chosen key under the whole, as pprof's `-tagroot` does; the Source
//! mode lists a function's lines beside its code, as pprof's `list` does.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use leakscope::App;

use support::{opened, sample};

mod support;

#[test]
fn root_at_label_roots_the_flamegraph_at_each_value() {
    let dump = sample("go127-labelleak.debug2.txt");
    let mut h = opened(vec![dump]);
    h.get_by_label("Flamegraph").click();
    h.run();
    let canvas = "Flamegraph of go127-labelleak.debug2.txt";
    let search = |h: &mut Harness<'static, App>, text: &str| {
        let field = h.get_by_label("Search functions");
        field.click();
        h.run();
        h.get_by_label("Search functions").type_text(text);
        h.run();
        let value = h.get_by_label(canvas).value().unwrap_or_default();
        h.get_by_label("×").click();
        h.run();
        value
    };
    let before = search(&mut h, "tenant=acme");
    assert!(before.contains("matches 0 frames"), "no label frames before: {before}");

    h.get_by_label("Root at label").click();
    h.run();
    h.get_by_label("tenant").click();
    h.run();
    let after = search(&mut h, "tenant=acme");
    assert!(after.contains("matches 1 frames"), "one root frame per value: {after}");
    let globex = search(&mut h, "tenant=globex");
    assert!(globex.contains("matches 1 frames"), "{globex}");
}

/// The Source mode lists a function's lines with their values beside its code, found from the
/// path the capture names (a `-trimpath` module path) under the folders around the capture.
#[test]
fn source_mode_lists_a_functions_lines_beside_its_code() {
    let dump = sample("go127-ci.after.goroutine.debug2.txt");
    let mut h = opened(vec![dump]);
    h.get_by_label("Flamegraph").click();
    h.run();
    h.get_by_label("Top").click();
    h.run();
    h.get_by_label("Sandwich of leakscope.dev/generators/goroutineleak-ci.FetchFirst.func1").click();
    h.run();
    h.get_by_label("Source").click();
    h.run();
    // Line 15 holds the blocked send of all 10 senders, beside its code.
    h.get_by_label_contains("answers <- b");
    // The file the capture names, and where it was found on this machine.
    assert!(
        h.query_all_by_label_contains("sample-traces/generators/goroutineleak-ci/worker.go").count() >= 1
    );
    assert!(h.query_all_by_label("10 goroutines").count() >= 1, "the line's value");
}

/// Sandwich and Source with no function picked yet open on the one with the most self value
/// (the first row of Top), not on an empty pane.
#[test]
fn sandwich_and_source_open_on_the_heaviest_function() {
    let mut h = opened(vec![sample("ctx-done-leak.before.cpu.pb.gz")]);
    h.get_by_label("Flamegraph").click();
    h.run();
    h.get_by_label("Sandwich").click();
    h.run();
    // Two functions share the most self time (20 ms each); the first by name is taken.
    h.get_by_label_contains("net.(*conn).Read — cum 30.0 ms");
    assert_eq!(h.query_all_by_label_contains("Pick a function").count(), 0);
    h.get_by_label("Source").click();
    h.run();
    assert_eq!(h.query_all_by_label_contains("Pick a function").count(), 0);
}

/// A goroutine finding joined with heap growth links to the heap profile it was seen in: its
/// flamegraph, with the grown allocation site searched.
#[test]
fn a_finding_holding_heap_growth_opens_the_heap_profile_on_its_site() {
    let dir = sample("heapleak/leaky");
    let files: Vec<_> = [
        "before/heap.pb.gz",
        "after/heap.pb.gz",
        "before/goroutine.debug2.txt.gz",
        "after/goroutine.debug2.txt.gz",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    let mut h = opened(files);
    // The goroutine dump's findings: pick the one whose goroutines hold the scratch buffers.
    let ws = h.state().workspace.as_ref().unwrap();
    let dump = ws
        .captures()
        .iter()
        .position(|c| c.capture.source.path.ends_with("after/goroutine.debug2.txt.gz"))
        .unwrap();
    h.state_mut().select_capture(dump);
    h.run();
    h.get_by_label("Findings").click();
    h.run();
    h.query_all_by_label_contains("main.holdScratch")
        .find(|n| n.accesskit_node().label().is_some_and(|l| l.starts_with("Finding:")))
        .expect("the finding of the goroutines holding the scratch buffers")
        .click();
    h.run();
    h.get_by_label("Show heap growth at main.holdScratch").click();
    h.run();
    let ws = h.state().workspace.as_ref().unwrap();
    let active = ws.active().unwrap();
    assert!(active.capture.source.path.ends_with("after/heap.pb.gz"), "{}", active.capture.source.path);
    assert_eq!(h.state().state.view, leakscope::state::ViewKind::Flamegraph);
    let search = h.get_by_label("Search functions").value().unwrap_or_default();
    assert_eq!(search, "main.holdScratch");
    // The graph says how much of the in-use bytes the site holds.
    assert!(
        h.query_all_by_label_contains("Flamegraph of")
            .any(|n| n.value().is_some_and(|v| v.contains("search “main.holdScratch” matches")))
    );
}
