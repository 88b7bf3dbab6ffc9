//! Go count profiles as `debug=1` text (`/debug/pprof/goroutine?debug=1`,
//! `pprof.Lookup("goroutineleak").WriteTo(w, 1)`):
//!
//! ```text
//! goroutine profile: total 305
//! 200 @ 0x48c82a 0x419e0e 0x419932 0x73cccd 0x493881
//! # labels: {"handler":"/wait"}
//! #   0x73cccc    main.waitForRelease+0x2c    /src/leakgen/server.go:81
//! ```
//! (the frame lines are tab-separated, padded by Go's tabwriter).
//!
//! Each record is a count of goroutines sharing a stack (return PCs after `@`), optionally their
//! pprof labels, then the symbolized frames, innermost first. Go hides the runtime frames at the
//! top of a stack (`runtime.gopark`, `runtime.chanrecv1`), so the frames shown start at the
//! first non-runtime function. `goroutineleak` and `threadcreate` profiles print the same way.
//! Records become samples of one `count` column; a file holding several profiles (outputs
//! appended to one log) becomes a series, oldest first.

use hashbrown::HashMap;

use super::{Format, Input, Sniff, labels};
use crate::error::ParseError;
use crate::input::Progress;
use crate::model::{Capture, FormatKind, Frame, FrameId, LabelSetId, SampleType, Warnings};

/// The goroutine profile `debug=1` text format.
pub struct GoroutineProfileText;

/// Profiles Go prints through `printCountProfile`, which all share this layout.
const PROFILE_NAMES: [&str; 3] = ["goroutine", "goroutineleak", "threadcreate"];

/// How many lines pass between progress reports and cancel checks.
const POLL_LINES: u64 = 1 << 14;

impl Format for GoroutineProfileText {
    fn kind(&self) -> FormatKind {
        FormatKind::GoGoroutineProfileText
    }

    fn sniff(&self, head: &[u8], complete: bool) -> Sniff {
        sniff(head, complete)
    }

    fn parse(&self, input: &Input<'_>) -> Result<Vec<Capture>, ParseError> {
        parse_bytes(input.bytes, input.path, input.progress)
    }
}

/// Whether `head` starts (after blank lines) with a count-profile header line.
pub fn sniff(head: &[u8], complete: bool) -> Sniff {
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return if complete { Sniff::No } else { Sniff::NeedMore };
    };
    let rest = head.get(start..).unwrap_or_default();
    let (line, whole_line) = match memchr::memchr(b'\n', rest) {
        Some(end) => (rest.get(..end).unwrap_or_default(), true),
        None => (rest, complete),
    };
    let Ok(line) = std::str::from_utf8(line) else { return Sniff::No };
    let line = line.trim_end();
    if !whole_line {
        // More digits (or anything else) may follow the cut.
        return if could_become_header(line) { Sniff::NeedMore } else { Sniff::No };
    }
    if header(line).is_some() { Sniff::Yes } else { Sniff::No }
}

