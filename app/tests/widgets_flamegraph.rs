//! The flamegraph widget in a harness: found by its accessible name, driven with the pointer and
//! keys, checked through what it reports (zoom node, breadcrumb, search share, badge clicks) and
//! what it shows (tooltip text, legend).

// Helpers outside #[test] functions find nodes the way tests do: a miss is a failure.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

use egui::{Event, Key, MouseWheelUnit, Pos2, Rect, pos2, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use leakscope::widgets::{FlameBadge, FlameGraph, FlameGraphState, FlameMode, SearchStats};
use leakscope_core::analysis::flame::{FlameTree, goroutine_stacks};
use leakscope_core::analysis::flame_locations::FlameLocations;
use leakscope_core::model::{Capture, FormatKind, Frame, Task};

/// Goroutines with these stacks (root first), each repeated `count` times: 20 in all.
const STACKS: &[(&[&str], usize)] = &[
    (&["main.main", "net/http.(*Server).Serve", "main.handler", "main.waitForRelease"], 6),
    (&["main.main", "net/http.(*Server).Serve", "main.handler"], 2),
    (&["main.main", "main.pollUpstream", "main.waitForRelease"], 2),
    (&["runtime.gcBgMarkWorker"], 10),
];

fn capture() -> Capture {
    let mut c = Capture::new("test", FormatKind::GoGoroutineDump);
    let mut id = 1;
    for &(stack, count) in STACKS {
        let frames: Vec<_> = stack
            .iter()
            .rev()
            .enumerate()
            .map(|(line, f)| {
                let func = c.strings.intern(f);
                let file = c.strings.intern("/src/app/main.go");
                c.tables.frame_id(Frame { func, file, line: 100 + line as u32, column: 0 })
            })
            .collect();
        let stack = c.tables.stack_id(&frames);
        for _ in 0..count {
            c.tasks.push(Task { id, stack, ..Task::default() });
            id += 1;
        }
    }
    c
}

struct Host {
    tree: FlameTree,
    locations: FlameLocations,
    state: FlameGraphState,
    search: String,
    badges: Vec<FlameBadge>,
    zoom_node: u32,
    breadcrumb: Vec<u32>,
    clicked_badge: Option<u64>,
    clicked_node: Option<u32>,
    hovered: Option<u32>,
    stats: Option<SearchStats>,
}

fn harness(mode: FlameMode) -> Harness<'static, Host> {
    let c = capture();
    let tree = FlameTree::goroutines(&c);
    let locations = FlameLocations::from_stacks(&tree, &c, goroutine_stacks(&c));
    let host = Host {
        tree,
        locations,
        state: FlameGraphState::new(mode),
        search: String::new(),
        badges: Vec::new(),
        zoom_node: 0,
        breadcrumb: Vec::new(),
        clicked_badge: None,
        clicked_node: None,
        hovered: None,
        stats: None,
    };
    Harness::builder().with_size(vec2(800.0, 300.0)).with_max_steps(120).build_ui_state(
        |ui, host: &mut Host| {
            let out = FlameGraph::new(&host.tree)
                .search(&host.search)
                .badges(&host.badges)
                .locations(&host.locations)
                .show(ui, &mut host.state);
            host.zoom_node = out.zoom_node;
            host.breadcrumb = out.breadcrumb;
            if out.clicked_badge.is_some() {
                host.clicked_badge = out.clicked_badge;
            }
            if out.clicked_node.is_some() {
                host.clicked_node = out.clicked_node;
            }
            host.hovered = out.hovered_node;
            host.stats = out.search;
        },
        host,
    )
}

fn canvas(h: &Harness<'_, Host>) -> Rect {
    h.get_by_label("Flamegraph").rect()
}

/// Centre of the frame at `depth` covering fraction `f` of the width, in icicle mode.
fn icicle_point(canvas: Rect, depth: u16, f: f32) -> Pos2 {
    pos2(canvas.left() + canvas.width() * f, canvas.top() + f32::from(depth) * 18.0 + 8.0)
}

fn node(h: &Harness<'_, Host>, path: &[&str]) -> u32 {
    h.state().tree.find_path(path.iter().copied()).expect("path in tree")
}

