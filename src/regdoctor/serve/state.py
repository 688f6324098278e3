"""The latest round of every target, shared between the scheduler threads and the HTTP handlers.

Each target's state is replaced whole under one lock per round (a frozen Report and its samples),
so a scrape never sees half a round and the memory held is one round per target plus the bounded
history.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from regdoctor.model import NodeInfo, Report
from regdoctor.serve.history import History
from regdoctor.serve.samples import RoundSample, round_sample


@dataclass(frozen=True)
class TargetView:
    """A consistent copy of one target's state, for one HTTP answer."""

    target: str  # the REF as given
    registry: str  # host[:port] of the REF
    report: Report | None
    sample: RoundSample | None
    rounds: tuple[tuple[str, int], ...]  # (result, count) since start
    last_round_at: float | None  # Unix time
    running_since: float | None  # monotonic start of the round in progress
    history: dict[str, Any]


class TargetState:
    def __init__(self, target: str, registry: str, window: int) -> None:
        self.target = target
        self.registry = registry
        self._lock = threading.Lock()
        self._report: Report | None = None
        self._sample: RoundSample | None = None
        self._rounds: Counter[str] = Counter()
        self._last_at: float | None = None
        self._running_since: float | None = None
        self._history = History(window=window)

    def started(self) -> None:
        with self._lock:
            self._running_since = time.monotonic()

    def finished(self, report: Report) -> None:
        sample = round_sample(report)
        roles = {e.host: e.role for e in report.endpoints}
        causes: list[tuple[str, str, str]] = [(f.code, f.layer, f.host or "") for f in report.findings
                                              if f.root_cause and f.severity in ("error", "warning")]
        via = {key: v for key in causes if (v := first_failure(report, key[2])) is not None and v[0] != key[1]}
        now = time.time()
        with self._lock:
            self._report, self._sample = report, sample
            self._rounds[sample.result] += 1
            self._last_at = now
            self._running_since = None
            self._history.record(now, sample.result, causes, roles, via)

    def view(self) -> TargetView:
        with self._lock:
            return TargetView(target=self.target, registry=self.registry, report=self._report, sample=self._sample,
                              rounds=tuple(sorted(self._rounds.items())), last_round_at=self._last_at,
                              running_since=self._running_since, history=self._history.snapshot())

    def window_counts(self) -> tuple[int, list[tuple[tuple[str, str, str], str, int]]]:
        """(rounds in the window, [(cause, role, rounds in the window with it)]) for /metrics."""
        with self._lock:
            h = self._history
            return len(h.rounds), [(k, s.role, h.in_window(k)) for k, s in h.causes.items() if h.in_window(k)]


def first_failure(report: Report, host: str) -> tuple[str, str] | None:
    """(layer, code) of the first failed step on ``host``: where the path really broke."""
    for e in report.endpoints:
        if e.host == host:
            for s in e.steps:
                if s.status == "fail" and s.code:
                    return s.layer, s.code
    return None


def merged_report(views: list[TargetView], node: NodeInfo | None) -> Report | None:
    """All targets' latest rounds as one ``check`` report (what ``/report.json`` and the log lines hold)."""
    reports = [v.report for v in views if v.report is not None]
    if not reports:
        return None
    return Report(targets=tuple(t for r in reports for t in r.targets),
                  endpoints=tuple(e for r in reports for e in r.endpoints),
                  findings=tuple(f for r in reports for f in r.findings),
                  elapsed_ms=max(r.elapsed_ms for r in reports), node=node)


def with_node(report: Report, node: NodeInfo | None) -> Report:
    return replace(report, node=node) if node is not None else report
