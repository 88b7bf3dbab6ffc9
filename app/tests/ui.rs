//! Interaction tests of the app through its AccessKit tree (egui_kittest, no GPU): open the
//! bundled sample, reach every view by its label, search, drop files, survive a corrupt file.

// Test helpers outside #[test] fns are not covered by clippy.toml's test allowances.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;

use std::time::Instant;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use leakscope::state::{AppState, ViewKind};
use leakscope::{App, Startup};
use support::{drop_files, harness, sample_traces, settle};

mod support;

#[test]
fn opens_the_bundled_sample_in_compare_mode() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    let ws = h.state().workspace.as_ref().expect("the sample is open");
    assert_eq!(ws.captures().len(), 2);
    let cmp = ws.comparison().expect("opened as a comparison");
    assert_eq!((cmp.before, cmp.after), (0, 1));
    assert_eq!(ws.active, 1, "the later capture is shown");
    assert_eq!(ws.captures()[0].goroutine_count(), 216);
    assert_eq!(ws.captures()[1].goroutine_count(), 2236);
    // Every view has its tab, found by name.
    for view in ViewKind::ALL {
        h.get_by_label(view.label());
    }
    h.get_by_label_contains("after: orders-api.after.debug2.txt");
}

#[test]
fn findings_view_lists_the_leaks_worst_first() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    assert_eq!(h.state().state.view, ViewKind::Findings);
    let findings = &h.state().workspace.as_ref().unwrap().active().unwrap().analysis.findings;
    // Every leak family of orders-api is found, and nothing healthy is.
    for func in [
        "main.watchOrderStatus",
        "main.pollPayment",
        "main.sendReceiptEmail",
        "main.warmCache",
        "main.processUpload",
        "main.uploadChunk",
        "main.handleCheckout.func1",
        "main.fetchStock",
    ] {
        assert!(findings.iter().any(|f| f.key.user == func), "{func} is not flagged");
    }
    for healthy in ["main.worker", "main.reportMetrics", "main.serve"] {
        assert!(findings.iter().all(|f| f.key.user != healthy), "{healthy} is flagged");
    }
    let severities: Vec<_> = findings.iter().map(|f| f.severity).collect();
    assert!(severities.windows(2).all(|w| w[0] <= w[1]), "worst first");
    h.get_by_label_contains("12 findings");
    h.get_by_label_contains("Finding: 440 goroutines proven leaked by the Go runtime");
    // The first finding is open: its evidence, why and fix are shown.
    h.get_by_label("Why this is a leak");
    h.get_by_label("Fix");
    h.get_by_label("Copy as Markdown").click();
    // The copy goes out with the frame that handles the click.
    h.step();
    let copied = h
        .output()
        .platform_output
        .commands
        .iter()
        .any(|c| matches!(c, egui::OutputCommand::CopyText(t) if t.starts_with("### ")));
    assert!(copied, "the finding is copied as Markdown");
}

#[test]
fn a_finding_links_to_its_goroutines() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label_contains("Finding: 440 goroutines outlived the request that started them, sending on a channel in main.sendReceiptEmail").click();
    h.run();
    h.get_by_label("Show finding in Goroutines").click();
    h.run();
    assert_eq!(h.state().state.view, ViewKind::Goroutines);
    assert!(h.state().focus.is_some());
    h.get_by_label("Group: 440 goroutines, chan send, main.sendReceiptEmail");
    assert!(h.query_by_label_contains("main.watchOrderStatus").is_none(), "narrowed to the finding");
    h.get_by_label("× Show all").click();
    h.run();
    assert!(h.state().focus.is_none());
    h.get_by_label("Group: 440 goroutines, chan receive, main.watchOrderStatus");
}

#[test]
fn goroutines_view_shows_groups_and_counts() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Goroutines").click();
    h.run();
    assert_eq!(h.state().state.view, ViewKind::Goroutines);
    h.get_by_label_contains("groups, 2,236 goroutines");
    h.get_by_label("Group: 440 goroutines, chan send, main.sendReceiptEmail");
    h.get_by_label("Group: 440 goroutines, chan receive, main.watchOrderStatus");
    h.get_by_label("State chan send");
}

#[test]
fn search_finds_a_known_function() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Goroutines").click();
    h.run();
    h.get_by_label("Filter goroutines").click();
    h.run();
    h.get_by_label("Filter goroutines").type_text("sendReceiptEmail");
    h.run();
    h.get_by_label("Group: 440 goroutines, chan send, main.sendReceiptEmail");
    assert!(h.query_by_label_contains("main.watchOrderStatus").is_none(), "other groups are filtered out");
    h.get_by_label_contains("1 of ");
}

#[test]
fn label_column_and_key_value_filter() {
    let mut h = harness(Startup::Files(vec![sample_traces().join("go127-labelleak.debug2.txt")]));
    settle(&mut h);
    h.get_by_label("Goroutines").click();
    h.run();
    h.get_by_label("Sort by Labels").click();
    h.run();
    h.get_by_label("route=/export tenant=acme");
    h.get_by_label_contains("5 of 5 groups, 56 goroutines");
    h.get_by_label("Filter goroutines").click();
    h.get_by_label("Filter goroutines").type_text("tenant=globex");
    h.run();
    h.get_by_label_contains("2 of 5 groups, 20 goroutines");
    h.get_by_label("route=/import tenant=globex");
    assert!(h.query_by_label("route=/export tenant=acme").is_none(), "other label sets are filtered out");
}

