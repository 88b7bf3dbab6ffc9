//! Source locations of flame-tree nodes. A node merges every frame of one function at one place
//! in the call tree, and those frames may sit on different lines (a function that parks in two
//! selects); the node's location is the line that carries the most value, and the number of other
//! lines is kept so that a tooltip can say so instead of pretending there is only one.

use hashbrown::HashMap;

use super::flame::FlameTree;
use crate::model::{Capture, StackId, StrId, Strings};

/// The file:line of each node of one [`FlameTree`], indexed like its nodes.
#[derive(Clone, Debug, Default)]
pub struct FlameLocations {
    files: Strings,
    /// Per node: file (EMPTY = unknown), line, how many other lines the node also covers.
    by_node: Vec<(StrId, u32, u32)>,
    /// Per node, while building: (file, line) -> value.
    weights: Vec<Vec<(StrId, u32, i64)>>,
}

impl FlameLocations {
    /// Locations of `tree`'s nodes from the `(stack, value)` pairs the tree was built from.
    pub fn from_stacks(
        tree: &FlameTree,
        capture: &Capture,
        stacks: impl IntoIterator<Item = (StackId, i64)>,
    ) -> Self {
        let mut out =
            Self { files: Strings::new(), by_node: Vec::new(), weights: vec![Vec::new(); tree.nodes.len()] };
        out.add(tree, capture, stacks);
        out.finish();
        out
    }

    /// Locations of a diff tree: both sides' stacks, in the order the tree was built.
    pub fn from_diff(
        tree: &FlameTree,
        after: (&Capture, &mut dyn Iterator<Item = (StackId, i64)>),
        before: (&Capture, &mut dyn Iterator<Item = (StackId, i64)>),
    ) -> Self {
        let mut out =
            Self { files: Strings::new(), by_node: Vec::new(), weights: vec![Vec::new(); tree.nodes.len()] };
        out.add(tree, after.0, after.1);
        out.add(tree, before.0, before.1);
        out.finish();
        out
    }

    fn add(&mut self, tree: &FlameTree, capture: &Capture, stacks: impl IntoIterator<Item = (StackId, i64)>) {
        // (parent, name) -> child, so that each stack walks down the tree in one lookup per frame.
        let mut child: HashMap<(u32, &str), u32> = HashMap::with_capacity(tree.nodes.len());
        for (i, node) in tree.nodes.iter().enumerate().skip(1) {
            child.insert((node.parent, tree.names.resolve(node.name)), i as u32);
        }
        for (stack, value) in stacks {
            let mut at = 0u32;
            for &frame_id in capture.tables.stack(stack).iter().rev() {
                let frame = capture.tables.frame(frame_id);
                let Some(&next) = child.get(&(at, capture.str(frame.func))) else { break };
                at = next;
                if frame.file.is_empty() {
                    continue;
                }
                let file = self.files.intern(capture.str(frame.file));
                let Some(list) = self.weights.get_mut(at as usize) else { continue };
                match list.iter_mut().find(|(f, l, _)| *f == file && *l == frame.line) {
                    Some(entry) => entry.2 = entry.2.saturating_add(value.max(1)),
                    None => list.push((file, frame.line, value.max(1))),
                }
            }
        }
    }

    fn finish(&mut self) {
        self.by_node = self
            .weights
            .iter()
            .map(|list| {
                // Heaviest first; ties broken by file and line so the choice is stable.
                let best = list.iter().max_by(|a, b| {
                    a.2.cmp(&b.2)
                        .then_with(|| self.files.resolve(b.0).cmp(self.files.resolve(a.0)))
                        .then_with(|| b.1.cmp(&a.1))
                });
                match best {
                    Some(&(file, line, _)) => (file, line, list.len().saturating_sub(1) as u32),
                    None => (StrId::EMPTY, 0, 0),
                }
            })
            .collect();
        self.weights = Vec::new();
    }

