//! The session is the one engine behind `leakscope report` and the app: the same inputs give
//! the same verdict however they are given (two files, or a file and a baseline), snapshots
//! given as separate files form a series as a file holding several dumps does, and inputs of
//! different programs are judged apart.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::path::{Path, PathBuf};

use leakscope_core::analysis::leaks::Config;
use leakscope_core::report::Report;
use leakscope_core::session::{Input, Purpose, Session};
use leakscope_core::{LoadOptions, Progress};
use serde_json::Value;

fn sample(name: &str) -> PathBuf {
    support::sample_traces().join(name)
}

/// The findings of a report with the capture index taken out, so two reports that number
/// their captures differently compare.
fn findings(report: &Report) -> Vec<Value> {
    let mut v = serde_json::to_value(&report.findings).unwrap();
    for f in v.as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("capture");
    }
    v.as_array().unwrap().clone()
}

#[test]
fn two_files_and_a_file_with_its_baseline_give_the_same_findings() {
    let (before, after) =
        (sample("orders-api.before.debug2.txt.gz"), sample("orders-api.after.debug2.txt.gz"));
    let two = Report::from_session(&support::session(vec![Input::file(&before), Input::file(&after)]));
    let based = Report::from_session(&support::session(vec![Input::baseline(&before), Input::file(&after)]));
    // Given the other way round, the goroutine ids still say which is older.
    let reversed = Report::from_session(&support::session(vec![Input::file(&after), Input::file(&before)]));

    assert!(!two.findings.is_empty());
    assert_eq!(findings(&two), findings(&based));
    assert_eq!(findings(&two), findings(&reversed));
    // Only the later capture is judged, and with its history: families that grew say so.
    for r in [&two, &based, &reversed] {
        assert_eq!(r.series.len(), 1);
        let later = *r.series[0].captures.last().unwrap();
        assert!(r.captures[later].path.ends_with("orders-api.after.debug2.txt.gz"));
        assert!(r.findings.iter().all(|f| f.capture == later));
        assert!(r.findings.iter().any(|f| f.growth.as_ref().is_some_and(|g| g.after > g.before)));
    }
    assert!(based.captures[0].baseline);
    assert!(!two.captures.iter().any(|c| c.baseline));
}

/// Writes each dump of the series file to a file of its own in `dir`, oldest first.
fn split_series(dir: &Path) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(sample("go127-series.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let starts: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].starts_with("goroutine 1 [")).collect();
    assert_eq!(starts.len(), 3);
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let end = starts.get(k + 1).copied().unwrap_or(lines.len());
            let path = dir.join(format!("snapshot-{}.txt", k + 1));
            std::fs::write(&path, lines[s..end].join("\n") + "\n").unwrap();
            path
        })
        .collect()
}

