"""A bounded memory of what went wrong, round after round (pure; the owner holds the lock).

An intermittent fault is invisible in the latest round and obvious in a window: "3 of the last
60 rounds failed at tcp to myreg.westeurope.data.azurecr.io". So each round's root causes are
kept in a ring of ``window`` rounds, and each distinct cause (code, layer, host) has first/last
seen times and a lifetime count.

Bounded for a process that runs for months: the ring has ``window`` entries of at most
``MAX_CAUSES_PER_ROUND`` causes, and the cause table at most ``max_causes`` entries; when full,
the cause seen longest ago that is no longer in the window is forgotten (its lifetime count with
it), and the number forgotten is reported.
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_CAUSES_PER_ROUND = 16
CauseKey = tuple[str, str, str]  # code, layer, host


@dataclass(frozen=True)
class RoundEntry:
    at: float  # Unix time the round ended
    result: str
    causes: tuple[CauseKey, ...]


@dataclass
class CauseStats:
    key: CauseKey
    role: str
    first_seen: float
    last_seen: float
    rounds: int = 0
    #: the layer and code of the step that actually failed, when lower than the finding's own
    via: tuple[str, str] | None = None


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class History:
    """Root causes of the last ``window`` rounds, and every cause's first/last seen (bounded).

    >>> h = History(window=3)
    >>> for i, c in enumerate([[("TCP_TIMEOUT", "tcp", "d")], [], [("TCP_TIMEOUT", "tcp", "d")], []]):
    ...     h.record(float(i), "problems" if c else "ok", c, {"d": "data"})
    >>> h.snapshot()["causes"][0]["summary"]
    '1 of the last 3 rounds failed at tcp to d (TCP_TIMEOUT)'
    """

    def __init__(self, window: int = 60, max_causes: int = 256) -> None:
        self.window = window
        self.max_causes = max_causes
        self.rounds: deque[RoundEntry] = deque(maxlen=window)
        self.causes: dict[CauseKey, CauseStats] = {}
        self.total_rounds = 0
        self.forgotten = 0

    def record(self, at: float, result: str, causes: Sequence[CauseKey], roles: Mapping[str, str],
               via: Mapping[CauseKey, tuple[str, str]] | None = None) -> None:
        keys = tuple(dict.fromkeys(causes))[:MAX_CAUSES_PER_ROUND]
        self.rounds.append(RoundEntry(at=at, result=result, causes=keys))
        self.total_rounds += 1
        for key in keys:
            stats = self.causes.get(key)
            if stats is None:
                stats = self.causes[key] = CauseStats(key=key, role=roles.get(key[2], ""), first_seen=at,
                                                      last_seen=at)
            stats.last_seen = at
            stats.rounds += 1
            stats.via = (via or {}).get(key, stats.via)
        self._evict()

    def _evict(self) -> None:
        if len(self.causes) <= self.max_causes:
            return
        live = {k for r in self.rounds for k in r.causes}
        for stats in sorted(self.causes.values(), key=lambda s: s.last_seen):
            if len(self.causes) <= self.max_causes:
                break
            if stats.key not in live:
                del self.causes[stats.key]
                self.forgotten += 1

    def in_window(self, key: CauseKey) -> int:
        return sum(key in r.causes for r in self.rounds)

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready: the window's counts, every remembered cause, the recent rounds (newest last)."""
        n = len(self.rounds)
        causes = []
        for stats in sorted(self.causes.values(), key=lambda s: -s.last_seen):
            code, layer, host = stats.key
            hits = self.in_window(stats.key)
            to = f" to {host}" if host else ""
            at, codes = (stats.via[0], f"{code} via {stats.via[1]}") if stats.via else (layer, code)
            causes.append({
                "code": code, "layer": layer, "host": host or None, "role": stats.role or None,
                "broke_at": {"layer": at, "code": stats.via[1] if stats.via else code},
                "first_seen": _iso(stats.first_seen), "last_seen": _iso(stats.last_seen),
                "rounds_total": stats.rounds, "rounds_in_window": hits,
                "summary": f"{hits} of the last {n} rounds failed at {at}{to} ({codes})",
            })
        return {
            "window": self.window,
            "rounds_in_window": n,
            "failed_in_window": sum(r.result != "ok" for r in self.rounds),
            "rounds_total": self.total_rounds,
            "causes_forgotten": self.forgotten,
            "causes": causes,
            "recent": [{"at": _iso(r.at), "result": r.result,
                        "root_causes": [{"code": c, "layer": la, "host": h or None} for c, la, h in r.causes]}
                       for r in self.rounds],
        }
