//! The Findings view: leak findings of the active capture, worst first. The list on the left
//! gives severity, count, growth and title at a glance; the selected finding on the right gives
//! the evidence, why it is a leak, the fix, the stack, and links that narrow the other views to
//! its goroutines. Families that look healthy are listed too, so silence can be checked.

use egui::{RichText, Sense};
use leakscope_core::analysis::leaks::{Finding, Severity};
use leakscope_core::format;
use leakscope_core::model::funcname;
use leakscope_core::report::FindingReport;

use super::{ViewCtx, charts, nav_link};
use crate::command::Command;
use crate::state::ViewKind;
use crate::theme::Palette;
use crate::workspace::{LoadedCapture, Workspace};

/// UI state of the Findings view.
#[derive(Default)]
pub struct FindingsView {
    selected: usize,
    scroll_to_selected: bool,
    copied: Option<usize>,
}

/// Number of findings of the active capture.
pub fn count(ws: &Workspace) -> usize {
    ws.active().map_or(0, |c| c.analysis.findings.len())
}

/// The colour of a severity.
pub fn severity_color(palette: &Palette, severity: Severity) -> egui::Color32 {
    match severity {
        Severity::Proven => palette.severity_proven,
        Severity::Likely => palette.severity_likely,
        Severity::Possible => palette.severity_possible,
        Severity::Warning => palette.severity_warning,
    }
}

