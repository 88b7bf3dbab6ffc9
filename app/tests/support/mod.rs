//! The app test harness, shared by the kittest suites: an app on a fixed-size window, a way to
//! wait for its loads, the bundled samples and file drops as a windowing backend makes them.

// Each test binary uses a different part of this module.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use egui_kittest::Harness;
use leakscope::state::AppState;
use leakscope::{App, Startup};

/// The app at 1400x900, starting as `startup` says, not yet settled.
pub fn harness(startup: Startup) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1400.0, 900.0))
        // The loader thread asks for a repaint after handing over its result; on a busy
        // machine that request can land after `settle`, costing a frame or two more.
        .with_max_steps(16)
        .build_eframe(move |cc| App::with_state(&cc.egui_ctx, AppState::default(), startup, Instant::now()))
}

/// The app with `files` open and loaded.
pub fn opened(files: Vec<PathBuf>) -> Harness<'static, App> {
    let mut h = harness(Startup::Files(files));
    settle(&mut h);
    h
}

/// Runs frames until the load started by the app (or by a command) has finished.
pub fn settle(h: &mut Harness<'_, App>) {
    h.run_steps(2);
    h.state_mut().finish_loading_blocking();
    h.run();
}

/// The repository's `sample-traces` folder.
pub fn sample_traces() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-traces")
}

/// One file of `sample-traces`.
pub fn sample(name: &str) -> PathBuf {
    sample_traces().join(name)
}

/// A dropped file, as a windowing backend hands it to egui.
#[derive(Debug)]
pub struct Dropped(pub PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Drops `paths` at once, drawing frames while the load runs, then lets it finish.
pub fn drop_files(h: &mut Harness<'_, App>, paths: &[PathBuf]) {
    for p in paths {
        h.input_mut().dropped_files.push(Arc::new(Dropped(p.clone())));
    }
    settle(h);
}
