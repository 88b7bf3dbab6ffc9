//! The timeline widget in a harness: found by its accessible name, driven with the pointer and
//! the keyboard, checked through what it reports (hover, selection, view) and what it shows.

// Helpers outside #[test] functions find nodes the way tests do: a miss is a failure.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

use egui::{Event, Key, Modifiers, PointerButton, Pos2, Rect, pos2, vec2};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use leakscope::widgets::{Lane, Timeline, TimelineHit, TimelineState};
use leakscope_core::analysis::wait_ages::{MINUTE_NS, WaitAges, wait_ages};
use leakscope_core::model::{
    Capture, FormatKind, Frame, Group, Interval, IntervalKind, IntervalRange, IntervalsBuilder, Link,
    LinkKind, StrId, Task,
};

/// Two goroutines over 1,000 ns:
/// task 0: running 0..100, blocked (chan receive) 100..300, running 300..1000;
/// task 1: blocked (select) 0..500, runnable 500..600, running 600..1000.
fn capture() -> Capture {
    let mut c = Capture::new("test", FormatKind::GoExecutionTrace);
    let func = c.strings.intern("main.worker");
    let file = c.strings.intern("/src/app/worker.go");
    let frame = c.tables.frame_id(Frame { func, file, line: 42, column: 0 });
    let stack = c.tables.stack_id(&[frame]);
    let chan = c.strings.intern("chan receive");
    let select = c.strings.intern("select");
    let lanes: [&[(i64, i64, IntervalKind, StrId)]; 2] = [
        &[
            (0, 100, IntervalKind::Running, StrId::EMPTY),
            (100, 300, IntervalKind::Blocked, chan),
            (300, 1000, IntervalKind::Running, StrId::EMPTY),
        ],
        &[
            (0, 500, IntervalKind::Blocked, select),
            (500, 600, IntervalKind::Runnable, StrId::EMPTY),
            (600, 1000, IntervalKind::Running, StrId::EMPTY),
        ],
    ];
    let mut iv = IntervalsBuilder::new(0);
    for (t, lane) in lanes.iter().enumerate() {
        let first = iv.len() as u32;
        for &(start_ns, end_ns, kind, label) in *lane {
            iv.push_interval(Interval { start_ns, end_ns, kind, label, stack, depth: 0 });
        }
        c.tasks.push(Task {
            id: t as u64 + 1,
            stack,
            intervals: IntervalRange { start: first, len: lane.len() as u32 },
            ..Task::default()
        });
    }
    c.intervals = iv.finish();
    c.links.push(Link { kind: LinkKind::Unblock, from_task: 1, from_ns: 300, to_task: 0, to_ns: 300 });
    c.time_range_ns = Some((0, 1000));
    c
}

struct Host {
    capture: Capture,
    lanes: Vec<Lane>,
    state: TimelineState,
    hovered: Option<TimelineHit>,
    clicked: Option<TimelineHit>,
    selected: Option<TimelineHit>,
    view: (i64, i64),
}

fn harness() -> Harness<'static, Host> {
    harness_with(capture())
}

fn harness_with(capture: Capture) -> Harness<'static, Host> {
    let lanes = vec![
        Lane::group_header("created by main.main: 2 goroutines", false),
        Lane::task(&capture, 0, "G1 main.worker"),
        Lane::task(&capture, 1, "G2 main.worker"),
    ];
    let mut state = TimelineState::default();
    state.set_view_ns(0.0, 1000.0);
    let host = Host { capture, lanes, state, hovered: None, clicked: None, selected: None, view: (0, 0) };
    Harness::builder().with_size(vec2(1000.0, 300.0)).with_max_steps(120).build_ui_state(
        |ui, host: &mut Host| {
            let out = Timeline::new(&host.capture, &host.lanes).show(ui, &mut host.state);
            host.hovered = out.hovered;
            if out.clicked.is_some() {
                host.clicked = out.clicked;
            }
            host.selected = out.selected;
            host.view = out.view_ns;
        },
        host,
    )
}