fn click_at(h: &mut Harness<'_, Host>, p: Pos2) {
    h.hover_at(p);
    h.run();
    h.drag_at(p);
    h.event(Event::PointerButton {
        pos: p,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run();
}

#[test]
fn canvas_is_found_by_its_accessible_name() {
    let h = harness(FlameMode::Icicle);
    let node = h.get_by_label("Flamegraph");
    assert_eq!(node.accesskit_node().role(), egui::accesskit::Role::Canvas);
    assert!(node.value().unwrap_or_default().contains("20 goroutines"), "{:?}", node.value());
}

#[test]
fn clicking_a_frame_zooms_to_it_and_extends_the_breadcrumb() {
    let mut h = harness(FlameMode::Icicle);
    h.run();
    let c = canvas(&h);
    // Root's children in name order: main.main (10 of 20), then runtime.gcBgMarkWorker.
    click_at(&mut h, icicle_point(c, 1, 0.25));
    let main = node(&h, &["main.main"]);
    assert_eq!(h.state().clicked_node, Some(main));
    assert_eq!(h.state().zoom_node, main);
    assert_eq!(h.state().breadcrumb, vec![0, main]);
    // The zoom animates to the frame: main.main now fills the width.
    let (a, b) = h.state().state.visible_fraction();
    assert!((a - 0.0).abs() < 1e-3 && (b - 0.5).abs() < 1e-3, "{a}..{b}");
    // The breadcrumb is drawn and clickable: "all" goes back to the root.
    h.get_by_label("all").click();
    h.run();
    assert_eq!(h.state().zoom_node, 0);
    assert_eq!(h.state().breadcrumb, vec![0]);
}

#[test]
fn deeper_click_then_double_click_and_esc_reset() {
    let mut h = harness(FlameMode::Icicle);
    h.run();
    let c = canvas(&h);
    // net/http.(*Server).Serve holds 8 of main.main's 10, after main.pollUpstream (2): 0.1..0.5.
    click_at(&mut h, icicle_point(c, 2, 0.3));
    let serve = node(&h, &["main.main", "net/http.(*Server).Serve"]);
    let main = node(&h, &["main.main"]);
    assert_eq!(h.state().zoom_node, serve);
    assert_eq!(h.state().breadcrumb, vec![0, main, serve]);

    let p = icicle_point(c, 0, 0.5);
    h.hover_at(p);
    h.event(Event::PointerButton {
        pos: p,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.event(Event::PointerButton {
        pos: p,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.event(Event::PointerButton {
        pos: p,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.event(Event::PointerButton {
        pos: p,
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    h.run();
    assert_eq!(h.state().zoom_node, 0, "double-click resets");
    assert_eq!(h.state().state.visible_fraction(), (0.0, 1.0));

    click_at(&mut h, icicle_point(c, 1, 0.75));
    assert_eq!(h.state().zoom_node, node(&h, &["runtime.gcBgMarkWorker"]));
    h.hover_at(c.center());
    h.key_press(Key::Escape);
    h.run();
    assert_eq!(h.state().zoom_node, 0, "Esc resets");
}

#[test]
fn flame_mode_puts_the_root_at_the_bottom() {
    let mut h = harness(FlameMode::Flame);
    h.run();
    let c = canvas(&h);
    h.hover_at(pos2(c.center().x, c.bottom() - 8.0));
    h.run();
    assert_eq!(h.state().hovered, Some(0));
    h.hover_at(pos2(c.left() + c.width() * 0.75, c.bottom() - 18.0 - 8.0));
    h.run();
    assert_eq!(h.state().hovered, Some(node(&h, &["runtime.gcBgMarkWorker"])));
}

#[test]
fn hovering_shows_name_location_value_and_shares() {
    let mut h = harness(FlameMode::Icicle);
    h.run();
    let c = canvas(&h);
    // main.waitForRelease under the handler: 6 goroutines, 0.1..0.4, depth 4.
    h.hover_at(icicle_point(c, 4, 0.25));
    h.run();
    let leaf = node(&h, &["main.main", "net/http.(*Server).Serve", "main.handler", "main.waitForRelease"]);
    assert_eq!(h.state().hovered, Some(leaf));
    h.get_by_label("main.waitForRelease");
    h.get_by_label("/src/app/main.go:100");
    h.get_by_label("6 goroutines");
    h.get_by_label("30.0% of all · 75.0% of main.handler");
    let value = h.get_by_label("Flamegraph").value().unwrap_or_default();
    assert!(value.contains("hovering main.waitForRelease: 6 goroutines (30.0%)"), "{value}");
}

#[test]
fn scrolling_zooms_around_the_pointer() {
    let mut h = harness(FlameMode::Icicle);
    h.run();
    let c = canvas(&h);
    h.hover_at(pos2(c.left() + c.width() * 0.25, c.center().y));
    h.run();
    h.event(Event::MouseWheel {
        unit: MouseWheelUnit::Point,
        delta: vec2(0.0, 200.0),
        phase: egui::TouchPhase::Move,
        source: egui::MouseWheelSource::Unknown,
        modifiers: egui::Modifiers::NONE,
    });
    h.run();
    let (a, b) = h.state().state.visible_fraction();
    assert!(b - a < 0.9, "zoomed in: {a}..{b}");
    assert!(a <= 0.25 && 0.25 <= b, "the point under the pointer stays in view: {a}..{b}");
}

#[test]
fn arrow_keys_move_the_zoom_between_frames() {
    // Icicle: callees hang below, so Down goes deeper and Up back to the caller.
    let mut h = harness(FlameMode::Icicle);
    h.run();
    h.hover_at(canvas(&h).center());
    h.run();
    let press = |h: &mut Harness<'_, Host>, key: Key| {
        h.key_press(key);
        h.run();
    };
    press(&mut h, Key::ArrowDown);
    let main = node(&h, &["main.main"]);
    assert_eq!(h.state().zoom_node, main, "Down zooms into the root's largest child");
    press(&mut h, Key::ArrowDown);
    let deeper = h.state().zoom_node;
    assert_eq!(h.state().tree.nodes[deeper as usize].parent, main, "and on into its largest child");
    let largest = h.state().tree.children(main).map(|c| h.state().tree.nodes[c as usize].total).max();
    assert_eq!(Some(h.state().tree.nodes[deeper as usize].total), largest);
    // Siblings in drawing order (left to right); at the edge nothing moves.
    let siblings: Vec<u32> = h.state().tree.children(main).collect();
    let i = siblings.iter().position(|&c| c == deeper).unwrap();
    press(&mut h, if i + 1 < siblings.len() { Key::ArrowRight } else { Key::ArrowLeft });
    let moved = h.state().zoom_node;
    assert_ne!(moved, deeper);
    assert!(siblings.contains(&moved), "Left/Right move to a sibling");
    press(&mut h, Key::ArrowUp);
    assert_eq!(h.state().zoom_node, main, "Up goes back to the caller");
    press(&mut h, Key::ArrowUp);
    assert_eq!(h.state().zoom_node, 0);
    press(&mut h, Key::ArrowLeft);
    assert_eq!(h.state().zoom_node, 0, "the root has no siblings");
    // Flame: the picture is upside down, and so are Up and Down.
    let mut h = harness(FlameMode::Flame);
    h.run();
    h.hover_at(canvas(&h).center());
    h.run();
    press(&mut h, Key::ArrowUp);
    assert_eq!(h.state().zoom_node, node(&h, &["main.main"]));
}

#[test]
fn held_w_zooms_and_d_pans_the_view() {
    // The README and F1 promise W/S/A/D in the flamegraph as in the timeline.
    let mut h = harness(FlameMode::Icicle);
    h.run();
    let c = canvas(&h);
    h.hover_at(c.center());
    h.run();
    h.key_down(Key::W);
    h.run_steps(10);
    h.key_up(Key::W);
    h.run();
    let (a, b) = h.state().state.visible_fraction();
    assert!(b - a < 0.95, "W zooms in: {a}..{b}");
    h.key_down(Key::D);
    h.run_steps(10);
    h.key_up(Key::D);
    h.run();
    let (a2, b2) = h.state().state.visible_fraction();
    assert!(a2 > a && b2 > b, "D pans right: {a}..{b} then {a2}..{b2}");
    h.key_down(Key::S);
    h.run_steps(30);
    h.key_up(Key::S);
    h.run();
    let (a3, b3) = h.state().state.visible_fraction();
    assert!(b3 - a3 > b2 - a2, "S zooms out: {a2}..{b2} then {a3}..{b3}");
}

#[test]
fn search_reports_the_matched_share_without_double_counting() {
    let mut h = harness(FlameMode::Icicle);
    h.state_mut().search = "waitforrelease".to_owned();
    h.run();
    let stats = h.state().stats.clone().expect("search active");
    assert_eq!(stats.matched_nodes, 2);
    assert_eq!(stats.matched_value, 8);
    assert!((stats.share() - 0.4).abs() < 1e-9);
    h.get_by_label("“waitforrelease”: 2 frames, 8 goroutines (40.0%)");

    // "main" matches main.main and every main.* frame under it; they are inside main.main, so
    // the share is main.main's alone.
    h.state_mut().search = "main".to_owned();
    h.run();
    let stats = h.state().stats.clone().expect("search active");
    assert_eq!(stats.matched_nodes, 5);
    assert_eq!(stats.matched_value, 10);

    // Smart case: an uppercase letter makes it case-sensitive.
    h.state_mut().search = "Main".to_owned();
    h.run();
    assert_eq!(h.state().stats.clone().unwrap().matched_nodes, 0);
    h.get_by_label("no frame matches “Main”");

    h.state_mut().search.clear();
    h.run();
    assert_eq!(h.state().stats, None);
}

#[test]
fn clicking_a_badge_reports_its_id_and_hovering_shows_its_tooltip() {
    let mut h = harness(FlameMode::Icicle);
    let leaf = node(&h, &["main.main", "net/http.(*Server).Serve", "main.handler", "main.waitForRelease"]);
    h.state_mut().badges = vec![FlameBadge {
        node: leaf,
        label: "ctx-never-done".to_owned(),
        tooltip: "6 goroutines wait on a context nobody cancels".to_owned(),
        id: 42,
    }];
    h.run();
    let c = canvas(&h);
    // The badge sits at the right end of the frame (0.1..0.4 of the width).
    let p = pos2(c.left() + c.width() * 0.4 - 8.0, c.top() + 4.0 * 18.0 + 8.0);
    h.hover_at(p);
    h.run();
    h.get_by_label("6 goroutines wait on a context nobody cancels");
    click_at(&mut h, p);
    assert_eq!(h.state().clicked_badge, Some(42));
    assert_eq!(h.state().zoom_node, 0, "a badge click opens the finding, it does not zoom");
}

#[test]
fn a_badge_scrolled_out_of_view_does_not_stick_to_the_edge() {
    // Zoomed just right of the badged frame (0.1..0.4), the badge must not be pinned to the
    // left edge where it would sit on an unrelated frame.
    let mut h = harness(FlameMode::Icicle);
    let leaf = node(&h, &["main.main", "net/http.(*Server).Serve", "main.handler", "main.waitForRelease"]);
    h.state_mut().badges = vec![FlameBadge {
        node: leaf,
        label: "ctx-never-done".to_owned(),
        tooltip: "6 goroutines wait on a context nobody cancels".to_owned(),
        id: 42,
    }];
    h.state_mut().state.set_visible_fraction(0.405, 0.6);
    h.run();
    let c = canvas(&h);
    let p = pos2(c.left() + 6.0, c.top() + 4.0 * 18.0 + 8.0);
    click_at(&mut h, p);
    assert!(h.query_by_label("6 goroutines wait on a context nobody cancels").is_none());
    assert_eq!(h.state().clicked_badge, None);
}

#[test]
fn diff_trees_draw_a_legend() {
    let before = capture();
    let mut after = capture();
    let extra = after.tasks.at(0).clone();
    for k in 0..5 {
        after.tasks.push(Task { id: 1000 + k, ..extra.clone() });
    }
    let tree = FlameTree::diff(
        (&after, &mut goroutine_stacks(&after).into_iter()),
        (&before, &mut goroutine_stacks(&before).into_iter()),
    );
    let mut state = FlameGraphState::default();
    let mut h = Harness::builder().with_size(vec2(900.0, 300.0)).build_ui(move |ui| {
        let _ = FlameGraph::new(&tree).accessible_name("Diff flamegraph").show(ui, &mut state);
    });
    h.run();
    for label in ["grew", "shrank", "new", "gone"] {
        h.get_by_label(label);
    }
    let c = h.get_by_label("Diff flamegraph").rect();
    // main.waitForRelease under the handler, depth 4 from the bottom: 0.08..0.52 of the width
    // (widths follow the larger side: 11 of 25 after).
    h.hover_at(pos2(c.left() + c.width() * 0.3, c.bottom() - 18.0 * 5.0 + 8.0));
    h.run();
    h.get_by_label("grew: 6 goroutines before, 11 goroutines after");
}

#[test]
fn a_large_tree_culls_and_still_hit_tests() {
    let tree = leakscope_testkit::widgets::flame_tree(100_000, 11);
    let mut state = FlameGraphState::new(FlameMode::Icicle);
    let mut hovered = None;
    let mut h = Harness::builder().with_size(vec2(1200.0, 700.0)).build_ui(|ui| {
        hovered = FlameGraph::new(&tree).show(ui, &mut state).hovered_node;
    });
    h.run();
    let c = h.get_by_label("Flamegraph").rect();
    h.hover_at(pos2(c.center().x, c.top() + 8.0));
    h.run();
    drop(h);
    assert_eq!(hovered, Some(0), "the root row spans the whole width");
}
