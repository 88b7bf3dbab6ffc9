//! The protobuf wire format at the top level of a `Profile`, walked by hand over borrowed bytes:
//! each field with its byte offset, so that errors point into the file, samples can be decoded
//! one at a time into a reused message, and strings borrow from the input.

use super::proto::tag;

/// A field's payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Payload<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 2: a sub-message, a string or a packed list.
    Bytes(&'a [u8]),
    /// Wire types 1 and 5, and groups (3): skipped, never part of a `Profile`.
    Other,
}

/// One top-level field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Field<'a> {
    /// Field number.
    pub tag: u32,
    /// Offset of the field's key in the input.
    pub offset: usize,
    pub payload: Payload<'a>,
}

/// Why the wire structure breaks, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct WireError {
    /// Offset of the field (or byte) that breaks.
    pub offset: usize,
    pub kind: WireErrorKind,
}

/// The ways the wire structure can break.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum WireErrorKind {
    /// The input ends inside a field.
    Truncated,
    /// A varint runs past ten bytes.
    LongVarint,
    /// A key with field number 0 or wire type 6 or 7.
    BadKey,
    /// A group end without its start, or a mismatched one.
    BadGroup,
}

impl std::fmt::Display for WireErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WireErrorKind::Truncated => "the input ends in the middle of a field (truncated file?)",
            WireErrorKind::LongVarint => "a varint longer than 10 bytes (not protobuf, or corrupt)",
            WireErrorKind::BadKey => "an invalid field key (not protobuf, or corrupt)",
            WireErrorKind::BadGroup => "an unbalanced protobuf group (corrupt)",
        })
    }
}

/// Iterates over the top-level fields of a message.
pub(super) struct Fields<'a> {
    bytes: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Fields<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0, failed: false }
    }

    fn varint(&mut self) -> Result<u64, WireErrorKind> {
        let (value, len) = read_varint(self.bytes.get(self.pos..).unwrap_or_default())?;
        self.pos += len;
        Ok(value)
    }

    fn field(&mut self) -> Result<Field<'a>, WireErrorKind> {
        let offset = self.pos;
        let (tag, wire) = split_key(self.varint()?)?;
        let payload = match wire {
            0 => Payload::Varint(self.varint()?),
            1 => {
                self.skip(8)?;
                Payload::Other
            }
            2 => {
                let len = self.varint()?;
                let start = self.pos;
                let len = usize::try_from(len).map_err(|_| WireErrorKind::Truncated)?;
                self.skip(len)?;
                Payload::Bytes(self.bytes.get(start..self.pos).ok_or(WireErrorKind::Truncated)?)
            }
            3 => {
                self.skip_group(tag)?;
                Payload::Other
            }
            5 => {
                self.skip(4)?;
                Payload::Other
            }
            // 4 (a group end here) has no start.
            _ => return Err(WireErrorKind::BadGroup),
        };
        Ok(Field { tag, offset, payload })
    }

    fn skip(&mut self, len: usize) -> Result<(), WireErrorKind> {
        let end = self.pos.checked_add(len).ok_or(WireErrorKind::Truncated)?;
        if end > self.bytes.len() {
            return Err(WireErrorKind::Truncated);
        }
        self.pos = end;
        Ok(())
    }

    /// Skips a (deprecated) group up to its matching end, iteratively so that nesting can't
    /// exhaust the stack.
    fn skip_group(&mut self, tag: u32) -> Result<(), WireErrorKind> {
        let mut open = vec![tag];
        while let Some(&current) = open.last() {
            let (inner, wire) = split_key(self.varint()?)?;
            match wire {
                0 => {
                    self.varint()?;
                }
                1 => self.skip(8)?,
                2 => {
                    let len = usize::try_from(self.varint()?).map_err(|_| WireErrorKind::Truncated)?;
                    self.skip(len)?;
                }
                3 => open.push(inner),
                4 if inner == current => {
                    open.pop();
                }
                5 => self.skip(4)?,
                _ => return Err(WireErrorKind::BadGroup),
            }
        }
        Ok(())
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.bytes.len() {
            return None;
        }
        let offset = self.pos;
        Some(self.field().map_err(|kind| {
            self.failed = true;
            WireError { offset, kind }
        }))
    }
}

/// Splits a key into field number and wire type.
fn split_key(key: u64) -> Result<(u32, u8), WireErrorKind> {
    let wire = (key & 7) as u8;
    let tag = key >> 3;
    if tag == 0 || tag > u64::from(u32::MAX >> 3) || wire > 5 {
        return Err(WireErrorKind::BadKey);
    }
    Ok((tag as u32, wire))
}

/// Whether `key` is a valid field key: of a `Profile` field in a wire type it allows, or, when
/// `any_message`, of any protobuf field.
pub(super) fn key_fits(key: u64, any_message: bool) -> bool {
    let Ok((tag, wire)) = split_key(key) else { return false };
    if any_message {
        return wire != 4;
    }
    match (profile_field_shape(tag), wire) {
        (Some((varint, _)), 0) => varint,
        (Some((_, delimited)), 2) => delimited,
        _ => false,
    }
}

/// Reads a varint; returns the value and its length in bytes.
pub(super) fn read_varint(bytes: &[u8]) -> Result<(u64, usize), WireErrorKind> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Ok((value, i + 1));
        }
    }
    if bytes.len() >= 10 { Err(WireErrorKind::LongVarint) } else { Err(WireErrorKind::Truncated) }
}

