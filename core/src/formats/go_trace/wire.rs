//! The wire format of Go 1.22+ execution traces: the header, event type numbers, how many
//! arguments each event carries in each format version, and unsigned LEB128 varints.
//!
//! Written from the format's description in Go's `internal/trace/tracev2` (event table) and
//! `internal/trace/version`; the numbering is the wire numbering, which only ever grew at the
//! end between versions, so one table serves every version with a per-version upper bound.

/// Event type numbers as they appear on the wire.
pub(crate) mod ev {
    pub const EVENT_BATCH: u8 = 1;
    pub const STACKS: u8 = 2;
    pub const STACK: u8 = 3;
    pub const STRINGS: u8 = 4;
    pub const STRING: u8 = 5;
    pub const CPU_SAMPLES: u8 = 6;
    pub const CPU_SAMPLE: u8 = 7;
    pub const FREQUENCY: u8 = 8;
    pub const PROCS_CHANGE: u8 = 9;
    pub const PROC_START: u8 = 10;
    pub const PROC_STOP: u8 = 11;
    pub const PROC_STEAL: u8 = 12;
    pub const PROC_STATUS: u8 = 13;
    pub const GO_CREATE: u8 = 14;
    pub const GO_CREATE_SYSCALL: u8 = 15;
    pub const GO_START: u8 = 16;
    pub const GO_DESTROY: u8 = 17;
    pub const GO_DESTROY_SYSCALL: u8 = 18;
    pub const GO_STOP: u8 = 19;
    pub const GO_BLOCK: u8 = 20;
    pub const GO_UNBLOCK: u8 = 21;
    pub const GO_SYSCALL_BEGIN: u8 = 22;
    pub const GO_SYSCALL_END: u8 = 23;
    pub const GO_SYSCALL_END_BLOCKED: u8 = 24;
    pub const GO_STATUS: u8 = 25;
    pub const STW_BEGIN: u8 = 26;
    pub const STW_END: u8 = 27;
    pub const GC_ACTIVE: u8 = 28;
    pub const GC_BEGIN: u8 = 29;
    pub const GC_END: u8 = 30;
    pub const GC_SWEEP_ACTIVE: u8 = 31;
    pub const GC_SWEEP_BEGIN: u8 = 32;
    pub const GC_SWEEP_END: u8 = 33;
    pub const GC_MARK_ASSIST_ACTIVE: u8 = 34;
    pub const GC_MARK_ASSIST_BEGIN: u8 = 35;
    pub const GC_MARK_ASSIST_END: u8 = 36;
    pub const HEAP_ALLOC: u8 = 37;
    pub const HEAP_GOAL: u8 = 38;
    pub const GO_LABEL: u8 = 39;
    pub const USER_TASK_BEGIN: u8 = 40;
    pub const USER_TASK_END: u8 = 41;
    pub const USER_REGION_BEGIN: u8 = 42;
    pub const USER_REGION_END: u8 = 43;
    pub const USER_LOG: u8 = 44;
    pub const GO_SWITCH: u8 = 45;
    pub const GO_SWITCH_DESTROY: u8 = 46;
    pub const GO_CREATE_BLOCKED: u8 = 47;
    pub const GO_STATUS_STACK: u8 = 48;
    pub const EXPERIMENTAL_BATCH: u8 = 49;
    pub const SYNC: u8 = 50;
    pub const CLOCK_SNAPSHOT: u8 = 51;
    pub const END_OF_GENERATION: u8 = 52;
    /// First experimental event type (heap span, object and goroutine stack events). They are
    /// written into experimental batches, which we skip; their arities are still known so that
    /// a stray one in a regular batch can be stepped over.
    pub const FIRST_EXPERIMENTAL: u8 = 128;
    pub const LAST_EXPERIMENTAL: u8 = 136;
}

/// Trace format versions that share the current wire format. The number is Go's minor version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version(pub u32);

impl Version {
    /// Go 1.22: the first version of this format.
    pub const GO122: Version = Version(22);
    /// Go 1.25: frequency and clock snapshot travel in a sync batch.
    pub const GO125: Version = Version(25);
    /// Go 1.26: generations end with an explicit end-of-generation byte.
    pub const GO126: Version = Version(26);
    /// The newest version whose event table we know.
    pub const NEWEST_KNOWN: Version = Version(26);

