"""Readers for the capture formats of the orderbook test bed, and the goroutine families.

Independent of leakscope on purpose: expected.json is computed with these readers from the
files themselves (and cross-checked against the server's own counters), so that leakscope's
results can be judged against something it did not produce.

Every reader returns a list of Goroutine records; a record may stand for several goroutines
(`count`), as in pprof profiles.
"""

from __future__ import annotations

import gzip
import re
import subprocess
from dataclasses import dataclass, field

SVC = "example.com/orderbook/service."


@dataclass
class Goroutine:
    funcs: list[str]  # innermost first, creator excluded
    count: int = 1
    state: str | None = None  # dump state without durations or "(leaked)"
    leaked: bool = False  # the runtime marked it leaked
    created_by: str | None = None
    gid: int | None = None
    unwalkable: bool = False  # the runtime gave up walking the stack


# ----------------------------------------------------------------------------------------------
# Goroutine dumps (debug=2, SIGQUIT, goroutineleak?debug=2)

# Go 1.27 appends the goroutine's pprof labels after the state: [select] {route: "..."}:
_HEADER = re.compile(r"^goroutine (\d+)(?: gp=\S+ m=\S+(?: mp=\S+)?)? \[([^\]]*)\](?: \{.*\})?:\s*$")
_CREATED = re.compile(r"^created by (\S+?)(?: in goroutine \d+)?$")
_UNWALKABLE = re.compile(r"^runtime: g \d+: unexpected return pc")
_HEXDUMP = re.compile(r"^(stack: frame=|[0-9a-f]{16}: |\s+7 6 5 4 )")


def _func_of(line: str) -> str:
    """Function name of a frame line: "pkg.(*T).m(0x1, ...)" or "pkg.f(...)"; the argument list
    is the last parenthesised group."""
    line = line.strip()
    if line.endswith(")"):
        depth = 0
        for i in range(len(line) - 1, -1, -1):
            c = line[i]
            if c == ")":
                depth += 1
            elif c == "(":
                depth -= 1
                if depth == 0:
                    return line[:i]
    return line


def clean_state(raw: str) -> tuple[str, bool]:
    parts = [p.strip() for p in raw.split(",")]
    state = parts[0]
    leaked = False
    for tag in ("(leaked)",):
        if tag in state:
            leaked = True
            state = state.replace(tag, "").strip()
    rest = [p for p in parts[1:] if not re.fullmatch(r"\d+ minutes|locked to thread|syscall", p)]
    if "(leaked)" in " ".join(parts[1:]):
        leaked = True
    # Keep qualifiers that are part of the wait reason, like "(nil chan)".
    return " ".join([state] + [p for p in rest if p.startswith("(") and p != "(leaked)"]), leaked


def read_dump(text: str) -> list[Goroutine]:
    out: list[Goroutine] = []
    cur: Goroutine | None = None
    expect_frame = False
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            state, leaked = clean_state(m.group(2))
            cur = Goroutine(funcs=[], state=state, leaked=leaked, gid=int(m.group(1)))
            # "goroutine 0 [idle]" in a SIGQUIT dump is the system stack (g0) of the thread
            # that took the signal, not a goroutine: read it, but leave it out.
            if cur.gid != 0:
                out.append(cur)
            expect_frame = True
            continue
        if cur is None:
            continue
        if not line.strip():
            cur = None
            continue
        if line.startswith("\t") or line.startswith("        "):
            continue  # file:line of the previous frame
        c = _CREATED.match(line)
        if c:
            cur.created_by = c.group(1)
            continue
        if line.startswith("...") or line.startswith("goroutine running on other thread"):
            continue
        if _UNWALKABLE.match(line):
            # The runtime could not walk this stack ("unexpected return pc"): it prints a hex
            # dump of the stack memory instead of the remaining frames.
            cur.unwalkable = True
            expect_frame = False
            continue
        if not expect_frame and _HEXDUMP.match(line):
            continue
        if expect_frame:
            cur.funcs.append(_func_of(line))
    return out


# ----------------------------------------------------------------------------------------------
# pprof debug=1 text

