//! One capture of a session and what every view and the report read from it, derived once
//! when the session is built: groups, the created-by tree, id indexes, counts per state, the
//! flamegraphs it offers and a dump's wait ages.

use std::time::Duration;

use hashbrown::HashMap;

use crate::analysis::flame::{self, FlameTree};
use crate::analysis::flame_locations::FlameLocations;
use crate::analysis::leaks::Analysis;
use crate::analysis::lineage::Lineage;
use crate::analysis::spans;
use crate::analysis::trace_facts::{self, BlockReasons};
use crate::analysis::wait_ages::{self, WaitAges};
use crate::format::ValueUnit;
use crate::model::{Capture, FormatKind, Group, StackId, TaskKind, WaitKind};

/// What a session is built for. The verdict is the same for both; only what the views alone
/// read is skipped for the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// The report: captures, groups, states, the analysis and the series.
    Report,
    /// The app: also flamegraphs, the created-by tree, id indexes, wait ages and the
    /// comparison's diff.
    Views,
}

/// What a capture's tasks are: the word views and the report use for them, and whether the
/// goroutine rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskNoun {
    /// Go goroutines (dumps, goroutine profiles, execution traces).
    Goroutines,
    /// Threads and async operations of other runtimes (Chrome traces).
    Tasks,
}

impl TaskNoun {
    /// The plural word: "goroutines" or "tasks".
    pub fn plural(self) -> &'static str {
        match self {
            TaskNoun::Goroutines => "goroutines",
            TaskNoun::Tasks => "tasks",
        }
    }

    /// The singular word: "goroutine" or "task".
    pub fn singular(self) -> &'static str {
        match self {
            TaskNoun::Goroutines => "goroutine",
            TaskNoun::Tasks => "task",
        }
    }

    /// A title for tabs: "Goroutines" or "Tasks".
    pub fn title(self) -> &'static str {
        match self {
            TaskNoun::Goroutines => "Goroutines",
            TaskNoun::Tasks => "Tasks",
        }
    }
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

/// Where a flamegraph takes its values from.
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

impl FlameSource {
    /// The `(stack, value)` pairs this source counts, for views that need more than the tree
    /// (the lines of a function, a filtered tree).
    pub fn stacks(self, capture: &Capture) -> Vec<(StackId, i64)> {
        match self {
            Self::Goroutines => flame::goroutine_stacks(capture),
            Self::Samples(column) => flame::sample_stacks(capture, column),
            Self::Spans => spans::span_self_time_stacks(capture),
            Self::BlockTime => trace_facts::block_time_stacks(capture, BlockReasons::Sync, true),
        }
    }
}

/// One flamegraph of a capture: its tree and the file:line of each node, both built when the
/// session is, since they cost in proportion to the capture.
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
    /// Value of the stacks with no frames (goroutines an execution trace never saw a stack
    /// for), left out of `tree`: drawn, they are a blank stretch of the root that says nothing.
    pub no_stack: i64,
    /// The tree with them in, under a frame that says what they are, for the views that offer
    /// to show them; `None` when there are none.
    pub with_no_stack: Option<Box<(FlameTree, FlameLocations)>>,
}

impl Flame {
    fn new(
        capture: &Capture,
        source: FlameSource,
        label: String,
        unit: ValueUnit,
        stacks: &[(StackId, i64)],
    ) -> Self {
        let is_empty = |s: &StackId| capture.tables.stack(*s).is_empty();
        let no_stack =
            stacks.iter().filter(|(s, _)| is_empty(s)).fold(0i64, |a, &(_, v)| a.saturating_add(v));
        let with_frames = || stacks.iter().copied().filter(|(s, _)| !is_empty(s));
        let tree = FlameTree::from_stacks(capture, with_frames());
        let locations = FlameLocations::from_stacks(&tree, capture, with_frames());
        let with_no_stack = (no_stack != 0).then(|| {
            let name = format!("(no stack: {})", unit.format(no_stack));
            let tree = FlameTree::from_stacks_naming_empty(capture, stacks.iter().copied(), &name);
            let locations = FlameLocations::from_stacks(&tree, capture, with_frames());
            Box::new((tree, locations))
        });
        Self { source, label, unit, tree, locations, no_stack, with_no_stack }
    }
}

/// One capture of a session with everything derived from it.
pub struct LoadedCapture {
    /// The parsed capture.
    pub capture: Capture,
    /// Short name for tabs and titles: the file name, with the dump's place in a series, and
    /// the parent folder where two captures of the session share a file name.
    pub name: String,
    /// Index of the input (file) it came from, in the order given.
    pub input: usize,
    /// Whether it came from the baseline rather than the files to analyse.
    pub is_baseline: bool,
    /// Groups, largest first (the model's order).
    pub groups: Vec<Group>,
    /// The created-by tree.
    pub lineage: Lineage,
    /// The flamegraphs the capture offers: goroutines (when it counts any), one per sample
    /// type, block time (execution traces) and span self time (traces with spans), in that
    /// order.
    pub flames: Vec<Flame>,
    /// How long each group has been waiting, as bars ending at capture time: the timeline of a
    /// dump (`None` for captures with state intervals of their own, and for count profiles).
    pub wait_ages: Option<WaitAges>,
    /// Goroutines per state, most first.
    pub states: Vec<StateCount>,
    /// The pprof label keys its goroutines carry, sorted (empty without labels).
    pub label_keys: Vec<String>,
    /// Task index by goroutine id.
    pub task_by_id: HashMap<u64, u32>,
    /// Task indices of the goroutines each goroutine id created, ascending.
    pub children_by_id: HashMap<u64, Vec<u32>>,
    /// Group index of each task (`u32::MAX` for tasks in no group).
    pub group_of_task: Vec<u32>,
    /// Leak findings, worst first, judged with the earlier captures of the capture's series.
    pub analysis: Analysis,
    /// The series (program and kind of capture) it belongs to, an index into
    /// [`Session::series`](super::Session::series).
    pub series: usize,
    /// Time spent parsing it.
    pub load_time: Duration,
}