#[test]
fn group_and_colour_by_a_label() {
    let mut h = harness(Startup::Files(vec![sample_traces().join("go127-labelleak.debug2.txt")]));
    settle(&mut h);
    h.get_by_label("Goroutines").click();
    h.run();
    h.get_by_label("Group by label").click();
    h.run();
    h.get_by_label("route").click();
    h.run();
    // The legend: each route with its goroutines, largest first, summing to the labelled ones.
    let chips: Vec<String> = h
        .query_all_by_label_contains("Label value route=")
        .map(|n| n.accesskit_node().label().unwrap_or_default())
        .collect();
    assert!(chips.len() >= 2, "one chip per route: {chips:?}");
    h.get_by_label("Label value route=/export").click();
    h.run();
    // A chip filters the table to its value, as typing the key=value term does.
    h.get_by_label_contains("groups, ");
    let summary = h
        .query_all_by_label_contains(" of 5 groups, ")
        .next()
        .and_then(|n| n.accesskit_node().label())
        .unwrap_or_default();
    assert!(!summary.starts_with("5 of 5"), "the chip filters: {summary}");
    assert!(h.query_by_label("route=/import tenant=globex").is_none(), "other routes are filtered out");
    h.get_by_label("Label value route=/export").click();
    h.run();
    h.get_by_label_contains("5 of 5 groups, 56 goroutines");
}

#[test]
fn regex_filter_and_bad_regex() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Goroutines").click();
    h.run();
    h.get_by_label(".*").click();
    h.run();
    h.get_by_label("Filter goroutines").click();
    h.get_by_label("Filter goroutines").type_text("^main\\.(watch|poll)");
    h.run();
    h.get_by_label("Group: 440 goroutines, chan receive, main.watchOrderStatus");
    h.get_by_label("Group: 220 goroutines, select, main.pollPayment");
    assert!(h.query_by_label_contains("main.sendReceiptEmail").is_none());
    h.get_by_label("Filter goroutines").type_text("(");
    h.run();
    h.get_by_label_contains("regex:");
}

#[test]
fn selecting_a_group_shows_its_stack_and_members() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Goroutines").click();
    h.run();
    h.get_by_label("Group: 220 goroutines, chan send, main.uploadChunk").click();
    h.run();
    h.get_by_label("Frame main.uploadChunk");
    h.get_by_label("Frame main.processUpload.func1");
    h.get_by_label_contains("Members (220)");
}

#[test]
fn created_by_tree_marks_orphans() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Goroutines").click();
    h.run();
    h.get_by_label("Created-by tree").click();
    h.run();
    h.get_by_label_contains("Orphans: the goroutine that created them is gone");
    // processUpload's coordinators outlived their handler (13 of the 110; the others' keep-alive
    // connections still live), and their parked workers hang under them.
    h.get_by_label("Tree node: 13 goroutines, sync.WaitGroup.Wait, main.processUpload");
    h.get_by_label("Tree node: 26 goroutines, chan send, main.uploadChunk");
    assert!(h.query_all_by_label_contains("parent gone (goroutine ").count() >= 5);
}

#[test]
fn dropping_two_files_opens_a_comparison() {
    let mut h = harness(Startup::Welcome);
    h.run();
    assert!(h.state().workspace.is_none());
    let dir = sample_traces();
    drop_files(
        &mut h,
        &[dir.join("orders-api.before.debug2.txt.gz"), dir.join("orders-api.after.debug2.txt.gz")],
    );
    let ws = h.state().workspace.as_ref().expect("opened");
    assert_eq!(ws.captures().len(), 2);
    assert!(ws.comparison().is_some());
    h.get_by_label("Compare");
    // Remembered for next time, as one entry.
    assert_eq!(h.state().state.recent.len(), 1);
    assert_eq!(h.state().state.recent[0].paths.len(), 2);
}

#[test]
fn dropping_one_file_opens_it() {
    let mut h = harness(Startup::Welcome);
    h.run();
    drop_files(&mut h, &[sample_traces().join("orders-api.before.debug2.txt.gz")]);
    let ws = h.state().workspace.as_ref().expect("opened");
    assert_eq!(ws.captures().len(), 1);
    assert!(ws.comparison().is_none());
    assert!(h.query_by_label("Compare").is_none(), "no Compare tab for one capture");
}

