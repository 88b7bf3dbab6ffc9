//! The goroutine dump parser on every variant Go 1.19 to 1.27 prints, each built from literal
//! text in the test, plus the variants made from the real samples (CRLF, tabs turned into
//! spaces, a dump cut off mid-line, a generated 200,000-goroutine dump).

// Test helpers fail the test the way the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use leakscope_testkit::dump as dumpgen;

use leakscope_core::load::Bytes;
use leakscope_core::model::{Capture, FormatKind, Task, TaskFlags, TaskKind};
use leakscope_core::{LoadOptions, Progress};

fn parse_bytes(bytes: &[u8]) -> Vec<Capture> {
    leakscope_core::open_bytes(
        "test.txt",
        Bytes::Owned(bytes.to_vec()),
        &LoadOptions::default(),
        &Progress::new(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn parse(text: &str) -> Vec<Capture> {
    parse_bytes(text.as_bytes())
}

fn one(text: &str) -> Capture {
    let mut captures = parse(text);
    assert_eq!(captures.len(), 1, "expected one capture");
    captures.remove(0)
}

/// A goroutine as plain values, for assertions.
#[derive(Debug, Clone, PartialEq)]
struct G {
    id: u64,
    kind: TaskKind,
    state: String,
    flags: TaskFlags,
    frames: Vec<(String, String, u32)>,
    created_by: Option<(String, String, u32)>,
    parent: Option<u64>,
    wait_minutes: Option<i64>,
    bubble: Option<u64>,
    labels: Vec<(String, String)>,
}

impl G {
    fn funcs(&self) -> Vec<&str> {
        self.frames.iter().map(|f| f.0.as_str()).collect()
    }

    fn creator(&self) -> Option<&str> {
        self.created_by.as_ref().map(|c| c.0.as_str())
    }
}

fn frame(c: &Capture, id: leakscope_core::model::FrameId) -> (String, String, u32) {
    let f = c.tables.frame(id);
    (c.str(f.func).to_owned(), c.str(f.file).to_owned(), f.line)
}

fn g(c: &Capture, t: &Task) -> G {
    G {
        id: t.id,
        kind: t.kind,
        state: c.str(t.state).to_owned(),
        flags: t.flags,
        frames: c.tables.stack(t.stack).iter().map(|&f| frame(c, f)).collect(),
        created_by: t.created_by.map(|f| frame(c, f)),
        parent: t.parent_id.get(),
        wait_minutes: t.wait_ns.get().map(|ns| ns / 60_000_000_000),
        bubble: c.bubble(t),
        labels: c
            .tables
            .labels(t.labels)
            .iter()
            .map(|l| (c.str(l.key).to_owned(), c.str(l.value).to_owned()))
            .collect(),
    }
}

fn gs(c: &Capture) -> Vec<G> {
    c.tasks.iter().map(|t| g(c, &t)).collect()
}

fn by_id(c: &Capture, id: u64) -> G {
    gs(c).into_iter().find(|x| x.id == id && x.kind == TaskKind::Goroutine).expect("goroutine present")
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(support::sample_traces().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const DEBUG2_GO127: &str = "goroutine 1 [running]:
runtime/pprof.writeGoroutineStacks({0xb75568, 0xf1970b06128})
\t/usr/local/go/src/runtime/pprof/pprof.go:816 +0x69
runtime/pprof.writeGoroutine({0xb75568?, 0xf1970b06128?}, 0x409655?)
\t/usr/local/go/src/runtime/pprof/pprof.go:779 +0x25
main.main()
\t/src/leakgen/main.go:54 +0x50c

goroutine 21 [chan receive, 3 minutes]:
main.blockChanRecv(...)
\t/src/leakgen/large.go:83
main.blockKind(0x0?)
\t/src/leakgen/large.go:99 +0xb5
main.sessionWorker(0xc000123450, {0x7c37cd, 0x2e})
\t/src/leakgen/large.go:115 +0x2a
created by main.spawnLarge in goroutine 1
\t/src/leakgen/large.go:142 +0x1f0

goroutine 22 [chan receive]:
main.blockChanRecv(...)
\t/src/leakgen/large.go:83
main.blockKind(0x1?)
\t/src/leakgen/large.go:99 +0xb5
main.sessionWorker(0xc000987650, {0x7c37cd, 0x2e})
\t/src/leakgen/large.go:115 +0x2a
created by main.spawnLarge in goroutine 1
\t/src/leakgen/large.go:142 +0x1f0
";

#[test]
fn debug2_dump_go127() {
    let c = one(DEBUG2_GO127);
    assert_eq!(c.source.format, Some(FormatKind::GoGoroutineDump));
    assert_eq!((c.task_count(), c.source.headline.as_deref(), c.source.first_line), (3, None, 1));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
    let main = by_id(&c, 1);
    assert_eq!(main.state, "running");
    assert_eq!(
        main.funcs(),
        ["runtime/pprof.writeGoroutineStacks", "runtime/pprof.writeGoroutine", "main.main"]
    );
    assert!(main.flags.contains(TaskFlags::DUMPER));
    assert_eq!((main.created_by, main.parent), (None, None));
    let a = by_id(&c, 21);
    assert_eq!((a.state.as_str(), a.wait_minutes), ("chan receive", Some(3)));
    // Arguments are not part of the frame; inlined frames keep their line.
    assert_eq!(
        a.frames,
        [
            ("main.blockChanRecv".to_owned(), "/src/leakgen/large.go".to_owned(), 83),
            ("main.blockKind".to_owned(), "/src/leakgen/large.go".to_owned(), 99),
            ("main.sessionWorker".to_owned(), "/src/leakgen/large.go".to_owned(), 115),
        ]
    );
    assert_eq!(a.created_by, Some(("main.spawnLarge".to_owned(), "/src/leakgen/large.go".to_owned(), 142)));
    assert_eq!(a.parent, Some(1));
    // Same stack and creator, different arguments: one group of two.
    let b = by_id(&c, 22);
    assert_eq!((b.frames.clone(), b.created_by.clone(), b.wait_minutes), (a.frames, a.created_by, None));
    let groups = c.groups();
    assert_eq!(groups.iter().map(|x| x.count).collect::<Vec<_>>(), [2, 1]);
    assert_eq!(groups[0].wait_ns.map(|(lo, hi)| (lo / 60_000_000_000, hi / 60_000_000_000)), Some((0, 3)));
}

/// Go 1.19 and 1.20 print `created by F` without `in goroutine N`, and `...additional frames
/// elided...` after 100 frames.
#[test]
fn go119_created_by_without_goroutine_id() {
    let text = "goroutine 402 [running]:
runtime/pprof.writeGoroutineStacks({0x9a3ec0, 0xc0001be000})
\t/usr/local/go/src/runtime/pprof/pprof.go:692 +0x70
net/http.(*conn).serve(0xc00021e000, {0x9a5b60, 0xc0001c8030})
\t/usr/local/go/src/net/http/server.go:1995 +0x612
created by net/http.(*Server).Serve
\t/usr/local/go/src/net/http/server.go:3089 +0x5ed

goroutine 7 [select]:
database/sql.(*DB).connectionOpener(0xc0000b0270, {0x9a5b28, 0xc0000a0050})
\t/usr/local/go/src/database/sql/sql.go:1224 +0x8d
created by database/sql.OpenDB
\t/usr/local/go/src/database/sql/sql.go:792 +0x18d

goroutine 9 [chan receive]:
main.deep(0x64)
\t/src/x.go:10 +0x25
...additional frames elided...
created by main.main
\t/src/x.go:20 +0x30
";
    let c = one(text);
    let serve = by_id(&c, 402);
    assert_eq!(serve.creator(), Some("net/http.(*Server).Serve"));
    assert_eq!(serve.parent, None);
    let opener = by_id(&c, 7);
    assert_eq!(
        opener.created_by,
        Some(("database/sql.OpenDB".into(), "/usr/local/go/src/database/sql/sql.go".into(), 792))
    );
    let deep = by_id(&c, 9);
    assert_eq!(deep.funcs(), ["main.deep", "...additional frames elided..."]);
    assert!(deep.flags.contains(TaskFlags::FRAMES_ELIDED));
    assert_eq!(deep.creator(), Some("main.main"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
}

/// Every header field: `gp= m= mp=`, `(leaked)`, `(scan)`, `(durable)`, minutes, locked to
/// thread, synctest bubble, labels; unknown states and parts are kept.
#[test]
fn header_variants() {
    let text = r#"goroutine 0 gp=0xbcfb40 m=0 mp=0xbd0ae0 [idle]:
runtime.futex(0xbd0c20, 0x80, 0x0, 0x0, 0x0, 0x0)
	/usr/local/go/src/runtime/sys_linux_amd64.s:557 +0x23 fp=0x7ffc8d2b1e28 sp=0x7ffc8d2b1e20 pc=0x493c63
runtime.mstart()
	/usr/local/go/src/runtime/asm_amd64.s:395 +0x5 fp=0x7ffc8d2b1f40 sp=0x7ffc8d2b1f38 pc=0x48fd85

goroutine 5 gp=0x25f765365a40 m=nil [chan receive (leaked) (scan), 12 minutes, locked to thread]:
main.wait(0xc000010000)
	/src/x.go:5 +0x1d fp=0xc00004c7a8 sp=0xc00004c780 pc=0x47a1bd
created by main.main in goroutine 1
	/src/x.go:9 +0x25

goroutine 6 [select (durable), synctest bubble 3]:
main.bubbled()
	/src/x.go:15 +0x1d

goroutine 7 [sleep (durable), 2 minutes, synctest bubble 3]:
time.Sleep(0xdf8475800)
	/usr/local/go/src/runtime/time.go:366 +0x145

goroutine 8 [select] {handler: /api/upload, "req id": "a\"b\tc", user: "\u03a3"}:
main.labelled()
	/src/x.go:25 +0x1d

goroutine 9 [stuck in a new state, pinned to core 3]:
main.future()
	/src/x.go:30 +0x1d

goroutine 10 [???]:
main.odd()
	/src/x.go:35 +0x1d
"#;
    let c = one(text);
    let all = gs(&c);
    // goroutine 0 with m=N is thread M0's scheduler stack, a lane, not a goroutine.
    let g0 = &all[0];
    assert_eq!((g0.kind, g0.id, g0.state.as_str()), (TaskKind::Resource, 0, "idle"));
    assert_eq!(c.str(c.tasks.at(0).name), "M0");
    assert!(g0.flags.contains(TaskFlags::SYSTEM));
    assert_eq!(c.task_count(), 6);
    let leaked = by_id(&c, 5);
    assert_eq!(leaked.state, "chan receive");
    assert!(leaked.flags.contains(TaskFlags::LEAKED | TaskFlags::SCAN | TaskFlags::LOCKED_TO_THREAD));
    assert_eq!(leaked.wait_minutes, Some(12));
    assert_eq!(leaked.frames, [("main.wait".into(), "/src/x.go".into(), 5)]);
    let durable = by_id(&c, 6);
    assert_eq!((durable.state.as_str(), durable.bubble), ("select", Some(3)));
    assert!(durable.flags.contains(TaskFlags::DURABLE));
    let sleeper = by_id(&c, 7);
    assert_eq!((sleeper.state.as_str(), sleeper.wait_minutes, sleeper.bubble), ("sleep", Some(2), Some(3)));
    let labelled = by_id(&c, 8);
    assert_eq!(labelled.state, "select");
    // Labels are sorted by key id; compare as a set.
    let mut labels = labelled.labels.clone();
    labels.sort();
    assert_eq!(
        labels,
        [
            ("handler".to_owned(), "/api/upload".to_owned()),
            ("req id".to_owned(), "a\"b\tc".to_owned()),
            ("user".to_owned(), "Σ".to_owned())
        ]
    );
    let future = by_id(&c, 9);
    assert_eq!(future.state, "stuck in a new state");
    assert_eq!(by_id(&c, 10).state, "???");
    let warnings = c.warnings.lines().join("\n");
    assert!(warnings.contains("\"pinned to core 3\""), "{warnings}");
    assert!(warnings.starts_with("line 25:"), "{warnings}");
}

#[test]
fn unreadable_labels_warn_and_the_goroutine_stays() {
    let c = one("goroutine 8 [select] {handler /api}:\nmain.f()\n\t/x.go:1 +0x1\n");
    let x = by_id(&c, 8);
    assert!(x.labels.is_empty());
    assert_eq!(x.funcs(), ["main.f"]);
    assert!(c.warnings.lines()[0].contains("unreadable goroutine labels"), "{:?}", c.warnings.lines());
}

/// `GODEBUG=tracebackancestors=N`: ancestor blocks belong to the goroutine above them.
#[test]
fn ancestors_are_not_goroutines() {
    let text = "goroutine 35 [chan receive]:
main.publishAuditEvent(...)
\t/src/a.go:33
created by main.handleRequest in goroutine 34
\t/src/a.go:30 +0x5d
[originating from goroutine 34]:
main.handleRequest(...)
\t/src/a.go:30 +0x5d
main.handleRequest.deep(...)
\t/src/a.go:29 +0x11
...additional frames elided...
created by main.serveConn
\t/src/a.go:23 +0x5d
[originating from goroutine 33]:
main.serveConn(...)
\t/src/a.go:23 +0x5d

goroutine 36 [select]:
main.other()
\t/src/a.go:40 +0x1
";
    let c = one(text);
    assert_eq!(c.task_count(), 2);
    let x = by_id(&c, 35);
    assert_eq!(x.funcs(), ["main.publishAuditEvent"]);
    assert_eq!((x.creator(), x.parent), (Some("main.handleRequest"), Some(34)));
    assert_eq!(c.ancestors.len(), 2);
    let a0 = &c.ancestors[0];
    assert_eq!((a0.task, a0.goroutine_id), (0, 34));
    let funcs: Vec<&str> = c.stack_funcs(a0.stack).collect();
    assert_eq!(funcs, ["main.handleRequest", "main.handleRequest.deep", "...additional frames elided..."]);
    assert_eq!(a0.created_by.map(|f| c.func_name(f)), Some("main.serveConn"));
    let a1 = &c.ancestors[1];
    assert_eq!((a1.task, a1.goroutine_id, a1.created_by), (0, 33, None));
    assert_eq!(c.stack_funcs(a1.stack).collect::<Vec<_>>(), ["main.serveConn"]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
}

/// Go 1.21+ prints the 50 innermost and 50 outermost frames of a deep stack.
#[test]
fn elided_frames_keep_a_marker_in_place() {
    let text = "goroutine 9 [chan receive]:
main.main.func2()
\t/src/a.go:68 +0x2f
main.descend(0x0, 0xc00001c0a0, 0xc000012150)
\t/src/a.go:44 +0x28
...52 frames elided...
main.descend(0x96, 0xc00001c0a0, 0xc000012150)
\t/src/a.go:47 +0x45
created by main.main in goroutine 1
\t/src/a.go:66 +0x16c
";
    let x = by_id(&one(text), 9);
    assert_eq!(x.funcs(), ["main.main.func2", "main.descend", "...52 frames elided...", "main.descend"]);
    assert!(x.flags.contains(TaskFlags::FRAMES_ELIDED));
}

#[test]
fn running_on_another_thread_has_no_stack() {
    let text = "panic: boom

goroutine 1 [running]:
main.main()
\t/src/a.go:67 +0x245

goroutine 22 [running]:
\tgoroutine running on other thread; stack unavailable
created by main.main in goroutine 1
\t/src/a.go:59 +0x1a5
";
    let c = one(text);
    let x = by_id(&c, 22);
    assert!(x.flags.contains(TaskFlags::STACK_UNAVAILABLE));
    assert!(x.frames.is_empty());
    assert_eq!((x.creator(), x.parent), (Some("main.main"), Some(1)));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
}

#[test]
fn cgo_frames() {
    let text = "goroutine 22 [chan receive, locked to thread]:
main.goOnEvent(...)
\tleakscope.dev/generators/cgo/main.go:32
non-Go function at pc=0x4e12a8
non-Go function at pc=0x4e12b8
main._Cfunc_dispatchEvents(0x0)
\t_cgo_gotypes.go:60 +0x3a
created by main.main in goroutine 1
\tleakscope.dev/generators/cgo/main.go:47 +0xb4

goroutine 23 [chan receive, locked to thread]:
main.goOnEvent(...)
\tleakscope.dev/generators/cgo/main.go:32
c_deliver
\tcgo_c.c:9 pc=0x4e12a8
non-Go function
\tpc=0x4e12b8
main._Cfunc_dispatchEvents(0x1)
\t_cgo_gotypes.go:60 +0x3a
non-Go function at pc=0x7f00
created by main.main in goroutine 1
\tleakscope.dev/generators/cgo/main.go:47 +0xb4
";
    let c = one(text);
    let plain = by_id(&c, 22);
    assert_eq!(
        plain.funcs(),
        [
            "main.goOnEvent",
            "non-Go function at pc=0x4e12a8",
            "non-Go function at pc=0x4e12b8",
            "main._Cfunc_dispatchEvents"
        ]
    );
    assert_eq!(plain.frames[1].1, "");
    let symbolized = by_id(&c, 23);
    assert_eq!(
        symbolized.frames,
        [
            ("main.goOnEvent".into(), "leakscope.dev/generators/cgo/main.go".into(), 32),
            ("c_deliver".into(), "cgo_c.c".into(), 9),
            ("non-Go function".into(), String::new(), 0),
            ("main._Cfunc_dispatchEvents".into(), "_cgo_gotypes.go".into(), 60),
            ("non-Go function at pc=0x7f00".into(), String::new(), 0),
        ]
    );
    assert_eq!(symbolized.creator(), Some("main.main"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
}

/// The parse of a text with LF line ends, for comparing variants against.
fn summary(captures: &[Capture]) -> Vec<Vec<G>> {
    captures.iter().map(gs).collect()
}

#[test]
fn crlf_line_ends_parse_the_same() {
    for name in ["go127-tiny-sigquit.stderr.txt", "go127-ancestors.debug2.txt", "go127-labels.debug2.txt"] {
        let lf = sample(name);
        let crlf = String::from_utf8(lf.clone()).unwrap().replace('\n', "\r\n");
        let (a, b) = (parse_bytes(&lf), parse(&crlf));
        assert_eq!(summary(&a), summary(&b), "{name}");
        assert_eq!(b[0].warnings.lines(), a[0].warnings.lines(), "{name}");
    }
}

#[test]
fn tabs_turned_into_spaces_parse_the_same() {
    for name in
        ["ctx-done-leak.after.debug2.txt", "go127-tiny-sigquit.stderr.txt", "go119-mixed.before.debug2.txt"]
    {
        let tabs = sample(name);
        let text = String::from_utf8(tabs.clone()).unwrap();
        let (a, b, c) =
            (parse_bytes(&tabs), parse(&text.replace('\t', "    ")), parse(&text.replace('\t', " ")));
        assert_eq!(summary(&a), summary(&b), "{name}: tabs as four spaces");
        assert_eq!(summary(&a), summary(&c), "{name}: tabs as one space");
        assert!(b[0].warnings.is_empty(), "{name}: {:?}", b[0].warnings.lines());
    }
}

/// A paste that lost the indentation entirely still has `file.go:12 +0x1f` under each frame.
#[test]
fn source_lines_without_indentation() {
    let text = "goroutine 7 [chan receive]:
main.waitForRelease(0xc000010000)
/src/a.go:12 +0x1d
main.handler()
/src/a.go:20
created by main.main in goroutine 1
/src/a.go:30 +0x25
";
    let c = one(text);
    let x = by_id(&c, 7);
    assert_eq!(
        x.frames,
        [
            ("main.waitForRelease".into(), "/src/a.go".into(), 12),
            ("main.handler".into(), "/src/a.go".into(), 20)
        ]
    );
    assert_eq!(x.created_by, Some(("main.main".into(), "/src/a.go".into(), 30)));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
}

#[test]
fn log_lines_before_and_after_the_dump() {
    let text = format!(
        "2026/11/21 02:40:43.711484 starting webhook notifier, pid 13850\n\
         level=info msg=\"goroutine 5 is slow\" took=3s\n\
         goroutine profile: total 3\n\
         \twith an indented line\n\n{DEBUG2_GO127}\n\
         2026/11/21 02:40:44 done\nexit status 2\n"
    );
    let c = one(&text);
    assert_eq!((c.task_count(), c.source.first_line), (3, 6));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
}

#[test]
fn panic_output() {
    let text = "panic: first [recovered]
\tpanic: second
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x48f0a5]

goroutine 1 [running]:
testing.tRunner.func1.2({0x6c4c90, 0x27320949c180})
\ttesting/testing.go:2125 +0x232
panic({0x4a0f20?, 0x53b1a0?})
\t/usr/local/go/src/runtime/panic.go:785 +0x132
main.main()
\t/src/a.go:12 +0x45
exit status 2
";
    let c = one(text);
    assert_eq!(c.source.headline.as_deref(), Some("panic: first [recovered]"));
    assert_eq!(c.source.first_line, 1);
    assert_eq!(by_id(&c, 1).funcs(), ["testing.tRunner.func1.2", "panic", "main.main"]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
    // The report's "your code" frame skips the runtime's panic.
    let report = leakscope_core::report::CaptureReport::new(&c);
    assert_eq!(report.groups[0].user_function, "main.main");
}

#[test]
fn fatal_error_with_runtime_stack() {
    let text = "fatal error: unexpected signal during runtime execution
[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4565ef]

runtime stack:
runtime.throw({0x4f2c41?, 0x0?})
\t/usr/local/go/src/runtime/panic.go:1047 +0x5d fp=0x7ffe2b1c0e50 sp=0x7ffe2b1c0e20 pc=0x43485d
runtime.sigpanic()
\t/usr/local/go/src/runtime/signal_unix.go:819 +0x369 fp=0x7ffe2b1c0eb0 sp=0x7ffe2b1c0e50 pc=0x449e29

goroutine 1 [syscall]:
runtime.cgocall(0x45c440, 0xc000057f38)
\t/usr/local/go/src/runtime/cgocall.go:157 +0x5c fp=0xc000057f10 sp=0xc000057ed8 pc=0x40579c
main._Cfunc_crash()
\t_cgo_gotypes.go:39 +0x45 fp=0xc000057f38 sp=0xc000057f10 pc=0x45c385
main.main()
\t/src/a.go:9 +0x17 fp=0xc000057f80 sp=0xc000057f38 pc=0x45c3f7
";
    let c = one(text);
    assert_eq!(c.source.headline.as_deref(), Some("fatal error: unexpected signal during runtime execution"));
    assert_eq!(c.task_count(), 1);
    assert_eq!(by_id(&c, 1).funcs(), ["runtime.cgocall", "main._Cfunc_crash", "main.main"]);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
}

#[test]
fn go_test_timeout_with_trailing_fail_lines() {
    let c = one(&String::from_utf8(sample("go127-test-timeout.txt")).unwrap());
    assert_eq!(c.source.headline.as_deref(), Some("panic: test timed out after 2s"));
    assert_eq!(c.task_count(), 4);
    assert!(!c.tasks.iter().any(|t| t.flags.contains(TaskFlags::TRUNCATED)));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
    // The same log without a newline after its last "FAIL" is not a cut-off dump either.
    let mut text = String::from_utf8(sample("go127-test-timeout.txt")).unwrap();
    text.truncate(text.trim_end().len());
    let d = one(&text);
    assert_eq!(summary(&[c]), summary(std::slice::from_ref(&d)));
    assert!(d.warnings.is_empty(), "{:?}", d.warnings.lines());
    // Nor is "exit status 2" without a newline after the last frame. A bare word there could
    // be a function name cut short, so it counts as a cut.
    let e = one("goroutine 5 [running]:\nmain.f()\n\t/a.go:1 +0x1\nexit status 2");
    assert!(e.warnings.is_empty() && e.tasks.at(0).flags.is_empty(), "{:?}", e.warnings.lines());
    let f = one("goroutine 5 [running]:\nmain.f()\n\t/a.go:1 +0x1\nFAIL");
    assert!(f.tasks.at(0).flags.contains(TaskFlags::TRUNCATED));
    assert!(
        f.warnings.lines()[0].contains("the partial line \"FAIL\" is dropped"),
        "{:?}",
        f.warnings.lines()
    );
}

#[test]
fn series_of_dumps_in_one_file() {
    let log = sample("go127-series.log");
    let captures = parse_bytes(&log);
    assert_eq!(captures.iter().map(Capture::task_count).collect::<Vec<_>>(), [3, 6, 10]);
    for (i, c) in captures.iter().enumerate() {
        assert_eq!((c.source.series_index, c.source.series_len), (i, 3));
        assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
    }
    // Each capture starts at its own first goroutine line.
    let text = String::from_utf8(log).unwrap();
    for c in &captures {
        let line = text.lines().nth(c.source.first_line as usize - 1).unwrap();
        assert_eq!(line, "goroutine 1 [running]:");
    }
    // A new headline starts a new dump too, even without a repeated goroutine id.
    let text = "SIGQUIT: quit\n\ngoroutine 1 [running]:\nmain.a()\n\t/a.go:1 +0x1\n\n\
                panic: later\n\ngoroutine 2 [running]:\nmain.b()\n\t/a.go:2 +0x1\n";
    let captures = parse(text);
    assert_eq!(captures.len(), 2);
    assert_eq!(captures[0].source.headline.as_deref(), Some("SIGQUIT: quit"));
    assert_eq!(
        (captures[1].source.headline.as_deref(), captures[1].source.first_line),
        (Some("panic: later"), 7)
    );
}

/// `GOTRACEBACK=crash` relays SIGQUIT to every thread; the sections after `-----` belong to
/// the same dump and fill in the goroutine whose stack was unavailable.
#[test]
fn crash_relay_sections_are_one_dump() {
    let captures = parse_bytes(&sample("go127-crash.txt"));
    assert_eq!(captures.len(), 1);
    let c = &captures[0];
    assert_eq!(c.source.headline.as_deref(), Some("SIGQUIT: quit"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
    let spinner = by_id(c, 22);
    assert!(!spinner.flags.contains(TaskFlags::STACK_UNAVAILABLE));
    assert_eq!(spinner.funcs().first(), Some(&"main.hashLoop"));
    assert_eq!(spinner.creator(), Some("main.main"));
    // Every thread's g0 stack is a lane of its own.
    let ms: Vec<u64> = c.tasks.iter().filter(|t| t.kind == TaskKind::Resource).map(|t| t.id).collect();
    assert_eq!(ms, [1, 2, 4, 5, 6]);
    let ids: Vec<u64> = gs(c).iter().filter(|x| x.kind == TaskKind::Goroutine).map(|x| x.id).collect();
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(ids.len(), unique.len());
    assert_eq!(c.task_count(), 11);
}

#[test]
fn cut_off_mid_line_keeps_every_complete_goroutine() {
    let full = sample("ctx-done-leak.after.debug2.txt");
    let whole = parse_bytes(&full);
    let all = gs(&whole[0]);
    // Cut in the middle of the source line of a frame (not of a created-by line), as pprof
    // does at 64 MiB.
    let text = std::str::from_utf8(&full).unwrap();
    let mut cut_at = full.len() * 2 / 3;
    loop {
        let tab = cut_at + text[cut_at..].find("\n\t").unwrap() + 1;
        let previous = &text[text[..tab - 1].rfind('\n').unwrap() + 1..tab - 1];
        cut_at = tab + 12;
        if !previous.starts_with("created by") {
            break;
        }
    }
    let cut = parse_bytes(&full[..cut_at]);
    assert_eq!(cut.len(), 1);
    let got = gs(&cut[0]);
    let last = got.last().unwrap();
    assert!(last.flags.contains(TaskFlags::TRUNCATED));
    for (a, b) in got.iter().zip(&all).take(got.len() - 1) {
        assert_eq!(a, b);
    }
    let original = &all[got.len() - 1];
    assert_eq!(last.id, original.id);
    assert!(original.frames.starts_with(&last.frames));
    assert!(last.frames.len() < original.frames.len());
    let warnings = cut[0].warnings.lines();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains(&format!("cut off in the middle of goroutine {}", last.id)), "{warnings:?}");
}

#[test]
fn cut_off_variants() {
    let head =
        "goroutine 1 [running]:\nmain.main()\n\t/a.go:3 +0x1d\n\ngoroutine 2 [chan receive]:\nmain.w(0x1)\n";
    // Right after a function line: its source line is missing.
    let c = one(head);
    let w = by_id(&c, 2);
    assert!(w.flags.contains(TaskFlags::TRUNCATED));
    assert!(w.frames.is_empty());
    assert!(by_id(&c, 1).flags.is_empty());
    // In the middle of the next header: the goroutines before it are whole.
    let c = one("goroutine 1 [running]:\nmain.main()\n\t/a.go:3 +0x1d\n\ngoroutine 2 [chan rec");
    assert_eq!(c.task_count(), 1);
    assert!(c.tasks.at(0).flags.is_empty());
    assert!(c.warnings.lines()[0].contains("cut off in a goroutine header"), "{:?}", c.warnings.lines());
    // A whole header and nothing after it.
    let c = one("goroutine 1 [running]:\nmain.main()\n\t/a.go:3 +0x1d\n\ngoroutine 2 [chan receive]:");
    assert!(by_id(&c, 2).flags.contains(TaskFlags::TRUNCATED));
    // In the middle of a created-by line.
    let c = one("goroutine 2 [select]:\nmain.w()\n\t/a.go:3 +0x1d\ncreated by main.ma");
    let w = by_id(&c, 2);
    assert!(w.flags.contains(TaskFlags::TRUNCATED) && w.created_by.is_none());
    assert_eq!(w.funcs(), ["main.w"]);
}

#[test]
fn invalid_utf8_is_replaced_and_the_rest_parses() {
    let mut text = b"\xff\xfe binary junk in a log\n".to_vec();
    text.extend_from_slice(b"goroutine 7 [chan receive]:\nmain.caf\xe9(0x1)\n\t/src/a.go:3 +0x1d\n\n");
    text.extend_from_slice(DEBUG2_GO127.as_bytes());
    let c = parse_bytes(&text).remove(0);
    assert_eq!(c.task_count(), 4);
    assert_eq!(by_id(&c, 7).funcs(), ["main.caf\u{fffd}"]);
    assert_eq!(c.warnings.lines().len(), 1);
    assert!(c.warnings.lines()[0].contains("invalid UTF-8"));
}

#[test]
fn stray_lines_inside_blocks_warn() {
    let text = "goroutine 7 [chan receive]:\n\tstray indented line\nmain.f()\n\tnot a source line\nmain.g()\n\t/a.go:2 +0x1\n";
    let c = one(text);
    assert_eq!(by_id(&c, 7).funcs(), ["main.g"]);
    let w = c.warnings.lines();
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].starts_with("line 2: source line without a function line"), "{w:?}");
    assert!(w[1].starts_with("line 4: unreadable source line"), "{w:?}");
}

#[test]
fn runtime_goroutines_are_system() {
    let c = one(&String::from_utf8(sample("go127-tiny-sigquit.stderr.txt")).unwrap());
    let system: Vec<u64> = c
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Goroutine && t.flags.contains(TaskFlags::SYSTEM))
        .map(|t| t.id)
        .collect();
    assert_eq!(system, [2, 3, 4, 5, 6, 7]);
    assert!(!c.tasks.iter().any(|t| t.flags.contains(TaskFlags::DUMPER)));
}

/// Blocks split across the parallel chunks give the same result as one sequential parse.
#[test]
fn generated_dumps_parse_whole_across_chunks() {
    let text = dumpgen::debug2_dump(20_000, 3);
    let captures = parse(&text);
    assert_eq!(captures.len(), 1);
    let c = &captures[0];
    assert_eq!(c.task_count(), 20_001);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
    assert_eq!(c.groups().iter().filter(|x| x.count > 0).count(), 37);
    let pieces = |size| {
        leakscope_core::formats::goroutine_dump::parse_bytes_in_pieces(
            text.as_bytes(),
            "t",
            &Progress::new(),
            size,
        )
        .unwrap()
    };
    assert_eq!(summary(&captures), summary(&pieces(usize::MAX)));
    assert_eq!(summary(&captures), summary(&pieces(4096)));
    let crash = dumpgen::sigquit_dump(4 << 20, 5);
    let captures = parse(&crash);
    assert_eq!(captures.len(), 1);
    let c = &captures[0];
    assert_eq!(c.count_of_kind(TaskKind::Resource), 8);
    assert_eq!(c.source.headline.as_deref(), Some("SIGQUIT: quit"));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
}

/// Found by fuzzing: the line of the "invalid UTF-8" warning was the first block of the piece
/// the parallel split happened to make, so the result depended on the split. Warnings about a
/// distinct string now come once per capture, at the first block that uses it.
#[test]
fn regression_invalid_utf8_warning_independent_of_the_split() {
    let mut text = b"goroutine 1 [running]:\nmain.a()\n\t/a.go:1 +0x1\n\n".to_vec();
    text.extend_from_slice(b"goroutine 2 [chan \xffreceive, 1 minutes]:\nmain.caf\xe9()\n\t/a.go:2 +0x1\n\n");
    text.extend_from_slice(b"goroutine 3 [chan \xffreceive, 1 minutes]:\nmain.caf\xe9()\n\t/a.go:2 +0x1\n\n");
    // The same goroutine again: a second dump, which warns again.
    text.extend_from_slice(b"goroutine 1 [chan \xffreceive]:\nmain.caf\xe9()\n\t/a.go:2 +0x1\n");
    let parse = |piece| {
        leakscope_core::formats::goroutine_dump::parse_bytes_in_pieces(&text, "t", &Progress::new(), piece)
            .unwrap()
    };
    let whole = parse(usize::MAX);
    assert_eq!(whole.len(), 2);
    let warnings: Vec<Vec<String>> = whole.iter().map(|c| c.warnings.lines()).collect();
    assert_eq!(
        warnings,
        [
            vec![
                "line 5: invalid UTF-8 in the state \"chan \u{fffd}receive\" was replaced with U+FFFD".to_owned(),
                "line 5: invalid UTF-8 in the frame \"main.caf\u{fffd}\" (\"/a.go\") was replaced with U+FFFD".to_owned(),
            ],
            vec![
                "line 13: invalid UTF-8 in the state \"chan \u{fffd}receive\" was replaced with U+FFFD".to_owned(),
                "line 13: invalid UTF-8 in the frame \"main.caf\u{fffd}\" (\"/a.go\") was replaced with U+FFFD".to_owned(),
            ],
        ]
    );
    for piece in [1, 40, 60, 100] {
        let split = parse(piece);
        assert_eq!(summary(&whole), summary(&split), "piece {piece}");
        let split_warnings: Vec<Vec<String>> = split.iter().map(|c| c.warnings.lines()).collect();
        assert_eq!(warnings, split_warnings, "piece {piece}");
    }
}

/// Before Go 1.22 a crash printed g0 stacks as `goroutine 0 [idle]:`, without `gp= m= mp=`;
/// the `PC=... m=N` line before each says which thread it is.
#[test]
fn go119_crash_g0_stacks_without_thread_fields() {
    let text = "SIGQUIT: quit
PC=0x46a4a1 m=0 sigcode=0

goroutine 0 [idle]:
runtime.futex(0x5599b8, 0x80, 0x0, 0x0, 0x0, 0x7ffc35d5f8e8, 0x437c0c, 0xc000022000, 0x7ffc35d5f918, 0x40bf25, ...)
\t/usr/local/go/src/runtime/sys_linux_amd64.s:519 +0x21 fp=0x7ffc35d5f8b8 sp=0x7ffc35d5f8b0 pc=0x46a4a1
runtime.mstart()
\t/usr/local/go/src/runtime/asm_amd64.s:391 +0x30 fp=0x7ffc35d5fa48 sp=0x7ffc35d5fa40 pc=0x4660b0

goroutine 1 [chan receive, 2 minutes]:
runtime.gopark(0x4c8a58, 0xc00005e0b8, 0xe, 0x2)
\t/usr/local/go/src/runtime/proc.go:363 +0xd6 fp=0xc00006ef38 sp=0xc00006ef18 pc=0x4372b6
main.main()
\t/tmp/x.go:10 +0x1d fp=0xc00006ef80 sp=0xc00006ef38 pc=0x45c3f7
runtime.main()
\t/usr/local/go/src/runtime/proc.go:250 +0x212 fp=0xc00006efe0 sp=0xc00006ef80 pc=0x436ef2
runtime.goexit()
\t/usr/local/go/src/runtime/asm_amd64.s:1594 +0x1 fp=0xc00006efe8 sp=0xc00006efe0 pc=0x466401

goroutine 2 [force gc (idle)]:
runtime.gopark(0x0, 0x0, 0x0, 0x0)
\t/usr/local/go/src/runtime/proc.go:363 +0xd6 fp=0xc00004efb0 sp=0xc00004ef90 pc=0x4372b6
runtime.forcegchelper()
\t/usr/local/go/src/runtime/proc.go:302 +0xad fp=0xc00004efe0 sp=0xc00004efb0 pc=0x43714d
runtime.goexit()
\t/usr/local/go/src/runtime/asm_amd64.s:1594 +0x1 fp=0xc00004efe8 sp=0xc00004efe0 pc=0x466401
created by runtime.init.6
\t/usr/local/go/src/runtime/proc.go:290 +0x25

rax    0xca
rbx    0x0
rip    0x46a4a1
rflags 0x286

-----

SIGQUIT: quit
PC=0x46a4a3 m=2 sigcode=0

goroutine 0 [idle]:
runtime.futex(0xc000050150, 0x80, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x7f9e6c7fbd98, 0x433426, ...)
\t/usr/local/go/src/runtime/sys_linux_amd64.s:519 +0x23 fp=0x7f9e6c7fbd48 sp=0x7f9e6c7fbd40 pc=0x46a4a3
runtime.mstart()
\t/usr/local/go/src/runtime/asm_amd64.s:391 +0x30 fp=0x7f9e6c7fbfd0 sp=0x7f9e6c7fbfc8 pc=0x4660b0
rax    0xca
rip    0x46a4a3
";
    let c = one(text);
    assert_eq!(c.source.headline.as_deref(), Some("SIGQUIT: quit"));
    assert_eq!(c.task_count(), 2);
    let g0: Vec<(u64, String)> = c
        .tasks
        .iter()
        .filter(|t| t.kind == TaskKind::Resource)
        .map(|t| (t.id, c.str(t.name).to_owned()))
        .collect();
    assert_eq!(g0, [(0, "M0".to_owned()), (2, "M2".to_owned())]);
    let main = by_id(&c, 1);
    assert_eq!(
        (main.wait_minutes, main.funcs()),
        (Some(2), vec!["runtime.gopark", "main.main", "runtime.main", "runtime.goexit"])
    );
    assert!(!main.flags.contains(TaskFlags::SYSTEM));
    assert!(by_id(&c, 2).flags.contains(TaskFlags::SYSTEM));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings.lines());
    // Without the PC= lines the threads get the first free numbers.
    let bare = text.replace("PC=0x46a4a1 m=0 sigcode=0\n", "").replace("PC=0x46a4a3 m=2 sigcode=0\n", "");
    let c = one(&bare);
    let ids: Vec<u64> = c.tasks.iter().filter(|t| t.kind == TaskKind::Resource).map(|t| t.id).collect();
    assert_eq!(ids, [0, 1]);
}
