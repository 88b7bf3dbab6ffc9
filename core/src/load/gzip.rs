//! gzip inflation with a size limit. Detection is by magic bytes, never by file name; every
//! member of a multi-member stream is inflated (pprof writers and `cat a.gz b.gz` make them).

use std::io::Read;

use flate2::read::MultiGzDecoder;

use crate::input::Progress;

/// The gzip magic number.
const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `bytes` start a gzip stream.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Why inflation stopped.
#[derive(Debug)]
pub(crate) enum InflateError {
    /// Corrupt data after this many compressed bytes.
    Corrupt { compressed_offset: u64, message: String },
    /// More than the limit would come out.
    Limit,
    /// Cancelled through [`Progress`].
    Cancelled,
}

/// The error the reader below returns once the load is cancelled.
#[derive(Debug)]
struct Cancelled;

impl std::fmt::Display for Cancelled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// Counts how many compressed bytes the decoder has consumed, for error messages and progress.
struct CountingReader<'a> {
    inner: &'a [u8],
    consumed: u64,
    progress: &'a Progress,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.progress.is_cancelled() {
            // Not `Interrupted`: readers retry on that, and the decoder would spin forever.
            return Err(std::io::Error::other(Cancelled));
        }
        let n = self.inner.read(buf)?;
        self.consumed += n as u64;
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// Inflates all members of `compressed`, refusing to produce more than `limit_bytes`.
pub(crate) fn inflate(
    compressed: &[u8],
    limit_bytes: u64,
    progress: &Progress,
) -> Result<Vec<u8>, InflateError> {
    progress.start_phase(compressed.len() as u64);
    let mut reader = CountingReader { inner: compressed, consumed: 0, progress };
    // A typical compression ratio for text dumps is 10-20x; reserve for a modest one and let the
    // vector grow, so a tiny bomb doesn't reserve its claimed size up front.
    let mut out = Vec::with_capacity(compressed.len().saturating_mul(4).min(limit_bytes as usize));
    let mut decoder = MultiGzDecoder::new(&mut reader);
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        match decoder.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                if out.len() as u64 + n as u64 > limit_bytes {
                    return Err(InflateError::Limit);
                }
                out.extend_from_slice(chunk.get(..n).unwrap_or_default());
            }
            Err(e) if e.get_ref().is_some_and(<dyn std::error::Error + Send + Sync>::is::<Cancelled>) => {
                return Err(InflateError::Cancelled);
            }
            Err(e) => {
                drop(decoder);
                return Err(InflateError::Corrupt {
                    compressed_offset: reader.consumed,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inflates_multiple_members() {
        let mut both = gz(b"hello ");
        both.extend(gz(b"world"));
        assert!(is_gzip(&both));
        assert_eq!(inflate(&both, 1 << 20, &Progress::new()).unwrap(), b"hello world");
    }

    #[test]
    fn limit_stops_a_bomb() {
        let bomb = gz(&vec![0u8; 10 << 20]);
        assert!(bomb.len() < 100_000);
        assert!(matches!(inflate(&bomb, 1 << 20, &Progress::new()), Err(InflateError::Limit)));
    }

    /// A cancel used to be reported as `ErrorKind::Interrupted`, which readers retry: the
    /// decoder spun forever instead of stopping.
    #[test]
    fn regression_cancel_while_inflating_does_not_spin() {
        let progress = Progress::new();
        progress.cancel();
        let data = gz(&vec![b'x'; 1 << 20]);
        assert!(matches!(inflate(&data, 1 << 30, &progress), Err(InflateError::Cancelled)));
    }

    #[test]
    fn corrupt_data_is_an_error_not_a_panic() {
        let mut bad = gz(b"some text that is long enough to be compressed into a few blocks");
        let mid = bad.len() / 2;
        bad[mid] ^= 0xff;
        bad.truncate(bad.len() - 3);
        assert!(matches!(inflate(&bad, 1 << 20, &Progress::new()), Err(InflateError::Corrupt { .. })));
    }
}
