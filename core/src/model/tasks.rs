//! The task table: every task of a capture, stored compactly.
//!
//! A trace that starts a goroutine per request has millions of tasks, and a [`Task`] is 80
//! bytes: on a trace with a goroutine every 16 bytes of file, the task table alone was 4.9 times
//! the file. Most of a task's fields are shared by many tasks (kind, state, flags, creation
//! site, start function, labels: what a group of goroutines has in common), so those are kept
//! once as a *shape* and a task holds the shape's number beside the fields that are its own
//! (ids, times, intervals, stack): 32 bytes a task, plus its shape when no other task has the
//! same. The 64-bit ids and times keep their low halves in the row and their high halves in
//! the shape: the ids of one capture share their high half, and its times' high halves change
//! every 4.3 seconds, so this multiplies the shapes by a few where it halves the rows.
//! The rows of ended tasks are packed further, a block at a time (see `rows`): 32 bytes a task
//! were still twice a goroutine-dense trace's file, and about 9 are half a file.
//! Readers get whole `Task` values; writers go through [`Tasks::push`], [`Tasks::set`] and
//! [`Tasks::update`].

use super::intern::ValueTable;
use super::stack::{FrameId, LabelSetId, StackId};
use super::strings::StrId;
use super::task::{IntervalRange, OptId, OptNs, Task, TaskFlags, TaskKind};

mod rows;

use rows::{ID_WORD, Row, Rows, SHAPE_WORD, Unpacked};

/// What many tasks share.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
struct Shape {
    /// The wait, unless the row holds it (see `wait_in_row`).
    wait_ns: OptNs,
    /// The row's `end_ns` holds the wait instead of an end. A trace gives each goroutine
    /// blocked at its end a wait of its own, which as part of the shape would give each its
    /// own shape; a task that waits has not ended, so its row has room.
    wait_in_row: bool,
    /// The high halves of the row's id, creator id, start and end (or wait).
    high: [u32; 4],
    kind: TaskKind,
    flags: TaskFlags,
    name: StrId,
    state: StrId,
    created_by: Option<FrameId>,
    labels: LabelSetId,
    start_func: Option<FrameId>,
    creation_stack: StackId,
}

/// The four 64-bit values a row keeps half of: id, creator id, start, and end or wait.
fn wide(t: &Task) -> [u64; 4] {
    let last = if wait_in_row(t) { t.wait_ns } else { t.end_ns };
    [t.id, t.parent_id.to_raw(), t.start_ns.to_raw() as u64, last.to_raw() as u64]
}

const fn whole(low: u32, high: u32) -> u64 {
    low as u64 | (high as u64) << 32
}

/// Whether task `t` keeps its wait in its row.
fn wait_in_row(t: &Task) -> bool {
    t.end_ns.is_none() && t.wait_ns.is_some()
}

fn shape_of(t: &Task) -> Shape {
    let in_row = wait_in_row(t);
    Shape {
        wait_ns: if in_row { OptNs::NONE } else { t.wait_ns },
        wait_in_row: in_row,
        high: wide(t).map(|v| (v >> 32) as u32),
        kind: t.kind,
        flags: t.flags,
        name: t.name,
        state: t.state,
        created_by: t.created_by,
        labels: t.labels,
        start_func: t.start_func,
        creation_stack: t.creation_stack,
    }
}

fn row_of(t: &Task, shape: u32) -> Row {
    Row { low: wide(t).map(|v| v as u32), intervals: t.intervals, stack: t.stack, shape }
}

#[allow(clippy::inline_always)] // Inlined whole into loops over tasks: see `Iter`.
#[inline(always)]
fn join(row: &Row, shape: &Shape) -> Task {
    let ([id_low, parent_low, start_low, last_low], [id_high, parent_high, start_high, last_high]) =
        (row.low, shape.high);
    let [id, parent, start, last] = [
        whole(id_low, id_high),
        whole(parent_low, parent_high),
        whole(start_low, start_high),
        whole(last_low, last_high),
    ];
    let last = OptNs::from_raw(last as i64);
    let (end_ns, wait_ns) = if shape.wait_in_row { (OptNs::NONE, last) } else { (last, shape.wait_ns) };
    Task {
        id,
        kind: shape.kind,
        name: shape.name,
        state: shape.state,
        flags: shape.flags,
        wait_ns,
        stack: row.stack,
        created_by: shape.created_by,
        parent_id: OptId::from_raw(parent),
        labels: shape.labels,
        start_ns: OptNs::from_raw(start as i64),
        end_ns,
        intervals: row.intervals,
        start_func: shape.start_func,
        creation_stack: shape.creation_stack,
    }
}

