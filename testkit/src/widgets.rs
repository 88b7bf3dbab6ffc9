//! Synthetic data of realistic shape for the widget benchmarks, tests and the demo: a flame
//! tree of any size shaped like a Go server's (deep call chains through the standard library
//! and the runtime, a heavy-tailed fan-out, a few hot paths), and a capture with any number of
//! goroutine lanes of state intervals plus span lanes nested like a Chrome trace.
//!
//! Deterministic: the same arguments give the same data on every machine, so benchmark runs
//! compare.

use crate::rng::Rng;
use leakscope_core::analysis::flame::{FlameNode, FlameTree};
use leakscope_core::model::{
    Capture, FormatKind, Frame, Interval, IntervalKind, IntervalRange, IntervalsBuilder, Link, LinkKind,
    StrId, Strings, Task, TaskKind,
};

/// The widget data's generator for `seed`. The seed is mixed first, as it has been since the
/// widget benchmarks were first measured, so their inputs stay the same.
fn seeded(seed: u64) -> Rng {
    Rng::new(seed ^ 0x9e37_79b9_7f4a_7c15)
}

const PACKAGES: [&str; 12] = [
    "main",
    "github.com/acme/shop/api",
    "github.com/acme/shop/store",
    "github.com/acme/shop/cache",
    "github.com/acme/shop/audit",
    "net/http",
    "database/sql",
    "encoding/json",
    "context",
    "sync",
    "runtime",
    "internal/poll",
];

const VERBS: [&str; 16] = [
    "Serve", "handle", "Query", "decode", "encode", "wait", "Lock", "read", "write", "dial", "publish",
    "refresh", "poll", "notify", "retry", "flush",
];

fn function_name(rng: &mut Rng, depth: usize) -> String {
    // Shallow frames are mostly user code and the server, deep ones standard library and
    // runtime, as in a real goroutine's stack read from the root.
    let pkg_index = if depth < 3 {
        rng.below(6) as usize
    } else if depth > 12 && rng.below(3) == 0 {
        10 + rng.below(2) as usize
    } else {
        rng.below(PACKAGES.len() as u64) as usize
    };
    let pkg = PACKAGES.get(pkg_index).copied().unwrap_or("main");
    let verb = VERBS.get(rng.below(VERBS.len() as u64) as usize).copied().unwrap_or("run");
    match rng.below(4) {
        0 => format!("{pkg}.{verb}{}", rng.below(40)),
        1 => format!("{pkg}.(*Type{}).{verb}", rng.below(30)),
        2 => format!("{pkg}.{verb}{}.func{}", rng.below(20), 1 + rng.below(3)),
        _ => format!("{pkg}.(*conn{}).{verb}Loop", rng.below(10)),
    }
}

