//! Fuzz target for the Go execution trace parser (both the Go 1.22+ format and the Go 1.11-1.21
//! one): no input may make it panic, hang or allocate without bound. Inputs that do not start with a trace header get one (the version chosen by
//! the first byte), so the fuzzer spends its time past the header, in batches and events. What
//! parses must keep the model's invariants (`Capture::validate`).
//!
//! Seed it with real traces: `cp ../sample-traces/*.trace corpus/go_trace/`, then
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run go_trace`.

#![no_main]

use leakscope_core::Progress;
use leakscope_core::formats::go_trace;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let progress = Progress::new();
    if data.starts_with(b"go 1.") {
        if let Ok(c) = go_trace::parse_bytes(data, "fuzz", &progress) {
            c.validate().unwrap_or_else(|e| panic!("{e}"));
        }
        return;
    }
    let Some((&which, body)) = data.split_first() else { return };
    let version = [11u8, 19, 21, 22, 23, 25, 26, 26][usize::from(which % 8)];
    let mut input = format!("go 1.{version} trace\0\0\0").into_bytes();
    input.extend_from_slice(body);
    if let Ok(c) = go_trace::parse_bytes(&input, "fuzz", &progress) {
        c.validate().unwrap_or_else(|e| panic!("{e}"));
    }
});