#[test]
fn a_corrupt_file_shows_an_error_and_the_app_keeps_working() {
    let dir = std::env::temp_dir().join(format!("leakscope-ui-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("corrupt.txt");
    std::fs::write(&bad, b"\x00\x01 this is not a capture at all \xff\xfe\n").unwrap();
    let bad_gz = dir.join("cut.txt.gz");
    let gz = std::fs::read(sample_traces().join("orders-api.before.debug2.txt.gz")).unwrap();
    std::fs::write(&bad_gz, &gz[..gz.len() / 2]).unwrap();

    let mut h = harness(Startup::Sample);
    settle(&mut h);
    drop_files(&mut h, std::slice::from_ref(&bad));
    let error = h.state().errors.first().cloned().expect("an error is shown");
    assert!(error.message.contains("corrupt.txt"), "{}", error.message);
    assert!(error.message.contains("unrecognised format"), "{}", error.message);
    h.get_by_label_contains("unrecognised format");
    // The sample stays open and usable.
    assert_eq!(h.state().workspace.as_ref().unwrap().captures().len(), 2);
    h.get_by_label("Goroutines").click();
    h.run();
    h.get_by_label("Group: 440 goroutines, chan send, main.sendReceiptEmail");

    drop_files(&mut h, &[bad_gz]);
    let error = h.state().errors.first().cloned().expect("a truncated gzip is an error");
    assert!(error.message.contains("gzip"), "{}", error.message);
    assert!(error.message.contains("cut.txt.gz"), "{}", error.message);
    h.get_by_label("Dismiss").click();
    h.run();
    assert!(h.state().errors.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn parser_warnings_are_viewable() {
    let dir = std::env::temp_dir().join(format!("leakscope-ui-warn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cut.debug2.txt");
    // A dump whose last goroutine is cut off mid-frame, as pprof's 64 MiB limit leaves it.
    let text = "goroutine 1 [running]:\nmain.main()\n\t/src/main.go:10 +0x1d\n\n\
                goroutine 7 [chan receive, 3 minutes]:\nmain.wait(0xc000";
    std::fs::write(&path, text).unwrap();
    let mut h = harness(Startup::Files(vec![path]));
    settle(&mut h);
    let loaded = h.state().workspace.as_ref().unwrap().active().unwrap();
    assert!(!loaded.capture.warnings.is_empty(), "the cut-off block is reported");
    h.get_by_label_contains("parser warning").click();
    h.run();
    h.get_by_label("Parser warnings");
    let first = loaded_first_warning(&h);
    h.get_by_label_contains(&first);
    std::fs::remove_dir_all(&dir).ok();
}

fn loaded_first_warning(h: &Harness<'_, App>) -> String {
    let loaded = h.state().workspace.as_ref().unwrap().active().unwrap();
    loaded.capture.warnings.lines().first().cloned().unwrap()
}

#[test]
fn opens_a_goroutine_leak_profile() {
    let mut h =
        harness(Startup::Files(vec![sample_traces().join("orders-api.after.goroutineleak.debug1.txt")]));
    settle(&mut h);
    let loaded = h.state().workspace.as_ref().unwrap().active().unwrap();
    assert_eq!(loaded.goroutine_count(), 1035);
    assert!(!loaded.analysis.findings.is_empty(), "a leak profile is all findings");
    h.get_by_label("Goroutines").click();
    h.run();
    h.get_by_label_contains("groups, 1,035 goroutines");
}

#[test]
fn ctrl_tab_cycles_captures() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    assert_eq!(h.state().workspace.as_ref().unwrap().active, 1);
    h.key_press_modifiers(egui::Modifiers::CTRL, egui::Key::Tab);
    h.run();
    assert_eq!(h.state().workspace.as_ref().unwrap().active, 0);
    assert!(h.query_all_by_label_contains("216 goroutines in").count() > 0);
}

#[test]
fn help_lists_the_shortcuts() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.key_press(egui::Key::F1);
    h.run();
    h.get_by_label("Keyboard shortcuts");
    h.get_by_label("Ctrl+Tab");
    h.get_by_label_contains("Next capture");
}

#[test]
fn settings_survive_a_restart() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Goroutines").click();
    h.run();
    let mut storage = MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let restored: AppState = eframe::get_value(&storage, eframe::APP_KEY).expect("saved and read back");
    assert_eq!(restored.view, ViewKind::Goroutines);
}

/// Storage in memory, standing in for eframe's file.
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }

    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }

    fn flush(&mut self) {}
}

#[test]
fn flamegraph_view_badges_findings_and_searches() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Flamegraph").click();
    h.run();
    assert_eq!(h.state().state.view, ViewKind::Flamegraph);
    let canvas = "Flamegraph of orders-api.after.debug2.txt";
    let value = h.get_by_label(canvas).value().unwrap_or_default();
    assert!(value.starts_with("2,236 goroutines over "), "{value}");
    // Every finding of the sample has its frame badged (one finding can share a frame).
    h.get_by_label_contains("leak badges — click one to open its finding");
    h.get_by_label("Search functions").click();
    h.run();
    h.get_by_label("Search functions").type_text("sendReceiptEmail");
    h.run();
    let value = h.get_by_label(canvas).value().unwrap_or_default();
    // 440 of 2,236 goroutines wait in main.sendReceiptEmail.
    assert!(value.contains("search “sendReceiptEmail” matches 1 frames, 19.7"), "{value}");
}

#[test]
fn a_finding_zooms_the_flamegraph_onto_its_frames() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label_contains("Finding: 440 goroutines outlived the request that started them, sleeping")
        .click();
    h.run();
    h.get_by_label("Show finding in Flamegraph").click();
    // The zoom animates over a few frames.
    h.run_steps(30);
    assert_eq!(h.state().state.view, ViewKind::Flamegraph);
    let value = h.get_by_label("Flamegraph of orders-api.after.debug2.txt").value().unwrap_or_default();
    assert!(value.contains("zoomed to main.warmCache"), "{value}");
}

