//! Errors that stop a file from loading. Each names the format and the place (line or byte
//! offset) where it can, and the path last, so a person can go and look.

use std::path::PathBuf;

use crate::model::FormatKind;

/// Where in an input a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// 1-based line of a text input.
    Line(u64),
    /// Byte offset in the (decompressed) input.
    Offset(u64),
    /// The input as a whole.
    Whole,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line(line) => write!(f, "line {line}"),
            Location::Offset(offset) => write!(f, "byte {offset}"),
            Location::Whole => f.write_str("the whole input"),
        }
    }
}

/// A parser's verdict that an input can't be read as its format at all. Bad records inside an
/// otherwise good input become [`Warning`](crate::model::Warning)s instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{format} at {location}: {message}")]
pub struct ParseError {
    /// The format the input was parsed as.
    pub format: FormatKind,
    /// Where the problem is.
    pub location: Location,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    /// An error at a line.
    pub fn at_line(format: FormatKind, line: u64, message: impl Into<String>) -> Self {
        Self { format, location: Location::Line(line), message: clipped(message.into()) }
    }

    /// An error at a byte offset.
    pub fn at_offset(format: FormatKind, offset: u64, message: impl Into<String>) -> Self {
        Self { format, location: Location::Offset(offset), message: clipped(message.into()) }
    }

    /// An error about the whole input.
    pub fn whole(format: FormatKind, message: impl Into<String>) -> Self {
        Self { format, location: Location::Whole, message: clipped(message.into()) }
    }
}

/// The most bytes a gzip input may inflate to, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InflateLimit {
    /// The limit.
    pub bytes: u64,
    /// Where it comes from.
    pub reason: LimitReason,
}

/// Where an [`InflateLimit`] comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitReason {
    /// Given by the user (`LoadOptions::max_inflated_bytes`, `--max-inflated-bytes`).
    Given,
    /// A quarter of the memory the process may use (`measured` false: it could not be read and
    /// was assumed).
    Memory {
        /// The memory.
        total_bytes: u64,
        /// Whether it was read from the system.
        measured: bool,
    },
    /// A multiple of the compressed size, with a floor.
    Ratio {
        /// The compressed size.
        compressed_bytes: u64,
        /// The multiple.
        ratio: u64,
        /// The least the limit is.
        floor_bytes: u64,
    },
}

impl std::fmt::Display for InflateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let limit = crate::format::bytes(self.bytes);
        match self.reason {
            LimitReason::Given => write!(f, "the limit of {limit} given"),
            LimitReason::Memory { total_bytes, measured: true } => write!(
                f,
                "the limit of {limit}, a quarter of the {} of memory here, to leave the parse room",
                crate::format::bytes(total_bytes)
            ),
            LimitReason::Memory { total_bytes, measured: false } => write!(
                f,
                "the limit of {limit}, a quarter of an assumed {} of memory (this system's could not be read)",
                crate::format::bytes(total_bytes)
            ),
            LimitReason::Ratio { compressed_bytes, ratio, floor_bytes } => write!(
                f,
                "the limit of {limit}, {ratio} times the {} compressed size (at least {}; real \
                 captures compress 2-60 times)",
                crate::format::bytes(compressed_bytes),
                crate::format::bytes(floor_bytes)
            ),
        }
    }
}

/// A parse error's message with the input it quotes clipped: a 10 MB line must not come back
/// whole.
fn clipped(message: String) -> String {
    match crate::format::clip_names(&message) {
        std::borrow::Cow::Borrowed(_) => message,
        std::borrow::Cow::Owned(clipped) => clipped,
    }
}

/// Why a file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be opened or read.
    #[error("cannot read: {source}: {path}")]
    Io {
        /// The OS error.
        source: std::io::Error,
        /// The file.
        path: PathBuf,
    },
    /// The path names a directory.
    #[error("is a directory, not a capture file: {path}")]
    Directory {
        /// The path.
        path: PathBuf,
    },
    /// The gzip stream is corrupt.
    #[error("gzip: corrupt compressed data after {compressed_offset} compressed bytes: {message}: {path}")]
    Gzip {
        /// How far into the compressed bytes the decoder got.
        compressed_offset: u64,
        /// The decoder's complaint.
        message: String,
        /// The file.
        path: PathBuf,
    },
    /// The gzip stream inflates past its limit.
    #[error(
        "gzip: inflates past {limit} (a gzip bomb? raise it with --max-inflated-bytes), at compressed byte {compressed_offset}: {path}"
    )]
    InflateLimit {
        /// The limit and why it is what it is.
        limit: InflateLimit,
        /// How far into the compressed bytes the decoder got.
        compressed_offset: u64,
        /// The file.
        path: PathBuf,
    },
    /// The memory for the inflated bytes could not be had.
    #[error("gzip: cannot allocate {} for the inflated bytes, at compressed byte {compressed_offset}: {path}", crate::format::bytes(*.bytes))]
    OutOfMemory {
        /// The bytes asked for.
        bytes: u64,
        /// How far into the compressed bytes the decoder got.
        compressed_offset: u64,
        /// The file.
        path: PathBuf,
    },
    /// The file (or what its gzip stream inflates to) holds nothing.
    #[error("empty file{}: {path}", if *.gzipped { " (its gzip stream inflates to nothing)" } else { "" })]
    Empty {
        /// Whether the file is gzip that inflates to nothing.
        gzipped: bool,
        /// The file.
        path: PathBuf,
    },
    /// No parser recognised the content.
    #[error("unrecognised format{} (tried {tried}); first bytes: {head:?}: {path}", inside_gzip(*.gzipped))]
    UnknownFormat {
        /// Format names tried, comma-separated.
        tried: String,
        /// The first bytes, for a person to recognise the file.
        head: String,
        /// Whether these are the first bytes inflated from gzip (where sniffing stops the
        /// inflation as soon as no format can match).
        gzipped: bool,
        /// The file.
        path: PathBuf,
    },
    /// The content was recognised but cannot be parsed.
    #[error("{source}: {path}")]
    Parse {
        /// Format, place and message.
        source: ParseError,
        /// The file.
        path: PathBuf,
    },
    /// The file changed while it was read, and re-reading it did not give a stable copy.
    #[error(
        "changed while being read (size or modification time moved); try again once it is complete: {path}"
    )]
    Changed {
        /// The file.
        path: PathBuf,
    },
    /// The user cancelled the load.
    #[error("cancelled: {path}")]
    Cancelled {
        /// The file.
        path: PathBuf,
    },
}

impl LoadError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            LoadError::Io { path, .. }
            | LoadError::Directory { path }
            | LoadError::Gzip { path, .. }
            | LoadError::InflateLimit { path, .. }
            | LoadError::OutOfMemory { path, .. }
            | LoadError::Empty { path, .. }
            | LoadError::UnknownFormat { path, .. }
            | LoadError::Parse { path, .. }
            | LoadError::Changed { path }
            | LoadError::Cancelled { path } => path,
        }
    }
}

fn inside_gzip(gzipped: bool) -> &'static str {
    if gzipped { " inside gzip" } else { "" }
}
