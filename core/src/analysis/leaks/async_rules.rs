//! Leak rules for traces of runtimes other than Go (Chrome trace JSON from Node.js, viztracer,
//! Chromium, `tracing-chrome`): async work begun and never finished, spans never closed,
//! asyncio tasks still pending when the loop shut down, and threads idle in one blocking call
//! until the end. They read the facts of [`crate::analysis::async_facts`] and give the same
//! [`Finding`]s as the goroutine rules, so `leakscope report` and the app show both alike.
//!
//! What a healthy program has and is not reported, each judged from real captures
//! (../shared/realdata and the bundled samples):
//! - Node.js handles (sockets, servers, timers) and queued callbacks (`TickObject`,
//!   `Immediate`) open at the end: handles live as long as the connection or server they serve,
//!   and a process that exits does not record the destroy of what it closes on the way out;
//!   both samples, healthy and leaky, end with their client sockets open ([`knowledge`]).
//! - Work left by a single origin (one request, or the program's main module): that can be
//!   work in flight when the capture stopped. A leak is a code path that leaves the same
//!   unfinished shape behind every time it runs, so a family needs several origins.
//! - Work begun in the last moments of the capture: in flight, not stuck.
//! - The main thread, thread-pool workers idle between jobs, and threads that ended before
//!   the end of the capture.

use std::collections::BTreeMap;

use super::explain::{self, AsyncView};
use super::{Analysis, AsyncEvidence, Config, Evidence, Excluded, Finding, RuleId, Severity, knowledge};
use crate::analysis::async_facts::{ALIVE_AT_END_SHARE, AsyncFacts, Lane, async_facts, name_kind};
use crate::analysis::sites::SiteKey;
use crate::model::{Capture, Group, LabelSetId, StackId, TaskFlags, TaskKind, WaitKind};

/// A thread released by a join in this final share of the capture was joined on the way out
/// (the exit sequence joining every thread in turn): it stayed idle until the program ended.
/// A thread stopped and joined as part of the work ends well before.
const JOINED_AT_EXIT_SHARE: f64 = 0.1;

/// Largest gap between the ends of two frames of one await chain when the coroutine yields.
const AWAIT_CHAIN_SLACK_NS: i64 = 300;

/// A finding before ignore rules are applied.
struct Candidate {
    rule: RuleId,
    severity: Severity,
    /// Unfinished operations, tasks or threads.
    count: u64,
    key: SiteKey,
    /// The creating span stack, the await chain or the blocking call chain.
    stack: StackId,
    /// Task indices, ascending.
    members: Vec<u32>,
    /// Names ignore rules match against besides the stack's frames.
    names: Vec<String>,
    view: AsyncView,
    ev: AsyncEvidence,
}

/// Whether the capture has threads or async operations for these rules to read.
pub(super) fn applies(capture: &Capture) -> bool {
    capture.tasks.iter().any(|t| matches!(t.kind, TaskKind::Thread | TaskKind::AsyncTask))
}

/// Adds the findings (and the exclusions) of the async rules to `analysis`.
pub(super) fn analyze(capture: &Capture, config: &Config, analysis: &mut Analysis) {
    let facts = async_facts(capture);
    let (start, end) = capture.time_range_ns.unwrap_or((0, 0));
    let span = (end - start).max(1);
    let tail_ns = (span as f64 * ALIVE_AT_END_SHARE) as i64;
    let mut candidates = Vec::new();
    if facts.origin_families.is_empty() {
        never_ended(capture, &facts, config, end, span, tail_ns, &mut candidates);
    } else {
        never_settled(capture, &facts, config, end, tail_ns, &mut candidates, &mut analysis.benign);
    }
    pending_at_exit(capture, &facts, end, &mut candidates);
    idle_threads(capture, &facts, config, end, &mut candidates);
    open_spans(capture, &facts, config, end, span, tail_ns, &mut candidates);
    for c in candidates {
        let mut funcs: Vec<&str> = capture.stack_funcs(c.stack).collect();
        funcs.extend(c.names.iter().map(String::as_str));
        let top = funcs.first().copied().unwrap_or("");
        if let Some(rule) = config.ignored_by(&funcs, top, c.key.creator.as_deref()) {
            let reason =
                rule.reason.clone().unwrap_or_else(|| format!("ignored by the rule /{}/", rule.pattern));
            analysis.ignored.push(Excluded { key: c.key, count: c.count, reason });
            continue;
        }
        let mut finding = finish(capture, c);
        if capture.source.truncated {
            cut_off(&mut finding);
        }
        analysis.findings.push(finding);
    }
}

