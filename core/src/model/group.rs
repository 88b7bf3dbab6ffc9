//! Groups: tasks bucketed by what they are doing and where they came from. A dump of 100,000
//! goroutines is read as its few dozen groups; goroutine count profiles are already grouped.

use hashbrown::HashMap;

use super::LastKey;
use super::capture::Capture;
use super::funcname;
use std::collections::BTreeMap;

use super::stack::{FrameId, LabelSetId, StackId};
use super::strings::StrId;
use super::task::{TaskFlags, TaskKind};
use super::wait::WaitKind;

/// Tasks (or counted goroutines) sharing state, stack and creation site.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// Number of goroutines.
    pub count: u64,
    /// The state as the capture says it; `None` for profiles, which record none.
    pub state: Option<StrId>,
    /// What the wait is, from the state or inferred from the stack.
    pub wait_kind: WaitKind,
    /// The runtime marked these goroutines leaked (`(leaked)`, or a goroutineleak profile).
    pub leaked: bool,
    /// The shared stack, innermost first.
    pub stack: StackId,
    /// The shared creation site.
    pub created_by: Option<FrameId>,
    /// The members' shared name, for tasks that have no stack to tell them apart (async
    /// operations of a trace: `PROMISE`, `Timeout`, `HTTPINCOMINGMESSAGE`); `None` otherwise.
    pub name: Option<StrId>,
    /// Least and most wait of the members, where the capture gives waits.
    pub wait_ns: Option<(i64, i64)>,
    /// Task indices of the members, ascending; empty for profiles.
    pub members: Vec<u32>,
    /// The pprof label set the members share: groups split by label set, as pprof splits
    /// samples (a leak family still gathers its groups across label sets).
    pub labels: LabelSetId,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    state: StrId,
    leaked: bool,
    stack: StackId,
    created_by: Option<FrameId>,
    name: StrId,
    labels: LabelSetId,
}

