//! Generators of large goroutine dumps with the shape of real ones, so that benchmarks and
//! memory measurements need nothing from outside the repository.
//!
//! - [`debug2_dump`]: a `/debug/pprof/goroutine?debug=2` dump: `goroutine N [state, M minutes]:`
//!   headers, frames with arguments whose pointer values differ per goroutine, `+0x` offsets,
//!   inlined `(...)` frames, and `created by F in goroutine N`. The goroutines share a fixed set of
//!   36 stacks (6 entry points x 6 waits), skewed like a real leak (a few stacks hold most).
//! - [`sigquit_dump`]: what SIGQUIT under `GOTRACEBACK=crash` prints: a `SIGQUIT: quit` headline,
//!   `gp= m= mp=` headers, runtime frames with `fp= sp= pc=` suffixes, `goroutine 0` g0 stacks,
//!   register dumps and the `-----` relay sections of the other threads.
//!
//! Output is deterministic for a seed.

#![allow(dead_code)]

pub use crate::rng::Rng;
use std::fmt::Write as _;

/// One frame of a stack shape: the function, its source file and line, whether the compiler
/// inlined it (printed `(...)`, no `+0x`), and how many arguments it prints.
#[derive(Clone, Copy)]
struct FrameShape {
    func: &'static str,
    file: &'static str,
    line: u32,
    inlined: bool,
    args: u8,
}

const fn f(func: &'static str, file: &'static str, line: u32, args: u8) -> FrameShape {
    FrameShape { func, file, line, inlined: false, args }
}

const fn inl(func: &'static str, file: &'static str, line: u32) -> FrameShape {
    FrameShape { func, file, line, inlined: true, args: 0 }
}

const GOROOT: &str = "/usr/local/go/src/";
const APP: &str = "/home/build/src/github.com/acme/ingest/";

/// How a goroutine waits: its state and the frames it parks in, innermost first. The runtime
/// frames are only printed by `GOTRACEBACK=system`/`crash` (`runtime: true`).
struct Wait {
    state: &'static str,
    frames: &'static [(FrameShape, bool)],
}

const WAITS: [Wait; 6] = [
    Wait {
        state: "chan receive",
        frames: &[
            (f("runtime.gopark", "runtime/proc.go", 474, 5), true),
            (f("runtime.chanrecv", "runtime/chan.go", 667, 3), true),
            (f("runtime.chanrecv1", "runtime/chan.go", 509, 2), true),
        ],
    },
    Wait {
        state: "chan send",
        frames: &[
            (f("runtime.gopark", "runtime/proc.go", 474, 5), true),
            (f("runtime.chansend", "runtime/chan.go", 283, 4), true),
            (f("runtime.chansend1", "runtime/chan.go", 161, 2), true),
        ],
    },
    Wait {
        state: "select",
        frames: &[
            (f("runtime.gopark", "runtime/proc.go", 474, 5), true),
            (f("runtime.selectgo", "runtime/select.go", 351, 6), true),
        ],
    },
    Wait {
        state: "sync.Mutex.Lock",
        frames: &[
            (f("runtime.gopark", "runtime/proc.go", 474, 5), true),
            (inl("runtime.goparkunlock", "runtime/proc.go", 480), true),
            (f("runtime.semacquire1", "runtime/sema.go", 192, 6), true),
            (f("internal/sync.runtime_SemacquireMutex", "runtime/sema.go", 95, 3), false),
            (f("internal/sync.(*Mutex).lockSlow", "internal/sync/mutex.go", 149, 1), false),
            (inl("internal/sync.(*Mutex).Lock", "internal/sync/mutex.go", 70), false),
            (inl("sync.(*Mutex).Lock", "sync/mutex.go", 46), false),
        ],
    },
    Wait {
        state: "sync.WaitGroup.Wait",
        frames: &[
            (f("runtime.gopark", "runtime/proc.go", 474, 5), true),
            (inl("runtime.goparkunlock", "runtime/proc.go", 480), true),
            (f("runtime.semacquire1", "runtime/sema.go", 192, 6), true),
            (f("sync.runtime_SemacquireWaitGroup", "runtime/sema.go", 114, 2), false),
            (f("sync.(*WaitGroup).Wait", "sync/waitgroup.go", 206, 1), false),
        ],
    },
    Wait {
        state: "sleep",
        frames: &[
            (f("runtime.gopark", "runtime/proc.go", 474, 5), true),
            (f("time.Sleep", "runtime/time.go", 368, 1), false),
        ],
    },
];