/// The wire types a `Profile` field may arrive in: whether it may be a varint and whether it
/// may be length-delimited. `None` for field numbers the current profile.proto doesn't define.
pub(super) fn profile_field_shape(tag: u32) -> Option<(bool, bool)> {
    match tag {
        tag::SAMPLE_TYPE
        | tag::SAMPLE
        | tag::MAPPING
        | tag::LOCATION
        | tag::FUNCTION
        | tag::STRING_TABLE
        | tag::PERIOD_TYPE => Some((false, true)),
        tag::DROP_FRAMES
        | tag::KEEP_FRAMES
        | tag::TIME_NANOS
        | tag::DURATION_NANOS
        | tag::PERIOD
        | tag::DEFAULT_SAMPLE_TYPE
        | tag::DOC_URL => Some((true, false)),
        // Repeated int64: packed (length-delimited) or one varint per value.
        tag::COMMENT => Some((true, true)),
        _ => None,
    }
}

/// Whether a field arrived in a wire type its number allows.
pub(super) fn shape_fits(field: &Field<'_>) -> bool {
    match (profile_field_shape(field.tag), field.payload) {
        (Some((varint, _)), Payload::Varint(_)) => varint,
        (Some((_, delimited)), Payload::Bytes(_)) => delimited,
        _ => false,
    }
}

/// The values of a packed list of varints (`repeated int64 comment`), or `None` if the list is
/// cut off.
pub(super) fn packed_varints(mut bytes: &[u8]) -> Option<Vec<u64>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let (v, len) = read_varint(bytes).ok()?;
        out.push(v);
        bytes = bytes.get(len..)?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(read_varint(&[0x00]), Ok((0, 1)));
        assert_eq!(read_varint(&[0x96, 0x01]), Ok((150, 2)));
        assert_eq!(read_varint(&[0xff; 9]), Err(WireErrorKind::Truncated));
        assert_eq!(read_varint(&[0xff; 11]), Err(WireErrorKind::LongVarint));
        assert_eq!(
            read_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Ok((u64::MAX, 10))
        );
    }

    #[test]
    fn fields_with_offsets() {
        // sample_type {1, 2}, time_nanos 5, a fixed64 and a fixed32 field 20 (unknown), a group.
        let bytes = [
            0x0a, 4, 0x08, 1, 0x10, 2, // field 1, bytes
            0x48, 5, // field 9, varint
            0xa1, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, // field 20, fixed64
            0xa5, 0x01, 1, 2, 3, 4, // field 20, fixed32
            0xab, 0x01, 0x08, 1, 0xac, 0x01, // field 21 group with a varint inside
        ];
        let fields: Vec<_> = Fields::new(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(fields.len(), 5);
        assert_eq!(fields[0], Field { tag: 1, offset: 0, payload: Payload::Bytes(&[0x08, 1, 0x10, 2]) });
        assert_eq!(fields[1], Field { tag: 9, offset: 6, payload: Payload::Varint(5) });
        assert_eq!(fields[2].offset, 8);
        assert_eq!(fields[3].offset, 18);
        assert_eq!(fields[4], Field { tag: 21, offset: 24, payload: Payload::Other });
    }

    #[test]
    fn broken_structure_names_the_field() {
        let truncated = [0x48, 5, 0x0a, 9, 1, 2];
        let err = Fields::new(&truncated).find_map(Result::err).unwrap();
        assert_eq!(err, WireError { offset: 2, kind: WireErrorKind::Truncated });
        let bad_key = [0x48, 5, 0x07];
        let err = Fields::new(&bad_key).find_map(Result::err).unwrap();
        assert_eq!(err, WireError { offset: 2, kind: WireErrorKind::BadKey });
        let stray_end = [0x0c];
        assert_eq!(Fields::new(&stray_end).next().unwrap().unwrap_err().kind, WireErrorKind::BadGroup);
        let unclosed = [0x0b, 0x08, 1];
        assert_eq!(Fields::new(&unclosed).next().unwrap().unwrap_err().kind, WireErrorKind::Truncated);
        let huge_len = [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Fields::new(&huge_len).next().unwrap().unwrap_err().kind, WireErrorKind::Truncated);
        // After an error the walk stops instead of resynchronising on garbage.
        let mut fields = Fields::new(&bad_key);
        assert!(fields.next().unwrap().is_ok());
        assert!(fields.next().unwrap().is_err());
        assert!(fields.next().is_none());
    }

    #[test]
    fn shapes() {
        let f = |tag, payload| Field { tag, offset: 0, payload };
        assert!(shape_fits(&f(1, Payload::Bytes(&[]))));
        assert!(!shape_fits(&f(1, Payload::Varint(0))));
        assert!(shape_fits(&f(13, Payload::Varint(0))));
        assert!(shape_fits(&f(13, Payload::Bytes(&[]))));
        assert!(shape_fits(&f(15, Payload::Varint(3))));
        assert!(!shape_fits(&f(15, Payload::Bytes(&[]))));
        assert!(!shape_fits(&f(16, Payload::Varint(0))));
        assert!(!shape_fits(&f(9, Payload::Other)));
        assert_eq!(packed_varints(&[1, 0x96, 0x01]), Some(vec![1, 150]));
        assert_eq!(packed_varints(&[0x96]), None);
    }
}
