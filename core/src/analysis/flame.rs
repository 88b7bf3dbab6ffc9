//! Flame trees: stacks merged by function from the root down, the data behind flamegraphs,
//! icicles and diff flamegraphs.
//!
//! Nodes are stored in pre-order with each node's subtree end, so a painter can skip a whole
//! off-screen or sub-pixel subtree in one step (as puffin does) and the tree needs no child
//! lists. Children are ordered by name, which keeps the layout stable between captures and
//! lines up the two sides of a comparison.

use hashbrown::HashMap;

use super::stack_filter::StackFilter;
use crate::model::{Capture, StackId, StrId, Strings};

/// One node: a function at a position in the call tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlameNode {
    /// Function name (in the tree's own `names`).
    pub name: StrId,
    /// Distance from the root (root = 0).
    pub depth: u16,
    /// Index of the parent (the root is its own parent).
    pub parent: u32,
    /// One past the last node of this node's subtree.
    pub end: u32,
    /// Inclusive value: goroutines, samples, nanoseconds...
    pub total: i64,
    /// Value of stacks that end here.
    pub self_value: i64,
    /// Inclusive value in the baseline (diff trees); 0 otherwise.
    pub baseline_total: i64,
}

/// A merged call tree. `nodes[0]` is the root, named "all".
#[derive(Clone, Debug)]
pub struct FlameTree {
    /// Function names of the nodes.
    pub names: Strings,
    /// Nodes in pre-order.
    pub nodes: Vec<FlameNode>,
    /// Whether the tree compares two sides (`baseline_total` is meaningful).
    pub is_diff: bool,
}

/// Name of the root node.
pub const ROOT_NAME: &str = "all";

struct Builder {
    names: Strings,
    /// Unordered nodes: (name, parent, total, self, baseline total).
    nodes: Vec<(StrId, u32, i64, i64, i64)>,
    index: HashMap<(u32, StrId), u32>,
}

impl Builder {
    fn new() -> Self {
        Self::with_root(ROOT_NAME)
    }

    /// A builder whose root frame has a name of its own (a sandwich's function).
    fn with_root(root: &str) -> Self {
        let mut names = Strings::new();
        let root = names.intern(root);
        Self { names, nodes: vec![(root, 0, 0, 0, 0)], index: HashMap::new() }
    }

    /// Adds a path given root-first.
    fn add<'a>(&mut self, path: impl Iterator<Item = &'a str>, value: i64, baseline: bool) {
        let mut at = 0u32;
        self.bump(at, value, baseline, false);
        let mut any = false;
        for func in path {
            let name = self.names.intern(func);
            let next = if let Some(&n) = self.index.get(&(at, name)) {
                n
            } else {
                let n = self.nodes.len() as u32;
                self.nodes.push((name, at, 0, 0, 0));
                self.index.insert((at, name), n);
                n
            };
            at = next;
            any = true;
            self.bump(at, value, baseline, false);
        }
        if any || value != 0 {
            self.bump(at, value, baseline, true);
        }
    }

    fn bump(&mut self, node: u32, value: i64, baseline: bool, is_self: bool) {
        if let Some(n) = self.nodes.get_mut(node as usize) {
            match (baseline, is_self) {
                (false, false) => n.2 = n.2.saturating_add(value),
                (false, true) => n.3 = n.3.saturating_add(value),
                (true, false) => n.4 = n.4.saturating_add(value),
                (true, true) => {}
            }
        }
    }

    fn finish(self, is_diff: bool) -> FlameTree {
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            if let Some(c) = children.get_mut(n.1 as usize) {
                c.push(i as u32);
            }
        }
        for c in &mut children {
            c.sort_by(|&a, &b| {
                let name = |i: u32| self.nodes.get(i as usize).map_or("", |n| self.names.resolve(n.0));
                name(a).cmp(name(b))
            });
        }
        let mut out: Vec<FlameNode> = Vec::with_capacity(self.nodes.len());
        // Iterative pre-order: (old index, new parent, depth, entering?).
        let mut stack: Vec<(u32, u32, u16, bool)> = vec![(0, 0, 0, true)];
        let mut new_index = vec![0u32; self.nodes.len()];
        while let Some((old, parent, depth, entering)) = stack.pop() {
            if entering {
                let here = out.len() as u32;
                if let Some(slot) = new_index.get_mut(old as usize) {
                    *slot = here;
                }
                let Some(&(name, _, total, self_value, baseline_total)) = self.nodes.get(old as usize) else {
                    continue;
                };
                out.push(FlameNode { name, depth, parent, end: here + 1, total, self_value, baseline_total });
                stack.push((old, parent, depth, false));
                if let Some(kids) = children.get(old as usize) {
                    for &k in kids.iter().rev() {
                        stack.push((k, here, depth.saturating_add(1), true));
                    }
                }
            } else {
                let here = new_index.get(old as usize).copied().unwrap_or(0) as usize;
                let end = out.len() as u32;
                if let Some(n) = out.get_mut(here) {
                    n.end = end;
                }
            }
        }
        FlameTree { names: self.names, nodes: out, is_diff }
    }
}

