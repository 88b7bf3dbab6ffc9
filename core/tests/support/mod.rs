//! Shared helpers for integration tests: where the bundled samples and the real captures are.
//!
//! Real captures live outside the repository (`../shared/realdata` next to the workspace, or
//! `$LEAKSCOPE_REALDATA`). A user's clone has none, so the tests that need them are
//! `#[ignore = "needs ../shared/realdata"]`: `cargo test` lists them as ignored rather than
//! passing them unchecked, and `cargo test -- --ignored` (CI, which has the captures) runs them
//! and fails when the captures are missing.

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

/// The real captures: `$LEAKSCOPE_REALDATA`, else `../shared/realdata` beside the workspace.
///
/// # Panics
/// When there are none there (no `ground_truth.json`): a test that needs them must fail, not
/// report a pass it did not earn.
#[track_caller]
pub fn realdata() -> PathBuf {
    let dir = std::env::var_os("LEAKSCOPE_REALDATA")
        .map_or_else(|| workspace().join("../shared/realdata"), PathBuf::from);
    assert!(
        dir.join("ground_truth.json").is_file(),
        "this test needs the real captures, and there are none at {} (no ground_truth.json): \
         set LEAKSCOPE_REALDATA, or put them at ../shared/realdata beside the workspace",
        dir.display()
    );
    dir
}

/// `ground_truth.json` of the real captures, keyed by path relative to the realdata directory.
pub fn ground_truth(realdata: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(realdata.join("ground_truth.json")).expect("read ground_truth.json");
    serde_json::from_str(&text).expect("parse ground_truth.json")
}
