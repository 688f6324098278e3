"""Run the real CLI in a child process and measure it: wall time, peak RSS, exit code, output.

The peak RSS is the child's own: the CLI is started through a small launcher whose only child
it is, and the launcher reports ``RUSAGE_CHILDREN`` (a process forked from pytest would count
pytest's pages, and every other child pytest reaped, in its own maximum).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAUNCHER = (
    "import json, resource, subprocess, sys, time\n"
    "t0 = time.monotonic()\n"
    "r = subprocess.run(sys.argv[2:])\n"
    "wall = time.monotonic() - t0\n"
    "with open(sys.argv[1], 'w') as fh:\n"
    "    json.dump({'rc': r.returncode, 'wall': wall,\n"
    "               'maxrss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}, fh)\n"
)

_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}


@dataclass(frozen=True)
class Outcome:
    argv: tuple[str, ...]
    rc: int
    wall: float
    rss_mib: float
    stdout: str
    stderr: str

    def doc(self) -> dict[str, Any]:
        value = json.loads(self.stdout)
        assert isinstance(value, dict)
        return value

    def codes(self) -> list[str]:
        return [f["code"] for f in self.doc().get("findings", [])]

    def root_codes(self) -> list[str]:
        return [f["code"] for f in self.doc().get("findings", []) if f.get("root_cause")]


def clean_env(home: Path) -> dict[str, str]:
    """This environment without proxy settings, with an empty home (no Docker config)."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in _PROXY_VARS and not k.startswith(
        ("DOCKER_", "REGISTRY_AUTH", "REGDOCTOR_", "COV_", "COVERAGE_"))}
    for d in ("home", "config", "runtime"):
        (home / d).mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home / "home"), XDG_CONFIG_HOME=str(home / "config"), XDG_RUNTIME_DIR=str(home / "runtime"),
               DOCKER_CONFIG=str(home / "home" / ".docker"), PYTHONDONTWRITEBYTECODE="1")
    return env


def run_cli(args: list[str], *, home: Path, kill_after: float, stdin: bytes | None = None,
            env: dict[str, str] | None = None) -> Outcome:
    """``python -m regdoctor ARGS`` under the launcher; killed (and reported) after ``kill_after`` s."""
    with tempfile.NamedTemporaryFile("r", suffix=".json", dir=home, delete=False) as fh:
        stats_path = fh.name
    argv = [sys.executable, "-c", LAUNCHER, stats_path, sys.executable, "-m", "regdoctor", *args]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env or clean_env(home),
                            start_new_session=True)
    try:
        out, err = proc.communicate(stdin, timeout=kill_after)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        return Outcome(tuple(args), -9, kill_after, 0.0, out.decode("utf-8", "replace"),
                       err.decode("utf-8", "replace") + f"\n[killed after {kill_after} s]")
    stats = json.loads(Path(stats_path).read_text())
    Path(stats_path).unlink()
    return Outcome(tuple(args), int(stats["rc"]), float(stats["wall"]), stats["maxrss_kib"] / 1024,
                   out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
