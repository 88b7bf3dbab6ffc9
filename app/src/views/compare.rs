//! The Compare view.

use super::ViewCtx;

/// UI state of the Compare view.
#[derive(Default)]
pub struct CompareView;

impl CompareView {
    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, _ctx: &mut ViewCtx<'_>) {
        ui.label("TODO(diff): compare");
    }
}
