"""Pure: ``check --as ACTOR`` — the probe options, extra endpoints and verdict of one actor's path.

Strategy
--------
The layered probe is the same; only its inputs change (``plan``): the environment that decides
the proxy is the actor's (its running process when readable, else its files, daemon.json
overrides on top), the CA files its certs.d / hosts.toml add for a host, and each mirror it
would try for the registry becomes an endpoint of its own (role ``mirror``), probed through the
whole pull path. After the probe, ``verdict`` names the actor where the actor explains the
failure: a daemon without proxy whose direct connection fails (while the shell has a proxy), a
restart pending, a NO_PROXY that bypasses the registry but not its data endpoint, a mirror that
fails (and whether the fallback saves the pull). The layer findings it explains stay, as
consequences. Without ``--as``, ``path_notes`` says when a running daemon would take another
path than the shell did.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from regdoctor import kb
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Finding, Step
from regdoctor.proxyconf.rules import go_proxy_for, redact_url
from regdoctor.runtime.model import Actor, Mirror, RegistryEntry
from regdoctor.runtime.notes import AS_NAME, path_notes_for, pullers
from regdoctor.runtime.regconf import find_registry
from regdoctor.runtime.rules import actor_findings, set_how
from regdoctor.target import DOCKER_HUB, Target

_NETWORK = ("dns", "proxy", "tcp", "tls", "http")


@dataclass(frozen=True)
class MirrorJob:
    mirror: Mirror
    target: Target


@dataclass(frozen=True)
class Plan:
    actor: Actor
    env: dict[str, str]
    trust: dict[str, tuple[str, ...]]  # host[:port] -> CA files (real paths)
    mirrors: tuple[MirrorJob, ...]
    shell_env: dict[str, str]
    #: each target's name and the registries.conf entry that blocks it (podman, CRI-O)
    blocked: tuple[tuple[Target, RegistryEntry], ...] = ()
    #: host[:port] whose certificate the actor does not verify
    insecure: frozenset[str] = frozenset()


def _matches(m: Mirror, t: Target) -> bool:
    if m.registry == "*":
        return True
    if m.registry in ("docker.io", "index.docker.io", DOCKER_HUB):
        return t.host == DOCKER_HUB
    return m.registry in (t.host_port, t.host)


def mirror_jobs(actor: Actor, targets: Sequence[Target]) -> list[MirrorJob]:
    """Each mirror the actor would try for each target, as a target of its own."""
    out: list[MirrorJob] = []
    for t in targets:
        for m in actor.mirrors:
            if not _matches(m, t) or (m.host, m.port) == (t.host, t.port):
                continue  # a hosts.toml entry for the registry itself is the registry, not a mirror
            default = 443 if m.scheme == "https" else 80
            hp = m.host if m.port == default else f"{m.host}:{m.port}"
            raw = hp + (f"/{t.repository}" if t.repository else "")
            out.append(MirrorJob(m, Target(raw=raw, host=m.host, port=m.port, repository=t.repository, tag=t.tag,
                                           digest=t.digest, scheme=m.scheme)))
    return out


def plan(actor: Actor, targets: Sequence[Target], shell_env: Mapping[str, str],
         host_path: Any = None) -> Plan:
    """What ``check --as`` feeds the probe. ``host_path`` maps a path inside the root to a real
    one (``Source.host_path``), so CA files under ``--root`` are found."""
    trust: dict[str, tuple[str, ...]] = {}
    for t in actor.trust:
        files = tuple(p for p in (host_path(f) if host_path else f for f in t.ca_files) if p)
        if files:
            trust[t.host_port] = trust.get(t.host_port, ()) + files
    blocked = tuple((t, e) for t in targets if (e := find_registry(actor.registries, t.name)) and e.blocked)
    return Plan(actor=actor, env=actor.env(), trust=trust, mirrors=tuple(mirror_jobs(actor, targets)),
                shell_env=dict(shell_env), blocked=blocked, insecure=insecure_hosts(actor, targets))


def insecure_hosts(actor: Actor, targets: Sequence[Target]) -> frozenset[str]:
    """The registries whose certificate ``actor`` does not check: containerd's ``skip_verify``, the
    host of a registries.conf entry with ``insecure = true`` that applies to a target (podman,
    CRI-O), and dockerd's ``insecure-registries`` names (its CIDR entries match addresses, which
    the probe does not know before it resolves: left to the finding's evidence).

    >>> from regdoctor.runtime.model import Origin, Trust
    >>> a = Actor(name="containerd", label="c", applies_to="p", trust=(Trust("r.io:5000", (), Origin("h"), True),))
    >>> sorted(insecure_hosts(a, []))
    ['r.io:5000']
    """
    out = {t.host_port for t in actor.trust if t.skip_verify}
    for t in targets:
        entry = find_registry(actor.registries, t.name)
        if entry is not None and entry.insecure:
            out.add(t.host_port if t.port != 443 else t.host)
    if actor.name == "dockerd":
        out |= {name.split("://")[-1].rstrip("/") for name in actor.insecure if "/" not in name.split("://")[-1]}
    return frozenset(out)


def _first_fail(e: EndpointResult) -> Step | None:
    return next((s for s in e.steps if s.status == "fail"), None)


def _trust_of(p: Plan, e: EndpointResult) -> tuple[str, ...]:
    """The CA files the actor trusts on ``e``: a host the registry sent it to (realm, redirect) is
    reached on the registry's transport, so the registry's (``ProbeOptions.for_hop``)."""
    from regdoctor.probe.options import ProbeOptions

    if e.parent and e.role in ("realm", "data"):
        return tuple(p.trust.get(e.parent, ()))
    return ProbeOptions(trust=p.trust).extra_trust(e.host, e.port)


def _actor_step(p: Plan, e: EndpointResult) -> Step:
    a = p.actor
    choice = go_proxy_for(p.env, e.host, e.port, scheme=e.scheme)
    v = a.value(choice.source) if choice.source and choice.source != "loopback" else None
    src = "its running process" if a.live is not None else "its configuration files"
    summary = f"as {a.name}: {'via ' + redact_url(choice.proxy) if choice.proxy else 'direct'} ({choice.reason}"
    summary += f", {v.origin})" if v else f", from {src})"
    ev: dict[str, Any] = {"actor": a.name, "env_from": src, "pid": a.pid, "proxy": redact_url(choice.proxy)
                          if choice.proxy else None, "reason": choice.reason,
                          "source": str(v.origin) if v else None, "trust": list(_trust_of(p, e))}
    return Step(layer="proxy", name="actor", status="pass", elapsed_ms=0.0, summary=summary, evidence=ev)


def annotate(p: Plan, endpoints: Sequence[EndpointResult]) -> list[EndpointResult]:
    """Each endpoint with a first step saying whose settings were used and where they came from."""
    return [replace(e, steps=(_actor_step(p, e), *e.steps)) for e in endpoints]


def _ev(a: Actor) -> dict[str, Any]:
    return {"actor": a.name, "actor_label": a.label, "edit_file": a.edit_file, "apply": a.apply, "pid": a.pid,
            "live": "running process" if a.live is not None else "configuration files"}


def _demote(findings: list[Finding], host: str, codes: Sequence[str] | None = None) -> list[Finding]:
    return [replace(f, root_cause=False) if f.host == host and (codes is None or f.code in codes) else f
            for f in findings]


def verdict(p: Plan, endpoints: Sequence[EndpointResult], findings: Sequence[Finding]) -> list[Finding]:
    """The findings of a ``check --as`` run with the actor named where it explains the failure."""
    a = p.actor
    out = list(findings)
    added: list[Finding] = []
    registry = next((e for e in endpoints if e.role == "registry"), None)
    for e in endpoints:
        fail = _first_fail(e)
        if fail is None:
            continue
        own = go_proxy_for(p.env, e.host, e.port, scheme=e.scheme)
        shell = go_proxy_for(p.shell_env, e.host, e.port, scheme=e.scheme)
        blocked = {"blocked_layer": fail.layer, "blocked_code": fail.code, "blocked_summary": fail.summary}
        if e.role == "mirror":
            job = next((j for j in p.mirrors if j.mirror.host == e.host and j.mirror.port == e.port), None)
            if job is None:
                continue
            upstream = registry.host if registry is not None else "the registry"
            if job.mirror.fallback and registry is not None and not registry.failed:
                code = Code.MIRROR_FALLBACK
                fallback = f"{a.name} falls back to {upstream}, which works: pulls succeed after the mirror fails"
            elif job.mirror.fallback:
                code = Code.MIRROR_UNREACHABLE
                fallback = f"{a.name} then falls back to {upstream}, which fails too (below), so the pull fails"
            else:
                code, fallback = Code.MIRROR_UNREACHABLE, f"{a.name} has no fallback for it, so the pull fails"
            out = _demote(out, e.host)
            added.append(kb.code(code).finding(host=e.host, evidence=_ev(a) | blocked | {
                "mirror": job.mirror.url, "registry": job.mirror.registry, "where": str(job.mirror.origin),
                "fallback": fallback}, root_cause=True))
            continue
        if fail.layer not in _NETWORK and e.role != "data":
            continue
        if a.restart_pending and a.live is not None:
            conf = {v.name: v.value for v in a.configured}
            would = go_proxy_for(conf, e.host, e.port, scheme=e.scheme)
            if (would.proxy or None) != (own.proxy or None):
                out = _demote(out, e.host)
                added.append(kb.code(Code.RUNTIME_RESTART_PENDING).finding(host=e.host, evidence=_ev(a) | blocked | {
                    "difference": f"running: {redact_url(own.proxy) if own.proxy else 'direct'} ({own.reason}); "
                                  f"after a restart: {redact_url(would.proxy) if would.proxy else 'direct'} "
                                  f"({would.reason})", "changed": list(a.changed_since_start) or list(a.files[:3])},
                    root_cause=True))
                continue
        broken = _proxy_fails(a, e, fail, own.proxy, own.source, own.reason)
        if broken is not None:
            out = _demote(out, e.host, kb.code(Code.RUNTIME_PROXY_FAILS).explains)
            added.append(broken)
            continue
        if own.direct and own.source is None and not shell.direct:
            info = kb.code(Code.RUNTIME_NO_PROXY)
            note = f"; direct egress to {e.host}:{e.port} fails ({fail.code}: {fail.summary})"
            out = _demote(out, e.host)
            added.append(info.finding(host=e.host, evidence=_ev(a) | blocked | {
                "reason": own.reason, "shell_proxy": redact_url(shell.proxy or ""), "direct_note": note,
                "set_how": set_how(a), "port": e.port, "role": e.role}, root_cause=True))
            continue
        if e.role in ("data", "realm") and registry is not None and not own.direct:
            reg = go_proxy_for(p.env, registry.host, registry.port, scheme=registry.scheme)
            if reg.direct and reg.source not in (None, "loopback"):
                np = a.value("NO_PROXY") or a.value("no_proxy")
                suggestion = ".data.azurecr.io" if e.host.endswith(".data.azurecr.io") else e.host
                out = _demote(out, e.host)
                info = kb.code(Code.NOPROXY_DATA_ENDPOINT_MISSING)
                added.append(info.finding(host=e.host, evidence=_ev(a) | blocked | {
                    "registry_host": registry.host, "role": e.role, "variable": np.name if np else "NO_PROXY",
                    "where": a.where(np.name) if np else a.edit_file, "bypass_reason": reg.reason,
                    "proxy": redact_url(own.proxy or ""), "suggested": suggestion}, root_cause=True))
                continue
    added += [_blocked(a, t, entry) for t, entry in p.blocked]
    if a.name != "shell":  # every daemon and podman is a Go program: how Python would read it is not its path
        out = [f for f in out if f.code != Code.PROXY_RULES_DIFFER]
    # the actor's own configuration mistakes (not the restart note when a finding above already says it)
    own_findings = [f for f in actor_findings(a, [a])
                    if not (f.code == Code.RUNTIME_RESTART_PENDING and any(x.code == f.code for x in added))]
    return added + out + own_findings


def _proxy_fails(a: Actor, e: EndpointResult, fail: Step, proxy: str | None, variable: str | None,
                 reason: str) -> Finding | None:
    """The actor's own proxy setting as the root cause: the proxy step failed with a code the
    setting explains (refused, unresolvable, wrong scheme…), on a proxy the actor's settings name.

    Without it the fix of the proxy finding names the shell and docker's drop-in whatever the
    actor is; with it the fix names the file and line the actor reads (podman's containers.conf
    ``[engine] env``, a containerd drop-in…)."""
    info = kb.code(Code.RUNTIME_PROXY_FAILS)
    if fail.code not in info.explains or not proxy or not variable:  # reaching the proxy is a tcp step
        return None
    return info.finding(host=e.host, evidence=_ev(a) | {
        "blocked_layer": fail.layer, "blocked_code": fail.code, "blocked_summary": fail.summary,
        "proxy": redact_url(proxy), "variable": variable, "where": a.where(variable), "reason": reason,
        "apply_note": _apply_note(a)}, root_cause=True)


def _blocked(a: Actor, t: Target, entry: RegistryEntry) -> Finding:
    """registries.conf's ``blocked`` on the entry containers/image picks for the image: the pull
    is refused in the client, so it is the root cause whatever the probe of the network found."""
    return kb.code(Code.RUNTIME_REGISTRY_BLOCKED).finding(host=t.host, evidence=_ev(a) | {
        "name": t.name, "prefix": entry.prefix, "where": str(entry.origin), "apply_note": _apply_note(a)},
        root_cause=True)


def _apply_note(a: Actor) -> str:
    """How a changed file takes effect for ``a``: its command, or its next run for podman."""
    if a.apply and not a.apply.startswith("nothing"):
        return f"`{a.apply}`"
    return "pull again (it reads the file at each start)"


def path_notes(actors: Sequence[Actor], shell_env: Mapping[str, str], endpoints: Sequence[EndpointResult],
               target: str) -> list[Finding]:
    """Without ``--as``: running daemons whose settings would route a probed host differently."""
    return path_notes_for(pullers(actors), shell_env, endpoints, target)


__all__ = ["AS_NAME", "MirrorJob", "Plan", "annotate", "mirror_jobs", "path_notes", "plan", "verdict"]
