//! The report: what `leakscope report` prints, as a stable JSON document for scripts and as text
//! for people. Built here, beside the model, so the command line, the app's "copy as JSON" and
//! the tests share one definition.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::analysis::leaks::{Evidence, Finding, Growth, RuleId, Severity};
use crate::analysis::top::{self, TopFunction};
use crate::format::{self, ValueUnit, clip_names};
use crate::model::{Capture, Group, WaitKind};
use crate::session::Session;

mod markdown;
mod sarif;
mod text;

pub use sarif::{SarifOptions, level as sarif_level, to_sarif};
pub use text::write_text;

/// The whole document: one entry per capture, the series they form, then the findings.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Every capture read: the baseline's first, then the files in the order given (a file
    /// holding a series gives several).
    pub captures: Vec<CaptureReport>,
    /// The series the captures form: captures of one program and kind, oldest first. Every
    /// capture is in exactly one.
    pub series: Vec<SeriesReport>,
    /// Leak findings of the newest capture of each series, worst first.
    pub findings: Vec<FindingReport>,
    /// What the session did that a person should know (an input given twice, read once).
    pub notes: Vec<String>,
}

/// One finding as the report shows it.
#[derive(Clone, Debug, Serialize)]
pub struct FindingReport {
    /// The primary (most severe) rule's id.
    pub rule: RuleId,
    /// Every rule that matched.
    pub rules: Vec<RuleId>,
    /// proven, likely, possible or warning.
    pub severity: Severity,
    /// One line for people.
    pub title: String,
    /// Goroutines in the finding.
    pub count: u64,
    /// Index of the capture (in `captures`) the finding is about.
    pub capture: usize,
    /// The goroutines as one group (same fields as a capture's groups).
    pub group: GroupReport,
    /// The facts it rests on.
    pub evidence: Evidence,
    /// What the stack shows and why that means a leak.
    pub explanation: String,
    /// What to change.
    pub fix: String,
    /// Counts against the baseline, where there is one.
    pub growth: Option<Growth>,
    /// Where in the source the family starts and waits, for SARIF and editors. Not in the
    /// JSON document: its fields say the same by name (`created_by`, `frames`).
    #[serde(skip)]
    pub sites: Sites,
}

/// A source line of a finding's code, as the capture printed it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceLine {
    /// The function.
    pub function: String,
    /// The file as the capture spells it (absolute for most Go builds, module-relative with
    /// `-trimpath`).
    pub file: String,
    /// 1-based line.
    pub line: u32,
}

/// The source lines a finding points at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sites {
    /// The `go` statement (or its equivalent) that created the family, where the capture has it.
    pub created_at: Option<SourceLine>,
    /// The innermost frame of the program's own code where they wait.
    pub waits_at: Option<SourceLine>,
}

impl Sites {
    /// The sites of `group` in `capture`; a frame without file or line gives none.
    pub fn new(capture: &Capture, group: &Group) -> Self {
        let line = |id: crate::model::FrameId| {
            let frame = capture.tables.frame(id);
            let file = capture.str(frame.file);
            (!file.is_empty() && frame.line > 0).then(|| SourceLine {
                function: clip_names(capture.str(frame.func)).into_owned(),
                file: file.to_owned(),
                line: frame.line,
            })
        };
        Self {
            created_at: group.created_by.and_then(line),
            waits_at: capture.user_frame(group.stack).and_then(line),
        }
    }
}

impl FindingReport {
    /// Describes a finding about `capture` (index `capture_index` in the report).
    pub fn new(capture: &Capture, capture_index: usize, finding: &Finding) -> Self {
        Self {
            rule: finding.rule,
            rules: finding.rules.clone(),
            severity: finding.severity,
            title: clip_names(&finding.title).into_owned(),
            count: finding.count,
            capture: capture_index,
            group: GroupReport::new(capture, &finding.group),
            evidence: finding.evidence.clone(),
            explanation: clip_names(&finding.explanation).into_owned(),
            fix: clip_names(&finding.fix).into_owned(),
            growth: finding.growth.clone(),
            sites: Sites::new(capture, &finding.group),
        }
    }

