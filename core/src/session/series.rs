//! Which captures of a session are snapshots of one program over time (a series), and in which
//! order. Growth is only meaningful between snapshots of the same kind of one program: a
//! goroutine dump after a goroutine profile of the same service is a series; a dump of another
//! program, or a CPU profile, is not.
//!
//! Same program is decided from content: the program's own functions (outside the standard
//! library) mostly overlap. Oldest first is decided from content where the captures say it (a
//! pprof profile's time stamp; goroutine ids, which a Go process hands out in increasing order,
//! where the captures are of one process), else from the order given. An explicit baseline is
//! always the oldest and is not second-guessed.

use hashbrown::HashSet;

use crate::analysis::sites::is_wrapper;
use crate::model::{Capture, FormatKind, TaskFlags, TaskKind, funcname};

/// What a snapshot counts; only captures of one class form a series.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SeriesClass {
    /// Every goroutine: dumps, goroutine profiles, the goroutines of an execution trace.
    Goroutines,
    /// The goroutines the Go runtime proved leaked (`goroutineleak` profiles).
    GoroutineLeak,
    /// Another pprof profile type (`heap`, `allocs`, `cpu`, ...): series of the same type.
    Profile(String),
    /// Anything else (Chrome traces, DevTools profiles): never part of a series.
    Alone,
}

impl SeriesClass {
    /// Its name in the report: `goroutines`, `goroutineleak`, the profile type, or `alone`.
    pub fn name(&self) -> String {
        match self {
            SeriesClass::Goroutines => "goroutines".to_owned(),
            SeriesClass::GoroutineLeak => "goroutineleak".to_owned(),
            SeriesClass::Profile(p) => p.clone(),
            SeriesClass::Alone => "alone".to_owned(),
        }
    }

    /// The class of `capture`.
    pub fn of(capture: &Capture) -> Self {
        let format = capture.source.format;
        match capture.source.profile_type.as_deref() {
            Some("goroutineleak") => SeriesClass::GoroutineLeak,
            Some("goroutine") => SeriesClass::Goroutines,
            Some(other) => SeriesClass::Profile(other.to_owned()),
            None => match format {
                Some(
                    FormatKind::GoGoroutineDump
                    | FormatKind::GoExecutionTrace
                    | FormatKind::GoGoroutineProfileText,
                ) => SeriesClass::Goroutines,
                _ => SeriesClass::Alone,
            },
        }
    }
}

/// Captures of one program and class, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Series {
    /// What the snapshots count.
    pub class: SeriesClass,
    /// Indices into the session's captures, oldest first.
    pub members: Vec<usize>,
    /// How the order was decided, for people ("by goroutine ids", "as given").
    pub order: SeriesOrder,
}

/// How a series' order was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeriesOrder {
    /// The order the files were given in (a baseline first).
    AsGiven,
    /// The time stamps the captures carry.
    ByTimestamp,
    /// The captures are of one process, and a Go process hands out goroutine ids in increasing
    /// order: the capture with the higher ids is the later one.
    ByGoroutineIds,
}

impl SeriesOrder {
    /// For people.
    pub fn describe(self) -> &'static str {
        match self {
            SeriesOrder::AsGiven => "in the order given",
            SeriesOrder::ByTimestamp => "by the time each capture was taken",
            SeriesOrder::ByGoroutineIds => "by goroutine ids (one process; later goroutines have higher ids)",
        }
    }
}

/// The program's own functions in a capture: the names of frames outside the standard library,
/// without call machinery and `main.main`, which every Go program has.
pub(super) fn program_functions(capture: &Capture) -> HashSet<String> {
    capture
        .tables
        .frame_ids()
        .map(|f| capture.func_name(f))
        .filter(|f| !f.is_empty() && !funcname::is_standard_library(f) && !is_wrapper(f) && *f != "main.main")
        .map(str::to_owned)
        .collect()
}

/// Whether two captures are of one program: most of the smaller one's own functions appear in
/// the other. A capture without functions of its own (a tiny program, a profile of the
/// runtime only) can't tell and is taken to match.
pub(super) fn same_program(a: &HashSet<String>, b: &HashSet<String>) -> bool {
    let smaller = a.len().min(b.len());
    if smaller == 0 {
        return true;
    }
    let shared = a.iter().filter(|f| b.contains(*f)).count();
    shared * 2 >= smaller
}

/// What a capture says about when it was taken in its process: the time stamp, and its
/// goroutines' ids.
pub(super) struct Clock {
    captured_at_ns: Option<i64>,
    /// The highest goroutine id.
    max_id: Option<u64>,
    /// The lowest-numbered goroutines that started in the program's own code, with the
    /// function each started in: the process's startup goroutines, which outlive every request
    /// and so appear with the same ids in every dump of one process.
    startup: Vec<(u64, String)>,
}

/// How many of the lowest-numbered goroutines identify a process.
const STARTUP_GOROUTINES: usize = 8;

