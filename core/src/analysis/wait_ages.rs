//! Timeline data for captures that record no intervals. A goroutine dump says how long each
//! parked goroutine has waited ("[chan receive, 12 minutes]"); drawn as bars ending at capture
//! time, those ages show at a glance which groups piled up early and never moved. The bars are
//! ordinary [`Intervals`] ([`IntervalKind::Waiting`]), so the same timeline widget that draws a
//! trace's per-goroutine lanes draws them.
//!
//! One lane per group (in the order given, normally [`Capture::groups`]). A group's members
//! waited different times, so its bar is a staircase of intervals at depth 0: from the oldest
//! member's wait to the next, and so on up to capture time, each labelled with how many members
//! have waited at least that long. The bar's length is the oldest member's age; hovering a step
//! tells how many are that old.
//!
//! Dumps print whole minutes, and only from one minute on: a parked goroutine without minutes
//! waited less than a minute. Such groups get a one-minute bar labelled "< 1 min"; groups that
//! are not waiting at all (running, runnable, in a syscall) get the same stub in their own state
//! colour, so every group has a lane.

use crate::model::{
    Capture, Group, Interval, IntervalKind, IntervalRange, Intervals, StackId, StrId, Strings, WaitKind,
};

/// One minute, the resolution of a dump's wait times.
pub const MINUTE_NS: i64 = 60_000_000_000;

/// The intervals of one lane (one group).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgeLane {
    /// Index of the group in the slice given to [`wait_ages`].
    pub group: usize,
    /// The lane's intervals in [`WaitAges::intervals`].
    pub range: IntervalRange,
    /// The oldest member's wait (the bar's length), 0 when unknown.
    pub oldest_ns: i64,
}

/// Wait-age bars of a dump's groups.
#[derive(Clone, Debug, Default)]
pub struct WaitAges {
    /// The bars: each lane's range is sorted by start and does not overlap (depth 0 only).
    /// Labels are ids into [`WaitAges::labels`]; stacks are the capture's own.
    pub intervals: Intervals,
    /// Interval labels ("12 of 40 goroutines waiting ≥ 7 min").
    pub labels: Strings,
    /// One lane per group, in the order of the groups given.
    pub lanes: Vec<AgeLane>,
    /// Capture time: every bar ends here. The dump's wall-clock time where it states one, else 0.
    pub capture_ns: i64,
    /// From the oldest bar's start to capture time.
    pub time_range_ns: (i64, i64),
}

/// Wait-age bars for `groups` of `capture` (normally `capture.groups()`). Captures without
/// per-goroutine tasks (count profiles) record no waits: their lanes are empty.
pub fn wait_ages(capture: &Capture, groups: &[Group]) -> WaitAges {
    let capture_ns = capture.source.captured_at_ns.unwrap_or(0);
    let mut out = WaitAges { capture_ns, ..WaitAges::default() };
    let mut waits: Vec<i64> = Vec::new();
    let mut oldest_all = 0i64;
    let mut rows: Vec<Interval> = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        let first = rows.len() as u32;
        let mut oldest = 0i64;
        if !group.members.is_empty() {
            waits.clear();
            waits.extend(
                group
                    .members
                    .iter()
                    .filter_map(|&m| capture.tasks.get(m as usize))
                    .map(|t| t.wait_ns.get().unwrap_or(0).max(0)),
            );
            waits.sort_unstable();
            oldest = waits.last().copied().unwrap_or(0);
            let total = waits.len();
            if oldest == 0 {
                let kind = interval_kind(group.wait_kind);
                let label = if kind == IntervalKind::Waiting {
                    format!("{total} {} waiting < 1 min (dumps print whole minutes)", noun(total))
                } else {
                    format!("{total} {} {}, no wait recorded", noun(total), group.wait_kind.name())
                };
                let label = out.labels.intern(&label);
                rows.push(Interval {
                    start_ns: capture_ns - MINUTE_NS,
                    end_ns: capture_ns,
                    kind,
                    label,
                    stack: group.stack,
                    depth: 0,
                });
            } else {
                push_staircase(&mut rows, &mut out.labels, &waits, capture_ns, group.stack);
            }
        }
        oldest_all = oldest_all.max(oldest.max(MINUTE_NS * i64::from(!group.members.is_empty())));
        let len = rows.len() as u32 - first;
        out.lanes.push(AgeLane { group: g, range: IntervalRange { start: first, len }, oldest_ns: oldest });
    }
    out.time_range_ns = (capture_ns - oldest_all.max(MINUTE_NS), capture_ns);
    out.intervals = rows.into_iter().collect();
    out
}

