//! `leakscope report --format` and `leakscope export` as a CI job runs them: the formats parse,
//! `--json` stays a synonym, and export writes its files but never over its input.

// Test helpers fail the test the way the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::process::Command;

fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample-traces").join(name)
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_leakscope")).args(args).output().expect("run leakscope");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn report_formats() {
    let input = sample("ctx-done-leak.after.goroutineleak.debug1.txt");
    let input = input.to_str().unwrap();
    let (code, json, _) = run(&["report", input, "--json"]);
    assert_eq!(code, 0);
    let (code, json2, _) = run(&["report", input, "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(json, json2, "--json is --format json");
    let (code, sarif, err) = run(&["report", input, "--format", "sarif", "--fail-on", "proven"]);
    assert_eq!(code, 3, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"][0]["results"][0]["level"], "error");
    let (code, md, _) = run(&["report", input, "--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(md.starts_with("# leakscope report"));
    let (code, _, err) = run(&["report", input, "--json", "--format", "text"]);
    assert_eq!(code, 2, "--json and --format conflict: {err}");
}

#[test]
fn export_writes_each_output_and_never_its_input() {
    let dir = std::env::temp_dir().join(format!("leakscope-cli-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("dump.txt");
    std::fs::copy(sample("go127-labels.debug2.txt"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let (pprof, folded, svg) = (dir.join("out.pb.gz"), dir.join("out.folded"), dir.join("out.svg"));
    let (code, _, err) = run(&[
        "export",
        input.to_str().unwrap(),
        "--pprof",
        pprof.to_str().unwrap(),
        "--folded",
        folded.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::read(&pprof).unwrap().starts_with(&[0x1f, 0x8b]));
    assert!(std::fs::read_to_string(&folded).unwrap().lines().all(|l| l.rsplit_once(' ').is_some()));
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    // The input under another spelling of its path.
    let same = dir.join(".").join("dump.txt");
    let (code, _, err) = run(&["export", input.to_str().unwrap(), "--folded", same.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("never overwrites"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
    let (code, _, _) = run(&["export", input.to_str().unwrap()]);
    assert_eq!(code, 2, "an output is required");
    std::fs::remove_dir_all(&dir).unwrap();
}
