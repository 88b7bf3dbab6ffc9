//! The flamegraph: a flame (root at the bottom) or icicle (root at the top) over a
//! [`FlameTree`], painted by hand on one canvas.
//!
//! Painting walks the tree's pre-order once per frame. A frame that is off screen is skipped
//! together with its whole subtree (one jump to `end`), frames narrower than a pixel are merged
//! with their neighbours into thin runs (their subtrees skipped too), and labels are laid out
//! only where at least a few characters fit. So a frame costs in proportion to what is visible,
//! never to the size of the tree: 100,000 nodes draw in well under a millisecond.
//!
//! Everything proportional to the tree (frame positions, search matches, label widths) is
//! computed once into [`FlameGraphState`] and reused until the tree or the query changes.
//!
//! ```no_run
//! # use leakscope::widgets::{FlameGraph, FlameGraphState, FlameBadge};
//! # fn view(ui: &mut egui::Ui, tree: &leakscope_core::analysis::flame::FlameTree,
//! #         state: &mut FlameGraphState, query: &str, badges: &[FlameBadge]) {
//! let out = FlameGraph::new(tree).search(query).badges(badges).show(ui, state);
//! if let Some(finding) = out.clicked_badge {
//!     // open the finding with this id
//! #   let _ = finding;
//! }
//! # }
//! ```

use std::fmt::Write as _;
use std::sync::Arc;

use egui::epaint::Mesh;
use egui::{
    Align, Color32, CornerRadius, FontId, Galley, Key, Layout, Painter, Pos2, Rect, Response, Sense, Shape,
    Stroke, StrokeKind, Tooltip, Ui, Vec2, WidgetInfo, pos2, vec2,
};
use leakscope_core::analysis::flame::{FlameNode, FlameTree};
use leakscope_core::analysis::flame_locations::FlameLocations;
use leakscope_core::analysis::stack_filter::RUNTIME_ONLY;
use leakscope_core::model::{StrId, funcname};

use super::format::{self, ValueUnit};
use super::{KeyNav, text};
use crate::theme::{self, FlamePalette};

/// Height of one row of frames, the gap below it included.
const ROW_H: f32 = 18.0;
/// Gap between rows, and between frames wide enough to show one.
const GAP: f32 = 1.0;
/// Frames narrower than this (points) merge into thin runs.
const THIN_PX: f32 = 1.0;
/// Narrowest frame worth trying a label on.
const MIN_LABEL_PX: f32 = 22.0;
/// Label padding inside a frame.
const LABEL_PAD: f32 = 4.0;
/// Narrowest view, as a fraction of the root: deep enough to see a 1-in-a-billion frame.
const MIN_SPAN: f64 = 1e-9;
/// How quickly an animated zoom approaches its target (per second, exponential).
const ZOOM_RATE: f64 = 14.0;
/// Label font size.
const FONT_SIZE: f32 = 12.0;
/// Space between a badge's text and its pill's edge.
const PILL_PAD_X: f32 = 4.0;
/// Free space a frame needs beside its badge pill; thinner frames get a dot.
const PILL_MARGIN: f32 = 6.0;

/// Which way the flamegraph grows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum FlameMode {
    /// Root at the bottom, callees stacked upward (Brendan Gregg's flame graph).
    #[default]
    Flame,
    /// Root at the top, callees hanging downward.
    Icicle,
}

/// A marker on a frame, for a leak finding that involves it: a short label drawn on the frame
/// (the rule id), a tooltip (the finding's title), and an id the host gets back on click.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlameBadge {
    /// The node the badge sits on.
    pub node: u32,
    /// Short text on the badge, e.g. a rule id.
    pub label: String,
    /// Shown when the badge is hovered, e.g. the finding's title.
    pub tooltip: String,
    /// Opaque to the widget; reported in [`FlameGraphResponse::clicked_badge`].
    pub id: u64,
}

/// What a search matched. Nested matches are counted once: a match inside a matching frame's
/// subtree adds nothing to the value, since its value is already inside the outer one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchStats {
    /// Number of frames whose name matches.
    pub matched_nodes: usize,
    /// Value of the matching frames, outermost only.
    pub matched_value: i64,
    /// The root's value.
    pub total_value: i64,
    /// Baseline value of the matching frames (diff trees), outermost only.
    pub matched_baseline: i64,
    /// The root's baseline value (diff trees).
    pub total_baseline: i64,
}

impl SearchStats {
    /// Matched share of the whole, 0..=1.
    pub fn share(&self) -> f64 {
        if self.total_value > 0 { self.matched_value as f64 / self.total_value as f64 } else { 0.0 }
    }
}

/// What happened in the flamegraph this frame.
#[derive(Debug)]
pub struct FlameGraphResponse {
    /// The canvas.
    pub response: Response,
    /// The frame under the pointer.
    pub hovered_node: Option<u32>,
    /// The frame clicked this frame (the view zooms to it).
    pub clicked_node: Option<u32>,
    /// The frame the view is zoomed to; 0 (the root) when not zoomed.
    pub zoom_node: u32,
    /// The zoom path: the root, then each frame down to [`FlameGraphResponse::zoom_node`].
    pub breadcrumb: Vec<u32>,
    /// The id of the badge clicked this frame.
    pub clicked_badge: Option<u64>,
    /// What the search matched, when a search is active.
    pub search: Option<SearchStats>,
}

/// Identity of a tree, to tell when the host handed over a different one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TreeKey {
    nodes: usize,
    len: usize,
    names: usize,
    root_total: i64,
    root_baseline: i64,
    is_diff: bool,
}

impl TreeKey {
    fn of(tree: &FlameTree) -> Self {
        let root = tree.root().copied().unwrap_or(FlameNode {
            name: StrId::default(),
            depth: 0,
            parent: 0,
            end: 0,
            total: 0,
            self_value: 0,
            baseline_total: 0,
        });
        Self {
            nodes: tree.nodes.as_ptr() as usize,
            len: tree.nodes.len(),
            names: tree.names.len(),
            root_total: root.total,
            root_baseline: root.baseline_total,
            is_diff: tree.is_diff,
        }
    }
}