/// Task numbers put in the order of their ids by placing each at its id's offset from the
/// smallest, `low`: a runtime numbers its goroutines one after another, so a trace's ids fill a
/// range not much wider than their count, and a place per id in that range (4 bytes each)
/// replaces the sort (a third of the analysis of a trace of 4 million goroutines). `None` where
/// the ids are sparse (more than twice as many places as ids), or where an id repeats (then
/// the sort orders its tasks by number).
fn place_by_id(
    low: u64,
    high: u64,
    count: usize,
    tasks: impl IntoIterator<Item = (u64, u32)>,
) -> Option<Vec<u32>> {
    let span = usize::try_from(high.checked_sub(low)?).ok()?.checked_add(1)?;
    if span > count.saturating_mul(2).saturating_add(1024) {
        return None;
    }
    let mut at = vec![u32::MAX; span];
    // Internal iteration (see `Tasks::by_id`).
    tasks.into_iter().try_for_each(|(id, i)| {
        let slot = at.get_mut(usize::try_from(id.checked_sub(low)?).ok()?)?;
        if *slot != u32::MAX {
            return None;
        }
        *slot = i;
        Some(())
    })?;
    Some(at.into_iter().filter(|&i| i != u32::MAX).collect())
}

/// The tasks of a capture, by index (the `u32` task numbers the rest of the model uses).
#[derive(Clone, Default)]
pub struct Tasks {
    rows: Rows,
    shapes: ValueTable<Shape>,
    /// Shape numbers by a cheap mix of their fields, tried before hashing (see `shape_id`);
    /// empty until the first shape that is not the hint.
    cache: Vec<u32>,
    /// The shape a task of shape `from` last changed to, at `from % CHANGES`: a parser makes the
    /// same change to many tasks (ends them, names their final state).
    changes: [(u32, u32); CHANGES],
}

/// Size of [`Tasks::changes`].
const CHANGES: usize = 8;

/// Slots of [`Tasks::cache`] at first, and at most (a power of two each): a trace's tasks
/// have tens to hundreds of shapes, a dump's thousands (a shape per state, creator and wait in
/// minutes: a wait in nanoseconds has a high half), so the cache grows with the shapes. With
/// 256 slots a debug=2 dump of 50,000 goroutines hashed 13,626 shapes, growing to 4,096 slots
/// 4,379 (of 2,500 distinct).
const SHAPE_CACHE: (usize, usize) = (256, 4096);

/// The slot of `shape` in [`Tasks::cache`]: a multiply and a shift a field, where hashing the
/// shape to find it in the table costs several times that. A dump's goroutines come in no
/// order of their shapes, and a trace's builder makes the same few changes to many tasks.
fn cache_slot(shape: &Shape) -> usize {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let frame = |f: Option<FrameId>| f.map_or(0, |f| f.index() as u64 + 1);
    let [h0, h1, h2, h3] = shape.high.map(u64::from);
    let words = [
        shape.state.index() as u64 | (shape.name.index() as u64) << 32,
        frame(shape.created_by) | (shape.labels.index() as u64) << 32,
        u64::from(shape.flags.bits())
            | (shape.kind as u64) << 16
            | (shape.creation_stack.index() as u64) << 32,
        frame(shape.start_func) ^ (h0 | h1 << 32),
        shape.wait_ns.to_raw() as u64 ^ (h2 | h3 << 32) ^ u64::from(shape.wait_in_row),
    ];
    let h = words.iter().fold(0u64, |h, &w| (h ^ w).wrapping_mul(K));
    (h >> 32) as usize
}

impl Tasks {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty table with room for `n` tasks.
    pub fn with_capacity(n: usize) -> Self {
        let mut tasks = Self::default();
        tasks.rows.reserve_exact(n);
        tasks
    }

