"""Pure: actors + the hosts a pull involves → routes and findings (the classic proxy mistakes).

Strategy
--------
Each actor's effective environment is evaluated with its own library's rules — Go's
``x/net/http/httpproxy`` for every runtime, Go *and* Python for the shell (``proxyconf``) — for
every host: the registry, its token realm when known, and its data endpoints (ACR
``<reg>.<region>.data.azurecr.io`` per ``--region``). The findings compare what differs between
actors (the daemon goes direct where the shell is proxied), between the files and the running
process (restart pending), and between a NO_PROXY as written and as Go reads it (globs ignored,
CIDRs never matching a host name, the data endpoint left out while the registry is listed).
Every finding names the actor and the file and line to change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from regdoctor import kb
from regdoctor.kb.codes import Code
from regdoctor.model import Finding
from regdoctor.proxyconf.rules import ProxyChoice, go_proxy_for, python_proxy_for, redact_url
from regdoctor.runtime.model import Actor, Origin, Route
from regdoctor.target import ACR_SUFFIX, DOCKER_HUB, acr_data_endpoint, acr_name, acr_suffix

_DOCKER_HUB_DATA = "production.cloudflare.docker.com"
_DOCKER_HUB_REALM = "auth.docker.io"


@dataclass(frozen=True)
class Host:
    """One host a pull from a registry involves."""

    host: str
    port: int
    role: str  # registry | realm | data | mirror
    registry: str  # the registry it belongs to
    why: str = ""
    scheme: str = "https"  # http for a plain-HTTP registry: Go then uses HTTP_PROXY, not HTTPS_PROXY


def hosts_for(registry: str, port: int = 443, regions: Sequence[str] = (), scheme: str = "https") -> list[Host]:
    """The hosts a pull from ``registry`` touches, as far as they are known without asking it.

    >>> [h.host for h in hosts_for("myreg.azurecr.io", regions=["westeurope"])]
    ['myreg.azurecr.io', 'myreg.westeurope.data.azurecr.io']
    """
    out = [Host(registry, port, "registry", registry, scheme=scheme)]
    if registry == DOCKER_HUB:
        out += [Host(_DOCKER_HUB_REALM, 443, "realm", registry, "Docker Hub's token service"),
                Host(_DOCKER_HUB_DATA, 443, "data", registry, "Docker Hub's blob CDN")]
    name = acr_name(registry)
    if name is not None:
        # ACR's token realm is the login server itself; blobs come from the regional data endpoints
        suffix = acr_suffix(registry) or ACR_SUFFIX
        out += [Host(acr_data_endpoint(name, r, suffix), 443, "data", registry, f"data endpoint in {r}")
                for r in regions]
    return out


def _redact(url: str | None) -> str | None:
    return None if url is None else redact_url(url)


def _source(actor: Actor, choice: ProxyChoice) -> Origin | None:
    if choice.source is None or choice.source == "loopback":
        return None
    v = actor.value(choice.source)
    return v.origin if v else None


def route(actor: Actor, h: Host, *, python: bool = False) -> Route:
    """How ``actor`` reaches ``h`` (Go's rules, or Python's with ``python``)."""
    env = actor.env()
    choice = (python_proxy_for if python else go_proxy_for)(env, h.host, h.port, scheme=h.scheme)
    return Route(actor=actor.name + (" (Python rules)" if python else ""), host=h.host, port=h.port, role=h.role,
                 proxy=_redact(choice.proxy), reason=choice.reason, source=_source(actor, choice),
                 live=actor.live is not None)


def routes(actors: Sequence[Actor], hosts: Sequence[Host]) -> list[Route]:
    out: list[Route] = []
    for a in actors:
        for h in hosts:
            out.append(route(a, h))
            if a.name == "shell":
                out.append(route(a, h, python=True))
    return out


def _f(code: Code, host: str | None, evidence: dict[str, Any]) -> Finding:
    info = kb.code(code)
    return info.finding(host=host, evidence=evidence, root_cause=info.severity != "info")


def _actor_ev(a: Actor) -> dict[str, Any]:
    return {"actor": a.name, "actor_label": a.label, "edit_file": a.edit_file, "apply": a.apply,
            "pid": a.pid, "set_how": set_how(a)}


def set_how(a: Actor) -> str:
    if a.name == "podman":
        return f"Set the proxy in {a.edit_file}"
    if a.name in ("k3s", "rke2", "microk8s", "aks"):
        return f"Set HTTPS_PROXY and NO_PROXY in {a.edit_file}"
    if a.name == "shell":
        return "export HTTPS_PROXY and NO_PROXY in your shell profile"
    return (f"Write `[Service]` and `Environment=\"HTTPS_PROXY=http://proxy:port\" \"NO_PROXY=…\"` "
            f"in {a.edit_file}")


def _no_proxy_entries(a: Actor) -> tuple[str, Origin | None, list[str]]:
    v = a.value("NO_PROXY") or a.value("no_proxy")
    if v is None or not v.value:
        return "", None, []
    return v.name, v.origin, [e.strip() for e in v.value.split(",") if e.strip()]


def _is_cidr_or_ip(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry.split("]", maxsplit=1)[0].strip("["), strict=False)
    except ValueError:
        return False
    return True


def go_ignores(entry: str) -> bool:
    """A NO_PROXY entry Go can never match: a glob other than ``*`` alone or a leading ``*.``.

    >>> [go_ignores(e) for e in ("*", "*.corp", "10.0.*", "corp.*", ".corp")]
    [False, False, True, True, False]
    """
    if entry == "*":
        return False
    body = entry[2:] if entry.startswith("*.") else entry
    return "*" in body


def value_findings(a: Actor) -> list[Finding]:
    """Mistakes in the values themselves: quotes kept in a value, https:// proxy scheme, globs."""
    out: list[Finding] = []
    env_values = list(a.overrides) + list(a.live if a.live is not None else a.configured)
    seen: set[str] = set()
    for v in env_values:
        if v.name in seen:
            continue
        seen.add(v.name)
        ev = _actor_ev(a) | {"variable": v.name, "where": str(v.origin), "value": redact_url(v.value)}
        if any(q in v.value for q in "\"'"):
            out.append(_f(Code.ENV_VALUE_QUOTED, None, ev))
        if v.name.upper().endswith("_PROXY") and v.name.upper() != "NO_PROXY" and \
                v.value.strip().lower().startswith("https://"):
            out.append(_f(Code.PROXY_URL_HTTPS_SCHEME, None, ev | {"plain": "http://" + redact_url(v.value)[8:]}))
        if v.name.upper() == "NO_PROXY":
            bad = [e.strip() for e in v.value.split(",") if e.strip() and go_ignores(e.strip())]
            if bad:
                out.append(_f(Code.NOPROXY_GLOB_IGNORED, None, ev | {"entries": bad}))
    return out


