//! The views, one module each, and what they share: the read-only context they draw from, the
//! focus (a finding or group the views are narrowed to), and small pieces of UI used by several
//! (progress, errors, number formatting).

pub mod charts;
pub mod compare;
pub mod findings;
pub mod flamegraph;
pub mod goroutines;
pub mod help;
pub mod source;
pub mod stack_tools;
pub mod timeline;
pub mod welcome;

use leakscope_core::format;
use leakscope_core::model::StackId;

use crate::command::{Command, Commands};
use crate::loader::{LoadErrorNote, LoadStatus};
use crate::state::{AppState, ViewKind};
use crate::theme::Palette;
use crate::workspace::{LoadedCapture, TaskNoun, Workspace};

/// What a view draws from: the open captures (read only), the focus, the persisted options,
/// and the command queue it sends requests to.
pub struct ViewCtx<'a> {
    /// The open captures.
    pub ws: &'a Workspace,
    /// The finding or group the views are narrowed to.
    pub focus: Option<&'a Focus>,
    /// Where to send requests.
    pub commands: &'a mut Commands,
    /// Persisted options (each view edits its own section).
    pub state: &'a mut AppState,
}

/// A set of goroutines the views are narrowed to: one finding's, or one group's.
#[derive(Clone, Debug, PartialEq)]
pub struct Focus {
    /// The capture the task indices belong to.
    pub capture: usize,
    /// What it is, for the "Narrowed to" chip.
    pub title: String,
    /// Task indices, ascending.
    pub members: Vec<u32>,
    /// Group indices of the capture, ascending.
    pub groups: Vec<usize>,
    /// Distinct stacks of the members, ascending.
    pub stacks: Vec<StackId>,
    /// The finding it came from, where it did.
    pub finding: Option<usize>,
}

impl Focus {
    /// Focus on one finding of the active capture: its members, their groups and stacks.
    pub fn for_finding(ws: &Workspace, index: usize) -> Option<Self> {
        let loaded = ws.active()?;
        let finding = loaded.analysis.findings.get(index)?;
        let mut members = finding.group.members.clone();
        members.sort_unstable();
        let mut groups: Vec<usize> = members.iter().filter_map(|&m| loaded.group_of(m)).collect();
        groups.sort_unstable();
        groups.dedup();
        if groups.is_empty() {
            // Count profiles have no members: the finding's stacks name its groups.
            groups = (0..loaded.groups.len())
                .filter(|&g| loaded.groups.get(g).is_some_and(|gr| finding.stacks.contains(&gr.stack)))
                .collect();
        }
        let mut stacks = finding.stacks.clone();
        stacks.sort_unstable();
        stacks.dedup();
        Some(Self {
            capture: ws.active,
            // The title already counts the goroutines ("220 goroutines parked ..."): a count in
            // front of it read "220 × 220 goroutines".
            title: finding.title.clone(),
            members,
            groups,
            stacks,
            finding: Some(index),
        })
    }

    /// Focus on one group of the active capture.
    pub fn for_group(ws: &Workspace, group: usize) -> Option<Self> {
        let loaded = ws.active()?;
        let g = loaded.groups.get(group)?;
        let func = loaded.capture.user_frame(g.stack).map_or("?", |f| loaded.capture.func_name(f));
        Some(Self {
            capture: ws.active,
            title: format!(
                "{} × {}",
                format::count(g.count),
                leakscope_core::model::funcname::display_name(func)
            ),
            members: g.members.clone(),
            groups: vec![group],
            stacks: vec![g.stack],
            finding: None,
        })
    }
}

/// Per-view UI state that lives as long as the app (selection, scroll, search text).
#[derive(Default)]
pub struct Views {
    /// Findings view.
    pub findings: findings::FindingsView,
    /// Goroutines view.
    pub goroutines: goroutines::GoroutinesView,
    /// Flamegraph view.
    pub flamegraph: flamegraph::FlamegraphView,
    /// Timeline view.
    pub timeline: timeline::TimelineView,
    /// Compare view.
    pub compare: compare::CompareView,
}

impl Views {
    /// Forgets selections and zooms that referred to the captures that were open.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Tells each view that the focus changed, so it can select, zoom or filter to it.
    pub fn on_focus(&mut self, focus: Option<&Focus>, ws: &Workspace) {
        self.goroutines.on_focus(focus, ws);
        self.flamegraph.on_focus(focus, ws);
        self.timeline.on_focus(focus);
    }

    /// Draws the selected view.
    pub fn ui(&mut self, ui: &mut egui::Ui, ctx: &mut ViewCtx<'_>) {
        match ctx.state.view {
            ViewKind::Findings => self.findings.ui(ui, ctx),
            ViewKind::Goroutines => self.goroutines.ui(ui, ctx),
            ViewKind::Flamegraph => self.flamegraph.ui(ui, ctx),
            ViewKind::Timeline => self.timeline.ui(ui, ctx),
            ViewKind::Compare => self.compare.ui(ui, ctx),
        }
    }
}

