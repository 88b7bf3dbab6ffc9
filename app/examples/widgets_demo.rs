//! Both custom widgets on real data, to look at them outside the app.
//!
//! ```text
//! cargo run -p leakscope --example widgets_demo -- [DUMP] [--tab flame|icicle|diff|timeline|ages]
//!     [--search TEXT] [--light]
//! ```
//!
//! DUMP defaults to the ctx-done-leak SIGQUIT dump of the real captures
//! (`$LEAKSCOPE_REALDATA` or `../shared/realdata`); the diff tab compares that scenario's
//! `before/` and `after/` debug=2 dumps; the timeline tab shows a synthetic trace (200,000
//! intervals) until the trace parsers land; the ages tab shows the dump's wait ages.

#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};

use leakscope::widgets::{FlameBadge, FlameGraph, FlameGraphState, FlameMode, Lane, Timeline, TimelineState};
use leakscope_core::analysis::flame::{FlameTree, goroutine_stacks};
use leakscope_core::analysis::flame_locations::FlameLocations;
use leakscope_core::analysis::wait_ages::{WaitAges, wait_ages};
use leakscope_core::load::{self, LoadOptions, Progress};
use leakscope_core::model::{Capture, Group};
use leakscope_testkit::widgets::{self as synthetic, TraceShape};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Flame,
    Diff,
    Timeline,
    Ages,
}

struct Demo {
    tab: Tab,
    search: String,
    dump: Capture,
    groups: Vec<Group>,
    tree: FlameTree,
    locations: FlameLocations,
    badges: Vec<FlameBadge>,
    flame: FlameGraphState,
    diff: Option<FlameTree>,
    diff_state: FlameGraphState,
    trace: Capture,
    trace_lanes: Vec<Lane>,
    trace_state: TimelineState,
    ages: WaitAges,
    age_lanes: Vec<Lane>,
    ages_state: TimelineState,
    status: String,
}

fn realdata() -> PathBuf {
    std::env::var_os("LEAKSCOPE_REALDATA")
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/realdata"), PathBuf::from)
}

