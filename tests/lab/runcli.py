"""Running `regdoctor check` in the lab and reading its JSON: shared by the scenario tests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lab.lab import Lab


def check(lab: Lab, ref: str, *args: str, password: str | None = None, env: dict[str, str] | None = None,
          fmt: str = "--json") -> tuple[int, Any, str]:
    """`regdoctor check REF --ca <lab CA> ARGS FMT` in the client netns: (exit, parsed JSON or text, stderr).

    `ref` may be an option taking one value (`-n`, `--name`): then the first of `args` is its value.

    `password` is fed on stdin with `--password-stdin`, the only way regdoctor takes one.
    """
    head = [ref, args[0]] if ref in ("-n", "--name") else [ref]
    argv = ["check", *head, "--ca", str(lab.ca_file), *args[len(head) - 1:]]
    if password is not None:
        argv += ["--password-stdin"]
    r = lab.regdoctor(*argv, fmt, input=password, env=env, timeout=90)
    assert "Traceback" not in r.stderr, r.stderr
    if fmt != "--json":
        return r.returncode, r.stdout, r.stderr
    try:
        return r.returncode, json.loads(r.stdout), r.stderr
    except ValueError:
        pytest.fail(f"exit {r.returncode}: {r.stdout[:800]} {r.stderr[:800]}")


def root(doc: dict[str, Any]) -> dict[str, Any]:
    """The first root-cause finding (there must be one)."""
    roots: list[dict[str, Any]] = [f for f in doc["findings"] if f["root_cause"]]
    assert roots, json.dumps(doc, indent=1)[:3000]
    return roots[0]


def steps(doc: dict[str, Any], host: str | None = None) -> list[dict[str, Any]]:
    """Every step of every endpoint (or of the endpoints named `host`), in order."""
    return [s for e in doc["endpoints"] if host is None or e["host"] == host for s in e["steps"]]