/// The text of a view's tab: its name and, where it helps, a count.
pub fn tab_text(view: ViewKind, ws: &Workspace) -> String {
    let Some(loaded) = ws.active() else { return view.label().to_owned() };
    match view {
        ViewKind::Findings => format!("{} ({})", view.label(), findings::count(ws)),
        // A count of 0 on a tab that is disabled for it says nothing.
        ViewKind::Goroutines if loaded.goroutine_count() == 0 => view.label().to_owned(),
        ViewKind::Goroutines if loaded.task_noun() == TaskNoun::Tasks => {
            format!("Tasks ({})", format::count(loaded.goroutine_count()))
        }
        ViewKind::Goroutines => format!("{} ({})", view.label(), format::count(loaded.goroutine_count())),
        _ => view.label().to_owned(),
    }
}

/// Why a view has nothing to show for a capture, or `None` when it applies. The tab of a view
/// that does not apply is disabled with this as its tooltip, so a CPU profile does not offer an
/// empty Timeline or "Goroutines (0)".
pub fn not_applicable(view: ViewKind, loaded: &LoadedCapture) -> Option<String> {
    let what = capture_kind(loaded);
    match view {
        ViewKind::Goroutines if loaded.goroutine_count() == 0 => {
            Some(format!("{what} records no {}", loaded.task_noun().plural()))
        }
        ViewKind::Flamegraph if loaded.flames.is_empty() => Some(format!("{what} records no stacks")),
        // A dump's timeline is its wait ages; other captures need state intervals of their own.
        ViewKind::Timeline if loaded.capture.intervals.is_empty() && loaded.wait_ages.is_none() => {
            Some(format!("{what} records no times to lay out on a timeline"))
        }
        // Findings say when a capture has no leak rules; Compare needs two captures, not one.
        ViewKind::Findings
        | ViewKind::Compare
        | ViewKind::Goroutines
        | ViewKind::Flamegraph
        | ViewKind::Timeline => None,
    }
}

/// The view a capture opens on: a profile's flamegraph, a dump's findings, and for a trace the
/// view last used where it applies.
pub fn opening_view(current: ViewKind, loaded: &LoadedCapture) -> ViewKind {
    if loaded.goroutine_count() == 0 && !loaded.capture.samples.is_empty() {
        return ViewKind::Flamegraph;
    }
    let is_trace = !loaded.capture.intervals.is_empty();
    if is_trace && current != ViewKind::Compare && not_applicable(current, loaded).is_none() {
        current
    } else {
        ViewKind::Findings
    }
}

/// Whether no leak rule reads this kind of capture (a CPU profile, an allocation profile of
/// another runtime): its Findings view says so instead of "checked 0 goroutines".
pub fn has_no_leak_rules(loaded: &LoadedCapture) -> bool {
    let heap = matches!(loaded.capture.source.profile_type.as_deref(), Some("heap" | "allocs"));
    loaded.goroutine_count() == 0 && loaded.capture.tasks.is_empty() && !heap
}

/// "This CPU profile", "This heap profile", "This capture": the subject of a tooltip.
pub fn capture_kind(loaded: &LoadedCapture) -> String {
    match loaded.capture.source.profile_type.as_deref() {
        Some(kind) if loaded.capture.tasks.is_empty() => {
            let kind = if kind == "cpu" { "CPU" } else { kind };
            format!("This {kind} profile")
        }
        _ => "This capture".to_owned(),
    }
}

/// The load progress: file, bytes done of total, a bar, and Cancel.
pub fn progress_ui(ui: &mut egui::Ui, status: &LoadStatus, commands: &mut Commands) {
    let (done, total) = status.bytes;
    let fraction = if total == 0 { 0.0 } else { (done as f64 / total as f64).clamp(0.0, 1.0) as f32 };
    let file = if status.file_count > 1 {
        format!("{} ({} of {})", short_path(&status.current), status.file_number, status.file_count)
    } else {
        short_path(&status.current)
    };
    ui.spinner();
    ui.label(format!("Loading {file}"));
    let text = if total == 0 {
        "starting…".to_owned()
    } else {
        format!("{} of {}", format::bytes(done), format::bytes(total))
    };
    let bar = egui::ProgressBar::new(fraction).desired_width(220.0).text(text).fill(Palette::of(ui).progress);
    ui.add(bar)
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ProgressIndicator, true, "Load progress"));
    ui.weak(format!("{:.1} s", status.elapsed.as_secs_f64()));
    if status.cancelling {
        ui.weak("cancelling…");
    } else if ui.button("Cancel").on_hover_text("Stop loading").clicked() {
        commands.send(Command::CancelLoad);
    }
}

