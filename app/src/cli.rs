//! The command line: `leakscope report` runs the engine headless for CI and scripts.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use leakscope_core::report::{CaptureReport, Report};
use leakscope_core::{LoadOptions, Progress};

use crate::app::Startup;

/// Exit code when an input cannot be read or recognised.
pub const EXIT_UNREADABLE: u8 = 2;

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
    /// Parse captures and print what they hold, without a window.
    Report(ReportArgs),
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Capture files (`-` reads standard input).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print a JSON document (see README) instead of text.
    #[arg(long)]
    json: bool,
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

fn report(args: &ReportArgs) -> ExitCode {
    let options = LoadOptions { max_inflated_bytes: args.max_inflated_bytes, ..LoadOptions::default() };
    let mut captures = Vec::new();
    let mut failed = false;
    for path in &args.paths {
        match leakscope_core::open(path, &options, &Progress::new()) {
            Ok(list) => captures.extend(list),
            Err(e) => {
                eprintln!("leakscope: {e}");
                failed = true;
            }
        }
    }
    if failed {
        return ExitCode::from(EXIT_UNREADABLE);
    }
    let report = Report { captures: captures.iter().map(CaptureReport::new).collect(), findings: Vec::new() };
    let mut stdout = std::io::stdout().lock();
    let written = if args.json {
        serde_json::to_writer_pretty(&mut stdout, &report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(stdout))
    } else {
        report.captures.iter().try_for_each(|c| writeln!(stdout, "{}", c.to_text(args.max_groups)))
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("leakscope: writing the report: {e}");
            ExitCode::FAILURE
        }
    }
}
