//! Before and after: two captures of the same program (any mix of dump, `debug=1` text and
//! pprof goroutine profile) compared group by group, and a series of captures followed over
//! time. Groups are matched by creation site and wait site as text ([`SiteKey`]), never by ids.

use hashbrown::HashMap;

use crate::analysis::flame::{FlameTree, goroutine_stacks, sample_stacks};
use crate::analysis::flame_locations::FlameLocations;
use crate::analysis::sites::{SiteKey, both_record_creators, family_counts};
use crate::analysis::top::top_column;
use crate::format::ValueUnit;
use crate::model::{Capture, StackId};

/// One goroutine family before and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDiff {
    /// The family's sites.
    pub key: SiteKey,
    /// Goroutines in the earlier capture.
    pub before: u64,
    /// Goroutines in the later capture.
    pub after: u64,
    /// A representative stack from the later capture (or the earlier one if gone).
    pub stack: Option<(Side, StackId)>,
}

/// Which capture a stack id belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The earlier capture.
    Before,
    /// The later capture.
    After,
}

impl GroupDiff {
    /// `after - before`.
    pub fn delta(&self) -> i64 {
        self.after as i64 - self.before as i64
    }

    /// Whether the family is new, grew, shrank, is gone or stayed.
    pub fn change(&self) -> Change {
        match (self.before, self.after) {
            (0, a) if a > 0 => Change::New,
            (b, 0) if b > 0 => Change::Gone,
            (b, a) if a > b => Change::Grew,
            (b, a) if a < b => Change::Shrank,
            _ => Change::Same,
        }
    }
}

/// How a family changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Absent before.
    New,
    /// More after.
    Grew,
    /// Fewer after.
    Shrank,
    /// Absent after.
    Gone,
    /// Same count.
    Same,
}

/// Two captures compared.
#[derive(Clone, Debug)]
pub struct CaptureDiff {
    /// Families sorted by growth (largest delta first), then by key.
    pub groups: Vec<GroupDiff>,
    /// Total goroutines before.
    pub before_total: u64,
    /// Total goroutines after.
    pub after_total: u64,
    /// Merged goroutine stacks with `total` = after and `baseline_total` = before.
    pub flame: FlameTree,
    /// For two sampled profiles that count no goroutines (CPU, heap): their diff.
    pub profile: Option<ProfileDiff>,
}

/// Compares `before` with `after`.
pub fn diff(before: &Capture, after: &Capture) -> CaptureDiff {
    let with_creator = both_record_creators(before, after);
    let b = family_counts(before, with_creator);
    let a = family_counts(after, with_creator);
    let mut groups: Vec<GroupDiff> = Vec::new();
    for (key, &(count, stack)) in &a {
        let before_count = b.get(key).map_or(0, |e| e.0);
        groups.push(GroupDiff {
            key: key.clone(),
            before: before_count,
            after: count,
            stack: Some((Side::After, stack)),
        });
    }
    for (key, &(count, stack)) in &b {
        if !a.contains_key(key) {
            groups.push(GroupDiff {
                key: key.clone(),
                before: count,
                after: 0,
                stack: Some((Side::Before, stack)),
            });
        }
    }
    groups.sort_by(|x, y| {
        y.delta().cmp(&x.delta()).then_with(|| y.after.cmp(&x.after)).then_with(|| x.key.cmp(&y.key))
    });
    let flame = FlameTree::diff(
        (after, &mut goroutine_stacks(after).into_iter()),
        (before, &mut goroutine_stacks(before).into_iter()),
    );
    let profile = profile_diff(before, after);
    CaptureDiff { groups, before_total: before.task_count(), after_total: after.task_count(), flame, profile }
}