    /// The locations of another tree whose nodes stand for these (`origins`, from
    /// [`FlameTree::origins`]): a filtered tree keeps the whole one's file:lines.
    #[must_use]
    pub fn remapped(&self, origins: &[u32]) -> Self {
        let by_node = origins
            .iter()
            .map(|&o| self.by_node.get(o as usize).copied().unwrap_or((StrId::EMPTY, 0, 0)))
            .collect();
        Self { files: self.files.clone(), by_node, weights: Vec::new() }
    }

    /// The file and line of `node`, where the capture gave one.
    pub fn location(&self, node: u32) -> Option<(&str, u32)> {
        let &(file, line, _) = self.by_node.get(node as usize)?;
        (!file.is_empty()).then(|| (self.files.resolve(file), line))
    }

    /// How many lines other than [`FlameLocations::location`]'s the node's frames sit on.
    pub fn other_lines(&self, node: u32) -> u32 {
        self.by_node.get(node as usize).map_or(0, |l| l.2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::flame::goroutine_stacks;
    use crate::model::{FormatKind, Frame, Task};

    fn capture(stacks: &[&[(&str, u32)]]) -> Capture {
        let mut c = Capture::new("t", FormatKind::GoGoroutineDump);
        for (i, s) in stacks.iter().enumerate() {
            let frames: Vec<_> = s
                .iter()
                .rev()
                .map(|&(f, line)| {
                    let func = c.strings.intern(f);
                    let file = c.strings.intern("/src/main.go");
                    c.tables.frame_id(Frame { func, file, line, column: 0 })
                })
                .collect();
            let stack = c.tables.stack_id(&frames);
            c.tasks.push(Task { id: i as u64, stack, ..Task::default() });
        }
        c
    }

    #[test]
    fn heaviest_line_wins_and_others_are_counted() {
        let c = capture(&[
            &[("main.main", 10), ("main.wait", 20)],
            &[("main.main", 10), ("main.wait", 20)],
            &[("main.main", 11), ("main.wait", 30)],
        ]);
        let tree = FlameTree::goroutines(&c);
        let locs = FlameLocations::from_stacks(&tree, &c, goroutine_stacks(&c));
        let wait = tree.find_path(["main.main", "main.wait"]).unwrap();
        assert_eq!(locs.location(wait), Some(("/src/main.go", 20)));
        assert_eq!(locs.other_lines(wait), 1);
        let main = tree.find_path(["main.main"]).unwrap();
        assert_eq!(locs.location(main), Some(("/src/main.go", 10)));
        assert_eq!(locs.location(0), None, "the root has no location");
        assert_eq!(locs.location(999), None);
    }

    #[test]
    fn a_filtered_tree_keeps_the_whole_trees_lines() {
        use crate::analysis::stack_filter::{FilterSpec, StackFilter};
        let c = capture(&[
            &[("main.main", 10), ("main.serve", 40), ("main.wait", 20)],
            &[("main.main", 10), ("main.other", 50)],
        ]);
        let tree = FlameTree::goroutines(&c);
        let locs = FlameLocations::from_stacks(&tree, &c, goroutine_stacks(&c));
        // focus keeps paths: every node finds its own.
        let focus = StackFilter::new(&FilterSpec { focus: "wait".into(), ..FilterSpec::default() }).unwrap();
        let kept = tree.filtered(&focus);
        let kept_locs = locs.remapped(&kept.origins(&tree));
        let wait = kept.find_path(["main.main", "main.serve", "main.wait"]).unwrap();
        assert_eq!(kept_locs.location(wait), Some(("/src/main.go", 20)));
        assert_eq!(kept.find_path(["main.main", "main.other"]), None);
        // hide changes the path: the function's own node still gives its line.
        let hide = StackFilter::new(&FilterSpec { hide: "serve".into(), ..FilterSpec::default() }).unwrap();
        let hidden = tree.filtered(&hide);
        let hidden_locs = locs.remapped(&hidden.origins(&tree));
        let wait = hidden.find_path(["main.main", "main.wait"]).unwrap();
        assert_eq!(hidden_locs.location(wait), Some(("/src/main.go", 20)));
        assert_eq!(hidden_locs.location(0), None);
    }
}
