"""The hostile cases again, in this process: ``probe.run.check`` against the same servers.

The CLI suite (``test_hostile_cli.py``) proves the bounds of the real program; this one runs
the same table through the probe API directly, many cases at a time, so it takes seconds, needs
no root, and is what a contributor who touched ``net/`` or ``probe/`` runs first (and what the
coverage of those packages is measured with).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from hostile.cases import CASES, Case, Kit
from regdoctor.credentials import load_client_config
from regdoctor.model import Report
from regdoctor.probe.endpoint import ProbeOptions
from regdoctor.probe.run import PullOptions, check
from regdoctor.target import parse_target

TIMEOUT = 1.0  # the CLI suite's deadline: a loaded machine must not turn an answer into a timeout
PARALLEL = 12


@dataclass(frozen=True)
class Ran:
    report: Report
    wall: float


def _options(args: list[str], home: Path) -> tuple[str, ProbeOptions]:
    """The three argument shapes cases.py produces: REF --plain-http | REF --ca F [--proxy URL]."""
    ref, rest = args[0], args[1:]
    ca = rest[rest.index("--ca") + 1] if "--ca" in rest else None
    proxy = rest[rest.index("--proxy") + 1] if "--proxy" in rest else None
    env = {"HOME": str(home)}
    return ref, ProbeOptions(timeout=TIMEOUT, proxy=proxy, env=env, ca_file=ca, plain_http="--plain-http" in rest)


def _run(case: Case, tmp: Path) -> Ran:
    home = tmp / case.id
    home.mkdir()
    kit = Kit(home)
    try:
        ref, opts = _options(case.build(kit), home)
        target = parse_target(ref, plain_http=opts.plain_http)
        t0 = time.monotonic()
        report = check([target], opts, PullOptions(config=load_client_config(opts.env, home=str(home))))
        return Ran(report, time.monotonic() - t0)
    finally:
        kit.stop()


@pytest.fixture(scope="module")
def ran() -> Iterator[dict[str, Ran]]:
    with tempfile.TemporaryDirectory(prefix="regdoctor-hostile-") as d, ThreadPoolExecutor(PARALLEL) as pool:
        futures = {c.id: pool.submit(_run, c, Path(d)) for c in CASES}
        yield {k: f.result() for k, f in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_in_process(case: Case, ran: dict[str, Ran]) -> None:
    r = ran[case.id]
    codes = [str(f.code) for f in r.report.findings]
    steps = [(e.host, e.port, s.layer, s.name, s.status, s.code) for e in r.report.endpoints for s in e.steps]
    assert "CLIENT_INTERNAL_ERROR" not in codes, steps
    # each step has its own deadline; a case has at most a few steps that wait
    assert r.wall <= 3 * TIMEOUT + 2.0, (r.wall, steps)
    if case.code is None:
        assert codes == [], steps
    else:
        assert case.code in codes, (codes, steps)
