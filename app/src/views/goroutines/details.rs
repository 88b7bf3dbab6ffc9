//! The right-hand panel of the Goroutines view: the selected group's stack (click a frame to
//! copy it), wait histogram and members, the selected goroutine with its creator and the
//! goroutines it started; or, with nothing selected, goroutines per state.

use egui::RichText;
use leakscope_core::format;
use leakscope_core::model::{Group, funcname};

use super::{GoroutinesView, ROW_HEIGHT, state_text};
use crate::command::Command;
use crate::state::ViewKind;
use crate::theme::Palette;
use crate::views::{ViewCtx, charts, nav_link};
use crate::workspace::LoadedCapture;

impl GoroutinesView {
    pub(super) fn group_details_ui(
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
            ui.heading(format!("{} {}", format::count(group.count), loaded.task_noun().plural()));
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

/// With no group selected: goroutines per state, as a chart.
pub(super) fn overview_ui(ui: &mut egui::Ui, loaded: &LoadedCapture) {
    ui.heading(format!("{} by state", loaded.task_noun().title()));
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
