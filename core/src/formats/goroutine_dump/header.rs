//! The goroutine header line, every variant Go 1.19 to 1.27 prints:
//!
//! ```text
//! goroutine 7 [chan receive]:
//! goroutine 7 [chan receive, 5 minutes, locked to thread]:
//! goroutine 0 gp=0xbcfb40 m=0 mp=0xbd0ae0 [idle]:
//! goroutine 9 gp=0x25f7653641e0 m=nil [select (leaked) (scan), synctest bubble 3] {user: bob, "a b": "c"}:
//! ```
//!
//! The grammar follows `goroutineheader` in Go's `runtime/traceback.go`: the status (a wait
//! reason, which may itself end in `(durable)`, or a scheduler state), then ` (leaked)`,
//! ` (scan)`, ` (durable)` decorations, then comma-separated `N minutes`, `locked to thread`,
//! `synctest bubble N`, then optional labels in braces (Go 1.27; an earlier draft wrote
//! `labels:{...}` as the last part inside the bracket), read by [`crate::formats::labels`].
//!
//! Headers are parsed from bytes in two steps: [`parse`] splits the line (cheap, every
//! goroutine), [`parse_status`] reads the bracket (once per distinct status text in a chunk).

use std::borrow::Cow;

use crate::model::TaskFlags;

/// The parts of a header line, borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Header<'a> {
    pub id: u64,
    /// `m=N` when printed (`None` for `m=nil` or when absent).
    pub m: Option<u64>,
    /// The text between the status brackets.
    pub status: &'a [u8],
    /// The text between the label braces, unparsed.
    pub labels: Option<&'a [u8]>,
}

/// A parsed status bracket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Status<'a> {
    /// The state without decorations (`chan receive`, `GC worker (idle)`).
    pub state: Cow<'a, str>,
    pub flags: TaskFlags,
    pub wait_minutes: Option<u64>,
    pub bubble: Option<u64>,
    /// Comma parts of the status this parser does not know, kept for a warning.
    pub unknown_part: Option<Cow<'a, str>>,
}

/// Splits a header line (no line end). `None` if the line is not a goroutine header.
pub(super) fn parse(line: &[u8]) -> Option<Header<'_>> {
    let rest = line.strip_prefix(b"goroutine ")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let id = parse_u64(rest.get(..digits)?)?;
    let rest = rest.get(digits..)?.trim_ascii_end().strip_suffix(b":")?;
    let open = memchr::memchr(b'[', rest)?;
    let close = open + memchr::memchr(b']', rest.get(open..)?)?;
    let ThreadFields::Valid(m) = parse_thread_fields(rest.get(..open)?) else { return None };
    // An earlier draft of Go 1.27 printed `[chan receive, labels:{k: v}]`; a quoted label may
    // hold `]`, so the bracket is the one that closes the line.
    if rest.ends_with(b"}]")
        && let Some(at) = memchr::memmem::find(rest.get(open..)?, b"labels:{")
    {
        let status = rest.get(open + 1..open + at)?.trim_ascii_end();
        let status = status.strip_suffix(b",").unwrap_or(status);
        let labels = rest.get(open + at + b"labels:{".len()..rest.len() - 2)?;
        return Some(Header { id, m, status, labels: Some(labels) });
    }
    let status = rest.get(open + 1..close)?;
    let after = rest.get(close + 1..)?.trim_ascii();
    let labels = if after.is_empty() { None } else { Some(after.strip_prefix(b"{")?.strip_suffix(b"}")?) };
    Some(Header { id, m, status, labels })
}

/// A decimal number without sign; `None` when empty, not all digits or too large.
pub(super) fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        if b.is_ascii_digit() { n.checked_mul(10)?.checked_add(u64::from(b - b'0')) } else { None }
    })
}

/// Reads the status bracket's text.
pub(super) fn parse_status(status: &[u8]) -> Status<'_> {
    let text = String::from_utf8_lossy(status);
    match text {
        Cow::Borrowed(s) => parse_status_str(s),
        Cow::Owned(s) => {
            let parsed = parse_status_str(&s);
            Status {
                state: Cow::Owned(parsed.state.into_owned()),
                flags: parsed.flags,
                wait_minutes: parsed.wait_minutes,
                bubble: parsed.bubble,
                unknown_part: parsed.unknown_part.map(|p| Cow::Owned(p.into_owned())),
            }
        }
    }
}

