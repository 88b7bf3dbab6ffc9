//! Numbers for people, in one place for the report and the app: counts with separators,
//! durations and byte sizes with sensible units, percentages that never round a non-zero share
//! to "0%".

use std::borrow::Cow;

/// What a flame tree's values count, so tooltips and summaries say "1,204 goroutines" or
/// "3.2 s of CPU" rather than a bare number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueUnit {
    /// A count of things; the string is the plural noun ("goroutines", "samples").
    Count(Cow<'static, str>),
    /// Nanoseconds of time (CPU profiles, block time).
    Nanoseconds,
    /// Bytes (heap profiles).
    Bytes,
}

impl Default for ValueUnit {
    fn default() -> Self {
        ValueUnit::Count(Cow::Borrowed("goroutines"))
    }
}

impl ValueUnit {
    /// Goroutine counts.
    pub fn goroutines() -> Self {
        ValueUnit::Count(Cow::Borrowed("goroutines"))
    }

    /// The unit of a pprof sample type (`type`/`unit` as the profile names them: `cpu` /
    /// `nanoseconds`, `inuse_space` / `bytes`, `samples` / `count`).
    pub fn from_pprof(type_name: &str, unit: &str) -> Self {
        match unit {
            "nanoseconds" | "ns" => ValueUnit::Nanoseconds,
            "bytes" | "B" => ValueUnit::Bytes,
            _ if type_name.is_empty() => ValueUnit::Count(Cow::Borrowed("samples")),
            _ => ValueUnit::Count(Cow::Owned(type_name.replace('_', " "))),
        }
    }

    /// `value` with its unit: "1,204 goroutines", "3.21 s", "12.0 MiB".
    pub fn format(&self, value: i64) -> String {
        match self {
            ValueUnit::Count(noun) => format!("{} {noun}", count(value)),
            ValueUnit::Nanoseconds => duration_ns(value),
            ValueUnit::Bytes => bytes(value),
        }
    }
}

