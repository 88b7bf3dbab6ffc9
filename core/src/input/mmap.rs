//! The one place leakscope maps files, and the only `unsafe` in the workspace.
//!
//! A mapped file that another process truncates while we read it (log rotation, `truncate`, a
//! capture being rewritten) makes the kernel raise `SIGBUS` on the next read of a page past
//! the new end, which kills the process. Every mapping is therefore registered here, and a
//! `SIGBUS` handler replaces a faulting page of a registered mapping with a page of zeros and
//! marks the mapping: the read resumes, the parser sees zeros (at worst a parse error), and
//! the loader, seeing the mark, reads the file again or says it changed while it was read.
//! Faults anywhere else go to the handler that was there before (Rust's stack-overflow
//! reporter, or the default action).

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A read-only mapping of a file, registered with the `SIGBUS` guard while it lives.
pub struct GuardedMap {
    map: memmap2::Mmap,
    /// Its slot in the registry, or `usize::MAX` when every slot was taken (then unguarded).
    slot: usize,
}

impl GuardedMap {
    /// The mapping.
    pub fn map(&self) -> &memmap2::Mmap {
        &self.map
    }

    /// Whether a read of the mapping faulted because the file shrank under it: some bytes
    /// read as zeros instead of the file's contents.
    pub fn faulted(&self) -> bool {
        SLOTS.get(self.slot).is_some_and(|s| s.faulted.load(Ordering::Acquire))
    }

    /// A handle that tells whether the mapping faulted, usable after the mapping moved away.
    pub fn fault_flag(&self) -> FaultFlag {
        FaultFlag {
            slot: self.slot,
            generation: SLOTS.get(self.slot).map_or(0, |s| s.generation.load(Ordering::Acquire)),
        }
    }
}

/// Whether a mapping faulted, checked after the mapping has been handed to a parser.
#[derive(Clone, Copy, Debug)]
pub struct FaultFlag {
    slot: usize,
    generation: usize,
}

impl FaultFlag {
    /// Whether the mapping faulted while it lived. Still answers after the mapping is dropped,
    /// until its slot is taken by a new mapping (then it says no: the new owner's faults are
    /// not this mapping's).
    pub fn faulted(self) -> bool {
        SLOTS.get(self.slot).is_some_and(|s| {
            s.generation.load(Ordering::Acquire) == self.generation && s.faulted.load(Ordering::Acquire)
        })
    }
}

impl std::ops::Deref for GuardedMap {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.map
    }
}

impl Drop for GuardedMap {
    fn drop(&mut self) {
        if let Some(s) = SLOTS.get(self.slot) {
            s.end.store(0, Ordering::Release);
            s.start.store(0, Ordering::Release);
            s.taken.store(false, Ordering::Release);
        }
    }
}

/// One registered mapping: its address range and whether a read of it faulted.
struct Slot {
    taken: AtomicBool,
    start: AtomicUsize,
    end: AtomicUsize,
    faulted: AtomicBool,
    /// Bumped each time the slot is taken, so a stale [`FaultFlag`] can't see a new owner's
    /// fault.
    generation: AtomicUsize,
}

const SLOT_COUNT: usize = 256;

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY_SLOT: Slot = Slot {
    taken: AtomicBool::new(false),
    start: AtomicUsize::new(0),
    end: AtomicUsize::new(0),
    faulted: AtomicBool::new(false),
    generation: AtomicUsize::new(0),
};

/// Fixed, so the signal handler only reads atomics: it may not allocate or lock.
static SLOTS: [Slot; SLOT_COUNT] = [EMPTY_SLOT; SLOT_COUNT];

fn register(start: usize, len: usize) -> usize {
    for (i, s) in SLOTS.iter().enumerate() {
        if s.taken.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            s.generation.fetch_add(1, Ordering::AcqRel);
            s.faulted.store(false, Ordering::Release);
            s.start.store(start, Ordering::Release);
            s.end.store(start.saturating_add(len), Ordering::Release);
            return i;
        }
    }
    usize::MAX
}