impl FlameTree {
    /// Merges `(stack, value)` pairs of one capture. Equal stacks are summed first, so a
    /// profile with a million samples inserts each distinct stack once.
    pub fn from_stacks(capture: &Capture, stacks: impl IntoIterator<Item = (StackId, i64)>) -> Self {
        let mut b = Builder::new();
        add_capture(&mut b, capture, stacks, Side { baseline: false, normalise: false });
        b.finish(false)
    }

    /// Like [`Self::from_stacks`], with the value of empty stacks under one frame of its own
    /// named `empty_name` instead of as the root's self value, which a flamegraph draws as
    /// unexplained blank width (an execution trace has goroutines it never saw a stack for).
    pub fn from_stacks_naming_empty(
        capture: &Capture,
        stacks: impl IntoIterator<Item = (StackId, i64)>,
        empty_name: &str,
    ) -> Self {
        let mut b = Builder::new();
        let mut empty = 0i64;
        let with_frames: Vec<(StackId, i64)> = stacks
            .into_iter()
            .filter(|&(s, v)| {
                let is_empty = capture.tables.stack(s).is_empty();
                if is_empty {
                    empty = empty.saturating_add(v);
                }
                !is_empty
            })
            .collect();
        add_capture(&mut b, capture, with_frames, Side { baseline: false, normalise: false });
        if empty != 0 {
            b.add(std::iter::once(empty_name), empty, false);
        }
        b.finish(false)
    }

    /// A diff tree: `after` gives `total`, `before` gives `baseline_total`, matched by function
    /// names along the path. Runtime-internal frames and compiler wrappers are left out of both
    /// sides, because dumps hide them and profiles show them: without that, the same goroutines
    /// would not line up between a `debug=2` dump and a pprof profile.
    pub fn diff(
        after: (&Capture, &mut dyn Iterator<Item = (StackId, i64)>),
        before: (&Capture, &mut dyn Iterator<Item = (StackId, i64)>),
    ) -> Self {
        let mut b = Builder::new();
        add_capture(&mut b, after.0, after.1, Side { baseline: false, normalise: true });
        add_capture(&mut b, before.0, before.1, Side { baseline: true, normalise: true });
        b.finish(true)
    }

    /// The goroutines of a capture, one per task (or the counts of a goroutine profile).
    pub fn goroutines(capture: &Capture) -> Self {
        Self::from_stacks(capture, goroutine_stacks(capture))
    }

    /// The goroutines of a capture under one synthetic root frame per value of the label
    /// `key` (`route=/export`, and `route unset` for goroutines without it), as pprof's
    /// `-tagroot` does, so each route's or tenant's stacks are a subtree of their own.
    pub fn goroutines_by_label(capture: &Capture, key: &str) -> Self {
        let mut b = Builder::new();
        let unset = format!("{key} unset");
        let mut sums: HashMap<(String, StackId), i64> = HashMap::new();
        for g in capture.groups() {
            let value = capture.tables.labels(g.labels).iter().find(|l| capture.str(l.key) == key);
            let root = value.map_or_else(|| unset.clone(), |l| format!("{key}={}", capture.str(l.value)));
            let count = i64::try_from(g.count).unwrap_or(i64::MAX);
            let sum = sums.entry((root, g.stack)).or_insert(0);
            *sum = sum.saturating_add(count);
        }
        let mut sums: Vec<((String, StackId), i64)> = sums.into_iter().collect();
        sums.sort_unstable();
        for ((root, stack), value) in sums {
            let frames = capture.tables.stack(stack).iter().rev().map(|&f| capture.func_name(f));
            b.add(std::iter::once(root.as_str()).chain(frames), value, false);
        }
        b.finish(false)
    }

