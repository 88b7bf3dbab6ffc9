//! A small JSON scanner over borrowed bytes, made for trace files: it reads one value at a time
//! at a byte offset, borrows strings from the input (unescaping only the rare strings that need
//! it), skips values it is not asked about without building them, and turns decimal
//! microseconds into integer nanoseconds without going through `f64`.
//!
//! It is lenient where that costs nothing (raw control characters inside strings, a `+` in
//! numbers) and never panics: every error is a small `Copy` value with the byte offset.

use std::borrow::Cow;

/// Why the scanner stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// The input ended inside a value: a cut-off file.
    Eof,
    /// A byte that cannot start or continue the value expected here.
    Unexpected(u8),
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// A scanner error at a byte offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// What went wrong.
    pub kind: JsonErrorKind,
    /// Byte offset in the scanned slice.
    pub offset: usize,
}

impl std::fmt::Display for JsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            JsonErrorKind::Eof => write!(f, "input ends inside a JSON value"),
            JsonErrorKind::Unexpected(b) if b.is_ascii_graphic() => {
                write!(f, "unexpected {:?} in JSON", char::from(b))
            }
            JsonErrorKind::Unexpected(b) => write!(f, "unexpected byte 0x{b:02x} in JSON"),
            JsonErrorKind::TooDeep => write!(f, "JSON nested more than {MAX_DEPTH} levels"),
        }
    }
}

/// Deepest nesting `skip_value` follows; deeper input is an error rather than a stack of
/// counters growing without bound (the skip itself is iterative).
pub const MAX_DEPTH: u32 = 10_000;

/// Bytes that change what `skip_value` is inside: strings and brackets.
// Indexing in a constant is checked when the crate is built; it cannot fail at run time.
#[allow(clippy::indexing_slicing)]
static STRUCTURAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = matches!(i as u8, b'"' | b'{' | b'[' | b'}' | b']');
        i += 1;
    }
    t
};

/// Strings up to this long are scanned a word at a time before the vectorised search.
const SHORT_STRING: usize = 64;

/// The first `"` or `\\` in `bytes[from..from + limit]`, eight bytes at a time (SWAR).
#[allow(clippy::inline_always)] // part of `Cursor::string`'s inlined fast path
#[inline(always)]
fn find_quote_or_backslash(bytes: &[u8], from: usize, limit: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let end = from.saturating_add(limit).min(bytes.len());
    let mut i = from;
    while i + 8 <= end {
        let word = u64::from_le_bytes(bytes.get(i..i + 8)?.try_into().ok()?);
        let quote = word ^ (ONES * u64::from(b'"'));
        let slash = word ^ (ONES * u64::from(b'\\'));
        // A byte is zero in `quote` or `slash` where the word has a quote or a backslash; the
        // lowest flagged byte is always exact.
        let hits = (quote.wrapping_sub(ONES) & !quote | slash.wrapping_sub(ONES) & !slash) & HIGH;
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    bytes.get(i..end)?.iter().position(|&b| b == b'"' || b == b'\\').map(|p| i + p)
}

/// A JSON string as it appears in the input, between its quotes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JStr<'a> {
    /// The bytes between the quotes, escapes not yet decoded.
    pub raw: &'a [u8],
    /// Whether `raw` contains a backslash escape.
    pub escaped: bool,
}

impl<'a> JStr<'a> {
    /// The decoded text: borrowed when there is nothing to decode, owned otherwise. Invalid
    /// UTF-8 and broken escapes become U+FFFD.
    pub fn text(self) -> Cow<'a, str> {
        if !self.escaped {
            return match std::str::from_utf8(self.raw) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(String::from_utf8_lossy(self.raw).into_owned()),
            };
        }
        Cow::Owned(unescape(self.raw))
    }

    /// Whether the raw text equals `s` (no escapes on either side).
    pub fn is(self, s: &str) -> bool {
        !self.escaped && self.raw == s.as_bytes()
    }
}

