//! gzip inflation with a size limit, asking the caller after every chunk whether to go on, so
//! that a stream nothing can read stops at its first bytes. Detection is by magic bytes, never by
//! file name; every member of a multi-member stream is inflated (pprof writers and
//! `cat a.gz b.gz` make them), and what follows the last member is ignored as gzip ignores it:
//! zero padding (tape and block devices write it) silently, anything else with a warning.

use std::io::{BufRead, Read};

use flate2::bufread::GzDecoder;

use crate::input::Progress;

/// The gzip magic number.
const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How much is inflated between two questions to the caller.
const CHUNK_BYTES: usize = 256 << 10;

/// Whether `bytes` start a gzip stream.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// What inflation gave.
#[derive(Debug)]
pub(crate) struct Inflated {
    /// The inflated bytes of every member.
    pub bytes: Vec<u8>,
    /// Bytes after the last member that are neither a member nor zero padding.
    pub trailing_garbage: Option<Trailing>,
}

/// Bytes after the last gzip member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Trailing {
    /// Where they start in the compressed input.
    pub compressed_offset: u64,
    /// How many there are.
    pub len: u64,
}

/// Why inflation stopped.
#[derive(Debug)]
pub(crate) enum InflateError {
    /// Corrupt data after this many compressed bytes.
    Corrupt { compressed_offset: u64, message: String },
    /// More than the limit would come out; this many compressed bytes were read.
    Limit { compressed_offset: u64 },
    /// The memory for `bytes` inflated bytes could not be had.
    OutOfMemory { bytes: u64, compressed_offset: u64 },
    /// The caller said no format can read what came out so far (`head`).
    Refused { head: Vec<u8> },
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

/// Hands the decoder the compressed bytes, counting how many it has consumed (for error
/// messages, progress, and where a member ends).
struct CountingReader<'a> {
    rest: &'a [u8],
    consumed: u64,
    progress: &'a Progress,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            if let (Some(to), Some(from)) = (buf.get_mut(..n), available.get(..n)) {
                to.copy_from_slice(from);
            }
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for CountingReader<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.progress.is_cancelled() {
            // Not `Interrupted`: readers retry on that, and the decoder would spin forever.
            return Err(std::io::Error::other(Cancelled));
        }
        Ok(self.rest)
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.rest.len());
        self.rest = self.rest.get(amount..).unwrap_or_default();
        self.consumed += amount as u64;
        self.progress.advance(amount as u64);
    }
}

/// Inflates all members of `compressed`, never holding more than `limit_bytes` of output.
/// After every chunk `keep_going` sees everything inflated so far; when it says no, inflation
/// stops with [`InflateError::Refused`].
pub(crate) fn inflate(
    compressed: &[u8],
    limit_bytes: u64,
    progress: &Progress,
    mut keep_going: impl FnMut(&[u8]) -> bool,
) -> Result<Inflated, InflateError> {
    progress.start_phase(compressed.len() as u64);
    let mut out = Vec::new();
    // A typical compression ratio for text dumps is 10-20x; start there and grow, so a tiny
    // bomb doesn't reserve its claimed size up front.
    reserve(&mut out, (compressed.len().saturating_mul(4) as u64).min(limit_bytes), 0)?;
    let mut chunk = vec![0u8; CHUNK_BYTES];
    let mut reader = CountingReader { rest: compressed, consumed: 0, progress };
    let trailing_garbage = loop {
        let mut decoder = GzDecoder::new(reader);
        loop {
            let n = match decoder.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.get_ref().is_some_and(<dyn std::error::Error + Send + Sync>::is::<Cancelled>) => {
                    return Err(InflateError::Cancelled);
                }
                Err(e) => {
                    return Err(InflateError::Corrupt {
                        compressed_offset: decoder.get_ref().consumed,
                        message: e.to_string(),
                    });
                }
            };
            let compressed_offset = decoder.get_ref().consumed;
            let total = out.len() as u64 + n as u64;
            if total > limit_bytes {
                return Err(InflateError::Limit { compressed_offset });
            }
            if total > out.capacity() as u64 {
                // Double, but never past the limit: the buffer is the one thing a bomb grows.
                let want = (out.capacity() as u64).saturating_mul(2).max(total).min(limit_bytes);
                reserve(&mut out, want, compressed_offset)?;
            }
            out.extend_from_slice(chunk.get(..n).unwrap_or_default());
            if !keep_going(&out) {
                return Err(InflateError::Refused { head: out });
            }
        }
        reader = decoder.into_inner();
        let rest = reader.rest;
        if rest.is_empty() || rest.iter().all(|&b| b == 0) {
            break None;
        }
        if !is_gzip(rest) {
            break Some(Trailing { compressed_offset: reader.consumed, len: rest.len() as u64 });
        }
    };
    Ok(Inflated { bytes: out, trailing_garbage })
}

