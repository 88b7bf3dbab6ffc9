//! The loading path: gzip by magic bytes (multi-member, inflate limit, corrupt data), sniffing by
//! content whatever the file is called, the unknown-format error, directories, files that change
//! while they are read, and that nothing is ever written to or beside an input.

// Test helpers fail the test the way the tests themselves do.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use flate2::Compression;
use flate2::write::GzEncoder;
use leakscope_core::load::Bytes;
use leakscope_core::model::Capture;
use leakscope_core::{LoadError, LoadOptions, Progress, formats};

/// A fresh empty directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "leakscope-load-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into())
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(support::sample_traces().join(name)).unwrap()
}

fn open(path: &Path) -> Result<Vec<Capture>, LoadError> {
    leakscope_core::open(path, &LoadOptions::default(), &Progress::new())
}

/// Makes a file look old so the loader maps it instead of reading it (it reads files written in
/// the last two seconds, which a writer may still be changing).
fn age(path: &Path) {
    let old = SystemTime::now() - Duration::from_hours(1);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(old).unwrap();
}

#[test]
fn gzip_is_detected_by_magic_not_name() {
    let dir = TempDir::new("gzip");
    let dump = sample("go127-tiny-sigquit.stderr.txt");
    let plain = open_bytes_count(&dump);
    // A gzipped dump called .txt, and a plain dump called .gz.
    let gz_named_txt = dir.path("goroutines.txt");
    std::fs::write(&gz_named_txt, gz(&dump)).unwrap();
    let txt_named_gz = dir.path("dump.log.gz");
    std::fs::write(&txt_named_gz, &dump).unwrap();
    age(&gz_named_txt);
    for path in [&gz_named_txt, &txt_named_gz] {
        let captures = open(path).unwrap();
        assert_eq!(captures.len(), 1);
        assert_eq!(captures[0].task_count(), plain);
        assert_eq!(captures[0].source.gzipped, path == &gz_named_txt);
        assert_eq!(captures[0].source.bytes, dump.len() as u64);
    }
}

fn open_bytes_count(bytes: &[u8]) -> u64 {
    let captures = leakscope_core::open_bytes(
        "x",
        Bytes::Owned(bytes.to_vec()),
        &LoadOptions::default(),
        &Progress::new(),
    )
    .unwrap();
    captures[0].task_count()
}

#[test]
fn multi_member_gzip_inflates_every_member() {
    // `cat a.gz b.gz`: two dumps, a series.
    let a = sample("go127-deadlock.txt");
    let b = sample("go127-panic.txt");
    let mut both = gz(&a);
    both.extend(gz(&b));
    let captures =
        leakscope_core::open_bytes("both.gz", Bytes::Owned(both), &LoadOptions::default(), &Progress::new())
            .unwrap();
    assert_eq!(captures.len(), 2);
    assert_eq!(
        captures[0].source.headline.as_deref(),
        Some("fatal error: all goroutines are asleep - deadlock!")
    );
    assert!(captures[1].source.headline.as_deref().unwrap().starts_with("panic: applyLimit"));
    assert!(captures.iter().all(|c| c.source.gzipped));
}

#[test]
fn inflate_limit_stops_a_bomb_with_a_clear_error() {
    let dir = TempDir::new("bomb");
    let path = dir.path("bomb.txt.gz");
    let mut text = sample("go127-deadlock.txt");
    text.resize(8 << 20, b'\n');
    std::fs::write(&path, gz(&text)).unwrap();
    let options = LoadOptions { max_inflated_bytes: Some(1 << 20), ..LoadOptions::default() };
    let err = leakscope_core::open(&path, &options, &Progress::new()).unwrap_err();
    let LoadError::InflateLimit { limit, compressed_offset, .. } = &err else { panic!("{err:?}") };
    assert_eq!(limit.bytes, 1 << 20);
    assert!(*compressed_offset > 0);
    let message = err.to_string();
    assert!(message.contains("limit of 1.00 MiB given") && message.ends_with("bomb.txt.gz"), "{message}");
    // Under the limit it loads.
    let options = LoadOptions { max_inflated_bytes: Some(16 << 20), ..LoadOptions::default() };
    assert!(leakscope_core::open(&path, &options, &Progress::new()).is_ok());
}