/// An integer with thousands separators: `1,234,567`.
pub fn count(value: impl Into<i128>) -> String {
    let value: i128 = value.into();
    let digits = value.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if value < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed count with its sign: `+1,200`, `-3`, `0`.
pub fn delta(value: i64) -> String {
    if value > 0 { format!("+{}", count(value)) } else { count(value) }
}

const NS_PER_MIN: i64 = 60_000_000_000;

/// A dump's wait as people read it: dumps print whole minutes, so `< 1 min`, `7 min`,
/// `2 h 5 min`.
pub fn wait_minutes_ns(ns: i64) -> String {
    let minutes = ns / NS_PER_MIN;
    match minutes {
        m if m <= 0 => "< 1 min".to_owned(),
        m if m < 60 => format!("{m} min"),
        m => format!("{} h {} min", m / 60, m % 60),
    }
}

/// A dump group's wait range: `3–7 min`, `5 min`, or `—` when the capture has no waits.
pub fn wait_minutes_range(wait: Option<(i64, i64)>) -> String {
    match wait {
        None => "—".to_owned(),
        Some((lo, hi)) if lo / NS_PER_MIN == hi / NS_PER_MIN => wait_minutes_ns(hi),
        Some((lo, hi)) if lo < NS_PER_MIN => format!("0–{}", wait_minutes_ns(hi)),
        Some((lo, hi)) => format!("{}–{}", lo / NS_PER_MIN, wait_minutes_ns(hi)),
    }
}

/// A group's wait range in the capture's own scale: traces measure waits to the nanosecond
/// (`2.61 ms–208 ms`), dumps only in whole minutes (see [`wait_minutes_range`]).
pub fn wait_range(wait: Option<(i64, i64)>, exact: bool) -> String {
    match wait {
        Some((lo, hi)) if exact => {
            if duration_ns(lo) == duration_ns(hi) {
                duration_ns(hi)
            } else {
                format!("{}–{}", duration_ns(lo), duration_ns(hi))
            }
        }
        _ => wait_minutes_range(wait),
    }
}

/// A duration with three significant digits and the unit that suits it: `850 ns`, `12.5 µs`,
/// `3.21 s`, `4 min 12 s`, `2 h 5 min`.
pub fn duration_ns(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let abs = ns.unsigned_abs();
    let f = abs as f64;
    let body = if abs < 1_000 {
        format!("{abs} ns")
    } else if abs < 1_000_000 {
        format!("{} µs", sig3(f / 1e3))
    } else if abs < 1_000_000_000 {
        format!("{} ms", sig3(f / 1e6))
    } else if abs < 60_000_000_000 {
        format!("{} s", sig3(f / 1e9))
    } else if abs < 3_600_000_000_000 {
        let secs = abs / 1_000_000_000;
        let (m, s) = (secs / 60, secs % 60);
        if s == 0 { format!("{m} min") } else { format!("{m} min {s} s") }
    } else {
        let mins = abs / 60_000_000_000;
        let (h, m) = (mins / 60, mins % 60);
        if m == 0 { format!("{h} h") } else { format!("{h} h {m} min") }
    };
    format!("{sign}{body}")
}

/// A byte size in binary units with three significant digits: `512 B`, `12.0 KiB`, `1.50 GiB`.
pub fn bytes(value: impl Into<i128>) -> String {
    let value: i128 = value.into();
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    if abs < 1024 {
        return format!("{sign}{abs} B");
    }
    let mut f = abs as f64;
    let mut unit = "B";
    for next in ["KiB", "MiB", "GiB", "TiB", "PiB"] {
        if f < 1024.0 {
            break;
        }
        f /= 1024.0;
        unit = next;
    }
    format!("{sign}{} {unit}", sig3(f))
}

/// A share as a percentage: one decimal, and "<0.1%" rather than "0.0%" for a small non-zero
/// share, so nobody reads a leak as absent.
pub fn percent(part: f64, whole: f64) -> String {
    if whole <= 0.0 || !part.is_finite() || !whole.is_finite() {
        return "–".to_owned();
    }
    let p = 100.0 * part / whole;
    if p > 0.0 && p < 0.05 {
        "<0.1%".to_owned()
    } else if p >= 99.95 && part < whole {
        ">99.9%".to_owned()
    } else {
        format!("{p:.1}%")
    }
}

/// Most bytes of one name (a function, a state, a path) that messages and reports show: a
/// dump line of 10 MB must not come back whole on stdout.
pub const NAME_BYTES: usize = 256;

/// Most bytes of one message (a warning, a finding's title or explanation) that messages and
/// reports show, once the names in it are clipped.
pub const TEXT_BYTES: usize = 4096;

/// `text` cut to at most `max_bytes`: its start and its end, with an ellipsis between that says
/// the full length (`main.aaaa…[10,485,765 bytes]…aaaa`). Text that fits is borrowed as it is,
/// and clipping clipped text changes nothing.
pub fn clip(text: &str, max_bytes: usize) -> Cow<'_, str> {
    if text.len() <= max_bytes {
        return Cow::Borrowed(text);
    }
    let marker = format!("…[{} bytes]…", count(text.len() as u64));
    let room = max_bytes.saturating_sub(marker.len());
    let head_end = char_boundary_at_or_before(text, room * 3 / 4);
    let tail_start = char_boundary_at_or_after(text, text.len() - (room - room * 3 / 4));
    let head = text.get(..head_end).unwrap_or_default();
    let tail = text.get(tail_start..).unwrap_or_default();
    Cow::Owned(format!("{head}{marker}{tail}"))
}

/// A message with every run of non-space characters longer than [`NAME_BYTES`] clipped (names
/// hold no spaces), and the whole then clipped to [`TEXT_BYTES`].
pub fn clip_names(text: &str) -> Cow<'_, str> {
    let long_run = text.split_whitespace().any(|run| run.len() > NAME_BYTES);
    if !long_run && text.len() <= TEXT_BYTES {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(TEXT_BYTES));
    let mut rest = text;
    while !rest.is_empty() {
        // Alternate runs of space and of non-space, so the spacing is kept as it was.
        let space = rest.starts_with(char::is_whitespace);
        let end = rest.find(|c: char| c.is_whitespace() != space).unwrap_or(rest.len());
        let (run, after) = rest.split_at(end);
        out.push_str(&clip(run, NAME_BYTES));
        rest = after;
        if out.len() > TEXT_BYTES {
            // The rest is cut anyway; don't copy megabytes of it first.
            out.push_str(rest.get(..char_boundary_at_or_before(rest, TEXT_BYTES)).unwrap_or_default());
            break;
        }
    }
    match clip(&out, TEXT_BYTES) {
        Cow::Borrowed(_) => Cow::Owned(out),
        Cow::Owned(clipped) => Cow::Owned(clipped),
    }
}

