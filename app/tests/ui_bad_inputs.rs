//! Damaged and hostile inputs dropped on the app (egui_kittest, no GPU): each one ends in an
//! error that names the file, or in the partial capture with its warning, and the window keeps
//! drawing frames with the bundled sample still open and usable. The loader runs off the UI
//! thread, so "responsive" here means the frames before the load ends draw too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::sync::Arc;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use flate2::Compression;
use flate2::write::GzEncoder;

use leakscope::{App, Startup};
use leakscope_core::analysis::leaks::Severity;
use support::{Dropped, drop_files, sample, settle};

mod support;

fn harness() -> Harness<'static, App> {
    let mut h = support::harness(Startup::Sample);
    settle(&mut h);
    h
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A fresh folder for this test's inputs, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("leakscope-ui-bad-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The error the app shows for `file`, which must name it.
fn error_for(h: &Harness<'_, App>, file: &str) -> String {
    let errors = &h.state().errors;
    let e = errors.iter().find(|e| e.message.contains(file));
    e.unwrap_or_else(|| panic!("no error names {file}: {errors:?}")).message.clone()
}

/// After a failed drop the sample is still open and its views still answer.
fn sample_still_works(h: &mut Harness<'_, App>) {
    assert!(h.state().workspace.as_ref().is_some_and(|w| !w.captures().is_empty()));
    h.get_by_label("Goroutines").click();
    h.run();
    h.get_by_label("Group: 440 goroutines, chan send, main.sendReceiptEmail");
    h.get_by_label("Findings").click();
    h.run();
    h.get_by_label("Dismiss").click();
    h.run();
    assert!(h.state().errors.is_empty());
}

#[test]
fn inputs_that_cannot_be_read_are_errors_naming_the_file_and_the_place() {
    let dir = Dir::new("errors");
    let pprof = {
        let mut raw = Vec::new();
        let packed = std::fs::read(sample("ctx-done-leak.after.goroutine.pb.gz")).unwrap();
        flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut raw).unwrap();
        raw
    };
    let cases: Vec<(PathBuf, &str, &[&str])> = vec![
        (dir.write("empty.txt", b""), "empty.txt", &["empty file"]),
        // 64 MiB of zeros, 64 KiB compressed: refused at its first inflated bytes.
        (dir.write("bomb.gz", &gz(&vec![0u8; 64 << 20])), "bomb.gz", &["unrecognised format"]),
        (
            dir.write("binary.bin", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0"),
            "binary.bin",
            &["unrecognised format"],
        ),
        // A raw profile cut at half its length: pprof, and the byte where it breaks.
        (dir.write("cut.pb", &pprof[..pprof.len() / 2]), "cut.pb", &["pprof", "byte"]),
        (
            dir.write("cut-gzip.txt.gz", &{
                let g = std::fs::read(sample("orders-api.before.debug2.txt.gz")).unwrap();
                g[..g.len() / 2].to_vec()
            }),
            "cut-gzip.txt.gz",
            &["gzip"],
        ),
    ];
    let mut h = harness();
    for (path, file, words) in &cases {
        drop_files(&mut h, std::slice::from_ref(path));
        let message = error_for(&h, file);
        for w in *words {
            assert!(message.contains(w), "{file}: {w:?} missing from {message:?}");
        }
        assert!(message.len() < 2_000, "{file}: a {} byte message", message.len());
        sample_still_works(&mut h);
    }
}

#[test]
fn damaged_inputs_that_still_hold_data_open_with_their_warning() {
    let dir = Dir::new("partial");
    let node = std::fs::read(sample("node-healthy-locks.trace.json")).unwrap();
    let go = std::fs::read(sample("go-leaky.trace")).unwrap();
    let mut padded = std::fs::read(sample("ctx-done-leak.after.goroutine.pb.gz")).unwrap();
    padded.extend_from_slice(&[0u8; 4096]);
    let mut h = harness();

    // A healthy Node trace cut off mid-write: read, said to be cut off, and no likely leak
    // made of the work that was open at the cut.
    let cut_node = dir.write("cut-node.trace.json", &node[..node.len() * 3 / 5]);
    drop_files(&mut h, std::slice::from_ref(&cut_node));
    assert!(h.state().errors.is_empty(), "{:?}", h.state().errors);
    let loaded = h.state().workspace.as_ref().unwrap().active().unwrap();
    assert!(loaded.name.contains("cut-node"), "{}", loaded.name);
    assert!(
        loaded.capture.warnings.lines().iter().any(|w| w.contains("cut off")),
        "{:?}",
        loaded.capture.warnings.lines()
    );
    assert!(
        !loaded.analysis.findings.iter().any(|f| f.severity <= Severity::Likely),
        "a cut-off healthy trace is not a leak: {:?}",
        loaded.analysis.findings.iter().map(|f| (&f.title, f.severity)).collect::<Vec<_>>()
    );
    h.get_by_label_contains("parser warning").click();
    h.run();
    // The warnings window and the findings' caveat both say it.
    assert!(h.query_all_by_label_contains("cut off").count() >= 2);

    // A Go execution trace cut in the middle of a batch keeps what is before the cut.
    let cut_go = dir.write("cut-go.trace", &go[..go.len() / 2]);
    drop_files(&mut h, std::slice::from_ref(&cut_go));
    assert!(h.state().errors.is_empty(), "{:?}", h.state().errors);
    let loaded = h.state().workspace.as_ref().unwrap().active().unwrap();
    assert!(loaded.name.contains("cut-go"), "{}", loaded.name);
    assert!(loaded.goroutine_count() > 0);
    assert!(!loaded.capture.warnings.is_empty());

    // gzip followed by zero padding reads like zcat reads it.
    let padded = dir.write("padded.pb.gz", &padded);
    drop_files(&mut h, std::slice::from_ref(&padded));
    assert!(h.state().errors.is_empty(), "{:?}", h.state().errors);
    assert!(h.state().workspace.as_ref().unwrap().active().unwrap().goroutine_count() > 0);
}

