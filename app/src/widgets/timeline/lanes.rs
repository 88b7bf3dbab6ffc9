//! What the host passes the timeline: a list of [`Lane`]s, task lanes and header rows in the
//! order to show them, so that grouping and filtering happen once per change, not per frame.

use leakscope_core::analysis::wait_ages::WaitAges;
use leakscope_core::model::{Capture, Group, IntervalRange, Intervals};

use super::{HEADER_H, LANE_PAD, ROW_H};
use crate::widgets::format;

/// One row of the timeline: a header (group title) or a lane of intervals.
#[derive(Clone, Debug, PartialEq)]
pub enum Lane {
    /// A group header, e.g. a creation site with its count.
    Header {
        /// The header text.
        title: String,
        /// Whether the group's lanes are folded away (a click on the header asks the host to
        /// fold or unfold it); `None` for a header that does not fold.
        folded: Option<bool>,
    },
    /// A lane of intervals.
    Rows {
        /// Shown in the label column.
        label: String,
        /// The lane's intervals, sorted by (depth, start), non-overlapping per depth.
        range: IntervalRange,
        /// Number of depth rows (the deepest interval's depth + 1).
        depths: u16,
        /// The task the lane shows, for links and for the host; `None` for synthetic lanes.
        task: Option<u32>,
    },
}

impl Lane {
    /// A header row.
    pub fn header(title: impl Into<String>) -> Self {
        Lane::Header { title: title.into(), folded: None }
    }

    /// The header of a group the user can fold: clicking it is reported in
    /// [`TimelineResponse::clicked`](super::TimelineResponse) as a hit on this lane with no
    /// task, and the host leaves the group's lanes out (or puts them back).
    pub fn group_header(title: impl Into<String>, folded: bool) -> Self {
        Lane::Header { title: title.into(), folded: Some(folded) }
    }

    /// A lane over a range of `intervals`.
    pub fn rows(
        label: impl Into<String>,
        range: IntervalRange,
        intervals: &Intervals,
        task: Option<u32>,
    ) -> Self {
        // Sorted by depth first, so the last interval is the deepest.
        let depths = range
            .len
            .checked_sub(1)
            .map_or(1, |last| intervals.depth(range.start as usize + last as usize).saturating_add(1));
        Lane::Rows { label: label.into(), range, depths, task }
    }

    /// The lane of task `task` of `capture` (its own intervals).
    pub fn task(capture: &Capture, task: u32, label: impl Into<String>) -> Self {
        let range = capture.tasks.get(task as usize).map(|t| t.intervals).unwrap_or_default();
        Self::rows(label, range, &capture.intervals, Some(task))
    }

    /// One lane per group of a dump, over [`WaitAges`] from
    /// `leakscope_core::analysis::wait_ages::wait_ages(capture, groups)`: "40 × chan receive ·
    /// main.wait".
    pub fn wait_age_lanes(capture: &Capture, groups: &[Group], ages: &WaitAges) -> Vec<Lane> {
        ages.lanes
            .iter()
            .map(|lane| {
                let label = groups.get(lane.group).map_or_else(String::new, |g| {
                    let state = g.state.map_or(g.wait_kind.name(), |s| capture.str(s));
                    let func = capture
                        .user_frame(g.stack)
                        .map_or("?", |f| leakscope_core::model::funcname::display_name(capture.func_name(f)));
                    format!("{} × {state} · {func}", format::count(g.count as i64))
                });
                Self::rows(label, lane.range, &ages.intervals, None)
            })
            .collect()
    }

    /// Height on screen, points.
    pub(super) fn height(&self) -> f32 {
        match self {
            Lane::Header { .. } => HEADER_H,
            Lane::Rows { depths, .. } => f32::from((*depths).max(1)) * ROW_H + LANE_PAD,
        }
    }
}

/// The sub-range of `from..to` at `depth` (the lane is sorted by depth first).
pub(super) fn depth_range(iv: &Intervals, from: usize, to: usize, depth: u16) -> (usize, usize) {
    if from >= to || to > iv.len() {
        return (from, from);
    }
    if iv.depth(from) == depth && iv.depth(to - 1) == depth {
        return (from, to);
    }
    (
        iv.partition_point(from..to, |i| iv.depth(i) < depth),
        iv.partition_point(from..to, |i| iv.depth(i) <= depth),
    )
}

#[cfg(test)]
mod tests {
    use leakscope_core::model::IntervalKind;

    use super::*;

    #[test]
    fn depth_ranges_split_a_lane() {
        let iv: Intervals = [(0, 0), (0, 10), (1, 2), (1, 5), (2, 3)]
            .into_iter()
            .map(|(depth, start_ns)| leakscope_core::model::Interval {
                start_ns,
                end_ns: start_ns + 1,
                kind: IntervalKind::Span,
                depth,
                ..Default::default()
            })
            .collect();
        assert_eq!(depth_range(&iv, 0, 5, 0), (0, 2));
        assert_eq!(depth_range(&iv, 0, 5, 1), (2, 4));
        assert_eq!(depth_range(&iv, 0, 5, 2), (4, 5));
        assert_eq!(depth_range(&iv, 0, 5, 3), (5, 5));
        let lane = Lane::rows("x", IntervalRange { start: 0, len: 5 }, &iv, None);
        assert!(matches!(lane, Lane::Rows { depths: 3, .. }));
    }
}
