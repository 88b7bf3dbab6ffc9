//! One trace event, read from the input without copying: the fields the model needs, with
//! `args` and `stack` kept as byte ranges for whoever wants them later.

use std::ops::Range;

use super::json::{Cursor, JStr, JsonError, Kind, parse_scaled};

/// Nanoseconds per microsecond: `ts`, `dur`, `tts` and `tdur` are microseconds in every trace,
/// whatever `displayTimeUnit` says (that only changes how viewers print them).
pub const NS_PER_US: i64 = 1000;

/// An id as the input spells it: trace writers use numbers, decimal strings, `"0x1f"` hex
/// strings and arbitrary names interchangeably.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RawId<'a> {
    /// Absent.
    #[default]
    None,
    /// A JSON number, as written.
    Num(&'a [u8]),
    /// A JSON string.
    Str(JStr<'a>),
}

/// Bit set on keys made by hashing a non-numeric id, so they rarely meet a numeric id.
const HASHED: u64 = 1 << 63;

impl RawId<'_> {
    /// Whether there is an id.
    pub fn is_some(self) -> bool {
        !matches!(self, RawId::None)
    }

    /// A 64-bit key for matching: numbers and numeric strings (decimal or `0x` hex) by value,
    /// other strings by a hash of their bytes.
    pub fn key(self) -> u64 {
        match self {
            RawId::None => 0,
            RawId::Num(raw) => parse_scaled(raw, 1).map_or_else(|| hash(raw), |v| v as u64),
            RawId::Str(s) => numeric_key(s.raw).unwrap_or_else(|| hash(s.raw)),
        }
    }
}

fn numeric_key(raw: &[u8]) -> Option<u64> {
    if let Some(hex) = raw.strip_prefix(b"0x").or_else(|| raw.strip_prefix(b"0X")) {
        if hex.is_empty() || hex.len() > 16 {
            return None;
        }
        return hex.iter().try_fold(0u64, |acc, &d| Some(acc * 16 + u64::from(char::from(d).to_digit(16)?)));
    }
    if raw.is_empty() || raw.len() > 19 || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    raw.iter().try_fold(0u64, |acc, &d| acc.checked_mul(10)?.checked_add(u64::from(d - b'0')))
}

/// FNV-1a: tiny, stable across runs and platforms, good enough to tell names apart.
fn hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h | HASHED
}

/// How an async id is scoped (`id2`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IdScope {
    /// Plain `id`: shared by every process.
    #[default]
    Global,
    /// `id2.local`: private to the event's process.
    Local,
}

/// The fields of one event that the parser uses.
#[derive(Clone, Debug, Default)]
pub struct RawEvent<'a> {
    /// Phase byte (`B`, `X`, `b`, ...); 0 when absent or not a string.
    pub ph: u8,
    /// Event name.
    pub name: JStr<'a>,
    /// Categories, comma-separated as written.
    pub cat: JStr<'a>,
    /// Process id.
    pub pid: RawId<'a>,
    /// Thread id.
    pub tid: RawId<'a>,
    /// Timestamp.
    pub ts_ns: Option<i64>,
    /// Duration of `X` events.
    pub dur_ns: Option<i64>,
    /// Thread timestamp, as written (read only when a view asks: the model has no use for
    /// it, and skipping the conversion is measurably faster on big traces).
    pub tts: &'a [u8],
    /// Thread duration, as written.
    pub tdur: &'a [u8],
    /// Async, flow or object id (`id`, or `id2.local`/`id2.global`).
    pub id: RawId<'a>,
    /// Whether `id` is process-local.
    pub id_scope: IdScope,
    /// Extra id scope (`scope`).
    pub scope: JStr<'a>,
    /// Flow v2 binding (`bind_id`).
    pub bind_id: RawId<'a>,
    /// Flow v2: this slice receives a flow.
    pub flow_in: bool,
    /// Flow v2: this slice starts a flow.
    pub flow_out: bool,
    /// Flow binding point (`bp`: `"e"` binds to the enclosing slice).
    pub bp: JStr<'a>,
    /// Instant scope (`s`: `g`, `p`, `t`).
    pub s: u8,
    /// Byte range of `args`.
    pub args: Option<Range<usize>>,
    /// Stack frame id (`sf`) into `stackFrames`.
    pub sf: RawId<'a>,
    /// Byte range of an inline `stack` array.
    pub stack: Option<Range<usize>>,
    /// Byte range of the whole event object.
    pub range: Range<usize>,
}

