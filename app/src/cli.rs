//! The command line: `leakscope report` runs the engine headless, for CI jobs and scripts.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use leakscope_core::analysis::leaks::{Config, IgnoreScope, Severity};
use leakscope_core::report::{Report, SarifOptions, to_sarif, write_text};
use leakscope_core::session::{Input, Purpose, Session};
use leakscope_core::{LoadOptions, Progress, export};

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
    /// Write a goroutine capture as a pprof profile, folded stacks or a flamegraph SVG.
    Export(ExportArgs),
}

/// The report's output formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people.
    #[default]
    Text,
    /// The stable document for scripts (see README).
    Json,
    /// GitHub-flavoured Markdown, for a pull-request comment or a job summary.
    Markdown,
    /// SARIF 2.1.0, for GitHub code scanning and IDEs.
    Sarif,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("output").required(true).multiple(true)))]
struct ExportArgs {
    /// The capture: a goroutine dump, a `debug=1` or pprof goroutine profile, or an execution
    /// trace (the goroutines alive at its end). Of a file holding several dumps, the last.
    capture: PathBuf,
    /// Write a gzipped pprof goroutine profile (labels kept; state, wait minutes and the leak
    /// mark added as labels).
    #[arg(long, value_name = "OUT.pb.gz", group = "output")]
    pprof: Option<PathBuf>,
    /// Write folded stacks (`root;...;leaf N`) for inferno or flamegraph.pl.
    #[arg(long, value_name = "OUT", group = "output")]
    folded: Option<PathBuf>,
    /// Write the flamegraph as a standalone SVG.
    #[arg(long, value_name = "OUT.svg", group = "output")]
    svg: Option<PathBuf>,
    /// Most bytes a gzip input may inflate to (as for `report`).
    #[arg(long, value_name = "BYTES")]
    max_inflated_bytes: Option<u64>,
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
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text, value_name = "FORMAT")]
    format: Format,
    /// Same as `--format json`.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// The checkout the program was built from (SARIF): source paths under it are written
    /// relative to it, so code scanning can annotate the lines [default: the current directory].
    #[arg(long, value_name = "DIR")]
    source_root: Option<PathBuf>,
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
        Some(Command::Export(args)) => export(&args),
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
    let format = if args.json { Format::Json } else { args.format };
    let mut stdout = std::io::stdout().lock();
    let written = match format {
        Format::Json => write_json(&mut stdout, &report.to_json()),
        Format::Sarif => {
            let options = SarifOptions {
                source_root: args.source_root.clone().or_else(|| std::env::current_dir().ok()),
                version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            };
            write_json(&mut stdout, &to_sarif(&report, &options))
        }
        Format::Markdown => stdout.write_all(report.to_markdown().as_bytes()),
        Format::Text => write_text(&mut stdout, &report, args.max_groups),
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

fn write_json(out: &mut impl std::io::Write, value: &serde_json::Value) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
    writeln!(out)
}

/// Whether `out` names the file at `input` (the same path, or a link to it).
fn same_file(input: &std::path::Path, out: &std::path::Path) -> bool {
    match (std::fs::canonicalize(input), std::fs::canonicalize(out)) {
        (Ok(a), Ok(b)) => a == b,
        _ => input == out,
    }
}

fn export(args: &ExportArgs) -> ExitCode {
    let outputs = [&args.pprof, &args.folded, &args.svg];
    for out in outputs.into_iter().flatten() {
        if same_file(&args.capture, out) {
            eprintln!("leakscope: {} is the input; export never overwrites an input file", out.display());
            return ExitCode::from(EXIT_UNREADABLE);
        }
    }
    let options = LoadOptions { max_inflated_bytes: args.max_inflated_bytes, ..LoadOptions::default() };
    let session = match Session::load(
        vec![Input::file(&args.capture)],
        &options,
        Purpose::Report,
        Config::default(),
        &Progress::new(),
        &mut |_| {},
    ) {
        Ok(s) => s,
        Err(failed) => {
            for e in &failed.errors {
                eprintln!("leakscope: {e}");
            }
            return ExitCode::from(EXIT_UNREADABLE);
        }
    };
    let Some(loaded) = session.captures.last() else {
        eprintln!("leakscope: {} holds no capture", args.capture.display());
        return ExitCode::from(EXIT_UNREADABLE);
    };
    let capture = &loaded.capture;
    if export::samples(capture).is_empty() {
        eprintln!("leakscope: {} holds no goroutines to export", args.capture.display());
        return ExitCode::from(EXIT_UNREADABLE);
    }
    let mut jobs: Vec<(&PathBuf, std::io::Result<Vec<u8>>)> = Vec::new();
    if let Some(out) = &args.pprof {
        jobs.push((out, export::to_pprof_gz(capture)));
    }
    if let Some(out) = &args.folded {
        jobs.push((out, Ok(export::to_folded(capture).into_bytes())));
    }
    if let Some(out) = &args.svg {
        let title = format!("{}: {} goroutines", loaded.name, capture.task_count());
        jobs.push((out, Ok(export::to_svg(capture, &title).into_bytes())));
    }
    for (out, bytes) in jobs {
        if let Err(e) = bytes.and_then(|b| std::fs::write(out, b)) {
            eprintln!("leakscope: writing {}: {e}", out.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