/// A capture cut off while being written ends in the middle of work: what is open at the cut
/// may have finished a moment later, so being open at the end is no evidence of a leak. The
/// finding stays, as a possible one, and says why.
fn cut_off(finding: &mut Finding) {
    if finding.severity < Severity::Possible {
        finding.severity = Severity::Possible;
    }
    finding.evidence.facts.push(
        "the capture is cut off (the file ends inside an event): work open at its end may have finished right after, so this is not evidence of a leak on its own; capture the whole run".to_owned(),
    );
    finding
        .explanation
        .push_str(" The file is cut off, so what was open at its end may simply have been in progress.");
}

fn finish(capture: &Capture, c: Candidate) -> Finding {
    let mut view = c.view;
    view.chain = capture.stack_funcs(c.stack).map(|f| f.split(" (").next().unwrap_or(f).to_owned()).collect();
    let texts = explain::async_texts(c.rule, &view, &c.ev);
    let evidence = Evidence {
        stacks: u64::from(c.stack != StackId::EMPTY),
        async_work: Some(c.ev),
        facts: texts.facts,
        ..Evidence::default()
    };
    Finding {
        rule: c.rule,
        rules: vec![c.rule],
        severity: c.severity,
        title: texts.title,
        count: c.count,
        key: c.key,
        group: Group {
            count: c.count,
            state: None,
            wait_kind: WaitKind::Other,
            leaked: false,
            stack: c.stack,
            created_by: None,
            name: None,
            wait_ns: None,
            members: c.members,
            labels: LabelSetId::EMPTY,
        },
        stacks: vec![c.stack],
        evidence,
        explanation: texts.explanation,
        fix: texts.fix,
        growth: None,
    }
}

/// The most common stack of some tasks (their creating span stacks).
fn common_stack(capture: &Capture, tasks: &[u32]) -> StackId {
    let mut by_stack: BTreeMap<StackId, u64> = BTreeMap::new();
    for &t in tasks {
        if let Some(task) = capture.tasks.get(t as usize) {
            *by_stack.entry(task.stack).or_insert(0) += 1;
        }
    }
    by_stack.into_iter().max_by_key(|&(s, n)| (n, std::cmp::Reverse(s))).map_or(StackId::EMPTY, |(s, _)| s)
}

/// Least and most time the tasks have been open at `end_ns`.
fn open_range(capture: &Capture, tasks: &[u32], end_ns: i64) -> Option<[i64; 2]> {
    tasks
        .iter()
        .filter_map(|&t| capture.tasks.get(t as usize)?.start_ns.get())
        .map(|s| end_ns - s)
        .fold(None, |acc, d| Some(acc.map_or([d, d], |[lo, hi]: [i64; 2]| [lo.min(d), hi.max(d)])))
}

/// Per (name, category): how many operations ended, and the longest any of them took.
fn ended_stats(capture: &Capture) -> BTreeMap<(String, String), (u64, i64)> {
    let mut out: BTreeMap<(String, String), (u64, i64)> = BTreeMap::new();
    for (i, t) in capture.tasks.enumerate() {
        if t.kind != TaskKind::AsyncTask || t.flags.contains(TaskFlags::NEVER_ENDED) {
            continue;
        }
        let category = capture.chrome().task_details.get(i).map_or("", |d| capture.str(d.category));
        let e = out.entry((capture.str(t.name).to_owned(), category.to_owned())).or_insert((0, 0));
        e.0 += 1;
        if let (Some(s), Some(end)) = (t.start_ns.get(), t.end_ns.get()) {
            e.1 = e.1.max(end - s);
        }
    }
    out
}

