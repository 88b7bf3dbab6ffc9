//! The Goroutines view: the groups table (count, state, wait range, user function, created by),
//! sortable and filterable by state, text or regex, with the selected group's stack, members
//! and parent/child links beside it; and the created-by tree, where orphans (creator gone) and
//! the goroutines they started stand out.

use leakscope_core::format;
use std::collections::HashSet;

use egui::{RichText, Sense};
use egui_extras::{Column, TableBuilder};
use leakscope_core::model::{Group, TaskFlags, funcname};

use super::{Focus, ViewCtx, charts, nav_link};
use crate::command::Command;
use crate::keys::SHORTCUT_SEARCH;
use crate::state::{GoroutineLayout, GroupSort, ViewKind};
use crate::theme::Palette;
use crate::workspace::{LoadedCapture, Workspace};

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
    rows: RowsCache,
}

#[derive(Default)]
struct RowsCache {
    key: Option<RowsKey>,
    rows: Vec<usize>,
    regex_error: Option<String>,
    /// Lineage nodes shown in the tree (they or something under them match).
    tree_visible: Vec<bool>,
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
}

/// A compiled filter: plain text (case-insensitive) or a regex.
enum Matcher {
    All,
    Text(String),
    Regex(regex::Regex),
}

impl Matcher {
    fn new(filter: &str, regex: bool) -> Result<Self, String> {
        let filter = filter.trim();
        if filter.is_empty() {
            Ok(Matcher::All)
        } else if regex {
            regex::RegexBuilder::new(filter)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
                .map(Matcher::Regex)
                .map_err(|e| e.to_string())
        } else {
            Ok(Matcher::Text(filter.to_lowercase()))
        }
    }

