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
    /// Where the file ends before its last generation did, for formats whose generations end
    /// with an explicit mark (Go 1.26+); `None` when every generation is whole, when the file
    /// is corrupt instead, or for older formats, where a cut cannot be told from an end.
    pub cut: Option<Cut>,
}

/// A trace cut off while it was written or copied: its last generation has no end mark and
/// the file ends inside it, with nothing unreadable before the end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cut {
    /// Index (into `Located::generations`) of the generation the cut falls in, whose events
    /// are read as far as they go; `None` when the file ends inside the first batch header of
    /// a generation, so no batch of it is there.
    pub generation_index: Option<usize>,
}

/// Batches larger than this are not written by any runtime (`tracev2.MaxBatchSize`); we still
/// read them, with a warning, since the size is bounded by the file anyway.
const MAX_BATCH_SIZE: u64 = 64 << 10;

/// Walks the batch headers after the file header.
///
/// From Go 1.26 every generation ends with a mark, so the two ways a file can go wrong are
/// told apart: a file that ends inside a generation (in a batch, in a batch header or between
/// batches) was cut off, and what it holds up to the cut is good; bytes that cannot be a batch
/// where one must begin, a batch larger than any runtime writes, or a generation that changes
/// without its mark mean the file is corrupt at that offset. Older traces have no mark, so
/// their last generation can end anywhere.
pub(crate) fn locate(bytes: &[u8], version: Version) -> Located {
    let mut out = Located::default();
    let mut current = Generation::default();
    let mut pos = wire::HEADER_LEN;
    let mut warned_size = false;
    let explicit_ends = version >= Version::GO126;
    // Where the file ends inside a batch or its header (a cut, unless something was corrupt).
    let mut ends_inside: Option<&'static str> = None;
    let mut corrupt = false;
    let mut last_whole: Option<u64> = None;
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
                last_whole = Some(current.number);
                out.generations.push(std::mem::take(&mut current));
            }
            continue;
        }
        if typ != ev::EVENT_BATCH && typ != ev::EXPERIMENTAL_BATCH {
            corrupt = true;
            out.problems.push(LocateProblem {
                offset: start,
                message: format!(
                    "corrupt trace: expected a batch header, found byte {typ:#04x}; the rest of the file ({} bytes) is ignored",
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
            if explicit_ends {
                ends_inside = Some("inside a batch header");
            } else {
                out.problems.push(LocateProblem {
                    offset: start,
                    message: "the file ends inside a batch header (truncated trace); the rest is ignored"
                        .into(),
                });
            }
            break;
        };
        if size > MAX_BATCH_SIZE && explicit_ends {
            // Stepping over a size no runtime writes would swallow whatever follows, and a
            // cut file cannot make a size larger: the header itself is damaged.
            corrupt = true;
            out.problems.push(LocateProblem {
                offset: start,
                message: format!(
                    "corrupt trace: a batch header claims {size} bytes, more than any Go runtime writes ({MAX_BATCH_SIZE}); the rest of the file ({} bytes) is ignored",
                    bytes.len() - start
                ),
            });
            break;
        }
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
            if explicit_ends {
                ends_inside = Some("inside a batch");
            } else {
                out.problems.push(LocateProblem {
                    offset: start,
                    message: format!(
                        "the file ends inside a batch ({available} of {size} bytes present); its events up to the cut are read"
                    ),
                });
            }
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
                corrupt = true;
                out.problems.push(LocateProblem {
                    offset: start,
                    message: format!(
                        "corrupt trace: generation {} has no end-of-generation mark before a batch of generation {gen_number}",
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
    if explicit_ends && !corrupt && (!current.batches.is_empty() || ends_inside.is_some()) {
        let at_byte = bytes.len();
        let number = if current.batches.is_empty() {
            "the next generation".to_owned()
        } else {
            format!("generation {} (from byte {})", current.number, current.offset)
        };
        let after = last_whole
            .map_or_else(|| "in its first generation".to_owned(), |n| format!("after generation {n}"));
        let inside = ends_inside.map_or_else(String::new, |w| format!(", {w}"));
        out.problems.push(LocateProblem {
            offset: at_byte,
            message: format!(
                "the trace is cut off {after} at byte {at_byte}{inside}: {number} has no end-of-generation mark; what it holds up to the cut is read, and work open at the end may have finished right after"
            ),
        });
        // The cut generation is the one being gathered, pushed below.
        out.cut =
            Some(Cut { generation_index: (!current.batches.is_empty()).then_some(out.generations.len()) });
    }
    if !current.batches.is_empty() {
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
        batch(&mut t, 1, 5, &[ev::PROC_STOP, 1]);
        t.push(ev::END_OF_GENERATION);
        batch(&mut t, 2, 5, &[ev::PROC_STOP, 1, ev::PROC_STOP, 2]);
        let whole = t.len();
        t.truncate(whole - 1);
        let found = locate(&t, Version(26));
        assert_eq!(found.generations.len(), 2);
        assert_eq!(found.generations[1].batches[0].data.len(), 3);
        assert_eq!(found.cut, Some(Cut { generation_index: Some(1) }));
        assert_eq!(found.problems.len(), 1, "{:?}", found.problems);
        let cut = &found.problems[0];
        assert_eq!(cut.offset, whole - 1);
        assert!(
            cut.message.starts_with(&format!(
                "the trace is cut off after generation 1 at byte {}, inside a batch",
                whole - 1
            )),
            "{}",
            cut.message
        );

        // A cut inside the first batch header of a generation leaves nothing of it.
        let mut t = header(26);
        batch(&mut t, 1, 5, &[ev::PROC_STOP, 1]);
        t.push(ev::END_OF_GENERATION);
        t.extend_from_slice(&[ev::EVENT_BATCH, 2, 0x80]);
        let found = locate(&t, Version(26));
        assert_eq!(found.generations.len(), 1);
        assert_eq!(found.cut, Some(Cut { generation_index: None }));
        assert!(found.problems[0].message.contains("inside a batch header"), "{:?}", found.problems);

        // A file ending right after an end mark is whole as far as anyone can tell.
        let mut t = header(26);
        batch(&mut t, 1, 5, &[ev::PROC_STOP, 1]);
        t.push(ev::END_OF_GENERATION);
        let found = locate(&t, Version(26));
        assert!(found.cut.is_none() && found.problems.is_empty());

        // Junk where a batch must begin is corruption, not a cut.
        let mut junk = header(26);
        batch(&mut junk, 1, 5, &[ev::PROC_STOP, 1]);
        junk.push(0x77);
        junk.extend_from_slice(&[1, 2, 3]);
        let found = locate(&junk, Version(26));
        assert_eq!(found.generations.len(), 1);
        assert!(found.cut.is_none());
        assert!(
            found.problems.iter().any(|p| p.message.starts_with("corrupt trace: expected a batch header"))
        );

        // So is a size no runtime writes, even when the file ends before it.
        let mut huge = header(26);
        huge.push(ev::EVENT_BATCH);
        for v in [1, 5, 100, 1 << 20] {
            put_uvarint(&mut huge, v);
        }
        huge.extend_from_slice(&[ev::PROC_STOP, 1]);
        let found = locate(&huge, Version(26));
        assert!(found.cut.is_none());
        assert!(found.problems.iter().any(|p| p.message.contains("more than any Go runtime writes")));

        // Before Go 1.26 a generation has no end mark: a cut is only seen inside a batch.
        let mut old = header(25);
        batch(&mut old, 1, 5, &[ev::PROC_STOP, 1, ev::PROC_STOP, 2]);
        old.truncate(old.len() - 1);
        let found = locate(&old, Version(25));
        assert!(found.cut.is_none());
        assert!(found.problems.iter().any(|p| p.message.contains("ends inside a batch")));

        let mut cut_header = header(26);
        cut_header.extend_from_slice(&[ev::EVENT_BATCH, 1, 0x80]);
        let found = locate(&cut_header, Version(26));
        assert!(found.generations.is_empty());
        assert!(found.problems.iter().any(|p| p.message.contains("in its first generation")));
    }
}