#[test]
fn the_flamegraph_svg_is_the_view_as_shown_zoom_and_filters_included() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    // Before the view draws the capture: its default flamegraph, whole.
    let (_, whole) = h.state().flamegraph_svg().unwrap();
    let frames = |svg: &str| svg.matches("<rect x=").count();
    // Zoomed onto a finding's frames: the SVG holds that subtree under its path, no more.
    h.get_by_label_contains("Finding: 440 goroutines outlived the request that started them, sleeping")
        .click();
    h.run();
    h.get_by_label("Show finding in Flamegraph").click();
    h.run_steps(30);
    let (file, zoomed) = h.state().flamegraph_svg().unwrap();
    assert!(file.ends_with("-zoomed.svg"), "{file}");
    assert!(zoomed.contains("zoomed to main.warmCache"), "the title says the zoom");
    assert!(frames(&zoomed) < frames(&whole), "{} frames zoomed, {} whole", frames(&zoomed), frames(&whole));
    assert!(zoomed.contains("main.warmCache ("), "the zoomed frame is drawn");
    // A filter: the SVG is the filtered tree, and its title says which filter.
    h.key_press(egui::Key::Escape);
    h.run_steps(30);
    h.get_by_label("Ignore regex").click();
    h.run();
    h.get_by_label("Ignore regex").type_text("warmCache");
    h.run_steps(3);
    let (_, filtered) = h.state().flamegraph_svg().unwrap();
    assert!(filtered.contains("ignore=warmCache"), "the title says the filter");
    assert!(!filtered.contains("main.warmCache ("), "ignored frames are not in the SVG");
}

#[test]
fn a_filtered_flamegraph_keeps_its_finding_badges() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Show finding in Flamegraph").click();
    h.run_steps(30);
    let canvas = "Flamegraph of orders-api.after.debug2.txt";
    let value = h.get_by_label(canvas).value().unwrap_or_default();
    assert!(value.contains("leak badge"), "{value}");
    // Focused on the finding's function: a new tree, the badge carried onto it.
    h.get_by_label("Focus regex").click();
    h.run();
    h.get_by_label("Focus regex").type_text("warmCache");
    h.run_steps(3);
    let value = h.get_by_label(canvas).value().unwrap_or_default();
    assert!(value.contains("1 leak badge"), "{value}");
}

#[test]
fn timeline_of_a_dump_shows_wait_ages_per_group() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Timeline").click();
    h.run();
    h.get_by_label_contains("18 of 18 groups");
    let value = h.get_by_label("Timeline of orders-api.after.debug2.txt").value().unwrap_or_default();
    assert!(value.starts_with("18 lanes"), "{value}");
    h.get_by_label("Filter lanes by function").click();
    h.run();
    h.get_by_label("Filter lanes by function").type_text("warmCache");
    h.run();
    h.get_by_label_contains("1 of 18 groups");
}

