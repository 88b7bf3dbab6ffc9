//! leakscope: the desktop app and the command line over `leakscope-core`.

pub mod cli;
pub mod theme;
pub mod widgets;
