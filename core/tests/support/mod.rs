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

/// The one golden-file check of the test suite: compares `got` with the file at `path`, or,
/// with `UPDATE_GOLDEN=1`, writes it (review the diff). A difference shows the first lines
/// that differ, with a little context, rather than two whole files.
#[track_caller]
pub fn check_golden(path: &Path, got: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("a golden file has a folder")).unwrap();
        std::fs::write(path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}; run with UPDATE_GOLDEN=1 to create it", path.display()));
    if got != want {
        let first = got
            .lines()
            .zip(want.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
        let show = |s: &str| s.lines().skip(first.saturating_sub(2)).take(8).collect::<Vec<_>>().join("\n");
        panic!(
            "{} differs from line {}:\n--- got\n{}\n--- want\n{}\n(UPDATE_GOLDEN=1 rewrites it if the change is intended)",
            path.display(),
            first + 1,
            show(got),
            show(&want)
        );
    }
}

/// A report session over `inputs` with the default options and config.
///
/// # Panics
/// When an input does not load: the tests give inputs that must.
#[track_caller]
pub fn session(inputs: Vec<leakscope_core::session::Input>) -> leakscope_core::session::Session {
    leakscope_core::session::Session::load(
        inputs,
        &leakscope_core::LoadOptions::default(),
        leakscope_core::session::Purpose::Report,
        leakscope_core::analysis::leaks::Config::default(),
        &leakscope_core::Progress::new(),
        &mut |_| {},
    )
    .unwrap_or_else(|f| panic!("the inputs load: {:?}", f.errors))
}

/// The Go toolchain for tests that compare with Go's own tools (see
/// `leakscope_testkit::go::toolchain`). `None` (the test says SKIPPED) off CI only: CI installs Go, so there a missing toolchain fails the test instead of passing it unchecked.
pub fn go_binary(test: &str) -> Option<PathBuf> {
    if let Some(go) = leakscope_testkit::go::toolchain(0) {
        return Some(go);
    }
    assert!(std::env::var_os("CI").is_none(), "{test}: no Go toolchain in CI (set LEAKSCOPE_GO)");
    eprintln!("SKIPPED {test}: no Go toolchain (set LEAKSCOPE_GO)");
    None
}