/// Positions of every frame as fractions of the root's width, and each name's colour family.
#[derive(Default)]
struct FrameLayout {
    start: Vec<f64>,
    width: Vec<f64>,
    max_depth: u16,
    /// Per name id: (family, shade); family 0 = user, 1 = standard library, 2 = runtime.
    family: Vec<(u8, u8)>,
    /// Per name id: widths of the full, package-trimmed and short names; NaN until measured.
    label_widths: Vec<[f32; 3]>,
}

impl FrameLayout {
    fn build(tree: &FlameTree) -> Self {
        let n = tree.nodes.len();
        let mut start = vec![0.0f64; n];
        let mut width = vec![0.0f64; n];
        let raw = |node: &FlameNode| {
            if tree.is_diff { node.total.max(node.baseline_total).max(0) } else { node.total.max(0) }
        };
        if let (Some(root), Some(w)) = (tree.nodes.first(), width.first_mut()) {
            *w = if raw(root) > 0 { 1.0 } else { 0.0 };
        }
        // Children of a diff node can together be wider than the node (each side's own
        // maximum); they are scaled to fit so that no child pokes out of its parent.
        for (p, node) in tree.nodes.iter().enumerate() {
            let (Some(&p_start), Some(&p_width)) = (start.get(p), width.get(p)) else { break };
            if node.end as usize <= p + 1 {
                continue;
            }
            let kids_raw: i64 =
                tree.children(p as u32).filter_map(|c| tree.nodes.get(c as usize)).map(raw).sum();
            let denom = raw(node).max(kids_raw).max(1) as f64;
            let mut at = p_start;
            for c in tree.children(p as u32) {
                let Some(child) = tree.nodes.get(c as usize) else { continue };
                let w = p_width * raw(child) as f64 / denom;
                if let (Some(s), Some(wd)) = (start.get_mut(c as usize), width.get_mut(c as usize)) {
                    *s = at;
                    *wd = w;
                }
                at += w;
            }
        }
        let family = tree
            .names
            .iter()
            .map(|(_, name)| {
                let runtime = funcname::is_runtime(name) || name == RUNTIME_ONLY;
                let fam = match (runtime, funcname::is_standard_library(name)) {
                    (true, _) => 2,
                    (false, true) => 1,
                    (false, false) => 0,
                };
                // Shades follow the package, so one package's frames share a colour.
                let pkg = funcname::package_path(name);
                (fam, (fnv1a(pkg.as_bytes()) % 251) as u8)
            })
            .collect();
        Self {
            start,
            width,
            max_depth: tree.max_depth(),
            family,
            label_widths: vec![[f32::NAN; 3]; tree.names.len()],
        }
    }
}

/// Search matches, cached per (tree, query).
struct SearchCache {
    query: String,
    /// Per name id: whether the name matches.
    name_match: Vec<bool>,
    /// Per node: whether it or anything in its subtree matches.
    subtree_match: Vec<bool>,
    stats: SearchStats,
}

impl SearchCache {
    fn build(tree: &FlameTree, query: &str) -> Self {
        // Smart case, as in ripgrep: case-insensitive unless the query has an uppercase letter.
        let sensitive = query.chars().any(char::is_uppercase);
        let needle = if sensitive { query.to_owned() } else { query.to_lowercase() };
        let name_match: Vec<bool> = tree
            .names
            .iter()
            .map(|(id, name)| {
                !id.is_empty()
                    && if sensitive { name.contains(&needle) } else { name.to_lowercase().contains(&needle) }
            })
            .collect();
        let is_match = |node: &FlameNode| name_match.get(node.name.index()).copied().unwrap_or(false);
        let mut subtree_match: Vec<bool> = tree.nodes.iter().map(is_match).collect();
        for i in (1..tree.nodes.len()).rev() {
            let (Some(node), Some(&m)) = (tree.nodes.get(i), subtree_match.get(i)) else { continue };
            if m && let Some(p) = subtree_match.get_mut(node.parent as usize) {
                *p = true;
            }
        }
        let root = tree.root();
        let mut stats = SearchStats {
            total_value: root.map_or(0, |r| r.total),
            total_baseline: root.map_or(0, |r| r.baseline_total),
            ..SearchStats::default()
        };
        stats.matched_nodes = tree.nodes.iter().filter(|n| is_match(n)).count();
        let mut i = 0usize;
        while let Some(node) = tree.nodes.get(i) {
            if is_match(node) {
                stats.matched_value = stats.matched_value.saturating_add(node.total);
                stats.matched_baseline = stats.matched_baseline.saturating_add(node.baseline_total);
                i = (node.end as usize).max(i + 1);
            } else if subtree_match.get(i).copied().unwrap_or(false) {
                i += 1;
            } else {
                i = (node.end as usize).max(i + 1);
            }
        }
        Self { query: query.to_owned(), name_match, subtree_match, stats }
    }
}

/// A run of merged sub-pixel frames at one depth.
#[derive(Clone, Copy, Debug)]
struct Run {
    x0: f32,
    x1: f32,
    /// Fractions of the root the run covers (for click-to-zoom).
    f0: f64,
    f1: f64,
    frames: u32,
    value: i64,
    matched: bool,
}

/// What the pointer is over.
#[derive(Clone, Copy, Debug)]
enum Hover {
    Frame(u32),
    Run(Run),
    Badge(usize),
}

/// The flamegraph's state between frames: mode, zoom, scroll and caches. Keep one per view.
pub struct FlameGraphState {
    /// Flame (root at the bottom) or icicle (root at the top).
    pub mode: FlameMode,
    view: (f64, f64),
    target: Option<(f64, f64)>,
    scroll_y: f32,
    zoom_node: u32,
    pending_zoom: Option<u32>,
    key: Option<TreeKey>,
    layout: FrameLayout,
    search: Option<SearchCache>,
    runs: Vec<Option<Run>>,
}

