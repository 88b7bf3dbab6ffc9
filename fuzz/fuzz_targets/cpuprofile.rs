//! DevTools `.cpuprofile`: no input may panic or hang the parser.

#![no_main]

use leakscope_core::Progress;
use leakscope_core::formats::cpuprofile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(capture) = cpuprofile::parse_bytes(data, "fuzz", &Progress::new()) {
        capture.validate().unwrap_or_else(|e| panic!("{e}"));
        let _ = leakscope_core::analysis::flame::sample_stacks(&capture, 0);
    }
});