    /// Number of tasks.
    #[inline]
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.rows.len() == 0
    }

    /// Tasks there is room for without growing.
    #[inline]
    pub fn capacity(&self) -> usize {
        self.rows.capacity()
    }

    /// Makes room for exactly `additional` more tasks: a parser that knows how many are coming
    /// asks once, so that the table is never held twice while it grows.
    pub fn reserve_exact(&mut self, additional: usize) {
        self.rows.reserve_exact(additional);
    }

    /// Takes over the memory `old` packed its rows into, for this table's packed rows, and
    /// drops the rest of `old`: a trace read twice makes the same table twice, and the pages
    /// the first one's rows were packed into (a third of a goroutine-dense trace's peak) were
    /// still held by the allocator when the second asked for as many anew.
    pub fn reuse(&mut self, old: Tasks) {
        self.rows.reuse(old.rows);
    }

    /// Gives back the room no task uses, and packs the rows of every block of ended tasks (see
    /// `rows`): for the end of a parse.
    pub fn shrink_to_fit(&mut self) {
        self.rows.shrink_to_fit();
    }

    /// Task `index`, if there is one.
    #[inline]
    pub fn get(&self, index: usize) -> Option<Task> {
        self.rows.get(index).map(|row| self.join(&row))
    }

    /// The id of task `index`, without the rest: for sorting millions of task numbers by id,
    /// where making each task whole twice a comparison took longer than the parse.
    #[inline]
    pub fn id(&self, index: usize) -> Option<u64> {
        let low = self.rows.word(index, ID_WORD)?;
        let high =
            self.rows.word(index, SHAPE_WORD).and_then(|s| self.shapes.get(s)).map_or(0, |s| s.high[0]);
        Some(whole(low, high))
    }

    /// The kind and flags of task `index`, without the rest: for a parser's checks per event.
    #[inline]
    pub fn kind_and_flags(&self, index: usize) -> Option<(TaskKind, TaskFlags)> {
        let shape = self.rows.word(index, SHAPE_WORD)?;
        self.shapes.get(shape).map(|s| (s.kind, s.flags))
    }

    /// The numbers of the tasks `keep` keeps, in the order of their ids (equal ids in the order
    /// of their numbers). A first look finds the ids' range: where they are dense (a runtime's
    /// goroutines) each number is placed at its id's offset (4 bytes a place, the only table
    /// made); else they are sorted as ids packed with numbers, gathered in one pass (8 bytes a
    /// task where the ids share their high half, as a capture's do, else 16): looking ids up
    /// in the table at each comparison was the slowest step of analysing millions of
    /// goroutines. The packed ids, made for the placing too, were a sixth of the peak of a
    /// report on a trace of 4 million goroutines.
    ///
    /// The kept tasks are read by internal iteration (`for_each`, `try_for_each`): a `for`
    /// loop or `extend` over a filter calls its `next` for each, which std's `find` keeps out
    /// of line, the task returned through memory; a pass over 4 million tasks took twice as
    /// long that way.
    pub fn by_id(&self, keep: impl Fn(&Task) -> bool) -> Vec<u32> {
        let kept = || self.enumerate().filter(|(_, t)| keep(t)).map(|(i, t)| (t.id, i as u32));
        let (mut low, mut high, mut count) = (u64::MAX, 0, 0usize);
        kept().for_each(|(id, _)| (low, high, count) = (low.min(id), high.max(id), count + 1));
        if count == 0 {
            return Vec::new();
        }
        if low >> 32 != high >> 32 {
            let mut wide: Vec<(u64, u32)> = Vec::with_capacity(count);
            kept().for_each(|kept| wide.push(kept));
            wide.sort_unstable();
            return wide.into_iter().map(|(_, i)| i).collect();
        }
        if let Some(placed) = place_by_id(low, high, count, kept()) {
            return placed;
        }
        let mut packed: Vec<u64> = Vec::with_capacity(count);
        kept().for_each(|(id, i)| packed.push(id << 32 | u64::from(i)));
        packed.sort_unstable();
        packed.into_iter().map(|p| p as u32).collect()
    }

    /// Task `index`, as indexing a slice would give it.
    ///
    /// # Panics
    /// Past the end, as indexing does: for callers that hold an index the table gave them.
    #[track_caller]
    pub fn at(&self, index: usize) -> Task {
        match self.rows.get(index) {
            Some(row) => self.join(&row),
            None => panic!("task index {index} out of range for {} tasks", self.rows.len()),
        }
    }

    /// The last task.
    #[inline]
    pub fn last(&self) -> Option<Task> {
        self.get(self.rows.len().checked_sub(1)?)
    }

    /// Adds a task at the end.
    // By value, as `Vec::push`: callers build the task to hand it over.
    #[allow(clippy::needless_pass_by_value)]
    pub fn push(&mut self, task: Task) {
        let hint = self.rows.len().checked_sub(1).and_then(|i| self.rows.word(i, SHAPE_WORD)).unwrap_or(0);
        let shape = self.shape_id(&shape_of(&task), hint);
        self.rows.push(row_of(&task, shape), task.end_ns.is_some());
    }

    /// Replaces task `index`; does nothing past the end.
    #[allow(clippy::needless_pass_by_value)]
    pub fn set(&mut self, index: usize, task: Task) {
        let Some(old) = self.rows.word(index, SHAPE_WORD) else { return };
        let new = shape_of(&task);
        let slot = old as usize % CHANGES;
        let shape = match self.changes.get(slot) {
            _ if self.shapes.get(old) == Some(&new) => old,
            Some(&(from, to)) if from == old && self.shapes.get(to) == Some(&new) => to,
            _ => {
                let shape = self.shape_id(&new, old);
                if let Some(change) = self.changes.get_mut(slot) {
                    *change = (old, shape);
                }
                shape
            }
        };
        self.rows.put(index, row_of(&task, shape), task.end_ns.is_some());
    }

    /// Changes task `index` with `change` and returns what it returned; `None` past the end.
    pub fn update<R>(&mut self, index: usize, change: impl FnOnce(&mut Task) -> R) -> Option<R> {
        let mut task = self.get(index)?;
        let out = change(&mut task);
        self.set(index, task);
        Some(out)
    }

    /// Task `index`'s stack, which a trace changes at every state: set in place.
    #[inline]
    pub fn set_stack(&mut self, index: usize, stack: StackId) {
        if let Some(row) = self.rows.row_mut(index) {
            row.stack = stack;
        }
    }

    /// Task `index`'s interval range.
    #[inline]
    pub fn intervals(&self, index: usize) -> Option<IntervalRange> {
        self.rows.get(index).map(|row| row.intervals)
    }

    /// Task `index`'s interval range, which a trace's builder moves at every interval of a
    /// task that lives, to change in place (a packed row is unpacked for it).
    #[inline]
    pub fn intervals_mut(&mut self, index: usize) -> Option<&mut IntervalRange> {
        self.rows.row_mut(index).map(|row| &mut row.intervals)
    }

    /// Sets task `index`'s interval range, in place where its row is packed and the range fits:
    /// for setting every task's at the end of a parse.
    pub fn set_intervals(&mut self, index: usize, range: IntervalRange) {
        self.rows.change(index, |row| row.intervals = range);
    }

    /// The tasks in order, on rayon's threads.
    pub fn par_iter(&self) -> impl rayon::iter::IndexedParallelIterator<Item = Task> + '_ {
        use rayon::iter::{IntoParallelIterator, ParallelIterator};
        (0..self.len()).into_par_iter().map(|i| self.at(i))
    }

    /// The tasks in order.
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter { tasks: self, front: 0, back: self.len(), unpacked: Unpacked::default() }
    }

    /// The tasks in order with their numbers, as `iter().enumerate()` gives them. std's
    /// `Enumerate::next` around [`Iter::next`] was left out of line, a call per task returning
    /// the task through memory: a pass over 4 million tasks that way took three times as long.
    #[inline]
    pub fn enumerate(&self) -> Enumerate<'_> {
        Enumerate(self.iter())
    }

    /// Heap bytes, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.rows.heap_bytes() + self.shapes.heap_bytes() + self.cache.capacity() * size_of::<u32>()
    }

    /// Number of distinct shapes, for tests and accounting.
    pub fn shapes(&self) -> usize {
        self.shapes.len()
    }

    #[allow(clippy::inline_always)] // Inlined whole into loops over tasks: see `Iter`.
    #[inline(always)]
    fn join(&self, row: &Row) -> Task {
        join(row, self.shapes.get(row.shape).unwrap_or(&DEFAULT_SHAPE))
    }

    /// The number of `shape`, trying `hint` (the shape of the task before, or of the task being
    /// changed) and then the cache before hashing: tasks come in runs of the same shape, a
    /// parser changes many tasks from one shape to the same other, and a capture has far fewer
    /// shapes than tasks.
    fn shape_id(&mut self, shape: &Shape, hint: u32) -> u32 {
        if self.shapes.get(hint) == Some(shape) {
            return hint;
        }
        if self.cache.is_empty() {
            self.cache = vec![0; SHAPE_CACHE.0];
        }
        let slots = self.cache.len();
        let slot = cache_slot(shape) & (slots - 1);
        // A slot may name another shape (a collision) or none yet (0 before the first shape is
        // cached): the comparison decides, so the cache can only save work.
        if let Some(&id) = self.cache.get(slot)
            && self.shapes.get(id) == Some(shape)
        {
            return id;
        }
        let id = self.shapes.intern(shape);
        if self.shapes.len() * 2 > slots && slots < SHAPE_CACHE.1 {
            // Refilled as shapes come again: the old slots would be the wrong ones.
            self.cache = vec![0; slots * 4];
        } else if let Some(cached) = self.cache.get_mut(slot) {
            *cached = id;
        }
        id
    }
}

