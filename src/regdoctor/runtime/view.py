"""Pure: the JSON view of an audit (actors, their values with sources, routes), secrets redacted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from regdoctor.proxyconf.rules import redact_url
from regdoctor.runtime.model import Actor, Route, Value
from regdoctor.runtime.rules import Host


def _value(v: Value) -> dict[str, Any]:
    return {"name": v.name, "value": redact_url(v.value), "source": str(v.origin), "notes": list(v.notes)}


def route_dict(r: Route) -> dict[str, Any]:
    return {"actor": r.actor, "host": r.host, "port": r.port, "role": r.role, "proxy": r.proxy or "direct",
            "reason": r.reason, "source": str(r.source) if r.source else None,
            "decided_from": "running process" if r.live else "configuration files"}


def actor_dict(a: Actor, routes: Sequence[Route]) -> dict[str, Any]:
    """One actor as ``proxy --json`` shows it.

    >>> from regdoctor.runtime.kube import shell
    >>> actor_dict(shell({"HTTPS_PROXY": "http://u:pw@p:3128"}), [])["configured"][0]["value"]
    'http://u:***@p:3128'
    """
    return {
        "actor": a.name, "label": a.label, "applies_to": a.applies_to, "pid": a.pid,
        "running": a.live is not None, "live_note": a.live_note,
        "configured": [_value(v) for v in a.configured],
        "live": None if a.live is None else [_value(v) for v in a.live],
        "overrides": [_value(v) for v in a.overrides],
        "restart_pending": a.restart_pending,
        "mirrors": [{"registry": m.registry, "url": m.url, "host": m.host, "port": m.port, "insecure": m.insecure,
                     "source": str(m.origin)} for m in a.mirrors],
        "trust": [{"host": t.host_port, "ca_files": list(t.ca_files), "skip_verify": t.skip_verify,
                   "source": str(t.origin)} for t in a.trust],
        "insecure_registries": list(a.insecure), "blocked_registries": list(a.blocked),
        "files": list(a.files), "edit_file": a.edit_file, "apply": a.apply,
        "routes": [route_dict(r) for r in routes if r.actor.split(" ")[0] == a.name],
    }


def host_dict(h: Host) -> dict[str, Any]:
    return {"host": h.host, "port": h.port, "role": h.role, "registry": h.registry, "why": h.why}


__all__ = ["actor_dict", "host_dict", "route_dict"]
