//! The report as SARIF 2.1.0, the format GitHub code scanning and IDE problem panels read: one
//! result per finding at the line whose `go` statement started the family.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{FindingReport, Report, SourceLine};
use crate::analysis::leaks::{RuleId, Severity};
use crate::format::clip_names;

/// The `uriBaseId` of locations under the source root.
const SRCROOT: &str = "SRCROOT";

/// How paths become SARIF locations.
#[derive(Clone, Debug, Default)]
pub struct SarifOptions {
    /// The checkout the captured program was built from. Absolute paths under it become
    /// relative to `SRCROOT`, which is what lets GitHub code scanning annotate the line; paths
    /// elsewhere (GOROOT, the module cache) stay absolute `file:` URIs.
    pub source_root: Option<PathBuf>,
    /// The tool version written in `tool.driver.version`.
    pub version: Option<String>,
}

/// The SARIF level of a severity. Proven leaks fail a code-scanning check (`error`), likely
/// ones are `warning`, possible ones and the non-leak warnings (`pile-up`) are `note`.
pub fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Proven => "error",
        Severity::Likely => "warning",
        Severity::Possible | Severity::Warning => "note",
    }
}

/// The short description and the help of a rule, as code scanning shows them.
fn rule_text(rule: RuleId) -> (&'static str, &'static str) {
    match rule {
        RuleId::RuntimeProven => (
            "The Go runtime's leak detector marked these goroutines leaked.",
            "The garbage collector found them blocked on something no live goroutine can reach: \
             they can never wake. Find the channel, mutex or WaitGroup they wait on and make sure \
             its other side runs on every path (close the channel, send in a select with the \
             context's Done, call Done on every return).",
        ),
        RuleId::NeverWakes => (
            "Goroutines parked where nothing can ever wake them.",
            "A send or receive on a nil channel, or an empty select outside the main goroutine, \
             blocks forever. Initialise the channel before use, or return instead of `select {}`.",
        ),
        RuleId::OutlivedRequest => (
            "Goroutines started by a request still parked after the request ended.",
            "Work started per request should end with the request: pass the request's context \
             and select on ctx.Done() beside every channel operation, or give the goroutine a \
             buffered channel so its one send never blocks.",
        ),
        RuleId::BlockedClientCall => (
            "Goroutines stuck inside a client call waiting on something outside the process.",
            "Give the call a deadline (context.WithTimeout, http.Client.Timeout, driver timeouts) \
             and close what the call returns (rows, response bodies).",
        ),
        RuleId::ConnPoolGrowth => (
            "Per-connection goroutines far above a sane number, or growing.",
            "Connections are opened and never closed: reuse one client, close response bodies and \
             idle connections, and bound the pool.",
        ),
        RuleId::ContextPropagation => (
            "The context package's cancel-propagation goroutines pile up.",
            "A context derived from a custom Context type starts a goroutine per derived context \
             until it is cancelled: call every cancel function (defer cancel()).",
        ),
        RuleId::Growing => (
            "A goroutine family that grew since the baseline, or along a series.",
            "The family has more goroutines than in the earlier capture. Check whether every path \
             that starts one also ends it.",
        ),
        RuleId::LongWait => (
            "Goroutines parked for a long time in a wait no other rule explains.",
            "Check what should wake them and whether it can still happen.",
        ),
        RuleId::ParkedCrowd => (
            "Many goroutines parked at one stack, nothing else known.",
            "A second capture tells whether the family grows.",
        ),
        RuleId::PileUp => (
            "Many goroutines queued on one lock or WaitGroup: contention or a hang, not a leak.",
            "Shorten the critical section, or find the holder that never releases.",
        ),
        RuleId::NeverSettled => (
            "Async work that never finished, left in the same shape by several origins.",
            "A code path leaves a promise or request unsettled every time it runs: settle or \
             cancel it on every path.",
        ),
        RuleId::PendingAtExit => (
            "asyncio tasks still pending when the event loop shut down.",
            "Await or cancel the tasks you create before the loop ends.",
        ),
        RuleId::NeverEnded => (
            "Async operations open far longer than any of their kind that ended.",
            "End the operation on every path, including errors and cancellation.",
        ),
        RuleId::OpenSpan => (
            "Spans begun and never ended off the main thread.",
            "End every span on every path, including errors.",
        ),
        RuleId::IdleThread => (
            "Threads alive at the end, idle in one blocking call for nearly their whole life.",
            "Stop threads whose work is done, or give their blocking call a way out.",
        ),
        RuleId::HeapGrowth => (
            "Memory in use at one allocation site grew between heap profiles, beyond sampling noise.",
            "Find what keeps the allocations alive: a leaked goroutine and its closure, an unclosed \
             response body, a cache or map without eviction. Compare with `go tool pprof -base`.",
        ),
    }
}