    /// The label keys of a capture's goroutines, sorted: what [`Self::goroutines_by_label`]
    /// can root a flamegraph at.
    pub fn label_keys(capture: &Capture) -> Vec<String> {
        Self::label_keys_of(capture, &capture.groups())
    }

    /// The label keys of `groups` (of `capture`), sorted.
    pub fn label_keys_of(capture: &Capture, groups: &[crate::model::Group]) -> Vec<String> {
        let mut keys: Vec<String> = groups
            .iter()
            .flat_map(|g| capture.tables.labels(g.labels).iter().map(|l| capture.str(l.key).to_owned()))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    }

    /// The root node.
    pub fn root(&self) -> Option<&FlameNode> {
        self.nodes.first()
    }

    /// Name of a node.
    pub fn name(&self, node: u32) -> &str {
        self.nodes.get(node as usize).map_or("", |n| self.names.resolve(n.name))
    }

    /// Direct children of `node`, in name order.
    pub fn children(&self, node: u32) -> impl Iterator<Item = u32> + '_ {
        let end = self.nodes.get(node as usize).map_or(node, |n| n.end);
        let mut next = node + 1;
        std::iter::from_fn(move || {
            if next >= end {
                return None;
            }
            let here = next;
            next = self.nodes.get(here as usize).map_or(end, |n| n.end);
            Some(here)
        })
    }

    /// The node reached by following `funcs` (root-first) from the root, if the whole path
    /// exists.
    pub fn find_path<'a>(&self, funcs: impl IntoIterator<Item = &'a str>) -> Option<u32> {
        let mut at = 0u32;
        for func in funcs {
            at = self.children(at).find(|&c| self.name(c) == func)?;
        }
        Some(at)
    }

    /// The path of names from the root (excluded) down to `node`.
    pub fn path(&self, node: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = node;
        while at != 0 {
            out.push(at);
            match self.nodes.get(at as usize) {
                Some(n) => at = n.parent,
                None => break,
            }
        }
        out.reverse();
        out
    }

    /// For each node of this tree, re-aggregated from `from`'s stacks (filtered, say), the node
    /// of `from` it stands for: the one at the same path of names, else (where hide or
    /// show_from changed the path) the heaviest node of `from` for the same function;
    /// `u32::MAX` for a function `from` does not have. Lets views keep what they know per node
    /// of the whole tree (file:line, finding badges) on a filtered one.
    pub fn origins(&self, from: &FlameTree) -> Vec<u32> {
        let mut child: HashMap<(u32, &str), u32> = HashMap::with_capacity(from.nodes.len());
        let mut heaviest: HashMap<&str, (u32, i64)> = HashMap::new();
        for (i, n) in from.nodes.iter().enumerate().skip(1) {
            let name = from.names.resolve(n.name);
            child.insert((n.parent, name), i as u32);
            let best = heaviest.entry(name).or_insert((i as u32, n.total));
            if n.total > best.1 {
                *best = (i as u32, n.total);
            }
        }
        let mut out: Vec<u32> = Vec::with_capacity(self.nodes.len());
        for (i, n) in self.nodes.iter().enumerate() {
            if i == 0 {
                out.push(0);
                continue;
            }
            let name = self.names.resolve(n.name);
            let parent = out.get(n.parent as usize).copied().unwrap_or(u32::MAX);
            let origin = child.get(&(parent, name)).copied().or_else(|| heaviest.get(name).map(|b| b.0));
            out.push(origin.unwrap_or(u32::MAX));
        }
        out
    }

    /// The tree as a flamegraph zoomed onto `node` shows it: `node`'s subtree as it is, under
    /// its ancestors narrowed to `node`'s value (so the export of a zoomed view keeps the path
    /// that leads there). The whole tree for the root or a foreign node.
    #[must_use]
    pub fn zoomed(&self, node: u32) -> Self {
        let Some(target) = self.nodes.get(node as usize).filter(|_| node != 0) else { return self.clone() };
        let ancestors: Vec<u32> = std::iter::once(0).chain(self.path(node)).filter(|&a| a != node).collect();
        let shift = node as usize - ancestors.len();
        let subtree = self.nodes.get(node as usize..target.end as usize).unwrap_or_default();
        let len = (ancestors.len() + subtree.len()) as u32;
        let mut nodes = Vec::with_capacity(len as usize);
        for (i, &a) in ancestors.iter().enumerate() {
            let Some(n) = self.nodes.get(a as usize) else { continue };
            nodes.push(FlameNode {
                parent: i.saturating_sub(1) as u32,
                end: len,
                total: target.total,
                self_value: 0,
                baseline_total: target.baseline_total,
                ..*n
            });
        }
        for (k, n) in subtree.iter().enumerate() {
            let parent = if k == 0 { ancestors.len() as u32 - 1 } else { n.parent - shift as u32 };
            nodes.push(FlameNode { parent, end: n.end - shift as u32, ..*n });
        }
        Self { names: self.names.clone(), nodes, is_diff: self.is_diff }
    }

    /// Deepest depth in the tree.
    pub fn max_depth(&self) -> u16 {
        self.nodes.iter().map(|n| n.depth).max().unwrap_or(0)
    }

    /// Calls `f` with every stack the tree merged: its function names root-first (the root
    /// frame left out), the value of the stacks that end there and the same in the baseline.
    /// A merged tree is its stacks, so views can filter or re-aggregate any flamegraph
    /// (goroutines, samples, span time, a diff) without the capture it came from.
    pub fn for_each_stack<'t>(&'t self, mut f: impl FnMut(&[&'t str], i64, i64)) {
        // A node's baseline self value is its baseline total less its children's, since the
        // builder keeps only baseline totals.
        let mut baseline_self: Vec<i64> = self.nodes.iter().map(|n| n.baseline_total).collect();
        for n in self.nodes.iter().skip(1) {
            if let Some(p) = baseline_self.get_mut(n.parent as usize) {
                *p = p.saturating_sub(n.baseline_total);
            }
        }
        let mut path: Vec<&'t str> = Vec::new();
        for (i, n) in self.nodes.iter().enumerate() {
            if i > 0 {
                path.truncate(usize::from(n.depth).saturating_sub(1));
                path.push(self.names.resolve(n.name));
            }
            let base = baseline_self.get(i).copied().unwrap_or(0);
            if n.self_value != 0 || base != 0 {
                f(&path, n.self_value, base);
            }
        }
    }

    /// The tree of the stacks that pass `filter` (pprof's focus, ignore, hide, show_from).
    #[must_use]
    pub fn filtered(&self, filter: &StackFilter) -> Self {
        let mut b = Builder::with_root(self.name(0));
        self.for_each_stack(|path, value, baseline| {
            if let Some(kept) = filter.apply(path) {
                b.add_both(&kept, value, baseline);
            }
        });
        b.finish(self.is_diff)
    }

    /// The callees of `func`, merged (speedscope's sandwich, lower half): rooted at `func`,
    /// each stack through it from its outermost call of `func` down. Recursive calls stay
    /// inside the one subtree, so nothing counts twice.
    #[must_use]
    pub fn callees(&self, func: &str) -> Self {
        let mut b = Builder::with_root(func);
        self.for_each_stack(|path, value, baseline| {
            if let Some(at) = path.iter().position(|&f| f == func) {
                b.add_both(path.get(at + 1..).unwrap_or_default(), value, baseline);
            }
        });
        b.finish(self.is_diff)
    }

    /// The callers of `func`, merged and inverted (speedscope's sandwich, upper half): rooted
    /// at `func`, each stack through it from its outermost call of `func` up to the root.
    #[must_use]
    pub fn callers(&self, func: &str) -> Self {
        let mut b = Builder::with_root(func);
        let mut up: Vec<&str> = Vec::new();
        self.for_each_stack(|path, value, baseline| {
            if let Some(at) = path.iter().position(|&f| f == func) {
                up.clear();
                up.extend(path.get(..at).unwrap_or_default().iter().rev());
                b.add_both(&up, value, baseline);
            }
        });
        b.finish(self.is_diff)
    }
}