fn short_path(path: &str) -> String {
    let p = path.strip_prefix("bundled:").unwrap_or(path);
    std::path::Path::new(p).file_name().map_or_else(|| p.to_owned(), |n| n.to_string_lossy().into_owned())
}

/// A load error, in place, once: the message names the file, the format and the line or offset.
pub fn error_ui(ui: &mut egui::Ui, error: &LoadErrorNote, commands: &mut Commands) {
    let palette = Palette::of(ui);
    egui::Frame::new()
        .fill(palette.error_fill)
        .stroke(egui::Stroke::new(1.0, palette.error))
        .corner_radius(4.0)
        .inner_margin(10.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.label(egui::RichText::new("Could not open").strong().color(palette.error));
                if !error.path.as_os_str().is_empty() {
                    ui.label(egui::RichText::new(error.path.display().to_string()).strong());
                }
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button("Dismiss").clicked() {
                        commands.send(Command::DismissError);
                    }
                });
            });
            // Undecodable bytes quoted from the file have no glyph in the UI fonts.
            let message = error.message.replace('\u{FFFD}', "?");
            ui.add(egui::Label::new(egui::RichText::new(message).color(palette.error).monospace()).wrap());
        });
    ui.add_space(6.0);
}

/// A note (not an error) with a Dismiss button.
pub fn note_ui(ui: &mut egui::Ui, text: &str, color: egui::Color32, commands: &mut Commands) {
    egui::Frame::new().stroke(egui::Stroke::new(1.0, color)).corner_radius(4.0).inner_margin(8.0).show(
        ui,
        |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
                ui.add(egui::Label::new(egui::RichText::new(text).color(color)).wrap());
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    if ui.button("Dismiss").clicked() {
                        commands.send(Command::DismissError);
                    }
                });
            });
        },
    );
    ui.add_space(6.0);
}

/// The banner over a first picture of a file still being read: how much of it the views
/// show, and that the whole will replace it.
pub fn preview_ui(ui: &mut egui::Ui, loaded: &LoadedCapture) {
    let Some(read) = loaded.capture.source.preview_bytes else { return };
    let total = loaded.capture.source.bytes.max(read);
    let percent = if total == 0 { 100.0 } else { read as f64 * 100.0 / total as f64 };
    let color = Palette::of(ui).link;
    egui::Frame::new().stroke(egui::Stroke::new(1.0, color)).corner_radius(4.0).inner_margin(8.0).show(
        ui,
        |ui| {
            ui.set_width(ui.available_width());
            ui.horizontal(|ui| {
            ui.spinner();
            let text = format!(
                "First picture: the start of this trace ({} of {}, {percent:.0}%), read while the rest is. \
                 The lanes and findings of the whole replace it when it is read; until then a goroutine \
                 that looks stuck may only be waiting past what was read.",
                format::bytes(read),
                format::bytes(total),
            );
            ui.add(egui::Label::new(egui::RichText::new(text).color(color)).wrap());
        });
        },
    );
    ui.add_space(6.0);
}

/// The parser's warnings for a capture, each with its line or offset.
pub fn warnings_ui(ui: &mut egui::Ui, loaded: &LoadedCapture) {
    let warnings = &loaded.capture.warnings;
    ui.label(format!(
        "{}: records the parser skipped or repaired. Everything else in the file was read.",
        loaded.name
    ));
    ui.separator();
    let lines = warnings.lines();
    let row_height = ui.text_style_height(&egui::TextStyle::Monospace);
    egui::ScrollArea::vertical().max_height(400.0).auto_shrink([false, true]).show_rows(
        ui,
        row_height,
        lines.len(),
        |ui, range| {
            for line in lines.get(range).unwrap_or_default() {
                ui.monospace(line);
            }
        },
    );
}

/// Names a text field for screen readers and tests (`get_by_label(name)`), keeping its value.
pub fn name_text_field(response: &egui::Response, name: &str, text: &str) {
    response.widget_info(|| {
        let mut info = egui::WidgetInfo::text_edit(true, text, text, "");
        info.label = Some(name.to_owned());
        info
    });
}

/// A clickable text that navigates, with an accessible name that says where it goes.
pub fn nav_link(ui: &mut egui::Ui, text: impl Into<String>, accessible: &str) -> egui::Response {
    let text = text.into();
    let palette = Palette::of(ui);
    let response = ui.add(egui::Link::new(egui::RichText::new(&text).color(palette.link)));
    let name = accessible.to_owned();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Link, true, &name));
    response
}

/// A file name's stem for an export of capture `name`: without its extensions, in characters
/// every file system takes.
pub fn file_stem(name: &str) -> String {
    let clean: String =
        name.chars().map(|c| if c.is_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    let trimmed = clean.trim_end_matches(".gz");
    trimmed.rsplit_once('.').map_or(trimmed, |(stem, _)| stem).to_owned()
}