    /// The finding as text for a person: title, evidence, why and fix.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let rules: Vec<&str> = self.rules.iter().map(|r| r.id()).collect();
        let _ =
            writeln!(out, "[{}] {}  ({})", self.severity.name().to_uppercase(), self.title, rules.join(", "));
        for fact in &self.evidence.facts {
            let _ = writeln!(out, "    - {}", clip_names(fact));
        }
        // Async findings about operations created outside any span have no stack.
        if !self.group.frames.is_empty() {
            let _ = writeln!(out, "    stack:");
        }
        for f in self.group.frames.iter().take(12) {
            let _ = writeln!(out, "      {f}");
        }
        if self.group.frames.len() > 12 {
            let _ = writeln!(out, "      ... {} more frames", self.group.frames.len() - 12);
        }
        let _ = writeln!(out, "    why: {}", self.explanation);
        if !self.fix.is_empty() {
            let _ = writeln!(out, "    fix: {}", self.fix);
        }
        out
    }

    /// The finding as Markdown, for an issue or a chat.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let rules: Vec<&str> = self.rules.iter().map(|r| r.id()).collect();
        let _ = writeln!(out, "### {} ({}; `{}`)\n", self.title, self.severity.name(), rules.join("`, `"));
        for fact in &self.evidence.facts {
            let _ = writeln!(out, "- {}", clip_names(fact));
        }
        let _ = writeln!(out, "\n```");
        for f in &self.group.frames {
            let _ = writeln!(out, "{f}");
        }
        let _ = writeln!(out, "```\n\n**Why.** {}\n", self.explanation);
        if !self.fix.is_empty() {
            let _ = writeln!(out, "**Fix.** {}", self.fix);
        }
        out
    }
}

impl Report {
    /// The report of a session: every capture (the baseline's included, marked), the series
    /// they form, and the findings of each series' newest capture, judged with the earlier
    /// captures of its series. So `report BEFORE AFTER` and `report AFTER --baseline BEFORE`
    /// give AFTER the same findings.
    pub fn from_session(session: &Session) -> Self {
        let captures = &session.captures;
        let mut findings: Vec<FindingReport> = session
            .verdict_captures()
            .into_iter()
            .filter_map(|i| captures.get(i).map(|c| (i, c)))
            .flat_map(|(i, c)| c.analysis.findings.iter().map(move |f| FindingReport::new(&c.capture, i, f)))
            .collect();
        findings.sort_by(|a, b| {
            a.severity.cmp(&b.severity).then(b.count.cmp(&a.count)).then(a.capture.cmp(&b.capture))
        });
        Self {
            captures: captures
                .iter()
                .map(|c| {
                    let mut r = CaptureReport::with_groups(&c.capture, &c.groups);
                    r.baseline = c.is_baseline;
                    r.series = c.series;
                    r
                })
                .collect(),
            series: session
                .series
                .iter()
                .map(|s| SeriesReport {
                    kind: s.class.name(),
                    captures: s.members.clone(),
                    order: s.order.describe(),
                })
                .collect(),
            findings,
            notes: session.notes.clone(),
        }
    }

    /// The report as JSON, every string in it (the evidence's included) with its long names
    /// clipped, as the text shows them.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self).unwrap_or_default();
        clip_strings(&mut value);
        value
    }

    /// Whether a reported finding is at or above `threshold` (`--fail-on`).
    pub fn fails_at(&self, threshold: Severity) -> bool {
        self.findings.iter().any(|f| f.severity <= threshold)
    }
}

/// Captures of one program and kind, oldest first.
#[derive(Clone, Debug, Serialize)]
pub struct SeriesReport {
    /// What the snapshots count: `goroutines`, `goroutineleak`, a profile type, or `alone`
    /// for a capture that forms no series (a trace).
    pub kind: String,
    /// Indices into `captures`, oldest first.
    pub captures: Vec<usize>,
    /// How the order was decided.
    pub order: &'static str,
}

