//! The source lines behind a function, as `go tool pprof -list` shows them: per line of the
//! function, the value of the stacks where that line is the innermost frame (flat) and of
//! those where it is anywhere (cum, once per stack); and where the source file is on this
//! machine, found from the path the capture names under the roots a person gives or the
//! places captures usually sit beside their code.

use std::path::{Component, Path, PathBuf};

use hashbrown::{HashMap, HashSet};

use crate::model::{Capture, StackId};

/// One line of a function with its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineValue {
    /// 1-based line.
    pub line: u32,
    /// Value of the stacks where this line is the innermost frame.
    pub flat: i64,
    /// Value of the stacks where this line is on the stack.
    pub cum: i64,
}

/// The lines of one function in one file (a function inlined into several files, or two
/// functions of one name in two packages' files, give several).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileLines {
    /// The file as the capture names it.
    pub file: String,
    /// Lines with a value, ascending.
    pub lines: Vec<LineValue>,
    /// The function's flat value in this file.
    pub flat: i64,
    /// The function's cum value in this file (once per stack, however many of its lines).
    pub cum: i64,
}

/// The lines of `function` in weighted `stacks` of `capture`, the file with the largest cum
/// first. Frames without a line (formats that give none) are left out.
pub fn line_values(capture: &Capture, stacks: &[(StackId, i64)], function: &str) -> Vec<FileLines> {
    // Per file: (flat, cum) per line, then the file's flat and cum.
    type PerFile = (HashMap<u32, (i64, i64)>, i64, i64);
    let mut by_file: HashMap<&str, PerFile> = HashMap::new();
    let mut seen_lines: HashSet<(&str, u32)> = HashSet::new();
    let mut seen_files: HashSet<&str> = HashSet::new();
    for &(stack, value) in stacks {
        seen_lines.clear();
        seen_files.clear();
        for (depth, &id) in capture.tables.stack(stack).iter().enumerate() {
            let frame = capture.tables.frame(id);
            if frame.line == 0 || capture.str(frame.func) != function {
                continue;
            }
            let file = capture.str(frame.file);
            let entry = by_file.entry(file).or_default();
            let line = entry.0.entry(frame.line).or_insert((0, 0));
            if depth == 0 {
                line.0 = line.0.saturating_add(value);
                entry.1 = entry.1.saturating_add(value);
            }
            // Recursion puts a line on a stack more than once: cum counts the stack once.
            if seen_lines.insert((file, frame.line)) {
                line.1 = line.1.saturating_add(value);
            }
            if seen_files.insert(file) {
                entry.2 = entry.2.saturating_add(value);
            }
        }
    }
    let mut out: Vec<FileLines> = by_file
        .into_iter()
        .map(|(file, (lines, flat, cum))| {
            let mut lines: Vec<LineValue> =
                lines.into_iter().map(|(line, (flat, cum))| LineValue { line, flat, cum }).collect();
            lines.sort_unstable_by_key(|l| l.line);
            FileLines { file: file.to_owned(), lines, flat, cum }
        })
        .collect();
    out.sort_by(|a, b| b.cum.cmp(&a.cum).then_with(|| a.file.cmp(&b.file)));
    out
}