impl Default for FlameGraphState {
    fn default() -> Self {
        Self {
            mode: FlameMode::default(),
            view: (0.0, 1.0),
            target: None,
            scroll_y: 0.0,
            zoom_node: 0,
            pending_zoom: None,
            key: None,
            layout: FrameLayout::default(),
            search: None,
            runs: Vec::new(),
        }
    }
}

impl std::fmt::Debug for FlameGraphState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlameGraphState")
            .field("mode", &self.mode)
            .field("view", &self.view)
            .field("zoom_node", &self.zoom_node)
            .finish_non_exhaustive()
    }
}

impl FlameGraphState {
    /// A state in the given mode.
    pub fn new(mode: FlameMode) -> Self {
        Self { mode, ..Self::default() }
    }

    /// Zooms to `node` on the next frame (a finding's "show in flamegraph" link).
    pub fn zoom_to(&mut self, node: u32) {
        self.pending_zoom = Some(node);
    }

    /// Back to the whole tree.
    pub fn reset(&mut self) {
        self.pending_zoom = Some(0);
        self.scroll_y = 0.0;
    }

    /// The frame the view is zoomed to (0 = the root).
    pub fn zoom_node(&self) -> u32 {
        self.zoom_node
    }

    /// The visible part of the root's width, as fractions `(from, to)`.
    pub fn visible_fraction(&self) -> (f64, f64) {
        self.view
    }

    /// Sets the visible part of the root's width at once, without animation (benchmarks and
    /// tests use it to look at a fixed zoom).
    pub fn set_visible_fraction(&mut self, from: f64, to: f64) {
        self.view = clamp_view((from, to));
        self.target = None;
    }

    fn ensure(&mut self, tree: &FlameTree, query: &str) {
        let key = TreeKey::of(tree);
        if self.key != Some(key) {
            self.key = Some(key);
            self.layout = FrameLayout::build(tree);
            self.search = None;
            self.view = (0.0, 1.0);
            self.target = None;
            self.zoom_node = 0;
            self.scroll_y = 0.0;
        }
        let query = query.trim();
        if query.is_empty() {
            self.search = None;
        } else if self.search.as_ref().is_none_or(|s| s.query != query) {
            self.search = Some(SearchCache::build(tree, query));
        }
        let depths = usize::from(self.layout.max_depth) + 1;
        if self.runs.len() != depths {
            self.runs = vec![None; depths];
        }
    }

    fn node_fraction(&self, node: u32) -> Option<(f64, f64)> {
        let s = *self.layout.start.get(node as usize)?;
        let w = *self.layout.width.get(node as usize)?;
        (w > 0.0).then_some((s, s + w))
    }

    fn animate_to(&mut self, range: (f64, f64)) {
        self.target = Some(clamp_view(range));
    }

    /// The deepest frame on the zoom path that still contains the whole view: zooming out past
    /// a frame pops it off the breadcrumb.
    fn settle_zoom_node(&mut self, tree: &FlameTree) {
        let view = self.target.unwrap_or(self.view);
        let eps = (view.1 - view.0) * 1e-6;
        while self.zoom_node != 0 {
            let inside = self
                .node_fraction(self.zoom_node)
                .is_some_and(|(a, b)| a <= view.0 + eps && view.1 <= b + eps);
            if inside {
                break;
            }
            self.zoom_node = tree.nodes.get(self.zoom_node as usize).map_or(0, |n| n.parent);
        }
    }
}

fn clamp_view((a, b): (f64, f64)) -> (f64, f64) {
    let span = (b - a).clamp(MIN_SPAN, 1.0);
    let a = a.clamp(0.0, 1.0 - span);
    (a, a + span)
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The flamegraph widget over one tree, built each frame and shown with
/// [`FlameGraph::show`].
#[must_use = "call .show(ui, state)"]
pub struct FlameGraph<'a> {
    tree: &'a FlameTree,
    unit: ValueUnit,
    search: &'a str,
    badges: &'a [FlameBadge],
    locations: Option<&'a FlameLocations>,
    name: &'a str,
    header: bool,
}

impl<'a> FlameGraph<'a> {
    /// A flamegraph of `tree`, counting goroutines.
    pub fn new(tree: &'a FlameTree) -> Self {
        Self {
            tree,
            unit: ValueUnit::goroutines(),
            search: "",
            badges: &[],
            locations: None,
            name: "Flamegraph",
            header: true,
        }
    }

    /// What the values count (goroutines, CPU time, bytes...).
    pub fn unit(mut self, unit: ValueUnit) -> Self {
        self.unit = unit;
        self
    }

    /// Highlights frames whose function name contains `query` (case-insensitive unless the
    /// query has an uppercase letter). Empty: no search.
    pub fn search(mut self, query: &'a str) -> Self {
        self.search = query;
        self
    }

    /// Badges to draw on frames (leak findings).
    pub fn badges(mut self, badges: &'a [FlameBadge]) -> Self {
        self.badges = badges;
        self
    }

    /// File:line of the frames, for the tooltip.
    pub fn locations(mut self, locations: &'a FlameLocations) -> Self {
        self.locations = Some(locations);
        self
    }

    /// The canvas's accessible name (default "Flamegraph"); tests and screen readers find the
    /// canvas by it. Give each flamegraph on screen its own (e.g. "Flamegraph before").
    pub fn accessible_name(mut self, name: &'a str) -> Self {
        self.name = name;
        self
    }

    /// Whether to draw the header line (breadcrumb, search share, diff legend) above the
    /// canvas. Default on.
    pub fn header(mut self, header: bool) -> Self {
        self.header = header;
        self
    }

