"""What a `regdoctor check` costs before it does anything: the import floor of its dependencies.

`bench/check_vs_skopeo.py` compares the whole check with skopeo; this one splits regdoctor's start-up
into what the dependencies cost (a fresh interpreter importing them, median of N runs, each run a new
process) and what regdoctor's own modules add on top, so that a speed target can be read against
the floor no change to regdoctor can go under:

  python                the bare interpreter (`python -c pass`)
  stdlib + h11          the standard-library modules the check path uses, and h11
  + dnspython           regdoctor.net.dns: dnspython's message/wire modules (without importlib.metadata)
  + click / + argparse  the CLI library, against the standard library's parser
  check path            every module `regdoctor check` imports (cli, probe, credentials, runtime, render)

No network, no root.

Usage:  python bench/import_floor.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

STDLIB = ("typing,dataclasses,socket,ssl,selectors,threading,queue,json,ipaddress,urllib.parse,pathlib,hashlib,"
          "hmac,random,datetime,tomllib,base64,shutil,fnmatch,encodings.idna,h11")
CHECK_PATH = ("regdoctor.cli,regdoctor.cli.check,regdoctor.probe.run,regdoctor.credentials,regdoctor.target,"
              "regdoctor.runtime.actors,regdoctor.runtime.vantage,regdoctor.render.text")


def median_ms(code: str, runs: int) -> float:
    """The median wall time of a fresh interpreter running ``code``, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    bare = median_ms("pass", args.runs)
    floor = median_ms(f"import {STDLIB}", args.runs)
    rows = [
        ("python", bare, None),
        ("stdlib + h11", floor, floor - bare),
        ("+ dnspython (regdoctor.net.dns)", median_ms(f"import {STDLIB},regdoctor.net.dns", args.runs), None),
        ("+ click", median_ms(f"import {STDLIB},click", args.runs), None),
        ("+ argparse", median_ms(f"import {STDLIB},argparse", args.runs), None),
        ("check path (all regdoctor modules)", median_ms(f"import {CHECK_PATH}", args.runs), None),
    ]
    print(f"{'imports':38} {'median ms':>10} {'over stdlib+h11':>16}")
    for name, ms, _ in rows:
        extra = "" if name in ("python", "stdlib + h11") else f"{ms - floor:+16.1f}"
        print(f"{name:38} {ms:10.1f} {extra:>16}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