/// Node.js async_hooks resources never destroyed, grouped by the origin that started them
/// and the shape each origin left behind.
fn never_settled(
    capture: &Capture,
    facts: &AsyncFacts,
    config: &Config,
    end_ns: i64,
    tail_ns: i64,
    out: &mut Vec<Candidate>,
    benign: &mut Vec<Excluded>,
) {
    let ended = ended_stats(capture);
    for family in &facts.origin_families {
        let Some((op, _)) = family.shape.first() else { continue };
        let key = SiteKey {
            creator: Some(family.origin_name.clone()),
            start: family.origin_name.clone(),
            wait: op.clone(),
            user: op.clone(),
            user_path: family.shape.iter().map(|(n, d)| format!("{n}@{d}")).collect(),
        };
        if let Some(why) = knowledge::node_resource_lives_on(op) {
            benign.push(Excluded { key, count: family.pending, reason: why.to_owned() });
            continue;
        }
        // One origin is one request or the main module: work in flight looks the same.
        if family.origins < config.thresholds.async_origins {
            continue;
        }
        let Some(open_ns) = open_range(capture, &family.tasks, end_ns) else { continue };
        // Everything begun in the last moments of the capture is in flight.
        if open_ns[1] < tail_ns {
            continue;
        }
        let category = family
            .tasks
            .first()
            .and_then(|&t| capture.chrome().task_details.get(t as usize))
            .map_or(String::new(), |d| capture.str(d.category).to_owned());
        let same = ended.get(&(op.clone(), category.clone()));
        out.push(Candidate {
            rule: RuleId::NeverSettled,
            severity: Severity::Likely,
            count: family.pending,
            stack: common_stack(capture, &family.tasks),
            members: family.tasks.clone(),
            names: vec![op.clone(), family.origin_name.clone()],
            view: AsyncView {
                count: family.pending,
                span_ns: end_ns - capture.time_range_ns.map_or(0, |r| r.0),
                chain: Vec::new(),
            },
            ev: AsyncEvidence {
                what: op.clone(),
                category: Some(category).filter(|c| !c.is_empty()),
                origin: Some(family.origin_name.clone()),
                origins: family.origins,
                per_origin: family.shape.clone(),
                ended: same.map(|s| s.0),
                longest_ended_ns: same.map(|s| s.1).filter(|&d| d > 0),
                open_ns: Some(open_ns),
                ..AsyncEvidence::default()
            },
            key,
        });
    }
}

/// Async operations begun and never ended in traces that say nothing about what created
/// them: suspicious when they have been open longer than any operation of their kind that
/// did end took.
fn never_ended(
    capture: &Capture,
    facts: &AsyncFacts,
    config: &Config,
    end_ns: i64,
    span_ns: i64,
    tail_ns: i64,
    out: &mut Vec<Candidate>,
) {
    let ended = ended_stats(capture);
    for group in &facts.never_ended {
        if knowledge::node_resource_lives_on(&group.name).is_some() {
            continue;
        }
        let longest = ended.get(&(group.name.clone(), group.category.clone())).map_or(0, |s| s.1);
        // The ones open longer than any that ended, and begun before the last moments.
        let stuck: Vec<u32> = group
            .tasks
            .iter()
            .copied()
            .filter(|&t| {
                capture.tasks.get(t as usize).and_then(|t| t.start_ns.get()).is_some_and(|s| {
                    let open = end_ns - s;
                    open >= tail_ns
                        && if group.ended > 0 {
                            open > longest
                        } else {
                            open as f64 >= span_ns as f64 * config.thresholds.trace_blocked_fraction
                        }
                })
            })
            .collect();
        if stuck.is_empty() {
            continue;
        }
        let Some(open_ns) = open_range(capture, &stuck, end_ns) else { continue };
        let count = stuck.len() as u64;
        out.push(Candidate {
            rule: RuleId::NeverEnded,
            severity: Severity::Possible,
            count,
            key: SiteKey {
                creator: None,
                start: group.category.clone(),
                wait: group.name.clone(),
                user: group.name.clone(),
                user_path: Vec::new(),
            },
            stack: common_stack(capture, &stuck),
            members: stuck,
            names: vec![group.name.clone(), group.category.clone()],
            view: AsyncView { count, span_ns, chain: Vec::new() },
            ev: AsyncEvidence {
                what: group.name.clone(),
                category: Some(group.category.clone()).filter(|c| !c.is_empty()),
                ended: Some(group.ended),
                longest_ended_ns: Some(longest).filter(|&d| d > 0),
                open_ns: Some(open_ns),
                ..AsyncEvidence::default()
            },
        });
    }
}

