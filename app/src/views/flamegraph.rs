//! The Flamegraph view: the active capture's stacks merged into a flame or icicle graph, with a
//! picker for what the widths count (goroutines, a profile's sample type, span self time), a
//! search that highlights and totals matching frames, and a badge on every frame where a leak
//! finding's goroutines wait. Clicking a badge opens the finding; a finding's "Flamegraph ▸"
//! link zooms here onto its frames. Where goroutines carry pprof labels, "Root at label" puts a
//! synthetic root frame per value of a chosen key above the goroutine stacks (pprof's
//! `-tagroot`). Every pane has pprof's focus / ignore / hide / show_from filters and, beside
//! the graph, the Top table and the sandwich of one function (`stack_tools.rs`).

use leakscope_core::format;
use std::fmt::Write as _;
use std::sync::Arc;

use egui::RichText;
use leakscope_core::Capture;
use leakscope_core::analysis::flame::FlameTree;
use leakscope_core::analysis::flame_locations::FlameLocations;
use leakscope_core::analysis::leaks::Finding;
use leakscope_core::analysis::stack_filter::FilterField;
use leakscope_core::model::StackId;

use super::stack_tools::{StackMode, StackTools, TopAction};
use super::{Focus, ViewCtx};
use crate::command::Command;
use crate::keys::SHORTCUT_SEARCH;
use crate::widgets::{FlameBadge, FlameGraph, FlameGraphState, FlameMode, ValueUnit};
use crate::workspace::{FlameSource, LoadedCapture, Workspace};

/// Badges per finding at most: a finding spread over many wait sites marks its largest few.
const BADGES_PER_FINDING: usize = 3;

/// UI state of the Flamegraph view.
#[derive(Default)]
pub struct FlamegraphView {
    pane: FlamePane,
}

/// Which tree a pane showed last, so zoom and caches reset when it changes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PaneKey {
    capture: String,
    source: FlameSource,
    nodes: usize,
    tag_root: Option<String>,
}

/// The label keys of the capture a pane shows and its goroutine tree rooted at one of them,
/// built once per change of capture or key, never per frame.
#[derive(Default)]
struct TaggedCache {
    capture: String,
    keys: Vec<String>,
    root: Option<String>,
    tree: Option<FlameTree>,
    locations: FlameLocations,
}

/// One flamegraph with its own zoom, search and source; the Compare view keeps one per side.
#[derive(Default)]
pub struct FlamePane {
    state: FlameGraphState,
    search: String,
    source: Option<FlameSource>,
    key: Option<PaneKey>,
    badges: Vec<FlameBadge>,
    hovered: Option<u32>,
    focus_search: bool,
    /// A focus to zoom to once the tree it refers to is on screen.
    pending_focus: Option<Vec<StackId>>,
    /// The whole tree's node the focus zooms to, once the shown tree (maybe filtered, with
    /// node ids of its own) is known; 0 shows the whole graph.
    pending_zoom: Option<u32>,
    /// Whether the stacks are Go's and the runtime's frames hidden by default (see
    /// `StackTools::bar_ui`), for the tree being drawn.
    go_runtime: Option<bool>,
    /// pprof's `-tagroot`: the label key whose values root the goroutine flamegraph.
    tag_root: Option<String>,
    tagged: TaggedCache,
    /// Filters, Top and sandwich over the pane's tree.
    tools: StackTools,
    /// A function right-clicked in the graph this frame, for the sandwich.
    sandwich_request: Option<String>,
    /// The chosen function's lines beside its code (pprof `list`).
    source_lines: super::source::SourcePane,
    /// Draw the stackless goroutines under a "(no stack: N)" frame instead of leaving them out.
    show_no_stack: bool,
    /// What the pane drew last, for exporting it as seen: the filtered tree when filters were
    /// on (the whole tree is re-derived from the fields above otherwise) and the zoomed frame.
    drawn: Option<(Option<Arc<FlameTree>>, u32)>,
    /// The whole tree's file:lines and badges carried onto the filtered tree, for the filtered
    /// tree they were made for (its address: a new filter makes a new tree).
    filtered_extras: Option<(usize, FlameLocations, Vec<FlameBadge>)>,
}

