//! Writes the generated benchmark dumps to files, for measuring a real process's peak memory:
//!
//! ```sh
//! cargo run --release -p leakscope-core --example gen_dump -- debug2 /tmp/debug2-200k.txt
//! cargo run --release -p leakscope-core --example gen_dump -- sigquit /tmp/sigquit-300mb.txt
//! /usr/bin/time -v target/release/leakscope report /tmp/debug2-200k.txt
//! ```
//!
//! The shapes are those of `benches/goroutine_dump.rs` (same generator, same seeds); an optional
//! third argument sets the number of goroutines (debug2) or bytes (sigquit).

use leakscope_testkit::dump as dumpgen;

use std::process::ExitCode;

fn main() -> ExitCode {
    const USAGE: &str = "usage: gen_dump debug2 OUTPUT [GOROUTINES] | gen_dump sigquit OUTPUT [BYTES]";
    let args: Vec<String> = std::env::args().skip(1).collect();
    let size = args.get(2).and_then(|n| n.parse::<usize>().ok());
    let text = match args.first().map(String::as_str) {
        Some("debug2") => dumpgen::debug2_dump(size.unwrap_or(200_000), 7),
        Some("sigquit") => dumpgen::sigquit_dump(size.unwrap_or(300 << 20), 11),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let Some(path) = args.get(1) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::write(path, text.as_bytes()) {
        eprintln!("gen_dump: {path}: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {} bytes to {path}", text.len());
    ExitCode::SUCCESS
}
