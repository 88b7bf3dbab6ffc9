//! Fuzzes the pprof sniffer and parser (raw protobuf, as the loader hands it over after gzip):
//! no input may panic or hang, a sniffer's yes must mean the parser reads the input or names
//! the byte where it breaks, and what is parsed must hold together (one value per column per
//! sample, groups computable).

#![no_main]

use leakscope_core::formats::{self, Sniff, pprof};
use leakscope_core::{Location, Progress};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for cut in [0, 1, 16, 256, data.len() / 2] {
        let _ = pprof::sniff(&data[..cut.min(data.len())], false);
    }
    let sniffed = pprof::sniff(data, true);
    let _ = formats::detect(data);
    match pprof::parse_bytes(data, "fuzz", &Progress::new()) {
        Ok(c) => {
            c.validate().unwrap_or_else(|e| panic!("{e}"));
            // The model allows samples without label sets; pprof always gives one per sample.
            assert_eq!(c.samples.labels.len(), c.samples.len());
            let groups = c.groups();
            let in_groups = groups.iter().fold(0u64, |n, g| n.saturating_add(g.count));
            if c.is_goroutine_count_profile() {
                // Negative counts count as none; both sums saturate.
                let positive = (0..c.samples.len())
                    .map(|i| c.samples.value(i, 0).max(0) as u64)
                    .fold(0u64, u64::saturating_add);
                assert_eq!(in_groups, positive);
            }
            let _ = c.task_count();
        }
        // A yes on a prefix stays a yes (the sniff contract), so a profile that breaks after
        // its first fields is still pprof: the parser must then say where it breaks.
        Err(e) => assert!(
            sniffed != Sniff::Yes || matches!(e.location, Location::Offset(_)),
            "sniffed as pprof, but: {e}"
        ),
    }
});
