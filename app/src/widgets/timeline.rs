//! The timeline: lanes of state intervals over time, built for traces with millions of
//! intervals.
//!
//! The widget reads the model's [`Intervals`] (a struct of arrays) in place. Each lane names a
//! contiguous range of them, sorted by (depth, start) with no overlap within a depth, so for
//! every visible depth row the widget binary-searches the first interval that reaches the
//! view, walks right until the view ends, and where intervals are narrower than a pixel it jumps
//! over a whole pixel column at once (another binary search) and paints one merged sliver in
//! the colour of the state that covers most of it. Lanes are virtualised: only those on screen
//! are touched. A frame's cost is bounded by the pixels on screen, not the size of the trace.
//!
//! The host decides what the lanes are, and in what order: it passes a list of [`Lane`]s (task
//! lanes and header rows), so grouping by creation site and filtering by state, duration,
//! "alive at end" or function are the host's business, done once per change rather than per
//! frame.
//!
//! Controls: wheel zooms around the pointer (over the lane labels it scrolls the lanes),
//! shift+wheel or horizontal wheel pans, drag pans, shift+drag (or right-drag) selects a time
//! band to zoom to, W/S zoom, A/D pan, Page Up/Down scroll, Esc or double-click on empty space
//! resets, click selects an interval and its lane, double-click an interval zooms to it.

use std::fmt::Write as _;
use std::sync::Arc;

use egui::epaint::Mesh;
use egui::{
    Align2, Color32, CornerRadius, FontId, Galley, Key, Painter, PointerButton, Pos2, Rect, Response, Sense,
    Shape, Stroke, StrokeKind, Tooltip, Ui, Vec2, WidgetInfo, pos2, vec2,
};
use leakscope_core::analysis::wait_ages::WaitAges;
use leakscope_core::model::{Capture, Group, IntervalKind, IntervalRange, Intervals, Links, StrId, Strings};

use super::format;
use super::text;
use super::time_axis::{self, TickLabels};
use crate::theme::{self, TimelinePalette};

/// Height of one depth row of a lane.
const ROW_H: f32 = 16.0;
/// Space below each lane.
const LANE_PAD: f32 = 3.0;
/// Height of a header row.
const HEADER_H: f32 = 22.0;
/// Height of the time axis.
const AXIS_H: f32 = 24.0;
/// Least distance between axis ticks.
const TICK_PX: f32 = 90.0;
/// Narrowest interval drawn on its own; narrower ones merge per pixel.
const MIN_PX: f32 = 1.0;
/// Narrowest interval that gets a label.
const LABEL_PX: f32 = 36.0;
/// Most intervals weighed exactly when choosing a merged pixel's colour; beyond that, samples.
const EXACT_MERGE: usize = 24;
/// Most link arrows drawn at once.
const MAX_ARROWS: usize = 2_000;
/// Shortest view, in ns.
const MIN_VIEW_NS: f64 = 10.0;
/// W/S zoom speed: factor per second held.
const KEY_ZOOM_PER_S: f64 = 6.0;
/// A/D pan speed: views per second held.
const KEY_PAN_PER_S: f64 = 1.0;

/// One row of the timeline: a header (group title) or a lane of intervals.
#[derive(Clone, Debug, PartialEq)]
pub enum Lane {
    /// A group header, e.g. a creation site with its count.
    Header {
        /// The header text.
        title: String,
    },
    /// A lane of intervals.
    Rows {
        /// Shown in the label column.
        label: String,
        /// The lane's intervals, sorted by (depth, start), non-overlapping per depth.
        range: IntervalRange,
        /// Number of depth rows (the deepest interval's depth + 1).
        depths: u16,
        /// The task the lane shows, for links and for the host; `None` for synthetic lanes.
        task: Option<u32>,
    },
}

impl Lane {
    /// A header row.
    pub fn header(title: impl Into<String>) -> Self {
        Lane::Header { title: title.into() }
    }

    /// A lane over a range of `intervals`.
    pub fn rows(
        label: impl Into<String>,
        range: IntervalRange,
        intervals: &Intervals,
        task: Option<u32>,
    ) -> Self {
        // Sorted by depth first, so the last interval is the deepest.
        let depths = range
            .len
            .checked_sub(1)
            .map_or(1, |last| intervals.depth(range.start as usize + last as usize).saturating_add(1));
        Lane::Rows { label: label.into(), range, depths, task }
    }

    /// The lane of task `task` of `capture` (its own intervals).
    pub fn task(capture: &Capture, task: u32, label: impl Into<String>) -> Self {
        let range = capture.tasks.get(task as usize).map(|t| t.intervals).unwrap_or_default();
        Self::rows(label, range, &capture.intervals, Some(task))
    }

    /// One lane per group of a dump, over [`WaitAges`] from
    /// `leakscope_core::analysis::wait_ages::wait_ages(capture, groups)`: "40 × chan receive ·
    /// main.wait".
    pub fn wait_age_lanes(capture: &Capture, groups: &[Group], ages: &WaitAges) -> Vec<Lane> {
        ages.lanes
            .iter()
            .map(|lane| {
                let label = groups.get(lane.group).map_or_else(String::new, |g| {
                    let state = g.state.map_or(g.wait_kind.name(), |s| capture.str(s));
                    let func = capture
                        .user_frame(g.stack)
                        .map_or("?", |f| leakscope_core::model::funcname::display_name(capture.func_name(f)));
                    format!("{} × {state} · {func}", format::count(g.count as i64))
                });
                Self::rows(label, lane.range, &ages.intervals, None)
            })
            .collect()
    }

    fn height(&self) -> f32 {
        match self {
            Lane::Header { .. } => HEADER_H,
            Lane::Rows { depths, .. } => f32::from((*depths).max(1)) * ROW_H + LANE_PAD,
        }
    }
}