/// Two sampled profiles (CPU, heap) compared by one column, as `go tool pprof -diff_base`
/// shows them: the diff tree with absolute values, and with the base scaled so both totals
/// match (`-normalize`), which shows where the shape changed rather than how much ran.
#[derive(Clone, Debug)]
pub struct ProfileDiff {
    /// The column compared (`inuse_space` for heap profiles, else the after profile's default).
    pub sample_type: String,
    /// Its unit, for labels.
    pub unit: ValueUnit,
    /// The column's total in the earlier profile.
    pub before_total: i64,
    /// The column's total in the later profile.
    pub after_total: i64,
    /// The diff tree with the values as recorded.
    pub absolute: FlameTree,
    /// The diff tree with the earlier profile scaled by `after_total / before_total`.
    pub normalized: FlameTree,
    /// Where each node of the trees is in the code (both trees have the same nodes).
    pub locations: FlameLocations,
}

/// The profile diff of two captures that count no goroutines, where both have the column.
pub fn profile_diff(before: &Capture, after: &Capture) -> Option<ProfileDiff> {
    let counts_goroutines = |c: &Capture| !c.tasks.is_empty() || c.is_goroutine_count_profile();
    if counts_goroutines(before)
        || counts_goroutines(after)
        || before.samples.is_empty()
        || after.samples.is_empty()
    {
        return None;
    }
    let a_col = top_column(after);
    let ty = after.samples.types.get(a_col)?;
    let name = after.str(ty.kind).to_owned();
    let b_col = before.samples.types.iter().position(|t| before.str(t.kind) == name)?;
    let a_stacks = sample_stacks(after, a_col);
    let b_stacks = sample_stacks(before, b_col);
    let total = |s: &[(StackId, i64)]| s.iter().fold(0i64, |t, &(_, v)| t.saturating_add(v));
    let (before_total, after_total) = (total(&b_stacks), total(&a_stacks));
    let absolute =
        FlameTree::diff((after, &mut a_stacks.iter().copied()), (before, &mut b_stacks.iter().copied()));
    let scale = if before_total > 0 { after_total as f64 / before_total as f64 } else { 1.0 };
    let scaled: Vec<(StackId, i64)> =
        b_stacks.iter().map(|&(s, v)| (s, (v as f64 * scale).round() as i64)).collect();
    let normalized =
        FlameTree::diff((after, &mut a_stacks.iter().copied()), (before, &mut scaled.iter().copied()));
    let locations = FlameLocations::from_diff(
        &absolute,
        (after, &mut a_stacks.iter().copied()),
        (before, &mut b_stacks.iter().copied()),
    );
    Some(ProfileDiff {
        unit: ValueUnit::from_pprof(&name, after.str(ty.unit)),
        sample_type: name,
        before_total,
        after_total,
        absolute,
        normalized,
        locations,
    })
}

/// One family followed over a series of captures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeriesGroup {
    /// The family's sites.
    pub key: SiteKey,
    /// Its count in each capture, oldest first (0 where absent).
    pub counts: Vec<u64>,
}

impl SeriesGroup {
    /// Whether the count never fell and rose overall: the shape of a leak.
    pub fn only_grows(&self) -> bool {
        let rising = self.counts.windows(2).all(|w| w.first() <= w.get(1));
        rising && self.counts.last() > self.counts.first()
    }
}

/// Follows every family across `captures` (oldest first); sorted by final count, largest first.
pub fn series(captures: &[&Capture]) -> Vec<SeriesGroup> {
    let with_creator = captures.windows(2).all(|w| match w {
        [a, b] => both_record_creators(a, b),
        _ => true,
    });
    let mut table: HashMap<SiteKey, Vec<u64>> = HashMap::new();
    for (i, capture) in captures.iter().enumerate() {
        for (key, (count, _)) in family_counts(capture, with_creator) {
            let row = table.entry(key).or_insert_with(|| vec![0; captures.len()]);
            if let Some(slot) = row.get_mut(i) {
                *slot += count;
            }
        }
    }
    let mut out: Vec<SeriesGroup> =
        table.into_iter().map(|(key, counts)| SeriesGroup { key, counts }).collect();
    out.sort_by(|a, b| b.counts.last().cmp(&a.counts.last()).then_with(|| a.key.cmp(&b.key)));
    out
}
