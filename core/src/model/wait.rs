//! Why a task waits, as a closed set that rules and views can reason about. Dumps state it;
//! profiles don't, so it is inferred from the frames the runtime parks in.

use serde::Serialize;

/// The closed classification of a task's wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WaitKind {
    /// Blocked receiving from a channel.
    ChanReceive,
    /// Blocked sending on a channel.
    ChanSend,
    /// Blocked in a select statement.
    Select,
    /// In `time.Sleep`.
    Sleep,
    /// Waiting for network or file IO (the netpoller).
    Io,
    /// Waiting on a `sync` primitive: mutex, RWMutex, WaitGroup, Cond, semaphore.
    Sync,
    /// In a system call.
    Syscall,
    /// On a CPU.
    Running,
    /// Ready to run.
    Runnable,
    /// Anything else (runtime-internal waits, unknown states).
    Other,
}

impl WaitKind {
    /// The stable name used in `--json`.
    pub fn name(self) -> &'static str {
        match self {
            WaitKind::ChanReceive => "chan-receive",
            WaitKind::ChanSend => "chan-send",
            WaitKind::Select => "select",
            WaitKind::Sleep => "sleep",
            WaitKind::Io => "io",
            WaitKind::Sync => "sync",
            WaitKind::Syscall => "syscall",
            WaitKind::Running => "running",
            WaitKind::Runnable => "runnable",
            WaitKind::Other => "other",
        }
    }

    /// Whether the task is parked waiting for another goroutine or a timer: the waits a leak
    /// sits in.
    pub fn is_parked(self) -> bool {
        matches!(
            self,
            WaitKind::ChanReceive | WaitKind::ChanSend | WaitKind::Select | WaitKind::Sleep | WaitKind::Sync
        )
    }

    /// Classifies a dump's state string (decorations such as `(leaked)` already removed) or an
    /// execution trace's block reason. Unknown strings are `Other`.
    pub fn from_state(state: &str) -> Option<WaitKind> {
        let base = state.split_once(" (").map_or(state, |(b, _)| b);
        let kind = match base {
            // "waiting" is Go's status without a reason (a trace's status events, old dumps):
            // it says nothing, so the frames decide.
            "" | "waiting" => return None,
            "chan receive" => WaitKind::ChanReceive,
            "chan send" => WaitKind::ChanSend,
            "select" => WaitKind::Select,
            "sleep" => WaitKind::Sleep,
            "IO wait" | "network" => WaitKind::Io,
            "semacquire"
            | "sync"
            | "sync.Mutex.Lock"
            | "sync.RWMutex.Lock"
            | "sync.RWMutex.RLock"
            | "sync.WaitGroup.Wait"
            | "sync.Cond.Wait"
            | "sync.(*Cond).Wait" => WaitKind::Sync,
            "syscall" => WaitKind::Syscall,
            "running" => WaitKind::Running,
            "runnable" => WaitKind::Runnable,
            _ => WaitKind::Other,
        };
        Some(kind)
    }

    /// Infers the wait from a stack (innermost first), for captures without states: the first
    /// frame that names a blocking operation decides.
    pub fn from_frames<'a>(funcs: impl IntoIterator<Item = &'a str>) -> WaitKind {
        for func in funcs {
            if let Some(kind) = Self::from_function(func) {
                return kind;
            }
        }
        WaitKind::Other
    }

    fn from_function(func: &str) -> Option<WaitKind> {
        let kind = match func {
            "runtime.chanrecv" | "runtime.chanrecv1" | "runtime.chanrecv2" => WaitKind::ChanReceive,
            "runtime.chansend" | "runtime.chansend1" => WaitKind::ChanSend,
            "runtime.selectgo" | "runtime.block" => WaitKind::Select,
            "time.Sleep" | "runtime.timeSleep" => WaitKind::Sleep,
            "internal/poll.runtime_pollWait" | "runtime.netpollblock" | "runtime.netpoll" => WaitKind::Io,
            "runtime.goroutineProfileWithLabels"
            | "runtime.goroutineProfileWithLabelsConcurrent"
            | "runtime.goroutineLeakProfileWithLabels"
            | "runtime/pprof.runtime_goroutineProfileWithLabels"
            | "runtime.Stack"
            | "runtime/pprof.writeGoroutineStacks" => WaitKind::Running,
            _ if func.starts_with("sync.runtime_")
                || func.starts_with("internal/sync.runtime_")
                || func.starts_with("sync.(*WaitGroup).Wait")
                || func.starts_with("sync.(*Cond).Wait")
                || func.starts_with("sync.(*Mutex).Lock")
                || func.starts_with("sync.(*RWMutex).")
                || func == "runtime.semacquire1"
                || func == "runtime.notifyListWait" =>
            {
                WaitKind::Sync
            }
            _ if func.starts_with("syscall.Syscall")
                || func.starts_with("syscall.RawSyscall")
                || func.starts_with("syscall.syscall")
                || func.starts_with("internal/runtime/syscall")
                || func == "runtime.cgocall" =>
            {
                WaitKind::Syscall
            }
            _ => return None,
        };
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states() {
        assert_eq!(WaitKind::from_state("chan receive"), Some(WaitKind::ChanReceive));
        assert_eq!(WaitKind::from_state("chan receive (nil chan)"), Some(WaitKind::ChanReceive));
        assert_eq!(WaitKind::from_state("select (no cases)"), Some(WaitKind::Select));
        assert_eq!(WaitKind::from_state("sync.WaitGroup.Wait"), Some(WaitKind::Sync));
        assert_eq!(WaitKind::from_state("IO wait"), Some(WaitKind::Io));
        assert_eq!(WaitKind::from_state("GC worker (idle)"), Some(WaitKind::Other));
        assert_eq!(WaitKind::from_state("made up"), Some(WaitKind::Other));
        assert_eq!(WaitKind::from_state(""), None);
    }

    #[test]
    fn frames() {
        let recv = ["runtime.gopark", "runtime.chanrecv", "runtime.chanrecv1", "main.wait"];
        assert_eq!(WaitKind::from_frames(recv), WaitKind::ChanReceive);
        let sel = ["runtime.gopark", "runtime.selectgo", "main.poll"];
        assert_eq!(WaitKind::from_frames(sel), WaitKind::Select);
        let io = ["runtime.gopark", "runtime.netpollblock", "internal/poll.runtime_pollWait"];
        assert_eq!(WaitKind::from_frames(io), WaitKind::Io);
        let cond =
            ["runtime.gopark", "runtime.goparkunlock", "sync.runtime_notifyListWait", "sync.(*Cond).Wait"];
        assert_eq!(WaitKind::from_frames(cond), WaitKind::Sync);
        assert_eq!(WaitKind::from_frames(["main.busy"]), WaitKind::Other);
    }
}
