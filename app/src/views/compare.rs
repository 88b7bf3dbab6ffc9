//! The Compare view: the growth table (families matched across captures by `core::diff`, with
//! before, after and the change), the diff flamegraph (width by the larger side, colour by
//! growth), and the two captures side by side with the same view in each pane.

use egui::{RichText, Sense};
use egui_extras::{Column, TableBuilder};
use leakscope_core::diff::{Change, GroupDiff, Side};
use leakscope_core::format;
use leakscope_core::model::funcname;

use super::flamegraph::FlamePane;
use super::timeline::TimelinePane;
use super::{ViewCtx, charts, nav_link};
use crate::command::Command;
use crate::state::{ComparePane, ViewKind};
use crate::theme::Palette;
use crate::workspace::{Comparison, LoadedCapture, Workspace};

/// Families shown in the growth chart.
const CHART_FAMILIES: usize = 6;

/// UI state of the Compare view.
#[derive(Default)]
pub struct CompareView {
    show_unchanged: bool,
    diff_flame: FlamePane,
    flames: [FlamePane; 2],
    timelines: [TimelinePane; 2],
}

impl CompareView {
    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let ws = ctx.ws;
        let Some(cmp) = &ws.comparison() else {
            ui.label("Open two captures to compare them: drop two files, or File ▸ Compare two files…");
            return;
        };
        let (Some(before), Some(after)) = (ws.captures().get(cmp.before), ws.captures().get(cmp.after))
        else {
            return;
        };
        let palette = Palette::of(ui);
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(&before.name).strong());
            ui.label("→");
            ui.label(RichText::new(&after.name).strong());
            // Two CPU or heap profiles: the totals of the column compared, each side.
            let (text, delta) = if let Some(p) = &cmp.diff.profile {
                let delta = p.after_total.saturating_sub(p.before_total);
                let text = format!(
                    "{}: {} → {} ({}{})",
                    p.sample_type,
                    p.unit.format(p.before_total),
                    p.unit.format(p.after_total),
                    if delta > 0 { "+" } else { "" },
                    p.unit.format(delta)
                );
                (text, delta)
            } else {
                let delta = cmp.diff.after_total as i64 - cmp.diff.before_total as i64;
                let text = format!(
                    "{} → {} goroutines ({})",
                    format::count(cmp.diff.before_total),
                    format::count(cmp.diff.after_total),
                    format::delta(delta)
                );
                (text, delta)
            };
            ui.label(RichText::new(text).color(if delta > 0 { palette.grew } else { palette.shrank }));
        });
        if !cmp.same_program {
            ui.label(
                RichText::new(
                    "These captures are not of one program (or not of one kind): they are shown side by side, \
                     but what grew between them is no evidence of a leak, and the findings do not use it.",
                )
                .color(palette.warning),
            );
        }
        ui.horizontal(|ui| {
            let pane = &mut ctx.state.compare.pane;
            for (value, label) in [
                (ComparePane::Growth, "Growth table"),
                (ComparePane::DiffFlamegraph, "Diff flamegraph"),
                (ComparePane::Goroutines, "Goroutines side by side"),
                (ComparePane::Flamegraphs, "Flamegraphs side by side"),
                (ComparePane::Timelines, "Timelines side by side"),
            ] {
                ui.selectable_value(pane, value, label);
            }
        });
        ui.separator();
        // Go stacks on both sides: the runtime toggle, on for goroutines (a dump has no runtime
        // frames, so a dump against a profile differs by them alone otherwise), off for samples.
        let go = before.capture.is_go() && after.capture.is_go();
        match ctx.state.compare.pane {
            ComparePane::Growth => self.growth_ui(ui, ctx, cmp, before, after),
            ComparePane::DiffFlamegraph => {
                if let Some(p) = &cmp.diff.profile {
                    let normalize = &mut ctx.state.compare.normalize;
                    ui.checkbox(
                        normalize,
                        "Normalise: scale the base so both totals match (pprof -normalize)",
                    );
                    let tree = if *normalize { &p.normalized } else { &p.absolute };
                    let runtime = go.then_some(false);
                    self.diff_flame.diff_ui(ui, tree, &p.locations, &p.unit, "Diff flamegraph", runtime);
                } else {
                    let unit = format::ValueUnit::goroutines();
                    let (tree, locations) = (&cmp.diff.flame, &cmp.diff_locations);
                    self.diff_flame.diff_ui(
                        ui,
                        tree,
                        locations,
                        &unit,
                        "Diff flamegraph",
                        go.then_some(true),
                    );
                }
            }
            ComparePane::Goroutines => {
                side_by_side(ui, ws, cmp, groups_compact_ui);
            }
            ComparePane::Flamegraphs => {
                let [left, right] = &mut self.flames;
                ui.columns(2, |cols| {
                    if let [l, r] = cols {
                        // Each side in its own id scope: two captures can have the same name.
                        pane_title(l, "before", before);
                        l.push_id("before", |l| {
                            left.capture_ui(l, before, &format!("Flamegraph of {}", before.name));
                        });
                        pane_title(r, "after", after);
                        r.push_id("after", |r| {
                            right.capture_ui(r, after, &format!("Flamegraph of {}", after.name));
                        });
                    }
                });
            }
            ComparePane::Timelines => {
                let [left, right] = &mut self.timelines;
                ui.columns(2, |cols| {
                    if let [l, r] = cols {
                        pane_title(l, "before", before);
                        l.push_id("before", |l| {
                            left.capture_ui(l, before, &format!("Timeline of {}", before.name));
                        });
                        pane_title(r, "after", after);
                        r.push_id("after", |r| {
                            right.capture_ui(r, after, &format!("Timeline of {}", after.name));
                        });
                    }
                });
            }
        }
    }

    fn growth_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut ViewCtx<'_>,
        cmp: &Comparison,
        before: &LoadedCapture,
        after: &LoadedCapture,
    ) {
        let palette = Palette::of(ui);
        let rows: Vec<&GroupDiff> =
            cmp.diff.groups.iter().filter(|g| self.show_unchanged || g.change() != Change::Same).collect();
        let series_len = cmp.series.first().map_or(0, |s| s.counts.len());
        if series_len >= 3 {
            let top: Vec<(String, Vec<u64>)> = cmp
                .series
                .iter()
                .filter(|s| s.only_grows())
                .take(CHART_FAMILIES)
                .map(|s| (funcname::display_name(&s.key.user).to_owned(), s.counts.clone()))
                .collect();
            if !top.is_empty() {
                ui.label(RichText::new("Families that only grow, across the captures").strong());
                let names: Vec<String> = cmp
                    .members
                    .iter()
                    .filter_map(|&m| ctx.ws.captures().get(m))
                    .map(|c| c.name.clone())
                    .collect();
                charts::growth_series_ui(ui, &top, &names, "growth-series");
                ui.separator();
            }
        }
        ui.horizontal(|ui| {
            ui.label(format!(
                "{} families changed, {} in all.",
                format::count(cmp.diff.groups.iter().filter(|g| g.change() != Change::Same).count() as u64),
                format::count(cmp.diff.groups.len() as u64)
            ));
            ui.checkbox(&mut self.show_unchanged, "Show unchanged");
        });
        ui.style_mut().interaction.selectable_labels = false;
        TableBuilder::new(ui)
            .id_salt("growth-table")
            .striped(true)
            .sense(Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::exact(70.0))
            .column(Column::exact(80.0))
            .column(Column::exact(80.0))
            .column(Column::exact(80.0))
            .column(Column::remainder().at_least(200.0).clip(true))
            .auto_shrink([false, false])
            .header(24.0, |mut header| {
                for label in ["Change", "Before", "After", "Δ", "Family (where it waits, who created it)"] {
                    header.col(|ui| {
                        ui.strong(label);
                    });
                }
            })
            .body(|body| {
                body.rows(22.0, rows.len(), |mut row| {
                    let Some(g) = rows.get(row.index()) else { return };
                    let (tag, color) = change_tag(palette, g.change());
                    row.col(|ui| {
                        ui.label(RichText::new(tag).strong().color(color));
                    });
                    row.col(|ui| {
                        ui.label(RichText::new(format::count(g.before)).monospace());
                    });
                    row.col(|ui| {
                        ui.label(RichText::new(format::count(g.after)).monospace());
                    });
                    row.col(|ui| {
                        ui.label(RichText::new(format::delta(g.delta())).monospace().strong().color(color));
                    });
                    row.col(|ui| {
                        let text = g.key.describe();
                        let group = group_in(after, before, g);
                        if let Some(index) = group {
                            let name = format!("Show {} in Goroutines", g.key.user);
                            if nav_link(ui, "▸", &name)
                                .on_hover_text("Show this group in the Goroutines view")
                                .clicked()
                            {
                                ctx.commands
                                    .send(Command::FocusGroup { group: index, view: ViewKind::Goroutines });
                            }
                        }
                        ui.label(RichText::new(&text).monospace()).on_hover_text(&text);
                    });
                    let name = format!("Growth: {} {} → {}, {}", tag, g.before, g.after, g.key.user);
                    row.response().widget_info(|| egui::WidgetInfo::labeled(egui::Role::Row, true, &name));
                });
            });
    }
}

