//! Writes a synthetic Chrome trace for speed and memory measurements:
//! `cargo run --release -p leakscope-core --example gen_chrome_trace -- OUT SIZE [--no-newlines] [--array]`
//! where SIZE is bytes with an optional K, M or G suffix (`500M`, `2G`).

use std::io::BufWriter;

use leakscope_testkit::chrome::{SynthConfig, write_trace};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(size)) = (args.first(), args.get(1)) else {
        return Err("usage: gen_chrome_trace OUT SIZE [--no-newlines] [--array]".into());
    };
    let (digits, unit) = size.split_at(size.find(|c: char| !c.is_ascii_digit()).unwrap_or(size.len()));
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        other => return Err(format!("unknown size suffix {other:?}").into()),
    };
    let cfg = SynthConfig {
        target_bytes: digits.parse::<u64>()? * scale,
        newlines: !args.iter().any(|a| a == "--no-newlines"),
        object_form: !args.iter().any(|a| a == "--array"),
        ..SynthConfig::default()
    };
    let file = std::fs::File::create(out)?;
    let written = write_trace(BufWriter::with_capacity(1 << 20, file), &cfg)?;
    eprintln!("wrote {written} bytes to {out}");
    Ok(())
}
