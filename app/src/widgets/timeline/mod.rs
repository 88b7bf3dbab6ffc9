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
//! resets, click selects an interval and its lane, double-click an interval zooms to it. A
//! click on a foldable group header is reported to the host, which folds the group (the lanes
//! are the host's). Above the axis, an overview strip shows the whole range with the window on
//! screen; a click or drag there moves the window.
//!
//! The widget is split along its seams: `lanes` ([`Lane`], what the host passes in), `state`
//! ([`TimelineState`] between frames, and what a frame reports back), `interact` (pointer and
//! keys move the view; the tooltip), `paint` (lanes, rows, axis and links) and `overview` (the
//! whole-range strip, binned once per lane list). Every painter
//! takes the frame's `FrameInfo` (painter, rectangles, view, palette, pointer) by reference
//! instead of seven to nine arguments. This file holds the widget itself: its builder, and
//! `show`, which runs a frame: interact, then paint, then report.

use std::fmt::Write as _;

use egui::{CornerRadius, Rect, Sense, Ui, WidgetInfo, pos2, vec2};
use leakscope_core::analysis::wait_ages::WaitAges;
use leakscope_core::model::{Capture, IntervalKind, Intervals, Links, Strings};

use crate::theme::TimelinePalette;
use crate::widgets::format;

mod interact;
mod lanes;
mod overview;
mod paint;
mod state;

pub use lanes::Lane;
use overview::{OVERVIEW_H, Overview};
use paint::FrameInfo;
pub use state::{TimelineHit, TimelineResponse, TimelineState};

/// Height of one depth row of a lane.
const ROW_H: f32 = 16.0;
/// Space below each lane.
const LANE_PAD: f32 = 3.0;
/// Height of a header row.
const HEADER_H: f32 = 22.0;
/// Height of the time axis.
const AXIS_H: f32 = 24.0;
/// Shortest view, in ns.
const MIN_VIEW_NS: f64 = 10.0;

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
    overview: bool,
    overview_lanes: Option<&'a [Lane]>,
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
            overview: true,
            overview_lanes: None,
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
            // Bars that all end at the capture: an overview would repeat the lanes.
            overview: false,
            overview_lanes: None,
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

    /// Whether to show the overview strip of the whole range above the axis (default: yes,
    /// except for wait ages).
    pub fn overview(mut self, show: bool) -> Self {
        self.overview = show;
        self
    }

    /// The lanes the overview strip counts, when not those shown: the host's whole lane list
    /// with folded groups' lanes too, so folding a group does not blank the strip.
    pub fn overview_lanes(mut self, lanes: &'a [Lane]) -> Self {
        self.overview_lanes = Some(lanes);
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
        let overview_h = if self.overview { OVERVIEW_H } else { 0.0 };
        let plot =
            Rect::from_min_max(pos2(rect.left() + label_w, rect.top() + overview_h + AXIS_H), rect.max);
        let strip = self
            .overview
            .then(|| Rect::from_x_y_ranges(plot.x_range(), rect.top()..=rect.top() + OVERVIEW_H - 1.0));

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

        // A press in the overview strip moves the window; it selects and zooms nothing.
        let on_strip = strip.is_some_and(|s| {
            let at = ui.input(|i| i.pointer.press_origin()).or_else(|| response.interact_pointer_pos());
            at.is_some_and(|p| s.contains(p))
        });
        match strip.filter(|_| on_strip) {
            Some(s) => Self::interact_overview(ui, state, &response, s, range),
            None => self.interact(ui, state, &response, rect, plot, range),
        }
        let view = state.view.unwrap_or(range);

        let info = FrameInfo {
            painter: ui.painter_at(rect),
            rect,
            plot,
            view,
            px_per_ns: f64::from(plot.width()) / (view.1 - view.0),
            pal: palette,
            hover_pos: if response.dragged() { None } else { response.hover_pos() },
        };
        info.painter.rect_filled(rect, CornerRadius::ZERO, info.pal.background);
        let (hover, merged) = self.paint_lanes(&info, state);
        self.paint_axis(&info);
        if let Some(s) = strip {
            let overview = Overview::of(
                state.overview.take(),
                self.intervals,
                self.overview_lanes.unwrap_or(self.lanes),
                self.range_ns,
            );
            overview.paint(&info.painter, s, info.pal, view, range);
            Self::paint_overview_key(&info, s);
            if let Some(p) = response.hover_pos().filter(|p| s.contains(*p) && !response.dragged()) {
                self.overview_tooltip(ui, &response, &overview, (p.x - s.left()) / s.width().max(1.0), range);
            }
            state.overview = Some(overview);
        }
        self.paint_links(&info, state, hover);
        if let Some(from) = state.band_from_ns
            && let Some(p) = response.interact_pointer_pos()
        {
            let x_a = info.x_from_ns(from);
            let band = Rect::from_x_y_ranges(x_a.min(p.x)..=x_a.max(p.x), plot.y_range());
            info.painter.rect_filled(band, CornerRadius::ZERO, info.pal.band);
        }

        let mut clicked = None;
        if response.clicked() && !on_strip {
            response.request_focus();
            clicked = hover;
            state.selected = hover.filter(|h| matches!(self.lanes.get(h.lane), Some(Lane::Rows { .. })));
        }
        if response.double_clicked() && !on_strip {
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
