//! The Flamegraph view (hosts the flamegraph widget).

use leakscope_core::analysis::flame::FlameTree;

use super::{Focus, ViewCtx};
use crate::workspace::{LoadedCapture, Workspace};

/// UI state of the Flamegraph view.
#[derive(Default)]
pub struct FlamegraphView;

/// One flamegraph with its own zoom.
#[derive(Default)]
pub struct FlamePane;

impl FlamePane {
    /// A capture's goroutine flamegraph.
    pub fn capture_ui(&mut self, ui: &mut egui::Ui, _loaded: &LoadedCapture, _name: &str) {
        ui.label("TODO(widgets): flamegraph");
    }

    /// A diff flamegraph.
    pub fn diff_ui(&mut self, ui: &mut egui::Ui, _tree: &FlameTree, _name: &str, _ctx: &mut ViewCtx<'_>) {
        ui.label("TODO(widgets): diff flamegraph");
    }
}

impl FlamegraphView {
    /// Zooms to the focus.
    pub fn on_focus(&mut self, _focus: Option<&Focus>, _ws: &Workspace) {}
    /// Draws the view.
    pub fn ui(&mut self, ui: &mut egui::Ui, _ctx: &mut ViewCtx<'_>) {
        ui.label("TODO(widgets): flamegraph");
    }
}
