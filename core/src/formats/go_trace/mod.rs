//! Go execution traces (`runtime/trace`, `/debug/pprof/trace`, `go test -trace`) in the format
//! of Go 1.22 and newer: header `go 1.2x trace` (Go 1.27 still writes `go 1.26 trace`).
//!
//! A trace is a sequence of generations (about one a second); each has its own string and stack
//! tables and its events in batches, one stream per thread (M). Reading goes:
//! 1. locate every batch by its header, stepping over the contents (`batches`);
//! 2. per generation, decode the tables, CPU samples and clock batches in parallel and intern
//!    them into the capture (`tables`), while the previous generation's events are ordered;
//! 3. merge the threads' events into one consistent order with the per-goroutine and per-proc
//!    sequence numbers, as Go's own reader does (`order`), keeping going with a warning where
//!    the data contradicts itself;
//! 4. build tasks, state intervals, links, samples and counters (`build`).
//!
//! Asked for a first picture (the app does, for a large file), it first reads the trace's first
//! generations as a trace of their own, which each generation's statuses and tables make
//! possible, and hands that over before reading the whole (`first_generations`).
//!
//! Go 1.11-1.21 traces use an older, different format (per-P batches, one string and stack table
//! for the whole trace); `v1` reads them and converts their events into the current ones, as Go's
//! reader does, so the same builder makes the model. Older formats are refused with a message.

mod batches;
mod build;
mod idmap;
mod order;
mod problems;
mod tables;
mod v1;
mod wire;

use hashbrown::HashMap;

use self::batches::{BatchKind, Generation};
use self::build::Builder;
use self::idmap::Room;
use self::order::{Cursor, Freq, Ordered, Ordering, Outcome};
use self::problems::Problems;
use self::tables::{GenTables, Interned};
use self::wire::{Header, Version};
use super::{Format, Input, Sniff};
use crate::error::ParseError;
use crate::input::Progress;
use crate::model::{Capture, FormatKind};

/// The Go execution trace format.
pub struct GoTrace;

const KIND: FormatKind = FormatKind::GoExecutionTrace;

impl Format for GoTrace {
    fn kind(&self) -> FormatKind {
        KIND
    }

    fn sniff(&self, head: &[u8], complete: bool) -> Sniff {
        match wire::header(head) {
            Header::Go(_) => Sniff::Yes,
            Header::NotATrace => Sniff::No,
            Header::Short if complete => Sniff::No,
            Header::Short => Sniff::NeedMore,
        }
    }

    fn parse(&self, input: &Input<'_>) -> Result<Vec<Capture>, ParseError> {
        if let Some(preview) = input.preview.filter(|p| input.bytes.len() as u64 >= p.min_bytes)
            && let Some(first) = first_generations(input.bytes, input.path, input.progress)
        {
            (preview.sink)(first);
        }
        let pages = Pages(Some(input.shared));
        parse_with(input.bytes, pages, input.path, input.progress, Passes::Chosen).map(|c| vec![c])
    }
}

/// Parses a whole execution trace.
pub fn parse_bytes(bytes: &[u8], path: &str, progress: &Progress) -> Result<Capture, ParseError> {
    parse_with(bytes, Pages(None), path, progress, Passes::Chosen)
}

/// About how much of a large trace its first picture reads: at the speed of a whole read, a
/// fraction of a second. A busy service writes a generation (a second) of 20-40 MB, so the
/// picture is often one generation, rarely more than a few.
const PREVIEW_BYTES: usize = 16 << 20;

/// The first picture of a large trace: its first whole generations, read as a trace of their
/// own (each generation carries the statuses and tables it needs, which is what lets it be
/// read alone), marked as cut off so that the leak rules discount what the rest may change.
/// `None` when the trace is not of the generational format, or when its first generations are
/// already half of it (the whole read comes soon enough). Reads at most half the file's batch
/// headers to find them; Cancel on `progress` stops it.
fn first_generations(bytes: &[u8], path: &str, progress: &Progress) -> Option<Capture> {
    let Header::Go(minor) = wire::header(bytes) else { return None };
    if !(Version::GO122.0..=Version::NEWEST_KNOWN.0).contains(&minor) {
        return None;
    }
    let half = bytes.get(..bytes.len() / 2)?;
    let located = batches::locate(half, Version(minor));
    // The last generation found may go on past the half, so only the ones that another
    // follows are whole; the picture ends where one of those following ones begins.
    let end = located
        .generations
        .iter()
        .skip(1)
        .map(|g| g.offset)
        .find(|&offset| offset >= PREVIEW_BYTES)
        .or_else(|| located.generations.last().filter(|_| located.generations.len() > 1).map(|g| g.offset))?;
    let read = located.generations.iter().take_while(|g| g.offset < end).count();
    let prefix = bytes.get(..end)?;
    // The preview has a progress of its own (the bar shows the whole read), which a Cancel of
    // the whole read cancels too.
    let own = Progress::new();
    let done = std::sync::atomic::AtomicBool::new(false);
    let parsed = std::thread::scope(|scope| {
        scope.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                if progress.is_cancelled() {
                    own.cancel();
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        });
        let parsed = parse_with(prefix, Pages(None), path, &own, Passes::Chosen);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        parsed
    });
    let mut capture = parsed.ok()?;
    capture.source.truncated = true;
    capture.source.bytes = bytes.len() as u64;
    capture.source.preview_bytes = Some(end as u64);
    capture.warnings.general(format!(
        "first picture: only the first {read} generation{} ({} of {} bytes) are read so far",
        if read == 1 { "" } else { "s" },
        end,
        bytes.len()
    ));
    Some(capture)
}

/// The input's pages, where they are a file mapping whose finished parts can be handed back to
/// the OS: once a batch is counted or a generation's events are consumed, its pages leave the
/// resident set (a later pass faults them in again from the page cache), so the file adds about
/// one generation to the peak memory instead of its whole size. The capture keeps no reference
/// to the input.
#[derive(Clone, Copy)]
struct Pages<'a>(Option<&'a std::sync::Arc<crate::input::Bytes>>);

