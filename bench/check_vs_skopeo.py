"""regdoctor check vs skopeo inspect vs az acr check-health, side by side, in one run.

Runs inside the fault lab (tests/lab, needs root). Every tool runs N times in the lab's client
namespace against the same faults, behind ACR-style names on port 443 so that all three tools can
be pointed at them; the median wall time is reported with its ratio to regdoctor's:

  healthy    goodreg.azurecr.io/lab/hello:latest: the full pull path of a real registry with token auth
             (registry, the lab token service, manifest, blob, the data host its blobs redirect to)
  dropped    dropreg.azurecr.io: SYNs to it are silently dropped (nftables)
  firewall   brokenreg.azurecr.io: private-link DNS falls through to a public endpoint answering
             ACR's 403 DENIED

Each tool runs with its default settings (what a user gets); regdoctor and skopeo also run with
a 3 s deadline on the dropped case, to compare like with like. `az acr check-health -n NAME --yes
--ignore-errors` runs when an `az` is found (``--az PATH``, or on PATH): without `az login` it only
reaches DNS and `GET /v2/` (see reference/anchors.md), which is the part compared here. Each run
is killed after 150 s; a killed run is reported as such.

The tools take turns run by run (a, b, a, b, …), so that the load of a shared machine falls on
both alike; each table ends with the ratio regdoctor ÷ skopeo (SPEC: a healthy full pull-path
check within 2× of skopeo). A last table checks five healthy registries in one `regdoctor check`
against each of them alone: concurrent endpoints make it cost about the slowest one, not the sum.

``--before EXE`` adds another regdoctor (e.g. one installed from an older commit) to the healthy
table, measured in the same turns, so that a change's effect is read from one run.

Usage:  sudo python bench/check_vs_skopeo.py [--runs 5] [--az /path/to/az] [--before EXE] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lab.lab import Lab, missing_prerequisites

CASES = {"healthy": "goodreg", "dropped": "dropreg", "firewall": "brokenreg"}
IMAGE = "lab/hello:latest"
#: five healthy registries of the lab, each with an image (a whole pull path each)
FIVE = ("goodreg.azurecr.io/lab/hello:latest", "registry.lab.test:5601/lab/hello:latest",
        "registry.lab.test:5611/lab/hello:latest", "registry.lab.test:5441/lab/hello:latest", "nginx:latest")
KILL_AFTER = 150.0


_AZ_CODES = re.compile(r"\b((?:CONNECTIVITY|DOCKER|HELM|NOTARY)_[A-Z_]+_ERROR|LOGIN_SERVER_ERROR)\b")
_RD_ROOT = re.compile(r"root cause: (\w+)")


def verdict(out: str) -> str:
    """What the tool said, in one line: regdoctor's root cause, az's error codes, skopeo's cause."""
    if out.startswith("{"):  # regdoctor --json: its first root cause, or healthy
        try:
            doc = json.loads(out)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and doc.get("tool") == "regdoctor":
            roots = [f["code"] for f in doc.get("findings", []) if f.get("root_cause")]
            return roots[0] if roots else "healthy"
    if m := _RD_ROOT.search(out):
        return m.group(1)
    if codes := list(dict.fromkeys(_AZ_CODES.findall(out))):
        return " ".join(codes)
    if "Healthy" in out or "healthy" in out:
        return "healthy"
    lines = [ln for ln in out.splitlines() if ln.strip()]
    last = lines[-1] if lines else ""
    # skopeo (logrus, inner quotes escaped): keep what follows the quoted URL, the innermost cause
    return last.split('\\": ')[-1].rstrip('"').replace('\\"', '"')[:100]


def timed(run: Callable[[], subprocess.CompletedProcess[str]]) -> tuple[float, int | str, str]:
    t0 = time.monotonic()
    try:
        r = run()
        rc: int | str = r.returncode
        out = (r.stdout + r.stderr).strip()
    except subprocess.TimeoutExpired:
        rc, out = "killed", f"still running after {KILL_AFTER:.0f} s"
    return time.monotonic() - t0, rc, verdict(out)


def measure(runs: int, run: Callable[[], subprocess.CompletedProcess[str]]) -> dict[str, object]:
    return measure_together({"x": (runs, run)})["x"]


