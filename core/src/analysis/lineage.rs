//! The created-by tree: goroutines under the goroutine that created them ("created by F in
//! goroutine N"), with siblings of one creation site, state and stack folded into one node, so a
//! dump of 100,000 goroutines reads as a few dozen lines. Orphans (their creator no longer
//! exists) start their own roots, and everything they started is marked, because a parked
//! goroutine whose creator has returned is the classic shape of a leak.

use hashbrown::{HashMap, HashSet};

use crate::model::{Capture, FrameId, StackId, StrId, TaskKind};

/// One folded node: goroutines with the same creation site, state and stack, under the same
/// parent node.
#[derive(Clone, Debug, PartialEq)]
pub struct LineageNode {
    /// Where the members were created.
    pub created_by: Option<FrameId>,
    /// Their state as the capture spells it.
    pub state: StrId,
    /// Their shared stack.
    pub stack: StackId,
    /// Their shared name where they have no stack (async operations: `PROMISE`), else empty.
    pub name: StrId,
    /// Task indices of the members, ascending.
    pub members: Vec<u32>,
    /// Child nodes (goroutines the members created), largest first.
    pub children: Vec<u32>,
    /// Distance from the root (roots are 0).
    pub depth: u16,
    /// The members' creator is not in the capture: it returned (or, for a truncated dump, was
    /// cut off).
    pub orphan: bool,
    /// The node lies under an orphan.
    pub under_orphan: bool,
    /// Members parked (chan, select, sleep, sync waits): the waits leaks sit in.
    pub parked: u64,
    /// Members plus all goroutines below them.
    pub subtree_count: u64,
}

/// The whole tree.
#[derive(Clone, Debug, Default)]
pub struct Lineage {
    /// Every node; `roots` and `children` index into it.
    pub nodes: Vec<LineageNode>,
    /// Goroutines whose creator is unknown (`main`, runtime workers, pre-1.21 dumps), largest
    /// first.
    pub roots: Vec<u32>,
    /// Orphans: goroutines whose creator id is printed but absent from the capture, largest
    /// subtree first.
    pub orphan_roots: Vec<u32>,
    /// Parent goroutine ids that are named by some task but absent, ascending.
    pub missing_parents: Vec<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct FoldKey {
    created_by: Option<FrameId>,
    state: StrId,
    stack: StackId,
    name: StrId,
}

impl Lineage {
    /// Builds the tree of a capture's goroutines, or of its async operations (Node.js
    /// `triggerAsyncId`). Captures without per-task records (count profiles) give an empty tree.
    pub fn new(capture: &Capture) -> Self {
        // One kind of task per tree: goroutines where there are any, else async operations.
        let kind = if capture.tasks.iter().any(|t| t.kind == TaskKind::Goroutine) {
            TaskKind::Goroutine
        } else {
            TaskKind::AsyncTask
        };
        let mut by_id: HashMap<u64, u32> = HashMap::with_capacity(capture.tasks.len());
        for (i, task) in capture.tasks.enumerate() {
            if task.kind == kind {
                by_id.entry(task.id).or_insert(i as u32);
            }
        }
        let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut roots = Vec::new();
        let mut orphans = Vec::new();
        let mut missing: HashSet<u64> = HashSet::new();
        for (i, task) in capture.tasks.enumerate() {
            if task.kind != kind {
                continue;
            }
            let i = i as u32;
            match task.parent_id.get() {
                Some(parent) if parent == task.id => roots.push(i),
                Some(parent) => {
                    if let Some(&p) = by_id.get(&parent) {
                        children.entry(p).or_default().push(i);
                    } else if kind == TaskKind::Goroutine {
                        missing.insert(parent);
                        orphans.push(i);
                    } else {
                        // An async trigger the trace never saw (the root execution, a
                        // resource from before tracing began) says nothing about a creator
                        // that returned: ended operations stay in the capture.
                        roots.push(i);
                    }
                }
                None => roots.push(i),
            }
        }
        let mut builder =
            Builder { capture, children: &children, nodes: Vec::new(), visited: HashSet::new() };
        let roots = builder.fold(&roots, 0, false, false);
        let orphan_roots = builder.fold(&orphans, 0, true, true);
        let mut missing_parents: Vec<u64> = missing.into_iter().collect();
        missing_parents.sort_unstable();
        Self { nodes: builder.nodes, roots, orphan_roots, missing_parents }
    }

    /// The node at `index`.
    pub fn node(&self, index: u32) -> Option<&LineageNode> {
        self.nodes.get(index as usize)
    }

    /// Goroutines that are orphans or lie under one.
    pub fn orphaned_count(&self) -> u64 {
        self.orphan_roots.iter().filter_map(|&r| self.node(r)).map(|n| n.subtree_count).sum()
    }
}

struct Builder<'a> {
    capture: &'a Capture,
    children: &'a HashMap<u32, Vec<u32>>,
    nodes: Vec<LineageNode>,
    /// Tasks already placed: a corrupt dump could name a cycle of parents.
    visited: HashSet<u32>,
}

