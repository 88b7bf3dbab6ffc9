//! Image snapshots of every view on the bundled sample (egui_kittest + wgpu; on CI through
//! Mesa's software Vulkan). Run with `cargo test -p leakscope --features snapshots --test
//! snapshots`; `UPDATE_SNAPSHOTS=1` rewrites the images after a deliberate change.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use egui_kittest::kittest::{NodeT as _, Queryable as _};
use egui_kittest::{Harness, SnapshotResults};
use leakscope::state::{AppState, ComparePane, ThemeChoice, ViewKind};
use leakscope::{App, Startup};

fn harness(theme: ThemeChoice) -> Harness<'static, App> {
    let state = AppState { theme, ..AppState::default() };
    let mut h = Harness::builder()
        .with_size(egui::vec2(1440.0, 900.0))
        .with_max_steps(16)
        .wgpu()
        .build_eframe(move |cc| App::with_state(&cc.egui_ctx, state, Startup::Sample, Instant::now()));
    h.run_steps(2);
    h.state_mut().finish_loading_blocking();
    // The frame that takes in a result the loader handed over itself, if it did.
    h.run_steps(2);
    h.run();
    h
}

/// The parse time in the status bar changes from run to run; keep it out of the images. The
/// label is right-aligned and its width changes with the number ("parsed in 9 ms", "parsed in
/// 112 ms"), so the mask is a fixed band ending at the label's right edge.
fn mask_timing(h: &mut Harness<'_, App>) {
    let rect = h.query_by_label_contains("parsed in").map(|n| n.rect());
    if let Some(rect) = rect {
        let band = egui::Rect::from_min_max(egui::pos2(rect.right() - 220.0, rect.top()), rect.max);
        h.mask(band.expand(2.0));
    }
}

#[test]
fn every_view_of_the_sample() {
    let mut results = SnapshotResults::new();
    let mut h = harness(ThemeChoice::Dark);
    for view in ViewKind::ALL {
        h.get_by_label(view.label()).click();
        h.run();
        mask_timing(&mut h);
        results.add(h.try_snapshot(format!("view_{}", view.label().to_lowercase())));
    }
    h.get_by_label("Goroutines").click();
    h.run();
    h.get_by_label("Group: 220 goroutines, chan send, main.uploadChunk").click();
    h.run();
    mask_timing(&mut h);
    results.add(h.try_snapshot("goroutines_group_selected"));
    h.get_by_label("Created-by tree").click();
    h.run();
    mask_timing(&mut h);
    results.add(h.try_snapshot("goroutines_tree"));
}

#[test]
fn compare_panes() {
    let mut results = SnapshotResults::new();
    let mut h = harness(ThemeChoice::Dark);
    h.get_by_label("Compare").click();
    h.run();
    for (pane, label) in [
        (ComparePane::DiffFlamegraph, "Diff flamegraph"),
        (ComparePane::Goroutines, "Goroutines side by side"),
    ] {
        h.get_by_label(label).click();
        h.run();
        assert_eq!(h.state().state.compare.pane, pane);
        mask_timing(&mut h);
        results.add(h.try_snapshot(format!("compare_{}", label.to_lowercase().replace(' ', "_"))));
    }
}

#[test]
fn light_theme() {
    let mut h = harness(ThemeChoice::Light);
    mask_timing(&mut h);
    h.snapshot("view_findings_light");
}

fn harness_files(files: &[&str]) -> Harness<'static, App> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-traces");
    let paths = files.iter().map(|f| dir.join(f)).collect();
    let mut h = Harness::builder().with_size(egui::vec2(1440.0, 900.0)).wgpu().build_eframe(move |cc| {
        App::with_state(&cc.egui_ctx, AppState::default(), Startup::Files(paths), Instant::now())
    });
    h.run_steps(2);
    h.state_mut().finish_loading_blocking();
    // The frame that takes in a result the loader handed over itself, if it did.
    h.run_steps(2);
    h.run();
    h
}

#[test]
fn top_filters_and_sandwich() {
    let mut results = SnapshotResults::new();
    let mut h = harness(ThemeChoice::Dark);
    h.get_by_label("Flamegraph").click();
    h.run();
    h.get_by_label("Top").click();
    h.run();
    mask_timing(&mut h);
    results.add(h.try_snapshot("flamegraph_top"));
    h.get_by_label("Sandwich of main.sendReceiptEmail").click();
    h.run();
    mask_timing(&mut h);
    results.add(h.try_snapshot("flamegraph_sandwich"));
    h.get_by_label("Graph").click();
    h.get_by_label("Focus regex").click();
    h.get_by_label("Focus regex").type_text("main\\.(watch|poll)");
    h.get_by_label("Hide regex").click();
    h.get_by_label("Hide regex").type_text("(");
    h.run();
    mask_timing(&mut h);
    results.add(h.try_snapshot("flamegraph_filtered_bad_regex"));
}

#[test]
fn top_of_a_cpu_profile() {
    let mut h = harness_files(&["ctx-done-leak.before.cpu.pb.gz"]);
    h.get_by_label("Flamegraph").click();
    h.run();
    h.get_by_label("Top").click();
    h.run();
    mask_timing(&mut h);
    h.snapshot("cpu_profile_top");
}

#[test]
fn counter_tracks_of_a_trace() {
    let mut h = harness_files(&["go-leaky.trace"]);
    h.get_by_label("Timeline").click();
    h.run();
    mask_timing(&mut h);
    h.snapshot("timeline_counter_tracks");
}

/// The two window sizes the views are checked at: a desktop and a small laptop window.
const SIZES: [(f32, f32); 2] = [(1600.0, 1000.0), (1000.0, 700.0)];

