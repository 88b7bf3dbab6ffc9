//! Fuzzes the goroutine profile `debug=1` text sniffer and parser: no input may panic or hang,
//! a sniffer's yes must mean the parser reads the input, and the counts must add up.

#![no_main]

use leakscope_core::Progress;
use leakscope_core::formats::{self, Sniff, goroutine_profile_text as text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for cut in [0, 1, 16, 256, data.len() / 2] {
        let _ = text::sniff(&data[..cut.min(data.len())], false);
    }
    let sniffed = text::sniff(data, true);
    let _ = formats::detect(data);
    match text::parse_bytes(data, "fuzz", &Progress::new()) {
        Ok(captures) => {
            assert!(!captures.is_empty());
            for c in &captures {
                c.validate().unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(c.samples.types.len(), 1);
                let groups = c.groups();
                let in_groups = groups.iter().fold(0u64, |n, g| n.saturating_add(g.count));
                if c.is_goroutine_count_profile() {
                    // Both saturate: the task count at i64::MAX, the groups at u64::MAX.
                    assert_eq!(in_groups.min(i64::MAX as u64), c.task_count());
                }
            }
        }
        Err(e) => assert_ne!(sniffed, Sniff::Yes, "sniffed as text, but: {e}"),
    }
});
