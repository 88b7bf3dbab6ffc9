//! The Flamegraph view (hosts the flamegraph widget).

use super::{Focus, ViewCtx};
use crate::workspace::Workspace;

/// UI state of the Flamegraph view.
#[derive(Default)]
pub struct FlamegraphView;

impl FlamegraphView {
    /// Zooms to the focus.
    pub fn on_focus(&mut self, _focus: Option<&Focus>, _ws: &Workspace) {}
    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, _ctx: &mut ViewCtx<'_>) {
        ui.label("TODO(widgets): flamegraph");
    }
}
