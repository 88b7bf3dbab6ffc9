//! leakscope-core: loading captures (goroutine dumps, pprof profiles, execution traces, Chrome
//! traces), the task-lifecycle model they are parsed into, leak analysis and before/after diff.
//!
//! Data flows one way:
//! `load::open` (mmap, gunzip) → `formats::detect` → `formats::X::parse` → [`model::Capture`]
//! → analysis → diff → views (read only). No UI code lives here.

pub mod analysis;
pub mod diff;
pub mod error;
pub mod export;
pub mod format;
pub mod formats;
pub mod input;
pub mod load;
pub mod model;
pub mod report;
pub mod session;
#[cfg(test)]
mod testing;

pub use error::{InflateLimit, LoadError, Location, ParseError};
pub use input::Bytes;
pub use load::{LoadOptions, Preview, Progress, open, open_bytes};
pub use model::Capture;