/// A 47 MB gzip of 10 GB of zeros took 72 s and 11.7 GB before the limit refused it. What comes
/// out is sniffed as it comes: nothing reads zeros, so it stops after the first chunk.
#[test]
fn regression_a_gzip_bomb_nothing_can_read_stops_at_its_first_bytes() {
    let bomb = gz(&vec![0u8; 256 << 20]);
    let progress = Progress::new();
    let err = leakscope_core::open_bytes("bomb.gz", Bytes::Owned(bomb), &LoadOptions::default(), &progress)
        .unwrap_err();
    let LoadError::UnknownFormat { gzipped: true, head, .. } = &err else { panic!("{err:?}") };
    assert!(head.starts_with("...."), "{head}");
    assert!(err.to_string().starts_with("unrecognised format inside gzip"), "{err}");
    // It read a sliver of the compressed bytes, not all of them.
    let (read, compressed) = progress.bytes();
    assert!(read * 100 < compressed, "{read} of {compressed} compressed bytes read");
}

/// `zcat` and `gzip -t` accept zero padding after the last member; this was "invalid gzip
/// header". Other trailing bytes are ignored with a warning, as gzip does.
#[test]
fn regression_zero_padding_after_gzip_is_accepted() {
    let text = sample("go127-deadlock.txt");
    let mut padded = gz(&text[..text.len() / 2]);
    padded.extend(gz(&text[text.len() / 2..]));
    padded.extend(vec![0u8; 10_000]);
    let captures = leakscope_core::open_bytes(
        "padded.gz",
        Bytes::Owned(padded.clone()),
        &LoadOptions::default(),
        &Progress::new(),
    )
    .unwrap();
    let plain =
        leakscope_core::open_bytes("plain", Bytes::Owned(text), &LoadOptions::default(), &Progress::new())
            .unwrap();
    assert_eq!(captures[0].task_count(), plain[0].task_count());
    assert_eq!(captures[0].warnings.lines(), plain[0].warnings.lines());
    let garbage_at = padded.len() - 10_000;
    padded.truncate(garbage_at);
    padded.extend_from_slice(b"not gzip\n");
    let captures = leakscope_core::open_bytes(
        "garbage.gz",
        Bytes::Owned(padded),
        &LoadOptions::default(),
        &Progress::new(),
    )
    .unwrap();
    let warned = captures[0].warnings.lines();
    assert!(
        warned
            .iter()
            .any(|w| w.contains("the 9 bytes after the last member") && w.contains(&garbage_at.to_string())),
        "{warned:?}"
    );
}

#[test]
fn corrupt_gzip_is_an_error_with_an_offset() {
    let mut bad = gz(&sample("ctx-done-leak.after.debug2.txt"));
    let mid = bad.len() / 2;
    bad[mid] ^= 0x55;
    bad[mid + 1] ^= 0x55;
    let err =
        leakscope_core::open_bytes("bad.gz", Bytes::Owned(bad), &LoadOptions::default(), &Progress::new())
            .unwrap_err();
    assert!(matches!(err, LoadError::Gzip { .. }), "{err:?}");
}

