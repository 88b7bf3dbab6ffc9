//! Commands: what views ask the app to do. Views only read the workspace and push commands; the
//! app applies them once per frame, after drawing, so no view mutates what another is reading
//! in the same frame.

use std::path::PathBuf;

use crate::state::{ThemeChoice, ViewKind};

/// One request from the UI.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Show the native open dialog (off the UI thread). `compare` asks for two files.
    OpenDialog {
        /// Pick a before and an after file.
        compare: bool,
    },
    /// Open files: one to explore, two (before, after) to compare, more as a series.
    Open(Vec<PathBuf>),
    /// Open the sample embedded in the binary.
    OpenBundledSample,
    /// Stop the load in progress.
    CancelLoad,
    /// Hide the load error.
    DismissError,
    /// Close everything and go back to the welcome panel.
    CloseAll,
    /// Forget the recent files.
    ClearRecent,
    /// Switch view.
    SelectView(ViewKind),
    /// Make a capture the active one.
    SelectCapture(usize),
    /// Cycle to the next capture (Ctrl+Tab).
    NextCapture,
    /// Open the Findings view on one finding (by index in the active capture's findings).
    ShowFinding(usize),
    /// Narrow the views to one finding's goroutines and switch to `view`.
    FocusFinding {
        /// Index of the finding in the active capture's findings.
        finding: usize,
        /// The view to show it in.
        view: ViewKind,
    },
    /// Narrow the views to one group of the active capture and switch to `view`.
    FocusGroup {
        /// Index into the active capture's groups.
        group: usize,
        /// The view to show it in.
        view: ViewKind,
    },
    /// Show one goroutine (by its id) in the Goroutines view.
    ShowGoroutine(u64),
    /// Open the heap profile a finding's memory was joined with, on its flamegraph with the
    /// grown allocation site searched.
    ShowHeapSite {
        /// The heap profile's path, as the capture's source names it.
        profile: String,
        /// The allocation site to search for.
        site: String,
    },
    /// Drop the focus on a finding or group.
    ClearFocus,
    /// Put text on the clipboard.
    CopyText(String),
    /// Show or hide the parser warnings window.
    ShowWarnings(bool),
    /// Show or hide the keyboard help.
    ToggleHelp,
    /// Change the theme.
    SetTheme(ThemeChoice),
}

/// Commands pushed during a frame.
#[derive(Debug, Default)]
pub struct Commands {
    queue: Vec<Command>,
}

impl Commands {
    /// Asks for `command` to be applied at the end of the frame.
    pub fn send(&mut self, command: Command) {
        self.queue.push(command);
    }

    /// Takes the queued commands, oldest first.
    pub fn drain(&mut self) -> Vec<Command> {
        std::mem::take(&mut self.queue)
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}