/// Where a goroutine was started: its frames below the wait, innermost first, and its creator.
struct Entry {
    frames: &'static [FrameShape],
    created_by: FrameShape,
}

const ENTRIES: [Entry; 6] = [
    Entry {
        frames: &[
            f(
                "github.com/acme/ingest/internal/session.(*Worker).await",
                "internal/session/worker.go",
                211,
                2,
            ),
            f("github.com/acme/ingest/internal/session.(*Worker).step", "internal/session/worker.go", 164, 3),
            f("github.com/acme/ingest/internal/session.(*Worker).run", "internal/session/worker.go", 118, 1),
            f(
                "github.com/acme/ingest/internal/session.(*Pool).Start.gowrap1",
                "internal/session/pool.go",
                88,
                0,
            ),
        ],
        created_by: f(
            "github.com/acme/ingest/internal/session.(*Pool).Start",
            "internal/session/pool.go",
            88,
            0,
        ),
    },
    Entry {
        frames: &[
            inl("main.(*subscriber).next", "cmd/ingestd/broker.go", 77),
            f("main.fanoutSubscriber", "cmd/ingestd/broker.go", 61, 4),
            f("main.(*Broker).Subscribe.gowrap2", "cmd/ingestd/broker.go", 40, 0),
        ],
        created_by: f("main.(*Broker).Subscribe", "cmd/ingestd/broker.go", 40, 0),
    },
    Entry {
        frames: &[
            f(
                "github.com/acme/ingest/internal/api.(*uploadHandler).publishAuditEvent",
                "internal/api/upload.go",
                301,
                3,
            ),
            f(
                "github.com/acme/ingest/internal/api.(*uploadHandler).ServeHTTP.func2",
                "internal/api/upload.go",
                142,
                0,
            ),
        ],
        created_by: f(
            "github.com/acme/ingest/internal/api.(*uploadHandler).ServeHTTP",
            "internal/api/upload.go",
            139,
            0,
        ),
    },
    Entry {
        frames: &[
            f(
                "google.golang.org/grpc/internal/transport.(*controlBuffer).get",
                "vendor/google.golang.org/grpc/internal/transport/controlbuf.go",
                418,
                2,
            ),
            f(
                "google.golang.org/grpc/internal/transport.(*loopyWriter).run",
                "vendor/google.golang.org/grpc/internal/transport/controlbuf.go",
                552,
                1,
            ),
            f(
                "google.golang.org/grpc/internal/transport.newHTTP2Client.func6",
                "vendor/google.golang.org/grpc/internal/transport/http2_client.go",
                467,
                0,
            ),
        ],
        created_by: f(
            "google.golang.org/grpc/internal/transport.newHTTP2Client",
            "vendor/google.golang.org/grpc/internal/transport/http2_client.go",
            465,
            0,
        ),
    },
    Entry {
        frames: &[
            f(
                "github.com/jackc/pgx/v5/pgxpool.(*Pool).acquire",
                "vendor/github.com/jackc/pgx/v5/pgxpool/pool.go",
                533,
                3,
            ),
            f(
                "github.com/jackc/pgx/v5/pgxpool.(*Pool).Acquire",
                "vendor/github.com/jackc/pgx/v5/pgxpool/pool.go",
                511,
                2,
            ),
            f("github.com/acme/ingest/internal/store.(*Store).LoadBatch", "internal/store/batch.go", 92, 4),
            f("github.com/acme/ingest/internal/store.(*Store).prefetch", "internal/store/batch.go", 57, 2),
            f(
                "github.com/acme/ingest/internal/store.(*Store).Prefetch.func1",
                "internal/store/batch.go",
                44,
                0,
            ),
        ],
        created_by: f(
            "github.com/acme/ingest/internal/store.(*Store).Prefetch",
            "internal/store/batch.go",
            43,
            0,
        ),
    },
    Entry {
        frames: &[
            f("main.(*cache).refresh", "cmd/ingestd/cache.go", 130, 2),
            f("main.(*cache).refreshLoop", "cmd/ingestd/cache.go", 112, 1),
            f("main.newCache.gowrap1", "cmd/ingestd/cache.go", 35, 0),
        ],
        created_by: f("main.newCache", "cmd/ingestd/cache.go", 35, 0),
    },
];

