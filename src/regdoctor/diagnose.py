"""Pure: observations → findings, root causes first.

Strategy
--------
Every step that carries a code becomes a finding, filled from the catalogue. Per endpoint the
first FAIL is the root cause; everything failing after it is a consequence. A WARN step earlier
on the same endpoint whose catalogue entry ``explains`` that failure (e.g. a private-link DNS
chain that ends in a public address explains the registry firewall's 403) takes the root-cause
place and the failure becomes its consequence. Info findings are never root causes.

An endpoint reached only because of another one (a token realm, a data endpoint) is wrapped:
its failure is reported as ``AUTH_REALM_UNREACHABLE`` / ``DATA_ENDPOINT_BLOCKED`` naming the
layer that broke, with the layer's own finding kept as its consequence (it carries the
layer-specific fix).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from regdoctor import kb
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Finding, Step, findings_sorted
from regdoctor.target import acr_name

_WRAP = {"data": Code.DATA_ENDPOINT_BLOCKED, "realm": Code.AUTH_REALM_UNREACHABLE}
_NETWORK = {"dns", "proxy", "tcp", "tls", "http"}


def _finding(step: Step, host: str, root: bool) -> Finding:
    info = kb.code(step.code or Code.CLIENT_INTERNAL_ERROR)
    # fix texts name the registry (`az acr … --name {registry}`): the ACR name when there is one
    extra = {} if "registry" in step.evidence else {"registry": acr_name(host) or "<registry-name>"}
    return info.finding(host=host, evidence=step.evidence, root_cause=root and info.severity != "info", extra=extra)


def _info(step: Step) -> kb.CodeInfo:
    # only called for steps that carry a code; CLIENT_INTERNAL_ERROR keeps the types total
    return kb.code(step.code or Code.CLIENT_INTERNAL_ERROR)


def diagnose_endpoint(e: EndpointResult, parent_host: str | None = None) -> list[Finding]:
    """Findings for one endpoint, root cause first."""
    coded = [s for s in e.steps if s.code is not None]
    if not coded:
        return []
    first_fail = next((s for s in coded if s.status == "fail"), None)
    root_step = first_fail
    if first_fail is not None:
        for s in coded:
            if s is first_fail:
                break
            if s.status == "warn" and first_fail.code in _info(s).explains:
                root_step = s
                break
    out: list[Finding] = []
    # wrap only network-layer failures: a realm's 401 or a data host's 403 already name the cause
    wrapper = _WRAP.get(e.role) if first_fail is not None and _info(first_fail).layer in _NETWORK \
        else None
    if wrapper is not None and first_fail is not None:
        ev: dict[str, Any] = dict(first_fail.evidence)
        ev.update(blocked_layer=_info(first_fail).layer, blocked_code=first_fail.code,
                  blocked_summary=first_fail.summary, port=e.port, registry_host=parent_host or "the registry",
                  fqdn=e.host)
        if e.role == "realm":
            ev.update(realm_host=e.host, realm_port=e.port, realm=ev.get("realm", f"https://{e.host}"))
        out.append(kb.code(wrapper).finding(host=e.host, evidence=ev, root_cause=True))
        root_step = None  # the wrapper is the root; the layer finding below is its consequence
    for s in coded:
        if s.code is None:
            continue
        info = kb.code(s.code)
        if s.status == "pass" and info.severity != "info":
            continue
        if s is root_step:
            is_root = True
        elif s.status == "warn":
            # a warning that does not explain the failure is still a problem of its own
            is_root = wrapper is None and (first_fail is None or first_fail.code not in info.explains)
        else:
            is_root = False
        out.append(_finding(s, e.host, is_root))
    return out


def diagnose(endpoints: Sequence[EndpointResult]) -> list[Finding]:
    """All findings of a run, root causes first (stable within each group).

    >>> diagnose([])
    []
    """
    registry_host = next((e.host for e in endpoints if e.role == "registry"), None)
    findings: list[Finding] = []
    for e in endpoints:
        findings += diagnose_endpoint(e, parent_host=registry_host)
    return findings_sorted(findings)


__all__ = ["diagnose", "diagnose_endpoint"]