/// The "N of M tasks" count above the timeline.
fn shown_tasks(h: &Harness<'_, App>) -> (usize, usize) {
    // Other controls mention tasks in their descriptions; the count starts with a number.
    let label = h
        .query_all_by_label_contains(" tasks")
        .filter_map(|n| n.accesskit_node().label().or_else(|| n.value()))
        .find(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .unwrap_or_default();
    let nums: Vec<usize> = label
        .split(|c: char| !c.is_ascii_digit() && c != ',')
        .filter_map(|n| n.replace(',', "").parse().ok())
        .collect();
    (nums[0], nums[1])
}

fn lanes(h: &Harness<'_, App>, canvas: &str) -> usize {
    let value = h.get_by_label(canvas).value().unwrap_or_default();
    value.split(' ').next().unwrap_or_default().replace(',', "").parse().unwrap()
}

#[test]
fn timeline_of_a_trace_groups_and_filters_lanes() {
    let mut h = harness(Startup::Files(vec![sample_traces().join("go-leaky.trace")]));
    settle(&mut h);
    h.get_by_label("Timeline").click();
    h.run();
    let canvas = "Timeline of go-leaky.trace";
    let (shown, all) = shown_tasks(&h);
    assert_eq!(shown, all, "no filter: every task with states has a lane");
    assert_eq!(lanes(&h, canvas), all, "one lane per task, no headers");
    let capture = &h.state().workspace.as_ref().unwrap().active().unwrap().capture;
    let watchers = capture
        .tasks
        .iter()
        .filter(|t| t.start_func.is_some_and(|f| capture.func_name(f) == "main.watchRequest"))
        .count();
    assert!(watchers >= 10, "the leaky program leaves a watcher per request: {watchers}");
    h.get_by_label("Only blocked at the end").click();
    h.run();
    let (blocked, _) = shown_tasks(&h);
    // Every watcher is still blocked at the end; the handlers that started them returned.
    assert!(blocked >= watchers && blocked < all, "{blocked} blocked of {all}, {watchers} watchers");
    h.get_by_label("creation site").click();
    h.run();
    let grouped = lanes(&h, canvas);
    assert!(grouped > blocked, "a header row per creation site: {grouped} lanes for {blocked} tasks");
    // Folded, each group is its header alone; the count of tasks shown stays.
    h.get_by_label("Fold all").click();
    h.run();
    let folded = lanes(&h, canvas);
    let groups = grouped - blocked;
    assert_eq!(folded, groups, "{grouped} lanes, {blocked} tasks");
    assert_eq!(shown_tasks(&h).0, blocked);
    h.get_by_label("Unfold all").click();
    h.run();
    assert_eq!(lanes(&h, canvas), grouped);
}

/// Each side of the Compare view keeps its timeline options from one frame to the next: a
/// checkbox ticked there stays ticked and narrows that side.
#[test]
fn compare_timelines_keep_their_own_filters() {
    let dir = sample_traces();
    let mut h = harness(Startup::Files(vec![dir.join("go-annotated.trace"), dir.join("go-leaky.trace")]));
    settle(&mut h);
    h.get_by_label("Compare").click();
    h.run();
    h.get_by_label("Timelines side by side").click();
    h.run();
    let canvas = "Timeline of go-leaky.trace";
    let before = lanes(&h, canvas);
    let boxes: Vec<_> = h.query_all_by_label("Only blocked at the end").collect();
    assert_eq!(boxes.len(), 2, "one per side");
    boxes[1].click();
    h.run();
    h.run();
    let after = lanes(&h, canvas);
    assert!(after < before, "the after side narrowed to blocked tasks: {after} lanes of {before}");
}

/// The sample `name` copied into two folders, so two inputs share a file name.
fn same_name_copies(name: &str) -> Vec<PathBuf> {
    let root = std::env::temp_dir().join(format!("leakscope-same-name-{}", std::process::id()));
    ["before", "after"]
        .iter()
        .map(|side| {
            let dir = root.join(side);
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(name);
            std::fs::copy(sample_traces().join(name), &path).unwrap();
            path
        })
        .collect()
}

/// Every view and every pane of the Compare view draws, for pairs of Go traces, dumps, Node and Python traces and
/// goroutine profiles: egui reports
/// an id clash between the two sides by painting a warning, which the harness turns into a
/// failure.
#[test]
fn every_view_and_compare_pane_draws_without_id_clashes() {
    let dir = sample_traces();
    for startup in [
        Startup::Files(vec![dir.join("go-annotated.trace"), dir.join("go-leaky.trace")]),
        // Two captures of the same name: the sides' ids must not come from it.
        Startup::Files(same_name_copies("go-leaky.trace")),
        Startup::Sample,
        Startup::Files(vec![
            dir.join("node-healthy-locks.trace.json"),
            dir.join("node-pending-locks.trace.json"),
        ]),
        Startup::Files(vec![
            dir.join("python-healthy-consumers.viztracer.json.gz"),
            dir.join("python-stuck-consumers.viztracer.json.gz"),
        ]),
        Startup::Files(vec![
            dir.join("ctx-done-leak.before.goroutine.debug1.txt"),
            dir.join("ctx-done-leak.after.goroutine.pb.gz"),
        ]),
    ] {
        let mut h = harness(startup);
        settle(&mut h);
        for view in ViewKind::ALL {
            h.get_by_label(view.label()).click();
            h.run();
            h.run();
        }
        h.get_by_label("Compare").click();
        h.run();
        for pane in [
            "Growth table",
            "Diff flamegraph",
            "Goroutines side by side",
            "Flamegraphs side by side",
            "Timelines side by side",
        ] {
            h.get_by_label(pane).click();
            h.run();
            h.run();
        }
    }
}

/// The app and `leakscope report` are one engine: the same files give the findings the
/// Findings view lists and the findings `report --json` prints, however many files there are.
#[test]
fn the_app_and_the_report_reach_the_same_verdict() {
    let dir = sample_traces();
    let files = vec![
        dir.join("orders-api.before.debug2.txt.gz"),
        dir.join("orders-api.after.debug2.txt.gz"),
        dir.join("go119-mixed.before.debug2.txt"),
    ];
    let mut h = harness(Startup::Files(files.clone()));
    settle(&mut h);
    let ws = h.state().workspace.as_ref().expect("the files open");
    let mut app: Vec<(String, u64, String)> = ws
        .session
        .verdict_captures()
        .iter()
        .flat_map(|&i| {
            let c = &ws.captures()[i];
            c.analysis.findings.iter().map(|f| (f.title.clone(), f.count, f.severity.name().to_owned()))
        })
        .collect();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .arg("report")
        .arg("--json")
        .args(&files)
        .output()
        .expect("run leakscope report");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("the report is JSON");
    let mut cli: Vec<(String, u64, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["title"].as_str().unwrap().to_owned(),
                f["count"].as_u64().unwrap(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    app.sort();
    cli.sort();
    assert!(!app.is_empty());
    assert_eq!(app, cli);
    // Two programs: the orders API's two dumps are a series, the other dump stands alone.
    assert_eq!(report["series"].as_array().unwrap().len(), 2);
}

#[test]
fn a_heap_profile_opens_on_its_in_use_flamegraph() {
    let mut h = harness(Startup::Files(vec![sample_traces().join("heapleak/leaky/after/heap.pb.gz")]));
    settle(&mut h);
    assert_eq!(h.state().state.view, ViewKind::Flamegraph);
    let loaded = h.state().workspace.as_ref().unwrap().active().unwrap();
    let source = loaded.default_flame_source().unwrap();
    assert_eq!(loaded.flame(source).unwrap().label, "inuse_space (bytes)");
}

#[test]
fn two_heap_profiles_open_on_the_diff_flamegraph_with_a_normalise_toggle() {
    let dir = sample_traces().join("heapleak/leaky");
    let mut h = harness(Startup::Files(vec![dir.join("before/heap.pb.gz"), dir.join("after/heap.pb.gz")]));
    settle(&mut h);
    assert_eq!(h.state().state.view, ViewKind::Compare);
    assert_eq!(h.state().state.compare.pane, leakscope::state::ComparePane::DiffFlamegraph);
    let cmp = h.state().workspace.as_ref().unwrap().comparison().unwrap();
    let profile = cmp.diff.profile.as_ref().expect("a profile diff");
    assert_eq!(profile.sample_type, "inuse_space");
    assert!(profile.after_total > profile.before_total);
    // Normalised, the base is scaled to the after total.
    let n = &profile.normalized.nodes[0];
    assert!((n.baseline_total - n.total).abs() <= n.total / 100, "{} vs {}", n.baseline_total, n.total);
    h.get_by_label_contains("Normalise").click();
    h.run();
    assert!(h.state().state.compare.normalize);
    // Heap growth is listed among the findings.
    let findings = &h.state().workspace.as_ref().unwrap().captures()[1].analysis.findings;
    assert!(findings.iter().any(|f| f.evidence.heap.is_some()));
}

/// The Top table's rows as (function, flat, cum), in the order shown.
#[test]
fn top_of_a_diff_lists_both_sides_and_sorts_by_growth() {
    let dir = sample_traces().join("heapleak/leaky");
    let mut h = harness(Startup::Files(vec![dir.join("before/heap.pb.gz"), dir.join("after/heap.pb.gz")]));
    settle(&mut h);
    h.get_by_label("Top").click();
    h.run();
    h.get_by_label("Sort Top by Δ flat").click();
    h.run();
    // (after flat, before flat) per row, in the order shown.
    let rows: Vec<(i64, i64)> = h
        .query_all_by_label_contains("; before: flat ")
        .filter_map(|n| n.accesskit_node().label())
        .filter_map(|l| {
            let (head, before) = l.split_once("; before: flat ")?;
            let after = head.split_once(", flat ")?.1.split_once(", cum ")?.0.parse().ok()?;
            Some((after, before.split_once(", cum ")?.0.parse().ok()?))
        })
        .collect();
    assert!(rows.len() > 1, "the diff's Top lists both sides: {rows:?}");
    assert!(rows.iter().any(|&(_, before)| before > 0), "the baseline is counted: {rows:?}");
    let growth: Vec<i64> = rows.iter().map(|(a, b)| a - b).collect();
    assert!(growth.windows(2).all(|w| w[0] >= w[1]), "largest growth first: {growth:?}");
    assert!(growth.first().is_some_and(|&g| g > 0), "something grew: {growth:?}");
}

fn top_rows(h: &Harness<'_, App>) -> Vec<(String, i64, i64)> {
    h.query_all_by_label_contains("Top row: ")
        .filter_map(|n| n.accesskit_node().label())
        .filter_map(|l| {
            let rest = l.strip_prefix("Top row: ")?;
            let (func, rest) = rest.split_once(", flat ")?;
            let (flat, cum) = rest.split_once(", cum ")?;
            Some((func.to_owned(), flat.parse().ok()?, cum.parse().ok()?))
        })
        .collect()
}

#[test]
fn top_table_sorts_by_cum_and_a_row_focuses_the_flamegraph() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Flamegraph").click();
    h.run();
    h.get_by_label("Top").click();
    h.run();
    let rows = top_rows(&h);
    assert!(!rows.is_empty(), "the Top table lists functions");
    assert!(rows.windows(2).all(|w| w[0].1 >= w[1].1), "flat, largest first: {rows:?}");
    h.get_by_label("Sort Top by Cum").click();
    h.run();
    let rows = top_rows(&h);
    assert!(rows.windows(2).all(|w| w[0].2 >= w[1].2), "cum, largest first: {rows:?}");
    h.get_by_label("Sort Top by Cum").click();
    h.run();
    let rows = top_rows(&h);
    assert!(rows.windows(2).all(|w| w[0].2 <= w[1].2), "a second click sorts smallest first");
    // Rows are virtualised: back to flat, largest first, where the leak's frame is on screen.
    h.get_by_label("Sort Top by Flat").click();
    h.run();
    h.get_by_label_contains("Top row: main.sendReceiptEmail,").click();
    h.run_steps(30);
    let value = h.get_by_label("Flamegraph of orders-api.after.debug2.txt").value().unwrap_or_default();
    assert!(value.contains("zoomed to main.sendReceiptEmail"), "{value}");
}

#[test]
fn a_focus_regex_removes_stacks_from_the_flamegraph_and_top() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Flamegraph").click();
    h.run();
    h.get_by_label("Focus regex").click();
    h.get_by_label("Focus regex").type_text("sendReceiptEmail");
    h.run();
    let value = h.get_by_label("Flamegraph of orders-api.after.debug2.txt").value().unwrap_or_default();
    assert!(value.starts_with("440 goroutines over "), "{value}");
    h.get_by_label("Top").click();
    h.run();
    let rows = top_rows(&h);
    assert!(rows.iter().all(|r| r.0 != "main.watchOrderStatus"), "{rows:?}");
    assert!(rows.iter().any(|r| r.0 == "main.sendReceiptEmail"), "{rows:?}");
    h.get_by_label("Ignore regex").click();
    h.get_by_label("Ignore regex").type_text("sendReceiptEmail");
    h.run();
    assert!(top_rows(&h).is_empty(), "focus and ignore on the same frame leave nothing");
}

#[test]
fn an_invalid_filter_regex_shows_its_error_and_keeps_the_view() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Flamegraph").click();
    h.run();
    h.get_by_label("Hide regex").click();
    h.get_by_label("Hide regex").type_text("main.(");
    h.run();
    h.get_by_label_contains("Invalid hide pattern \"main.(\"");
    let value = h.get_by_label("Flamegraph of orders-api.after.debug2.txt").value().unwrap_or_default();
    assert!(value.starts_with("2,236 goroutines over "), "the invalid pattern filters nothing: {value}");
}

