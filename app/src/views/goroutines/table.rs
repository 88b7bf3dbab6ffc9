//! The groups table of the Goroutines view: one row per group (count, state, wait, user
//! function, creator, and the pprof labels where the capture has any), virtualised, sortable
//! by any column but the labels.

use egui::{RichText, Sense};
use egui_extras::{Column, TableBuilder};
use leakscope_core::format;
use leakscope_core::model::{Group, LabelSetId, funcname};

use super::{GoroutinesView, ROW_HEIGHT, label_value, state_text, user_function};
use crate::state::GroupSort;
use crate::theme::Palette;
use crate::views::ViewCtx;
use crate::workspace::LoadedCapture;

impl GoroutinesView {
    pub(super) fn table_ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, loaded: &LoadedCapture) {
        // A trace timed every wait; a dump says whole minutes at best.
        let exact_waits = !loaded.capture.intervals.is_empty();
        let palette = Palette::of(ui);
        let labelled = labelled_groups(loaded);
        let shown: u64 = self.rows.rows.iter().filter_map(|&r| loaded.groups.get(r)).map(|g| g.count).sum();
        ui.weak(format!(
            "{} of {} groups, {} {}. Click a group for its stack and members.",
            format::count(self.rows.rows.len() as u64),
            format::count(loaded.groups.len() as u64),
            format::count(shown),
            loaded.task_noun().plural()
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
            .id_salt(("groups-table", labelled, self.label_key.is_some()))
            .striped(true)
            .sense(Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::exact(88.0));
        // Grouped by a label: its value right after the count, visible at any width.
        let group_key = self.label_key.clone();
        if group_key.is_some() {
            table = table.column(Column::initial(130.0).at_least(60.0).clip(true));
        }
        table = table
            .column(Column::initial(200.0).at_least(80.0).clip(true))
            .column(Column::initial(120.0).at_least(60.0))
            .column(Column::initial(280.0).at_least(120.0).clip(true))
            .column(Column::remainder().at_least(120.0).clip(true));
        // Groups split by label set; the column shows which set, and only where there are sets.
        if labelled {
            table = table.column(Column::initial(220.0).at_least(80.0).clip(true));
        }
        let mut table = table.auto_shrink([false, false]);
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
                    if let (GroupSort::Count, Some(key)) = (column, &group_key) {
                        header.col(|ui| {
                            ui.label(RichText::new(key).strong())
                                .on_hover_text("The rows are grouped by this label's value, largest first");
                        });
                    }
                }
                if labelled {
                    header.col(|ui| {
                        let arrow = if options.sort == GroupSort::Labels {
                            if options.descending { " ▼" } else { " ▲" }
                        } else {
                            ""
                        };
                        let button = ui
                            .add(
                                egui::Button::new(RichText::new(format!("Labels{arrow}")).strong())
                                    .frame(false),
                            )
                            .on_hover_text("pprof labels; filter with key=value, e.g. route=/export");
                        button.widget_info(|| {
                            egui::WidgetInfo::labeled(egui::Role::Button, true, "Sort by Labels")
                        });
                        if button.clicked() {
                            sort_clicked = Some(GroupSort::Labels);
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
                    if let Some(key) = &group_key {
                        row.col(|ui| match label_value(loaded, g, key) {
                            Some(v) => {
                                ui.label(RichText::new(format!("■ {v}")).color(palette.category(v)))
                                    .on_hover_text(format!("{key}={v}"));
                            }
                            None => {
                                ui.weak(format!("no {key}"));
                            }
                        });
                    }
                    row.col(|ui| {
                        ui.label(RichText::new("●").color(palette.wait_kind(g.wait_kind)));
                        ui.label(state_text(loaded, g));
                        if g.leaked {
                            ui.label(RichText::new("leaked").small().color(palette.severity_proven))
                                .on_hover_text("The Go runtime's leak detector marked these goroutines");
                        }
                    });
                    row.col(|ui| {
                        ui.label(format::wait_range(g.wait_ns, exact_waits));
                    });
                    row.col(|ui| {
                        ui.label(RichText::new(funcname::display_name(func)).monospace()).on_hover_text(func);
                    });
                    row.col(|ui| {
                        let created = g.created_by.map_or("", |f| loaded.capture.func_name(f));
                        ui.label(RichText::new(funcname::display_name(created)).monospace().weak())
                            .on_hover_text(created);
                    });
                    if labelled {
                        row.col(|ui| {
                            let text = loaded.capture.label_text(g.labels);
                            ui.label(RichText::new(&text).monospace()).on_hover_text(&text);
                        });
                    }
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
}

/// Whether any group carries pprof labels (the table then has a Labels column).
fn labelled_groups(loaded: &LoadedCapture) -> bool {
    loaded.groups.iter().any(|g| g.labels != LabelSetId::EMPTY)
}

pub(super) fn sort_rows(rows: &mut [usize], loaded: &LoadedCapture, sort: GroupSort, descending: bool) {
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
            GroupSort::Labels => {
                loaded.capture.label_text(ga.labels).cmp(&loaded.capture.label_text(gb.labels))
            }
        };
        let order = if descending { order.reverse() } else { order };
        // The model's order (largest first) breaks ties, so equal rows never shuffle.
        order.then(a.cmp(&b))
    });
}