    /// Shows the flamegraph in all the space left in `ui`.
    pub fn show(self, ui: &mut Ui, state: &mut FlameGraphState) -> FlameGraphResponse {
        let palette = FlamePalette::of(ui);
        state.ensure(self.tree, self.search);
        if let Some(node) = state.pending_zoom.take() {
            self.zoom_to(ui, state, node);
        }
        state.settle_zoom_node(self.tree);

        let mut breadcrumb = self.tree.path(state.zoom_node);
        breadcrumb.insert(0, 0);
        let mut clicked_crumb = None;
        if self.header {
            clicked_crumb = self.header_ui(ui, state, &breadcrumb, palette);
        }

        let size = ui.available_size().max(vec2(64.0, 48.0));
        let (rect, response) = ui.allocate_exact_size(size, Sense::click_and_drag());
        if let Some(node) = clicked_crumb {
            self.zoom_to(ui, state, node);
        }
        self.interact(ui, state, &response, rect);

        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, CornerRadius::ZERO, palette.background);
        let hover_pos = if response.dragged() { None } else { response.hover_pos() };
        let hover = self.paint(ui, &painter, state, rect, hover_pos, palette);

        let mut clicked_node = None;
        let mut clicked_badge = None;
        if response.clicked() {
            response.request_focus();
            match hover {
                Some(Hover::Badge(b)) => clicked_badge = self.badges.get(b).map(|b| b.id),
                Some(Hover::Frame(node)) => {
                    clicked_node = Some(node);
                    self.zoom_to(ui, state, node);
                }
                Some(Hover::Run(run)) => state.animate_to((run.f0, run.f1)),
                None => {}
            }
        }
        if response.double_clicked() {
            state.scroll_y = 0.0;
            self.zoom_to(ui, state, 0);
        }
        if let Some(h) = hover {
            self.tooltip(ui, &response, h);
        }

        let hovered_node = match hover {
            Some(Hover::Frame(n)) => Some(n),
            _ => None,
        };
        let summary = self.summary(state, hovered_node);
        let name = self.name.to_owned();
        response.widget_info(|| WidgetInfo {
            current_text_value: Some(summary.clone()),
            ..WidgetInfo::labeled(egui::Role::Canvas, true, &name)
        });