/// Makes room in `out` for `capacity` bytes in all, without aborting when memory is short.
fn reserve(out: &mut Vec<u8>, capacity: u64, compressed_offset: u64) -> Result<(), InflateError> {
    let additional = usize::try_from(capacity).unwrap_or(usize::MAX).saturating_sub(out.len());
    out.try_reserve_exact(additional)
        .map_err(|_| InflateError::OutOfMemory { bytes: capacity, compressed_offset })
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

    fn inflate_all(compressed: &[u8], limit_bytes: u64) -> Result<Inflated, InflateError> {
        inflate(compressed, limit_bytes, &Progress::new(), |_| true)
    }

    #[test]
    fn inflates_multiple_members() {
        let mut both = gz(b"hello ");
        both.extend(gz(b"world"));
        assert!(is_gzip(&both));
        let inflated = inflate_all(&both, 1 << 20).unwrap();
        assert_eq!(inflated.bytes, b"hello world");
        assert_eq!(inflated.trailing_garbage, None);
    }

    #[test]
    fn limit_stops_a_bomb() {
        let bomb = gz(&vec![0u8; 10 << 20]);
        assert!(bomb.len() < 100_000);
        assert!(matches!(inflate_all(&bomb, 1 << 20), Err(InflateError::Limit { .. })));
    }

    /// The buffer used to double past the limit (a 6 GiB limit held 8 GiB); it now stops at the
    /// limit, and exactly the limit inflates.
    #[test]
    fn the_buffer_never_grows_past_the_limit() {
        let data = vec![b'x'; 3 << 20];
        let limit = 3 << 20;
        let inflated = inflate_all(&gz(&data), limit).unwrap();
        assert_eq!(inflated.bytes.len() as u64, limit);
        assert!(inflated.bytes.capacity() as u64 <= limit, "{}", inflated.bytes.capacity());
        assert!(matches!(inflate_all(&gz(&data), limit - 1), Err(InflateError::Limit { .. })));
    }

    #[test]
    fn a_refusal_stops_at_the_first_chunk() {
        let bomb = gz(&vec![0u8; 64 << 20]);
        let mut asked = 0;
        let err = inflate(&bomb, u64::MAX, &Progress::new(), |so_far| {
            asked += 1;
            so_far.len() < 4096
        })
        .unwrap_err();
        let InflateError::Refused { head } = err else { panic!("{err:?}") };
        assert_eq!(asked, 1);
        assert!((4096..=CHUNK_BYTES).contains(&head.len()), "{}", head.len());
    }

    /// `zcat` and `gzip -t` accept zeros after the last member (tape and block padding); this
    /// was "invalid gzip header".
    #[test]
    fn regression_zero_padding_after_the_last_member_is_ignored() {
        for members in 1..=2 {
            let mut padded = gz(b"hello");
            if members == 2 {
                padded.extend(gz(b" world"));
            }
            padded.extend(vec![0u8; 4096]);
            let inflated = inflate_all(&padded, 1 << 20).unwrap();
            assert_eq!(inflated.bytes, if members == 2 { &b"hello world"[..] } else { b"hello" });
            assert_eq!(inflated.trailing_garbage, None);
        }
    }

    #[test]
    fn garbage_after_the_last_member_is_kept_aside() {
        let mut data = gz(b"hello");
        let at = data.len() as u64;
        data.extend_from_slice(b"garbage\n");
        let inflated = inflate_all(&data, 1 << 20).unwrap();
        assert_eq!(inflated.bytes, b"hello");
        assert_eq!(inflated.trailing_garbage, Some(Trailing { compressed_offset: at, len: 8 }));
    }

    /// A cancel used to be reported as `ErrorKind::Interrupted`, which readers retry: the
    /// decoder spun forever instead of stopping.
    #[test]
    fn regression_cancel_while_inflating_does_not_spin() {
        let progress = Progress::new();
        progress.cancel();
        let data = gz(&vec![b'x'; 1 << 20]);
        assert!(matches!(inflate(&data, 1 << 30, &progress, |_| true), Err(InflateError::Cancelled)));
    }

    #[test]
    fn corrupt_data_is_an_error_not_a_panic() {
        let mut bad = gz(b"some text that is long enough to be compressed into a few blocks");
        let mid = bad.len() / 2;
        bad[mid] ^= 0xff;
        bad.truncate(bad.len() - 3);
        assert!(matches!(inflate_all(&bad, 1 << 20), Err(InflateError::Corrupt { .. })));
        // A second member whose header is broken.
        let mut two = gz(b"hello");
        two.extend_from_slice(&[0x1f, 0x8b, 0xff, 0xff]);
        assert!(matches!(inflate_all(&two, 1 << 20), Err(InflateError::Corrupt { .. })));
    }
}