/// The group of the after capture that a diff row names, when its stack is from that side.
fn group_in(after: &LoadedCapture, _before: &LoadedCapture, g: &GroupDiff) -> Option<usize> {
    match g.stack {
        Some((Side::After, stack)) => after.groups.iter().position(|gr| gr.stack == stack),
        _ => None,
    }
}

fn change_tag(palette: &Palette, change: Change) -> (&'static str, egui::Color32) {
    match change {
        Change::New => ("new", palette.new),
        Change::Grew => ("grew", palette.grew),
        Change::Shrank => ("shrank", palette.shrank),
        Change::Gone => ("gone", palette.gone),
        Change::Same => ("same", palette.unchanged),
    }
}

fn pane_title(ui: &mut egui::Ui, role: &str, loaded: &LoadedCapture) {
    ui.horizontal(|ui| {
        ui.label(RichText::new(role).strong());
        ui.label(&loaded.name);
        ui.weak(format!("{} goroutines", format::count(loaded.goroutine_count())));
    });
}

fn side_by_side(
    ui: &mut egui::Ui,
    ws: &Workspace,
    cmp: &Comparison,
    mut pane: impl FnMut(&mut egui::Ui, &LoadedCapture, &str),
) {
    let (Some(before), Some(after)) = (ws.captures().get(cmp.before), ws.captures().get(cmp.after)) else {
        return;
    };
    ui.columns(2, |cols| {
        if let [l, r] = cols {
            pane_title(l, "before", before);
            egui::ScrollArea::vertical().id_salt("pane-before").auto_shrink([false, false]).show(l, |ui| {
                pane(ui, before, "before");
            });
            pane_title(r, "after", after);
            egui::ScrollArea::vertical().id_salt("pane-after").auto_shrink([false, false]).show(r, |ui| {
                pane(ui, after, "after");
            });
        }
    });
}

/// A read-only groups list for a pane (`side`: before or after): count, state, function.
fn groups_compact_ui(ui: &mut egui::Ui, loaded: &LoadedCapture, side: &str) {
    let palette = Palette::of(ui);
    // By side, not by name: both captures can have the same file name.
    egui::Grid::new(("compact-groups", side)).striped(true).num_columns(3).show(ui, |ui| {
        ui.strong("Count");
        ui.strong("State");
        ui.strong("Function");
        ui.end_row();
        for g in &loaded.groups {
            ui.label(RichText::new(format::count(g.count)).monospace().strong());
            let state = super::goroutines::state_text(loaded, g);
            ui.label(RichText::new(format!("● {state}")).color(palette.wait_kind(g.wait_kind)));
            let func = super::goroutines::user_function(loaded, g);
            ui.label(RichText::new(funcname::display_name(func)).monospace()).on_hover_text(func);
            ui.end_row();
        }
    });
}
