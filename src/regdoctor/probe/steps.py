"""The record of one endpoint's walk: steps in the order they ran, and where it first failed."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from regdoctor.classify import Verdict
from regdoctor.kb.codes import Code
from regdoctor.model import Layer, Step, StepStatus


class StepLog:
    """Accumulates ``Step``s; ``done`` once a step failed (the layers behind it are SKIP)."""

    def __init__(self, steps: list[Step] | None = None) -> None:
        self.steps: list[Step] = list(steps or [])
        self.failed_at: str | None = None

    def add(self, layer: Layer, name: str, status: StepStatus, t0: float, summary: str, code: Code | None = None,
            evidence: Mapping[str, Any] | None = None) -> None:
        """Record a step that started at monotonic time ``t0``."""
        self.steps.append(Step(layer=layer, name=name, status=status, elapsed_ms=(time.monotonic() - t0) * 1000,
                               summary=summary, code=code, evidence=dict(evidence or {})))
        if status == "fail" and self.failed_at is None:
            self.failed_at = f"{layer} {name}"

    def verdict(self, layer: Layer, name: str, t0: float, v: Verdict, **evidence: Any) -> None:
        """Record a classified step; ``evidence`` adds context to the verdict's own."""
        self.add(layer, name, v.status, t0, v.summary, v.code, {**evidence, **v.evidence} if evidence else v.evidence)

    def skip(self, layer: Layer, name: str, reason: str | None = None) -> None:
        """Record a step that did not run, with the reason (never a PASS: SPEC "Honest")."""
        self.steps.append(Step(layer=layer, name=name, status="skip", elapsed_ms=0.0,
                               summary=reason or f"not run: {self.failed_at} failed"))

    @property
    def done(self) -> bool:
        return self.failed_at is not None


__all__ = ["StepLog"]
