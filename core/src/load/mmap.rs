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