/// Height of the overview strip and of the axis above the lanes.
const OVERVIEW_H: f32 = 24.0;
const AXIS_H: f32 = 24.0;

/// Plot geometry of the harness: labels take 240 points, the overview and the axis 24 each.
fn plot(h: &Harness<'_, Host>) -> Rect {
    let c = h.get_by_label("Timeline").rect();
    Rect::from_min_max(pos2(c.left() + 240.0, c.top() + OVERVIEW_H + AXIS_H), c.max)
}

/// The overview strip: over the plot's width, at the top of the canvas.
fn overview(h: &Harness<'_, Host>) -> Rect {
    let c = h.get_by_label("Timeline").rect();
    Rect::from_x_y_ranges(c.left() + 240.0..=c.right(), c.top()..=c.top() + OVERVIEW_H - 1.0)
}

/// A point at time `t_ns` in lane `lane` (0 is the header), for the view 0..1000.
fn at(plot: Rect, lane: usize, t_ns: f64) -> Pos2 {
    let y = plot.top() + 22.0 + (lane as f32 - 1.0) * 19.0 + 8.0;
    pos2(plot.left() + plot.width() * (t_ns / 1000.0) as f32, y)
}

fn click(h: &mut Harness<'_, Host>, p: Pos2, modifiers: Modifiers) {
    h.hover_at(p);
    h.run();
    h.event(Event::PointerButton { pos: p, button: PointerButton::Primary, pressed: true, modifiers });
    h.event(Event::PointerButton { pos: p, button: PointerButton::Primary, pressed: false, modifiers });
    h.run();
}

#[test]
fn canvas_is_found_by_its_accessible_name() {
    let h = harness();
    let node = h.get_by_label("Timeline");
    assert_eq!(node.accesskit_node().role(), egui::accesskit::Role::Canvas);
    assert!(node.value().unwrap_or_default().starts_with("3 lanes"), "{:?}", node.value());
}

#[test]
fn hovering_an_interval_shows_state_duration_and_stack() {
    let mut h = harness();
    h.run();
    let p = plot(&h);
    h.hover_at(at(p, 1, 200.0));
    h.run();
    assert_eq!(h.state().hovered, Some(TimelineHit { lane: 1, task: Some(0), interval: Some(1) }));
    h.get_by_label("G1 main.worker");
    h.get_by_label("blocked: chan receive");
    h.get_by_label("200 ns (from 100 ns to 300 ns)");
    h.get_by_label("main.worker");
    h.get_by_label("/src/app/worker.go:42");
}

/// A goroutine that ran for a nanosecond, then blocked for the rest of the view: both begin in
/// the first pixel, and the block is still what the pointer finds far from it.
#[test]
fn an_interval_that_begins_inside_a_merged_pixel_is_hovered_on_its_own() {
    let mut c = capture();
    let chan = c.strings.intern("chan receive");
    let mut iv = IntervalsBuilder::from(std::mem::take(&mut c.intervals));
    let first = iv.len() as u32;
    let stack = c.tasks.at(0).stack;
    for (start_ns, end_ns, kind, label) in
        [(0, 1, IntervalKind::Running, StrId::EMPTY), (1, 1000, IntervalKind::Blocked, chan)]
    {
        iv.push_interval(Interval { start_ns, end_ns, kind, label, stack, depth: 0 });
    }
    c.intervals = iv.finish();
    c.tasks.update(0, |t| t.intervals = IntervalRange { start: first, len: 2 });
    let mut h = harness_with(c);
    h.run();
    let p = plot(&h);
    h.hover_at(at(p, 1, 600.0));
    h.run();
    assert_eq!(h.state().hovered.and_then(|hit| hit.interval), Some(first as usize + 1));
    h.get_by_label("blocked: chan receive");
}

