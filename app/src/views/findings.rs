//! The Findings view (lands with the leak analysis).

use super::ViewCtx;
use crate::workspace::Workspace;

/// UI state of the Findings view.
#[derive(Default)]
pub struct FindingsView;

/// Number of findings of the active capture.
pub fn count(_ws: &Workspace) -> usize {
    0
}

impl FindingsView {
    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, _ctx: &mut ViewCtx<'_>) {
        ui.label("TODO(analysis): findings");
    }
}
