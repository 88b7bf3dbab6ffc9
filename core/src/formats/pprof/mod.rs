//! pprof profiles (google/pprof `profile.proto`), as Go's `runtime/pprof` and `net/http/pprof`
//! write them (goroutine, goroutineleak, CPU, heap, allocs, block, mutex, threadcreate) and as
//! other tools do. The loader has already inflated gzip; this module sees raw protobuf.
//!
//! The top level of the `Profile` is walked by hand (`wire.rs`) so that every problem has a byte
//! offset and strings borrow from the input; each sub-message is decoded with `prost` into the
//! structs of [`proto`]. Go writes samples first and the tables they refer to (locations,
//! functions, strings) last, so the walk runs twice: once for the tables, once for the samples,
//! each decoded into one reused `Sample`, so a profile of a million samples never holds them
//! all as messages.

mod profile_type;
pub mod proto;
mod prune;
mod wire;

use hashbrown::HashMap;
use prost::Message;

use self::profile_type::Shape;
use self::prune::Prune;
use self::wire::{Fields, Payload};
use super::{Format, Input, Sniff};
use crate::error::ParseError;
use crate::input::Progress;
use crate::model::{Capture, FormatKind, Frame, FrameId, Label, LabelSetId, SampleType, StrId, Warnings};
use proto::tag;

/// The pprof protobuf format.
pub struct Pprof;

/// How many samples (or top-level fields) pass between progress reports and cancel checks.
const POLL_EVERY: usize = 1 << 12;

/// Most frames a sample's stack keeps (its innermost ones). Go records at most a few hundred;
/// the limit only stops a small file whose samples repeat a location of thousands of lines from
/// costing billions of frames.
const MAX_STACK_FRAMES: usize = 1 << 14;

/// Complete, valid table fields a partial head must show before sniffing says yes.
const SNIFF_MIN_FIELDS: usize = 4;

/// How far into the head the text check looks.
const SNIFF_TEXT_WINDOW: usize = 256;

impl Format for Pprof {
    fn kind(&self) -> FormatKind {
        FormatKind::Pprof
    }

    fn sniff(&self, head: &[u8], complete: bool) -> Sniff {
        sniff(head, complete)
    }

    fn resembles(&self, head: &[u8], gzipped: bool) -> bool {
        resembles(head, gzipped)
    }

    fn parse(&self, input: &Input<'_>) -> Result<Vec<Capture>, ParseError> {
        parse_bytes(input.bytes, input.path, input.progress).map(|c| vec![c])
    }
}

/// Whether `head` is the start of a pprof `Profile`: every complete field in it must be a field
/// of the current profile.proto in its wire type, with sub-messages that decode. A few valid
/// table fields make the answer yes; a head that ends before that asks for more; a whole input
/// with fewer must have a string table (entry 0 is always "").
///
/// The tri-state contract: a yes on a prefix stays a yes on every longer input, and a no stays a
/// no. So the answer depends only on what a prefix already shows: the first fields, in order,
/// and the text check within its window. A whole input that shows enough valid fields is a
/// profile even if it breaks later; the parser then says where.
pub fn sniff(head: &[u8], complete: bool) -> Sniff {
    let more = if complete { Sniff::No } else { Sniff::NeedMore };
    if head.is_empty() {
        return more;
    }
    // Any protobuf of a few fields has length and small-varint bytes that text never holds;
    // without them a text file could pass as a run of string fields.
    if !has_binary_byte(head) {
        // A short head may still be followed by such a byte.
        return if head.len() < SNIFF_TEXT_WINDOW { more } else { Sniff::No };
    }
    let mut table_fields = 0usize;
    let mut has_strings = false;
    for field in Fields::new(head) {
        let field = match field {
            Ok(f) => f,
            Err(e) if e.kind == wire::WireErrorKind::Truncated && !complete => break,
            Err(_) => return Sniff::No,
        };
        if !wire::shape_fits(&field) || !sub_message_decodes(&field) {
            return Sniff::No;
        }
        if field.tag <= tag::STRING_TABLE {
            table_fields += 1;
        }
        has_strings |= field.tag == tag::STRING_TABLE;
        if table_fields >= SNIFF_MIN_FIELDS {
            return Sniff::Yes;
        }
    }
    match (complete, has_strings) {
        (true, true) => Sniff::Yes,
        (true, false) => Sniff::No,
        (false, _) => Sniff::NeedMore,
    }
}