    /// The highest regular (non-experimental) event type this version writes.
    pub const fn max_event(self) -> u8 {
        match self.0 {
            ..=22 => ev::USER_LOG,
            23 | 24 => ev::EXPERIMENTAL_BATCH,
            25 => ev::CLOCK_SNAPSHOT,
            _ => ev::END_OF_GENERATION,
        }
    }

    /// What each event type is in an event batch of this version (see [`EventTable`]).
    pub fn event_table(self) -> &'static EventTable {
        const GO122: EventTable = EventTable::of(Version(22));
        const GO123: EventTable = EventTable::of(Version(23));
        const GO125: EventTable = EventTable::of(Version(25));
        const GO126: EventTable = EventTable::of(Version(26));
        // A table differs from another only by the newest event type it knows.
        match self.max_event() {
            ev::USER_LOG => &GO122,
            ev::EXPERIMENTAL_BATCH => &GO123,
            ev::CLOCK_SNAPSHOT => &GO125,
            _ => &GO126,
        }
    }
}

/// For each event type, its count of arguments (timestamp delta first) in an event batch, or
/// why it cannot be there (one of the `NOT_*` codes): one load an event where the checks it
/// stands for (version, experimental range, arity, clock snapshot) were a third of decoding.
pub(crate) struct EventTable([u8; 256]);

impl EventTable {
    /// A type this version does not write.
    pub const NOT_KNOWN: u8 = 0xf0;
    /// A structural event (batch and table contents), which has no place among timed events.
    pub const NOT_TIMED: u8 = 0xf1;
    /// A clock snapshot, which belongs in a sync batch.
    pub const NOT_HERE: u8 = 0xf2;

    // Evaluated at compile time only, where an index out of range fails the build; `get_mut`
    // is not available in a const fn.
    #[allow(clippy::indexing_slicing)]
    const fn of(version: Version) -> Self {
        let mut table = [0u8; 256];
        let mut typ = 0usize;
        while typ < 256 {
            let t = typ as u8;
            let experimental = t >= ev::FIRST_EXPERIMENTAL && t <= ev::LAST_EXPERIMENTAL;
            table[typ] = if t > version.max_event() && !experimental {
                Self::NOT_KNOWN
            } else if t == ev::CLOCK_SNAPSHOT {
                Self::NOT_HERE
            } else {
                match timed_arg_count(t) {
                    Some(n) => n as u8,
                    None => Self::NOT_TIMED,
                }
            };
            typ += 1;
        }
        Self(table)
    }

    /// The count of arguments of `typ`, or a `NOT_*` code.
    #[inline]
    pub fn get(&self, typ: u8) -> u8 {
        self.0.get(usize::from(typ)).copied().unwrap_or(Self::NOT_KNOWN)
    }

    /// The count of arguments (timestamp delta first) of an event of type `typ` in an event
    /// batch, or why it cannot be there.
    #[inline]
    pub fn args(&self, typ: u8) -> Result<usize, &'static str> {
        match self.get(typ) {
            Self::NOT_KNOWN => Err("unknown event type; the rest of the batch is skipped"),
            Self::NOT_TIMED => {
                Err("structural event inside an event batch; the rest of the batch is skipped")
            }
            Self::NOT_HERE => Err("clock snapshot outside a sync batch; the rest of the batch is skipped"),
            n => Ok(usize::from(n)),
        }
    }
}

