"""Fan-out: every endpoint of every target, in parallel, each layer under its own deadline.

Strategy
--------
Endpoints are independent, so each runs in its own thread; a blackholed one costs its
deadline once and does not delay the others. The whole run is also bounded: if an endpoint
has not finished by ``overall`` seconds (which should not happen, since every layer has a
deadline) it is reported as a regdoctor failure, never waited for. The threads are daemon
threads, so an abandoned probe never holds the process open past its deadline (a pool's
workers are joined at interpreter exit).

A crash inside one endpoint's probe becomes a ``CLIENT_INTERNAL_ERROR`` step on that endpoint
(the probe-level crash boundary, DESIGN.md), so the others still report. Ctrl-C while
waiting raises ``Interrupted`` carrying the report of what finished.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from regdoctor.classify import Verdict, classify_v2
from regdoctor.credentials import ClientConfig, Credential, config_findings, find_credential, load_client_config
from regdoctor.diagnose import diagnose
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Finding, Report, Role, Step, findings_sorted
from regdoctor.net.http import HttpResponse
from regdoctor.probe.api import Flow
from regdoctor.probe.endpoint import ProbeOptions, probe_endpoint
from regdoctor.probe.registry import run_pull_path
from regdoctor.target import ACR_SUFFIX, DOCKER_HUB, Target, acr_data_endpoint, acr_name, acr_suffix

if TYPE_CHECKING:
    from regdoctor.probe.events import Observer, ProbeEvent


@dataclass(frozen=True)
class Job:
    """One endpoint to probe, and what asked for it; a registry job also walks its pull path."""

    host: str
    port: int
    role: Role
    origin: str = ""
    target: Target | None = None
    #: the endpoint that asked for this one (``display`` form), e.g. a replica's registry
    parent: str | None = None


@dataclass(frozen=True)
class PullOptions:
    """What the registry flow needs beyond the network options."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    platform: str = "linux/amd64"
    regions: tuple[str, ...] = ()
    #: the credential files, read once by the CLI; None: read them from ``ProbeOptions.env``
    config: ClientConfig | None = None


def jobs_for(targets: Sequence[Target], regions: Sequence[str] = ()) -> list[Job]:
    """The endpoints a set of targets involves (deduplicated, in order): each registry, and for
    ACR registries each ``--region`` replica's dedicated data endpoint."""
    seen: set[tuple[str, int]] = set()
    images: set[tuple[str, int, str | None, str | None]] = set()
    out: list[Job] = []
    for t in targets:
        key = (t.host, t.port, t.repository, t.reference)
        # an image once (`nginx` and `docker.io/library/nginx:latest` are one pull); a registry
        # alone once, and not beside an image of its own (that walks the same path)
        if key not in images and (t.repository or key[:2] not in seen):
            seen.add((t.host, t.port))
            images.add(key)
            shown = t.raw if t.normalized == t.raw else f"{t.raw} = {t.normalized}"  # as docker reads it
            out.append(Job(t.host, t.port, "registry", origin=f"REF {shown}", target=t))
    for t in targets:
        name = acr_name(t.host)
        for region in regions:
            if name is None:
                continue
            host = acr_data_endpoint(name, region, acr_suffix(t.host) or ACR_SUFFIX)
            if (host, 443) not in seen:
                seen.add((host, 443))
                out.append(Job(host, 443, "data", origin=f"--region {region} data endpoint of {t.host}",
                               parent=t.host_port))
    return out


def _reachable(resp: HttpResponse) -> Verdict:
    """A data endpoint probed without a blob URL: any HTTP answer proves the path, except the
    registry firewall's own refusal."""
    v = classify_v2(resp.status, resp.reason, resp.headers, resp.body)
    if v.code == Code.HTTP_FIREWALL_DENIED:
        return v
    return Verdict("pass", None, f"{resp.status} {resp.reason}: the endpoint answers (no blob requested)",
                   {"status": resp.status, "headers": v.evidence.get("headers", {})})