/// Whether the text window of `head` holds a byte text never does.
fn has_binary_byte(head: &[u8]) -> bool {
    let window = head.get(..head.len().min(SNIFF_TEXT_WINDOW)).unwrap_or(head);
    window.iter().any(|&b| matches!(b, 0..=8 | 0x0b | 0x0c | 0x0e..=0x1f | 0x7f))
}

/// Whether `head`, which no format said yes to, still looks like a damaged profile: binary, and
/// its first field a `Profile` field in its wire type (or, out of gzip, any protobuf field),
/// complete or cut off by the end of the input. A profile cut short, or one declaring a
/// length past its end, then gets the parser's error with its offset.
pub fn resembles(head: &[u8], gzipped: bool) -> bool {
    if !has_binary_byte(head) {
        return false;
    }
    match Fields::new(head).next() {
        Some(Ok(field)) => gzipped || wire::shape_fits(&field),
        Some(Err(e)) if e.kind == wire::WireErrorKind::Truncated => {
            let Ok((key, _)) = wire::read_varint(head) else { return false };
            wire::key_fits(key, gzipped)
        }
        Some(Err(_)) | None => false,
    }
}

/// Whether a length-delimited field decodes as the message its number stands for.
fn sub_message_decodes(field: &wire::Field<'_>) -> bool {
    let Payload::Bytes(b) = field.payload else { return true };
    match field.tag {
        tag::SAMPLE_TYPE | tag::PERIOD_TYPE => proto::ValueType::decode(b).is_ok(),
        tag::SAMPLE => proto::Sample::decode(b).is_ok(),
        tag::MAPPING => proto::Mapping::decode(b).is_ok(),
        tag::LOCATION => proto::Location::decode(b).is_ok(),
        tag::FUNCTION => proto::Function::decode(b).is_ok(),
        tag::COMMENT => wire::packed_varints(b).is_some(),
        _ => true,
    }
}

/// Everything but the samples, from the first walk.
#[derive(Default)]
struct Tables<'a> {
    sample_types: Vec<proto::ValueType>,
    mappings: Vec<(usize, proto::Mapping)>,
    locations: Vec<(usize, proto::Location)>,
    functions: Vec<(usize, proto::Function)>,
    strings: Vec<&'a [u8]>,
    drop_frames: i64,
    keep_frames: i64,
    time_nanos: i64,
    duration_nanos: i64,
    period: i64,
    period_type: Option<proto::ValueType>,
    comments: Vec<(usize, i64)>,
    default_sample_type: i64,
    doc_url: i64,
    sample_fields: usize,
}

/// Parses a whole (inflated) profile.
pub fn parse_bytes(bytes: &[u8], path: &str, progress: &Progress) -> Result<Capture, ParseError> {
    if bytes.is_empty() {
        return Err(ParseError::whole(FormatKind::Pprof, "empty input"));
    }
    let mut warnings = Warnings::default();
    let tables = scan_tables(bytes, &mut warnings, progress)?;
    if tables.sample_types.is_empty()
        && tables.sample_fields == 0
        && tables.strings.is_empty()
        && tables.locations.is_empty()
        && tables.functions.is_empty()
    {
        // Well-formed fields that hold no profile (a mapping, a period type): the sniff took
        // the prefix for pprof, so say where the profile stops making sense, at its end.
        return Err(ParseError::at_offset(
            FormatKind::Pprof,
            bytes.len() as u64,
            "no pprof profile fields (sample types, samples, string table) found before the end",
        ));
    }
    let mut b = Builder::new(path, &tables.strings);
    b.capture.warnings = warnings;
    b.header(&tables);
    b.functions(&tables);
    b.mappings(&tables);
    b.locations(&tables);
    b.samples(bytes, tables.sample_types.len(), tables.sample_fields, progress)?;
    b.profile_type(path);
    Ok(b.finish(tables.strings.len()))
}

