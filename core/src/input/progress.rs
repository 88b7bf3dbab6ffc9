//! Progress and cancellation shared between a loading thread and whoever watches it (the app's
//! progress bar, a Cancel button). Parsers report bytes done and poll the cancel flag between
//! records, so a cancel takes effect within milliseconds even on a 2 GB file.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Bytes done out of a total, plus a cancel flag.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
    cancelled: AtomicBool,
}

impl Progress {
    /// A fresh tracker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the total and resets what is done (each phase, inflate then parse, counts anew).
    pub fn start_phase(&self, total_bytes: u64) {
        self.total.store(total_bytes, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    /// Adds to the bytes done.
    pub fn advance(&self, bytes: u64) {
        self.done.fetch_add(bytes, Ordering::Relaxed);
    }

    /// (done, total) in bytes.
    pub fn bytes(&self) -> (u64, u64) {
        (self.done.load(Ordering::Relaxed), self.total.load(Ordering::Relaxed))
    }

    /// Fraction done in 0..=1.
    pub fn fraction(&self) -> f32 {
        let (done, total) = self.bytes();
        if total == 0 { 0.0 } else { (done as f64 / total as f64).clamp(0.0, 1.0) as f32 }
    }

    /// Asks the load to stop.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    /// Whether a cancel was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}
