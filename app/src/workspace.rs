//! What is open: a core [`Session`] (the captures, everything derived from them, the series,
//! the comparison and the findings, built once on the loader thread by the same code as
//! `leakscope report`) and what the app adds over it: which capture the views show and the
//! paths for the recent list. Nothing here is persisted.

use std::path::PathBuf;

pub use leakscope_core::session::{Comparison, FlameSource, LoadedCapture, Session, StateCount, TaskNoun};

/// Everything open.
pub struct Workspace {
    /// The captures, their series, the comparison and the findings.
    pub session: Session,
    /// The capture the views show.
    pub active: usize,
    /// The paths opened, for the recent list (empty for the bundled sample).
    pub paths: Vec<PathBuf>,
}

impl Workspace {
    /// Opens on the comparison's later capture, else the newest capture judged.
    pub fn new(session: Session, paths: Vec<PathBuf>) -> Self {
        let active = session
            .comparison
            .as_ref()
            .map(|c| c.after)
            .or_else(|| session.verdict_captures().last().copied())
            .unwrap_or(0);
        Self { session, active, paths }
    }

    /// Every capture, the baseline's first.
    pub fn captures(&self) -> &[LoadedCapture] {
        &self.session.captures
    }

    /// The comparison, when two or more captures of one program are open.
    pub fn comparison(&self) -> Option<&Comparison> {
        self.session.comparison.as_ref()
    }

    /// The capture the views show.
    pub fn active(&self) -> Option<&LoadedCapture> {
        self.session.captures.get(self.active)
    }
}