/// Whether a cut-off first line may still turn into a header.
fn could_become_header(partial: &str) -> bool {
    PROFILE_NAMES.iter().any(|name| {
        let full = format!("{name} profile: total ");
        full.starts_with(partial)
            || partial.strip_prefix(full.as_str()).is_some_and(|n| n.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// `goroutine profile: total 305` → (`goroutine`, 305).
fn header(line: &str) -> Option<(&'static str, u64)> {
    let (name, total) = line.trim_end().split_once(" profile: total ")?;
    let name = PROFILE_NAMES.iter().find(|n| **n == name)?;
    if total.is_empty() || !total.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((name, total.parse().unwrap_or(u64::MAX)))
}

/// A frame line after its `#`: `\t0x73cccc\tmain.waitForRelease+0x2c\t/src/server.go:81`. A
/// frame the runtime could not symbolize is only its PC: `\t0x4567a0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct RawFrame<'a> {
    func: &'a str,
    file: &'a str,
    line: u32,
}

fn parse_frame(text: &str) -> Result<RawFrame<'_>, &'static str> {
    let text = text.trim();
    let (pc, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    if !is_hex_pc(pc) {
        return Err("expected a PC like 0x4fe0a5");
    }
    let rest = rest.trim_start();
    if rest.is_empty() {
        return Ok(RawFrame { func: pc, file: "", line: 0 });
    }
    // Function names hold no whitespace; paths may (C:/Program Files/Go/...).
    let (func, location) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let func = match func.rsplit_once("+0x") {
        Some((name, offset)) if !name.is_empty() && offset.bytes().all(|b| b.is_ascii_hexdigit()) => name,
        _ => func,
    };
    let location = location.trim();
    let (file, line) = match location.rsplit_once(':') {
        Some((file, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            (file, n.parse().unwrap_or(u32::MAX))
        }
        _ if location.is_empty() => ("", 0),
        _ => return Err("expected file:line after the function"),
    };
    Ok(RawFrame { func, file, line })
}

fn is_hex_pc(s: &str) -> bool {
    s.strip_prefix("0x").is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `200 @ 0x48c82a 0x419e0e` → 200. The PCs are checked but not kept: the frame lines say
/// what they are.
fn parse_record(line: &str) -> Result<u64, &'static str> {
    let (count, pcs) = line.split_once(" @").ok_or("expected COUNT @ PC...")?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the count is not a number");
    }
    if !pcs.split_ascii_whitespace().all(is_hex_pc) {
        return Err("expected hexadecimal PCs after '@'");
    }
    count.parse().map_err(|_| "the count is too large")
}

/// One profile of the file being built.
struct Profile {
    capture: Capture,
    header_line: u64,
    stated_total: Option<u64>,
    sum: u64,
}

/// A record whose frames are still being read.
struct Record {
    count: u64,
    labels: LabelSetId,
    frames: Vec<FrameId>,
}

struct Parser<'a, 'p> {
    path: &'p str,
    done: Vec<Profile>,
    current: Option<Profile>,
    record: Option<Record>,
    /// After a record line that could not be read, its `#` lines are skipped quietly.
    skipping: bool,
    /// Frames by the text of their line, per profile.
    frame_cache: HashMap<&'a str, FrameId>,
    label_cache: HashMap<&'a str, LabelSetId>,
    /// Warnings before the first profile header.
    stray: Warnings,
}

/// Parses `debug=1` text into one capture per profile in the file.
pub fn parse_bytes(bytes: &[u8], path: &str, progress: &Progress) -> Result<Vec<Capture>, ParseError> {
    let repaired = std::str::from_utf8(bytes).err().map(|_| String::from_utf8_lossy(bytes).into_owned());
    let text = match &repaired {
        Some(s) => s.as_str(),
        None => std::str::from_utf8(bytes).unwrap_or_default(),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = Parser {
        path,
        done: Vec::new(),
        current: None,
        record: None,
        skipping: false,
        frame_cache: HashMap::new(),
        label_cache: HashMap::new(),
        stray: Warnings::default(),
    };
    if repaired.is_some() {
        p.stray.at_line(1, "invalid UTF-8 in the file was replaced with U+FFFD");
    }
    let mut unreported = 0u64;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let no = i as u64 + 1;
        unreported += raw.len() as u64;
        if no.is_multiple_of(POLL_LINES) {
            progress.advance(unreported);
            unreported = 0;
            if progress.is_cancelled() {
                return Err(super::cancelled(FormatKind::GoGoroutineProfileText));
            }
        }
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        let line = line.strip_suffix('\r').unwrap_or(line);
        p.line(no, line);
    }
    progress.advance(unreported);
    p.finish_profile();
    if p.done.is_empty() {
        return Err(ParseError::whole(
            FormatKind::GoGoroutineProfileText,
            "no profile found (expected a line like \"goroutine profile: total 12\")",
        ));
    }
    let mut captures: Vec<Capture> = p.done.into_iter().map(|profile| profile.capture).collect();
    if let Some(first) = captures.first_mut() {
        let mut warnings = std::mem::take(&mut p.stray);
        warnings.extend(std::mem::take(&mut first.warnings));
        first.warnings = warnings;
    }
    Ok(captures)
}

impl<'a> Parser<'a, '_> {
    fn warn(&mut self, line: u64, message: String) {
        match self.current.as_mut() {
            Some(profile) => profile.capture.warnings.at_line(line, message),
            None => self.stray.at_line(line, message),
        }
    }

    fn line(&mut self, no: u64, line: &'a str) {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            self.finish_record();
            self.skipping = false;
            return;
        }
        if let Some(rest) = trimmed.strip_prefix('#') {
            self.comment(no, rest);
            return;
        }
        if let Some((name, total)) = header(trimmed) {
            self.finish_profile();
            self.start_profile(no, name, Some(total));
            return;
        }
        if trimmed.as_bytes().first().is_some_and(u8::is_ascii_digit) && trimmed.contains(" @") {
            self.finish_record();
            self.skipping = false;
            match parse_record(trimmed) {
                Ok(count) => {
                    if self.current.is_none() {
                        self.start_profile(no, "goroutine", None);
                        self.warn(
                            no,
                            "records before any \"goroutine profile: total N\" header; read as a goroutine profile"
                                .to_owned(),
                        );
                    }
                    self.record = Some(Record { count, labels: LabelSetId::EMPTY, frames: Vec::new() });
                }
                Err(why) => {
                    self.skipping = true;
                    self.warn(no, format!("unreadable record {trimmed:?} skipped: {why}"));
                }
            }
            return;
        }
        self.finish_record();
        self.warn(no, format!("unexpected line skipped: {trimmed:?}"));
    }

    /// A line starting with `#`: labels or a frame of the current record.
    fn comment(&mut self, no: u64, rest: &'a str) {
        if self.skipping {
            return;
        }
        let trimmed = rest.trim_start();
        if self.record.is_none() {
            self.warn(no, format!("'#' line outside a record skipped: {:?}", rest.trim()));
            return;
        }
        if let Some(labels) = trimmed.strip_prefix("labels:") {
            let id = self.labels(no, labels.trim());
            if let Some(record) = self.record.as_mut() {
                record.labels = id;
            }
            return;
        }
        let frame = match self.frame_cache.get(rest) {
            Some(&id) => id,
            None => match parse_frame(rest) {
                Ok(raw) => {
                    let Some(profile) = self.current.as_mut() else { return };
                    let c = &mut profile.capture;
                    let frame = Frame {
                        func: c.strings.intern(raw.func),
                        file: c.strings.intern(raw.file),
                        line: raw.line,
                        column: 0,
                    };
                    let id = c.tables.frame_id(frame);
                    self.frame_cache.insert(rest, id);
                    id
                }
                Err(why) => {
                    self.warn(no, format!("unreadable frame line {:?} skipped: {why}", rest.trim()));
                    return;
                }
            },
        };
        if let Some(record) = self.record.as_mut() {
            record.frames.push(frame);
        }
    }

    fn labels(&mut self, no: u64, text: &'a str) -> LabelSetId {
        if let Some(&id) = self.label_cache.get(text) {
            return id;
        }
        let id = match labels::parse(text) {
            Ok(pairs) => {
                self.current.as_mut().map_or(LabelSetId::EMPTY, |p| labels::intern(&mut p.capture, &pairs))
            }
            Err(why) => {
                self.warn(no, format!("unreadable labels {text:?}: {why}; the record is kept without them"));
                LabelSetId::EMPTY
            }
        };
        self.label_cache.insert(text, id);
        id
    }

    fn start_profile(&mut self, no: u64, name: &str, stated_total: Option<u64>) {
        let mut capture = Capture::new(self.path, FormatKind::GoGoroutineProfileText);
        capture.source.profile_type = Some(name.to_owned());
        capture.source.first_line = no;
        let kind = capture.strings.intern(name);
        let unit = capture.strings.intern("count");
        capture.samples.types.push(SampleType { kind, unit });
        self.current = Some(Profile { capture, header_line: no, stated_total, sum: 0 });
        self.frame_cache.clear();
        self.label_cache.clear();
    }

    fn finish_record(&mut self) {
        let Some(record) = self.record.take() else { return };
        let Some(profile) = self.current.as_mut() else { return };
        let stack = profile.capture.tables.stack_id(&record.frames);
        let count = i64::try_from(record.count).unwrap_or(i64::MAX);
        profile.capture.samples.push(stack, &[count], record.labels);
        profile.sum = profile.sum.saturating_add(record.count);
    }

    fn finish_profile(&mut self) {
        self.finish_record();
        self.skipping = false;
        let Some(mut profile) = self.current.take() else { return };
        if let Some(total) = profile.stated_total
            && total != profile.sum
        {
            // Warnings stay in input order: the header's comes first.
            let mut warnings = Warnings::default();
            warnings.at_line(
                profile.header_line,
                format!(
                    "the header says total {total} but the records add up to {} (a record was skipped, or the output was cut off)",
                    profile.sum
                ),
            );
            warnings.extend(std::mem::take(&mut profile.capture.warnings));
            profile.capture.warnings = warnings;
        }
        self.done.push(profile);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::WaitKind;

    fn parse(text: &str) -> Vec<Capture> {
        parse_bytes(text.as_bytes(), "test.txt", &Progress::new()).unwrap()
    }

    fn one(text: &str) -> Capture {
        let mut captures = parse(text);
        assert_eq!(captures.len(), 1);
        captures.remove(0)
    }

    fn warnings(c: &Capture) -> Vec<String> {
        c.warnings.lines()
    }

    const GOROUTINE: &str = "goroutine profile: total 305
200 @ 0x48c82a 0x419e0e 0x419932 0x73cccd 0x493881
#\t0x73cccc\tmain.waitForRelease+0x2c\t/src/leakgen/server.go:81

100 @ 0x48c82a 0x465837 0x73d005 0x493881
#\t0x73d004\tmain.pollUpstream+0x84\t/src/leakgen/server.go:105

4 @ 0x48c82a 0x44c2b7 0x48ba25 0x4ec0c7 0x493881
#\t0x48ba24\tinternal/poll.runtime_pollWait+0x84\t\t/usr/local/go/src/runtime/netpoll.go:351
#\t0x4ec0c6\tinternal/poll.(*pollDesc).wait+0x26\t\t/usr/local/go/src/internal/poll/fd_poll_runtime.go:84

1 @ 0x493881

";

    #[test]
    fn goroutine_profile() {
        let c = one(GOROUTINE);
        assert_eq!(c.source.format, Some(FormatKind::GoGoroutineProfileText));
        assert_eq!(c.source.profile_type.as_deref(), Some("goroutine"));
        assert_eq!(c.samples.len(), 4);
        assert_eq!(c.str(c.samples.types[0].kind), "goroutine");
        assert_eq!(c.str(c.samples.types[0].unit), "count");
        assert_eq!(c.task_count(), 305);
        let stack: Vec<_> = c.stack_funcs(c.samples.stack[2]).collect();
        assert_eq!(stack, ["internal/poll.runtime_pollWait", "internal/poll.(*pollDesc).wait"]);
        let frame = c.tables.frame(c.tables.stack(c.samples.stack[0])[0]);
        assert_eq!(c.str(frame.func), "main.waitForRelease");
        assert_eq!(c.str(frame.file), "/src/leakgen/server.go");
        assert_eq!(frame.line, 81);
        assert!(c.tables.stack(c.samples.stack[3]).is_empty(), "a goexit-only stack prints no frames");
        let groups = c.groups();
        assert_eq!(groups.iter().map(|g| g.count).collect::<Vec<_>>(), [200, 100, 4, 1]);
        assert_eq!(groups[2].wait_kind, WaitKind::Io);
        assert!(c.warnings.is_empty(), "{:?}", warnings(&c));
    }

    #[test]
    fn goroutineleak_profile() {
        let c = one("goroutineleak profile: total 3000
2000 @ 0x48c82a 0x419e0e 0x419932 0x73cccd 0x493881
#\t0x73cccc\tmain.waitForRelease+0x2c\t/src/leakgen/server.go:81

1000 @ 0x48c82a 0x465837 0x73d005 0x493881
#\t0x73d004\tmain.pollUpstream+0x84\t/src/leakgen/server.go:105

");
        assert_eq!(c.source.profile_type.as_deref(), Some("goroutineleak"));
        assert_eq!(c.str(c.samples.types[0].kind), "goroutineleak");
        assert!(c.is_leak_profile());
        assert_eq!(c.task_count(), 3000);
        assert!(c.groups().iter().all(|g| g.leaked));
    }

    #[test]
    fn empty_leak_profile() {
        let c = one("goroutineleak profile: total 0\n");
        assert_eq!(c.task_count(), 0);
        assert!(c.samples.is_empty());
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn labels() {
        let c = one(r#"goroutine profile: total 3
2 @ 0x1 0x2
# labels: {"handler":"/upload", "tenant":"a \"b\"\n\u00e9\xff"}
#	0x1	main.upload+0x1	/x.go:1

1 @ 0x1 0x2
# labels: {}
#	0x1	main.upload+0x1	/x.go:1
"#);
        let labels: Vec<(&str, &str)> =
            c.tables.labels(c.samples.labels[0]).iter().map(|l| (c.str(l.key), c.str(l.value))).collect();
        assert_eq!(labels, [("handler", "/upload"), ("tenant", "a \"b\"\n\u{e9}\u{fffd}")]);
        assert_eq!(c.samples.labels[1], LabelSetId::EMPTY);
        assert_eq!(c.samples.stack[0], c.samples.stack[1], "the same stack, split by labels");
        assert!(c.warnings.is_empty(), "{:?}", warnings(&c));
    }

    #[test]
    fn unreadable_labels_keep_the_record() {
        let c = one(
            "goroutine profile: total 1\n1 @ 0x1\n# labels: {\"k\" \"v\"}\n#\t0x1\tmain.f+0x1\t/x.go:1\n",
        );
        assert_eq!(c.task_count(), 1);
        assert_eq!(c.stack_funcs(c.samples.stack[0]).collect::<Vec<_>>(), ["main.f"]);
        let w = warnings(&c);
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("line 3: unreadable labels"), "{w:?}");
    }

    #[test]
    fn frame_line_variants() {
        assert_eq!(
            parse_frame("\t0x73cccc\tmain.waitForRelease+0x2c\t/src/leakgen/server.go:81"),
            Ok(RawFrame { func: "main.waitForRelease", file: "/src/leakgen/server.go", line: 81 })
        );
        // Tabwriter pads with several tabs.
        assert_eq!(
            parse_frame(
                "\t0x73267b\tnet/http/pprof.Index+0xdb\t\t/usr/local/go/src/net/http/pprof/pprof.go:391"
            ),
            Ok(RawFrame {
                func: "net/http/pprof.Index",
                file: "/usr/local/go/src/net/http/pprof/pprof.go",
                line: 391
            })
        );
        // Tabs turned into spaces by a copy-paste; a path with a space and a drive colon.
        assert_eq!(
            parse_frame("   0x4fe0a5   main.(*T).run.func1+0x25    C:/Program Files/app/main.go:12"),
            Ok(RawFrame { func: "main.(*T).run.func1", file: "C:/Program Files/app/main.go", line: 12 })
        );
        // Unsymbolized: only the PC.
        assert_eq!(parse_frame("\t0x4567a0"), Ok(RawFrame { func: "0x4567a0", file: "", line: 0 }));
        // Generic functions and a missing offset.
        assert_eq!(
            parse_frame("\t0x1\tmain.Map[...].Get\t/m.go:3"),
            Ok(RawFrame { func: "main.Map[...].Get", file: "/m.go", line: 3 })
        );
        assert_eq!(parse_frame("\t0x1\tmain.f+0x1"), Ok(RawFrame { func: "main.f", file: "", line: 0 }));
        assert!(parse_frame("\tmain.f+0x1\t/x.go:1").is_err());
        assert!(parse_frame("\t0x1\tmain.f+0x1\t/x.go:abc").is_err());
        assert!(parse_frame("").is_err());
    }

    #[test]
    fn record_line_variants() {
        assert_eq!(parse_record("200 @ 0x48c82a 0x419e0e"), Ok(200));
        assert_eq!(parse_record("1 @"), Ok(1));
        assert!(parse_record("1 @ 0x1 zz").is_err());
        assert!(parse_record("99999999999999999999999 @ 0x1").is_err());
        assert!(parse_record("x @ 0x1").is_err());
    }

    #[test]
    fn bad_records_are_skipped_with_their_line() {
        let c = one("goroutine profile: total 7
5 @ 0x1 0xZZ
#\t0x1\tmain.skipped+0x1\t/x.go:1

2 @ 0x1
#\t0x1\tmain.kept+0x1\t/x.go:2
#\tnot a frame
");
        assert_eq!(c.samples.len(), 1);
        assert_eq!(c.stack_funcs(c.samples.stack[0]).collect::<Vec<_>>(), ["main.kept"]);
        let w = warnings(&c);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].starts_with("line 1: the header says total 7 but the records add up to 2"), "{w:?}");
        assert!(w[1].starts_with("line 2: unreadable record"), "{w:?}");
        assert!(w[2].starts_with("line 7: unreadable frame line"), "{w:?}");
    }

    #[test]
    fn total_mismatch_is_a_warning() {
        let c = one("goroutine profile: total 10\n3 @ 0x1\n#\t0x1\tmain.f+0x1\t/x.go:1\n");
        assert_eq!(c.task_count(), 3);
        let w = c.warnings.list();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].line, Some(1));
        assert!(w[0].message.contains("total 10") && w[0].message.contains("add up to 3"));
    }

    #[test]
    fn crlf_bom_and_stray_lines() {
        let text = "\u{feff}goroutine profile: total 2\r\n2 @ 0x1\r\n#\t0x1\tmain.f+0x1\t/x.go:1\r\n\r\nsomething else\r\n";
        let c = one(text);
        assert_eq!(c.task_count(), 2);
        let frame = c.tables.frame(c.tables.stack(c.samples.stack[0])[0]);
        assert_eq!(c.str(frame.file), "/x.go");
        let w = warnings(&c);
        assert_eq!(w.len(), 1);
        assert!(w[0].starts_with("line 5: unexpected line"), "{w:?}");
    }

    #[test]
    fn several_profiles_in_one_file_are_a_series() {
        let text = "goroutine profile: total 1\n1 @ 0x1\n#\t0x1\tmain.a+0x1\t/a.go:1\n\n\
                    goroutine profile: total 2\n2 @ 0x1\n#\t0x1\tmain.b+0x1\t/b.go:1\n\n\
                    goroutineleak profile: total 0\n";
        let captures = parse(text);
        assert_eq!(captures.len(), 3);
        assert_eq!(captures.iter().map(Capture::task_count).collect::<Vec<_>>(), [1, 2, 0]);
        assert_eq!(captures[1].source.first_line, 5);
        assert_eq!(captures[2].source.profile_type.as_deref(), Some("goroutineleak"));
        assert_eq!(captures[1].stack_funcs(captures[1].samples.stack[0]).collect::<Vec<_>>(), ["main.b"]);
    }

    #[test]
    fn records_without_a_header_are_read_with_a_warning() {
        let c = one("3 @ 0x1\n#\t0x1\tmain.f+0x1\t/x.go:1\n");
        assert_eq!(c.task_count(), 3);
        assert!(warnings(&c)[0].contains("before any"));
    }

    #[test]
    fn threadcreate_profile() {
        let c = one("threadcreate profile: total 5\n5 @\n");
        assert_eq!(c.source.profile_type.as_deref(), Some("threadcreate"));
        assert_eq!(c.samples.total(0), 5);
        assert_eq!(c.task_count(), 0, "threads are not goroutines");
    }

    /// Found while writing the fuzz target's invariant (groups add up to the task count), and
    /// confirmed by the target: three records of 2^64-1 goroutines each (clamped to i64::MAX)
    /// wrapped the group count in release builds and panicked in debug builds.
    #[test]
    fn regression_huge_record_counts_overflowed_group_counts() {
        let record = "18446744073709551615 @ 0x1\n#\t0x1\tmain.f+0x1\t/x.go:1\n";
        let text = format!(
            "goroutine profile: total 1\n{record}\n{record}# labels: {{\"a\":\"b\"}}\n\n{record}# labels: {{\"a\":\"b\"}}\n\n{record}# labels: {{\"a\":\"b\"}}\n"
        );
        let c = one(&text);
        assert_eq!(c.samples.len(), 4);
        assert_eq!(c.task_count(), i64::MAX as u64);
        let groups = c.groups();
        assert_eq!(groups.len(), 2, "one stack, split by label set as pprof does");
        assert_eq!(groups[0].count, u64::MAX, "saturated, not wrapped");
        assert_eq!(c.label_text(groups[0].labels), "a=b");
    }

    #[test]
    fn nothing_to_read_is_an_error() {
        assert!(parse_bytes(b"", "x", &Progress::new()).is_err());
        assert!(parse_bytes(b"hello\nworld\n", "x", &Progress::new()).is_err());
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let c = parse_bytes(
            b"goroutine profile: total 1\n1 @ 0x1\n#\t0x1\tmain.\xff+0x1\t/x.go:1\n",
            "x",
            &Progress::new(),
        )
        .unwrap()
        .remove(0);
        assert_eq!(c.stack_funcs(c.samples.stack[0]).collect::<Vec<_>>(), ["main.\u{fffd}"]);
        assert!(warnings(&c)[0].contains("UTF-8"));
    }

    #[test]
    fn sniffing() {
        assert_eq!(sniff(b"goroutine profile: total 305\n200 @ 0x1\n", false), Sniff::Yes);
        assert_eq!(sniff(b"goroutineleak profile: total 0\n", true), Sniff::Yes);
        assert_eq!(sniff(b"goroutineleak profile: total 0", true), Sniff::Yes);
        assert_eq!(sniff(b"\n\n  goroutine profile: total 1\n", true), Sniff::Yes);
        assert_eq!(sniff(b"\xef\xbb\xbfgoroutine profile: total 1\r\n", true), Sniff::Yes);
        assert_eq!(sniff(b"gorout", false), Sniff::NeedMore);
        assert_eq!(sniff(b"goroutine profile: total 3", false), Sniff::NeedMore);
        assert_eq!(sniff(b"", false), Sniff::NeedMore);
        assert_eq!(sniff(b"gorout", true), Sniff::No);
        assert_eq!(sniff(b"", true), Sniff::No);
        assert_eq!(sniff(b"goroutine 1 [running]:\nmain.main()\n", false), Sniff::No);
        assert_eq!(sniff(b"heap profile: 1: 2 [3: 4] @ heap/1048576\n", false), Sniff::No);
        assert_eq!(sniff(b"mutex profile: total 3\n", false), Sniff::No);
        assert_eq!(sniff(b"\x0a\x04\x08\x01\x10\x02", false), Sniff::No);
        assert_eq!(sniff(b"log line\ngoroutine profile: total 1\n", true), Sniff::No);
    }
}
