//! Cut and corrupt Go 1.26+ execution traces. Since Go 1.26 every generation ends with an
//! end-of-generation mark, so a file that ends inside a generation was cut off (a warning,
//! `Source::truncated`, and what it holds is read), while bytes that cannot be a batch inside
//! the file are corruption (a warning at their offset, not a cut). Checked on real traces
//! written by Go 1.27 (`go-flight.1.trace`, three generations; `go-leaky.trace`, one), cut at
//! several points.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

mod support;

use leakscope_core::analysis::leaks::{self, Config, Severity};
use leakscope_core::formats::go_trace;
use leakscope_core::model::Capture;
use leakscope_core::{LoadOptions, Progress};

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(support::sample_traces().join(name)).unwrap()
}

fn parse(bytes: &[u8]) -> Capture {
    go_trace::parse_bytes(bytes, "cut.trace", &Progress::new()).unwrap()
}

fn uvarint(b: &[u8], p: &mut usize) -> u64 {
    let (mut v, mut shift) = (0u64, 0);
    loop {
        let c = b[*p];
        *p += 1;
        v |= u64::from(c & 0x7f) << shift;
        shift += 7;
        if c < 0x80 {
            return v;
        }
    }
}

/// A batch as the file lays it out: where its header starts, its generation, where its data
/// lies.
struct Batch {
    at: usize,
    generation: u64,
    data: std::ops::Range<usize>,
}

/// The batches and the offsets of the end-of-generation marks, by walking the file as Go's
/// reader does (kept apart from the reader under test).
fn layout(b: &[u8]) -> (Vec<Batch>, Vec<usize>) {
    let (mut batches, mut ends) = (Vec::new(), Vec::new());
    let mut p = 16;
    while p < b.len() {
        if b[p] == 52 {
            ends.push(p);
            p += 1;
            continue;
        }
        let at = p;
        p += 1 + usize::from(b[at] == 49);
        let generation = uvarint(b, &mut p);
        let _m = uvarint(b, &mut p);
        let _time = uvarint(b, &mut p);
        let size = uvarint(b, &mut p) as usize;
        batches.push(Batch { at, generation, data: p..p + size });
        p += size;
    }
    (batches, ends)
}

fn warnings(c: &Capture) -> Vec<String> {
    c.warnings.lines()
}

#[test]
fn a_cut_is_told_from_corruption_and_keeps_what_it_has() {
    let whole_bytes = bytes("go-flight.1.trace");
    let whole = parse(&whole_bytes);
    let (batches, ends) = layout(&whole_bytes);
    assert_eq!(ends.len(), 3, "three generations, each with its mark");
    assert!(whole.warnings.is_empty() && !whole.source.truncated);
    let info = |c: &Capture| c.trace.as_ref().unwrap().clone();
    assert_eq!(info(&whole).first_generation, batches[0].generation);
    assert_eq!(info(&whole).cut_at_ns, None);
    let gen_number = |i: usize| {
        batches
            .iter()
            .map(|b| b.generation)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .nth(i)
            .unwrap()
    };

    // Right after a generation's mark: as whole as any trace can show.
    let c = parse(&whole_bytes[..=ends[0]]);
    assert!(c.warnings.is_empty() && !c.source.truncated, "{:?}", warnings(&c));
    assert_eq!(info(&c).generations, 1);

    // Inside a batch of the second generation: cut after the first.
    let second = batches.iter().filter(|b| b.generation == gen_number(1)).nth(2).unwrap();
    let at = usize::midpoint(second.data.start, second.data.end);
    let c = parse(&whole_bytes[..at]);
    assert!(c.source.truncated);
    assert_eq!(info(&c).generations, 2);
    // The cut's warning, and one line for what follows from it in the cut generation.
    let w = warnings(&c);
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[1].contains(&format!("generation {} is cut off, and ", gen_number(1))), "{w:?}");
    assert!(
        w[0].starts_with(&format!("byte {at}: the trace is cut off after generation {} at byte {at}, inside a batch: generation {} (from byte {})", gen_number(0), gen_number(1), ends[0] + 1)),
        "{w:?}"
    );
    let cut_at = info(&c).cut_at_ns.expect("the cut generation's start");
    assert!(cut_at > c.time_range_ns.unwrap().0 && cut_at <= c.time_range_ns.unwrap().1);

    // Inside the header of the third generation's first batch: nothing of it is there.
    let third = batches.iter().find(|b| b.generation == gen_number(2)).unwrap();
    let c = parse(&whole_bytes[..third.at + 2]);
    assert!(c.source.truncated);
    assert_eq!(info(&c).cut_at_ns, None);
    assert!(
        warnings(&c)[0].contains("inside a batch header: the next generation has no end-of-generation mark"),
        "{:?}",
        warnings(&c)
    );

    // Only the last mark missing: every event is there, and read.
    let c = parse(&whole_bytes[..whole_bytes.len() - 1]);
    assert!(c.source.truncated);
    assert!(
        warnings(&c)[0].contains(&format!("cut off after generation {}", gen_number(1))),
        "{:?}",
        warnings(&c)
    );
    assert_eq!(c.tasks, whole.tasks);
    assert!(c.intervals == whole.intervals);

    // Inside the first generation.
    let c = parse(&whole_bytes[..batches[3].data.start + 10]);
    assert!(c.source.truncated);
    assert!(warnings(&c)[0].contains("the trace is cut off in its first generation"), "{:?}", warnings(&c));

    // Junk where a batch of the first generation must begin: corrupt at that offset, not cut.
    let mut junk = whole_bytes.clone();
    junk[batches[3].at] = 0x77;
    let c = parse(&junk);
    assert!(!c.source.truncated);
    assert_eq!(info(&c).cut_at_ns, None);
    let w = warnings(&c);
    assert!(
        w.iter().any(|w| w.starts_with(&format!(
            "byte {}: corrupt trace: expected a batch header, found byte 0x77",
            batches[3].at
        ))),
        "{w:?}"
    );
    assert!(!w.iter().any(|w| w.contains("cut off")), "{w:?}");

    // Bad bytes inside an event batch of a whole generation: warnings with offsets, no cut.
    let mut flipped = whole_bytes.clone();
    let events = &batches[4];
    for b in &mut flipped[events.data.start + 5..events.data.start + 25] {
        *b = 0xff;
    }
    let c = parse(&flipped);
    assert!(!c.source.truncated);
    assert!(!warnings(&c).is_empty());
    assert!(!warnings(&c).iter().any(|w| w.contains("cut off")), "{:?}", warnings(&c));
}

