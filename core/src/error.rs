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
        Self { format, location: Location::Line(line), message: message.into() }
    }

    /// An error at a byte offset.
    pub fn at_offset(format: FormatKind, offset: u64, message: impl Into<String>) -> Self {
        Self { format, location: Location::Offset(offset), message: message.into() }
    }

    /// An error about the whole input.
    pub fn whole(format: FormatKind, message: impl Into<String>) -> Self {
        Self { format, location: Location::Whole, message: message.into() }
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
    /// The gzip stream inflates past the configured limit.
    #[error(
        "gzip: inflates past the {limit_bytes}-byte limit (a gzip bomb, or raise it with --max-inflated-bytes): {path}"
    )]
    InflateLimit {
        /// The limit.
        limit_bytes: u64,
        /// The file.
        path: PathBuf,
    },
    /// No parser recognised the content.
    #[error("unrecognised format (tried {tried}); first bytes: {head:?}: {path}")]
    UnknownFormat {
        /// Format names tried, comma-separated.
        tried: String,
        /// The first bytes, for a person to recognise the file.
        head: String,
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
            | LoadError::UnknownFormat { path, .. }
            | LoadError::Parse { path, .. }
            | LoadError::Changed { path }
            | LoadError::Cancelled { path } => path,
        }
    }
}