/// Where `file` (as a capture names it) is on this machine: the path itself where it exists,
/// else under each root in turn, joined with the longest tail of the path that exists there
/// (`/build/src/app/server.go` under root `~/app` finds `~/app/server.go` through the tail
/// `server.go` only when no longer tail such as `app/server.go` exists). Go's `-trimpath`
/// names (`example.com/mod/pkg/file.go`) and standard library paths (`net/http/server.go`
/// under `$GOROOT/src`) are found the same way.
pub fn find_source(file: &str, roots: &[PathBuf]) -> Option<PathBuf> {
    if file.is_empty() {
        return None;
    }
    let path = Path::new(file);
    if path.is_absolute() && path.is_file() {
        return Some(path.to_path_buf());
    }
    let parts: Vec<&std::ffi::OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(p) => Some(p),
            _ => None,
        })
        .collect();
    for root in roots {
        for skip in 0..parts.len() {
            let candidate: PathBuf = parts.iter().skip(skip).fold(root.clone(), |p, c| p.join(c));
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// The roots [`find_source`] tries when a person has given none: the folder of the capture
/// and its parents (captures are often saved in or beside the repository they came from),
/// the working directory, and `$GOROOT/src` for the standard library.
pub fn default_roots(capture_path: &Path) -> Vec<PathBuf> {
    // `app/../traces/x.txt` has `app` among its textual ancestors: resolve it first.
    let capture_path = std::fs::canonicalize(capture_path).unwrap_or_else(|_| capture_path.to_path_buf());
    let mut roots: Vec<PathBuf> =
        capture_path.parent().into_iter().flat_map(Path::ancestors).take(4).map(Path::to_path_buf).collect();
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    if let Some(goroot) = std::env::var_os("GOROOT") {
        roots.push(PathBuf::from(goroot).join("src"));
    }
    let mut seen = HashSet::new();
    roots.retain(|r| !r.as_os_str().is_empty() && seen.insert(r.clone()));
    roots
}

/// Past this a "source file" is not one a person reads line by line.
const MAX_SOURCE_BYTES: u64 = 8 << 20;

/// Lines `first..=last` (1-based, clamped to the file) of a source file, each with its
/// number. Read only; a file too large or not text is an error that says so.
pub fn read_lines(path: &Path, first: u32, last: u32) -> std::io::Result<Vec<(u32, String)>> {
    let len = std::fs::metadata(path)?.len();
    if len > MAX_SOURCE_BYTES {
        return Err(std::io::Error::other(format!(
            "{} is {len} bytes, more than a source file ({MAX_SOURCE_BYTES} bytes at most)",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)?;
    if bytes.contains(&0) {
        return Err(std::io::Error::other(format!("{} is not a text file", path.display())));
    }
    let text = String::from_utf8_lossy(&bytes);
    Ok(text
        .lines()
        .enumerate()
        .map(|(i, l)| (u32::try_from(i + 1).unwrap_or(u32::MAX), l.to_owned()))
        .skip_while(|(n, _)| *n < first.max(1))
        .take_while(|(n, _)| *n <= last)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FormatKind, Frame};

    fn capture(stacks: &[&[(&str, &str, u32)]]) -> (Capture, Vec<(StackId, i64)>) {
        let mut c = Capture::new("t", FormatKind::Pprof);
        let mut out = Vec::new();
        for (i, s) in stacks.iter().enumerate() {
            let frames: Vec<_> = s
                .iter()
                .map(|&(func, file, line)| {
                    let frame =
                        Frame { func: c.strings.intern(func), file: c.strings.intern(file), line, column: 0 };
                    c.tables.frame_id(frame)
                })
                .collect();
            out.push((c.tables.stack_id(&frames), 10 * (i as i64 + 1)));
        }
        (c, out)
    }

    #[test]
    fn flat_is_the_innermost_line_and_cum_counts_a_stack_once() {
        let (c, stacks) = capture(&[
            &[("main.work", "a.go", 12), ("main.main", "a.go", 3)],
            &[("main.helper", "a.go", 30), ("main.work", "a.go", 14), ("main.main", "a.go", 3)],
            // Recursion: line 14 twice on one stack counts once in cum.
            &[("main.work", "a.go", 12), ("main.work", "a.go", 14), ("main.work", "a.go", 14)],
        ]);
        let got = line_values(&c, &stacks, "main.work");
        assert_eq!(got.len(), 1);
        let f = &got[0];
        assert_eq!(f.file, "a.go");
        assert_eq!(f.flat, 10 + 30);
        assert_eq!(f.cum, 60);
        assert_eq!(
            f.lines,
            vec![LineValue { line: 12, flat: 40, cum: 40 }, LineValue { line: 14, flat: 0, cum: 50 }]
        );
        assert!(line_values(&c, &stacks, "main.nothing").is_empty());
    }

    #[test]
    fn sources_are_found_by_the_longest_tail_under_a_root() {
        let dir = std::env::temp_dir().join(format!("leakscope-source-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("repo/pkg/other")).unwrap();
        std::fs::write(dir.join("repo/pkg/server.go"), "package pkg\n\nfunc A() {\n}\n").unwrap();
        std::fs::write(dir.join("repo/pkg/other/server.go"), "package other\n").unwrap();
        let roots = vec![dir.join("repo")];
        // A build path from another machine, a -trimpath module path: both by their tail.
        assert_eq!(find_source("/build/x/pkg/server.go", &roots), Some(dir.join("repo/pkg/server.go")));
        assert_eq!(
            find_source("example.com/mod/pkg/other/server.go", &roots),
            Some(dir.join("repo/pkg/other/server.go"))
        );
        assert_eq!(find_source("nope.go", &roots), None);
        assert_eq!(find_source("", &roots), None);
        let lines = read_lines(&dir.join("repo/pkg/server.go"), 2, 9).unwrap();
        assert_eq!(lines, vec![(2, String::new()), (3, "func A() {".to_owned()), (4, "}".to_owned())]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