#[test]
fn unknown_format_lists_the_formats_tried() {
    let dir = TempDir::new("unknown");
    let path = dir.path("notes.txt");
    std::fs::write(&path, "just some notes\nnothing to see\n").unwrap();
    let err = open(&path).unwrap_err();
    let LoadError::UnknownFormat { tried, head, .. } = &err else { panic!("{err:?}") };
    for format in formats::all() {
        assert!(tried.contains(format.kind().name()), "{tried}");
    }
    assert_eq!(head, "just some notes.nothing to see.");
    let message = err.to_string();
    assert!(message.contains("go-goroutine-dump") && message.ends_with("notes.txt"), "{message}");
    // An empty file says so.
    std::fs::write(&path, "").unwrap();
    let err = open(&path).unwrap_err();
    assert!(matches!(err, LoadError::Empty { gzipped: false, .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("empty file: {}", path.display()));
    let err =
        leakscope_core::open_bytes("e.gz", Bytes::Owned(gz(b"")), &LoadOptions::default(), &Progress::new())
            .unwrap_err();
    assert_eq!(err.to_string(), "empty file (its gzip stream inflates to nothing): e.gz");
}

/// A raw pprof cut at 10% or 50%, or declaring a 2^63-byte field, was "unrecognised format"
/// with no place (cut at 99% it named pprof and byte 4103). What looks like a profile now gets
/// the pprof parser's error, with its byte offset, raw or gzipped.
#[test]
fn regression_damaged_profiles_are_pprof_errors_with_an_offset() {
    let check = |name: &str, bytes: Vec<u8>| {
        for (label, input) in [("raw", bytes.clone()), ("gzipped", gz(&bytes))] {
            let err = leakscope_core::open_bytes(
                name,
                Bytes::Owned(input),
                &LoadOptions::default(),
                &Progress::new(),
            )
            .unwrap_err();
            let LoadError::Parse { source, .. } = &err else { panic!("{name} {label}: {err}") };
            assert_eq!(source.format, leakscope_core::model::FormatKind::Pprof, "{name} {label}: {err}");
            assert!(matches!(source.location, leakscope_core::Location::Offset(_)), "{name} {label}: {err}");
            assert!(err.to_string().starts_with("pprof at byte "), "{name} {label}: {err}");
        }
    };
    for sample_name in ["go119-mixed.before.goroutine.pb.gz", "ctx-done-leak.before.heap.pb.gz"] {
        let mut whole = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&sample(sample_name)[..]), &mut whole)
            .unwrap();
        for percent in [1, 10, 50, 99] {
            let cut = whole.len() * percent / 100;
            check(&format!("{sample_name} cut at {percent}%"), whole[..cut].to_vec());
        }
    }
    // A sample field declaring 2^63 bytes.
    let mut huge = vec![0x12];
    huge.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    huge.extend_from_slice(&[0x08, 0x01, 0x10, 0x02]);
    check("2^63", huge);
}

#[test]
fn a_directory_is_a_clear_error() {
    let dir = TempDir::new("dir");
    let err = open(&dir.0).unwrap_err();
    assert!(matches!(err, LoadError::Directory { .. }), "{err:?}");
    assert!(err.to_string().starts_with("is a directory"), "{err}");
    let missing = open(&dir.path("missing.txt")).unwrap_err();
    assert!(matches!(missing, LoadError::Io { .. }), "{missing:?}");
}

#[test]
fn loading_never_writes_to_or_beside_inputs() {
    let dir = TempDir::new("readonly");
    let dump = sample("go127-crash.txt");
    let plain = dir.path("crash.txt");
    let zipped = dir.path("crash.txt.gz");
    std::fs::write(&plain, &dump).unwrap();
    std::fs::write(&zipped, gz(&dump)).unwrap();
    age(&plain);
    age(&zipped);
    let stamp = |p: &Path| {
        let m = std::fs::metadata(p).unwrap();
        (m.len(), m.modified().unwrap(), std::fs::read(p).unwrap())
    };
    let before = (stamp(&plain), stamp(&zipped), dir.listing());
    for path in [&plain, &zipped] {
        assert_eq!(open(path).unwrap().len(), 1);
    }
    assert_eq!(before, (stamp(&plain), stamp(&zipped), dir.listing()));
}

/// A writer rewrites the file (truncate, then write, with two sizes) as fast as it can while
/// the file is loaded again and again: every load gives a whole capture of one of the two
/// versions, a cut-off one, or an error, and the process never crashes.
#[test]
fn a_file_rewritten_during_loads_never_crashes() {
    let dir = TempDir::new("rewrite");
    let path = dir.path("live.txt");
    let small = sample("go127-tiny-sigquit.stderr.txt");
    let large = sample("ctx-done-leak.after.debug2.txt");
    std::fs::write(&path, &large).unwrap();
    let stop = AtomicBool::new(false);
    let (mut whole, mut other) = (0, 0);
    let mut unexpected = Vec::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut flip = false;
            while !stop.load(Ordering::Relaxed) {
                let _ = std::fs::write(&path, if flip { &small } else { &large });
                flip = !flip;
            }
        });
        let deadline = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < deadline {
            match open(&path) {
                Ok(captures) => {
                    let n: u64 = captures.iter().map(Capture::task_count).sum();
                    if n == 17 || n == 3005 {
                        whole += 1;
                    } else {
                        other += 1;
                    }
                }
                // A file caught between truncation and rewrite is empty.
                Err(
                    LoadError::Changed { .. }
                    | LoadError::Empty { .. }
                    | LoadError::UnknownFormat { .. }
                    | LoadError::Parse { .. }
                    | LoadError::Io { .. },
                ) => other += 1,
                // Not a panic here: the writer would never be told to stop, and the test hang.
                Err(e) => unexpected.push(e.to_string()),
            }
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(unexpected.is_empty(), "unexpected errors: {unexpected:?}");
    assert!(whole + other > 0);
}