#[test]
fn clicking_selects_an_interval_and_its_lane() {
    let mut h = harness();
    h.run();
    let p = plot(&h);
    click(&mut h, at(p, 2, 550.0), Modifiers::NONE);
    let want = TimelineHit { lane: 2, task: Some(1), interval: Some(4) };
    assert_eq!(h.state().clicked, Some(want));
    assert_eq!(h.state().selected, Some(want));
    assert!(h.get_by_label("Timeline").value().unwrap_or_default().contains("selected G2 main.worker"));
    // A header is not a selection.
    click(&mut h, pos2(p.center().x, p.top() + 10.0), Modifiers::NONE);
    assert_eq!(h.state().selected, None);
}

#[test]
fn w_and_s_zoom_a_and_d_pan() {
    let mut h = harness();
    h.run();
    let p = plot(&h);
    h.hover_at(at(p, 1, 500.0));
    h.run();
    h.key_down(Key::W);
    h.run_steps(10);
    h.key_up(Key::W);
    h.run();
    let (a, b) = h.state().view;
    assert!(b - a < 900, "W zooms in: {a}..{b}");
    assert!(a < 500 && 500 < b, "around the pointer: {a}..{b}");
    let before = h.state().view;
    h.key_down(Key::D);
    h.run_steps(10);
    h.key_up(Key::D);
    h.run();
    assert!(h.state().view.0 > before.0, "D pans right: {:?} -> {:?}", before, h.state().view);
    h.key_down(Key::S);
    h.run_steps(30);
    h.key_up(Key::S);
    h.run();
    let (a2, b2) = h.state().view;
    assert!(b2 - a2 > b - a, "S zooms out");
    h.key_press(Key::Escape);
    h.run();
    let (a3, b3) = h.state().view;
    assert!(a3 <= 0 && b3 >= 1000, "Esc shows everything: {a3}..{b3}");
}

#[test]
fn shift_drag_zooms_to_the_band() {
    let mut h = harness();
    h.run();
    let p = plot(&h);
    let from = at(p, 1, 200.0);
    let to = at(p, 1, 400.0);
    h.hover_at(from);
    h.run();
    let shift = Modifiers::SHIFT;
    h.event(Event::ModifiersChanged(shift));
    h.event(Event::PointerButton {
        pos: from,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: shift,
    });
    h.run();
    for k in 1..=10 {
        h.hover_at(from + (to - from) * (k as f32 / 10.0));
        h.run();
    }
    h.event(Event::PointerButton {
        pos: to,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: shift,
    });
    h.event(Event::ModifiersChanged(Modifiers::NONE));
    h.run();
    let (a, b) = h.state().view;
    assert!((a - 200).abs() <= 2 && (b - 400).abs() <= 2, "zoomed to the band: {a}..{b}");
}

#[test]
fn wait_ages_of_a_dump_end_at_capture_time() {
    let mut c = Capture::new("dump", FormatKind::GoGoroutineDump);
    let func = c.strings.intern("main.waitForRelease");
    let frame = c.tables.frame_id(Frame { func, ..Frame::default() });
    let stack = c.tables.stack_id(&[frame]);
    let state = c.strings.intern("chan receive");
    for (i, minutes) in [12, 12, 5, 1].into_iter().enumerate() {
        c.tasks.push(Task {
            id: i as u64 + 1,
            state,
            stack,
            wait_ns: leakscope_core::model::OptNs::some(minutes * MINUTE_NS),
            ..Task::default()
        });
    }
    let groups: Vec<Group> = c.groups();
    let ages: WaitAges = wait_ages(&c, &groups);
    let lanes = Lane::wait_age_lanes(&c, &groups, &ages);
    assert_eq!(lanes.len(), 1);
    let mut state = TimelineState::default();
    let mut hovered = None;
    let mut h = Harness::builder().with_size(vec2(1000.0, 200.0)).build_ui(|ui| {
        hovered = Timeline::wait_ages(&c, &ages, &lanes).show(ui, &mut state).hovered;
    });
    h.run();
    h.get_by_label("Wait ages");
    let canvas = h.get_by_label("Wait ages").rect();
    let label_w = 300.0f32.min(canvas.width() * 0.4);
    let plot = Rect::from_min_max(pos2(canvas.left() + label_w, canvas.top() + 24.0), canvas.max);
    // The whole range is 12 minutes back to capture time, with 1% of air on either side.
    let x_of = |minutes_before: f64| {
        let span = 12.0 * 1.02;
        plot.left() + plot.width() * ((12.0 * 1.01 - minutes_before) / span) as f32
    };
    h.hover_at(pos2(x_of(10.0), plot.top() + 8.0));
    h.run();
    h.get_by_label("2 of 4 goroutines waiting ≥ 12 minutes");
    h.hover_at(pos2(x_of(0.5), plot.top() + 8.0));
    h.run();
    h.get_by_label("all 4 goroutines waiting ≥ 1 minute");
    h.get_by_label("4 × chan receive · main.waitForRelease");
    drop(h);
    assert!(hovered.is_some_and(|hit| hit.interval.is_some()));
}

