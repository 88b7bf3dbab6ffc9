//! The functions of a sampled profile by flat and cumulative value, as `go tool pprof -top`
//! lists them: flat is what a function spent itself (it is the innermost frame of the sample),
//! cum what it and everything it called spent (it is anywhere on the stack, counted once per
//! sample even when recursive).

use hashbrown::{HashMap, HashSet};
use serde::Serialize;

use super::flame::FlameTree;
use crate::model::{Capture, StackId};

/// One function of a profile's top list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TopFunction {
    /// The function's name.
    pub function: String,
    /// Value of the samples where it is the innermost frame.
    pub flat: i64,
    /// Value of the samples where it is on the stack.
    pub cum: i64,
    /// Flat in the baseline, for the top list of a diff tree (`pprof -top -diff_base`); 0
    /// otherwise.
    #[serde(skip_serializing_if = "is_zero")]
    pub base_flat: i64,
    /// Cum in the baseline, for a diff tree; 0 otherwise.
    #[serde(skip_serializing_if = "is_zero")]
    pub base_cum: i64,
}

// serde's skip_serializing_if passes a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// The column `top` lists for a profile: in-use bytes for a heap profile (as `go tool pprof`
/// shows a heap profile), else the profile's default column.
pub fn top_column(capture: &Capture) -> usize {
    let samples = &capture.samples;
    let named = |name: &str| samples.types.iter().position(|t| capture.str(t.kind) == name);
    match capture.source.profile_type.as_deref() {
        Some("heap") => named("inuse_space").unwrap_or(samples.default_type),
        _ => samples.default_type,
    }
}

/// Every function of the capture's samples by flat value in column `column`, largest first
/// (then by cum, then by name), with the column's total. Work is per distinct stack.
pub fn top(capture: &Capture, column: usize) -> (Vec<TopFunction>, i64) {
    let samples = &capture.samples;
    let mut per_stack: HashMap<StackId, i64> = HashMap::new();
    for (i, &stack) in samples.stack.iter().enumerate() {
        let v = samples.value(i, column);
        let slot = per_stack.entry(stack).or_insert(0);
        *slot = slot.saturating_add(v);
    }
    let mut acc = TopAccumulator::default();
    for (&stack, &v) in &per_stack {
        acc.add(capture.stack_funcs(stack), v, 0);
    }
    acc.finish()
}

/// The top list of any flamegraph (goroutines, a sample column, span or block time, the after
/// side of a diff, with the baseline's flat and cum beside), from the stacks the tree merged, so
/// a filtered tree gets a filtered list.
pub fn top_of_tree(tree: &FlameTree) -> (Vec<TopFunction>, i64) {
    let mut acc = TopAccumulator::default();
    tree.for_each_stack(|root_first, value, base| acc.add(root_first.iter().rev().copied(), value, base));
    acc.finish()
}

/// Flat and cum per function over weighted stacks: the one place both lists are counted.
#[derive(Default)]
struct TopAccumulator<'a> {
    /// Per function: flat, cum, and the same in the baseline.
    by_func: HashMap<&'a str, [i64; 4]>,
    total: i64,
    seen: HashSet<&'a str>,
}

impl<'a> TopAccumulator<'a> {
    /// Adds one stack, innermost frame first, with its value and its value in the baseline.
    fn add(&mut self, leaf_first: impl Iterator<Item = &'a str>, value: i64, base: i64) {
        self.total = self.total.saturating_add(value);
        self.seen.clear();
        for (depth, f) in leaf_first.enumerate() {
            let e = self.by_func.entry(f).or_insert([0; 4]);
            if depth == 0 {
                e[0] = e[0].saturating_add(value);
                e[2] = e[2].saturating_add(base);
            }
            // A recursive function counts once per stack in cum, as pprof counts it.
            if self.seen.insert(f) {
                e[1] = e[1].saturating_add(value);
                e[3] = e[3].saturating_add(base);
            }
        }
    }