def host_findings(actors: Sequence[Actor], hosts: Sequence[Host]) -> list[Finding]:
    """Per host: daemon direct while the shell is proxied; CIDRs for names; data endpoint missing."""
    out: list[Finding] = []
    shell = next((a for a in actors if a.name == "shell"), None)
    for h in hosts:
        shell_go = go_proxy_for(shell.env(), h.host, h.port, scheme=h.scheme) if shell else None
        if shell is not None and shell_go is not None:
            out += _shell_rules_differ(shell, h, shell_go)
        for a in actors:
            if a.name != "shell" and a.pulls:
                out += _puller_route_findings(a, h, shell_go)
    # the registry bypassed, its data endpoint or realm not: the classic private-endpoint half-fix
    for a in actors:
        if a.pulls or a.name == "shell":
            out += _half_bypass_findings(a, hosts)
    return out


def _shell_rules_differ(shell: Actor, h: Host, shell_go: ProxyChoice) -> list[Finding]:
    """The shell's variables send Go clients and Python clients different ways to ``h``."""
    py = python_proxy_for(shell.env(), h.host, h.port, scheme=h.scheme)
    if (shell_go.proxy or None) == (py.proxy or None):
        return []
    return [_f(Code.PROXY_RULES_DIFFER, h.host, {
        "go_proxy": _redact(shell_go.proxy) or "direct", "python_proxy": _redact(py.proxy) or "direct",
        "difference": f"Go: {shell_go.reason}; Python: {py.reason}", "actor": "shell"})]


def _puller_route_findings(a: Actor, h: Host, shell_go: ProxyChoice | None) -> list[Finding]:
    """A puller going direct to a registry the shell reaches by proxy; CIDR NO_PROXY entries for a name."""
    out: list[Finding] = []
    choice = go_proxy_for(a.env(), h.host, h.port, scheme=h.scheme)
    ev = _actor_ev(a) | {"role": h.role, "port": h.port, "reason": choice.reason,
                         "live": "running process" if a.live is not None else "configuration files"}
    if choice.direct and choice.source is None and shell_go is not None and not shell_go.direct \
            and h.role in ("registry", "mirror"):
        out.append(_f(Code.RUNTIME_NO_PROXY, h.host, ev | {
            "shell_proxy": _redact(shell_go.proxy), "direct_note": ""}))
    np_name, np_origin, entries = _no_proxy_entries(a)
    if not choice.direct and entries and not _is_cidr_or_ip(h.host.strip("[]")):
        cidrs = [e for e in entries if "/" in e and _is_cidr_or_ip(e)]
        if cidrs:
            out.append(_f(Code.NOPROXY_CIDR_FOR_NAME, h.host, ev | {
                "entries": cidrs, "variable": np_name, "where": str(np_origin), "proxy": _redact(choice.proxy)}))
    return out