#[test]
fn traces_before_go_1_26_keep_their_reading() {
    // The same file under a Go 1.25 header has no marks to go by: a missing end is no cut.
    let mut b = bytes("go-flight.1.trace");
    let (_, ends) = layout(&b);
    b.truncate(ends[1] + 40);
    let cut = parse(&b);
    assert!(cut.source.truncated);
    b[..16].copy_from_slice(b"go 1.25 trace\0\0\0");
    // Go 1.25 has no end-of-generation byte; drop the marks the way a 1.25 runtime never wrote them.
    let old: Vec<u8> = {
        let (batches, _) = layout(&b);
        let mut out = b[..16].to_vec();
        for x in &batches {
            out.extend_from_slice(&b[x.at..x.data.end.min(b.len())]);
        }
        out
    };
    let c = go_trace::parse_bytes(&old, "old.trace", &Progress::new()).unwrap();
    assert!(!c.source.truncated);
    assert!(c.warnings.lines().iter().any(|w| w.contains("ends inside a batch")), "{:?}", c.warnings.lines());
}

#[test]
fn a_cut_trace_makes_blocks_after_the_cut_no_evidence() {
    let whole_bytes = bytes("go-leaky.trace");
    let config = Config::default();
    let whole = leakscope_core::open(
        &support::sample_traces().join("go-leaky.trace"),
        &LoadOptions::default(),
        &Progress::new(),
    )
    .unwrap()
    .remove(0);
    let likely = |a: &leaks::Analysis| a.findings.iter().filter(|f| f.severity == Severity::Likely).count();
    assert!(likely(&leaks::analyze(&whole, None, &config)) > 0);
    // One generation, cut near its end: every block began after the cut generation did.
    let c = parse(&whole_bytes[..whole_bytes.len() * 9 / 10]);
    assert!(c.source.truncated);
    let a = leaks::analyze(&c, None, &config);
    assert_eq!(likely(&a), 0, "{:?}", a.findings.iter().map(|f| (&f.title, f.severity)).collect::<Vec<_>>());
    let downgraded: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.evidence.trace.as_ref().is_some_and(|t| t.blocked_after_cut > 0))
        .collect();
    assert!(!downgraded.is_empty());
    for f in downgraded {
        assert!(f.severity != Severity::Likely);
        assert!(
            f.evidence.facts.iter().any(|x| x.contains("the file is cut off inside that generation")),
            "{:?}",
            f.evidence.facts
        );
    }
    // The runtime's proof and never-waking waits do not depend on the cut.
    let proven_whole = leaks::analyze(&whole, None, &config)
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Proven)
        .count();
    let proven_cut = a.findings.iter().filter(|f| f.severity == Severity::Proven).count();
    assert!(proven_cut <= proven_whole);
}

#[test]
fn no_cut_reads_as_corruption() {
    // Every cut of a real trace: at a generation's end it is whole, anywhere else it is cut
    // off, and never corrupt.
    let whole = bytes("go-flight.1.trace");
    let (batches, ends) = layout(&whole);
    let mut cuts: Vec<usize> = (17..whole.len()).step_by(47).collect();
    cuts.extend(ends.iter().map(|&e| e + 1));
    cuts.extend(batches.iter().flat_map(|b| [b.at, b.at + 1, b.data.start, b.data.end]));
    for at in cuts {
        let Ok(c) = go_trace::parse_bytes(&whole[..at], "cut.trace", &Progress::new()) else {
            assert!(at <= batches[0].data.start, "cut at {at} refused");
            continue;
        };
        let w = warnings(&c);
        assert!(!w.iter().any(|w| w.contains("corrupt")), "cut at {at}: {w:?}");
        if ends.contains(&(at - 1)) {
            assert!(!c.source.truncated && w.is_empty(), "cut at {at}: {w:?}");
        } else {
            assert!(c.source.truncated, "cut at {at}: {w:?}");
            assert!(w.iter().any(|w| w.contains("the trace is cut off")), "cut at {at}: {w:?}");
        }
    }
}
