"""Fan-out: every endpoint of every target, in parallel, each layer under its own deadline.

Strategy
--------
Endpoints are independent, so each runs in its own thread; a blackholed one costs its
deadline once and does not delay the others. The whole run is also bounded: if an endpoint
has not finished by ``overall`` seconds (which should not happen, since every layer has a
deadline) it is reported as a regdoctor failure, never waited for.

A crash inside one endpoint's probe becomes a ``CLIENT_INTERNAL_ERROR`` step on that endpoint
(the one place where a catch-all is allowed, DESIGN.md), so the others still report.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace

from regdoctor.classify import Verdict, classify_v2
from regdoctor.credentials import Credential, find_credential
from regdoctor.diagnose import diagnose
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Report, Role, Step
from regdoctor.net.http import HttpResponse
from regdoctor.probe.endpoint import ProbeOptions, probe_endpoint
from regdoctor.probe.registry import Flow, run_pull_path
from regdoctor.target import Target, acr_data_endpoint, acr_name


@dataclass(frozen=True)
class Job:
    """One endpoint to probe, and what asked for it; a registry job also walks its pull path."""

    host: str
    port: int
    role: Role
    origin: str = ""
    target: Target | None = None


@dataclass(frozen=True)
class PullOptions:
    """What the registry flow needs beyond the network options."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    platform: str = "linux/amd64"
    regions: tuple[str, ...] = ()


def jobs_for(targets: Sequence[Target], regions: Sequence[str] = ()) -> list[Job]:
    """The endpoints a set of targets involves (deduplicated, in order): each registry, and for
    ACR registries each ``--region`` replica's dedicated data endpoint."""
    seen: set[tuple[str, int]] = set()
    out: list[Job] = []
    for t in targets:
        key = (t.host, t.port, t.repository, t.reference)
        if key[:2] not in seen or t.repository:
            seen.add((t.host, t.port))
            shown = t.raw if t.normalized == t.raw else f"{t.raw} = {t.normalized}"  # as docker reads it
            out.append(Job(t.host, t.port, "registry", origin=f"REF {shown}", target=t))
    for t in targets:
        name = acr_name(t.host)
        for region in regions:
            if name is None:
                continue
            host = acr_data_endpoint(name, region)
            if (host, 443) not in seen:
                seen.add((host, 443))
                out.append(Job(host, 443, "data", origin=f"--region {region} data endpoint of {t.host}"))
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
        result, _, _ = probe_endpoint(job.host, job.port, job.role, opts, origin=job.origin, http_check=_reachable)
        return [result]
    t = job.target
    result, route, v2 = probe_endpoint(job.host, job.port, job.role, opts, origin=job.origin)
    if route is None or v2 is None:
        return [result]
    flow = Flow(host=t.host, port=t.port, steps=list(result.steps), display=t.host_port)

    def lookup() -> Credential | None:
        # Docker keys credentials by host[:port] exactly as the user wrote the registry
        return find_credential(t.host_port, opts.env, username=pull.username, password=pull.password)

    run_pull_path(flow, route, v2, opts, repository=t.repository, reference=t.reference, platform=pull.platform,
                  credential_lookup=lookup, registry_name=t.acr_name)
    return [replace(result, steps=tuple(flow.steps)), *flow.extra]


def _crash_result(job: Job, exc: BaseException) -> EndpointResult:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f"{tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno}" if tb else "?"
    return EndpointResult(host=job.host, port=job.port, role=job.role, origin=job.origin, steps=(
        Step(layer="client", name="probe", status="fail", elapsed_ms=0.0,
             summary=f"regdoctor crashed: {type(exc).__name__}: {exc}", code=Code.CLIENT_INTERNAL_ERROR,
             evidence={"check": f"probe {job.host}:{job.port}", "error_type": type(exc).__name__,
                       "error": str(exc), "where": where}),))


def run_jobs(jobs: Sequence[Job], opts: ProbeOptions, pull: PullOptions | None = None,
             probe: Callable[[Job, ProbeOptions, PullOptions], list[EndpointResult]] | None = None,
             ) -> list[EndpointResult]:
    """Probe every job concurrently; results in job order."""
    if not jobs:
        return []
    fn = probe or probe_job
    pull = pull or PullOptions()
    # every step has its own deadline; this only guards against a bug holding a thread forever
    overall = opts.timeout * 20 + 5.0
    pool = ThreadPoolExecutor(max_workers=min(16, len(jobs)), thread_name_prefix="probe")
    futures = [pool.submit(fn, j, opts, pull) for j in jobs]
    wait(futures, timeout=overall)
    results: list[EndpointResult] = []
    for job, fut in zip(jobs, futures, strict=True):
        if not fut.done():
            results.append(_crash_result(job, TimeoutError(f"probe did not finish within {overall:.0f} s")))
            continue
        exc = fut.exception()
        if exc is not None:
            results.append(_crash_result(job, exc))
        else:
            results += fut.result()
    pool.shutdown(wait=False, cancel_futures=True)
    return results


def check(targets: Sequence[Target], opts: ProbeOptions, pull: PullOptions | None = None) -> Report:
    """Probe every endpoint the targets involve and diagnose the result.

    >>> check([], ProbeOptions()).status
    'ok'
    """
    t0 = time.monotonic()
    pull = pull or PullOptions()
    endpoints = run_jobs(jobs_for(targets, pull.regions), opts, pull)
    return Report(targets=tuple(t.raw for t in targets), endpoints=tuple(endpoints),
                  findings=tuple(diagnose(endpoints)), elapsed_ms=(time.monotonic() - t0) * 1000)


__all__ = ["Job", "PullOptions", "check", "jobs_for", "probe_job", "run_jobs"]
