"""``regdoctor serve`` assembled: targets' state, the scheduler, the HTTP routes, and shutdown.

The command (``cli/serve.py``) parses and validates; this module runs. ``Exporter.run`` returns
when ``request_stop()`` is called (the CLI's SIGTERM/SIGINT handler does that): the HTTP server stops
accepting, rounds in progress get ``grace`` seconds to end, and the process exits 0.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from regdoctor import kb
from regdoctor.kb.codes import Code
from regdoctor.model import NodeInfo, Report
from regdoctor.net.httpd import Answer, BoundedServer, json_answer
from regdoctor.serve.scheduler import Schedule, Scheduler
from regdoctor.serve.state import TargetState, TargetView, merged_report


@dataclass(frozen=True)
class ServeConfig:
    targets: tuple[tuple[str, str], ...]  # (REF as given, host[:port])
    interval: float
    listen: tuple[str, int]
    node: NodeInfo
    jitter: float = 0.1
    window: int = 60
    max_handlers: int = 8
    #: a round that has not ended this long after it started makes /healthz fail (a stuck thread)
    stuck_after: float = 300.0
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _crash_report(target: str, exc: BaseException) -> Report:
    """A round that crashed is a CLIENT_INTERNAL_ERROR finding, with the catalogue's texts."""
    f = kb.code(Code.CLIENT_INTERNAL_ERROR).finding(host=None, evidence={
        "check": f"serve round of {target}", "error_type": type(exc).__name__, "error": str(exc)[:300],
        "target": target})
    return Report(targets=(target,), endpoints=(), findings=(f,))


class Exporter:
    def __init__(self, config: ServeConfig, check_one: Callable[[int], Report],
                 on_round: Callable[[Report], None] | None = None) -> None:
        from regdoctor.serve.metrics import make_registry

        self.config = config
        self.states = [TargetState(ref, registry, config.window) for ref, registry in config.targets]
        self._check_one = check_one
        self._on_round = on_round
        self._log_lock = threading.Lock()
        self.registry = make_registry(self.states, lambda: config.node.name)
        self.scheduler = Scheduler([self._round_fn(i) for i in range(len(self.states))],
                                   Schedule(config.interval, config.jitter), self._round_failed, config.seed)
        self.server = BoundedServer(config.listen, {
            "/metrics": self._metrics, "/report.json": self._report, "/history.json": self._history,
            "/healthz": self._healthz, "/": self._index,
        }, max_handlers=config.max_handlers)
        self._stopped = threading.Event()

    # ---------------------------------------------------------------- rounds

    def _round_fn(self, i: int) -> Callable[[], None]:
        def run() -> None:
            st = self.states[i]
            st.started()
            report = self._check_one(i)
            st.finished(report)
            self._emit()
        return run

    def _round_failed(self, i: int, exc: BaseException) -> None:
        self.states[i].finished(_crash_report(self.states[i].target, exc))
        self._emit()

    def _emit(self) -> None:
        if self._on_round is None:
            return
        report = merged_report([s.view() for s in self.states], self.config.node)
        if report is not None:
            with self._log_lock:  # one line per round, never two interleaved
                self._on_round(report)

    # ---------------------------------------------------------------- HTTP

    def _views(self) -> list[TargetView]:
        return [s.view() for s in self.states]

    def _metrics(self, accept: str) -> Answer:
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept)
        return Answer(200, content_type, encoder(self.registry))

    def history_doc(self, views: Sequence[TargetView]) -> dict[str, Any]:
        return {"node": self.config.node.as_dict(), "interval_s": self.config.interval, "targets": [
            {"target": v.target, "registry": v.registry, "rounds": dict(v.rounds), "history": v.history}
            for v in views]}

    def _report(self, accept: str) -> Answer:
        from regdoctor.render import report_dict

        views = self._views()
        report = merged_report(views, self.config.node)
        if report is None:
            return json_answer({"schema": 1, "tool": "regdoctor", "status": "pending",
                                "message": "the first round has not finished yet"}, status=503)
        return json_answer({**report_dict(report), "serve": self.history_doc(views)})

    def _history(self, accept: str) -> Answer:
        return json_answer({"schema": 1, "tool": "regdoctor", **self.history_doc(self._views())})

    def _healthz(self, accept: str) -> Answer:
        now = time.monotonic()
        stuck = [v.target for v in self._views()
                 if v.running_since is not None and now - v.running_since > self.config.stuck_after]
        if not self.scheduler.alive() or stuck:
            why = f"round stuck for {', '.join(stuck)}" if stuck else "the scheduler is not running"
            return Answer(503, "text/plain; charset=utf-8", f"unhealthy: {why}\n".encode())
        return Answer(200, "text/plain; charset=utf-8", b"ok\n")

    def _index(self, accept: str) -> Answer:
        body = "regdoctor serve: /metrics /report.json /history.json /healthz\n"
        return Answer(200, "text/plain; charset=utf-8", body.encode())

    # ---------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        return self.server.url

    def run(self, grace: float = 5.0) -> bool:
        """Serve until ``request_stop()``; then stop accepting, give rounds in progress ``grace`` seconds,
        and return whether they all ended."""
        self.scheduler.start()
        http = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                name="httpd", daemon=True)
        http.start()
        while not self._stopped.wait(1.0):  # a timeout, so signals are handled promptly on every platform
            pass
        self.server.shutdown()
        self.server.server_close()
        return self.scheduler.stop(grace)

    def request_stop(self) -> None:
        """Safe from a signal handler: only sets a flag that ``run`` waits on."""
        self._stopped.set()
