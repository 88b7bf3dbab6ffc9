//! Helpers for unit tests.

/// A xorshift64 generator: a fixed seed gives the same inputs on every machine and run, so a
/// failing random case can be read again.
pub(crate) fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}
