//! Times leakscope loading Chrome traces against `python3 -c 'import json; json.load(open(F))'`
//! on the same files in the same run, alternating the two so that machine noise hits both:
//! `cargo run --release -p leakscope-core --example chrome_trace_vs_python -- [-n RUNS] FILE...`
//! Prints medians, MB/s and the ratio for each file.

#![allow(clippy::print_stdout)] // a command-line tool whose output is its table

use std::process::Command;
use std::time::{Duration, Instant};

use leakscope_core::{LoadOptions, Progress, open};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 5;
    if args.first().is_some_and(|a| a == "-n") {
        runs = args.get(1).ok_or("-n needs a number")?.parse()?;
        args.drain(..2);
    }
    println!(
        "| file | MB | python3 json.load (median) | leakscope load (median) | leakscope MB/s | speed-up |"
    );
    println!("|---|---|---|---|---|---|");
    for path in &args {
        let mb = std::fs::metadata(path)?.len() as f64 / 1e6;
        let mut ours = Vec::new();
        let mut python = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let status = Command::new("python3")
                .args(["-c", "import json,sys; json.load(open(sys.argv[1]))", path])
                .status()?;
            python.push(t.elapsed());
            if !status.success() {
                return Err(format!("python3 failed on {path}").into());
            }
            let t = Instant::now();
            let captures = open(path.as_ref(), &LoadOptions::default(), &Progress::new())?;
            ours.push(t.elapsed());
            drop(captures);
        }
        let (p, o) = (median(python), median(ours));
        println!(
            "| {} | {mb:.1} | {:.3} s | {:.3} s | {:.0} | {:.1}x |",
            path.rsplit('/').next().unwrap_or(path),
            p.as_secs_f64(),
            o.as_secs_f64(),
            mb / o.as_secs_f64(),
            p.as_secs_f64() / o.as_secs_f64()
        );
    }
    Ok(())
}