_D1_HEADER = re.compile(r"^(\d+) @( 0x[0-9a-f]+)*\s*$")
_D1_FRAME = re.compile(r"^#\s+0x[0-9a-f]+\s+(\S+?)\+0x[0-9a-f]+\s")


def read_debug1(text: str) -> list[Goroutine]:
    out: list[Goroutine] = []
    cur: Goroutine | None = None
    for line in text.splitlines():
        m = _D1_HEADER.match(line)
        if m:
            cur = Goroutine(funcs=[], count=int(m.group(1)))
            out.append(cur)
            continue
        if cur is None:
            continue
        f = _D1_FRAME.match(line)
        if f:
            cur.funcs.append(f.group(1))
    return out


# ----------------------------------------------------------------------------------------------
# pprof protocol buffers (debug=0)


def _varint(b: bytes, i: int) -> tuple[int, int]:
    shift = 0
    v = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if c < 0x80:
            return v, i
        shift += 7


def _fields(b: bytes):
    i = 0
    while i < len(b):
        key, i = _varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(b, i)
            yield num, wt, v
        elif wt == 2:
            n, i = _varint(b, i)
            yield num, wt, b[i : i + n]
            i += n
        elif wt == 1:
            yield num, wt, b[i : i + 8]
            i += 8
        elif wt == 5:
            yield num, wt, b[i : i + 4]
            i += 4
        else:
            raise ValueError(f"pprof: wire type {wt}")


def _uints(wt: int, v) -> list[int]:
    if wt == 0:
        return [v]
    out, i = [], 0
    while i < len(v):
        x, i = _varint(v, i)
        out.append(x)
    return out


def read_pprof(data: bytes) -> list[Goroutine]:
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    strings: list[str] = []
    samples = []
    locations: dict[int, list[int]] = {}
    functions: dict[int, int] = {}
    for num, wt, v in _fields(data):
        if num == 6:
            strings.append(v.decode("utf-8", "replace"))
        elif num == 2:
            locs, vals = [], []
            for n2, w2, v2 in _fields(v):
                if n2 == 1:
                    locs += _uints(w2, v2)
                elif n2 == 2:
                    vals += _uints(w2, v2)
            samples.append((locs, vals))
        elif num == 4:
            lid, funcs = 0, []
            for n2, w2, v2 in _fields(v):
                if n2 == 1:
                    lid = v2
                elif n2 == 4:
                    for n3, w3, v3 in _fields(v2):
                        if n3 == 1:
                            funcs.append(v3)
            locations[lid] = funcs
        elif num == 5:
            fid, name = 0, 0
            for n2, w2, v2 in _fields(v):
                if n2 == 1:
                    fid = v2
                elif n2 == 2:
                    name = v2
            functions[fid] = name
    out = []
    for locs, vals in samples:
        funcs = []
        for lid in locs:
            # A location's lines are innermost (inlined) first.
            for fid in locations.get(lid, []):
                funcs.append(strings[functions.get(fid, 0)])
        out.append(Goroutine(funcs=funcs, count=vals[0] if vals else 1))
    return out


# ----------------------------------------------------------------------------------------------
# Execution traces, through `go tool trace -d=parsed`

_TRANSITION = re.compile(r"StateTransition Time=\d+ GoID=(\d+) (\w+)->(\w+)")


def read_trace(path: str, go: str) -> list[Goroutine]:
    """Goroutines alive at the end of the trace, with their last blocking stack and state."""
    text = subprocess.run([go, "tool", "trace", "-d=parsed", path], check=True, capture_output=True, text=True).stdout
    lines = text.split("\n")
    state: dict[int, str] = {}
    stack: dict[int, list[str]] = {}
    i = 0
    while i < len(lines):
        m = _TRANSITION.search(lines[i])
        i += 1
        if not m:
            continue
        gid, to = int(m.group(1)), m.group(3)
        state[gid] = to
        if i < len(lines) and lines[i].startswith("TransitionStack="):
            funcs = []
            i += 1
            while i < len(lines) and lines[i].startswith("\t"):
                if not lines[i].startswith("\t\t"):
                    funcs.append(lines[i].strip().rsplit(" @ ", 1)[0])
                i += 1
            if to in ("Waiting", "Syscall"):
                stack[gid] = funcs
    out = []
    for gid, st in state.items():
        if st == "NotExist":
            continue
        out.append(Goroutine(funcs=stack.get(gid, []), state=st, gid=gid))
    return out