    fn is_match(&self, text: &str) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Text(t) => text.to_lowercase().contains(t.as_str()),
            Matcher::Regex(r) => r.is_match(text),
        }
    }
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
        ui.separator();
        egui::Panel::right("goroutine-details").resizable(true).default_size(460.0).min_size(280.0).show(
            ui,
            |ui| {
                egui::ScrollArea::vertical().id_salt("details-scroll").auto_shrink([false, false]).show(
                    ui,
                    |ui| match self.selected_group.and_then(|g| loaded.groups.get(g).map(|group| (g, group)))
                    {
                        Some((index, group)) => self.group_details_ui(ui, ctx, loaded, index, group),
                        None => overview_ui(ui, loaded),
                    },
                );
            },
        );
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
                    .hint_text("Filter: function, file, state, goroutine id (Ctrl+F)")
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
        self.rows.tree_visible = tree_visibility(loaded, &matcher, key.state.as_deref(), key.hide_system);
        self.rows.rows = rows;
        self.rows.key = Some(key);
    }

    fn table_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, loaded: &LoadedCapture) {
        let palette = Palette::of(ui);
        let shown: u64 = self.rows.rows.iter().filter_map(|&r| loaded.groups.get(r)).map(|g| g.count).sum();
        ui.weak(format!(
            "{} of {} groups, {} goroutines. Click a group for its stack and members.",
            format::count(self.rows.rows.len() as u64),
            format::count(loaded.groups.len() as u64),
            format::count(shown)
        ));
        let scroll_row = if self.scroll_to_selected {
            self.scroll_to_selected = false;
            self.selected_group.and_then(|g| self.rows.rows.iter().position(|&r| r == g))
        } else {
            None
        };
        let options = &mut ctx.state.goroutines;
        // A row is one click target: text selection inside cells would swallow the click.
        ui.style_mut().interaction.selectable_labels = false;
        let mut table = TableBuilder::new(ui)
            .id_salt("groups-table")
            .striped(true)
            .sense(Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::exact(88.0))
            .column(Column::initial(200.0).at_least(80.0).clip(true))
            .column(Column::initial(90.0).at_least(60.0))
            .column(Column::initial(280.0).at_least(120.0).clip(true))
            .column(Column::remainder().at_least(120.0).clip(true))
            .auto_shrink([false, false]);
        if let Some(row) = scroll_row {
            table = table.scroll_to_row(row, Some(egui::Align::Center));
        }
        let mut sort_clicked = None;
        table
            .header(24.0, |mut header| {
                for (column, label) in [
                    (GroupSort::Count, "Count"),
                    (GroupSort::State, "State"),
                    (GroupSort::Wait, "Wait"),
                    (GroupSort::Function, "Function"),
                    (GroupSort::CreatedBy, "Created by"),
                ] {
                    header.col(|ui| {
                        let arrow = if options.sort == column {
                            if options.descending { " ▼" } else { " ▲" }
                        } else {
                            ""
                        };
                        let button = ui.add(
                            egui::Button::new(RichText::new(format!("{label}{arrow}")).strong()).frame(false),
                        );
                        let name = format!("Sort by {label}");
                        button.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
                        if button.clicked() {
                            sort_clicked = Some(column);
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, self.rows.rows.len(), |mut row| {
                    let Some(&gi) = self.rows.rows.get(row.index()) else { return };
                    let Some(g) = loaded.groups.get(gi) else { return };
                    let selected = self.selected_group == Some(gi);
                    row.set_selected(selected);
                    let func = user_function(loaded, g);
                    row.col(|ui| {
                        let marker = if selected { "▼" } else { "▶" };
                        ui.label(RichText::new(marker).weak());
                        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                            ui.label(RichText::new(format::count(g.count)).strong().monospace());
                        });
                    });
                    row.col(|ui| {
                        ui.label(RichText::new("●").color(palette.wait_kind(g.wait_kind)));
                        ui.label(state_text(loaded, g));
                        if g.leaked {
                            ui.label(RichText::new("leaked").small().color(palette.severity_proven))
                                .on_hover_text("The Go runtime's leak detector marked these goroutines");
                        }
                    });
                    row.col(|ui| {
                        ui.label(format::wait_minutes_range(g.wait_ns));
                    });
                    row.col(|ui| {
                        ui.label(RichText::new(funcname::display_name(func)).monospace()).on_hover_text(func);
                    });
                    row.col(|ui| {
                        let created = g.created_by.map_or("", |f| loaded.capture.func_name(f));
                        ui.label(RichText::new(funcname::display_name(created)).monospace().weak())
                            .on_hover_text(created);
                    });
                    let response = row.response();
                    let name = format!(
                        "Group: {} goroutines, {}, {}",
                        g.count,
                        state_text(loaded, g),
                        funcname::display_name(func)
                    );
                    response
                        .widget_info(|| egui::WidgetInfo::selected(egui::Role::Row, true, selected, &name));
                    if response.clicked() {
                        self.selected_group = if selected { None } else { Some(gi) };
                        self.selected_task = None;
                    }
                });
            });
        if let Some(column) = sort_clicked {
            if options.sort == column {
                options.descending = !options.descending;
            } else {
                options.sort = column;
                // Counts and waits read best largest first; names A to Z.
                options.descending = matches!(column, GroupSort::Count | GroupSort::Wait);
            }
        }
    }

    fn tree_ui(&mut self, ui: &mut egui::Ui, loaded: &LoadedCapture) {
        let lineage = &loaded.lineage;
        if lineage.nodes.is_empty() {
            ui.label("This capture does not say which goroutine created which (a profile, or a dump without \"created by\" lines).");
            return;
        }
        if !self.tree_initialised {
            self.tree_initialised = true;
            // Open the orphans and the first level under each root: that is where leaks show.
            for &r in lineage.orphan_roots.iter().chain(&lineage.roots) {
                self.tree_open.insert(r);
            }
        }
        let palette = Palette::of(ui);
        ui.style_mut().interaction.selectable_labels = false;
        // Flatten what is open into rows. Orphans first: a parked goroutine whose creator has
        // returned is where leaks are.
        let mut rows: Vec<TreeRow> = Vec::new();
        if !lineage.orphan_roots.is_empty() {
            let direct: u64 = lineage
                .orphan_roots
                .iter()
                .filter_map(|&r| lineage.node(r))
                .map(|n| n.members.len() as u64)
                .sum();
            rows.push(TreeRow::Header(format!(
                "Orphans: the goroutine that created them is gone ({} goroutines, {} more started by them)",
                format::count(direct),
                format::count(lineage.orphaned_count().saturating_sub(direct))
            )));
            self.flatten(lineage, &lineage.orphan_roots, &mut rows);
        }
        rows.push(TreeRow::Header(format!(
            "Started by the program: {} goroutines",
            format::count(
                lineage.roots.iter().filter_map(|&r| lineage.node(r)).map(|n| n.subtree_count).sum::<u64>()
            )
        )));
        self.flatten(lineage, &lineage.roots, &mut rows);
        egui::ScrollArea::vertical().id_salt("lineage-tree").auto_shrink([false, false]).show_rows(
            ui,
            ROW_HEIGHT,
            rows.len(),
            |ui, range| {
                for row in rows.get(range).unwrap_or_default() {
                    match row {
                        TreeRow::Header(text) => {
                            let color = if text.starts_with("Orphans") {
                                palette.orphan
                            } else {
                                ui.visuals().strong_text_color()
                            };
                            ui.add_sized(
                                [ui.available_width(), ROW_HEIGHT],
                                egui::Label::new(RichText::new(text).strong().color(color)),
                            );
                        }
                        &TreeRow::Node(index) => self.tree_row_ui(ui, loaded, index),
                    }
                }
            },
        );
    }

    fn flatten(
        &self,
        lineage: &leakscope_core::analysis::lineage::Lineage,
        nodes: &[u32],
        rows: &mut Vec<TreeRow>,
    ) {
        for &n in nodes {
            if !self.rows.tree_visible.get(n as usize).copied().unwrap_or(true) {
                continue;
            }
            rows.push(TreeRow::Node(n));
            if self.tree_open.contains(&n)
                && let Some(node) = lineage.node(n)
            {
                self.flatten(lineage, &node.children, rows);
            }
        }
    }

    fn tree_row_ui(&mut self, ui: &mut egui::Ui, loaded: &LoadedCapture, index: u32) {
        let Some(node) = loaded.lineage.node(index) else { return };
        let palette = Palette::of(ui);
        let group = node.members.first().and_then(|&m| loaded.group_of(m));
        let selected = group.is_some() && group == self.selected_group;
        let (rect, response) =
            ui.allocate_exact_size(egui::vec2(ui.available_width(), ROW_HEIGHT), Sense::click());
        if node.orphan || node.under_orphan {
            ui.painter().rect_filled(rect, 0.0, palette.orphan_tint);
        }
        if selected {
            ui.painter().rect_filled(rect, 0.0, palette.selection_fill);
        } else if response.hovered() {
            ui.painter().rect_filled(rect, 0.0, ui.visuals().widgets.hovered.weak_bg_fill);
        }
        let mut child = ui.new_child(
            egui::UiBuilder::new()
                .max_rect(rect.shrink2(egui::vec2(4.0, 0.0)))
                .layout(egui::Layout::left_to_right(egui::Align::Center)),
        );
        child.add_space(f32::from(node.depth) * 18.0);
        let open = self.tree_open.contains(&index);
        if node.children.is_empty() {
            child.add_space(18.0);
        } else {
            let toggle = child.add(
                egui::Button::new(if open { "▼" } else { "▶" }).frame(false).min_size(egui::vec2(18.0, 0.0)),
            );
            let name = format!("{} subtree", if open { "Collapse" } else { "Expand" });
            toggle.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
            if toggle.clicked() {
                if open {
                    self.tree_open.remove(&index);
                } else {
                    self.tree_open.insert(index);
                }
            }
        }
        let count = if node.children.is_empty() {
            format::count(node.members.len() as u64)
        } else {
            format!(
                "{} (+{})",
                format::count(node.members.len() as u64),
                format::count(node.subtree_count - node.members.len() as u64)
            )
        };
        child.label(RichText::new(count).strong().monospace());
        let state = loaded.capture.str(node.state);
        let kind = loaded.capture.wait_kind_of(node.state, node.stack);
        child.label(RichText::new("●").color(palette.wait_kind(kind)));
        child.label(if state.is_empty() { kind.name() } else { state });
        let func = loaded.capture.user_frame(node.stack).map_or("", |f| loaded.capture.func_name(f));
        child.label(RichText::new(funcname::display_name(func)).monospace()).on_hover_text(func);
        if let Some(created) = node.created_by {
            child.label(
                RichText::new(format!(
                    "created by {}",
                    funcname::display_name(loaded.capture.func_name(created))
                ))
                .weak(),
            );
        }
        if node.orphan {
            let parents = orphan_parents(loaded, &node.members);
            child.label(RichText::new(format!("parent gone ({parents})")).color(palette.orphan));
        } else if node.under_orphan && node.parked > 0 {
            child.label(
                RichText::new(format!("{} parked under an orphan", format::count(node.parked)))
                    .color(palette.orphan),
            );
        }
        let name = format!(
            "Tree node: {} goroutines, {}, {}",
            node.members.len(),
            state,
            funcname::display_name(func)
        );
        response.widget_info(|| egui::WidgetInfo::selected(egui::Role::TreeItem, true, selected, &name));
        if response.clicked() {
            self.selected_group = group;
            self.selected_task = node.members.first().copied();
        }
    }

    fn group_details_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut ViewCtx<'_>,
        loaded: &LoadedCapture,
        index: usize,
        group: &Group,
    ) {
        let palette = Palette::of(ui);
        let capture = &loaded.capture;
        ui.horizontal_wrapped(|ui| {
            ui.heading(format!("{} goroutines", format::count(group.count)));
            ui.label(
                RichText::new(format!("● {}", state_text(loaded, group)))
                    .color(palette.wait_kind(group.wait_kind)),
            );
            if group.leaked {
                ui.label(RichText::new("leaked (runtime)").color(palette.severity_proven));
            }
        });
        if let Some(wait) = group.wait_ns {
            ui.label(format!("Waiting {}", format::wait_minutes_range(Some(wait))));
        }
        ui.horizontal_wrapped(|ui| {
            if nav_link(ui, "Flamegraph ▸", "Show group in Flamegraph").clicked() {
                ctx.commands.send(Command::FocusGroup { group: index, view: ViewKind::Flamegraph });
            }
            if nav_link(ui, "Timeline ▸", "Show group in Timeline").clicked() {
                ctx.commands.send(Command::FocusGroup { group: index, view: ViewKind::Timeline });
            }
            if ui.button("Copy stack").on_hover_text("Copy the whole stack as text").clicked() {
                ctx.commands.send(Command::CopyText(stack_text(loaded, group)));
            }
        });
        ui.separator();
        ui.label(RichText::new("Stack, innermost first (click a frame to copy it)").strong());
        for (i, &frame_id) in capture.tables.stack(group.stack).iter().enumerate() {
            let frame = capture.tables.frame(frame_id);
            let func = capture.str(frame.func);
            let file = capture.str(frame.file);
            let user = !funcname::is_standard_library(func);
            let mut text = RichText::new(func).monospace();
            if user {
                text = text.strong();
            } else {
                text = text.color(palette.muted);
            }
            let location = if file.is_empty() { String::new() } else { format!("{file}:{}", frame.line) };
            let response = ui
                .add(egui::Button::new(text).frame(false).wrap())
                .on_hover_text(format!("{location}\nClick to copy"));
            if !location.is_empty() {
                ui.label(RichText::new(format!("    {location}")).small().color(palette.muted));
            }
            let name = format!("Frame {func}");
            response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Button, true, &name));
            if response.clicked() {
                let copied =
                    if location.is_empty() { func.to_owned() } else { format!("{func}\n\t{location}") };
                ctx.commands.send(Command::CopyText(copied));
                self.copied_frame = Some(i);
            }
            if self.copied_frame == Some(i) {
                ui.label(RichText::new("copied").small().color(palette.link));
            }
        }
        if group.stack.index() == 0 || capture.tables.stack(group.stack).is_empty() {
            ui.weak("(no stack: the goroutine was running on another thread)");
        }
        if let Some(created) = group.created_by {
            let frame = capture.tables.frame(created);
            ui.add_space(4.0);
            ui.label(RichText::new(format!("created by {}", capture.str(frame.func))).monospace());
            let file = capture.str(frame.file);
            if !file.is_empty() {
                ui.label(RichText::new(format!("    {file}:{}", frame.line)).small().color(palette.muted));
            }
        }
        if group.wait_ns.is_some() && !group.members.is_empty() {
            ui.separator();
            ui.label(RichText::new("How long they have waited").strong());
            charts::wait_histogram_ui(ui, loaded, &group.members, &format!("wait-hist-{index}"));
        }
        if !group.members.is_empty() {
            ui.separator();
            ui.label(
                RichText::new(format!("Members ({})", format::count(group.members.len() as u64))).strong(),
            );
            self.members_ui(ui, ctx, loaded, &group.members);
        }
        if let Some(task) = self.selected_task {
            ui.separator();
            Self::task_ui(ui, ctx, loaded, task);
        }
    }

    fn members_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut ViewCtx<'_>,
        loaded: &LoadedCapture,
        members: &[u32],
    ) {
        let palette = Palette::of(ui);
        egui::ScrollArea::vertical()
            .id_salt("members")
            .max_height(220.0)
            .auto_shrink([false, true])
            .show_rows(ui, ROW_HEIGHT - 2.0, members.len(), |ui, range| {
                for &m in members.get(range).unwrap_or_default() {
                    let Some(task) = loaded.capture.tasks.get(m as usize) else { continue };
                    ui.horizontal(|ui| {
                        let selected = self.selected_task == Some(m);
                        let item = ui.selectable_label(
                            selected,
                            RichText::new(format!("goroutine {}", task.id)).monospace(),
                        );
                        if item.clicked() {
                            self.selected_task = Some(m);
                        }
                        if let Some(wait) = task.wait_ns.get() {
                            ui.weak(format::wait_minutes_ns(wait));
                        }
                        if let Some(parent) = task.parent_id.get() {
                            if loaded.task_by_id.contains_key(&parent) {
                                if nav_link(
                                    ui,
                                    format!("from {parent}"),
                                    &format!("Go to goroutine {parent}"),
                                )
                                .clicked()
                                {
                                    ctx.commands.send(Command::ShowGoroutine(parent));
                                }
                            } else {
                                ui.label(
                                    RichText::new(format!("from {parent} (gone)")).color(palette.orphan),
                                );
                            }
                        }
                        let children = loaded.children_by_id.get(&task.id).map_or(0, Vec::len);
                        if children > 0 {
                            ui.weak(format!("{children} started"));
                        }
                    });
                }
            });
    }

    fn task_ui(ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, loaded: &LoadedCapture, task_index: u32) {
        let palette = Palette::of(ui);
        let capture = &loaded.capture;
        let Some(task) = capture.tasks.get(task_index as usize) else { return };
        let state = capture.str(task.state);
        let wait =
            task.wait_ns.get().map(|w| format!(", {}", format::wait_minutes_ns(w))).unwrap_or_default();
        ui.label(RichText::new(format!("goroutine {} [{state}{wait}]", task.id)).strong().monospace());
        let labels = capture.tables.labels(task.labels);
        if !labels.is_empty() {
            let text: Vec<String> =
                labels.iter().map(|l| format!("{}: {}", capture.str(l.key), capture.str(l.value))).collect();
            ui.label(RichText::new(format!("labels {{{}}}", text.join(", "))).monospace());
        }
        if let Some(created) = task.created_by {
            let func = funcname::display_name(capture.func_name(created));
            match task.parent_id.get() {
                Some(parent) if loaded.task_by_id.contains_key(&parent) => {
                    ui.horizontal_wrapped(|ui| {
                        ui.label(format!("created by {func} in"));
                        if nav_link(ui, format!("goroutine {parent}"), &format!("Go to goroutine {parent}"))
                            .clicked()
                        {
                            ctx.commands.send(Command::ShowGoroutine(parent));
                        }
                    });
                }
                Some(parent) => {
                    ui.label(
                        RichText::new(format!(
                            "created by {func} in goroutine {parent}, which is gone: an orphan"
                        ))
                        .color(palette.orphan),
                    );
                }
                None => {
                    ui.label(format!("created by {func}"));
                }
            }
        }
        if let Some(children) = loaded.children_by_id.get(&task.id) {
            ui.label(format!("Started {} goroutines still alive:", format::count(children.len() as u64)));
            for &c in children.iter().take(50) {
                let Some(child) = capture.tasks.get(c as usize) else { continue };
                let func = capture.user_frame(child.stack).map_or("", |f| capture.func_name(f));
                let text = format!(
                    "goroutine {} [{}] {}",
                    child.id,
                    capture.str(child.state),
                    funcname::display_name(func)
                );
                if nav_link(ui, text, &format!("Go to goroutine {}", child.id)).clicked() {
                    ctx.commands.send(Command::ShowGoroutine(child.id));
                }
            }
            if children.len() > 50 {
                ui.weak(format!("… and {} more", children.len() - 50));
            }
        }
    }
}

