//! Opening inputs: files are memory-mapped (stdin and special files are read), gzip is detected
//! by its magic bytes and inflated with a limit, the format is sniffed from content, and the
//! parser runs. Nothing here ever writes to an input.

pub mod gzip;
mod limit;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::input::mmap;
pub use crate::input::{Bytes, Progress};

use crate::error::LoadError;
pub use crate::formats::Preview;
use crate::formats::{self, Detected, Detector, Format, Input};
use crate::model::{Capture, FormatKind};

/// Knobs for loading.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Most bytes a gzip stream may inflate to; `None` for the automatic limit: a
    /// quarter of the machine's memory, at most 256 times the compressed size.
    pub max_inflated_bytes: Option<u64>,
    /// Parse as this format instead of sniffing.
    pub format: Option<FormatKind>,
    /// Files modified more recently than this are read into memory rather than mapped: a
    /// writer may still be truncating or rewriting them.
    pub fresh_file_age: Duration,
    /// Where a parser sends a first picture of a large input before it has read the whole
    /// (see [`Preview`]); `None` reads every input whole before anything is shown.
    pub preview: Option<Preview>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { max_inflated_bytes: None, format: None, fresh_file_age: Duration::from_secs(2), preview: None }
    }
}

/// The path that means standard input.
pub const STDIN_PATH: &str = "-";

/// Opens and parses the file at `path` (or stdin for `-`). A file holding several dumps gives
/// several captures, oldest first.
pub fn open(path: &Path, options: &LoadOptions, progress: &Progress) -> Result<Vec<Capture>, LoadError> {
    let display = path.display().to_string();
    if display == STDIN_PATH {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut buf)
            .map_err(|source| LoadError::Io { source, path: path.into() })?;
        return open_bytes(&display, Bytes::Owned(buf), options, progress);
    }
    let io = |source| LoadError::Io { source, path: path.into() };
    let before = std::fs::metadata(path).map_err(io)?;
    if before.is_dir() {
        return Err(LoadError::Directory { path: path.into() });
    }
    if !before.is_file() || is_fresh(&before, options.fresh_file_age) {
        return open_read_into_memory(path, &display, options, progress);
    }
    let file = File::open(path).map_err(io)?;
    let (bytes, fault) = match mmap::map_read_only(&file) {
        Ok(map) => {
            let fault = map.fault_flag();
            (Bytes::Mapped(map), fault)
        }
        // Some filesystems (procfs, some FUSE mounts) can't be mapped; read those instead.
        Err(_) => return open_read_into_memory(path, &display, options, progress),
    };
    let parsed = open_bytes(&display, bytes, options, progress);
    // The file shrank while it was mapped: part of what was parsed read as zeros. Whatever the
    // parse said, read what is there now.
    if fault.faulted() {
        let mut captures = open_read_into_memory(path, &display, options, progress)?;
        let now = std::fs::metadata(path).map_or(0, |m| m.len());
        for c in &mut captures {
            c.warnings.push(crate::model::Warning {
                message: format!(
                    "the file shrank from {} to {now} bytes while it was read (rotated or truncated by another program): what is shown is what it holds now",
                    before.len()
                ),
                line: None,
                offset: None,
            });
        }
        return Ok(captures);
    }
    let captures = parsed?;
    let after = std::fs::metadata(path).map_err(io)?;
    if same_file_state(&before, &after) {
        Ok(captures)
    } else {
        // The mapping may have seen a mix of old and new contents; take one stable copy.
        open_read_into_memory(path, &display, options, progress)
    }
}

/// Parses bytes already in memory (stdin, a bundled sample, a test input). `name` is what
/// errors and the captures' `source.path` show.
pub fn open_bytes(
    name: &str,
    bytes: Bytes,
    options: &LoadOptions,
    progress: &Progress,
) -> Result<Vec<Capture>, LoadError> {
    let path = PathBuf::from(name);
    let (bytes, gzipped, trailing_garbage) = if gzip::is_gzip(&bytes) {
        let inflated = inflate(&bytes, &path, options, progress)?;
        (Bytes::Owned(inflated.bytes), true, inflated.trailing_garbage)
    } else {
        (bytes, false, None)
    };
    if bytes.is_empty() {
        return Err(LoadError::Empty { gzipped, path });
    }
    let format: &dyn Format = match options.format {
        Some(kind) => formats::by_kind(kind).ok_or_else(|| unknown(&bytes, &[kind], gzipped, &path))?,
        None => match formats::detect(&bytes) {
            Ok(format) => format,
            // A damaged file of a known format: its parser says what is wrong, and where.
            Err(tried) => {
                formats::resembling(&bytes, gzipped).ok_or_else(|| unknown(&bytes, &tried, gzipped, &path))?
            }
        },
    };
    let shared = Arc::new(bytes);
    progress.start_phase(shared.len() as u64);
    // A first picture gets the same source fields as the whole capture below.
    let preview = options.preview.as_ref().map(|p| {
        let sink = Arc::clone(&p.sink);
        let kind = format.kind();
        let name = name.to_owned();
        Preview {
            min_bytes: p.min_bytes,
            sink: Arc::new(move |mut capture: Capture| {
                name.clone_into(&mut capture.source.path);
                capture.source.format = Some(kind);
                capture.source.gzipped = gzipped;
                sink(capture);
            }),
        }
    });
    let input =
        Input { bytes: &shared, shared: &shared, path: name, gzipped, progress, preview: preview.as_ref() };
    let mut captures = format.parse(&input).map_err(|source| {
        if progress.is_cancelled() {
            LoadError::Cancelled { path: path.clone() }
        } else {
            LoadError::Parse { source, path: path.clone() }
        }
    })?;
    let len = captures.len();
    for (i, capture) in captures.iter_mut().enumerate() {
        name.clone_into(&mut capture.source.path);
        capture.source.format = Some(format.kind());
        capture.source.gzipped = gzipped;
        capture.source.series_index = i;
        capture.source.series_len = len;
        if capture.source.bytes == 0 {
            capture.source.bytes = shared.len() as u64;
        }
        if let Some(t) = trailing_garbage {
            capture.warnings.general(format!(
                "gzip: the {} bytes after the last member (from compressed byte {}) are not gzip data; ignored, as gzip does",
                t.len, t.compressed_offset
            ));
        }
    }
    Ok(captures)
}

