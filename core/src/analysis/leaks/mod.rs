//! Leak rules: which goroutine families are leaking, how sure leakscope is, why, and what to
//! change. Each rule has a stable id and a severity; a family matched by several rules is one
//! finding carrying every rule's facts.
//!
//! A finding groups goroutines by creation site and wait site ([`SiteKey`]). The evidence is
//! structural: states, where goroutines wait, who created them, whether their parent goroutines
//! still exist or are idle between requests, growth against a baseline. The catalogue of what a
//! healthy program has lives in [`knowledge`], the thresholds and user exceptions in [`config`].
//!
//! Traces of other runtimes (Chrome trace JSON from Node.js, viztracer, Chromium) have no
//! goroutines; their rules (`async_rules`) read threads, async operations and spans instead,
//! and give the same findings.

mod async_rules;
pub mod config;
mod evidence;
mod explain;
mod finding;
pub mod heap;
pub mod knowledge;

use std::collections::BTreeMap;

use hashbrown::{HashMap, HashSet};

pub use self::config::{Config, ConfigError, IgnoreScope, Thresholds};
pub use self::evidence::{IdSpread, Partners};
pub use self::finding::{
    Analysis, AsyncEvidence, Before2After, Evidence, Excluded, Finding, Growth, HeapEvidence, HeapLink,
    HeapStack, HeldMemory, LabelSetCount, ParentFacts, RuleId, Severity, SiteGrowth, TraceEvidence,
};
use self::knowledge::Benign;
use super::sites::{
    FamilyGroup, SiteKey, Sites, both_record_creators, family_counts, family_groups, records_lifetimes,
};
use super::trace_facts::TraceFacts;
use crate::model::{Capture, FrameId, Group, LabelSetId, StackId, TaskFlags, TaskKind, WaitKind, funcname};

/// Goroutines of one family in one capture, merged across the capture's groups.
struct Family {
    key: SiteKey,
    /// The creating frame of the members that record one (in a trace, goroutines older than
    /// the trace record none, so the key leaves the creator out).
    created_by: Option<FrameId>,
    /// Its function name.
    creator: Option<String>,
    count: u64,
    stacks: Vec<(StackId, u64)>,
    members: Vec<u32>,
    states: BTreeMap<String, u64>,
    wait_kinds: BTreeMap<WaitKind, u64>,
    leaked: u64,
    wait_ns: Option<(i64, i64)>,
    representative: Group,
    /// Goroutines per label set.
    label_sets: BTreeMap<LabelSetId, u64>,
    system: bool,
    main: bool,
}

/// Facts about the whole capture that rules consult.
struct Context<'c> {
    capture: &'c Capture,
    /// Goroutines that exist at the end of the capture, as task indices sorted by id: 4 bytes a
    /// goroutine, where a set of ids takes 9 and more with its spare room.
    alive: Vec<u32>,
    /// Request goroutines by id: (idle between requests?).
    requests: HashMap<u64, bool>,
    /// User functions seen on request goroutines' stacks.
    request_code: HashSet<&'c str>,
    /// Goroutines currently inside each function (any frame).
    active: HashMap<&'c str, u64>,
    /// Whether the capture records parents.
    has_parents: bool,
    /// Whether the capture lists goroutines one by one (dumps, traces) rather than counting
    /// stacks (profiles).
    lists_goroutines: bool,
    /// Transactions blocked rolling back after their context ended: proof that SQL calls in
    /// this capture are stuck, not in flight.
    blocked_rollbacks: u64,
    /// net/http client read loops holding a response body open.
    open_bodies: u64,
    /// net/http client calls parked waiting for their response (each holds a connection).
    stuck_round_trips: u64,
    /// Live goroutines per parent id (captures with parent ids).
    children_by_parent: HashMap<u64, u64>,
    /// Live goroutines per creating function.
    created_by_func: HashMap<&'c str, u64>,
    /// What an execution trace says beyond final states.
    trace: Option<TraceFacts<'c>>,
    /// The runtime's deadlock detector stopped the program: every goroutine was asleep with
    /// nothing left to wake it.
    deadlock: bool,
}