/// Number of arguments (timestamp delta first) of each timed event type, or `None` for
/// structural and unknown types. Experimental event types are included.
pub(crate) const fn timed_arg_count(typ: u8) -> Option<usize> {
    // The table reads like the format's event list; naming the module on every entry would
    // hide it.
    #[allow(clippy::wildcard_imports)]
    use ev::*;
    let n = match typ {
        PROC_STOP
        | GO_DESTROY
        | GO_DESTROY_SYSCALL
        | GO_SYSCALL_END
        | GO_SYSCALL_END_BLOCKED
        | STW_END
        | GC_MARK_ASSIST_END => 1,
        GO_CREATE_SYSCALL
        | GC_ACTIVE
        | GC_END
        | GC_SWEEP_ACTIVE
        | GC_SWEEP_BEGIN
        | GC_MARK_ASSIST_ACTIVE
        | GC_MARK_ASSIST_BEGIN
        | HEAP_ALLOC
        | HEAP_GOAL
        | GO_LABEL => 2,
        PROCS_CHANGE | PROC_START | PROC_STATUS | GO_START | GO_STOP | GO_BLOCK | GO_SYSCALL_BEGIN
        | STW_BEGIN | GC_BEGIN | GC_SWEEP_END | USER_TASK_END | GO_SWITCH | GO_SWITCH_DESTROY => 3,
        // Experimental (128-136): Span, SpanAlloc (4); SpanFree (2); HeapObject,
        // HeapObjectAlloc (3); HeapObjectFree (2); GoroutineStack, GoroutineStackAlloc (3);
        // GoroutineStackFree (2).
        PROC_STEAL | GO_CREATE | GO_UNBLOCK | GO_STATUS | USER_REGION_BEGIN | USER_REGION_END
        | GO_CREATE_BLOCKED | CLOCK_SNAPSHOT | 128 | 129 => 4,
        USER_TASK_BEGIN | USER_LOG | GO_STATUS_STACK => 5,
        130 | 133 | 136 => 2,
        131 | 132 | 134 | 135 => 3,
        _ => return None,
    };
    Some(n)
}

/// The header every trace starts with: `go 1.N trace` padded with NULs to 16 bytes.
pub(crate) const HEADER_LEN: usize = 16;

/// What the first bytes of a file say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Header {
    /// A trace header naming Go 1.N.
    Go(u32),
    /// Not a trace header.
    NotATrace,
    /// Too few bytes to tell.
    Short,
}

/// Reads the header from the start of `bytes`.
pub(crate) fn header(bytes: &[u8]) -> Header {
    const PREFIX: &[u8] = b"go 1.";
    const SUFFIX: &[u8] = b" trace";
    let probe = bytes.get(..bytes.len().min(HEADER_LEN)).unwrap_or(bytes);
    let common = probe.len().min(PREFIX.len());
    if probe.get(..common) != PREFIX.get(..common) {
        return Header::NotATrace;
    }
    if probe.len() < HEADER_LEN {
        // Enough to rule out, not enough to accept: the version and padding are missing.
        return match probe.get(PREFIX.len()..) {
            Some(rest) if !rest.iter().all(|b| b.is_ascii_digit() || b" trace\0".contains(b)) => {
                Header::NotATrace
            }
            _ => Header::Short,
        };
    }
    let rest = probe.get(PREFIX.len()..).unwrap_or_default();
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 3 {
        return Header::NotATrace;
    }
    let after = rest.get(digits..).unwrap_or_default();
    if !after.starts_with(SUFFIX) || !after.get(SUFFIX.len()..).unwrap_or_default().iter().all(|&b| b == 0) {
        return Header::NotATrace;
    }
    let minor =
        rest.get(..digits).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| d.parse::<u32>().ok());
    minor.map_or(Header::NotATrace, Header::Go)
}

/// Why a varint could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VarintError {
    /// The input ended inside the number.
    Truncated,
    /// More than 64 bits.
    Overflow,
}

/// Reads an unsigned LEB128 number from `buf` at `*pos`, advancing `*pos`.
#[inline]
pub(crate) fn uvarint(buf: &[u8], pos: &mut usize) -> Result<u64, VarintError> {
    // Most numbers in a trace (event types' arguments, timestamp deltas of busy threads, ids)
    // fit in one byte; this is the hottest function of a read.
    if let Some(&b) = buf.get(*pos)
        && b < 0x80
    {
        *pos += 1;
        return Ok(u64::from(b));
    }
    // The rest (timestamp deltas, goroutine ids, sequence numbers and stacks often take two or
    // three bytes) mostly end within the next 8 bytes: read as one word, without a loop.
    if let Some(word) = buf.get(*pos..).and_then(<[u8]>::first_chunk::<8>) {
        let word = u64::from_le_bytes(*word);
        let ends = !word & 0x8080_8080_8080_8080;
        if ends != 0 {
            let len = ends.trailing_zeros() / 8 + 1;
            *pos += len as usize;
            return Ok(compact_groups(word & (u64::MAX >> (64 - 8 * len))));
        }
    }
    uvarint_long(buf, pos)
}