impl FlamePane {
    /// A capture's flamegraph, with the source picker and search above it.
    pub fn capture_ui(&mut self, ui: &mut egui::Ui, loaded: &LoadedCapture, name: &str) {
        self.capture_ui_with(ui, loaded, name, FlameMode::Flame, &mut Vec::new());
    }

    fn capture_ui_with(
        &mut self,
        ui: &mut egui::Ui,
        loaded: &LoadedCapture,
        name: &str,
        mode: FlameMode,
        out: &mut Vec<Command>,
    ) {
        let Some(default) = loaded.default_flame_source() else {
            ui.weak("This capture has no stacks to draw.");
            return;
        };
        let source = self.source.filter(|s| loaded.flame(*s).is_some()).unwrap_or(default);
        self.source = Some(source);
        let Some(flame) = loaded.flame(source) else { return };
        self.refresh_tagged(loaded);
        let tagged = std::mem::take(&mut self.tagged);
        let tagged_tree = tagged.tree.as_ref().filter(|_| source == FlameSource::Goroutines);
        let (tree, locations) = match flame.with_no_stack.as_deref() {
            Some((tree, locations)) if self.show_no_stack => (tree, locations),
            _ => (&flame.tree, &flame.locations),
        };
        let key = PaneKey {
            capture: loaded.name.clone(),
            source,
            nodes: tree.nodes.len(),
            tag_root: tagged_tree.and(self.tag_root.clone()),
        };
        if self.key.as_ref() != Some(&key) {
            self.state = FlameGraphState::new(mode);
            // Badges and focus find their frames by path from the root, which a tag root moves.
            self.badges = if source == FlameSource::Goroutines && tagged_tree.is_none() {
                finding_badges(&loaded.capture, tree, &loaded.analysis.findings)
            } else {
                Vec::new()
            };
            self.key = Some(key);
        }
        self.state.mode = mode;
        self.toolbar_ui(ui, loaded, name, (source == FlameSource::Goroutines).then_some(&tagged.keys[..]));
        if flame.no_stack != 0 && tagged_tree.is_none() {
            self.no_stack_ui(ui, flame.no_stack, &flame.unit, loaded.task_noun().plural());
        }
        if let Some(stacks) = self.pending_focus.take()
            && source == FlameSource::Goroutines
        {
            // A finding's focus shows the plain tree, where its path is.
            self.tag_root = None;
            self.pending_zoom = Some(common_node(&loaded.capture, tree, &stacks));
        }
        let (tree, locations) = match tagged_tree {
            Some(tree) => (tree, &tagged.locations),
            None => (tree, locations),
        };
        self.go_runtime = loaded.capture.is_go().then_some(source == FlameSource::Goroutines);
        let out_graph = self.tools_ui(ui, tree, locations, &flame.unit, name, Some((loaded, source)));
        self.tagged = tagged;
        if let Some(id) = out_graph {
            out.push(Command::ShowFinding(id as usize));
        }
    }

