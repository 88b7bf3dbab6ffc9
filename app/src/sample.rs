//! The sample embedded in the binary, so `leakscope` with no argument opens on real findings: a
//! before/after pair of goroutine dumps from `orders-api` (sample-traces/generators/orders-api),
//! a small HTTP service with several leak families. Stored gzipped; the loader inflates gzip.

/// Name of the earlier dump, as errors and tabs show it.
pub const BEFORE_NAME: &str = "bundled:orders-api.before.debug2.txt";
/// Name of the later dump.
pub const AFTER_NAME: &str = "bundled:orders-api.after.debug2.txt";

/// The earlier dump (little load), gzipped.
pub static BEFORE_GZ: &[u8] = include_bytes!("../../sample-traces/orders-api.before.debug2.txt.gz");
/// The later dump (ten times the load, minutes later), gzipped.
pub static AFTER_GZ: &[u8] = include_bytes!("../../sample-traces/orders-api.after.debug2.txt.gz");
