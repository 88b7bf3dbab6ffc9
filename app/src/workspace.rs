//! Runtime data: the captures that are open and everything derived from them (groups, the
//! created-by tree, flame trees, findings, the comparison). Built once on the loader thread and
//! then only read by the views; nothing here is persisted.

use std::path::PathBuf;
use std::time::Duration;

use hashbrown::HashMap;
use leakscope_core::Capture;
use leakscope_core::analysis::flame::{self, FlameTree};
use leakscope_core::analysis::flame_locations::FlameLocations;
use leakscope_core::analysis::leaks::{self, Analysis, Config};
use leakscope_core::analysis::lineage::Lineage;
use leakscope_core::analysis::spans;
use leakscope_core::analysis::timeline::{self, WaitAges};
use leakscope_core::analysis::trace_facts::{self, BlockReasons};
use leakscope_core::diff::{self, CaptureDiff, SeriesGroup};
use leakscope_core::model::{FormatKind, Group, StackId, TaskKind, WaitKind};

use crate::widgets::ValueUnit;

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
    /// The flamegraphs the capture offers: goroutines (when it counts any), one per sample
    /// type, and span self time (traces with spans), in that order.
    pub flames: Vec<Flame>,
    /// How long each group has waited, as bars ending at capture time: the timeline of a dump
    /// (`None` for captures with state intervals of their own, and for count profiles).
    pub wait_ages: Option<WaitAges>,
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
    /// One per goroutine (dumps, goroutine profiles, the goroutines of a trace at its end).
    #[default]
    Goroutines,
    /// A sample column (CPU time, allocated bytes, ...).
    Samples(usize),
    /// Self time of trace spans, by stack of span names.
    Spans,
    /// Time goroutines of an execution trace spent blocked on synchronisation, by the stack
    /// they blocked at (like `go tool trace -pprof=sync`), blocks still open at the end
    /// included: that is where leaked goroutines sit.
    BlockTime,
}

/// One flamegraph of a capture: its tree and the file:line of each node, both built on the
/// loader thread since they cost in proportion to the capture.
pub struct Flame {
    /// What it counts.
    pub source: FlameSource,
    /// Its name in the source picker ("goroutines", "cpu (nanoseconds)", "span self time").
    pub label: String,
    /// The unit of its values, for tooltips and totals.
    pub unit: ValueUnit,
    /// The merged stacks.
    pub tree: FlameTree,
    /// Where each node's code is.
    pub locations: FlameLocations,
}

impl Flame {
    fn new(
        capture: &Capture,
        source: FlameSource,
        label: String,
        unit: ValueUnit,
        stacks: &[(StackId, i64)],
    ) -> Self {
        let tree = FlameTree::from_stacks(capture, stacks.iter().copied());
        let locations = FlameLocations::from_stacks(&tree, capture, stacks.iter().copied());
        Self { source, label, unit, tree, locations }
    }
}

impl LoadedCapture {
    /// Derives everything the views show from a parsed capture.
    pub fn new(capture: Capture, load_time: Duration) -> Self {
        let name = display_name(&capture);
        let groups = capture.groups();
        let lineage = Lineage::new(&capture);
        let flames = flames(&capture);
        let wait_ages = (capture.intervals.is_empty() && !capture.tasks.is_empty())
            .then(|| timeline::wait_ages(&capture, &groups));
        let states = state_counts(&capture, &groups);
        let mut task_by_id = HashMap::with_capacity(capture.tasks.len());
        let mut children_by_id: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, task) in capture.tasks.iter().enumerate() {
            if task.kind == TaskKind::Resource {
                continue;
            }
            task_by_id.entry(task.id).or_insert(i as u32);
            if let Some(parent) = task.parent_id.get() {
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
            flames,
            wait_ages,
            states,
            task_by_id,
            children_by_id,
            group_of_task,
            analysis: Analysis::default(),
            load_time,
        }
    }