fn harness_sized(files: &[&str], size: (f32, f32)) -> Harness<'static, App> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-traces");
    let paths: Vec<_> = files.iter().map(|f| dir.join(f)).collect();
    let startup = if paths.is_empty() { Startup::Sample } else { Startup::Files(paths) };
    let mut h = Harness::builder()
        .with_size(egui::vec2(size.0, size.1))
        // The loader thread asks for a repaint after handing over its result; on a busy
        // machine that request can land after the frames below, costing a frame or two more.
        .with_max_steps(16)
        .wgpu()
        .build_eframe(move |cc| App::with_state(&cc.egui_ctx, AppState::default(), startup, Instant::now()));
    h.run_steps(2);
    h.state_mut().finish_loading_blocking();
    // The frame that takes in a result the loader handed over itself, if it did.
    h.run_steps(2);
    h.run();
    h
}

/// Every view that applies to a capture, on a dump, an execution trace, a CPU profile and a
/// Node trace, and every Compare pane of the before/after sample, at both sizes: layout that
/// breaks at one size only (text over controls, a cut-off panel) shows in one of these.
#[test]
fn every_view_on_every_kind_of_capture_at_two_sizes() {
    let mut results = SnapshotResults::new();
    let captures: [(&str, &[&str]); 4] = [
        ("dump", &["orders-api.after.debug2.txt.gz"]),
        ("trace", &["go-leaky.trace"]),
        ("cpu", &["ctx-done-leak.before.cpu.pb.gz"]),
        ("node", &["node-healthy-locks.trace.json"]),
    ];
    for (kind, files) in captures {
        for size in SIZES {
            let mut h = harness_sized(files, size);
            for view in ViewKind::ALL.into_iter().filter(|v| *v != ViewKind::Compare) {
                // A view that does not apply to the capture has its tab disabled: nothing to see.
                let tab = h.get_by_label(view.label());
                if tab.accesskit_node().is_disabled() {
                    continue;
                }
                tab.click();
                h.run();
                mask_timing(&mut h);
                let name = format!("{kind}_{}_{}x{}", view.label().to_lowercase(), size.0, size.1);
                results.add(h.try_snapshot(name));
            }
        }
    }
    for size in SIZES {
        let mut h = harness_sized(&[], size);
        h.get_by_label("Compare").click();
        h.run();
        for label in [
            "Growth table",
            "Diff flamegraph",
            "Goroutines side by side",
            "Flamegraphs side by side",
            "Timelines side by side",
        ] {
            let Some(pane) = h.query_by_label(label) else { continue };
            pane.click();
            h.run();
            mask_timing(&mut h);
            let name = format!("compare_{}_{}x{}", label.to_lowercase().replace(' ', "_"), size.0, size.1);
            results.add(h.try_snapshot(name));
        }
    }
}

/// The Source mode with the file found beside the capture, and without it (a CPU profile built
/// elsewhere): the lines are listed with their values either way.
#[test]
fn source_lines_found_and_not_found() {
    let mut results = SnapshotResults::new();
    for (files, func, name) in [
        (
            "go127-ci.after.goroutine.debug2.txt",
            "leakscope.dev/generators/goroutineleak-ci.FetchFirst.func1",
            "source_found",
        ),
        ("ctx-done-leak.before.cpu.pb.gz", "main.renderReport", "source_not_found"),
    ] {
        let mut h = harness_sized(&[files], (1000.0, 700.0));
        h.get_by_label("Flamegraph").click();
        h.run();
        h.get_by_label("Top").click();
        h.run();
        h.get_by_label(&format!("Sandwich of {func}")).click();
        h.run();
        h.get_by_label("Source").click();
        h.run();
        mask_timing(&mut h);
        // Where the file was found, or where it was looked for, depends on the checkout's path.
        let rects: Vec<egui::Rect> = h
            .query_all_by_label_contains("sample-traces/generators/goroutineleak-ci/worker.go")
            .map(|n| n.rect())
            .filter(|r| r.top() > 150.0 && r.top() < 230.0)
            .collect();
        for rect in rects {
            h.mask(egui::Rect::from_x_y_ranges(rect.left()..=1000.0, rect.y_range()).expand(2.0));
        }
        results.add(h.try_snapshot(name));
    }
}

/// Hovering a lane draws its task's arrows: who created it and whom it created, who woke it
/// and whom it woke (the unblock edges of an execution trace).
#[test]
fn links_of_a_hovered_trace_lane() {
    let mut h = harness_sized(&["go-leaky.trace"], (1000.0, 700.0));
    h.get_by_label("Timeline").click();
    h.run();
    // The main goroutine's lane, which starts the others.
    h.input_mut().events.push(egui::Event::PointerMoved(egui::pos2(600.0, 312.0)));
    h.run();
    mask_timing(&mut h);
    h.snapshot("timeline_links_of_hovered_lane");
}

/// A Node trace's interval selected after the timeline opened with its one-line hint: the
/// details panel has room for the event's args (the hint's height was kept, cutting them off).
#[test]
fn a_selected_node_interval_shows_its_args() {
    let mut h = harness_sized(&["node-pending-locks.trace.json"], (1600.0, 1000.0));
    h.get_by_label("Timeline").click();
    h.run();
    // The HTTPINCOMINGMESSAGE span of request 18.
    h.input_mut().events.push(egui::Event::PointerMoved(egui::pos2(1152.0, 669.0)));
    h.run();
    for pressed in [true, false] {
        h.input_mut().events.push(egui::Event::PointerButton {
            pos: egui::pos2(1152.0, 669.0),
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
        h.run();
    }
    h.get_by_label_contains("\"executionAsyncId\": 4");
    mask_timing(&mut h);
    h.snapshot("timeline_node_selected_args");
}
