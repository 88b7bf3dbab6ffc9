//! The one label-set grammar, shared by the goroutine dump header (`goroutine 8 [chan receive]
//! {route: /export, tenant: acme}:`) and the `debug=1` text profile (`# labels: {"route":"/export"}`).
//!
//! ```text
//! set   = [ "labels:" ] "{" [ pair { "," pair } ] "}"    (the braces are optional)
//! pair  = token ":" token
//! token = quoted | bare
//! ```
//!
//! What each writer prints, from Go's source:
//! - `runtime.goroutineheader` (Go 1.27, `runtime/traceback.go`, on by default for a module whose
//!   go.mod says 1.27, else `GODEBUG=tracebacklabels=1`) prints `key: value` pairs joined by
//!   `, ` and quotes a key or value only when it holds a character outside `[A-Za-z0-9./_]`
//!   (`tracebackStringNeedsQuoting`), with the runtime's `quoted`: `\n \r \t \\ \"`, `\xNN` for
//!   control bytes and invalid UTF-8, `\uNNNN` and `\UNNNNNNNN` for other non-ASCII runes.
//! - `runtime/pprof`'s `printCountProfile` prints `{"k":"v", "k2":"v2"}` with `%q`
//!   (`strconv.Quote`): the same escapes plus `\a \b \f \v`.
//! - An earlier draft of the traceback change wrote `labels:{...}` inside the status brackets;
//!   the header reader hands us the braces' text either way.
//!
//! Ambiguity: a bare token the runtime prints never holds `:`, `,`, a space or a quote, so
//! splitting at the first `:` or `,` is exact for what Go writes. Hand-written or draft output
//! may carry bare values with spaces (`{tenant: acme corp}`): a bare token runs to the next `:`
//! or `,` and is trimmed, so spaces inside survive; a bare value holding `,` or `:` cannot be
//! told apart from the next pair and is read as Go would have had to quote it (an error, which
//! the readers turn into a warning and keep the goroutine without labels).

use std::borrow::Cow;

use crate::model::{Capture, Label, LabelSetId};

/// Why a label set could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LabelSyntax {
    /// A `{` without its `}` (or the reverse).
    #[error("unbalanced braces around the label set")]
    Braces,
    /// A key not followed by `:`.
    #[error("expected ':' after a label key")]
    Colon,
    /// Two pairs not separated by `,`.
    #[error("expected ',' between labels")]
    Comma,
    /// A bare key or value with nothing in it.
    #[error("empty label key or value")]
    Empty,
    /// A quoted token without its closing quote.
    #[error("unterminated quoted label")]
    Unterminated,
    /// A backslash escape that Go's quoting does not write, or cut short.
    #[error("bad escape in a quoted label")]
    Escape,
}

/// One key/value pair as text, borrowed unless unquoting changed it.
pub type LabelPair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// Reads a label set in any of the forms above; pairs in input order (keys may repeat: the
/// model keeps what the file says).
pub fn parse(text: &str) -> Result<Vec<LabelPair<'_>>, LabelSyntax> {
    let mut body = text.trim();
    body = body.strip_prefix("labels:").map_or(body, str::trim_start);
    if let Some(inner) = body.strip_prefix('{') {
        body = inner.strip_suffix('}').ok_or(LabelSyntax::Braces)?;
    } else if body.ends_with('}') {
        return Err(LabelSyntax::Braces);
    }
    let mut out = Vec::new();
    let mut rest = body.trim_start();
    while !rest.is_empty() {
        let (key, after) = token(rest)?;
        rest = after.trim_start().strip_prefix(':').ok_or(LabelSyntax::Colon)?.trim_start();
        let (value, after) = token(rest)?;
        out.push((key, value));
        rest = after.trim_start();
        if let Some(after) = rest.strip_prefix(',') {
            rest = after.trim_start();
        } else if !rest.is_empty() {
            return Err(LabelSyntax::Comma);
        }
    }
    Ok(out)
}