    /// The mode switch and filter bar, then the graph, Top, sandwich or source lines of `tree`
    /// through the filters (source lines only for one `capture`'s own stacks); returns the id
    /// of a badge clicked this frame.
    fn tools_ui(
        &mut self,
        ui: &mut egui::Ui,
        tree: &FlameTree,
        locations: &FlameLocations,
        unit: &ValueUnit,
        name: &str,
        capture: Option<(&LoadedCapture, FlameSource)>,
    ) -> Option<u64> {
        let mut tools = std::mem::take(&mut self.tools);
        tools.bar_ui(ui, self.go_runtime);
        // The pane's key names the tree the filters' caches were built over.
        let identity = format!("{:?}", self.key);
        let (filtered, changed) = tools.filtered(&identity, tree);
        let shown = filtered.as_deref().unwrap_or(tree);
        if changed {
            let mode = self.state.mode;
            self.state = FlameGraphState::new(mode);
        }
        self.drawn = Some((filtered.clone(), self.state.zoom_node()));
        // Node ids of a filtered tree are its own: the whole tree's file:lines and badges are
        // carried over through the nodes each filtered node stands for.
        let filtered_extras = filtered.as_ref().map(|f| {
            let id = Arc::as_ptr(f) as usize;
            match self.filtered_extras.take() {
                Some(extras) if extras.0 == id => extras,
                _ => {
                    let origins = f.origins(tree);
                    (id, locations.remapped(&origins), carried_badges(&self.badges, &origins, f))
                }
            }
        });
        if let Some(node) = self.pending_zoom.take() {
            // The filtered tree's node standing for the whole tree's, as badges are carried.
            let node = match &filtered {
                Some(f) if node != 0 => carried_node(&f.origins(tree), node, f).unwrap_or(0),
                _ => node,
            };
            if node == 0 { self.state.reset() } else { self.state.zoom_to(node) }
        }
        // A sandwich or a listing with nothing picked yet opens on the function with the most
        // self value (pprof's top of -top), rather than on an empty pane.
        if matches!(tools.mode, StackMode::Sandwich | StackMode::Source)
            && tools.sandwich_func.is_none()
            && self.source_lines.function().is_none()
        {
            tools.sandwich_func = leakscope_core::analysis::top::top_of_tree(shown)
                .0
                .into_iter()
                .filter(|f| f.flat > 0)
                .max_by(|a, b| a.flat.cmp(&b.flat).then_with(|| b.function.cmp(&a.function)))
                .map(|f| f.function);
        }
        let mut clicked_badge = None;
        match tools.mode {
            StackMode::Graph => {
                clicked_badge = match &filtered_extras {
                    Some((_, locations, badges)) => {
                        let whole = std::mem::replace(&mut self.badges, badges.clone());
                        let clicked = self.graph_ui(ui, shown, unit, locations, name);
                        self.badges = whole;
                        clicked
                    }
                    None => self.graph_ui(ui, shown, unit, locations, name),
                };
            }
            StackMode::Top => match tools.top_ui(ui, shown, unit, name) {
                Some(TopAction::Focus(func)) => {
                    tools.mode = StackMode::Graph;
                    let node = shown
                        .nodes
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| shown.name(i as u32) == func)
                        .max_by_key(|(_, n)| n.total)
                        .map_or(0, |(i, _)| i as u32);
                    self.state.zoom_to(node);
                    self.search = func;
                }
                Some(TopAction::Sandwich(func)) => {
                    tools.mode = StackMode::Sandwich;
                    tools.sandwich_func = Some(func);
                }
                None => {}
            },
            StackMode::Sandwich => tools.sandwich_ui(ui, shown, unit, name),
            StackMode::Source => match capture {
                Some((loaded, source)) => {
                    if let Some(func) = &tools.sandwich_func {
                        self.source_lines.show_function(func);
                    }
                    self.source_lines.ui(ui, loaded, source);
                }
                None => {
                    ui.weak("Source lines are read from one capture: open it on its own to list a function's lines.");
                }
            },
        }
        if let Some(func) = self.sandwich_request.take() {
            tools.mode = StackMode::Sandwich;
            tools.sandwich_func = Some(func);
        }
        self.tools = tools;
        self.filtered_extras = filtered_extras;
        clicked_badge
    }

    /// The goroutines with no stack: how many were left out, and a toggle to draw them.
    fn no_stack_ui(&mut self, ui: &mut egui::Ui, no_stack: i64, unit: &ValueUnit, noun: &str) {
        ui.horizontal_wrapped(|ui| {
            ui.checkbox(&mut self.show_no_stack, "Show those with no stack").on_hover_text(format!(
                "The capture recorded no stack for some {noun}: an execution trace records stacks only at some events (a goroutine created or blocking during it), and these had none. Shown, they are one frame named \"(no stack: N)\"."
            ));
            if !self.show_no_stack {
                ui.weak(format!("{} with no stack left out", unit.format(no_stack)));
            }
        });
    }

    /// Rebuilds the label keys when the capture changes and the rooted tree when the key does.
    fn refresh_tagged(&mut self, loaded: &LoadedCapture) {
        if self.tagged.capture != loaded.name {
            self.tagged = TaggedCache {
                capture: loaded.name.clone(),
                keys: FlameTree::label_keys(&loaded.capture),
                ..TaggedCache::default()
            };
        }
        if self.tag_root.as_ref().is_some_and(|k| !self.tagged.keys.contains(k)) {
            self.tag_root = None;
        }
        if self.tagged.root != self.tag_root {
            self.tagged.tree =
                self.tag_root.as_deref().map(|k| FlameTree::goroutines_by_label(&loaded.capture, k));
            self.tagged.root.clone_from(&self.tag_root);
        }
    }

    fn toolbar_ui(
        &mut self,
        ui: &mut egui::Ui,
        loaded: &LoadedCapture,
        pane: &str,
        label_keys: Option<&[String]>,
    ) {
        ui.horizontal(|ui| {
            if loaded.flames.len() > 1 {
                let current = self.source.and_then(|s| loaded.flame(s)).map_or("", |f| f.label.as_str());
                // Each side of the Compare view has its own: ids apart by the pane's name.
                egui::ComboBox::new(("flame-widths", pane), "Widths count").selected_text(current).show_ui(
                    ui,
                    |ui| {
                        for flame in &loaded.flames {
                            ui.selectable_value(&mut self.source, Some(flame.source), &flame.label);
                        }
                    },
                );
            } else if let Some(flame) = loaded.flames.first() {
                ui.label(format!("Widths count {}", flame.label));
            }
            if let Some(keys) = label_keys.filter(|k| !k.is_empty()) {
                ui.separator();
                let current = self.tag_root.as_deref().unwrap_or("none");
                egui::ComboBox::new(("flame-tag-root", pane), "Root at label")
                    .selected_text(current)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.tag_root, None, "none");
                        for key in keys {
                            ui.selectable_value(&mut self.tag_root, Some(key.clone()), key);
                        }
                    });
            }
            ui.separator();
            self.search_ui(ui);
        });
    }

    fn search_ui(&mut self, ui: &mut egui::Ui) {
        let edit = ui.add(
            egui::TextEdit::singleline(&mut self.search)
                .hint_text("Search functions (Ctrl+F)")
                .desired_width(260.0),
        );
        super::name_text_field(&edit, "Search functions", &self.search);
        if std::mem::take(&mut self.focus_search) {
            edit.request_focus();
        }
        if !self.search.is_empty() && ui.small_button("×").on_hover_text("Clear the search").clicked() {
            self.search.clear();
        }
        if self.state.zoom_node() != 0 && ui.button("Reset zoom").clicked() {
            self.state.reset();
        }
    }

    /// Draws the tree; returns the id of a badge clicked this frame.
    fn graph_ui(
        &mut self,
        ui: &mut egui::Ui,
        tree: &FlameTree,
        unit: &ValueUnit,
        locations: &FlameLocations,
        name: &str,
    ) -> Option<u64> {
        // The hovered frame's line sits at the bottom, so it is laid out before the canvas
        // takes the rest.
        let mut clicked_badge = None;
        egui::Panel::bottom(ui.scope_id().with(("flame-hover", name))).show_separator_line(false).show(ui, |ui| {
            let text = self.hovered.map_or_else(
                || "Click a frame to zoom in, Esc or a breadcrumb to zoom out; scroll to zoom, drag to pan.".to_owned(),
                |node| hover_line(tree, unit, locations, node),
            );
            ui.label(RichText::new(text).weak());
        });
        egui::CentralPanel::no_frame().show(ui, |ui| {
            let out = FlameGraph::new(tree)
                .unit(unit.clone())
                .search(&self.search)
                .badges(&self.badges)
                .locations(locations)
                .accessible_name(name)
                .show(ui, &mut self.state);
            self.hovered = out.hovered_node;
            clicked_badge = out.clicked_badge;
            // speedscope's way into the sandwich: right-click a frame.
            if out.response.secondary_clicked()
                && let Some(node) = out.hovered_node.filter(|&n| n != 0)
            {
                self.sandwich_request = Some(tree.name(node).to_owned());
            }
        });
        clicked_badge
    }

    /// A diff flamegraph: widths by the larger side, colour by growth.
    pub fn diff_ui(
        &mut self,
        ui: &mut egui::Ui,
        tree: &FlameTree,
        locations: &FlameLocations,
        unit: &ValueUnit,
        name: &str,
        go_runtime: Option<bool>,
    ) {
        let key = PaneKey {
            capture: name.to_owned(),
            source: FlameSource::Goroutines,
            nodes: tree.nodes.len(),
            tag_root: None,
        };
        if self.key.as_ref() != Some(&key) {
            self.state = FlameGraphState::new(FlameMode::Flame);
            self.key = Some(key);
        }
        ui.horizontal(|ui| self.search_ui(ui));
        self.go_runtime = go_runtime;
        self.tools_ui(ui, tree, locations, unit, name, None);
    }
}

