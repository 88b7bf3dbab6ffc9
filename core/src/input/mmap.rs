//! The one place leakscope maps files, and the only `unsafe` in the workspace.

use std::fs::File;

/// Maps `file` read-only.
///
/// Safety argument: the mapping is private and read-only (`PROT_READ`), so nothing we do can
/// write to the file. Another process may still change the file while it is mapped; the loader
/// reduces that risk by reading recently modified files into memory instead and by comparing
/// size and modification time before and after parsing (see `load::open`). Appends are harmless
/// (the mapping keeps its length); truncation by another process is the residual risk every
/// mmap-based reader (ripgrep, git) accepts.
#[allow(unsafe_code)]
pub(crate) fn map_read_only(file: &File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: see above; the mapping is read-only and its lifetime is tied to the returned
    // value, which owns it.
    unsafe { memmap2::MmapOptions::new().map_copy_read_only(file) }
}

/// Drops the resident pages of `range` from the mapping, so that a parser streaming through a
/// file of gigabytes does not keep every page it has read counted against the process; a
/// later read of those bytes (a view showing an event's args) faults them in again from the
/// file. Errors are ignored: this only ever saves memory.
///
/// Safety argument: the mapping is private and read-only and nothing ever writes to it, so
/// its pages only ever hold the file's contents; `MADV_DONTNEED` discards the resident copy
/// and the next access reads the same contents back from the file. Live `&[u8]` borrows of
/// those bytes keep observing the same values (the residual risk is, again, another process
/// truncating or rewriting the file, as for the mapping itself).
#[allow(unsafe_code)]
pub(crate) fn release(map: &memmap2::Mmap, range: std::ops::Range<usize>) {
    #[cfg(unix)]
    {
        let end = range.end.min(map.len());
        if range.start >= end {
            return;
        }
        // SAFETY: see above; offset and length are within the mapping.
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, range.start, end - range.start)
        };
    }
    #[cfg(not(unix))]
    {
        let _ = (map, range);
    }
}