fn unescape(raw: &[u8]) -> String {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let Some(&e) = raw.get(i + 1) else {
            out.extend_from_slice("\u{fffd}".as_bytes());
            break;
        };
        i += 2;
        let simple = match e {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            continue;
        }
        if e != b'u' {
            out.extend_from_slice("\u{fffd}".as_bytes());
            continue;
        }
        let Some(hi) = hex4(raw.get(i..i + 4)) else {
            out.extend_from_slice("\u{fffd}".as_bytes());
            continue;
        };
        i += 4;
        let code = if (0xD800..0xDC00).contains(&hi) {
            // A high surrogate must be followed by `\uDC00`-`\uDFFF`.
            let lo = (raw.get(i) == Some(&b'\\') && raw.get(i + 1) == Some(&b'u'))
                .then(|| hex4(raw.get(i + 2..i + 6)))
                .flatten()
                .filter(|lo| (0xDC00..0xE000).contains(lo));
            match lo {
                Some(lo) => {
                    i += 6;
                    0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                }
                None => 0xFFFD,
            }
        } else {
            hi
        };
        let c = char::from_u32(code).unwrap_or('\u{fffd}');
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

fn hex4(digits: Option<&[u8]>) -> Option<u32> {
    let digits = digits?;
    if digits.len() != 4 {
        return None;
    }
    digits.iter().try_fold(0u32, |acc, &d| Some(acc * 16 + char::from(d).to_digit(16)?))
}

/// What kind of value starts at a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `{`
    Object,
    /// `[`
    Array,
    /// `"`
    String,
    /// `-` or a digit
    Number,
    /// `true`, `false`
    Bool,
    /// `null`
    Null,
}