impl Pages<'_> {
    fn release(self, range: std::ops::Range<usize>) {
        if let Some(bytes) = self.0 {
            bytes.release_pages(range);
        }
    }

    /// Hands back the pages of a generation's batches.
    fn release_generation(self, generation: &Generation) {
        let start = generation.batches.iter().map(|b| b.data.start).min();
        let end = generation.batches.iter().map(|b| b.data.end).max();
        if let (Some(start), Some(end)) = (start, end) {
            self.release(start..end);
        }
    }
}

/// Parses a whole execution trace in one pass or two (see [`Passes`]).
fn parse_with(
    bytes: &[u8],
    pages: Pages<'_>,
    path: &str,
    progress: &Progress,
    passes: Passes,
) -> Result<Capture, ParseError> {
    let minor = match wire::header(bytes) {
        Header::Go(minor) => minor,
        Header::NotATrace | Header::Short => {
            return Err(ParseError::at_offset(
                KIND,
                0,
                "not a Go execution trace (no \"go 1.N trace\" header)",
            ));
        }
    };
    let mut problems = Problems::default();
    if (11..Version::GO122.0).contains(&minor) {
        return v1::parse(bytes, minor, path, progress);
    }
    if minor < 11 {
        return Err(ParseError::at_offset(
            KIND,
            0,
            format!(
                "this is a Go 1.{minor} execution trace (header \"go 1.{minor} trace\"), a format older than Go 1.11's \
                 that leakscope does not read; it reads traces written by Go 1.11 and newer"
            ),
        ));
    }
    let version = if minor > Version::NEWEST_KNOWN.0 {
        problems.add_at(
            &format!(
                "trace format go 1.{minor} is newer than the newest leakscope knows (go 1.{}); read as that",
                Version::NEWEST_KNOWN.0
            ),
            Some(0),
        );
        Version::NEWEST_KNOWN
    } else {
        Version(minor)
    };
    let located = batches::locate(bytes, version);
    for p in &located.problems {
        problems.add(&p.message, p.offset);
    }
    if located.generations.is_empty() {
        return Err(ParseError::at_offset(
            KIND,
            wire::HEADER_LEN as u64,
            "no trace data after the header (the trace is empty or cut off right after it)",
        ));
    }
    let mut capture = Capture::new(path, KIND);
    capture.source.go_version = Some(format!("go1.{minor}"));
    capture.source.bytes = bytes.len() as u64;
    // A cut (not corruption: that is only warned about) makes the leak rules discount what
    // the cut may explain, as for a cut Chrome trace.
    capture.source.truncated = located.cut.is_some();
    let cut_generation = located.cut.and_then(|c| c.generation_index);
    let gens = &located.generations;
    let event_counts = count_events(bytes, pages, gens, version);
    let passes = match passes {
        Passes::Chosen => {
            let estimate = build::estimate(&event_counts.all, &event_counts.first_generation);
            block_shift(estimate).map_or(Passes::Two, Passes::Blocks)
        }
        chosen => chosen,
    };
    let mut builder = Builder::new(capture);
    if let Passes::Blocks(shift) = passes {
        builder = builder.in_blocks(shift, event_counts.goroutine_room());
    }
    let two_pass = passes == Passes::Two;
    let pass_count = if two_pass { 2 } else { 1 };
    let counted = if two_pass {
        let estimate = event_counts.goroutine_room();
        let mut counter = Builder::new(Capture::new(path, KIND)).counting(estimate);
        counter.reserve(&event_counts.all, &event_counts.first_generation, None);
        let (counter, end, room, logs) = read_events(
            bytes,
            pages,
            version,
            (gens, cut_generation),
            counter,
            (estimate, MergeLog::Record),
            progress,
            pass_count,
        )?;
        let mut counts = counter.into_counts(end);
        counts.goroutines = room;
        builder = builder.placing(&mut counts);
        Some((counts, logs))
    } else {
        None
    };
    builder.problems = problems;
    builder.set_format(minor, None);
    builder.reserve(&event_counts.all, &event_counts.first_generation, counted.as_ref().map(|(c, _)| c));
    let (room, log) = counted.map_or((event_counts.goroutine_room(), MergeLog::None), |(c, logs)| {
        (c.goroutines, MergeLog::Replay(logs))
    });
    let (mut builder, end, _, _) = read_events(
        bytes,
        pages,
        version,
        (gens, cut_generation),
        builder,
        (room, log),
        progress,
        pass_count,
    )?;
    let problems = std::mem::take(&mut builder.problems);
    let mut capture = builder.finish(end);
    problems.into_warnings(&mut capture.warnings);
    Ok(capture)
}

/// How a trace is read. Its intervals go into columns in task order, and a task's count is
/// only known once the whole trace is read. Where a trace's tasks are few against its intervals
/// (a busy service: hundreds of goroutines, millions of states), one pass writes each task's
/// intervals into blocks of slots it takes as it needs them and gathers the blocks by task at
/// the end; the blocks left part empty, one a task, cost little. Where tasks are many (a
/// goroutine a request), those would be most of the columns, so a first pass counts each
/// task's intervals and the second writes every one straight into its final place (the second
/// costs about 0.8 times the first). Appending intervals with their task and sorting them at
/// the end needs 10 bytes an interval more than the intervals themselves; it stays for the old
/// format, whose reader is one pass, and as what the others must come out equal to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Passes {
    /// As the trace's event counts say: [`Passes::Blocks`] where [`block_shift`] finds a block
    /// size, else [`Passes::Two`].
    Chosen,
    /// One pass, appending intervals and sorting them by task at the end.
    #[cfg(test)]
    Sorted,
    /// One pass into blocks of `1 << shift` slots.
    Blocks(u32),
    /// A counting pass, then a placing one.
    Two,
}

