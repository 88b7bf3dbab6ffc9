//! The report as Markdown for a pull-request comment, an issue or a CI job summary: a table of
//! the findings, then each with its counts, evidence, stack, why, fix and missing facts.

use std::fmt::Write as _;

use super::{FindingReport, Report};
use crate::analysis::leaks::Severity;
use crate::format::clip_names;

/// Frames of a stack shown before the rest is summarised.
const MAX_FRAMES: usize = 16;

/// Escapes what would break a table cell or start Markdown formatting.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '*' | '_' | '`' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

impl Report {
    /// The whole report as GitHub-flavoured Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("# leakscope report\n\n");
        let count = |s: Severity| self.findings.iter().filter(|f| f.severity == s).count();
        if self.findings.is_empty() {
            out.push_str("No leaks found.\n\n");
        } else {
            let _ = writeln!(
                out,
                "**{} proven, {} likely, {} possible** leak findings, {} warnings.\n",
                count(Severity::Proven),
                count(Severity::Likely),
                count(Severity::Possible),
                count(Severity::Warning)
            );
            out.push_str("| # | severity | rule | goroutines | finding |\n|---:|---|---|---:|---|\n");
            for (i, f) in self.findings.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "| {} | {} | `{}` | {} | {} |",
                    i + 1,
                    f.severity.name(),
                    f.rule.id(),
                    f.count,
                    cell(&f.title)
                );
            }
            out.push('\n');
            for (i, f) in self.findings.iter().enumerate() {
                self.finding_markdown(&mut out, i + 1, f);
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "> {}\n", clip_names(note));
        }
        out.push_str("## Captures\n\n| capture | format | goroutines | warnings |\n|---|---|---:|---:|\n");
        for c in &self.captures {
            let baseline = if c.baseline { " (baseline)" } else { "" };
            let kind = c.profile_type.as_deref().map(|p| format!(", {p}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "| `{}`{baseline} | {}{kind} | {} | {} |",
                c.path.replace('`', "'"),
                c.format,
                c.task_count,
                c.warnings.len()
            );
        }
        out
    }

    fn finding_markdown(&self, out: &mut String, number: usize, f: &FindingReport) {
        let rules: Vec<&str> = f.rules.iter().map(|r| r.id()).collect();
        let _ = writeln!(out, "## {number}. {}\n", cell(&f.title));
        let _ = write!(
            out,
            "**{}** · {} goroutines · rules `{}`",
            f.severity.name(),
            f.count,
            rules.join("`, `")
        );
        if let Some(g) = &f.growth {
            let _ = write!(out, " · {} in the baseline, {} now", g.before, g.after);
        }
        if self.captures.len() > 1
            && let Some(c) = self.captures.get(f.capture)
        {
            let _ = write!(out, " · in `{}`", c.path.replace('`', "'"));
        }
        out.push_str("\n\n");
        if let Some(site) = &f.sites.created_at {
            let _ = writeln!(out, "Created at `{}:{}` by `{}`.\n", site.file, site.line, site.function);
        }
        // The facts end with the missing ones as `missing: ...`; those get their own list.
        let facts: Vec<&String> = f.evidence.facts.iter().filter(|x| !x.starts_with("missing: ")).collect();
        if !facts.is_empty() {
            out.push_str("**Evidence**\n\n");
            for fact in facts {
                let _ = writeln!(out, "- {}", clip_names(fact));
            }
            out.push('\n');
        }
        if !f.group.frames.is_empty() {
            out.push_str("<details><summary>Stack</summary>\n\n```\n");
            for frame in f.group.frames.iter().take(MAX_FRAMES) {
                let _ = writeln!(out, "{frame}");
            }
            if f.group.frames.len() > MAX_FRAMES {
                let _ = writeln!(out, "... {} more frames", f.group.frames.len() - MAX_FRAMES);
            }
            out.push_str("```\n\n</details>\n\n");
        }
        let _ = writeln!(out, "**Why.** {}\n", f.explanation);
        if !f.fix.is_empty() {
            let _ = writeln!(out, "**Fix.** {}\n", f.fix);
        }
        if !f.evidence.missing.is_empty() {
            out.push_str("**Missing facts** (a capture with them would make the verdict firmer)\n\n");
            for m in &f.evidence.missing {
                let _ = writeln!(out, "- {}", clip_names(m));
            }
            out.push('\n');
        }
    }
}