    /// The flamegraph shown first: goroutines where there are any, else the profile's default
    /// sample type, else spans.
    pub fn default_flame_source(&self) -> Option<FlameSource> {
        let default = FlameSource::Samples(self.capture.samples.default_type);
        self.flames
            .iter()
            .find(|f| f.source == FlameSource::Goroutines)
            .or_else(|| self.flames.iter().find(|f| f.source == default))
            .or_else(|| self.flames.first())
            .map(|f| f.source)
    }

    /// The flamegraph of a source, if the capture has it.
    pub fn flame(&self, source: FlameSource) -> Option<&Flame> {
        self.flames.iter().find(|f| f.source == source)
    }

    /// Goroutines counted by the capture (tasks, or the counts of a goroutine profile).
    pub fn goroutine_count(&self) -> u64 {
        self.capture.task_count()
    }

    /// What the capture's tasks are called: "goroutines" for Go captures, "tasks" for traces of
    /// other runtimes (threads, async operations).
    pub fn task_noun(&self) -> &'static str {
        let go = self.capture.is_goroutine_count_profile()
            || self.capture.tasks.is_empty()
            || self.capture.tasks.iter().any(|t| t.kind == TaskKind::Goroutine);
        if go { "goroutines" } else { "tasks" }
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
        let noun = self.task_noun();
        let tasks = if count > 0 {
            let groups = self.groups.len();
            format!(", {count} {noun} in {groups} group{}", if groups == 1 { "" } else { "s" })
        } else {
            String::new()
        };
        let samples =
            if c.samples.is_empty() { String::new() } else { format!(", {} samples", c.samples.len()) };
        format!("{format}{kind}{go}{tasks}{samples}")
    }
}

fn flames(capture: &Capture) -> Vec<Flame> {
    let mut out = Vec::new();
    let goroutines = flame::goroutine_stacks(capture);
    if !goroutines.is_empty() {
        out.push(Flame::new(
            capture,
            FlameSource::Goroutines,
            "goroutines".to_owned(),
            ValueUnit::goroutines(),
            &goroutines,
        ));
    }
    // A goroutine count profile's one column is the goroutine flamegraph already.
    if !capture.is_goroutine_count_profile() {
        for (column, t) in capture.samples.types.iter().enumerate() {
            let stacks = flame::sample_stacks(capture, column);
            if stacks.iter().all(|&(_, v)| v == 0) {
                continue;
            }
            let (kind, unit) = (capture.str(t.kind), capture.str(t.unit));
            let label = format!("{kind} ({unit})");
            out.push(Flame::new(
                capture,
                FlameSource::Samples(column),
                label,
                ValueUnit::from_pprof(kind, unit),
                &stacks,
            ));
        }
    }
    if capture.source.format == Some(FormatKind::GoExecutionTrace) {
        let blocked = trace_facts::block_time_stacks(capture, BlockReasons::Sync, true);
        if !blocked.is_empty() {
            let label = "block time (sync, open blocks included)".to_owned();
            out.push(Flame::new(capture, FlameSource::BlockTime, label, ValueUnit::Nanoseconds, &blocked));
        }
    }
    let spans = spans::span_self_time_stacks(capture);
    if !spans.is_empty() {
        out.push(Flame::new(
            capture,
            FlameSource::Spans,
            "span self time".to_owned(),
            ValueUnit::Nanoseconds,
            &spans,
        ));
    }
    out
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
    let mut out: Vec<StateCount> = by_state
        .into_iter()
        .map(|((state, wait_kind), count)| StateCount { state, wait_kind, count })
        .collect();
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
    /// Where each node of the diff flame tree is in the code.
    pub diff_locations: FlameLocations,
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
                    let diff = diff::diff(&b.capture, &a.capture);
                    let diff_locations = FlameLocations::from_diff(
                        &diff.flame,
                        (&a.capture, &mut flame::goroutine_stacks(&a.capture).into_iter()),
                        (&b.capture, &mut flame::goroutine_stacks(&b.capture).into_iter()),
                    );
                    Some(Comparison { before, after, diff, diff_locations, series: diff::series(&all) })
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
