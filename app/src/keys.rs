//! The keyboard shortcuts the shell and the views share. Kept below both so a view reads them
//! without importing the shell.

use egui::{Key, KeyboardShortcut, Modifiers};

/// Ctrl+O (Cmd+O on macOS): open a capture.
pub const SHORTCUT_OPEN: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::O);
/// Ctrl+F: search in the current view.
pub const SHORTCUT_SEARCH: KeyboardShortcut = KeyboardShortcut::new(Modifiers::COMMAND, Key::F);
/// Ctrl+Tab: next capture.
pub const SHORTCUT_NEXT_CAPTURE: KeyboardShortcut = KeyboardShortcut::new(Modifiers::CTRL, Key::Tab);
/// F1: keyboard help.
pub const SHORTCUT_HELP: KeyboardShortcut = KeyboardShortcut::new(Modifiers::NONE, Key::F1);