/// A position in a byte slice, moved forward by reading JSON.
#[derive(Clone, Copy, Debug)]
pub struct Cursor<'a> {
    /// The whole input.
    pub bytes: &'a [u8],
    /// Current offset.
    pub pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at `pos`.
    pub fn new(bytes: &'a [u8], pos: usize) -> Self {
        Self { bytes, pos }
    }

    fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError { kind, offset: self.pos }
    }

    fn unexpected(&self) -> JsonError {
        match self.bytes.get(self.pos) {
            Some(&b) => self.err(JsonErrorKind::Unexpected(b)),
            None => self.err(JsonErrorKind::Eof),
        }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    #[inline]
    pub fn skip_ws(&mut self) -> Option<u8> {
        while let Some(&b) = self.bytes.get(self.pos) {
            if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                return Some(b);
            }
        }
        None
    }

    /// Consumes `b` after optional whitespace, or fails.
    #[inline]
    pub fn expect(&mut self, b: u8) -> Result<(), JsonError> {
        if self.skip_ws() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// The kind of the value at the cursor (after whitespace).
    pub fn kind(&mut self) -> Result<Kind, JsonError> {
        match self.skip_ws() {
            Some(b'{') => Ok(Kind::Object),
            Some(b'[') => Ok(Kind::Array),
            Some(b'"') => Ok(Kind::String),
            Some(b'-' | b'0'..=b'9') => Ok(Kind::Number),
            Some(b't' | b'f') => Ok(Kind::Bool),
            Some(b'n') => Ok(Kind::Null),
            _ => Err(self.unexpected()),
        }
    }

    /// Reads a string; the cursor must be at its opening quote (after whitespace).
    // Inlined into every caller: keys and short values are most of a trace, and the call
    // overhead was a third of their cost (measured with callgrind).
    #[allow(clippy::inline_always)]
    #[inline(always)]
    pub fn string(&mut self) -> Result<JStr<'a>, JsonError> {
        if self.skip_ws() != Some(b'"') {
            return Err(self.unexpected());
        }
        let start = self.pos + 1;
        // Keys, phases and most names are short: eight bytes at a time finds their end sooner
        // than a vector search can be set up.
        if let Some(i) = find_quote_or_backslash(self.bytes, start, SHORT_STRING)
            && let Some(b'"') = self.bytes.get(i)
        {
            self.pos = i + 1;
            return Ok(JStr { raw: self.bytes.get(start..i).unwrap_or_default(), escaped: false });
        }
        self.long_string(start)
    }

    /// The rest of [`Cursor::string`]: long strings and strings with escapes.
    #[cold]
    #[inline(never)]
    fn long_string(&mut self, start: usize) -> Result<JStr<'a>, JsonError> {
        let mut at = start;
        let mut escaped = false;
        loop {
            let rest = self.bytes.get(at..).unwrap_or_default();
            match memchr::memchr2(b'"', b'\\', rest) {
                None => {
                    self.pos = self.bytes.len();
                    return Err(self.err(JsonErrorKind::Eof));
                }
                Some(i) => {
                    at += i;
                    if self.bytes.get(at) == Some(&b'"') {
                        let raw = self.bytes.get(start..at).unwrap_or_default();
                        self.pos = at + 1;
                        return Ok(JStr { raw, escaped });
                    }
                    escaped = true;
                    at += 2;
                    if at > self.bytes.len() {
                        self.pos = self.bytes.len();
                        return Err(self.err(JsonErrorKind::Eof));
                    }
                }
            }
        }
    }

    /// Reads the text of a number without interpreting it.
    #[inline]
    pub fn number_raw(&mut self) -> Result<&'a [u8], JsonError> {
        self.skip_ws();
        let start = self.pos;
        while let Some(&b) = self.bytes.get(self.pos) {
            if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E') {
                self.pos += 1;
            } else {
                break;
            }
        }
        if self.pos == start {
            return Err(self.unexpected());
        }
        if self.pos == self.bytes.len() {
            // A number running into the end may have been cut: `12` of `123`.
            return Err(self.err(JsonErrorKind::Eof));
        }
        Ok(self.bytes.get(start..self.pos).unwrap_or_default())
    }

    /// Reads a number scaled by `scale` (see [`parse_scaled`]) in one pass over its digits:
    /// timestamps are most of a trace's numbers. Exponents and overflow take the slow path.
    #[inline]
    pub fn scaled_number(&mut self, scale: i64) -> Result<Option<i64>, JsonError> {
        self.skip_ws();
        if let Some((value, end)) = scaled_by_words(self.bytes, self.pos, scale) {
            self.pos = end;
            return Ok(value);
        }
        self.scaled_number_bytewise(scale)
    }

    /// [`Cursor::scaled_number`] a byte at a time, for what [`scaled_by_words`] leaves.
    fn scaled_number_bytewise(&mut self, scale: i64) -> Result<Option<i64>, JsonError> {
        let start = self.pos;
        let negative = self.bytes.get(self.pos) == Some(&b'-');
        if negative {
            self.pos += 1;
        }
        let mut int: i64 = 0;
        let mut ok = true;
        while let Some(&d) = self.bytes.get(self.pos) {
            if !d.is_ascii_digit() {
                break;
            }
            match int.checked_mul(10).and_then(|v| v.checked_add(i64::from(d - b'0'))) {
                Some(v) => int = v,
                None => ok = false,
            }
            self.pos += 1;
        }
        let mut frac: i64 = 0;
        let mut frac_scale: i64 = 1;
        let mut round_up = false;
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            let mut first_dropped = true;
            while let Some(&d) = self.bytes.get(self.pos) {
                if !d.is_ascii_digit() {
                    break;
                }
                if frac_scale < scale {
                    frac = frac * 10 + i64::from(d - b'0');
                    frac_scale *= 10;
                } else if first_dropped {
                    round_up = d >= b'5';
                    first_dropped = false;
                }
                self.pos += 1;
            }
        }
        match self.bytes.get(self.pos) {
            None => return Err(self.err(JsonErrorKind::Eof)),
            Some(b'e' | b'E' | b'+' | b'-') => ok = false,
            Some(_) => {}
        }
        if !ok {
            self.pos = start;
            return Ok(parse_scaled(self.number_raw()?, scale));
        }
        if self.pos == start + usize::from(negative) {
            return Err(self.unexpected());
        }
        let value = int
            .checked_mul(scale)
            .and_then(|v| v.checked_add(frac * (scale / frac_scale.max(1))))
            .and_then(|v| v.checked_add(i64::from(round_up)));
        Ok(value.map(|v| if negative { -v } else { v }))
    }

    /// Reads `true`, `false` or `null`; `null` reads as `None`.
    pub fn literal(&mut self) -> Result<Option<bool>, JsonError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        for (word, value) in [(&b"true"[..], Some(true)), (b"false", Some(false)), (b"null", None)] {
            if rest.starts_with(word) {
                self.pos += word.len();
                return Ok(value);
            }
            if word.starts_with(rest) && !rest.is_empty() {
                self.pos = self.bytes.len();
                return Err(self.err(JsonErrorKind::Eof));
            }
        }
        Err(self.unexpected())
    }

    /// Skips one value of any kind, returning the byte range it covered. Structure is
    /// followed (brackets, strings) but scalars are not validated: this is the fast path for
    /// everything nobody asked about.
    pub fn skip_value(&mut self) -> Result<std::ops::Range<usize>, JsonError> {
        let first = self.skip_ws().ok_or_else(|| self.err(JsonErrorKind::Eof))?;
        let start = self.pos;
        match first {
            b'"' => {
                self.string()?;
            }
            b'{' | b'[' => self.skip_container()?,
            b'-' | b'0'..=b'9' => {
                self.number_raw()?;
            }
            b't' | b'f' | b'n' => {
                self.literal()?;
            }
            _ => return Err(self.unexpected()),
        }
        Ok(start..self.pos)
    }

    fn skip_container(&mut self) -> Result<(), JsonError> {
        let mut depth = 0u32;
        loop {
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            // Jump to the next byte that matters; everything else inside a container is
            // scalars, separators and whitespace.
            let Some(i) = rest.iter().position(|&b| STRUCTURAL.get(usize::from(b)) == Some(&true)) else {
                self.pos = self.bytes.len();
                return Err(self.err(JsonErrorKind::Eof));
            };
            self.pos += i;
            match rest.get(i) {
                Some(b'"') => {
                    self.string()?;
                }
                Some(b'{' | b'[') => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(self.err(JsonErrorKind::TooDeep));
                    }
                    self.pos += 1;
                }
                _ => {
                    self.pos += 1;
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Iterates the keys of an object: call with the cursor at `{`; `f` is called with each
    /// key and must consume its value.
    pub fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, JStr<'a>) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        self.expect(b'{')?;
        if self.skip_ws() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let key = self.string()?;
            self.expect(b':')?;
            f(self, key)?;
            match self.skip_ws() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// Iterates the elements of an array: call with the cursor at `[`; `f` must consume each
    /// element.
    pub fn array(&mut self, mut f: impl FnMut(&mut Self) -> Result<(), JsonError>) -> Result<(), JsonError> {
        self.expect(b'[')?;
        if self.skip_ws() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            f(self)?;
            match self.skip_ws() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// Reads a number (or a numeric string) as an `i64`, truncating fractions.
    pub fn int(&mut self) -> Result<Option<i64>, JsonError> {
        Ok(match self.kind()? {
            Kind::Number => parse_scaled(self.number_raw()?, 1),
            Kind::String => parse_scaled(self.string()?.raw, 1),
            _ => {
                self.skip_value()?;
                None
            }
        })
    }

    /// Reads a number (or a numeric string) as an `f64`.
    pub fn float(&mut self) -> Result<Option<f64>, JsonError> {
        Ok(match self.kind()? {
            Kind::Number => parse_f64(self.number_raw()?),
            Kind::String => parse_f64(self.string()?.raw),
            Kind::Bool => self.literal()?.map(f64::from),
            _ => {
                self.skip_value()?;
                None
            }
        })
    }
}

/// Eight ASCII zeros.
const ZEROS: u64 = 0x3030_3030_3030_3030;

/// Powers of ten a run of up to eight digits is scaled by.
const POW10: [u64; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// How many of the eight bytes of `word` (the first in the input as the lowest) are ASCII
/// digits before the first that is not one.
#[allow(clippy::inline_always)] // part of `Cursor::scaled_number`'s fast path, as `digit_run`
#[inline(always)]
fn leading_digits(word: u64) -> usize {
    const HIGH_NIBBLES: u64 = 0xf0f0_f0f0_f0f0_f0f0;
    // A digit is 0x30-0x39: its high nibble is 3, and still 3 once 6 is added. A carry out of a
    // byte of 0xfa or more spoils only the bytes after it, which come after a non-digit.
    let not_digit =
        ((word & HIGH_NIBBLES) ^ ZEROS) | ((word.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES) ^ ZEROS);
    (not_digit.trailing_zeros() / 8) as usize
}

/// The value of the first `n` (at most 8) bytes of `word`, which are ASCII digits, the first
/// being the most significant.
#[allow(clippy::inline_always)] // as `leading_digits`
#[inline(always)]
fn digits_value(word: u64, n: usize) -> u64 {
    if n == 0 {
        return 0;
    }
    // The digits' values moved to the top of the word (what followed them shifted out, a
    // borrow from it included), behind zeros: eight digits.
    let v = word.wrapping_sub(ZEROS) << (8 * (8 - n.min(8)));
    // Pairs of digits, then fours, then the eight, each step one multiply.
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_ffff_0000_ffff;
    (v.wrapping_mul(10_000) + (v >> 32)) & 0xffff_ffff
}

/// The eight bytes at `at`, the first as the lowest.
#[allow(clippy::inline_always)] // as `leading_digits`
#[inline(always)]
fn word_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at.checked_add(8)?)?.try_into().ok()?))
}

