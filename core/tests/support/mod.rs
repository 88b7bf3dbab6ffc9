//! Shared helpers for integration tests: where the bundled samples and the real captures are.
//!
//! Real captures live outside the repository (`../shared/realdata` next to the workspace, or
//! `$LEAKSCOPE_REALDATA`). A user's clone has none, so tests that need them skip with a message
//! instead of failing.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr, clippy::print_stdout)]

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("core/ has a parent").to_path_buf()
}

/// `sample-traces/` in the repository.
pub fn sample_traces() -> PathBuf {
    workspace().join("sample-traces")
}

/// The real captures, if present: `$LEAKSCOPE_REALDATA`, else `../shared/realdata` beside the
/// workspace. Prints why a test is skipped when they are absent.
pub fn realdata(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("LEAKSCOPE_REALDATA")
        .map_or_else(|| workspace().join("../shared/realdata"), PathBuf::from);
    if dir.join("ground_truth.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: no real captures at {} (set LEAKSCOPE_REALDATA, or run beside ../shared/realdata)",
            dir.display()
        );
        None
    }
}

/// `ground_truth.json` of the real captures, keyed by path relative to the realdata directory.
pub fn ground_truth(realdata: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(realdata.join("ground_truth.json")).expect("read ground_truth.json");
    serde_json::from_str(&text).expect("parse ground_truth.json")
}