enum TreeRow {
    Header(String),
    Node(u32),
}

/// With no group selected: goroutines per state, as a chart.
fn overview_ui(ui: &mut egui::Ui, loaded: &LoadedCapture) {
    ui.heading("Goroutines by state");
    ui.weak("Select a group on the left to see its stack, its members and who created them.");
    charts::state_counts_ui(ui, loaded, "state-counts");
    let orphans = loaded.lineage.orphaned_count();
    if orphans > 0 {
        let palette = Palette::of(ui);
        ui.add_space(8.0);
        ui.label(
            RichText::new(format!(
                "{} goroutines are orphans or were started by one: their creator has returned. See the created-by tree.",
                format::count(orphans)
            ))
            .color(palette.orphan),
        );
    }
}

fn orphan_parents(loaded: &LoadedCapture, members: &[u32]) -> String {
    let mut parents: Vec<u64> = members
        .iter()
        .filter_map(|&m| loaded.capture.tasks.get(m as usize))
        .filter_map(|t| t.parent_id.get())
        .collect();
    parents.sort_unstable();
    parents.dedup();
    let shown: Vec<String> = parents.iter().take(3).map(|p| format!("goroutine {p}")).collect();
    if parents.len() > 3 {
        format!("{}, … {} in all", shown.join(", "), parents.len())
    } else {
        shown.join(", ")
    }
}