/// A run of at most 16 digits at `at`: its length and the word it starts in; `None` for a
/// longer one, or one too near the end for whole words.
#[allow(clippy::inline_always)] // as `leading_digits`
#[inline(always)]
fn digit_run(bytes: &[u8], at: usize) -> Option<(usize, u64)> {
    let first = word_at(bytes, at)?;
    let n = leading_digits(first);
    if n < 8 {
        return Some((n, first));
    }
    let m = leading_digits(word_at(bytes, at + 8)?);
    (m < 8).then_some((8 + m, first))
}

/// The value of a run of `len` (at most 16) digits at `at` that starts with `first`.
#[allow(clippy::inline_always)] // as `leading_digits`
#[inline(always)]
fn run_value(bytes: &[u8], at: usize, len: usize, first: u64) -> Option<u64> {
    if len <= 8 {
        return Some(digits_value(first, len));
    }
    let rest = len - 8;
    Some(digits_value(first, 8) * POW10.get(rest)? + digits_value(word_at(bytes, at + 8)?, rest))
}

/// [`Cursor::scaled_number`] of the number at `at`, eight digits at a time: the value and
/// where the number ends, or `None` where the bytewise reading must decide (no digit before
/// the point or none after it, more than 16 digits in either part, an exponent, a scale that is
/// not 1 or 1000, or fewer than 8 bytes left past a run). Same result as that reading, which
/// keeps as many fraction digits as `scale` has zeros and rounds half up on the next one.
#[allow(clippy::inline_always)] // as `leading_digits`
#[inline(always)]
fn scaled_by_words(bytes: &[u8], at: usize, scale: i64) -> Option<(Option<i64>, usize)> {
    let kept = match scale {
        1 => 0,
        1000 => 3,
        _ => return None,
    };
    let negative = bytes.get(at) == Some(&b'-');
    let int_at = at + usize::from(negative);
    let (int_len, first) = digit_run(bytes, int_at)?;
    if int_len == 0 {
        return None;
    }
    let int = run_value(bytes, int_at, int_len, first)?;
    let mut end = int_at + int_len;
    let mut frac = 0;
    let mut round_up = false;
    if bytes.get(end) == Some(&b'.') {
        let frac_at = end + 1;
        let (frac_len, first) = digit_run(bytes, frac_at)?;
        if frac_len == 0 {
            return None;
        }
        // The kept digits, as many zeros after them as were not written.
        let written = frac_len.min(kept);
        frac = digits_value(first, written) * POW10.get(kept - written)?;
        round_up = frac_len > kept && bytes.get(frac_at + kept).is_some_and(|&d| d >= b'5');
        end = frac_at + frac_len;
    }
    if matches!(bytes.get(end), None | Some(b'e' | b'E' | b'+' | b'-')) {
        return None;
    }
    let value = i64::try_from(int)
        .ok()
        .and_then(|v| v.checked_mul(scale))
        .and_then(|v| v.checked_add(i64::try_from(frac).ok()?))
        .and_then(|v| v.checked_add(i64::from(round_up)));
    Some((value.map(|v| if negative { -v } else { v }), end))
}