/// Maps `file` read-only, guarded against the file shrinking while it is mapped.
///
/// Safety argument: the mapping is private and read-only (`PROT_READ`), so nothing we do can
/// write to the file. Another process may still change the file while it is mapped: appends
/// are harmless (the mapping keeps its length), truncation is caught by the `SIGBUS` guard
/// (see the module docs), and the loader compares size and modification time before and after
/// parsing and reads recently modified files into memory instead (see `load::open`).
#[allow(unsafe_code)]
pub(crate) fn map_read_only(file: &File) -> std::io::Result<GuardedMap> {
    // SAFETY: see above; the mapping is read-only and its lifetime is tied to the returned
    // value, which owns it.
    let map = unsafe { memmap2::MmapOptions::new().map_copy_read_only(file) }?;
    #[cfg(target_os = "linux")]
    guard::install();
    let slot = register(map.as_ptr() as usize, map.len());
    Ok(GuardedMap { map, slot })
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

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod guard {
    //! The `SIGBUS` handler. It runs in signal context: it reads atomics, makes one `mmap`
    //! system call and, for faults that are not ours, hands over to the previous handler.

    use std::sync::Once;
    use std::sync::atomic::Ordering;

    use super::SLOTS;

    static INSTALL: Once = Once::new();
    static PAGE_SIZE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(4096);
    /// The handler that was installed before ours.
    static PREVIOUS: std::sync::OnceLock<libc::sigaction> = std::sync::OnceLock::new();

    pub(super) fn install() {
        INSTALL.call_once(|| {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            if page > 0 {
                PAGE_SIZE.store(page as usize, Ordering::Relaxed);
            }
            // SAFETY: a zeroed sigaction is a valid value; we fill in the handler, an empty
            // mask and the flags. A foreign SIGBUS between installing ours and storing the
            // previous one gets the default action (the handler finds no previous).
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&raw mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, &raw const action, &raw mut previous) == 0 {
                    let _ = PREVIOUS.set(previous);
                }
            }
        });
    }

    extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
        let addr = unsafe { (*info).si_addr() } as usize;
        for slot in &SLOTS {
            let (start, end) = (slot.start.load(Ordering::Acquire), slot.end.load(Ordering::Acquire));
            if start <= addr && addr < end {
                let page_size = PAGE_SIZE.load(Ordering::Relaxed);
                let page = addr & !(page_size - 1);
                // SAFETY: the page lies within a live read-only mapping we own; replacing it
                // with an anonymous zero page changes what later reads see (zeros instead of
                // a SIGBUS) and nothing else. mmap is a plain system call.
                let mapped = unsafe {
                    libc::mmap(
                        page as *mut libc::c_void,
                        page_size,
                        libc::PROT_READ,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                        -1,
                        0,
                    )
                };
                if mapped != libc::MAP_FAILED {
                    slot.faulted.store(true, Ordering::Release);
                    return;
                }
            }
        }
        // Not ours: hand over to the handler that was there before.
        // SAFETY: the previous action came from sigaction; calling its handler with the
        // arguments we were given is what the kernel would have done.
        unsafe {
            let default: libc::sigaction = std::mem::zeroed();
            let previous = PREVIOUS.get().unwrap_or(&default);
            let f = previous.sa_sigaction;
            if f == libc::SIG_DFL || f == libc::SIG_IGN {
                libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut());
                // Returning re-runs the faulting access, which now gets the default action.
            } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
                let chained: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    std::mem::transmute(f);
                chained(signal, info, context);
            } else {
                let chained: extern "C" fn(libc::c_int) = std::mem::transmute(f);
                chained(signal);
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::Write as _;

    use super::*;

    #[test]
    fn a_file_truncated_while_mapped_reads_as_zeros_and_says_so() {
        let path = std::env::temp_dir().join(format!("leakscope-sigbus-{}", std::process::id()));
        let page = 4096;
        let mut f = File::create(&path).unwrap();
        f.write_all(&vec![b'x'; page * 4]).unwrap();
        drop(f);
        let file = File::open(&path).unwrap();
        let map = map_read_only(&file).unwrap();
        let flag = map.fault_flag();
        assert_eq!(map[page * 3], b'x');
        assert!(!map.faulted());
        // Another process truncates it (the same happens with `truncate -s 0`).
        File::options().write(true).open(&path).unwrap().set_len(0).unwrap();
        // Without the guard this read kills the process with SIGBUS.
        let tail: u64 = map[page * 2..].iter().map(|&b| u64::from(b)).sum();
        assert_eq!(tail, 0);
        assert!(map.faulted());
        assert!(flag.faulted());
        drop(map);
        assert!(flag.faulted(), "the flag still answers after the mapping is gone");
        std::fs::remove_file(&path).ok();
    }
}