/// A place in the timeline: a lane, and the interval under the pointer if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimelineHit {
    /// Index into the lanes given to the widget.
    pub lane: usize,
    /// The lane's task, if it has one.
    pub task: Option<u32>,
    /// Index into the intervals; for a merged sliver, the first interval in it.
    pub interval: Option<usize>,
}

/// What happened in the timeline this frame.
#[derive(Debug)]
pub struct TimelineResponse {
    /// The canvas.
    pub response: Response,
    /// What is under the pointer.
    pub hovered: Option<TimelineHit>,
    /// What was clicked this frame.
    pub clicked: Option<TimelineHit>,
    /// The current selection.
    pub selected: Option<TimelineHit>,
    /// The visible time range, ns.
    pub view_ns: (i64, i64),
}

/// Identifies the links of one task: (task, links pointer, links len).
type LinksKey = (u32, usize, usize);

/// Identifies a lanes slice: (pointer, len).
type LanesKey = (usize, usize);

/// The timeline's state between frames. Keep one per view.
#[derive(Default)]
pub struct TimelineState {
    view: Option<(f64, f64)>,
    target: Option<(f64, f64)>,
    range_key: Option<(i64, i64)>,
    scroll_y: f32,
    selected: Option<TimelineHit>,
    band_from_ns: Option<f64>,
    lane_tops: Vec<f32>,
    /// Links of one task: (task, links pointer, links len) -> link indices.
    links_cache: Option<(LinksKey, Vec<u32>)>,
    /// Task -> lane, for the lanes slice identified by (pointer, len).
    task_lanes: Option<(LanesKey, Vec<(u32, u32)>)>,
    /// The last frame's mesh, shared with the frame's shapes. Once egui has tessellated and
    /// dropped them, this is the only reference and the next frame refills the same buffers:
    /// at the whole range of a big trace the mesh holds a rect per pixel per row (megabytes),
    /// and allocating it afresh each frame cost a third of the frame in copies and new pages.
    mesh: Option<Arc<Mesh>>,
}

impl std::fmt::Debug for TimelineState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimelineState")
            .field("view", &self.view)
            .field("scroll_y", &self.scroll_y)
            .field("selected", &self.selected)
            .finish_non_exhaustive()
    }
}

impl TimelineState {
    /// The current selection.
    pub fn selected(&self) -> Option<TimelineHit> {
        self.selected
    }

    /// Selects a lane (and interval) from outside, e.g. a goroutine picked in another view.
    pub fn select(&mut self, hit: Option<TimelineHit>) {
        self.selected = hit;
    }

    /// Shows `from..to` (ns), animated.
    pub fn zoom_to_ns(&mut self, from_ns: i64, to_ns: i64) {
        self.target = Some((from_ns as f64, (to_ns as f64).max(from_ns as f64 + MIN_VIEW_NS)));
    }

    /// Shows `from..to` (ns) at once (benchmarks and tests look at fixed zooms).
    pub fn set_view_ns(&mut self, from_ns: f64, to_ns: f64) {
        self.view = Some((from_ns, to_ns.max(from_ns + MIN_VIEW_NS)));
        self.target = None;
    }

    /// The visible range, ns, once the widget has been shown.
    pub fn view_ns(&self) -> Option<(f64, f64)> {
        self.view
    }

    /// Scrolls the lanes so that `y` points of content are above the view.
    pub fn set_scroll(&mut self, y: f32) {
        self.scroll_y = y.max(0.0);
    }

    /// Back to the whole time range, on the next frame.
    pub fn reset(&mut self) {
        self.view = None;
        self.target = None;
    }
}

/// The timeline widget, built each frame over borrowed data and shown with
/// [`Timeline::show`].
#[must_use = "call .show(ui, state)"]
pub struct Timeline<'a> {
    intervals: &'a Intervals,
    labels: &'a Strings,
    capture: &'a Capture,
    lanes: &'a [Lane],
    links: &'a Links,
    range_ns: (i64, i64),
    origin_ns: i64,
    marker: Option<(i64, &'a str)>,
    name: &'a str,
    label_width: f32,
}

impl<'a> Timeline<'a> {
    /// A timeline of `capture`'s own intervals and links, over the given lanes.
    pub fn new(capture: &'a Capture, lanes: &'a [Lane]) -> Self {
        let range_ns = capture.time_range_ns.unwrap_or_else(|| span_of(&capture.intervals));
        Self {
            intervals: &capture.intervals,
            labels: &capture.strings,
            capture,
            lanes,
            links: &capture.links,
            range_ns,
            origin_ns: range_ns.0,
            marker: None,
            name: "Timeline",
            label_width: 240.0,
        }
    }

    /// A dump's wait ages (see [`Lane::wait_age_lanes`]): bars ending at capture time, an
    /// axis counting back from it ("-12 min"), and a "captured" marker.
    pub fn wait_ages(capture: &'a Capture, ages: &'a WaitAges, lanes: &'a [Lane]) -> Self {
        Self {
            intervals: &ages.intervals,
            labels: &ages.labels,
            capture,
            lanes,
            links: &NO_LINKS,
            range_ns: ages.time_range_ns,
            origin_ns: ages.capture_ns,
            marker: Some((ages.capture_ns, "captured")),
            name: "Wait ages",
            label_width: 300.0,
        }
    }

    /// Draws other intervals than the capture's own; `labels` resolves their labels (stacks
    /// still resolve in the capture).
    pub fn intervals(mut self, intervals: &'a Intervals, labels: &'a Strings) -> Self {
        self.intervals = intervals;
        self.labels = labels;
        self
    }

    /// The links to draw for the hovered or selected lane's task (default: the capture's).
    pub fn links(mut self, links: &'a Links) -> Self {
        self.links = links;
        self
    }