fn parse_status_str(status: &str) -> Status<'_> {
    let mut parts = status.split(", ");
    let mut state = parts.next().unwrap_or("");
    let mut flags = TaskFlags::empty();
    // Decorations are appended in a fixed order; strip from the end until none is left. A
    // wait reason may itself end in "(durable)" (Go 1.25's synctest reasons): the flag says so
    // and the state stays the plain reason, so groups don't split on it.
    loop {
        if let Some(s) = state.strip_suffix(" (leaked)") {
            flags |= TaskFlags::LEAKED;
            state = s;
        } else if let Some(s) = state.strip_suffix(" (scan)") {
            flags |= TaskFlags::SCAN;
            state = s;
        } else if let Some(s) = state.strip_suffix(" (durable)") {
            flags |= TaskFlags::DURABLE;
            state = s;
        } else {
            break;
        }
    }
    let mut wait_minutes = None;
    let mut bubble = None;
    let mut unknown_part = None;
    for part in parts {
        // The runtime prints "1 minutes" too; accept the singular in case a later version
        // fixes the grammar.
        if let Some(n) = part.strip_suffix(" minutes").or_else(|| part.strip_suffix(" minute"))
            && let Some(n) = parse_u64(n.as_bytes())
        {
            wait_minutes = Some(n);
        } else if part == "locked to thread" {
            flags |= TaskFlags::LOCKED_TO_THREAD;
        } else if let Some(n) = part.strip_prefix("synctest bubble ")
            && let Some(n) = parse_u64(n.as_bytes())
        {
            bubble = Some(n);
        } else {
            unknown_part = Some(Cow::Borrowed(part));
        }
    }
    Status { state: Cow::Borrowed(state), flags, wait_minutes, bubble, unknown_part }
}

/// What sits between the goroutine id and the status bracket.
enum ThreadFields {
    /// Nothing, or only `gp=`/`m=`/`mp=` fields; `m=N` gives the thread (`m=nil` gives none).
    Valid(Option<u64>),
    /// Other text: the line is not a header.
    Invalid,
}

