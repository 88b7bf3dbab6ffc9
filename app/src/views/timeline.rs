//! The Timeline view (hosts the timeline widget).

use super::{Focus, ViewCtx};
use crate::workspace::LoadedCapture;

/// UI state of the Timeline view.
#[derive(Default)]
pub struct TimelineView;

/// One timeline with its own zoom.
#[derive(Default)]
pub struct TimelinePane;

impl TimelinePane {
    /// A capture's timeline.
    pub fn capture_ui(&mut self, ui: &mut egui::Ui, _loaded: &LoadedCapture, _name: &str) {
        ui.label("TODO(widgets): timeline");
    }
}

impl TimelineView {
    /// Filters to the focus.
    pub fn on_focus(&mut self, _focus: Option<&Focus>) {}
    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, _ctx: &mut ViewCtx<'_>) {
        ui.label("TODO(widgets): timeline");
    }
}