/// The largest block for a one-pass read (see [`Passes`]), from 16 to 4,096 slots, whose
/// part-empty blocks, at most one a lane, are an eighth of the intervals or less, or at most
/// [`SLACK_ROWS`]; `None` when even the smallest leaves more (many lanes of few intervals each:
/// then two passes). A busy trace's few hundred lanes take blocks of 4,096, a few megabytes
/// of its hundreds.
fn block_shift(estimate: build::Estimate) -> Option<u32> {
    let most = (estimate.intervals / 8).max(SLACK_ROWS);
    (4..=12u32).rev().find(|&shift| estimate.lanes.saturating_mul(1 << shift) <= most)
}

/// Part-empty slots a one-pass read may leave whatever its intervals (6 bytes each), so that
/// a small trace with few lanes is read once too.
const SLACK_ROWS: usize = 1 << 16;

/// How the threads' events of each generation were merged, one byte a step: the index of the
/// thread whose event came next, or [`LOG_SAMPLE`] for a CPU sample, or [`LOG_FORCED`] and the
/// index for an event forced through. The first pass records it; the second, which must merge
/// the same events in the same order, replays it instead of keeping the heap of next events and
/// comparing their times. `None` for a generation with more
/// threads than a byte can name, which the second pass merges anew. Measured in turns against
/// the heap in both passes (medians of 3-6, release binaries): the goroutine-dense 89 MB trace
/// 4.05 -> 3.59 s, whose second pass waits on its ordering; the busy 221 MB trace unchanged
/// (6.1 s), whose second pass waits on its builder. The log is a byte an event (0.18x the file).
type GenerationLog = Option<Vec<u8>>;

/// A log step: the next CPU sample.
const LOG_SAMPLE: u8 = 0xff;
/// A log step: the next byte's thread's event, forced through (see `Orderer::generation`).
const LOG_FORCED: u8 = 0xfe;
/// Threads a generation may have for its merge to be logged.
const LOG_MAX_THREADS: usize = LOG_FORCED as usize;

/// What a pass does with the merge logs.
enum MergeLog {
    /// Neither records nor replays (one pass).
    None,
    /// Records a log per generation.
    Record,
    /// Replays the logs a first pass recorded, one per generation.
    Replay(Vec<GenerationLog>),
}

/// Orders every generation's events into `builder`, with the goroutine table sized for `room`
/// (what a first pass saw), recording or replaying the merge logs as `log` says; returns it with
/// the trace's end, what the goroutine table held and the logs recorded.
///
/// Ordering and building run on two threads, as a pipeline: one thread decodes the threads'
/// events and merges them into their final order (the scheduler emulation, with the next
/// generation's tables decoded beside it), the other builds the model from what the first
/// hands over in chunks. Either stage alone is about half of a pass, and the builder's state
/// carries from one generation to the next, so a pipeline is how a pass uses both cores; the
/// chunks in flight are bounded, so it adds a few megabytes at most.
// The arguments are the read's inputs, each used once; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn read_events(
    bytes: &[u8],
    pages: Pages<'_>,
    version: Version,
    (gens, cut_generation): (&[Generation], Option<usize>),
    builder: Builder,
    (room, log): (Room, MergeLog),
    progress: &Progress,
    passes: u64,
) -> Result<(Builder, i64, Room, Vec<GenerationLog>), ParseError> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Chunk<'_>>(CHUNKS_IN_FLIGHT);
    // The chunks' event buffers go back to the orderer to be filled again: a new one per chunk
    // (720 KB) was pages the allocator handed back to the kernel and got anew, zeroed, a tenth
    // of a busy trace's read spent clearing pages.
    let (spare_tx, spare_rx) = std::sync::mpsc::channel::<Vec<Ordered>>();
    let reader = Reader {
        version,
        cut_generation,
        builder,
        frames_by_pc: HashMap::new(),
        freq: None,
        progress,
        passes,
        current: None,
        saved_problems: None,
    };
    let (reader, cancelled, room, logs) = std::thread::scope(|scope| {
        // The builder takes the spawned thread because it never waits on rayon: the orderer,
        // which does (decoding tables), may then be a rayon worker itself, as when a caller
        // parses inside a pool, without the two waiting on each other.
        let building = scope.spawn(move || {
            let mut reader = reader;
            let mut cancelled = false;
            for chunk in rx {
                // The events between two items go as one run, without a look at the items
                // at every event.
                let mut done = 0;
                for (at, item) in chunk.others {
                    let run =
                        chunk.events.get(done..at.min(chunk.events.len()).max(done)).unwrap_or_default();
                    for &event in run {
                        reader.event(event);
                    }
                    done += run.len();
                    cancelled |= reader.apply(item, gens, pages);
                }
                for &event in chunk.events.get(done..).unwrap_or_default() {
                    reader.event(event);
                }
                let mut spare = chunk.events;
                spare.clear();
                // The orderer may be done already.
                let _ = spare_tx.send(spare);
                if cancelled {
                    break;
                }
            }
            (reader, cancelled)
        });
        let mut ordering = Ordering::with_goroutines(room);
        ordering.queue = Vec::with_capacity(CHUNK + CHUNK_SLACK);
        let (record, replay) = match log {
            MergeLog::None => (false, Vec::new()),
            MergeLog::Record => (true, Vec::new()),
            MergeLog::Replay(logs) => (false, logs),
        };
        let mut orderer = Orderer {
            bytes,
            version,
            ordering,
            freq: None,
            progress,
            others: Vec::new(),
            tx,
            spare: spare_rx,
            record,
            logs: replay,
        };
        orderer.run(gens);
        let room = orderer.ordering.goroutine_room();
        let logs = if record { std::mem::take(&mut orderer.logs) } else { Vec::new() };
        // Dropping the sender ends the builder's loop.
        drop(orderer);
        // A panic in the builder is a bug that must not pass for a finished read.
        let (reader, cancelled) = building.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (reader, cancelled, room, logs)
    });
    if cancelled || progress.is_cancelled() {
        return Err(super::cancelled(KIND));
    }
    let Reader { mut builder, .. } = reader;
    let end = builder.final_sync();
    Ok((builder, end, room, logs))
}

