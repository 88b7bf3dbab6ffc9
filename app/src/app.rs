//! The app: owns the persisted [`AppState`], the open [`Workspace`], the loader and the views;
//! draws the frame around the views (menu, tabs, status bar, progress, errors) and applies the
//! commands the views send, once per frame.

use std::path::PathBuf;
use std::time::Instant;

use crate::command::{Command, Commands};
use crate::dialog::{DialogOutcome, FileDialog};
use crate::keys::{SHORTCUT_HELP, SHORTCUT_NEXT_CAPTURE, SHORTCUT_OPEN};
use crate::loader::{LoadErrorNote, LoadEvent, LoadFailure, LoadRequest, Loader};
use crate::state::{AppState, ComparePane, ThemeChoice, ViewKind};
use crate::theme::{self, Palette};
use crate::views::{self, Focus, ViewCtx, Views};
use crate::workspace::Workspace;

/// What to open when the app starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Startup {
    /// The bundled before/after sample (no argument given).
    Sample,
    /// Files from the command line: one to explore, two to compare.
    Files(Vec<PathBuf>),
    /// Nothing: the welcome panel.
    Welcome,
}

/// The leakscope app.
pub struct App {
    /// Persisted settings.
    pub state: AppState,
    /// What is open; `None` shows the welcome panel.
    pub workspace: Option<Workspace>,
    /// While `workspace` is a first picture of a file still being read: what was open before,
    /// shown again if that read fails or is cancelled.
    before_preview: Option<Workspace>,
    loader: Loader,
    dialog: Option<FileDialog>,
    /// File > Export: a save in flight and its outcome.
    exports: crate::export_menu::Exports,
    /// Why the Open dialog could not be shown, until dismissed.
    dialog_note: Option<String>,
    /// Why the last load failed: one note per file that could not be opened.
    pub errors: Vec<LoadErrorNote>,
    /// What the last load did that a person should know (a file given twice, read once), until
    /// dismissed.
    pub session_notes: Vec<String>,
    /// The finding or group the views are narrowed to.
    pub focus: Option<Focus>,
    commands: Commands,
    views: Views,
    show_warnings: bool,
    /// Path typed into the welcome panel (for machines without a dialog service).
    typed_path: String,
    timing: Timing,
}

/// Timing printed with `LEAKSCOPE_TIMING=1`: when the first frame and the first frame showing
/// a capture were drawn, and how smoothly frames kept coming while a load ran.
struct Timing {
    process_start: Instant,
    enabled: bool,
    first_frame_done: bool,
    first_capture_done: bool,
    /// Frames drawn during the current load, the last frame's time and the longest gap.
    load_frames: u64,
    last_frame: Option<Instant>,
    longest_gap_ms: f64,
}

impl App {
    /// The active capture's flamegraph as the Flamegraph view last drew it (source, filters,
    /// zoom), as File > Export writes it: a file name and the SVG.
    pub fn flamegraph_svg(&self) -> Option<(String, String)> {
        self.views.flamegraph.svg(self.workspace.as_ref()?.active()?)
    }