# ----------------------------------------------------------------------------------------------
# Families


def frame_matches(func: str, pattern: str) -> bool:
    """A pattern ending in '.', '(' or '/' matches by prefix; any other pattern names one
    function, matching itself and its closures (F.func1, F.func1.2). The go-statement wrappers
    F.gowrapN are compiler glue on the stack of the goroutine F started, not F itself."""
    if pattern.endswith((".", "(", "/")):
        return func.startswith(pattern)
    if func == pattern:
        return True
    rest = func[len(pattern) :] if func.startswith(pattern) else None
    return rest is not None and re.fullmatch(r"(\.func\d+)+(\.\d+)*", rest) is not None


@dataclass
class Family:
    name: str
    kind: str  # leak | mixed | consequence | pile-up | neutral | healthy
    all: list[str] = field(default_factory=list)
    any: list[str] = field(default_factory=list)
    none: list[str] = field(default_factory=list)
    created_by: list[str] = field(default_factory=list)
    start: list[str] = field(default_factory=list)  # the goroutine's start function
    system: bool = False
    empty: bool = False  # matches records without any frame
    defect: str | None = None
    expected_rules: list[str] = field(default_factory=list)
    tally: list[str] = field(default_factory=list)  # server tallies whose live sum is the leaking part
    what: str = ""

    def matches(self, funcs: list[str], created_by: str | None = None) -> bool:
        if self.empty:
            return not funcs
        if self.system:
            return is_system(funcs, created_by)
        has = lambda p: any(frame_matches(f, p) for f in funcs)  # noqa: E731
        if self.all and not all(has(p) for p in self.all):
            return False
        if self.any and not any(has(p) for p in self.any):
            return False
        if any(has(p) for p in self.none):
            return False
        if self.created_by and not (created_by and any(frame_matches(created_by, p) for p in self.created_by)):
            return False
        if self.start and not any(frame_matches(start_func(funcs), p) for p in self.start):
            return False
        return bool(self.all or self.any or self.created_by or self.start)

    def to_json(self) -> dict:
        m = {k: getattr(self, k) for k in ("all", "any", "none", "created_by", "start") if getattr(self, k)}
        if self.system:
            m["system"] = True
        if self.empty:
            m["empty"] = True
        return {
            "kind": self.kind,
            "defect": self.defect,
            "what": self.what,
            "match": m,
            "expected_rules": self.expected_rules,
            "leak_part_from_tallies": self.tally,
        }


def start_func(funcs: list[str]) -> str:
    """The function a goroutine started in: its outermost frame, without runtime.goexit and the
    compiler's go-statement wrappers (F.gowrapN), which only some formats show."""
    for f in reversed(funcs):
        if f == "runtime.goexit" or re.search(r"\.gowrap\d+$", f):
            continue
        return f
    return ""


_SYSTEM_STARTS = ("runtime.", "internal/runtime/", "unique.", "weak.")


def is_system(funcs: list[str], created_by: str | None) -> bool:
    """The runtime's own goroutines (GC workers, scavenger, finalizers...), as Go's
    isSystemGoroutine decides: started in the runtime, other than runtime.main."""
    if not funcs:
        return False
    if "runtime.main" in funcs or "main.main" in funcs:
        return False
    outer = start_func(funcs)
    if outer.startswith(_SYSTEM_STARTS):
        return True
    return bool(created_by and created_by.startswith(("runtime.gcBgMarkStartWorkers", "runtime.init", "runtime.gcenable", "runtime.createfing", "unique.", "runtime.(*wakeableSleep)")))


SPILL = "net/http.(*conn).serve"