    /// The whole time range (what reset shows).
    pub fn time_range_ns(mut self, from_ns: i64, to_ns: i64) -> Self {
        self.range_ns = (from_ns, to_ns.max(from_ns + 1));
        self
    }

    /// The time the axis counts from (default: the start of the range).
    pub fn origin_ns(mut self, origin_ns: i64) -> Self {
        self.origin_ns = origin_ns;
        self
    }

    /// A vertical marker line at `at_ns` with a short label.
    pub fn marker(mut self, at_ns: i64, label: &'a str) -> Self {
        self.marker = Some((at_ns, label));
        self
    }

    /// The canvas's accessible name (default "Timeline").
    pub fn accessible_name(mut self, name: &'a str) -> Self {
        self.name = name;
        self
    }

    /// Width of the lane-label column (default 240 points).
    pub fn label_width(mut self, width: f32) -> Self {
        self.label_width = width.max(40.0);
        self
    }

    /// Shows the timeline in all the space left in `ui`.
    pub fn show(self, ui: &mut Ui, state: &mut TimelineState) -> TimelineResponse {
        let palette = TimelinePalette::of(ui);
        let size = ui.available_size().max(vec2(200.0, 80.0));
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        let label_w = self.label_width.min(rect.width() * 0.4);
        let plot = Rect::from_min_max(pos2(rect.left() + label_w, rect.top() + AXIS_H), rect.max);

        let range =
            (self.range_ns.0 as f64, (self.range_ns.1 as f64).max(self.range_ns.0 as f64 + MIN_VIEW_NS));
        if state.range_key != Some(self.range_ns) {
            // A view set before the first frame (by the host) stands; new data resets it.
            if state.range_key.is_some() {
                state.view = None;
                state.target = None;
            }
            state.range_key = Some(self.range_ns);
        }
        let view = *state.view.get_or_insert_with(|| pad_range(range));
        state.view = Some(view);

        self.interact(ui, state, &response, rect, plot, range);
        let view = state.view.unwrap_or(range);

        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, CornerRadius::ZERO, palette.background);
        let hover_pos = if response.dragged() { None } else { response.hover_pos() };
        let (hover, merged) = self.paint_lanes(&painter, state, rect, plot, view, hover_pos, palette);
        self.paint_axis(&painter, rect, plot, view, palette);
        self.paint_links(&painter, state, plot, view, hover, palette);
        if let Some(from) = state.band_from_ns
            && let Some(p) = response.interact_pointer_pos()
        {
            let x_a = x_from_ns(from, view, plot);
            let band = Rect::from_x_y_ranges(x_a.min(p.x)..=x_a.max(p.x), plot.y_range());
            painter.rect_filled(band, CornerRadius::ZERO, palette.band);
        }

        let mut clicked = None;
        if response.clicked() {
            response.request_focus();
            clicked = hover;
            state.selected = hover.filter(|h| matches!(self.lanes.get(h.lane), Some(Lane::Rows { .. })));
        }
        if response.double_clicked() {
            match hover.and_then(|h| h.interval) {
                Some(i) => {
                    let (a, b) = (self.start(i), self.end(i));
                    let pad = ((b - a) as f64 * 0.1).max(MIN_VIEW_NS);
                    state.target = Some((a as f64 - pad, b as f64 + pad));
                }
                None => state.target = Some(pad_range(range)),
            }
        }
        if let Some(h) = hover
            && !response.dragged()
        {
            self.tooltip(ui, &response, h, merged);
        }

