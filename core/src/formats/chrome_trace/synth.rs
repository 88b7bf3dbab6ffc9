//! Synthetic traces for benchmarks, tests and fuzzing seeds.
