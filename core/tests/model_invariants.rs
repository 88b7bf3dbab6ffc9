//! Every capture every parser makes from a real file keeps the model's invariants
//! ([`Capture::validate`]): the bundled samples here, every real capture under `../shared`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};

use leakscope_core::{LoadOptions, Progress, load};

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if p.is_dir() {
            // Generators are Go sources, goldens are our own outputs.
            if name != "generators" && name != "golden" {
                files_under(&p, out);
            }
        } else if !matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("md" | "json" | "go" | "mod" | "sh" | "log")
        ) || name.ends_with(".trace.json")
        {
            out.push(p);
        }
    }
}

/// Loads each file and validates what came out; returns how many captures were checked.
fn validate_all(dir: &Path) -> usize {
    let mut files = Vec::new();
    files_under(dir, &mut files);
    let mut checked = 0;
    let mut broken = Vec::new();
    for f in &files {
        // Files no parser takes (text notes, expected outputs) are not this test's business.
        let Ok(captures) = load::open(f, &LoadOptions::default(), &Progress::new()) else { continue };
        for c in &captures {
            checked += 1;
            if let Err(e) = c.validate() {
                broken.push(e.to_string());
            }
        }
    }
    eprintln!("{checked} captures from {} files", files.len());
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    checked
}

#[test]
fn every_bundled_sample_keeps_the_model_invariants() {
    let n = validate_all(&support::sample_traces());
    assert!(n >= 40, "only {n} captures checked");
}

#[test]
#[ignore = "needs ../shared/realdata"]
fn every_real_capture_keeps_the_model_invariants() {
    let n = validate_all(&support::realdata());
    assert!(n >= 20, "only {n} captures checked");
}