        let mut breadcrumb = self.tree.path(state.zoom_node);
        breadcrumb.insert(0, 0);
        FlameGraphResponse {
            response,
            hovered_node,
            clicked_node,
            zoom_node: state.zoom_node,
            breadcrumb,
            clicked_badge,
            search: state.search.as_ref().map(|s| s.stats.clone()),
        }
    }

    fn zoom_to(&self, ui: &Ui, state: &mut FlameGraphState, node: u32) {
        let node = if (node as usize) < self.tree.nodes.len() { node } else { 0 };
        let Some(range) = state.node_fraction(node).or(Some((0.0, 1.0))) else { return };
        state.zoom_node = node;
        state.animate_to(range);
        // Bring the frame's row into view if the zoom target is scrolled away.
        let depth = self.tree.nodes.get(node as usize).map_or(0, |n| n.depth);
        let row = f32::from(depth) * ROW_H;
        let visible_h = ui.available_height().max(ROW_H);
        if row < state.scroll_y || row + ROW_H > state.scroll_y + visible_h {
            state.scroll_y = (row - visible_h * 0.25).max(0.0);
        }
    }

    /// Breadcrumb, search share and legend; returns the breadcrumb entry clicked.
    fn header_ui(
        &self,
        ui: &mut Ui,
        state: &FlameGraphState,
        crumbs: &[u32],
        palette: &FlamePalette,
    ) -> Option<u32> {
        // Long paths keep the root and the last few steps.
        const KEEP: usize = 4;
        let mut clicked = None;
        ui.horizontal(|ui| {
            ui.spacing_mut().item_spacing.x = 4.0;
            let skip = crumbs.len().saturating_sub(KEEP + 1);
            for (i, &node) in crumbs.iter().enumerate() {
                if i > 0 && i <= skip {
                    if i == 1 {
                        ui.weak("› …");
                    }
                    continue;
                }
                if i > 0 {
                    ui.weak("›");
                }
                let name = if node == 0 { "all" } else { funcname::display_name(self.tree.name(node)) };
                let last = i + 1 == crumbs.len();
                let text = egui::RichText::new(name).size(12.0);
                let button = egui::Button::new(if last { text.strong() } else { text }).frame(false);
                let r = ui.add(button).on_hover_text(self.tree.name(node));
                if r.clicked() && !last {
                    clicked = Some(node);
                }
            }
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                if self.tree.is_diff {
                    diff_legend_ui(ui, palette);
                } else {
                    legend_ui(ui, palette);
                }
                if let Some(s) = &state.search {
                    let share = format::percent(s.stats.matched_value as f64, s.stats.total_value as f64);
                    let text = if s.stats.matched_nodes == 0 {
                        format!("no frame matches “{}”", s.query)
                    } else {
                        format!(
                            "“{}”: {} frames, {} ({share})",
                            s.query,
                            format::count(s.stats.matched_nodes as i64),
                            self.unit.format(s.stats.matched_value)
                        )
                    };
                    ui.label(text);
                    let (r, _) = ui.allocate_exact_size(vec2(12.0, 12.0), Sense::hover());
                    ui.painter().rect_filled(r, CornerRadius::same(2), palette.search_match);
                }
            });
        });
        clicked
    }

    fn interact(&self, ui: &Ui, state: &mut FlameGraphState, response: &Response, rect: Rect) {
        let (dt, esc) = ui.input(|i| (f64::from(i.stable_dt).min(0.1), i.key_pressed(Key::Escape)));
        let focused = response.hovered() || response.has_focus();
        if esc && focused {
            state.scroll_y = 0.0;
            self.zoom_to(ui, state, 0);
        }
        let width = f64::from(rect.width().max(1.0));
        if response.dragged() {
            let d = response.drag_delta();
            let span = state.view.1 - state.view.0;
            state.view = clamp_view((
                state.view.0 - f64::from(d.x) / width * span,
                state.view.1 - f64::from(d.x) / width * span,
            ));
            state.target = None;
            let dy = match state.mode {
                FlameMode::Flame => d.y,
                FlameMode::Icicle => -d.y,
            };
            state.scroll_y += dy;
        }
        if response.hovered() {
            let (scroll, zoom) = ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta()));
            // Vertical wheel zooms (the common case for flamegraphs); horizontal wheel or
            // shift+wheel pans; pinch and ctrl+wheel zoom too.
            let factor = f64::from(zoom) * (f64::from(scroll.y) * 0.004).exp();
            let pointer =
                response.hover_pos().map_or(0.5, |p| f64::from((p.x - rect.left()) / rect.width().max(1.0)));
            if (factor - 1.0).abs() > 1e-9 || scroll.x != 0.0 {
                let base = state.target.unwrap_or(state.view);
                let span = base.1 - base.0;
                let new_span = (span / factor).clamp(MIN_SPAN, 1.0);
                let anchor = base.0 + pointer * span;
                let mut a = anchor - pointer * new_span;
                a -= f64::from(scroll.x) / width * new_span;
                state.view = clamp_view((a, a + new_span));
                state.target = None;
                ui.ctx().input_mut(|i| i.smooth_scroll_delta = Vec2::ZERO);
            }
        }
        if focused && let Some(node) = self.arrow_target(ui, state) {
            self.zoom_to(ui, state, node);
            ui.ctx().request_repaint();
        }
        if focused && let Some(nav) = KeyNav::read(ui) {
            // Around the pointer when it is over the graph, else around the middle.
            let pointer = response
                .hover_pos()
                .map_or(0.5, |p| f64::from(((p.x - rect.left()) / rect.width().max(1.0)).clamp(0.0, 1.0)));
            let base = state.target.unwrap_or(state.view);
            let span = base.1 - base.0;
            let new_span = (span / nav.zoom).clamp(MIN_SPAN, 1.0);
            let a = base.0 + pointer * span - pointer * new_span + nav.pan * new_span;
            state.view = clamp_view((a, a + new_span));
            state.target = None;
            ui.ctx().request_repaint();
        }
        if let Some(target) = state.target {
            let k = 1.0 - (-ZOOM_RATE * dt.max(1.0 / 120.0)).exp();
            let lerp = |a: f64, b: f64| a + (b - a) * k;
            let next = (lerp(state.view.0, target.0), lerp(state.view.1, target.1));
            let close =
                (next.0 - target.0).abs().max((next.1 - target.1).abs()) < (target.1 - target.0) * 1e-4;
            state.view = if close { target } else { next };
            if close {
                state.target = None;
            } else {
                ui.ctx().request_repaint();
            }
        }
        let content_h = (f32::from(state.layout.max_depth) + 1.0) * ROW_H;
        state.scroll_y = state.scroll_y.clamp(0.0, (content_h - rect.height()).max(0.0));
    }

    /// The frame an arrow key pressed this frame moves the zoom to (speedscope's frame
    /// navigation): toward the callees (its largest child), back to the caller, or to the
    /// previous or next sibling. Up and Down follow the picture: callees are above in a flame
    /// graph and below in an icicle. `None` without an arrow, at an edge, or while a text field
    /// has the keyboard.
    fn arrow_target(&self, ui: &Ui, state: &FlameGraphState) -> Option<u32> {
        if ui.ctx().egui_wants_keyboard_input() {
            return None;
        }
        let (up, down, left, right) = ui.input(|i| {
            (
                i.key_pressed(Key::ArrowUp),
                i.key_pressed(Key::ArrowDown),
                i.key_pressed(Key::ArrowLeft),
                i.key_pressed(Key::ArrowRight),
            )
        });
        let (deeper, shallower) = match state.mode {
            FlameMode::Flame => (up, down),
            FlameMode::Icicle => (down, up),
        };
        let at = state.zoom_node;
        let parent = self.tree.nodes.get(at as usize).map_or(0, |n| n.parent);
        if deeper {
            // The leftmost of equals: `max_by_key` keeps the last, so walk right to left.
            let children: Vec<u32> = self.tree.children(at).collect();
            return children
                .into_iter()
                .rev()
                .max_by_key(|&c| self.tree.nodes.get(c as usize).map_or(0, |n| n.total));
        }
        if shallower {
            return (at != 0).then_some(parent);
        }
        if (left || right) && at != 0 {
            let siblings: Vec<u32> = self.tree.children(parent).collect();
            let i = siblings.iter().position(|&c| c == at)?;
            let j = if right { i.checked_add(1)? } else { i.checked_sub(1)? };
            return siblings.get(j).copied();
        }
        None
    }

    /// Paints every visible frame; returns what is under `hover_pos`.
    fn paint(
        &self,
        ui: &Ui,
        painter: &Painter,
        state: &mut FlameGraphState,
        rect: Rect,
        hover_pos: Option<Pos2>,
        pal: &FlamePalette,
    ) -> Option<Hover> {
        let tree = self.tree;
        let font = FontId::proportional(FONT_SIZE);
        let (v0, v1) = state.view;
        let scale = f64::from(rect.width()) / (v1 - v0);
        let x_of = |f: f64| rect.left() + ((f - v0) * scale) as f32;
        let mode = state.mode;
        let scroll_y = state.scroll_y;
        let row_top = |depth: u16| match mode {
            FlameMode::Icicle => rect.top() + f32::from(depth) * ROW_H - scroll_y,
            FlameMode::Flame => rect.bottom() - (f32::from(depth) + 1.0) * ROW_H + scroll_y,
        };
        // Each badge's pill, laid out once: a frame's name leaves exactly its width free.
        let badge_font = FontId::proportional(10.0);
        let pills: Vec<Arc<Galley>> = self
            .badges
            .iter()
            .map(|b| painter.layout_no_wrap(b.label.clone(), badge_font.clone(), pal.badge_text))
            .collect();
        let badge_nodes: Vec<(u32, f32)> = {
            let mut v: Vec<(u32, f32)> = self
                .badges
                .iter()
                .zip(&pills)
                .map(|(b, g)| (b.node, g.size().x + PILL_PAD_X * 2.0 + PILL_MARGIN))
                .collect();
            v.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
            v
        };
        let badge_room = |node: u32| {
            badge_nodes
                .binary_search_by_key(&node, |&(n, _)| n)
                .ok()
                .and_then(|i| badge_nodes.get(i))
                .map(|&(_, w)| w)
        };

        let search = state.search.as_ref();
        let searching = search.is_some();
        let root_total = tree.root().map_or(0, |r| r.total);
        let diff_scale = tree.root().map_or(0, |r| r.total.max(r.baseline_total));
        let mut mesh = Mesh::default();
        let mut texts: Vec<(Pos2, Arc<Galley>, Color32)> = Vec::new();
        let mut hover: Option<Hover> = None;
        let mut hovered_rect = None;
        for run in &mut state.runs {
            *run = None;
        }

        let FrameLayout { start, width, family, label_widths, .. } = &mut state.layout;
        let runs = &mut state.runs;
        let flush = |run: Run, depth: u16, mesh: &mut Mesh, hover: &mut Option<Hover>| {
            let y = row_top(depth);
            let r = Rect::from_min_max(pos2(run.x0, y), pos2(run.x1.max(run.x0 + THIN_PX), y + ROW_H - GAP));
            let color = if run.matched {
                pal.search_match
            } else if searching {
                pal.search_dim
            } else {
                pal.thin
            };
            mesh.add_colored_rect(r, color);
            if hover.is_none() && hover_pos.is_some_and(|p| r.expand2(vec2(0.5, 0.0)).contains(p)) {
                *hover = Some(Hover::Run(run));
            }
        };

        let node_count = tree.nodes.len();
        let mut i = 0usize;
        while i < node_count {
            let Some(node) = tree.nodes.get(i) else { break };
            let end = (node.end as usize).max(i + 1);
            let depth = node.depth;
            let y = row_top(depth);
            // Deeper rows lie further from the root; once a row is beyond the canvas, so is
            // the whole subtree.
            let (beyond, hidden) = match mode {
                FlameMode::Icicle => (y > rect.bottom(), y + ROW_H < rect.top()),
                FlameMode::Flame => (y + ROW_H < rect.top(), y > rect.bottom()),
            };
            if beyond {
                i = end;
                continue;
            }
            let (Some(&s), Some(&w)) = (start.get(i), width.get(i)) else { break };
            if w <= 0.0 {
                i = end;
                continue;
            }
            let x0 = x_of(s);
            let x1 = x_of(s + w);
            if x1 < rect.left() || x0 > rect.right() {
                i = end;
                continue;
            }
            if hidden {
                i += 1;
                continue;
            }
            let matched_below = search.is_some_and(|c| c.subtree_match.get(i).copied().unwrap_or(false));
            let slot = runs.get_mut(usize::from(depth));
            if x1 - x0 < THIN_PX {
                if let Some(slot) = slot {
                    let value = node.total.max(node.baseline_total);
                    match slot {
                        Some(run) if x0 <= run.x1 + 0.5 => {
                            run.x1 = run.x1.max(x1);
                            run.f1 = s + w;
                            run.frames += 1;
                            run.value = run.value.saturating_add(value);
                            run.matched |= matched_below;
                        }
                        _ => {
                            if let Some(old) = slot.take() {
                                flush(old, depth, &mut mesh, &mut hover);
                            }
                            *slot = Some(Run {
                                x0,
                                x1,
                                f0: s,
                                f1: s + w,
                                frames: 1,
                                value,
                                matched: matched_below,
                            });
                        }
                    }
                }
                // Badged frames stay findable even when thin: the badge is drawn later.
                i = end;
                continue;
            }
            if let Some(slot) = slot
                && let Some(old) = slot.take()
            {
                flush(old, depth, &mut mesh, &mut hover);
            }

            let frame = Rect::from_min_max(pos2(x0, y), pos2(x1, y + ROW_H - GAP));
            let fill_rect = if x1 - x0 > 3.0 { frame.with_max_x(x1 - GAP) } else { frame };
            let self_match =
                search.is_some_and(|c| c.name_match.get(node.name.index()).copied().unwrap_or(false));
            let base = if tree.is_diff {
                diff_color(node, diff_scale, pal)
            } else if i == 0 {
                pal.root
            } else {
                family_color(family.get(node.name.index()).copied().unwrap_or((0, 0)), pal)
            };
            let fill = if !searching {
                base
            } else if self_match {
                pal.search_match
            } else {
                theme::mix(base, pal.search_dim, 0.75)
            };
            mesh.add_colored_rect(fill_rect.intersect(rect.expand(2.0)), fill);

            if hover_pos.is_some_and(|p| frame.contains(p)) {
                hover = Some(Hover::Frame(i as u32));
                hovered_rect = Some(fill_rect);
            }

            // Label in the visible part of the frame, so a frame wider than the view keeps its
            // name on screen.
            let vis0 = x0.max(rect.left());
            let vis1 = x1.min(rect.right());
            let mut avail = vis1 - vis0 - 2.0 * LABEL_PAD;
            if let Some(room) = badge_room(i as u32) {
                avail -= room;
            }
            if avail >= MIN_LABEL_PX - 2.0 * LABEL_PAD {
                let name = tree.names.resolve(node.name);
                let candidates = [name, funcname::display_name(name), funcname::short_name(name)];
                if let Some(widths) = label_widths.get_mut(node.name.index()) {
                    if widths[0].is_nan() {
                        for (w, c) in widths.iter_mut().zip(candidates) {
                            *w = text::width(painter, c, &font);
                        }
                    }
                    if let Some(galley) = text::best_fit(painter, &candidates, widths, &font, avail) {
                        let ty = y + (ROW_H - GAP - galley.size().y) * 0.5;
                        let color = pal.text_on(fill);
                        texts.push((pos2(vis0 + LABEL_PAD, ty), galley, color));
                    }
                }
            }
            i += 1;
        }
        for (depth, slot) in runs.iter_mut().enumerate() {
            if let Some(run) = slot.take() {
                flush(run, depth as u16, &mut mesh, &mut hover);
            }
        }

        painter.add(Shape::mesh(mesh));
        for (pos, galley, color) in texts {
            painter.galley(pos, galley, color);
        }
        if let Some(r) = hovered_rect {
            painter.rect_stroke(
                r,
                CornerRadius::ZERO,
                Stroke::new(1.5, pal.hover_outline),
                StrokeKind::Inside,
            );
        }

        // Badges go on top, and win the hover over the frame under them. A badge sits inside
        // its frame's visible part, at its right end: the name keeps the left. A frame too thin
        // for the pill gets a dot instead, so the pill never covers a neighbour's name; a frame
        // scrolled out of view shows nothing (its badge must not stick to the view's edge).
        for (badge_index, (badge, galley)) in self.badges.iter().zip(pills).enumerate() {
            let Some(node) = tree.nodes.get(badge.node as usize) else { continue };
            let (Some(&from), Some(&span)) = (start.get(badge.node as usize), width.get(badge.node as usize))
            else {
                continue;
            };
            let y = row_top(node.depth);
            if y + ROW_H < rect.top() || y > rect.bottom() || span <= 0.0 {
                continue;
            }
            let vis0 = x_of(from).max(rect.left());
            let vis1 = x_of(from + span).min(rect.right());
            if vis1 <= vis0 {
                continue;
            }
            let pill_w = galley.size().x + PILL_PAD_X * 2.0;
            let pill_h = ROW_H - GAP - 4.0;
            let shape = if vis1 - vis0 >= pill_w + PILL_MARGIN {
                let pill = Rect::from_min_size(pos2(vis1 - pill_w - 2.0, y + 2.0), vec2(pill_w, pill_h));
                painter.rect(
                    pill,
                    CornerRadius::same(7),
                    pal.badge_fill,
                    Stroke::new(1.0, pal.badge_text),
                    StrokeKind::Inside,
                );
                let ty = pill.center().y - galley.size().y * 0.5;
                painter.galley(pos2(pill.left() + PILL_PAD_X, ty), galley, pal.badge_text);
                pill
            } else {
                let radius = (pill_h * 0.3).max(2.5);
                let x = ((vis0 + vis1) * 0.5).clamp(rect.left() + radius, rect.right() - radius);
                let centre = pos2(x, y + (ROW_H - GAP) * 0.5);
                painter.circle(centre, radius, pal.badge_fill, Stroke::new(1.0, pal.badge_text));
                Rect::from_center_size(centre, vec2(2.0 * radius + 2.0, 2.0 * radius + 2.0))
            };
            if hover_pos.is_some_and(|p| shape.contains(p)) {
                hover = Some(Hover::Badge(badge_index));
            }
        }

        if root_total <= 0 && !tree.is_diff {
            painter.text(
                rect.center(),
                egui::Align2::CENTER_CENTER,
                "No stacks to show",
                FontId::proportional(14.0),
                ui.visuals().weak_text_color(),
            );
        }
        hover
    }

    fn tooltip(&self, ui: &Ui, response: &Response, hover: Hover) {
        let tooltip = Tooltip::always_open(
            ui.ctx().clone(),
            response.layer_id,
            response.id,
            egui::PopupAnchor::Pointer,
        )
        .gap(14.0)
        .accessible_name("Frame details");
        tooltip.show(|ui| {
            ui.set_max_width(520.0);
            match hover {
                Hover::Badge(b) => {
                    if let Some(badge) = self.badges.get(b) {
                        ui.strong(&badge.label);
                        ui.label(&badge.tooltip);
                        ui.weak("Click to open the finding");
                    }
                }
                Hover::Run(run) => {
                    let root = self.tree.root().map_or(0, |r| r.total.max(r.baseline_total));
                    ui.label(format!(
                        "{} frames too narrow to draw, {} ({} of all)",
                        format::count(i64::from(run.frames)),
                        self.unit.format(run.value),
                        format::percent(run.value as f64, root as f64)
                    ));
                    ui.weak("Click or scroll to zoom in");
                }
                Hover::Frame(node) => self.frame_tooltip_ui(ui, node),
            }
        });
    }

    fn frame_tooltip_ui(&self, ui: &mut Ui, node_index: u32) {
        let tree = self.tree;
        let Some(node) = tree.nodes.get(node_index as usize) else { return };
        let name = tree.name(node_index);
        ui.label(egui::RichText::new(name).monospace().strong());
        if let Some((file, line)) = self.locations.and_then(|l| l.location(node_index)) {
            let others = self.locations.map_or(0, |l| l.other_lines(node_index));
            let more = match others {
                0 => String::new(),
                1 => " (and 1 other line)".to_owned(),
                n => format!(" (and {n} other lines)"),
            };
            ui.label(egui::RichText::new(format!("{file}:{line}{more}")).monospace().weak());
        }
        let root = tree.root().copied();
        let parent = tree.nodes.get(node.parent as usize).copied();
        if tree.is_diff {
            let (after, before) = (node.total, node.baseline_total);
            let delta = after - before;
            let status = match (before, after) {
                (0, a) if a > 0 => "new",
                (b, 0) if b > 0 => "gone",
                _ if delta > 0 => "grew",
                _ if delta < 0 => "shrank",
                _ => "unchanged",
            };
            let rel = if before > 0 {
                format!(" ({:+.0}%)", 100.0 * delta as f64 / before as f64)
            } else {
                String::new()
            };
            ui.label(format!(
                "{status}: {} before, {} after",
                self.unit.format(before),
                self.unit.format(after)
            ));
            ui.label(format!("change {}{}{rel}", if delta > 0 { "+" } else { "" }, self.unit.format(delta)));
        } else {
            ui.label(self.unit.format(node.total));
            if node_index != 0 {
                let of_all = format::percent(node.total as f64, root.map_or(0, |r| r.total) as f64);
                let of_parent = format::percent(node.total as f64, parent.map_or(0, |p| p.total) as f64);
                ui.label(format!(
                    "{of_all} of all · {of_parent} of {}",
                    funcname::display_name(tree.name(node.parent))
                ));
            }
            if node.self_value > 0 && node.self_value != node.total {
                ui.label(format!("self {}", self.unit.format(node.self_value)));
            }
        }
        if let Some(badge) = self.badges.iter().find(|b| b.node == node_index) {
            ui.separator();
            ui.label(
                egui::RichText::new(format!("{}: {}", badge.label, badge.tooltip))
                    .color(ui.visuals().warn_fg_color),
            );
        }
        ui.weak("Click to zoom · double-click or Esc to reset");
    }

    /// The canvas's text value for screen readers: what is shown and what is under the pointer.
    fn summary(&self, state: &FlameGraphState, hovered: Option<u32>) -> String {
        let root = self.tree.root().map_or(0, |r| r.total);
        let mut s =
            format!("{} over {} frames", self.unit.format(root), format::count(self.tree.nodes.len() as i64));
        if state.zoom_node != 0 {
            let _ = write!(s, "; zoomed to {}", self.tree.name(state.zoom_node));
        }
        if !self.badges.is_empty() {
            let n = self.badges.len();
            let _ = write!(s, "; {n} leak badge{}", if n == 1 { "" } else { "s" });
        }
        if let Some(c) = &state.search {
            let _ = write!(
                s,
                "; search “{}” matches {} frames, {}",
                c.query,
                c.stats.matched_nodes,
                format::percent(c.stats.matched_value as f64, c.stats.total_value as f64)
            );
        }
        if let Some(h) = hovered.and_then(|h| self.tree.nodes.get(h as usize).map(|n| (h, n))) {
            let _ = write!(
                s,
                "; hovering {}: {} ({})",
                self.tree.name(h.0),
                self.unit.format(h.1.total),
                format::percent(h.1.total as f64, root as f64)
            );
        }
        s
    }
}

