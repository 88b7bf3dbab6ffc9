//! leakscope: the desktop app and the command line over `leakscope-core`.
//!
//! The app follows one data flow: files are parsed on the loader thread into a [`workspace`],
//! views read it and send [`command`]s, and the [`app`] applies those once per frame. What is
//! remembered between runs lives in [`state`]; every colour in [`theme`].

pub mod app;
pub mod cli;
pub mod command;
pub mod dialog;
pub mod export_menu;
pub mod keys;
pub mod loader;
pub mod native;
pub mod sample;
pub mod state;
pub mod theme;
pub mod views;
pub mod widgets;
pub mod workspace;

pub use app::{App, Startup};