/// Where the `n` varints from `pos` on end, found a word at a time by their last bytes (the
/// bytes without the high bit), without reading their values; `None` near the end of `buf`,
/// where [`uvarint`] must read them. Unlike it, this does not check a number's length.
#[inline]
pub(crate) fn skip_uvarints(buf: &[u8], pos: usize, n: u32) -> Option<usize> {
    let mut at = pos;
    let mut left = n;
    while left > 0 {
        let word = u64::from_le_bytes(*buf.get(at..)?.first_chunk::<8>()?);
        let mut ends = !word & 0x8080_8080_8080_8080;
        let here = ends.count_ones();
        if here >= left {
            for _ in 1..left {
                ends &= ends - 1;
            }
            return Some(at + (ends.trailing_zeros() / 8 + 1) as usize);
        }
        left -= here;
        at += 8;
    }
    Some(at)
}

/// The 7-bit groups of up to 8 varint bytes (in a little-endian word), joined into one number:
/// the low bytes' groups move down in pairs, then in fours, then the two halves.
#[inline]
fn compact_groups(word: u64) -> u64 {
    let x = word & 0x7f7f_7f7f_7f7f_7f7f;
    let x = (x & 0x007f_007f_007f_007f) | ((x & 0x7f00_7f00_7f00_7f00) >> 1);
    let x = (x & 0x0000_3fff_0000_3fff) | ((x & 0x3fff_0000_3fff_0000) >> 2);
    (x & 0x0000_0000_0fff_ffff) | ((x & 0x0fff_ffff_0000_0000) >> 4)
}

/// [`uvarint`] a byte at a time: near the end of the input, and for numbers of 9 or 10 bytes.
#[inline(never)]
fn uvarint_long(buf: &[u8], pos: &mut usize) -> Result<u64, VarintError> {
    let mut value: u64 = 0;
    let mut shift = 0u32;
    let mut i = *pos;
    loop {
        let Some(&b) = buf.get(i) else {
            return Err(VarintError::Truncated);
        };
        i += 1;
        if shift == 63 && b > 1 {
            return Err(VarintError::Overflow);
        }
        value |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            *pos = i;
            return Ok(value);
        }
        shift += 7;
        if shift > 63 {
            return Err(VarintError::Overflow);
        }
    }
}

