//! The timeline's memory between frames ([`TimelineState`]: view, scroll, selection and the
//! caches that keep a frame's cost bounded by the screen), and what one frame reports back to
//! the host. Apart from the widget because the host keeps the state while the widget is built
//! anew each frame.

use std::sync::Arc;

use egui::Response;
use egui::epaint::Mesh;
use leakscope_core::model::Link;

use super::MIN_VIEW_NS;
use super::overview::Overview;

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
    pub(super) view: Option<(f64, f64)>,
    pub(super) target: Option<(f64, f64)>,
    pub(super) range_key: Option<(i64, i64)>,
    pub(super) scroll_y: f32,
    pub(super) selected: Option<TimelineHit>,
    pub(super) band_from_ns: Option<f64>,
    pub(super) lane_tops: Vec<f32>,
    /// Links of one task: (task, links pointer, links len) -> its links, decoded once: links
    /// are delta-coded in blocks, so reading one alone decodes up to a block's worth.
    pub(super) links_cache: Option<(LinksKey, Vec<Link>)>,
    /// Task -> lane, for the lanes slice identified by (pointer, len).
    pub(super) task_lanes: Option<(LanesKey, Vec<(u32, u32)>)>,
    /// The last frame's mesh, shared with the frame's shapes. Once egui has tessellated and
    /// dropped them, this is the only reference and the next frame refills the same buffers:
    /// at the whole range of a big trace the mesh holds a rect per pixel per row (megabytes),
    /// and allocating it afresh each frame cost a third of the frame in copies and new pages.
    pub(super) mesh: Option<Arc<Mesh>>,
    /// The overview strip's counts, for the lanes and range they were made for.
    pub(super) overview: Option<Overview>,
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
