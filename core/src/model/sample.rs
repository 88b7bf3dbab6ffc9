//! Sampled stacks: pprof profiles, trace CPU samples, DevTools CPU profiles. Columns, not rows,
//! so that a profile with a million samples is a few flat vectors.

use super::stack::{LabelSetId, StackId};
use super::strings::StrId;

/// What one value column of the samples measures (pprof `ValueType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SampleType {
    /// `goroutine`, `cpu`, `samples`, `alloc_space`, `contentions`, ...
    pub kind: StrId,
    /// `count`, `nanoseconds`, `bytes`, ...
    pub unit: StrId,
}

/// Sampled stacks with one value per sample type.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    /// Value columns.
    pub types: Vec<SampleType>,
    /// Index into `types` of the column views show first (pprof `default_sample_type`, else the
    /// last column, as `go tool pprof` does).
    pub default_type: usize,
    /// The sampling period (pprof `period`): for Go heap profiles the bytes between samples
    /// (`runtime.MemProfileRate`, 512 KiB by default), for CPU profiles the nanoseconds. Go's
    /// values are already scaled by it; rules read it to tell how many raw samples stand behind
    /// a value. 0 when the profile does not say.
    pub period: i64,
    /// Stack of each sample, innermost first.
    pub stack: Vec<StackId>,
    /// Values, `types.len()` per sample, row-major.
    pub values: Vec<i64>,
    /// Labels of each sample.
    pub labels: Vec<LabelSetId>,
    /// Time of each sample; empty when the format does not time samples.
    pub time_ns: Vec<i64>,
    /// Index of the task each sample was taken on; empty when unknown. [`Samples::NO_TASK`]
    /// marks a sample taken on no task (a trace's CPU sample outside any goroutine or proc).
    pub task: Vec<u32>,
}

impl Samples {
    /// The `task` of a sample taken on no task.
    pub const NO_TASK: u32 = u32::MAX;

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.stack.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.stack.is_empty()
    }

    /// The value of sample `i` in column `ty`; 0 out of range.
    pub fn value(&self, i: usize, ty: usize) -> i64 {
        let width = self.types.len();
        if ty >= width {
            return 0;
        }
        self.values.get(i * width + ty).copied().unwrap_or(0)
    }

    /// Sum of one column.
    pub fn total(&self, ty: usize) -> i64 {
        (0..self.len()).map(|i| self.value(i, ty)).fold(0i64, i64::saturating_add)
    }

    /// Appends one sample; `values` must have one entry per type (extra are dropped, missing
    /// read as 0).
    pub fn push(&mut self, stack: StackId, values: &[i64], labels: LabelSetId) {
        self.stack.push(stack);
        let width = self.types.len();
        self.values.extend((0..width).map(|i| values.get(i).copied().unwrap_or(0)));
        self.labels.push(labels);
    }
}
