"""``check --npd``: node-problem-detector's custom-plugin contract at the edge of the command.

NPD reads a plugin's exit status as 0 OK, 1 NonOK, 2 Unknown, and its stdout (cut to
``max_output_length``) as the condition message. regdoctor's own codes differ (2 bad usage,
3 regdoctor failed), and a Python traceback exits 1, which NPD would report as a node problem.
So in this mode every way regdoctor can fail to decide becomes exit 2 with one line on stdout.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from regdoctor.errors import RegdoctorError

NPD_UNKNOWN = 2


@contextmanager
def npd_boundary(enabled: bool, max_length: int = 80) -> Iterator[None]:
    """With ``enabled``: regdoctor's errors and crashes become NPD "Unknown" (exit 2, one stdout line)."""
    if not enabled:
        yield
        return
    try:
        yield
    except RegdoctorError as exc:
        _unknown(f"regdoctor could not decide: {exc}", max_length)
    except Exception as exc:  # the NPD-mode crash boundary: exit 1 would read as a node problem
        _unknown(f"regdoctor failed: {type(exc).__name__}: {exc}", max_length)


def _unknown(message: str, max_length: int) -> None:
    line = " ".join(f"Unknown: {message}".split())
    click.echo(line if len(line) <= max_length else line[: max_length - 1] + "…")
    click.echo(f"regdoctor: {message}", err=True)
    sys.exit(NPD_UNKNOWN)
