//! Property tests of the goroutine dump parser: no input makes it panic or hang (arbitrary
//! bytes, dump-like line soup, mutations of real dumps), a dump cut anywhere keeps every
//! goroutine that was complete before the cut, and how the input is split into parallel
//! pieces never changes the result.

// Test helpers fail the test the way the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use leakscope_core::Progress;
use leakscope_core::formats::{self, goroutine_dump};
use leakscope_core::model::{Capture, TaskFlags, TaskKind};
use proptest::prelude::*;

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(support::sample_traces().join(name)).unwrap()
}

/// Parses as the loader would once the format is known; errors are fine, panics are not.
fn parse(bytes: &[u8]) -> Option<Vec<Capture>> {
    let _ = formats::detect(bytes);
    goroutine_dump::parse_bytes(bytes, "prop", &Progress::new()).ok()
}

/// A task as text, comparable across parses: kind, id, state, flags, frames, creator.
type Described = (TaskKind, u64, String, TaskFlags, Vec<String>, Option<String>);

fn described(c: &Capture) -> Vec<Described> {
    c.tasks
        .iter()
        .map(|t| {
            let frames = c
                .tables
                .stack(t.stack)
                .iter()
                .map(|&f| {
                    let f = c.tables.frame(f);
                    format!("{} {}:{}", c.str(f.func), c.str(f.file), f.line)
                })
                .collect();
            (
                t.kind,
                t.id,
                c.str(t.state).to_owned(),
                t.flags,
                frames,
                t.created_by.map(|f| c.func_name(f).to_owned()),
            )
        })
        .collect()
}

/// Byte offsets where goroutine header lines start.
fn header_starts(text: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"goroutine ") && line.trim_ascii_end().ends_with(b":") && line.contains(&b'[') {
            starts.push(pos);
        }
        pos += line.len();
    }
    starts
}

/// Fragments real dumps are made of, for line soup.
const FRAGMENTS: &[&str] = &[
    "goroutine 1 [running]:",
    "goroutine 7 [chan receive, 5 minutes, locked to thread]:",
    "goroutine 0 gp=0xbcfb40 m=0 mp=0xbd0ae0 [idle]:",
    "goroutine 9 [select (leaked) (scan), synctest bubble 3] {user: bob, \"a b\": \"c\\\"d\"}:",
    "goroutine 7 [select] {k: \"unterminated",
    "goroutine 18446744073709551616 [x]:",
    "goroutine 2 [",
    "main.main()",
    "net/http.(*conn).serve(0xc000, {0x1, 0x2})",
    "main.f(...)",
    "non-Go function at pc=0x4e12a8",
    "non-Go function",
    "c_dispatch",
    "\t/usr/local/go/src/runtime/proc.go:474 +0xca fp=0x1 sp=0x2 pc=0x3",
    "\t/src/x.go:12",
    "\tcgo_c.c:9 pc=0x4e12a8",
    "\tpc=0x4e12b8",
    "    /src/x.go:99999999999999 +0x1",
    "\tgoroutine running on other thread; stack unavailable",
    "\t:",
    "created by main.main in goroutine 1",
    "created by main.main",
    "created by ",
    "[originating from goroutine 34]:",
    "[originating from goroutine x]:",
    "...additional frames elided...",
    "...12 frames elided...",
    "SIGQUIT: quit",
    "PC=0x4116ce m=0 sigcode=0",
    "-----",
    "panic: boom [recovered]",
    "fatal error: all goroutines are asleep - deadlock!",
    "runtime stack:",
    "rax    0xfffffffffffffffc",
    "FAIL\tpkg\t2.0s",
    "exit status 2",
    "",
    "\r",
    "\u{fffd}\u{0}",
];

fn line_soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((0..FRAGMENTS.len(), prop::bool::ANY), 0..80).prop_map(|picks| {
        let mut out = Vec::new();
        for (i, crlf) in picks {
            out.extend_from_slice(FRAGMENTS[i].as_bytes());
            out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
        out
    })
}

/// A mutation: overwrite, delete, insert bytes or a fragment, or duplicate a span.
#[derive(Clone, Debug)]
enum Edit {
    Flip(usize, u8),
    Delete(usize, usize),
    Insert(usize, usize),
    Duplicate(usize, usize, usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Edit::Flip(a, b)),
        (any::<usize>(), 0usize..300).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(a, f)| Edit::Insert(a, f)),
        (any::<usize>(), any::<usize>(), 0usize..2000).prop_map(|(a, b, n)| Edit::Duplicate(a, b, n)),
    ];
    prop::collection::vec(edit, 1..12)
}