impl FindingsView {
    /// Selects finding `index` and scrolls to it.
    pub fn select(&mut self, index: usize) {
        self.selected = index;
        self.scroll_to_selected = true;
    }

    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        let Some(loaded) = ctx.ws.active() else { return };
        let findings = &loaded.analysis.findings;
        Self::header_ui(ui, ctx, loaded);
        ui.separator();
        if findings.is_empty() {
            no_findings_ui(ui, loaded);
            return;
        }
        if self.selected >= findings.len() {
            self.selected = 0;
        }
        egui::Panel::left("findings-list").resizable(true).default_size(430.0).min_size(300.0).show(
            ui,
            |ui| {
                egui::ScrollArea::vertical()
                    .id_salt("findings-list-scroll")
                    .auto_shrink([false, false])
                    .show(ui, |ui| {
                        for (i, finding) in findings.iter().enumerate() {
                            self.list_item_ui(ui, i, finding);
                        }
                        ui.add_space(8.0);
                        excluded_ui(ui, loaded);
                    });
            },
        );
        egui::CentralPanel::no_frame().show(ui, |ui| {
            egui::ScrollArea::vertical().id_salt("finding-detail").auto_shrink([false, false]).show(
                ui,
                |ui| {
                    if let Some(finding) = findings.get(self.selected) {
                        self.detail_ui(ui, ctx, loaded, self.selected, finding);
                    }
                },
            );
        });
    }

    fn header_ui(ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>, loaded: &LoadedCapture) {
        let palette = Palette::of(ui);
        let findings = &loaded.analysis.findings;
        ui.horizontal_wrapped(|ui| {
            let n = findings.len();
            ui.heading(format!("{n} finding{}", if n == 1 { "" } else { "s" }));
            let baseline = ctx
                .ws
                .comparison()
                .filter(|c| c.after == ctx.ws.active && c.same_program)
                .and_then(|c| ctx.ws.captures().get(c.before));
            match baseline {
                Some(before) => ui.label(format!("in {}, compared with {}", loaded.name, before.name)),
                None => ui.label(format!("in {}", loaded.name)),
            };
            for severity in [Severity::Proven, Severity::Likely, Severity::Possible, Severity::Warning] {
                let k = findings.iter().filter(|f| f.severity == severity).count();
                if k > 0 {
                    ui.label(
                        RichText::new(format!("{k} {}", severity.name()))
                            .color(severity_color(palette, severity))
                            .strong(),
                    );
                }
            }
            let implicated: u64 =
                findings.iter().filter(|f| f.severity != Severity::Warning).map(|f| f.count).sum();
            if implicated > 0 {
                ui.label(format!(
                    "· {} of {} {} in leak findings",
                    format::count(implicated),
                    format::count(loaded.goroutine_count()),
                    loaded.task_noun().plural()
                ));
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if !findings.is_empty()
                    && ui
                        .button("Copy all as Markdown")
                        .on_hover_text("Every finding, for an issue or a chat")
                        .clicked()
                {
                    let text: Vec<String> =
                        findings.iter().map(|f| markdown(loaded, ctx.ws.active, f)).collect();
                    ctx.commands.send(Command::CopyText(text.join("\n")));
                }
            });
        });
        if let Some(err) = &ctx.ws.session.config_error {
            ui.colored_label(palette.warning, format!("leakscope.toml not used: {err}"));
        }
    }

    fn list_item_ui(&mut self, ui: &mut egui::Ui, index: usize, finding: &Finding) {
        let palette = Palette::of(ui);
        let selected = index == self.selected;
        let color = severity_color(palette, finding.severity);
        let fill = if selected { palette.selection_fill } else { palette.card_fill };
        let frame = egui::Frame::new()
            .fill(fill)
            .stroke(egui::Stroke::new(1.0, if selected { color } else { palette.card_stroke }))
            .corner_radius(4.0)
            .inner_margin(egui::Margin { left: 10, right: 8, top: 6, bottom: 6 });
        let inner = frame.show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(RichText::new(severity_badge(finding)).small().strong().color(color))
                    .on_hover_text(severity_hover(finding));
                ui.label(RichText::new(finding.rule.id()).small().color(palette.muted));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if let Some(g) = &finding.growth {
                        let delta = g.after as i64 - g.before as i64;
                        let growth_color = if delta > 0 { palette.grew } else { palette.unchanged };
                        ui.label(RichText::new(format::delta(delta)).small().strong().color(growth_color))
                            .on_hover_text(format!(
                                "{} before, {} now",
                                format::count(g.before),
                                format::count(g.after)
                            ));
                    }
                    ui.label(RichText::new(size_text(finding)).strong().size(16.0));
                });
            });
            ui.add(egui::Label::new(RichText::new(&finding.title)).wrap());
        });
        // Paint the severity bar over the card's left edge.
        let rect = inner.response.rect;
        ui.painter().rect_filled(
            egui::Rect::from_min_max(rect.left_top(), egui::pos2(rect.left() + 4.0, rect.bottom())),
            egui::CornerRadius { nw: 4, sw: 4, ne: 0, se: 0 },
            color,
        );
        let response = ui.interact(rect, ui.scope_id().with(("finding", index)), Sense::click());
        let name = format!("Finding: {}", finding.title);
        response.widget_info(|| egui::WidgetInfo::selected(egui::Role::ListItem, true, selected, &name));
        if response.clicked() {
            self.selected = index;
        }
        if selected && self.scroll_to_selected {
            response.scroll_to_me(Some(egui::Align::Center));
            self.scroll_to_selected = false;
        }
        ui.add_space(4.0);
    }

    fn detail_ui(
        &mut self,
        ui: &mut egui::Ui,
        ctx: &mut ViewCtx<'_>,
        loaded: &LoadedCapture,
        index: usize,
        f: &Finding,
    ) {
        let palette = Palette::of(ui);
        let capture = &loaded.capture;
        let color = severity_color(palette, f.severity);
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(severity_badge(f)).strong().color(color)).on_hover_text(severity_hover(f));
            for rule in &f.rules {
                ui.label(RichText::new(rule.id()).monospace().small().color(palette.muted));
            }
        });
        ui.add(egui::Label::new(RichText::new(&f.title).heading()).wrap());
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            let size = if f.evidence.heap.is_some() {
                size_text(f)
            } else {
                format!("{} {}", format::count(f.count), loaded.task_noun().plural())
            };
            ui.label(RichText::new(size).strong().size(16.0));
            if let Some(g) = &f.growth {
                let delta = g.after as i64 - g.before as i64;
                let factor = if g.before > 0 {
                    format!(" (×{:.1})", g.after as f64 / g.before as f64)
                } else {
                    String::new()
                };
                ui.label(
                    RichText::new(format!(
                        "{} → {}: {}{factor}",
                        format::count(g.before),
                        format::count(g.after),
                        format::delta(delta)
                    ))
                    .color(if delta > 0 { palette.grew } else { palette.unchanged }),
                );
            }
            if let Some([lo, hi]) = f.evidence.wait_minutes {
                ui.label(if lo == hi {
                    format!("waiting {hi} min")
                } else {
                    format!("waiting {lo}–{hi} min")
                });
            }
        });
        ui.add_space(6.0);
        ui.horizontal_wrapped(|ui| {
            let noun = loaded.task_noun();
            let tasks_link = format!("{} ▸", noun.title());
            for (view, text) in [
                (ViewKind::Goroutines, tasks_link.as_str()),
                (ViewKind::Flamegraph, "Flamegraph ▸"),
                (ViewKind::Timeline, "Timeline ▸"),
            ] {
                let name = format!("Show finding in {}", view.label());
                let view_name = if view == ViewKind::Goroutines { noun.title() } else { view.label() };
                if nav_link(ui, text, &name)
                    .on_hover_text(format!("Narrow the {view_name} view to these {}", noun.plural()))
                    .clicked()
                {
                    ctx.commands.send(Command::FocusFinding { finding: index, view });
                }
                ui.add_space(8.0);
            }
            // The heap growth these goroutines hold, in the heap profile it was seen in.
            for link in f.evidence.memory.iter().flat_map(|m| &m.heap) {
                let short = link.site.rsplit('/').next().unwrap_or(&link.site);
                if nav_link(ui, format!("Heap: {short} ▸"), &format!("Show heap growth at {}", link.site))
                    .on_hover_text(format!(
                        "+{} in use grew at {} in {}: open that profile's flamegraph on it",
                        format::bytes(link.inuse_space_delta.max(0)),
                        link.site,
                        link.profile
                    ))
                    .clicked()
                {
                    ctx.commands.send(Command::ShowHeapSite {
                        profile: link.profile.clone(),
                        site: link.site.clone(),
                    });
                }
                ui.add_space(8.0);
            }
            if ui.button("Copy as Markdown").on_hover_text("This finding, for an issue or a chat").clicked() {
                ctx.commands.send(Command::CopyText(markdown(loaded, ctx.ws.active, f)));
                self.copied = Some(index);
            }
            if self.copied == Some(index) {
                ui.label(RichText::new("copied").small().color(palette.link));
            }
        });
        ui.separator();
        section(ui, "Evidence");
        for fact in &f.evidence.facts {
            ui.horizontal_wrapped(|ui| {
                ui.label("•");
                ui.add(egui::Label::new(fact).wrap());
            });
        }
        ui.add_space(6.0);
        section(ui, "Why this is a leak");
        ui.add(egui::Label::new(&f.explanation).wrap());
        if !f.fix.is_empty() {
            ui.add_space(6.0);
            section(ui, "Fix");
            egui::Frame::new()
                .fill(palette.card_fill)
                .stroke(egui::Stroke::new(1.0, palette.shrank))
                .corner_radius(4.0)
                .inner_margin(8.0)
                .show(ui, |ui| {
                    ui.set_width(ui.available_width());
                    ui.add(egui::Label::new(&f.fix).wrap());
                });
        }
        ui.add_space(6.0);
        section(ui, "Stack (innermost first)");
        let stack = capture.tables.stack(f.group.stack);
        if stack.is_empty() {
            // Trace events of async work (Node's async_hooks, spans) carry no stacks.
            ui.weak(format!("The capture records no stack for these {}.", loaded.task_noun().plural()));
        }
        for &frame_id in stack {
            let frame = capture.tables.frame(frame_id);
            let func = capture.str(frame.func);
            let file = capture.str(frame.file);
            let text = RichText::new(func).monospace();
            let text =
                if funcname::is_standard_library(func) { text.color(palette.muted) } else { text.strong() };
            let hover = if file.is_empty() { func.to_owned() } else { format!("{file}:{}", frame.line) };
            ui.label(text).on_hover_text(hover);
        }
        if let Some(created) = f.evidence.created_by.as_deref() {
            ui.label(RichText::new(format!("created by {created}")).monospace());
        }
        if f.stacks.len() > 1 {
            ui.weak(format!("(one of {} stacks in this finding)", f.stacks.len()));
        }
        if f.group.wait_ns.is_some() && !f.group.members.is_empty() {
            ui.add_space(6.0);
            section(ui, "How long they have waited");
            charts::wait_histogram_ui(ui, loaded, &f.group.members, &format!("finding-wait-{index}"));
        }
        if let Some(g) = f.growth.as_ref().filter(|g| g.series.len() > 2) {
            ui.add_space(6.0);
            section(ui, "Count across the captures");
            let members = ctx.ws.session.series_of(ctx.ws.active).map_or(&[][..], |s| s.members.as_slice());
            let names: Vec<String> =
                members.iter().filter_map(|&m| ctx.ws.captures().get(m)).map(|c| c.name.clone()).collect();
            charts::growth_series_ui(
                ui,
                &[(f.key.user.clone(), g.series.clone())],
                &names,
                &format!("finding-series-{index}"),
            );
        }
    }
}

