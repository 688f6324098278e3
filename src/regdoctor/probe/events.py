"""Progress events of a probe run, for a caller that shows the run while it waits.

Strategy
--------
A blackholed port makes a step wait for its whole deadline; a user in a terminal should see
which step waits and how long it may still take. ``probe/`` stays pure of rendering: it calls
``ProbeOptions.observer`` (when one is set) with a frozen ``ProbeEvent`` as a step begins and
ends and as an endpoint's job finishes; the CLI decides whether to show anything (only on a
terminal) and ``render/`` how. The observer is called from the probe threads, so it must be
thread-safe and quick; an exception in it is the caller's bug and is not caught here.

>>> ProbeEvent("begin", "r.io", 443, "registry", layer="tcp", name="connect", deadline_s=5.0).kind
'begin'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from regdoctor.model import Role, Step

EventKind = Literal["begin", "step", "done"]


@dataclass(frozen=True)
class ProbeEvent:
    """``begin``: a step starts (``layer``, ``name``, its deadline); ``step``: it ended
    (``step``); ``done``: the job that probes this endpoint finished."""

    kind: EventKind
    host: str
    port: int
    role: Role
    layer: str | None = None
    name: str | None = None
    deadline_s: float | None = None
    step: Step | None = None


Observer = Callable[[ProbeEvent], None]

__all__ = ["EventKind", "Observer", "ProbeEvent"]