        let summary = self.summary(view, state.selected);
        let name = self.name.to_owned();
        response.widget_info(|| WidgetInfo {
            current_text_value: Some(summary.clone()),
            ..WidgetInfo::labeled(egui::Role::Canvas, true, &name)
        });
        TimelineResponse {
            response,
            hovered: hover,
            clicked,
            selected: state.selected,
            view_ns: (view.0.floor() as i64, view.1.ceil() as i64),
        }
    }

    fn start(&self, i: usize) -> i64 {
        self.intervals.start(i)
    }

    fn end(&self, i: usize) -> i64 {
        self.intervals.end(i)
    }

    #[allow(clippy::too_many_arguments)]
    fn interact(
        &self,
        ui: &Ui,
        state: &mut TimelineState,
        response: &Response,
        rect: Rect,
        plot: Rect,
        range: (f64, f64),
    ) {
        let Some(mut view) = state.view else { return };
        let width = f64::from(plot.width().max(1.0));
        let span = view.1 - view.0;
        let focused = response.hovered() || response.has_focus();
        let typing = ui.ctx().egui_wants_keyboard_input();

        // Zoom band: shift+drag or secondary drag.
        let band_drag = response.dragged_by(PointerButton::Secondary)
            || (response.dragged_by(PointerButton::Primary) && ui.input(|i| i.modifiers.shift));
        if response.drag_started() && band_drag {
            // From where the button went down, not where the drag was recognised.
            let origin = ui.input(|i| i.pointer.press_origin()).or_else(|| response.interact_pointer_pos());
            state.band_from_ns = origin.map(|p| ns_from_x(p.x, view, plot));
        }
        if response.drag_stopped() {
            if let (Some(from), Some(p)) = (state.band_from_ns.take(), response.interact_pointer_pos()) {
                let to = ns_from_x(p.x, view, plot);
                if (to - from).abs() * f64::from(plot.width()) / span >= 4.0 {
                    state.target = Some((from.min(to), from.max(to)));
                }
            }
        } else if response.dragged() && state.band_from_ns.is_none() {
            let d = response.drag_delta();
            let dt = -f64::from(d.x) / width * span;
            view = (view.0 + dt, view.1 + dt);
            state.target = None;
            state.scroll_y -= d.y;
        }

        if response.hovered() {
            let (scroll, zoom, over_labels) = ui.input(|i| {
                (
                    i.smooth_scroll_delta,
                    i.zoom_delta(),
                    i.pointer.hover_pos().is_some_and(|p| p.x < plot.left()),
                )
            });
            if over_labels && (zoom - 1.0).abs() < 1e-6 {
                state.scroll_y -= scroll.y;
            } else {
                let factor = f64::from(zoom) * (f64::from(scroll.y) * 0.004).exp();
                if (factor - 1.0).abs() > 1e-9 || scroll.x != 0.0 {
                    let base = state.target.unwrap_or(view);
                    let span = base.1 - base.0;
                    let anchor_frac = response.hover_pos().map_or(0.5, |p| {
                        f64::from(((p.x - plot.left()) / plot.width().max(1.0)).clamp(0.0, 1.0))
                    });
                    let new_span = (span / factor).max(MIN_VIEW_NS);
                    let anchor = base.0 + anchor_frac * span;
                    let pan = -f64::from(scroll.x) / width * new_span;
                    let a = anchor - anchor_frac * new_span + pan;
                    view = (a, a + new_span);
                    state.target = None;
                }
            }
            if scroll != Vec2::ZERO {
                ui.ctx().input_mut(|i| i.smooth_scroll_delta = Vec2::ZERO);
            }
        }

        if focused && !typing {
            let (dt, w, s, a, d, esc, page_up, page_down) = ui.input(|i| {
                (
                    f64::from(i.stable_dt).min(0.1),
                    i.key_down(Key::W),
                    i.key_down(Key::S),
                    i.key_down(Key::A),
                    i.key_down(Key::D),
                    i.key_pressed(Key::Escape),
                    i.key_pressed(Key::PageUp),
                    i.key_pressed(Key::PageDown),
                )
            });
            let held = w || s || a || d;
            if held {
                let span = view.1 - view.0;
                let anchor_frac = response.hover_pos().map_or(0.5, |p| {
                    f64::from(((p.x - plot.left()) / plot.width().max(1.0)).clamp(0.0, 1.0))
                });
                let zoom = KEY_ZOOM_PER_S.powf(dt * (f64::from(u8::from(w)) - f64::from(u8::from(s))));
                let new_span = (span / zoom).max(MIN_VIEW_NS);
                let anchor = view.0 + anchor_frac * span;
                let pan = KEY_PAN_PER_S * dt * new_span * (f64::from(u8::from(d)) - f64::from(u8::from(a)));
                let a0 = anchor - anchor_frac * new_span + pan;
                view = (a0, a0 + new_span);
                state.target = None;
                ui.ctx().request_repaint();
            }
            if esc {
                state.target = Some(pad_range(range));
                state.band_from_ns = None;
            }
            if page_up {
                state.scroll_y -= plot.height() * 0.9;
            }
            if page_down {
                state.scroll_y += plot.height() * 0.9;
            }
        }

        if let Some(target) = state.target {
            let dt = ui.input(|i| f64::from(i.stable_dt).clamp(1.0 / 120.0, 0.1));
            let k = 1.0 - (-14.0 * dt).exp();
            let next = (view.0 + (target.0 - view.0) * k, view.1 + (target.1 - view.1) * k);
            let close =
                (next.0 - target.0).abs().max((next.1 - target.1).abs()) < (target.1 - target.0) * 1e-3;
            view = if close { target } else { next };
            if close {
                state.target = None;
            } else {
                ui.ctx().request_repaint();
            }
        }
        // Keep some of the trace on screen: panning stops a view-width past either end.
        let span = (view.1 - view.0).clamp(MIN_VIEW_NS, (range.1 - range.0) * 4.0);
        let lo = range.0 - span * 0.9;
        let hi = range.1 + span * 0.9;
        let a = view.0.clamp(lo, (hi - span).max(lo));
        state.view = Some((a, a + span));

        let content_h: f32 = self.lanes.iter().map(Lane::height).sum();
        let visible_h = rect.bottom() - plot.top();
        state.scroll_y = state.scroll_y.clamp(0.0, (content_h - visible_h + 8.0).max(0.0));
    }

    /// Paints the visible lanes and their labels; returns the hit under the pointer and, for a
    /// merged sliver, how many intervals it holds.
    #[allow(clippy::too_many_arguments)]
    fn paint_lanes(
        &self,
        painter: &Painter,
        state: &mut TimelineState,
        rect: Rect,
        plot: Rect,
        view: (f64, f64),
        hover_pos: Option<Pos2>,
        pal: &TimelinePalette,
    ) -> (Option<TimelineHit>, u32) {
        let font = FontId::proportional(12.0);
        let label_font = FontId::proportional(12.0);
        let mut mesh = state.mesh.take().and_then(|m| Arc::try_unwrap(m).ok()).unwrap_or_default();
        mesh.clear();
        let mut texts: Vec<(Pos2, Arc<Galley>, Color32)> = Vec::new();
        let mut hover: Option<TimelineHit> = None;
        let mut merged_count = 0u32;
        let mut selected_rect: Option<Rect> = None;
        let label_col = Rect::from_min_max(pos2(rect.left(), plot.top()), pos2(plot.left(), rect.bottom()));
        mesh.add_colored_rect(label_col, pal.label_fill);

        // Grid lines under the intervals.
        let step = time_axis::tick_step_ns((view.1 - view.0) / f64::from(plot.width().max(1.0)), TICK_PX);
        for t in time_axis::ticks(view.0 - self.origin_ns as f64, view.1 - self.origin_ns as f64, step) {
            let x = x_from_ns(t + self.origin_ns as f64, view, plot);
            mesh.add_colored_rect(Rect::from_x_y_ranges(x..=x + 1.0, plot.y_range()), pal.grid);
        }

        let hovered_lane_y = hover_pos.filter(|p| p.y >= plot.top() && rect.contains(*p)).map(|p| p.y);
        state.lane_tops.clear();
        let mut y = plot.top() - state.scroll_y;
        for (li, lane) in self.lanes.iter().enumerate() {
            let h = lane.height();
            state.lane_tops.push(y);
            let top = y;
            y += h;
            if top > rect.bottom() || top + h < plot.top() {
                continue;
            }
            let lane_rect = Rect::from_min_max(pos2(rect.left(), top), pos2(rect.right(), top + h));
            let lane_hovered = hovered_lane_y.is_some_and(|py| py >= top && py < top + h);
            match lane {
                Lane::Header { title } => {
                    mesh.add_colored_rect(lane_rect.shrink2(vec2(0.0, 1.0)), pal.header_fill);
                    if let Some(g) =
                        text::elided(painter, title, &FontId::proportional(13.0), rect.width() - 16.0)
                    {
                        let ty = top + (h - g.size().y) * 0.5;
                        texts.push((pos2(rect.left() + 8.0, ty), g, pal.header_text));
                    }
                    if lane_hovered {
                        hover = Some(TimelineHit { lane: li, task: None, interval: None });
                    }
                }
                Lane::Rows { label, range, depths, task } => {
                    if li % 2 == 1 {
                        mesh.add_colored_rect(lane_rect, pal.lane_stripe);
                    }
                    let selected_lane = state.selected.is_some_and(|s| s.lane == li);
                    if selected_lane || lane_hovered {
                        mesh.add_colored_rect(lane_rect, pal.lane_highlight);
                    }
                    if let Some(g) =
                        text::elided(painter, label, &label_font, plot.left() - rect.left() - 12.0)
                    {
                        let ty = top + (ROW_H - g.size().y) * 0.5 + 1.0;
                        texts.push((pos2(rect.left() + 8.0, ty), g, pal.label_text));
                    }
                    if lane_hovered {
                        hover = Some(TimelineHit { lane: li, task: *task, interval: None });
                    }
                    let lane_start = range.start as usize;
                    let lane_end = lane_start + range.len as usize;
                    for depth in 0..(*depths).max(1) {
                        let row_top = top + f32::from(depth) * ROW_H + 1.0;
                        if row_top > rect.bottom() || row_top + ROW_H < plot.top() {
                            continue;
                        }
                        let (a, b) = depth_range(self.intervals, lane_start, lane_end, depth);
                        let row = RowCtx { from: a, to: b, y: row_top, depth };
                        let hit = self.paint_row(
                            painter, &mut mesh, &mut texts, row, plot, view, hover_pos, pal, &font,
                        );
                        if let Some((i, merged)) = hit {
                            hover = Some(TimelineHit { lane: li, task: *task, interval: Some(i) });
                            merged_count = merged;
                        }
                        if selected_lane
                            && let Some(sel) = state.selected.and_then(|s| s.interval)
                            && (a..b).contains(&sel)
                        {
                            let x0 = x_from_ns(self.start(sel) as f64, view, plot).max(plot.left() - 2.0);
                            let x1 = x_from_ns(self.end(sel) as f64, view, plot).min(plot.right() + 2.0);
                            if x1 >= plot.left() && x0 <= plot.right() {
                                selected_rect = Some(Rect::from_min_max(
                                    pos2(x0, row_top),
                                    pos2(x1.max(x0 + 2.0), row_top + ROW_H - 2.0),
                                ));
                            }
                        }
                    }
                }
            }
        }

        if let Some((at, label)) = self.marker {
            let x = x_from_ns(at as f64, view, plot);
            if x >= plot.left() && x <= plot.right() {
                mesh.add_colored_rect(Rect::from_x_y_ranges(x - 1.0..=x + 1.0, plot.y_range()), pal.marker);
                let g = painter.layout_no_wrap(
                    label.to_owned(),
                    FontId::proportional(11.0),
                    Color32::PLACEHOLDER,
                );
                let pos = pos2(x - g.size().x - 4.0, plot.top() + 2.0);
                texts.push((pos, g, pal.marker));
            }
        }
        let mesh = Arc::new(mesh);
        state.mesh = Some(Arc::clone(&mesh));
        painter.add(Shape::Mesh(mesh));
        for (pos, g, c) in texts {
            painter.galley(pos, g, c);
        }
        if let Some(r) = selected_rect {
            painter.rect_stroke(
                r,
                CornerRadius::ZERO,
                Stroke::new(2.0, pal.selection_outline),
                StrokeKind::Outside,
            );
        }
        if self.lanes.is_empty() {
            painter.text(
                plot.center(),
                Align2::CENTER_CENTER,
                "No lanes to show",
                FontId::proportional(14.0),
                pal.axis_text,
            );
        }
        (hover, merged_count)
    }

    /// Paints one depth row; returns the interval under the pointer and how many intervals
    /// its sliver merges (1 for an interval drawn on its own).
    #[allow(clippy::too_many_arguments)]
    fn paint_row(
        &self,
        painter: &Painter,
        mesh: &mut Mesh,
        texts: &mut Vec<(Pos2, Arc<Galley>, Color32)>,
        row: RowCtx,
        plot: Rect,
        view: (f64, f64),
        hover_pos: Option<Pos2>,
        pal: &TimelinePalette,
        font: &FontId,
    ) -> Option<(usize, u32)> {
        let iv = self.intervals;
        if row.to > iv.len() {
            return None;
        }
        // Positions are relative to the row's first interval.
        let count = row.to.saturating_sub(row.from);
        let start = |k: usize| iv.start(row.from + k);
        let end = |k: usize| iv.end(row.from + k);
        let t0 = view.0.floor() as i64;
        let t1 = view.1.ceil() as i64;
        let ns_per_px = (view.1 - view.0) / f64::from(plot.width().max(1.0));
        let y0 = row.y;
        let y1 = row.y + ROW_H - 2.0;
        let hover_in_row =
            hover_pos.filter(|p| p.y >= y0 && p.y < y1 && p.x >= plot.left() && p.x <= plot.right());
        let mut hit = None;
        // A pending merged sliver, extended while the next one is adjacent and the same colour.
        let mut pending: Option<(f32, f32, Color32)> = None;
        let flush = |mesh: &mut Mesh, p: &mut Option<(f32, f32, Color32)>| {
            if let Some((a, b, c)) = p.take() {
                mesh.add_colored_rect(Rect::from_min_max(pos2(a, y0), pos2(b, y1)), c);
            }
        };
        // Ends are sorted too (no overlap within a row), so the first visible interval is the
        // first whose end reaches the view.
        let mut k = iv.partition_point(row.from..row.to, |i| iv.end(i) < t0) - row.from;
        while k < count {
            let (from_ns, to_ns) = (start(k), end(k));
            if from_ns > t1 {
                break;
            }
            let xs = x_from_ns(from_ns as f64, view, plot);
            let xe = x_from_ns(to_ns as f64, view, plot);
            if xe - xs >= MIN_PX {
                flush(mesh, &mut pending);
                let kind = iv.kind(row.from + k);
                let label = iv.label(row.from + k);
                let fill = Self::fill(kind, label, pal);
                let a = xs.max(plot.left() - 1.0);
                let b = xe.min(plot.right() + 1.0);
                // Nested spans get a hairline gap so that neighbours with the same colour stay
                // apart; state lanes are contiguous by nature and stay solid.
                let gap = if row.depth > 0 && b - a > 4.0 { 1.0 } else { 0.0 };
                mesh.add_colored_rect(Rect::from_min_max(pos2(a, y0), pos2(b - gap, y1)), fill);
                if hover_in_row.is_some_and(|p| p.x >= xs && p.x < xe) {
                    hit = Some((row.from + k, 1));
                }
                if b - a >= LABEL_PX {
                    let text = if label.is_empty() { kind_name(kind) } else { self.labels.resolve(label) };
                    if let Some(g) = text::elided(painter, text, font, b - a - 6.0) {
                        let ty = y0 + (y1 - y0 - g.size().y) * 0.5;
                        texts.push((pos2(a + 3.0, ty), g, pal.interval_text));
                    }
                }
                k += 1;
            } else {
                // Everything that starts before the next pixel boundary merges into one sliver.
                let px = ((xs - plot.left()).floor() + 1.0).max(0.0);
                let boundary_ns = view.0 + f64::from(px) * ns_per_px;
                let boundary = boundary_ns.ceil() as i64;
                let mut j = k + 1 + gallop(count - (k + 1), |m| start(k + 1 + m) < boundary);
                // An interval that begins in this pixel but runs on past it is drawn on its own
                // next: merged, it would stretch the sliver, and what hovering the sliver shows,
                // over its whole length (a goroutine that ran for a microsecond, then blocked for
                // the rest of the trace, showed "running" all along).
                if j - 1 > k && x_from_ns(end(j - 1) as f64, view, plot) > plot.left() + px + MIN_PX {
                    j -= 1;
                }
                let last_end = end(j - 1);
                let color = self.dominant_fill(row.from, k, j, pal);
                let a = xs.max(plot.left() - 1.0);
                let b = x_from_ns(last_end as f64, view, plot).max(xs + MIN_PX).min(plot.right() + 1.0);
                match &mut pending {
                    Some((_, pb, pc)) if *pc == color && a <= *pb + 0.5 => *pb = pb.max(b),
                    _ => {
                        flush(mesh, &mut pending);
                        pending = Some((a, b, color));
                    }
                }
                if hover_in_row.is_some_and(|p| p.x >= a - 0.5 && p.x < b + 0.5) && hit.is_none() {
                    hit = Some((row.from + k, (j - k) as u32));
                }
                k = j;
            }
        }
        flush(mesh, &mut pending);
        hit
    }

    /// The fill of an interval: its state's colour; spans and async operations get one of a
    /// few shades by name, so that neighbouring spans tell apart.
    fn fill(kind: IntervalKind, label: StrId, pal: &TimelinePalette) -> Color32 {
        let base = pal.kind(kind);
        match kind {
            IntervalKind::Span | IntervalKind::Async => {
                let shade = (label.index() as u32).wrapping_mul(0x9e37_79b9) >> 30;
                theme::mix(base, Color32::WHITE, 0.1 * shade as f32)
            }
            _ => base,
        }
    }

    /// The colour of the state covering most of intervals `k..j` (relative to `base`); exact
    /// for a few, sampled for many so a pixel never costs more than [`EXACT_MERGE`] reads.
    fn dominant_fill(&self, base: usize, k: usize, j: usize, pal: &TimelinePalette) -> Color32 {
        let iv = self.intervals;
        let n = j.saturating_sub(k).max(1);
        let stride = n.div_ceil(EXACT_MERGE).max(1);
        let mut weight = [0i64; 8];
        let mut idx = k;
        while idx < j {
            let i = base + idx;
            let dur = (iv.end(i) - iv.start(i)).max(1);
            let kind = iv.kind(i);
            if let Some(w) = weight.get_mut(kind as usize) {
                *w += dur;
            }
            idx += stride;
        }
        let best = weight.iter().enumerate().max_by_key(|&(_, w)| *w).map_or(0, |(i, _)| i);
        pal.kinds.get(best).copied().unwrap_or(Color32::GRAY)
    }

    fn paint_axis(&self, painter: &Painter, rect: Rect, plot: Rect, view: (f64, f64), pal: &TimelinePalette) {
        let axis = Rect::from_min_max(pos2(plot.left(), rect.top()), pos2(rect.right(), plot.top()));
        painter.rect_filled(
            Rect::from_min_max(rect.min, pos2(rect.right(), plot.top())),
            CornerRadius::ZERO,
            pal.label_fill,
        );
        painter.hline(rect.x_range(), plot.top() - 0.5, Stroke::new(1.0, pal.grid));
        let origin = self.origin_ns as f64;
        let ns_per_px = (view.1 - view.0) / f64::from(plot.width().max(1.0));
        let step = time_axis::tick_step_ns(ns_per_px, TICK_PX);
        let (from, to) = (view.0 - origin, view.1 - origin);
        let first = time_axis::ticks(from, to, step).next().unwrap_or(from);
        let labels = TickLabels::new(step, first, from.abs().max(to.abs()));
        let font = FontId::proportional(11.0);
        for t in time_axis::ticks(from, to, step) {
            let x = x_from_ns(t + origin, view, plot);
            painter.vline(x, axis.bottom() - 5.0..=axis.bottom(), Stroke::new(1.0, pal.axis_text));
            painter.text(
                pos2(x + 3.0, axis.top() + 4.0),
                Align2::LEFT_TOP,
                labels.label(t),
                font.clone(),
                pal.axis_text,
            );
        }
        // The left corner names the scale: the span on screen, and the offsets' base if any.
        let mut corner = format!("view {}", format::duration_ns((view.1 - view.0).round() as i64));
        if let Some((_, base)) = &labels.base {
            corner = format!("{base} +");
        }
        painter.text(
            pos2(rect.left() + 8.0, rect.top() + 5.0),
            Align2::LEFT_TOP,
            corner,
            font,
            pal.axis_text,
        );
    }

    fn paint_links(
        &self,
        painter: &Painter,
        state: &mut TimelineState,
        plot: Rect,
        view: (f64, f64),
        hover: Option<TimelineHit>,
        pal: &TimelinePalette,
    ) {
        let focus = hover.and_then(|h| h.task).or_else(|| state.selected.and_then(|s| s.task));
        let Some(task) = focus else { return };
        if self.links.is_empty() {
            return;
        }
        let key = (task, std::ptr::from_ref(self.links) as usize, self.links.len());
        if state.links_cache.as_ref().is_none_or(|(k, _)| *k != key) {
            let idx: Vec<u32> = self
                .links
                .iter()
                .enumerate()
                .filter(|(_, l)| l.from_task == task || l.to_task == task)
                .map(|(i, _)| i as u32)
                .collect();
            state.links_cache = Some((key, idx));
        }
        let lanes_key = (self.lanes.as_ptr() as usize, self.lanes.len());
        if state.task_lanes.as_ref().is_none_or(|(k, _)| *k != lanes_key) {
            let mut map: Vec<(u32, u32)> = self
                .lanes
                .iter()
                .enumerate()
                .filter_map(|(i, l)| match l {
                    Lane::Rows { task: Some(t), .. } => Some((*t, i as u32)),
                    _ => None,
                })
                .collect();
            map.sort_unstable();
            state.task_lanes = Some((lanes_key, map));
        }
        let (Some((_, links)), Some((_, lane_of))) = (&state.links_cache, &state.task_lanes) else { return };
        let lane_y = |t: u32| {
            let at = lane_of.binary_search_by_key(&t, |&(task, _)| task).ok()?;
            let lane = lane_of.get(at)?.1 as usize;
            state.lane_tops.get(lane).map(|y| y + 1.0 + (ROW_H - 2.0) * 0.5)
        };
        let mut drawn = 0usize;
        for &li in links {
            let Some(link) = self.links.get(li as usize) else { continue };
            let (Some(ya), Some(yb)) = (lane_y(link.from_task), lane_y(link.to_task)) else { continue };
            let xa = x_from_ns(link.from_ns as f64, view, plot);
            let xb = x_from_ns(link.to_ns as f64, view, plot);
            let seg = Rect::from_two_pos(pos2(xa, ya), pos2(xb, yb));
            if !seg.intersects(plot) {
                continue;
            }
            let color = pal.link(link.kind);
            let (a, b) = (pos2(xa, ya), pos2(xb, yb));
            painter.line_segment([a, b], Stroke::new(1.5, color));
            painter.circle_filled(a, 2.5, color);
            let dir = (b - a).normalized();
            if dir.length() > 0.5 {
                let n = vec2(-dir.y, dir.x);
                let tip = b;
                let head = vec![tip, tip - dir * 8.0 + n * 4.0, tip - dir * 8.0 - n * 4.0];
                painter.add(Shape::convex_polygon(head, color, Stroke::NONE));
            }
            drawn += 1;
            if drawn >= MAX_ARROWS {
                break;
            }
        }
    }

    fn tooltip(&self, ui: &Ui, response: &Response, hit: TimelineHit, merged: u32) {
        let Some(lane) = self.lanes.get(hit.lane) else { return };
        let Lane::Rows { label, .. } = lane else { return };
        let tooltip = Tooltip::always_open(
            ui.ctx().clone(),
            response.layer_id,
            response.id,
            egui::PopupAnchor::Pointer,
        )
        .gap(14.0)
        .accessible_name("Interval details");
        tooltip.show(|ui| {
            ui.set_max_width(520.0);
            ui.strong(label);
            let Some(i) = hit.interval else {
                ui.weak("Click to select the lane");
                return;
            };
            let iv = self.intervals;
            let kind = iv.get(i).map(|v| v.kind).unwrap_or_default();
            let label = iv.label(i);
            let (s, e) = (self.start(i), self.end(i));
            let state = if label.is_empty() {
                kind_name(kind).to_owned()
            } else if kind == IntervalKind::Waiting {
                // Age bars say what they are in their label ("3 of 40 goroutines waiting ≥ ...").
                self.labels.resolve(label).to_owned()
            } else {
                format!("{}: {}", kind_name(kind), self.labels.resolve(label))
            };
            ui.label(state);
            ui.label(format!(
                "{} (from {} to {})",
                format::duration_ns(e - s),
                format::duration_ns(s - self.origin_ns),
                format::duration_ns(e - self.origin_ns)
            ));
            if merged > 1 {
                ui.weak(format!(
                    "{} intervals share this pixel; zoom in to see them",
                    format::count(i64::from(merged))
                ));
            }
            let stack = iv.get(i).map(|v| v.stack).unwrap_or_default();
            if let Some(&leaf) = self.capture.tables.stack(stack).first() {
                let frame = self.capture.tables.frame(leaf);
                ui.label(egui::RichText::new(self.capture.str(frame.func)).monospace());
                if !frame.file.is_empty() {
                    ui.label(
                        egui::RichText::new(format!("{}:{}", self.capture.str(frame.file), frame.line))
                            .monospace()
                            .weak(),
                    );
                }
            }
        });
    }

    fn summary(&self, view: (f64, f64), selected: Option<TimelineHit>) -> String {
        let mut s = format!(
            "{} lanes, showing {} from {}",
            format::count(self.lanes.len() as i64),
            format::duration_ns((view.1 - view.0).round() as i64),
            format::duration_ns((view.0 - self.origin_ns as f64).round() as i64)
        );
        if let Some(sel) = selected
            && let Some(Lane::Rows { label, .. }) = self.lanes.get(sel.lane)
        {
            let _ = write!(s, "; selected {label}");
        }
        s
    }
}

