//! The session: one orchestrator for the command line and the app. Given the inputs (files in
//! the order given, an optional baseline, the config), it parses them, derives what every view
//! reads from each capture once, decides which captures are a series of one program and which
//! comparison to show, and runs the leak analysis once, under one rule: a capture is judged
//! with the earlier captures of its series as its history. `leakscope report` formats a
//! session; the app keeps UI caches over one. So both reach the same verdict on the same files.

mod capture;
pub mod series;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

pub use self::capture::{Flame, FlameSource, LoadedCapture, Purpose, StateCount, TaskNoun};
pub use self::series::{Series, SeriesClass, SeriesOrder};
use crate::analysis::flame;
use crate::analysis::flame_locations::FlameLocations;
use crate::analysis::leaks::{self, Config};
use crate::diff::{self, CaptureDiff, SeriesGroup};
use crate::error::LoadError;
use crate::input::{Bytes, Progress};
use crate::load::{self, LoadOptions};
use crate::model::Capture;

/// Where an input's bytes come from.
pub enum InputSource {
    /// A file (or `-` for standard input).
    Path(PathBuf),
    /// Bytes already in memory (a bundled sample, a test input), with the name errors and
    /// titles show.
    Bytes {
        /// What errors and titles call it.
        name: String,
        /// The bytes, gzipped or not.
        bytes: Bytes,
    },
}

impl InputSource {
    /// What errors and titles call it.
    pub fn name(&self) -> String {
        match self {
            InputSource::Path(p) => p.display().to_string(),
            InputSource::Bytes { name, .. } => name.clone(),
        }
    }
}

/// One input of a session.
pub struct Input {
    /// Where its bytes come from.
    pub source: InputSource,
    /// Whether it is the baseline: an earlier capture of the same program, the oldest of every
    /// series, whose own findings are not the session's verdict.
    pub baseline: bool,
}

impl Input {
    /// A file to analyse.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Self { source: InputSource::Path(path.into()), baseline: false }
    }

    /// The baseline file.
    pub fn baseline(path: impl Into<PathBuf>) -> Self {
        Self { source: InputSource::Path(path.into()), baseline: true }
    }
}

/// An input already parsed: its captures (a file holding several dumps gives several, oldest
/// first).
pub struct Parsed {
    /// The captures.
    pub captures: Vec<Capture>,
    /// Whether they are the baseline.
    pub baseline: bool,
    /// Time spent parsing the input.
    pub load_time: Duration,
}

/// Why a session could not be built: every input that failed (the others were read).
#[derive(Debug)]
pub struct Failed {
    /// One error per input that could not be read or recognised, in input order.
    pub errors: Vec<LoadError>,
    /// The user cancelled.
    pub cancelled: bool,
}

/// Two captures of one series compared: the first and the last.
pub struct Comparison {
    /// Index of the earlier capture.
    pub before: usize,
    /// Index of the later capture.
    pub after: usize,
    /// Families matched across the two, with the diff flame tree.
    pub diff: CaptureDiff,
    /// Where each node of the diff flame tree is in the code.
    pub diff_locations: FlameLocations,
    /// Every family followed along the series, oldest first (for the growth chart).
    pub series: Vec<SeriesGroup>,
    /// The series' captures, oldest first (indices into the session's captures).
    pub members: Vec<usize>,
    /// Whether the two are captures of one program and kind (a series). When not, the user
    /// opened unrelated captures together: they are shown side by side, but what grew between
    /// them is no evidence of a leak and the findings do not use it.
    pub same_program: bool,
}

/// Everything one set of inputs says.
pub struct Session {
    /// Every capture, in the order given (the baseline's first); a series file contributes
    /// each dump, oldest first.
    pub captures: Vec<LoadedCapture>,
    /// The series: captures of one program and kind, oldest first. Every capture is in exactly
    /// one (often alone).
    pub series: Vec<Series>,
    /// The comparison to show: the first and last capture of the longest series with two or
    /// more captures (the first such series on a tie), else the first and last capture given.
    /// Built for the views only.
    pub comparison: Option<Comparison>,
    /// The rules' configuration.
    pub config: Config,
    /// Why the project's `leakscope.toml` could not be used, if it could not.
    pub config_error: Option<String>,
    /// What the session did that a person should know (an input given twice, opened once).
    pub notes: Vec<String>,
}

