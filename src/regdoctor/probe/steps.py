"""The record of one endpoint's walk: steps in the order they ran, and where it first failed."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from regdoctor.classify import Verdict
from regdoctor.kb.codes import Code
from regdoctor.model import Layer, Role, Step, StepStatus

if TYPE_CHECKING:
    from regdoctor.probe.events import Observer


class StepLog:
    """Accumulates ``Step``s; ``done`` once a step failed (the layers behind it are SKIP)."""

    def __init__(self, steps: list[Step] | None = None, *, observer: Observer | None = None,
                 where: tuple[str, int, Role] = ("", 0, "registry")) -> None:
        self.steps: list[Step] = list(steps or [])
        self.failed_at: str | None = None
        #: live progress (``probe.events``): who is told, and which endpoint this log is of
        self.observer = observer
        self.where = where

    def begin(self, layer: Layer, name: str, deadline_s: float | None = None) -> None:
        """Tell the observer (if any) that a step starts and how long it may wait."""
        if self.observer is not None:
            from regdoctor.probe.events import ProbeEvent

            self.observer(ProbeEvent("begin", *self.where, layer=layer, name=name, deadline_s=deadline_s))

    def _record(self, step: Step) -> None:
        self.steps.append(step)
        if self.observer is not None:
            from regdoctor.probe.events import ProbeEvent

            self.observer(ProbeEvent("step", *self.where, layer=step.layer, name=step.name, step=step))

    def add(self, layer: Layer, name: str, status: StepStatus, t0: float, summary: str, code: Code | None = None,
            evidence: Mapping[str, Any] | None = None) -> None:
        """Record a step that started at monotonic time ``t0``."""
        self._record(Step(layer=layer, name=name, status=status, elapsed_ms=(time.monotonic() - t0) * 1000,
                          summary=summary, code=code, evidence=dict(evidence or {})))
        if status == "fail" and self.failed_at is None:
            self.failed_at = f"{layer} {name}"

    def verdict(self, layer: Layer, name: str, t0: float, v: Verdict, **evidence: Any) -> None:
        """Record a classified step; ``evidence`` adds context to the verdict's own."""
        self.add(layer, name, v.status, t0, v.summary, v.code, {**evidence, **v.evidence} if evidence else v.evidence)

    def skip(self, layer: Layer, name: str, reason: str | None = None) -> None:
        """Record a step that did not run, with the reason (never a PASS: SPEC "Honest")."""
        self._record(Step(layer=layer, name=name, status="skip", elapsed_ms=0.0,
                          summary=reason or f"not run: {self.failed_at} failed"))

    @property
    def done(self) -> bool:
        return self.failed_at is not None


__all__ = ["StepLog"]