#[test]
fn sandwich_shows_callers_and_callees_of_a_top_function() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Flamegraph").click();
    h.run();
    h.get_by_label("Top").click();
    h.run();
    h.get_by_label("Sandwich of main.sendReceiptEmail").click();
    h.run();
    let above = h
        .get_by_label("Callers of main.sendReceiptEmail in Flamegraph of orders-api.after.debug2.txt")
        .value();
    assert!(above.unwrap_or_default().starts_with("440 goroutines"), "callers of the 440");
    let below = h
        .get_by_label("Callees of main.sendReceiptEmail in Flamegraph of orders-api.after.debug2.txt")
        .value();
    assert!(below.unwrap_or_default().starts_with("440 goroutines"));
}

#[test]
fn a_trace_timeline_has_counter_tracks_led_by_goroutines() {
    let mut h = harness(Startup::Files(vec![sample_traces().join("go-leaky.trace")]));
    settle(&mut h);
    h.get_by_label("Timeline").click();
    h.run();
    let tracks: Vec<String> =
        h.query_all_by_label_contains("Counter track: ").filter_map(|n| n.accesskit_node().label()).collect();
    assert!(tracks.first().is_some_and(|t| t.starts_with("Counter track: goroutines, max ")), "{tracks:?}");
    assert!(tracks.iter().any(|t| t.contains("heap")), "{tracks:?}");
}

