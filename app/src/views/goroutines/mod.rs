//! The Goroutines view: the groups table (count, state, wait range, user function, created by),
//! sortable and filterable by state, text or regex, with the selected group's stack, members
//! and parent/child links beside it; and the created-by tree, where orphans (creator gone) and
//! the goroutines they started stand out.
//!
//! One file per part of the view: `table` (the groups table and its sort), `tree` (the
//! created-by tree and which of its nodes a filter keeps), `details` (the selected group's
//! stack, members and goroutine, or the overview when none is selected) and `matcher` (what
//! the filter box matches). This file holds the view's state, the filter bar, and the rows
//! cache that the table and the tree both read, rebuilt only when the filter, sort or focus
//! changes.

use std::collections::{HashMap, HashSet};

use egui::RichText;
use leakscope_core::format;
use leakscope_core::model::{Group, TaskFlags};

mod details;
mod matcher;
mod table;
mod tree;

use details::overview_ui;
use matcher::{Matcher, group_matches};
use table::sort_rows;
use tree::tree_visibility;

use super::{Focus, ViewCtx};
use crate::keys::SHORTCUT_SEARCH;
use crate::state::{GoroutineLayout, GroupSort};
use crate::theme::Palette;
use crate::workspace::{LoadedCapture, TaskNoun, Workspace};

/// Height of one table, tree or member row; fixed so long lists are virtualised.
const ROW_HEIGHT: f32 = 22.0;

/// UI state of the Goroutines view.
#[derive(Default)]
pub struct GoroutinesView {
    filter: String,
    state_filter: Option<String>,
    selected_group: Option<usize>,
    selected_task: Option<u32>,
    scroll_to_selected: bool,
    focus_search: bool,
    tree_open: HashSet<u32>,
    tree_initialised: bool,
    copied_frame: Option<usize>,
    /// The pprof label key whose values group and colour the table (`route`, `tenant`); per
    /// view, not persisted: keys belong to a program.
    label_key: Option<String>,
    rows: RowsCache,
}

#[derive(Default)]
struct RowsCache {
    key: Option<RowsKey>,
    rows: Vec<usize>,
    regex_error: Option<String>,
    /// Lineage nodes shown in the tree (they or something under them match).
    tree_visible: Vec<bool>,
    /// With a grouping label: each of its values with its goroutines, largest first, and the
    /// goroutines without it (over all groups, not only the filtered ones, so the legend stays
    /// put while a chip filters).
    label_totals: Vec<(String, u64)>,
    label_without: u64,
}

#[derive(Clone, PartialEq)]
struct RowsKey {
    capture: usize,
    filter: String,
    regex: bool,
    state: Option<String>,
    sort: GroupSort,
    descending: bool,
    hide_system: bool,
    focus: Option<Vec<usize>>,
    label_key: Option<String>,
}

impl GoroutinesView {
    /// Selects the group of goroutine `id` and that goroutine in it.
    pub fn show_goroutine(&mut self, ws: &Workspace, id: u64) {
        let Some(loaded) = ws.active() else { return };
        let Some(&task) = loaded.task_by_id.get(&id) else { return };
        self.selected_group = loaded.group_of(task);
        self.selected_task = Some(task);
        self.scroll_to_selected = true;
        // The goroutine must not be hidden by a filter the user set earlier.
        self.filter.clear();
        self.state_filter = None;
    }