/// The first walk: all fields but samples, which are only counted.
fn scan_tables<'a>(
    bytes: &'a [u8],
    warnings: &mut Warnings,
    progress: &Progress,
) -> Result<Tables<'a>, ParseError> {
    let mut t = Tables::default();
    let mut sample_bytes = 0usize;
    for (n, field) in Fields::new(bytes).enumerate() {
        let field = field.map_err(|e| {
            ParseError::at_offset(FormatKind::Pprof, e.offset as u64, format!("corrupt protobuf: {}", e.kind))
        })?;
        if n % POLL_EVERY == 0 && progress.is_cancelled() {
            return Err(super::cancelled(FormatKind::Pprof));
        }
        if wire::profile_field_shape(field.tag).is_none() {
            // A field a newer profile.proto added: readers skip what they don't know.
            continue;
        }
        if !wire::shape_fits(&field) {
            warnings.at_offset(
                field.offset as u64,
                format!("profile field {} has the wrong wire type; skipped", field.tag),
            );
            continue;
        }
        let at = field.offset;
        match field.payload {
            Payload::Bytes(b) => match field.tag {
                tag::SAMPLE_TYPE => {
                    // A placeholder keeps the later columns where the samples expect them.
                    let vt = decoded(proto::ValueType::decode(b), "sample type", at, warnings);
                    t.sample_types.push(vt.unwrap_or_default());
                }
                tag::SAMPLE => {
                    t.sample_fields += 1;
                    sample_bytes += b.len();
                }
                tag::MAPPING => {
                    if let Some(m) = decoded(proto::Mapping::decode(b), "mapping", at, warnings) {
                        t.mappings.push((at, m));
                    }
                }
                tag::LOCATION => {
                    if let Some(l) = decoded(proto::Location::decode(b), "location", at, warnings) {
                        t.locations.push((at, l));
                    }
                }
                tag::FUNCTION => {
                    if let Some(f) = decoded(proto::Function::decode(b), "function", at, warnings) {
                        t.functions.push((at, f));
                    }
                }
                tag::STRING_TABLE => t.strings.push(b),
                tag::PERIOD_TYPE => {
                    t.period_type = decoded(proto::ValueType::decode(b), "period type", at, warnings);
                }
                tag::COMMENT => match wire::packed_varints(b) {
                    Some(list) => t.comments.extend(list.into_iter().map(|v| (at, v as i64))),
                    None => warnings.at_offset(at as u64, "corrupt comment list; skipped"),
                },
                _ => {}
            },
            Payload::Varint(v) => {
                let v = v as i64;
                match field.tag {
                    tag::DROP_FRAMES => t.drop_frames = v,
                    tag::KEEP_FRAMES => t.keep_frames = v,
                    tag::TIME_NANOS => t.time_nanos = v,
                    tag::DURATION_NANOS => t.duration_nanos = v,
                    tag::COMMENT => t.comments.push((at, v)),
                    tag::DEFAULT_SAMPLE_TYPE => t.default_sample_type = v,
                    tag::DOC_URL => t.doc_url = v,
                    // Go's values are already scaled by the period; the heap rule reads it
                    // to tell how many raw samples a value rests on.
                    tag::PERIOD => t.period = v,
                    _ => {}
                }
            }
            Payload::Other => {}
        }
    }
    progress.advance((bytes.len() - sample_bytes.min(bytes.len())) as u64);
    Ok(t)
}

/// The message, or a warning that names the record and its offset.
fn decoded<T>(result: Result<T, prost::DecodeError>, what: &str, at: usize, w: &mut Warnings) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            w.at_offset(at as u64, format!("corrupt {what} skipped: {e}"));
            None
        }
    }
}

/// A reference that points nowhere, or another record-level problem, counted so that a bad id
/// used by a million samples is one warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Problem {
    UnknownLocation(u64),
    UnknownFunction(u64),
    UnknownMapping(u64),
    StringIndex(i64),
    InvalidUtf8,
    ValueCount(usize),
    DuplicateLocation(u64),
    DuplicateFunction(u64),
    DuplicateMapping(u64),
    UnknownDefaultType,
    DeepStack,
}

/// First offset and number of occurrences of each problem.
#[derive(Default)]
struct Tally {
    seen: HashMap<Problem, (usize, u64)>,
}

impl Tally {
    fn note(&mut self, problem: Problem, offset: usize) {
        self.seen.entry(problem).or_insert((offset, 0)).1 += 1;
    }