/// A mapped (old) file that grows while it is parsed, and one replaced by a rename: the load
/// notices the change and takes a stable copy.
#[test]
fn a_mapped_file_that_changes_is_read_again() {
    let dir = TempDir::new("append");
    let path = dir.path("growing.txt");
    let first = sample("go127-deadlock.txt");
    let large = sample("ctx-done-leak.after.debug2.txt");
    for round in 0..20 {
        std::fs::write(&path, &large).unwrap();
        age(&path);
        let captures = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_micros(200 * round));
                let mut f = std::fs::File::options().append(true).open(&path).unwrap();
                f.write_all(b"\n").unwrap();
                f.write_all(&first).unwrap();
            });
            open(&path)
        });
        match captures {
            // Either the load finished before the append, or it saw the change and read the
            // whole new file (two dumps: the big one, then the deadlock).
            Ok(c) => assert!(matches!(c.len(), 1 | 2), "{}", c.len()),
            Err(e) => assert!(matches!(e, LoadError::Changed { .. }), "{e}"),
        }
    }
    // Replaced by a rename while mapped: the old mapping stays valid.
    let tmp = dir.path("growing.txt.tmp");
    std::fs::write(&path, &large).unwrap();
    age(&path);
    let captures = std::thread::scope(|s| {
        s.spawn(|| {
            std::fs::write(&tmp, &first).unwrap();
            std::fs::rename(&tmp, &path).unwrap();
        });
        open(&path).unwrap()
    });
    let n = captures[0].task_count();
    assert!(n == 3005 || n == 4, "{n}");
}

#[test]
fn a_cancelled_load_says_so() {
    let progress = Progress::new();
    progress.cancel();
    let bytes = Bytes::Owned(sample("ctx-done-leak.after.debug2.txt"));
    let err = leakscope_core::open_bytes("big.txt", bytes, &LoadOptions::default(), &progress).unwrap_err();
    assert!(matches!(err, LoadError::Cancelled { .. }), "{err:?}");
    // A gzip stream stops while inflating.
    let zipped = Bytes::Owned(gz(&sample("ctx-done-leak.after.debug2.txt")));
    let err = leakscope_core::open_bytes("big.gz", zipped, &LoadOptions::default(), &progress).unwrap_err();
    assert!(matches!(err, LoadError::Cancelled { .. }), "{err:?}");
    // Progress counts the parsed bytes.
    let progress = Progress::new();
    let bytes = sample("go127-crash.txt");
    let n = bytes.len() as u64;
    leakscope_core::open_bytes("crash.txt", Bytes::Owned(bytes), &LoadOptions::default(), &progress).unwrap();
    assert_eq!(progress.bytes(), (n, n));
}

/// Array-form trace JSON whose first event held a string of 32 MB or more, before its `ph`, was
/// "unrecognised format": every sniffing window ended inside the string. The object form, with
/// `traceEvents` first, parsed.
#[test]
fn regression_a_first_event_longer_than_every_sniff_window_is_still_a_trace() {
    let big = "x".repeat(33 << 20);
    let array = format!(
        r#"[{{"name":"big","args":{{"blob":"{big}"}},"ph":"X","ts":1,"dur":2,"pid":1,"tid":1}},
{{"name":"small","ph":"X","ts":5,"dur":1,"pid":1,"tid":1}}]"#
    );
    let captures = leakscope_core::open_bytes(
        "big-first-event.json",
        Bytes::Owned(array.into_bytes()),
        &LoadOptions::default(),
        &Progress::new(),
    )
    .unwrap();
    assert_eq!(captures[0].source.format, Some(leakscope_core::model::FormatKind::ChromeTrace));
    assert_eq!(captures[0].intervals.len(), 2);
}
