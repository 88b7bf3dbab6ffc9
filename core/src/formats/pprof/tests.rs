//! Unit tests: small profiles encoded with our own prost structs, and hand-written bytes where
//! the point is the wire format itself.

use prost::Message;

use super::proto::{Function, Label as PLabel, Line, Location, Mapping, Profile, Sample, ValueType};
use super::*;
use crate::model::WaitKind;

/// Builds profiles the way a writer does: strings interned into the table as they are used.
#[derive(Default)]
struct Writer {
    p: Profile,
}

impl Writer {
    fn new() -> Self {
        let mut w = Self::default();
        w.p.string_table.push(String::new());
        w
    }

    fn s(&mut self, text: &str) -> i64 {
        if let Some(i) = self.p.string_table.iter().position(|s| s == text) {
            return i as i64;
        }
        self.p.string_table.push(text.to_owned());
        self.p.string_table.len() as i64 - 1
    }

    fn sample_type(&mut self, ty: &str, unit: &str) -> &mut Self {
        let vt = ValueType { r#type: self.s(ty), unit: self.s(unit) };
        self.p.sample_type.push(vt);
        self
    }

    /// A function and a one-line location for it; returns the location id.
    fn func(&mut self, name: &str, file: &str, line: i64) -> u64 {
        let id = self.p.function.len() as u64 + 1;
        let f = Function { id, name: self.s(name), system_name: 0, filename: self.s(file), start_line: 1 };
        self.p.function.push(f);
        self.location(&[(id, line)])
    }

    /// A location with lines (function id, line), innermost first.
    fn location(&mut self, lines: &[(u64, i64)]) -> u64 {
        let id = self.p.location.len() as u64 + 1;
        let line = lines.iter().map(|&(function_id, line)| Line { function_id, line, column: 0 }).collect();
        self.p.location.push(Location {
            id,
            mapping_id: 0,
            address: 0x40_0000 + id * 16,
            line,
            is_folded: false,
        });
        id
    }

    fn sample(&mut self, locations: &[u64], values: &[i64]) -> &mut Self {
        self.p.sample.push(Sample { location_id: locations.to_vec(), value: values.to_vec(), label: vec![] });
        self
    }

    fn bytes(&self) -> Vec<u8> {
        self.p.encode_to_vec()
    }
}

fn parse(bytes: &[u8]) -> Capture {
    parse_bytes(bytes, "test.pb", &Progress::new()).unwrap()
}

fn parse_at(bytes: &[u8], path: &str) -> Capture {
    parse_bytes(bytes, path, &Progress::new()).unwrap()
}

fn funcs(c: &Capture, sample: usize) -> Vec<&str> {
    c.stack_funcs(c.samples.stack[sample]).collect()
}

fn warnings(c: &Capture) -> Vec<String> {
    c.warnings.lines()
}

fn goroutine_profile(name: &str) -> Writer {
    let mut w = Writer::new();
    w.sample_type(name, "count");
    w.p.period_type = Some(ValueType { r#type: w.s(name), unit: w.s("count") });
    w.p.period = 1;
    w.p.time_nanos = 1_763_683_803_438_247_866;
    let gopark = w.func("runtime.gopark", "/usr/local/go/src/runtime/proc.go", 474);
    let recv = w.func("runtime.chanrecv1", "/usr/local/go/src/runtime/chan.go", 509);
    let wait = w.func("main.waitForRelease", "/src/leakgen/server.go", 81);
    let sel = w.func("runtime.selectgo", "/usr/local/go/src/runtime/select.go", 351);
    let poll = w.func("main.pollUpstream", "/src/leakgen/server.go", 105);
    w.sample(&[gopark, recv, wait], &[2000]).sample(&[gopark, sel, poll], &[1000]).sample(&[], &[1]);
    w
}

#[test]
fn goroutine_profile_counts_and_stacks() {
    let c = parse(&goroutine_profile("goroutine").bytes());
    assert_eq!(c.source.format, Some(FormatKind::Pprof));
    assert_eq!(c.source.profile_type.as_deref(), Some("goroutine"));
    assert_eq!(c.source.captured_at_ns, Some(1_763_683_803_438_247_866));
    assert_eq!(c.source.duration_ns, None);
    assert_eq!(c.samples.len(), 3);
    assert_eq!(c.samples.types.len(), 1);
    assert_eq!(c.str(c.samples.types[0].kind), "goroutine");
    assert_eq!(c.str(c.samples.types[0].unit), "count");
    assert_eq!(c.samples.default_type, 0);
    assert_eq!(funcs(&c, 0), ["runtime.gopark", "runtime.chanrecv1", "main.waitForRelease"]);
    assert!(funcs(&c, 2).is_empty());
    let leaf = c.tables.frame(c.tables.stack(c.samples.stack[0])[2]);
    assert_eq!(c.str(leaf.file), "/src/leakgen/server.go");
    assert_eq!(leaf.line, 81);
    assert_eq!(c.task_count(), 3001);
    let groups = c.groups();
    assert_eq!(groups.iter().map(|g| g.count).collect::<Vec<_>>(), [2000, 1000, 1]);
    assert_eq!(groups[0].wait_kind, WaitKind::ChanReceive);
    assert_eq!(groups[1].wait_kind, WaitKind::Select);
    assert!(!groups[0].leaked);
    assert!(c.warnings.is_empty(), "{:?}", warnings(&c));
}

#[test]
fn goroutineleak_profile_is_told_apart_by_its_sample_type() {
    let c = parse(&goroutine_profile("goroutineleak").bytes());
    assert_eq!(c.source.profile_type.as_deref(), Some("goroutineleak"));
    assert!(c.is_leak_profile());
    assert_eq!(c.task_count(), 3001);
    assert!(c.groups().iter().all(|g| g.leaked));
}

#[test]
fn inlined_lines_expand_innermost_first() {
    let mut w = Writer::new();
    w.sample_type("samples", "count").sample_type("cpu", "nanoseconds");
    let leaf = w.func("crypto/sha256.block", "sha256block.go", 10);
    // One location standing for three functions: the inlined callee first, the physical
    // function last.
    let (f1, f2, f3) =
        (w.p.function.len() as u64 + 1, w.p.function.len() as u64 + 2, w.p.function.len() as u64 + 3);
    for (id, name) in [(f1, "bytes.Clone"), (f2, "main.copyInto"), (f3, "main.handler")] {
        let f = Function { id, name: w.s(name), system_name: 0, filename: w.s("main.go"), start_line: 0 };
        w.p.function.push(f);
    }
    let inl = w.location(&[(f1, 5), (f2, 20), (f3, 30)]);
    w.p.location.last_mut().unwrap().line[1].column = 7;
    w.sample(&[leaf, inl], &[1, 10_000_000]);
    w.p.duration_nanos = 3_000_000_000;
    w.p.period_type = Some(ValueType { r#type: w.s("cpu"), unit: w.s("nanoseconds") });
    w.p.period = 10_000_000;
    let c = parse(&w.bytes());
    assert_eq!(funcs(&c, 0), ["crypto/sha256.block", "bytes.Clone", "main.copyInto", "main.handler"]);
    let frames = c.tables.stack(c.samples.stack[0]);
    assert_eq!(c.tables.frame(frames[2]).column, 7);
    assert_eq!(c.tables.frame(frames[2]).line, 20);
    assert_eq!(c.source.profile_type.as_deref(), Some("cpu"));
    assert_eq!(c.source.duration_ns, Some(3_000_000_000));
    assert_eq!(c.samples.default_type, 1, "the last column is the default");
    assert_eq!(c.samples.total(1), 10_000_000);
    assert_eq!(c.task_count(), 0, "a CPU profile counts no goroutines");
    assert!(c.groups().is_empty());
}

#[test]
fn unsymbolized_locations_are_named_by_address() {
    let mut w = Writer::new();
    w.sample_type("samples", "count");
    let file = w.s("/usr/lib/libc.so.6");
    w.p.mapping.push(Mapping { id: 1, memory_start: 0x40_0000, filename: file, ..Mapping::default() });
    w.p.location.push(Location { id: 1, mapping_id: 1, address: 0x45_67a0, line: vec![], is_folded: false });
    w.p.location.push(Location { id: 2, mapping_id: 0, address: 0x10, line: vec![], is_folded: false });
    w.sample(&[1, 2], &[4]);
    let c = parse(&w.bytes());
    assert_eq!(funcs(&c, 0), ["0x4567a0", "0x10"]);
    let frame = c.tables.frame(c.tables.stack(c.samples.stack[0])[0]);
    assert_eq!(c.str(frame.file), "/usr/lib/libc.so.6");
    assert_eq!(c.source.profile_type, None, "a shape Go doesn't write has no type");
    assert!(c.warnings.is_empty(), "{:?}", warnings(&c));
}

#[test]
fn string_and_numeric_labels() {
    let mut w = Writer::new();
    w.sample_type("alloc_objects", "count")
        .sample_type("alloc_space", "bytes")
        .sample_type("inuse_objects", "count")
        .sample_type("inuse_space", "bytes");
    let f = w.func("main.alloc", "main.go", 3);
    let label = |w: &mut Writer, key: &str, str: &str, num: i64, unit: &str| PLabel {
        key: w.s(key),
        str: if str.is_empty() { 0 } else { w.s(str) },
        num,
        num_unit: if unit.is_empty() { 0 } else { w.s(unit) },
    };
    let labels = vec![
        label(&mut w, "handler", "/upload", 0, ""),
        label(&mut w, "bytes", "", 327_680, ""),
        label(&mut w, "timeout", "", 30, "seconds"),
        label(&mut w, "shard", "", 7, ""),
    ];
    w.p.sample.push(Sample { location_id: vec![f], value: vec![2, 705_084, 0, 0], label: labels });
    w.sample(&[f], &[1, 16, 1, 16]);
    let c = parse(&w.bytes());
    let set: Vec<(&str, &str)> =
        c.tables.labels(c.samples.labels[0]).iter().map(|l| (c.str(l.key), c.str(l.value))).collect();
    let mut set = set;
    set.sort_unstable();
    assert_eq!(
        set,
        [("bytes", "327680 bytes"), ("handler", "/upload"), ("shard", "7"), ("timeout", "30 seconds")]
    );
    assert_eq!(c.samples.labels[1], LabelSetId::EMPTY);
    assert_eq!(c.source.profile_type.as_deref(), Some("heap"));
    assert_eq!(c.samples.default_type, 3, "inuse_space, the last column");
    assert_eq!(c.samples.total(1), 705_100);
}

#[test]
fn allocs_is_heap_with_alloc_space_as_default() {
    let mut w = Writer::new();
    w.sample_type("alloc_objects", "count")
        .sample_type("alloc_space", "bytes")
        .sample_type("inuse_objects", "count")
        .sample_type("inuse_space", "bytes");
    w.p.default_sample_type = w.s("alloc_space");
    let c = parse(&w.bytes());
    assert_eq!(c.source.profile_type.as_deref(), Some("allocs"));
    assert_eq!(c.samples.default_type, 1);
}

#[test]
fn contention_profiles_are_block_or_mutex_by_their_stacks() {
    let contention = |leaf: &str| {
        let mut w = Writer::new();
        w.sample_type("contentions", "count").sample_type("delay", "nanoseconds");
        w.p.period_type = Some(ValueType { r#type: w.s("contentions"), unit: w.s("count") });
        let l = w.func(leaf, "x.go", 1);
        let m = w.func("main.worker", "main.go", 2);
        w.sample(&[l, m], &[3, 4_000]);
        w
    };
    let c = parse(&contention("sync.(*Mutex).Unlock").bytes());
    assert_eq!(c.source.profile_type.as_deref(), Some("mutex"));
    let c = parse(&contention("sync.(*Mutex).Lock").bytes());
    assert_eq!(c.source.profile_type.as_deref(), Some("block"));
    let c = parse(&contention("runtime.chanrecv1").bytes());
    assert_eq!(c.source.profile_type.as_deref(), Some("block"));
    // No samples: only the file name can tell.
    let mut w = contention("x");
    w.p.sample.clear();
    assert_eq!(parse_at(&w.bytes(), "/tmp/mutex.pb.gz").source.profile_type.as_deref(), Some("mutex"));
    assert_eq!(parse_at(&w.bytes(), "/tmp/block.pb.gz").source.profile_type.as_deref(), Some("block"));
}

#[test]
fn threadcreate_profile() {
    let mut w = Writer::new();
    w.sample_type("threadcreate", "count");
    let f = w.func("runtime.newm", "proc.go", 1);
    w.sample(&[f], &[5]);
    let c = parse(&w.bytes());
    assert_eq!(c.source.profile_type.as_deref(), Some("threadcreate"));
    assert_eq!(c.task_count(), 0, "threads are not goroutines");
}

#[test]
fn comments_doc_url_and_default_type() {
    let mut w = Writer::new();
    w.sample_type("wall", "nanoseconds").sample_type("samples", "count");
    w.p.comment = vec![w.s("built from abc123"), w.s("second note")];
    w.p.doc_url = w.s("https://example.com/docs/wall");
    w.p.default_sample_type = w.s("wall");
    let c = parse(&w.bytes());
    assert_eq!(c.source.comments, ["built from abc123", "second note"]);
    assert_eq!(c.source.doc_url.as_deref(), Some("https://example.com/docs/wall"));
    assert_eq!(c.samples.default_type, 0);
    assert_eq!(c.source.profile_type, None);
}

#[test]
fn unknown_default_type_falls_back_to_the_last_with_a_warning() {
    let mut w = Writer::new();
    w.sample_type("a", "count").sample_type("b", "count");
    w.p.default_sample_type = w.s("nope");
    let c = parse(&w.bytes());
    assert_eq!(c.samples.default_type, 1);
    assert!(warnings(&c).iter().any(|m| m.contains("default_sample_type")), "{:?}", warnings(&c));
}

#[test]
fn ids_that_point_nowhere_are_skipped_with_one_warning_each() {
    let mut w = Writer::new();
    w.sample_type("samples", "count");
    let a = w.func("main.a", "a.go", 1);
    // A location whose only line names a missing function: shown by address.
    let bad_fn = w.location(&[(99, 3)]);
    // A function whose name is outside the string table.
    w.p.function.push(Function { id: 2, name: 1000, system_name: 0, filename: 0, start_line: 0 });
    let bad_name = w.location(&[(2, 4)]);
    for _ in 0..3 {
        w.sample(&[a, 77, bad_fn, bad_name], &[1]);
    }
    let c = parse(&w.bytes());
    assert_eq!(c.samples.len(), 3, "samples stay, only the bad parts go");
    assert_eq!(c.samples.total(0), 3);
    let stack = funcs(&c, 0);
    assert_eq!(stack.len(), 3);
    assert_eq!(stack[0], "main.a");
    assert!(stack[1].starts_with("0x"), "{stack:?}");
    assert_eq!(stack[2], "");
    let w = warnings(&c);
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w.iter().any(|m| m.contains("location 77") && m.contains("(3 samples)")), "{w:?}");
    assert!(w.iter().any(|m| m.contains("function 99")), "{w:?}");
    assert!(w.iter().any(|m| m.contains("string index 1000")), "{w:?}");
    assert!(c.warnings.list().iter().all(|w| w.offset.is_some()));
}

#[test]
fn sparse_and_duplicate_ids() {
    let mut w = Writer::new();
    w.sample_type("samples", "count");
    let name = w.s("main.x");
    let other = w.s("main.y");
    w.p.function.push(Function { id: 1000, name, ..Function::default() });
    w.p.function.push(Function { id: 1000, name: other, ..Function::default() });
    let line = |function_id| vec![Line { function_id, line: 1, column: 0 }];
    w.p.location.push(Location { id: 0xdead_beef, line: line(1000), ..Location::default() });
    w.sample(&[0xdead_beef], &[1]);
    let c = parse(&w.bytes());
    assert_eq!(funcs(&c, 0), ["main.x"], "the first definition wins");
    assert!(warnings(&c).iter().any(|m| m.contains("function id 1000 is defined again")));
}

#[test]
fn value_count_mismatch_is_padded_with_a_warning() {
    let mut w = Writer::new();
    w.sample_type("samples", "count").sample_type("cpu", "nanoseconds");
    let f = w.func("main.f", "f.go", 1);
    w.sample(&[f], &[1]).sample(&[f], &[1, 2, 3]).sample(&[f], &[1, 5]);
    let c = parse(&w.bytes());
    assert_eq!(c.samples.len(), 3);
    assert_eq!(c.samples.total(1), 7);
    assert_eq!(warnings(&c).len(), 2, "{:?}", warnings(&c));
}

#[test]
fn invalid_utf8_strings_are_replaced() {
    let mut w = Writer::new();
    w.sample_type("samples", "count");
    let f = w.func("PLACEHOLDER", "f.go", 1);
    w.sample(&[f], &[1]);
    let mut bytes = w.bytes();
    // Corrupt the function name in place: same length, so the framing stays intact.
    let at = bytes.windows(11).position(|s| s == b"PLACEHOLDER").unwrap();
    bytes[at] = 0xff;
    let c = parse(&bytes);
    assert_eq!(funcs(&c, 0), ["\u{fffd}LACEHOLDER"]);
    assert!(warnings(&c).iter().any(|m| m.contains("UTF-8")));
}

#[test]
fn drop_frames_prunes_like_pprof() {
    let mut w = Writer::new();
    w.sample_type("samples", "count");
    let leaf = w.func("memset", "m.c", 1);
    let malloc = w.func("malloc", "m.c", 2);
    let user = w.func("main.alloc", "main.go", 3);
    let root = w.func("main.main", "main.go", 4);
    w.p.drop_frames = w.s("malloc|free");
    w.sample(&[leaf, malloc, user, root], &[1]);
    // A match at the root is kept: nothing outside it would be left.
    w.sample(&[leaf, malloc], &[1]);
    let c = parse(&w.bytes());
    assert_eq!(funcs(&c, 0), ["main.alloc", "main.main"]);
    assert_eq!(funcs(&c, 1), ["memset", "malloc"]);
    w.p.keep_frames = w.s("malloc");
    let c = parse(&w.bytes());
    assert_eq!(funcs(&c, 0), ["memset", "malloc", "main.alloc", "main.main"]);
    w.p.drop_frames = w.s("(");
    let c = parse(&w.bytes());
    assert_eq!(funcs(&c, 0).len(), 4);
    assert!(warnings(&c).iter().any(|m| m.contains("does not compile")));
}

#[test]
fn drop_frames_cuts_inside_an_inlined_location() {
    let mut w = Writer::new();
    w.sample_type("samples", "count");
    let names = ["inner", "malloc", "outer"];
    for (i, name) in names.iter().enumerate() {
        let f = Function { id: i as u64 + 1, name: w.s(name), ..Function::default() };
        w.p.function.push(f);
    }
    let loc = w.location(&[(1, 1), (2, 2), (3, 3)]);
    let f = Function { id: 4, name: w.s("main.main"), ..Function::default() };
    w.p.function.push(f);
    let root = w.location(&[(4, 1)]);
    w.p.drop_frames = w.s("malloc");
    w.sample(&[loc, root], &[1]);
    let c = parse(&w.bytes());
    assert_eq!(funcs(&c, 0), ["outer", "main.main"]);
}

#[test]
fn unpacked_and_packed_ids_read_the_same() {
    // Go writes lists of one or two ids unpacked (a key per id), longer ones packed.
    let mut w = Writer::new();
    w.sample_type("samples", "count");
    let a = w.func("main.a", "a.go", 1);
    let b = w.func("main.b", "b.go", 2);
    let mut bytes = w.bytes();
    // sample { location_id: a; location_id: b; value: 5 } written by hand, unpacked.
    let sample = [0x08, a as u8, 0x08, b as u8, 0x10, 5];
    bytes.extend_from_slice(&[0x12, sample.len() as u8]);
    bytes.extend_from_slice(&sample);
    let c = parse(&bytes);
    assert_eq!(funcs(&c, 0), ["main.a", "main.b"]);
    assert_eq!(c.samples.value(0, 0), 5);
}

#[test]
fn unknown_fields_are_skipped() {
    let mut w = Writer::new();
    w.sample_type("goroutine", "count");
    w.sample(&[], &[3]);
    let mut bytes = w.bytes();
    // Field 16 (a varint), field 17 (bytes), field 18 (fixed64): what a newer writer might add.
    bytes.extend_from_slice(&[0x80, 0x01, 42, 0x8a, 0x01, 2, b'h', b'i', 0x91, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]);
    let c = parse(&bytes);
    assert_eq!(c.task_count(), 3);
    assert!(c.warnings.is_empty(), "{:?}", warnings(&c));
}

#[test]
fn corrupt_sub_messages_are_skipped_with_their_offset() {
    let mut w = Writer::new();
    w.sample_type("goroutine", "count");
    w.sample(&[], &[3]);
    let mut bytes = w.bytes();
    let at = bytes.len();
    // A sample whose field 1 claims 9 bytes but has 1: framing of the top level is intact.
    bytes.extend_from_slice(&[0x12, 3, 0x0a, 9, 1]);
    // A location with a wrong wire type for its id (fixed32).
    bytes.extend_from_slice(&[0x22, 5, 0x0d, 1, 2, 3, 4]);
    let c = parse(&bytes);
    assert_eq!(c.samples.len(), 1);
    let list = c.warnings.list();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list.iter().filter(|w| w.offset == Some(at as u64)).count(), 1, "{list:?}");
    assert!(list.iter().any(|w| w.message.contains("corrupt location")));
}

#[test]
fn wrong_wire_type_for_a_known_field_is_skipped() {
    let mut w = Writer::new();
    w.sample_type("goroutine", "count");
    let mut bytes = w.bytes();
    // time_nanos (9) as a length-delimited field.
    bytes.extend_from_slice(&[0x4a, 1, 0]);
    let c = parse(&bytes);
    assert!(warnings(&c).iter().any(|m| m.contains("field 9")));
}

#[test]
fn broken_framing_is_an_error_at_its_offset() {
    let bytes = goroutine_profile("goroutine").bytes();
    let cut = &bytes[..bytes.len() - 3];
    let err = parse_bytes(cut, "x", &Progress::new()).unwrap_err();
    assert_eq!(err.format, FormatKind::Pprof);
    let crate::error::Location::Offset(at) = err.location else { panic!("{err}") };
    assert!(at < cut.len() as u64);
    assert!(err.message.contains("truncated"), "{err}");
    let err = parse_bytes(&[0x0a, 2, 8, 1, 0xff], "x", &Progress::new()).unwrap_err();
    assert_eq!(err.location, crate::error::Location::Offset(4));
    assert!(parse_bytes(&[], "x", &Progress::new()).is_err());
    // Valid protobuf, but nothing of a profile in it.
    assert!(parse_bytes(&[0x48, 1], "x", &Progress::new()).is_err());
}

#[test]
fn cancel_stops_the_parse() {
    let mut w = Writer::new();
    w.sample_type("samples", "count");
    let f = w.func("main.f", "f.go", 1);
    for _ in 0..(POLL_EVERY * 2) {
        w.sample(&[f], &[1]);
    }
    let progress = Progress::new();
    progress.cancel();
    assert!(parse_bytes(&w.bytes(), "x", &progress).is_err());
}

#[test]
fn progress_reaches_the_input_size() {
    let mut w = goroutine_profile("goroutine");
    let f = w.func("main.f", "f.go", 1);
    for _ in 0..(POLL_EVERY + 10) {
        w.sample(&[f], &[1]);
    }
    let bytes = w.bytes();
    let progress = Progress::new();
    progress.start_phase(bytes.len() as u64);
    parse_bytes(&bytes, "x", &progress).unwrap();
    assert_eq!(progress.bytes().0, bytes.len() as u64);
}

#[test]
fn sniff_accepts_profiles() {
    let bytes = goroutine_profile("goroutine").bytes();
    assert_eq!(sniff(&bytes, true), Sniff::Yes);
    // A head of a big profile: enough valid fields before the cut.
    let mut w = goroutine_profile("goroutine");
    let f = w.func("main.f", "f.go", 1);
    for _ in 0..1000 {
        w.sample(&[f, f, f], &[1]);
    }
    let big = w.bytes();
    assert_eq!(sniff(&big[..4096], false), Sniff::Yes);
    // Empty profiles still have their string table.
    let mut w = Writer::new();
    w.sample_type("goroutineleak", "count");
    assert_eq!(sniff(&w.bytes(), true), Sniff::Yes);
}

#[test]
fn sniff_needs_more_when_the_head_ends_early() {
    let bytes = goroutine_profile("goroutine").bytes();
    // Cut inside the first field, and after fewer valid fields than it takes.
    assert_eq!(sniff(&bytes[..3], false), Sniff::NeedMore);
    assert_eq!(sniff(&bytes[..7], false), Sniff::NeedMore);
    assert_eq!(sniff(&[], false), Sniff::NeedMore);
    // The same cut, but it is the whole file: a truncated profile is not a profile.
    assert_eq!(sniff(&bytes[..7], true), Sniff::No);
}

#[test]
fn sniff_rejects_text_and_other_binaries() {
    let no = |bytes: &[u8]| {
        assert_eq!(sniff(bytes, true), Sniff::No, "{:?}", String::from_utf8_lossy(bytes));
        // A short text head may still be followed by binary bytes, so only a whole window of
        // text is a no before the end.
        let partial = if bytes.len() < SNIFF_TEXT_WINDOW && !has_binary_byte(bytes) {
            Sniff::NeedMore
        } else {
            Sniff::No
        };
        assert_eq!(sniff(bytes, false), partial, "{:?}", String::from_utf8_lossy(bytes));
    };
    no(b"goroutine profile: total 3\n3 @ 0x1 0x2\n#\t0x1\tmain.f+0x1\t/x.go:1\n");
    no(b"goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n");
    no(b"2 @ 0x48c82a 0x465837 0x6fc2a9 0x493881\n#\t0x6fc2a8\tdatabase/sql.(*DB).connectionOpener+0x88\n");
    no(b"{\"traceEvents\": []}");
    no(b"go 1.26 trace\x00\x00\x00\x00");
    no(b"\x7fELF\x02\x01\x01\x00\x00\x00");
    no(b"\x1f\x8b\x08\x00\x00\x00\x00\x00");
    no(b"\x00\x00\x00\x00");
    // Valid protobuf of the wrong shape: a ValueType field as a varint.
    no(&[0x08, 1, 0x08, 2, 0x32, 0]);
    // A lone varint field is protobuf, but has no string table.
    assert_eq!(sniff(&[0x48, 1], true), Sniff::No);
    assert_eq!(sniff(b"P\n", true), Sniff::No);
    let text = "goroutine 1 [running]:\nmain.main()\n\t/x.go:1 +0x1\n".repeat(10);
    assert_eq!(sniff(text.as_bytes(), false), Sniff::No);
}

/// The `sniff` fuzz target's crashes: four valid fields made a prefix a yes, and the whole
/// input a no because a later field broke (or it had no string table). A yes on a prefix stays
/// a yes; the parser then says where the profile breaks.
#[test]
fn regression_sniff_yes_on_a_prefix_stays_yes_on_the_whole() {
    let mut w = goroutine_profile("goroutine");
    let f = w.func("main.f", "f.go", 1);
    for _ in 0..50 {
        w.sample(&[f], &[1]);
    }
    let good = w.bytes();
    for cut in [good.len() / 10, good.len() / 2, good.len() - 1] {
        let cut_off = &good[..cut];
        assert_eq!(sniff(cut_off, false), Sniff::Yes, "cut at {cut}");
        assert_eq!(sniff(cut_off, true), Sniff::Yes, "cut at {cut}");
        let err = parse_bytes(cut_off, "x", &Progress::new()).unwrap_err();
        assert!(matches!(err.location, crate::error::Location::Offset(_)), "{err}");
    }
    // Broken after the fields that made the prefix a yes: a bad key.
    let mut broken = good[..good.len() / 2].to_vec();
    broken.extend_from_slice(&[0x07, 0, 0, 0]);
    assert_eq!(sniff(&broken[..good.len() / 2], false), Sniff::Yes);
    assert_eq!(sniff(&broken, true), Sniff::Yes);
}

/// The `pprof` fuzz target's crash of the 30-minute run: well-formed fields (a period type,
/// mappings) with no profile in them were a sniff yes and a parse error with no place.
#[test]
fn regression_fields_without_a_profile_name_the_end_as_the_place() {
    let data = include_bytes!("testdata/fuzz-mappings-only-sniffed-yes.pb");
    assert_eq!(sniff(data, true), Sniff::Yes);
    let err = parse_bytes(data, "x", &Progress::new()).unwrap_err();
    assert!(matches!(err.location, crate::error::Location::Offset(_)), "{err}");
}

#[test]
fn a_sample_type_with_bad_contents_keeps_the_columns_aligned() {
    let mut w = Writer::new();
    w.sample_type("a", "count");
    let mut bytes = Vec::new();
    // A corrupt sample type first, then the good one, then a sample with two values.
    bytes.extend_from_slice(&[0x0a, 2, 0x0d, 1]);
    bytes.extend_from_slice(&w.bytes());
    bytes.extend_from_slice(&[0x12, 3, 0x12, 1, 9]);
    let c = parse(&bytes);
    assert_eq!(c.samples.types.len(), 2);
    assert_eq!(c.str(c.samples.types[1].kind), "a");
    assert!(warnings(&c).iter().any(|m| m.contains("corrupt sample type")));
}

#[test]
fn stacks_are_cut_to_their_innermost_frames() {
    // One location of 10,000 inlined lines, used twice by a sample: a few dozen KB that would
    // otherwise be 20,000 frames per sample.
    let mut w = Writer::new();
    w.sample_type("samples", "count");
    let f = Function { id: 1, name: w.s("main.deep"), ..Function::default() };
    w.p.function.push(f);
    let lines: Vec<(u64, i64)> = (0..10_000).map(|i| (1, i + 1)).collect();
    let loc = w.location(&lines);
    w.sample(&[loc, loc], &[1]).sample(&[loc], &[1]);
    let c = parse(&w.bytes());
    let deep = c.tables.stack(c.samples.stack[0]);
    assert_eq!(deep.len(), MAX_STACK_FRAMES);
    assert_eq!(c.tables.frame(deep[0]).line, 1, "the innermost frames stay");
    assert_eq!(c.tables.stack(c.samples.stack[1]).len(), 10_000);
    let w = warnings(&c);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("innermost"), "{w:?}");
}

#[test]
fn many_columns_over_empty_samples_do_not_blow_up_memory() {
    // 5,000 sample types and 600 samples without values: 3 million padded cells from 11 KB.
    let mut bytes = Vec::new();
    for _ in 0..5000 {
        bytes.extend_from_slice(&[0x0a, 0]);
    }
    for _ in 0..600 {
        bytes.extend_from_slice(&[0x12, 0]);
    }
    bytes.extend_from_slice(&[0x32, 0]);
    let c = parse(&bytes);
    assert!(c.samples.values.len() <= 1 << 20, "{} cells", c.samples.values.len());
    assert!(c.samples.len() < 600);
    assert!(warnings(&c).iter().any(|m| m.contains("skipped")), "{:?}", warnings(&c));
}

/// The overflow fuzzing found in the debug=1 text parser, through pprof: goroutine counts of
/// i64::MAX summed into one group wrapped (release) or panicked (debug).
#[test]
fn regression_huge_goroutine_counts_overflowed_group_counts() {
    let mut w = Writer::new();
    w.sample_type("goroutine", "count");
    let f = w.func("main.f", "f.go", 1);
    w.sample(&[f], &[i64::MAX]).sample(&[f], &[i64::MAX]).sample(&[f], &[i64::MAX]);
    let c = parse(&w.bytes());
    assert_eq!(c.task_count(), i64::MAX as u64);
    assert_eq!(c.groups()[0].count, u64::MAX);
}

#[test]
fn damaged_profiles_resemble_pprof() {
    let good = goroutine_profile("goroutine").bytes();
    assert!(resembles(&good[..3], false));
    // A first field declaring 2^63 bytes.
    let mut huge = vec![0x12];
    huge.extend_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    huge.extend_from_slice(&[0x08, 0x01]);
    assert_eq!(sniff(&huge, true), Sniff::No);
    assert!(resembles(&huge, false));
    // Text, other binaries, and protobuf that is not a Profile field (field 20 as a varint).
    assert!(!resembles(b"goroutine 1 [running]:\n", false));
    assert!(!resembles(b"\x7fELF\x02\x01\x01\x00", false));
    assert!(!resembles(&[0x00; 64], true));
    assert!(!resembles(&[0xa0, 0x01, 0x05, 0x00], false));
    // Out of gzip, any protobuf message is likely a profile.
    assert!(resembles(&[0xa0, 0x01, 0x05, 0x00], true));
}