impl Builder {
    /// Adds a root-first path to both sides (the baseline only where it has a value).
    fn add_both(&mut self, path: &[&str], value: i64, baseline: i64) {
        self.add(path.iter().copied(), value, false);
        if baseline != 0 {
            self.add(path.iter().copied(), baseline, true);
        }
    }
}

/// `(stack, value)` pairs counting goroutines: one per goroutine task, or the counts of a
/// goroutine count profile.
pub fn goroutine_stacks(capture: &Capture) -> Vec<(StackId, i64)> {
    let mut sums: HashMap<StackId, i64> = HashMap::new();
    if capture.tasks.is_empty() {
        if capture.is_goroutine_count_profile() {
            for (i, &stack) in capture.samples.stack.iter().enumerate() {
                *sums.entry(stack).or_insert(0) += capture.samples.value(i, 0);
            }
        }
    } else {
        for task in capture.tasks.iter().filter(|t| t.kind != crate::model::TaskKind::Resource) {
            *sums.entry(task.stack).or_insert(0) += 1;
        }
    }
    let mut out: Vec<(StackId, i64)> = sums.into_iter().collect();
    out.sort_unstable();
    out
}

/// `(stack, value)` pairs of one sample column.
pub fn sample_stacks(capture: &Capture, column: usize) -> Vec<(StackId, i64)> {
    let mut sums: HashMap<StackId, i64> = HashMap::new();
    for (i, &stack) in capture.samples.stack.iter().enumerate() {
        *sums.entry(stack).or_insert(0) += capture.samples.value(i, column);
    }
    let mut out: Vec<(StackId, i64)> = sums.into_iter().collect();
    out.sort_unstable();
    out
}