def probe_job(job: Job, opts: ProbeOptions, pull: PullOptions) -> list[EndpointResult]:
    """Probe one job: its layers, then (registries) the pull path. Never raises for the network."""
    if job.target is None:
        result, _, _ = probe_endpoint(job.host, job.port, job.role, opts, origin=job.origin, parent=job.parent,
                                      http_check=_reachable)
        return [result]
    t = job.target
    result, route, v2 = probe_endpoint(job.host, job.port, job.role, opts, origin=job.origin, parent=job.parent)
    if route is None or v2 is None:
        return [result]
    flow = Flow(host=t.host, port=t.port, steps=list(result.steps), display=t.host_port, observer=opts.observer)

    def lookup() -> Credential | None:
        # docker keys credentials by the reference's domain: host[:port], Docker Hub as docker.io
        domain = "docker.io" if t.host == DOCKER_HUB else t.host_port
        config = pull.config or load_client_config(opts.env)
        return find_credential(domain, config, opts.env, repository=t.repository, username=pull.username,
                               password=pull.password, helper_timeout=max(2.0, 2 * opts.timeout))

    run_pull_path(flow, route, v2, opts, repository=t.repository, reference=t.reference, platform=pull.platform,
                  credential_lookup=lookup, registry_name=t.acr_name)
    return [replace(result, steps=tuple(flow.steps)), *flow.extra]


def _crash_result(job: Job, exc: BaseException) -> EndpointResult:
    import traceback

    tb = traceback.extract_tb(exc.__traceback__)
    where = f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else "?"
    return EndpointResult(host=job.host, port=job.port, role=job.role, origin=job.origin, parent=job.parent, steps=(
        Step(layer="client", name="probe", status="fail", elapsed_ms=0.0,
             summary=f"regdoctor crashed: {type(exc).__name__}: {exc}", code=Code.CLIENT_INTERNAL_ERROR,
             evidence={"check": f"probe {job.host}:{job.port}", "error_type": type(exc).__name__,
                       "error": str(exc)[:300], "where": where}),))


class _StepRecorder:
    """An observer that keeps every finished step per endpoint, so that Ctrl-C reports what an
    unfinished job had already found; it passes every event on to the caller's observer."""

    def __init__(self, then: Observer | None) -> None:
        self.then = then
        self.steps: dict[tuple[str, int, str], list[Step]] = {}

    def __call__(self, event: ProbeEvent) -> None:
        if event.kind == "step" and event.step is not None:
            # one list per endpoint, appended by its own probe thread only (list.append is atomic)
            self.steps.setdefault((event.host, event.port, event.role), []).append(event.step)
        if self.then is not None:
            self.then(event)

    def interrupted(self, job: Job) -> EndpointResult:
        """The job's endpoint with the steps it finished, then the mark of where it stopped."""
        done = tuple(self.steps.get((job.host, job.port, job.role), ()))
        stop = Step(layer="client", name="probe", status="skip", elapsed_ms=0.0,
                    summary="not finished: the check was interrupted")
        return EndpointResult(host=job.host, port=job.port, role=job.role, origin=job.origin, parent=job.parent,
                              steps=(*done, stop))


class Interrupted(Exception):  # an event (Ctrl-C), not an error
    """Ctrl-C while probing; ``report`` holds what finished (and marks what did not)."""

    def __init__(self, report: Report) -> None:
        super().__init__("interrupted")
        self.report = report


Probe = Callable[[Job, ProbeOptions, PullOptions], list[EndpointResult]]


def _start(jobs: Sequence[Job], fn: Probe, opts: ProbeOptions, pull: PullOptions) -> queue.SimpleQueue[
        tuple[int, list[EndpointResult] | BaseException]]:
    """One daemon thread per job (at most a few dozen endpoints); results arrive on the queue."""
    done: queue.SimpleQueue[tuple[int, list[EndpointResult] | BaseException]] = queue.SimpleQueue()

    def run(i: int, job: Job) -> None:
        try:
            done.put((i, fn(job, opts, pull)))
        except Exception as exc:  # the probe crash boundary: one endpoint, never the run
            done.put((i, exc))

    for i, job in enumerate(jobs):
        threading.Thread(target=run, args=(i, job), name=f"probe-{job.host}:{job.port}", daemon=True).start()
    return done


