//! Which Go profile a pprof file is, from its sample types: the runtime writes each kind with a
//! fixed set of (type, unit) columns. Profiles from other tools match none and get no type.

/// What the sample columns alone say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Shape {
    /// One Go profile type.
    Known(&'static str),
    /// `contentions/count, delay/nanoseconds`: Go writes block and mutex profiles identically,
    /// so the stacks (or the file name) must decide.
    Contention,
    /// Not a shape the Go runtime writes.
    Other,
}

/// Classifies sample columns given as (type, unit) pairs. `default_type` is the name of the
/// profile's `default_sample_type` ("" when unset).
pub(super) fn shape(columns: &[(&str, &str)], default_type: &str) -> Shape {
    match columns {
        [("goroutine", "count")] => Shape::Known("goroutine"),
        [("goroutineleak", "count")] => Shape::Known("goroutineleak"),
        [("threadcreate", "count")] => Shape::Known("threadcreate"),
        [("samples", "count"), ("cpu", "nanoseconds")] => Shape::Known("cpu"),
        [
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes"),
        ] => {
            // `allocs` is the heap profile written with alloc_space as the default column.
            if default_type.starts_with("alloc_") { Shape::Known("allocs") } else { Shape::Known("heap") }
        }
        [("contentions", "count"), ("delay", "nanoseconds")] => Shape::Contention,
        _ => Shape::Other,
    }
}

/// Whether a frame near the leaf of a contention stack shows a lock being released. The mutex
/// profile records the stack of the goroutine that held the lock, at its `Unlock` (or the
/// runtime's internal `unlock`); the block profile records the stack that waited.
pub(super) fn is_unlock_frame(func: &str) -> bool {
    let last = func.rsplit('.').next().unwrap_or(func);
    last.to_ascii_lowercase().contains("unlock") || func == "runtime._LostContendedRuntimeLock"
}

/// Decides between block and mutex for a contention profile: a release near the leaf of any
/// stack means mutex; with no samples to judge, the file name (`mutex`, `block`) decides;
/// otherwise block.
pub(super) fn contention_kind(any_unlock_leaf: bool, has_samples: bool, path: &str) -> &'static str {
    if any_unlock_leaf {
        return "mutex";
    }
    if !has_samples {
        let name = path.rsplit(['/', '\\']).next().unwrap_or(path).to_ascii_lowercase();
        if name.contains("mutex") {
            return "mutex";
        }
    }
    "block"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_shapes() {
        assert_eq!(shape(&[("goroutine", "count")], ""), Shape::Known("goroutine"));
        assert_eq!(shape(&[("goroutineleak", "count")], ""), Shape::Known("goroutineleak"));
        assert_eq!(shape(&[("threadcreate", "count")], ""), Shape::Known("threadcreate"));
        assert_eq!(shape(&[("samples", "count"), ("cpu", "nanoseconds")], ""), Shape::Known("cpu"));
        let heap = [
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes"),
        ];
        assert_eq!(shape(&heap, ""), Shape::Known("heap"));
        assert_eq!(shape(&heap, "alloc_space"), Shape::Known("allocs"));
        assert_eq!(shape(&[("contentions", "count"), ("delay", "nanoseconds")], ""), Shape::Contention);
    }

    #[test]
    fn other_tools_have_no_type() {
        assert_eq!(shape(&[("wall", "nanoseconds")], ""), Shape::Other);
        assert_eq!(shape(&[("cpu", "nanoseconds")], ""), Shape::Other);
        assert_eq!(shape(&[], ""), Shape::Other);
        assert_eq!(shape(&[("goroutine", "count"), ("goroutine", "count")], ""), Shape::Other);
    }

    #[test]
    fn block_or_mutex() {
        assert!(is_unlock_frame("sync.(*Mutex).Unlock"));
        assert!(is_unlock_frame("internal/sync.(*Mutex).unlockSlow"));
        assert!(is_unlock_frame("sync.(*RWMutex).RUnlock"));
        assert!(is_unlock_frame("runtime.unlock"));
        assert!(is_unlock_frame("runtime._LostContendedRuntimeLock"));
        assert!(!is_unlock_frame("sync.(*Mutex).Lock"));
        assert!(!is_unlock_frame("runtime.chanrecv1"));
        assert!(!is_unlock_frame("github.com/unlock/x.Wait"));
        assert_eq!(contention_kind(true, true, "block.pb.gz"), "mutex");
        assert_eq!(contention_kind(false, true, "mutex.pb.gz"), "block");
        assert_eq!(contention_kind(false, false, "/tmp/mutex"), "mutex");
        assert_eq!(contention_kind(false, false, "profile"), "block");
    }
}
