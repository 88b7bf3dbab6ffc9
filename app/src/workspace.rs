//! Runtime data: the captures that are open and everything derived from them (groups, the
//! created-by tree, flame trees, findings, the comparison). Built once on the loader thread and
//! then only read by the views; nothing here is persisted.

use std::path::PathBuf;
use std::time::Duration;

use hashbrown::HashMap;
use leakscope_core::Capture;
use leakscope_core::analysis::flame::{self, FlameTree};
use leakscope_core::analysis::leaks::{self, Analysis, Config};
use leakscope_core::analysis::lineage::Lineage;
use leakscope_core::diff::{self, CaptureDiff, SeriesGroup};
use leakscope_core::model::{Group, TaskKind, WaitKind};

/// One open capture and what the views need from it, computed up front so no frame pays for it.
pub struct LoadedCapture {
    /// The parsed capture.
    pub capture: Capture,
    /// Short name for tabs and titles: the file name, with the dump's place in a series.
    pub name: String,
    /// Groups, largest first (the model's order).
    pub groups: Vec<Group>,
    /// The created-by tree.
    pub lineage: Lineage,
    /// Goroutines (or counted goroutines) merged into a flame tree; `None` when the capture
    /// counts no goroutines (a CPU profile).
    pub goroutine_flame: Option<FlameTree>,
    /// One flame tree per sample type, in the capture's column order.
    pub sample_flames: Vec<FlameTree>,
    /// Goroutines per state, most first.
    pub states: Vec<StateCount>,
    /// Task index by goroutine id.
    pub task_by_id: HashMap<u64, u32>,
    /// Task indices of the goroutines each goroutine id created, ascending.
    pub children_by_id: HashMap<u64, Vec<u32>>,
    /// Group index of each task (`u32::MAX` for tasks in no group).
    pub group_of_task: Vec<u32>,
    /// Leak findings, worst first, with growth against the captures opened before this one.
    pub analysis: Analysis,
    /// Time spent parsing and analysing.
    pub load_time: Duration,
}

/// Goroutines in one state.
#[derive(Clone, Debug, PartialEq)]
pub struct StateCount {
    /// The state as the capture spells it (the wait kind's name for captures without states).
    pub state: String,
    /// Its classification.
    pub wait_kind: WaitKind,
    /// How many.
    pub count: u64,
}

/// Where the flamegraph takes its values from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FlameSource {
    /// One per goroutine (dumps, goroutine profiles).
    #[default]
    Goroutines,
    /// A sample column (CPU time, allocated bytes, ...).
    Samples(usize),
}

impl LoadedCapture {
    /// Derives everything the views show from a parsed capture.
    pub fn new(capture: Capture, load_time: Duration) -> Self {
        let name = display_name(&capture);
        let groups = capture.groups();
        let lineage = Lineage::new(&capture);
        let goroutine_flame = (!capture.tasks.is_empty() || capture.is_goroutine_count_profile())
            .then(|| FlameTree::goroutines(&capture));
        let sample_flames = if capture.is_goroutine_count_profile() {
            Vec::new()
        } else {
            (0..capture.samples.types.len())
                .map(|column| FlameTree::from_stacks(&capture, flame::sample_stacks(&capture, column)))
                .collect()
        };
        let states = state_counts(&capture, &groups);
        let mut task_by_id = HashMap::with_capacity(capture.tasks.len());
        let mut children_by_id: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, task) in capture.tasks.iter().enumerate() {
            if task.kind == TaskKind::Resource {
                continue;
            }
            task_by_id.entry(task.id).or_insert(i as u32);
            if let Some(parent) = task.parent_id {
                children_by_id.entry(parent).or_default().push(i as u32);
            }
        }
        let mut group_of_task = vec![u32::MAX; capture.tasks.len()];
        for (g, group) in groups.iter().enumerate() {
            for &m in &group.members {
                if let Some(slot) = group_of_task.get_mut(m as usize) {
                    *slot = g as u32;
                }
            }
        }
        Self {
            capture,
            name,
            groups,
            lineage,
            goroutine_flame,
            sample_flames,
            states,
            task_by_id,
            children_by_id,
            group_of_task,
            analysis: Analysis::default(),
            load_time,
        }
    }

    /// The flame sources this capture offers, with a label each.
    pub fn flame_sources(&self) -> Vec<(FlameSource, String)> {
        let mut out = Vec::new();
        if self.goroutine_flame.is_some() {
            out.push((FlameSource::Goroutines, "goroutines".to_owned()));
        }
        for (i, t) in self.capture.samples.types.iter().enumerate() {
            if i < self.sample_flames.len() {
                let kind = self.capture.str(t.kind);
                let unit = self.capture.str(t.unit);
                out.push((FlameSource::Samples(i), format!("{kind} ({unit})")));
            }
        }
        out
    }

    /// The flame source shown first: goroutines where there are any, else the profile's
    /// default sample type.
    pub fn default_flame_source(&self) -> FlameSource {
        if self.goroutine_flame.is_some() {
            FlameSource::Goroutines
        } else {
            FlameSource::Samples(self.capture.samples.default_type.min(self.sample_flames.len().saturating_sub(1)))
        }
    }

    /// The tree for a source, if the capture has it.
    pub fn flame(&self, source: FlameSource) -> Option<&FlameTree> {
        match source {
            FlameSource::Goroutines => self.goroutine_flame.as_ref(),
            FlameSource::Samples(i) => self.sample_flames.get(i),
        }
    }

    /// The unit of a source's values, for tooltips.
    pub fn flame_unit(&self, source: FlameSource) -> String {
        match source {
            FlameSource::Goroutines => "goroutines".to_owned(),
            FlameSource::Samples(i) => self
                .capture
                .samples
                .types
                .get(i)
                .map(|t| self.capture.str(t.unit).to_owned())
                .unwrap_or_default(),
        }
    }

    /// Goroutines counted by the capture (tasks, or the counts of a goroutine profile).
    pub fn goroutine_count(&self) -> u64 {
        self.capture.task_count()
    }

    /// The group holding task `task`.
    pub fn group_of(&self, task: u32) -> Option<usize> {
        self.group_of_task.get(task as usize).filter(|&&g| g != u32::MAX).map(|&g| g as usize)
    }

    /// The format and what the capture counts, for the status bar.
    pub fn summary(&self) -> String {
        let c = &self.capture;
        let format = c.source.format.map_or("unknown format", |f| f.title());
        let kind = c.source.profile_type.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
        let go = c.source.go_version.as_deref().map(|v| format!(", {v}")).unwrap_or_default();
        let count = self.goroutine_count();
        let tasks = if count > 0 { format!(", {count} goroutines in {} groups", self.groups.len()) } else { String::new() };
        let samples =
            if c.samples.is_empty() { String::new() } else { format!(", {} samples", c.samples.len()) };
        format!("{format}{kind}{go}{tasks}{samples}")
    }
}

