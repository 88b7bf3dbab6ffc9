//! Folded stacks, the text inferno and flamegraph.pl read: one line per stack, root first,
//! frames joined by `;`, then the number of goroutines.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::samples;
use crate::model::Capture;

/// The frame written for goroutines whose stack the capture does not give, so that the lines
/// still sum to the capture's goroutines.
pub const NO_STACK: &str = "[no stack]";

/// The capture's goroutines as folded stacks, lines sorted, counts summing to the goroutines
/// written.
pub fn to_folded(capture: &Capture) -> String {
    let mut lines: BTreeMap<String, i64> = BTreeMap::new();
    for s in samples(capture) {
        let frames = capture.tables.stack(s.stack);
        let mut line = String::new();
        for (i, &f) in frames.iter().rev().enumerate() {
            if i > 0 {
                line.push(';');
            }
            // `;` separates frames and the last space the count: neither may be in a name.
            // Newlines would end the line.
            line.extend(capture.func_name(f).chars().map(|c| match c {
                ';' => ':',
                '\n' | '\r' => ' ',
                c => c,
            }));
        }
        if line.is_empty() {
            line.push_str(NO_STACK);
        }
        *lines.entry(line).or_insert(0) += s.count;
    }
    let mut out = String::new();
    for (line, n) in lines {
        let _ = writeln!(out, "{line} {n}");
    }
    out
}