    /// The problems as warnings, in the order they first occur in the file.
    fn emit(self, warnings: &mut Warnings, value_columns: usize, strings: usize) {
        let mut list: Vec<_> = self.seen.into_iter().collect();
        list.sort_by_key(|&(p, (offset, _))| (offset, format!("{p:?}")));
        for (problem, (offset, n)) in list {
            let times = |what: &str| if n == 1 { String::new() } else { format!(" ({n} {what})") };
            let message = match problem {
                Problem::UnknownLocation(id) => format!(
                    "samples refer to location {id}, which the profile does not define; the frame is left out{}",
                    times("samples")
                ),
                Problem::UnknownFunction(id) => format!(
                    "a location line refers to function {id}, which the profile does not define; the line is left out{}",
                    times("lines")
                ),
                Problem::UnknownMapping(id) => format!(
                    "a location refers to mapping {id}, which the profile does not define{}",
                    times("locations")
                ),
                Problem::StringIndex(i) => format!(
                    "string index {i} is outside the string table ({strings} strings); read as \"\"{}",
                    times("uses")
                ),
                Problem::InvalidUtf8 => {
                    format!("invalid UTF-8 in the string table was replaced with U+FFFD{}", times("strings"))
                }
                Problem::ValueCount(len) => format!(
                    "samples with {len} values for {value_columns} sample types: missing values read as 0, extra ones dropped{}",
                    times("samples")
                ),
                Problem::DuplicateLocation(id) => {
                    format!(
                        "location id {id} is defined again; the first definition is used{}",
                        times("times")
                    )
                }
                Problem::DuplicateFunction(id) => {
                    format!(
                        "function id {id} is defined again; the first definition is used{}",
                        times("times")
                    )
                }
                Problem::DuplicateMapping(id) => {
                    format!(
                        "mapping id {id} is defined again; the first definition is used{}",
                        times("times")
                    )
                }
                Problem::DeepStack => format!(
                    "stacks deeper than {MAX_STACK_FRAMES} frames are cut to their {MAX_STACK_FRAMES} innermost frames{}",
                    times("samples")
                ),
                Problem::UnknownDefaultType => {
                    "default_sample_type names no sample type; the last one is the default".to_owned()
                }
            };
            warnings.at_offset(offset as u64, message);
        }
    }
}

/// Maps a table's ids to positions: dense ids 1..=n (what Go writes) by arithmetic, others
/// through a map. The first definition of a repeated id wins.
enum IdIndex {
    Dense(usize),
    Sparse(HashMap<u64, u32>),
}

impl IdIndex {
    fn new(
        ids: impl ExactSizeIterator<Item = (usize, u64)> + Clone,
        duplicate: &mut impl FnMut(u64, usize),
    ) -> Self {
        if ids.clone().enumerate().all(|(i, (_, id))| id == i as u64 + 1) {
            return IdIndex::Dense(ids.len());
        }
        let mut map = HashMap::with_capacity(ids.len());
        for (i, (offset, id)) in ids.enumerate() {
            match map.entry(id) {
                hashbrown::hash_map::Entry::Occupied(_) => duplicate(id, offset),
                hashbrown::hash_map::Entry::Vacant(slot) => {
                    slot.insert(i as u32);
                }
            }
        }
        IdIndex::Sparse(map)
    }

    fn get(&self, id: u64) -> Option<usize> {
        match self {
            IdIndex::Dense(n) => (id >= 1 && id <= *n as u64).then(|| id as usize - 1),
            IdIndex::Sparse(map) => map.get(&id).map(|&i| i as usize),
        }
    }
}

/// A function, resolved.
#[derive(Clone, Copy)]
struct Func {
    name: StrId,
    file: StrId,
    /// Matches `drop_frames` (and not `keep_frames`).
    dropped: bool,
}

/// Builds the capture from the tables, then from the samples.
struct Builder<'a> {
    capture: Capture,
    strings: &'a [&'a [u8]],
    str_ids: Vec<Option<StrId>>,
    tally: Tally,
    rules: Option<prune::Rules>,
    funcs: Vec<Func>,
    func_index: IdIndex,
    mapping_files: Vec<StrId>,
    mapping_index: IdIndex,
    /// Frames of each location (inner first, after `drop_frames`), back to back.
    loc_frames: Vec<FrameId>,
    loc_spans: Vec<(u32, u32)>,
    loc_prune: Vec<Prune>,
    loc_index: IdIndex,
    /// Label values of numeric labels, by (number, unit).
    numeric_labels: HashMap<(i64, StrId), StrId>,
    /// `default_sample_type` as the profile states it ("" when unset).
    declared_default: StrId,
}