/// The state as the capture spells it, or the inferred wait for captures without states.
pub fn state_text<'a>(loaded: &'a LoadedCapture, g: &Group) -> &'a str {
    match g.state {
        Some(s) => loaded.capture.str(s),
        None => g.wait_kind.name(),
    }
}

/// The innermost function outside the standard library.
pub fn user_function<'a>(loaded: &'a LoadedCapture, g: &Group) -> &'a str {
    loaded.capture.user_frame(g.stack).map_or("", |f| loaded.capture.func_name(f))
}

fn is_system(loaded: &LoadedCapture, g: &Group) -> bool {
    g.members
        .first()
        .and_then(|&m| loaded.capture.tasks.get(m as usize))
        .is_some_and(|t| t.flags.contains(TaskFlags::SYSTEM))
}

fn group_matches(loaded: &LoadedCapture, g: &Group, matcher: &Matcher) -> bool {
    if matches!(matcher, Matcher::All) {
        return true;
    }
    let capture = &loaded.capture;
    if matcher.is_match(state_text(loaded, g)) {
        return true;
    }
    let frame_matches = |f| {
        let frame = capture.tables.frame(f);
        matcher.is_match(capture.str(frame.func))
            || (!frame.file.is_empty()
                && matcher.is_match(&format!("{}:{}", capture.str(frame.file), frame.line)))
    };
    if capture.tables.stack(g.stack).iter().any(|&f| frame_matches(f))
        || g.created_by.is_some_and(frame_matches)
    {
        return true;
    }
    // A goroutine id finds its group.
    if let Matcher::Text(t) = matcher
        && let Ok(id) = t.trim_start_matches("goroutine ").parse::<u64>()
    {
        return loaded
            .task_by_id
            .get(&id)
            .and_then(|&task| loaded.group_of(task))
            .is_some_and(|gi| loaded.groups.get(gi).is_some_and(|other| std::ptr::eq(other, g)));
    }
    false
}

