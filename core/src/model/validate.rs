//! The model's invariants, checked in one place. Views and rules index the columns without
//! bounds checks of their own (a lane's intervals are a range, a link names two task indices),
//! so a parser that breaks one of these shows up as a wrong picture far from its cause. Tests,
//! property tests and fuzz targets of every format call [`Capture::validate`] on what the
//! parser returned, so the promise is written once and held by all.

use super::{Capture, IntervalKind, TaskKind};

/// The first problems [`Capture::validate`] found, each a sentence naming the task or index.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{} model invariant(s) broken in {path}: {}", .problems.len(), .problems.join("; "))]
pub struct InvariantError {
    /// The capture's path, so that a failing property test says which input broke.
    pub path: String,
    /// What is wrong, the first eight at most.
    pub problems: Vec<String>,
}

/// Past this many, the rest are the same mistake repeated and would only bury the first.
const MAX_PROBLEMS: usize = 8;

struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok && self.0.len() < MAX_PROBLEMS {
            self.0.push(what());
        }
    }
}

impl Capture {
    /// Checks what every consumer of the model relies on:
    /// - each task's intervals are sorted by (depth, start), do not overlap within a depth, end
    ///   no earlier than they start, and lie inside `time_range_ns` where there is one;
    /// - every interval belongs to exactly one task, tasks' ranges tile the interval columns;
    /// - a goroutine's depth-0 intervals are scheduler states;
    /// - links, marks and ancestors name existing tasks; marks are sorted by (task, time);
    /// - stacks, label sets and frames named anywhere exist in the tables;
    /// - the per-task and per-interval side tables are empty or exactly one per row;
    /// - open spans are ascending interval indices; samples have one value per type.
    pub fn validate(&self) -> Result<(), InvariantError> {
        let mut found = Problems(Vec::new());
        let iv = &self.intervals;
        let range = self.time_range_ns;
        if let Some((t0, t1)) = range {
            found.check(t0 <= t1, || format!("time range {t0}..{t1} ends before it starts"));
        }
        let stacks = self.tables.stack_count();
        let frames = self.tables.frame_count();
        let mut next_interval = 0usize;
        for (ti, task) in self.tasks.enumerate() {
            let r = task.intervals.indices();
            found.check(r.end <= iv.len(), || {
                format!("task {ti} (id {}) intervals {r:?} past the {} held", task.id, iv.len())
            });
            if r.end > iv.len() {
                continue;
            }
            if !r.is_empty() {
                found.check(r.start == next_interval, || {
                    format!(
                        "task {ti} (id {}) intervals start at {} instead of {next_interval}",
                        task.id, r.start
                    )
                });
                next_interval = r.end;
            }
            found.check(task.stack.index() < stacks, || {
                format!("task {ti} (id {}) names a stack not in the tables", task.id)
            });
            found.check(task.creation_stack.index() < stacks, || {
                format!("task {ti} (id {}) names a creation stack not in the tables", task.id)
            });
            for f in [task.created_by, task.start_func].into_iter().flatten() {
                found.check(f.index() < frames, || {
                    format!("task {ti} (id {}) names a frame not in the tables", task.id)
                });
            }
            let mut prev: Option<(u16, i64, i64)> = None;
            for i in r {
                let (s, e, d) = (iv.start(i), iv.end(i), iv.depth(i));
                found.check(s <= e, || {
                    format!("task {ti} (id {}) interval {i} ends ({e}) before it starts ({s})", task.id)
                });
                if let Some((t0, t1)) = range {
                    found.check(s >= t0 && e <= t1, || {
                        format!("task {ti} (id {}) interval {i} at {s}..{e} is outside {t0}..{t1}", task.id)
                    });
                }
                found.check(iv.stack(i).index() < stacks, || {
                    format!("interval {i} names a stack not in the tables")
                });
                if let Some((pd, ps, pe)) = prev {
                    found.check((pd, ps) <= (d, s), || {
                        format!("task {ti} (id {}) intervals not sorted by (depth, start) at {i}", task.id)
                    });
                    if pd == d {
                        found.check(pe <= s, || {
                            format!(
                                "task {ti} (id {}) intervals overlap at depth {d}: ..{pe} and {s}..",
                                task.id
                            )
                        });
                    }
                }
                if d == 0 && task.kind == TaskKind::Goroutine {
                    let kind = iv.kind(i);
                    found.check(
                        matches!(
                            kind,
                            IntervalKind::Running
                                | IntervalKind::Runnable
                                | IntervalKind::Blocked
                                | IntervalKind::Syscall
                        ),
                        || format!("goroutine {} has a state interval of kind {kind:?}", task.id),
                    );
                }
                prev = Some((d, s, e));
            }
        }
        found.check(next_interval == iv.len(), || {
            format!("{} intervals belong to no task", iv.len().saturating_sub(next_interval))
        });
        let tasks = self.tasks.len();
        for l in &self.links {
            found.check((l.from_task as usize) < tasks && (l.to_task as usize) < tasks, || {
                format!("link {} -> {} names a task past the {tasks} held", l.from_task, l.to_task)
            });
        }
        for a in &self.ancestors {
            found.check((a.task as usize) < tasks, || {
                format!("ancestor of task {} past the {tasks} held", a.task)
            });
            found.check(a.stack.index() < stacks, || {
                format!("ancestor of task {} names a stack not in the tables", a.task)
            });
        }
        for (i, m) in self.chrome().marks.iter().enumerate() {
            found.check((m.task as usize) < tasks, || {
                format!("mark {i} on task {} past the {tasks} held", m.task)
            });
        }
        found.check(self.chrome().marks.is_sorted_by_key(|m| (m.task, m.time_ns)), || {
            "marks not sorted by (task, time)".to_owned()
        });
        found.check(
            self.chrome().task_details.is_empty() || self.chrome().task_details.len() == tasks,
            || format!("{} task details for {tasks} tasks", self.chrome().task_details.len()),
        );
        found.check(
            self.chrome().interval_events.is_empty() || self.chrome().interval_events.len() == iv.len(),
            || format!("{} interval events for {} intervals", self.chrome().interval_events.len(), iv.len()),
        );
        found.check(self.chrome().open_spans.is_sorted_by(|a, b| a < b), || {
            "open spans not strictly ascending".to_owned()
        });
        found.check(self.chrome().open_spans.last().is_none_or(|&last| (last as usize) < iv.len()), || {
            format!("open span past the {} intervals", iv.len())
        });
        let s = &self.samples;
        found.check(s.values.len() == s.stack.len() * s.types.len(), || {
            format!(
                "{} sample values for {} samples of {} types",
                s.values.len(),
                s.stack.len(),
                s.types.len()
            )
        });
        found.check(s.labels.is_empty() || s.labels.len() == s.stack.len(), || {
            format!("{} sample label sets for {} samples", s.labels.len(), s.stack.len())
        });
        found.check(s.stack.iter().all(|st| st.index() < stacks), || {
            "a sample names a stack not in the tables".to_owned()
        });
        found.check(s.types.is_empty() || s.default_type < s.types.len(), || {
            format!("default sample type {} of {}", s.default_type, s.types.len())
        });
        if found.0.is_empty() {
            Ok(())
        } else {
            Err(InvariantError { path: self.source.path.clone(), problems: found.0 })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        FormatKind, Interval, IntervalRange, IntervalsBuilder, StackId, StrId, Task, TaskDetail,
    };

    fn capture_with(ivs: &[(i64, i64, u16)]) -> Capture {
        let mut c = Capture::new("t", FormatKind::GoExecutionTrace);
        let mut b = IntervalsBuilder::new(0);
        for &(s, e, d) in ivs {
            b.push_interval(Interval {
                start_ns: s,
                end_ns: e,
                kind: IntervalKind::Running,
                label: StrId::default(),
                stack: StackId::default(),
                depth: d,
            });
        }
        c.intervals = b.finish();
        c.tasks.push(Task {
            kind: TaskKind::Goroutine,
            intervals: IntervalRange { start: 0, len: ivs.len() as u32 },
            ..Task::default()
        });
        c.time_range_ns = Some((0, 100));
        c
    }

    #[test]
    fn a_well_formed_capture_passes() {
        assert_eq!(capture_with(&[(0, 10, 0), (10, 20, 0), (5, 8, 1)]).validate(), Ok(()));
        assert_eq!(Capture::default().validate(), Ok(()));
    }

    #[test]
    fn overlap_order_and_range_are_named() {
        let err = capture_with(&[(0, 10, 0), (5, 20, 0), (90, 120, 0)]).validate().unwrap_err();
        let all = err.problems.join("\n");
        assert!(all.contains("overlap at depth 0"), "{all}");
        assert!(all.contains("outside 0..100"), "{all}");
        let err = capture_with(&[(10, 20, 0), (0, 5, 0)]).validate().unwrap_err();
        assert!(err.problems[0].contains("not sorted"), "{err}");
    }

    #[test]
    fn intervals_of_no_task_and_side_tables_of_the_wrong_length_are_named() {
        let mut c = capture_with(&[(0, 10, 0), (10, 20, 0)]);
        c.tasks.update(0, |t| t.intervals.len = 1);
        c.chrome_mut().task_details = vec![TaskDetail::default(); 3];
        let err = c.validate().unwrap_err();
        let all = err.problems.join("\n");
        assert!(all.contains("1 intervals belong to no task"), "{all}");
        assert!(all.contains("3 task details for 1 tasks"), "{all}");
    }
}