#[test]
fn a_million_intervals_in_one_lane_hit_test_at_every_zoom() {
    let mut c = Capture::new("big", FormatKind::GoExecutionTrace);
    let n = 1_000_000i64;
    c.intervals = (0..n)
        .map(|k| Interval {
            start_ns: k * 10,
            end_ns: k * 10 + 10,
            kind: if k % 2 == 0 { IntervalKind::Running } else { IntervalKind::Blocked },
            ..Interval::default()
        })
        .collect();
    c.tasks.push(Task { id: 1, intervals: IntervalRange { start: 0, len: n as u32 }, ..Task::default() });
    c.time_range_ns = Some((0, n * 10));
    let lanes = vec![Lane::task(&c, 0, "G1")];
    let mut state = TimelineState::default();
    let mut hits = Vec::new();
    let mut h = Harness::builder().with_size(vec2(1200.0, 200.0)).build_ui(|ui| {
        hits.push(Timeline::new(&c, &lanes).show(ui, &mut state).hovered);
    });
    h.run();
    let canvas = h.get_by_label("Timeline").rect();
    h.hover_at(pos2(canvas.left() + 240.0 + 300.0, canvas.top() + OVERVIEW_H + AXIS_H + 8.0));
    h.run();
    drop(h);
    let last = hits.iter().rev().flatten().next().copied().expect("hovered");
    assert_eq!(last.lane, 0);
    assert!(last.interval.is_some(), "a merged sliver still reports its first interval");
}

#[test]
fn a_click_on_a_foldable_header_is_reported_for_the_host_to_fold() {
    let mut h = harness();
    h.run();
    let p = plot(&h);
    let header = pos2(p.left() - 120.0, p.top() + 11.0);
    h.hover_at(header);
    h.run();
    h.get_by_label("Click to fold this group");
    click(&mut h, header, Modifiers::NONE);
    assert_eq!(h.state().clicked, Some(TimelineHit { lane: 0, task: None, interval: None }));
    assert_eq!(h.state().selected, None, "a header is no lane to select");
}

#[test]
fn a_click_in_the_overview_moves_the_view_there_keeping_its_width() {
    let mut h = harness();
    h.state_mut().state.set_view_ns(0.0, 100.0);
    h.run();
    // Select a lane first: moving the view must keep it.
    let lane = at(plot(&h), 1, 50.0);
    click(&mut h, lane, Modifiers::NONE);
    let selected = h.state().selected;
    assert!(selected.is_some());
    let strip = overview(&h);
    let p = pos2(strip.left() + strip.width() * 0.75, strip.center().y);
    h.hover_at(p);
    h.run();
    h.get_by_label("Click or drag to move the view here");
    click(&mut h, p, Modifiers::NONE);
    h.run();
    let (a, b) = h.state().view;
    assert!((b - a - 100).abs() <= 2, "the width stays: {a}..{b}");
    // 75% of the whole range (0..1000) is 750: the window centres there.
    assert!((i64::midpoint(a, b) - 750).abs() <= 3, "centred on 750: {a}..{b}");
    assert_eq!(h.state().selected, selected, "the selection stays");
}