/// Which side of a tree a capture fills, and whether its stacks are normalised.
#[derive(Clone, Copy)]
struct Side {
    baseline: bool,
    normalise: bool,
}

fn add_capture(
    b: &mut Builder,
    capture: &Capture,
    stacks: impl IntoIterator<Item = (StackId, i64)>,
    side: Side,
) {
    let mut sums: HashMap<StackId, i64> = HashMap::new();
    for (stack, value) in stacks {
        *sums.entry(stack).or_insert(0) += value;
    }
    let mut sums: Vec<(StackId, i64)> = sums.into_iter().collect();
    sums.sort_unstable();
    for (stack, value) in sums {
        let frames = capture.tables.stack(stack);
        let names = frames.iter().rev().map(|&f| capture.func_name(f));
        if side.normalise {
            let kept =
                names.filter(|f| !crate::model::funcname::is_runtime(f) && !super::sites::is_wrapper(f));
            b.add(kept, value, side.baseline);
        } else {
            b.add(names, value, side.baseline);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FormatKind, Frame, Task};

    fn capture(stacks: &[&[&str]]) -> Capture {
        let mut c = Capture::new("t", FormatKind::GoGoroutineDump);
        for (i, s) in stacks.iter().enumerate() {
            let frames: Vec<_> = s
                .iter()
                .rev() // given root-first in the test, stored leaf-first
                .map(|f| {
                    let func = c.strings.intern(f);
                    c.tables.frame_id(Frame { func, ..Frame::default() })
                })
                .collect();
            let stack = c.tables.stack_id(&frames);
            c.tasks.push(Task { id: i as u64, stack, ..Task::default() });
        }
        c
    }

    #[test]
    fn merges_and_orders_preorder() {
        let c = capture(&[&["main", "a", "x"], &["main", "a", "x"], &["main", "b"], &["main", "a"]]);
        let t = FlameTree::goroutines(&c);
        let names: Vec<_> = (0..t.nodes.len() as u32).map(|i| t.name(i)).collect();
        assert_eq!(names, ["all", "main", "a", "x", "b"]);
        assert_eq!(t.nodes[0].total, 4);
        assert_eq!(t.nodes[1].total, 4);
        assert_eq!((t.nodes[2].total, t.nodes[2].self_value), (3, 1));
        assert_eq!(t.nodes[3].total, 2);
        assert_eq!(t.nodes[1].end, 5);
        assert_eq!(t.nodes[2].end, 4);
        assert_eq!(t.children(1).collect::<Vec<_>>(), [2, 4]);
        assert_eq!(t.find_path(["main", "a", "x"]), Some(3));
        assert_eq!(t.path(3), [1, 2, 3]);
        assert_eq!(t.max_depth(), 3);
    }

    #[test]
    fn zoomed_tree_is_the_subtree_under_its_narrowed_path() {
        let c = capture(&[&["main", "a", "x"], &["main", "a", "x", "y"], &["main", "b"], &["main", "a"]]);
        let t = FlameTree::goroutines(&c);
        let a = t.find_path(["main", "a"]).unwrap();
        let z = t.zoomed(a);
        let names: Vec<_> = (0..z.nodes.len() as u32).map(|i| z.name(i)).collect();
        assert_eq!(names, ["all", "main", "a", "x", "y"]);
        // Ancestors narrowed to the zoomed node; its subtree unchanged.
        assert_eq!(z.nodes.iter().map(|n| n.total).collect::<Vec<_>>(), [3, 3, 3, 2, 1]);
        assert_eq!((z.nodes[1].self_value, z.nodes[2].self_value), (0, 1));
        assert_eq!(z.nodes.iter().map(|n| n.parent).collect::<Vec<_>>(), [0, 0, 1, 2, 3]);
        assert_eq!(z.nodes.iter().map(|n| n.end).collect::<Vec<_>>(), [5, 5, 5, 5, 5]);
        assert_eq!(z.path(4), [1, 2, 3, 4]);
        // Zooming onto the root, or onto nothing, is the whole tree.
        assert_eq!(t.zoomed(0).nodes, t.nodes);
        assert_eq!(t.zoomed(99).nodes, t.nodes);
    }

    #[test]
    fn filtered_tree_keeps_what_passes() {
        use crate::analysis::stack_filter::{FilterSpec, StackFilter};
        let c = capture(&[&["main", "a", "x"], &["main", "a", "x"], &["main", "b"], &["main", "a"]]);
        let t = FlameTree::goroutines(&c);
        let focus = StackFilter::new(&FilterSpec { focus: "^x$".into(), ..FilterSpec::default() }).unwrap();
        let kept = t.filtered(&focus);
        assert_eq!(kept.nodes[0].total, 2);
        assert_eq!(kept.find_path(["main", "b"]), None);
        let hide = StackFilter::new(&FilterSpec { hide: "^a$".into(), ..FilterSpec::default() }).unwrap();
        let h = t.filtered(&hide);
        assert_eq!(h.nodes[0].total, 4);
        let x = h.find_path(["main", "x"]).unwrap();
        assert_eq!(h.nodes[x as usize].total, 2);
        // The unfiltered round trip is the same tree.
        assert_eq!(t.filtered(&StackFilter::default()).nodes, t.nodes);
    }

    #[test]
    fn sandwich_merges_callers_and_callees() {
        let c = capture(&[
            &["main", "a", "x"],
            &["main", "b", "x", "y"],
            &["main", "b", "x", "y"],
            &["main", "a"],
        ]);
        let t = FlameTree::goroutines(&c);
        let callers = t.callers("x");
        assert_eq!(callers.name(0), "x");
        assert_eq!(callers.nodes[0].total, 3);
        let b = callers.find_path(["b", "main"]).unwrap();
        assert_eq!(callers.nodes[b as usize].total, 2);
        let down = t.callees("x");
        assert_eq!((down.nodes[0].total, down.nodes[0].self_value), (3, 1));
        assert_eq!(down.nodes[down.find_path(["y"]).unwrap() as usize].total, 2);
    }

    #[test]
    fn filtering_a_diff_keeps_the_baseline() {
        use crate::analysis::stack_filter::{FilterSpec, StackFilter};
        let before = capture(&[&["main", "a"], &["main", "b"]]);
        let after = capture(&[&["main", "a"], &["main", "a"], &["main", "b"]]);
        let t = FlameTree::diff(
            (&after, &mut goroutine_stacks(&after).into_iter()),
            (&before, &mut goroutine_stacks(&before).into_iter()),
        );
        let ignore = StackFilter::new(&FilterSpec { ignore: "^b$".into(), ..FilterSpec::default() }).unwrap();
        let f = t.filtered(&ignore);
        assert!(f.is_diff);
        assert_eq!((f.nodes[0].total, f.nodes[0].baseline_total), (2, 1));
    }

    #[test]
    fn diff_matches_by_name() {
        let before = capture(&[&["main", "a"]]);
        let after = capture(&[&["main", "a"], &["main", "a"], &["main", "b"]]);
        let t = FlameTree::diff(
            (&after, &mut goroutine_stacks(&after).into_iter()),
            (&before, &mut goroutine_stacks(&before).into_iter()),
        );
        let a = t.find_path(["main", "a"]).unwrap();
        let b = t.find_path(["main", "b"]).unwrap();
        assert_eq!((t.nodes[a as usize].total, t.nodes[a as usize].baseline_total), (2, 1));
        assert_eq!((t.nodes[b as usize].total, t.nodes[b as usize].baseline_total), (1, 0));
        assert!(t.is_diff);
    }
}
