//! A generator of Go execution traces (wire format of Go 1.26) with the shape of a busy server,
//! for benchmarks and tests that must not depend on files outside the repository.
//!
//! It simulates a scheduler: each thread (M) owns one proc (P) and runs goroutines homed on it;
//! running goroutines block (chan receive, select, sync, network, sleep), wake others (also on
//! other threads), create and end goroutines, make syscalls and allocate; idle procs stop and
//! start. Every generation re-states the statuses of what it touches, resets sequence numbers,
//! carries its own string and stack tables and CPU samples, and ends with an end-of-generation
//! mark, as the runtime writes it. Events are in time order across threads, so the result is a
//! valid trace that Go's reader accepts.

#![allow(dead_code, clippy::indexing_slicing, clippy::missing_panics_doc)]

use crate::rng::Rng;

/// Knobs of the generated trace.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Approximate size of the trace in bytes.
    pub bytes: usize,
    /// Threads, each with its own proc.
    pub threads: usize,
    /// Goroutines alive at the start.
    pub goroutines: usize,
    /// Events per generation.
    pub events_per_generation: usize,
    /// PRNG seed.
    pub seed: u64,
}

impl Default for Shape {
    fn default() -> Self {
        Self { bytes: 8 << 20, threads: 8, goroutines: 2000, events_per_generation: 400_000, seed: 1 }
    }
}

const NO_THREAD: u64 = u64::MAX;
const TICK_NS: u64 = 64;
const REASONS: [&str; 6] = ["chan receive", "select", "sync", "network", "sleep", "chan send"];
const N_STACKS: usize = 240;
const N_FUNCS: usize = 400;

fn uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum G {
    Runnable,
    Running,
    Waiting,
    Dead,
}

struct Goroutine {
    id: u64,
    home: usize,
    state: G,
    seq: u64,
    traced_gen: u64,
}

struct Thread {
    id: u64,
    proc: u64,
    proc_running: bool,
    proc_seq: u64,
    proc_traced_gen: u64,
    current: Option<usize>,
    /// Encoded events of the current batch, and the batch's base tick and last tick.
    buf: Vec<u8>,
    base: u64,
    last: u64,
}

struct Writer {
    out: Vec<u8>,
    threads: Vec<Thread>,
    gs: Vec<Goroutine>,
    runnable: Vec<Vec<usize>>,
    waiting: Vec<usize>,
    rng: Rng,
    now: u64,
    generation: u64,
    next_goid: u64,
}

impl Writer {
    fn tick(&mut self) -> u64 {
        self.now += 1 + self.rng.index(40) as u64;
        self.now
    }

    /// Appends an event to thread `m`'s batch, flushing the batch when it is full.
    fn event(&mut self, m: usize, typ: u8, args: &[u64]) {
        let t = self.tick();
        let th = &mut self.threads[m];
        if th.buf.is_empty() {
            th.base = t;
            th.last = t;
        }
        th.buf.push(typ);
        uvarint(&mut th.buf, t - th.last);
        th.last = t;
        for &a in args {
            uvarint(&mut th.buf, a);
        }
        if th.buf.len() > 60 << 10 {
            self.flush(m);
        }
    }

    fn flush(&mut self, m: usize) {
        let th = &mut self.threads[m];
        if th.buf.is_empty() {
            return;
        }
        self.out.push(1);
        uvarint(&mut self.out, self.generation);
        uvarint(&mut self.out, th.id);
        uvarint(&mut self.out, th.base);
        uvarint(&mut self.out, th.buf.len() as u64);
        self.out.append(&mut th.buf);
    }

    fn structural(&mut self, data: &[u8]) {
        self.out.push(1);
        uvarint(&mut self.out, self.generation);
        uvarint(&mut self.out, NO_THREAD);
        uvarint(&mut self.out, self.now);
        uvarint(&mut self.out, data.len() as u64);
        self.out.extend_from_slice(data);
    }

    /// States the thread's proc (and running goroutine) once per generation, as the runtime
    /// does on a thread's first event in a generation.
    fn touch_thread(&mut self, m: usize) {
        if self.threads[m].proc_traced_gen != self.generation {
            self.threads[m].proc_traced_gen = self.generation;
            self.threads[m].proc_seq = 0;
            let status = if self.threads[m].proc_running { 1 } else { 2 };
            let p = self.threads[m].proc;
            self.event(m, 13, &[p, status]);
        }
        if let Some(g) = self.threads[m].current {
            self.touch_goroutine(m, g);
        }
    }