/// Events per chunk handed from the orderer to the builder: large enough that the hand-over
/// (a wake-up of the other thread) costs nothing per event; 2,048 spent a tenth of a busy
/// trace's read in the kernel's scheduler, 8,192 (720 KB) reads 7% faster.
const CHUNK: usize = 8192;
/// Room past [`CHUNK`] in a chunk's events: one advance may queue a few (synthesized ones).
const CHUNK_SLACK: usize = 16;
/// Chunks the orderer may run ahead of the builder (about 720 KB each).
const CHUNKS_IN_FLIGHT: usize = 4;

/// What the orderer hands the builder at once: events in their final order (their times not
/// yet fixed), and the other items, each at its place among them. The events are the
/// ordering's own queue, handed over whole, so an event is not copied on its way.
struct Chunk<'a> {
    events: Vec<Ordered>,
    /// Each with how many of `events` come before it.
    others: Vec<(usize, Item<'a>)>,
}

/// What the orderer hands the builder besides events, in the order the builder must apply it.
enum Item<'a> {
    /// A generation begins: its index and its decoded tables, for the builder to intern.
    Generation(usize, Box<GenTables<'a>>),
    /// A CPU sample of the current generation, by its index in the generation's table, at its
    /// time (not yet fixed).
    Sample(i64, usize),
    /// A problem found while reading or ordering events, at its byte offset.
    Problem(&'static str, usize),
    /// The generation with this index has sent all its events.
    GenerationEnd(usize),
    /// The read was cancelled.
    Cancelled,
}

/// The ordering stage: reads the threads' events and merges them into their final order.
/// The ordering carries over generations, as goroutines do.
struct Orderer<'a, 'p> {
    bytes: &'a [u8],
    version: Version,
    ordering: Ordering,
    freq: Option<Freq>,
    progress: &'p Progress,
    /// Items for the chunk being filled; its events are `ordering.queue`.
    others: Vec<(usize, Item<'a>)>,
    tx: std::sync::mpsc::SyncSender<Chunk<'a>>,
    /// Event buffers the builder is done with.
    spare: std::sync::mpsc::Receiver<Vec<Ordered>>,
    /// Whether to record each generation's merge into `logs`.
    record: bool,
    /// The merge logs by generation index: recorded, or to replay.
    logs: Vec<GenerationLog>,
}

impl<'a> Orderer<'a, '_> {
    /// Orders every generation, decoding the next one's tables meanwhile.
    fn run(&mut self, gens: &'a [Generation]) {
        let bytes = self.bytes;
        let version = self.version;
        let mut next_tables = gens.first().map(|g| tables::decode(bytes, g, version));
        for (i, generation) in gens.iter().enumerate() {
            let Some(current) = next_tables.take() else { break };
            let following = gens.get(i + 1);
            let (going, decoded) = rayon::join(
                || self.generation(i, generation, current),
                || following.map(|g| tables::decode(bytes, g, version)),
            );
            next_tables = decoded;
            if !going || self.progress.is_cancelled() {
                break;
            }
        }
        self.flush();
    }

    /// Puts an item after the events queued so far, handing the chunk over when full; false
    /// when the builder is gone.
    fn emit(&mut self, item: Item<'a>) -> bool {
        self.emit_at(self.ordering.queue.len(), item)
    }

    /// Puts an item before the queue's events from `at` on.
    fn emit_at(&mut self, at: usize, item: Item<'a>) -> bool {
        self.others.push((at, item));
        self.flush_full()
    }

    /// Hands the chunk over if it is full.
    fn flush_full(&mut self) -> bool {
        if self.ordering.queue.len() < CHUNK && self.others.len() < CHUNK {
            return true;
        }
        self.flush()
    }

    fn flush(&mut self) -> bool {
        if self.ordering.queue.is_empty() && self.others.is_empty() {
            return true;
        }
        let next = self.spare.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK + CHUNK_SLACK));
        let events = std::mem::replace(&mut self.ordering.queue, next);
        let others = std::mem::take(&mut self.others);
        self.tx.send(Chunk { events, others }).is_ok()
    }

    /// Orders one generation's events; false when the read stops (cancelled, or the builder
    /// is gone).
    fn generation(&mut self, index: usize, generation: &'a Generation, tables: GenTables<'a>) -> bool {
        // The same choice of frequency as the builder's (see `Reader::begin_generation`).
        let freq = match tables.freq.filter(|&f| f > 0) {
            Some(f) => Freq::from_ticks_per_second(f),
            None => self.freq.unwrap_or(Freq(64.0)),
        };
        self.freq = Some(freq);
        let mut samples: Vec<(i64, usize)> =
            tables.samples.iter().enumerate().map(|(i, s)| (freq.ns(s.ticks), i)).collect();
        samples.sort_by_key(|&(t, _)| t);
        if !self.emit(Item::Generation(index, Box::new(tables))) {
            return false;
        }

        let mut order: Vec<u64> = Vec::new();
        let mut by_m: HashMap<u64, Vec<&batches::Batch>> = HashMap::new();
        for b in &generation.batches {
            if b.kind == BatchKind::Events {
                by_m.entry(b.m).or_insert_with(|| {
                    order.push(b.m);
                    Vec::new()
                });
                if let Some(list) = by_m.get_mut(&b.m) {
                    list.push(b);
                }
            }
        }
        // The heap holds each thread's next time and the index of its cursor: a thread's
        // event often waits for another's, and then the heap is sorted (see below), which moves
        // 16-byte slots instead of whole cursors.
        let mut cursors: Vec<Cursor<'_>> = Vec::with_capacity(order.len());
        let mut heap: Vec<Slot> = Vec::with_capacity(order.len());
        for m in order {
            let mut cursor = Cursor::new(m, by_m.remove(&m).unwrap_or_default());
            if self.refill(&mut cursor, freq) {
                heap.push(Slot { time: cursor.ev().time, cursor: cursors.len() });
                cursors.push(cursor);
                let last = heap.len() - 1;
                sift_up(&mut heap, last);
            }
        }
        // A second pass replays the first's merge of this generation.
        if let Some(log) = self.logs.get_mut(index).and_then(Option::take) {
            return self.replay(&log, &mut cursors, &samples, generation.number, freq)
                && self.emit(Item::GenerationEnd(index));
        }
        let mut log = (self.record && cursors.len() <= LOG_MAX_THREADS).then(Vec::new);
        let mut next_sample = 0usize;
        let mut steps = 0u32;
        loop {
            while let Some(&(t, i)) = samples.get(next_sample) {
                if heap.first().is_some_and(|s| s.time <= t) {
                    break;
                }
                next_sample += 1;
                if let Some(log) = &mut log {
                    log.push(LOG_SAMPLE);
                }
                if !self.emit(Item::Sample(t, i)) {
                    return false;
                }
            }
            if heap.is_empty() {
                break;
            }
            steps = steps.wrapping_add(1);
            if steps.is_multiple_of(1 << 16) && self.progress.is_cancelled() {
                self.emit(Item::Cancelled);
                return false;
            }
            if self.try_advance(&mut heap, &mut cursors, (0, false), (generation.number, freq), log.as_mut())
            {
                continue;
            }
            // The earliest event must wait for another thread's: try the others in time order.
            heap.sort_by_key(|s| s.time);
            let advanced = (1..heap.len()).any(|i| {
                self.try_advance(&mut heap, &mut cursors, (i, false), (generation.number, freq), log.as_mut())
            });
            if !advanced {
                let offset = heap
                    .first()
                    .and_then(|s| cursors.get(s.cursor))
                    .map_or(generation.offset, |c| c.ev().offset);
                self.emit(Item::Problem(NONE_CAN_FOLLOW, offset));
                self.try_advance(&mut heap, &mut cursors, (0, true), (generation.number, freq), log.as_mut());
            }
        }
        if self.record {
            self.logs.push(log);
        }
        self.emit(Item::GenerationEnd(index))
    }

    /// Merges a generation's events as the first pass did, by its log; false when the read
    /// stops (cancelled, or the builder is gone).
    fn replay(
        &mut self,
        log: &[u8],
        cursors: &mut [Cursor<'_>],
        samples: &[(i64, usize)],
        generation: u64,
        freq: Freq,
    ) -> bool {
        let mut next_sample = 0usize;
        let mut steps = 0u32;
        let mut codes = log.iter().copied();
        while let Some(code) = codes.next() {
            steps = steps.wrapping_add(1);
            if steps.is_multiple_of(1 << 16) && self.progress.is_cancelled() {
                self.emit(Item::Cancelled);
                return false;
            }
            let (index, force) = match code {
                LOG_SAMPLE => {
                    if let Some(&(t, i)) = samples.get(next_sample) {
                        next_sample += 1;
                        if !self.emit(Item::Sample(t, i)) {
                            return false;
                        }
                    }
                    continue;
                }
                LOG_FORCED => (codes.next().unwrap_or(u8::MAX), true),
                index => (index, false),
            };
            let Some(cursor) = cursors.get_mut(usize::from(index)) else { continue };
            if force {
                let offset = cursor.ev().offset;
                self.emit(Item::Problem(NONE_CAN_FOLLOW, offset));
            }
            // The first pass advanced this very event here, from the same state.
            if self.consume(cursor, generation, freq, force).is_none() {
                debug_assert!(false, "a replayed step of the merge could not advance");
                self.consume(cursor, generation, freq, true);
            }
        }
        true
    }

    /// Reads a cursor's next event, reporting unreadable ones; false when it has no more.
    #[inline]
    fn refill(&mut self, cursor: &mut Cursor<'_>, freq: Freq) -> bool {
        loop {
            match cursor.next(self.bytes, freq, self.version) {
                Ok(more) => return more,
                Err(e) => {
                    self.emit(Item::Problem(e.message, e.offset));
                }
            }
        }
    }

    /// Tries to advance the event of the cursor in `heap[i]` (forced through with `force`),
    /// logging the step when it is consumed; true when it was.
    fn try_advance(
        &mut self,
        heap: &mut Vec<Slot>,
        cursors: &mut [Cursor<'_>],
        (i, force): (usize, bool),
        (generation, freq): (u64, Freq),
        log: Option<&mut Vec<u8>>,
    ) -> bool {
        let Some(slot) = heap.get(i).copied() else { return false };
        let Some(cursor) = cursors.get_mut(slot.cursor) else { return false };
        let Some(more) = self.consume(cursor, generation, freq, force) else { return false };
        if let Some(log) = log {
            if force {
                log.push(LOG_FORCED);
            }
            // At most `LOG_MAX_THREADS` cursors when logging.
            log.push(slot.cursor as u8);
        }
        if more {
            if let Some(s) = heap.get_mut(i) {
                s.time = cursor.ev().time;
            }
            if sift_up(heap, i) == i {
                sift_down(heap, i);
            }
        } else {
            remove(heap, i);
        }
        true
    }

    /// Advances the cursor's event (forced through with `force`) and reads its next one:
    /// `None` when the event must wait for another thread's, else whether the cursor has more.
    #[inline]
    fn consume(&mut self, cursor: &mut Cursor<'_>, generation: u64, freq: Freq, force: bool) -> Option<bool> {
        // The advance queues its events straight into the chunk; a problem with it goes
        // before them.
        let before = self.ordering.queue.len();
        let (ev, thread) = cursor.current();
        match self.ordering.advance(ev, thread, generation, force) {
            Outcome::NotYet if !force => return None,
            Outcome::NotYet | Outcome::Advanced => {
                self.flush_full();
            }
            Outcome::AdvancedAnyway(why) | Outcome::Dropped(why) => {
                let offset = cursor.ev().offset;
                self.emit_at(before, Item::Problem(why, offset));
            }
        }
        Some(self.refill(cursor, freq))
    }
}

/// The problem of a generation's merge that found no thread's next event able to follow.
const NONE_CAN_FOLLOW: &str = "no thread's next event can follow by the sequence numbers (events missing or out of order); the earliest was applied anyway";

/// A heap entry: a thread's next event time and the index of its cursor.
#[derive(Clone, Copy)]
struct Slot {
    time: i64,
    cursor: usize,
}

/// Events of every type (by wire type) in the whole trace and in its first generation, and
/// the largest goroutine id that creations and statuses name.
struct EventCounts {
    all: [u64; 256],
    first_generation: [u64; 256],
    largest_goroutine: u64,
}

impl EventCounts {
    /// What the first pass's goroutine table should be sized for, from the counts alone: every
    /// goroutine created or given a status may be one more id. A trace of many short-lived
    /// goroutines then gets an array indexed by id, as the second pass does (see
    /// `IdMap::for_room`), where a hash map cost a quarter of the first pass.
    fn goroutine_room(&self) -> Room {
        let n = |types: &[u8]| -> u64 {
            types.iter().map(|&t| self.all.get(usize::from(t)).copied().unwrap_or(0)).sum()
        };
        // Goroutines that existed before the trace have a status in the first generation
        // (later ones repeat those of goroutines that act in them).
        let first: u64 = [wire::ev::GO_STATUS, wire::ev::GO_STATUS_STACK]
            .iter()
            .map(|&t| self.first_generation.get(usize::from(t)).copied().unwrap_or(0))
            .sum();
        let ids = n(&[wire::ev::GO_CREATE, wire::ev::GO_CREATE_BLOCKED, wire::ev::GO_CREATE_SYSCALL]) + first;
        Room { most: 0, largest: self.largest_goroutine, seen: usize::try_from(ids).unwrap_or(usize::MAX) }
    }
}

/// Counts the events of every type in all event batches, in parallel.
fn count_events(bytes: &[u8], pages: Pages<'_>, gens: &[Generation], version: Version) -> EventCounts {
    use rayon::prelude::*;
    let add = |a: &mut [u64; 256], b: &[u64; 256]| {
        for (x, y) in a.iter_mut().zip(b) {
            *x += y;
        }
    };
    let (all, first_generation, largest_goroutine) = gens
        .par_iter()
        .enumerate()
        .flat_map_iter(|(i, g)| g.batches.iter().filter(|b| b.kind == BatchKind::Events).map(move |b| (i, b)))
        .fold(
            || ([0u64; 256], [0u64; 256], 0u64),
            |(mut all, mut first, largest), (i, b)| {
                let mut counts = [0u64; 256];
                let in_batch =
                    order::count_events(bytes.get(b.data.clone()).unwrap_or_default(), version, &mut counts);
                pages.release(b.data.clone());
                add(&mut all, &counts);
                if i == 0 {
                    add(&mut first, &counts);
                }
                (all, first, largest.max(in_batch))
            },
        )
        .reduce(
            || ([0u64; 256], [0u64; 256], 0u64),
            |(mut a, mut af, la), (b, bf, lb)| {
                add(&mut a, &b);
                add(&mut af, &bf);
                (a, af, la.max(lb))
            },
        );
    EventCounts { all, first_generation, largest_goroutine }
}

/// The building stage: applies the orderer's items to the builder.
struct Reader<'a, 'p> {
    version: Version,
    /// The generation a cut-off file ends in.
    cut_generation: Option<usize>,
    builder: Builder,
    frames_by_pc: HashMap<u64, crate::model::FrameId>,
    freq: Option<Freq>,
    progress: &'p Progress,
    /// How many passes the read takes, to share out the progress.
    passes: u64,
    /// The generation being built: its tables (for the CPU samples) and interned ids.
    current: Option<(Box<GenTables<'a>>, Interned)>,
    /// The problems from before the cut generation, while its own are gathered apart.
    saved_problems: Option<Problems>,
}

impl<'a> Reader<'a, '_> {
    /// Applies an item other than an event; true when it says the read was cancelled.
    fn apply(&mut self, item: Item<'a>, gens: &[Generation], pages: Pages<'_>) -> bool {
        match item {
            Item::Cancelled => return true,
            Item::GenerationEnd(index) => {
                if let Some(g) = gens.get(index) {
                    self.end_generation(g);
                    pages.release_generation(g);
                }
            }
            other => self.item(other, gens),
        }
        false
    }

    /// The next event in its final order.
    fn event(&mut self, mut o: Ordered) {
        o.ev.time = self.builder.fix_time(o.ev.time);
        if let Some((_, ids)) = &self.current {
            self.builder.event(&o, ids);
        }
    }

    fn item(&mut self, item: Item<'a>, gens: &[Generation]) {
        match item {
            Item::Generation(index, tables) => {
                if let Some(generation) = gens.get(index) {
                    self.begin_generation(index, generation, tables);
                }
            }
            Item::Sample(t, i) => {
                let t = self.builder.fix_time(t);
                if let Some((tables, ids)) = &self.current
                    && let Some(s) = tables.samples.get(i)
                {
                    self.builder.cpu_sample(t, s, ids);
                }
            }
            Item::Problem(message, offset) => self.builder.problems.add(message, offset),
            Item::GenerationEnd(_) | Item::Cancelled => {}
        }
    }

    fn begin_generation(&mut self, index: usize, generation: &Generation, mut tables: Box<GenTables<'a>>) {
        if self.cut_generation == Some(index) {
            // A cut generation lacks what the runtime writes at its end (the string and stack
            // tables) and maybe other threads' batches: its events name strings and stacks
            // that are not there and break sequences. Those problems follow from the cut,
            // which has its own warning, so they are gathered apart and told as one line (in
            // `end_generation`) instead of a list that reads as corruption.
            self.saved_problems = Some(std::mem::take(&mut self.builder.problems));
        }
        for p in &tables.problems {
            self.builder.problems.add(&p.message, p.offset);
        }
        let ids = tables::intern(&tables, &mut self.builder.capture, &mut self.frames_by_pc);
        // Events name stacks and strings by the interned ids from here on; the raw tables
        // would sit beside the next generation's, decoded meanwhile, for nothing.
        tables.drop_interned();
        if ids.unknown_frame_strings > 0 {
            self.builder
                .problems
                .add("stack frames name strings missing from their generation's table", generation.offset);
        }
        let freq = if let Some(f) = tables.freq.filter(|&f| f > 0) {
            if index == 0 {
                self.builder.set_format(self.version.0, Some(f));
                if let Some(c) = tables.clock {
                    self.set_wall_clock(Freq::from_ticks_per_second(f), c, generation);
                }
            }
            Freq::from_ticks_per_second(f)
        } else {
            self.builder
                .problems
                .add("generation without a timestamp frequency; the previous one is used", generation.offset);
            // Go's runtime ticks at 64 ns on most platforms; without any frequency that is the
            // best guess.
            self.freq.unwrap_or(Freq(64.0))
        };
        self.freq = Some(freq);
        let cut = self.cut_generation == Some(index);
        self.builder.sync(freq.ns(generation.min_time.unwrap_or(0)), index, generation.number, cut);
        for b in &generation.batches {
            if b.kind == BatchKind::Experimental {
                self.builder.experimental_batch();
            }
        }
        self.current = Some((tables, ids));
    }

    fn end_generation(&mut self, generation: &Generation) {
        self.current = None;
        if let Some(before) = self.saved_problems.take() {
            let cut = std::mem::replace(&mut self.builder.problems, before);
            if let Some(first) = cut.first_offset() {
                self.builder.problems.add(
                    &format!(
                        "generation {} is cut off, and {} problems in its events follow from that (its string and stack tables come at its end, and other threads' batches may be missing); its events are kept as far as they go",
                        generation.number,
                        cut.total()
                    ),
                    first,
                );
            }
        }
        let size: usize = generation.batches.iter().map(|b| b.data.len()).sum();
        self.progress.advance(size as u64 / self.passes.max(1));
    }

    fn set_wall_clock(&mut self, freq: Freq, clock: tables::ClockSnapshot, generation: &Generation) {
        let wall_ns = (clock.sec as i64).saturating_mul(1_000_000_000).saturating_add(clock.nsec as i64);
        let snap_ns = freq.ns(clock.ticks);
        let start_ns = freq.ns(generation.min_time.unwrap_or(clock.ticks));
        self.builder.capture.source.captured_at_ns =
            Some(wall_ns.saturating_sub(snap_ns.saturating_sub(start_ns)));
    }
}

fn sift_up(heap: &mut [Slot], mut i: usize) -> usize {
    while i > 0 {
        let parent = (i - 1) / 2;
        let (Some(p), Some(c)) = (heap.get(parent), heap.get(i)) else { break };
        if p.time <= c.time {
            break;
        }
        heap.swap(parent, i);
        i = parent;
    }
    i
}

fn sift_down(heap: &mut [Slot], mut i: usize) {
    loop {
        let mut min = i;
        for child in [2 * i + 1, 2 * i + 2] {
            if let (Some(c), Some(m)) = (heap.get(child), heap.get(min))
                && c.time < m.time
            {
                min = child;
            }
        }
        if min == i {
            return;
        }
        heap.swap(i, min);
        i = min;
    }
}

fn remove(heap: &mut Vec<Slot>, mut i: usize) {
    // Move the entry to the root ignoring order, then drop the root like a pop.
    while i > 0 {
        let parent = (i - 1) / 2;
        heap.swap(parent, i);
        i = parent;
    }
    let last = heap.len().saturating_sub(1);
    heap.swap(0, last);
    heap.pop();
    sift_down(heap, 0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::go_trace::wire::{ev, put_uvarint};
    use crate::model::{IntervalKind, TaskFlags};

    /// A one-generation Go 1.26 trace whose thread 1 writes `events` (type, args after dt).
    fn trace(events: &[(u8, &[u64])]) -> Vec<u8> {
        let mut out = b"go 1.26 trace\0\0\0".to_vec();
        let mut batch = |m: u64, data: &[u8]| {
            out.push(ev::EVENT_BATCH);
            for v in [1, m, 1, data.len() as u64] {
                put_uvarint(&mut out, v);
            }
            out.extend_from_slice(data);
        };
        let mut sync = vec![ev::SYNC, ev::FREQUENCY];
        put_uvarint(&mut sync, 1_000_000_000);
        sync.push(ev::CLOCK_SNAPSHOT);
        for v in [0, 0, 1_700_000_000, 0] {
            put_uvarint(&mut sync, v);
        }
        batch(u64::MAX, &sync);
        let mut data = Vec::new();
        for (typ, args) in events {
            data.push(*typ);
            put_uvarint(&mut data, 10);
            for &a in *args {
                put_uvarint(&mut data, a);
            }
        }
        batch(1, &data);
        let mut strings = vec![ev::STRINGS, ev::STRING, 1, 12];
        strings.extend_from_slice(b"chan receive");
        batch(u64::MAX, &strings);
        batch(u64::MAX, &[ev::STACKS]);
        out.push(ev::END_OF_GENERATION);
        out
    }

    fn parse(bytes: &[u8]) -> Capture {
        parse_bytes(bytes, "t", &Progress::new()).unwrap()
    }

    #[test]
    fn a_goroutine_lives_blocks_and_ends() {
        let c = parse(&trace(&[
            (ev::PROC_STATUS, &[0, 1]),
            (ev::GO_STATUS, &[1, 1, 2]),
            (ev::GO_CREATE, &[7, 0, 0]),
            (ev::GO_BLOCK, &[1, 0]),
            (ev::GO_START, &[7, 1]),
            (ev::GO_UNBLOCK, &[1, 1, 0]),
            (ev::GO_DESTROY, &[]),
            (ev::GO_START, &[1, 2]),
        ]));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
        let g7 = c.tasks.iter().find(|t| t.id == 7).unwrap();
        assert!(g7.flags.contains(TaskFlags::ENDED));
        assert_eq!(g7.parent_id, crate::model::OptId::some(1));
        let kinds: Vec<IntervalKind> = g7.intervals.indices().map(|i| c.intervals.kind(i)).collect();
        assert_eq!(kinds, vec![IntervalKind::Runnable, IntervalKind::Running]);
        let g1 = c.tasks.iter().find(|t| t.id == 1).unwrap();
        assert!(g1.flags.contains(TaskFlags::EXISTED_BEFORE));
        assert_eq!(c.str(g1.state), "running");
        let blocked = g1.intervals.indices().find(|&i| c.intervals.kind(i) == IntervalKind::Blocked).unwrap();
        assert_eq!(c.str(c.intervals.label(blocked)), "chan receive");
        let unblock = c.links.iter().find(|l| l.kind == crate::model::LinkKind::Unblock).unwrap();
        assert_eq!(
            (c.tasks.at(unblock.from_task as usize).id, c.tasks.at(unblock.to_task as usize).id),
            (7, 1)
        );
    }

    #[test]
    fn out_of_sequence_events_are_forced_through_with_a_warning() {
        // The start names sequence 5 where 1 is due: nothing can advance, so it is forced.
        let c = parse(&trace(&[
            (ev::PROC_STATUS, &[0, 1]),
            (ev::GO_STATUS, &[3, NONE_M, 1]),
            (ev::GO_START, &[3, 5]),
        ]));
        let g3 = c.tasks.iter().find(|t| t.id == 3).unwrap();
        assert_eq!(c.str(g3.state), "running");
        assert!(c.warnings.lines().iter().any(|w| w.contains("sequence")), "{:?}", c.warnings.lines());
    }

    #[test]
    fn events_that_cannot_be_true_are_skipped_with_a_warning() {
        // A block with no goroutine running on the thread.
        let c = parse(&trace(&[(ev::PROC_STATUS, &[0, 1]), (ev::GO_BLOCK, &[1, 0])]));
        assert!(c.warnings.lines().iter().any(|w| w.contains("no goroutine")), "{:?}", c.warnings.lines());
    }

    #[test]
    fn old_and_foreign_inputs_are_refused_clearly() {
        let ancient = parse_bytes(b"go 1.10 trace\0\0\0\x00\x01", "t", &Progress::new()).unwrap_err();
        assert!(ancient.message.contains("Go 1.10") && ancient.message.contains("1.11"), "{ancient}");
        let old_cut = parse_bytes(b"go 1.21 trace\0\0\0\x00\x01", "t", &Progress::new()).unwrap_err();
        assert!(old_cut.message.contains("frequency"), "{old_cut}");
        let empty = parse_bytes(b"go 1.26 trace\0\0\0", "t", &Progress::new()).unwrap_err();
        assert!(empty.message.contains("no trace data"), "{empty}");
        assert!(parse_bytes(b"hello", "t", &Progress::new()).is_err());
        assert_eq!(GoTrace.sniff(b"go 1.2", false), Sniff::NeedMore);
        assert_eq!(GoTrace.sniff(b"go 1.19 trace\0\0\0", true), Sniff::Yes);
        assert_eq!(GoTrace.sniff(b"goroutine 1 [running]:", false), Sniff::No);
    }

    const NONE_M: u64 = u64::MAX;

    /// Every way of reading a trace builds the same capture: two passes, and one pass into
    /// blocks of one slot (every interval moves), of a few and of more than any task fills,
    /// against one pass that sorts its intervals by task.
    #[test]
    fn every_way_of_reading_builds_the_same_capture() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sample-traces");
        for name in ["go-leaky.trace", "go-annotated.trace", "go-flight.1.trace"] {
            let bytes = std::fs::read(dir.join(name)).unwrap();
            let one = parse_with(&bytes, Pages(None), name, &Progress::new(), Passes::Sorted).unwrap();
            for passes in
                [Passes::Two, Passes::Blocks(0), Passes::Blocks(2), Passes::Blocks(12), Passes::Chosen]
            {
                let other = parse_with(&bytes, Pages(None), name, &Progress::new(), passes).unwrap();
                assert_eq!(one.tasks, other.tasks, "{name} {passes:?}");
                assert!(one.intervals == other.intervals, "{name} {passes:?}: intervals differ");
                assert_eq!(one.links, other.links, "{name} {passes:?}");
                assert_eq!(one.samples.stack, other.samples.stack, "{name} {passes:?}");
                assert_eq!(one.warnings.lines(), other.warnings.lines(), "{name} {passes:?}");
                assert_eq!(
                    one.trace.as_ref().map(|t| &t.event_counts),
                    other.trace.as_ref().map(|t| &t.event_counts)
                );
                // Ends left to the next state's start are the ends the events gave.
                build::EVERY_END.set(true);
                let every = parse_with(&bytes, Pages(None), name, &Progress::new(), passes).unwrap();
                build::EVERY_END.set(false);
                assert!(every.intervals == other.intervals, "{name} {passes:?}: ends differ");
            }
        }
    }
}
