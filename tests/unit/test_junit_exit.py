"""JUnit agrees with the exit code, for every command that reports findings.

A CI job fails on the exit code and shows the JUnit failures: the failures must be exactly the
findings that make the exit code 1 (the error and warning findings; ``fleet``: the nodes that
are not healthy), and the suite must name the command and its subject.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ptyrun import closed_port, env

ACR = Path(__file__).resolve().parent / "data" / "acr"
NX = 'Error response from daemon: Get "https://myreg.azurecr.io/v2/": dial tcp: lookup myreg.azurecr.io on ' \
     "10.0.0.10:53: no such host"
PROXY_ENV = {"HTTPS_PROXY": "http://proxy.example:3128", "NO_PROXY": "*.azurecr.io"}


def _run(args: list[str], extra_env: dict[str, str] | None = None, stdin: str | None = None
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "regdoctor", *args], capture_output=True, text=True, timeout=60,
                          env=env(**(extra_env or {})), input=stdin)


def _problems(doc: dict[str, Any]) -> int:
    return sum(f["severity"] in ("error", "warning") for f in doc["findings"])


def _fleet_input(tmp: Path) -> list[str]:
    bad = _run(["check", f"localhost:{closed_port()}", "--node", "n1", "--label", "pool=a", "--json"]).stdout
    from regdoctor.model import Report
    from regdoctor.render import report_dict

    good = dict(report_dict(Report(targets=("r.io",), endpoints=(), findings=())), node={"name": "n2", "labels": {}})
    (tmp / "n1.json").write_text(bad)
    (tmp / "n2.json").write_text(json.dumps(good))
    return ["fleet", str(tmp / "n1.json"), str(tmp / "n2.json")]


def _fleet_problems(doc: dict[str, Any]) -> int:
    return sum(n["status"] != "ok" for n in doc["nodes"])


#: name -> (arguments (given a temp dir), environment, how to count what sets exit 1 in the --json document)
CASES: dict[str, tuple[Callable[[Path], list[str]], dict[str, str], Callable[[dict[str, Any]], int]]] = {
    "check refused": (lambda _: ["check", f"localhost:{closed_port()}", f"127.0.0.1:{closed_port()}"], {}, _problems),
    "explain symptom": (lambda _: ["explain", NX], {}, _problems),
    "explain nothing": (lambda _: ["explain", "all is well"], {}, _problems),
    "acr lint problems": (lambda _: ["acr", "lint", str(ACR / "combined.json")], {}, _problems),
    "acr lint clean": (lambda _: ["acr", "lint", str(ACR / "spec_registry_get.json")], {}, _problems),
    "acr access": (lambda _: ["acr", "access", str(ACR / "combined.json"), "--from", "203.0.113.9"], {},
                   lambda doc: sum(not d["allowed"] for d in doc["decisions"])),
    "acr dns": (lambda _: ["acr", "dns", str(ACR / "combined.json"), "--resolver", "127.0.0.1", "--timeout", "0.2"],
                {}, _problems),
    "proxy": (lambda _: ["proxy", "myreg.azurecr.io", "--root", "/nonexistent-root-dir"], PROXY_ENV, _problems),
    "fleet": (_fleet_input, {}, _fleet_problems),
}


@pytest.mark.parametrize("name", list(CASES))
def test_junit_failures_are_what_sets_exit_1(name: str, tmp_path: Path) -> None:
    make_args, extra_env, count = CASES[name]
    args = make_args(tmp_path)
    if name == "proxy":
        (tmp_path / "root").mkdir()
        args[-1] = str(tmp_path / "root")
    as_json = _run([*args, "--json"], extra_env)
    assert as_json.returncode in (0, 1), as_json.stderr
    expected = count(json.loads(as_json.stdout))
    assert (expected > 0) == (as_json.returncode == 1), as_json.stdout[:2000]
    junit = _run([*args, "--format", "junit"], extra_env)
    assert junit.returncode == as_json.returncode, junit.stderr
    root = ET.fromstring(junit.stdout)
    suites = root.findall("testsuite")
    failures = len(root.findall(".//failure"))
    assert failures == expected == sum(int(s.get("failures", "0")) for s in suites), junit.stdout[:3000]
    assert root.get("failures") in (None, str(expected))
    for suite in suites:
        assert (suite.get("name") or "").startswith(f"regdoctor {args[0]}"), suite.get("name")
        assert len(suite.get("name") or "") < 200, "a suite is named for the command and its subject"


def test_check_junit_classnames_keep_the_port() -> None:
    a, b = closed_port(), closed_port()
    root = ET.fromstring(_run(["check", f"localhost:{a}", f"localhost:{b}", "--format", "junit"]).stdout)
    names = {c.get("classname") for c in root.iter("testcase")}
    assert f"localhost:{a}.tcp" in names and f"localhost:{b}.tcp" in names
    [suite] = root.findall("testsuite")
    assert suite.get("name") == f"regdoctor check localhost:{a} localhost:{b}"


def test_explain_junit_suite_and_classname_are_short() -> None:
    root = ET.fromstring(_run(["explain", NX, "--format", "junit"]).stdout)
    [suite] = root.findall("testsuite")
    assert suite.get("name") == "regdoctor explain text"
    assert {c.get("classname") for c in root.iter("testcase")} >= {"DNS_NXDOMAIN"}
