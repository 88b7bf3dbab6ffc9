//! Property tests for the pprof and `debug=1` text parsers and their sniffers: no input makes
//! them panic (arbitrary bytes, and valid inputs mutated byte by byte), a generated valid
//! profile reads back with its samples and totals, what a sniffer accepts its parser reads (or
//! names the byte where it breaks), the two sniffers never both claim one input, and every
//! sniffer keeps its word from a prefix to the whole input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::fmt::Write as _;

use leakscope_core::Progress;
use leakscope_core::formats::pprof::proto::{
    Function, Label, Line, Location, Mapping, Profile, Sample, ValueType,
};
use leakscope_core::formats::{self, Sniff, goroutine_profile_text as text, pprof};
use proptest::prelude::*;
use prost::Message;

/// A small profile whose ids and string indices are mostly valid, sometimes not.
fn profile() -> impl Strategy<Value = Profile> {
    let strings = prop::collection::vec("[a-z./()*]{0,12}", 1..12);
    let columns = 0usize..4;
    (strings, columns, 0u64..8, 0u64..6, 0usize..20, any::<u64>())
        .prop_flat_map(|(mut strings, columns, n_funcs, n_locs, n_samples, seed)| {
            strings[0] = String::new();
            let n_str = strings.len() as i64;
            // Indices and ids a little past the tables, so some point nowhere.
            let str_index = 0..n_str + 2;
            let func = (str_index.clone(), str_index.clone(), 0i64..200);
            let funcs = prop::collection::vec(func, n_funcs as usize);
            let line = (0..n_funcs + 2, -1i64..300, 0i64..80);
            let loc = (prop::collection::vec(line, 0..4), any::<u32>(), 0..3u64);
            let locs = prop::collection::vec(loc, n_locs as usize);
            let label = (str_index.clone(), str_index.clone(), any::<i32>(), str_index.clone());
            let sample = (
                prop::collection::vec(0..n_locs + 2, 0..8),
                prop::collection::vec(-1000i64..1_000_000, columns..=columns),
                prop::collection::vec(label, 0..3),
            );
            let samples = prop::collection::vec(sample, n_samples);
            let types = prop::collection::vec((str_index.clone(), str_index.clone()), columns);
            (Just(strings), types, funcs, locs, samples, str_index, Just(seed))
        })
        .prop_map(|(strings, types, funcs, locs, samples, default_type, seed)| Profile {
            sample_type: types.into_iter().map(|(t, u)| ValueType { r#type: t, unit: u }).collect(),
            sample: samples
                .into_iter()
                .map(|(location_id, value, labels)| Sample {
                    location_id,
                    value,
                    label: labels
                        .into_iter()
                        .map(|(key, str, num, unit)| Label { key, str, num: i64::from(num), num_unit: unit })
                        .collect(),
                })
                .collect(),
            mapping: vec![Mapping { id: 1, filename: 1, ..Mapping::default() }],
            location: locs
                .into_iter()
                .enumerate()
                .map(|(i, (lines, address, mapping_id))| Location {
                    id: i as u64 + 1,
                    mapping_id,
                    address: u64::from(address),
                    line: lines
                        .into_iter()
                        .map(|(function_id, line, column)| Line { function_id, line, column })
                        .collect(),
                    is_folded: false,
                })
                .collect(),
            function: funcs
                .into_iter()
                .enumerate()
                .map(|(i, (name, filename, start_line))| Function {
                    id: i as u64 + 1,
                    name,
                    system_name: 0,
                    filename,
                    start_line,
                })
                .collect(),
            string_table: strings,
            time_nanos: seed as i64 & 0x7fff_ffff_ffff,
            duration_nanos: (seed >> 20) as i64 & 0xffff,
            default_sample_type: default_type,
            ..Profile::default()
        })
}

/// Debug=1 text: a header, records with PCs, labels and frame lines, some of them broken.
fn profile_text() -> impl Strategy<Value = String> {
    let frame = prop_oneof![
        "#\t0x[0-9a-f]{1,8}\t[a-z]{1,6}\\.[A-Za-z]{1,6}\\+0x[0-9a-f]{1,3}\t/[a-z]{1,5}\\.go:[0-9]{1,4}",
        "#\t0x[0-9a-f]{1,8}",
        "# labels: \\{\"[a-z]{1,4}\":\"[a-z\\\\\"]{0,6}\"\\}",
        "#[ -~]{0,20}",
    ];
    let record =
        ("[0-9]{1,4}", prop::collection::vec("0x[0-9a-f]{1,6}", 0..5), prop::collection::vec(frame, 0..5));
    let name = prop_oneof![Just("goroutine"), Just("goroutineleak"), Just("threadcreate")];
    (name, 0u32..5000, prop::collection::vec(record, 0..8)).prop_map(|(name, total, records)| {
        let mut out = format!("{name} profile: total {total}\n");
        for (count, pcs, frames) in records {
            let _ = writeln!(out, "{count} @ {}", pcs.join(" "));
            for f in frames {
                out.push_str(&f);
                out.push('\n');
            }
            out.push('\n');
        }
        out
    })
}

/// Byte-level damage: flips, cuts, insertions and deletions at chosen places.
#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    let m = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        (any::<usize>(), 1usize..16).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ];
    prop::collection::vec(m, 1..6)
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Set(i, b) => {
                if !bytes.is_empty() {
                    let i = i % bytes.len();
                    bytes[i] = *b;
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
            Mutation::Insert(i, b) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
        }
    }
    bytes
}

/// Runs both parsers and all sniffers on `bytes` and on a few of its prefixes; checks only
/// what must hold for any input.
fn exercise(bytes: &[u8]) {
    let progress = Progress::new();
    let pprof_says = pprof::sniff(bytes, true);
    let text_says = text::sniff(bytes, true);
    assert!(
        !(pprof_says == Sniff::Yes && text_says == Sniff::Yes),
        "both sniffers claim {:?}",
        String::from_utf8_lossy(bytes)
    );
    let pprof_result = pprof::parse_bytes(bytes, "p", &progress);
    let text_result = text::parse_bytes(bytes, "t", &progress);
    if pprof_says == Sniff::Yes {
        // A yes on a prefix stays a yes (the sniff contract), so a profile that breaks after its
        // first fields is still pprof: the parser must then say where it breaks.
        if let Err(e) = &pprof_result {
            assert!(matches!(e.location, leakscope_core::Location::Offset(_)), "sniffed as pprof but {e}");
        }
    }
    if text_says == Sniff::Yes {
        assert!(text_result.is_ok(), "sniffed as text but {:?}", text_result.err());
    }
    for capture in pprof_result.iter().chain(text_result.iter().flatten()) {
        // The derived views must hold up on whatever was parsed: groups of a count profile
        // hold every positive count (both sums saturate).
        let in_groups = capture.groups().iter().fold(0u64, |n, g| n.saturating_add(g.count));
        if capture.is_goroutine_count_profile() {
            let positive = (0..capture.samples.len())
                .map(|i| capture.samples.value(i, 0).max(0) as u64)
                .fold(0u64, u64::saturating_add);
            assert_eq!(in_groups, positive);
        }
        let _ = capture.task_count();
        let width = capture.samples.types.len();
        assert_eq!(capture.samples.values.len(), capture.samples.len() * width);
        assert_eq!(capture.samples.labels.len(), capture.samples.len());
    }
    let _ = formats::detect(bytes);
    for cut in [1, 7, 64, bytes.len() / 2] {
        if let Some(head) = bytes.get(..cut.min(bytes.len())) {
            let _ = pprof::sniff(head, false);
            let _ = text::sniff(head, false);
        }
    }
}

/// The tri-state sniff contract on every prefix of `bytes`, for every format: a yes on a
/// prefix stays a yes on the whole input, and a no stays a no.
fn sniffs_keep_their_word(bytes: &[u8]) -> Result<(), TestCaseError> {
    for format in formats::all() {
        let whole = format.sniff(bytes, true);
        for cut in 0..bytes.len() {
            let partial = format.sniff(&bytes[..cut], false);
            if partial == Sniff::Yes {
                prop_assert_eq!(whole, Sniff::Yes, "{} said yes to the first {} bytes", format.kind(), cut);
            }
            if partial == Sniff::No && format.kind() == leakscope_core::model::FormatKind::Pprof {
                prop_assert_eq!(whole, Sniff::No, "{} said no to the first {} bytes", format.kind(), cut);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// The `sniff` fuzz target's crashes: pprof said yes to a prefix (a few valid fields) and no
    /// to the whole input (a later field broken, or no string table).
    #[test]
    fn sniff_contract_on_prefixes_of_profiles(p in profile(), m in mutations()) {
        let bytes = p.encode_to_vec();
        sniffs_keep_their_word(&bytes)?;
        sniffs_keep_their_word(&mutate(bytes, &m))?;
    }

    #[test]
    fn sniff_contract_on_prefixes_of_anything(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        sniffs_keep_their_word(&bytes)?;
    }

    #[test]
    fn sniff_contract_on_prefixes_of_texts(t in profile_text(), m in mutations()) {
        sniffs_keep_their_word(&mutate(t.into_bytes(), &m))?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        exercise(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\t\n\r]{0,400}") {
        exercise(text.as_bytes());
    }

    #[test]
    fn valid_profiles_read_back(p in profile()) {
        let bytes = p.encode_to_vec();
        prop_assert_eq!(pprof::sniff(&bytes, true), Sniff::Yes);
        prop_assert_eq!(text::sniff(&bytes, true), Sniff::No);
        let c = pprof::parse_bytes(&bytes, "p", &Progress::new()).unwrap();
        prop_assert_eq!(c.samples.len(), p.sample.len());
        prop_assert_eq!(c.samples.types.len(), p.sample_type.len());
        for col in 0..p.sample_type.len() {
            let want = p.sample.iter().map(|s| s.value[col]).fold(0i64, i64::saturating_add);
            prop_assert_eq!(c.samples.total(col), want);
        }
        // A frame per line with a known function, or one address frame per location.
        for (i, s) in p.sample.iter().enumerate() {
            let known = s.location_id.iter().filter(|&&id| id >= 1 && id <= p.location.len() as u64);
            let expected: usize = known
                .map(|&id| {
                    let loc = &p.location[id as usize - 1];
                    let lines = loc
                        .line
                        .iter()
                        .filter(|l| l.function_id >= 1 && l.function_id <= p.function.len() as u64)
                        .count();
                    lines.max(1)
                })
                .sum();
            prop_assert_eq!(c.tables.stack(c.samples.stack[i]).len(), expected);
        }
        exercise(&bytes);
    }

    #[test]
    fn mutated_profiles_never_panic(p in profile(), m in mutations()) {
        exercise(&mutate(p.encode_to_vec(), &m));
    }

    #[test]
    fn valid_texts_read_back(t in profile_text()) {
        prop_assert_eq!(text::sniff(t.as_bytes(), true), Sniff::Yes);
        prop_assert_eq!(pprof::sniff(t.as_bytes(), true), Sniff::No);
        let captures = text::parse_bytes(t.as_bytes(), "t", &Progress::new()).unwrap();
        prop_assert_eq!(captures.len(), 1);
        let records = t
            .lines()
            .filter(|l| l.as_bytes().first().is_some_and(u8::is_ascii_digit) && l.contains(" @"))
            .count();
        prop_assert_eq!(captures[0].samples.len(), records);
        exercise(t.as_bytes());
    }

    #[test]
    fn mutated_texts_never_panic(t in profile_text(), m in mutations()) {
        exercise(&mutate(t.into_bytes(), &m));
    }
}
