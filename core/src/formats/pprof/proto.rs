//! The pprof wire format: every message of google/pprof `proto/profile.proto` (package
//! `perftools.profiles`), written by hand with `prost` derives so that no build script or
//! `protoc` is needed. Field numbers and types follow the upstream file exactly; fields a newer
//! writer adds are skipped by prost as unknown.
//!
//! String fields other than `Profile.string_table` are indices into that table; ids
//! (`Location.id`, `Function.id`, `Mapping.id`) are nonzero and unique per profile.

/// A profile: sample types, samples and the tables they refer to.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Profile {
    /// What each `Sample.value` measures (for Go CPU profiles `samples/count`, `cpu/nanoseconds`).
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// The samples.
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    /// Address ranges of the binaries and libraries; `mapping[0]` is the main binary.
    #[prost(message, repeated, tag = "3")]
    pub mapping: Vec<Mapping>,
    /// Program locations referred to by samples.
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// Functions referred to by location lines.
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// The string table; entry 0 is always "".
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    /// Frames whose function fully matches this regexp are dropped with their callees (string
    /// index).
    #[prost(int64, tag = "7")]
    pub drop_frames: i64,
    /// Frames whose function fully matches this regexp are kept even if `drop_frames` matches
    /// (string index).
    #[prost(int64, tag = "8")]
    pub keep_frames: i64,
    /// When collection started, nanoseconds since the Unix epoch.
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    /// How long collection ran.
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    /// The kind of events between sampled occurrences (`cpu/nanoseconds`, `space/bytes`).
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// Number of events between sampled occurrences.
    #[prost(int64, tag = "12")]
    pub period: i64,
    /// Free-form comments (string indices).
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
    /// Type of the preferred sample value (string index); unset means the last one.
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
    /// Documentation link for this kind of profile (string index).
    #[prost(int64, tag = "15")]
    pub doc_url: i64,
}

/// The meaning and unit of a value.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct ValueType {
    /// What is measured (string index).
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    /// In which unit (string index).
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// One sampled stack with its values and labels.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    /// Location ids, leaf first.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    /// One value per `Profile.sample_type`.
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    /// Extra context: thread, request, allocation size.
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// A key with a string or a numeric value.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Label {
    /// Key (string index).
    #[prost(int64, tag = "1")]
    pub key: i64,
    /// String value (string index); at most one of `str` and `num` is set.
    #[prost(int64, tag = "2")]
    pub str: i64,
    /// Numeric value.
    #[prost(int64, tag = "3")]
    pub num: i64,
    /// Unit of `num` (string index), such as `bytes` or `requests`.
    #[prost(int64, tag = "4")]
    pub num_unit: i64,
}

/// A binary or library mapped into the profiled address space.
// The four flags are the wire format's; a bitset would no longer be the message.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Mapping {
    /// Unique nonzero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Load address.
    #[prost(uint64, tag = "2")]
    pub memory_start: u64,
    /// End of the mapped range.
    #[prost(uint64, tag = "3")]
    pub memory_limit: u64,
    /// File offset of `memory_start`.
    #[prost(uint64, tag = "4")]
    pub file_offset: u64,
    /// Path of the object, or a pseudo-name like `[vdso]` (string index).
    #[prost(int64, tag = "5")]
    pub filename: i64,
    /// Build id of the object (string index).
    #[prost(int64, tag = "6")]
    pub build_id: i64,
    /// Symbolization state: functions known.
    #[prost(bool, tag = "7")]
    pub has_functions: bool,
    /// Symbolization state: file names known.
    #[prost(bool, tag = "8")]
    pub has_filenames: bool,
    /// Symbolization state: line numbers known.
    #[prost(bool, tag = "9")]
    pub has_line_numbers: bool,
    /// Symbolization state: inlined frames known.
    #[prost(bool, tag = "10")]
    pub has_inline_frames: bool,
}

/// A program location: an address and the source lines (inlined calls first) it stands for.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Location {
    /// Unique nonzero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// The mapping holding `address`; 0 when unknown.
    #[prost(uint64, tag = "2")]
    pub mapping_id: u64,
    /// Instruction address, where known.
    #[prost(uint64, tag = "3")]
    pub address: u64,
    /// Source lines: inlined callees first, the function the code physically belongs to last.
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
    /// Several symbols share this address (identical code folding).
    #[prost(bool, tag = "5")]
    pub is_folded: bool,
}

/// One source position within a location.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Line {
    /// The function.
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    /// Line number; 0 when unknown.
    #[prost(int64, tag = "2")]
    pub line: i64,
    /// Column number; 0 when unknown.
    #[prost(int64, tag = "3")]
    pub column: i64,
}

