//! Parses a Go execution trace and prints what it holds: goroutine counts by how they began and
//! ended, end states, event counts, the blocked-at-end goroutines by reason and stack, and the
//! warnings. `--stacks` prints every distinct end stack; `--quiet` prints only the counts (for
//! timing runs against `go tool trace -d=parsed`).
//!
//! `--sites` prints the trace facts per entry function (created, ended, blocked at the end,
//! orphans, whether the live count only grows).
//!
//! `cargo run --release -p leakscope-core --example trace_summary -- FILE [--stacks|--quiet|--sites]`

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::process::ExitCode;

use leakscope_core::model::{Capture, TaskFlags, TaskKind};
use leakscope_core::{LoadOptions, Progress};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.iter().find(|a| !a.starts_with("--")) else {
        eprintln!("usage: trace_summary FILE [--stacks|--quiet]");
        return ExitCode::from(2);
    };
    let stacks = args.iter().any(|a| a == "--stacks");
    let sites = args.iter().any(|a| a == "--sites");
    let quiet = args.iter().any(|a| a == "--quiet");
    let started = std::time::Instant::now();
    let opened = leakscope_core::open(path.as_ref(), &LoadOptions::default(), &Progress::new());
    eprintln!("parsed in {:.3} s", started.elapsed().as_secs_f64());
    let captures = match opened {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    for capture in &captures {
        summary(capture, stacks, quiet);
        if sites {
            print_sites(capture);
        }
    }
    ExitCode::SUCCESS
}

fn summary(c: &Capture, stacks: bool, quiet: bool) {
    let goroutines: Vec<_> = c.tasks.iter().filter(|t| t.kind == TaskKind::Goroutine).collect();
    let existed = goroutines.iter().filter(|t| t.flags.contains(TaskFlags::EXISTED_BEFORE)).count();
    let ended = goroutines.iter().filter(|t| t.flags.contains(TaskFlags::ENDED)).count();
    println!(
        "goroutines {} (existed before {existed}, created {}), ended {ended}, intervals {}, links {}, samples {}, model ~{} KiB",
        goroutines.len(),
        goroutines.len() - existed,
        c.intervals.len(),
        c.links.len(),
        c.samples.len(),
        c.heap_bytes() / 1024
    );
    if let Some(info) = &c.trace {
        println!("events {} {:?}", info.total_events(), info.event_counts);
    }
    if quiet {
        return;
    }
    let mut kinds: BTreeMap<(String, String), usize> = BTreeMap::new();
    for t in &c.tasks {
        for i in t.intervals.indices() {
            let k = format!("{:?}", c.intervals.kind(i));
            *kinds.entry((format!("{:?}", t.kind), k)).or_default() += 1;
        }
    }
    println!("intervals by task kind and state: {kinds:?}");
    let mut states: BTreeMap<&str, usize> = BTreeMap::new();
    for t in &goroutines {
        *states.entry(c.str(t.state)).or_default() += 1;
    }
    println!("states {states:?}");
    let mut by_start: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for t in goroutines.iter().filter(|t| !t.flags.contains(TaskFlags::EXISTED_BEFORE)) {
        let name = t.start_func.map(|f| c.func_name(f).to_owned()).unwrap_or_default();
        let e = by_start.entry(name).or_default();
        e.0 += 1;
        if !t.flags.contains(TaskFlags::ENDED) {
            e.1 += 1;
        }
    }
    println!("created by start func (created, alive at end):");
    for (name, (n, alive)) in &by_start {
        println!("  {n:6} {alive:6}  {name}");
    }
    if stacks {
        let mut by_stack: BTreeMap<(String, Vec<&str>), usize> = BTreeMap::new();
        for t in goroutines.iter().filter(|t| !t.flags.contains(TaskFlags::ENDED)) {
            let funcs: Vec<&str> = c.stack_funcs(t.stack).collect();
            *by_stack.entry((c.str(t.state).to_owned(), funcs)).or_default() += 1;
        }
        for ((state, funcs), n) in &by_stack {
            println!("{n:6} [{state}]");
            for f in funcs {
                println!("         {f}");
            }
        }
    }
    for w in c.warnings.lines() {
        println!("warning: {w}");
    }
}

fn print_sites(c: &Capture) {
    let facts = leakscope_core::analysis::trace_facts::TraceFacts::new(c);
    println!(
        "entry function: alive at start, created, ended, alive at end, blocked at end, orphans, only grows"
    );
    for site in &facts.sites {
        let orphans =
            site.members.iter().filter(|&&m| facts.parked(m).is_some_and(|p| p.is_orphan())).count();
        println!(
            "  {}: {} {} {} {} {} {orphans} {}",
            site.start_func.map_or("?", |f| c.func_name(f)),
            site.alive_at_start,
            site.created,
            site.ended,
            site.alive_at_end,
            site.blocked_at_end,
            site.only_grows()
        );
    }
}