#[test]
fn a_file_dropped_twice_is_read_once_and_the_app_says_so() {
    let mut h = harness();
    let dump = sample("orders-api.before.debug2.txt.gz");
    drop_files(&mut h, &[dump.clone(), dump]);
    let ws = h.state().workspace.as_ref().unwrap();
    assert_eq!(ws.captures().len(), 1, "one capture, not two copies compared");
    assert!(
        h.state().session_notes.iter().any(|n| n.contains("more than once")),
        "{:?}",
        h.state().session_notes
    );
    h.get_by_label_contains("was given more than once");
    h.get_by_label("Dismiss").click();
    h.run();
    assert!(h.state().session_notes.is_empty());
}

#[test]
fn a_ten_megabyte_line_is_not_echoed_whole() {
    let dir = Dir::new("long");
    let mut dump = b"goroutine 1 [running]:\nmain.".to_vec();
    dump.extend(std::iter::repeat_n(b'a', 10 << 20));
    dump.extend_from_slice(b"()\n\t/src/main.go:10 +0x1\n");
    let path = dir.write("long.txt", &dump);
    let mut h = harness();
    drop_files(&mut h, std::slice::from_ref(&path));
    // Whether it opens or not, nothing the app holds to show is megabytes long.
    for e in &h.state().errors {
        assert!(e.message.len() < 10_000, "a {} byte error", e.message.len());
    }
    h.run();
    assert!(h.state().workspace.is_some());
}

#[test]
fn a_trace_whose_first_event_is_huge_opens_as_a_trace() {
    let dir = Dir::new("huge");
    let big = "x".repeat(33 << 20);
    let json = format!(
        r#"[{{"name":"big","args":{{"blob":"{big}"}},"ph":"X","ts":1,"dur":2,"pid":1,"tid":1}},
{{"name":"small","ph":"X","ts":5,"dur":1,"pid":1,"tid":1}}]"#
    );
    let path = dir.write("big-first-event.json", json.as_bytes());
    let mut h = harness();
    drop_files(&mut h, std::slice::from_ref(&path));
    assert!(h.state().errors.is_empty(), "{:?}", h.state().errors);
    let loaded = h.state().workspace.as_ref().unwrap().active().unwrap();
    assert_eq!(loaded.capture.intervals.len(), 2);
}

/// A memory-mapped input cut short by another process while it loads (log rotation,
/// `truncate`): the app gets an error naming the file or the capture as it was, never a crash
/// (SIGBUS) or a hang, and keeps drawing.
#[test]
fn an_input_truncated_while_it_loads_never_crashes_the_app() {
    let dir = Dir::new("shrink");
    let mut dump = Vec::new();
    let packed = std::fs::read(sample("orders-api.before.debug2.txt.gz")).unwrap();
    flate2::read::GzDecoder::new(&packed[..]).read_to_end(&mut dump).unwrap();
    // Large enough that the load is still running when the file shrinks.
    let big: Vec<u8> = dump.iter().copied().cycle().take(64 << 20).collect();
    let path = dir.write("live.debug2.txt", &big);
    // Old files are mapped; new ones (a writer may still be busy) are read.
    let old = std::time::SystemTime::now() - std::time::Duration::from_hours(1);
    std::fs::File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
    let mut h = harness();
    h.input_mut().dropped_files.push(Arc::new(Dropped(path.clone())));
    h.run_steps(2);
    let cutter = {
        let path = path.clone();
        std::thread::spawn(move || {
            for len in [32u64 << 20, 1 << 20, 0] {
                std::thread::sleep(std::time::Duration::from_millis(20));
                let _ = std::fs::File::options().write(true).open(&path).and_then(|f| f.set_len(len));
            }
        })
    };
    // Frames keep coming while the loader works and the file shrinks under it.
    for _ in 0..10 {
        h.run_steps(1);
    }
    cutter.join().unwrap();
    h.state_mut().finish_loading_blocking();
    h.run();
    if let Some(e) = h.state().errors.first() {
        assert!(e.message.contains("live.debug2.txt"), "{}", e.message);
    } else {
        assert!(h.state().workspace.is_some());
    }
    sample_or_capture_still_draws(&mut h);
}

/// Whatever the load left open, every view still draws.
fn sample_or_capture_still_draws(h: &mut Harness<'_, App>) {
    for view in ["Findings", "Goroutines", "Flamegraph", "Timeline"] {
        if let Some(tab) = h.query_by_label(view) {
            tab.click();
            h.run();
        }
    }
}
