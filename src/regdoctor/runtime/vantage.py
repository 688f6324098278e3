"""A check from a vantage point: the shell's own path, or the path one actor really takes.

``check --as docker`` and ``serve --as containerd`` probe through the actor's effective proxy,
its mirrors (endpoints of their own, role ``mirror``) and its CA trust, and the verdict names
the actor (``runtime.asactor``). Without ``--as`` the shell's path is probed and a running
daemon that would go another way gets one note. Both go through ``probe.run.check``: this
module only supplies the vantage's jobs, options and verdict.

Reading every actor (``runtime.actors.audit``: /proc, unit and config files, and the modules
that read them) costs about as much CPU as the probes themselves, and the shell's check needs
it only for that note. So it starts on a thread of its own beside the probes, which mostly
wait on the network, and hands back only the running daemons and their environment
(``runtime.notes.Puller``); the note is made once both are done. (A forked child was tried:
on a loaded two-core machine it won nothing over the thread, the servers' CPU being the limit.)
Only a running daemon can be noted, so when no process has one of their names (a laptop without
a local engine, a CI runner, a container) the audit is not started at all: one read of each
process's ``comm`` decides.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Generic, TypeVar

from regdoctor.errors import BadInput
from regdoctor.model import EndpointResult, Finding, Report
from regdoctor.probe.options import ProbeOptions
from regdoctor.probe.run import Job, PullOptions, check, probe_job
from regdoctor.runtime.notes import DAEMON_PROCESSES, Puller, path_notes_for, pullers
from regdoctor.target import Target

if TYPE_CHECKING:
    from regdoctor.runtime.source import Source

T = TypeVar("T")


class Beside(Generic[T]):
    """``fn()`` on a daemon thread, started now; ``result()`` waits for it on the caller's thread.

    An exception of ``fn`` is raised again by ``result()``, on the caller's thread (so the CLI's
    crash boundary sees it as if the call had been made there); this is not a boundary.

    >>> Beside(lambda: 6 * 7).result()
    42
    """

    def __init__(self, fn: Callable[[], T], name: str = "beside") -> None:
        self._fn = fn
        self._value: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # handed over to result(), never swallowed
            self._error = exc

    def result(self) -> T:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set when _fn returned


def _pullers(source: Source, env: dict[str, str], aks: list[tuple[str, str]]) -> list[Puller]:
    from regdoctor.runtime.actors import audit  # here: on the audit's own thread or process

    return pullers(audit(source, env, aks))


#: actors that pull through containers/image
_CONTAINERS_IMAGE = frozenset({"podman", "crio"})


def check_from(targets: Sequence[Target], opts: ProbeOptions, pull: PullOptions, *, actor: str | None,
               source: Source, aks: Sequence[tuple[str, str]] = ()) -> Report:
    """The layered check as ``actor`` would make it (None: the shell, noting a daemon that differs)."""
    if actor is None or actor == "shell":
        if opts.proxy is not None or actor is not None or not DAEMON_PROCESSES & source.process_names():
            return check(targets, opts, pull)  # (no daemon running: no other path to note)
        # a running daemon that would go another way than this shell: worth one line
        daemons = Beside(lambda: _pullers(source, dict(opts.env), list(aks)), name="audit")

        def notes(endpoints: list[EndpointResult], findings: list[Finding]) -> list[Finding]:
            return findings + path_notes_for(daemons.result(), opts.env, endpoints, targets[0].raw if targets else "")

        return check(targets, opts, pull, conclude=notes)
    from regdoctor.runtime.actors import actor_for, audit
    from regdoctor.runtime.asactor import annotate, plan, verdict

    found = actor_for(actor, audit(source, opts.env, list(aks)))
    if found is None:
        where = f" under {source.root}" if source.root != "/" else ""
        raise BadInput(f"--as {actor}: no {actor} found here (no service unit, config or process{where}); "
                       "`regdoctor proxy` lists what was found")
    p = plan(found, list(targets), opts.env, source.host_path)
    mirrors = [Job(m.target.host, m.target.port, "mirror", target=m.target, parent=m.mirror.registry,
                   origin=f"{found.name} mirror for {m.mirror.registry} ({m.mirror.origin})") for m in p.mirrors]
    plain = {(m.target.host, m.target.port) for m in p.mirrors if m.target.scheme == "http"}

    def probe(job: Job, o: ProbeOptions, pl: PullOptions) -> list[EndpointResult]:
        return probe_job(job, replace(o, plain_http=True) if (job.host, job.port) in plain else o, pl)

    # containers/image authorizes the request, not the host (probe.api RegistryApi.authorizes)
    auth = "request" if found.name in _CONTAINERS_IMAGE else "host"
    return check(targets, replace(opts, env=p.env, trust=p.trust, insecure=p.insecure, redirect_auth=auth), pull,
                 extra_jobs=mirrors,
                 probe=probe,
                 annotate=lambda eps: annotate(p, eps), conclude=lambda eps, fs: verdict(p, eps, fs))


__all__ = ["Beside", "check_from"]