/// One depth row to paint: intervals `from..to`, at `y`.
#[derive(Clone, Copy)]
struct RowCtx {
    from: usize,
    to: usize,
    y: f32,
    depth: u16,
}

fn x_from_ns(t: f64, view: (f64, f64), plot: Rect) -> f32 {
    plot.left() + ((t - view.0) / (view.1 - view.0) * f64::from(plot.width())) as f32
}

fn ns_from_x(x: f32, view: (f64, f64), plot: Rect) -> f64 {
    view.0 + f64::from((x - plot.left()) / plot.width().max(1.0)) * (view.1 - view.0)
}

/// Links of lanes that have none.
static NO_LINKS: Links = Links::new();

/// A little air on both sides of the whole range.
fn pad_range((a, b): (f64, f64)) -> (f64, f64) {
    let pad = (b - a) * 0.01;
    (a - pad, b + pad)
}

/// The sub-range of `from..to` at `depth` (the lane is sorted by depth first).
fn depth_range(iv: &Intervals, from: usize, to: usize, depth: u16) -> (usize, usize) {
    if from >= to || to > iv.len() {
        return (from, from);
    }
    if iv.depth(from) == depth && iv.depth(to - 1) == depth {
        return (from, to);
    }
    (
        iv.partition_point(from..to, |i| iv.depth(i) < depth),
        iv.partition_point(from..to, |i| iv.depth(i) <= depth),
    )
}