/// Where a task lane was suspended the longest: the await chain at the end of the slice
/// before its longest gap (the spans that end together when a coroutine yields).
fn suspended_at(capture: &Capture, lane: &Lane) -> StackId {
    let Some(task) = capture.tasks.get(lane.task as usize) else { return StackId::EMPTY };
    let iv = &capture.intervals;
    let range = task.intervals.indices();
    let at_depth = |d: u16| range.clone().filter(move |&i| iv.depth(i) == d);
    let start = |i: usize| iv.start(i);
    let end = |i: usize| iv.end(i);
    let top: Vec<usize> = at_depth(0).collect();
    // The slice followed by the longest gap; without gaps, the last slice.
    let slice = top
        .windows(2)
        .filter_map(|w| Some((start(*w.get(1)?) - end(*w.first()?), *w.first()?)))
        .max_by_key(|&(gap, i)| (gap, std::cmp::Reverse(i)))
        .map(|(_, i)| i)
        .or_else(|| top.last().copied());
    let Some(mut cur) = slice else { return StackId::EMPTY };
    let mut depth = 0u16;
    loop {
        let (s, e) = (start(cur), end(cur));
        // A coroutine that yields returns from every frame of its await chain at once (a
        // tracer logs those returns a tenth of a microsecond apart); a call made earlier in the
        // slice (`create_future` before the await) ended microseconds before.
        let slack = AWAIT_CHAIN_SLACK_NS;
        let next = at_depth(depth + 1)
            .filter(|&c| start(c) >= s && end(c) <= e)
            .max_by_key(|&c| (end(c), std::cmp::Reverse(c)))
            .filter(|&c| end(c) + slack >= e);
        match next {
            Some(c) => {
                cur = c;
                depth += 1;
            }
            None => return iv.stack(cur),
        }
    }
}

/// The coroutine a task lane runs: the label of its first top-level slice.
fn coroutine(capture: &Capture, lane: &Lane) -> String {
    let Some(task) = capture.tasks.get(lane.task as usize) else { return String::new() };
    task.intervals
        .indices()
        .find(|&i| capture.intervals.depth(i) == 0)
        .map_or(String::new(), |i| capture.str(capture.intervals.label(i)).to_owned())
}