fn section(ui: &mut egui::Ui, title: &str) {
    ui.label(RichText::new(title).strong());
}

fn markdown(loaded: &LoadedCapture, capture_index: usize, f: &Finding) -> String {
    FindingReport::new(&loaded.capture, capture_index, f).to_markdown()
}

/// What was not flagged, and why: so a reader can check that silence is earned.
fn excluded_ui(ui: &mut egui::Ui, loaded: &LoadedCapture) {
    let benign = &loaded.analysis.benign;
    let ignored = &loaded.analysis.ignored;
    if benign.is_empty() && ignored.is_empty() {
        return;
    }
    let n: u64 = benign.iter().chain(ignored).map(|e| e.count).sum();
    let noun = loaded.task_noun().plural();
    egui::CollapsingHeader::new(format!("Not flagged: {} {noun} that look healthy", format::count(n)))
        .id_salt("not-flagged")
        .show(ui, |ui| {
            for e in benign.iter().chain(ignored) {
                ui.horizontal_wrapped(|ui| {
                    ui.label(RichText::new(format::count(e.count)).monospace().strong());
                    ui.label(RichText::new(&e.reason).weak());
                    ui.add(egui::Label::new(RichText::new(e.key.describe()).small().monospace()).wrap());
                });
            }
        });
}