impl RawEvent<'_> {
    /// Thread timestamp (`tts`).
    pub fn tts_ns(&self) -> Option<i64> {
        parse_scaled(self.tts, NS_PER_US)
    }

    /// Thread duration (`tdur`).
    pub fn tdur_ns(&self) -> Option<i64> {
        parse_scaled(self.tdur, NS_PER_US)
    }

    /// End of an `X` event (start when the duration is missing or negative).
    pub fn end_ns(&self) -> Option<i64> {
        let ts = self.ts_ns?;
        Some(ts.saturating_add(self.dur_ns.unwrap_or(0).max(0)))
    }
}

/// Reads one event object at the cursor. Unknown keys are skipped.
pub fn parse<'a>(c: &mut Cursor<'a>) -> Result<RawEvent<'a>, JsonError> {
    let mut ev = RawEvent::default();
    parse_into(c, &mut ev)?;
    Ok(ev)
}

/// Reads one event object at the cursor into `ev`, which it resets first: a reader of millions
/// of events keeps one instead of having each returned (a copy of 400 bytes, a tenth of the
/// read's instructions on a viztracer trace).
pub fn parse_into<'a>(c: &mut Cursor<'a>, ev: &mut RawEvent<'a>) -> Result<(), JsonError> {
    *ev = RawEvent::default();
    c.skip_ws();
    let start = c.pos;
    c.object(|c, key| {
        match key.raw {
            b"ph" => ev.ph = string_or_skip(c)?.raw.first().copied().unwrap_or(0),
            b"name" => ev.name = string_or_skip(c)?,
            b"cat" => ev.cat = string_or_skip(c)?,
            b"pid" => ev.pid = id(c)?,
            b"tid" => ev.tid = id(c)?,
            b"ts" => ev.ts_ns = time(c)?,
            b"dur" => ev.dur_ns = time(c)?,
            b"tts" => ev.tts = number_text(c)?,
            b"tdur" => ev.tdur = number_text(c)?,
            b"id" => ev.id = id(c)?,
            b"id2" => {
                if c.kind()? == Kind::Object {
                    c.object(|c, k| {
                        if k.is("local") {
                            ev.id = id(c)?;
                            ev.id_scope = IdScope::Local;
                        } else if k.is("global") {
                            ev.id = id(c)?;
                            ev.id_scope = IdScope::Global;
                        } else {
                            c.skip_value()?;
                        }
                        Ok(())
                    })?;
                } else {
                    ev.id = id(c)?;
                }
            }
            b"scope" => ev.scope = string_or_skip(c)?,
            b"bind_id" => ev.bind_id = id(c)?,
            b"flow_in" => ev.flow_in = flag(c)?,
            b"flow_out" => ev.flow_out = flag(c)?,
            b"bp" => ev.bp = string_or_skip(c)?,
            b"s" => ev.s = string_or_skip(c)?.raw.first().copied().unwrap_or(0),
            b"args" => ev.args = Some(c.skip_value()?),
            b"sf" => ev.sf = id(c)?,
            b"stack" => ev.stack = Some(c.skip_value()?),
            _ => {
                c.skip_value()?;
            }
        }
        Ok(())
    })?;
    ev.range = start..c.pos;
    Ok(())
}

