//! Starting the native window.

use std::time::Instant;

use crate::app::{App, Startup};

/// Opens the window and runs until it is closed.
pub fn run(startup: Startup, process_start: Instant) -> eframe::Result {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("leakscope")
            .with_app_id("leakscope")
            .with_inner_size([1440.0, 900.0])
            .with_min_inner_size([720.0, 480.0])
            .with_drag_and_drop(true),
        persist_window: true,
        ..eframe::NativeOptions::default()
    };
    eframe::run_native(
        "leakscope",
        options,
        Box::new(move |cc| Ok(Box::new(App::new(cc, startup, process_start)))),
    )
}