impl<'c> Context<'c> {
    fn new(capture: &'c Capture) -> Self {
        // Work per distinct stack, not per goroutine: 200,000 goroutines share a few dozen.
        // Profiles list no goroutines; their counted stacks stand in.
        let mut per_stack: HashMap<(StackId, crate::model::StrId), u64> = HashMap::new();
        let is_alive =
            |t: &crate::model::Task| t.kind == TaskKind::Goroutine && !t.flags.contains(TaskFlags::ENDED);
        let mut has_parents = false;
        // Tested in the loop: a filter's `next` per task is a call (see `Tasks::by_id`).
        for task in &capture.tasks {
            if task.kind != TaskKind::Goroutine {
                continue;
            }
            has_parents |= task.parent_id.is_some();
            if is_alive(&task) {
                *per_stack.entry((task.stack, task.state)).or_insert(0) += 1;
            }
        }
        let alive = capture.tasks.by_id(is_alive);
        if capture.tasks.is_empty() {
            for (stack, n) in crate::analysis::flame::goroutine_stacks(capture) {
                *per_stack.entry((stack, crate::model::StrId::EMPTY)).or_insert(0) += n.max(0) as u64;
            }
        }
        let mut request_stacks: HashMap<StackId, bool> = HashMap::new();
        let mut blocked_rollbacks = 0;
        let mut open_bodies = 0;
        let mut stuck_round_trips = 0;
        let mut request_code = HashSet::new();
        let mut active: HashMap<&str, u64> = HashMap::new();
        for (&(stack, state), &n) in &per_stack {
            let funcs: Vec<&str> = capture.stack_funcs(stack).collect();
            let mut seen: HashSet<&str> = HashSet::new();
            for f in &funcs {
                if seen.insert(f) {
                    *active.entry(f).or_insert(0) += n;
                }
            }
            if knowledge::is_blocked_rollback(&funcs) {
                blocked_rollbacks += n;
            }
            let wait = capture.wait_kind_of(state, stack);
            if knowledge::holds_response_body_open(&funcs, wait) {
                open_bodies += n;
            }
            if funcs.iter().any(|f| knowledge::frame_matches(f, "net/http.(*persistConn).roundTrip"))
                && (wait.is_parked() || wait == WaitKind::Other)
            {
                stuck_round_trips += n;
            }
            if let Some(serving) = funcs.iter().position(|f| knowledge::is_request_serving(f)) {
                request_stacks.insert(stack, knowledge::is_idle_between_requests(funcs.iter().copied()));
                for f in funcs.iter().take(serving) {
                    if !funcname::is_standard_library(f) {
                        request_code.insert(*f);
                    }
                }
            }
        }
        let requests = capture
            .tasks
            .iter()
            .filter(|t| t.kind == TaskKind::Goroutine && !t.flags.contains(TaskFlags::ENDED))
            .filter_map(|t| request_stacks.get(&t.stack).map(|idle| (t.id, *idle)))
            .collect();
        let mut children_by_parent: HashMap<u64, u64> = HashMap::new();
        let mut created_by_func: HashMap<&str, u64> = HashMap::new();
        for &i in &alive {
            let Some(t) = capture.tasks.get(i as usize) else { continue };
            if let Some(p) = t.parent_id.get() {
                *children_by_parent.entry(p).or_insert(0) += 1;
            }
            if let Some(c) = t.created_by {
                *created_by_func.entry(capture.func_name(c)).or_insert(0) += 1;
            }
        }
        let trace = records_lifetimes(capture).then(|| TraceFacts::new(capture));
        let deadlock = capture
            .source
            .headline
            .as_deref()
            .is_some_and(|h| h.starts_with("fatal error: all goroutines are asleep"));
        Self {
            capture,
            alive,
            requests,
            request_code,
            active,
            has_parents,
            lists_goroutines: !capture.tasks.is_empty(),
            blocked_rollbacks,
            open_bodies,
            stuck_round_trips,
            children_by_parent,
            created_by_func,
            trace,
            deadlock,
        }
    }

    /// Whether a goroutine with this id exists at the end of the capture.
    fn is_alive(&self, id: u64) -> bool {
        let id_of = |&i: &u32| self.capture.tasks.id(i as usize).unwrap_or(u64::MAX);
        self.alive.binary_search_by_key(&id, id_of).is_ok()
    }

    /// Live goroutines the family's members started: by parent id where the capture has them,
    /// else goroutines created by a function on the family's stack.
    fn live_children(&self, family: &Family, funcs: &[&str]) -> u64 {
        if self.has_parents {
            let tasks = &self.capture.tasks;
            return family
                .representative
                .members
                .iter()
                .filter_map(|&m| tasks.get(m as usize))
                .map(|t| self.children_by_parent.get(&t.id).copied().unwrap_or(0))
                .sum();
        }
        let mut seen = HashSet::new();
        funcs
            .iter()
            .filter(|f| !funcname::is_standard_library(f) && seen.insert(**f))
            .map(|f| self.created_by_func.get(f).copied().unwrap_or(0))
            .sum()
    }

    /// Whether goroutine `id` has one of `funcs` on its stack now (true when none is known).
    fn runs_any(&self, id: u64, funcs: &[&str]) -> bool {
        if funcs.is_empty() {
            return true;
        }
        let id_of = |&i: &u32| self.capture.tasks.id(i as usize).unwrap_or(u64::MAX);
        let Ok(at) = self.alive.binary_search_by_key(&id, id_of) else { return false };
        let Some(task) = self.alive.get(at).and_then(|&i| self.capture.tasks.get(i as usize)) else {
            return false;
        };
        self.capture.stack_funcs(task.stack).any(|f| funcs.contains(&f))
    }

    fn is_request_code(&self, func: &str) -> bool {
        knowledge::looks_like_handler(func) || self.request_code.contains(func)
    }
}

/// Analyses `capture`, comparing with `baseline` when given.
pub fn analyze(capture: &Capture, baseline: Option<&Capture>, config: &Config) -> Analysis {
    let series: Vec<&Capture> = baseline.into_iter().chain(std::iter::once(capture)).collect();
    analyze_series(&series, config)
}