fn harness_with(state: AppState, startup: Startup) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        .with_max_steps(16)
        .build_eframe(move |cc| App::with_state(&cc.egui_ctx, state, startup, Instant::now()))
}

fn is_disabled(h: &Harness<'_, App>, label: &str) -> bool {
    h.get_by_label(label).accesskit_node().is_disabled()
}

#[test]
fn a_cpu_profile_opens_on_its_flamegraph_with_the_tabs_it_lacks_disabled() {
    // Issue 15 (7): a CPU profile opened on an empty Timeline, with "Goroutines (0)".
    let state = AppState { view: ViewKind::Timeline, ..AppState::default() };
    let mut h =
        harness_with(state, Startup::Files(vec![sample_traces().join("ctx-done-leak.before.cpu.pb.gz")]));
    settle(&mut h);
    assert_eq!(h.state().state.view, ViewKind::Flamegraph);
    assert!(is_disabled(&h, "Goroutines"), "a CPU profile has no goroutines");
    assert!(is_disabled(&h, "Timeline"), "a CPU profile has no times");
    assert!(!is_disabled(&h, "Flamegraph"));
    assert_eq!(h.query_all_by_label_contains("Goroutines (0)").count(), 0);
    h.get_by_label("Findings").click();
    h.run();
    h.get_by_label("No leak rules for this capture");
    assert_eq!(h.query_all_by_label_contains("checked 0").count(), 0);
}

#[test]
fn a_dump_opens_on_its_findings_whatever_view_was_last_used() {
    let state = AppState { view: ViewKind::Timeline, ..AppState::default() };
    let mut h = harness_with(state, Startup::Files(vec![sample_traces().join("go127-labelleak.debug2.txt")]));
    settle(&mut h);
    assert_eq!(h.state().state.view, ViewKind::Findings);
    // A trace keeps the view last used, where it applies.
    let state = AppState { view: ViewKind::Timeline, ..AppState::default() };
    let mut h = harness_with(state, Startup::Files(vec![sample_traces().join("go-leaky.trace")]));
    settle(&mut h);
    assert_eq!(h.state().state.view, ViewKind::Timeline);
}

#[test]
fn escape_closes_the_open_menu_then_the_help() {
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Compare two files…");
    h.key_press(egui::Key::Escape);
    h.run();
    assert_eq!(h.query_all_by_label("Compare two files…").count(), 0, "the menu closed");
    h.key_press(egui::Key::F1);
    h.run();
    assert!(h.state().state.show_help);
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(!h.state().state.show_help, "Esc closes the keyboard help");
}

#[test]
fn a_focused_finding_is_named_once_not_counted_twice() {
    // Issue 15 (8): "Narrowed to: 220 × 220 goroutines ...".
    let mut h = harness(Startup::Sample);
    settle(&mut h);
    h.get_by_label("Show finding in Flamegraph").click();
    h.run();
    let title = h.state().focus.as_ref().expect("narrowed").title.clone();
    assert!(!title.contains('×'), "{title}");
    h.get_by_label_contains(&format!("Narrowed to: {title}"));
}

