//! What the app remembers between runs through eframe storage: recent files, the view that was
//! open and each view's options. Loaded captures and load jobs are runtime data and live in
//! [`crate::workspace`] and [`crate::loader`]; nothing here may be expensive to save.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Most recent entries kept.
pub const MAX_RECENT: usize = 10;

/// The persisted part of the app. `#[serde(default)]` so that a field added later (or removed)
/// never throws away the rest of a user's settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppState {
    /// Files opened recently, newest first.
    pub recent: Vec<RecentEntry>,
    /// The view shown.
    pub view: ViewKind,
    /// Dark, light, or follow the system.
    pub theme: ThemeChoice,
    /// Whether the keyboard help panel is open.
    pub show_help: bool,
    /// Goroutines view options.
    pub goroutines: GoroutineOptions,
    /// Flamegraph view options.
    pub flame: FlameOptions,
    /// Timeline view options.
    pub timeline: TimelineOptions,
    /// Compare view options.
    pub compare: CompareOptions,
}

impl AppState {
    /// Puts `paths` at the top of the recent list (one path: a file; two: a comparison).
    pub fn remember(&mut self, paths: &[PathBuf]) {
        if paths.is_empty() {
            return;
        }
        let entry = RecentEntry { paths: paths.to_vec() };
        self.recent.retain(|e| e != &entry);
        self.recent.insert(0, entry);
        self.recent.truncate(MAX_RECENT);
    }
}

/// A recently opened file, or a pair opened as a comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentEntry {
    /// One file, or before and after.
    pub paths: Vec<PathBuf>,
}

impl RecentEntry {
    /// A short text for menus: file names, "before → after" for comparisons.
    pub fn label(&self) -> String {
        let names: Vec<String> = self
            .paths
            .iter()
            .map(|p| {
                p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
            })
            .collect();
        names.join(" → ")
    }
}

/// The main views, in tab order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ViewKind {
    /// Leak findings.
    #[default]
    Findings,
    /// Goroutine groups and the created-by tree.
    Goroutines,
    /// Flamegraph of stacks or samples.
    Flamegraph,
    /// Timeline of task lanes.
    Timeline,
    /// Before/after comparison.
    Compare,
}

impl ViewKind {
    /// Every view, in tab order.
    pub const ALL: [ViewKind; 5] = [
        ViewKind::Findings,
        ViewKind::Goroutines,
        ViewKind::Flamegraph,
        ViewKind::Timeline,
        ViewKind::Compare,
    ];

    /// The tab label, which is also the accessible name tests find it by.
    pub fn label(self) -> &'static str {
        match self {
            ViewKind::Findings => "Findings",
            ViewKind::Goroutines => "Goroutines",
            ViewKind::Flamegraph => "Flamegraph",
            ViewKind::Timeline => "Timeline",
            ViewKind::Compare => "Compare",
        }
    }
}

/// The colour theme.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ThemeChoice {
    /// Follow the operating system.
    #[default]
    System,
    /// Always dark.
    Dark,
    /// Always light.
    Light,
}

/// Columns the groups table sorts by.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupSort {
    /// Goroutines in the group.
    #[default]
    Count,
    /// State as the capture spells it.
    State,
    /// Longest wait.
    Wait,
    /// Innermost function outside the standard library.
    Function,
    /// Creating function.
    CreatedBy,
    /// pprof label set (as `key=value` text), which puts the groups of one route or tenant
    /// together.
    Labels,
}

/// How the Goroutines view lays out what it shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum GoroutineLayout {
    /// The groups table.
    #[default]
    Groups,
    /// The created-by tree.
    Tree,
}

/// Goroutines view options.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GoroutineOptions {
    /// Table or tree.
    pub layout: GoroutineLayout,
    /// Sort column.
    pub sort: GroupSort,
    /// Largest first (or Z to A).
    pub descending: bool,
    /// Treat the filter text as a regular expression.
    pub regex: bool,
    /// Hide runtime-internal goroutines (GC workers, finalizers).
    pub hide_system: bool,
}

impl Default for GoroutineOptions {
    fn default() -> Self {
        Self {
            layout: GoroutineLayout::Groups,
            sort: GroupSort::Count,
            descending: true,
            regex: false,
            hide_system: false,
        }
    }
}

/// Flamegraph view options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FlameOptions {
    /// Root at the top, growing down (icicle), instead of at the bottom (flame).
    pub icicle: bool,
}

/// How the timeline groups lanes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LaneGrouping {
    /// One lane per task, in capture order.
    #[default]
    None,
    /// Lanes under their creation site.
    CreatedBy,
    /// Lanes under their state.
    State,
}

/// Timeline view options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TimelineOptions {
    /// Lane grouping.
    pub grouping: LaneGrouping,
    /// Only tasks parked (blocked) at the end of the capture.
    pub only_blocked: bool,
    /// Only tasks that had not ended by the end of the capture.
    pub only_alive: bool,
    /// Only tasks the capture saw live at least this long (0: any).
    pub min_lifetime_ns: i64,
}

/// What each pane of the Compare view shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComparePane {
    /// The growth table.
    #[default]
    Growth,
    /// The diff flamegraph.
    DiffFlamegraph,
    /// Goroutine groups, side by side.
    Goroutines,
    /// Flamegraphs, side by side.
    Flamegraphs,
    /// Timelines, side by side.
    Timelines,
}

/// Compare view options.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CompareOptions {
    /// What the view shows.
    pub pane: ComparePane,
    /// The diff flamegraph of two profiles scales the base so both totals match (pprof's
    /// `-normalize`) rather than showing the values as recorded.
    pub normalize: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recent_moves_to_front_without_duplicates() {
        let mut s = AppState::default();
        s.remember(&[PathBuf::from("a")]);
        s.remember(&[PathBuf::from("b"), PathBuf::from("c")]);
        s.remember(&[PathBuf::from("a")]);
        assert_eq!(s.recent.len(), 2);
        assert_eq!(s.recent[0].label(), "a");
        assert_eq!(s.recent[1].label(), "b → c");
        for i in 0..20 {
            s.remember(&[PathBuf::from(i.to_string())]);
        }
        assert_eq!(s.recent.len(), MAX_RECENT);
    }

    #[test]
    fn old_or_partial_settings_still_load() {
        // A field that no longer exists and missing fields must not lose the rest.
        let s: AppState = serde_json::from_str(r#"{"view":"Timeline","gone":1}"#).unwrap();
        assert_eq!(s.view, ViewKind::Timeline);
        assert!(s.goroutines.descending);
    }
}