static DEFAULT_SHAPE: Shape = Shape {
    wait_ns: OptNs::NONE,
    wait_in_row: false,
    high: [0; 4],
    kind: TaskKind::Goroutine,
    flags: TaskFlags::empty(),
    name: StrId::EMPTY,
    state: StrId::EMPTY,
    created_by: None,
    labels: LabelSetId::EMPTY,
    start_func: None,
    creation_stack: StackId::EMPTY,
};

impl PartialEq for Tasks {
    /// The same tasks in the same order, however their shapes are numbered.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl std::fmt::Debug for Tasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<Task> for Tasks {
    fn from_iter<I: IntoIterator<Item = Task>>(iter: I) -> Self {
        let mut tasks = Self::new();
        tasks.extend(iter);
        tasks
    }
}

impl Extend<Task> for Tasks {
    fn extend<I: IntoIterator<Item = Task>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        let wanted = self.rows.len() + iter.size_hint().0;
        if wanted > self.rows.capacity() {
            self.rows.reserve_exact(wanted - self.rows.len());
        }
        for task in iter {
            self.push(task);
        }
    }
}

impl<'a> IntoIterator for &'a Tasks {
    type Item = Task;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// The tasks of a [`Tasks`] in order, as values.
///
/// Its `next`, down to the row's read and the task's making, is inlined whole into each loop
/// (`inline(always)`): the analysis reads a table of millions of tasks a score of times, and
/// inlined, each loop makes only the fields it reads. Left to the compiler, the chain of calls
/// was kept out of line, and iterating took a third of a second more on 4 million tasks.
#[derive(Clone)]
pub struct Iter<'a> {
    tasks: &'a Tasks,
    front: usize,
    back: usize,
    unpacked: Unpacked,
}