fn display_name(capture: &Capture) -> String {
    let path = capture.source.path.strip_prefix("bundled:").unwrap_or(&capture.source.path);
    let file = std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned());
    if capture.source.series_len > 1 {
        format!("{file} #{}/{}", capture.source.series_index + 1, capture.source.series_len)
    } else {
        file
    }
}

fn state_counts(capture: &Capture, groups: &[Group]) -> Vec<StateCount> {
    let mut by_state: HashMap<(String, WaitKind), u64> = HashMap::new();
    for g in groups {
        let state = g.state.map_or_else(|| g.wait_kind.name().to_owned(), |s| capture.str(s).to_owned());
        *by_state.entry((state, g.wait_kind)).or_insert(0) += g.count;
    }
    let mut out: Vec<StateCount> =
        by_state.into_iter().map(|((state, wait_kind), count)| StateCount { state, wait_kind, count }).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.state.cmp(&b.state)));
    out
}

/// Two captures compared: which is before and which after, and their diff.
pub struct Comparison {
    /// Index of the earlier capture.
    pub before: usize,
    /// Index of the later capture.
    pub after: usize,
    /// Families matched across the two, with the diff flame tree.
    pub diff: CaptureDiff,
    /// Every family followed across all open captures, oldest first (for the growth chart).
    pub series: Vec<SeriesGroup>,
}

/// Everything open.
pub struct Workspace {
    /// Open captures, in the order given (a series file contributes each dump, oldest first).
    pub captures: Vec<LoadedCapture>,
    /// The capture the views show.
    pub active: usize,
    /// Set when two or more captures were opened together.
    pub comparison: Option<Comparison>,
    /// The paths opened, for the recent list (empty for the bundled sample).
    pub paths: Vec<PathBuf>,
    /// Why the project's `leakscope.toml` could not be used, if it could not.
    pub config_error: Option<String>,
}

impl Workspace {
    /// Builds the workspace from parsed captures: analyses each capture against the ones
    /// opened before it (so the last one shows growth along the whole sequence), and compares
    /// the last capture of the first file ("before") with the last capture overall ("after");
    /// a single file holding a series compares its first and last dumps.
    pub fn new(mut captures: Vec<LoadedCapture>, first_file_len: usize, paths: Vec<PathBuf>) -> Self {
        let (config, config_error) = project_config();
        let analyses: Vec<Analysis> = (0..captures.len())
            .map(|i| {
                let series: Vec<&Capture> = captures.iter().take(i + 1).map(|c| &c.capture).collect();
                leaks::analyze_series(&series, &config)
            })
            .collect();
        for (loaded, analysis) in captures.iter_mut().zip(analyses) {
            loaded.analysis = analysis;
        }
        let comparison = if captures.len() >= 2 {
            let before = if first_file_len < captures.len() { first_file_len.saturating_sub(1) } else { 0 };
            let after = captures.len() - 1;
            match (captures.get(before), captures.get(after)) {
                (Some(b), Some(a)) => {
                    let all: Vec<&Capture> = captures.iter().map(|c| &c.capture).collect();
                    Some(Comparison {
                        before,
                        after,
                        diff: diff::diff(&b.capture, &a.capture),
                        series: diff::series(&all),
                    })
                }
                _ => None,
            }
        } else {
            None
        };
        let active = comparison.as_ref().map_or(0, |c| c.after);
        Self { captures, active, comparison, paths, config_error }
    }

    /// The capture the views show.
    pub fn active(&self) -> Option<&LoadedCapture> {
        self.captures.get(self.active)
    }
}

/// The project's leak-rule configuration (`leakscope.toml` found from the working directory
/// up, as `leakscope report` does), or the defaults with the reason it could not be read.
fn project_config() -> (Config, Option<String>) {
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    match Config::discover(&dir) {
        Ok(config) => (config, None),
        Err(e) => (Config::default(), Some(e.to_string())),
    }
}