/// Relative sizes of the 36 (entry, wait) groups: a few big leaks and a long tail.
fn group_weights() -> Vec<u64> {
    (0..ENTRIES.len() * WAITS.len()).map(|i| 1 + (1000 / (1 + i as u64 * i as u64 / 3))).collect()
}

fn pick(weights: &[u64], total: u64, rng: &mut Rng) -> usize {
    let mut x = rng.below(total);
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

fn pointer(rng: &mut Rng) -> u64 {
    0x00c0_0000_0000 + (rng.below(1 << 26) << 3)
}

fn args(out: &mut String, n: u8, rng: &mut Rng) {
    out.push('(');
    for i in 0..n {
        if i > 0 {
            out.push_str(", ");
        }
        match rng.below(5) {
            0 => {
                let _ = write!(out, "{{0x{:x}, 0x{:x}}}", 0x7c_0000 + rng.below(1 << 16), pointer(rng));
            }
            1 => {
                let _ = write!(out, "0x{:x}?", pointer(rng));
            }
            2 => out.push_str("0x0"),
            3 => {
                let _ = write!(out, "0x{:x}", rng.below(64));
            }
            _ => {
                let _ = write!(out, "0x{:x}", pointer(rng));
            }
        }
    }
    out.push(')');
}

/// Writes one frame: function line with arguments, then the tab-indented source line. With
/// `sp` (crash output), non-inlined frames carry `fp= sp= pc=`.
fn frame(out: &mut String, shape: &FrameShape, root: &str, rng: &mut Rng, sp: Option<&mut u64>) {
    out.push_str(shape.func);
    if shape.inlined {
        out.push_str("(...)");
    } else {
        args(out, shape.args, rng);
    }
    let _ = write!(out, "\n\t{root}{}:{}", shape.file, shape.line);
    if !shape.inlined {
        let off = 0x1f + (u64::from(shape.line) * 7) % 0x400;
        let _ = write!(out, " +0x{off:x}");
        if let Some(sp) = sp {
            let size = 0x20 + (u64::from(shape.line) % 12) * 0x10;
            let pc = 0x40_0000 + (u64::from(shape.line) * 0x1357) % 0x30_0000 + off;
            let _ = write!(out, " fp=0x{:x} sp=0x{:x} pc=0x{pc:x}", *sp + size, *sp);
            *sp += size;
        }
    }
    out.push('\n');
}

fn root_of(file: &str) -> &'static str {
    if file.starts_with("runtime/")
        || file.starts_with("sync/")
        || file.starts_with("internal/sync/")
        || file.starts_with("time/")
    {
        GOROOT
    } else {
        APP
    }
}

