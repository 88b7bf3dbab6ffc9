//! Span flamegraphs: traces with nested spans (Chrome `X`/`B`-`E`, user regions) aggregate by
//! the stack of span names, each span counting its self time (its duration minus the time of
//! the spans nested in it), so a flamegraph of a trace reads like one of a CPU profile.

use hashbrown::HashMap;
use rayon::prelude::*;

use crate::model::{Capture, IntervalKind, StackId};

/// `(stack, self time in ns)` for every span stack, summed and sorted by stack: give it to
/// [`FlameTree::from_stacks`](super::flame::FlameTree::from_stacks) for the aggregated
/// flamegraph. Spans begun and never ended count up to the end of the capture.
pub fn span_self_time_stacks(capture: &Capture) -> Vec<(StackId, i64)> {
    let sums = capture
        .tasks
        .par_iter()
        .fold(HashMap::<StackId, i64>::new, |mut acc, task| {
            add_task(capture, task.intervals.indices(), &mut acc);
            acc
        })
        .reduce(HashMap::new, |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_insert(0) += v;
            }
            a
        });
    let mut out: Vec<(StackId, i64)> = sums.into_iter().filter(|&(_, v)| v > 0).collect();
    out.sort_unstable();
    out
}

fn add_task(cap: &Capture, range: std::ops::Range<usize>, acc: &mut HashMap<StackId, i64>) {
    let iv = &cap.intervals;
    if !range.clone().any(|i| iv.kind(i) == IntervalKind::Span) {
        return;
    }
    // The task's columns, unpacked once: the walk below reads each several times.
    let (mut starts, mut ends, mut depths, mut kinds, mut stacks) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for v in iv.iter(range) {
        starts.push(v.start_ns);
        ends.push(v.end_ns);
        depths.push(v.depth);
        kinds.push(v.kind);
        stacks.push(v.stack);
    }
    let mut self_ns: Vec<i64> = starts.iter().zip(&ends).map(|(s, e)| e - s).collect();
    // Rows of equal depth, in order; a child's parent is in the row one level up.
    let mut rows: Vec<std::ops::Range<usize>> = Vec::new();
    let mut i = 0;
    while let Some(&d) = depths.get(i) {
        let n = depths.get(i..).unwrap_or_default().partition_point(|&x| x == d).max(1);
        rows.push(i..i + n);
        i += n;
    }
    for pair in rows.windows(2) {
        let (Some(parents), Some(children)) = (pair.first(), pair.get(1)) else { continue };
        let parent_starts = starts.get(parents.clone()).unwrap_or_default();
        for c in children.clone() {
            let (Some(&cs), Some(&ce)) = (starts.get(c), ends.get(c)) else { continue };
            let k = parent_starts.partition_point(|&s| s <= cs);
            if k == 0 {
                continue;
            }
            let p = parents.start + k - 1;
            let Some(&pe) = ends.get(p) else { continue };
            if pe < cs {
                continue;
            }
            let overlap = ce.min(pe) - cs;
            if let Some(s) = self_ns.get_mut(p) {
                *s -= overlap.max(0);
            }
        }
    }
    for ((&kind, &stack), s) in kinds.iter().zip(&stacks).zip(self_ns) {
        if kind == IntervalKind::Span && s > 0 {
            *acc.entry(stack).or_insert(0) += s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::Progress;

    #[test]
    fn self_time_subtracts_children() {
        let text = r#"[{"ph":"X","pid":1,"tid":1,"ts":0,"dur":10,"name":"main"},
            {"ph":"X","pid":1,"tid":1,"ts":1,"dur":3,"name":"work"},
            {"ph":"X","pid":1,"tid":1,"ts":5,"dur":4,"name":"work"},
            {"ph":"X","pid":1,"tid":1,"ts":6,"dur":1,"name":"io"},
            {"ph":"X","pid":1,"tid":2,"ts":0,"dur":2,"name":"work"}]"#;
        let cap = crate::formats::chrome_trace::parse_bytes(text.as_bytes(), "t", &Progress::new()).unwrap();
        let pairs = span_self_time_stacks(&cap);
        let named: Vec<(Vec<&str>, i64)> =
            pairs.iter().map(|&(s, v)| (cap.stack_funcs(s).collect::<Vec<_>>(), v)).collect();
        let get = |path: &[&str]| named.iter().find(|(p, _)| p == path).map(|p| p.1);
        assert_eq!(get(&["main"]), Some(3_000));
        assert_eq!(get(&["work", "main"]), Some(6_000));
        assert_eq!(get(&["io", "work", "main"]), Some(1_000));
        assert_eq!(get(&["work"]), Some(2_000));
        let tree = crate::analysis::flame::FlameTree::from_stacks(&cap, pairs);
        assert_eq!(tree.root().map(|r| r.total), Some(12_000));
    }
}