/// A function.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Function {
    /// Unique nonzero id.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Human-readable name (string index).
    #[prost(int64, tag = "2")]
    pub name: i64,
    /// Name as the system knows it, such as a mangled C++ name (string index).
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    /// Source file (string index).
    #[prost(int64, tag = "4")]
    pub filename: i64,
    /// Line where the function starts.
    #[prost(int64, tag = "5")]
    pub start_line: i64,
}

/// Field numbers of [`Profile`], for walking its top level by hand.
pub(super) mod tag {
    pub const SAMPLE_TYPE: u32 = 1;
    pub const SAMPLE: u32 = 2;
    pub const MAPPING: u32 = 3;
    pub const LOCATION: u32 = 4;
    pub const FUNCTION: u32 = 5;
    pub const STRING_TABLE: u32 = 6;
    pub const DROP_FRAMES: u32 = 7;
    pub const KEEP_FRAMES: u32 = 8;
    pub const TIME_NANOS: u32 = 9;
    pub const DURATION_NANOS: u32 = 10;
    pub const PERIOD_TYPE: u32 = 11;
    pub const PERIOD: u32 = 12;
    pub const COMMENT: u32 = 13;
    pub const DEFAULT_SAMPLE_TYPE: u32 = 14;
    pub const DOC_URL: u32 = 15;
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    /// The field numbers are the contract with every pprof writer: pin a few encodings byte by
    /// byte so that a wrong tag can't hide behind a round trip through the same structs.
    #[test]
    fn field_numbers_match_upstream() {
        let line = Line { function_id: 1, line: 2, column: 3 };
        assert_eq!(line.encode_to_vec(), [0x08, 1, 0x10, 2, 0x18, 3]);
        let label = Label { key: 1, str: 2, num: 3, num_unit: 4 };
        assert_eq!(label.encode_to_vec(), [0x08, 1, 0x10, 2, 0x18, 3, 0x20, 4]);
        let f = Function { id: 1, name: 2, system_name: 3, filename: 4, start_line: 5 };
        assert_eq!(f.encode_to_vec(), [0x08, 1, 0x10, 2, 0x18, 3, 0x20, 4, 0x28, 5]);
        let loc = Location { id: 7, mapping_id: 1, address: 2, line: vec![], is_folded: true };
        assert_eq!(loc.encode_to_vec(), [0x08, 7, 0x10, 1, 0x18, 2, 0x28, 1]);
        let m = Mapping {
            id: 1,
            memory_start: 2,
            memory_limit: 3,
            file_offset: 4,
            filename: 5,
            build_id: 6,
            has_functions: true,
            has_filenames: true,
            has_line_numbers: true,
            has_inline_frames: true,
        };
        assert_eq!(
            m.encode_to_vec(),
            [0x08, 1, 0x10, 2, 0x18, 3, 0x20, 4, 0x28, 5, 0x30, 6, 0x38, 1, 0x40, 1, 0x48, 1, 0x50, 1]
        );
        // Repeated scalars are packed in proto3.
        let s = Sample { location_id: vec![1, 2], value: vec![3], label: vec![] };
        assert_eq!(s.encode_to_vec(), [0x0a, 2, 1, 2, 0x12, 1, 3]);
        let p = Profile {
            drop_frames: 1,
            keep_frames: 2,
            time_nanos: 3,
            duration_nanos: 4,
            period: 5,
            default_sample_type: 6,
            doc_url: 7,
            comment: vec![8],
            period_type: Some(ValueType { r#type: 1, unit: 2 }),
            string_table: vec![String::new()],
            ..Profile::default()
        };
        assert_eq!(
            p.encode_to_vec(),
            [
                0x32, 0, // string_table ""
                0x38, 1, 0x40, 2, 0x48, 3, 0x50, 4, // drop, keep, time, duration
                0x5a, 4, 0x08, 1, 0x10, 2, // period_type
                0x60, 5, // period
                0x6a, 1, 8, // comment (packed)
                0x70, 6, 0x78, 7, // default_sample_type, doc_url
            ]
        );
    }

    #[test]
    fn unpacked_repeated_scalars_decode_too() {
        // Go's encoder writes short lists unpacked: each id with its own key.
        let s = Sample::decode(&[0x08, 5, 0x08, 6, 0x10, 9][..]).unwrap();
        assert_eq!(s.location_id, [5, 6]);
        assert_eq!(s.value, [9]);
    }
}