/// What one capture holds.
#[derive(Clone, Debug, Serialize)]
pub struct CaptureReport {
    /// Path as given.
    pub path: String,
    /// Format name (`go-goroutine-dump`, `go-goroutine-profile-text`, `pprof`, ...).
    pub format: &'static str,
    /// pprof profile type, where known.
    pub profile_type: Option<String>,
    /// Go version, where the capture states it.
    pub go_version: Option<String>,
    /// Position in a series of dumps in one file (0-based) and the series length.
    pub series_index: usize,
    /// Number of captures in the file.
    pub series_len: usize,
    /// It is (part of) the baseline: its own findings are not reported.
    pub baseline: bool,
    /// Index of its series in `series`.
    pub series: usize,
    /// Why the dump was taken, where it says (`SIGQUIT: quit`, `panic: ...`).
    pub headline: Option<String>,
    /// Goroutines (tasks); for count profiles the sum of counts.
    pub task_count: u64,
    /// Count per state, as the capture spells states.
    pub states: BTreeMap<String, u64>,
    /// Groups, largest first.
    pub groups: Vec<GroupReport>,
    /// Sample columns with their totals.
    pub sample_types: Vec<SampleTypeReport>,
    /// For a sampled profile that counts no goroutines (CPU, heap, allocs, block, mutex): its
    /// functions by flat value, as `go tool pprof -top` lists them (in-use bytes for a heap
    /// profile, else the default column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<TopReport>,
    /// What a trace says about itself besides its events (Chrome `otherData`, `metadata`,
    /// `displayTimeUnit`: the browser version, the command line, the clock), key to value;
    /// values too long to keep are left out.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Parser warnings.
    pub warnings: Vec<String>,
}

/// One group of goroutines.
#[derive(Clone, Debug, Serialize)]
pub struct GroupReport {
    /// Number of goroutines.
    pub count: u64,
    /// The state as the capture says it; null for profiles.
    pub state: Option<String>,
    /// The closed wait classification.
    pub wait_kind: WaitKind,
    /// The runtime marked them leaked.
    pub leaked: bool,
    /// Innermost frame shown.
    pub leaf_function: String,
    /// Innermost frame outside the standard library (or outside the runtime when every frame
    /// is standard library).
    pub user_function: String,
    /// Creating function, if printed.
    pub created_by: Option<String>,
    /// Least and most whole minutes waited, where the capture prints them.
    pub wait_minutes: Option<[i64; 2]>,
    /// Function names, innermost first.
    pub frames: Vec<String>,
    /// The pprof labels the group's goroutines share (groups split by label set); left out
    /// when they have none.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// A profile's top functions.
#[derive(Clone, Debug, Serialize)]
pub struct TopReport {
    /// The column listed.
    pub sample_type: SampleTypeReport,
    /// The functions, largest flat value first (at most [`TOP_FUNCTIONS`]).
    pub functions: Vec<TopFunction>,
}

/// Most functions a profile's top list keeps.
pub const TOP_FUNCTIONS: usize = 20;

/// How many of the top functions the text shows.
const TOP_TEXT: usize = 10;

/// One sample column.
#[derive(Clone, Debug, Serialize)]
pub struct SampleTypeReport {
    /// What it measures.
    #[serde(rename = "type")]
    pub kind: String,
    /// Unit of the values.
    pub unit: String,
    /// Sum over all samples.
    pub total: i64,
}

impl GroupReport {
    /// Describes a group of `capture`.
    pub fn new(capture: &Capture, group: &Group) -> Self {
        let func = |f| clip_names(capture.func_name(f)).into_owned();
        Self {
            count: group.count,
            state: group.state.map(|s| clip_names(capture.str(s)).into_owned()),
            wait_kind: group.wait_kind,
            leaked: group.leaked,
            leaf_function: capture.leaf_frame(group.stack).map(func).unwrap_or_default(),
            // Tasks without a stack (async operations of a trace) go by what the trace calls them.
            user_function: capture
                .user_frame(group.stack)
                .map(func)
                .or_else(|| group.name.map(|n| clip_names(capture.str(n)).into_owned()))
                .unwrap_or_default(),
            created_by: group.created_by.map(func),
            wait_minutes: group.wait_ns.map(|(lo, hi)| [lo / 60_000_000_000, hi / 60_000_000_000]),
            frames: capture.stack_funcs(group.stack).map(|f| clip_names(f).into_owned()).collect(),
            labels: capture.label_map(group.labels),
        }
    }
}

impl CaptureReport {
    /// Describes a capture.
    pub fn new(capture: &Capture) -> Self {
        Self::with_groups(capture, &capture.groups())
    }

