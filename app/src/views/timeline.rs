//! The Timeline view (hosts the timeline widget).

use super::{Focus, ViewCtx};

/// UI state of the Timeline view.
#[derive(Default)]
pub struct TimelineView;

impl TimelineView {
    /// Filters to the focus.
    pub fn on_focus(&mut self, _focus: Option<&Focus>) {}
    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, _ctx: &mut ViewCtx<'_>) {
        ui.label("TODO(widgets): timeline");
    }
}