#[test]
fn snapshots_given_as_files_are_a_series_like_a_file_of_dumps() {
    let dir = std::env::temp_dir().join(format!("leakscope-session-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = split_series(&dir);
    // Given out of order: the goroutine ids of one process put them back.
    let s = support::session(vec![Input::file(&files[2]), Input::file(&files[0]), Input::file(&files[1])]);
    assert_eq!(s.series.len(), 1);
    let ordered: Vec<String> =
        s.series[0].members.iter().map(|&m| s.captures[m].capture.source.path.clone()).collect();
    let expected: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    assert_eq!(ordered, expected);
    let from_files = Report::from_session(&s);
    let from_one_file =
        Report::from_session(&support::session(vec![Input::file(sample("go127-series.log"))]));
    std::fs::remove_dir_all(&dir).ok();

    let grown: Vec<&Vec<u64>> =
        from_files.findings.iter().filter_map(|f| f.growth.as_ref()).map(|g| &g.series).collect();
    assert!(!grown.is_empty(), "a family grows along the three snapshots");
    for series in &grown {
        assert_eq!(series.len(), 3, "three counts, one per snapshot: {series:?}");
    }
    assert_eq!(findings(&from_files), findings(&from_one_file));
}

#[test]
fn captures_of_different_programs_are_judged_apart() {
    let a = sample("orders-api.after.debug2.txt.gz");
    let b = sample("go119-mixed.before.debug2.txt");
    let both = Report::from_session(&support::session(vec![Input::file(&a), Input::file(&b)]));
    let alone_a = Report::from_session(&support::session(vec![Input::file(&a)]));
    let alone_b = Report::from_session(&support::session(vec![Input::file(&b)]));
    assert_eq!(both.series.len(), 2);
    let mut expected = findings(&alone_a);
    expected.extend(findings(&alone_b));
    let key = |v: &Value| v.to_string();
    let mut got = findings(&both);
    got.sort_by_key(key);
    expected.sort_by_key(key);
    assert_eq!(got, expected);
}

#[test]
fn the_same_file_given_twice_is_read_once_and_said() {
    let a = sample("go119-mixed.before.debug2.txt");
    let s = support::session(vec![Input::file(&a), Input::file(&a)]);
    assert_eq!(s.captures.len(), 1);
    assert_eq!(s.notes.len(), 1, "{:?}", s.notes);
    assert!(s.notes[0].contains("go119-mixed.before.debug2.txt"));
}

#[test]
fn a_failed_input_is_reported_with_the_others_read() {
    let dir = std::env::temp_dir().join(format!("leakscope-session-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("not-a-capture.txt");
    std::fs::write(&bad, "hello\n").unwrap();
    let missing = dir.join("missing.txt");
    let failed = Session::load(
        vec![Input::file(&bad), Input::file(sample("go119-mixed.before.debug2.txt")), Input::file(&missing)],
        &LoadOptions::default(),
        Purpose::Report,
        Config::default(),
        &Progress::new(),
        &mut |_| {},
    )
    .err()
    .expect("two inputs fail");
    std::fs::remove_dir_all(&dir).ok();
    assert!(!failed.cancelled);
    assert_eq!(failed.errors.len(), 2);
    assert!(failed.errors[0].to_string().contains("not-a-capture.txt"));
    assert!(failed.errors[1].to_string().contains("missing.txt"));
}

/// A dump with one 10 MB line (a function name) echoed all 10 MB to stdout: in the groups, the
/// finding's stack and title, and the warnings. What a report shows of any one name is capped,
/// with an ellipsis and the full length.
#[test]
fn regression_a_ten_megabyte_name_is_not_echoed_whole() {
    use std::fmt::Write as _;

    use leakscope_core::session::InputSource;
    // 1 MB is as telling as 10 and keeps the test quick.
    let long = format!("main.{}", "a".repeat(1 << 20));
    let mut dump = String::from("goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n\n");
    for id in 10..40 {
        write!(
            dump,
            "goroutine {id} [chan receive, 12 minutes]:\n{long}(0xc000012345)\n\t/x.go:12 +0x1d\n\
             created by main.main in goroutine 1\n\t/x.go:3 +0x45\n\n"
        )
        .unwrap();
    }
    // A frame line without its source line: a warning quoting it.
    write!(dump, "goroutine 99 [select]:\n{long}()\n\n").unwrap();
    let input = Input {
        source: InputSource::Bytes {
            name: "long.txt".into(),
            bytes: leakscope_core::Bytes::Owned(dump.into_bytes()),
        },
        baseline: false,
    };
    let report = Report::from_session(&support::session(vec![input]));
    let text: String = report
        .findings
        .iter()
        .map(leakscope_core::report::FindingReport::to_text)
        .chain(report.captures.iter().map(|c| c.to_text(10)))
        .collect();
    let json = report.to_json().to_string();
    assert!(text.contains("main.aaaa") && text.contains("bytes"), "{}", &text[..text.len().min(2000)]);
    assert!(text.len() < 64 << 10, "{} bytes of text", text.len());
    assert!(json.len() < 64 << 10, "{} bytes of JSON", json.len());
}