/// Inflates a gzip input, sniffing what comes out as it comes so that a stream no format can
/// read (a bomb of zeros) stops after its first chunk instead of at the limit.
fn inflate(
    compressed: &[u8],
    path: &Path,
    options: &LoadOptions,
    progress: &Progress,
) -> Result<gzip::Inflated, LoadError> {
    let limit = limit::for_input(compressed.len() as u64, options.max_inflated_bytes);
    let mut sniff = StreamSniff { detector: Detector::default(), settled: options.format.is_some() };
    gzip::inflate(compressed, limit.bytes, progress, |so_far| sniff.keep_going(so_far)).map_err(|e| match e {
        gzip::InflateError::Corrupt { compressed_offset, message } => {
            LoadError::Gzip { compressed_offset, message, path: path.into() }
        }
        gzip::InflateError::Limit { compressed_offset } => {
            LoadError::InflateLimit { limit, compressed_offset, path: path.into() }
        }
        gzip::InflateError::OutOfMemory { bytes, compressed_offset } => {
            LoadError::OutOfMemory { bytes, compressed_offset, path: path.into() }
        }
        gzip::InflateError::Refused { head } => {
            unknown(&head, &formats::all().iter().map(|f| f.kind()).collect::<Vec<_>>(), true, path)
        }
        gzip::InflateError::Cancelled => LoadError::Cancelled { path: path.into() },
    })
}

/// Sniffing over gzip output as it grows, in the same rounds as [`formats::detect`]: a round
/// runs once more than its prefix has come out, so the answer is the one `detect` gives on the
/// whole output.
struct StreamSniff {
    detector: Detector,
    /// A format said yes (or was given): inflate to the end.
    settled: bool,
}

impl StreamSniff {
    /// Whether inflating should go on, given everything inflated so far.
    fn keep_going(&mut self, so_far: &[u8]) -> bool {
        while !self.settled {
            // The last round is over the whole output, which only the end of the stream gives.
            let Some(n) = self.detector.next_prefix() else { return true };
            let Some(head) = so_far.get(..n).filter(|_| so_far.len() > n) else { return true };
            match self.detector.round(head, false) {
                Detected::Format(_) => self.settled = true,
                Detected::NeedMore => {}
                // A damaged stream of a known format is inflated to the end for its parser's error.
                Detected::Nothing if formats::resembling(so_far, true).is_some() => self.settled = true,
                Detected::Nothing => return false,
            }
        }
        true
    }
}

fn open_read_into_memory(
    path: &Path,
    display: &str,
    options: &LoadOptions,
    progress: &Progress,
) -> Result<Vec<Capture>, LoadError> {
    let io = |source| LoadError::Io { source, path: path.into() };
    // A file being rewritten can change between our reads; try a few times for a stable copy.
    for _ in 0..3 {
        let before = std::fs::metadata(path).map_err(io)?;
        let mut buf = Vec::new();
        File::open(path).and_then(|mut f| f.read_to_end(&mut buf)).map_err(io)?;
        let after = std::fs::metadata(path).map_err(io)?;
        if !before.is_file() || same_file_state(&before, &after) {
            return open_bytes(display, Bytes::Owned(buf), options, progress);
        }
    }
    Err(LoadError::Changed { path: path.into() })
}

fn is_fresh(meta: &std::fs::Metadata, age: Duration) -> bool {
    meta.modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|elapsed| elapsed < age)
}

fn same_file_state(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

fn unknown(bytes: &[u8], tried: &[FormatKind], gzipped: bool, path: &Path) -> LoadError {
    let head: String = String::from_utf8_lossy(bytes.get(..bytes.len().min(48)).unwrap_or_default())
        .chars()
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    LoadError::UnknownFormat {
        tried: tried.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "),
        head,
        gzipped,
        path: path.into(),
    }
}
