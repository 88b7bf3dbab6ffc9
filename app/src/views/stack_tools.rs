//! What every stack view shares beside the flamegraph itself: pprof's filter bar (focus,
//! ignore, hide, show_from), the Top table (`pprof -top`: flat and cum per function, sortable)
//! and speedscope's sandwich (one function's callers above, its callees below). The trees
//! and lists come from core (`FlameTree::filtered`, `top_of_tree`, `callers`, `callees`);
//! this module caches them per tree and filter, so a frame only draws.

use std::fmt::Write as _;
use std::sync::Arc;

use egui::{RichText, Sense};
use egui_extras::{Column, TableBuilder};
use leakscope_core::analysis::flame::FlameTree;
use leakscope_core::analysis::stack_filter::{FilterError, FilterField, FilterSpec, StackFilter};
use leakscope_core::analysis::top::{self, TopFunction};
use leakscope_core::model::funcname;

use crate::theme::Palette;
use crate::widgets::{FlameGraph, FlameGraphState, FlameMode, ValueUnit};

/// Row height of the Top table.
const ROW_HEIGHT: f32 = 20.0;

/// What a stack pane shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StackMode {
    /// The flamegraph.
    #[default]
    Graph,
    /// The Top table.
    Top,
    /// The sandwich of one function.
    Sandwich,
    /// The lines of the sandwich's function beside its code (pprof `list`).
    Source,
}

/// The Top table's sort column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TopSort {
    /// By flat value (pprof's default).
    #[default]
    Flat,
    /// By cumulative value.
    Cum,
    /// By function name.
    Function,
    /// By growth of flat against the baseline (diff trees).
    DeltaFlat,
    /// By growth of cum against the baseline (diff trees).
    DeltaCum,
}

/// What the user asked for in the Top table this frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopAction {
    /// Show this function in the flamegraph.
    Focus(String),
    /// Show this function's sandwich.
    Sandwich(String),
}

/// The Top list of the shown tree, with the row order of the current sort.
struct TopCache {
    functions: Vec<TopFunction>,
    total: i64,
    /// Whether the tree is a diff: the percent columns then give the change against the
    /// baseline, as `pprof -top -diff_base` does.
    diff: bool,
    /// Indices into `functions` in display order.
    order: Vec<usize>,
    sorted_by: Option<(TopSort, bool)>,
}

/// A sandwich's two trees, for one function.
struct SandwichCache {
    func: String,
    callers: FlameTree,
    callees: FlameTree,
}

/// The filter bar, the mode, and what they derive from the pane's tree, rebuilt only when the
/// tree (its identity) or the patterns change.
#[derive(Default)]
pub struct StackTools {
    /// Graph, Top or Sandwich.
    pub mode: StackMode,
    /// The patterns as typed.
    pub spec: FilterSpec,
    /// The function the sandwich shows.
    pub sandwich_func: Option<String>,
    /// The Top table's sort column and direction.
    pub sort: TopSort,
    /// Smallest first; off by default, since a top list reads largest first.
    ascending: bool,
    errors: Vec<FilterError>,
    filter: StackFilter,
    compiled: Option<FilterSpec>,
    /// The identity and patterns the caches below were built for.
    built_for: Option<(String, FilterSpec)>,
    /// Shared with the frame that draws it, which also needs `self` mutably.
    filtered: Option<Arc<FlameTree>>,
    top: Option<TopCache>,
    sandwich: Option<SandwichCache>,
    callers_state: FlameGraphState,
    callees_state: FlameGraphState,
    /// The user's choice of hiding the runtime frames Go's dumps leave out; `None` follows the
    /// pane's default (see [`Self::bar_ui`]).
    runtime_choice: Option<bool>,
}

impl StackTools {
    /// Whether the shown stacks are narrowed by a valid, non-empty filter.
    pub fn is_filtering(&self) -> bool {
        !self.filter.is_empty()
    }

    /// The mode switch (Graph, Top, Sandwich).
    fn mode_ui(&mut self, ui: &mut egui::Ui) {
        ui.selectable_value(&mut self.mode, StackMode::Graph, "Graph")
            .on_hover_text("Stacks merged by function");
        ui.selectable_value(&mut self.mode, StackMode::Top, "Top")
            .on_hover_text("Functions by flat and cumulative value, as pprof -top");
        ui.selectable_value(&mut self.mode, StackMode::Sandwich, "Sandwich").on_hover_text(
            "One function's callers above and callees below (pick it in Top, or right-click a frame)",
        );
        ui.selectable_value(&mut self.mode, StackMode::Source, "Source").on_hover_text(
            "The same function's lines with their flat and cum values beside its code, as pprof list",
        );
    }

