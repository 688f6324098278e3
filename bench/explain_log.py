"""Benchmark: how fast ``regdoctor explain --file`` scans a large log.

Generates a log of N lines (default 1,000,000) in a temporary directory: mostly unrelated lines
in the formats a node or CI runner writes (kubelet, nginx access, JSON app logs, systemd), plus a
few hundred real registry client errors. It is a stress mix: 3 of the 12 noise templates (about
25% of all lines) are near misses that pass the prefilter (other services' `context deadline
exceeded`, `connection reset by peer`, `unexpected EOF`) and must be rejected line by line; a real
node log has far fewer. Then times

- the in-process scanner (``regdoctor.explain.explain_chunks`` over the file, strict mode), and
- the real command ``regdoctor explain --file LOG --json`` (process start included),

and prints lines per second for each. The target (issue) is >= 200,000 lines/s on one core.
Nothing is asserted: this is a measurement, not a test.

    python bench/explain_log.py                 # 1,000,000 lines, 300 errors
    python bench/explain_log.py --lines 200000 --errors 50 --keep
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ERRORS = [
    'Error response from daemon: Get "https://registry-1.docker.io/v2/": proxyconnect tcp: dial tcp 10.1.2.3:3128: '
    "connect: connection refused",
    'Failed to pull image "myregistry.azurecr.io/app:1.0": rpc error: code = Unknown desc = failed to pull and unpack '
    'image "myregistry.azurecr.io/app:1.0": failed to resolve reference "myregistry.azurecr.io/app:1.0": failed to do '
    'request: Head "https://myregistry.azurecr.io/v2/app/manifests/1.0": dial tcp: lookup myregistry.azurecr.io on '
    "10.0.0.10:53: no such host",
    "error pulling image configuration: download failed after attempts=6: dial tcp 20.60.1.2:443: i/o timeout",
    'Head "https://myregistry.azurecr.io/v2/app/manifests/1.0": denied: client with IP \'203.0.113.7\' is not '
    "allowed access. Refer https://aka.ms/acr/firewall to grant access.",
    'Get "https://registry.lab.test:5446/v2/": x509: certificate signed by unknown authority',
    "toomanyrequests: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit",
]

NOISE = [
    '{ts} I0501 kubelet.go:2419] "SyncLoop (PLEG): event for pod" pod="default/web-{n}" event=ContainerStarted',
    '{ts} 10.0.{a}.{b} - - [01/May/2024:12:00:00 +0000] "GET /api/v1/items/{n} HTTP/1.1" 200 {n} "-" "curl/8.0"',
    '{ts} {{"level":"info","msg":"request done","path":"/healthz","status":200,"duration_ms":{a},"error":null}}',
    "{ts} systemd[1]: Started Session {n} of user alice.",
    '{ts} E0501 reflector.go:138] failed to list *v1.Pod: Get "https://10.96.0.1:443/api/v1/pods": context '
    "deadline exceeded",
    "{ts} app[{a}]: worker {n}: read config: unexpected EOF",
    "{ts} app[{a}]: upstream 10.0.{a}.{b}:8080: connection reset by peer while reading response header",
    "{ts} postgres[{a}]: LOG:  connection received: host=10.0.{a}.{b} port={n}",
    '{ts} W0501 reflector.go:424] watch of *v1.Node ended with: an error on the server ("unable to decode an event '
    'from the watch stream: http2: client connection lost") has prevented the request from succeeding',
    "{ts} sshd[{n}]: Accepted publickey for deploy from 10.0.{a}.{b} port {n} ssh2: ED25519 SHA256:abc",
    "{ts} app[{a}]: GET https://api.example.com/v1/orders?page={n} status: 200 took {a}ms",
    "{ts} app[{a}]: job {n} finished: status=ok retries=0 timeout=30s",
]


def generate(path: Path, lines: int, errors: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    error_at = set(rng.sample(range(lines), errors))
    written = 0
    with path.open("w", encoding="utf-8") as out:
        buf: list[str] = []
        for i in range(lines):
            ts = f"2024-05-01T12:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z"
            if i in error_at:
                buf.append(f"{ts} {rng.choice(ERRORS)}\n")
                written += 1
            else:
                buf.append(rng.choice(NOISE).format(ts=ts, n=i, a=i % 251, b=i % 199) + "\n")
            if len(buf) >= 10_000:
                out.write("".join(buf))
                buf.clear()
        out.write("".join(buf))
    return written


def in_process(path: Path) -> tuple[float, int, int]:
    from regdoctor.explain import explain_chunks

    def chunks():  # type: ignore[no-untyped-def]
        with path.open("rb") as f:
            while data := f.read(1 << 20):
                yield data

    t0 = time.perf_counter()
    ex = explain_chunks(chunks(), strict=True)
    return time.perf_counter() - t0, ex.lines, ex.matched_lines


def cli(path: Path) -> tuple[float, dict[str, object]]:
    exe = shutil.which("regdoctor")
    argv = [exe] if exe else [sys.executable, "-m", "regdoctor"]
    t0 = time.perf_counter()
    proc = subprocess.run([*argv, "explain", "--file", str(path), "--json"], capture_output=True, text=True,
                          check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"regdoctor failed (exit {proc.returncode}): {proc.stderr.strip()}")
    return elapsed, json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--errors", type=int, default=300)
    ap.add_argument("--keep", action="store_true", help="keep the generated log and print its path")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="regdoctor-bench-"))
    try:
        log = tmp / "node.log"
        t0 = time.perf_counter()
        errors = generate(log, args.lines, args.errors)
        size = log.stat().st_size
        print(f"generated {args.lines:,} lines ({size / 1e6:.1f} MB, {errors} registry errors) "
              f"in {time.perf_counter() - t0:.1f} s: {log}")
        elapsed, lines, matched = in_process(log)
        print(f"in-process scan : {elapsed:6.2f} s  {lines / elapsed:>12,.0f} lines/s  "
              f"{size / elapsed / 1e6:7.1f} MB/s  ({matched} lines matched)")
        elapsed, doc = cli(log)
        groups = doc.get("groups", [])
        assert isinstance(groups, list)
        print(f"regdoctor --file: {elapsed:6.2f} s  {lines / elapsed:>12,.0f} lines/s  "
              f"(process start included; {len(groups)} groups, "
              f"{sum(int(g['count']) for g in groups)} lines grouped)")
        print("target: >= 200,000 lines/s on one core")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