    /// Describes a capture whose groups are already worked out.
    pub fn with_groups(capture: &Capture, groups: &[Group]) -> Self {
        // Counted by id, then named: a dump of 200,000 goroutines has a handful of states.
        let mut by_state: hashbrown::HashMap<crate::model::StrId, u64> = hashbrown::HashMap::new();
        for task in &capture.tasks {
            if task.kind == crate::model::TaskKind::Resource || task.state.is_empty() {
                continue;
            }
            *by_state.entry(task.state).or_insert(0) += 1;
        }
        let states: BTreeMap<String, u64> =
            by_state.into_iter().map(|(state, n)| (clip_names(capture.str(state)).into_owned(), n)).collect();
        let groups = groups.iter().map(|g| GroupReport::new(capture, g)).collect();
        let sample_types = capture
            .samples
            .types
            .iter()
            .enumerate()
            .map(|(i, t)| SampleTypeReport {
                kind: clip_names(capture.str(t.kind)).into_owned(),
                unit: clip_names(capture.str(t.unit)).into_owned(),
                total: capture.samples.total(i),
            })
            .collect();
        let top = (!capture.samples.is_empty()
            && capture.tasks.is_empty()
            && !capture.is_goroutine_count_profile())
        .then(|| {
            let column = top::top_column(capture);
            let (mut functions, total) = top::top(capture, column);
            functions.truncate(TOP_FUNCTIONS);
            for f in &mut functions {
                f.function = clip_names(&f.function).into_owned();
            }
            let ty = capture.samples.types.get(column).copied().unwrap_or_default();
            let sample_type = SampleTypeReport {
                kind: clip_names(capture.str(ty.kind)).into_owned(),
                unit: clip_names(capture.str(ty.unit)).into_owned(),
                total,
            };
            TopReport { sample_type, functions }
        });
        Self {
            path: clip_names(&capture.source.path).into_owned(),
            format: capture.source.format.map_or("unknown", |f| f.name()),
            profile_type: capture.source.profile_type.clone(),
            go_version: capture.source.go_version.clone(),
            series_index: capture.source.series_index,
            series_len: capture.source.series_len,
            baseline: false,
            series: 0,
            headline: capture.source.headline.as_deref().map(|h| clip_names(h).into_owned()),
            task_count: capture.task_count(),
            states,
            groups,
            sample_types,
            top,
            metadata: capture
                .chrome()
                .metadata
                .iter()
                .filter_map(|m| {
                    Some((clip_names(&m.key).into_owned(), clip_names(m.text.as_deref()?).into_owned()))
                })
                .collect(),
            warnings: capture.warnings.lines().into_iter().map(|w| clip_names(&w).into_owned()).collect(),
        }
    }