    /// The mode switch and the four pattern fields, wrapped on narrow windows; an invalid
    /// pattern turns red and its error is shown under them. `go_runtime` is `None` for stacks
    /// that are not Go's, else whether the runtime's own frames are hidden until the user
    /// says otherwise: yes for goroutine stacks, so a profile or a trace reads as the same
    /// program's dump (which never prints them), no for samples, where `runtime.mallocgc` or
    /// the GC's workers are where the time goes.
    pub fn bar_ui(&mut self, ui: &mut egui::Ui, go_runtime: Option<bool>) {
        let palette = Palette::of(ui);
        ui.horizontal_wrapped(|ui| {
            self.mode_ui(ui);
            ui.separator();
            for field in FilterField::ALL {
                let error = self.errors.iter().find(|e| e.field == field);
                let (label, hint, help) = field_texts(field);
                ui.label(label).on_hover_text(help);
                let text = self.spec.field_mut(field);
                let mut edit = egui::TextEdit::singleline(text).hint_text(hint).desired_width(120.0);
                if error.is_some() {
                    edit = edit.text_color(palette.error);
                }
                let response = ui.add(edit).on_hover_text(help);
                super::name_text_field(&response, &format!("{label} regex"), self.spec.field(field));
            }
            match go_runtime {
                Some(default) => {
                    let mut hide = self.runtime_choice.unwrap_or(default);
                    let toggle = ui.checkbox(&mut hide, "Hide runtime").on_hover_text(
                        "Leave out the runtime's own frames (runtime.gopark, runtime.chanrecv, runtime.goexit) as Go's goroutine dumps do, their value going to their callers. Exported runtime functions (runtime.Gosched) stay. A stack of runtime frames only (GC workers, the sweeper) becomes one frame, \"(runtime only)\".",
                    );
                    if toggle.changed() {
                        self.runtime_choice = Some(hide);
                    }
                    self.spec.hide_runtime = hide;
                }
                None => self.spec.hide_runtime = false,
            }
            let typed = FilterField::ALL.iter().any(|&f| !self.spec.field(f).trim().is_empty());
            if typed && ui.small_button("Clear filters").clicked() {
                self.spec = FilterSpec { hide_runtime: self.spec.hide_runtime, ..FilterSpec::default() };
            }
        });
        self.compile();
        for e in &self.errors {
            ui.label(RichText::new(format!("Invalid {e}")).color(palette.error));
        }
    }

    /// Recompiles the patterns when they changed. An invalid pattern leaves the others in
    /// force, so typing an unfinished regex does not blank the view.
    fn compile(&mut self) {
        if self.compiled.as_ref() == Some(&self.spec) {
            return;
        }
        match StackFilter::new(&self.spec) {
            Ok(filter) => {
                self.filter = filter;
                self.errors.clear();
            }
            Err(errors) => {
                let mut valid = self.spec.clone();
                for e in &errors {
                    valid.field_mut(e.field).clear();
                }
                self.filter = StackFilter::new(&valid).unwrap_or_default();
                self.errors = errors;
            }
        }
        self.compiled = Some(self.spec.clone());
    }

    /// The filtered tree to show instead of `tree`, or `None` when no filter is on; and
    /// whether the filter changed since the last call (the caller then resets its zoom,
    /// whose node ids belong to the old tree).
    pub fn filtered(&mut self, identity: &str, tree: &FlameTree) -> (Option<Arc<FlameTree>>, bool) {
        self.compile();
        let valid = self.compiled.clone().unwrap_or_default();
        let fresh = self.built_for.as_ref().is_some_and(|(id, spec)| id == identity && *spec == valid);
        // A new tree resets its pane's zoom already; only a new filter on the same tree is news.
        let refiltered = self.built_for.as_ref().is_some_and(|(_, spec)| *spec != valid);
        if !fresh {
            self.filtered = (!self.filter.is_empty()).then(|| Arc::new(tree.filtered(&self.filter)));
            self.top = None;
            self.sandwich = None;
            self.built_for = Some((identity.to_owned(), valid));
        }
        (self.filtered.clone(), refiltered)
    }

