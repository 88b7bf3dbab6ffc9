//! What a Go function name says about itself: its package, whether it belongs to the standard
//! library or the runtime. Views and rules use these to find "your" frame in a stack.

/// The import path of a Go function's package: `net/http` for `net/http.(*conn).serve`,
/// `github.com/a/b` for `github.com/a/b.F.func1`, `main` for `main.handler`.
pub fn package_path(func: &str) -> &str {
    // Generic instantiations carry type arguments (which may contain '/' and '.') in brackets;
    // the package is named before them.
    let head = func.split_once('[').map_or(func, |(h, _)| h);
    let after_slash = head.rfind('/').map_or(0, |i| i + 1);
    let rest = head.get(after_slash..).unwrap_or("");
    match rest.find('.') {
        Some(dot) => head.get(..after_slash + dot).unwrap_or(head),
        None => head,
    }
}

/// How Go tracebacks print `runtime.gopanic` (`panic({0x6c4c90?, 0x27320949c180?})`).
const PANIC: &str = "panic";

/// Whether a function belongs to Go's standard library (runtime included). Standard packages
/// have no dot in their first path element; `main` and module paths like `example.com/x` are
/// user code. Cgo and assembly names without a package are not standard.
pub fn is_standard_library(func: &str) -> bool {
    if func == PANIC {
        return true;
    }
    let pkg = package_path(func);
    if pkg.is_empty() || pkg == func || pkg == "main" || pkg.starts_with("main/") {
        return false;
    }
    let first = pkg.split('/').next().unwrap_or(pkg);
    !first.contains('.') && !first.is_empty()
}

/// Whether a function is part of the runtime's own machinery (`runtime.`, `internal/runtime/`),
/// which is never where a leak is fixed.
pub fn is_runtime(func: &str) -> bool {
    func == PANIC
        || func.starts_with("runtime.")
        || func.starts_with("internal/runtime/")
        || func.starts_with("runtime/internal/")
}

/// Whether Go's own tracebacks leave this frame out: a goroutine dump (`debug=2`, SIGQUIT,
/// unless `GOTRACEBACK=system`) prints no unexported `runtime.` function (`runtime.gopark`,
/// `runtime.chanrecv1`, `runtime.goexit`), while profiles and execution traces record every
/// frame. Hiding these makes a profile's or a trace's stacks read as the same program's dump
/// does (runtime's `showfuncinfo`). Go also elides frames without a package; those are kept
/// here, since the views' own frames (`tenant=acme` label roots, `(no stack: N)`) have none.
pub fn hidden_by_go_traceback(func: &str) -> bool {
    func.strip_prefix("runtime.").is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// The function name without its package path: `(*conn).serve` for `net/http.(*conn).serve`.
pub fn short_name(func: &str) -> &str {
    let pkg = package_path(func);
    if pkg.len() < func.len() { func.get(pkg.len() + 1..).unwrap_or(func) } else { func }
}

/// The last path element of the package plus the function: `http.(*conn).serve`.
pub fn display_name(func: &str) -> &str {
    let head_end = func.find('[').unwrap_or(func.len());
    let slash = func.get(..head_end).and_then(|h| h.rfind('/')).map_or(0, |i| i + 1);
    func.get(slash..).unwrap_or(func)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_tracebacks_hide_unexported_runtime_frames() {
        for hidden in ["runtime.gopark", "runtime.chanrecv1", "runtime.goexit", "runtime.gcBgMarkWorker"] {
            assert!(hidden_by_go_traceback(hidden), "{hidden}");
        }
        for shown in [
            "panic",
            "tenant=acme",
            "runtime.Gosched",
            "runtime/pprof.Do",
            "internal/poll.(*FD).Read",
            "main.main",
        ] {
            assert!(!hidden_by_go_traceback(shown), "{shown}");
        }
    }

    #[test]
    fn package_paths() {
        assert_eq!(package_path("net/http.(*conn).serve"), "net/http");
        assert_eq!(package_path("main.waitForRelease"), "main");
        assert_eq!(package_path("github.com/x/y.(*T).M.func1"), "github.com/x/y");
        assert_eq!(package_path("runtime.gopark"), "runtime");
        assert_eq!(package_path("main.Map[go.shape.string,example.com/z.T].Get"), "main");
        assert_eq!(package_path("gopkg.in/yaml.v3.Unmarshal"), "gopkg.in/yaml");
    }

    #[test]
    fn standard_library() {
        assert!(is_standard_library("net/http.(*conn).serve"));
        assert!(is_standard_library("database/sql.(*DB).conn"));
        assert!(is_standard_library("runtime.gopark"));
        assert!(!is_standard_library("main.handleUpload.func1"));
        assert!(!is_standard_library("github.com/lib/pq.(*conn).query"));
        assert!(!is_standard_library("golang.org/x/net/http2.(*ClientConn).readLoop"));
        assert!(!is_standard_library("non-Go function"));
        assert!(is_standard_library("panic"));
    }

    #[test]
    fn names() {
        assert_eq!(short_name("net/http.(*conn).serve"), "(*conn).serve");
        assert_eq!(display_name("net/http.(*conn).serve"), "http.(*conn).serve");
        assert_eq!(display_name("main.f"), "main.f");
        assert!(is_runtime("runtime.chanrecv1"));
        assert!(is_runtime("internal/runtime/syscall/linux.Syscall6"));
        assert!(!is_runtime("runtime/pprof.writeGoroutineStacks"));
        assert!(is_runtime("panic"));
    }
}