/// Asyncio tasks still pending when `asyncio.run` shut the loop down and cancelled them,
/// grouped by task name kind and coroutine (where each one was suspended varies by a frame
/// with timing, so it is shown, not keyed on).
fn pending_at_exit(capture: &Capture, facts: &AsyncFacts, end_ns: i64, out: &mut Vec<Candidate>) {
    let mut groups: BTreeMap<(String, String), Vec<&Lane>> = BTreeMap::new();
    for lane in facts.lanes.iter().filter(|l| l.cancelled_at_shutdown) {
        groups.entry((lane.kind.clone(), coroutine(capture, lane))).or_default().push(lane);
    }
    for ((kind, _), lanes) in groups {
        let mut stacks: BTreeMap<StackId, u64> = BTreeMap::new();
        for lane in &lanes {
            *stacks.entry(suspended_at(capture, lane)).or_insert(0) += 1;
        }
        let stack = stacks
            .into_iter()
            .max_by_key(|&(s, n)| (n, std::cmp::Reverse(s)))
            .map_or(StackId::EMPTY, |(s, _)| s);
        let count = lanes.len() as u64;
        let finished =
            facts.lanes.iter().filter(|l| l.kind == kind && !l.cancelled_at_shutdown).count() as u64;
        let idle = lanes
            .iter()
            .map(|l| l.longest_gap_ns)
            .fold(None, |acc, d| Some(acc.map_or([d, d], |[lo, hi]: [i64; 2]| [lo.min(d), hi.max(d)])));
        let by = lanes.iter().find_map(|l| l.ended_under).and_then(|(_, s)| capture.stack_funcs(s).next());
        let span_ns = end_ns - capture.time_range_ns.map_or(0, |r| r.0);
        out.push(Candidate {
            rule: RuleId::PendingAtExit,
            severity: Severity::Likely,
            count,
            key: SiteKey {
                creator: None,
                start: kind.clone(),
                wait: capture.stack_funcs(stack).next().unwrap_or("").to_owned(),
                user: kind.clone(),
                user_path: Vec::new(),
            },
            stack,
            members: sorted(lanes.iter().map(|l| l.task)),
            names: vec![kind.clone()],
            view: AsyncView { count, span_ns, chain: Vec::new() },
            ev: AsyncEvidence {
                what: "asyncio task".to_owned(),
                lane_kind: Some(kind),
                ended: Some(finished),
                open_ns: idle,
                ended_by: by.map(str::to_owned),
                ..AsyncEvidence::default()
            },
        });
    }
}

fn sorted(tasks: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut v: Vec<u32> = tasks.collect();
    v.sort_unstable();
    v
}

/// Whether a lane is its process's main thread (tid equal to pid, or a main-thread name).
fn is_main_lane(capture: &Capture, lane: &Lane) -> bool {
    let pid = capture
        .chrome()
        .task_details
        .get(lane.task as usize)
        .and_then(|d| d.process)
        .and_then(|p| capture.chrome().processes.get(p as usize))
        .map(|p| p.pid);
    let tid = capture.tasks.get(lane.task as usize).map(|t| t.id);
    (pid.is_some() && pid == tid) || knowledge::is_main_thread_name(&lane.name)
}

