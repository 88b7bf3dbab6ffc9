//! Fuzzes format detection: every format's tri-state sniffer on every input, whole and as a
//! prefix, and `formats::detect`. None may panic; a format that says Yes to a prefix must not
//! say No to the whole input it was cut from.

#![no_main]

use leakscope_core::formats::{self, Sniff};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = formats::detect(data);
    let cut = data.len() / 2;
    let prefix = data.get(..cut).unwrap_or(data);
    for format in formats::all() {
        let whole = format.sniff(data, true);
        let partial = format.sniff(prefix, false);
        let _ = format.sniff(data, false);
        if partial == Sniff::Yes {
            assert_ne!(whole, Sniff::No, "{} said yes to a prefix and no to the whole", format.kind());
        }
    }
});
