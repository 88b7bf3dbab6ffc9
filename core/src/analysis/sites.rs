//! Where a goroutine waits, where it started and who created it, normalised so that the same
//! goroutine family is recognised in a `debug=2` dump (runtime frames hidden), a SIGQUIT dump
//! (runtime frames and `gowrap` wrappers shown), a `debug=1` text profile and a pprof profile.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{Capture, FrameId, Group, StackId, TaskFlags, funcname};

/// Whether a frame is call machinery rather than code: `runtime.goexit`, compiler-generated
/// `go`/`defer` wrappers (`.gowrap1`, `.deferwrap1`).
pub fn is_wrapper(func: &str) -> bool {
    func == "runtime.goexit"
        || has_numbered_suffix(func, ".gowrap")
        || has_numbered_suffix(func, ".deferwrap")
}

fn has_numbered_suffix(func: &str, marker: &str) -> bool {
    func.rfind(marker).is_some_and(|i| {
        let digits = func.get(i + marker.len()..).unwrap_or("");
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

/// The sites of one stack.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sites {
    /// Innermost frame outside the runtime: where the goroutine waits (`time.Sleep`,
    /// `main.waitForRelease`, `sync.(*Cond).Wait`).
    pub wait: Option<FrameId>,
    /// Innermost frame outside the standard library: the code its owner would change.
    pub user: Option<FrameId>,
    /// Outermost frame that is code, not machinery: the function the goroutine started in.
    pub start: Option<FrameId>,
    /// Outermost frame outside the standard library: where the program's own code was entered
    /// (the handler of a request goroutine, which `start` — `net/http.(*conn).serve` — hides).
    pub entry: Option<FrameId>,
}

impl Sites {
    /// Computes the sites of `stack`.
    pub fn of(capture: &Capture, stack: StackId) -> Self {
        let frames = capture.tables.stack(stack);
        let func = |f: &FrameId| capture.func_name(*f);
        let wait = frames.iter().find(|f| !funcname::is_runtime(func(f)) && !is_wrapper(func(f))).copied();
        let user =
            frames.iter().find(|f| !funcname::is_standard_library(func(f)) && !is_wrapper(func(f))).copied();
        let start = frames.iter().rev().find(|f| !is_wrapper(func(f))).copied();
        let entry = frames
            .iter()
            .rev()
            .find(|f| !funcname::is_standard_library(func(f)) && !is_wrapper(func(f)))
            .copied();
        Self { wait: wait.or_else(|| frames.first().copied()), user, start, entry }
    }
}

/// A goroutine family's identity as text, comparable across captures and formats.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SiteKey {
    /// The creating function (`created by F`), where the capture records it.
    pub creator: Option<String>,
    /// The function the goroutine started in.
    pub start: String,
    /// Where it waits.
    pub wait: String,
    /// Innermost user frame.
    pub user: String,
    /// Every frame outside the standard library, innermost first: the program's own call path
    /// to the wait. Two requests stuck at the same place through different handlers are
    /// different families.
    pub user_path: Vec<String>,
}

impl SiteKey {
    /// The key of a stack and creation site in `capture`.
    pub fn new(capture: &Capture, stack: StackId, created_by: Option<FrameId>) -> Self {
        let sites = Sites::of(capture, stack);
        let name = |f: Option<FrameId>| f.map(|f| capture.func_name(f).to_owned()).unwrap_or_default();
        Self {
            creator: created_by.map(|f| capture.func_name(f).to_owned()),
            start: name(sites.start),
            wait: name(sites.wait),
            user: name(sites.user),
            user_path: capture
                .stack_funcs(stack)
                .filter(|f| !funcname::is_standard_library(f) && !is_wrapper(f))
                .map(str::to_owned)
                .collect(),
        }
    }

    /// The same key without the creator, for matching a capture that records creators (a dump)
    /// against one that doesn't (a profile).
    #[must_use]
    pub fn without_creator(&self) -> Self {
        Self { creator: None, ..self.clone() }
    }

    /// The handler the program's code was entered through: the outermost frame of the user
    /// path that is not a closure, so that middleware closures (`countRequests.func1`) wrapped
    /// around a handler don't hide it.
    pub fn entry(&self) -> Option<&str> {
        let is_closure = |f: &str| {
            f.rsplit_once(".func").is_some_and(|(_, n)| n.chars().all(|c| c.is_ascii_digit() || c == '.'))
        };
        self.user_path
            .iter()
            .rev()
            .find(|f| !is_closure(f))
            .or_else(|| self.user_path.last())
            .map(String::as_str)
    }

    /// Where the family waits, for people: `time.Sleep in main.refreshCacheLater`.
    pub fn wait_site(&self) -> String {
        self.without_creator().describe()
    }

    /// A short description for people: `main.waitForRelease, created by main.handler`.
    pub fn describe(&self) -> String {
        let mut at = if self.user.is_empty() || self.user == self.wait {
            self.wait.clone()
        } else {
            format!("{} in {}", self.wait, self.user)
        };
        if let Some(entry) = self.entry()
            && entry != self.user
        {
            at.push_str(" (entered through ");
            at.push_str(entry);
            at.push(')');
        }
        match &self.creator {
            Some(c) => format!("{at}, created by {c}"),
            None => at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers() {
        assert!(is_wrapper("runtime.goexit"));
        assert!(is_wrapper("main.runTiny.gowrap12"));
        assert!(is_wrapper("net/http.(*connReader).startBackgroundRead.gowrap2"));
        assert!(is_wrapper("main.f.deferwrap1"));
        assert!(!is_wrapper("main.gowrapper"));
        assert!(!is_wrapper("main.gowrap"));
    }
}

/// One family's goroutines in one capture: a group of live goroutines and its key.
#[derive(Clone, Debug)]
pub struct FamilyGroup {
    /// The family.
    pub key: SiteKey,
    /// The capture's group, its members and count cut down to goroutines alive at the end.
    pub group: Group,
}

/// Whether a capture records goroutines over time (an execution trace): then goroutines that
/// existed before the capture began have no recorded creator, and families are keyed by the
/// function goroutines start in, so that old and new goroutines of one family meet.
pub fn records_lifetimes(capture: &Capture) -> bool {
    capture.time_range_ns.is_some() && capture.tasks.iter().any(|t| t.intervals.len > 0)
}

/// The capture's groups of goroutines alive at its end, each with its family key. Goroutines
/// that ended within the capture (a trace) are left out: they leak nothing.
pub fn family_groups(capture: &Capture) -> Vec<FamilyGroup> {
    let lifetimes = records_lifetimes(capture);
    // Only captures that record time (traces) have goroutines that ended; dumps skip the filter.
    let any_ended = capture.tasks.iter().any(|t| t.flags.contains(TaskFlags::ENDED));
    // A bit a task, read in one pass in order: looked up member by member, each packed row was
    // decoded alone, 60 ms for a trace of 4 million goroutines against 12 for the pass.
    let mut ended = Vec::new();
    if any_ended {
        ended = vec![0u64; capture.tasks.len().div_ceil(64)];
        for (i, t) in capture.tasks.enumerate() {
            if t.flags.contains(TaskFlags::ENDED)
                && let Some(bits) = ended.get_mut(i / 64)
            {
                *bits |= 1 << (i % 64);
            }
        }
    }
    let has_ended = |i: u32| ended.get(i as usize / 64).is_some_and(|bits| bits >> (i % 64) & 1 == 1);
    let mut out = Vec::new();
    for mut group in capture.groups() {
        if any_ended && !group.members.is_empty() {
            let before = group.members.len();
            group.members.retain(|&i| (i as usize) < capture.tasks.len() && !has_ended(i));
            if group.members.is_empty() {
                continue;
            }
            if group.members.len() != before {
                group.count = group.members.len() as u64;
            }
        }
        if group.count == 0 {
            continue;
        }
        let mut key = SiteKey::new(capture, group.stack, group.created_by);
        if lifetimes {
            key.creator = None;
            let start =
                group.members.first().and_then(|&i| capture.tasks.get(i as usize)).and_then(|t| t.start_func);
            if let Some(f) = start {
                capture.func_name(f).clone_into(&mut key.start);
            }
        }
        out.push(FamilyGroup { key, group });
    }
    out
}

/// Whether creators can be used to tell families apart: only when both sides record them for
/// every goroutine (profiles record none; traces none for goroutines older than the trace).
pub fn both_record_creators(a: &Capture, b: &Capture) -> bool {
    let records = |c: &Capture| !records_lifetimes(c) && c.tasks.iter().any(|t| t.created_by.is_some());
    records(a) && records(b)
}

/// Goroutine counts per family of one capture, with a representative stack each.
pub fn family_counts(capture: &Capture, with_creator: bool) -> BTreeMap<SiteKey, (u64, StackId)> {
    let mut out: BTreeMap<SiteKey, (u64, StackId)> = BTreeMap::new();
    for FamilyGroup { key, group } in family_groups(capture) {
        let key = if with_creator { key } else { key.without_creator() };
        let entry = out.entry(key).or_insert((0, group.stack));
        entry.0 += group.count;
    }
    out
}
