//! The command line: `leakscope report` runs the engine headless, for CI jobs and scripts.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use leakscope_core::analysis::leaks::{Config, IgnoreScope, Severity};
use leakscope_core::report::Report;
use leakscope_core::session::{Input, Purpose, Session};
use leakscope_core::{LoadOptions, Progress};

use crate::app::Startup;

/// Exit code when an input (or the config) cannot be read or recognised.
pub const EXIT_UNREADABLE: u8 = 2;
/// Exit code when `--fail-on` finds a finding at or above its severity.
pub const EXIT_FINDINGS: u8 = 3;

/// leakscope: find goroutine and task leaks in dumps, profiles and traces.
#[derive(Debug, Parser)]
#[command(name = "leakscope", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Captures to open in the app: one to explore, two to compare (before, after).
    files: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse captures, find leaks and print them, without a window.
    Report(ReportArgs),
}

/// The severities `--fail-on` accepts.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum FailOn {
    Proven,
    Likely,
    Possible,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Capture files (`-` reads standard input). A file holding several dumps is a series.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// An earlier capture of the same program: families that grew since are reported.
    #[arg(long, value_name = "EARLIER")]
    baseline: Option<PathBuf>,
    /// Print a JSON document (see README) instead of text.
    #[arg(long)]
    json: bool,
    /// Exit with code 3 when a finding at or above this severity exists.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    fail_on: Option<FailOn>,
    /// Ignore goroutines with a frame or a creator matching this regex (repeatable).
    #[arg(long, value_name = "REGEX")]
    ignore: Vec<String>,
    /// Config file (default: leakscope.toml in the current directory or a parent).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Most groups listed per capture in the text output.
    #[arg(long, default_value_t = 10)]
    max_groups: usize,
    /// Most bytes a gzip input may inflate to [default: a quarter of this machine's memory, and
    /// at most 256 times the compressed size].
    #[arg(long, value_name = "BYTES")]
    max_inflated_bytes: Option<u64>,
}

/// Runs the command line: `report` headless, anything else opens the window.
pub fn main() -> ExitCode {
    let process_start = std::time::Instant::now();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Report(args)) => report(&args),
        None => {
            // No file: open on the bundled sample so a newcomer sees findings at once.
            let startup = if cli.files.is_empty() { Startup::Sample } else { Startup::Files(cli.files) };
            match crate::native::run(startup, process_start) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("leakscope: cannot open the window: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn load_config(args: &ReportArgs) -> Result<Config, String> {
    let mut config = match &args.config {
        Some(path) => Config::load(path),
        None => Config::discover(&std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))),
    }
    .map_err(|e| e.to_string())?;
    for pattern in &args.ignore {
        config
            .add_ignore(pattern, IgnoreScope::Anywhere, Some(format!("--ignore {pattern}")), None)
            .map_err(|e| e.to_string())?;
    }
    Ok(config)
}

fn report(args: &ReportArgs) -> ExitCode {
    let options = LoadOptions { max_inflated_bytes: args.max_inflated_bytes, ..LoadOptions::default() };
    let config = match load_config(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("leakscope: {e}");
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let inputs: Vec<Input> =
        args.baseline.iter().map(Input::baseline).chain(args.paths.iter().map(Input::file)).collect();
    let session =
        match Session::load(inputs, &options, Purpose::Report, config, &Progress::new(), &mut |_| {}) {
            Ok(s) => s,
            Err(failed) => {
                for e in &failed.errors {
                    eprintln!("leakscope: {e}");
                }
                return ExitCode::from(EXIT_UNREADABLE);
            }
        };
    let report = Report::from_session(&session);
    let mut stdout = std::io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report.to_json())
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
    } else {
        write_text(&mut stdout, &report, args.max_groups)
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("leakscope: writing the report: {e}");
        return ExitCode::FAILURE;
    }
    let threshold = args.fail_on.map(|f| match f {
        FailOn::Proven => Severity::Proven,
        FailOn::Likely => Severity::Likely,
        FailOn::Possible => Severity::Possible,
    });
    match threshold {
        Some(t) if report.fails_at(t) => ExitCode::from(EXIT_FINDINGS),
        _ => ExitCode::SUCCESS,
    }
}

/// The text report: findings first (worst first), then what each capture holds.
fn write_text(out: &mut impl std::io::Write, report: &Report, max_groups: usize) -> std::io::Result<()> {
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