fn open(path: &Path) -> Option<Capture> {
    match load::open(path, &LoadOptions::default(), &Progress::new()) {
        Ok(mut captures) => captures.pop(),
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

/// Badges for the demo: each large parked group's own function, labelled with its wait. (The
/// app puts the leak rules' findings here.)
fn badges(capture: &Capture, groups: &[Group], tree: &FlameTree) -> Vec<FlameBadge> {
    let mut out = Vec::new();
    for (i, g) in groups.iter().enumerate().filter(|(_, g)| g.count >= 50 && g.wait_kind.is_parked()).take(4)
    {
        let funcs: Vec<&str> = capture.stack_funcs(g.stack).collect();
        let Some(node) = tree.find_path(funcs.iter().rev().copied()) else { continue };
        let user = capture.user_frame(g.stack).map_or("?", |f| capture.func_name(f));
        let mut node = node;
        // Walk up from the leaf to the user's own frame.
        while node != 0 && tree.name(node) != user {
            node = tree.nodes.get(node as usize).map_or(0, |n| n.parent);
        }
        out.push(FlameBadge {
            node: if node == 0 { tree.find_path(funcs.iter().rev().copied()).unwrap_or(0) } else { node },
            label: format!("{} parked", g.count),
            tooltip: format!("{} goroutines parked in {} at {user}", g.count, g.wait_kind.name()),
            id: i as u64,
        });
    }
    out
}

impl Demo {
    fn new(dump_path: &Path, tab: Tab, search: String, mode: FlameMode) -> Option<Self> {
        let dump = open(dump_path)?;
        let groups = dump.groups();
        let tree = FlameTree::goroutines(&dump);
        let locations = FlameLocations::from_stacks(&tree, &dump, goroutine_stacks(&dump));
        let badges = badges(&dump, &groups, &tree);
        let scenario = realdata().join("go127/ctx-done-leak");
        let diff = match (
            open(&scenario.join("before/goroutine.debug2.txt")),
            open(&scenario.join("after/goroutine.debug2.txt")),
        ) {
            (Some(before), Some(after)) => Some(FlameTree::diff(
                (&after, &mut goroutine_stacks(&after).into_iter()),
                (&before, &mut goroutine_stacks(&before).into_iter()),
            )),
            _ => None,
        };
        let trace = synthetic::trace_capture(TraceShape {
            goroutines: 200,
            span_threads: 4,
            intervals: 200_000,
            duration_ns: 2_000_000_000,
            seed: 3,
        });
        let mut trace_lanes = vec![Lane::header("goroutines created by main.serve: 200")];
        trace_lanes
            .extend((0..200u32).map(|t| Lane::task(&trace, t, format!("G{} shop.(*conn).serve", t + 1))));
        trace_lanes.push(Lane::header("worker threads: 4"));
        trace_lanes
            .extend((200..204u32).map(|t| Lane::task(&trace, t, format!("worker thread {}", t - 200))));
        let ages = wait_ages(&dump, &groups);
        let age_lanes = Lane::wait_age_lanes(&dump, &groups, &ages);
        let status = format!(
            "{}: {} goroutines, {} groups, {} flame nodes",
            dump_path.display(),
            dump.task_count(),
            groups.len(),
            tree.nodes.len()
        );
        Some(Self {
            tab,
            search,
            dump,
            groups,
            tree,
            locations,
            badges,
            flame: FlameGraphState::new(mode),
            diff,
            diff_state: FlameGraphState::new(FlameMode::Flame),
            trace,
            trace_lanes,
            trace_state: TimelineState::default(),
            ages,
            age_lanes,
            ages_state: TimelineState::default(),
            status,
        })
    }
}

impl eframe::App for Demo {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("tabs").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.selectable_value(&mut self.tab, Tab::Flame, "Flamegraph");
                ui.selectable_value(&mut self.tab, Tab::Diff, "Diff");
                ui.selectable_value(&mut self.tab, Tab::Timeline, "Timeline");
                ui.selectable_value(&mut self.tab, Tab::Ages, "Wait ages");
                ui.separator();
                if matches!(self.tab, Tab::Flame | Tab::Diff) {
                    let state = if self.tab == Tab::Flame { &mut self.flame } else { &mut self.diff_state };
                    ui.selectable_value(&mut state.mode, FlameMode::Flame, "Flame");
                    ui.selectable_value(&mut state.mode, FlameMode::Icicle, "Icicle");
                    ui.separator();
                    ui.add(
                        egui::TextEdit::singleline(&mut self.search)
                            .hint_text("Search functions (Ctrl+F)")
                            .desired_width(220.0),
                    );
                }
                ui.weak(&self.status);
            });
        });
        egui::CentralPanel::default().show(ui, |ui| match self.tab {
            Tab::Flame => {
                let out = FlameGraph::new(&self.tree)
                    .search(&self.search)
                    .badges(&self.badges)
                    .locations(&self.locations)
                    .show(ui, &mut self.flame);
                if let Some(id) = out.clicked_badge {
                    self.status = format!("badge {id} clicked");
                }
            }
            Tab::Diff => match &self.diff {
                Some(tree) => {
                    let _ = FlameGraph::new(tree).search(&self.search).show(ui, &mut self.diff_state);
                }
                None => {
                    ui.label("The before/after dumps of ctx-done-leak are not available.");
                }
            },
            Tab::Timeline => {
                let _ = Timeline::new(&self.trace, &self.trace_lanes).show(ui, &mut self.trace_state);
            }
            Tab::Ages => {
                let _ = Timeline::wait_ages(&self.dump, &self.ages, &self.age_lanes)
                    .show(ui, &mut self.ages_state);
            }
        });
        let _ = &self.groups;
    }
}

fn main() -> eframe::Result {
    let mut args = std::env::args().skip(1);
    let mut dump = realdata().join("go127/ctx-done-leak/sigquit.stderr.txt");
    let mut tab = Tab::Flame;
    let mut mode = FlameMode::Flame;
    let mut search = String::new();
    let mut light = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tab" => match args.next().as_deref() {
                Some("icicle") => {
                    tab = Tab::Flame;
                    mode = FlameMode::Icicle;
                }
                Some("diff") => tab = Tab::Diff,
                Some("timeline") => tab = Tab::Timeline,
                Some("ages") => tab = Tab::Ages,
                _ => tab = Tab::Flame,
            },
            "--search" => search = args.next().unwrap_or_default(),
            "--light" => light = true,
            path => dump = PathBuf::from(path),
        }
    }
    let Some(demo) = Demo::new(&dump, tab, search, mode) else {
        eprintln!("cannot open {}", dump.display());
        std::process::exit(1);
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1560.0, 940.0])
            .with_title("leakscope widgets"),
        ..Default::default()
    };
    eframe::run_native(
        "leakscope widgets demo",
        options,
        Box::new(move |cc| {
            cc.egui_ctx.set_theme(if light { egui::Theme::Light } else { egui::Theme::Dark });
            Ok(Box::new(demo))
        }),
    )
}