fn family_color((family, shade): (u8, u8), pal: &FlamePalette) -> Color32 {
    let pick =
        |list: &[Color32]| list.get(usize::from(shade) % list.len().max(1)).copied().unwrap_or(pal.root);
    match family {
        0 => pick(&pal.user),
        1 => pick(&pal.stdlib),
        _ => pick(&pal.runtime),
    }
}

/// Diff colour: grew, new, shrank and gone deepen with the size of the change as a share of the
/// whole (`scale`, the larger side of the root), as pprof and Grafana shade theirs: +400
/// goroutines of 1,000 is deep, +40 pale. A share relative to the frame itself would paint a
/// frame that went from 1 to 2 as deep as one that went from 400 to 800. The square root keeps
/// changes of a few percent visible.
fn diff_color(node: &FlameNode, scale: i64, pal: &FlamePalette) -> Color32 {
    let (after, before) = (node.total.max(0), node.baseline_total.max(0));
    let delta = after - before;
    if delta == 0 {
        return pal.diff_same;
    }
    let toward = match (before, after) {
        (0, _) => pal.diff_new,
        (_, 0) => pal.diff_gone,
        _ if delta > 0 => pal.diff_grew,
        _ => pal.diff_shrank,
    };
    theme::mix(pal.diff_same, toward, diff_depth(delta, scale))
}

