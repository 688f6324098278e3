"""Live progress of a ``check`` on stderr: each endpoint and the step it waits on, with its deadline.

Strategy
--------
A blackholed port makes a step wait its whole deadline; a silent terminal for five seconds
looks like a hang. So while the probes run, a rich ``Live`` area on stderr shows one line per
endpoint in flight — a spinner, ``host:port``, the step it is on and the seconds left before
that step's deadline — and as each endpoint finishes, one permanent line saying how it ended.
The live area is transient: when the run ends it disappears and the report is printed on stdout.

The CLI creates this only when stderr is a terminal and the output is not ``--json``; events
arrive from the probe threads (``probe.events``), so the state is kept under a lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from regdoctor.model import join_host_port
from regdoctor.probe.events import ProbeEvent

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live


@dataclass
class _Endpoint:
    role: str
    step: str = "starting"
    deadline_s: float | None = None
    started: float = field(default_factory=time.monotonic)
    steps: int = 0
    ms: float = 0.0
    failed: str | None = None
    warned: int = 0


class Progress:
    """An observer for ``ProbeOptions.observer`` that draws the run on ``console`` (stderr).

    Use as a context manager around the probe run::

        with Progress(Console(stderr=True)) as progress:
            run_jobs(jobs, replace(opts, observer=progress), pull)
    """

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._active: dict[tuple[str, int], _Endpoint] = {}
        self._finished: set[tuple[str, int]] = set()
        self._live: Live | None = None
        self._spinners: dict[tuple[str, int], Any] = {}  # one per endpoint, so that each one turns

    def __enter__(self) -> Progress:
        from rich.live import Live

        self._live = Live(self, console=self.console, transient=True, refresh_per_second=12.5,
                          redirect_stdout=False, redirect_stderr=False)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def __call__(self, event: ProbeEvent) -> None:
        key = (event.host, event.port)
        with self._lock:
            if key in self._finished:
                return
            ep = self._active.get(key)
            if ep is None:
                ep = self._active[key] = _Endpoint(role=event.role)
            if event.kind == "begin":
                ep.step = f"{event.layer} {event.name}"
                ep.deadline_s = event.deadline_s
                ep.started = time.monotonic()
                return
            if event.kind == "step" and event.step is not None:
                s = event.step
                ep.steps += s.status != "skip"
                ep.ms += s.elapsed_ms
                ep.deadline_s = None
                ep.step = f"after {s.layer} {s.name}"
                if s.status == "fail" and ep.failed is None:
                    ep.failed = f"{s.layer} {s.name}: {s.summary}"
                ep.warned += s.status == "warn"
                if event.role not in ("registry", "mirror") and s.layer == "http":
                    pass  # a realm's or data host's walk ends with its HTTP step: it is done
                else:
                    return
            del self._active[key]
            self._finished.add(key)
        self._print_done(key, ep)

    def _print_done(self, key: tuple[str, int], ep: _Endpoint) -> None:
        from rich.text import Text

        name = f"{key[0]}:{key[1]}"
        if ep.failed:
            line = Text.assemble(("✗ ", "bold red"), (name, "bold"), f" ({ep.role}) ", (ep.failed, "red"))
        else:
            warn = f", {ep.warned} warning(s)" if ep.warned else ""
            line = Text.assemble(("✓ ", "green"), (name, "bold"), f" ({ep.role}) ",
                                 (f"{ep.steps} steps{warn}, {ep.ms:.0f} ms", "dim"))
        self.console.print(line, no_wrap=True, overflow="ellipsis", crop=True)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.spinner import Spinner
        from rich.text import Text

        now = time.monotonic()
        with self._lock:
            rows = list(self._active.items())
        for (host, port), ep in rows:
            wait = ""
            if ep.deadline_s is not None:
                left = max(ep.deadline_s - (now - ep.started), 0.0)
                wait = f"  {left:4.1f} s left"
            spinner = self._spinners.get((host, port))
            if spinner is None:
                spinner = self._spinners[(host, port)] = Spinner("dots", style="cyan")
            frame: Any = spinner.render(now)
            line = Text.assemble(frame, " ", (join_host_port(host, port), "bold"), f" ({ep.role})  ", ep.step,
                                 (wait, "yellow"))
            line.no_wrap = True
            line.overflow = "ellipsis"
            line.truncate(options.max_width, overflow="ellipsis")
            yield line


__all__ = ["Progress"]
