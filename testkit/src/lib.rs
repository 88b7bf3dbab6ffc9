//! Synthetic inputs of realistic shape and any size, for leakscope's benchmarks, tests,
//! examples and fuzzing seeds. A crate of its own so that none of it ships in the app or the
//! library: `leakscope-core` and `leakscope` take it as a dev-dependency only.
//!
//! Deterministic: the same arguments give the same bytes on every machine, so benchmark runs
//! compare.

pub mod alloc;
pub mod chrome;
pub mod dump;
pub mod go;
pub mod go_trace;
pub mod measure;
pub mod pprof;
pub mod rng;
pub mod widgets;
