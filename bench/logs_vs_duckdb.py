"""Benchmark: ``regdoctor logs`` on ten million login events, against the physical floor.

Generates (once, cached under ``--dir``) 10,000,000 ``ContainerRegistryLoginEvents`` with the
injected incidents (``bench/gen_login_events.py``) as Parquet and as JSON Lines (the
diagnostic-settings ``PT1H.json`` shape), then for each file measures, each in its own process:

* ``regdoctor logs FILE --json`` — the full analysis: shape detection, the normalised view, the
  one scan, every pattern, the findings and the rendering, process start included;
* the floor — a plain DuckDB ``GROUP BY`` over the same file in a bare Python process with the
  same threads and memory limit: ``SELECT Identity, CallerIpAddress, ResultDescription, count(*),
  min(TimeGenerated), max(TimeGenerated) … GROUP BY ALL`` (who failed from where, and when:
  what a person would type first). It reads three of the columns regdoctor reads, so it is a
  floor, not the same work.

Wall time is the best of ``--repeat`` runs; peak memory is the child's own ``ru_maxrss`` from
``os.wait4`` on its pid (not ``RUSAGE_CHILDREN``, which would mix processes). It also checks that
the report found the injected incidents with the manifest's counts. Nothing is asserted: this is
a measurement; targets (issue 14): <= 10 s, <= 1 GB, ratio to the floor <= 2x.

    python bench/logs_vs_duckdb.py                      # 10,000,000 rows, parquet + JSON lines
    python bench/logs_vs_duckdb.py --rows 1000000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_OK = "ResultDescription BETWEEN '200' AND '399'"
_JSON_COLS = ("columns={{'time': 'VARCHAR', 'identity': 'VARCHAR', 'callerIpAddress': 'VARCHAR', "
              "'resultDescription': 'VARCHAR', 'category': 'VARCHAR', 'loginServer': 'VARCHAR', "
              "'userAgent': 'VARCHAR', 'operationName': 'VARCHAR', 'region': 'VARCHAR'}}")
#: The same grouping as regdoctor's one scan (every column it groups by, the hour/minute bucket),
#: in plain DuckDB: no normalisation, no analysis, no report.
WIDE = {
    "parquet": ("SELECT Type, LoginServer, Identity, CallerIpAddress, UserAgent, ResultDescription, OperationName, "
                f"Region, date_trunc(CASE WHEN {_OK} THEN 'hour' ELSE 'minute' END, TimeGenerated), count(*), "
                "min(TimeGenerated), max(TimeGenerated) FROM read_parquet('{f}') GROUP BY ALL"),
    "storage": ("SELECT category, loginServer, identity, callerIpAddress, userAgent, resultDescription, operationName, "
                f"region, date_trunc(CASE WHEN {_OK.replace('ResultDescription', 'resultDescription')} THEN 'hour' "
                "ELSE 'minute' END, t), count(*), min(t), max(t) FROM (SELECT *, CAST(time AS TIMESTAMPTZ) AS t "
                "FROM read_json('{f}', format='newline_delimited', " + _JSON_COLS + ")) GROUP BY ALL"),
}
FLOOR = {
    "parquet": ("SELECT Identity, CallerIpAddress, ResultDescription, count(*), min(TimeGenerated), "
                "max(TimeGenerated) FROM read_parquet('{f}') GROUP BY ALL"),
    "storage": ("SELECT identity, callerIpAddress, resultDescription, count(*), min(time), max(time) "
                "FROM read_json('{f}', format='newline_delimited', columns={{'time': 'VARCHAR', "
                "'identity': 'VARCHAR', 'callerIpAddress': 'VARCHAR', 'resultDescription': 'VARCHAR'}}) "
                "GROUP BY ALL"),
}


def measure(argv: list[str], out: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB of that process alone, exit status)."""
    with out.open("wb") as fh:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=fh, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{argv[:4]} failed ({proc.returncode}): {err[-2000:]}")
    return wall, usage.ru_maxrss / 1024, proc.returncode


def dataset(root: Path, rows: int, shape: str) -> tuple[Path, dict[str, Any]]:
    """The cached export, generated in a child process: the generator's DuckDB grows to ~2 GB,
    and a child inherits its parent's peak RSS at fork/exec (Linux copies the old mm's high-water
    mark into the new one), so this process must stay small for ``ru_maxrss`` to mean anything."""
    d = root / f"{shape}-{rows}"
    meta = d / "manifest.json"
    if not meta.exists():
        print(f"generating {rows:,} rows as {shape} in {d} …", flush=True)
        t = time.perf_counter()
        subprocess.run([sys.executable, str(Path(__file__).with_name("gen_login_events.py")), "--rows", str(rows),
                        "--shape", shape, "--out", str(d), "--manifest", str(meta)], check=True)
        print(f"  {time.perf_counter() - t:.0f} s", flush=True)
    m = json.loads(meta.read_text())
    return Path(m["files"][0]), m