    /// Creates the app from eframe's creation context, restoring saved settings.
    pub fn new(cc: &eframe::CreationContext<'_>, startup: Startup, process_start: Instant) -> Self {
        let state: AppState =
            cc.storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY)).unwrap_or_default();
        Self::with_state(&cc.egui_ctx, state, startup, process_start)
    }

    /// Creates the app with given settings (tests use this without storage).
    pub fn with_state(
        ctx: &egui::Context,
        state: AppState,
        startup: Startup,
        process_start: Instant,
    ) -> Self {
        theme::install_fonts(ctx);
        theme::apply(ctx, state.theme);
        let mut app = Self {
            state,
            workspace: None,
            before_preview: None,
            loader: Loader::default(),
            dialog: None,
            exports: crate::export_menu::Exports::default(),
            dialog_note: None,
            errors: Vec::new(),
            focus: None,
            commands: Commands::default(),
            views: Views::default(),
            show_warnings: false,
            session_notes: Vec::new(),
            typed_path: String::new(),
            timing: Timing {
                process_start,
                enabled: std::env::var_os("LEAKSCOPE_TIMING").is_some(),
                first_frame_done: false,
                first_capture_done: false,
                load_frames: 0,
                last_frame: None,
                longest_gap_ms: 0.0,
            },
        };
        match startup {
            Startup::Sample => app.loader.start(LoadRequest::Bundled, ctx),
            Startup::Files(paths) if !paths.is_empty() => app.start_load(paths, ctx),
            Startup::Files(_) | Startup::Welcome => {}
        }
        app
    }

    /// From what size a single file shows a first picture while the rest is read (tests use 0
    /// to see one on a small sample).
    pub fn set_preview_min_bytes(&mut self, bytes: u64) {
        self.loader.preview_min_bytes = bytes;
    }

    /// Stops the running load, and drops the first picture it showed, if any: what was open
    /// before it shows again.
    pub fn cancel_load(&mut self) {
        self.loader.cancel();
        self.abandon_preview();
    }

    /// Whether a load is running.
    pub fn is_loading(&self) -> bool {
        self.loader.is_loading()
    }

    /// Waits for the running load and takes its result in (tests).
    pub fn finish_loading_blocking(&mut self) {
        if let Some(result) = self.loader.wait() {
            self.take_load_result(result);
        }
    }

    fn start_load(&mut self, paths: Vec<PathBuf>, ctx: &egui::Context) {
        self.errors.clear();
        self.abandon_preview();
        self.loader.start(LoadRequest::Files(paths), ctx);
    }

    /// Whether what is shown is a first picture of a file still being read.
    pub fn showing_preview(&self) -> bool {
        self.workspace
            .as_ref()
            .and_then(Workspace::active)
            .is_some_and(|c| c.capture.source.preview_bytes.is_some())
    }

    /// A first picture of the file being read: shown at once, on the view the whole will open
    /// on, until the whole replaces it.
    fn take_preview(&mut self, ws: Workspace) {
        self.errors.clear();
        self.focus = None;
        self.views.reset();
        if let Some(loaded) = ws.active() {
            self.state.view = views::opening_view(self.state.view, loaded);
        }
        let shown = self.showing_preview();
        if let Some(old) = self.workspace.replace(ws) {
            if shown {
                drop_in_background(old);
            } else if let Some(older) = self.before_preview.replace(old) {
                drop_in_background(older);
            }
        }
    }

    /// The read a first picture came from stopped without a whole: show what was open before.
    fn abandon_preview(&mut self) {
        if !self.showing_preview() {
            return;
        }
        if let Some(preview) = std::mem::replace(&mut self.workspace, self.before_preview.take()) {
            drop_in_background(preview);
        }
        self.focus = None;
        self.views.reset();
    }

    fn take_load_result(&mut self, result: Result<Workspace, LoadFailure>) {
        if result.is_err() {
            self.abandon_preview();
        }
        if let Some(old) = self.before_preview.take() {
            drop_in_background(old);
        }
        match result {
            Ok(ws) => {
                self.state.remember(&ws.paths);
                self.errors.clear();
                self.focus = None;
                self.views.reset();
                // Two profiles open on their diff flamegraph; any other capture on the view
                // that suits it (a profile's flamegraph, a dump's findings), never on a tab
                // that has nothing to show for it.
                if ws.comparison().is_some_and(|c| c.diff.profile.is_some()) {
                    self.state.view = ViewKind::Compare;
                    self.state.compare.pane = ComparePane::DiffFlamegraph;
                } else if (ws.comparison().is_none() || self.state.view != ViewKind::Compare)
                    && let Some(loaded) = ws.active()
                {
                    self.state.view = views::opening_view(self.state.view, loaded);
                }
                self.session_notes.clone_from(&ws.session.notes);
                if let Some(old) = self.workspace.replace(ws) {
                    drop_in_background(old);
                }
            }
            Err(LoadFailure::Cancelled) => {}
            Err(LoadFailure::Failed(notes)) => self.errors = notes,
            Err(LoadFailure::Internal(message)) => {
                self.errors = vec![LoadErrorNote { message, path: PathBuf::new() }];
            }
        }
    }

    fn poll_background(&mut self, ctx: &egui::Context) {
        match self.loader.poll() {
            Some(LoadEvent::Preview(ws)) => self.take_preview(ws),
            Some(LoadEvent::Finished(result)) => self.take_load_result(result),
            None => {}
        }
        if self.loader.is_loading() {
            // The progress bar moves without input events. Over a first picture, a frame draws
            // a whole view (a trace's lanes), which would take the loader's CPU on a machine
            // that renders in software: four updates a second show the bar moving as well.
            let every = if self.showing_preview() { 250 } else { 50 };
            ctx.request_repaint_after(std::time::Duration::from_millis(every));
        }
        if let Some(outcome) = self.dialog.as_ref().and_then(FileDialog::poll) {
            self.dialog = None;
            match outcome {
                DialogOutcome::Picked(paths) => {
                    self.dialog_note = None;
                    self.start_load(paths, ctx);
                }
                DialogOutcome::Cancelled => {}
                DialogOutcome::Unavailable(reason) => {
                    self.dialog_note = Some(format!(
                        "Cannot show the Open dialog: {reason}. Drop files on the window, type a path on the welcome panel, or pass files on the command line: leakscope FILE [AFTER]."
                    ));
                }
            }
        }
    }

    fn handle_dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> =
            ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).collect());
        if !dropped.is_empty() {
            self.commands.send(Command::Open(dropped));
        }
    }

    /// Esc closes what is open on top, one layer per press: a menu, combo box or other popup
    /// first, then the keyboard help, then the parser warnings. The key is taken only when it
    /// closed something, so with nothing open it still zooms the flamegraph out.
    fn handle_escape(&mut self, ctx: &egui::Context) {
        if !ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
            return;
        }
        let closed = if egui::Popup::is_any_open(ctx) {
            egui::Popup::close_all(ctx);
            true
        } else if self.state.show_help {
            self.state.show_help = false;
            true
        } else if self.show_warnings {
            self.show_warnings = false;
            true
        } else {
            false
        };
        if closed {
            ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape));
        }
    }

    fn handle_shortcuts(&mut self, ctx: &egui::Context) {
        let (open, next, help) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&SHORTCUT_OPEN),
                i.consume_shortcut(&SHORTCUT_NEXT_CAPTURE),
                i.consume_shortcut(&SHORTCUT_HELP),
            )
        });
        if open {
            self.commands.send(Command::OpenDialog { compare: false });
        }
        if next {
            self.commands.send(Command::NextCapture);
        }
        if help {
            self.commands.send(Command::ToggleHelp);
        }
    }

    /// Applies the commands queued during the frame, oldest first.
    fn apply_commands(&mut self, ctx: &egui::Context) {
        for command in self.commands.drain() {
            self.apply(command, ctx);
        }
    }

    fn apply(&mut self, command: Command, ctx: &egui::Context) {
        match command {
            Command::OpenDialog { compare } => {
                if self.dialog.is_none() {
                    let start_dir = self
                        .state
                        .recent
                        .first()
                        .and_then(|e| e.paths.first())
                        .and_then(|p| p.parent())
                        .map(PathBuf::from);
                    self.dialog = Some(FileDialog::spawn(compare, start_dir, ctx));
                }
            }
            Command::Open(paths) => {
                if !paths.is_empty() {
                    self.start_load(paths, ctx);
                }
            }
            Command::OpenBundledSample => {
                self.errors.clear();
                self.abandon_preview();
                self.loader.start(LoadRequest::Bundled, ctx);
            }
            Command::CancelLoad => self.cancel_load(),
            Command::DismissError => {
                self.errors.clear();
                self.dialog_note = None;
                self.session_notes.clear();
            }
            Command::CloseAll => {
                self.loader.cancel();
                for old in [self.workspace.take(), self.before_preview.take()].into_iter().flatten() {
                    drop_in_background(old);
                }
                self.focus = None;
                self.views.reset();
            }
            Command::ClearRecent => self.state.recent.clear(),
            Command::SelectView(view) => self.state.view = view,
            Command::SelectCapture(index) => self.select_capture(index),
            Command::NextCapture => {
                if let Some(ws) = &self.workspace {
                    let next = (ws.active + 1) % ws.captures().len().max(1);
                    self.select_capture(next);
                }
            }
            Command::ShowFinding(index) => {
                self.views.findings.select(index);
                self.state.view = ViewKind::Findings;
            }
            Command::FocusFinding { finding, view } => {
                if let Some(ws) = &self.workspace {
                    self.focus = Focus::for_finding(ws, finding);
                    self.views.on_focus(self.focus.as_ref(), ws);
                }
                self.state.view = view;
            }
            Command::FocusGroup { group, view } => {
                if let Some(ws) = &self.workspace {
                    self.focus = Focus::for_group(ws, group);
                    self.views.on_focus(self.focus.as_ref(), ws);
                }
                self.state.view = view;
            }
            Command::ShowHeapSite { profile, site } => {
                let index = self
                    .workspace
                    .as_ref()
                    .and_then(|ws| ws.captures().iter().position(|c| c.capture.source.path == profile));
                if let Some(index) = index {
                    self.select_capture(index);
                    self.state.view = ViewKind::Flamegraph;
                    self.views.flamegraph.search_for(&site);
                }
            }
            Command::ShowGoroutine(id) => {
                if let Some(ws) = &self.workspace {
                    self.views.goroutines.show_goroutine(ws, id);
                }
                self.state.view = ViewKind::Goroutines;
            }
            Command::ClearFocus => {
                self.focus = None;
                if let Some(ws) = &self.workspace {
                    self.views.on_focus(None, ws);
                }
            }
            Command::CopyText(text) => ctx.copy_text(text),
            Command::ShowWarnings(show) => self.show_warnings = show,
            Command::ToggleHelp => self.state.show_help = !self.state.show_help,
            Command::SetTheme(choice) => {
                self.state.theme = choice;
                theme::apply(ctx, choice);
            }
        }
    }

    /// Makes capture `index` the active one (a capture tab, Ctrl+Tab).
    pub fn select_capture(&mut self, index: usize) {
        if let Some(ws) = &mut self.workspace
            && index < ws.captures().len()
            && index != ws.active
        {
            ws.active = index;
            // Focus names tasks of one capture; it means nothing in another.
            self.focus = None;
            self.views.reset();
            // A tab the new capture has nothing for gives way to the one that suits it.
            if let Some(loaded) = ws.active()
                && views::not_applicable(self.state.view, loaded).is_some()
            {
                self.state.view = views::opening_view(self.state.view, loaded);
            }
        }
    }

    fn note_timing(&mut self) {
        if !self.timing.enabled {
            return;
        }
        let ms = self.timing.process_start.elapsed().as_secs_f64() * 1000.0;
        if !self.timing.first_frame_done {
            self.timing.first_frame_done = true;
            eprintln!("leakscope timing: first frame at {ms:.0} ms after start");
        }
        if !self.timing.first_capture_done && self.workspace.is_some() {
            self.timing.first_capture_done = true;
            eprintln!("leakscope timing: first frame showing the capture at {ms:.0} ms after start");
        }
        let now = Instant::now();
        if self.loader.is_loading() {
            if let Some(last) = self.timing.last_frame {
                let gap = now.duration_since(last).as_secs_f64() * 1000.0;
                self.timing.longest_gap_ms = self.timing.longest_gap_ms.max(gap);
            }
            self.timing.load_frames += 1;
            self.timing.last_frame = Some(now);
        } else if self.timing.load_frames > 0 {
            eprintln!(
                "leakscope timing: {} frames drawn while loading, longest gap between frames {:.0} ms",
                self.timing.load_frames, self.timing.longest_gap_ms
            );
            self.timing.load_frames = 0;
            self.timing.longest_gap_ms = 0.0;
            self.timing.last_frame = None;
        }
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.strong("leakscope");
            ui.separator();
            ui.menu_button("File", |ui| {
                let open = ui
                    .add(egui::Button::new("Open…").shortcut_text(ui.ctx().format_shortcut(&SHORTCUT_OPEN)));
                if open.clicked() {
                    self.commands.send(Command::OpenDialog { compare: false });
                }
                if ui.button("Compare two files…").clicked() {
                    self.commands.send(Command::OpenDialog { compare: true });
                }
                ui.menu_button("Open recent", |ui| {
                    if self.state.recent.is_empty() {
                        ui.weak("Nothing yet");
                    }
                    for entry in &self.state.recent {
                        if ui.button(entry.label()).on_hover_text(recent_tooltip(entry)).clicked() {
                            self.commands.send(Command::Open(entry.paths.clone()));
                        }
                    }
                    if !self.state.recent.is_empty() {
                        ui.separator();
                        if ui.button("Clear recent files").clicked() {
                            self.commands.send(Command::ClearRecent);
                        }
                    }
                });
                if ui.button("Open the bundled sample").clicked() {
                    self.commands.send(Command::OpenBundledSample);
                }
                self.exports.menu_ui(ui, self.workspace.as_ref(), &self.views.flamegraph);
                ui.separator();
                if ui.add_enabled(self.workspace.is_some(), egui::Button::new("Close")).clicked() {
                    self.commands.send(Command::CloseAll);
                }
            });
            ui.menu_button("View", |ui| {
                ui.label("Theme");
                for (choice, label) in [
                    (ThemeChoice::System, "Follow the system"),
                    (ThemeChoice::Dark, "Dark"),
                    (ThemeChoice::Light, "Light"),
                ] {
                    if ui.radio(self.state.theme == choice, label).clicked() {
                        self.commands.send(Command::SetTheme(choice));
                    }
                }
                ui.separator();
                if ui.button("Keyboard shortcuts").clicked() {
                    self.commands.send(Command::ToggleHelp);
                }
            });
            if let Some(ws) = &self.workspace
                && ws.captures().len() > 1
            {
                ui.separator();
                for (i, c) in ws.captures().iter().enumerate() {
                    let role = ws.comparison().and_then(|cmp| {
                        if cmp.before == i {
                            Some("before: ")
                        } else if cmp.after == i {
                            Some("after: ")
                        } else {
                            None
                        }
                    });
                    let text = format!("{}{}", role.unwrap_or(""), c.name);
                    if ui
                        .selectable_label(ws.active == i, text)
                        .on_hover_text(&c.capture.source.path)
                        .clicked()
                    {
                        self.commands.send(Command::SelectCapture(i));
                    }
                }
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .selectable_label(self.state.show_help, "? Keys")
                    .on_hover_text("Keyboard shortcuts (F1)")
                    .clicked()
                {
                    self.commands.send(Command::ToggleHelp);
                }
            });
        });
    }

    fn view_tabs(&mut self, ui: &mut egui::Ui) {
        let Some(ws) = &self.workspace else { return };
        ui.horizontal(|ui| {
            for view in ViewKind::ALL {
                if view == ViewKind::Compare && ws.comparison().is_none() {
                    continue;
                }
                let text = views::tab_text(view, ws);
                let selected = self.state.view == view;
                let why_not = ws.active().and_then(|c| views::not_applicable(view, c));
                let tab = ui.add_enabled(why_not.is_none(), egui::Button::selectable(selected, text));
                let tab = match &why_not {
                    Some(why) => tab.on_disabled_hover_text(why),
                    None => tab,
                };
                // Tests and screen readers find tabs by the view's name alone.
                tab.widget_info(|| egui::WidgetInfo::selected(egui::Role::Tab, true, selected, view.label()));
                if tab.clicked() {
                    self.commands.send(Command::SelectView(view));
                }
            }
            if let Some(focus) = &self.focus {
                ui.separator();
                let palette = Palette::of(ui);
                ui.label(egui::RichText::new(format!("Narrowed to: {}", focus.title)).color(palette.link));
                if ui.small_button("× Show all").on_hover_text("Stop narrowing the views").clicked() {
                    self.commands.send(Command::ClearFocus);
                }
            }
        });
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(status) = self.loader.status() {
                views::progress_ui(ui, &status, &mut self.commands);
                ui.separator();
            }
            if let Some(loaded) = self.workspace.as_ref().and_then(Workspace::active) {
                ui.label(&loaded.name).on_hover_text(&loaded.capture.source.path);
                ui.weak(loaded.summary());
                let warnings = &loaded.capture.warnings;
                if !warnings.is_empty() {
                    let n = warnings.list().len() as u64 + warnings.suppressed();
                    let palette = Palette::of(ui);
                    let text =
                        egui::RichText::new(format!("▲ {n} parser warning{}", if n == 1 { "" } else { "s" }))
                            .color(palette.warning);
                    if ui.link(text).clicked() {
                        self.commands.send(Command::ShowWarnings(true));
                    }
                }
                // Where a narrow window has no room left, the parse time gives way instead of
                // drawing over the labels before it.
                let parsed = format!("parsed in {:.0} ms", loaded.load_time.as_secs_f64() * 1000.0);
                let room = ui.fonts_mut(|f| {
                    f.layout_no_wrap(
                        parsed.clone(),
                        egui::TextStyle::Body.resolve(ui.style()),
                        egui::Color32::WHITE,
                    )
                    .size()
                    .x
                });
                if ui.available_width() > room + ui.spacing().item_spacing.x {
                    ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                        ui.weak(parsed);
                    });
                }
            }
        });
    }

    fn central(&mut self, ui: &mut egui::Ui) {
        self.exports.poll();
        self.exports.take_screenshot(ui.ctx(), self.workspace.as_ref());
        self.exports.note_ui(ui);
        if let Some(note) = self.dialog_note.clone() {
            views::note_ui(ui, &note, Palette::of(ui).warning, &mut self.commands);
        }
        for error in &self.errors {
            views::error_ui(ui, error, &mut self.commands);
        }
        for note in &self.session_notes {
            views::note_ui(ui, note, Palette::of(ui).warning, &mut self.commands);
        }
        if let Some(loaded) = self.workspace.as_ref().and_then(Workspace::active)
            && self.loader.is_loading()
        {
            views::preview_ui(ui, loaded);
        }
        match &self.workspace {
            None => {
                let loading = self.loader.status();
                views::welcome::ui(
                    ui,
                    &self.state,
                    loading.as_ref(),
                    &mut self.typed_path,
                    &mut self.commands,
                );
            }
            Some(ws) => {
                let mut ctx = ViewCtx {
                    ws,
                    focus: self.focus.as_ref(),
                    commands: &mut self.commands,
                    state: &mut self.state,
                };
                self.views.ui(ui, &mut ctx);
            }
        }
    }

    fn windows(&mut self, ctx: &egui::Context) {
        if self.state.show_help {
            let mut open = true;
            egui::Window::new("Keyboard shortcuts")
                .open(&mut open)
                .resizable(false)
                .collapsible(false)
                .show(ctx, views::help::ui);
            if !open {
                self.commands.send(Command::ToggleHelp);
            }
        }
        if self.show_warnings {
            let mut open = true;
            if let Some(loaded) = self.workspace.as_ref().and_then(Workspace::active) {
                egui::Window::new("Parser warnings").open(&mut open).default_width(640.0).show(ctx, |ui| {
                    views::warnings_ui(ui, loaded);
                });
            }
            if !open {
                self.commands.send(Command::ShowWarnings(false));
            }
        }
    }

    fn drop_overlay(ctx: &egui::Context) {
        let hovered = ctx.input(|i| i.raw.hovered_files.len());
        if hovered == 0 {
            return;
        }
        let text = match hovered {
            1 => "Drop to open this capture".to_owned(),
            2 => "Drop to compare these two captures (first: before, second: after)".to_owned(),
            n => format!("Drop to open these {n} captures as a series"),
        };
        let painter =
            ctx.layer_painter(egui::LayerId::new(egui::Order::Foreground, egui::Id::unique("drop-overlay")));
        let rect = ctx.content_rect();
        let visuals = ctx.global_style().visuals.clone();
        painter.rect_filled(rect, 0.0, visuals.extreme_bg_color.gamma_multiply(0.85));
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            text,
            egui::FontId::proportional(22.0),
            visuals.strong_text_color(),
        );
    }
}

/// Frees a workspace on a thread of its own: a capture of millions of goroutines takes a while
/// to free, and the frame must not wait for it.
fn drop_in_background(ws: Workspace) {
    let spawned = std::thread::Builder::new().name("leakscope-drop".to_owned()).spawn(move || drop(ws));
    // If no thread can start, the workspace was moved into the failed closure and is freed here.
    let _ = spawned;
}

fn recent_tooltip(entry: &crate::state::RecentEntry) -> String {
    entry.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join("\n")
}

impl eframe::App for App {
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.poll_background(ctx);
        self.handle_dropped_files(ctx);
        self.handle_escape(ctx);
        self.handle_shortcuts(ctx);
        // Commands from the last frame's shortcuts and drops apply before this frame is drawn.
        self.apply_commands(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        if self.workspace.is_some() {
            egui::Panel::top("tabs").show(ui, |ui| self.view_tabs(ui));
        }
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::CentralPanel::default().show(ui, |ui| self.central(ui));
        let ctx = ui.ctx().clone();
        self.windows(&ctx);
        Self::drop_overlay(&ctx);
        self.apply_commands(&ctx);
        self.note_timing();
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.state);
    }
}
