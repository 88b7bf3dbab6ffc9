//! Golden tests over the execution traces in `sample-traces/`, one test per file: a stable text
//! summary (counts, states, leak facts, creation sites, user annotations, block profile,
//! warnings) compared with `core/tests/golden/go_trace/<file>.txt`. Set `UPDATE_GOLDEN=1` to
//! rewrite the expected summaries after a deliberate change. Each test also asserts the facts
//! its generator program (in `sample-traces/generators/`) was written to produce.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

mod support;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use leakscope_core::analysis::trace_facts::{BlockReasons, Parked, TraceFacts, block_time_stacks};
use leakscope_core::model::{Capture, LinkKind, TaskFlags, TaskKind};
use leakscope_core::{LoadOptions, Progress};

fn load(name: &str) -> Capture {
    let path = support::sample_traces().join(name);
    leakscope_core::open(&path, &LoadOptions::default(), &Progress::new())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .remove(0)
}

fn summary(name: &str, c: &Capture, facts: &TraceFacts<'_>) -> String {
    let mut s = String::new();
    let info = c.trace.as_ref().unwrap();
    let goroutines: Vec<_> = c.tasks.iter().filter(|t| t.kind == TaskKind::Goroutine).collect();
    let flag = |f: TaskFlags| goroutines.iter().filter(|t| t.flags.contains(f)).count();
    let links = |k: LinkKind| c.links.iter().filter(|l| l.kind == k).count();
    writeln!(
        s,
        "file {name}: {} {}",
        c.source.format.unwrap(),
        c.source.go_version.as_deref().unwrap_or("?")
    )
    .unwrap();
    writeln!(s, "generations {}, events {:?}", info.generations, info.event_counts).unwrap();
    writeln!(
        s,
        "goroutines {} (existed before {}, ended {}, system {}), procs {}, intervals {}, create links {}, unblock links {}, cpu samples {}",
        goroutines.len(),
        flag(TaskFlags::EXISTED_BEFORE),
        flag(TaskFlags::ENDED),
        flag(TaskFlags::SYSTEM),
        c.tasks.iter().filter(|t| t.kind == TaskKind::Resource).count(),
        c.intervals.len(),
        links(LinkKind::Create),
        links(LinkKind::Unblock),
        c.samples.len(),
    )
    .unwrap();
    let counters: Vec<String> =
        c.counters.iter().map(|k| format!("{} ({} points)", c.str(k.name), k.len())).collect();
    writeln!(s, "counters {counters:?}").unwrap();
    let mut states: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &goroutines {
        *states.entry(c.str(t.state)).or_default() += 1;
    }
    writeln!(s, "states {states:?}").unwrap();
    writeln!(s, "sites (entry: at start, created, ended, alive at end, blocked at end, peak, only grows):")
        .unwrap();
    for site in &facts.sites {
        let entry = site.start_func.map_or("?", |f| c.func_name(f));
        let creators: Vec<&str> = site.created_by.iter().map(|&f| c.func_name(f)).collect();
        writeln!(
            s,
            "  {entry}: {} {} {} {} {} {} {} created by {creators:?}",
            site.alive_at_start,
            site.created,
            site.ended,
            site.alive_at_end,
            site.blocked_at_end,
            site.peak(c),
            site.only_grows()
        )
        .unwrap();
    }
    let mut blocked: BTreeMap<(String, String), (usize, usize, usize)> = BTreeMap::new();
    for g in facts.all_parked() {
        let leaf: Vec<&str> = c.stack_funcs(g.block_stack).take(3).collect();
        let e = blocked.entry((c.str(g.block_reason).to_owned(), leaf.join(" < "))).or_default();
        e.0 += 1;
        e.1 += usize::from(g.is_orphan());
        e.2 += usize::from(g.blocked_before_trace);
    }
    writeln!(s, "blocked at end (count, orphans, since before the trace):").unwrap();
    for ((reason, stack), (n, orphans, before)) in &blocked {
        writeln!(s, "  {n} {orphans} {before} [{reason}] {stack}").unwrap();
    }
    for task in &info.user_tasks {
        writeln!(
            s,
            "user task {} {:?} parent {:?} began {} ended {}",
            task.id,
            c.str(task.name),
            task.parent_id,
            task.start_ns.is_some(),
            task.end_ns.is_some()
        )
        .unwrap();
    }
    let mut regions: Vec<String> = info
        .regions
        .iter()
        .map(|r| {
            format!(
                "region {:?} task {} on goroutine {}",
                c.str(r.name),
                r.user_task,
                c.tasks.at(r.task as usize).id
            )
        })
        .collect();
    regions.sort();
    for r in regions {
        writeln!(s, "{r}").unwrap();
    }
    for l in &info.logs {
        writeln!(s, "log task {} {}={}", l.user_task, c.str(l.category), c.str(l.message)).unwrap();
    }
    let block = block_time_stacks(c, BlockReasons::Sync, true);
    let mut block: Vec<(i64, String)> = block
        .iter()
        .map(|&(st, ns)| (ns, c.stack_funcs(st).take(2).collect::<Vec<_>>().join(" < ")))
        .collect();
    block.sort_by(|a, b| b.cmp(a));
    writeln!(s, "block time (sync, open blocks included), top stacks:").unwrap();
    for (ns, stack) in block.iter().take(5) {
        writeln!(s, "  {ns} {stack}").unwrap();
    }
    for w in c.warnings.lines() {
        writeln!(s, "warning {w}").unwrap();
    }
    s
}