impl Session {
    /// Parses every input and builds the session. `on_input` is told the 0-based index of the
    /// input about to be read (for a progress display). Inputs that fail are all reported;
    /// a cancel stops at once.
    pub fn load(
        inputs: Vec<Input>,
        options: &LoadOptions,
        purpose: Purpose,
        config: Config,
        progress: &Progress,
        on_input: &mut dyn FnMut(usize),
    ) -> Result<Self, Failed> {
        let mut parsed = Vec::with_capacity(inputs.len());
        let mut errors = Vec::new();
        let mut notes = Vec::new();
        let mut seen: Vec<(PathBuf, bool)> = Vec::new();
        for (i, input) in inputs.into_iter().enumerate() {
            if let InputSource::Path(path) = &input.source
                && path.as_os_str() != load::STDIN_PATH
            {
                let key = (canonical(path), input.baseline);
                if seen.contains(&key) {
                    notes.push(format!("{} was given more than once; it is read once.", path.display()));
                    continue;
                }
                seen.push(key);
            }
            on_input(i);
            let started = Instant::now();
            let result = match input.source {
                InputSource::Path(path) => load::open(&path, options, progress),
                InputSource::Bytes { name, bytes } => load::open_bytes(&name, bytes, options, progress),
            };
            if progress.is_cancelled() {
                return Err(Failed { errors, cancelled: true });
            }
            match result {
                Ok(captures) => {
                    parsed.push(Parsed { captures, baseline: input.baseline, load_time: started.elapsed() });
                }
                Err(LoadError::Cancelled { .. }) => return Err(Failed { errors, cancelled: true }),
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(Failed { errors, cancelled: false });
        }
        let mut session = Self::from_parsed(parsed, purpose, config);
        session.notes.splice(0..0, notes);
        Ok(session)
    }

    /// Builds a session from inputs already parsed, in the order given.
    pub fn from_parsed(parsed: Vec<Parsed>, purpose: Purpose, config: Config) -> Self {
        // Baselines go first: they are the oldest of every series.
        let (mut baselines, mut files) = (Vec::new(), Vec::new());
        for (i, p) in parsed.into_iter().enumerate() {
            if p.baseline { baselines.push((i, p)) } else { files.push((i, p)) }
        }
        let mut flat: Vec<(Capture, usize, bool, Duration)> = Vec::new();
        for (input, p) in baselines.into_iter().chain(files) {
            let per_capture = p.load_time / p.captures.len().max(1) as u32;
            for c in p.captures {
                flat.push((c, input, p.baseline, per_capture));
            }
        }
        let mut captures: Vec<LoadedCapture> = flat
            .into_par_iter()
            .map(|(capture, input, baseline, time)| {
                LoadedCapture::new(capture, input, baseline, time, purpose)
            })
            .collect();
        disambiguate_names(&mut captures);
        let series = find_series(&captures);
        for (s, series) in series.iter().enumerate() {
            for &m in &series.members {
                if let Some(c) = captures.get_mut(m) {
                    c.series = s;
                }
            }
        }
        let analyses: Vec<(usize, leaks::Analysis)> = series
            .par_iter()
            .flat_map_iter(|s| {
                let captures = &captures;
                let config = &config;
                (0..s.members.len()).filter_map(move |k| {
                    let history: Vec<&Capture> = s
                        .members
                        .get(..=k)?
                        .iter()
                        .filter_map(|&m| captures.get(m).map(|c| &c.capture))
                        .collect();
                    Some((*s.members.get(k)?, leaks::analyze_series(&history, config)))
                })
            })
            .collect();
        for (i, analysis) in analyses {
            if let Some(c) = captures.get_mut(i) {
                c.analysis = analysis;
            }
        }
        join_heap_with_goroutines(&mut captures, &series);
        let comparison = if purpose == Purpose::Views { comparison(&captures, &series) } else { None };
        Self { captures, series, comparison, config, config_error: None, notes: Vec::new() }
    }

    /// The captures whose findings are the session's verdict: the newest capture of each
    /// series that is not only the baseline, in the order of the captures.
    pub fn verdict_captures(&self) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .series
            .iter()
            .filter_map(|s| s.members.last().copied())
            .filter(|&i| self.captures.get(i).is_some_and(|c| !c.is_baseline))
            .collect();
        out.sort_unstable();
        out
    }