/// Number of leading positions of `0..len` where `below` holds (it holds, then does not): an
/// exponential then binary search, so a short run costs a few reads and a long one a logarithm.
fn gallop(len: usize, below: impl Fn(usize) -> bool) -> usize {
    let mut hi = 1usize;
    while hi < len && below(hi - 1) {
        hi *= 2;
    }
    let (mut lo, mut hi) = (hi / 2, hi.min(len));
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

fn span_of(iv: &Intervals) -> (i64, i64) {
    let lo = (0..iv.len()).map(|i| iv.start(i)).min().unwrap_or(0);
    let hi = (0..iv.len()).map(|i| iv.end(i)).max().unwrap_or(lo + 1);
    (lo, hi.max(lo + 1))
}

/// A person's name for a state.
pub fn kind_name(kind: IntervalKind) -> &'static str {
    match kind {
        IntervalKind::Running => "running",
        IntervalKind::Runnable => "runnable",
        IntervalKind::Blocked => "blocked",
        IntervalKind::Syscall => "syscall",
        IntervalKind::Span => "span",
        IntervalKind::Async => "async",
        IntervalKind::Waiting => "waiting",
        IntervalKind::Gc => "GC",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gallop_counts_leading_starts_below_bound() {
        let s = [1, 2, 3, 10, 20, 30, 40, 50, 60];
        let g = |s: &[i64], bound: i64| gallop(s.len(), |k| s[k] < bound);
        assert_eq!(g(&s, 0), 0);
        assert_eq!(g(&s, 1), 0);
        assert_eq!(g(&s, 2), 1);
        assert_eq!(g(&s, 11), 4);
        assert_eq!(g(&s, 61), 9);
        assert_eq!(g(&[], 5), 0);
        for bound in 0..70 {
            assert_eq!(g(&s, bound), s.partition_point(|&x| x < bound), "bound {bound}");
        }
    }

    #[test]
    fn depth_ranges_split_a_lane() {
        let iv: Intervals = [(0, 0), (0, 10), (1, 2), (1, 5), (2, 3)]
            .into_iter()
            .map(|(depth, start_ns)| leakscope_core::model::Interval {
                start_ns,
                end_ns: start_ns + 1,
                kind: IntervalKind::Span,
                depth,
                ..Default::default()
            })
            .collect();
        assert_eq!(depth_range(&iv, 0, 5, 0), (0, 2));
        assert_eq!(depth_range(&iv, 0, 5, 1), (2, 4));
        assert_eq!(depth_range(&iv, 0, 5, 2), (4, 5));
        assert_eq!(depth_range(&iv, 0, 5, 3), (5, 5));
        let lane = Lane::rows("x", IntervalRange { start: 0, len: 5 }, &iv, None);
        assert!(matches!(lane, Lane::Rows { depths: 3, .. }));
    }
}