    fn touch_goroutine(&mut self, m: usize, g: usize) {
        if self.gs[g].traced_gen == self.generation {
            return;
        }
        self.gs[g].traced_gen = self.generation;
        self.gs[g].seq = 0;
        let status = match self.gs[g].state {
            G::Runnable => 1,
            G::Running => 2,
            G::Waiting => 4,
            G::Dead => return,
        };
        let thread = if self.gs[g].state == G::Running { self.threads[m].id } else { NO_THREAD };
        let id = self.gs[g].id;
        if status == 4 {
            let stack = 1 + self.rng.index(N_STACKS) as u64;
            self.event(m, 48, &[id, thread, status, stack]);
        } else {
            self.event(m, 25, &[id, thread, status]);
        }
    }

    fn step(&mut self) {
        let m = self.rng.index(self.threads.len());
        self.touch_thread(m);
        let Some(cur) = self.threads[m].current else {
            // Idle: run a goroutine homed here, or stop the proc for a while.
            if !self.threads[m].proc_running {
                if self.rng.index(2) == 0 {
                    self.threads[m].proc_running = true;
                    self.threads[m].proc_seq += 1;
                    let (p, s) = (self.threads[m].proc, self.threads[m].proc_seq);
                    self.event(m, 10, &[p, s]);
                }
                return;
            }
            if let Some(g) = self.runnable[m].pop() {
                self.touch_goroutine(m, g);
                self.gs[g].seq += 1;
                self.gs[g].state = G::Running;
                self.threads[m].current = Some(g);
                let (id, seq) = (self.gs[g].id, self.gs[g].seq);
                self.event(m, 16, &[id, seq]);
            } else if self.rng.index(20) == 0 {
                self.threads[m].proc_running = false;
                self.event(m, 11, &[]);
            }
            return;
        };
        let stack = 1 + self.rng.index(N_STACKS) as u64;
        match self.rng.index(100) {
            0..=24 => {
                // Block.
                let reason = 1 + self.rng.index(REASONS.len()) as u64;
                self.gs[cur].state = G::Waiting;
                self.threads[m].current = None;
                self.waiting.push(cur);
                self.event(m, 20, &[reason, stack]);
            }
            25..=59 => {
                // Wake a waiting goroutine, anywhere.
                if self.waiting.is_empty() {
                    return;
                }
                let i = self.rng.index(self.waiting.len());
                let g = self.waiting.swap_remove(i);
                self.touch_goroutine(m, g);
                self.gs[g].seq += 1;
                self.gs[g].state = G::Runnable;
                let home = self.gs[g].home;
                self.runnable[home].push(g);
                let (id, seq) = (self.gs[g].id, self.gs[g].seq);
                self.event(m, 21, &[id, seq, stack]);
            }
            60..=67 => {
                // Create, sometimes on another thread's queue.
                let id = self.next_goid;
                self.next_goid += 1;
                let home = if self.rng.index(2) == 0 { m } else { self.rng.index(self.threads.len()) };
                self.gs.push(Goroutine { id, home, state: G::Runnable, seq: 0, traced_gen: self.generation });
                self.runnable[home].push(self.gs.len() - 1);
                let start = 1 + self.rng.index(N_STACKS) as u64;
                self.event(m, 14, &[id, start, stack]);
            }
            68..=72 => {
                // End.
                self.gs[cur].state = G::Dead;
                self.threads[m].current = None;
                self.event(m, 17, &[]);
            }
            73..=82 => {
                self.threads[m].proc_seq += 1;
                let s = self.threads[m].proc_seq;
                self.event(m, 22, &[s, stack]);
                self.event(m, 23, &[]);
            }
            83..=89 => {
                // Yield.
                self.gs[cur].state = G::Runnable;
                self.threads[m].current = None;
                let home = self.gs[cur].home;
                self.runnable[home].push(cur);
                self.event(m, 19, &[7, stack]);
            }
            _ => {
                let v = 4_000_000 + self.rng.index(1 << 20) as u64;
                self.event(m, 37, &[v]);
            }
        }
    }

    fn tables(&mut self) {
        let mut strings = vec![4u8];
        let mut id = 1u64;
        let mut put = |s: &str, strings: &mut Vec<u8>| {
            strings.push(5);
            uvarint(strings, id);
            uvarint(strings, s.len() as u64);
            strings.extend_from_slice(s.as_bytes());
            id += 1;
        };
        for r in REASONS {
            put(r, &mut strings);
        }
        put("runtime.Gosched", &mut strings);
        for f in 0..N_FUNCS {
            put(
                &format!("example.com/server/internal/pkg{}.(*Handler{}).Serve{f}", f % 17, f % 5),
                &mut strings,
            );
        }
        for f in 0..32 {
            put(&format!("/src/example.com/server/internal/pkg{f}/handler.go"), &mut strings);
        }
        // The strings fit in one batch at the sizes generated here.
        self.structural(&strings);
        let mut stacks = vec![2u8];
        for s in 1..=N_STACKS as u64 {
            stacks.push(3);
            uvarint(&mut stacks, s);
            let depth = 6 + (s as usize * 7) % 24;
            uvarint(&mut stacks, depth as u64);
            for d in 0..depth {
                let func = 8 + ((s as usize * 31 + d * 17) % N_FUNCS) as u64;
                uvarint(&mut stacks, 0x40_0000 + func * 64 + d as u64);
                uvarint(&mut stacks, func);
                uvarint(&mut stacks, 8 + N_FUNCS as u64 + func % 32);
                uvarint(&mut stacks, 10 + func + 3 * d as u64);
            }
            if stacks.len() > 60 << 10 {
                let full = std::mem::replace(&mut stacks, vec![2u8]);
                self.structural(&full);
            }
        }
        if stacks.len() > 1 {
            self.structural(&stacks);
        }
    }
}

