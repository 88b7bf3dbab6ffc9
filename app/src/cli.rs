//! The command line: `leakscope report` runs the engine headless, for CI jobs and scripts.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use leakscope_core::analysis::leaks::{self, Analysis, Config, IgnoreScope, Severity};
use leakscope_core::report::Report;
use leakscope_core::{Capture, LoadOptions, Progress};

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
    /// Most bytes a gzip input may inflate to.
    #[arg(long, default_value_t = LoadOptions::default().max_inflated_bytes)]
    max_inflated_bytes: u64,
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

fn open(path: &Path, options: &LoadOptions) -> Result<Vec<Capture>, String> {
    leakscope_core::open(path, options, &Progress::new()).map_err(|e| e.to_string())
}

/// Analyses each input: the last capture of each file, with the baseline's last capture and the
/// file's earlier captures (a series) before it.
fn analyse(
    captures: &[Capture],
    files: &[(usize, usize)],
    baseline: &[Capture],
    config: &Config,
) -> Vec<(usize, Analysis)> {
    files
        .iter()
        .filter(|(_, len)| *len > 0)
        .map(|&(start, len)| {
            let mut series: Vec<&Capture> = baseline.last().into_iter().collect();
            series.extend(captures.iter().skip(start).take(len));
            (start + len - 1, leaks::analyze_series(&series, config))
        })
        .collect()
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
    let mut failed = false;
    let baseline = match &args.baseline {
        Some(path) => open(path, &options).unwrap_or_else(|e| {
            eprintln!("leakscope: {e}");
            failed = true;
            Vec::new()
        }),
        None => Vec::new(),
    };
    let mut captures = Vec::new();
    let mut files = Vec::new();
    for path in &args.paths {
        match open(path, &options) {
            Ok(list) => {
                files.push((captures.len(), list.len()));
                captures.extend(list);
            }
            Err(e) => {
                eprintln!("leakscope: {e}");
                failed = true;
            }
        }
    }
    if failed {
        return ExitCode::from(EXIT_UNREADABLE);
    }
    let analyses = analyse(&captures, &files, &baseline, &config);
    let report = Report::new(&captures, &analyses);
    let mut stdout = std::io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report)
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
        Some(t) if analyses.iter().any(|(_, a)| a.fails_at(t)) => ExitCode::from(EXIT_FINDINGS),
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
    for c in &report.captures {
        writeln!(out, "{}", c.to_text(max_groups))?;
    }
    Ok(())
}
