//! Varints and zigzag, for the model's delta-coded tables (counter series, links): values that
//! are mostly small deltas take a byte or two where a fixed column takes four or eight.

/// Maps a signed value to an unsigned one small in magnitude for small values of either sign.
pub(crate) const fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The inverse of [`zigzag`].
pub(crate) const fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

/// Appends `v` as a little-endian base-128 varint (at most 10 bytes).
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint [`put_uvarint`] wrote at `*pos`, moving past it; `None` at the end of the
/// bytes.
#[inline]
pub(crate) fn uvarint(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_at_every_width() {
        let values = [0i64, 1, -1, 63, -64, 64, 1 << 20, -(1 << 40), i64::MAX, i64::MIN];
        let mut bytes = Vec::new();
        for v in values {
            put_uvarint(&mut bytes, zigzag(v));
        }
        let mut pos = 0;
        for v in values {
            assert_eq!(uvarint(&bytes, &mut pos).map(unzigzag), Some(v));
        }
        assert_eq!(pos, bytes.len());
        assert_eq!(uvarint(&bytes, &mut pos), None);
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }
}