/// The report as a SARIF 2.1.0 log: one run, every rule described, one result per finding.
pub fn to_sarif(report: &Report, options: &SarifOptions) -> Value {
    let root = options.source_root.as_deref().map(root_prefix);
    let rules: Vec<Value> = RuleId::ALL
        .iter()
        .map(|&r| {
            let (short, help) = rule_text(r);
            json!({
                "id": r.id(),
                "name": r.id(),
                "shortDescription": { "text": short },
                "fullDescription": { "text": format!("{short} {help}") },
                "help": { "text": help, "markdown": format!("**{short}**\n\n{help}") },
                "helpUri": "https://github.com/leakscope/leakscope#rules",
                "defaultConfiguration": { "level": level(r.default_severity()) },
                "properties": { "tags": ["goroutine-leak", r.default_severity().name()] },
            })
        })
        .collect();
    let results: Vec<Value> = report.findings.iter().map(|f| result(report, f, root.as_deref())).collect();
    let mut driver = json!({
        "name": "leakscope",
        "informationUri": "https://github.com/leakscope/leakscope",
        "rules": rules,
    });
    if let (Some(v), Some(d)) = (&options.version, driver.as_object_mut()) {
        d.insert("version".to_owned(), json!(v));
    }
    let mut run = json!({ "tool": { "driver": driver }, "results": results });
    if let (Some(root), Some(r)) = (&root, run.as_object_mut()) {
        r.insert(
            "originalUriBaseIds".to_owned(),
            json!({ SRCROOT: { "uri": format!("file://{}", encode_path(root)) } }),
        );
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

/// The root as a `/`-separated absolute path ending in `/`.
fn root_prefix(root: &Path) -> String {
    let mut s = root.to_string_lossy().replace('\\', "/");
    if !s.starts_with('/') {
        // A Windows drive path: file:///C:/... in a URI.
        s.insert(0, '/');
    }
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

fn result(report: &Report, f: &FindingReport, root: Option<&str>) -> Value {
    let rule_index = RuleId::ALL.iter().position(|&r| r == f.rule).unwrap_or(0);
    let mut message = format!("{}.", f.title);
    for fact in &f.evidence.facts {
        let _ = write!(message, "\n- {}", clip_names(fact));
    }
    if let Some(g) = &f.growth {
        let _ = write!(message, "\n- {} before, {} now.", g.before, g.after);
    }
    let _ = write!(message, "\nWhy: {}", f.explanation);
    if !f.fix.is_empty() {
        let _ = write!(message, "\nFix: {}", f.fix);
    }
    // The creator's line is where the fix goes; without it, the line where they wait.
    let primary = f.sites.created_at.as_ref().or(f.sites.waits_at.as_ref());
    let function = f.group.created_by.clone().unwrap_or_else(|| f.group.user_function.clone());
    let mut location = match primary {
        Some(site) => json!({ "physicalLocation": physical(site, root) }),
        None => json!({}),
    };
    if !function.is_empty()
        && let Some(l) = location.as_object_mut()
    {
        l.insert(
            "logicalLocations".to_owned(),
            json!([{ "fullyQualifiedName": function, "kind": "function" }]),
        );
    }
    let mut value = json!({
        "ruleId": f.rule.id(),
        "ruleIndex": rule_index,
        "level": level(f.severity),
        "message": { "text": message },
        "locations": [location],
        "partialFingerprints": { "leakscopeFamily/v1": fingerprint(f) },
        "properties": {
            "severity": f.severity.name(),
            "count": f.count,
            "rules": f.rules.iter().map(|r| r.id()).collect::<Vec<_>>(),
            "capture": report.captures.get(f.capture).map(|c| c.path.clone()),
        },
    });
    if let (Some(wait), Some(_), Some(v)) = (&f.sites.waits_at, &f.sites.created_at, value.as_object_mut()) {
        v.insert(
            "relatedLocations".to_owned(),
            json!([{
                "id": 1,
                "physicalLocation": physical(wait, root),
                "message": { "text": format!("they wait here, in {}", wait.function) },
            }]),
        );
    }
    value
}

fn physical(site: &SourceLine, root: Option<&str>) -> Value {
    let file = site.file.replace('\\', "/");
    let absolute = file.starts_with('/') || file.as_bytes().get(1) == Some(&b':');
    let artifact = match root.and_then(|r| file.strip_prefix(r).or_else(|| file.strip_prefix(&r[1..]))) {
        Some(rel) if absolute => json!({ "uri": encode_path(rel), "uriBaseId": SRCROOT }),
        _ if absolute => {
            let slash = if file.starts_with('/') { "" } else { "/" };
            json!({ "uri": format!("file://{slash}{}", encode_path(&file)) })
        }
        // `-trimpath` builds print module paths; left relative, as the capture has them.
        _ => json!({ "uri": encode_path(&file) }),
    };
    json!({ "artifactLocation": artifact, "region": { "startLine": site.line } })
}

/// Percent-encodes what a URI path may not hold as is.
fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~:@!$&'()*+,;=".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A stable id of the family across runs (rule, creator, wait site), so code scanning tracks
/// one alert per family instead of a new one per run.
fn fingerprint(f: &FindingReport) -> String {
    // FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let created = f.group.created_by.as_deref().unwrap_or("");
    for part in [f.rule.id(), created, &f.group.user_function, &f.group.leaf_function] {
        for b in part.bytes().chain([0]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_under_the_root_are_relative() {
        let site = SourceLine { function: "main.f".into(), file: "/src/app/pkg/a b.go".into(), line: 7 };
        let v = physical(&site, Some("/src/app/"));
        assert_eq!(v["artifactLocation"]["uri"], "pkg/a%20b.go");
        assert_eq!(v["artifactLocation"]["uriBaseId"], SRCROOT);
        assert_eq!(v["region"]["startLine"], 7);
        let v = physical(&site, Some("/elsewhere/"));
        assert_eq!(v["artifactLocation"]["uri"], "file:///src/app/pkg/a%20b.go");
        let trimmed = SourceLine { file: "example.com/m/x.go".into(), ..site };
        assert_eq!(physical(&trimmed, Some("/src/"))["artifactLocation"]["uri"], "example.com/m/x.go");
    }

    #[test]
    fn levels() {
        assert_eq!(level(Severity::Proven), "error");
        assert_eq!(level(Severity::Likely), "warning");
        assert_eq!(level(Severity::Possible), "note");
    }
}