/// Loads a sample and checks its summary against the golden file.
fn golden(name: &str) -> Capture {
    let capture = load(name);
    let text = summary(name, &capture, &TraceFacts::new(&capture));
    let path = support::workspace().join("core/tests/golden/go_trace").join(format!("{name}.txt"));
    support::check_golden(&path, &text);
    capture
}

fn site<'a>(
    c: &Capture,
    facts: &'a TraceFacts<'_>,
    entry: &str,
) -> &'a leakscope_core::analysis::trace_facts::CreationSite {
    facts
        .sites
        .iter()
        .find(|s| s.start_func.is_some_and(|f| c.func_name(f) == entry))
        .unwrap_or_else(|| panic!("no site {entry}"))
}

#[test]
fn go_leaky_trace() {
    let c = golden("go-leaky.trace");
    let facts = TraceFacts::new(&c);
    assert!(c.warnings.is_empty());
    // Orphans: every request's watcher outlives its request, parked on <-ctx.Done().
    let watchers = site(&c, &facts, "main.watchRequest");
    assert_eq!((watchers.created, watchers.ended, watchers.blocked_at_end), (12, 0, 12));
    assert!(watchers.only_grows());
    assert_eq!(watchers.live(&c).last().map(|l| l.1), Some(12));
    let orphans: Vec<_> = facts.all_parked().filter(Parked::is_orphan).collect();
    assert_eq!(orphans.len(), 12);
    for g in &orphans {
        assert_eq!(c.str(g.block_reason), "chan receive");
        assert_eq!(c.stack_funcs(g.block_stack).nth(1), Some("main.watchRequest"));
        let creator = &c.tasks.at(g.creator.unwrap() as usize);
        assert_eq!(creator.start_func.map(|f| c.func_name(f)), Some("main.handleRequest"));
    }
    // The requests themselves ended: their site does not only grow.
    let requests = site(&c, &facts, "main.handleRequest");
    assert_eq!((requests.created, requests.ended, requests.alive_at_end), (12, 12, 0));
    assert!(!requests.only_grows());
    // Parked before the trace began: the trace never saw them awake.
    let before = site(&c, &facts, "main.stuckBeforeTrace");
    assert_eq!((before.alive_at_start, before.blocked_at_end), (5, 5));
    for &m in &before.members {
        let g = facts.parked(m).unwrap();
        assert!(g.blocked_before_trace);
        assert_eq!(g.blocked_since_ns, facts.start_ns);
    }
    for (entry, reason, n) in [
        ("main.pollUpstream", "select", 6),
        ("main.refreshLater", "sleep", 4),
        ("main.lockHeldMutex", "sync", 3),
        ("main.waitForever", "sync", 2),
    ] {
        let s = site(&c, &facts, entry);
        assert_eq!(s.blocked_at_end, n, "{entry}");
        for &m in &s.members {
            assert_eq!(c.str(facts.parked(m).unwrap().block_reason), reason, "{entry}");
        }
    }
    // The worker pool finished: nothing of it is left.
    let pool = site(&c, &facts, "main.workerPool.func1");
    assert_eq!((pool.created, pool.ended), (4, 4));
    assert!(!c.samples.is_empty(), "CPU profiling ran during the trace");
    assert!(
        c.samples
            .task
            .iter()
            .all(|&t| t == leakscope_core::model::Samples::NO_TASK || (t as usize) < c.tasks.len())
    );
}

#[test]
fn go_annotated_trace() {
    let c = golden("go-annotated.trace");
    assert!(c.warnings.is_empty());
    let info = c.trace.as_ref().unwrap();
    let task = |name: &str| info.user_tasks.iter().filter(|t| c.str(t.name) == name).collect::<Vec<_>>();
    // Begun before the trace: only its end is in it.
    assert_eq!(info.user_tasks.iter().filter(|t| t.start_ns.is_none() && t.end_ns.is_some()).count(), 1);
    let job = task("job");
    assert_eq!(job.len(), 1);
    assert!(job[0].start_ns.is_some() && job[0].end_ns.is_some());
    let parts = task("fetch-part");
    assert_eq!(parts.len(), 3);
    assert!(parts.iter().all(|p| p.parent_id == Some(job[0].id) && p.end_ns.is_some()));
    let unfinished = task("unfinished");
    assert!(unfinished.len() == 1 && unfinished[0].end_ns.is_none());
    let region_names: Vec<&str> = info.regions.iter().map(|r| c.str(r.name)).collect();
    // "warmup" began before tracing did; the runtime does not record such regions.
    assert!(!region_names.contains(&"warmup"));
    for name in ["prepare", "step", "fetch", "spawn", "open"] {
        assert!(region_names.contains(&name), "region {name} missing from {region_names:?}");
    }
    // Regions are drawn as spans on their goroutine, nested regions one level deeper.
    let depth_of = |name: &str| {
        let id = c.strings.find(name).unwrap();
        (0..c.intervals.len())
            .find(|&i| c.intervals.label(i) == id && c.intervals.depth(i) > 0)
            .map(|i| c.intervals.depth(i))
    };
    assert_eq!(depth_of("step"), depth_of("prepare").map(|d| d + 1));
    let logs: Vec<(String, String)> =
        info.logs.iter().map(|l| (c.str(l.category).to_owned(), c.str(l.message).to_owned())).collect();
    assert!(logs.contains(&("job-id".to_owned(), "42".to_owned())));
    assert_eq!(logs.iter().filter(|(k, _)| k == "part").count(), 3);
}