impl Capture {
    /// The capture's groups, sorted by count (largest first), then state and stack, so that the
    /// order is the same on every run.
    pub fn groups(&self) -> Vec<Group> {
        let mut groups =
            if self.tasks.is_empty() { self.groups_from_samples() } else { self.groups_from_tasks() };
        groups.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| {
                    self.str(a.state.unwrap_or_default()).cmp(self.str(b.state.unwrap_or_default()))
                })
                .then_with(|| self.stack_sort_key(a.stack).cmp(&self.stack_sort_key(b.stack)))
                .then_with(|| a.created_by.cmp(&b.created_by))
                .then_with(|| self.str(a.name.unwrap_or_default()).cmp(self.str(b.name.unwrap_or_default())))
                .then_with(|| self.label_text(a.labels).cmp(&self.label_text(b.labels)))
        });
        groups
    }

    fn stack_sort_key(&self, stack: StackId) -> Vec<&str> {
        self.tables.stack(stack).iter().map(|&f| self.str(self.tables.frame(f).func)).collect()
    }

    fn groups_from_tasks(&self) -> Vec<Group> {
        let mut index: HashMap<Key, usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut any_wait: Vec<bool> = Vec::new();
        let mut last = LastKey::new();
        for (i, task) in self.tasks.enumerate() {
            if task.kind == TaskKind::Resource {
                continue;
            }
            let key = Key {
                state: task.state,
                leaked: task.flags.contains(TaskFlags::LEAKED),
                stack: task.stack,
                created_by: task.created_by,
                // Without a stack, all of a trace's async operations would be one group.
                name: if task.stack == StackId::EMPTY { task.name } else { StrId::EMPTY },
                labels: task.labels,
            };
            // Tasks come in runs of one group (a trace's goroutines of one creation site end
            // alike, one after another).
            let slot = last.get_or(key, || {
                *index.entry(key).or_insert_with(|| {
                    groups.push(Group {
                        count: 0,
                        state: (!task.state.is_empty()).then_some(task.state),
                        wait_kind: self.wait_kind_of(task.state, task.stack),
                        leaked: key.leaked,
                        stack: task.stack,
                        created_by: task.created_by,
                        name: (!key.name.is_empty()).then_some(key.name),
                        wait_ns: None,
                        members: Vec::new(),
                        labels: task.labels,
                    });
                    any_wait.push(false);
                    groups.len() - 1
                })
            });
            if let (Some(group), Some(seen)) = (groups.get_mut(slot), any_wait.get_mut(slot)) {
                group.count += 1;
                group.members.push(i as u32);
                // A dump prints minutes only from 1 minute on, so a member without them waited
                // less than a minute: it counts as 0 once any member has a wait.
                let wait = task.wait_ns.get().unwrap_or(0);
                *seen |= task.wait_ns.is_some();
                group.wait_ns = Some(match group.wait_ns {
                    None => (wait, wait),
                    Some((lo, hi)) => (lo.min(wait), hi.max(wait)),
                });
            }
        }
        for (group, seen) in groups.iter_mut().zip(any_wait) {
            if !seen {
                group.wait_ns = None;
            }
        }
        groups
    }

    fn groups_from_samples(&self) -> Vec<Group> {
        if !self.is_goroutine_count_profile() {
            return Vec::new();
        }
        let leaked = self.is_leak_profile();
        let mut index: HashMap<(StackId, LabelSetId), usize> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        for (i, &stack) in self.samples.stack.iter().enumerate() {
            let count = self.samples.value(i, 0).max(0) as u64;
            let labels = self.samples.labels.get(i).copied().unwrap_or(LabelSetId::EMPTY);
            let slot = *index.entry((stack, labels)).or_insert_with(|| {
                groups.push(Group {
                    count: 0,
                    state: None,
                    wait_kind: self.wait_kind_of(StrId::EMPTY, stack),
                    leaked,
                    stack,
                    created_by: None,
                    name: None,
                    wait_ns: None,
                    members: Vec::new(),
                    labels,
                });
                groups.len() - 1
            });
            if let Some(group) = groups.get_mut(slot) {
                // Counts come from the file: a few absurd ones must not wrap the sum.
                group.count = group.count.saturating_add(count);
            }
        }
        groups
    }

    /// A label set as `key=value` pairs joined by spaces, sorted by key (`route=/export
    /// tenant=acme`); empty for no labels.
    pub fn label_text(&self, labels: LabelSetId) -> String {
        let pairs: Vec<String> = self
            .tables
            .labels(labels)
            .iter()
            .map(|l| format!("{}={}", self.str(l.key), self.str(l.value)))
            .collect();
        pairs.join(" ")
    }

    /// A label set as a map from key to value (the last value where a key repeats).
    pub fn label_map(&self, labels: LabelSetId) -> BTreeMap<String, String> {
        self.tables
            .labels(labels)
            .iter()
            .map(|l| (self.str(l.key).to_owned(), self.str(l.value).to_owned()))
            .collect()
    }

    /// The wait of a task or group: from its state where the capture has one, else from the
    /// frames it parks in.
    pub fn wait_kind_of(&self, state: StrId, stack: StackId) -> WaitKind {
        WaitKind::from_state(self.str(state)).unwrap_or_else(|| {
            WaitKind::from_frames(
                self.tables.stack(stack).iter().map(|&f| self.str(self.tables.frame(f).func)),
            )
        })
    }

    /// The innermost frame of a stack.
    pub fn leaf_frame(&self, stack: StackId) -> Option<FrameId> {
        self.tables.stack(stack).first().copied()
    }

    /// The innermost frame outside the standard library: the code a person owns. For stacks
    /// made only of standard library code (an accept loop, a transaction watcher), the innermost
    /// frame above the low-level machinery (runtime, sync primitives, internal packages), so that
    /// `database/sql.(*closingMutex).Lock` names the wait rather than `sync.runtime_notifyListWait`.
    pub fn user_frame(&self, stack: StackId) -> Option<FrameId> {
        let frames = self.tables.stack(stack);
        let func = |f: &FrameId| self.str(self.tables.frame(*f).func);
        let machinery = |name: &str| {
            funcname::is_runtime(name) || name.starts_with("sync.") || name.starts_with("internal/")
        };
        frames
            .iter()
            .find(|f| !funcname::is_standard_library(func(f)))
            .or_else(|| frames.iter().find(|f| !machinery(func(f))))
            .or_else(|| frames.first())
            .copied()
    }

    /// The function name of a frame.
    pub fn func_name(&self, frame: FrameId) -> &str {
        self.str(self.tables.frame(frame).func)
    }

    /// Function names of a stack, innermost first.
    pub fn stack_funcs(&self, stack: StackId) -> impl Iterator<Item = &str> {
        self.tables.stack(stack).iter().map(|&f| self.func_name(f))
    }
}