impl FlamegraphView {
    /// The flamegraph of `loaded` as this view last drew it (its source, label root, filters
    /// and zoom) as a standalone SVG, with a file name; the capture's default flamegraph when
    /// the view has not drawn this capture.
    pub fn svg(&self, loaded: &LoadedCapture) -> Option<(String, String)> {
        let pane = &self.pane;
        let drew_this = pane.key.as_ref().is_some_and(|k| k.capture == loaded.name);
        let source = pane.source.filter(|_| drew_this).or_else(|| loaded.default_flame_source())?;
        let flame = loaded.flame(source)?;
        let mut title = format!("{}: {}", loaded.name, flame.label);
        let mut stem = super::file_stem(&loaded.name);
        if !drew_this {
            return Some((
                format!("{stem}.svg"),
                leakscope_core::export::tree_svg(&flame.tree, &title, &flame.label),
            ));
        }
        let tagged = pane
            .tagged
            .tree
            .as_ref()
            .filter(|_| source == FlameSource::Goroutines && pane.tagged.capture == loaded.name);
        let base = match (tagged, flame.with_no_stack.as_deref()) {
            (Some(tree), _) => tree,
            (None, Some((tree, _))) if pane.show_no_stack => tree,
            _ => &flame.tree,
        };
        if let Some(key) = pane.tagged.root.as_ref().filter(|_| tagged.is_some()) {
            let _ = write!(title, ", rooted at label {key}");
        }
        let (filtered, zoom) = pane.drawn.clone().unwrap_or((None, 0));
        let shown = filtered.as_deref().unwrap_or(base);
        for field in FilterField::ALL {
            let pattern = pane.tools.spec.field(field);
            if !pattern.is_empty() && filtered.is_some() {
                let _ = write!(title, ", {}={pattern}", field.name());
            }
        }
        if zoom != 0 && (zoom as usize) < shown.nodes.len() {
            let _ = write!(title, ", zoomed to {}", shown.name(zoom));
            stem.push_str("-zoomed");
        }
        let tree = shown.zoomed(zoom);
        Some((format!("{stem}.svg"), leakscope_core::export::tree_svg(&tree, &title, &flame.label)))
    }

