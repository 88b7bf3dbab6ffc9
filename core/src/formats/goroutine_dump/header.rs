//! The goroutine header line, every variant Go 1.19 to 1.27 prints:
//!
//! ```text
//! goroutine 7 [chan receive]:
//! goroutine 7 [chan receive, 5 minutes, locked to thread]:
//! goroutine 0 gp=0xbcfb40 m=0 mp=0xbd0ae0 [idle]:
//! goroutine 9 gp=0x25f7653641e0 m=nil [select (leaked) (scan), synctest bubble 3] {user: bob, "a b": "c"}:
//! ```
//!
//! The grammar follows `goroutineheader` in Go's `runtime/traceback.go`: status, then
//! ` (leaked)`, ` (scan)`, ` (durable)` decorations, then comma-separated `N minutes`,
//! `locked to thread`, `synctest bubble N`, then optional labels in braces.

use std::borrow::Cow;

use crate::model::TaskFlags;

/// A parsed header line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Header<'a> {
    pub id: u64,
    /// The state without decorations (`chan receive`, `GC worker (idle)`).
    pub state: &'a str,
    pub flags: TaskFlags,
    pub wait_minutes: Option<u64>,
    pub bubble: Option<u64>,
    /// `m=N` when printed (`None` for `m=nil` or when absent).
    pub m: Option<u64>,
    /// The text between the label braces, unparsed.
    pub labels: Option<&'a str>,
    /// Comma parts of the status this parser does not know, kept for a warning.
    pub unknown_part: Option<&'a str>,
}

/// Parses a header line (no line end). `None` if the line is not a goroutine header.
pub(super) fn parse(line: &str) -> Option<Header<'_>> {
    let rest = line.strip_prefix("goroutine ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id: u64 = rest.get(..digits)?.parse().ok()?;
    let rest = rest.get(digits..)?.trim_end().strip_suffix(':')?;
    let open = rest.find('[')?;
    let close = open + rest.get(open..)?.find(']')?;
    let ThreadFields::Valid(m) = parse_thread_fields(rest.get(..open)?) else { return None };
    let status = rest.get(open + 1..close)?;
    let after = rest.get(close + 1..)?.trim();
    let labels = if after.is_empty() { None } else { Some(after.strip_prefix('{')?.strip_suffix('}')?) };

    let mut parts = status.split(", ");
    let mut state = parts.next()?;
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
        if let Some(n) = part.strip_suffix(" minutes").or_else(|| part.strip_suffix(" minute")) {
            wait_minutes = n.parse().ok();
        } else if part == "locked to thread" {
            flags |= TaskFlags::LOCKED_TO_THREAD;
        } else if let Some(n) = part.strip_prefix("synctest bubble ") {
            bubble = n.parse().ok();
        } else {
            unknown_part = Some(part);
        }
    }
    Some(Header { id, state, flags, wait_minutes, bubble, m, labels, unknown_part })
}

/// What sits between the goroutine id and the status bracket.
enum ThreadFields {
    /// Nothing, or only `gp=`/`m=`/`mp=` fields; `m=N` gives the thread (`m=nil` gives none).
    Valid(Option<u64>),
    /// Other text: the line is not a header.
    Invalid,
}

/// Parses ` gp=0x.. m=N mp=0x.. ` (GOTRACEBACK=system and crashes).
fn parse_thread_fields(text: &str) -> ThreadFields {
    let mut m = None;
    for field in text.split_ascii_whitespace() {
        if let Some(v) = field.strip_prefix("m=") {
            m = v.parse().ok();
        } else if !(field.starts_with("gp=") || field.starts_with("mp=")) {
            return ThreadFields::Invalid;
        }
    }
    ThreadFields::Valid(m)
}

/// One label as text, borrowed unless unquoting changed it.
pub(super) type LabelPair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Parses the labels Go 1.27 prints after the status with `GODEBUG=tracebacklabels=1`:
/// `key: value, "quoted key": "quoted\tvalue"`. Keys and values are quoted only when they hold
/// characters outside `[A-Za-z0-9./_]`.
pub(super) fn parse_labels(text: &str) -> Result<Vec<LabelPair<'_>>, &'static str> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let (key, after) = token(rest)?;
        rest = after.strip_prefix(':').ok_or("expected ':' after a label key")?.trim_start();
        let (value, after) = token(rest)?;
        out.push((key, value));
        rest = after.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.is_empty() {
            return Err("expected ',' between labels");
        }
    }
    Ok(out)
}