#[test]
fn a_traces_goroutines_without_a_stack_are_left_out_of_its_flamegraph_with_a_note() {
    // Issue 15 (6): most of an execution trace's flamegraph was blank without a word.
    let mut h = harness(Startup::Files(vec![sample_traces().join("go-leaky.trace")]));
    settle(&mut h);
    let loaded = h.state().workspace.as_ref().unwrap().active().unwrap();
    let flame = loaded.flame(leakscope_core::session::FlameSource::Goroutines).unwrap();
    assert!(flame.no_stack > 0, "the trace has goroutines it saw no stack for");
    let root = &flame.tree.nodes[0];
    assert_eq!(root.self_value, 0, "left out, they leave no blank");
    let (with, _) = flame.with_no_stack.as_deref().unwrap();
    assert_eq!(with.nodes[0].total, root.total + flame.no_stack);
    h.get_by_label("Flamegraph").click();
    h.run();
    h.get_by_label_contains("with no stack left out");
    h.get_by_label("Show those with no stack").click();
    h.run();
    assert_eq!(h.query_all_by_label_contains("with no stack left out").count(), 0);
}

#[test]
fn a_partly_proven_finding_says_which_part_is_proven() {
    // Issue 15 (8): a bare PROVEN beside "2000 goroutines leaking, 200 of them proven".
    let mut h = harness(Startup::Files(vec![sample_traces().join("ctx-done-leak.after.debug2.txt")]));
    settle(&mut h);
    assert!(h.query_all_by_label("PROVEN 200/2,000").count() > 0, "the badge counts the proven part");
}

#[test]
fn a_large_trace_shows_its_first_generations_before_the_whole() {
    use leakscope::loader::{LoadRequest, load_with_preview};
    use std::sync::{Arc, Mutex, atomic::AtomicUsize};

    let pictures: Arc<Mutex<Vec<leakscope::workspace::Workspace>>> = Arc::default();
    let sink = Arc::clone(&pictures);
    let request = LoadRequest::Files(vec![sample_traces().join("go-flight.1.trace")]);
    let progress = leakscope_core::Progress::new();
    // Any size asks for a first picture here; the app asks from 48 MiB.
    let whole = load_with_preview(&request, &progress, &AtomicUsize::new(0), 0, move |ws| {
        sink.lock().unwrap().push(ws);
    })
    .unwrap_or_else(|_| panic!("loads"));
    let pictures = std::mem::take(&mut *pictures.lock().unwrap());
    assert_eq!(pictures.len(), 1);
    let picture = pictures[0].active().unwrap();
    assert!(picture.capture.source.preview_bytes.is_some());
    assert!(
        picture
            .analysis
            .findings
            .iter()
            .all(|f| f.severity != leakscope_core::analysis::leaks::Severity::Likely)
    );
    let whole = whole.active().unwrap();
    assert_eq!(whole.capture.source.preview_bytes, None);
    assert!(picture.capture.tasks.len() <= whole.capture.tasks.len());

    // Two files are a comparison: read whole, no picture.
    let pair = LoadRequest::Files(vec![
        sample_traces().join("go-flight.1.trace"),
        sample_traces().join("go-flight.2.trace"),
    ]);
    let called = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&called);
    let _ = load_with_preview(&pair, &progress, &AtomicUsize::new(0), 0, move |_| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(called.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[test]
fn the_app_shows_a_first_picture_then_the_whole_and_cancel_drops_it() {
    let trace = sample_traces().join("go-flight.1.trace");
    let is_picture = |h: &Harness<'_, App>| {
        h.state()
            .workspace
            .as_ref()
            .and_then(|w| w.active())
            .map(|c| c.capture.source.preview_bytes.is_some())
    };

    // The picture comes first (each frame takes one event from the loader), under its banner;
    // the whole then replaces it on the same view.
    let mut h = harness(Startup::Welcome);
    h.run();
    h.state_mut().set_preview_min_bytes(0);
    h.input_mut().dropped_files.push(std::sync::Arc::new(support::Dropped(trace.clone())));
    let mut frames = 0;
    while h.state().workspace.is_none() && frames < 2000 {
        h.step();
        frames += 1;
    }
    assert_eq!(is_picture(&h), Some(true), "the first thing shown is the picture");
    assert!(h.state().is_loading());
    h.get_by_label_contains("First picture: the start of this trace");
    h.state_mut().state.view = ViewKind::Timeline;
    h.step();
    h.state_mut().finish_loading_blocking();
    h.run();
    assert_eq!(is_picture(&h), Some(false), "the whole replaced it");
    assert_eq!(h.state().state.view, ViewKind::Timeline, "on the view the user went to");
    assert!(h.query_by_label_contains("First picture").is_none());

    // Cancel while the picture is shown: back to what was open before (here, nothing).
    let mut h = harness(Startup::Welcome);
    h.run();
    h.state_mut().set_preview_min_bytes(0);
    h.input_mut().dropped_files.push(std::sync::Arc::new(support::Dropped(trace)));
    let mut frames = 0;
    while h.state().workspace.is_none() && frames < 2000 {
        h.step();
        frames += 1;
    }
    assert_eq!(is_picture(&h), Some(true));
    h.state_mut().cancel_load();
    assert!(h.state().workspace.is_none(), "the picture is dropped with its read");
    assert!(!h.state().is_loading());
}
