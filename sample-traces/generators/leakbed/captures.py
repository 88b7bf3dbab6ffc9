"""Readers for Go goroutine captures and the family matcher shared by the leakbed test beds
(busyhealthy, notifier, syncer).

Adapted from ../orderbook/captures.py: the same readers (goroutine dumps from debug=2 and
SIGQUIT, pprof debug=1 text, pprof protobuf) and the same matching rules, so expected.json files
of every bed mean the same thing. Independent of leakscope on purpose.

Every reader returns a list of Goroutine records; a record may stand for several goroutines
(`count`), as in pprof profiles.
"""

from __future__ import annotations

import gzip
import re
from dataclasses import dataclass, field

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
# Matching


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



# ----------------------------------------------------------------------------------------------
# Families


@dataclass
class Family:
    name: str
    kind: str  # leak | mixed | consequence | pile-up | neutral | healthy
    pattern: str  # the leak pattern (leak, mixed, consequence) or "healthy:<shape>"
    all: list[str] = field(default_factory=list)
    any: list[str] = field(default_factory=list)
    none: list[str] = field(default_factory=list)
    created_by: list[str] = field(default_factory=list)
    start: list[str] = field(default_factory=list)  # the goroutine's start function
    system: bool = False
    empty: bool = False  # matches records without any frame
    defect: str | None = None
    expected_rules: list[str] = field(default_factory=list)
    # Server tallies whose live sum is the leaking part (leak, mixed, consequence, pile-up).
    tally: list[str] = field(default_factory=list)
    # Server tallies whose live sum must equal the family's whole count (checked in every
    # capture that is not a leak profile).
    total_tally: list[str] = field(default_factory=list)
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
        out = {
            "kind": self.kind,
            "pattern": self.pattern,
            "defect": self.defect,
            "what": self.what,
            "match": m,
            "expected_rules": self.expected_rules,
            "leak_part_from_tallies": self.tally,
        }
        if self.total_tally:
            out["count_from_tallies"] = self.total_tally
        return out


def family_of(families: list[Family], funcs: list[str], created_by: str | None = None) -> str:
    for f in families:
        if f.matches(funcs, created_by):
            return f.name
    return "unmatched"


# The families every Go server capture has, appended after a bed's own families.
SPILL = "net/http.(*conn).serve"


def common_families(main_wait: list[str], main_none: list[str] | None = None) -> list[Family]:
    return [
        Family("main-awaiting-signal", "healthy", "healthy:signal-wait", all=main_wait,
               none=(main_none or []) + ["net/http.(*Server).Serve"],
               what="main goroutine waiting for SIGINT/SIGTERM (signal.Notify)"),
        Family("os-signal-loop", "healthy", "healthy:signal-wait", any=["os/signal.loop", "os/signal.signal_recv"],
               what="os/signal's watcher"),
        Family("accept-loop", "healthy", "healthy:accept-loop", all=["net/http.(*Server).Serve"],
               what="API and admin HTTP listeners"),
        Family("server-conn-idle", "healthy", "healthy:keepalive-conn", all=[SPILL],
               any=["bufio.(*Reader).Peek", "net/http.(*conn).readRequest"],
               what="server keep-alive connections reading their next request"),
        Family("server-background-read", "healthy", "healthy:keepalive-conn",
               any=["net/http.(*connReader).backgroundRead", "net/http.(*connReader).startBackgroundRead.gowrap2",
                    "net/http.(*connReader).startBackgroundRead"],
               what="server connections watching for the client going away during a request"),
        Family("profiling", "healthy", "healthy:profiling",
               any=["runtime/pprof.writeGoroutineStacks", "runtime/pprof.writeRuntimeProfile", "runtime/pprof.writeGoroutine",
                    "runtime/pprof.writeGoroutineLeak", "runtime/trace.", "net/http/pprof.", "runtime.Stack"],
               what="the goroutine writing the profile"),
        Family("timer-callbacks", "healthy", "healthy:timer-callback", created_by=["time.goFunc"],
               what="time.AfterFunc callbacks while they run"),
        Family("client-dialing", "healthy", "healthy:client-dial",
               any=["net/http.(*Transport).dialConnFor", "net/http.(*Transport).queueForDial"],
               what="client connections being dialed"),
        just_started("just-started-net-http", ["net/http.(*Server).Serve", "net/http.(*Transport).dialConn",
                                               "net/http.(*Transport).queueForDial"]),
        Family("requests-in-flight", "healthy", "healthy:request-in-flight", all=[SPILL],
               what="other in-flight requests that finish normally"),
        Family("server-conn-unwalkable", "healthy", "healthy:unwalkable", created_by=["net/http.(*Server).Serve"],
               what="a server connection goroutine whose stack the runtime could not walk in a SIGQUIT dump"),
        Family("runtime", "healthy", "healthy:runtime", system=True,
               what="the runtime's own goroutines (SIGQUIT dumps)"),
        Family("no-stack", "healthy", "healthy:no-stack", empty=True,
               what="records without a stack: a pprof sample of a goroutine caught starting or running"),
    ]


def just_started(name: str, creators: list[str], extra: list[str] | None = None) -> Family:
    """Goroutines caught between their go statement and their first instruction: the stack holds
    only the go statement's wrapper (Go 1.21+: F.gowrapN; Go 1.17-1.20: F.funcN, which the
    pattern F.funcN also matches) and runtime.goexit, state runnable."""
    pats = []
    for f in creators:
        pats += [f"{f}.gowrap{i}" for i in range(1, 5)] + [f"{f}.func{i}" for i in range(1, 5)]
    pats += extra or []
    return Family(name, "healthy", "healthy:just-started", any=pats,
                  what="goroutines caught right after their go statement, before running (only the go "
                       "statement's wrapper on the stack), started by " + ", ".join(creators))


def read_any(path: str) -> list[Goroutine]:
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if path.endswith(".pb.gz") or data[:1] == b"\x0a":
        return read_pprof(data)
    text = data.decode("utf-8", "replace")
    if re.match(r"^\w+ profile: total \d+", text):
        return read_debug1(text)
    return read_dump(text)
