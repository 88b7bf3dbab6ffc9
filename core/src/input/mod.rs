//! The bottom layer: an input's bytes (mapped, owned or static) and the progress and cancel
//! flag a parse reports to. Everything above reads inputs through these; nothing here knows a
//! format or the model.

mod bytes;
pub(crate) mod mmap;
mod progress;

pub use bytes::Bytes;
pub use progress::Progress;
