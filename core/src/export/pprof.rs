//! A capture's goroutines as a pprof goroutine profile (`goroutine`/`count`), the profile
//! `go tool pprof` and continuous profilers read. The tasks' pprof labels are kept, and the
//! state, the minutes waited and the runtime's leak mark become labels too, so `-tagfocus
//! state=chan.receive` or `-tagroot wait` work on a dump.

use std::io::Write as _;

use hashbrown::HashMap;
use prost::Message as _;

use super::{ExportSample, LEAKED_LABEL, STATE_LABEL, WAIT_LABEL, WAIT_UNIT, samples};
use crate::formats::pprof::proto;
use crate::model::{Capture, FrameId};

/// The profile's string table, index 0 the empty string as pprof requires.
struct StringTable {
    strings: Vec<String>,
    index: HashMap<String, i64>,
}

impl StringTable {
    fn new() -> Self {
        let mut t = Self { strings: Vec::new(), index: HashMap::new() };
        t.id("");
        t
    }

    fn id(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.strings.len() as i64;
        self.strings.push(s.to_owned());
        self.index.insert(s.to_owned(), i);
        i
    }
}

/// The capture's goroutines as a pprof `Profile` (not yet encoded).
pub fn profile(capture: &Capture) -> proto::Profile {
    let mut strings = StringTable::new();
    let mut functions: Vec<proto::Function> = Vec::new();
    let mut function_ids: HashMap<(i64, i64), u64> = HashMap::new();
    let mut locations: Vec<proto::Location> = Vec::new();
    let mut location_ids: HashMap<FrameId, u64> = HashMap::new();
    let goroutine = strings.id("goroutine");
    let count = strings.id("count");
    let mut out_samples = Vec::new();
    for s in samples(capture) {
        let mut location_id = Vec::new();
        for &frame_id in capture.tables.stack(s.stack) {
            let id = *location_ids.entry(frame_id).or_insert_with(|| {
                let frame = capture.tables.frame(frame_id);
                let name = strings.id(capture.str(frame.func));
                let file = strings.id(capture.str(frame.file));
                let function_id = *function_ids.entry((name, file)).or_insert_with(|| {
                    let id = functions.len() as u64 + 1;
                    functions.push(proto::Function {
                        id,
                        name,
                        system_name: name,
                        filename: file,
                        ..proto::Function::default()
                    });
                    id
                });
                let id = locations.len() as u64 + 1;
                locations.push(proto::Location {
                    id,
                    line: vec![proto::Line {
                        function_id,
                        line: i64::from(frame.line),
                        column: i64::from(frame.column),
                    }],
                    ..proto::Location::default()
                });
                id
            });
            location_id.push(id);
        }
        let label = labels(capture, &s, &mut strings);
        out_samples.push(proto::Sample { location_id, value: vec![s.count], label });
    }
    proto::Profile {
        sample_type: vec![proto::ValueType { r#type: goroutine, unit: count }],
        sample: out_samples,
        location: locations,
        function: functions,
        time_nanos: capture.time_range_ns.map_or(0, |(_, end)| end),
        period_type: Some(proto::ValueType { r#type: goroutine, unit: count }),
        period: 1,
        string_table: strings.strings,
        ..proto::Profile::default()
    }
}

fn labels(capture: &Capture, s: &ExportSample, strings: &mut StringTable) -> Vec<proto::Label> {
    let mut out: Vec<proto::Label> = capture
        .tables
        .labels(s.labels)
        .iter()
        .map(|l| proto::Label {
            key: strings.id(capture.str(l.key)),
            str: strings.id(capture.str(l.value)),
            ..proto::Label::default()
        })
        .collect();
    let state = capture.str(s.state);
    if !state.is_empty() {
        out.push(proto::Label {
            key: strings.id(STATE_LABEL),
            str: strings.id(state),
            ..proto::Label::default()
        });
    }
    if let Some(minutes) = s.wait_minutes {
        out.push(proto::Label {
            key: strings.id(WAIT_LABEL),
            num: minutes,
            num_unit: strings.id(WAIT_UNIT),
            ..proto::Label::default()
        });
    }
    if s.leaked {
        out.push(proto::Label {
            key: strings.id(LEAKED_LABEL),
            str: strings.id("true"),
            ..proto::Label::default()
        });
    }
    out
}

/// The capture's goroutines as an encoded pprof profile (uncompressed protobuf).
pub fn to_pprof(capture: &Capture) -> Vec<u8> {
    profile(capture).encode_to_vec()
}

/// The capture's goroutines as a gzipped pprof profile, as Go writes `.pb.gz` files.
///
/// # Errors
/// Only if compressing into memory fails, which it does not in practice.
pub fn to_pprof_gz(capture: &Capture) -> std::io::Result<Vec<u8>> {
    let raw = to_pprof(capture);
    let mut gz =
        flate2::write::GzEncoder::new(Vec::with_capacity(raw.len() / 4), flate2::Compression::default());
    gz.write_all(&raw)?;
    gz.finish()
}