/// Appends `value` as an unsigned LEB128 number.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_recognises_versions_and_rejects_other_bytes() {
        assert_eq!(header(b"go 1.26 trace\0\0\0rest"), Header::Go(26));
        assert_eq!(header(b"go 1.19 trace\0\0\0"), Header::Go(19));
        assert_eq!(header(b"go 1.5 trace\0\0\0\0"), Header::Go(5));
        assert_eq!(header(b"go 1.26 tr"), Header::Short);
        assert_eq!(header(b"go"), Header::Short);
        assert_eq!(header(b"goroutine 1 [running]:\n"), Header::NotATrace);
        assert_eq!(header(b"go 1.26 trace!\0\0"), Header::NotATrace);
        assert_eq!(header(b"\x1f\x8b"), Header::NotATrace);
        assert_eq!(header(b"go 1.x trace\0\0\0\0"), Header::NotATrace);
    }

    #[test]
    fn uvarint_round_trips_and_rejects_bad_input() {
        for v in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            let mut buf = Vec::new();
            put_uvarint(&mut buf, v);
            let mut pos = 0;
            assert_eq!(uvarint(&buf, &mut pos), Ok(v));
            assert_eq!(pos, buf.len());
        }
        let mut pos = 0;
        assert_eq!(uvarint(&[0x80, 0x80], &mut pos), Err(VarintError::Truncated));
        assert_eq!(pos, 0);
        let eleven = [0xffu8; 11];
        assert_eq!(uvarint(&eleven, &mut pos), Err(VarintError::Overflow));
        let mut pos = 0;
        assert_eq!(
            uvarint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02], &mut pos),
            Err(VarintError::Overflow)
        );
    }

    /// The one-byte-at-a-time reading, as the format defines a varint, for comparison.
    fn uvarint_bytewise(buf: &[u8], pos: &mut usize) -> Result<u64, VarintError> {
        uvarint_long(buf, pos)
    }

    #[test]
    fn uvarint_reads_words_as_bytes_are_read() {
        // Every length from 1 to 10 bytes, at every distance from the end of the input, and
        // inputs that stop mid-number; the word-at-a-time path must agree with the bytewise.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut values = vec![0u64, 1, 127, 128, 16_383, 16_384, (1 << 56) - 1, 1 << 56, u64::MAX];
        for bits in 0..64 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            values.push(x >> bits);
        }
        for &v in &values {
            let mut enc = Vec::new();
            put_uvarint(&mut enc, v);
            for pad in 0..10 {
                let mut buf = enc.clone();
                buf.extend(std::iter::repeat_n(0x80u8, pad));
                for cut in 0..=buf.len() {
                    let part = &buf[..cut];
                    let (mut a, mut b) = (0, 0);
                    assert_eq!(
                        uvarint(part, &mut a),
                        uvarint_bytewise(part, &mut b),
                        "{v} pad {pad} cut {cut}"
                    );
                    assert_eq!(a, b, "{v} pad {pad} cut {cut}");
                }
            }
        }
        // Non-minimal encodings (a zero group last) read as the bytewise reading reads them.
        for buf in [&[0x80u8, 0x00, 1, 2, 3, 4, 5, 6][..], &[0xff, 0xff, 0x80, 0x00, 0, 0, 0, 0, 0]] {
            let (mut a, mut b) = (0, 0);
            assert_eq!((uvarint(buf, &mut a), a), (uvarint_bytewise(buf, &mut b), b));
        }
    }

    #[test]
    fn skipping_varints_ends_where_reading_them_ends() {
        // Runs of 1 to 5 numbers of every length up to 10 bytes, followed by more bytes (the
        // word reads past them) or not (then it leaves them to `uvarint`).
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for round in 0..2000 {
            let mut buf = vec![0xaau8; round % 3];
            let pos = buf.len();
            let n = 1 + round % 5;
            for _ in 0..n {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                put_uvarint(&mut buf, x >> (x % 64));
            }
            let mut read = pos;
            for _ in 0..n {
                uvarint(&buf, &mut read).expect("a number just written");
            }
            let tail = round % 11;
            buf.extend(std::iter::repeat_n(0x81u8, tail));
            match skip_uvarints(&buf, pos, n as u32) {
                Some(end) => assert_eq!(end, read, "round {round}"),
                None => assert!(buf.len() < read + 8, "round {round}: gave up with room to read"),
            }
        }
        assert_eq!(skip_uvarints(&[1, 2, 3, 4, 5, 6, 7, 8, 9], 0, 0), Some(0));
    }

    #[test]
    fn event_tables_say_what_the_checks_say() {
        for minor in 22..=27 {
            let version = Version(minor);
            let table = version.event_table();
            for typ in 0..=255u8 {
                let experimental = (ev::FIRST_EXPERIMENTAL..=ev::LAST_EXPERIMENTAL).contains(&typ);
                let want = if typ > version.max_event() && !experimental {
                    EventTable::NOT_KNOWN
                } else if typ == ev::CLOCK_SNAPSHOT {
                    EventTable::NOT_HERE
                } else {
                    timed_arg_count(typ).map_or(EventTable::NOT_TIMED, |n| n as u8)
                };
                assert_eq!(table.get(typ), want, "go 1.{minor} type {typ}");
            }
        }
    }

    #[test]
    fn arities_cover_every_timed_event() {
        for typ in ev::PROCS_CHANGE..=ev::GO_STATUS_STACK {
            assert!(timed_arg_count(typ).is_some(), "event {typ}");
        }
        assert_eq!(timed_arg_count(ev::CLOCK_SNAPSHOT), Some(4));
        assert_eq!(timed_arg_count(ev::STRING), None);
        for typ in ev::FIRST_EXPERIMENTAL..=ev::LAST_EXPERIMENTAL {
            assert!(timed_arg_count(typ).is_some(), "experimental {typ}");
        }
    }
}
