#!/usr/bin/env python3
"""Runs `leakscope report --json` on every orderbook capture and judges the findings against
expected.json: per family, whether it was flagged, with which severity and rules, and whether
a finding landed on healthy goroutines (a false positive).

    python3 evaluate.py --leakscope target/debug/leakscope [--root sample-traces/orderbook]
                        [--only SUBSTRING] [--json results.json] [--brief]

Each finding is mapped to a family through its group's stack (group.frames) and creator, with
the same matchers make_expected.py used (expected.json "families"/"match_order"). For every
"after" capture the run is repeated with --baseline pointing at the "before" capture of the same
format.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import captures  # noqa: E402

SEVERITY_ORDER = ["proven", "likely", "possible", "warning"]


def run_leakscope(binary: str, path: str, baseline: str | None) -> tuple[dict | None, str]:
    cmd = [binary, "report", path, "--json"]
    if baseline:
        cmd += ["--baseline", baseline]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode not in (0, 3):
        err = (p.stderr.strip() or p.stdout.strip()).splitlines()
        return None, (err[0] if err else f"exit code {p.returncode}")[:200]
    try:
        return json.loads(p.stdout), ""
    except json.JSONDecodeError as e:
        return None, f"bad JSON: {e}"


def worst(sevs: list[str]) -> str:
    return min(sevs, key=SEVERITY_ORDER.index) if sevs else "-"


def judge(exp: dict, report: dict, scenario: str, with_baseline: bool) -> dict:
    """Per family: expected numbers, what leakscope said, and the verdict."""
    rows: dict[str, dict] = {}
    for name, fam in exp["families"].items():
        kind = captures.FAMILY_BY_NAME[name].kind
        rows[name] = {"kind": kind, "count": fam["count"], "leaking": fam["leaking"], "findings": []}
    unmapped = []
    for f in report.get("findings", []):
        g = f.get("group", {})
        fam = captures.family_of(g.get("frames", []), g.get("created_by"))
        if fam == "unmatched":
            unmapped.append(f)
            continue
        rows.setdefault(fam, {"kind": captures.FAMILY_BY_NAME[fam].kind, "count": 0, "leaking": 0, "findings": []})
        rows[fam]["findings"].append(f)
    for name, r in rows.items():
        fs = r["findings"]
        rules = []
        for f in fs:
            for rule in f.get("rules", [f.get("rule")]):
                if rule not in rules:
                    rules.append(rule)
        r["flagged"] = bool(fs)
        r["severity"] = worst([f["severity"] for f in fs])
        r["rules"] = rules
        r["found"] = sum(f.get("count", 0) for f in fs)
        r["grew"] = any(f.get("growth") for f in fs)
        kind, leaking = r["kind"], r["leaking"]
        defect_on = scenario == "leaky"
        if kind == "pile-up" and defect_on and r["count"]:
            if not fs:
                verdict = "MISSED (pile-up)"
            elif "pile-up" in rules:
                verdict = "ok (pile-up)" if r["severity"] == "warning" else f"ok, pile-up but also {r['severity']}"
            else:
                verdict = "flagged, not as pile-up"
        elif kind == "neutral" and defect_on:
            verdict = "flagged (either is fine)" if fs else "not flagged (either is fine)"
        elif kind == "consequence" and leaking > 0:
            verdict = "flagged (consequence)" if fs else "not flagged (consequence)"
        elif leaking > 0:
            verdict = "ok" if fs else "MISSED"
        else:
            verdict = "FALSE POSITIVE" if fs else "ok"
        r["verdict"] = verdict
    leak_fams = [n for n, r in rows.items() if r["leaking"] > 0 and r["kind"] in ("leak", "mixed")]
    flagged_leaks = [n for n in leak_fams if rows[n]["flagged"]]
    fp_fams = [n for n, r in rows.items() if r["verdict"] == "FALSE POSITIVE"]
    tp_findings = fp_findings = 0
    for n, r in rows.items():
        k = len(r["findings"])
        if r["verdict"] == "FALSE POSITIVE":
            fp_findings += k
        elif r["kind"] != "neutral" and r["count"]:
            tp_findings += k
    return {
        "rows": rows,
        "unmapped": [{"rule": f.get("rule"), "count": f.get("count"), "frames": f.get("group", {}).get("frames", [])[:6]} for f in unmapped],
        "leak_families": len(leak_fams),
        "leak_families_flagged": len(flagged_leaks),
        "false_positive_families": fp_fams,
        "findings": len(report.get("findings", [])),
        "tp_findings": tp_findings,
        "fp_findings": fp_findings + len(unmapped),
        "with_baseline": with_baseline,
    }


def print_table(title: str, res: dict, brief: bool) -> None:
    print(f"\n### {title}")
    print(f"{'family':27} {'kind':8} {'count':>6} {'leaking':>7}  {'flagged':7} {'severity':8} {'found':>6}  {'verdict':26} rules")
    order = {n: i for i, n in enumerate(captures.FAMILY_BY_NAME)}
    quiet = []
    for name, r in sorted(res["rows"].items(), key=lambda kv: order.get(kv[0], 999)):
        if not r["count"] and not r["flagged"]:
            continue
        if brief and r["verdict"] == "ok" and not r["flagged"] and r["leaking"] == 0:
            quiet.append(f"{name} {r['count']}")
            continue
        print(f"{name:27} {r['kind']:8} {r['count']:>6} {r['leaking']:>7}  {'yes' if r['flagged'] else 'no':7} "
              f"{r['severity']:8} {r['found']:>6}  {r['verdict']:26} {','.join(r['rules']) or '-'}")
    if quiet:
        print(f"not flagged, correctly: {', '.join(quiet)}")
    for u in res["unmapped"]:
        print(f"  finding on no family: {u['rule']} x{u['count']} {u['frames']}")
    fp = ", ".join(res["false_positive_families"]) or "none"
    print(f"leak families flagged: {res['leak_families_flagged']}/{res['leak_families']}; "
          f"findings on leaking/piled-up goroutines: {res['tp_findings']}/{res['findings']}; false positives: {fp}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--leakscope", required=True)
    ap.add_argument("--root", default=os.path.join(here, "..", "..", "orderbook"))
    ap.add_argument("--only", default="", help="evaluate only captures whose path contains this")
    ap.add_argument("--json", help="write every result here")
    ap.add_argument("--brief", action="store_true", help="fold the healthy families that were correctly left alone into one line")
    args = ap.parse_args()
    root = os.path.abspath(args.root)
    with open(os.path.join(root, "expected.json")) as fh:
        expected = json.load(fh)

    summary = []
    results = {}
    for rel, exp in expected["captures"].items():
        if args.only not in rel:
            continue
        runs = [(rel, None)]
        if exp.get("baseline"):
            runs.append((rel, exp["baseline"]))
        for path, base in runs:
            label = f"{path}" + (f"  --baseline {base}" if base else "")
            report, err = run_leakscope(args.leakscope, os.path.join(root, path), os.path.join(root, base) if base else None)
            if report is None:
                print(f"\n### {label}\nNOT PARSED: {err}")
                summary.append((label, "not parsed", "-", "-", "-"))
                results[label] = {"error": err}
                continue
            res = judge(exp, report, exp["scenario"], bool(base))
            print_table(label, res, args.brief)
            results[label] = res
            summary.append((label, "parsed", f"{res['leak_families_flagged']}/{res['leak_families']}",
                            f"{res['tp_findings']}/{res['findings']}", ",".join(res["false_positive_families"]) or "none"))

    print("\n## Summary")
    print(f"{'capture':78} {'parse':10} {'leaks flagged':13} {'precision':9}  false positives")
    for row in summary:
        print(f"{row[0]:78} {row[1]:10} {row[2]:13} {row[3]:9}  {row[4]}")
    if args.json:
        def strip(r):
            if "rows" in r:
                r = dict(r)
                r["rows"] = {n: {k: v for k, v in x.items() if k != "findings"} for n, x in r["rows"].items()}
            return r
        with open(args.json, "w") as fh:
            json.dump({k: strip(v) for k, v in results.items()}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
