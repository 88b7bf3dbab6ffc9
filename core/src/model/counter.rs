//! Counter series (Go heap metrics, Chrome `C` events), delta-coded.
//!
//! A Go trace records the live heap at every span allocation: thousands of points in a few
//! hundred kilobytes of trace. At 16 bytes a point (an `i64` time and an `f64` value) they were
//! almost half of such a trace's model; coded as varint deltas they take about a third of that.
//! Series are only ever read front to back (a chart, a summary), so nothing is lost by the
//! coding but random access.

use super::strings::StrId;
use super::varint::{put_uvarint, unzigzag, uvarint, zigzag};

/// A named numeric series over time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counter {
    /// Series name.
    pub name: StrId,
    /// The points, each as the zigzag varint of its time's delta from the previous time, then
    /// its value: an integral value (heap bytes, counts) as the varint of its zigzagged delta
    /// from the previous integral value, shifted left once; any other as the varint 1 and the
    /// `f64`'s eight bytes.
    bytes: Vec<u8>,
    len: usize,
    last_ns: i64,
    last_int: i64,
}

/// Integral values up to this magnitude are coded as deltas; all of them are exact in an `f64`.
const MAX_INT: f64 = (1u64 << 53) as f64;

/// Bytes a point takes in typical series, to reserve from a count of points: a Go heap series
/// takes 5.5.
const BYTES_PER_POINT_GUESS: usize = 6;

/// The most bytes one point takes: two 10-byte varints, or a varint and a tag and an `f64`.
const MAX_POINT_BYTES: usize = 20;

impl Counter {
    /// An empty series.
    pub fn new(name: StrId) -> Self {
        Self { name, ..Self::default() }
    }

    /// An empty series with room for about `points` points.
    pub fn with_capacity(name: StrId, points: usize) -> Self {
        Self {
            name,
            bytes: Vec::with_capacity(points.saturating_mul(BYTES_PER_POINT_GUESS)),
            ..Self::default()
        }
    }

    /// A series of `points`, in the order given.
    pub fn from_points(name: StrId, points: impl IntoIterator<Item = (i64, f64)>) -> Self {
        let mut c = Self::new(name);
        for (t, v) in points {
            c.push(t, v);
        }
        c.shrink_to_fit();
        c
    }

    /// Appends a point. Times are expected to ascend, but any order round-trips.
    pub fn push(&mut self, time_ns: i64, value: f64) {
        if self.bytes.capacity() - self.bytes.len() < MAX_POINT_BYTES {
            // A series sized from a count of points is near its size: grow it by an eighth,
            // not by doubling it.
            self.bytes.reserve_exact(self.bytes.capacity() / 8 + 4 * MAX_POINT_BYTES);
        }
        put_uvarint(&mut self.bytes, zigzag(time_ns.wrapping_sub(self.last_ns)));
        self.last_ns = time_ns;
        // -0.0 is integral but would come back as 0.0: it goes as a float.
        if value.fract() == 0.0 && value.abs() <= MAX_INT && !(value == 0.0 && value.is_sign_negative()) {
            let int = value as i64;
            // Both are within 2^53, so the delta within 2^54 and its shifted zigzag in 64 bits.
            put_uvarint(&mut self.bytes, zigzag(int - self.last_int) << 1);
            self.last_int = int;
        } else {
            put_uvarint(&mut self.bytes, 1);
            self.bytes.extend_from_slice(&value.to_le_bytes());
        }
        self.len += 1;
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The points, `(time_ns, value)`, in the order pushed.
    pub fn points(&self) -> Points<'_> {
        Points { bytes: &self.bytes, pos: 0, last_ns: 0, last_int: 0 }
    }

    /// Gives back unused room.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }

    /// Heap bytes held, for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.bytes.capacity()
    }
}

/// Iterator over a [`Counter`]'s points.
#[derive(Clone, Debug)]
pub struct Points<'a> {
    bytes: &'a [u8],
    pos: usize,
    last_ns: i64,
    last_int: i64,
}

impl Iterator for Points<'_> {
    type Item = (i64, f64);

    fn next(&mut self) -> Option<(i64, f64)> {
        let dt = unzigzag(uvarint(self.bytes, &mut self.pos)?);
        self.last_ns = self.last_ns.wrapping_add(dt);
        let tag = uvarint(self.bytes, &mut self.pos)?;
        let value = if tag & 1 == 0 {
            self.last_int = self.last_int.wrapping_add(unzigzag(tag >> 1));
            self.last_int as f64
        } else {
            let raw: [u8; 8] = self.bytes.get(self.pos..self.pos + 8)?.try_into().ok()?;
            self.pos += 8;
            f64::from_le_bytes(raw)
        };
        Some((self.last_ns, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_round_trip_whatever_their_values() {
        let points = [
            (1_000, 0.0),
            (1_064, 8_192.0),
            (900, -3.0),
            (i64::MAX, 2.5),
            (i64::MIN, -0.0),
            (5, f64::NAN),
            (6, MAX_INT),
            (7, -MAX_INT),
            (8, 1e300),
            (9, f64::INFINITY),
            (10, 42.0),
        ];
        let c = Counter::from_points(StrId::EMPTY, points);
        assert_eq!(c.len(), points.len());
        let back: Vec<(i64, f64)> = c.points().collect();
        assert_eq!(back.len(), points.len());
        for ((t, v), (bt, bv)) in points.iter().zip(&back) {
            assert_eq!(t, bt);
            assert_eq!(v.to_bits(), bv.to_bits(), "{v} came back as {bv}");
        }
    }

    #[test]
    fn a_heap_series_takes_a_few_bytes_a_point() {
        // The shape of a Go trace's heap metric: a point every ~50 µs, growing by a span.
        let mut c = Counter::new(StrId::EMPTY);
        let mut heap = 4u64 << 20;
        for i in 0..10_000i64 {
            heap += 8_192 + (i as u64 % 7) * 512;
            c.push(1_700_000_000_000_000_000 + i * 51_200, heap as f64);
        }
        c.shrink_to_fit();
        assert!(c.heap_bytes() <= 6 * c.len() + 16, "{} bytes for {} points", c.heap_bytes(), c.len());
        assert_eq!(c.points().last(), Some((1_700_000_000_000_000_000 + 9_999 * 51_200, heap as f64)));
    }
}