/// A `debug=2` dump of `goroutines` goroutines (plus the one writing it) in 36 stacks.
pub fn debug2_dump(goroutines: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(goroutines * 720);
    out.push_str(WRITER_DEBUG2);
    let weights = group_weights();
    let total: u64 = weights.iter().sum();
    let mut id = 40u64;
    for _ in 0..goroutines {
        id += 1 + rng.below(3);
        let g = pick(&weights, total, &mut rng);
        let (Some(entry), Some(wait)) = (ENTRIES.get(g / WAITS.len()), WAITS.get(g % WAITS.len())) else {
            continue;
        };
        let _ = write!(out, "\ngoroutine {id} [{}", wait.state);
        if rng.below(10) < 3 {
            let _ = write!(out, ", {} minutes", 1 + rng.below(180));
        }
        out.push_str("]:\n");
        for (shape, runtime) in wait.frames {
            if !runtime {
                frame(&mut out, shape, root_of(shape.file), &mut rng, None);
            }
        }
        for shape in entry.frames {
            frame(&mut out, shape, APP, &mut rng, None);
        }
        let parent = 20 + rng.below(16);
        let c = &entry.created_by;
        let _ = write!(
            out,
            "created by {} in goroutine {parent}\n\t{APP}{}:{} +0x{:x}\n",
            c.func,
            c.file,
            c.line,
            0x40 + c.line % 0x200
        );
    }
    out
}

const WRITER_DEBUG2: &str = "goroutine 1 [running]:
runtime/pprof.writeGoroutineStacks({0xb75568, 0xc0001b6000})
\t/usr/local/go/src/runtime/pprof/pprof.go:816 +0x69
runtime/pprof.writeGoroutine({0xb75568?, 0xc0001b6000?}, 0x409655?)
\t/usr/local/go/src/runtime/pprof/pprof.go:779 +0x25
runtime/pprof.(*Profile).WriteTo(0x7adabf?, {0xb75568?, 0xc0001b6000?}, 0x4c6833?)
\t/usr/local/go/src/runtime/pprof/pprof.go:405 +0x149
net/http/pprof.handler.ServeHTTP({0xc0003a2011, 0x9}, {0xb78528, 0xc0001b6000}, 0xc0002bc140)
\t/usr/local/go/src/net/http/pprof/pprof.go:272 +0x4c5
net/http.(*conn).serve(0xc0002be360, {0xb789c0, 0xc00022b470})
\t/usr/local/go/src/net/http/server.go:2110 +0x625
created by net/http.(*Server).Serve in goroutine 1
\t/usr/local/go/src/net/http/server.go:3412 +0x485
";

/// Runtime goroutines every process has, with `GOTRACEBACK=system` frames.
const RUNTIME_GOROUTINES: [(&str, &[FrameShape], &str); 4] = [
    (
        "force gc (idle)",
        &[
            f("runtime.gopark", "runtime/proc.go", 474, 5),
            inl("runtime.goparkunlock", "runtime/proc.go", 480),
            f("runtime.forcegchelper", "runtime/proc.go", 387, 0),
        ],
        "runtime.init.7",
    ),
    (
        "GC sweep wait",
        &[
            f("runtime.gopark", "runtime/proc.go", 474, 5),
            inl("runtime.goparkunlock", "runtime/proc.go", 480),
            f("runtime.bgsweep", "runtime/mgcsweep.go", 279, 1),
            f("runtime.gcenable.gowrap1", "runtime/mgc.go", 214, 0),
        ],
        "runtime.gcenable",
    ),
    (
        "finalizer wait",
        &[
            f("runtime.gopark", "runtime/proc.go", 474, 5),
            f("runtime.runFinalizers", "runtime/mfinal.go", 210, 0),
        ],
        "runtime.createfing",
    ),
    (
        "GC worker (idle)",
        &[
            f("runtime.gopark", "runtime/proc.go", 474, 5),
            f("runtime.gcBgMarkWorker", "runtime/mgc.go", 1463, 1),
            f("runtime.gcBgMarkStartWorkers.gowrap1", "runtime/mgc.go", 1373, 0),
        ],
        "runtime.gcBgMarkStartWorkers",
    ),
];

const G0_FRAMES: [FrameShape; 7] = [
    f("runtime.futex", "runtime/sys_linux_amd64.s", 557, 6),
    f("runtime.futexsleep", "runtime/os_linux.go", 75, 3),
    f("runtime.notesleep", "runtime/lock_futex.go", 47, 1),
    inl("runtime.mPark", "runtime/proc.go", 1887),
    f("runtime.stopm", "runtime/proc.go", 2907, 0),
    f("runtime.findRunnable", "runtime/proc.go", 3769, 0),
    f("runtime.schedule", "runtime/proc.go", 4179, 0),
];