impl Iter<'_> {
    #[allow(clippy::inline_always)] // Inlined whole into loops over tasks: see `Iter`.
    #[inline(always)]
    fn task(&mut self, index: usize) -> Option<Task> {
        let row = self.tasks.rows.get_in_order(index, &mut self.unpacked)?;
        Some(self.tasks.join(&row))
    }
}

impl Iterator for Iter<'_> {
    type Item = Task;

    #[allow(clippy::inline_always)] // Inlined whole into loops over tasks: see `Iter`.
    #[inline(always)]
    fn next(&mut self) -> Option<Task> {
        if self.front >= self.back {
            return None;
        }
        self.front += 1;
        self.task(self.front - 1)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }

    fn nth(&mut self, n: usize) -> Option<Task> {
        self.front = self.front.saturating_add(n).min(self.back);
        self.next()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Task> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.task(self.back)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl std::iter::FusedIterator for Iter<'_> {}

/// The tasks of a [`Tasks`] in order with their numbers (see [`Tasks::enumerate`]).
#[derive(Clone)]
pub struct Enumerate<'a>(Iter<'a>);

impl Iterator for Enumerate<'_> {
    type Item = (usize, Task);

    #[allow(clippy::inline_always)] // Inlined whole into loops over tasks: see `Iter`.
    #[inline(always)]
    fn next(&mut self) -> Option<(usize, Task)> {
        let index = self.0.front;
        self.0.next().map(|task| (index, task))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Enumerate<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<(usize, Task)> {
        self.0.next_back().map(|task| (self.0.back, task))
    }
}