def measure_together(tools: dict[str, tuple[int, Callable[[], subprocess.CompletedProcess[str]]]]
                     ) -> dict[str, dict[str, object]]:
    """Run the tools in turns (a, b, a, b, …) so that a shared machine's load falls on all alike."""
    times: dict[str, list[float]] = {name: [] for name in tools}
    last: dict[str, tuple[int | str, str]] = {}
    for i in range(max(runs for runs, _ in tools.values())):
        for name, (runs, run) in tools.items():
            if i < runs:
                t, rc, said = timed(run)
                times[name].append(t)
                last[name] = (rc, said)
    return {name: {"median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts), "runs": len(ts),
                   "exit": last[name][0], "verdict": last[name][1]} for name, ts in times.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--slow-runs", type=int, default=1, help="runs of cases that take a minute or more")
    ap.add_argument("--az", help="path to an az CLI (default: az on PATH, if any)")
    ap.add_argument("--before", metavar="EXE", help="another regdoctor to time on the healthy case (same turns)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    problems = missing_prerequisites()
    if problems:
        print("cannot run the lab: " + "; ".join(problems), file=sys.stderr)
        return 2
    az = args.az or shutil.which("az")
    results: dict[str, dict[str, dict[str, object]]] = {}
    with Lab() as lab:
        ca, cert_dir = str(lab.ca_file), str(lab.ca_dir)
        az_env = {"REQUESTS_CA_BUNDLE": ca, "AZURE_CONFIG_DIR": str(lab.dir / "az"),
                  "AZURE_CORE_COLLECT_TELEMETRY": "false", "AZURE_CORE_NO_COLOR": "true"}

        def rd(name: str, *extra: str) -> Callable[[], subprocess.CompletedProcess[str]]:
            # the same image skopeo inspects: registry, token, manifest, blob and data host
            ref = f"{name}.azurecr.io/{IMAGE}"
            return lambda: lab.regdoctor("check", ref, "--ca", ca, *extra, timeout=KILL_AFTER)

        def rd_before(name: str, *extra: str) -> Callable[[], subprocess.CompletedProcess[str]]:
            ref = f"{name}.azurecr.io/{IMAGE}"
            return lambda: lab.client([args.before, "check", ref, "--ca", ca, *extra], timeout=KILL_AFTER)

        def rd_refs(*refs: str) -> Callable[[], subprocess.CompletedProcess[str]]:
            return lambda: lab.regdoctor("check", *refs, "--ca", ca, timeout=KILL_AFTER)

        def sk(name: str, *extra: str) -> Callable[[], subprocess.CompletedProcess[str]]:
            ref = f"docker://{name}.azurecr.io/{IMAGE}"
            return lambda: lab.skopeo("inspect", "--cert-dir", cert_dir, *extra, ref, timeout=KILL_AFTER)

        def azch(name: str) -> Callable[[], subprocess.CompletedProcess[str]]:
            assert az is not None
            return lambda: lab.client([az, "acr", "check-health", "-n", name, "--yes", "--ignore-errors"],
                                      env=az_env, timeout=KILL_AFTER)

        # warm caches (page cache, az's first-run setup) so the first timed run is not an outlier
        rd(CASES["healthy"])()
        sk(CASES["healthy"])()
        if az:
            azch(CASES["healthy"])()
        for case, name in CASES.items():
            slow = case == "dropped"
            before = {"before: regdoctor check": (args.runs, rd_before(name)),
                      "before: regdoctor check --json": (args.runs, rd_before(name, "--json"))} \
                if args.before and case == "healthy" else {}
            tools: dict[str, dict[str, object]] = measure_together({
                "regdoctor check": (args.runs, rd(name)),
                "regdoctor check --json": (args.runs, rd(name, "--json")),
                "skopeo inspect": (args.slow_runs if slow else args.runs, sk(name)),
                **before,
            })
            if slow:
                tools["regdoctor check --timeout 3"] = measure(args.runs, rd(name, "--timeout", "3"))
                tools["skopeo inspect --command-timeout 3s"] = measure(args.runs, sk(name, "--command-timeout", "3s"))
            if az:
                tools["az acr check-health"] = measure(args.slow_runs if slow else args.runs, azch(name))
            results[case] = tools
        five = measure_together({
            **{f"regdoctor check {ref}": (args.runs, rd_refs(ref)) for ref in FIVE},
            "regdoctor check <all five>": (args.runs, rd_refs(*FIVE)),
        })
    for case, tools in results.items():
        base = float(tools["regdoctor check"]["median_s"])  # type: ignore[arg-type]
        print(f"\n== {case}: {CASES[case]}.azurecr.io ==")
        print(f"{'tool':<38} {'runs':>4} {'median s':>9} {'min':>7} {'max':>7} {'x regdoctor':>11}    exit  verdict")
        for tool, m in tools.items():
            ratio = float(m["median_s"]) / base  # type: ignore[arg-type]
            print(f"{tool:<38} {m['runs']:>4} {m['median_s']:9.3f} {m['min_s']:7.3f} {m['max_s']:7.3f} "
                  f"{ratio:11.2f}  {m['exit']!s:>6}  {m['verdict']}")
        skopeo = float(tools["skopeo inspect"]["median_s"])  # type: ignore[arg-type]
        for tool in [t for t in tools if t.removeprefix("before: ") in ("regdoctor check", "regdoctor check --json")]:
            print(f"ratio {tool} / skopeo inspect: {float(tools[tool]['median_s']) / skopeo:.2f}"  # type: ignore[arg-type]
                  f"{'   (SPEC: at most 2.00)' if case == 'healthy' else ''}")
    singles = [float(m["median_s"]) for tool, m in five.items() if "<all five>" not in tool]  # type: ignore[arg-type]
    together = float(five["regdoctor check <all five>"]["median_s"])  # type: ignore[arg-type]
    print("\n== five healthy registries: alone, and in one check ==")
    for tool, m in five.items():
        print(f"{tool:<62} {m['runs']:>4} {m['median_s']:9.3f} {m['min_s']:7.3f} {m['max_s']:7.3f}  {m['exit']!s:>6}")
    print(f"five in one check: {together:.3f} s; slowest alone {max(singles):.3f} s (x{together / max(singles):.2f}); "
          f"sum of the five alone {sum(singles):.3f} s (x{together / sum(singles):.2f})")
    results["five"] = five
    if not az:
        print("\naz acr check-health: no az CLI found (pass --az PATH); not measured.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