    /// The Top table of `tree` (the tree shown: [`Self::filtered`]'s, or the whole one).
    pub fn top_ui(
        &mut self,
        ui: &mut egui::Ui,
        tree: &FlameTree,
        unit: &ValueUnit,
        name: &str,
    ) -> Option<TopAction> {
        let cache = self.top.get_or_insert_with(|| {
            let (functions, total) = top::top_of_tree(tree);
            TopCache { functions, total, diff: tree.is_diff, order: Vec::new(), sorted_by: None }
        });
        let diff = cache.diff;
        let palette = Palette::of(ui);
        if !diff && matches!(self.sort, TopSort::DeltaFlat | TopSort::DeltaCum) {
            self.sort = TopSort::Flat;
        }
        let descending = !self.ascending;
        if cache.sorted_by != Some((self.sort, descending)) {
            sort_top(cache, self.sort, descending);
        }
        ui.weak(format!(
            "{} functions, total {}{}. Click a row to show it in the flamegraph, S for its sandwich (callers and callees).",
            leakscope_core::format::count(cache.functions.len() as u64),
            unit.format(cache.total),
            if diff { " after; Δ is after minus before" } else { "" }
        ));
        ui.style_mut().interaction.selectable_labels = false;
        let mut action = None;
        let mut sort_clicked = None;
        let total = cache.total.max(1) as f64;
        let mut running = 0i64;
        // sum% is the running share of the rows above in the shown order, as pprof prints it;
        // worked out once per frame over the order, not per visible row.
        let sums: Vec<i64> = cache
            .order
            .iter()
            .map(|&i| {
                running = running.saturating_add(cache.functions.get(i).map_or(0, |f| f.flat));
                running
            })
            .collect();
        // A change with its sign and unit ("+1.43 MiB") needs more room than a percentage.
        let change_column = if diff { Column::exact(96.0) } else { Column::exact(64.0) };
        TableBuilder::new(ui)
            .id_salt(("top-table", name))
            .striped(true)
            .sense(Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(110.0).at_least(70.0))
            .column(change_column)
            .column(Column::exact(64.0))
            .column(Column::initial(110.0).at_least(70.0))
            .column(change_column)
            .column(Column::exact(24.0))
            .column(Column::remainder().at_least(160.0).clip(true))
            .auto_shrink([false, false])
            .header(24.0, |mut header| {
                let (flat_pct, cum_pct) = if diff {
                    ((Some(TopSort::DeltaFlat), "Δ flat"), (Some(TopSort::DeltaCum), "Δ cum"))
                } else {
                    ((None, "Flat %"), (None, "Cum %"))
                };
                for (column, label) in [
                    (Some(TopSort::Flat), "Flat"),
                    flat_pct,
                    (None, "Sum %"),
                    (Some(TopSort::Cum), "Cum"),
                    cum_pct,
                    (None, ""),
                    (Some(TopSort::Function), "Function"),
                ] {
                    header.col(|ui| {
                        let Some(column) = column else {
                            ui.label(RichText::new(label).strong());
                            return;
                        };
                        let arrow = match (self.sort == column, descending) {
                            (true, true) => " ▼",
                            (true, false) => " ▲",
                            (false, _) => "",
                        };
                        let button = ui.add(
                            egui::Button::new(RichText::new(format!("{label}{arrow}")).strong()).frame(false),
                        );
                        let name = format!("Sort Top by {label}");
                        button.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
                        if button.clicked() {
                            sort_clicked = Some(column);
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, cache.order.len(), |mut row| {
                    let at = row.index();
                    let Some(f) = cache.order.get(at).and_then(|&i| cache.functions.get(i)) else { return };
                    let pct = |v: i64| format!("{:.1}%", v as f64 * 100.0 / total);
                    row.col(|ui| {
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            ui.label(RichText::new(unit.format(f.flat)).monospace());
                        });
                    });
                    let delta = |ui: &mut egui::Ui, after: i64, before: i64| {
                        let d = after.saturating_sub(before);
                        let text = if d > 0 { format!("+{}", unit.format(d)) } else { unit.format(d) };
                        let color = match d.signum() {
                            1 => palette.grew,
                            -1 => palette.shrank,
                            _ => ui.visuals().weak_text_color(),
                        };
                        ui.label(RichText::new(text).monospace().color(color));
                    };
                    row.col(|ui| {
                        if diff {
                            delta(ui, f.flat, f.base_flat);
                        } else {
                            ui.label(RichText::new(pct(f.flat)).monospace());
                        }
                    });
                    row.col(|ui| {
                        ui.label(RichText::new(pct(sums.get(at).copied().unwrap_or(0))).monospace().weak());
                    });
                    row.col(|ui| {
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            ui.label(RichText::new(unit.format(f.cum)).monospace());
                        });
                    });
                    row.col(|ui| {
                        if diff {
                            delta(ui, f.cum, f.base_cum);
                        } else {
                            ui.label(RichText::new(pct(f.cum)).monospace());
                        }
                    });
                    row.col(|ui| {
                        let b = ui.small_button("S").on_hover_text("Sandwich: its callers and callees");
                        let name = format!("Sandwich of {}", f.function);
                        b.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
                        if b.clicked() {
                            action = Some(TopAction::Sandwich(f.function.clone()));
                        }
                    });
                    row.col(|ui| {
                        ui.label(RichText::new(funcname::display_name(&f.function)).monospace())
                            .on_hover_text(&f.function);
                    });
                    let response = row.response();
                    let mut name = format!("Top row: {}, flat {}, cum {}", f.function, f.flat, f.cum);
                    if diff {
                        let _ = write!(name, "; before: flat {}, cum {}", f.base_flat, f.base_cum);
                    }
                    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Row, true, &name));
                    if response.clicked() && action.is_none() {
                        action = Some(TopAction::Focus(f.function.clone()));
                    }
                });
            });
        if let Some(column) = sort_clicked {
            if self.sort == column {
                self.ascending = !self.ascending;
            } else {
                self.sort = column;
                // Values read best largest first; names A to Z.
                self.ascending = column == TopSort::Function;
            }
        }
        action
    }

    /// The sandwich of the chosen function over `tree`: callers above (root at the bottom,
    /// callers growing up), callees below (hanging down).
    pub fn sandwich_ui(&mut self, ui: &mut egui::Ui, tree: &FlameTree, unit: &ValueUnit, name: &str) {
        let Some(func) = self.sandwich_func.clone() else {
            ui.weak("Pick a function: the S button of a Top row, or right-click a frame in the flamegraph.");
            return;
        };
        if self.sandwich.as_ref().is_none_or(|s| s.func != func) {
            self.sandwich = Some(SandwichCache {
                callers: tree.callers(&func),
                callees: tree.callees(&func),
                func: func.clone(),
            });
            self.callers_state = FlameGraphState::new(FlameMode::Flame);
            self.callees_state = FlameGraphState::new(FlameMode::Icicle);
        }
        let Some(s) = &self.sandwich else { return };
        let cum = s.callees.root().map_or(0, |r| r.total);
        let total = tree.root().map_or(0, |r| r.total).max(1);
        ui.label(format!(
            "{} — cum {} ({:.1} %), self {}. Callers above, callees below.",
            funcname::display_name(&func),
            unit.format(cum),
            cum as f64 * 100.0 / total as f64,
            unit.format(s.callees.root().map_or(0, |r| r.self_value)),
        ));
        if cum == 0 {
            ui.weak("The function is not on any shown stack (a filter may have removed it).");
        }
        let half = (ui.available_height() / 2.0 - 4.0).max(48.0);
        let width = ui.available_width();
        ui.allocate_ui(egui::vec2(width, half), |ui| {
            FlameGraph::new(&s.callers)
                .unit(unit.clone())
                .accessible_name(&format!("Callers of {func} in {name}"))
                .show(ui, &mut self.callers_state);
        });
        ui.allocate_ui(egui::vec2(width, ui.available_height()), |ui| {
            FlameGraph::new(&s.callees)
                .unit(unit.clone())
                .accessible_name(&format!("Callees of {func} in {name}"))
                .show(ui, &mut self.callees_state);
        });
    }
}

