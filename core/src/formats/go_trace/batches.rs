//! Locating batches: one pass over the file that reads only batch headers and steps over their
//! contents, grouping them into generations. Nothing here decodes an event; the per-generation
//! tables and the event batches are decoded afterwards (tables in parallel).

use std::ops::Range;

use super::wire::{self, Version, ev};

/// What a batch holds, from its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BatchKind {
    /// Timed events written by one M.
    Events,
    /// A piece of the generation's string table.
    Strings,
    /// A piece of the generation's stack table.
    Stacks,
    /// CPU profile samples.
    CpuSamples,
    /// The frequency (and, from Go 1.25, a clock snapshot).
    Sync,
    /// An experiment's private data, which we skip.
    Experimental,
}

/// One batch: its header and where its data lies in the file.
#[derive(Clone, Debug)]
pub(crate) struct Batch {
    /// The thread (M) that wrote it; `u64::MAX` for the tables.
    pub m: u64,
    /// Base timestamp in ticks.
    pub time: u64,
    /// Data bytes in the file (after the header).
    pub data: Range<usize>,
    /// What it holds.
    pub kind: BatchKind,
}

/// The batches of one generation, in file order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Generation {
    /// The generation number the runtime gave it.
    pub number: u64,
    /// Batches in file order.
    pub batches: Vec<Batch>,
    /// Smallest batch timestamp, in ticks; the generation's sync point.
    pub min_time: Option<u64>,
    /// Byte offset of the generation's first batch.
    pub offset: usize,
}

/// Problems found while locating batches; each becomes a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LocateProblem {
    /// Byte offset.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// The generations of a trace and what went wrong finding them.
#[derive(Debug, Default)]
pub(crate) struct Located {
    /// Generations in file order.
    pub generations: Vec<Generation>,
    /// Problems, in file order.
    pub problems: Vec<LocateProblem>,
}

/// Batches larger than this are not written by any runtime (`tracev2.MaxBatchSize`); we still
/// read them, with a warning, since the size is bounded by the file anyway.
const MAX_BATCH_SIZE: u64 = 64 << 10;

/// Walks the batch headers after the file header.
pub(crate) fn locate(bytes: &[u8], version: Version) -> Located {
    let mut out = Located::default();
    let mut current = Generation::default();
    let mut pos = wire::HEADER_LEN;
    let mut warned_size = false;
    let explicit_ends = version >= Version::GO126;
    while pos < bytes.len() {
        let start = pos;
        let Some(&typ) = bytes.get(pos) else { break };
        pos += 1;
        if typ == ev::END_OF_GENERATION {
            if current.batches.is_empty() {
                out.problems.push(LocateProblem {
                    offset: start,
                    message: "empty generation (an end-of-generation mark with no batches before it)".into(),
                });
            } else {
                out.generations.push(std::mem::take(&mut current));
            }
            continue;
        }
        if typ != ev::EVENT_BATCH && typ != ev::EXPERIMENTAL_BATCH {
            out.problems.push(LocateProblem {
                offset: start,
                message: format!(
                    "expected a batch header, found byte {typ:#04x}; the rest of the file ({} bytes) is ignored",
                    bytes.len() - start
                ),
            });
            break;
        }
        let experimental = typ == ev::EXPERIMENTAL_BATCH;
        if experimental {
            pos += 1; // The experiment id, one byte.
        }
        let header = (|| {
            let gen_number = wire::uvarint(bytes, &mut pos).ok()?;
            let m = wire::uvarint(bytes, &mut pos).ok()?;
            let time = wire::uvarint(bytes, &mut pos).ok()?;
            let size = wire::uvarint(bytes, &mut pos).ok()?;
            Some((gen_number, m, time, size))
        })();
        let Some((gen_number, m, time, size)) = header else {
            out.problems.push(LocateProblem {
                offset: start,
                message: "the file ends inside a batch header (truncated trace); the rest is ignored".into(),
            });
            break;
        };
        if size > MAX_BATCH_SIZE && !warned_size {
            warned_size = true;
            out.problems.push(LocateProblem {
                offset: start,
                message: format!(
                    "batch of {size} bytes is larger than any Go runtime writes ({MAX_BATCH_SIZE})"
                ),
            });
        }
        let available = bytes.len().saturating_sub(pos);
        let want = usize::try_from(size).unwrap_or(usize::MAX);
        let len = want.min(available);
        if len < want {
            out.problems.push(LocateProblem {
                offset: start,
                message: format!(
                    "the file ends inside a batch ({available} of {size} bytes present); its events up to the cut are read"
                ),
            });
        }
        let data = pos..pos + len;
        pos += len;
        if gen_number == 0 {
            out.problems
                .push(LocateProblem { offset: start, message: "batch with generation 0 skipped".into() });
            continue;
        }
        if !current.batches.is_empty() && current.number != gen_number {
            if explicit_ends {
                out.problems.push(LocateProblem {
                    offset: start,
                    message: format!(
                        "generation {} has no end-of-generation mark before a batch of generation {gen_number}",
                        current.number
                    ),
                });
            } else if gen_number != current.number.wrapping_add(1) {
                out.problems.push(LocateProblem {
                    offset: start,
                    message: format!(
                        "generation {gen_number} follows generation {} (out of order)",
                        current.number
                    ),
                });
            }
            out.generations.push(std::mem::take(&mut current));
        }
        if current.batches.is_empty() {
            current.number = gen_number;
            current.offset = start;
        }
        let kind = if experimental {
            BatchKind::Experimental
        } else {
            classify(bytes.get(data.clone()).unwrap_or_default(), version)
        };
        current.min_time = Some(current.min_time.map_or(time, |t| t.min(time)));
        current.batches.push(Batch { m, time, data, kind });
    }
    if !current.batches.is_empty() {
        if explicit_ends {
            out.problems.push(LocateProblem {
                offset: current.offset,
                message: format!(
                    "generation {} has no end-of-generation mark: the trace was cut off; its events are read as far as they go",
                    current.number
                ),
            });
        }
        out.generations.push(current);
    }
    out
}