/// Steps from the oldest wait up to capture time; `waits` ascending, the last > 0.
fn push_staircase(
    rows: &mut Vec<Interval>,
    labels: &mut Strings,
    waits: &[i64],
    capture_ns: i64,
    stack: StackId,
) {
    let total = waits.len();
    // Distinct waits, oldest first; each step runs from one wait to the next younger one.
    let mut distinct: Vec<i64> = waits.to_vec();
    distinct.dedup();
    distinct.reverse();
    for (k, &w) in distinct.iter().enumerate() {
        if w <= 0 {
            // Members without minutes waited under a minute; the step above reaches capture time.
            break;
        }
        let next = distinct.get(k + 1).copied().unwrap_or(0);
        // Members that have waited at least `w`.
        let at_least = total - waits.partition_point(|&x| x < w);
        let label = if at_least == total {
            format!("all {total} {} waiting ≥ {}", noun(total), minutes(w))
        } else {
            format!("{at_least} of {total} {} waiting ≥ {}", noun(total), minutes(w))
        };
        let label: StrId = labels.intern(&label);
        rows.push(Interval {
            start_ns: capture_ns - w,
            end_ns: capture_ns - next,
            kind: IntervalKind::Waiting,
            label,
            stack,
            depth: 0,
        });
    }
}

fn interval_kind(wait: WaitKind) -> IntervalKind {
    match wait {
        WaitKind::Running => IntervalKind::Running,
        WaitKind::Runnable => IntervalKind::Runnable,
        WaitKind::Syscall => IntervalKind::Syscall,
        _ => IntervalKind::Waiting,
    }
}

fn noun(n: usize) -> &'static str {
    if n == 1 { "goroutine" } else { "goroutines" }
}

fn minutes(ns: i64) -> String {
    let m = ns / MINUTE_NS;
    if m == 1 { "1 minute".to_owned() } else { format!("{m} minutes") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FormatKind, Frame, Task};

    fn dump(tasks: &[(&str, &str, Option<i64>)]) -> Capture {
        let mut c = Capture::new("t", FormatKind::GoGoroutineDump);
        c.source.captured_at_ns = Some(1_000 * MINUTE_NS);
        for (i, &(func, state, minutes)) in tasks.iter().enumerate() {
            let f = c.strings.intern(func);
            let frame = c.tables.frame_id(Frame { func: f, ..Frame::default() });
            let stack = c.tables.stack_id(&[frame]);
            let state = c.strings.intern(state);
            c.tasks.push(Task {
                id: i as u64 + 1,
                state,
                stack,
                wait_ns: crate::model::OptNs::from(minutes.map(|m| m * MINUTE_NS)),
                ..Task::default()
            });
        }
        c
    }

    #[test]
    fn staircase_ends_at_capture_time() {
        let c = dump(&[
            ("main.wait", "chan receive", Some(7)),
            ("main.wait", "chan receive", Some(3)),
            ("main.wait", "chan receive", Some(7)),
            ("main.wait", "chan receive", None),
            ("main.run", "running", None),
        ]);
        let groups = c.groups();
        let ages = wait_ages(&c, &groups);
        assert_eq!(ages.lanes.len(), groups.len());
        let t = ages.capture_ns;
        let lane = ages.lanes.iter().find(|l| groups[l.group].count == 4).unwrap();
        assert_eq!(lane.oldest_ns, 7 * MINUTE_NS);
        let steps: Vec<(i64, i64, &str)> = lane
            .range
            .indices()
            .map(|i| {
                let iv = &ages.intervals;
                ((iv.start(i) - t) / MINUTE_NS, (iv.end(i) - t) / MINUTE_NS, ages.labels.resolve(iv.label(i)))
            })
            .collect();
        assert_eq!(
            steps,
            [
                (-7, -3, "2 of 4 goroutines waiting ≥ 7 minutes"),
                (-3, 0, "3 of 4 goroutines waiting ≥ 3 minutes")
            ]
        );
        assert!(lane.range.indices().all(|i| ages.intervals.kind(i) == IntervalKind::Waiting));
        assert_eq!(ages.time_range_ns, (t - 7 * MINUTE_NS, t));

        let running = ages.lanes.iter().find(|l| groups[l.group].count == 1).unwrap();
        let i = running.range.start as usize;
        assert_eq!(ages.intervals.kind(i), IntervalKind::Running);
        assert_eq!(ages.intervals.end(i) - ages.intervals.start(i), MINUTE_NS);
    }

    #[test]
    fn profiles_have_empty_lanes() {
        let c = Capture::new("p", FormatKind::Pprof);
        let ages = wait_ages(&c, &[]);
        assert!(ages.lanes.is_empty());
        assert!(ages.intervals.is_empty());
    }
}