    /// Selects the first focused group.
    pub fn on_focus(&mut self, focus: Option<&Focus>, ws: &Workspace) {
        let _ = ws;
        self.selected_group = focus.and_then(|f| f.groups.first().copied());
        self.selected_task = None;
        self.scroll_to_selected = true;
        self.filter.clear();
        self.state_filter = None;
    }

    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let Some(loaded) = ctx.ws.active() else { return };
        if loaded.groups.is_empty() {
            ui.add_space(20.0);
            ui.vertical_centered(|ui| {
                ui.heading("No goroutines in this capture");
                ui.label("It holds samples only (a CPU or heap profile): see the Flamegraph view.");
            });
            return;
        }
        if ui.input_mut(|i| i.consume_shortcut(&SHORTCUT_SEARCH)) {
            self.focus_search = true;
        }
        self.toolbar(ui, ctx, loaded);
        self.refresh_rows(ctx, loaded);
        if let Some(key) = self.label_key.clone() {
            self.label_legend(ui, &key);
        }
        ui.separator();
        // On a small window the table keeps most of the width: its function names are what a
        // person scans, the details can be widened by dragging.
        let details_width = (ui.available_width() * 0.38).clamp(280.0, 460.0);
        egui::Panel::right("goroutine-details")
            .resizable(true)
            .default_size(details_width)
            .min_size(280.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().id_salt("details-scroll").auto_shrink([false, false]).show(
                    ui,
                    |ui| match self.selected_group.and_then(|g| loaded.groups.get(g).map(|group| (g, group)))
                    {
                        Some((index, group)) => self.group_details_ui(ui, ctx, loaded, index, group),
                        None => overview_ui(ui, loaded),
                    },
                );
            });
        egui::CentralPanel::no_frame().show(ui, |ui| match ctx.state.goroutines.layout {
            GoroutineLayout::Groups => self.table_ui(ui, ctx, loaded),
            GoroutineLayout::Tree => self.tree_ui(ui, loaded),
        });
    }

    fn toolbar(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, loaded: &LoadedCapture) {
        let options = &mut ctx.state.goroutines;
        ui.horizontal(|ui| {
            ui.selectable_value(&mut options.layout, GoroutineLayout::Groups, "Groups")
                .on_hover_text("Goroutines bucketed by state, stack and creation site");
            ui.selectable_value(&mut options.layout, GoroutineLayout::Tree, "Created-by tree")
                .on_hover_text("Goroutines under the goroutine that created them; orphans apart");
            ui.separator();
            let search = ui.add(
                egui::TextEdit::singleline(&mut self.filter)
                    .hint_text(match loaded.task_noun() {
                        TaskNoun::Goroutines => "Filter: function, file, state, goroutine id (Ctrl+F)",
                        TaskNoun::Tasks => "Filter: function, name, state, task id (Ctrl+F)",
                    })
                    .desired_width(320.0),
            );
            super::name_text_field(&search, "Filter goroutines", &self.filter);
            if self.focus_search {
                search.request_focus();
                self.focus_search = false;
            }
            ui.toggle_value(&mut options.regex, ".*")
                .on_hover_text("Treat the filter as a regular expression");
            ui.checkbox(&mut options.hide_system, "Hide runtime")
                .on_hover_text("Hide the runtime's own goroutines");
            if let Some(err) = &self.rows.regex_error {
                ui.colored_label(Palette::of(ui).error, format!("regex: {err}")).on_hover_text(err.clone());
            }
            let keys = &loaded.label_keys;
            if !keys.is_empty() {
                ui.separator();
                if self.label_key.as_ref().is_some_and(|k| !keys.contains(k)) {
                    self.label_key = None;
                }
                let shown = self.label_key.as_deref().unwrap_or("none");
                egui::ComboBox::from_label("Group by label")
                    .selected_text(shown)
                    .show_ui(ui, |ui| {
                        ui.selectable_value(&mut self.label_key, None, "none");
                        for k in keys {
                            ui.selectable_value(&mut self.label_key, Some(k.clone()), k);
                        }
                    })
                    .response
                    .on_hover_text("Group and colour the goroutines by a pprof label's value");
            }
        });
        ui.horizontal_wrapped(|ui| {
            let palette = Palette::of(ui);
            if ui
                .selectable_label(
                    self.state_filter.is_none(),
                    format!("All states {}", format::count(loaded.goroutine_count())),
                )
                .clicked()
            {
                self.state_filter = None;
            }
            for s in &loaded.states {
                let selected = self.state_filter.as_deref() == Some(s.state.as_str());
                let text = RichText::new(format!("● {} {}", s.state, format::count(s.count)));
                let chip = ui.selectable_label(selected, text.color(palette.wait_kind(s.wait_kind)));
                let name = format!("State {}", s.state);
                chip.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, &name));
                if chip.clicked() {
                    self.state_filter = if selected { None } else { Some(s.state.clone()) };
                }
            }
        });
    }

    fn refresh_rows(&mut self, ctx: &ViewCtx<'_>, loaded: &LoadedCapture) {
        let options = &ctx.state.goroutines;
        let key = RowsKey {
            capture: ctx.ws.active,
            filter: self.filter.clone(),
            regex: options.regex,
            state: self.state_filter.clone(),
            sort: options.sort,
            descending: options.descending,
            hide_system: options.hide_system,
            focus: ctx.focus.filter(|f| f.capture == ctx.ws.active).map(|f| f.groups.clone()),
            label_key: self.label_key.clone(),
        };
        if self.rows.key.as_ref() == Some(&key) {
            return;
        }
        let matcher = match Matcher::new(&key.filter, key.regex) {
            Ok(m) => {
                self.rows.regex_error = None;
                m
            }
            Err(e) => {
                self.rows.regex_error = Some(e);
                Matcher::All
            }
        };
        let focus_groups: Option<HashSet<usize>> = key.focus.as_ref().map(|g| g.iter().copied().collect());
        let mut rows: Vec<usize> = (0..loaded.groups.len())
            .filter(|&i| focus_groups.as_ref().is_none_or(|f| f.contains(&i)))
            .filter(|&i| {
                let Some(g) = loaded.groups.get(i) else { return false };
                (!key.hide_system || !is_system(loaded, g))
                    && key.state.as_deref().is_none_or(|s| state_text(loaded, g) == s)
                    && group_matches(loaded, g, &matcher)
            })
            .collect();
        sort_rows(&mut rows, loaded, key.sort, key.descending);
        (self.rows.label_totals, self.rows.label_without) = (Vec::new(), 0);
        if let Some(k) = &key.label_key {
            // Grouped by the key's value, largest value first, the chosen sort within each;
            // goroutines without the key last. Stable, so the sort above holds inside a value.
            let (totals, without) = label_value_totals(loaded, k);
            let rank: HashMap<&str, usize> =
                totals.iter().enumerate().map(|(i, (v, _))| (v.as_str(), i)).collect();
            rows.sort_by_key(|&g| {
                let value = loaded.groups.get(g).and_then(|g| label_value(loaded, g, k));
                value.and_then(|v| rank.get(v).copied()).unwrap_or(usize::MAX)
            });
            (self.rows.label_totals, self.rows.label_without) = (totals, without);
        }
        self.rows.tree_visible = tree_visibility(loaded, &matcher, key.state.as_deref(), key.hide_system);
        self.rows.rows = rows;
        self.rows.key = Some(key);
    }
}

