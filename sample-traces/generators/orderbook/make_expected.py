#!/usr/bin/env python3
"""Writes sample-traces/orderbook/expected.json from the captures themselves.

For every capture file it counts the goroutines of each family (captures.FAMILIES, matched by
stack frames), and works out how many of them leak, using the server's own tallies
(stats.json, fetched just before the profiles, and stats.end.json, just after) for the families
whose stacks are shared between leaking and healthy goroutines. It cross-checks every family
that has a tally against it and refuses to write anything when they disagree.

    python3 make_expected.py --root ../../orderbook [--go /path/to/go]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import captures  # noqa: E402

# What each file is: the tool that wrote it and the format.
FILE_KINDS = {
    "goroutine.debug2.txt.gz": ("net/http/pprof GET /debug/pprof/goroutine?debug=2", "goroutine dump (debug=2), gzipped"),
    "goroutine.debug2.leakmarked.txt.gz": (
        "net/http/pprof GET /debug/pprof/goroutine?debug=2 right after GET /debug/pprof/goroutineleak",
        "goroutine dump (debug=2) whose leaked goroutines carry (leaked), gzipped",
    ),
    "goroutine.debug1.txt": ("net/http/pprof GET /debug/pprof/goroutine?debug=1", "pprof goroutine profile, text (debug=1)"),
    "goroutine.pb.gz": ("net/http/pprof GET /debug/pprof/goroutine?debug=0", "pprof goroutine profile, protobuf (gzipped by pprof)"),
    "goroutineleak.pb.gz": ("net/http/pprof GET /debug/pprof/goroutineleak?debug=0", "Go 1.27 goroutine leak profile, protobuf"),
    "goroutineleak.debug1.txt": ("net/http/pprof GET /debug/pprof/goroutineleak?debug=1", "Go 1.27 goroutine leak profile, text"),
    "exec.trace": (
        "net/http/pprof GET /debug/pprof/trace?seconds=3 (runtime/trace)",
        "Go execution trace (header 'go 1.26 trace'); counts are goroutines alive at the end of the trace",
    ),
    "sigquit.stderr.txt.gz": ("SIGQUIT to the server with GOTRACEBACK=all; its stderr", "goroutine dump (runtime traceback), gzipped"),
}
PHASE_FILES = [k for k in FILE_KINDS if k != "sigquit.stderr.txt.gz"]
SCENARIOS = {"leaky": "every defect on (serve -bugs all)", "healthy": "every defect off (serve -bugs none)"}
PHASES = {"before": "after 20 calls to each defect route and 400 healthy requests",
          "after": "after 200 calls to each defect route and 4,000 healthy requests (10x)"}


def tallies(path: str) -> dict[str, int]:
    with open(path) as fh:
        st = json.load(fh)
    return {t["name"]: t["live"] for t in st.get("tally", [])}


def expected_for(path: str, go: str, scenario: str, live: list[dict[str, int]], leak_profile: bool) -> tuple[dict, list[str]]:
    records = captures.read_any(path, go)
    counts: dict[str, int] = collections.Counter()
    marked: dict[str, int] = collections.Counter()
    states: dict[str, dict[str, int]] = collections.defaultdict(collections.Counter)
    for g in records:
        fam = captures.family_of(g.funcs, g.created_by)
        counts[fam] += g.count
        if g.leaked or leak_profile:
            marked[fam] += g.count
        if g.state:
            states[fam][g.state] += g.count
    defects_on = scenario == "leaky"
    problems = []
    fams = {}
    for f in captures.FAMILIES:
        n = counts.get(f.name, 0)
        tally_sums = [sum(t.get(name, 0) for name in f.tally) for t in live]
        leaking = 0
        if defects_on and f.kind == "leak":
            leaking = n
        elif defects_on and f.kind in ("mixed", "consequence"):
            leaking = min(n, tally_sums[0] if tally_sums else 0)
        entry = {"count": n, "leaking": leaking}
        if f.kind == "pile-up" and defects_on:
            entry["piled_up"] = n
        if marked.get(f.name):
            entry["runtime_marked"] = marked[f.name]
        if states.get(f.name):
            entry["states"] = dict(sorted(states[f.name].items()))
        if n or leaking:
            fams[f.name] = entry
        # Cross-check against the server's own counters (not for the leak profile, which holds
        # only what the runtime could prove).
        if f.tally and not leak_profile and tally_sums:
            if len(set(tally_sums)) != 1:
                problems.append(f"{path}: {f.name}: the tallies moved during the capture: {tally_sums}")
            want = tally_sums[0]
            if f.kind in ("mixed", "consequence"):
                if n < want:
                    problems.append(f"{path}: {f.name}: {n} goroutines, the server counts {want} leaking")
            elif n != want:
                problems.append(f"{path}: {f.name}: {n} goroutines, the server counts {want}")
    verdicts: dict[str, list[str]] = {"must_flag": [], "must_not_flag": [], "pile_up": [], "either": []}
    for f in captures.FAMILIES:
        entry = fams.get(f.name)
        if not entry:
            continue
        if defects_on and f.kind == "pile-up":
            verdicts["pile_up"].append(f.name)
        elif defects_on and f.kind == "neutral":
            verdicts["either"].append(f.name)
        elif entry["leaking"] > 0:
            verdicts["either" if f.kind == "consequence" else "must_flag"].append(f.name)
        else:
            verdicts["must_not_flag"].append(f.name)
    unmatched = counts.get("unmatched", 0)
    if unmatched:
        problems.append(f"{path}: {unmatched} goroutines match no family")
    total = sum(g.count for g in records)
    return {"total": total, "families": fams, "verdicts": verdicts}, problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", required=True, help="sample-traces/orderbook")
    ap.add_argument("--go", default="go", help="go binary (for go tool trace)")
    ap.add_argument("--markdown", action="store_true", help="also print the table rows for sample-traces/README.md")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    out: dict = {
        "program": "orderbook (sample-traces/generators/orderbook)",
        "how_to_use": (
            "Map each goroutine (or pprof sample, or finding group) to a family with the family's match: "
            "every pattern in 'all' and at least one in 'any' (if given) among its stack's functions, none of 'none', "
            "'start' matching the function it started in (outermost frame, ignoring runtime.goexit and F.gowrapN), "
            "'created_by' matching its creator; 'system' means started in the runtime. A pattern ending in '.', '(' "
            "or '/' is a prefix; any other pattern matches that function and its closures (F.func1, F.func1.2). "
            "Families are tried in 'match_order'; the first match wins. A family whose 'leaking' count is above zero "
            "in a capture must be flagged; a family with 'leaking' 0 must not be, except kind 'pile-up' (expected rule "
            "pile-up) and kind 'neutral' (either is fine)."
        ),
        "kinds": {
            "leak": "every goroutine of the family leaks (when the defect is on)",
            "mixed": "the stack is shared by leaking and healthy goroutines; 'leaking' says how many leak (from the server's tallies); must be flagged when some leak",
            "consequence": "like mixed, but the leaking part only exists because of another flagged family (the connections of stuck calls): flagging it is fine, not flagging it too; flagging it when nothing leaks is a false positive",
            "pile-up": "goroutines queued on one mutex behind a stuck holder: a hang, not a leak; expected rule pile-up",
            "neutral": "the stuck lock holder: flagging it or not are both acceptable",
            "healthy": "must never be flagged",
        },
        "families": {f.name: f.to_json() for f in captures.FAMILIES},
        "match_order": [f.name for f in captures.FAMILIES],
        "captures": {},
    }
    problems: list[str] = []
    for scenario, what in SCENARIOS.items():
        sdir = os.path.join(root, scenario)
        with open(os.path.join(sdir, "capture.json")) as fh:
            manifest = json.load(fh)
        for phase in PHASES:
            live = [tallies(os.path.join(sdir, phase, n)) for n in ("stats.json", "stats.end.json")]
            for name in PHASE_FILES:
                rel = f"{scenario}/{phase}/{name}"
                path = os.path.join(root, rel)
                if not os.path.exists(path):
                    problems.append(f"missing {rel}")
                    continue
                exp, probs = expected_for(path, args.go, scenario, live, name.startswith("goroutineleak"))
                problems += probs
                tool, fmt = FILE_KINDS[name]
                exp = {"scenario": scenario, "phase": phase, "tool": tool, "format": fmt,
                       "go_version": manifest.get("driver_go_version"), "what": f"{what}, {PHASES[phase]}", **exp}
                if phase == "after":
                    exp["baseline"] = f"{scenario}/before/{name}"
                out["captures"][rel] = exp
        rel = f"{scenario}/sigquit.stderr.txt.gz"
        live = [tallies(os.path.join(sdir, "after", "stats.end.json"))]
        exp, probs = expected_for(os.path.join(root, rel), args.go, scenario, live, False)
        problems += probs
        tool, fmt = FILE_KINDS["sigquit.stderr.txt.gz"]
        out["captures"][rel] = {"scenario": scenario, "phase": "end", "tool": tool, "format": fmt,
                                "go_version": manifest.get("driver_go_version"),
                                "what": f"{what}, at the end of the run, background load still running", **exp}
    # Growth against the baseline: what --baseline should see.
    for rel, exp in out["captures"].items():
        base = out["captures"].get(exp.get("baseline", ""))
        if not base:
            continue
        grew = []
        for name, entry in exp["families"].items():
            before = base["families"].get(name, {})
            entry["baseline_count"] = before.get("count", 0)
            if entry["leaking"] > before.get("leaking", 0):
                grew.append(name)
        exp["leaking_families_that_grew"] = grew
    if problems:
        print("expected.json NOT written:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    with open(os.path.join(root, "expected.json"), "w") as fh:
        json.dump(out, fh, indent=1, sort_keys=False)
        fh.write("\n")
    print(f"wrote {os.path.join(root, 'expected.json')}: {len(out['captures'])} captures")
    if args.markdown:
        print_markdown(out)
    return 0


SHORT = [("quote-fanout-send", "1"), ("feed-session-pump", "2"), ("cancel-ack-ctx", "3"),
         ("settlement-nil-chan", "4"), ("tenant-ctx-propagation", "5"), ("risk-conn-readloop", "6"),
         ("client-conn-writeloop", "6+7 wl"), ("mark-call-stuck", "7"), ("client-conn-readloop-peek", "7 rl"),
         ("ledger-lock-queue", "8 queue")]


SHORT_FORMAT = {
    "goroutine.debug2.txt.gz": "dump, debug=2",
    "goroutine.debug2.leakmarked.txt.gz": "dump, debug=2, `(leaked)` marks",
    "goroutine.debug1.txt": "goroutine profile, debug=1",
    "goroutine.pb.gz": "goroutine profile, proto",
    "goroutineleak.pb.gz": "goroutineleak profile, proto",
    "goroutineleak.debug1.txt": "goroutineleak profile, debug=1",
    "exec.trace": "execution trace (alive at end)",
    "sigquit.stderr.txt.gz": "SIGQUIT dump",
}


def print_markdown(out: dict) -> None:
    """The rows of the sample-traces/README.md table (re-run after capture.sh)."""
    print("| file | format | goroutines | " + " | ".join(s for _, s in SHORT) + " | healthy |")
    print("|---|---|---|" + "---|" * (len(SHORT) + 1))
    for rel, c in out["captures"].items():
        fams = c["families"]
        cells = []
        for name, _ in SHORT:
            e = fams.get(name, {})
            n, leaking = e.get("count", 0), e.get("leaking", 0)
            cells.append(f"{n} ({leaking})" if n != leaking and name.startswith("client-conn") else str(n))
        healthy = sum(e["count"] for n, e in fams.items() if captures.FAMILY_BY_NAME[n].kind == "healthy")
        short_fmt = SHORT_FORMAT[rel.rsplit("/", 1)[-1]]
        print(f"| `{rel}` | {short_fmt} | {c['total']} | " + " | ".join(cells) + f" | {healthy} |")


if __name__ == "__main__":
    sys.exit(main())
