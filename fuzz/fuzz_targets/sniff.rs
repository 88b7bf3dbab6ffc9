//! Fuzzes format detection: every format's tri-state sniffer on every input, whole and as a
//! few prefixes, and `formats::detect`. None may panic; a format that says Yes to a prefix must
//! say Yes to the whole input it was cut from. pprof, whose answer depends only on what a prefix
//! shows, must also keep a No.

#![no_main]

use leakscope_core::formats::{self, Sniff};
use leakscope_core::model::FormatKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = formats::detect(data);
    for format in formats::all() {
        let whole = format.sniff(data, true);
        let _ = format.sniff(data, false);
        for cut in [1, 16, 255, 256, data.len() / 2, data.len().saturating_sub(1)] {
            let Some(prefix) = data.get(..cut) else { continue };
            let partial = format.sniff(prefix, false);
            if partial == Sniff::Yes {
                assert_eq!(whole, Sniff::Yes, "{} said yes to {cut} bytes, not to the whole", format.kind());
            }
            if partial == Sniff::No && format.kind() == FormatKind::Pprof {
                assert_eq!(whole, Sniff::No, "{} said no to {cut} bytes, not to the whole", format.kind());
            }
        }
    }
});