    /// The series a capture belongs to.
    pub fn series_of(&self, capture: usize) -> Option<&Series> {
        self.captures.get(capture).and_then(|c| self.series.get(c.series))
    }
}

/// Joins heap growth with the goroutine findings of the same program: the newest capture of
/// each goroutine series with the newest profile of each heap series taken of the same
/// program (in the same folder, or sharing the program's own functions). A grown allocation
/// stack that shares a frame with a goroutine family becomes evidence on that family's finding.
fn join_heap_with_goroutines(captures: &mut [LoadedCapture], series: &[Series]) {
    let newest = |class: fn(&SeriesClass) -> bool| -> Vec<usize> {
        series.iter().filter(|s| class(&s.class)).filter_map(|s| s.members.last().copied()).collect()
    };
    let heaps = newest(|c| matches!(c, SeriesClass::Profile(p) if p == "heap" || p == "allocs"));
    let goroutines = newest(|c| matches!(c, SeriesClass::Goroutines | SeriesClass::GoroutineLeak));
    for &h in &heaps {
        if captures.get(h).is_none_or(|c| c.analysis.findings.is_empty()) {
            continue;
        }
        for &g in &goroutines {
            let related = match (captures.get(g), captures.get(h)) {
                (Some(a), Some(b)) => {
                    same_snapshot(&a.capture, &b.capture) || {
                        series::same_program(
                            &series::program_functions(&a.capture),
                            &series::program_functions(&b.capture),
                        )
                    }
                }
                _ => false,
            };
            if !related {
                continue;
            }
            let Some(mut heap_findings) =
                captures.get_mut(h).map(|c| std::mem::take(&mut c.analysis.findings))
            else {
                continue;
            };
            if let (Some(gc), Some(hc)) = (captures.get(g), captures.get(h)) {
                let mut findings = gc.analysis.findings.clone();
                leaks::heap::join(&gc.capture, &mut findings, &hc.capture, &mut heap_findings);
                if let Some(gc) = captures.get_mut(g) {
                    gc.analysis.findings = findings;
                }
            }
            if let Some(hc) = captures.get_mut(h) {
                hc.analysis.findings = heap_findings;
            }
        }
    }
}

/// Whether two captures were taken at one moment of one program, as far as their files say:
/// they sit in the same folder (a snapshot directory holding `heap.pb.gz` beside
/// `goroutine.txt`).
fn same_snapshot(a: &Capture, b: &Capture) -> bool {
    let dir = |c: &Capture| Path::new(&c.source.path).parent().map(Path::to_path_buf);
    matches!((dir(a), dir(b)), (Some(x), Some(y)) if x == y && !x.as_os_str().is_empty())
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Captures with the same file name (two `goroutine.txt` from two folders) get their parent
/// folder in front, so tabs and titles tell them apart.
fn disambiguate_names(captures: &mut [LoadedCapture]) {
    let names: Vec<String> = captures.iter().map(|c| c.name.clone()).collect();
    for (i, c) in captures.iter_mut().enumerate() {
        // Dumps of one series file differ in their `#k/n`, so they never clash.
        let clash = names.iter().enumerate().any(|(j, n)| j != i && *n == c.name);
        if clash {
            let path = c.capture.source.path.strip_prefix("bundled:").unwrap_or(&c.capture.source.path);
            let p = Path::new(path);
            let parent = p.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned());
            if let (Some(parent), Some(file)) = (parent, p.file_name()) {
                let name = format!("{parent}/{}", file.to_string_lossy());
                c.name = capture::with_series_place(name, &c.capture);
            }
        }
    }
    // Folders of one name (`a/run/goroutine.txt`, `b/run/goroutine.txt`) still clash: the
    // input's place on the command line tells them apart.
    let names: Vec<String> = captures.iter().map(|c| c.name.clone()).collect();
    for (i, c) in captures.iter_mut().enumerate() {
        if names.iter().enumerate().any(|(j, n)| j != i && *n == c.name) {
            c.name = format!("{} [{}]", c.name, c.input + 1);
        }
    }
}

