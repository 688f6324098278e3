"""What a run imports is what its path uses: no rich unless colour goes to a terminal, no
importlib.metadata on the DNS path (dnspython's feature probe is answered without it)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import dns
from ptyrun import closed_port, env


def _imported(*args: str, **extra: str) -> set[str]:
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "regdoctor", *args], capture_output=True,
                       text=True, timeout=60, env=env(**extra))
    return {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}


def test_check_imports_neither_rich_nor_importlib_metadata_when_piped() -> None:
    for fmt in ([], ["--json"], ["--format", "junit"]):
        mods = _imported("check", f"localhost:{closed_port()}", *fmt)
        assert "regdoctor.net.dns" in mods and "dns.message" in mods  # the DNS path ran
        assert not {m for m in mods if m == "rich" or m.startswith("rich.")}, fmt
        assert "importlib.metadata" not in mods, fmt


def test_forced_colour_imports_rich() -> None:
    assert "rich.console" in _imported("check", f"localhost:{closed_port()}", "--color", "always")


def test_version_imports_no_command() -> None:
    mods = _imported("--version")
    commands = ("check", "explain", "acr", "codes", "proxy", "serve", "k8s", "fleet", "logs")
    assert not {m for m in mods if m.startswith(("regdoctor.probe", "rich", "dns"))
                or m.removeprefix("regdoctor.cli.") in commands}


def test_dnspython_asks_its_features_module_only_what_regdoctor_answers() -> None:
    """regdoctor puts a ``dns._features`` in place that has ``have`` and ``force``: dnspython must
    call nothing else (a new dnspython that does fails here, not in a user's check)."""
    used = set()
    for path in Path(dns.__file__).parent.rglob("*.py"):
        used |= set(re.findall(r"_features\.(\w+)", path.read_text(encoding="utf-8", errors="replace")))
    assert used <= {"have", "force"}, used


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env())


def test_the_quick_exit_keeps_output_and_exit_code() -> None:
    r = _run("import sys; from regdoctor.cli import run; sys.argv = ['regdoctor', '--version']; run()")
    assert r.returncode == 0 and r.stdout.startswith("regdoctor ") and r.stdout.count("\n") == 1
    r = _run("import sys; from regdoctor.cli import run; sys.argv = ['regdoctor', 'check', '--timeout', 'x']; run()")
    assert r.returncode == 2 and r.stderr.startswith("regdoctor: ")
    # buffered output written past a full pipe buffer still arrives whole (flushed before leaving)
    r = _run("import sys; from regdoctor.cli import run; sys.argv = ['regdoctor', 'codes', '--json']; run()")
    assert r.returncode == 0 and r.stdout.rstrip().endswith("}") and len(r.stdout) > 65536


def test_the_normal_exit_runs_when_something_waits_for_it() -> None:
    handler = ("import atexit, sys; atexit.register(lambda: print('handler ran')); from regdoctor.cli import run; "
               "sys.argv = ['regdoctor', '--version']; run()")
    assert _run(handler).stdout.endswith("handler ran\n")
    thread = ("import sys, threading, time; from regdoctor.cli import run; "
              "threading.Thread(target=lambda: (time.sleep(0.2), print('thread ended'))).start(); "
              "sys.argv = ['regdoctor', '--version']; run()")
    assert _run(thread).stdout.endswith("thread ended\n")