# First match wins: the order puts specific shapes before general ones.
FAMILIES: list[Family] = [
    # --- the eight defects ---------------------------------------------------------------
    Family("quote-fanout-send", "leak", all=[SVC + "(*QuoteDesk).askVenue"], defect="quotes",
           tally=["quotes.askVenue"], expected_rules=["outlived-request", "runtime-proven"],
           what="venue workers of a timed-out fan-out, blocked forever sending on an unbuffered results channel"),
    Family("feed-session-pump", "leak", all=[SVC + "(*feedSession).pump"], defect="sessions",
           tally=["feed.pump"], expected_rules=["outlived-request"],
           what="per-session ticker/select loops started by a request, waiting on a close channel nobody closes"),
    Family("cancel-ack-ctx", "leak", all=[SVC + "(*OrderService).awaitCancelAck"], defect="ackcancel",
           tally=["orders.awaitCancelAck"], expected_rules=["outlived-request", "runtime-proven"],
           what="<-ctx.Done() of a context.WithCancel(context.Background()) whose cancel was discarded"),
    Family("settlement-nil-chan", "leak", all=[SVC + "(*SettlementDesk).awaitSettled"], defect="settlechan",
           tally=["settle.awaitSettled"], expected_rules=["never-wakes"],
           what="receive from a struct field channel that was never made (chan receive (nil chan))"),
    Family("tenant-ctx-propagation", "leak", start=["context.(*cancelCtx).propagateCancel"], defect="tenantctx",
           tally=["tenant.uncancelledChildren"], expected_rules=["context-propagation"],
           what="context package goroutines watching a custom Context for a WithCancel child nobody cancels"),
    Family("risk-conn-readloop", "leak", all=["net/http.(*persistConn).readLoop"], none=["bufio.(*Reader).Peek"],
           defect="risktransport", tally=["risk.unclosedBodies"], expected_rules=["conn-pool-growth"],
           what="persistConn read loops waiting for a response body that is never read or closed (Transport per call)"),
    Family("mark-call-stuck", "leak", all=[SVC + "(*MarkFeed).Latest"], defect="marks",
           tally=["marks.inflight"], expected_rules=["blocked-client-call"],
           what="request goroutines inside http.Client.Get to an upstream that never answers, no timeout"),
    Family("client-conn-writeloop", "mixed", all=["net/http.(*persistConn).writeLoop"],
           defect="risktransport+marks", tally=["risk.unclosedBodies", "marks.inflight"],
           expected_rules=["conn-pool-growth"],
           what="persistConn write loops: one per client connection, leaked ones (risk gate, stuck mark calls) and the healthy pools' idle ones share this stack"),
    Family("client-conn-readloop-peek", "consequence", all=["net/http.(*persistConn).readLoop", "bufio.(*Reader).Peek"],
           defect="marks", tally=["marks.inflight"], expected_rules=["conn-pool-growth"],
           what="persistConn read loops waiting for a response: the stuck mark calls' connections and the healthy pools' idle ones share this stack"),
    Family("ledger-lock-queue", "pile-up", all=["sync.(*Mutex).Lock", SVC + "(*Ledger).Balance"], defect="ledger",
           tally=["ledger.lockWaiters"], expected_rules=["pile-up"],
           what="request goroutines queued on the ledger mutex held by the stuck compactor (a hang, not a leak)"),
    Family("ledger-compactor-stuck", "neutral", all=[SVC + "(*Ledger).compact"], defect="ledger",
           tally=["ledger.compacting"], expected_rules=[],
           what="the compactor holding the ledger mutex, blocked writing to a full pipe (root cause of the pile-up)"),
    # --- healthy background ------------------------------------------------------------
    Family("matcher-pool", "healthy", all=[SVC + "(*Matcher).worker"],
           what="bounded worker pool (8) started from main, idle on its job channel"),
    Family("ledger-compact-loop", "healthy", all=[SVC + "(*Ledger).compactLoop"],
           what="ticker loop that stops on its context"),
    Family("journal-shipper", "healthy", all=[SVC + "(*journal).ship"],
           what="pipe reader started from main, in IO wait (healthy scenario only)"),
    Family("metrics-flush-loop", "healthy", all=[SVC + "(*Metrics).flushLoop"], what="ticker loop that stops on its context"),
    Family("fx-refresh-loop", "healthy", all=[SVC + "(*FXRates).refreshLoop"], what="ticker loop that stops on its context"),
    Family("valuation-in-flight", "healthy",
           any=[SVC + "(*PortfolioService).Valuation", SVC + "priceClass", SVC + "(*group).Go"],
           what="in-flight errgroup-style fan-out requests (WaitGroup wait) and their pricers; they finish"),
    Family("main-awaiting-signal", "healthy", all=["main.serve"], none=["net/http.(*Server).Serve"],
           what="main goroutine waiting for SIGINT/SIGTERM (signal.Notify)"),
    Family("hangup-handler", "healthy", all=["main.reopenLogsOnHangup"], what="SIGHUP loop (signal.Notify)"),
    Family("os-signal-loop", "healthy", any=["os/signal.loop", "os/signal.signal_recv"], what="os/signal's watcher"),
    Family("accept-loop", "healthy", all=["net/http.(*Server).Serve"], what="API and admin listeners"),
    Family("server-conn-idle", "healthy", all=[SPILL], any=["bufio.(*Reader).Peek", "net/http.(*conn).readRequest"],
           what="server keep-alive connections reading their next request"),
    Family("server-background-read", "healthy",
           any=["net/http.(*connReader).backgroundRead", "net/http.(*connReader).startBackgroundRead.gowrap2"],
           what="server connections watching for the client going away during a request"),
    Family("sql-pool", "healthy", any=["database/sql.(*DB).connectionOpener", "database/sql.(*DB).connectionCleaner"],
           what="database/sql connection opener and cleaner"),
    Family("sql-in-flight", "healthy", any=["database/sql.(*Rows).awaitDone", "database/sql.(*Tx).awaitDone"],
           what="database/sql watchers of in-flight rows"),
    Family("profiling", "healthy",
           any=["runtime/pprof.writeGoroutineStacks", "runtime/pprof.writeRuntimeProfile", "runtime/pprof.writeGoroutine",
                "runtime/pprof.writeGoroutineLeak", "runtime/trace.", "net/http/pprof.", "runtime.Stack"],
           what="the goroutine writing the profile or trace"),
    Family("timer-callbacks", "healthy", created_by=["time.goFunc"],
           what="time.AfterFunc callbacks while they run (pending timers have no goroutine)"),
    Family("client-dialing", "healthy", any=["net/http.(*Transport).dialConnFor", "net/http.(*Transport).queueForDial"],
           what="client connections being dialed"),
    Family("requests-in-flight", "healthy", all=[SPILL], what="other in-flight requests that finish normally"),
    Family("server-conn-unwalkable", "healthy", created_by=["net/http.(*Server).Serve"],
           what="a server connection goroutine whose stack the runtime could not walk in a SIGQUIT dump "
                "('unexpected return pc' and a hex dump instead of the frames above runtime_pollWait)"),
    Family("runtime", "healthy", system=True, what="the runtime's own goroutines (SIGQUIT dumps, traces)"),
    Family("no-stack", "healthy", empty=True,
           what="records without a stack: a pprof sample of a goroutine caught starting or running, a trace goroutine whose blocking stack the trace did not record"),
]

FAMILY_BY_NAME = {f.name: f for f in FAMILIES}


def family_of(funcs: list[str], created_by: str | None = None) -> str:
    for f in FAMILIES:
        if f.matches(funcs, created_by):
            return f.name
    return "unmatched"


def read_any(path: str, go: str) -> list[Goroutine]:
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data.startswith(b"go 1.") and b" trace" in data[:16]:
        return read_trace(path, go)
    if path.endswith(".pb.gz") or data[:1] == b"\x0a":
        return read_pprof(data)
    text = data.decode("utf-8", "replace")
    if re.match(r"^\w+ profile: total \d+", text):
        return read_debug1(text)
    return read_dump(text)
