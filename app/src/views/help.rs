//! The keyboard help panel. The list here is the one source for the panel and the README.

use egui::RichText;

/// Every shortcut: keys and what they do.
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Ctrl+O", "Open a capture (Cmd+O on macOS)"),
    ("Ctrl+F", "Search: filter goroutines, or highlight frames in the flamegraph"),
    ("W / S", "Zoom in / out (flamegraph, timeline; pointer over the widget)"),
    ("A / D", "Pan left / right (flamegraph, timeline)"),
    ("Arrow keys", "Flamegraph: zoom to the largest callee, back to the caller, or to a sibling"),
    ("Esc", "Reset zoom, clear the search"),
    ("Double-click", "Reset zoom (flamegraph)"),
    ("Right-click", "A frame's sandwich: its callers and callees (flamegraph)"),
    ("Scroll / drag", "Zoom / pan (flamegraph, timeline)"),
    ("Click a header", "Fold or unfold a group's lanes (timeline)"),
    ("Click the overview", "Move the view there, its width kept (timeline; drag to follow)"),
    ("Ctrl+Tab", "Next capture (before, after, each dump of a series)"),
    ("F1", "Show or hide this help"),
];

/// Draws the shortcut table.
pub fn ui(ui: &mut egui::Ui) {
    egui::Grid::new("shortcuts").num_columns(2).spacing([24.0, 6.0]).striped(true).show(ui, |ui| {
        for (keys, action) in SHORTCUTS {
            ui.label(RichText::new(*keys).monospace().strong());
            ui.label(*action);
            ui.end_row();
        }
    });
    ui.add_space(8.0);
    ui.weak("Drop one file on the window to open it, two to compare them (first before, second after).");
}
