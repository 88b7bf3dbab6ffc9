//! Finding a Go toolchain for the tests and benchmarks that compare with Go's own tools or make
//! captures with the generators in `sample-traces/generators`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The first Go toolchain that runs and is at least Go 1.`min_minor`: `$LEAKSCOPE_GO`, the venv
/// CI makes beside the workspace (`../.govenv`), the one a developer's machine keeps in
/// `~/.cache/leakscope-govenv`, else `go` on the path.
pub fn toolchain(min_minor: u32) -> Option<PathBuf> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let home = std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache/leakscope-govenv/bin/go"));
    [
        std::env::var_os("LEAKSCOPE_GO").map(PathBuf::from),
        Some(workspace.join("../.govenv/bin/go")),
        home,
        Some(PathBuf::from("go")),
    ]
    .into_iter()
    .flatten()
    .find(|go| minor_version(go).is_some_and(|minor| minor >= min_minor))
}

/// The minor version `go version` reports (27 for go1.27.3), or `None` when it does not run.
pub fn minor_version(go: &Path) -> Option<u32> {
    let out = Command::new(go).arg("version").output().ok().filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace().find_map(|w| w.strip_prefix("go1."))?.split(['.', ' ']).next()?.parse().ok()
}

/// `go` set up to build offline with the toolchain it is (no downloads of other toolchains or
/// modules), as the generators need.
pub fn command(go: &Path) -> Command {
    let mut c = Command::new(go);
    c.env("GOTOOLCHAIN", "local").env("GOFLAGS", "-mod=mod").env("GOPROXY", "off");
    c
}