fn apply(mut text: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = text.len().max(1);
        match *e {
            Edit::Flip(at, b) => {
                if let Some(x) = text.get_mut(at % len) {
                    *x = b;
                }
            }
            Edit::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(text.len());
                if at < end {
                    text.drain(at..end);
                }
            }
            Edit::Insert(at, f) => {
                let at = (at % len).min(text.len());
                let mut frag = FRAGMENTS[f].as_bytes().to_vec();
                frag.push(b'\n');
                text.splice(at..at, frag);
            }
            Edit::Duplicate(from, to, n) => {
                let from = from % len;
                let end = (from + n).min(text.len());
                let span = text.get(from..end).unwrap_or_default().to_vec();
                let to = (to % len).min(text.len());
                text.splice(to..to, span);
            }
        }
    }
    text
}

const SAMPLES: &[&str] = &[
    "go127-tiny-sigquit.stderr.txt",
    "go127-crash.txt",
    "go127-ancestors.debug2.txt",
    "go127-labels.debug2.txt",
    "go127-test-timeout.txt",
    "go127-cgo-symbolized.debug2.txt",
    "go127-cgo.debug2.txt",
    "go127-series.log",
    "go119-mixed.before.debug2.txt",
];

proptest! {
    // Failures are reported with their minimal input; nothing is written next to the tests.
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
        parse(&bytes);
    }

    #[test]
    fn line_soup_never_panics(text in line_soup(), piece in 1usize..64) {
        let whole = parse(&text);
        // A small piece size forces many splits; the result must not depend on them.
        let pieces = goroutine_dump::parse_bytes_in_pieces(&text, "prop", &Progress::new(), piece).ok();
        prop_assert_eq!(
            whole.map(|c| c.iter().map(described).collect::<Vec<_>>()),
            pieces.map(|c| c.iter().map(described).collect::<Vec<_>>())
        );
    }

    #[test]
    fn mutated_real_dumps_never_panic(sample in 0..SAMPLES.len(), edits in edits()) {
        let text = apply(sample_bytes(sample), &edits);
        parse(&text);
    }

    #[test]
    fn split_never_changes_the_result(sample in 0..SAMPLES.len(), piece in 1usize..20_000) {
        let text = sample_bytes(sample);
        let whole = parse(&text).unwrap();
        let pieces = goroutine_dump::parse_bytes_in_pieces(&text, "prop", &Progress::new(), piece).unwrap();
        prop_assert_eq!(whole.len(), pieces.len());
        for (a, b) in whole.iter().zip(&pieces) {
            prop_assert_eq!(described(a), described(b));
            prop_assert_eq!(a.warnings.lines(), b.warnings.lines());
            prop_assert_eq!(&a.source.headline, &b.source.headline);
        }
    }

    #[test]
    fn a_cut_dump_keeps_every_complete_goroutine(sample in 0..6usize, cut in any::<prop::sample::Index>()) {
        // Single-dump samples without crash relays, so goroutines map one to one.
        let name = ["go127-tiny-sigquit.stderr.txt", "go127-ancestors.debug2.txt", "go127-labels.debug2.txt",
                    "go127-test-timeout.txt", "go119-mixed.before.debug2.txt", "go127-cgo.debug2.txt"][sample];
        let text = sample_bytes(SAMPLES.iter().position(|s| *s == name).unwrap());
        let n = cut.index(text.len() + 1);
        let full = described(&parse(&text).unwrap()[0]);
        let starts = header_starts(&text);
        let complete = starts.iter().skip(1).filter(|&&s| s <= n).count();
        let started = starts.iter().filter(|&&s| s < n).count();
        match parse(&text[..n]) {
            None => prop_assert_eq!(complete, 0),
            Some(captures) => {
                prop_assert_eq!(captures.len(), 1);
                let got = described(&captures[0]);
                prop_assert!(got.len() >= complete && got.len() <= started, "{} of {complete}..={started}", got.len());
                prop_assert_eq!(&got[..complete], &full[..complete]);
                if let Some(last) = got.get(complete) {
                    // The goroutine the cut fell in: a prefix of its stack, marked cut when the
                    // cut fell inside it (its frames, creator or ancestors).
                    let whole = &full[complete];
                    prop_assert_eq!((last.0, last.1, &last.2), (whole.0, whole.1, &whole.2));
                    prop_assert!(whole.4.starts_with(&last.4));
                    if last.4.len() < whole.4.len() && n < text.len() && text[n - 1] != b'\n' {
                        prop_assert!(last.3.contains(TaskFlags::TRUNCATED));
                    }
                }
            }
        }
    }
}

fn sample_bytes(i: usize) -> Vec<u8> {
    thread_local! {
        static CACHE: std::cell::RefCell<Vec<Option<Vec<u8>>>> = std::cell::RefCell::new(vec![None; SAMPLES.len()]);
    }
    CACHE.with(|c| c.borrow_mut()[i].get_or_insert_with(|| sample(SAMPLES[i])).clone())
}