impl Clock {
    pub(super) fn of(capture: &Capture) -> Self {
        // The lowest ids only, kept in a small max-heap: a capture can hold millions of
        // goroutines, and naming each (a String apiece) only to keep eight cost more memory
        // than the file on a goroutine-dense trace.
        let mut lowest: std::collections::BinaryHeap<(u64, &str)> =
            std::collections::BinaryHeap::with_capacity(STARTUP_GOROUTINES + 1);
        // The highest id is found in the same pass: a pass over millions of packed tasks
        // costs more than what it does with each.
        let mut max_id = None;
        for t in &capture.tasks {
            if t.kind != TaskKind::Goroutine {
                continue;
            }
            max_id = max_id.max(Some(t.id));
            if t.flags.contains(TaskFlags::SYSTEM) {
                continue;
            }
            if lowest.len() == STARTUP_GOROUTINES && lowest.peek().is_some_and(|&(top, _)| t.id > top) {
                continue;
            }
            let start = t
                .start_func
                .map(|f| capture.func_name(f))
                .or_else(|| {
                    let frames = capture.tables.stack(t.stack);
                    frames.iter().rev().map(|&f| capture.func_name(f)).find(|f| !is_wrapper(f))
                })
                .unwrap_or_default();
            // Goroutines every Go program starts (runtime.main, os/signal's loop) say
            // nothing about which process this is.
            if funcname::is_standard_library(start) {
                continue;
            }
            lowest.push((t.id, start));
            if lowest.len() > STARTUP_GOROUTINES {
                lowest.pop();
            }
        }
        let ids: Vec<(u64, String)> =
            lowest.into_sorted_vec().into_iter().map(|(id, start)| (id, start.to_owned())).collect();
        Self { captured_at_ns: capture.source.captured_at_ns, max_id, startup: ids }
    }

    /// Whether two dumps are of one process: most startup goroutines have the same id and
    /// start function in both.
    fn same_process(&self, other: &Clock) -> bool {
        let smaller = self.startup.len().min(other.startup.len());
        if smaller < 2 {
            return false;
        }
        let shared = self.startup.iter().filter(|g| other.startup.contains(g)).count();
        shared * 2 > smaller
    }
}

/// Orders `members` (capture indices in the order given, baselines first) oldest first.
/// `fixed` members (baselines) keep their place at the front.
pub(super) fn order(members: &mut [usize], fixed: usize, clocks: &[Clock]) -> SeriesOrder {
    let Some(free) = members.get_mut(fixed..) else { return SeriesOrder::AsGiven };
    if free.len() < 2 {
        return SeriesOrder::AsGiven;
    }
    let clock = |i: usize| clocks.get(i);
    let stamps: Option<Vec<i64>> = free.iter().map(|&i| clock(i).and_then(|c| c.captured_at_ns)).collect();
    if let Some(stamps) = stamps {
        let sorted = stamps.windows(2).all(|w| w.first() <= w.get(1));
        if !sorted {
            free.sort_by_key(|&i| clock(i).and_then(|c| c.captured_at_ns));
        }
        return SeriesOrder::ByTimestamp;
    }
    let one_process = free
        .iter()
        .all(|&i| free.first().and_then(|&f| clock(f)).zip(clock(i)).is_some_and(|(a, b)| a.same_process(b)));
    let ids: Option<Vec<u64>> = free.iter().map(|&i| clock(i).and_then(|c| c.max_id)).collect();
    match ids {
        Some(ids) if one_process => {
            if !ids.windows(2).all(|w| w.first() <= w.get(1)) {
                free.sort_by_key(|&i| clock(i).and_then(|c| c.max_id));
            }
            SeriesOrder::ByGoroutineIds
        }
        _ => SeriesOrder::AsGiven,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> HashSet<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn programs_match_by_their_own_functions() {
        let a = set(&["main.serve", "main.worker", "main.(*Hub).run", "main.waitForRelease"]);
        let b = set(&["main.serve", "main.worker", "main.(*Hub).run", "main.refresh"]);
        let other = set(&["main.run", "github.com/x/y.Loop"]);
        assert!(same_program(&a, &b));
        assert!(!same_program(&a, &other));
        assert!(same_program(&a, &set(&[])));
    }

    fn clock(at: Option<i64>, max: u64, startup: &[(u64, &str)]) -> Clock {
        Clock {
            captured_at_ns: at,
            max_id: Some(max),
            startup: startup.iter().map(|(i, s)| (*i, (*s).to_owned())).collect(),
        }
    }

    #[test]
    fn one_process_is_ordered_by_goroutine_ids() {
        let boot = [(4, "main.pool"), (6, "main.accept"), (7, "main.flush")];
        let clocks = [clock(None, 900, &boot), clock(None, 120, &boot)];
        let mut members = vec![0, 1];
        assert_eq!(order(&mut members, 0, &clocks), SeriesOrder::ByGoroutineIds);
        assert_eq!(members, vec![1, 0]);
    }

    #[test]
    fn different_processes_keep_the_given_order() {
        let clocks = [
            clock(None, 900, &[(4, "main.pool"), (6, "main.accept")]),
            clock(None, 120, &[(4, "main.pool"), (9, "main.other")]),
        ];
        let mut members = vec![0, 1];
        assert_eq!(order(&mut members, 0, &clocks), SeriesOrder::AsGiven);
        assert_eq!(members, vec![0, 1]);
    }

    #[test]
    fn time_stamps_win_and_baselines_stay_first() {
        let clocks = [clock(Some(5), 1, &[]), clock(Some(30), 1, &[]), clock(Some(20), 1, &[])];
        let mut members = vec![0, 1, 2];
        assert_eq!(order(&mut members, 1, &clocks), SeriesOrder::ByTimestamp);
        assert_eq!(members, vec![0, 2, 1]);
    }
}
