"""Rounds on a jittered schedule: one thread per target, so rounds of one target never overlap.

Strategy
--------
A round is one ``check`` of one target; every network step in it has its own deadline, so a
round is bounded without a watchdog here. Each target has its own thread that runs a round,
then waits until ``interval × (1 ± jitter)`` after that round *started* (a fixed cadence), or not
at all when the round overran the interval: the next round starts after the previous one ends,
never beside it. The first round waits a random ``[0, jitter × interval)``, so a DaemonSet
whose pods all start at once does not probe the registry in lock step, and the jitter keeps
them drifting apart afterwards.

A round that raises (a bug: the probes themselves never raise for the network) is recorded as
``unknown`` via ``on_error`` and the schedule goes on: one bad round does not end the exporter.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    interval: float
    jitter: float = 0.1

    def first_delay(self, rng: random.Random) -> float:
        """A random start offset, so that pods started together drift apart.

        >>> 0 <= Schedule(60, 0.1).first_delay(random.Random(1)) < 6
        True
        """
        return rng.uniform(0, self.jitter * self.interval)

    def next_start(self, started: float, rng: random.Random) -> float:
        """Monotonic time of the next round; the caller never starts it before the current one ended.

        >>> 9.0 <= Schedule(10, 0.1).next_start(0.0, random.Random(1)) <= 11.0
        True
        """
        return started + self.interval * (1 + rng.uniform(-self.jitter, self.jitter))


class Scheduler:
    """Runs ``rounds[i]()`` repeatedly on its own thread until ``stop()``."""

    def __init__(self, rounds: list[Callable[[], None]], schedule: Schedule,
                 on_error: Callable[[int, BaseException], None], seed: int | None = None) -> None:
        self.rounds = rounds
        self.schedule = schedule
        self.on_error = on_error
        self._stop = threading.Event()
        self._rng = random.Random(seed)  # noqa: S311 - jitter, not secrecy
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i, fn in enumerate(self.rounds):
            rng = random.Random(self._rng.random())  # noqa: S311
            t = threading.Thread(target=self._loop, args=(i, fn, rng), name=f"round-{i}", daemon=True)
            self._threads.append(t)
            t.start()

    def _loop(self, i: int, fn: Callable[[], None], rng: random.Random) -> None:
        next_at = time.monotonic() + self.schedule.first_delay(rng)
        while not self._stop.wait(max(0.0, next_at - time.monotonic())):
            started = time.monotonic()
            try:
                fn()
            except Exception as exc:  # a bug in one round must not end the exporter; it is reported as unknown
                self.on_error(i, exc)
            next_at = self.schedule.next_start(started, rng)

    def alive(self) -> bool:
        return bool(self._threads) and all(t.is_alive() for t in self._threads)

    def stop(self, wait: float) -> bool:
        """Ask every loop to end after its current round; True when all ended within ``wait`` seconds."""
        self._stop.set()
        deadline = time.monotonic() + wait
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)