    fn finish(self) -> (Vec<TopFunction>, i64) {
        let mut out: Vec<TopFunction> = self
            .by_func
            .into_iter()
            .map(|(f, [flat, cum, base_flat, base_cum])| TopFunction {
                function: f.to_owned(),
                flat,
                cum,
                base_flat,
                base_cum,
            })
            .collect();
        out.sort_by(|a, b| {
            b.flat.cmp(&a.flat).then(b.cum.cmp(&a.cum)).then_with(|| a.function.cmp(&b.function))
        });
        (out, self.total)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::model::{Frame, LabelSetId, SampleType};

    #[test]
    fn flat_counts_the_leaf_and_cum_each_stack_once() {
        let mut c = Capture::default();
        let name = |c: &mut Capture, s: &str| {
            let func = c.strings.intern(s);
            c.tables.frame_id(Frame { func, ..Frame::default() })
        };
        let (a, b, main) = (name(&mut c, "a"), name(&mut c, "b"), name(&mut c, "main"));
        let s1 = c.tables.stack_id(&[a, b, main]);
        let s2 = c.tables.stack_id(&[b, b, main]);
        c.samples.types = vec![SampleType::default()];
        c.samples.push(s1, &[10], LabelSetId::EMPTY);
        c.samples.push(s2, &[5], LabelSetId::EMPTY);
        c.samples.push(s1, &[1], LabelSetId::EMPTY);
        let (top, total) = top(&c, 0);
        assert_eq!(total, 16);
        let row = |f: &str| top.iter().find(|t| t.function == f).unwrap().clone();
        assert_eq!(top[0].function, "a");
        assert_eq!((row("a").flat, row("a").cum), (11, 11));
        assert_eq!((row("b").flat, row("b").cum), (5, 16));
        assert_eq!((row("main").flat, row("main").cum), (0, 16));
    }

    #[test]
    fn a_tree_gives_the_same_list_as_its_samples() {
        let mut c = Capture::default();
        let name = |c: &mut Capture, s: &str| {
            let func = c.strings.intern(s);
            c.tables.frame_id(Frame { func, ..Frame::default() })
        };
        let (a, b, main) = (name(&mut c, "a"), name(&mut c, "b"), name(&mut c, "main"));
        let s1 = c.tables.stack_id(&[a, b, main]);
        let s2 = c.tables.stack_id(&[b, b, main]);
        c.samples.types = vec![SampleType::default()];
        c.samples.push(s1, &[10], LabelSetId::EMPTY);
        c.samples.push(s2, &[5], LabelSetId::EMPTY);
        let tree = FlameTree::from_stacks(&c, crate::analysis::flame::sample_stacks(&c, 0));
        assert_eq!(top_of_tree(&tree), top(&c, 0));
    }

    #[test]
    fn a_diff_tree_lists_both_sides() {
        let profile = |stacks: &[(&[&str], i64)]| {
            let mut c = Capture::default();
            c.samples.types = vec![SampleType::default()];
            for (names, v) in stacks {
                let frames: Vec<_> = names
                    .iter()
                    .map(|s| {
                        let func = c.strings.intern(s);
                        c.tables.frame_id(Frame { func, ..Frame::default() })
                    })
                    .collect();
                let stack = c.tables.stack_id(&frames);
                c.samples.push(stack, &[*v], LabelSetId::EMPTY);
            }
            c
        };
        let before = profile(&[(&["a", "main.main"], 10), (&["gone", "main.main"], 3)]);
        let after = profile(&[(&["a", "main.main"], 4), (&["b", "main.main"], 7)]);
        let tree = FlameTree::diff(
            (&after, &mut crate::analysis::flame::sample_stacks(&after, 0).into_iter()),
            (&before, &mut crate::analysis::flame::sample_stacks(&before, 0).into_iter()),
        );
        let (top, total) = top_of_tree(&tree);
        assert_eq!(total, 11, "the total is the after side's");
        let row = |f: &str| top.iter().find(|t| t.function == f).unwrap().clone();
        assert_eq!((row("a").flat, row("a").base_flat), (4, 10));
        assert_eq!((row("b").flat, row("b").base_flat), (7, 0));
        assert_eq!((row("gone").flat, row("gone").base_flat, row("gone").base_cum), (0, 3, 3));
        assert_eq!((row("main.main").cum, row("main.main").base_cum), (11, 13));
    }
}
