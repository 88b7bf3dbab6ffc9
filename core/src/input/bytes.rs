//! The bytes of an input: a read-only memory map, an owned buffer (stdin, inflated gzip, files
//! that may change under us) or static bytes (samples embedded in the binary).

/// Input bytes, however they were obtained.
pub enum Bytes {
    /// A read-only mapping of a regular file. The file is never written through it.
    Mapped(super::mmap::GuardedMap),
    /// Bytes read or inflated into memory.
    Owned(Vec<u8>),
    /// Bytes compiled into the binary.
    Static(&'static [u8]),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(map) => map,
            Bytes::Owned(vec) => vec,
            Bytes::Static(bytes) => bytes,
        }
    }
}

impl Bytes {
    /// Asks the OS to map in the pages of `range` now, in one call, rather than one page
    /// fault per 4 KiB as a parser walks through them; a parser about to read a piece of a
    /// large input calls it first. A hint: ignored where unsupported, a no-op in memory.
    pub fn prefetch(&self, range: std::ops::Range<usize>) {
        if let Bytes::Mapped(guarded) = self {
            let map = guarded.map();
            let end = range.end.min(map.len());
            if range.start < end {
                #[cfg(target_os = "linux")]
                let _ = map.advise_range(memmap2::Advice::PopulateRead, range.start, end - range.start);
                #[cfg(all(unix, not(target_os = "linux")))]
                let _ = map.advise_range(memmap2::Advice::WillNeed, range.start, end - range.start);
            }
        }
    }

    /// Tells the OS that the pages holding `range` are no longer needed for now: for a file
    /// mapping they leave the process's resident set and are read back from the file if
    /// touched again. Parsers call it on the parts of a huge input they have finished, so
    /// memory stays bounded by what they keep rather than by the file's size. A no-op for
    /// bytes in memory.
    pub fn release_pages(&self, range: std::ops::Range<usize>) {
        if let Bytes::Mapped(map) = self {
            super::mmap::release(map.map(), range);
        }
    }
}

impl std::fmt::Debug for Bytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Bytes::Mapped(_) => "Mapped",
            Bytes::Owned(_) => "Owned",
            Bytes::Static(_) => "Static",
        };
        write!(f, "Bytes::{kind}({} bytes)", self.len())
    }
}