    /// The capture as text for a person: format, counts per state, the largest groups and the
    /// warnings.
    pub fn to_text(&self, max_groups: usize) -> String {
        let mut out = String::new();
        let series = if self.series_len > 1 {
            format!(" (dump {} of {} in the file)", self.series_index + 1, self.series_len)
        } else {
            String::new()
        };
        let baseline = if self.baseline { " (baseline)" } else { "" };
        let _ = writeln!(out, "{}{series}{baseline}", self.path);
        let kind = self.profile_type.as_deref().map(|p| format!(", {p} profile")).unwrap_or_default();
        let _ = writeln!(out, "  format: {}{kind}", self.format);
        if let Some(h) = &self.headline {
            let _ = writeln!(out, "  headline: {h}");
        }
        // Traces of other runtimes hold threads and async operations, not goroutines.
        let noun = if matches!(self.format, "chrome-trace" | "devtools-cpuprofile") {
            "tasks"
        } else {
            "goroutines"
        };
        // A CPU or heap profile counts no goroutines: its top functions say what it holds.
        if self.top.is_none() {
            let _ = writeln!(out, "  {noun}: {}", self.task_count);
        }
        if !self.states.is_empty() {
            let mut states: Vec<_> = self.states.iter().collect();
            states.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let list: Vec<String> = states.iter().map(|(s, n)| format!("{n} {s}")).collect();
            let _ = writeln!(out, "  states: {}", list.join(", "));
        }
        for t in &self.sample_types {
            let _ = writeln!(out, "  samples: {} ({}) total {}", t.kind, t.unit, t.total);
        }
        if let Some(top) = &self.top {
            top_text(&mut out, top);
        }
        if !self.groups.is_empty() {
            let _ = writeln!(out, "  largest groups:");
            for g in self.groups.iter().take(max_groups) {
                let state = g.state.clone().unwrap_or_else(|| g.wait_kind.name().to_owned());
                let leaked = if g.leaked { " (leaked)" } else { "" };
                let wait = g.wait_minutes.map(|[a, b]| format!(", waiting {a}-{b} min")).unwrap_or_default();
                let labels: Vec<String> = g.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let labels =
                    if labels.is_empty() { String::new() } else { format!(" {{{}}}", labels.join(" ")) };
                let _ =
                    writeln!(out, "    {:>7}  [{state}{leaked}]{labels} {}{wait}", g.count, g.user_function);
                if let Some(c) = &g.created_by {
                    let _ = writeln!(out, "             created by {c}");
                }
            }
            if self.groups.len() > max_groups {
                let _ = writeln!(out, "    ... {} more groups", self.groups.len() - max_groups);
            }
        }
        if !self.metadata.is_empty() {
            let _ = writeln!(out, "  metadata:");
            for (k, v) in &self.metadata {
                let _ = writeln!(out, "    {k}: {v}");
            }
        }
        if !self.warnings.is_empty() {
            let _ = writeln!(out, "  warnings:");
            for w in &self.warnings {
                let _ = writeln!(out, "    {w}");
            }
        }
        out
    }
}

/// A profile's top functions as `go tool pprof -top` prints them: flat, flat%, sum%, cum, cum%.
fn top_text(out: &mut String, top: &TopReport) {
    let ty = &top.sample_type;
    let unit = ValueUnit::from_pprof(&ty.kind, &ty.unit);
    let value = |v: i64| match &unit {
        ValueUnit::Count(_) => format::count(v),
        _ => unit.format(v),
    };
    let total = ty.total as f64;
    let _ = writeln!(out, "  top functions by {} ({}), total {}:", ty.kind, ty.unit, value(ty.total));
    let _ = writeln!(out, "    {:>10} {:>6} {:>6} {:>10} {:>6}", "flat", "flat%", "sum%", "cum", "cum%");
    let mut sum = 0i64;
    for f in top.functions.iter().take(TOP_TEXT) {
        sum = sum.saturating_add(f.flat);
        let _ = writeln!(
            out,
            "    {:>10} {:>6} {:>6} {:>10} {:>6}  {}",
            value(f.flat),
            format::percent(f.flat as f64, total),
            format::percent(sum as f64, total),
            value(f.cum),
            format::percent(f.cum as f64, total),
            f.function
        );
    }
}

/// Clips every string (and object key) in a JSON value with [`clip_names`].
fn clip_strings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(clipped) = clip_names(s) {
                *s = clipped;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(clip_strings),
        serde_json::Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut v) in entries {
                clip_strings(&mut v);
                map.insert(clip_names(&key).into_owned(), v);
            }
        }
        serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::Number(_) => {}
    }
}