/// Label, hint and help of a filter field, with pprof's name for it.
fn field_texts(field: FilterField) -> (&'static str, &'static str, &'static str) {
    match field {
        FilterField::Focus => ("Focus", "regex", "focus: keep only stacks through a matching function"),
        FilterField::Ignore => ("Ignore", "regex", "ignore: drop stacks through a matching function"),
        FilterField::Hide => ("Hide", "regex", "hide: remove matching functions from the stacks"),
        FilterField::ShowFrom => {
            ("Show from", "regex", "show_from: drop the callers above the outermost matching function")
        }
    }
}

fn sort_top(cache: &mut TopCache, sort: TopSort, descending: bool) {
    let f = &cache.functions;
    let mut order: Vec<usize> = (0..f.len()).collect();
    order.sort_by(|&a, &b| {
        let (Some(a), Some(b)) = (f.get(a), f.get(b)) else { return std::cmp::Ordering::Equal };
        let by = match sort {
            TopSort::Flat => a.flat.cmp(&b.flat).then(a.cum.cmp(&b.cum)),
            TopSort::Cum => a.cum.cmp(&b.cum).then(a.flat.cmp(&b.flat)),
            TopSort::Function => a.function.cmp(&b.function),
            TopSort::DeltaFlat => {
                (a.flat - a.base_flat).cmp(&(b.flat - b.base_flat)).then(a.flat.cmp(&b.flat))
            }
            TopSort::DeltaCum => (a.cum - a.base_cum).cmp(&(b.cum - b.base_cum)).then(a.cum.cmp(&b.cum)),
        };
        let by = if descending { by.reverse() } else { by };
        by.then_with(|| a.function.cmp(&b.function))
    });
    cache.order = order;
    cache.sorted_by = Some((sort, descending));
}