impl<'a> Builder<'a> {
    fn new(path: &str, strings: &'a [&'a [u8]]) -> Self {
        Self {
            capture: Capture::new(path, FormatKind::Pprof),
            strings,
            str_ids: vec![None; strings.len()],
            tally: Tally::default(),
            rules: None,
            funcs: Vec::new(),
            func_index: IdIndex::Dense(0),
            mapping_files: Vec::new(),
            mapping_index: IdIndex::Dense(0),
            loc_frames: Vec::new(),
            loc_spans: Vec::new(),
            loc_prune: Vec::new(),
            loc_index: IdIndex::Dense(0),
            numeric_labels: HashMap::new(),
            declared_default: StrId::EMPTY,
        }
    }

    /// The string at `index` of the string table; "" for 0 (which means "unset" everywhere)
    /// and, with a warning, for an index outside the table.
    fn str_id(&mut self, index: i64, offset: usize) -> StrId {
        if index == 0 {
            return StrId::EMPTY;
        }
        let slot = usize::try_from(index).ok().filter(|&i| i < self.strings.len());
        let Some(i) = slot else {
            self.tally.note(Problem::StringIndex(index), offset);
            return StrId::EMPTY;
        };
        if let Some(Some(id)) = self.str_ids.get(i) {
            return *id;
        }
        let raw = self.strings.get(i).copied().unwrap_or_default();
        let id = if let Ok(s) = std::str::from_utf8(raw) {
            self.capture.strings.intern(s)
        } else {
            self.tally.note(Problem::InvalidUtf8, offset);
            self.capture.strings.intern(&String::from_utf8_lossy(raw))
        };
        if let Some(slot) = self.str_ids.get_mut(i) {
            *slot = Some(id);
        }
        id
    }

    /// Profile-wide fields: times, sample types, comments, the drop rules.
    fn header(&mut self, t: &Tables<'_>) {
        let source = &mut self.capture.source;
        source.captured_at_ns = (t.time_nanos != 0).then_some(t.time_nanos);
        source.duration_ns = (t.duration_nanos != 0).then_some(t.duration_nanos);
        self.capture.samples.period = t.period.max(0);
        let types: Vec<SampleType> = t
            .sample_types
            .iter()
            .map(|vt| SampleType { kind: self.str_id(vt.r#type, 0), unit: self.str_id(vt.unit, 0) })
            .collect();
        let default_name = self.str_id(t.default_sample_type, 0);
        self.declared_default = default_name;
        let default = if default_name.is_empty() {
            None
        } else {
            let found = types.iter().position(|ty| ty.kind == default_name);
            if found.is_none() {
                self.tally.note(Problem::UnknownDefaultType, 0);
            }
            found
        };
        self.capture.samples.default_type = default.unwrap_or(types.len().saturating_sub(1));
        self.capture.samples.types = types;
        for &(offset, index) in &t.comments {
            let id = self.str_id(index, offset);
            self.capture.source.comments.push(self.capture.str(id).to_owned());
        }
        let doc = self.str_id(t.doc_url, 0);
        self.capture.source.doc_url = (!doc.is_empty()).then(|| self.capture.str(doc).to_owned());
        let drop = self.str_id(t.drop_frames, 0);
        let keep = self.str_id(t.keep_frames, 0);
        match prune::Rules::new(self.capture.str(drop), self.capture.str(keep)) {
            Ok(rules) => self.rules = rules,
            Err(why) => self.capture.warnings.general(format!(
                "drop_frames/keep_frames expression does not compile ({why}); no frames are dropped"
            )),
        }
        if let Some(first) = self.strings.first()
            && !first.is_empty()
        {
            self.capture.warnings.general("string table entry 0 is not empty; it is read as \"\"");
        }
    }

    fn functions(&mut self, t: &Tables<'_>) {
        let tally = &mut self.tally;
        self.func_index = IdIndex::new(t.functions.iter().map(|(o, f)| (*o, f.id)), &mut |id, o| {
            tally.note(Problem::DuplicateFunction(id), o);
        });
        self.funcs = Vec::with_capacity(t.functions.len());
        for &(offset, f) in &t.functions {
            let mut name = self.str_id(f.name, offset);
            if name.is_empty() {
                name = self.str_id(f.system_name, offset);
            }
            let file = self.str_id(f.filename, offset);
            let dropped = self.rules.as_ref().is_some_and(|r| r.drops(self.capture.str(name)));
            self.funcs.push(Func { name, file, dropped });
        }
    }

    fn mappings(&mut self, t: &Tables<'_>) {
        let tally = &mut self.tally;
        self.mapping_index = IdIndex::new(t.mappings.iter().map(|(o, m)| (*o, m.id)), &mut |id, o| {
            tally.note(Problem::DuplicateMapping(id), o);
        });
        self.mapping_files = t.mappings.iter().map(|&(offset, m)| self.str_id(m.filename, offset)).collect();
    }

    /// Expands every location into frames once: one frame per line, inlined callees first; an
    /// unsymbolized location becomes one frame named by its address, in its mapping's file.
    fn locations(&mut self, t: &Tables<'_>) {
        let tally = &mut self.tally;
        self.loc_index = IdIndex::new(t.locations.iter().map(|(o, l)| (*o, l.id)), &mut |id, o| {
            tally.note(Problem::DuplicateLocation(id), o);
        });
        let mut frames: Vec<FrameId> = Vec::new();
        let mut dropped: Vec<bool> = Vec::new();
        for (offset, loc) in &t.locations {
            frames.clear();
            dropped.clear();
            for line in &loc.line {
                if line.function_id == 0 {
                    // A line without a function carries nothing a frame could show.
                    continue;
                }
                let Some(func) = self.func_index.get(line.function_id).and_then(|i| self.funcs.get(i)) else {
                    self.tally.note(Problem::UnknownFunction(line.function_id), *offset);
                    continue;
                };
                let frame = Frame {
                    func: func.name,
                    file: func.file,
                    line: clamp_u32(line.line),
                    column: clamp_u32(line.column),
                };
                frames.push(self.capture.tables.frame_id(frame));
                dropped.push(func.dropped);
            }
            if frames.is_empty() {
                let file = self.mapping_file(loc.mapping_id, *offset);
                let func = self.capture.strings.intern(&format!("{:#x}", loc.address));
                frames.push(self.capture.tables.frame_id(Frame { func, file, line: 0, column: 0 }));
                dropped.push(false);
            }
            let (prune, cut) = prune::location(&dropped);
            let start = self.loc_frames.len() as u32;
            self.loc_frames.extend(frames.get(cut..).unwrap_or_default());
            self.loc_spans.push((start, self.loc_frames.len() as u32 - start));
            self.loc_prune.push(prune);
        }
    }

    /// The file of a mapping, for frames without symbols.
    fn mapping_file(&mut self, id: u64, offset: usize) -> StrId {
        if id == 0 {
            return StrId::EMPTY;
        }
        let file = self.mapping_index.get(id).and_then(|i| self.mapping_files.get(i)).copied();
        if file.is_none() {
            self.tally.note(Problem::UnknownMapping(id), offset);
        }
        file.unwrap_or_default()
    }

    fn location_frames(&self, loc: usize) -> &[FrameId] {
        self.loc_spans
            .get(loc)
            .and_then(|&(s, l)| self.loc_frames.get(s as usize..(s + l) as usize))
            .unwrap_or_default()
    }

    /// The second walk: every sample, decoded into one reused message.
    fn samples(
        &mut self,
        bytes: &[u8],
        value_columns: usize,
        sample_fields: usize,
        progress: &Progress,
    ) -> Result<(), ParseError> {
        let mut sample = proto::Sample::default();
        let mut locs: Vec<usize> = Vec::new();
        let mut prunes: Vec<Prune> = Vec::new();
        let mut frames: Vec<FrameId> = Vec::new();
        let mut labels: Vec<Label> = Vec::new();
        let mut seen = 0usize;
        let mut unreported = 0usize;
        // Every value a sample carries takes at least a byte of the file, so a profile whose
        // samples fill their columns never gets near this; padding missing values must not turn
        // a small file into gigabytes.
        let cell_budget = bytes.len().saturating_mul(2).max(1 << 20);
        // Go writes one sample per distinct stack: expect about as many stacks as samples.
        self.capture.tables.reserve_stacks(sample_fields);
        let s = &mut self.capture.samples;
        s.stack.reserve(sample_fields);
        s.labels.reserve(sample_fields);
        s.values.reserve(sample_fields.saturating_mul(value_columns).min(cell_budget));
        // The first walk succeeded, so this one sees the same fields and no error.
        for field in Fields::new(bytes).map_while(Result::ok) {
            let (tag::SAMPLE, Payload::Bytes(b)) = (field.tag, field.payload) else { continue };
            unreported += b.len();
            if seen.is_multiple_of(POLL_EVERY) {
                progress.advance(unreported as u64);
                unreported = 0;
                if progress.is_cancelled() {
                    return Err(super::cancelled(FormatKind::Pprof));
                }
            }
            if (seen + 1).saturating_mul(value_columns) > cell_budget {
                self.capture.warnings.at_offset(
                    field.offset as u64,
                    format!(
                        "{value_columns} sample types for samples that carry far fewer values: the samples from here on \
                         would take more memory than the file justifies and are skipped"
                    ),
                );
                break;
            }
            seen += 1;
            sample.clear();
            if let Err(e) = sample.merge(b) {
                self.capture.warnings.at_offset(field.offset as u64, format!("corrupt sample skipped: {e}"));
                continue;
            }
            let at = field.offset;
            if sample.value.len() != value_columns {
                self.tally.note(Problem::ValueCount(sample.value.len()), at);
            }
            locs.clear();
            for &id in &sample.location_id {
                match self.loc_index.get(id) {
                    Some(i) if i < self.loc_spans.len() => locs.push(i),
                    _ => self.tally.note(Problem::UnknownLocation(id), at),
                }
            }
            let start = if self.rules.is_some() {
                prunes.clear();
                prunes.extend(locs.iter().map(|&i| self.loc_prune.get(i).copied().unwrap_or_default()));
                prune::sample_start(&prunes)
            } else {
                0
            };
            frames.clear();
            for &loc in locs.get(start..).unwrap_or_default() {
                let add = self.location_frames(loc);
                let room = MAX_STACK_FRAMES - frames.len();
                // Most locations are one or two frames: pushing them beats a memcpy call each.
                for &f in add.iter().take(room) {
                    frames.push(f);
                }
                if frames.len() == MAX_STACK_FRAMES {
                    self.tally.note(Problem::DeepStack, at);
                    break;
                }
            }
            let stack = self.capture.tables.stack_id(&frames);
            let label_set = if sample.label.is_empty() {
                LabelSetId::EMPTY
            } else {
                labels.clear();
                for l in &sample.label {
                    let key = self.str_id(l.key, at);
                    let value = if l.str != 0 { self.str_id(l.str, at) } else { self.numeric_label(l, at) };
                    labels.push(Label { key, value });
                }
                self.capture.tables.label_set_id(&mut labels)
            };
            self.capture.samples.push(stack, &sample.value, label_set);
        }
        progress.advance(unreported as u64);
        Ok(())
    }

    /// A numeric label as text with its unit: `327680 bytes`. Without a unit, pprof's
    /// convention applies: `bytes`, `alignment` and `request` are in bytes; others are plain
    /// numbers.
    fn numeric_label(&mut self, l: &proto::Label, at: usize) -> StrId {
        let mut unit = self.str_id(l.num_unit, at);
        if unit.is_empty() {
            let key = self.str_id(l.key, at);
            if matches!(self.capture.str(key), "bytes" | "alignment" | "request") {
                unit = self.capture.strings.intern("bytes");
            }
        }
        if let Some(&id) = self.numeric_labels.get(&(l.num, unit)) {
            return id;
        }
        let text =
            if unit.is_empty() { l.num.to_string() } else { format!("{} {}", l.num, self.capture.str(unit)) };
        let id = self.capture.strings.intern(&text);
        self.numeric_labels.insert((l.num, unit), id);
        id
    }

    /// Names the Go profile type from the sample columns (and, for block versus mutex, the
    /// stacks).
    fn profile_type(&mut self, path: &str) {
        let c = &self.capture;
        let columns: Vec<(&str, &str)> =
            c.samples.types.iter().map(|t| (c.str(t.kind), c.str(t.unit))).collect();
        let kind = match profile_type::shape(&columns, c.str(self.declared_default)) {
            Shape::Known(k) => Some(k),
            Shape::Contention => {
                let unlock = c.samples.stack.iter().any(|&s| {
                    c.tables.stack(s).iter().take(3).any(|&f| profile_type::is_unlock_frame(c.func_name(f)))
                });
                Some(profile_type::contention_kind(unlock, !c.samples.is_empty(), path))
            }
            Shape::Other => None,
        };
        self.capture.source.profile_type = kind.map(str::to_owned);
    }

    fn finish(mut self, strings: usize) -> Capture {
        let columns = self.capture.samples.types.len();
        self.tally.emit(&mut self.capture.warnings, columns, strings);
        self.capture
    }
}

fn clamp_u32(v: i64) -> u32 {
    u32::try_from(v.max(0)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests;