/// Analyses the last capture of a series (oldest first), using the earlier ones for growth.
pub fn analyze_series(series: &[&Capture], config: &Config) -> Analysis {
    let Some((&capture, earlier)) = series.split_last() else { return Analysis::default() };
    // A heap profile holds allocation sites, not goroutines: only the heap rule reads it.
    if heap::applies(capture) {
        return heap::analyze(series);
    }
    // The facts and the families each read every goroutine of the capture and need nothing of
    // the other: on two cores a 200,000-goroutine dump's analysis takes 7 ms less this way.
    let (ctx, families) = rayon::join(
        || Context::new(capture),
        || {
            // Threads and async operations of other runtimes are not goroutines: the async
            // rules judge them, the goroutine rules would mistake them for parked crowds.
            let goroutines = capture.tasks.iter().any(|t| t.kind == TaskKind::Goroutine);
            if goroutines || !async_rules::applies(capture) { families(capture) } else { Vec::new() }
        },
    );
    let (growth, steady) = growth_by_family(series, &families, config);
    let mut site_totals: HashMap<String, u64> = HashMap::new();
    let crowd = config.thresholds.crowd;
    for f in families.iter().filter(|f| (f.is_parked() || f.count >= crowd) && !f.system && !f.main) {
        *site_totals.entry(f.creation_site()).or_insert(0) += f.count;
    }
    let facts = evidence::family_facts(capture, &families);
    let mut analysis = Analysis::default();
    for (family, facts) in families.iter().zip(&facts) {
        let funcs: Vec<&str> = family.stack_funcs(capture).collect();
        let creator = family.creator.as_deref();
        if let Some(rule) = config.ignored_by(&funcs, &family.key.user, creator) {
            let reason =
                rule.reason.clone().unwrap_or_else(|| format!("ignored by the rule /{}/", rule.pattern));
            analysis.ignored.push(Excluded { key: family.key.clone(), count: family.count, reason });
            continue;
        }
        let benign = knowledge::benign(&funcs, creator);
        if family.leaked == 0 && (family.system || benign.is_some()) {
            let reason = benign.map_or("runtime goroutine", |b: Benign| b.name).to_owned();
            analysis.benign.push(Excluded { key: family.key.clone(), count: family.count, reason });
            continue;
        }
        let total = site_totals.get(&family.creation_site()).copied().unwrap_or(0);
        let g = growth.get(&family.key).cloned();
        let held = steady.get(&family.key).copied();
        match judge(&ctx, family, facts, &funcs, total, g, held, earlier.len(), config) {
            Verdict::Finding(finding) => analysis.findings.push(*finding),
            Verdict::Healthy(reason) => {
                analysis.benign.push(Excluded { key: family.key.clone(), count: family.count, reason });
            }
            Verdict::Nothing => {}
        }
    }
    if async_rules::applies(capture) {
        async_rules::analyze(capture, config, &mut analysis);
    }
    if let Some(read) = capture.source.preview_bytes {
        provisional(&mut analysis, read, capture.source.bytes);
    }
    analysis.findings.sort_by(|a, b| {
        a.severity.cmp(&b.severity).then(b.count.cmp(&a.count)).then_with(|| a.key.cmp(&b.key))
    });
    analysis.benign.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    analysis.ignored.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    analysis
}

/// Findings judged on a first picture (the start of a file still being read): what the rest
/// holds may end the goroutines that look stuck at the picture's end (a service starting its
/// workers looks like a crowd that only grows), so a likely leak is only possible until the
/// whole is read. One that the capture itself proves (a nil channel, the runtime's own mark)
/// stays proven: nothing later can undo it.
fn provisional(analysis: &mut Analysis, read: u64, total: u64) {
    let percent = read.saturating_mul(100).checked_div(total).map_or(100, |p| p.min(100));
    for finding in &mut analysis.findings {
        if finding.severity == Severity::Likely {
            finding.severity = Severity::Possible;
        }
        finding.evidence.missing.push(format!(
            "the rest of the file: judged on the first {percent}% of it, read first; goroutines alive where that part ends may still end"
        ));
    }
}

impl Family {
    fn is_parked(&self) -> bool {
        self.dominant_wait().is_parked()
    }

    fn dominant_wait(&self) -> WaitKind {
        self.wait_kinds
            .iter()
            .max_by_key(|(k, n)| (**n, std::cmp::Reverse(**k)))
            .map_or(WaitKind::Other, |(k, _)| *k)
    }

    /// The creation site as text, for counting crowds: the creator where it is the program's
    /// own code. A standard-library creator (`net/http.(*Server).Serve` creates every request
    /// goroutine) says nothing about which code piled them up, and neither does a missing one
    /// (profiles): then the family itself is the site.
    fn creation_site(&self) -> String {
        match self.creator.as_deref() {
            Some(c) if !funcname::is_standard_library(c) => c.to_owned(),
            _ => format!("{:?}", (&self.key.start, &self.key.wait, &self.key.user_path)),
        }
    }

    fn stack_funcs<'c>(&self, capture: &'c Capture) -> impl Iterator<Item = &'c str> {
        capture.stack_funcs(self.representative.stack)
    }
}

/// A family's goroutines per label set, largest first (then by text); empty when none carries
/// labels.
fn label_set_counts(capture: &Capture, sets: &BTreeMap<LabelSetId, u64>) -> Vec<LabelSetCount> {
    if sets.keys().all(|&id| id == LabelSetId::EMPTY) {
        return Vec::new();
    }
    let mut out: Vec<(String, LabelSetCount)> = sets
        .iter()
        .map(|(&id, &count)| (capture.label_text(id), LabelSetCount { labels: capture.label_map(id), count }))
        .collect();
    out.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
    out.into_iter().map(|(_, c)| c).collect()
}