fn sort_rows(rows: &mut [usize], loaded: &LoadedCapture, sort: GroupSort, descending: bool) {
    let groups = &loaded.groups;
    rows.sort_by(|&a, &b| {
        let (Some(ga), Some(gb)) = (groups.get(a), groups.get(b)) else { return std::cmp::Ordering::Equal };
        let order = match sort {
            GroupSort::Count => ga.count.cmp(&gb.count),
            GroupSort::State => state_text(loaded, ga).cmp(state_text(loaded, gb)),
            GroupSort::Wait => ga.wait_ns.map(|w| w.1).cmp(&gb.wait_ns.map(|w| w.1)),
            GroupSort::Function => user_function(loaded, ga).cmp(user_function(loaded, gb)),
            GroupSort::CreatedBy => {
                let c = |g: &Group| g.created_by.map_or("", |f| loaded.capture.func_name(f));
                c(ga).cmp(c(gb))
            }
        };
        let order = if descending { order.reverse() } else { order };
        // The model's order (largest first) breaks ties, so equal rows never shuffle.
        order.then(a.cmp(&b))
    });
}

/// Which tree nodes to show for a filter: a node shows when it matches or something under it
/// does.
fn tree_visibility(
    loaded: &LoadedCapture,
    matcher: &Matcher,
    state: Option<&str>,
    hide_system: bool,
) -> Vec<bool> {
    let nodes = &loaded.lineage.nodes;
    let unfiltered = matches!(matcher, Matcher::All) && state.is_none() && !hide_system;
    if unfiltered {
        return vec![true; nodes.len()];
    }
    let own: Vec<bool> = nodes
        .iter()
        .map(|n| {
            let Some(group) =
                n.members.first().and_then(|&m| loaded.group_of(m)).and_then(|g| loaded.groups.get(g))
            else {
                return false;
            };
            (!hide_system || !is_system(loaded, group))
                && state.is_none_or(|s| state_text(loaded, group) == s)
                && group_matches(loaded, group, matcher)
        })
        .collect();
    // Children always have larger indices than their parent (pre-order), so one backward pass
    // carries matches up.
    let mut visible = own;
    for i in (0..nodes.len()).rev() {
        let Some(node) = nodes.get(i) else { continue };
        if node.children.iter().any(|&c| visible.get(c as usize).copied().unwrap_or(false))
            && let Some(v) = visible.get_mut(i)
        {
            *v = true;
        }
    }
    visible
}

fn stack_text(loaded: &LoadedCapture, g: &Group) -> String {
    use std::fmt::Write as _;
    let capture = &loaded.capture;
    let mut out = String::new();
    let wait = g.wait_ns.map(|w| format!(", {}", format::wait_minutes_range(Some(w)))).unwrap_or_default();
    let _ = writeln!(out, "{} goroutines [{}{wait}]:", g.count, state_text(loaded, g));
    for &f in capture.tables.stack(g.stack) {
        let frame = capture.tables.frame(f);
        let _ = writeln!(out, "{}", capture.str(frame.func));
        if !frame.file.is_empty() {
            let _ = writeln!(out, "\t{}:{}", capture.str(frame.file), frame.line);
        }
    }
    if let Some(created) = g.created_by {
        let frame = capture.tables.frame(created);
        let _ = writeln!(out, "created by {}", capture.str(frame.func));
        if !frame.file.is_empty() {
            let _ = writeln!(out, "\t{}:{}", capture.str(frame.file), frame.line);
        }
    }
    out
}