/// Groups the captures into series: captures of one class and one program, the baselines
/// first, then oldest first as far as the captures say.
fn find_series(captures: &[LoadedCapture]) -> Vec<Series> {
    let functions: Vec<_> = captures.iter().map(|c| series::program_functions(&c.capture)).collect();
    let clocks: Vec<_> = captures.iter().map(|c| series::Clock::of(&c.capture)).collect();
    let classes: Vec<SeriesClass> = captures.iter().map(|c| SeriesClass::of(&c.capture)).collect();
    let baselines: Vec<usize> =
        (0..captures.len()).filter(|&i| captures.get(i).is_some_and(|c| c.is_baseline)).collect();
    let mut out: Vec<Series> = Vec::new();
    let mut placed = vec![false; captures.len()];
    for i in 0..captures.len() {
        let is_baseline = captures.get(i).is_some_and(|c| c.is_baseline);
        if placed.get(i).copied().unwrap_or(true) || is_baseline {
            continue;
        }
        let Some(class) = classes.get(i) else { continue };
        let mut members = vec![i];
        if let Some(p) = placed.get_mut(i) {
            *p = true;
        }
        if *class != SeriesClass::Alone {
            for j in i + 1..captures.len() {
                let joins = !placed.get(j).copied().unwrap_or(true)
                    && captures.get(j).is_some_and(|c| !c.is_baseline)
                    && classes.get(j) == Some(class)
                    && functions
                        .get(i)
                        .zip(functions.get(j))
                        .is_some_and(|(a, b)| series::same_program(a, b));
                if joins {
                    members.push(j);
                    if let Some(p) = placed.get_mut(j) {
                        *p = true;
                    }
                }
            }
        }
        // The baseline is the user's word: it is the oldest of every series of its class.
        let base: Vec<usize> = baselines.iter().copied().filter(|&b| classes.get(b) == Some(class)).collect();
        let fixed = if *class == SeriesClass::Alone { 0 } else { base.len() };
        if fixed > 0 {
            members.splice(0..0, base.iter().copied());
        }
        let order = series::order(&mut members, fixed, &clocks);
        out.push(Series { class: class.clone(), members, order });
    }
    // A baseline no series took stands alone; it is still shown.
    for &b in &baselines {
        if !out.iter().any(|s| s.members.contains(&b)) {
            let class = classes.get(b).cloned().unwrap_or(SeriesClass::Alone);
            out.push(Series { class, members: vec![b], order: SeriesOrder::AsGiven });
        }
    }
    out
}

fn comparison(captures: &[LoadedCapture], series: &[Series]) -> Option<Comparison> {
    let chosen = series.iter().filter(|s| s.members.len() >= 2).fold(None::<&Series>, |best, s| match best {
        Some(b) if b.members.len() >= s.members.len() => Some(b),
        _ => Some(s),
    });
    // Captures of different programs or kinds opened together are still compared when asked
    // (the first given against the last): the views show them side by side, but no verdict
    // rests on the difference.
    let (members, same_program) = match chosen {
        Some(s) => (s.members.clone(), true),
        None if captures.len() >= 2 => (vec![0, captures.len() - 1], false),
        None => return None,
    };
    let (&before, &after) = (members.first()?, members.last()?);
    let (b, a) = (captures.get(before)?, captures.get(after)?);
    let diff = diff::diff(&b.capture, &a.capture);
    let diff_locations = FlameLocations::from_diff(
        &diff.flame,
        (&a.capture, &mut flame::goroutine_stacks(&a.capture).into_iter()),
        (&b.capture, &mut flame::goroutine_stacks(&b.capture).into_iter()),
    );
    let all: Vec<&Capture> = members.iter().filter_map(|&m| captures.get(m)).map(|c| &c.capture).collect();
    Some(Comparison {
        before,
        after,
        diff,
        diff_locations,
        series: diff::series(&all),
        members,
        same_program,
    })
}