fn char_boundary_at_or_before(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn char_boundary_at_or_after(text: &str, mut at: usize) -> usize {
    while at < text.len() && !text.is_char_boundary(at) {
        at += 1;
    }
    at.min(text.len())
}

/// Three significant digits without trailing noise: 3.21, 32.1, 321.
fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_said_in_the_captures_scale() {
        // A trace: exact durations; a dump: minutes.
        assert_eq!(wait_range(Some((2_610_000, 208_000_000)), true), "2.61 ms–208 ms");
        assert_eq!(wait_range(Some((208_000_000, 208_000_000)), true), "208 ms");
        assert_eq!(
            wait_range(Some((0, 3 * 60_000_000_000)), false),
            wait_minutes_range(Some((0, 3 * 60_000_000_000)))
        );
        assert_eq!(wait_range(None, true), "—");
    }

    #[test]
    fn counts_have_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-12_345), "-12,345");
        assert_eq!(count(u64::MAX), "18,446,744,073,709,551,615");
        assert_eq!(delta(1_200), "+1,200");
        assert_eq!(delta(-3), "-3");
        assert_eq!(delta(0), "0");
    }

    #[test]
    fn dump_waits_are_whole_minutes() {
        assert_eq!(wait_minutes_ns(59_000_000_000), "< 1 min");
        assert_eq!(wait_minutes_ns(7 * NS_PER_MIN), "7 min");
        assert_eq!(wait_minutes_ns(125 * NS_PER_MIN), "2 h 5 min");
        assert_eq!(wait_minutes_range(None), "—");
        assert_eq!(wait_minutes_range(Some((3 * NS_PER_MIN, 7 * NS_PER_MIN))), "3–7 min");
        assert_eq!(wait_minutes_range(Some((0, 7 * NS_PER_MIN))), "0–7 min");
    }

    #[test]
    fn durations_pick_their_unit() {
        assert_eq!(duration_ns(850), "850 ns");
        assert_eq!(duration_ns(12_500), "12.5 µs");
        assert_eq!(duration_ns(3_210_000_000), "3.21 s");
        assert_eq!(duration_ns(252_000_000_000), "4 min 12 s");
        assert_eq!(duration_ns(600_000_000_000), "10 min");
        assert_eq!(duration_ns(7_500_000_000_000), "2 h 5 min");
        assert_eq!(duration_ns(-1_500_000), "-1.50 ms");
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(12 * 1024), "12.0 KiB");
        assert_eq!(bytes(3 * 1024 * 1024 / 2 * 1024), "1.50 GiB");
    }

    #[test]
    fn small_shares_are_not_zero() {
        assert_eq!(percent(1.0, 10_000.0), "<0.1%");
        assert_eq!(percent(1.0, 4.0), "25.0%");
        assert_eq!(percent(9_999.9, 10_000.0), ">99.9%");
        assert_eq!(percent(1.0, 0.0), "–");
    }

    #[test]
    fn long_names_are_clipped_with_their_length() {
        assert_eq!(clip("short", 10), "short");
        let long = format!("main.{}", "a".repeat(10 << 20));
        let clipped = clip(&long, NAME_BYTES);
        assert!(clipped.len() <= NAME_BYTES, "{}", clipped.len());
        assert!(clipped.starts_with("main.aaa") && clipped.contains("…[10,485,765 bytes]…"), "{clipped}");
        assert_eq!(clip(&clipped, NAME_BYTES), clipped, "clipping twice changes nothing");
        // Never inside a character.
        let wide = "é".repeat(1000);
        let clipped = clip(&wide, 101);
        assert!(clipped.starts_with('é') && clipped.ends_with('é') && clipped.len() <= 101, "{clipped}");
        // In a message, only the long name is clipped; the words around it stay.
        let message = format!("30 goroutines blocked in {long} since  start");
        let clipped = clip_names(&message);
        assert!(clipped.starts_with("30 goroutines blocked in main.aaa"), "{clipped}");
        assert!(clipped.ends_with("aaa since  start") && clipped.len() < 400, "{clipped}");
        assert_eq!(clip_names(&clipped), clipped);
        let many = "word ".repeat(10_000);
        assert!(clip_names(&many).len() <= TEXT_BYTES);
        assert!(matches!(clip_names("fine as it is"), Cow::Borrowed(_)));
    }

    #[test]
    fn units_format_values() {
        assert_eq!(ValueUnit::goroutines().format(1204), "1,204 goroutines");
        assert_eq!(ValueUnit::from_pprof("cpu", "nanoseconds").format(3_210_000_000), "3.21 s");
        assert_eq!(ValueUnit::from_pprof("alloc_objects", "count").format(3), "3 alloc objects");
    }
}