fn classify(data: &[u8], version: Version) -> BatchKind {
    match data.first().copied() {
        Some(ev::STRINGS) => BatchKind::Strings,
        Some(ev::STACKS) => BatchKind::Stacks,
        Some(ev::CPU_SAMPLES) => BatchKind::CpuSamples,
        Some(ev::SYNC) if version >= Version::GO125 => BatchKind::Sync,
        Some(ev::FREQUENCY) if version < Version::GO125 => BatchKind::Sync,
        _ => BatchKind::Events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::go_trace::wire::put_uvarint;

    fn batch(out: &mut Vec<u8>, generation: u64, m: u64, data: &[u8]) {
        out.push(ev::EVENT_BATCH);
        put_uvarint(out, generation);
        put_uvarint(out, m);
        put_uvarint(out, 100);
        put_uvarint(out, data.len() as u64);
        out.extend_from_slice(data);
    }

    fn header(v: u32) -> Vec<u8> {
        format!("go 1.{v} trace\0\0\0").into_bytes()
    }

    #[test]
    fn generations_end_at_their_mark_or_when_the_number_changes() {
        let mut t = header(26);
        batch(&mut t, 1, 5, &[ev::STRINGS]);
        batch(&mut t, 1, 6, &[ev::PROC_STOP, 1]);
        t.push(ev::END_OF_GENERATION);
        batch(&mut t, 2, 6, &[ev::STACKS]);
        t.push(ev::END_OF_GENERATION);
        let found = locate(&t, Version(26));
        assert!(found.problems.is_empty(), "{:?}", found.problems);
        let kinds: Vec<Vec<BatchKind>> =
            found.generations.iter().map(|g| g.batches.iter().map(|b| b.kind).collect()).collect();
        assert_eq!(kinds, vec![vec![BatchKind::Strings, BatchKind::Events], vec![BatchKind::Stacks]]);

        let mut old = header(23);
        batch(&mut old, 1, 5, &[ev::FREQUENCY, 1]);
        batch(&mut old, 2, 5, &[ev::FREQUENCY, 1]);
        let found = locate(&old, Version(23));
        assert_eq!(found.generations.len(), 2);
        assert_eq!(found.generations[0].batches[0].kind, BatchKind::Sync);
        assert!(found.problems.is_empty());
    }

    #[test]
    fn cut_and_corrupt_files_keep_what_came_before() {
        let mut t = header(26);
        batch(&mut t, 1, 5, &[ev::PROC_STOP, 1, ev::PROC_STOP, 2]);
        let whole = t.len();
        t.truncate(whole - 1);
        let found = locate(&t, Version(26));
        assert_eq!(found.generations.len(), 1);
        assert_eq!(found.generations[0].batches[0].data.len(), 3);
        assert!(found.problems.iter().any(|p| p.message.contains("ends inside a batch")));
        assert!(found.problems.iter().any(|p| p.message.contains("no end-of-generation")));

        let mut junk = header(26);
        batch(&mut junk, 1, 5, &[ev::PROC_STOP, 1]);
        junk.push(0x77);
        junk.extend_from_slice(&[1, 2, 3]);
        let found = locate(&junk, Version(26));
        assert_eq!(found.generations.len(), 1);
        assert!(found.problems.iter().any(|p| p.message.contains("expected a batch header")));

        let mut cut_header = header(26);
        cut_header.extend_from_slice(&[ev::EVENT_BATCH, 1, 0x80]);
        let found = locate(&cut_header, Version(26));
        assert!(found.generations.is_empty());
        assert!(found.problems.iter().any(|p| p.message.contains("inside a batch header")));
    }
}