impl LoadedCapture {
    /// Derives everything the views show from a parsed capture (the analysis comes later, once
    /// the session knows the capture's series).
    pub fn new(
        capture: Capture,
        input: usize,
        is_baseline: bool,
        load_time: Duration,
        purpose: Purpose,
    ) -> Self {
        let name = display_name(&capture);
        let groups = capture.groups();
        let states = state_counts(&capture, &groups);
        let label_keys = FlameTree::label_keys_of(&capture, &groups);
        if purpose == Purpose::Report {
            return Self {
                capture,
                name,
                input,
                is_baseline,
                groups,
                lineage: Lineage::default(),
                flames: Vec::new(),
                wait_ages: None,
                states,
                label_keys,
                task_by_id: HashMap::new(),
                children_by_id: HashMap::new(),
                group_of_task: Vec::new(),
                analysis: Analysis::default(),
                series: 0,
                load_time,
            };
        }
        let lineage = Lineage::new(&capture);
        let flames = flames(&capture);
        let wait_ages = (capture.intervals.is_empty() && !capture.tasks.is_empty())
            .then(|| wait_ages::wait_ages(&capture, &groups));
        let mut task_by_id = HashMap::with_capacity(capture.tasks.len());
        let mut children_by_id: HashMap<u64, Vec<u32>> = HashMap::new();
        for (i, task) in capture.tasks.enumerate() {
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
            input,
            is_baseline,
            groups,
            lineage,
            flames,
            wait_ages,
            states,
            label_keys,
            task_by_id,
            children_by_id,
            group_of_task,
            analysis: Analysis::default(),
            series: 0,
            load_time,
        }
    }

    /// The flamegraph shown first: goroutines where there are any, else the profile's default
    /// sample type (in-use bytes for a heap profile, as `go tool pprof` opens it), else the
    /// first the capture offers.
    pub fn default_flame_source(&self) -> Option<FlameSource> {
        let default = FlameSource::Samples(crate::analysis::top::top_column(&self.capture));
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

    /// What the capture's tasks are: goroutines for Go captures, tasks for traces of other
    /// runtimes (threads, async operations).
    pub fn task_noun(&self) -> TaskNoun {
        task_noun(&self.capture)
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
        let noun = self.task_noun().plural();
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

/// "goroutines" for Go captures (and ones with no tasks), "tasks" for threads and async work.
fn task_noun(capture: &Capture) -> TaskNoun {
    let go = capture.is_goroutine_count_profile()
        || capture.tasks.is_empty()
        || capture.tasks.iter().any(|t| t.kind == TaskKind::Goroutine);
    if go { TaskNoun::Goroutines } else { TaskNoun::Tasks }
}

fn flames(capture: &Capture) -> Vec<Flame> {
    let mut out = Vec::new();
    let goroutines = FlameSource::Goroutines.stacks(capture);
    if !goroutines.is_empty() {
        // A Node or Python trace's tasks are not goroutines: the picker and the counts say so.
        let noun = task_noun(capture).plural();
        out.push(Flame::new(
            capture,
            FlameSource::Goroutines,
            noun.to_owned(),
            ValueUnit::Count(noun.into()),
            &goroutines,
        ));
    }
    // A goroutine count profile's one column is the goroutine flamegraph already.
    if !capture.is_goroutine_count_profile() {
        for (column, t) in capture.samples.types.iter().enumerate() {
            let stacks = FlameSource::Samples(column).stacks(capture);
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
        let blocked = FlameSource::BlockTime.stacks(capture);
        if !blocked.is_empty() {
            let label = "block time (sync, open blocks included)".to_owned();
            out.push(Flame::new(capture, FlameSource::BlockTime, label, ValueUnit::Nanoseconds, &blocked));
        }
    }
    let spans = FlameSource::Spans.stacks(capture);
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

/// The file name of a capture's path, with its place in a series file.
pub(super) fn display_name(capture: &Capture) -> String {
    let path = capture.source.path.strip_prefix("bundled:").unwrap_or(&capture.source.path);
    let file = std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_owned(), |n| n.to_string_lossy().into_owned());
    with_series_place(file, capture)
}

/// `name` with the capture's place in a file holding a series (`#2/5`).
pub(super) fn with_series_place(name: String, capture: &Capture) -> String {
    if capture.source.series_len > 1 {
        format!("{name} #{}/{}", capture.source.series_index + 1, capture.source.series_len)
    } else {
        name
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