const REGISTERS: [&str; 21] = [
    "rax", "rbx", "rcx", "rdx", "rdi", "rsi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
    "r15", "rip", "rflags", "cs", "fs", "gs",
];

fn registers(out: &mut String, rng: &mut Rng) {
    for r in REGISTERS {
        let _ = writeln!(out, "{r:<6} 0x{:x}", rng.next_u64() >> (rng.below(48) + 8));
    }
}

fn g0(out: &mut String, m: u64, rng: &mut Rng) {
    let _ = writeln!(out, "goroutine 0 gp=0x{:x} m={m} mp=0x{:x} [idle]:", pointer(rng), pointer(rng));
    let mut sp = 0x7ffe_a4cf_0000 + rng.below(1 << 16) * 16;
    for shape in &G0_FRAMES {
        frame(out, shape, GOROOT, rng, Some(&mut sp));
    }
    frame(out, &f("runtime.mstart", "runtime/asm_amd64.s", 395, 0), GOROOT, rng, Some(&mut sp));
}

/// A SIGQUIT dump under `GOTRACEBACK=crash` of at least `target_bytes`, with 36 stacks of user
/// goroutines plus runtime goroutines, g0 stacks and the relay sections of 8 threads.
pub fn sigquit_dump(target_bytes: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(target_bytes + (1 << 20));
    let _ = write!(out, "SIGQUIT: quit\nPC=0x4116ce m=0 sigcode=0\n\n");
    g0(&mut out, 0, &mut rng);
    let goexit = f("runtime.goexit", "runtime/asm_amd64.s", 1264, 1);
    let mut id = 0u64;
    for (state, frames, creator) in RUNTIME_GOROUTINES {
        id += 1;
        let _ = write!(out, "\ngoroutine {id} gp=0x{:x} m=nil [{state}]:\n", pointer(&mut rng));
        let mut sp = pointer(&mut rng);
        for shape in frames {
            frame(&mut out, shape, GOROOT, &mut rng, Some(&mut sp));
        }
        frame(&mut out, &goexit, GOROOT, &mut rng, Some(&mut sp));
        let _ = write!(out, "created by {creator} in goroutine 1\n\t{GOROOT}runtime/proc.go:375 +0x1a\n");
    }
    let weights = group_weights();
    let total: u64 = weights.iter().sum();
    id = 40;
    while out.len() < target_bytes {
        id += 1 + rng.below(3);
        let g = pick(&weights, total, &mut rng);
        let (Some(entry), Some(wait)) = (ENTRIES.get(g / WAITS.len()), WAITS.get(g % WAITS.len())) else {
            continue;
        };
        let _ = write!(out, "\ngoroutine {id} gp=0x{:x} m=nil [{}", pointer(&mut rng), wait.state);
        if rng.below(10) < 3 {
            let _ = write!(out, ", {} minutes", 1 + rng.below(180));
        }
        out.push_str("]:\n");
        let mut sp = pointer(&mut rng);
        for (shape, _) in wait.frames {
            frame(&mut out, shape, root_of(shape.file), &mut rng, Some(&mut sp));
        }
        for shape in entry.frames {
            frame(&mut out, shape, APP, &mut rng, Some(&mut sp));
        }
        frame(&mut out, &goexit, GOROOT, &mut rng, Some(&mut sp));
        let parent = 20 + rng.below(16);
        let c = &entry.created_by;
        let _ = write!(
            out,
            "created by {} in goroutine {parent}\n\t{APP}{}:{} +0x{:x}\n",
            c.func,
            c.file,
            c.line,
            0x40 + c.line % 0x200
        );
    }
    out.push('\n');
    registers(&mut out, &mut rng);
    for m in 1..8 {
        let _ = write!(out, "\n-----\n\nSIGQUIT: quit\nPC=0x47d341 m={m} sigcode=0\n\n");
        g0(&mut out, m, &mut rng);
        registers(&mut out, &mut rng);
    }
    out
}