/// How deep a change of `delta` out of `scale` is shaded, from 0.25 (tiny) to 1 (all of it).
fn diff_depth(delta: i64, scale: i64) -> f32 {
    let share = (delta.unsigned_abs() as f64 / scale.max(1) as f64).clamp(0.0, 1.0);
    (0.25 + 0.75 * share.sqrt()) as f32
}

fn swatch(ui: &mut Ui, color: Color32) -> Response {
    let (r, response) = ui.allocate_exact_size(vec2(12.0, 12.0), Sense::hover());
    ui.painter().rect_filled(r, CornerRadius::same(2), color);
    response
}

fn diff_legend_ui(ui: &mut Ui, pal: &FlamePalette) {
    // Right-to-left layout: the last entry is drawn first.
    for (label, color) in
        [("gone", pal.diff_gone), ("new", pal.diff_new), ("shrank", pal.diff_shrank), ("grew", pal.diff_grew)]
    {
        ui.label(label);
        swatch(ui, color);
    }
    // The shade scale: a small and a large growth side by side.
    let hover = "The deeper the colour, the larger the change as a share of the whole: +40 of 1,000 is pale, +400 deep";
    ui.weak("large").on_hover_text(hover);
    swatch(ui, theme::mix(pal.diff_same, pal.diff_grew, diff_depth(1, 1))).on_hover_text(hover);
    swatch(ui, theme::mix(pal.diff_same, pal.diff_grew, diff_depth(1, 25))).on_hover_text(hover);
    ui.weak("shade: small").on_hover_text(hover);
    ui.weak("width = larger side ·");
}

/// What the colours of a plain flamegraph mean: whose code a frame is (shades within a family
/// only tell neighbours apart).
fn legend_ui(ui: &mut Ui, pal: &FlamePalette) {
    // Right-to-left layout: the last entry is drawn first.
    for (label, list, hover) in [
        ("runtime", pal.runtime.as_slice(), "Go runtime and other runtime-internal frames"),
        ("std lib", pal.stdlib.as_slice(), "Standard library frames"),
        (
            "own code",
            pal.user.as_slice(),
            "The program's own code (main, module paths): one shade per package",
        ),
    ] {
        ui.label(label).on_hover_text(hover);
        swatch(ui, list.first().copied().unwrap_or(pal.root)).on_hover_text(hover);
    }
}
