"""Every command and subcommand on a table of bad inputs: exit 2, one line on stderr, no traceback;
and an internal error injected into each: exit 3, a CLIENT_INTERNAL_ERROR finding in the format
asked for, one line on stderr.

The commands are the real program in child processes (stdin, stdout and stderr as a user sees
them), a few at a time. ``test_every_command_is_in_the_table`` keeps the table complete: a new
command or subcommand without bad inputs here fails it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
ACR = DATA / "acr" / "rest_premium_private.json"


@dataclass(frozen=True)
class Bad:
    argv: tuple[str, ...]
    stdin: bytes = b""

    @property
    def id(self) -> str:
        text = " ".join(self.argv).replace(str(ACR), "ACR").replace(str(D), "D")
        return (text if len(text) < 100 else text[:80] + f"…({len(text)})") + (
            f" <stdin {self.stdin[:8]!r}" if self.stdin else "")


def _files(d: Path) -> dict[str, str]:
    files = {
        "missing": str(d / "missing.json"),
        "dir": str(d),
        "binary": d / "binary.json",
        "empty": d / "empty.json",
        "deep": d / "deep.json",
        "huge": d / "huge.json",
        "list": d / "list.json",
        "notjson": d / "notjson.json",
        "gz": d / "broken.log.gz",
    }
    Path(files["binary"]).write_bytes(bytes(range(256)) * 64)
    Path(files["empty"]).write_bytes(b"")
    Path(files["deep"]).write_bytes(b"[" * 200_000 + b"]" * 200_000)
    with open(files["huge"], "wb") as fh:  # 2 GiB of NUL, sparse: nothing is written to disk
        fh.truncate(2 * 1024**3)
    Path(files["list"]).write_text('[{"foo": 1}]')
    Path(files["notjson"]).write_text("name: not json\n")
    Path(files["gz"]).write_bytes(b"\x1f\x8b\x08\x00" + b"not really gzip")
    return {k: str(v) for k, v in files.items()}


D = Path("/tmp/regdoctor-bad-inputs")  # made by the fixture; the table only names paths in it
F = {k: str(D / n) for k, n in [("missing", "missing.json"), ("dir", ""), ("binary", "binary.json"),
                                 ("empty", "empty.json"), ("deep", "deep.json"), ("huge", "huge.json"),
                                 ("list", "list.json"), ("notjson", "notjson.json"), ("gz", "broken.log.gz")]}
F["dir"] = str(D)
BAD_FILES = ("missing", "dir", "binary", "empty", "deep", "huge", "list", "notjson")


def _table() -> list[Bad]:
    t: list[Bad] = []

    def add(*argv: str, stdin: bytes = b"") -> None:
        t.append(Bad(tuple(argv), stdin))

    # the program itself
    add("nosuchcommand")
    add("--nosuchoption")
    add("check", "--nosuchoption")
    # check: REFs, values, files
    # (only REFs docker refuses: a valid one would be probed, and its DNS lookup leave this machine)
    for ref in ("0:\u24f8", "a" * 300, "host:99999/x", "x@sha256:zz", "", "-", "http://[", "a..b/x",
                "a\tb"):
        add("check", ref)
    for value in ("nan", "inf", "-1", "0", "abc", "1e9"):
        add("check", "127.0.0.1:1/x", "--timeout", value)
    for value in ("notaurl", "http://[", "ftp://p:1", "http://p:99999"):
        add("check", "127.0.0.1:1/x", "--proxy", value)
    add("check", "127.0.0.1:1/x", "--region", "west europe!")
    add("check", "127.0.0.1:1/x", "--platform", "linux")
    add("check", "127.0.0.1:1/x", "--label", "nokey")
    add("check", "127.0.0.1:1/x", "--as", "nobody")
    add("check", "127.0.0.1:1/x", "--max-output-length", "5")
    add("check", "127.0.0.1:1/x", "--format", "yaml")
    add("check", "-n", "bad name!")
    add("check", "127.0.0.1:1/x", "--username", "u")
    add("check", "127.0.0.1:1/x", "--username", "u", "--password-stdin", stdin=b"")
    add("check", "127.0.0.1:1/x", "--as", "shell", "--proxy", "none")
    add("check", "127.0.0.1:1/x", "--node", "bad node name!")
    for f in BAD_FILES:
        add("check", "127.0.0.1:1/x", "--ca", F[f])
    for f in ("missing", "dir", "binary", "empty"):  # a JSON syntax error in it is a finding (CONFIG_UNREADABLE)
        add("check", "127.0.0.1:1/x", "--aks-config", F[f])
    # explain
    add("explain", "")
    add("explain", "--file", "-", stdin=b"")
    add("explain", "--file", "-", stdin=b"\x00\x01\x02\xff" * 1000)
    add("explain", "--file", F["gz"])
    for f in ("missing", "dir", "binary", "empty"):
        add("explain", "--file", F[f])
    add("explain", "x", "--format", "yaml")
    # codes
    add("codes", "--layer", "nosuchlayer")
    add("codes", "--json", "extra")
    # proxy
    add("proxy", "0:\u24f8")
    add("proxy", "127.0.0.1:1/x", "--region", "west europe!")
    for f in ("missing", "dir", "binary", "empty"):
        add("proxy", "127.0.0.1:1/x", "--aks-config", F[f])
    # serve
    add("serve")
    add("serve", "0:\u24f8")
    for value in ("nan", "inf", "0", "-5"):
        add("serve", "127.0.0.1:1/x", "--interval", value)
        add("serve", "127.0.0.1:1/x", "--timeout", value)
    add("serve", "127.0.0.1:1/x", "--listen", "not-an-address")
    add("serve", "127.0.0.1:1/x", "--listen", "127.0.0.1:99999")
    add("serve", "127.0.0.1:1/x", "--history", "-1")
    add("serve", "127.0.0.1:1/x", "--jitter", "nan")
    add("serve", "127.0.0.1:1/x", "--proxy", "notaurl")
    add("serve", "127.0.0.1:1/x", "--region", "west europe!")
    add("serve", "127.0.0.1:1/x", "--ca", F["binary"])
    # k8s
    for sub in ("daemonset", "job"):
        add("k8s", sub)
        add("k8s", sub, "0:\u24f8")
        add("k8s", sub, "127.0.0.1:1/x", "--timeout", "nan")
        add("k8s", sub, "127.0.0.1:1/x", "--as", "nobody")
        add("k8s", sub, "127.0.0.1:1/x", "--namespace", "Bad_Namespace!")
        add("k8s", sub, "127.0.0.1:1/x", "--image", "")
    add("k8s", "daemonset", "127.0.0.1:1/x", "--interval", "nan")
    add("k8s", "daemonset", "127.0.0.1:1/x", "--port", "0")
    add("k8s", "job", "127.0.0.1:1/x", "--node", "bad node!")
    add("k8s", "npd-config")
    add("k8s", "npd-config", "0:\u24f8")
    add("k8s", "npd-config", "127.0.0.1:1/x", "--interval", "0")
    add("k8s", "npd-config", "127.0.0.1:1/x", "--timeout", "nan")
    add("k8s", "nosuch")
    # fleet
    add("fleet")
    add("fleet", "-", stdin=b"")
    add("fleet", "-", stdin=b"\x00\xff" * 100)
    for f in BAD_FILES:
        add("fleet", F[f])
    # acr: the CONFIG and every other input file, each bad in every way
    for sub in ("access", "lint", "allowlist", "dns"):
        add("acr", sub)
        for f in BAD_FILES:
            add("acr", sub, F[f])
        for opt in ("--replications", "--connections", "--dns-records", "--private-endpoint"):
            for f in ("missing", "binary", "deep", "list"):
                add("acr", sub, str(ACR), opt, F[f])
    add("acr", "lint", str(ACR), "--dns-records", '{"foo":1}')
    add("acr", "access", str(ACR), "--from", "not-an-ip")
    add("acr", "access", str(ACR), "--subnet", "not-a-subnet-id")
    add("acr", "access", str(ACR), "--service", "nosuchservice")
    add("acr", "allowlist", str(ACR), "--region", "west europe!")
    add("acr", "allowlist", "bad name!")
    add("acr", "allowlist", "myreg", "--region", "west europe!")
    add("acr", "dns", str(ACR), "--resolver", "not-an-ip")
    add("acr", "dns", str(ACR), "--timeout", "nan")
    add("acr", "nosuch")
    # logs
    add("logs")
    for f in BAD_FILES:
        if f != "empty":  # an empty export is read as zero events ("[empty] 0 rows"): the logs command's rule
            add("logs", F[f])
    add("logs", str(ACR), "--since", "yesterday-ish")
    add("logs", str(ACR), "--ip", "not-an-ip")
    add("logs", str(ACR), "--min-count", "0")
    add("logs", str(ACR), "--memory-limit", "lots")
    add("logs", str(ACR), "--acr-config", F["binary"])
    return t


TABLE = _table()


def _run(argv: list[str], stdin: bytes = b"", prefix: list[str] | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env["HOME"] = str(D / "home")
    cmd = [sys.executable, *(prefix or ["-m", "regdoctor"]), *argv]
    try:  # bad input is refused at once: a command still running after 30 s took it as good
        return subprocess.run(cmd, input=stdin, capture_output=True, timeout=30, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(cmd, -9, exc.stdout or b"", (exc.stderr or b"") + b"[still running]")


@pytest.fixture(scope="module")
def results() -> Iterator[dict[str, subprocess.CompletedProcess[bytes]]]:
    D.mkdir(exist_ok=True)
    (D / "home").mkdir(exist_ok=True)
    _files(D)
    with ThreadPoolExecutor(4) as pool:
        futures = {b.id: pool.submit(_run, list(b.argv), b.stdin) for b in TABLE}
        yield {k: f.result() for k, f in futures.items()}


def test_table_ids_are_unique() -> None:
    assert len({b.id for b in TABLE}) == len(TABLE)


@pytest.mark.parametrize("bad", TABLE, ids=[b.id for b in TABLE])
def test_bad_input_is_exit_2_and_one_line(bad: Bad, results: dict[str, subprocess.CompletedProcess[bytes]]) -> None:
    r = results[bad.id]
    err = r.stderr.decode("utf-8", "replace")
    shown = f"rc={r.returncode} stderr={err[-1500:]!r} stdout={r.stdout[:300]!r}"
    assert b"Traceback" not in r.stderr + r.stdout, shown
    assert r.returncode == 2, shown
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("regdoctor: "), shown
    assert len(lines[0]) <= 400, shown  # a bad value is echoed cut


def _commands() -> list[tuple[str, ...]]:
    """Every command and subcommand ``--help`` lists."""
    from click import Group

    from regdoctor.cli import cli

    out: list[tuple[str, ...]] = []
    ctx = cli.make_context("regdoctor", ["--help"], resilient_parsing=True)
    for name in cli.list_commands(ctx):
        cmd = cli.get_command(ctx, name)
        if isinstance(cmd, Group):
            sub_ctx = cmd.make_context(name, [], resilient_parsing=True)
            out += [(name, sub) for sub in cmd.list_commands(sub_ctx)]
        else:
            out.append((name,))
    return out


def test_every_command_is_in_the_table() -> None:
    covered = {b.argv[:2] for b in TABLE} | {b.argv[:1] for b in TABLE}
    missing = [c for c in _commands() if c not in covered]
    assert not missing, f"commands without bad inputs in the table: {missing}"


# ------------------------------------------------------------------------- injected crash

INJECT = ("import importlib, sys\n"
          "mod, attr = sys.argv[1].rsplit('.', 1)\n"
          "def boom(*a, **k):\n"
          "    raise RuntimeError('injected failure\\nsecond line')\n"
          "setattr(importlib.import_module(mod), attr, boom)\n"
          "from regdoctor.cli import main\n"
          "main(sys.argv[2:])\n")

#: (function to break, the command that calls it, whether its output is a JSON document)
CRASHES = [
    ("regdoctor.probe.run.run_jobs", ["check", "127.0.0.1:1/x", "--json"], True),
    ("regdoctor.probe.run.run_jobs", ["check", "127.0.0.1:1/x", "--format", "junit"], False),
    ("regdoctor.probe.run.run_jobs", ["check", "127.0.0.1:1/x", "--format", "markdown"], False),
    ("regdoctor.probe.run.run_jobs", ["check", "127.0.0.1:1/x"], False),
    ("regdoctor.explain.explain_chunks", ["explain", "dial tcp: i/o timeout", "--json"], True),
    ("regdoctor.render.catalogue_json", ["codes", "--json"], True),
    ("regdoctor.runtime.audit", ["proxy", "127.0.0.1:1/x", "--json"], True),
    ("regdoctor.serve.app.Exporter", ["serve", "127.0.0.1:1/x", "--listen", "127.0.0.1:0"], False),
    ("regdoctor.k8s.manifests.daemonset_bundle", ["k8s", "daemonset", "127.0.0.1:1/x", "--image", "i:1"], False),
    ("regdoctor.k8s.manifests.job_bundle", ["k8s", "job", "127.0.0.1:1/x", "--image", "i:1", "--node", "n1"], False),
    ("regdoctor.k8s.npd.npd_config", ["k8s", "npd-config", "127.0.0.1:1/x"], False),
    ("regdoctor.fleet.merge.merge", ["fleet", "-", "--json"], True),
    ("regdoctor.acr.access.decide", ["acr", "access", str(ACR), "--from", "20.1.2.3", "--json"], True),
    ("regdoctor.acr.lint.lint", ["acr", "lint", str(ACR), "--json"], True),
    ("regdoctor.acr.allowlist.from_config", ["acr", "allowlist", str(ACR), "--json"], True),
    ("regdoctor.acr.dns.expectations", ["acr", "dns", str(ACR), "--json"], True),
]


@pytest.mark.parametrize(("target", "argv", "is_json"), CRASHES, ids=[f"{c[1][0]}:{c[0]}" for c in CRASHES])
def test_injected_internal_error(target: str, argv: list[str], is_json: bool) -> None:
    D.mkdir(exist_ok=True)
    fleet_input = b'{"schema": 1, "tool": "regdoctor", "status": "ok", "findings": [], "endpoints": []}\n'
    r = _run([target, *argv], stdin=fleet_input if argv[0] == "fleet" else b"", prefix=["-c", INJECT])
    err = r.stderr.decode("utf-8", "replace")
    out = r.stdout.decode("utf-8", "replace")
    shown = f"rc={r.returncode} stderr={err[-1500:]!r} stdout={out[:500]!r}"
    assert "Traceback" not in err + out, shown
    assert r.returncode == 3, shown
    lines = [ln for ln in err.splitlines() if not ln.startswith("regdoctor serve:")]
    assert len(lines) == 1 and "internal error (RuntimeError" in lines[0], shown
    assert "CLIENT_INTERNAL_ERROR" in out, shown
    if is_json:
        doc = json.loads(out)
        assert doc["schema"] == 1 and doc["tool"] == "regdoctor", shown
        assert any(f["code"] == "CLIENT_INTERNAL_ERROR" for f in doc["findings"]), shown
