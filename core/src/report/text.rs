//! The report as text for a person: the findings worst first, then what each capture holds.

use super::Report;
use crate::analysis::leaks::Severity;

/// Writes the text report: findings first (worst first), then what each capture holds, at most
/// `max_groups` groups of each.
pub fn write_text(out: &mut impl std::io::Write, report: &Report, max_groups: usize) -> std::io::Result<()> {
    if report.findings.is_empty() {
        writeln!(out, "No leaks found.\n")?;
    } else {
        let leaks = report.findings.iter().filter(|f| f.severity != Severity::Warning).count();
        writeln!(out, "{leaks} leak findings, {} warnings.\n", report.findings.len() - leaks)?;
        for f in &report.findings {
            if report.captures.len() > 1
                && let Some(c) = report.captures.get(f.capture)
            {
                writeln!(out, "in {}:", c.path)?;
            }
            writeln!(out, "{}", f.to_text())?;
        }
    }
    for note in &report.notes {
        writeln!(out, "note: {note}\n")?;
    }
    for s in report.series.iter().filter(|s| s.captures.len() > 1) {
        let names: Vec<String> = s
            .captures
            .iter()
            .filter_map(|&i| report.captures.get(i))
            .map(|c| {
                let place = if c.series_len > 1 {
                    format!(" (dump {} of {} in the file)", c.series_index + 1, c.series_len)
                } else {
                    String::new()
                };
                let baseline = if c.baseline { " (baseline)" } else { "" };
                format!("{}{place}{baseline}", c.path)
            })
            .collect();
        writeln!(out, "series of {} {} captures, oldest first ({}):", names.len(), s.kind, s.order)?;
        for n in names {
            writeln!(out, "  {n}")?;
        }
        writeln!(out)?;
    }
    for c in &report.captures {
        writeln!(out, "{}", c.to_text(max_groups))?;
    }
    Ok(())
}
