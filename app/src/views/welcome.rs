//! The welcome panel, shown when nothing is open: Open..., Compare..., the bundled sample, the
//! recent files, a path field (for machines without a file dialog) and how drag and drop works.

use std::path::PathBuf;

use egui::RichText;

use crate::command::{Command, Commands};
use crate::loader::LoadStatus;
use crate::state::AppState;
use crate::theme::Palette;

/// Draws the panel.
pub fn ui(
    ui: &mut egui::Ui,
    state: &AppState,
    loading: Option<&LoadStatus>,
    typed_path: &mut String,
    commands: &mut Commands,
) {
    let palette = Palette::of(ui);
    ui.vertical_centered(|ui| {
        ui.add_space((ui.available_height() * 0.12).min(80.0));
        ui.heading(RichText::new("leakscope").size(30.0).strong());
        ui.label("Find goroutine and task leaks in Go dumps, pprof profiles, execution traces and Chrome traces.");
        ui.add_space(16.0);
        if let Some(status) = loading {
            ui.horizontal(|ui| super::progress_ui(ui, status, commands));
            ui.add_space(16.0);
        }
        ui.horizontal(|ui| {
            // Centre the row of buttons.
            ui.add_space((ui.available_width() - 470.0).max(0.0) / 2.0);
            if ui.add(egui::Button::new(RichText::new("Open…").size(16.0)).min_size(egui::vec2(110.0, 32.0))).clicked() {
                commands.send(Command::OpenDialog { compare: false });
            }
            if ui.add(egui::Button::new(RichText::new("Compare two files…").size(16.0)).min_size(egui::vec2(170.0, 32.0))).clicked() {
                commands.send(Command::OpenDialog { compare: true });
            }
            if ui.add(egui::Button::new(RichText::new("Open the sample").size(16.0)).min_size(egui::vec2(150.0, 32.0)))
                .on_hover_text("A leaky Go service before and after load, compared")
                .clicked()
            {
                commands.send(Command::OpenBundledSample);
            }
        });
        ui.add_space(10.0);
        ui.label(
            RichText::new("Or drop a file on this window to open it; drop two to compare them (first before, second after).")
                .color(palette.muted),
        );
        ui.add_space(10.0);
        ui.horizontal(|ui| {
            ui.add_space((ui.available_width() - 520.0).max(0.0) / 2.0);
            let field = ui.add(egui::TextEdit::singleline(typed_path).hint_text("/path/to/capture  (two paths: before after)").desired_width(420.0));
            super::name_text_field(&field, "Path to open", typed_path);
            let enter = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if (ui.button("Open path").clicked() || enter) && !typed_path.trim().is_empty() {
                let paths: Vec<PathBuf> = typed_path.split_whitespace().map(PathBuf::from).collect();
                commands.send(Command::Open(paths));
            }
        });
        ui.add_space(24.0);
        ui.label(RichText::new("Recent files").strong());
        if state.recent.is_empty() {
            ui.weak("None yet.");
        }
        for entry in &state.recent {
            let full: Vec<String> = entry.paths.iter().map(|p| p.display().to_string()).collect();
            if ui.link(entry.label()).on_hover_text(full.join("\n")).clicked() {
                commands.send(Command::Open(entry.paths.clone()));
            }
        }
        ui.add_space(24.0);
        ui.label(RichText::new("Reads").strong());
        // The list comes from the parsers compiled in, so it never promises a format we lack.
        let formats: Vec<&str> = leakscope_core::formats::all().iter().map(|f| f.kind().title()).collect();
        ui.weak(format!("{}; gzipped or not.", formats.join(", ")));
    });
}