fn string_or_skip<'a>(c: &mut Cursor<'a>) -> Result<JStr<'a>, JsonError> {
    if c.kind()? == Kind::String {
        c.string()
    } else {
        c.skip_value()?;
        Ok(JStr::default())
    }
}

fn id<'a>(c: &mut Cursor<'a>) -> Result<RawId<'a>, JsonError> {
    Ok(match c.kind()? {
        Kind::String => RawId::Str(c.string()?),
        Kind::Number => RawId::Num(c.number_raw()?),
        _ => {
            c.skip_value()?;
            RawId::None
        }
    })
}

fn time(c: &mut Cursor<'_>) -> Result<Option<i64>, JsonError> {
    Ok(match c.kind()? {
        Kind::Number => c.scaled_number(NS_PER_US)?,
        // Some writers quote their numbers.
        Kind::String => parse_scaled(c.string()?.raw, NS_PER_US),
        _ => {
            c.skip_value()?;
            None
        }
    })
}

fn number_text<'a>(c: &mut Cursor<'a>) -> Result<&'a [u8], JsonError> {
    Ok(match c.kind()? {
        Kind::Number => c.number_raw()?,
        Kind::String => c.string()?.raw,
        _ => {
            c.skip_value()?;
            &[]
        }
    })
}

fn flag(c: &mut Cursor<'_>) -> Result<bool, JsonError> {
    if c.kind()? == Kind::Bool {
        return Ok(c.literal()?.unwrap_or(false));
    }
    c.skip_value()?;
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> RawEvent<'_> {
        parse(&mut Cursor::new(text.as_bytes(), 0)).unwrap()
    }

    #[test]
    fn reads_fields_and_skips_the_rest() {
        let text = r#"{"pid":17516,"tid":"17516","ts":2437174373.5,"tts":104940,"ph":"X","cat":"v8","name":"V8.Deserialize","dur":12402,"args":{"a":[1,{"b":2}]},"extra":{"x":[]}}"#;
        let ev = one(text);
        assert_eq!(ev.ph, b'X');
        assert!(ev.name.is("V8.Deserialize"));
        assert!(ev.cat.is("v8"));
        assert_eq!(ev.pid.key(), 17516);
        assert_eq!(ev.tid.key(), 17516);
        assert_eq!(ev.ts_ns, Some(2_437_174_373_500));
        assert_eq!(ev.dur_ns, Some(12_402_000));
        assert_eq!(ev.tts_ns(), Some(104_940_000));
        assert_eq!(&text[ev.args.clone().unwrap()], r#"{"a":[1,{"b":2}]}"#);
        assert_eq!(ev.range, 0..text.len());
        assert_eq!(ev.end_ns(), Some(2_437_186_775_500));
    }

    #[test]
    fn ids_in_every_spelling() {
        assert_eq!(one(r#"{"id":"0x6b8d540"}"#).id.key(), 0x06b8_d540);
        assert_eq!(one(r#"{"id":42}"#).id.key(), 42);
        assert_eq!(one(r#"{"id":"42"}"#).id.key(), 42);
        let named = one(r#"{"id":"request-7"}"#).id.key();
        assert_ne!(named, 7);
        assert_eq!(named, one(r#"{"id":"request-7"}"#).id.key());
        let ev = one(r#"{"id2":{"local":"0x10"},"ph":"b"}"#);
        assert_eq!((ev.id.key(), ev.id_scope), (16, IdScope::Local));
        assert_eq!(one(r#"{"id2":{"global":7}}"#).id_scope, IdScope::Global);
    }

    #[test]
    fn odd_values_do_not_fail() {
        let ev = one(r#"{"ph":1,"name":null,"ts":"12.5","dur":null,"flow_in":true,"s":"g"}"#);
        assert_eq!(ev.ph, 0);
        assert_eq!(ev.name, JStr::default());
        assert_eq!(ev.ts_ns, Some(12_500));
        assert_eq!(ev.dur_ns, None);
        assert!(ev.flow_in);
        assert_eq!(ev.s, b'g');
    }
}
