"""From one round's ``Report`` to the values ``/metrics`` shows (pure).

Strategy
--------
blackbox_exporter splits an HTTP probe into five phases (``probe_http_duration_seconds{phase}``):
resolve (DNS), connect (TCP), tls (handshake), processing (request sent → response head) and
transfer (head → end of body). regdoctor's steps map onto them one to one for each endpoint's
first walk — DNS ``resolve``; TCP ``connect`` (or ``connect proxy``, plus the proxy ``CONNECT``
tunnel: like blackbox, the connection to the proxy is the connection); TLS ``handshake``; the first
HTTP request, split at its ``first_byte_ms``. Phases an endpoint never reached are 0, as in
blackbox. The pull path past ``GET /v2/`` (token, manifest, blob) has no blackbox phase; it is in
``regdoctor_layer_duration_seconds{layer}``, the time per layer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from regdoctor.model import EndpointResult, Finding, Report

PHASES = ("resolve", "connect", "tls", "processing", "transfer")


@dataclass(frozen=True)
class EndpointSample:
    endpoint: str  # host:port
    host: str
    role: str
    success: bool  # no step of this endpoint failed
    duration_s: float  # the endpoint's steps, added up
    dns_s: float
    phases: tuple[tuple[str, float], ...]
    layers: tuple[tuple[str, float], ...]
    status_code: int  # of the endpoint's first HTTP response; 0 when none came back
    cert_expiry: float | None  # Unix time of the earliest notAfter in the chain presented


@dataclass(frozen=True)
class FindingSample:
    code: str
    layer: str
    host: str
    role: str
    severity: str
    root_cause: bool


@dataclass(frozen=True)
class RoundSample:
    result: str  # ok | problems | unknown (regdoctor could not decide)
    duration_s: float
    endpoints: tuple[EndpointSample, ...]
    findings: tuple[FindingSample, ...]


def _iso_to_unix(text: Any) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def earliest_expiry(evidence: Mapping[str, Any]) -> float | None:
    """The earliest ``not_after`` of a TLS step's chain (or of its lone ``not_after``).

    >>> earliest_expiry({"chain": [{"not_after": "2030-01-01T00:00:00+00:00"}, {"not_after": "2029-01-01T00:00:00Z"}]})
    1861920000.0
    """
    chain = evidence.get("chain")
    times = [_iso_to_unix(c.get("not_after")) for c in chain if isinstance(c, dict)] if isinstance(chain, list) else []
    times.append(_iso_to_unix(evidence.get("not_after")))
    known = [t for t in times if t is not None]
    return min(known) if known else None


def endpoint_sample(e: EndpointResult) -> EndpointSample:
    """The blackbox-style values of one endpoint."""
    phases = dict.fromkeys(PHASES, 0.0)
    layers: dict[str, float] = {}
    status_code = 0
    expiry: float | None = None
    seen_http = False
    for s in e.steps:
        secs = s.elapsed_ms / 1000
        if s.status != "skip":  # a layer that never ran has no duration (not 0 s)
            layers[s.layer] = layers.get(s.layer, 0.0) + secs
        if seen_http:
            continue  # the pull path past the first request: layers only
        if s.layer == "dns":
            phases["resolve"] += secs
        elif s.layer == "tcp" or (s.layer == "proxy" and s.name == "CONNECT"):
            phases["connect"] += secs
        elif s.layer == "tls":
            phases["tls"] += secs
            expiry = earliest_expiry(s.evidence) if expiry is None else expiry
        elif s.layer == "http":
            seen_http = s.status != "skip"
            first = s.evidence.get("first_byte_ms")
            head = min(float(first) / 1000, secs) if isinstance(first, int | float) else secs
            phases["processing"] += head
            phases["transfer"] += secs - head
            code = s.evidence.get("status")
            if isinstance(code, int) and not isinstance(code, bool):
                status_code = code
    return EndpointSample(
        endpoint=e.address, host=e.host, role=e.role, success=not e.failed,
        duration_s=sum(layers.values()), dns_s=phases["resolve"], phases=tuple(phases.items()),
        layers=tuple(sorted(layers.items())), status_code=status_code, cert_expiry=expiry,
    )


def _roles(endpoints: Iterable[EndpointResult]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for e in endpoints:
        roles.setdefault(e.host, e.role)
    return roles


def finding_sample(f: Finding, roles: Mapping[str, str]) -> FindingSample:
    return FindingSample(code=f.code, layer=f.layer, host=f.host or "", role=roles.get(f.host or "", ""),
                         severity=f.severity, root_cause=f.root_cause)


def round_result(report: Report) -> str:
    """ok, problems, or unknown when regdoctor itself failed (a ``client`` finding)."""
    if any(f.layer == "client" for f in report.findings):
        return "unknown"
    return report.status


def round_sample(report: Report) -> RoundSample:
    """Everything ``/metrics`` shows about one round.

    >>> round_sample(Report(targets=("r.io",), endpoints=(), findings=())).result
    'ok'
    """
    roles = _roles(report.endpoints)
    # one series per (code, layer, host, role): a finding seen twice in a round is one series
    findings = tuple(dict.fromkeys(finding_sample(f, roles) for f in report.findings))
    # an endpoint probed twice in a round (two blobs redirected to one data host) is one series; the failed
    # walk wins, so a success never hides a failure
    endpoints: dict[tuple[str, str], EndpointSample] = {}
    for e in report.endpoints:
        sample = endpoint_sample(e)
        key = (sample.endpoint, sample.role)
        if key not in endpoints or (endpoints[key].success and not sample.success):
            endpoints[key] = sample
    return RoundSample(result=round_result(report), duration_s=report.elapsed_ms / 1000,
                       endpoints=tuple(endpoints.values()), findings=findings)