/// Interns parsed pairs as one of the capture's label sets.
pub fn intern(capture: &mut Capture, pairs: &[LabelPair<'_>]) -> LabelSetId {
    let mut labels: Vec<Label> = pairs
        .iter()
        .map(|(k, v)| Label { key: capture.strings.intern(k), value: capture.strings.intern(v) })
        .collect();
    capture.tables.label_set_id(&mut labels)
}

/// One bare or quoted token, and the text after it.
fn token(text: &str) -> Result<(Cow<'_, str>, &str), LabelSyntax> {
    let Some(body) = text.strip_prefix('"') else {
        let end = text.find([':', ',']).unwrap_or(text.len());
        let (tok, after) = text.split_at(end);
        let tok = tok.trim_end();
        if tok.is_empty() {
            return Err(LabelSyntax::Empty);
        }
        return Ok((Cow::Borrowed(tok), after));
    };
    // Bytes, not chars: `\xNN` and octal escapes stand for bytes, and Go writes `\xff` for a
    // byte of invalid UTF-8, which comes back as U+FFFD once the token is decoded.
    let mut out: Vec<u8> = Vec::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let after = body.get(i + 1..).unwrap_or("");
                return Ok((Cow::Owned(String::from_utf8_lossy(&out).into_owned()), after));
            }
            '\\' => {
                let (_, e) = chars.next().ok_or(LabelSyntax::Escape)?;
                let simple = match e {
                    'a' => Some(0x07),
                    'b' => Some(0x08),
                    'f' => Some(0x0c),
                    'n' => Some(b'\n'),
                    'r' => Some(b'\r'),
                    't' => Some(b'\t'),
                    'v' => Some(0x0b),
                    '\\' => Some(b'\\'),
                    '"' => Some(b'"'),
                    '\'' => Some(b'\''),
                    _ => None,
                };
                if let Some(b) = simple {
                    out.push(b);
                    continue;
                }
                let (width, radix) = match e {
                    'x' => (2, 16),
                    'u' => (4, 16),
                    'U' => (8, 16),
                    '0'..='7' => (2, 8),
                    _ => return Err(LabelSyntax::Escape),
                };
                let mut code = if radix == 8 { e.to_digit(8).unwrap_or(0) } else { 0 };
                for _ in 0..width {
                    let (_, d) = chars.next().ok_or(LabelSyntax::Escape)?;
                    code = code * radix + d.to_digit(radix).ok_or(LabelSyntax::Escape)?;
                }
                if matches!(e, 'u' | 'U') {
                    let c = char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER);
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                } else {
                    out.push(u8::try_from(code).map_err(|_| LabelSyntax::Escape)?);
                }
            }
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Err(LabelSyntax::Unterminated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap().into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
    }

    fn p(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect()
    }

    #[test]
    fn dump_header_and_debug1_forms_read_alike() {
        let want = p(&[("route", "/export"), ("tenant", "acme")]);
        assert_eq!(pairs("route: /export, tenant: acme"), want);
        assert_eq!(pairs("{route: /export, tenant: acme}"), want);
        assert_eq!(pairs(r#"{"route":"/export", "tenant":"acme"}"#), want);
        assert_eq!(pairs("labels:{route: /export, tenant: acme}"), want);
        assert_eq!(pairs(r#"labels:{"route": "/export","tenant":"acme"}"#), want);
    }

    #[test]
    fn empty_set() {
        assert!(parse("{}").unwrap().is_empty());
        assert!(parse("").unwrap().is_empty());
        assert!(parse("labels:{ }").unwrap().is_empty());
    }

    #[test]
    fn unquoted_values_may_hold_spaces() {
        assert_eq!(
            pairs("{tenant: acme corp, job: nightly}"),
            p(&[("tenant", "acme corp"), ("job", "nightly")])
        );
    }

    #[test]
    fn escapes_of_both_quoters() {
        assert_eq!(pairs(r#"k: "a\"b\\c\n\t\r\a\b\f\v\'""#)[0].1, "a\"b\\c\n\t\r\x07\x08\x0c\x0b'");
        assert_eq!(pairs(r#"k: "\u03a3\U0001F600\x1b\101""#)[0].1, "\u{3a3}\u{1f600}\x1bA");
        // Go escapes each byte of invalid UTF-8 as \xNN.
        assert_eq!(pairs(r#"k: "a\xffb""#)[0].1, "a\u{fffd}b");
        // Two escaped bytes forming valid UTF-8 are the character they spell.
        assert_eq!(pairs(r#"k: "\xc3\xa9""#)[0].1, "é");
        // Quoted tokens may hold braces, commas and colons.
        assert_eq!(pairs(r#"{path: "C:\\tmp\\{x}, y: z"}"#)[0].1, r"C:\tmp\{x}, y: z");
    }

    #[test]
    fn malformed() {
        assert_eq!(parse("a b"), Err(LabelSyntax::Colon));
        assert_eq!(parse("\"open"), Err(LabelSyntax::Unterminated));
        assert_eq!(parse(r#"k: "\u12""#), Err(LabelSyntax::Escape));
        assert_eq!(parse(r#"k: "\q""#), Err(LabelSyntax::Escape));
        assert_eq!(parse("k: \"\\"), Err(LabelSyntax::Escape));
        assert_eq!(parse(r#"{"a":"1" "b":"2"}"#), Err(LabelSyntax::Comma));
        assert_eq!(parse("{a: b"), Err(LabelSyntax::Braces));
        assert_eq!(parse("a: b}"), Err(LabelSyntax::Braces));
        assert_eq!(parse("a: , b: c"), Err(LabelSyntax::Empty));
        assert_eq!(parse(r#"k: "\777""#), Err(LabelSyntax::Escape));
    }
}