def _half_bypass_findings(a: Actor, hosts: Sequence[Host]) -> list[Finding]:
    """Registries ``a`` reaches directly by a NO_PROXY entry while their data endpoint or realm is proxied."""
    out: list[Finding] = []
    env = a.env()
    for reg in (h for h in hosts if h.role == "registry"):
        rc = go_proxy_for(env, reg.host, reg.port, scheme=reg.scheme)
        if not rc.direct or rc.source in (None, "loopback"):
            continue
        for h in hosts:
            if h.registry != reg.host or h.role not in ("data", "realm"):
                continue
            c = go_proxy_for(env, h.host, h.port, scheme=h.scheme)
            if c.direct:
                continue
            np_name, np_origin, _ = _no_proxy_entries(a)
            suggestion = ".data.azurecr.io" if h.host.endswith(".data.azurecr.io") else h.host
            out.append(_f(Code.NOPROXY_DATA_ENDPOINT_MISSING, h.host, _actor_ev(a) | {
                "registry_host": reg.host, "role": h.role, "variable": np_name,
                "where": a.where(np_name) if np_origin else a.edit_file,
                "bypass_reason": rc.reason, "proxy": _redact(c.proxy), "suggested": suggestion}))
    return out


def actor_findings(a: Actor, actors: Sequence[Actor]) -> list[Finding]:
    """Findings about one actor's files and process (independent of the hosts)."""
    out: list[Finding] = []
    for issue in a.issues:
        out.append(_f(issue.code, None, _actor_ev(a) | {"where": str(issue.origin)} | dict(issue.evidence)))
    if a.restart_pending and a.live is not None:
        live = {v.name: v.value for v in a.live}
        conf = {v.name: v.value for v in a.configured}
        diff = [f"{k}: running {redact_url(live[k]) if k in live else '(unset)'}, files "
                f"{redact_url(conf[k]) if k in conf else '(unset)'}"
                for k in sorted(set(live) | set(conf)) if live.get(k) != conf.get(k)]
        out.append(_f(Code.RUNTIME_RESTART_PENDING, None, _actor_ev(a) | {
            "difference": "; ".join(diff), "changed": list(a.changed_since_start) or list(a.files[:3])}))
    elif a.live is not None and a.overrides and any(p.endswith(".json") for p in a.changed_since_start):
        out.append(_f(Code.RUNTIME_RESTART_PENDING, None, _actor_ev(a) | {
            "difference": "daemon.json changed after the daemon started (its proxies are read at start only)",
            "changed": list(a.changed_since_start)}))
    if a.name == "docker-cli" and a.configured:
        daemon = next((x for x in actors if x.name == "dockerd"), None)
        if daemon is not None and not (daemon.env().get("HTTPS_PROXY") or daemon.env().get("https_proxy")):
            out.append(_f(Code.RUNTIME_CLIENT_ONLY_PROXY, None, _actor_ev(a) | {
                "file": a.files[0] if a.files else "~/.docker/config.json", "daemon_file": daemon.edit_file,
                "daemon_apply": daemon.apply}))
    value_issues = value_findings(a)
    out += value_issues
    return out


def mirror_notes(actors: Sequence[Actor], hosts: Sequence[Host]) -> list[Finding]:
    """dockerd's registry-mirrors apply to Docker Hub only: say so when another registry is asked about."""
    out: list[Finding] = []
    for a in actors:
        if a.name != "dockerd" or not a.mirrors:
            continue
        for h in hosts:
            if h.role == "registry" and h.host != DOCKER_HUB:
                out.append(_f(Code.MIRROR_NOT_FOR_REGISTRY, h.host, _actor_ev(a) | {
                    "mirrors": [m.url for m in a.mirrors], "where": str(a.mirrors[0].origin)}))
    return out


def findings(actors: Sequence[Actor], hosts: Iterable[Host]) -> list[Finding]:
    """Every finding of ``regdoctor proxy``."""
    hs = list(hosts)
    out: list[Finding] = []
    for a in actors:
        out += actor_findings(a, actors)
    out += host_findings(actors, hs)
    out += mirror_notes(actors, hs)
    return out


__all__ = ["Host", "actor_findings", "findings", "go_ignores", "host_findings", "hosts_for", "route", "routes",
           "set_how", "value_findings"]
