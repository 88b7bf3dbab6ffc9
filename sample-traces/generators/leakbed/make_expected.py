#!/usr/bin/env python3
"""Writes sample-traces/<program>/expected.json for a leakbed test bed from the captures.

For every capture file (every Go version, scenario and phase) it reads every goroutine or
pprof sample, puts it in a family (the bed's families.py, first match wins) and counts them.
It cross-checks the counts against the server's own tallies (stats.json, fetched just before
the profiles, and stats.end.json, just after): a leak family must hold exactly the goroutines
the server counts as leaked, a mixed family at least that many, a family with
'count_from_tallies' exactly the live sum of those tallies. It also checks that every capture
came from the Go version its directory names (Go 1.19 dumps have no "in goroutine N"). It
refuses to write anything when a check fails.

    python3 make_expected.py --program busyhealthy [--root sample-traces/busyhealthy] [--table]
"""

from __future__ import annotations

import argparse
import collections
import gzip
import importlib.util
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import captures  # noqa: E402

FILE_KINDS = {
    "goroutine.debug2.txt.gz": ("net/http/pprof GET /debug/pprof/goroutine?debug=2", "goroutine dump (debug=2), gzipped"),
    "goroutine.debug2.leakmarked.txt.gz": (
        "net/http/pprof GET /debug/pprof/goroutine?debug=2 right after GET /debug/pprof/goroutineleak",
        "goroutine dump (debug=2) whose leaked goroutines carry (leaked), gzipped",
    ),
    "goroutine.debug1.txt": ("net/http/pprof GET /debug/pprof/goroutine?debug=1", "pprof goroutine profile, text (debug=1)"),
    "goroutine.debug1.txt.gz": ("net/http/pprof GET /debug/pprof/goroutine?debug=1", "pprof goroutine profile, text (debug=1), gzipped"),
    "goroutine.pb.gz": ("net/http/pprof GET /debug/pprof/goroutine?debug=0", "pprof goroutine profile, protobuf (gzipped by pprof)"),
    "goroutineleak.pb.gz": ("net/http/pprof GET /debug/pprof/goroutineleak?debug=0", "Go 1.27 goroutine leak profile, protobuf"),
    "goroutineleak.debug1.txt": ("net/http/pprof GET /debug/pprof/goroutineleak?debug=1", "Go 1.27 goroutine leak profile, text"),
    "goroutineleak.debug1.txt.gz": ("net/http/pprof GET /debug/pprof/goroutineleak?debug=1", "Go 1.27 goroutine leak profile, text, gzipped"),
    "sigquit.stderr.txt.gz": ("SIGQUIT to the server with GOTRACEBACK=all; its stderr", "goroutine dump (runtime traceback), gzipped"),
}
PHASE_FILES = [k for k in FILE_KINDS if k != "sigquit.stderr.txt.gz"]
GO_DIRS = {"go127": "go1.27", "go124": "go1.24", "go119": "go1.19"}

HOW_TO_USE = (
    "Map each goroutine (or pprof sample, or finding group) to a family with the family's match: "
    "every pattern in 'all' and at least one in 'any' (if given) among its stack's functions, none of 'none', "
    "'start' matching the function it started in (outermost frame, ignoring runtime.goexit and F.gowrapN), "
    "'created_by' matching its creator; 'system' means started in the runtime. A pattern ending in '.', '(' "
    "or '/' is a prefix; any other pattern matches that function and its closures (F.func1, F.func1.2). "
    "Families are tried in 'match_order'; the first match wins. A family whose 'leaking' count is above zero "
    "in a capture must be flagged; a family with 'leaking' 0 must not be, except kind 'pile-up' (expected rule "
    "pile-up) and kind 'neutral' (either is fine). Each family's 'pattern' names the leak pattern it exercises "
    "(or 'healthy:<shape>' for healthy families): recall per pattern is the share of captures where a family "
    "of that pattern with leaking > 0 was flagged. Capture keys are <go version dir>/<scenario>/<phase>/<file>; "
    "an 'after' capture's 'baseline' is the 'before' capture of the same format. In 'verdicts', 'neutral' "
    "and 'either' are the same list (orderbook's expected.json calls it 'either')."
)
KINDS = {
    "leak": "every goroutine of the family leaks (when the defect is on)",
    "mixed": "the stack is shared by leaking and healthy goroutines; 'leaking' says how many leak (from the server's tallies); must be flagged when some leak",
    "consequence": "like mixed, but the leaking part only exists because of another flagged family (the connections of stuck calls): flagging it is fine, not flagging it too; flagging it when nothing leaks is a false positive",
    "pile-up": "goroutines queued on one mutex behind a stuck holder: a hang, not a leak; expected rule pile-up",
    "neutral": "genuinely ambiguous (a stuck holder, work in flight that outlived its request): flagging it or not are both acceptable",
    "healthy": "must never be flagged",
}