/// Parses ` gp=0x.. m=N mp=0x.. ` (GOTRACEBACK=system and crashes).
fn parse_thread_fields(text: &[u8]) -> ThreadFields {
    let mut m = None;
    for field in text.split(u8::is_ascii_whitespace).filter(|f| !f.is_empty()) {
        if let Some(v) = field.strip_prefix(b"m=") {
            m = parse_u64(v);
        } else if !(field.starts_with(b"gp=") || field.starts_with(b"mp=")) {
            return ThreadFields::Invalid;
        }
    }
    ThreadFields::Valid(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::labels::parse as parse_labels;

    fn h(line: &str) -> Header<'_> {
        parse(line.as_bytes()).unwrap_or_else(|| panic!("not a header: {line}"))
    }

    fn s(line: &str) -> (Header<'_>, Status<'_>) {
        let header = h(line);
        (header, parse_status(header.status))
    }

    #[test]
    fn plain() {
        let (x, st) = s("goroutine 39 [running]:");
        assert_eq!((x.id, x.m, x.labels), (39, None, None));
        assert_eq!((st.state.as_ref(), st.flags, st.wait_minutes), ("running", TaskFlags::empty(), None));
    }

    #[test]
    fn minutes_and_locked() {
        let (_, st) = s("goroutine 18 [chan receive, 5 minutes, locked to thread]:");
        assert_eq!(st.state, "chan receive");
        assert_eq!(st.wait_minutes, Some(5));
        assert!(st.flags.contains(TaskFlags::LOCKED_TO_THREAD));
        // The runtime says "1 minutes".
        assert_eq!(s("goroutine 5 [select, 1 minutes]:").1.wait_minutes, Some(1));
        assert_eq!(s("goroutine 5 [syscall, 1 minute]:").1.wait_minutes, Some(1));
        assert_eq!(s("goroutine 5 [IO wait, 1440 minutes]:").1.wait_minutes, Some(1440));
    }

    #[test]
    fn gp_m_mp_fields() {
        let (x, st) = s("goroutine 0 gp=0xbcfb40 m=0 mp=0xbd0ae0 [idle]:");
        assert_eq!((x.id, st.state.as_ref(), x.m), (0, "idle", Some(0)));
        let (y, st) = s("goroutine 1 gp=0x25f7653641e0 m=nil [select (no cases)]:");
        assert_eq!((st.state.as_ref(), y.m), ("select (no cases)", None));
        let (z, st) = s("goroutine 22 gp=0x23e0e9484d20 m=3 mp=0x23e0e93f5008 [running]:");
        assert_eq!((z.id, z.m, st.state.as_ref()), (22, Some(3), "running"));
    }

    #[test]
    #[allow(clippy::many_single_char_names)]
    fn leaked_scan_durable() {
        let (_, x) = s("goroutine 295 [select (leaked)]:");
        assert_eq!(x.state, "select");
        assert!(x.flags.contains(TaskFlags::LEAKED));
        let (_, y) = s("goroutine 5 [chan receive (leaked) (scan), 12 minutes]:");
        assert_eq!(y.state, "chan receive");
        assert!(y.flags.contains(TaskFlags::LEAKED | TaskFlags::SCAN));
        assert_eq!(y.wait_minutes, Some(12));
        // Go 1.25+ synctest wait reasons carry "(durable)" in their name...
        let (_, z) = s("goroutine 8 [chan receive (durable), synctest bubble 4]:");
        assert_eq!(z.state, "chan receive");
        assert!(z.flags.contains(TaskFlags::DURABLE));
        assert_eq!(z.bubble, Some(4));
        // ...others get it appended after (leaked) and (scan).
        let (_, w) = s("goroutine 9 [sleep (scan) (durable), 3 minutes, synctest bubble 1]:");
        assert_eq!((w.state.as_ref(), w.bubble, w.wait_minutes), ("sleep", Some(1), Some(3)));
        assert_eq!(w.flags, TaskFlags::SCAN | TaskFlags::DURABLE);
        let (_, v) = s("goroutine 10 [sync.WaitGroup.Wait (durable) (leaked), synctest bubble 2]:");
        assert_eq!(v.state, "sync.WaitGroup.Wait");
        assert_eq!(v.flags, TaskFlags::LEAKED | TaskFlags::DURABLE);
        let (_, u) = s("goroutine 11 [sync.Mutex.Lock, synctest bubble 1]:");
        assert_eq!((u.state.as_ref(), u.flags, u.bubble), ("sync.Mutex.Lock", TaskFlags::empty(), Some(1)));
    }

    #[test]
    fn every_part_together() {
        let (x, st) = s(
            "goroutine 9 gp=0x25f7653641e0 m=nil [select (leaked) (scan), 7 minutes, locked to thread, synctest bubble 3] {user: bob}:",
        );
        assert_eq!((x.id, x.m, x.labels), (9, None, Some(&b"user: bob"[..])));
        assert_eq!(st.state, "select");
        assert_eq!(st.flags, TaskFlags::LEAKED | TaskFlags::SCAN | TaskFlags::LOCKED_TO_THREAD);
        assert_eq!((st.wait_minutes, st.bubble, st.unknown_part), (Some(7), Some(3), None));
    }

    #[test]
    fn states_with_parentheses_stay_whole() {
        let state = |line| parse_status(h(line).status).state.into_owned();
        assert_eq!(state("goroutine 2 [force gc (idle)]:"), "force gc (idle)");
        assert_eq!(state("goroutine 2 [chan send (nil chan)]:"), "chan send (nil chan)");
        assert_eq!(state("goroutine 2 [GC worker (idle), 3 minutes]:"), "GC worker (idle)");
        assert_eq!(state("goroutine 2 [GOMAXPROCS updater (idle)]:"), "GOMAXPROCS updater (idle)");
        assert_eq!(state("goroutine 2 [trace reader (blocked)]:"), "trace reader (blocked)");
    }

    #[test]
    fn unknown_states_and_parts_are_kept() {
        let (_, st) = s("goroutine 2 [some future state]:");
        assert_eq!(st.state, "some future state");
        let (_, st) = s("goroutine 2 [???]:");
        assert_eq!(st.state, "???");
        let (_, st) = s("goroutine 2 [chan receive, pinned to core 3]:");
        assert_eq!(
            (st.state.as_ref(), st.unknown_part.as_deref()),
            ("chan receive", Some("pinned to core 3"))
        );
        let (_, st) = s("goroutine 2 [waiting for cgo callback]:");
        assert_eq!(st.state, "waiting for cgo callback");
    }

    #[test]
    fn labels_after_the_bracket() {
        let (x, _) = s(r#"goroutine 7 [select] {handler: /api/upload, "req id": "a\"b"}:"#);
        let raw = std::str::from_utf8(x.labels.unwrap()).unwrap();
        assert_eq!(raw, r#"handler: /api/upload, "req id": "a\"b""#);
        let labels = parse_labels(raw).unwrap();
        assert_eq!(labels[0], (Cow::Borrowed("handler"), Cow::Borrowed("/api/upload")));
        assert_eq!(labels[1].0, "req id");
        assert_eq!(labels[1].1, "a\"b");
        assert!(parse_labels("a b").is_err());
        assert!(parse_labels("\"open").is_err());
        assert!(parse_labels("k: \"\\u12\"").is_err());
        assert!(parse_labels("k: \"\\").is_err());
    }

    /// The examples of Go's `TestTracebackGoroutineLabels` (runtime/traceback_test.go).
    #[test]
    fn labels_quoting_as_the_runtime_prints_it() {
        let cases: [(&str, &[(&str, &str)]); 6] = [
            ("{fizzle: bit, foobar: baz}", &[("fizzle", "bit"), ("foobar", "baz")]),
            ("{/fizzle: bit, foo_bar: baz.}", &[("/fizzle", "bit"), ("foo_bar", "baz.")]),
            (r#"{fizzle: bit, "foobar:": baz}"#, &[("fizzle", "bit"), ("foobar:", "baz")]),
            (
                r#"{fizzle: "b\x1bit", "foo\"ba\x00r": "baz\n"}"#,
                &[("fizzle", "b\x1bit"), ("foo\"ba\0r", "baz\n")],
            ),
            (
                r#"{fizzle: "\u1234\u03a3", "fooba\x00r": "baz\n"}"#,
                &[("fizzle", "\u{1234}Σ"), ("fooba\0r", "baz\n")],
            ),
            (r#"{"fiz\\zl\re": "\U00045678boop"}"#, &[("fiz\\zl\re", "\u{45678}boop")]),
        ];
        for (text, want) in cases {
            let line = format!("goroutine 4 [chan receive] {text}:");
            let (x, _) = s(&line);
            let raw = std::str::from_utf8(x.labels.unwrap()).unwrap();
            let got = parse_labels(raw).unwrap();
            let got: Vec<(&str, &str)> = got.iter().map(|(k, v)| (k.as_ref(), v.as_ref())).collect();
            assert_eq!(got, want, "{text}");
        }
        // A quoted value may hold braces, commas and colons.
        let (x, _) = s(r#"goroutine 11 [chan receive] {path: "C:\\tmp\\{x}, y: z"}:"#);
        let got = parse_labels(std::str::from_utf8(x.labels.unwrap()).unwrap()).unwrap();
        assert_eq!(got[0].1, r"C:\tmp\{x}, y: z");
        // Invalid UTF-8 the runtime escaped as \xNN becomes U+FFFD.
        assert_eq!(parse_labels(r#"k: "a\xffb""#).unwrap()[0].1, "a\u{fffd}b");
    }

    #[test]
    fn draft_labels_inside_the_bracket() {
        let (x, st) = s(r#"goroutine 8 [chan receive, 3 minutes, labels:{route: /export, "k]": "v"}]:"#);
        assert_eq!(x.labels, Some(&br#"route: /export, "k]": "v""#[..]));
        assert_eq!((st.state.as_ref(), st.wait_minutes, st.unknown_part), ("chan receive", Some(3), None));
        let (x, st) = s("goroutine 8 [select labels:{tenant: acme}]:");
        assert_eq!((x.labels, st.state.as_ref()), (Some(&b"tenant: acme"[..]), "select"));
    }

    #[test]
    fn crlf_and_not_headers() {
        assert_eq!(h("goroutine 3 [IO wait]:\r").id, 3);
        assert!(parse(b"goroutine profile: total 5").is_none());
        assert!(parse(b"goroutine 5 is not a header").is_none());
        assert!(parse(b"goroutine 5 [running]").is_none());
        assert!(parse(b"goroutine x [running]:").is_none());
        assert!(parse(b"goroutine 5 junk [running]:").is_none());
        assert!(parse(b"goroutine 5 [running] junk:").is_none());
        assert!(parse(b"goroutine 99999999999999999999999 [running]:").is_none());
        assert!(parse(b"goroutine [running]:").is_none());
        assert!(parse(b"goroutine 5 [running:").is_none());
    }

    #[test]
    fn invalid_utf8_in_a_status_is_replaced() {
        let (_, st) = s("goroutine 3 [chan receive]:");
        assert!(matches!(st.state, Cow::Borrowed(_)));
        let line = b"goroutine 3 [chan \xff receive, 2 minutes]:";
        let st = parse_status(parse(line).unwrap().status);
        assert_eq!((st.state.as_ref(), st.wait_minutes), ("chan \u{fffd} receive", Some(2)));
    }
}
