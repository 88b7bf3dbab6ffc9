//! Fuzzes the goroutine dump parser: no input may panic or hang, and splitting the input into
//! parallel pieces (at any size) must not change what is parsed.

#![no_main]

use leakscope_core::Progress;
use leakscope_core::formats::goroutine_dump::{parse_bytes, parse_bytes_in_pieces};
use leakscope_core::model::Capture;
use libfuzzer_sys::fuzz_target;

/// What a parse found, as plain values that two parses can be compared by.
fn described(captures: &[Capture]) -> Vec<Vec<String>> {
    captures
        .iter()
        .map(|c| {
            let mut out: Vec<String> = c
                .tasks
                .iter()
                .map(|t| {
                    let frames: Vec<&str> = c.stack_funcs(t.stack).collect();
                    let creator = t.created_by.map(|f| c.func_name(f));
                    format!(
                        "{:?} {} [{}] {:?} {frames:?} {creator:?} {:?} {:?}",
                        t.kind,
                        t.id,
                        c.str(t.state),
                        t.flags,
                        t.parent_id,
                        t.wait_ns
                    )
                })
                .collect();
            out.extend(c.warnings.lines());
            out.push(format!("{:?} {}", c.source.headline, c.ancestors.len()));
            out
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let progress = Progress::new();
    let whole = parse_bytes(data, "fuzz", &progress);
    // The first byte picks a small piece size so that inputs split in many places.
    let piece = usize::from(data.first().copied().unwrap_or(0)) + 1;
    let pieces = parse_bytes_in_pieces(data, "fuzz", &progress, piece);
    match (&whole, &pieces) {
        (Ok(a), Ok(b)) => assert_eq!(described(a), described(b), "split at {piece} changed the parse"),
        (Err(_), Err(_)) => {}
        _ => panic!("split at {piece} changed success: {:?} vs {:?}", whole.is_ok(), pieces.is_ok()),
    }
    if let Ok(captures) = &whole {
        for c in captures {
            c.validate().unwrap_or_else(|e| panic!("{e}"));
            // What views and the report do with a capture must not panic either.
            let report = leakscope_core::report::CaptureReport::new(c);
            let _ = report.to_text(usize::MAX);
        }
    }
});