def load_families(program: str):
    path = os.path.join(HERE, "..", program, "families.py")
    spec = importlib.util.spec_from_file_location(f"{program}_families", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def tallies(path: str) -> dict[str, int]:
    with open(path) as fh:
        st = json.load(fh)
    return {t["name"]: t["live"] for t in st.get("tally") or []}


def raw_text(path: str) -> str:
    with open(path, "rb") as fh:
        data = fh.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def expected_for(fams, path: str, defects_on: bool, live: list[dict[str, int]], leak_profile: bool):
    records = captures.read_any(path)
    counts: dict[str, int] = collections.Counter()
    marked: dict[str, int] = collections.Counter()
    states: dict[str, dict[str, int]] = collections.defaultdict(collections.Counter)
    for g in records:
        fam = captures.family_of(fams, g.funcs, g.created_by)
        counts[fam] += g.count
        if g.leaked or leak_profile:
            marked[fam] += g.count
        if g.state:
            states[fam][g.state] += g.count
    problems, warnings = [], []
    out = {}
    for f in fams:
        n = counts.get(f.name, 0)
        tsum = [sum(t.get(name, 0) for name in f.tally) for t in live]
        totals = [sum(t.get(name, 0) for name in f.total_tally) for t in live]
        leaking = 0
        if defects_on and f.kind == "leak":
            leaking = n
        elif defects_on and f.kind in ("mixed", "consequence"):
            leaking = min(n, tsum[0] if tsum else 0)
        entry = {"count": n, "leaking": leaking}
        if f.kind == "pile-up" and defects_on:
            entry["piled_up"] = n
        if marked.get(f.name):
            entry["runtime_marked"] = marked[f.name]
        if states.get(f.name):
            entry["states"] = dict(sorted(states[f.name].items()))
        if n or leaking:
            out[f.name] = entry
        if marked.get(f.name) and f.kind in ("healthy", "neutral") and not leak_profile:
            warnings.append(f"{path}: {f.name}: {marked[f.name]} goroutines marked (leaked) by the runtime")
        if marked.get(f.name) and leak_profile and f.kind in ("healthy", "neutral"):
            warnings.append(f"{path}: {f.name}: {marked[f.name]} in the runtime's leak profile")
        if leak_profile:
            continue
        for name, sums in ((f"tally {f.tally}", tsum), (f"total tally {f.total_tally}", totals)):
            if sums and len(set(sums)) != 1:
                problems.append(f"{path}: {f.name}: {name} moved during the capture: {sums}")
        if f.tally and tsum:
            want = tsum[0]
            if not defects_on and want:
                problems.append(f"{path}: {f.name}: defects off but the server counts {want} leaked")
            elif f.kind in ("mixed", "consequence"):
                if n < want:
                    problems.append(f"{path}: {f.name}: {n} goroutines, the server counts {want} leaking")
            elif defects_on and n != want:
                problems.append(f"{path}: {f.name}: {n} goroutines, the server counts {want}")
        if f.kind == "leak" and not defects_on and n:
            problems.append(f"{path}: {f.name}: {n} goroutines with the defects off")
        if f.total_tally and totals and n != totals[0]:
            problems.append(f"{path}: {f.name}: {n} goroutines, the server's tallies {f.total_tally} say {totals[0]}")
    verdicts: dict[str, list[str]] = {"must_flag": [], "must_not_flag": [], "pile_up": [], "neutral": []}
    for f in fams:
        entry = out.get(f.name)
        if not entry:
            continue
        if defects_on and f.kind == "pile-up":
            verdicts["pile_up"].append(f.name)
        elif f.kind == "neutral":
            verdicts["neutral"].append(f.name)
        elif entry["leaking"] > 0:
            verdicts["neutral" if f.kind == "consequence" else "must_flag"].append(f.name)
        else:
            verdicts["must_not_flag"].append(f.name)
    verdicts["either"] = list(verdicts["neutral"])
    if counts.get("unmatched"):
        problems.append(f"{path}: {counts['unmatched']} goroutines match no family")
    total = sum(g.count for g in records)
    return {"total": total, "families": out, "verdicts": verdicts}, problems, warnings


def check_version(path: str, godir: str, stats_version: str, problems: list[str]) -> None:
    want = GO_DIRS.get(godir)
    if want and not (stats_version == want or stats_version.startswith(want + ".")):
        problems.append(f"{path}: server said {stats_version}, directory says {godir}")
    if path.endswith(".txt.gz") and ("debug2" in path or "sigquit" in path):
        text = raw_text(path)
        parents = len(re.findall(r"^created by \S+ in goroutine \d+$", text, re.M))
        if godir == "go119" and parents:
            problems.append(f"{path}: {parents} 'in goroutine N' creator lines in a Go 1.19 dump")
        if godir in ("go124", "go127") and not parents:
            problems.append(f"{path}: no 'in goroutine N' creator lines in a {godir} dump")
        if godir != "go127" and "(leaked)" in text:
            problems.append(f"{path}: (leaked) marks in a {godir} dump")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--program", required=True, help="busyhealthy, notifier or syncer")
    ap.add_argument("--root", help="sample-traces/<program> (default: next to generators/)")
    ap.add_argument("--table", action="store_true", help="print a family x capture table (debug=2 counts)")
    args = ap.parse_args()
    mod = load_families(args.program)
    fams: list[captures.Family] = mod.FAMILIES
    names = [f.name for f in fams]
    dup = [n for n in names if names.count(n) > 1]
    if dup:
        print(f"duplicate family names: {sorted(set(dup))}", file=sys.stderr)
        return 1
    root = os.path.abspath(args.root or os.path.join(HERE, "..", "..", args.program))
    out: dict = {
        "program": mod.PROGRAM,
        "how_to_use": HOW_TO_USE,
        "kinds": KINDS,
        "families": {f.name: f.to_json() for f in fams},
        "match_order": names,
        "captures": {},
    }
    problems: list[str] = []
    warnings: list[str] = []
    for godir in GO_DIRS:
        gdir = os.path.join(root, godir)
        if not os.path.isdir(gdir):
            continue
        for scenario, what in mod.SCENARIOS.items():
            sdir = os.path.join(gdir, scenario)
            if not os.path.isdir(sdir):
                continue
            defects_on = scenario in mod.LEAKY_SCENARIOS
            for phase, pwhat in mod.PHASES.items():
                live = [tallies(os.path.join(sdir, phase, n)) for n in ("stats.json", "stats.end.json")]
                with open(os.path.join(sdir, phase, "stats.json")) as fh:
                    goversion = json.load(fh)["go_version"]
                present = [n for n in PHASE_FILES if os.path.exists(os.path.join(sdir, phase, n))]
                for need in ("goroutine.debug2.txt.gz", "goroutine.pb.gz"):
                    if need not in present:
                        problems.append(f"missing {godir}/{scenario}/{phase}/{need}")
                if godir == "go127" and "goroutineleak.pb.gz" not in present:
                    problems.append(f"missing {godir}/{scenario}/{phase}/goroutineleak.pb.gz")
                for name in present:
                    rel = f"{godir}/{scenario}/{phase}/{name}"
                    path = os.path.join(root, rel)
                    check_version(path, godir, goversion, problems)
                    exp, probs, warns = expected_for(fams, path, defects_on, live, name.startswith("goroutineleak"))
                    problems += probs
                    warnings += warns
                    tool, fmt = FILE_KINDS[name]
                    exp = {"scenario": scenario, "phase": phase, "tool": tool, "format": fmt,
                           "go_version": goversion, "what": f"{what}, {pwhat}", **exp}
                    if phase == "after":
                        exp["baseline"] = f"{godir}/{scenario}/before/{name}"
                    out["captures"][rel] = exp
            rel = f"{godir}/{scenario}/sigquit.stderr.txt.gz"
            path = os.path.join(root, rel)
            if not os.path.exists(path):
                problems.append(f"missing {rel}")
                continue
            with open(os.path.join(sdir, "after", "stats.end.json")) as fh:
                goversion = json.load(fh)["go_version"]
            check_version(path, godir, goversion, problems)
            live = [tallies(os.path.join(sdir, "after", "stats.end.json"))]
            exp, probs, warns = expected_for(fams, path, defects_on, live, False)
            problems += probs
            warnings += warns
            tool, fmt = FILE_KINDS["sigquit.stderr.txt.gz"]
            out["captures"][rel] = {"scenario": scenario, "phase": "end", "tool": tool, "format": fmt,
                                    "go_version": goversion,
                                    "what": f"{what}, at the end of the run (after the 'after' phase), background load still running",
                                    **exp}
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
    for w in warnings:
        print("note: " + w, file=sys.stderr)
    if not out["captures"]:
        problems.append(f"no captures under {root}")
    if problems:
        print("expected.json NOT written:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    with open(os.path.join(root, "expected.json"), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"wrote {os.path.join(root, 'expected.json')}: {len(out['captures'])} captures")
    if args.table:
        print_table(out, fams)
    return 0


def print_table(out: dict, fams) -> None:
    cols = [rel for rel in out["captures"] if rel.endswith("/goroutine.debug2.txt.gz")]
    short = [rel.replace("/goroutine.debug2.txt.gz", "").replace("go1", "").replace("/before", "/b").replace("/after", "/a") for rel in cols]
    print("| family | kind | " + " | ".join(short) + " |")
    print("|---|---|" + "---|" * len(cols))
    for f in fams:
        cells = []
        any_n = False
        for rel in cols:
            e = out["captures"][rel]["families"].get(f.name)
            if not e:
                cells.append("")
                continue
            any_n = True
            n, lk = e["count"], e["leaking"]
            cells.append(str(n) if f.kind in ("leak", "healthy", "neutral") or n == lk else f"{n} ({lk})")
        if any_n:
            print(f"| {f.name} | {f.kind} | " + " | ".join(cells) + " |")
    print("| total | | " + " | ".join(str(out["captures"][rel]["total"]) for rel in cols) + " |")


if __name__ == "__main__":
    sys.exit(main())