/// One bare or quoted token, and the text after it.
fn token(text: &str) -> Result<(Cow<'_, str>, &str), &'static str> {
    if let Some(body) = text.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = body.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Ok((Cow::Owned(out), body.get(i + 1..).unwrap_or(""))),
                '\\' => {
                    let (_, e) = chars.next().ok_or("unfinished escape")?;
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        'a' => out.push('\x07'),
                        'b' => out.push('\x08'),
                        'f' => out.push('\x0c'),
                        'v' => out.push('\x0b'),
                        'x' | 'u' | 'U' => {
                            let width = match e {
                                'x' => 2,
                                'u' => 4,
                                _ => 8,
                            };
                            let hex: String = chars.by_ref().take(width).map(|(_, c)| c).collect();
                            let code = u32::from_str_radix(&hex, 16).map_err(|_| "bad hex escape")?;
                            out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
        Err("unterminated quoted label")
    } else {
        let end = text.find([':', ',']).unwrap_or(text.len());
        let (tok, after) = text.split_at(end);
        let tok = tok.trim_end();
        if tok.is_empty() {
            return Err("empty label key or value");
        }
        Ok((Cow::Borrowed(tok), after))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(line: &str) -> Header<'_> {
        parse(line).unwrap_or_else(|| panic!("not a header: {line}"))
    }

    #[test]
    fn plain() {
        let x = h("goroutine 39 [running]:");
        assert_eq!(
            (x.id, x.state, x.flags, x.wait_minutes, x.m),
            (39, "running", TaskFlags::empty(), None, None)
        );
    }

    #[test]
    fn minutes_and_locked() {
        let x = h("goroutine 18 [chan receive, 5 minutes, locked to thread]:");
        assert_eq!(x.state, "chan receive");
        assert_eq!(x.wait_minutes, Some(5));
        assert!(x.flags.contains(TaskFlags::LOCKED_TO_THREAD));
    }

    #[test]
    fn gp_m_mp_fields() {
        let x = h("goroutine 0 gp=0xbcfb40 m=0 mp=0xbd0ae0 [idle]:");
        assert_eq!((x.id, x.state, x.m), (0, "idle", Some(0)));
        let y = h("goroutine 1 gp=0x25f7653641e0 m=nil [select (no cases)]:");
        assert_eq!((y.state, y.m), ("select (no cases)", None));
    }

    #[test]
    fn leaked_scan_durable() {
        let x = h("goroutine 295 [select (leaked)]:");
        assert_eq!(x.state, "select");
        assert!(x.flags.contains(TaskFlags::LEAKED));
        let y = h("goroutine 5 [chan receive (leaked) (scan), 12 minutes]:");
        assert_eq!(y.state, "chan receive");
        assert!(y.flags.contains(TaskFlags::LEAKED | TaskFlags::SCAN));
        assert_eq!(y.wait_minutes, Some(12));
        let z = h("goroutine 8 [chan receive (durable), synctest bubble 4]:");
        assert_eq!(z.state, "chan receive");
        assert!(z.flags.contains(TaskFlags::DURABLE));
        assert_eq!(z.bubble, Some(4));
        let w = h("goroutine 9 [sleep (durable), synctest bubble 1]:");
        assert_eq!((w.state, w.bubble), ("sleep", Some(1)));
    }

    #[test]
    fn states_with_parentheses_stay_whole() {
        assert_eq!(h("goroutine 2 [force gc (idle)]:").state, "force gc (idle)");
        assert_eq!(h("goroutine 2 [chan send (nil chan)]:").state, "chan send (nil chan)");
        assert_eq!(h("goroutine 2 [GC worker (idle), 3 minutes]:").state, "GC worker (idle)");
        assert_eq!(h("goroutine 2 [some future state]:").state, "some future state");
    }

    #[test]
    fn labels_after_the_bracket() {
        let x = h(r#"goroutine 7 [select] {handler: /api/upload, "req id": "a\"b"}:"#);
        assert_eq!(x.labels, Some(r#"handler: /api/upload, "req id": "a\"b""#));
        let labels = parse_labels(x.labels.unwrap()).unwrap();
        assert_eq!(labels[0], (Cow::Borrowed("handler"), Cow::Borrowed("/api/upload")));
        assert_eq!(labels[1].0, "req id");
        assert_eq!(labels[1].1, "a\"b");
        assert!(parse_labels("a b").is_err());
        assert!(parse_labels("\"open").is_err());
    }

    #[test]
    fn crlf_and_not_headers() {
        assert_eq!(h("goroutine 3 [IO wait]:\r".trim_end_matches('\r')).id, 3);
        assert!(parse("goroutine profile: total 5").is_none());
        assert!(parse("goroutine 5 is not a header").is_none());
        assert!(parse("goroutine 5 [running]").is_none());
        assert!(parse("goroutine x [running]:").is_none());
        assert!(parse("goroutine 5 junk [running]:").is_none());
    }
}