/// Threads alive at the end that spent (nearly) their whole life in one blocking call and are
/// still in it: their work is done, or never came.
fn idle_threads(
    capture: &Capture,
    facts: &AsyncFacts,
    config: &Config,
    end_ns: i64,
    out: &mut Vec<Candidate>,
) {
    let iv = &capture.intervals;
    let (start_ns, _) = capture.time_range_ns.unwrap_or((0, 0));
    let exit_ns = end_ns - ((end_ns - start_ns) as f64 * JOINED_AT_EXIT_SHARE) as i64;
    let mut groups: BTreeMap<(String, StackId), Vec<&Lane>> = BTreeMap::new();
    for lane in &facts.lanes {
        let joined_at_exit = lane.ended_when_joined && lane.last_ns >= exit_ns;
        if !(lane.alive_at_end || joined_at_exit) || lane.cancelled_at_shutdown || lane.open_spans > 0 {
            continue;
        }
        if lane.blocked_share() < config.thresholds.idle_lane_share || is_main_lane(capture, lane) {
            continue;
        }
        let Some(block) = lane.longest_block.map(|b| b as usize) else { continue };
        let stack = iv.stack(block);
        let funcs: Vec<&str> = capture.stack_funcs(stack).collect();
        if knowledge::is_pool_worker(&lane.name, &funcs) {
            continue;
        }
        groups.entry((lane.kind.clone(), stack)).or_default().push(lane);
    }
    let span_ns = end_ns - capture.time_range_ns.map_or(0, |r| r.0);
    for ((kind, stack), lanes) in groups {
        let count = lanes.len() as u64;
        let blocked = lanes
            .iter()
            .map(|l| l.blocked_ns)
            .fold(None, |acc, d| Some(acc.map_or([d, d], |[lo, hi]: [i64; 2]| [lo.min(d), hi.max(d)])));
        let joined = lanes.iter().filter(|l| l.ended_when_joined).count() as u64;
        let by = lanes
            .iter()
            .find_map(|l| l.ended_under.filter(|_| l.ended_when_joined))
            .and_then(|(_, s)| capture.stack_funcs(s).next());
        let share = lanes.iter().map(|l| l.blocked_share()).fold(1.0_f64, f64::min);
        out.push(Candidate {
            rule: RuleId::IdleThread,
            severity: Severity::Possible,
            count,
            key: SiteKey {
                creator: None,
                start: kind.clone(),
                wait: capture.stack_funcs(stack).next().unwrap_or("").to_owned(),
                user: kind.clone(),
                user_path: Vec::new(),
            },
            stack,
            members: sorted(lanes.iter().map(|l| l.task)),
            names: vec![kind.clone()],
            view: AsyncView { count, span_ns, chain: Vec::new() },
            ev: AsyncEvidence {
                what: "thread".to_owned(),
                lane_kind: Some(kind),
                open_ns: blocked,
                blocked_share: Some(share),
                joined_at_exit: joined,
                ended_by: by.map(str::to_owned),
                ..AsyncEvidence::default()
            },
        });
    }
}

/// Spans begun and never ended (`B` without `E`) off the main thread that have been open for
/// most of the capture, or on several threads of one kind at one stack.
fn open_spans(
    capture: &Capture,
    facts: &AsyncFacts,
    config: &Config,
    end_ns: i64,
    span_ns: i64,
    tail_ns: i64,
    out: &mut Vec<Candidate>,
) {
    let iv = &capture.intervals;
    let main_kinds: Vec<&str> =
        facts.lanes.iter().filter(|l| is_main_lane(capture, l)).map(|l| l.kind.as_str()).collect();
    for group in &facts.open_spans {
        if main_kinds.contains(&group.thread_kind.as_str())
            || knowledge::is_main_thread_name(&group.thread_kind)
        {
            continue;
        }
        // Spans opened in the last moments of the capture are calls in flight.
        let stuck: Vec<u32> =
            group.intervals.iter().copied().filter(|&i| end_ns - iv.start(i as usize) >= tail_ns).collect();
        let opened: Vec<i64> = stuck.iter().map(|&i| end_ns - iv.start(i as usize)).collect();
        let (Some(&lo), Some(&hi)) = (opened.iter().min(), opened.iter().max()) else { continue };
        let long = hi as f64 >= span_ns as f64 * config.thresholds.trace_blocked_fraction;
        let count = stuck.len() as u64;
        if !(long || count >= 2) {
            continue;
        }
        let lanes: Vec<u32> = sorted(
            stuck
                .iter()
                .filter_map(|&i| {
                    capture.tasks.iter().position(|t| t.intervals.indices().contains(&(i as usize)))
                })
                .map(|t| t as u32),
        );
        out.push(Candidate {
            rule: RuleId::OpenSpan,
            severity: Severity::Possible,
            count,
            key: SiteKey {
                creator: None,
                start: group.thread_kind.clone(),
                wait: group.name.clone(),
                user: group.name.clone(),
                user_path: Vec::new(),
            },
            stack: group.stack,
            members: lanes,
            names: vec![group.thread_kind.clone(), name_kind(&group.name)],
            view: AsyncView { count, span_ns, chain: Vec::new() },
            ev: AsyncEvidence {
                what: "span".to_owned(),
                lane_kind: Some(group.thread_kind.clone()),
                open_ns: Some([lo, hi]),
                ..AsyncEvidence::default()
            },
        });
    }
}
