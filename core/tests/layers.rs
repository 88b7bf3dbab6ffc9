//! The modules read one way: each top-level module of `leakscope-core` may use only the modules
//! below it in [`LAYERS`], so a change low down never has to reason about code above it. Unit
//! tests (`#[cfg(test)]` modules) may reach up, since they build inputs the way users do.
//! The app's views and widgets never reach into the shell (`app.rs`), and the data side
//! (`workspace.rs`, `loader.rs`) never into views or widgets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

/// Lowest first. Modules on one line are peers: neither uses the other.
const LAYERS: &[&[&str]] = &[
    &["input", "format", "testing"],
    &["model"],
    &["error"],
    &["formats"],
    &["load", "analysis"],
    &["diff"],
    &["session"],
    &["report", "export"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's text without its unit-test module.
fn non_test_source(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]\nmod ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Every `crate::NAME` the text mentions (paths in `use` lines and inline).
fn crate_refs(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let name: String =
                rest[at + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(name);
            }
            rest = &rest[at + 7..];
        }
    }
    out
}

#[test]
fn core_modules_only_use_modules_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top =
            rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
        if top == "lib" {
            continue;
        }
        let own = layer_of(&top).unwrap_or_else(|| panic!("{top} (from {}) is not in LAYERS", rel.display()));
        for used in crate_refs(&non_test_source(file)) {
            if used == top {
                continue;
            }
            // Items re-exported at the crate root (`crate::Capture`) are the model's.
            let used_layer = layer_of(&used).or_else(|| used.starts_with(char::is_uppercase).then_some(1));
            match used_layer {
                Some(l) if l < own => {}
                Some(_) => wrong.push(format!("{} ({top}) uses crate::{used}", rel.display())),
                None => wrong.push(format!("{} uses crate::{used}, which is in no layer", rel.display())),
            }
        }
    }
    assert!(wrong.is_empty(), "modules reaching up or sideways:\n{}", wrong.join("\n"));
}

#[test]
fn app_views_never_use_the_shell() {
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("../app/src");
    let mut files = Vec::new();
    rust_files(&app.join("views"), &mut files);
    rust_files(&app.join("widgets"), &mut files);
    let data_side = [app.join("workspace.rs"), app.join("loader.rs")];
    let mut wrong = Vec::new();
    for file in files.iter().chain(&data_side) {
        let is_data = data_side.contains(file);
        for used in crate_refs(&non_test_source(file)) {
            let forbidden = used == "app"
                || used == "native"
                || used == "cli"
                || (is_data && (used == "views" || used == "widgets"));
            if forbidden {
                wrong.push(format!("{} uses crate::{used}", file.strip_prefix(&app).unwrap().display()));
            }
        }
    }
    assert!(wrong.is_empty(), "the app's layers reach up:\n{}", wrong.join("\n"));
}
