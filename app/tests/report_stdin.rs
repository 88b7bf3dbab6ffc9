//! `leakscope report -` reads a dump from standard input, and an unreadable input exits with
//! code 2 and the reason on stderr. (Gzip on stdin goes through the same `open_bytes` as files;
//! core/tests/load.rs covers it.)

// Test helpers fail the test the way the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn sample(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sample-traces").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn report(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leakscope"))
        .arg("report")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run leakscope");
    let mut input = child.stdin.take().expect("stdin");
    let bytes = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let out = child.wait_with_output().expect("wait for leakscope");
    writer.join().expect("writer thread");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn dump_on_stdin() {
    let (code, out, err) = report(&["-"], &sample("go127-deadlock.txt"));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\n-\n  format: go-goroutine-dump\n"), "{out}");
    assert!(out.contains("headline: fatal error: all goroutines are asleep - deadlock!"), "{out}");
    assert!(out.contains("goroutines: 4"), "{out}");
}

#[test]
fn series_on_stdin_as_json() {
    let (code, out, err) = report(&["--json", "-"], &sample("go127-series.log"));
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("JSON report");
    let counts: Vec<u64> =
        doc["captures"].as_array().unwrap().iter().map(|c| c["task_count"].as_u64().unwrap()).collect();
    assert_eq!(counts, [3, 6, 10]);
}

#[test]
fn unreadable_stdin_exits_2_with_the_reason() {
    let (code, out, err) = report(&["-"], b"not a capture\n");
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("unrecognised format (tried ") && err.contains("go-goroutine-dump"), "{err}");
}