def check(report: dict[str, Any], manifest: dict[str, Any]) -> str:
    """Did the report find the injected incidents with the manifest's counts?"""
    got: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        got.setdefault(f["code"], []).append(f["evidence"])
    inc = manifest["incidents"]
    ok = {
        "firewall": any(e["count"] == inc["firewall"]["count"] for e in got.get("LOGS_FIREWALL_DENIALS", [])),
        "expired_sp": any(e["count"] == inc["expired_sp"]["count"] for e in got.get("LOGS_CREDENTIAL_STOPPED", [])),
        "throttled": any(e["count"] == inc["throttled"]["count"] for e in got.get("LOGS_THROTTLED", [])),
        "spray": any(e["count"] == inc["spray"]["count"] for e in got.get("LOGS_AUTH_FAILURES_IP", [])),
        "rows": report["summary"]["events"] == manifest["rows"],
    }
    missed = [k for k, v in ok.items() if not v]
    return "all found, counts exact" if not missed else "MISSED: " + ", ".join(missed)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10_000_000)
    p.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "regdoctor-bench-logs")
    p.add_argument("--shapes", default="parquet,storage")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--memory-limit", default="512MB")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    a = p.parse_args()
    a.dir.mkdir(parents=True, exist_ok=True)
    out = a.dir / "out.json"
    rows_out = []
    for shape in a.shapes.split(","):
        path, manifest = dataset(a.dir, a.rows, shape)
        size = path.stat().st_size / 1e6
        ours = [measure([sys.executable, "-m", "regdoctor", "logs", str(path), "--json", "--memory-limit",
                         a.memory_limit, "--threads", str(a.threads)], out) for _ in range(a.repeat)]
        verdict = check(json.loads(out.read_text()), manifest)
        config = {"memory_limit": a.memory_limit, "threads": a.threads, "preserve_insertion_order": False}
        floor_code = (f"import duckdb\ncon = duckdb.connect(config={config!r})\n"
                      f"print(len(con.execute({FLOOR[shape].format(f=path)!r}).fetchall()))")
        floor = [measure([sys.executable, "-c", floor_code], a.dir / "floor.txt") for _ in range(a.repeat)]
        wide_code = (f"import duckdb\ncon = duckdb.connect(config={config!r})\n"
                     f"print(len(con.execute({WIDE[shape].format(f=path)!r}).fetchall()))")
        wide = [measure([sys.executable, "-c", wide_code], a.dir / "wide.txt") for _ in range(a.repeat)]
        t_ours, t_floor, t_wide = min(r[0] for r in ours), min(r[0] for r in floor), min(r[0] for r in wide)
        rows_out.append((shape, size, t_ours, max(r[1] for r in ours), t_floor, max(r[1] for r in floor), t_wide,
                         verdict))
    print()
    print(f"{a.rows:,} login events, {a.threads} threads, DuckDB memory_limit {a.memory_limit}, best of {a.repeat}")
    head = (f"{'file':<22} {'MB':>7} {'regdoctor s':>11} {'rows/s':>11} {'peak RSS MB':>11} {'floor s':>8} "
            f"{'floor rows/s':>12} {'floor RSS':>9} {'ratio':>6} {'same-keys s':>11} {'ratio':>6}  incidents")
    print(head)
    print("-" * len(head))
    for shape, size, t, rss, tf, rssf, tw, verdict in rows_out:
        name = "Parquet" if shape == "parquet" else "JSON lines (PT1H.json)"
        print(f"{name:<22} {size:7.0f} {t:11.2f} {a.rows / t:11,.0f} {rss:11.0f} {tf:8.2f} {a.rows / tf:12,.0f} "
              f"{rssf:9.0f} {t / tf:5.1f}x {tw:11.2f} {t / tw:5.1f}x  {verdict}")
    print("floor: GROUP BY identity, caller IP, result with count/min/max time; same-keys: GROUP BY every key "
          "regdoctor's scan groups by")
    print()
    for shape, _, t, rss, tf, _, _, _ in rows_out:
        print(f"{shape}: <= 10 s {'yes' if t <= 10 else 'NO'}; <= 1 GB {'yes' if rss <= 1024 else 'NO'}; "
              f"<= 2x floor {'yes' if t <= 2 * tf else 'NO'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
