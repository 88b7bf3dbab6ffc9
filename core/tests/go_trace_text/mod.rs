//! Go's text form of execution traces (the `.test` files of Go's `internal/trace` testdata) and
//! its conversion to the binary wire format, so Go's golden traces can be fed to our parser.
//!
//! A test file is `-- expect --` (`SUCCESS` or `FAILURE "regexp"`) then `-- trace --`: a
//! `Trace Go1.N` line and one event per line, `Name arg=value ...`; a `Stack` is followed by
//! one `pc= func= file= line=` line per frame, and a `String` or `ExperimentalBatch` by a
//! `data="..."` line. On the wire each event is its type byte then its values as unsigned
//! varints, in the order written (data as a length then bytes).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::print_stderr, clippy::indexing_slicing)]

/// What a test file expects of Go's reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// The trace is valid.
    Success,
    /// Go's reader fails with a message matching this pattern.
    Failure(String),
}

/// Event type numbers by name, as the wire numbers them (Go's `tracev2` event table).
const NAMES: [(&str, u8); 52] = [
    ("EventBatch", 1),
    ("Stacks", 2),
    ("Stack", 3),
    ("Strings", 4),
    ("String", 5),
    ("CPUSamples", 6),
    ("CPUSample", 7),
    ("Frequency", 8),
    ("ProcsChange", 9),
    ("ProcStart", 10),
    ("ProcStop", 11),
    ("ProcSteal", 12),
    ("ProcStatus", 13),
    ("GoCreate", 14),
    ("GoCreateSyscall", 15),
    ("GoStart", 16),
    ("GoDestroy", 17),
    ("GoDestroySyscall", 18),
    ("GoStop", 19),
    ("GoBlock", 20),
    ("GoUnblock", 21),
    ("GoSyscallBegin", 22),
    ("GoSyscallEnd", 23),
    ("GoSyscallEndBlocked", 24),
    ("GoStatus", 25),
    ("STWBegin", 26),
    ("STWEnd", 27),
    ("GCActive", 28),
    ("GCBegin", 29),
    ("GCEnd", 30),
    ("GCSweepActive", 31),
    ("GCSweepBegin", 32),
    ("GCSweepEnd", 33),
    ("GCMarkAssistActive", 34),
    ("GCMarkAssistBegin", 35),
    ("GCMarkAssistEnd", 36),
    ("HeapAlloc", 37),
    ("HeapGoal", 38),
    ("GoLabel", 39),
    ("UserTaskBegin", 40),
    ("UserTaskEnd", 41),
    ("UserRegionBegin", 42),
    ("UserRegionEnd", 43),
    ("UserLog", 44),
    ("GoSwitch", 45),
    ("GoSwitchDestroy", 46),
    ("GoCreateBlocked", 47),
    ("GoStatusStack", 48),
    ("ExperimentalBatch", 49),
    ("Sync", 50),
    ("ClockSnapshot", 51),
    ("EndOfGeneration", 52),
];

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Splits a `.test` file into its expectation and its binary trace.
pub fn parse_test_file(text: &str) -> (Expect, Vec<u8>) {
    let mut sections = text.split("-- trace --");
    let head = sections.next().expect("expect section");
    let body = sections.next().expect("trace section");
    let verdict =
        head.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with("--")).expect("verdict");
    let expect = match verdict.strip_prefix("FAILURE") {
        Some(rest) => Expect::Failure(rest.trim().trim_matches('"').to_owned()),
        None => Expect::Success,
    };
    (expect, encode(body))
}

/// Encodes the text form of a trace to its wire form.
pub fn encode(text: &str) -> Vec<u8> {
    let mut lines = text.lines().map(|l| l.split('#').next().unwrap_or("").trim()).filter(|l| !l.is_empty());
    let header = lines.next().expect("Trace line");
    let minor = header.strip_prefix("Trace Go1.").expect("Trace Go1.N header");
    let mut out = format!("go 1.{minor} trace\0\0\0").into_bytes();
    while let Some(line) = lines.next() {
        let mut tokens = line.split_whitespace();
        let name = tokens.next().expect("event name");
        let typ = NAMES.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("unknown event {name}")).1;
        out.push(typ);
        let mut values =
            tokens.map(|t| t.split_once('=').expect("arg=value").1.parse::<u64>().expect("number"));
        let args: Vec<u64> = values.by_ref().collect();
        for &a in &args {
            put_uvarint(&mut out, a);
        }
        match name {
            "Stack" => {
                for _ in 0..args[1] {
                    let frame = lines.next().expect("frame line");
                    for t in frame.split_whitespace() {
                        put_uvarint(&mut out, t.split_once('=').expect("field").1.parse().expect("number"));
                    }
                }
            }
            "String" | "ExperimentalBatch" => {
                let data = lines.next().expect("data line");
                let quoted = data.strip_prefix("data=").expect("data=").trim();
                let bytes = unquote(quoted);
                put_uvarint(&mut out, bytes.len() as u64);
                out.extend_from_slice(&bytes);
            }
            _ => {}
        }
    }
    out
}

/// Go's `strconv.Unquote` for the escapes `strconv.Quote` writes.
fn unquote(q: &str) -> Vec<u8> {
    let inner = q.strip_prefix('"').and_then(|s| s.strip_suffix('"')).expect("quoted data");
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        match chars.next().expect("escape") {
            'n' => out.push(b'\n'),
            't' => out.push(b'\t'),
            'r' => out.push(b'\r'),
            'a' => out.push(7),
            'b' => out.push(8),
            'f' => out.push(12),
            'v' => out.push(11),
            'x' => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(u8::from_str_radix(&hex, 16).expect("hex"));
            }
            'u' | 'U' => panic!("unicode escapes are not used in the test data"),
            other => out.push(other as u8),
        }
    }
    out
}