impl GoroutinesView {
    /// The values of the grouping label with their goroutine counts, largest first, each in its
    /// colour; a click filters the table to that value (`key=value`), a second click clears it.
    fn label_legend(&mut self, ui: &mut egui::Ui, key: &str) {
        let palette = Palette::of(ui);
        let (totals, without) = (&self.rows.label_totals, self.rows.label_without);
        let mut clicked = None;
        ui.horizontal_wrapped(|ui| {
            ui.weak(format!("{key}:"));
            for (value, count) in totals {
                let term = format!("{key}={value}");
                let selected = self.filter == term;
                let text = RichText::new(format!("■ {value} {}", format::count(*count)));
                let chip = ui.selectable_label(selected, text.color(palette.category(value)));
                let name = format!("Label value {term}");
                chip.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, &name));
                if chip.clicked() {
                    clicked = Some(if selected { String::new() } else { term });
                }
            }
            if without > 0 {
                ui.weak(format!("no {key}: {}", format::count(without)));
            }
        });
        if let Some(filter) = clicked {
            self.filter = filter;
        }
    }
}

/// The value of pprof label `key` on a group's goroutines, if they carry it.
pub fn label_value<'a>(loaded: &'a LoadedCapture, g: &Group, key: &str) -> Option<&'a str> {
    let capture = &loaded.capture;
    capture.tables.labels(g.labels).iter().find(|l| capture.str(l.key) == key).map(|l| capture.str(l.value))
}

/// Each value of label `key` with the goroutines carrying it, largest first (ties by value),
/// and the goroutines without the key.
fn label_value_totals(loaded: &LoadedCapture, key: &str) -> (Vec<(String, u64)>, u64) {
    let mut totals: HashMap<&str, u64> = HashMap::new();
    let mut without = 0;
    for g in &loaded.groups {
        match label_value(loaded, g, key) {
            Some(v) => *totals.entry(v).or_default() += g.count,
            None => without += g.count,
        }
    }
    let mut totals: Vec<(String, u64)> = totals.into_iter().map(|(v, n)| (v.to_owned(), n)).collect();
    totals.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    (totals, without)
}

/// The state as the capture spells it, or the inferred wait for captures without states.
pub fn state_text<'a>(loaded: &'a LoadedCapture, g: &Group) -> &'a str {
    match g.state {
        Some(s) => loaded.capture.str(s),
        None => g.wait_kind.name(),
    }
}

/// The innermost function outside the standard library; for tasks without a stack, what
/// the capture calls them (`PROMISE`, `Timeout`).
pub fn user_function<'a>(loaded: &'a LoadedCapture, g: &Group) -> &'a str {
    match (loaded.capture.user_frame(g.stack), g.name) {
        (Some(f), _) => loaded.capture.func_name(f),
        (None, Some(name)) => loaded.capture.str(name),
        (None, None) => "",
    }
}

fn is_system(loaded: &LoadedCapture, g: &Group) -> bool {
    g.members
        .first()
        .and_then(|&m| loaded.capture.tasks.get(m as usize))
        .is_some_and(|t| t.flags.contains(TaskFlags::SYSTEM))
}