def run_jobs(jobs: Sequence[Job], opts: ProbeOptions, pull: PullOptions | None = None,
             probe: Probe | None = None, *, started: float | None = None) -> list[EndpointResult]:
    """Probe every job concurrently; results in job order. Ctrl-C raises ``Interrupted``."""
    if not jobs:
        return []
    pull = pull or PullOptions()
    recorder = _StepRecorder(opts.observer)
    opts = replace(_with_contexts(opts, jobs), observer=recorder)
    # every step has its own deadline; this only guards against a bug holding a thread forever
    overall = opts.timeout * 20 + 5.0
    end = time.monotonic() + overall
    done = _start(jobs, probe or probe_job, opts, pull)
    got: dict[int, list[EndpointResult] | BaseException] = {}
    try:
        while len(got) < len(jobs) and time.monotonic() < end:
            try:
                i, value = done.get(timeout=min(0.2, max(end - time.monotonic(), 0.01)))
            except queue.Empty:
                continue
            got[i] = value
            if recorder.then is not None:
                _tell_done(opts, jobs[i], value)
    except KeyboardInterrupt:
        partial = _collect(jobs, got, unfinished=recorder.interrupted)
        elapsed = time.monotonic() - (started if started is not None else end - overall)
        raise Interrupted(Report(targets=(), endpoints=tuple(partial), findings=tuple(
            diagnose(partial, interrupted_after=elapsed)), elapsed_ms=elapsed * 1000)) from None
    return _collect(jobs, got, unfinished=lambda j: _crash_result(
        j, TimeoutError(f"probe did not finish within {overall:.0f} s")))


def _with_contexts(opts: ProbeOptions, jobs: Sequence[Job]) -> ProbeOptions:
    """``opts`` with this run's TLS context cache, whose system-store contexts start loading now
    (without the GIL, beside the probes' DNS and TCP steps) rather than at each endpoint's TLS step."""
    if opts.contexts is not None:
        return opts
    from regdoctor.net.tls import ContextCache

    opts = replace(opts, contexts=ContextCache())
    if not opts.plain_http:
        assert opts.contexts is not None
        for extra in dict.fromkeys(opts.extra_trust(j.host, j.port) for j in jobs):
            opts.contexts.prepare(opts.ca_file, extra=extra)
    return opts


def _tell_done(opts: ProbeOptions, job: Job, value: list[EndpointResult] | BaseException) -> None:
    """The observer learns that every endpoint of a job is finished (the job's own and those it found)."""
    from regdoctor.probe.events import ProbeEvent

    assert opts.observer is not None
    ends = [(e.host, e.port, e.role) for e in value] if isinstance(value, list) else [(job.host, job.port, job.role)]
    for host, port, role in ends:
        opts.observer(ProbeEvent("done", host, port, role))


def _collect(jobs: Sequence[Job], got: dict[int, list[EndpointResult] | BaseException],
             unfinished: Callable[[Job], EndpointResult]) -> list[EndpointResult]:
    results: list[EndpointResult] = []
    for i, job in enumerate(jobs):
        value = got.get(i)
        if value is None:
            results.append(unfinished(job))
        elif isinstance(value, BaseException):
            results.append(_crash_result(job, value))
        else:
            results += value
    return results


def check(targets: Sequence[Target], opts: ProbeOptions, pull: PullOptions | None = None, *,
          extra_jobs: Sequence[Job] = (), probe: Probe | None = None,
          annotate: Callable[[list[EndpointResult]], list[EndpointResult]] | None = None,
          conclude: Callable[[list[EndpointResult], list[Finding]], list[Finding]] | None = None) -> Report:
    """Probe every endpoint the targets involve and diagnose the result.

    A vantage other than the shell's (``check --as``: ``regdoctor.runtime.vantage``) adds its
    own endpoints (``extra_jobs``: mirrors), its own per-job options (``probe``), marks the
    results (``annotate``) and names itself in the verdict (``conclude``).

    >>> check([], ProbeOptions()).status
    'ok'
    """
    t0 = time.monotonic()
    pull = pull or PullOptions()
    try:
        endpoints = run_jobs([*extra_jobs, *jobs_for(targets, pull.regions)], opts, pull, probe=probe, started=t0)
    except Interrupted as stop:
        raise Interrupted(replace(stop.report, targets=tuple(t.raw for t in targets))) from None
    if annotate is not None:
        endpoints = annotate(endpoints)
    # broken credential files are findings of this machine, reported whatever the network did
    # (the catalogue is read only for a finding: a healthy run never parses it)
    findings = [*(config_findings(pull.config.problems) if pull.config and pull.config.problems else []),
                *diagnose(endpoints)]
    if conclude is not None:
        findings = conclude(endpoints, findings)
    return Report(targets=tuple(t.raw for t in targets), endpoints=tuple(endpoints),
                  findings=tuple(findings_sorted(findings)), elapsed_ms=(time.monotonic() - t0) * 1000)


__all__ = ["Interrupted", "Job", "PullOptions", "check", "jobs_for", "probe_job", "run_jobs"]
