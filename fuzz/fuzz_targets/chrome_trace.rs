//! Chrome trace JSON: no input may panic or hang the parser, the split into parallel pieces
//! must agree with a single sequential read, and the leak facts and span flamegraph must be
//! computable from whatever came out.

#![no_main]

use leakscope_core::Progress;
use leakscope_core::analysis::{async_facts, spans};
use leakscope_core::formats::chrome_trace;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let progress = Progress::new();
    let whole = chrome_trace::parse_bytes(data, "fuzz", &progress);
    // Tiny pieces make the speculative split and its verification run on every input.
    let split = chrome_trace::parse_bytes_in_pieces(data, "fuzz", &progress, 64);
    match (&whole, &split) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a.chrome().event_stats, b.chrome().event_stats);
            assert_eq!(a.intervals.len(), b.intervals.len());
            assert_eq!(a.tasks.len(), b.tasks.len());
            a.validate().unwrap_or_else(|e| panic!("{e}"));
            let _ = async_facts::async_facts(a);
            let _ = spans::span_self_time_stacks(a);
        }
        (Err(_), Err(_)) => {}
        _ => panic!("sequential and split reads disagree: {:?} vs {:?}", whole.is_ok(), split.is_ok()),
    }
});