/// A flame tree of exactly `nodes` nodes (at least 1), shaped like a Go server's: chains of
/// calls tens of frames deep, a fan-out that is mostly 1 with a heavy tail, values from a
/// power law so a few paths dominate and most frames are thin.
pub fn flame_tree(nodes: usize, seed: u64) -> FlameTree {
    let nodes = nodes.max(1);
    let mut rng = seeded(seed);
    // Parents first: each new node hangs under a recent node most of the time (making deep
    // chains), else under any node (making breadth).
    let mut parent: Vec<u32> = Vec::with_capacity(nodes);
    let mut depth: Vec<u16> = Vec::with_capacity(nodes);
    parent.push(0);
    depth.push(0);
    for i in 1..nodes {
        let p = if i < 8 || rng.below(10) < 7 {
            i - 1 - rng.below(i.min(6) as u64) as usize
        } else {
            rng.below(i as u64) as usize
        };
        let p =
            if depth.get(p).copied().unwrap_or(0) >= 60 { rng.below(i.min(64) as u64) as usize } else { p };
        parent.push(p as u32);
        depth.push(depth.get(p).copied().unwrap_or(0) + 1);
    }
    let mut names = Strings::new();
    let root_name = names.intern(leakscope_core::analysis::flame::ROOT_NAME);
    let name_of: Vec<StrId> = depth
        .iter()
        .enumerate()
        .map(
            |(i, &d)| if i == 0 { root_name } else { names.intern(&function_name(&mut rng, usize::from(d))) },
        )
        .collect();
    let mut children: Vec<Vec<u32>> = vec![Vec::new(); nodes];
    for (i, &p) in parent.iter().enumerate().skip(1) {
        if let Some(c) = children.get_mut(p as usize) {
            c.push(i as u32);
        }
    }
    let name = |i: u32| name_of.get(i as usize).map_or("", |&s| names.resolve(s));
    for c in &mut children {
        c.sort_by(|&a, &b| name(a).cmp(name(b)));
    }
    // Self values: leaves carry a power-law value, inner frames sometimes a little.
    let self_value: Vec<i64> = children
        .iter()
        .map(|kids| {
            if kids.is_empty() || rng.below(8) == 0 {
                let u = rng.unit().max(1e-9);
                (u.powf(-1.2)).min(1e6) as i64
            } else {
                0
            }
        })
        .collect();
    // Pre-order with subtree ends and totals.
    let mut order: Vec<u32> = Vec::with_capacity(nodes);
    let mut stack: Vec<u32> = vec![0];
    while let Some(n) = stack.pop() {
        order.push(n);
        if let Some(kids) = children.get(n as usize) {
            stack.extend(kids.iter().rev());
        }
    }
    let mut new_index = vec![0u32; nodes];
    for (k, &old) in order.iter().enumerate() {
        if let Some(slot) = new_index.get_mut(old as usize) {
            *slot = k as u32;
        }
    }
    let mut out: Vec<FlameNode> = order
        .iter()
        .enumerate()
        .map(|(k, &old)| {
            let old = old as usize;
            let value = self_value.get(old).copied().unwrap_or(0);
            let old_parent = parent.get(old).copied().unwrap_or(0) as usize;
            FlameNode {
                name: name_of.get(old).copied().unwrap_or_default(),
                depth: depth.get(old).copied().unwrap_or(0),
                parent: new_index.get(old_parent).copied().unwrap_or(0),
                end: k as u32 + 1,
                total: value,
                self_value: value,
                baseline_total: 0,
            }
        })
        .collect();
    roll_up(&mut out, |n| &mut n.total);
    for k in (1..out.len()).rev() {
        let Some(&FlameNode { parent: p, end, .. }) = out.get(k) else { continue };
        if let Some(parent) = out.get_mut(p as usize) {
            parent.end = parent.end.max(end);
        }
    }
    FlameTree { names, nodes: out, is_diff: false }
}

/// Adds each node's value (reached by `field`, starting from its own) into its parent's,
/// deepest first, so that each holds its subtree's sum.
fn roll_up(nodes: &mut [FlameNode], field: impl Fn(&mut FlameNode) -> &mut i64) {
    for k in (1..nodes.len()).rev() {
        let Some(node) = nodes.get_mut(k) else { continue };
        let p = node.parent as usize;
        let v = *field(node);
        if let Some(parent) = nodes.get_mut(p) {
            let slot = field(parent);
            *slot = slot.saturating_add(v);
        }
    }
}

/// The same tree as a diff against a baseline where values differ: some frames grew, some
/// shrank, some are new (no baseline), some are gone (no current value).
pub fn diff_flame_tree(nodes: usize, seed: u64) -> FlameTree {
    let mut tree = flame_tree(nodes, seed);
    let mut rng = seeded(seed ^ 0xd1ff);
    for n in &mut tree.nodes {
        let own = n.self_value;
        let (after, before) = match rng.below(25) {
            0 if own > 0 => (0, own),       // gone: only in the baseline
            0..=2 => (own, 0),              // new
            3..=5 => (own, own.max(1) * 3), // shrank
            6..=11 => (own, own / 2),       // grew
            _ => (own, own),                // unchanged
        };
        n.self_value = after;
        n.total = after;
        n.baseline_total = before;
    }
    roll_up(&mut tree.nodes, |n| &mut n.total);
    roll_up(&mut tree.nodes, |n| &mut n.baseline_total);
    tree.is_diff = true;
    tree
}

/// Shape of a synthetic trace.
#[derive(Clone, Copy, Debug)]
pub struct TraceShape {
    /// Goroutine lanes (state intervals at depth 0).
    pub goroutines: usize,
    /// Thread lanes with nested spans (depths 0..=4), like a Chrome trace.
    pub span_threads: usize,
    /// Intervals in all, spread over the lanes.
    pub intervals: usize,
    /// Length of the trace.
    pub duration_ns: i64,
    /// Seed.
    pub seed: u64,
}

impl TraceShape {
    /// `intervals` intervals over 1,000 goroutines and 8 span threads, 10 seconds long.
    pub fn with_intervals(intervals: usize) -> Self {
        Self { goroutines: 1_000, span_threads: 8, intervals, duration_ns: 10_000_000_000, seed: 1 }
    }
}

