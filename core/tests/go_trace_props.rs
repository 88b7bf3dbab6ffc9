//! Property: no input makes the execution trace parser panic or hang. Real traces (the samples
//! in the repository and Go's golden traces) are truncated, have bytes flipped, ranges deleted,
//! duplicated or overwritten with random bytes; random bodies get a trace header. Whatever comes
//! out must be a parse error or a well-formed capture.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::indexing_slicing)]

mod go_trace_text;
mod support;

use std::sync::OnceLock;

use leakscope_core::Progress;
use leakscope_core::formats::go_trace;
use leakscope_core::model::Capture;
use proptest::prelude::*;

fn seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let dir = support::sample_traces();
        let mut out = Vec::new();
        for name in ["go-leaky.trace", "go-annotated.trace"] {
            out.push(std::fs::read(dir.join(name)).expect("sample trace"));
        }
        // Old-format (Go 1.11-1.21) traces too.
        for name in ["user_task_region_1_11_good", "stress_start_stop_1_19_good", "http_1_21_good"] {
            out.push(
                std::fs::read(dir.join("go-testdata-v1").join(format!("{name}.trace"))).expect("old trace"),
            );
        }
        let mut tests: Vec<_> = std::fs::read_dir(dir.join("go-testdata"))
            .expect("go-testdata")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "test"))
            .collect();
        tests.sort();
        for p in tests {
            out.push(go_trace_text::parse_test_file(&std::fs::read_to_string(p).unwrap()).1);
        }
        out
    })
}

/// What is done to a seed.
#[derive(Clone, Debug)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Overwrite(usize, Vec<u8>),
}

fn apply(mut bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    let len = bytes.len().max(1);
    match *m {
        Mutation::Truncate(at) => bytes.truncate(at % len),
        Mutation::Flip(at, x) => {
            if let Some(b) = bytes.get_mut(at % len) {
                *b ^= x.max(1);
            }
        }
        Mutation::Delete(at, n) => {
            let at = at % len;
            let end = (at + n).min(bytes.len());
            bytes.drain(at.min(end)..end);
        }
        Mutation::Duplicate(at, n) => {
            let at = at % len;
            let end = (at + n).min(bytes.len());
            let piece: Vec<u8> = bytes[at.min(end)..end].to_vec();
            bytes.splice(end..end, piece);
        }
        Mutation::Overwrite(at, ref junk) => {
            let at = at % len;
            for (i, &b) in junk.iter().enumerate() {
                if let Some(slot) = bytes.get_mut(at + i) {
                    *slot = b;
                }
            }
        }
    }
    bytes
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(a, x)| Mutation::Flip(a, x)),
        (any::<usize>(), 0usize..64).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), 0usize..256).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(a, j)| Mutation::Overwrite(a, j)),
    ]
}

/// A capture that came out must hold together: ranges inside the interval table, intervals
/// ordered within each task, links and samples pointing at tasks that exist.
fn well_formed(c: &Capture) {
    let n = c.intervals.len();
    assert_eq!(c.intervals.iter(0..n).count(), n);
    let mut covered = 0usize;
    for t in &c.tasks {
        let r = t.intervals.indices();
        assert!(r.end <= n);
        covered += r.len();
        let mut prev: Option<(u16, i64, i64)> = None;
        for i in r {
            let cur = (c.intervals.depth(i), c.intervals.start(i), c.intervals.end(i));
            assert!(cur.1 <= cur.2);
            if let Some(p) = prev {
                assert!((p.0, p.1) <= (cur.0, cur.1));
                if p.0 == cur.0 {
                    assert!(p.2 <= cur.1, "overlap within a depth");
                }
            }
            prev = Some(cur);
        }
    }
    assert_eq!(covered, n);
    for l in &c.links {
        assert!((l.from_task as usize) < c.tasks.len() && (l.to_task as usize) < c.tasks.len());
    }
    for &t in &c.samples.task {
        assert!(t == leakscope_core::model::Samples::NO_TASK || (t as usize) < c.tasks.len());
    }
    if let Some((s, e)) = c.time_range_ns {
        assert!(s <= e);
    }
}

fn parse(bytes: &[u8]) {
    if let Ok(c) = go_trace::parse_bytes(bytes, "prop", &Progress::new()) {
        well_formed(&c);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn mutated_real_traces_never_panic(seed in any::<usize>(), muts in proptest::collection::vec(mutation(), 1..4)) {
        let seeds = seeds();
        let mut bytes = seeds[seed % seeds.len()].clone();
        for m in &muts {
            bytes = apply(bytes, m);
        }
        parse(&bytes);
    }

    #[test]
    fn truncated_real_traces_still_parse(seed in any::<usize>(), cut in any::<usize>()) {
        let seeds = seeds();
        let full = &seeds[seed % seeds.len()];
        let cut = 16 + cut % full.len().saturating_sub(16).max(1);
        let bytes = &full[..cut.min(full.len())];
        // Everything up to the cut is read; a cut inside the first batch may leave nothing.
        if let Ok(c) = go_trace::parse_bytes(bytes, "prop", &Progress::new()) {
            well_formed(&c);
        }
    }

    #[test]
    fn random_bodies_never_panic(version in prop_oneof![Just(11u32), Just(19), Just(21), Just(22), Just(23), Just(25), Just(26), Just(30)], body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut bytes = format!("go 1.{version} trace\0\0\0").into_bytes();
        bytes.extend_from_slice(&body);
        parse(&bytes);
    }
}

#[test]
fn every_prefix_of_a_small_trace_parses_or_errs() {
    let full = &seeds()[1];
    for cut in 0..=full.len() {
        if let Ok(c) = go_trace::parse_bytes(&full[..cut], "prefix", &Progress::new()) {
            well_formed(&c);
        }
    }
}
