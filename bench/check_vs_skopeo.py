"""regdoctor check vs skopeo inspect (and az acr check-health when installed), side by side.

Runs inside the fault lab (tests/lab, needs root). For each case every tool runs N times in the
lab's client namespace and the median wall time is reported with the ratio to regdoctor:

  healthy   the healthy TLS registry (registry.lab.test:5441, lab CA)
  dropped   a port whose SYNs are silently dropped (registry.lab.test:5455)

Each tool runs with its default settings (that is what a user gets); skopeo is also run with
``--command-timeout`` equal to regdoctor's ``--timeout`` to compare like with like.
``az acr check-health`` is measured only when ``az`` is on PATH (it needs a login server name on
443, so it is reported as not applicable to these lab ports otherwise).

Usage:  sudo python bench/check_vs_skopeo.py [--runs 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from lab.lab import Lab, missing_prerequisites

HEALTHY = "registry.lab.test:5441"
DROPPED = "registry.lab.test:5455"


def timed(lab: Lab, argv: list[str], *, skopeo: bool = False, timeout: float = 200) -> tuple[float, int, str]:
    t0 = time.monotonic()
    try:
        r = lab.skopeo(*argv, timeout=timeout) if skopeo else lab.regdoctor(*argv, timeout=timeout)
        rc, out = r.returncode, (r.stdout + r.stderr)
    except Exception as exc:
        rc, out = -1, f"{type(exc).__name__}: {exc}"
    return time.monotonic() - t0, rc, out.strip().splitlines()[-1][:160] if out.strip() else ""


def measure(lab: Lab, runs: int, argv: list[str], *, skopeo: bool = False) -> dict[str, object]:
    times, rcs, last = [], [], ""
    for _ in range(runs):
        t, rc, last = timed(lab, argv, skopeo=skopeo)
        times.append(t)
        rcs.append(rc)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "exit": rcs[-1],
            "last_line": last}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--slow-runs", type=int, default=1, help="runs of the cases that take a minute (skopeo drop)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    problems = missing_prerequisites()
    if problems:
        print("cannot run the lab: " + "; ".join(problems), file=sys.stderr)
        return 2
    results: dict[str, dict[str, object]] = {}
    with Lab() as lab:
        cert_dir = str(lab.ca_dir)
        ca = str(lab.ca_file)
        rd = lambda ref, *extra: ["check", ref, "--ca", ca, *extra]  # noqa: E731
        sk = lambda ref, *extra: ["inspect", "--cert-dir", cert_dir, *extra, f"docker://{ref}/lab/hello:latest"]  # noqa: E731
        # warm the page cache so the first timed run is not an outlier
        timed(lab, rd(HEALTHY))
        timed(lab, sk(HEALTHY), skopeo=True)
        results["healthy"] = {
            "regdoctor": measure(lab, args.runs, rd(HEALTHY)),
            "regdoctor (image pull path)": measure(lab, args.runs, rd(f"{HEALTHY}/lab/hello:latest")),
            "skopeo inspect": measure(lab, args.runs, sk(HEALTHY), skopeo=True),
        }
        results["dropped"] = {
            "regdoctor (default --timeout 5)": measure(lab, args.runs, rd(DROPPED)),
            "regdoctor --timeout 3": measure(lab, args.runs, rd(DROPPED, "--timeout", "3")),
            "skopeo inspect (default)": measure(lab, args.slow_runs, sk(DROPPED), skopeo=True),
            "skopeo inspect --command-timeout 3s": measure(lab, args.runs, sk(DROPPED, "--command-timeout", "3s"),
                                                           skopeo=True),
        }
    az = shutil.which("az")
    for case, tools in results.items():
        base = next(iter(tools.values()))["median_s"]
        print(f"\n== {case} ==")
        print(f"{'tool':<40} {'median s':>9} {'min':>7} {'max':>7} {'ratio to regdoctor':>19}  exit  last line")
        for name, m in tools.items():
            ratio = float(m["median_s"]) / float(base)  # type: ignore[arg-type]
            print(f"{name:<40} {m['median_s']:9.3f} {m['min_s']:7.3f} {m['max_s']:7.3f} {ratio:19.2f}  "
                  f"{m['exit']:>4}  {m['last_line']}")
    print(f"\naz acr check-health: {'installed at ' + az if az else 'not installed here (no az CLI)'}; "
          "it needs a real ACR login server on 443 and an az login, so it is not timed on these lab ports.")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