impl ExactSizeIterator for Enumerate<'_> {}

impl std::iter::FusedIterator for Enumerate<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: u64, shape: u32) -> Task {
        Task {
            id,
            flags: TaskFlags::from_bits_truncate(1 << shape),
            start_ns: OptNs::some(id as i64 * 1_000_007),
            end_ns: if id.is_multiple_of(2) { OptNs::NONE } else { OptNs::some(-(id as i64)) },
            parent_id: if id.is_multiple_of(3) { OptId::NONE } else { OptId::some(id + 7) },
            intervals: IntervalRange { start: id as u32, len: 2 },
            stack: StackId(id as u32 % 7),
            ..Task::default()
        }
    }

    #[test]
    fn tasks_come_back_as_they_went_in_sharing_their_shapes() {
        let given: Vec<Task> = (0..1_000).map(|i| task(i, (i % 4) as u32)).collect();
        let tasks: Tasks = given.iter().cloned().collect();
        assert_eq!(tasks.len(), 1_000);
        assert!(tasks.iter().eq(given.iter().cloned()));
        assert!(tasks.iter().rev().eq(given.iter().rev().cloned()));
        assert_eq!(tasks.get(999), given.last().cloned());
        assert_eq!(tasks.get(1_000), None);
        // Four sets of flags, each with or without an end and a creator (whose high halves
        // differ: a negative time, the sentinels).
        assert_eq!(tasks.shapes(), 8);
        assert!(tasks.heap_bytes() < 1_000 * 32 + 4_096);
        let extremes = Task {
            id: u64::MAX,
            start_ns: OptNs::some(i64::MIN + 1),
            end_ns: OptNs::some(i64::MAX),
            parent_id: OptId::some(0),
            ..Task::default()
        };
        let mut more = tasks.clone();
        more.push(extremes.clone());
        assert_eq!(more.last(), Some(extremes));
    }

    #[test]
    fn waits_of_their_own_make_no_shapes_of_their_own() {
        let waiting = |id: u64| Task { id, wait_ns: OptNs::some(id as i64 * 7), ..Task::default() };
        let both = Task { end_ns: OptNs::some(5), wait_ns: OptNs::some(3), ..Task::default() };
        let mut tasks: Tasks = (0..100).map(waiting).collect();
        assert_eq!(tasks.shapes(), 1);
        tasks.push(both.clone());
        assert!(tasks.iter().take(100).eq((0..100).map(waiting)));
        assert_eq!(tasks.last(), Some(both));
    }

    #[test]
    fn ids_and_times_past_32_bits_come_back_whole() {
        let far = |i: u64| Task {
            id: (1 << 40) + i,
            parent_id: OptId::some(u64::MAX - 1 - i),
            start_ns: OptNs::some(i64::MAX - i as i64),
            end_ns: OptNs::some(i64::MIN + 1 + i as i64),
            ..Task::default()
        };
        let tasks: Tasks = (0..64).map(far).chain((0..64).map(|i| task(i, 0))).collect();
        assert!(tasks.iter().take(64).eq((0..64).map(far)));
        assert!(tasks.iter().skip(64).eq((0..64).map(|i| task(i, 0))));
    }

    #[test]
    fn numbers_in_the_order_of_ids() {
        let ids = [7u64, 3, 9, 3, 1];
        let tasks: Tasks = ids.iter().map(|&id| Task { id, ..Task::default() }).collect();
        assert_eq!(tasks.by_id(|_| true), [4, 1, 3, 0, 2]);
        assert_eq!(tasks.by_id(|t| t.id != 3), [4, 0, 2]);
        let mut wide = tasks.clone();
        wide.push(Task { id: 1 << 40, ..Task::default() });
        wide.push(Task { id: 2, ..Task::default() });
        assert_eq!(wide.by_id(|_| true), [4, 6, 1, 3, 0, 2, 5]);
    }

    #[test]
    fn ids_placed_by_their_range_come_in_the_order_a_sort_gives() {
        // Ids dense in a range (a runtime's goroutines, shuffled a little as procs take them
        // in batches), sparse ones (sorted instead) and repeated ones (sorted, by number).
        let mut next = crate::testing::xorshift(0x5eed);
        let mut dense: Vec<u64> = (1_000..6_000u64).collect();
        for block in dense.chunks_mut(16) {
            for k in (1..block.len()).rev() {
                block.swap(k, (next() % (k as u64 + 1)) as usize);
            }
        }
        let placed = dense.iter().enumerate().map(|(i, &id)| (id, i as u32));
        assert!(place_by_id(1_000, 5_999, dense.len(), placed).is_some());
        let sparse: Vec<u64> = (0..3_000).map(|_| next() % 1_000_000_000).collect();
        let mut repeated = dense.clone();
        repeated.push(1_000);
        // Dense under a high half (placed by their full ids), and across two high halves.
        let high: Vec<u64> = dense.iter().map(|&id| id + (7 << 32)).collect();
        let across: Vec<u64> = dense.iter().map(|&id| id + (1 << 32) - 3_000).collect();
        for ids in [dense, sparse, repeated, high, across] {
            let tasks: Tasks = ids.iter().map(|&id| Task { id, ..Task::default() }).collect();
            let mut want: Vec<(u64, u32)> = ids.iter().enumerate().map(|(i, &id)| (id, i as u32)).collect();
            want.sort_unstable();
            let want: Vec<u32> = want.into_iter().map(|(_, i)| i).collect();
            assert_eq!(tasks.by_id(|_| true), want);
            let odd: Vec<u32> =
                want.iter().copied().filter(|&i| ids.get(i as usize).is_some_and(|id| id % 2 == 1)).collect();
            assert_eq!(tasks.by_id(|t| t.id % 2 == 1), odd);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Whatever a parser does to the table (tasks made, ended, changed, their stacks and
        /// intervals set in place, long after some were packed), it reads back as a `Vec` of
        /// the same tasks would: in order, backwards, one by one, and by id.
        #[test]
        fn tasks_read_back_as_a_vec_of_them_would(seed in proptest::prelude::any::<u64>(), n in 5_000usize..8_000) {
            let mut next = crate::testing::xorshift(seed | 1);
            let mut want: Vec<Task> = Vec::new();
            let mut tasks = Tasks::new();
            for i in 0..n {
                let r = next();
                let t0 = 1_000_000_000 + i as i64 * 900;
                // Mostly ended soon after they start, as a goroutine-dense trace's; a few live on
                // (and keep their blocks from being packed).
                let ended = !r.is_multiple_of(300);
                let task = Task {
                    id: 1_000 + i as u64 + r % 16,
                    flags: if ended { TaskFlags::ENDED } else { TaskFlags::empty() },
                    start_ns: OptNs::some(t0),
                    end_ns: if ended { OptNs::some(t0 + (r % 50_000) as i64) } else { OptNs::NONE },
                    wait_ns: if ended { OptNs::NONE } else { OptNs::some((r % 7_000) as i64) },
                    parent_id: OptId::some(1 + r % 3),
                    intervals: IntervalRange { start: 2 * i as u32, len: (r % 3) as u32 },
                    stack: StackId((r >> 8) as u32 % 5),
                    ..Task::default()
                };
                want.push(task.clone());
                tasks.push(task);
                // Changes, now and then: mostly to a task made lately, as a parser makes them
                // (its stack, its intervals, its end), sometimes to any (packed by now, perhaps).
                if !next().is_multiple_of(4) {
                    continue;
                }
                let back = if next().is_multiple_of(16) { next() as usize } else { next() as usize % 1_500 };
                let old = want.len() - 1 - back % want.len();
                let Some(w) = want.get_mut(old) else { continue };
                match next() % 16 {
                    0 => {
                        let stack = StackId((next() % 70_000) as u32);
                        w.stack = stack;
                        tasks.set_stack(old, stack);
                    }
                    1 => {
                        if let Some(range) = tasks.intervals_mut(old) {
                            range.len += 1;
                        }
                        w.intervals.len += 1;
                    }
                    2 => {
                        let range = IntervalRange { start: (next() % 10_000) as u32, len: 1 };
                        w.intervals = range;
                        tasks.set_intervals(old, range);
                    }
                    3 => {
                        // Ends a live task or brings an ended one back, far from the others.
                        w.end_ns = if w.end_ns.is_some() { OptNs::NONE } else { OptNs::some(i64::MAX - 5) };
                        tasks.set(old, w.clone());
                    }
                    4 => {
                        w.flags |= TaskFlags::SYSTEM;
                        let changed = tasks.update(old, |t| t.flags |= TaskFlags::SYSTEM);
                        proptest::prop_assert_eq!(changed, Some(()));
                    }
                    _ => {}
                }
            }
            proptest::prop_assert_eq!(tasks.len(), want.len());
            proptest::prop_assert!(tasks.iter().eq(want.iter().cloned()));
            proptest::prop_assert!(tasks.iter().rev().eq(want.iter().rev().cloned()));
            proptest::prop_assert!(tasks.enumerate().eq(want.iter().cloned().enumerate()));
            proptest::prop_assert!(tasks.enumerate().rev().eq(want.iter().cloned().enumerate().rev()));
            proptest::prop_assert_eq!(tasks.enumerate().len(), want.len());
            for (i, w) in want.iter().enumerate() {
                proptest::prop_assert_eq!(tasks.get(i), Some(w.clone()));
                proptest::prop_assert_eq!(tasks.id(i), Some(w.id));
                proptest::prop_assert_eq!(tasks.intervals(i), Some(w.intervals));
            }
            proptest::prop_assert_eq!(tasks.iter().nth(n / 2), want.get(n / 2).cloned());
            proptest::prop_assert!(tasks.rows.packed_blocks() > 0);
        }
    }

    #[test]
    fn goroutines_that_end_soon_take_a_few_bytes_each() {
        // A goroutine-dense trace's: made one after another, each ending a little later.
        let n = 200_000u64;
        let mut tasks = Tasks::new();
        for i in 0..n {
            let t0 = 1_000_000_000 + i as i64 * 750;
            tasks.push(Task {
                id: 100 + i,
                flags: TaskFlags::ENDED,
                start_ns: OptNs::some(t0),
                end_ns: OptNs::some(t0 + 3_000 + (i % 7) as i64 * 100),
                parent_id: OptId::some(1 + i % 2),
                intervals: IntervalRange { start: 2 * i as u32, len: 2 },
                stack: StackId(3),
                ..Task::default()
            });
        }
        // Packed, 7 bytes a row (a byte for the id, creator and interval start, two for the
        // start and end, none for the rest) and a head a block, in chunks part used; a plain
        // row is 32.
        assert!(tasks.heap_bytes() < n as usize * 12, "{} bytes", tasks.heap_bytes());
        // Task 12,345: made at 1e9 + 12,345 * 750 ns, ended 3,000 + (12,345 % 7) * 100 ns later.
        let t = tasks.at(12_345);
        assert_eq!((t.id, t.end_ns, t.intervals.start), (12_445, OptNs::some(1_009_258_750 + 3_400), 24_690));
    }

    #[test]
    fn changes_keep_the_other_tasks_and_their_shapes() {
        let mut tasks: Tasks = (0..10).map(|i| task(i, 1)).collect();
        let before = tasks.clone();
        assert_eq!(tasks.update(3, |t| t.flags |= TaskFlags::ENDED), Some(()));
        assert_eq!(tasks.update(10, |t| t.flags |= TaskFlags::ENDED), None);
        assert_eq!(tasks.get(3).map(|t| t.flags), Some(TaskFlags::DURABLE | TaskFlags::ENDED));
        assert_eq!(tasks.shapes(), 5);
        for i in (0..10).filter(|&i| i != 3) {
            assert_eq!(tasks.get(i), before.get(i));
        }
        tasks.set(3, task(3, 1));
        assert_eq!(tasks, before);
    }
}
