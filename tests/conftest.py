"""Shared fixtures. The only heavy one is the session-scoped fault lab (tests/lab/lab.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from lab.lab import Lab, missing_prerequisites


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    """The fault lab, started once per session and torn down at its end.

    Without root or a needed binary the lab tests are skipped with the reason, except under CI=true,
    where the lab must really run, so a missing prerequisite fails them instead.
    """
    problems = missing_prerequisites()
    if problems:
        reason = "fault lab unavailable: " + "; ".join(problems)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason} (CI=true: the lab must run in CI)", pytrace=False)
        pytest.skip(reason)
    the_lab = Lab()
    the_lab.start()
    try:
        yield the_lab
    finally:
        the_lab.stop()