fn no_findings_ui(ui: &mut egui::Ui, loaded: &LoadedCapture) {
    ui.add_space(12.0);
    if super::has_no_leak_rules(loaded) {
        // "Checked 0 goroutines" would read as a clean bill of health it never gave.
        ui.heading("No leak rules for this capture");
        ui.label(format!(
            "{} records where time or memory went, not goroutines or tasks that wait, so no leak rule reads it. Its stacks are in the Flamegraph view.",
            super::capture_kind(loaded)
        ));
        ui.weak("To look for leaks, open a goroutine dump, a goroutine profile, an execution trace or a heap profile of the same program.");
        return;
    }
    ui.heading("No leak found");
    ui.label(format!(
        "leakscope checked {} {} in {} groups against its rules and found nothing that looks stuck for good.",
        format::count(loaded.goroutine_count()),
        loaded.task_noun().plural(),
        format::count(loaded.groups.len() as u64)
    ));
    ui.weak("A single capture cannot show growth: open a later capture beside this one (drop two files) to compare.");
    ui.add_space(8.0);
    excluded_ui(ui, loaded);
}

/// The severity badge. A finding the runtime proved for only part of its goroutines says which
/// part ("PROVEN 40/400"): a bare PROVEN beside "400 goroutines" claims all 400.
pub fn severity_badge(f: &Finding) -> String {
    let name = f.severity.name().to_uppercase();
    let marked = f.evidence.runtime_marked;
    if f.severity == Severity::Proven && marked > 0 && marked < f.count {
        format!("{name} {}/{}", format::count(marked), format::count(f.count))
    } else {
        name
    }
}

/// What the badge means, for its tooltip.
fn severity_hover(f: &Finding) -> String {
    let marked = f.evidence.runtime_marked;
    if f.severity == Severity::Proven && marked > 0 && marked < f.count {
        format!(
            "The Go runtime's leak detector proved {} of these {} leaked; the rest share their stack and creation site",
            format::count(marked),
            format::count(f.count)
        )
    } else {
        format!("Severity: {}", f.severity.name())
    }
}

/// A finding's size at a glance: goroutines, or the in-use bytes a heap-growth site grew by.
fn size_text(f: &Finding) -> String {
    match &f.evidence.heap {
        Some(h) => format!("+{}", format::bytes(h.inuse_space[1].saturating_sub(h.inuse_space[0]))),
        None => format::count(f.count),
    }
}