/// Parses a decimal number and multiplies it by `scale` exactly where it can: `12.3456` with
/// scale 1000 is 12345.6 → 12346 (rounded half away from zero). Exponents and overflow fall
/// back to `f64`; text that is no number is `None`.
pub fn parse_scaled(raw: &[u8], scale: i64) -> Option<i64> {
    let (negative, digits) = match raw.first() {
        Some(b'-') => (true, raw.get(1..)?),
        Some(b'+') => (false, raw.get(1..)?),
        _ => (false, raw),
    };
    let mut int: i64 = 0;
    let mut i = 0;
    while let Some(&d) = digits.get(i) {
        if !d.is_ascii_digit() {
            break;
        }
        int = int.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
        i += 1;
    }
    let int_digits = i;
    // Fraction: keep as many digits as `scale` has zeros, round on the next.
    let mut frac: i64 = 0;
    let mut frac_scale: i64 = 1;
    let mut round_up = false;
    let mut frac_digits = 0;
    if digits.get(i) == Some(&b'.') {
        i += 1;
        let mut first_dropped = true;
        while let Some(&d) = digits.get(i) {
            if !d.is_ascii_digit() {
                break;
            }
            if frac_scale < scale {
                frac = frac * 10 + i64::from(d - b'0');
                frac_scale *= 10;
            } else if first_dropped {
                round_up = d >= b'5';
                first_dropped = false;
            }
            frac_digits += 1;
            i += 1;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i != digits.len() {
        // An exponent or junk: let the float parser decide.
        let value = parse_f64(raw)? * scale as f64;
        return (value.is_finite() && value.abs() < 9.2e18).then_some(value.round() as i64);
    }
    let frac_ns = frac * (scale / frac_scale.max(1));
    let mut value = int.checked_mul(scale)?.checked_add(frac_ns)?;
    if round_up {
        value = value.checked_add(1)?;
    }
    Some(if negative { -value } else { value })
}

/// Parses a number as `f64`.
pub fn parse_f64(raw: &[u8]) -> Option<f64> {
    std::str::from_utf8(raw).ok()?.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_numbers_are_exact() {
        assert_eq!(parse_scaled(b"2440296642.077", 1000), Some(2_440_296_642_077));
        assert_eq!(parse_scaled(b"0.27", 1000), Some(270));
        assert_eq!(parse_scaled(b"12", 1000), Some(12_000));
        assert_eq!(parse_scaled(b"-1.5", 1000), Some(-1_500));
        assert_eq!(parse_scaled(b"1.0005", 1000), Some(1_001));
        assert_eq!(parse_scaled(b"1.0004", 1000), Some(1_000));
        assert_eq!(parse_scaled(b"1e3", 1000), Some(1_000_000));
        assert_eq!(parse_scaled(b".5", 1000), Some(500));
        assert_eq!(parse_scaled(b"", 1000), None);
        assert_eq!(parse_scaled(b"-", 1000), None);
        assert_eq!(parse_scaled(b"abc", 1000), None);
        assert_eq!(parse_scaled(b"99999999999999999999", 1000), None);
        assert_eq!(parse_scaled(b"7.9", 1), Some(8));
    }

    #[test]
    fn one_pass_numbers_match_the_slow_path() {
        for text in [
            "2440296642.077",
            "0.27",
            "12",
            "-1.5",
            "1.0005",
            "1e3",
            "7",
            "-0",
            "12.34567",
            "1.5E-1",
            "99999999999999999999",
        ] {
            let with_end = format!("{text},");
            let mut c = Cursor::new(with_end.as_bytes(), 0);
            assert_eq!(c.scaled_number(1000).unwrap(), parse_scaled(text.as_bytes(), 1000), "{text}");
            assert_eq!(c.pos, text.len(), "{text}");
        }
        assert!(Cursor::new(b"-,", 0).scaled_number(1000).is_err());
        assert_eq!(Cursor::new(b"12", 0).scaled_number(1000).unwrap_err().kind, JsonErrorKind::Eof);
    }

    #[test]
    fn numbers_read_by_words_match_the_bytewise_reading() {
        let mut next = crate::testing::xorshift(0x2545_f491_4f6c_dd1d);
        let mut digits = |n: u64| (0..n).map(|_| char::from(b'0' + (next() % 10) as u8)).collect::<String>();
        let mut texts = Vec::new();
        for int_len in [0, 1, 2, 7, 8, 9, 15, 16, 17, 19, 20] {
            for frac_len in
                [None, Some(0), Some(1), Some(3), Some(4), Some(7), Some(8), Some(9), Some(16), Some(17)]
            {
                for sign in ["", "-", "+", "--"] {
                    for tail in ["", ",", "}", " ", "e5", "E-1", "+", "x", ",\"pid\": 1}"] {
                        let frac = frac_len.map(|n| format!(".{}", digits(n))).unwrap_or_default();
                        texts.push(format!("{sign}{}{frac}{tail}", digits(int_len)));
                    }
                }
            }
        }
        // Rounding on the first dropped digit, and fractions of every kept length.
        texts.extend(["1.0005,", "1.0004999,", "0.9995,", "9.9999999,", "0.5,", "0.4,"].map(str::to_owned));
        for text in &texts {
            for scale in [1, 1000, 7] {
                // The text alone, and with room after it for whole words.
                for pad in ["", "          ,          "] {
                    let input = format!("{text}{pad}");
                    let (mut words, mut bytewise) =
                        (Cursor::new(input.as_bytes(), 0), Cursor::new(input.as_bytes(), 0));
                    bytewise.skip_ws();
                    let (a, b) = (words.scaled_number(scale), bytewise.scaled_number_bytewise(scale));
                    assert_eq!(format!("{a:?}"), format!("{b:?}"), "{input:?} scale {scale}");
                    assert_eq!(words.pos, bytewise.pos, "{input:?} scale {scale}");
                }
            }
        }
    }

    #[test]
    fn words_of_digits_read_as_bytes_do() {
        let mut next = crate::testing::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let seed = next();
            // Mostly digits, sometimes any byte.
            let bytes: [u8; 8] = std::array::from_fn(|i| {
                let r = (seed >> (8 * i)) as u8;
                if r.is_multiple_of(5) { r } else { b'0' + r % 10 }
            });
            let word = u64::from_le_bytes(bytes);
            let n = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            assert_eq!(leading_digits(word), n, "{bytes:?}");
            for m in 0..=n {
                let want = bytes.get(..m).unwrap().iter().fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
                assert_eq!(digits_value(word, m), want, "{bytes:?} {m}");
            }
        }
    }

    #[test]
    fn strings_borrow_and_unescape() {
        let mut c = Cursor::new(br#" "plain" "a\"b\u00e9\ud83d\ude00\n" "bad\uZZ""#, 0);
        let s = c.string().unwrap();
        assert!(matches!(s.text(), Cow::Borrowed("plain")));
        let s = c.string().unwrap();
        assert_eq!(s.text(), "a\"b\u{e9}\u{1f600}\n");
        assert_eq!(c.string().unwrap().text(), "bad\u{fffd}ZZ");
        assert_eq!(c.string().unwrap_err().kind, JsonErrorKind::Eof);
        let mut c = Cursor::new(br#""cut \"#, 0);
        assert_eq!(c.string().unwrap_err().kind, JsonErrorKind::Eof);
    }

    #[test]
    fn word_search_finds_the_first_hit() {
        let text = b"abcdefgh\\ijklmnop\"qrstuvwxyz";
        for from in 0..text.len() {
            let want = text[from..].iter().position(|&b| b == b'"' || b == b'\\').map(|p| p + from);
            let want = want.filter(|&p| p < from + 16);
            assert_eq!(find_quote_or_backslash(text, from, 16), want, "from {from}");
        }
        assert_eq!(find_quote_or_backslash(b"\"\"", 0, 64), Some(0));
        assert_eq!(find_quote_or_backslash(b"\x01\x01\x01\x01\x01\x01\x01\"", 0, 64), Some(7));
        assert_eq!(find_quote_or_backslash(b"", 0, 64), None);
    }

    #[test]
    fn skip_follows_structure() {
        let text = br#"{"a":[1,{"b":"]}"}],"c":true} ,"#;
        let mut c = Cursor::new(text, 0);
        let r = c.skip_value().unwrap();
        assert_eq!(&text[r], &br#"{"a":[1,{"b":"]}"}],"c":true}"#[..]);
        let mut c = Cursor::new(br#"{"a":[1,2"#, 0);
        assert_eq!(c.skip_value().unwrap_err().kind, JsonErrorKind::Eof);
        let mut c = Cursor::new(b"tru", 0);
        assert_eq!(c.skip_value().unwrap_err().kind, JsonErrorKind::Eof);
        let mut c = Cursor::new(b"12", 0);
        assert_eq!(c.skip_value().unwrap_err().kind, JsonErrorKind::Eof);
        let deep = "[".repeat(20_000);
        let mut c = Cursor::new(deep.as_bytes(), 0);
        assert_eq!(c.skip_value().unwrap_err().kind, JsonErrorKind::TooDeep);
    }

    #[test]
    fn objects_and_arrays() {
        let mut c = Cursor::new(br#"{"x": [1, 2.5, "3"], "y": null}"#, 0);
        let mut sum = 0.0;
        let mut keys = Vec::new();
        c.object(|c, k| {
            keys.push(k.text().into_owned());
            if k.is("x") {
                c.array(|c| {
                    sum += c.float()?.unwrap_or(0.0);
                    Ok(())
                })
            } else {
                c.skip_value().map(|_| ())
            }
        })
        .unwrap();
        assert_eq!(keys, ["x", "y"]);
        assert!((sum - 6.5).abs() < 1e-9);
    }
}