/// A capture with the given shape: goroutines cycling through running, runnable, blocked (with
/// reasons) and syscall; threads with nested spans; create and unblock links.
pub fn trace_capture(shape: TraceShape) -> Capture {
    let mut cap = Capture::new("synthetic", FormatKind::GoExecutionTrace);
    let mut rng = seeded(shape.seed);
    let lanes = (shape.goroutines + shape.span_threads).max(1);
    let per_lane = (shape.intervals / lanes).max(1);
    let reasons: Vec<StrId> = ["chan receive", "select", "sync.Mutex.Lock", "IO wait", "sleep"]
        .iter()
        .map(|r| cap.strings.intern(r))
        .collect();
    let span_names: Vec<StrId> = (0..40)
        .map(|step| {
            cap.strings.intern(&format!("{} #{step}", VERBS.get(step % VERBS.len()).unwrap_or(&"span")))
        })
        .collect();
    let stacks: Vec<_> = (0..64)
        .map(|step| {
            let func = cap.strings.intern(&function_name(&mut rng, 8));
            let file = cap.strings.intern(&format!("/src/shop/file{step}.go"));
            let f = cap.tables.frame_id(Frame { func, file, line: 10 + step as u32, column: 0 });
            cap.tables.stack_id(&[f])
        })
        .collect();
    let mut iv = IntervalsBuilder::new(0);
    iv.reserve_exact(shape.intervals + lanes * 8);
    let mean = shape.duration_ns as f64 / per_lane as f64;
    for gor in 0..shape.goroutines {
        let first = iv.len() as u32;
        let begin = if gor < 16 { 0 } else { rng.below((shape.duration_ns / 4).max(1) as u64) as i64 };
        let mut now = begin;
        let mut step = rng.below(4);
        let mut count = 0usize;
        while count < per_lane && now < shape.duration_ns {
            let kind = match step % 4 {
                0 => IntervalKind::Running,
                1 => IntervalKind::Blocked,
                2 => IntervalKind::Runnable,
                _ => {
                    if rng.below(4) == 0 {
                        IntervalKind::Syscall
                    } else {
                        IntervalKind::Blocked
                    }
                }
            };
            let dur =
                (rng.exp(mean * (shape.duration_ns - begin) as f64 / shape.duration_ns as f64) as i64).max(1);
            let label = if kind == IntervalKind::Blocked {
                reasons.get(rng.below(reasons.len() as u64) as usize).copied().unwrap_or_default()
            } else {
                StrId::EMPTY
            };
            let stack = stacks.get(rng.below(stacks.len() as u64) as usize).copied().unwrap_or_default();
            let end = (now + dur).min(shape.duration_ns);
            iv.push_interval(Interval { start_ns: now, end_ns: end, kind, label, stack, depth: 0 });
            if kind == IntervalKind::Blocked && rng.below(16) == 0 && gor > 0 {
                let from = rng.below(shape.goroutines.min(gor) as u64) as u32;
                cap.links.push(Link {
                    kind: LinkKind::Unblock,
                    from_task: from,
                    from_ns: end,
                    to_task: gor as u32,
                    to_ns: end,
                });
            }
            now = end;
            step += 1;
            count += 1;
        }
        if gor > 0 {
            let creator = rng.below(gor.min(32) as u64) as u32;
            cap.links.push(Link {
                kind: LinkKind::Create,
                from_task: creator,
                from_ns: begin,
                to_task: gor as u32,
                to_ns: begin,
            });
        }
        let len = iv.len() as u32 - first;
        let stack = stacks.get(gor % stacks.len()).copied().unwrap_or_default();
        cap.tasks.push(Task {
            id: gor as u64 + 1,
            kind: TaskKind::Goroutine,
            stack,
            start_ns: leakscope_core::model::OptNs::some(begin),
            intervals: IntervalRange { start: first, len },
            ..Task::default()
        });
    }
    for th in 0..shape.span_threads {
        let first = iv.len() as u32;
        // Depth 0 spans tile the trace; each depth below splits its parent into a few pieces,
        // then everything is stored by (depth, start) as the model requires.
        let mut spans: Vec<(u16, i64, i64, StrId)> = Vec::with_capacity(per_lane);
        let top = (per_lane / 3).max(1);
        let top_mean = shape.duration_ns as f64 / top as f64;
        let mut now = 0i64;
        while now < shape.duration_ns && spans.len() < top {
            let dur = (rng.exp(top_mean * 0.8) as i64).max(2);
            let end = (now + dur).min(shape.duration_ns);
            spans.push((0, now, end, span_names.get(rng.below(40) as usize).copied().unwrap_or_default()));
            now = end + (rng.exp(top_mean * 0.2) as i64);
        }
        let mut next = 0usize;
        while spans.len() < per_lane && next < spans.len() {
            let (depth, from, to, _) = spans.get(next).copied().unwrap_or_default();
            next += 1;
            if depth >= 4 || to - from < 8 {
                continue;
            }
            let pieces = 1 + rng.below(3) as i64;
            let piece_w = (to - from) / (pieces * 2);
            for piece in 0..pieces {
                let child = from + piece * 2 * piece_w + piece_w / 2;
                let name = span_names.get(rng.below(40) as usize).copied().unwrap_or_default();
                spans.push((depth + 1, child, child + piece_w, name));
            }
        }
        spans.sort_unstable_by_key(|&(depth, from, _, _)| (depth, from));
        for (depth, from, to, name) in spans {
            let stack = stacks.get(rng.below(stacks.len() as u64) as usize).copied().unwrap_or_default();
            iv.push_interval(Interval {
                start_ns: from,
                end_ns: to,
                kind: IntervalKind::Span,
                label: name,
                stack,
                depth,
            });
        }
        let len = iv.len() as u32 - first;
        let name = cap.strings.intern(&format!("worker thread {th}"));
        cap.tasks.push(Task {
            id: 10_000 + th as u64,
            kind: TaskKind::Thread,
            name,
            intervals: IntervalRange { start: first, len },
            ..Task::default()
        });
    }
    cap.intervals = iv.finish();
    cap.time_range_ns = Some((0, shape.duration_ns));
    cap.source.duration_ns = Some(shape.duration_ns);
    cap
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flame_tree_is_a_valid_preorder() {
        let t = flame_tree(5_000, 7);
        assert_eq!(t.nodes.len(), 5_000);
        for (i, n) in t.nodes.iter().enumerate().skip(1) {
            let p = &t.nodes[n.parent as usize];
            assert!((n.parent as usize) < i && i < p.end as usize, "node {i} inside its parent");
            assert_eq!(n.depth, p.depth + 1);
            assert!(n.end as usize > i && n.end <= p.end);
            let kids: i64 = t.children(i as u32).map(|c| t.nodes[c as usize].total).sum();
            assert_eq!(n.total, kids + n.self_value, "totals add up at {i}");
        }
        assert!(t.max_depth() >= 20, "deep like a real server: {}", t.max_depth());
        assert_eq!(flame_tree(5_000, 7).nodes, t.nodes, "deterministic");
    }

    #[test]
    fn diff_tree_has_every_kind_of_change() {
        let t = diff_flame_tree(2_000, 3);
        assert!(t.is_diff);
        let new = t.nodes.iter().filter(|n| n.baseline_total == 0 && n.total > 0).count();
        let gone = t.nodes.iter().filter(|n| n.total == 0 && n.baseline_total > 0).count();
        let grew = t.nodes.iter().filter(|n| n.total > n.baseline_total && n.baseline_total > 0).count();
        let shrank = t.nodes.iter().filter(|n| n.total < n.baseline_total && n.total > 0).count();
        assert!(new > 0 && gone > 0 && grew > 0 && shrank > 0, "{new} {gone} {grew} {shrank}");
    }

    #[test]
    fn trace_lanes_are_sorted_and_non_overlapping() {
        let c = trace_capture(TraceShape {
            goroutines: 50,
            span_threads: 3,
            intervals: 20_000,
            duration_ns: 1_000_000_000,
            seed: 2,
        });
        assert!(c.intervals.len() > 15_000);
        for task in &c.tasks {
            let r = task.intervals.indices();
            let iv = &c.intervals;
            for i in r.clone().skip(1) {
                let (dp, d) = (iv.depth(i - 1), iv.depth(i));
                assert!(dp <= d, "sorted by depth");
                if dp == d {
                    assert!(iv.start(i - 1) <= iv.start(i), "sorted by start");
                    assert!(iv.end(i - 1) <= iv.start(i), "no overlap within a depth");
                }
            }
        }
        assert!(c.links.iter().any(|l| l.kind == LinkKind::Unblock));
    }
}
