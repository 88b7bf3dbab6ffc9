//! How far a gzip input may inflate: a quarter of the machine's memory, so that the parse has
//! room beside the inflated bytes, and at most a multiple of the compressed size that real
//! captures never reach, so that a small bomb is refused after little work. Either is said in
//! the error, with the number, so a person can judge it and raise it.

use crate::error::{InflateLimit, LimitReason};

/// Real captures compress 2-60x (pprof 2x, trace JSON 5-30x, dumps of many identical
/// goroutines 60x); zeros compress 1000x.
const MAX_RATIO: u64 = 256;

/// Small inputs may always inflate this far: their bombs cost little.
const RATIO_FLOOR_BYTES: u64 = 256 << 20;

/// The share of memory the inflated bytes may take: parsing needs 1-3x the input beside it.
const MEMORY_SHARE: u64 = 4;

/// What is assumed when the machine's memory cannot be read.
const ASSUMED_MEMORY_BYTES: u64 = 8 << 30;

/// The limit for a gzip input of `compressed_bytes`: `given` if set, else the smaller of a
/// quarter of the memory and [`MAX_RATIO`] times the compressed size.
pub fn for_input(compressed_bytes: u64, given: Option<u64>) -> InflateLimit {
    if let Some(bytes) = given {
        return InflateLimit { bytes, reason: LimitReason::Given };
    }
    let (total_bytes, measured) =
        available_memory_bytes().map_or((ASSUMED_MEMORY_BYTES, false), |m| (m, true));
    from_parts(compressed_bytes, total_bytes, measured)
}

fn from_parts(compressed_bytes: u64, total_bytes: u64, measured: bool) -> InflateLimit {
    let by_memory = total_bytes / MEMORY_SHARE;
    let by_ratio = compressed_bytes.saturating_mul(MAX_RATIO).max(RATIO_FLOOR_BYTES);
    if by_ratio < by_memory {
        InflateLimit {
            bytes: by_ratio,
            reason: LimitReason::Ratio { compressed_bytes, ratio: MAX_RATIO, floor_bytes: RATIO_FLOOR_BYTES },
        }
    } else {
        InflateLimit { bytes: by_memory, reason: LimitReason::Memory { total_bytes, measured } }
    }
}

/// The memory this process may use: the machine's, or its control group's limit if lower.
/// `None` where it cannot be read (not Linux).
fn available_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let total_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    let total = total_kib.saturating_mul(1024);
    // cgroup v2, then v1; "max" or a huge v1 number means no limit.
    let group = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok());
    Some(group.map_or(total, |g| g.min(total)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_inputs_are_bounded_by_their_size_large_ones_by_memory() {
        let gib = 1u64 << 30;
        // The bomb of the issue: 47 MB of gzip, 23.5 GiB of memory.
        let bomb = from_parts(47 << 20, 24 * gib, true);
        assert_eq!(
            bomb,
            InflateLimit {
                bytes: 6 * gib,
                reason: LimitReason::Memory { total_bytes: 24 * gib, measured: true }
            }
        );
        assert!(bomb.to_string().contains("a quarter of the 24.0 GiB of memory"), "{bomb}");
        let small = from_parts(4 << 20, 24 * gib, true);
        assert_eq!(small.bytes, 1 << 30);
        assert!(small.to_string().contains("256 times the 4.00 MiB compressed size"), "{small}");
        assert_eq!(from_parts(1000, 24 * gib, true).bytes, RATIO_FLOOR_BYTES);
        let given = for_input(1000, Some(5));
        assert_eq!(given, InflateLimit { bytes: 5, reason: LimitReason::Given });
        assert!(for_input(47 << 20, None).bytes > 0);
    }
}