impl Builder<'_> {
    /// Folds `tasks` (siblings) into nodes and recurses into their children; returns the new
    /// nodes' indices, largest subtree first.
    fn fold(&mut self, tasks: &[u32], depth: u16, orphan: bool, under_orphan: bool) -> Vec<u32> {
        let mut order: Vec<FoldKey> = Vec::new();
        let mut folds: HashMap<FoldKey, Vec<u32>> = HashMap::new();
        for &t in tasks {
            if !self.visited.insert(t) {
                continue;
            }
            let Some(task) = self.capture.tasks.get(t as usize) else { continue };
            let name = if task.stack == StackId::EMPTY { task.name } else { StrId::EMPTY };
            let key = FoldKey { created_by: task.created_by, state: task.state, stack: task.stack, name };
            folds
                .entry(key)
                .or_insert_with(|| {
                    order.push(key);
                    Vec::new()
                })
                .push(t);
        }
        let mut out = Vec::with_capacity(order.len());
        for key in order {
            let Some(mut members) = folds.remove(&key) else { continue };
            members.sort_unstable();
            let parked = if self.capture.wait_kind_of(key.state, key.stack).is_parked() {
                members.len() as u64
            } else {
                0
            };
            let index = self.nodes.len() as u32;
            self.nodes.push(LineageNode {
                created_by: key.created_by,
                state: key.state,
                stack: key.stack,
                name: key.name,
                members: Vec::new(),
                children: Vec::new(),
                depth,
                orphan,
                under_orphan,
                parked,
                subtree_count: 0,
            });
            let kids: Vec<u32> =
                members.iter().filter_map(|m| self.children.get(m)).flatten().copied().collect();
            let child_nodes = if kids.is_empty() {
                Vec::new()
            } else {
                self.fold(&kids, depth.saturating_add(1), false, under_orphan)
            };
            let below: u64 =
                child_nodes.iter().filter_map(|&c| self.nodes.get(c as usize)).map(|n| n.subtree_count).sum();
            if let Some(node) = self.nodes.get_mut(index as usize) {
                node.subtree_count = members.len() as u64 + below;
                node.members = members;
                node.children = child_nodes;
            }
            out.push(index);
        }
        out.sort_by(|&a, &b| {
            let count = |i: u32| self.nodes.get(i as usize).map_or(0, |n| n.subtree_count);
            count(b).cmp(&count(a)).then(a.cmp(&b))
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FormatKind, Frame, Task};

    fn capture(tasks: &[(u64, Option<u64>, &str, &str)]) -> Capture {
        let mut c = Capture::new("t", FormatKind::GoGoroutineDump);
        for &(id, parent, state, func) in tasks {
            let func_id = c.strings.intern(func);
            let frame = c.tables.frame_id(Frame { func: func_id, ..Frame::default() });
            let stack = c.tables.stack_id(&[frame]);
            let state = c.strings.intern(state);
            c.tasks.push(Task {
                id,
                parent_id: crate::model::OptId::from(parent),
                state,
                stack,
                ..Task::default()
            });
        }
        c
    }

    #[test]
    fn folds_siblings_and_marks_orphans() {
        let c = capture(&[
            (1, None, "IO wait", "main.main"),
            (10, Some(1), "IO wait", "net/http.(*conn).serve"),
            (11, Some(1), "IO wait", "net/http.(*conn).serve"),
            // Created by a request goroutine that has returned.
            (20, Some(99), "semacquire", "main.processUpload"),
            (21, Some(20), "chan send", "main.uploadChunk"),
            (22, Some(20), "chan send", "main.uploadChunk"),
            (30, Some(98), "chan receive", "main.watch"),
        ]);
        let l = Lineage::new(&c);
        assert_eq!(l.roots.len(), 1);
        let main = l.node(l.roots[0]).unwrap();
        assert_eq!(main.subtree_count, 3);
        assert_eq!(main.children.len(), 1);
        assert_eq!(l.node(main.children[0]).unwrap().members.len(), 2);

        assert_eq!(l.missing_parents, [98, 99]);
        assert_eq!(l.orphan_roots.len(), 2);
        let upload = l.node(l.orphan_roots[0]).unwrap();
        assert!(upload.orphan);
        assert_eq!(upload.subtree_count, 3);
        assert_eq!(upload.parked, 1);
        let chunks = l.node(upload.children[0]).unwrap();
        assert!(chunks.under_orphan && !chunks.orphan);
        assert_eq!((chunks.members.len(), chunks.parked), (2, 2));
        assert_eq!(l.orphaned_count(), 4);
    }

    #[test]
    fn parent_cycles_end() {
        // A corrupt dump naming each other as parents must not loop.
        let c = capture(&[(1, Some(2), "select", "a"), (2, Some(1), "select", "b")]);
        let l = Lineage::new(&c);
        assert!(l.roots.is_empty() && l.orphan_roots.is_empty());
    }
}
