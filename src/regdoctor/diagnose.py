"""Pure: observations → findings, root causes first.

Strategy
--------
Every step that carries a code becomes a finding, filled from the catalogue. Per endpoint the
first FAIL is the root cause; every other failure of that endpoint is its consequence
(``consequence_of``). A WARN step earlier on the same endpoint whose catalogue entry
``explains`` that failure (a private-link DNS chain ending in a public address explains the
registry firewall's 403) takes the root-cause place instead. Any other warning is a problem of
its own but the root cause of nothing: it is listed after the failures (in a run where nothing
failed, the warnings are the root causes). Info findings are notes.

An endpoint reached only because of another one — a token realm, a data endpoint, a replica —
names that one as its ``parent``. When the parent itself was reachable, a network failure of
the child is wrapped as the catalogue's role code (``kb/roles.toml``: ``DATA_ENDPOINT_BLOCKED``,
``AUTH_REALM_UNREACHABLE``…), the same rule ``explain`` applies to a pasted text, with the
layer's own finding as its consequence (it carries the layer-specific fix). When the parent
failed too, the wrap would claim "the registry itself is reachable", which is false: the
child's failure then stands on its own, or — the same code as the parent's — follows from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from regdoctor import kb
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Finding, Step, findings_sorted
from regdoctor.target import acr_name

_NETWORK = frozenset({"dns", "proxy", "tcp", "tls", "http"})


def _info(step: Step) -> kb.CodeInfo:
    # only called for steps that carry a code; CLIENT_INTERNAL_ERROR keeps the types total
    return kb.code(step.code or Code.CLIENT_INTERNAL_ERROR)


def _label(code: Code, host: str | None) -> str:
    return f"{code}@{host}" if host else str(code)


def _finding(step: Step, e: EndpointResult, root: bool, consequence_of: str | None) -> Finding:
    info = _info(step)
    # fix texts name the registry (`az acr … --name {registry}`): the ACR name when there is one
    extra = {} if "registry" in step.evidence else {"registry": acr_name(e.host) or "<registry-name>"}
    f = info.finding(host=e.host, evidence=step.evidence, root_cause=root and info.severity != "info", extra=extra)
    return replace(f, consequence_of=None if f.root_cause else consequence_of)


def network_failure(e: EndpointResult) -> Step | None:
    """The first failing step of ``e`` on a network layer (it never reached HTTP), or None."""
    for s in e.steps:
        if s.status == "fail" and s.code is not None and _info(s).layer in _NETWORK:
            return s
    return None


def diagnose_endpoint(e: EndpointResult, parent: EndpointResult | None = None) -> list[Finding]:
    """Findings for one endpoint, its root cause first; ``parent`` is the endpoint that sent
    the check here (``e.parent``), when it was probed in the same run."""
    coded = [s for s in e.steps if s.code is not None]
    if not coded:
        return []
    from regdoctor.kb import roles  # here: a healthy endpoint (nothing coded) never needs the table

    first_fail = next((s for s in coded if s.status == "fail"), None)
    root_step = first_fail
    for s in coded:
        if first_fail is None or s is first_fail:
            break
        if s.status == "warn" and first_fail.code in _info(s).explains:
            root_step = s
            break
    out: list[Finding] = []
    root_label: str | None = _label(root_step.code, e.host) if root_step is not None and root_step.code else None
    wrapper = roles.table().wrap(e.role, first_fail.code, _dialled(first_fail)) \
        if first_fail is not None and first_fail.code else None
    parent_failed = network_failure(parent) if parent is not None else None
    if wrapper is not None and first_fail is not None and root_step is first_fail:
        if parent_failed is None:
            out.append(_wrapped(wrapper, first_fail, e))
            root_step, root_label = None, _label(wrapper, e.host)
        elif parent_failed.code == first_fail.code and parent is not None:
            # the same fault as the registry's own (no network at all, one proxy down): it follows
            root_step, root_label = None, _label(_info(parent_failed).code, parent.host)
    for s in coded:
        info = _info(s)
        if s.status == "pass" and info.severity != "info":
            continue
        if s is root_step:
            out.append(_finding(s, e, True, None))
        elif s.status == "fail":
            out.append(_finding(s, e, False, root_label))
        else:
            # a warning that explains nothing that happened is a problem of its own, not a root cause
            out.append(_finding(s, e, False, None))
    return out


def _dialled(step: Step) -> str | None:
    """The address a failed connect went to (the last one tried), when the step says."""
    address = step.evidence.get("address")
    return address if isinstance(address, str) else None


def _wrapped(wrapper: Code, failure: Step, e: EndpointResult) -> Finding:
    ev: dict[str, Any] = dict(failure.evidence)
    ev.update(blocked_layer=_info(failure).layer, blocked_code=failure.code, blocked_summary=failure.summary,
              port=e.port, registry_host=e.parent or "the registry", fqdn=e.host)
    if e.role == "realm":
        ev.update(realm_host=e.host, realm_port=e.port, realm=ev.get("realm", f"https://{e.display}"))
    return kb.code(wrapper).finding(host=e.host, evidence=ev, root_cause=True)


def diagnose(endpoints: Sequence[EndpointResult], *, interrupted_after: float | None = None) -> list[Finding]:
    """All findings of a run, ordered by ``model.findings_sorted``; ``interrupted_after`` (seconds) adds the
    note that the run was cut short (Ctrl-C).

    >>> diagnose([])
    []
    """
    parents: Mapping[str, EndpointResult] = {e.display: e for e in endpoints if e.parent is None}
    findings: list[Finding] = []
    for e in endpoints:
        findings += diagnose_endpoint(e, parents.get(e.parent) if e.parent else None)
    if not any(s.status == "fail" for e in endpoints for s in e.steps):
        # nothing failed: the warnings are the problems of this run, each its own root cause
        findings = [replace(f, root_cause=True) if f.severity == "warning" else f for f in findings]
    findings = _distinct(findings)
    if interrupted_after is not None:
        findings.append(kb.code(Code.CLIENT_INTERRUPTED).finding(
            host=None, evidence={"elapsed_s": round(interrupted_after, 1)}, root_cause=False))
    return findings_sorted(findings)


def _distinct(findings: list[Finding]) -> list[Finding]:
    """Findings that say the same thing once: two images on one registry walk the same network
    path, so a DNS, proxy or TCP failure there is one fact, not one per image.

    >>> from regdoctor.model import Step, EndpointResult
    >>> e = EndpointResult("r.io", 443, "registry", steps=(Step("tcp", "connect", "fail", 1.0, "x", Code.TCP_REFUSED,
    ...                                                          {"address": "10.0.0.1", "port": 443}),))
    >>> [f.code for f in diagnose([e, e])]
    ['TCP_REFUSED']
    """
    seen: set[tuple[str, str | None, bool, str, str]] = set()
    out = []
    for f in findings:
        key = (f.code, f.host, f.root_cause, f.cause, f.fix)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


__all__ = ["diagnose", "diagnose_endpoint", "network_failure"]