    /// Shows the graph with `text` searched (and so highlighted, with its share said).
    pub fn search_for(&mut self, text: &str) {
        text.clone_into(&mut self.pane.search);
        self.pane.tools.mode = StackMode::Graph;
    }

    /// Zooms to the focus: the frame all its goroutines share, down to their own code.
    pub fn on_focus(&mut self, focus: Option<&Focus>, _ws: &Workspace) {
        self.pane.pending_focus = Some(focus.map(|f| f.stacks.clone()).unwrap_or_default());
    }

    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let Some(loaded) = ctx.ws.active() else { return };
        if ui.input_mut(|i| i.consume_shortcut(&SHORTCUT_SEARCH)) {
            self.pane.focus_search = true;
        }
        let mode = if ctx.state.flame.icicle { FlameMode::Icicle } else { FlameMode::Flame };
        ui.horizontal(|ui| {
            ui.selectable_value(&mut ctx.state.flame.icicle, false, "Flame")
                .on_hover_text("Root at the bottom, callees stacked upward");
            ui.selectable_value(&mut ctx.state.flame.icicle, true, "Icicle")
                .on_hover_text("Root at the top, callees hanging downward");
            ui.separator();
            let badges = self.pane.badges.len();
            if badges > 0 {
                ui.label(format!(
                    "{} leak badge{} — click one to open its finding",
                    format::count(badges as u64),
                    plural(badges)
                ));
            }
        });
        let mut commands = Vec::new();
        let name = format!("Flamegraph of {}", loaded.name);
        self.pane.capture_ui_with(ui, loaded, &name, mode, &mut commands);
        for c in commands {
            ctx.commands.send(c);
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// "main.worker — 1,204 goroutines (38.2 %) · worker.go:42 (+2 other lines)".
fn hover_line(tree: &FlameTree, unit: &ValueUnit, locations: &FlameLocations, node: u32) -> String {
    let Some(n) = tree.nodes.get(node as usize) else { return String::new() };
    let total = tree.root().map_or(0, |r| r.total).max(1);
    let mut text = format!(
        "{} — {} ({:.1} %), self {}",
        tree.name(node),
        unit.format(n.total),
        n.total as f64 * 100.0 / total as f64,
        unit.format(n.self_value)
    );
    if let Some((file, line)) = locations.location(node) {
        let _ = write!(text, " · {file}:{line}");
        let others = locations.other_lines(node);
        if others > 0 {
            let _ = write!(text, " (+{others} other line{})", plural(others as usize));
        }
    }
    text
}

/// The node of a stack's own code: the path of the stack's functions from the root, cut at the
/// capture's user frame (runtime frames below it are where it waits, not what leaks).
fn user_node(capture: &Capture, tree: &FlameTree, stack: StackId) -> Option<u32> {
    let funcs: Vec<&str> = capture.stack_funcs(stack).collect();
    let leaf = tree.find_path(funcs.iter().rev().copied())?;
    let Some(user) = capture.user_frame(stack).map(|f| capture.func_name(f)) else { return Some(leaf) };
    let mut node = leaf;
    while node != 0 && tree.name(node) != user {
        node = tree.nodes.get(node as usize).map_or(0, |n| n.parent);
    }
    Some(if node == 0 { leaf } else { node })
}

/// The deepest node on the path of every stack's own code (0, the root, when they share none).
fn common_node(capture: &Capture, tree: &FlameTree, stacks: &[StackId]) -> u32 {
    let mut paths = stacks.iter().filter_map(|&s| user_node(capture, tree, s)).map(|n| tree.path(n));
    let Some(mut common) = paths.next() else { return 0 };
    for path in paths {
        let shared = common.iter().zip(&path).take_while(|(a, b)| a == b).count();
        common.truncate(shared);
    }
    common.last().copied().unwrap_or(0)
}

/// The badges of the whole tree on a tree whose nodes stand for its nodes (`origins`): each on
/// the heaviest node standing for its frame; a badge whose frame was filtered out is dropped.
fn carried_badges(badges: &[FlameBadge], origins: &[u32], to: &FlameTree) -> Vec<FlameBadge> {
    badges
        .iter()
        .filter_map(|b| Some(FlameBadge { node: carried_node(origins, b.node, to)?, ..b.clone() }))
        .collect()
}

/// The heaviest node of `to` standing for node `node` of the whole tree (`origins`: see
/// `FlameTree::origins`); `None` when a filter removed it.
fn carried_node(origins: &[u32], node: u32, to: &FlameTree) -> Option<u32> {
    (0..origins.len())
        .filter(|&i| origins.get(i) == Some(&node))
        .max_by_key(|&i| to.nodes.get(i).map_or(0, |n| n.total))
        .map(|i| i as u32)
}

/// One badge per finding and frame where its goroutines wait in their own code, for the
/// largest few of its stacks. The badge id is the finding's index.
fn finding_badges(capture: &Capture, tree: &FlameTree, findings: &[Finding]) -> Vec<FlameBadge> {
    let mut out: Vec<FlameBadge> = Vec::new();
    for (i, finding) in findings.iter().enumerate() {
        let mut nodes: Vec<u32> =
            finding.stacks.iter().filter_map(|&s| user_node(capture, tree, s)).collect();
        nodes.sort_by_key(|&n| std::cmp::Reverse(tree.nodes.get(n as usize).map_or(0, |x| x.total)));
        nodes.dedup();
        for node in nodes.into_iter().take(BADGES_PER_FINDING) {
            if out.iter().any(|b| b.node == node) {
                continue;
            }
            out.push(FlameBadge {
                node,
                label: finding.rule.id().to_owned(),
                tooltip: format!(
                    "{} ({})",
                    finding.title,
                    super::findings::severity_badge(finding).to_lowercase()
                ),
                id: i as u64,
            });
        }
    }
    out
}
