"""A check from a vantage point: the shell's own path, or the path one actor really takes.

``check --as docker`` and ``serve --as containerd`` probe through the actor's effective proxy,
its mirrors (endpoints of their own, role ``mirror``) and its CA trust, and the verdict names
the actor (``runtime.asactor``). Without ``--as`` the shell's path is probed and a running
daemon that would go another way gets one note. Both go through ``probe.run.check``: this
module only supplies the vantage's jobs, options and verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from regdoctor.errors import BadInput
from regdoctor.model import EndpointResult, Finding, Report
from regdoctor.probe.options import ProbeOptions
from regdoctor.probe.run import Job, PullOptions, check, probe_job
from regdoctor.runtime import Source, actor_for, audit
from regdoctor.runtime.asactor import annotate, path_notes, plan, verdict
from regdoctor.target import Target


def check_from(targets: Sequence[Target], opts: ProbeOptions, pull: PullOptions, *, actor: str | None,
               source: Source, aks: Sequence[tuple[str, str]] = ()) -> Report:
    """The layered check as ``actor`` would make it (None: the shell, noting a daemon that differs)."""
    if actor is None or actor == "shell":
        def notes(endpoints: list[EndpointResult], findings: list[Finding]) -> list[Finding]:
            if opts.proxy is not None or actor is not None:
                return findings
            # a running daemon that would go another way than this shell: worth one line
            return findings + path_notes(audit(source, opts.env, list(aks)), opts.env, endpoints,
                                         targets[0].raw if targets else "")
        return check(targets, opts, pull, conclude=notes)
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

    return check(targets, replace(opts, env=p.env, trust=p.trust), pull, extra_jobs=mirrors, probe=probe,
                 annotate=lambda eps: annotate(p, eps), conclude=lambda eps, fs: verdict(p, eps, fs))


__all__ = ["check_from"]