/// Generates a trace of about `shape.bytes` bytes.
pub fn generate(shape: Shape) -> Vec<u8> {
    let mut w = Writer {
        out: b"go 1.26 trace\0\0\0".to_vec(),
        threads: (0..shape.threads)
            .map(|i| Thread {
                id: 1000 + i as u64,
                proc: i as u64,
                proc_running: true,
                proc_seq: 0,
                proc_traced_gen: 0,
                current: None,
                buf: Vec::new(),
                base: 0,
                last: 0,
            })
            .collect(),
        gs: Vec::new(),
        runnable: vec![Vec::new(); shape.threads],
        waiting: Vec::new(),
        rng: Rng::new(shape.seed),
        now: 1_000_000,
        generation: 0,
        next_goid: 1,
    };
    for i in 0..shape.goroutines {
        let home = i % shape.threads;
        let state = if i % 3 == 0 { G::Runnable } else { G::Waiting };
        w.gs.push(Goroutine { id: w.next_goid, home, state, seq: 0, traced_gen: 0 });
        w.next_goid += 1;
        if state == G::Runnable {
            w.runnable[home].push(i);
        } else {
            w.waiting.push(i);
        }
    }
    while w.out.len() < shape.bytes {
        w.generation += 1;
        let start = w.now;
        // Sync batch: frequency and a clock snapshot.
        let mut sync = vec![50u8, 8];
        uvarint(&mut sync, 1_000_000_000 / TICK_NS);
        sync.push(51);
        uvarint(&mut sync, 1);
        uvarint(&mut sync, start * TICK_NS);
        uvarint(&mut sync, 1_800_000_000);
        uvarint(&mut sync, 0);
        w.structural(&sync);
        for _ in 0..shape.events_per_generation {
            w.step();
        }
        // Statuses of goroutines the generation never touched, as the runtime writes them when
        // it advances: in batches of no thread.
        for m in 0..w.threads.len() {
            w.flush(m);
        }
        let untouched: Vec<usize> = (0..w.gs.len())
            .filter(|&g| w.gs[g].state != G::Dead && w.gs[g].traced_gen != w.generation)
            .collect();
        let mut batch = Vec::new();
        let (mut base, mut last) = (0, 0);
        for g in untouched {
            // A running goroutine's thread states it when the thread next writes.
            let status = match w.gs[g].state {
                G::Runnable => 1,
                G::Waiting => 4,
                G::Running | G::Dead => continue,
            };
            w.gs[g].traced_gen = w.generation;
            let t = w.tick();
            if batch.is_empty() {
                base = t;
                last = t;
            }
            batch.push(48);
            uvarint(&mut batch, t - last);
            last = t;
            uvarint(&mut batch, w.gs[g].id);
            uvarint(&mut batch, NO_THREAD);
            uvarint(&mut batch, status);
            uvarint(&mut batch, 1 + (g % N_STACKS) as u64);
            if batch.len() > 60 << 10 {
                emit(&mut w, base, &std::mem::take(&mut batch));
            }
        }
        if !batch.is_empty() {
            emit(&mut w, base, &batch);
        }
        // CPU samples of the generation.
        let mut samples = vec![6u8];
        for i in 0..200u64 {
            samples.push(7);
            uvarint(&mut samples, start + i * 97);
            uvarint(&mut samples, 1000 + i % shape.threads as u64);
            uvarint(&mut samples, i % shape.threads as u64);
            uvarint(&mut samples, 1 + i % 50);
            uvarint(&mut samples, 1 + i % N_STACKS as u64);
        }
        w.structural(&samples);
        w.tables();
        w.out.push(52);
    }
    w.out
}

/// Writes one batch of no thread.
fn emit(w: &mut Writer, base: u64, data: &[u8]) {
    w.out.push(1);
    uvarint(&mut w.out, w.generation);
    uvarint(&mut w.out, NO_THREAD);
    uvarint(&mut w.out, base);
    uvarint(&mut w.out, data.len() as u64);
    w.out.extend_from_slice(data);
}