/// Merges the capture's live groups into families by site key.
fn families(capture: &Capture) -> Vec<Family> {
    let mut index: HashMap<SiteKey, usize> = HashMap::new();
    let mut out: Vec<Family> = Vec::new();
    for FamilyGroup { key, group } in family_groups(capture) {
        let count = group.count;
        let live = group.members.clone();
        let slot = *index.entry(key.clone()).or_insert_with(|| {
            out.push(Family {
                key,
                created_by: None,
                creator: None,
                count: 0,
                stacks: Vec::new(),
                members: Vec::new(),
                states: BTreeMap::new(),
                wait_kinds: BTreeMap::new(),
                leaked: 0,
                wait_ns: None,
                representative: Group { count: 0, members: Vec::new(), ..group.clone() },
                label_sets: BTreeMap::new(),
                system: true,
                main: false,
            });
            out.len() - 1
        });
        let Some(f) = out.get_mut(slot) else { continue };
        if f.created_by.is_none() && group.created_by.is_some() {
            f.created_by = group.created_by;
            f.creator = group.created_by.map(|c| capture.func_name(c).to_owned());
        }
        f.count += count;
        *f.label_sets.entry(group.labels).or_insert(0) += count;
        // Groups split by label set, so one stack may come once per set.
        match f.stacks.iter_mut().find(|(s, _)| *s == group.stack) {
            Some((_, n)) => *n += count,
            None => f.stacks.push((group.stack, count)),
        }
        let state =
            group.state.map_or_else(|| group.wait_kind.name().to_owned(), |s| capture.str(s).to_owned());
        *f.states.entry(state).or_insert(0) += count;
        *f.wait_kinds.entry(group.wait_kind).or_insert(0) += count;
        if group.leaked || capture.is_leak_profile() {
            f.leaked += count;
        }
        if let Some((lo, hi)) = group.wait_ns {
            f.wait_ns = Some(f.wait_ns.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        if count > f.representative.count {
            f.representative = Group { count, members: Vec::new(), ..group.clone() };
        }
        f.system &= is_system_group(capture, &group, &live);
        f.main |= is_main_group(capture, &group, &live);
        f.members.extend(live);
    }
    for f in &mut out {
        f.members.sort_unstable();
        f.stacks.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let wait_ns = f.wait_ns;
        let count = f.count;
        f.representative.count = count;
        f.representative.wait_ns = wait_ns;
        f.representative.leaked = f.leaked > 0;
        f.representative.members = std::mem::take(&mut f.members);
        // The finding's group carries a label set only when all its goroutines share it.
        f.representative.labels = match f.label_sets.keys().collect::<Vec<_>>()[..] {
            [&only] => only,
            _ => LabelSetId::EMPTY,
        };
    }
    out
}

fn is_system_group(capture: &Capture, group: &Group, live: &[u32]) -> bool {
    if !live.is_empty() {
        return live
            .iter()
            .all(|&i| capture.tasks.get(i as usize).is_some_and(|t| t.flags.contains(TaskFlags::SYSTEM)));
    }
    // Profiles: a goroutine that starts in the runtime (other than runtime.main) is the
    // runtime's own, as Go's isSystemGoroutine decides.
    let start = Sites::of(capture, group.stack).start.map_or("", |f| capture.func_name(f));
    start.starts_with("runtime.") && start != "runtime.main"
}

fn is_main_group(capture: &Capture, group: &Group, live: &[u32]) -> bool {
    if live
        .iter()
        .any(|&i| capture.tasks.get(i as usize).is_some_and(|t| t.id == 1 && t.created_by.is_none()))
    {
        return true;
    }
    capture.stack_funcs(group.stack).any(|f| f == "runtime.main" || f == "main.main")
        && group.created_by.is_none()
}

/// Growth of each family of `capture` against the first capture of the series, with the count
/// series when there are more than two.
fn growth_by_family(
    series: &[&Capture],
    families: &[Family],
    config: &Config,
) -> (HashMap<SiteKey, Growth>, HashMap<SiteKey, u64>) {
    let mut out = HashMap::new();
    let mut steady = HashMap::new();
    if series.len() < 2 {
        return (out, steady);
    }
    let with_creator = series.windows(2).all(|w| match w {
        [a, b] => both_record_creators(a, b),
        _ => true,
    }) && series.len() > 1;
    let counts: Vec<BTreeMap<SiteKey, (u64, StackId)>> =
        series.iter().map(|c| family_counts(c, with_creator)).collect();
    for family in families {
        let key = if with_creator { family.key.clone() } else { family.key.without_creator() };
        let row: Vec<u64> = counts.iter().map(|c| c.get(&key).map_or(0, |e| e.0)).collect();
        let before = row.first().copied().unwrap_or(0);
        let after = family.count;
        let series_row = if row.len() > 2 { row } else { Vec::new() };
        // A goroutine the runtime proved leaked never ends: each one more than the baseline had
        // is a new leak, however few.
        let more_proven = family.leaked > 0 && before > 0 && after > before;
        if more_proven || grew(before, after, &series_row, &config.thresholds) {
            out.insert(family.key.clone(), Growth { before, after, series: series_row });
        } else if before > 0 && after <= before {
            steady.insert(family.key.clone(), before);
        }
    }
    (out, steady)
}

/// Whether a family grew enough to count: by `growth_min` goroutines and by `growth_ratio`,
/// and (for a series) never shrinking on the way.
fn grew(before: u64, after: u64, series: &[u64], t: &Thresholds) -> bool {
    let enough = after >= before + t.growth_min && (after as f64) >= (before as f64) * t.growth_ratio;
    let monotonic = series.windows(2).all(|w| w.first() <= w.get(1));
    enough && monotonic
}

/// What the rules make of one family.
enum Verdict {
    /// A finding.
    Finding(Box<Finding>),
    /// Parked, and a fact explains it as healthy work: the reason, for people.
    Healthy(String),
    /// Nothing to say (running, or too few to tell).
    Nothing,
}

/// Applies every rule to one family.
#[allow(clippy::too_many_arguments)]
fn judge(
    ctx: &Context<'_>,
    family: &Family,
    facts: &evidence::FamilyFacts,
    funcs: &[&str],
    creation_site_total: u64,
    growth: Option<Growth>,
    held_steady: Option<u64>,
    baselines: usize,
    config: &Config,
) -> Verdict {
    let capture = ctx.capture;
    let mut growth = growth;
    let t = &config.thresholds;
    let wait = family.dominant_wait();
    // A profile without states whose frames don't show the wait (debug=1 text hides the leading
    // runtime frames) still says something: at most GOMAXPROCS goroutines run at once, so a
    // crowd sitting at one stack is parked.
    let stateless = family.representative.state.is_none() && wait == WaitKind::Other;
    let parked_by_count = stateless && family.count >= t.profile_family;
    let parked = wait.is_parked() || parked_by_count;
    let mut matched: Vec<(RuleId, Severity)> = Vec::new();
    let mut ev = Evidence {
        states: family.states.clone(),
        // Minutes are what a dump prints; a trace's exact block times go in `trace`.
        wait_minutes: family
            .wait_ns
            .filter(|_| ctx.trace.is_none())
            .map(|(a, b)| [a / 60_000_000_000, b / 60_000_000_000]),
        created_by: family.created_by.map(|f| describe_frame(capture, f)),
        runtime_marked: family.leaked,
        creation_site_total,
        stacks: family.stacks.len() as u64,
        label_sets: label_set_counts(capture, &family.label_sets),
        ..Evidence::default()
    };
    let max_minutes = ev.wait_minutes.map_or(0, |[_, hi]| hi.max(0) as u64);
    let mut long = max_minutes >= t.long_wait_minutes;
    if let Some(facts) = &ctx.trace {
        let (te, site_growth) = trace_evidence(capture, facts, family, t);
        // Goroutines created during the trace that parked and were never woken for most of it
        // are waiting long by the trace's own clock; older ones could be idle pool workers.
        let span = (facts.end_ns - facts.start_ns).max(1);
        long |= te.created_in_trace > 0
            && te.never_woken == te.blocked_at_end
            && te.blocked_ns.is_some_and(|[lo, _]| lo as f64 >= span as f64 * t.trace_blocked_fraction);
        if growth.is_none() {
            growth = site_growth
                .filter(|_| family.creator.as_deref().is_some_and(|c| !funcname::is_standard_library(c)));
        }
        ev.trace = Some(te);
    }

    if family.leaked > 0 || (ctx.deadlock && parked) {
        matched.push((RuleId::RuntimeProven, Severity::Proven));
    }
    ev.deadlock = ctx.deadlock && parked;
    let never_wakes = family.states.keys().any(|s| knowledge::never_wakes_state(s))
        || (family.representative.state.is_none() && funcs.contains(&knowledge::EMPTY_SELECT_FRAME));
    if never_wakes && !family.main {
        matched.push((RuleId::NeverWakes, Severity::Proven));
    }

    // Parents and creator.
    let parents = parent_facts(ctx, family);
    if let Some(creator) = family.creator.as_deref() {
        ev.creator_is_request_code = ctx.is_request_code(creator)
            || parents.as_ref().is_some_and(|p| p.in_request + p.request_over > 0);
        ev.creator_active = Some(ctx.active.get(creator).copied().unwrap_or(0));
    }
    // Connection loops live as long as their connection, whoever started them (net/http dials
    // on a short-lived goroutine, websocket handlers return after starting their pumps): they are
    // judged by how many there are, never by a missing parent. Goroutines a library started
    // (created by standard library code) aren't the program's request work either.
    let connection_loop = knowledge::connection_loop(funcs.iter().copied()).is_some();
    let creator_is_program = family.creator.as_deref().is_some_and(|c| !funcname::is_standard_library(c));
    // Bound to live connections: as many as the connections their code is linked to, each
    // can belong to one that is still open. Growth then follows the clients, not a leak.
    let bound = facts.partners.as_ref().is_some_and(|p| p.bound(family.count));
    let at_startup = facts.ids.as_ref().is_some_and(|i| i.at_startup);
    let spread = facts.ids.as_ref().is_some_and(|i| i.share >= t.id_spread_share);
    if !family.main && parked && !connection_loop && creator_is_program && !bound {
        let orphaned = parents.as_ref().is_some_and(|p| p.gone > 0);
        let request_over = parents.as_ref().is_some_and(|p| p.request_over > 0);
        let active = ev.creator_active.unwrap_or(u64::MAX);
        // The creating call has returned for (nearly) all of them: no goroutine is inside the
        // creator, or a few are while many more members exist, created throughout the
        // process's life (a call in flight creating its own batch has narrow, recent ids).
        // Startup work's creator returned too, but its ids are the process's first.
        // Parents still serving the request that started them (an errgroup fan-out waiting
        // for its workers) say the opposite, whatever the creator function.
        // The main goroutine starting them is startup work.
        let parents_serving = parents.as_ref().is_some_and(|p| p.in_request > 0 || p.main * 2 > p.known);
        let outlived_creator = family.count >= 2
            && !at_startup
            && spread
            && !parents_serving
            && (active == 0 || active.saturating_mul(4) <= family.count);
        // Without parent ids (Go < 1.21), a creator that is request code and that no goroutine
        // runs any more tells the same story.
        let request_code_done = !ctx.has_parents && ev.creator_is_request_code && active == 0 && !at_startup;
        // The parent being gone is enough (its creator returned and left it parked); so is a
        // parent connection idle between requests.
        let outlived = orphaned || request_over || outlived_creator || request_code_done;
        if outlived {
            // One goroutine waiting on goroutines of its own that are alive is as likely a
            // batch in flight as a leak.
            let single_with_work = family.count == 1 && ctx.live_children(family, funcs) > 0;
            let severity =
                if single_with_work && family.leaked == 0 { Severity::Possible } else { Severity::Likely };
            matched.push((RuleId::OutlivedRequest, severity));
        }
    }
    ev.ids.clone_from(&facts.ids);
    ev.partners.clone_from(&facts.partners);
    ev.parents = parents;
    ev.parked_inferred_from_count = parked_by_count;

    let client = knowledge::client_call(funcs.iter().copied());
    if let Some((frame, call)) = client {
        ev.client_call = Some([frame.to_owned(), call.client.to_owned()]);
        let orphaned = ev.parents.as_ref().is_some_and(|p| p.gone > 0);
        let proven_stuck = call.sql && ctx.blocked_rollbacks > 0;
        ev.blocked_rollbacks = if call.sql { ctx.blocked_rollbacks } else { 0 };
        let strong = family.count >= t.client_calls || long || growth.is_some() || orphaned || proven_stuck;
        // One goroutine in a call is traffic; several parked at the same call, or any that has
        // waited long, are worth a look; many, old, growing or orphaned ones are likely stuck.
        // Reads on the wire (IO wait) are in-flight traffic unless they have waited long.
        let suspicious =
            (parked && family.count >= 2) || long || growth.is_some() || orphaned || proven_stuck;
        let waiting =
            parked || matches!(wait, WaitKind::Io | WaitKind::Syscall) || (stateless && proven_stuck);
        if waiting && suspicious && (parked || long || growth.is_some() || proven_stuck) {
            matched.push((
                RuleId::BlockedClientCall,
                if strong { Severity::Likely } else { Severity::Possible },
            ));
        }
    }
    let open_bodies = knowledge::holds_response_body_open(funcs, wait);
    // Each net/http connection has one read loop and one write loop: when read loops hold
    // bodies open, as many write loops belong to those same stuck connections.
    let stuck_connections = if open_bodies {
        family.count
    } else if funcs.iter().any(|f| knowledge::frame_matches(f, "net/http.(*persistConn).writeLoop")) {
        // A call stuck waiting for its response holds its connection too.
        (ctx.open_bodies + ctx.stuck_round_trips).min(family.count)
    } else {
        0
    };
    ev.connections_with_open_bodies = stuck_connections;
    // A loop of the program's own that reads a live connection grows with the clients; its
    // number alone can say too many.
    let grows_with_clients = facts.is_reader || bound;
    if connection_loop
        && (family.count >= t.conn_loops
            || (growth.is_some() && !grows_with_clients)
            || stuck_connections >= t.client_calls)
    {
        matched.push((RuleId::ConnPoolGrowth, Severity::Likely));
    }
    // More of them than live connections they belong to: the rest lost their connection and
    // were never told.
    if let Some(p) = facts.partners.as_ref().filter(|p| !p.bound(family.count)) {
        let excess = family.count - p.readers;
        if parked && excess >= t.growth_min.max(p.readers) {
            matched.push((RuleId::ConnPoolGrowth, Severity::Likely));
        }
    }
    ev.open_response_bodies = open_bodies;
    if funcs.iter().any(|f| knowledge::is_context_propagation(f)) {
        let strong = family.count >= t.context_propagation || growth.is_some();
        matched
            .push((RuleId::ContextPropagation, if strong { Severity::Likely } else { Severity::Possible }));
    }
    let sync_wait = wait == WaitKind::Sync;
    let in_request = funcs.iter().any(|f| knowledge::is_request_serving(f));
    // Requests queued on one lock are contention or a hang. Goroutines that left their request
    // behind and wait on a lock, a WaitGroup or a condition are a leak when a fact says they
    // outlived it, and a candidate when nothing explains them.
    let outlived = matched.iter().any(|(r, _)| *r == RuleId::OutlivedRequest);
    let pile_up = sync_wait
        && family.count >= t.pile_up
        && client.is_none()
        && !outlived
        && (in_request || ctx.lists_goroutines);
    // A pile-up is reported apart from leaks: growth, crowds and long waits stay facts of the
    // pile-up instead of turning it into a leak finding. Structural evidence (the runtime's
    // mark, a parent gone) still makes it a leak.
    // Readers of live connections, and what is bound to them, grow with the clients
    // connected: not a leak by itself.
    if growth.is_some() && !family.main && !pile_up && !grows_with_clients {
        matched.push((RuleId::Growing, Severity::Likely));
    }
    if pile_up {
        matched.push((RuleId::PileUp, Severity::Warning));
    }
    let explained = !matched.is_empty();
    let mut healthy = healthy_reason(family, facts, &ev, bound, at_startup, in_request);
    if let Some(g) = growth.as_ref().filter(|_| grows_with_clients) {
        healthy =
            healthy.map(|h| format!("{h}; grew from {} to {} with the clients connected", g.before, g.after));
    }
    if let (None, Some(before)) = (&healthy, held_steady) {
        healthy =
            Some(format!("as many as in the earlier capture ({before}, now {}): not growing", family.count));
    }
    // In a window onto a running program (a flight-recorder snapshot) a goroutine blocked
    // through all of it is a candidate whatever their number: the window cannot say for how
    // long, only that nothing woke it while it watched.
    let whole_window = ev.trace.as_ref().is_some_and(|te| {
        te.window_ns.is_some() && te.blocked_before_trace == family.count && te.blocked_at_end == family.count
    });
    if parked && !family.main && !explained && !connection_loop {
        let listed = family.count >= 2 && (ctx.lists_goroutines || family.count >= t.profile_family);
        if long || (whole_window && healthy.is_none()) {
            matched.push((RuleId::LongWait, Severity::Possible));
        } else if (healthy.is_none() && listed) || creation_site_total >= t.crowd {
            matched.push((RuleId::ParkedCrowd, Severity::Possible));
        }
    }
    // A proven leak the earlier capture already held as many of is not news. In a goroutineleak
    // profile every goroutine is such a leak and a CI job comparing two wants only what leaked
    // since, so it is left out; elsewhere (dumps, where the comparison is a person's) it stays,
    // saying so.
    let old_leak = held_steady.filter(|_| family.leaked > 0);
    if let Some(before) = old_leak
        && ctx.capture.is_leak_profile()
    {
        return Verdict::Healthy(format!(
            "leaked already in the earlier capture ({before}, now {}): not new",
            family.count
        ));
    }
    if matched.is_empty() {
        return match healthy {
            Some(reason) if parked => Verdict::Healthy(reason),
            _ => Verdict::Nothing,
        };
    }
    ev.missing = missing_facts(ctx, family, &ev, growth.as_ref(), baselines);

    matched.sort_by_key(|(r, s)| (*s, RuleId::ALL.iter().position(|x| x == r)));
    matched.dedup_by_key(|(r, _)| *r);
    let Some(&(rule, mut severity)) = matched.first() else { return Verdict::Nothing };
    // A trace cut off inside its last generation lost events after the cut: goroutines that
    // all blocked after it began may have been woken by one of them, so blocking to the end is
    // no evidence for them. The runtime's proof and a nil channel stand whatever the cut.
    let cut_explains = ev
        .trace
        .as_ref()
        .is_some_and(|te| te.blocked_after_cut > 0 && te.blocked_after_cut == te.blocked_at_end);
    if cut_explains && severity == Severity::Likely {
        severity = Severity::Possible;
    }
    let rules: Vec<RuleId> = matched.iter().map(|(r, _)| *r).collect();
    let texts = explain::Texts::new(
        capture,
        &family_view(family, wait, ev.deadlock),
        &ev,
        growth.as_ref(),
        &rules,
        client.map(|c| c.1),
        baselines,
    );
    ev.facts = texts.facts;
    let (memory, fact) = heap::held_stacks(family.count);
    ev.memory = Some(memory);
    ev.facts.push(fact);
    if let Some(before) = old_leak {
        ev.facts
            .push(format!("not new: the earlier capture already had {before} of them leaked or parked here"));
    }
    let missing: Vec<String> = ev.missing.iter().map(|m| format!("missing: {m}")).collect();
    ev.facts.extend(missing);
    let mut explanation = texts.explanation;
    if cut_explains {
        explanation.push_str(
            " The trace is cut off, and all of them blocked in its last, incomplete generation: what would have woken them may be in the part that was lost, so this is not evidence of a leak on its own.",
        );
    }
    Verdict::Finding(Box::new(Finding {
        rule,
        rules,
        severity,
        title: texts.title,
        count: family.count,
        key: family.key.clone(),
        group: family.representative.clone(),
        stacks: family.stacks.iter().map(|(s, _)| *s).collect(),
        evidence: ev,
        explanation,
        fix: texts.fix,
        growth,
    }))
}

/// Why a parked family that no rule flagged is healthy, where a fact says so.
fn healthy_reason(
    family: &Family,
    facts: &evidence::FamilyFacts,
    ev: &Evidence,
    bound: bool,
    at_startup: bool,
    in_request: bool,
) -> Option<String> {
    if in_request {
        return Some("a request in progress: its handler is still on the stack".to_owned());
    }
    if facts.is_reader {
        return Some("reading a live connection (IO wait in the program's own code)".to_owned());
    }
    if let Some(p) = facts.partners.as_ref().filter(|_| bound) {
        return Some(format!(
            "bound to {} live connections ({} reading them): {} of them, at most one per connection",
            p.readers,
            funcname::display_name(&p.reader_function),
            family.count
        ));
    }
    if let Some(p) = ev.parents.as_ref().filter(|p| p.main * 2 > p.known) {
        return Some(format!(
            "started by the main goroutine ({} of {}), which is still running",
            p.main, p.known
        ));
    }
    if let Some(ids) = facts.ids.as_ref().filter(|_| at_startup) {
        return Some(format!(
            "started once at startup: ids {}-{} of the process's {}-{}",
            ids.family[0], ids.family[1], ids.capture[0], ids.capture[1]
        ));
    }
    if let (Some(n), Some(c)) = (ev.creator_active.filter(|&n| n > 0), family.creator.as_deref()) {
        return Some(format!(
            "{n} goroutines are still inside {c}, which created them: its call has not returned"
        ));
    }
    // A window onto a running program shows work arriving: goroutines woken in it wait for
    // more of it (pool workers, ticker loops). Whether there are too many of them is what a
    // later snapshot says.
    if let Some((te, span)) = ev.trace.as_ref().and_then(|te| te.window_ns.map(|w| (te, w)))
        && family.count > 0
        && te.woken == family.count
    {
        return Some(format!(
            "woken during the {} window: waiting for work that keeps coming; a later snapshot tells whether there are more of them",
            explain::human_ns(span)
        ));
    }
    None
}

/// What the capture could not say that would make a verdict firmer.
fn missing_facts(
    ctx: &Context<'_>,
    family: &Family,
    ev: &Evidence,
    growth: Option<&Growth>,
    baselines: usize,
) -> Vec<String> {
    let mut out = Vec::new();
    if ctx.lists_goroutines {
        if family.created_by.is_some() && !ctx.has_parents && ctx.trace.is_none() {
            out.push(
                "no parent goroutine ids (Go before 1.21): whether the parent is gone is unknown".to_owned(),
            );
        }
        if ev.wait_minutes.is_none() && ctx.trace.is_none() && family.leaked == 0 {
            out.push("no wait times (the runtime prints minutes only after a minute)".to_owned());
        }
    } else {
        out.push("a count-only profile: no states, creators, goroutine ids or wait times; a debug=2 dump says much more".to_owned());
    }
    if growth.is_none() && baselines == 0 && ctx.trace.is_none() {
        out.push("no second capture: take another later to see whether they grow".to_owned());
    }
    if let Some(te) = ev.trace.as_ref().filter(|te| te.window_ns.is_some()) {
        if te.created_in_trace < family.count {
            out.push("who created them and when they blocked: they existed before the window began, so it shows neither (a goroutine dump, debug=2, names the creator and the minutes waited)".to_owned());
        }
        if growth.is_none() && baselines == 0 {
            out.push("no second snapshot: take another later to see whether they grow".to_owned());
        }
    }
    out
}

fn family_view(family: &Family, wait: WaitKind, deadlock: bool) -> explain::FamilyView<'_> {
    explain::FamilyView {
        key: &family.key,
        count: family.count,
        wait,
        states: &family.states,
        leaked: family.leaked,
        deadlock,
    }
}

fn describe_frame(capture: &Capture, frame: FrameId) -> String {
    let f = capture.tables.frame(frame);
    let func = capture.str(f.func);
    let file = capture.str(f.file);
    if file.is_empty() {
        func.to_owned()
    } else {
        let short = file.rsplit('/').next().unwrap_or(file);
        format!("{func} ({short}:{})", f.line)
    }
}

fn parent_facts(ctx: &Context<'_>, family: &Family) -> Option<ParentFacts> {
    let tasks = &ctx.capture.tasks;
    let mut facts = ParentFacts::default();
    // Count children per parent first: families have far fewer parents than members.
    let mut children: HashMap<u64, u64> = HashMap::new();
    for &i in &family.representative.members {
        if let Some(parent) = tasks.get(i as usize).and_then(|t| t.parent_id.get()) {
            *children.entry(parent).or_insert(0) += 1;
        }
    }
    // What ties a parent to the request that started these: the creator, and the functions
    // whose closures they run (an errgroup's `Go` returns at once; the handler that called it
    // waits in the function whose closure the workers run).
    let mut own: Vec<&str> = family.creator.as_deref().into_iter().collect();
    for f in family.stack_funcs(ctx.capture) {
        if let Some(at) = f.find(".func") {
            own.extend(f.get(..at));
        }
    }
    for (parent, n) in &children {
        facts.known += n;
        if ctx.is_alive(*parent) {
            facts.alive += n;
            if *parent == 1 {
                facts.main += n;
            }
            // A keep-alive connection serves one request after another: a parent serving a
            // request is still in the one that started these only while it runs their creator.
            match ctx.requests.get(parent) {
                Some(false) if ctx.runs_any(*parent, &own) => facts.in_request += n,
                Some(_) => facts.request_over += n,
                None => {}
            }
        } else {
            facts.gone += n;
        }
    }
    facts.distinct = children.len() as u64;
    (facts.known > 0).then_some(facts)
}

/// The client call a finding is about, for the fix text.
pub fn client_of(finding: &Finding) -> Option<&str> {
    finding.evidence.client_call.as_ref().map(|[_, c]| c.as_str())
}

/// A family's trace evidence, and the growth of its creation site when its live count only went
/// up during the trace (goroutines created, none ended).
fn trace_evidence(
    capture: &Capture,
    facts: &TraceFacts<'_>,
    family: &Family,
    t: &Thresholds,
) -> (TraceEvidence, Option<Growth>) {
    let mut te = TraceEvidence::default();
    let mut blocked: Option<(i64, i64)> = None;
    te.window_ns = facts.window.map(|w| w.span_ns);
    for &i in &family.representative.members {
        let task = capture.tasks.get(i as usize);
        if task.is_some_and(|t| !t.flags.contains(TaskFlags::EXISTED_BEFORE)) {
            te.created_in_trace += 1;
        }
        let Some(g) = facts.parked(i) else {
            te.woken += 1;
            continue;
        };
        te.blocked_at_end += 1;
        if g.unblocks == 0 {
            te.never_woken += 1;
        } else {
            te.woken += 1;
        }
        if facts.cut_at_ns.is_some_and(|cut| g.blocked_since_ns >= cut) {
            te.blocked_after_cut += 1;
        }
        let ns = g.blocked_ns(facts.end_ns);
        blocked = Some(blocked.map_or((ns, ns), |(a, b)| (a.min(ns), b.max(ns))));
        te.blocked_before_trace += u64::from(g.blocked_before_trace);
        te.orphaned += u64::from(g.is_orphan());
    }
    te.blocked_ns = blocked.map(|(a, b)| [a, b]);
    // A site is one function: goroutines seen created name it by their entry frame, older ones
    // by their stack's outermost frame, which can be two frames of one function.
    let sites: Vec<&crate::analysis::trace_facts::CreationSite> = facts
        .sites
        .iter()
        .filter(|s| s.start_func.is_some_and(|f| capture.func_name(f) == family.key.start))
        .collect();
    let merged = (!sites.is_empty()).then(|| {
        let sum = |f: fn(&crate::analysis::trace_facts::CreationSite) -> u32| {
            sites.iter().map(|s| f(s)).sum::<u32>()
        };
        SiteGrowth {
            alive_at_start: sum(|s| s.alive_at_start),
            created: sum(|s| s.created),
            ended: sum(|s| s.ended),
            alive_at_end: sum(|s| s.alive_at_end),
        }
    });
    // Within one trace the site's own history decides: created goroutines and none ended.
    let growth = merged.as_ref().filter(|m| m.ended == 0 && u64::from(m.created) >= t.growth_min).map(|m| {
        let live: Vec<Vec<(i64, u32)>> = sites.iter().map(|s| s.live(capture)).collect();
        let live: Vec<&[(i64, u32)]> = live.iter().map(Vec::as_slice).collect();
        Growth {
            before: u64::from(m.alive_at_start),
            after: u64::from(m.alive_at_end),
            series: sample_series(&sum_steps(&live), 8),
        }
    });
    te.site = merged;
    (te, growth)
}

/// The sum of step series (`(time, value from then on)`, ascending), as one step series.
fn sum_steps(series: &[&[(i64, u32)]]) -> Vec<(i64, u32)> {
    let mut times: Vec<i64> = series.iter().flat_map(|s| s.iter().map(|&(t, _)| t)).collect();
    times.sort_unstable();
    times.dedup();
    times
        .into_iter()
        .map(|t| {
            let at = |s: &[(i64, u32)]| match s.partition_point(|&(x, _)| x <= t) {
                0 => 0,
                i => s.get(i - 1).map_or(0, |&(_, v)| v),
            };
            (t, series.iter().map(|s| at(s)).sum())
        })
        .collect()
}

/// At most `n` points of a step series, evenly spread, first and last included.
fn sample_series(live: &[(i64, u32)], n: usize) -> Vec<u64> {
    if live.len() <= n {
        return live.iter().map(|&(_, c)| u64::from(c)).collect();
    }
    (0..n).filter_map(|k| live.get(k * (live.len() - 1) / (n - 1)).map(|&(_, c)| u64::from(c))).collect()
}
