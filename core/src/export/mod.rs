//! Writing a goroutine capture back out for other tools: a pprof goroutine profile
//! (`go tool pprof`, continuous profilers), folded stacks (inferno, flamegraph.pl) and a
//! standalone flamegraph SVG. Any capture that holds goroutines can be written: a dump, a
//! `debug=1` or pprof goroutine profile, or an execution trace (the goroutines alive at its end).

mod folded;
mod pprof;
mod svg;

pub use folded::to_folded;
pub use pprof::{to_pprof, to_pprof_gz};
pub use svg::{to_svg, tree_svg};

use hashbrown::HashMap;

use crate::model::{Capture, LabelSetId, StackId, StrId, TaskFlags, TaskKind};

/// Label key for the state a dump prints (`chan receive`).
pub const STATE_LABEL: &str = "state";
/// Numeric label key for the whole minutes a goroutine has waited, where the dump prints them.
pub const WAIT_LABEL: &str = "wait";
/// Unit of [`WAIT_LABEL`].
pub const WAIT_UNIT: &str = "minutes";
/// Label key set to `true` on goroutines the runtime marked leaked.
pub const LEAKED_LABEL: &str = "leaked";

/// Goroutines sharing a stack and labels: one sample of the exported profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSample {
    /// The stack, innermost frame first.
    pub stack: StackId,
    /// The goroutine's pprof labels.
    pub labels: LabelSetId,
    /// The state as the capture prints it, or empty.
    pub state: StrId,
    /// Whole minutes waited, where the capture prints them.
    pub wait_minutes: Option<i64>,
    /// The runtime marked them leaked.
    pub leaked: bool,
    /// How many goroutines.
    pub count: i64,
}

/// The goroutines of a capture as samples, in a stable order (by stack, then labels, state and
/// wait); empty when the capture holds no goroutines.
pub fn samples(capture: &Capture) -> Vec<ExportSample> {
    type Key = (StackId, LabelSetId, StrId, Option<i64>, bool);
    let mut sums: HashMap<Key, i64> = HashMap::new();
    if capture.tasks.is_empty() {
        if capture.is_goroutine_count_profile() {
            let leaked = capture.is_leak_profile();
            for (i, &stack) in capture.samples.stack.iter().enumerate() {
                let labels = capture.samples.labels.get(i).copied().unwrap_or_default();
                *sums.entry((stack, labels, StrId::EMPTY, None, leaked)).or_insert(0) +=
                    capture.samples.value(i, 0);
            }
        }
    } else {
        // A trace lists goroutines that ended before its end: they are not in the profile a
        // program would have written then.
        for task in capture.tasks.iter().filter(|t| t.kind == TaskKind::Goroutine && t.end_ns.is_none()) {
            let wait = task.wait_ns.get().map(|ns| ns / 60_000_000_000);
            let key = (task.stack, task.labels, task.state, wait, task.flags.contains(TaskFlags::LEAKED));
            *sums.entry(key).or_insert(0) += 1;
        }
    }
    let mut out: Vec<ExportSample> = sums
        .into_iter()
        .map(|((stack, labels, state, wait_minutes, leaked), count)| ExportSample {
            stack,
            labels,
            state,
            wait_minutes,
            leaked,
            count,
        })
        .collect();
    out.sort_unstable_by_key(|s| (s.stack, s.labels, s.state, s.wait_minutes, s.leaked));
    out
}
