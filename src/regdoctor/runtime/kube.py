"""Kubernetes node runtimes: k3s, rke2, microk8s, the kubelet, and AKS ``httpProxyConfig``.

Facts (k3s-io/docs "Configuring an HTTP proxy", docs.rke2.io, canonical/microk8s
``default-args/containerd-env``, MicrosoftDocs/azure-aks-docs ``http-proxy.md``, Azure/AKS#205):

- k3s: ``/etc/systemd/system/k3s.service.env`` (agents: ``k3s-agent.service.env``); unprefixed
  variables reach k3s, the kubelet and the embedded containerd, ``CONTAINERD_HTTP_PROXY`` /
  ``CONTAINERD_HTTPS_PROXY`` / ``CONTAINERD_NO_PROXY`` only containerd (and win there); k3s adds the
  cluster and service CIDRs and the cluster domain to NO_PROXY by itself.
- rke2: ``/etc/default/rke2-server`` / ``rke2-agent`` (unit: ``EnvironmentFile=-/etc/default/%N``,
  also ``/etc/sysconfig/%N``), same ``CONTAINERD_`` prefix and additions.
- microk8s: ``/var/snap/microk8s/current/args/containerd-env``; applied with
  ``microk8s stop; microk8s start``.
- AKS: ``httpProxy``, ``httpsProxy`` (falls back to ``httpProxy``), ``noProxy[]``, ``trustedCa``;
  the read-only ``effectiveNoProxy`` is what applies; a ``*.`` wildcard on a domain suffix is not
  supported; ``--http-proxy-config`` wants the inner object (wrapping it in ``httpProxyConfig``
  fails with "HTTPProxy and HTTPSProxy both cannot be empty.").
"""

from __future__ import annotations

from typing import Any

from regdoctor.kb.codes import Code
from regdoctor.runtime import syntax
from regdoctor.runtime.docker import changed_files, find_process, flag_values, live_values
from regdoctor.runtime.model import PROXY_VARS, Actor, Issue, Origin, Value
from regdoctor.runtime.source import Process, Source
from regdoctor.runtime.units import env_file, load_unit

K3S_DEFAULT_NO_PROXY = ("10.42.0.0/16", "10.43.0.0/16", ".svc", ".cluster.local")


def _containerd_view(values: dict[str, Value], auto: tuple[str, ...], auto_origin: Origin) -> tuple[Value, ...]:
    """The embedded containerd's variables: CONTAINERD_* win over the unprefixed ones; k3s/rke2 add
    their cluster ranges to NO_PROXY (only when a proxy is set at all)."""
    out: dict[str, Value] = {k: v for k, v in values.items() if k in PROXY_VARS}
    for k, v in values.items():
        if k.startswith("CONTAINERD_") and k[len("CONTAINERD_"):] in PROXY_VARS:
            name = k[len("CONTAINERD_"):]
            out[name] = Value(name, v.value, v.origin, (f"from {k}",))
    if any(k.upper() in ("HTTPS_PROXY", "HTTP_PROXY") for k in out):
        base = out.get("NO_PROXY")
        text = base.value if base else ""
        extra = ",".join(a for a in auto if a not in text.split(","))
        merged = ",".join(p for p in (text, extra) if p)
        out["NO_PROXY"] = Value("NO_PROXY", merged, base.origin if base else auto_origin,
                                (base.notes if base else ()) + ((f"cluster ranges added automatically: {extra}",)
                                                                if extra else ()))
    return tuple(out.values())


def k3s_like(src: Source, processes: list[Process], kind: str) -> Actor | None:
    """k3s or rke2 (server or agent), as seen by its embedded containerd."""
    names = ("k3s.service", "k3s-agent.service") if kind == "k3s" else ("rke2-server.service", "rke2-agent.service")
    proc = find_process(processes, kind)
    child = None
    if proc is not None:
        child = next((p for p in processes if p.ppid == proc.pid and p.name == "containerd"), None)
    for unit_name in names:
        unit = load_unit(src, unit_name)
        values = dict(unit.env)
        files = list(unit.files)
        issues = list(unit.issues)
        mtimes = dict(unit.mtimes)
        if not unit.fragment:
            # the env files the packaged units read, when the unit itself is not in this root
            base = unit_name.removesuffix(".service")
            candidates = ([f"/etc/systemd/system/{unit_name}.env"] if kind == "k3s" else
                          [f"/etc/default/{base}", f"/etc/sysconfig/{base}", f"/usr/lib/systemd/system/{base}.env"])
            for path in candidates:
                env, extra, mtime = env_file(src, path)
                if mtime is not None:
                    values.update(env)
                    files.append(path)
                    issues += extra
                    mtimes[path] = mtime
        if not files and proc is None:
            continue
        auto = K3S_DEFAULT_NO_PROXY if kind == "k3s" else ("10.42.0.0/16", "10.43.0.0/16", ".svc", ".cluster.local")
        configured = _containerd_view(values, auto, Origin(f"{kind} (added automatically)"))
        live_proc = child or proc
        live, note = live_values(live_proc)
        if live is not None and child is None and proc is not None and proc.environ is not None:
            live = _containerd_view({k: Value(k, v, Origin(f"/proc/{proc.pid}/environ"))
                                     for k, v in proc.environ.items()}, auto, Origin(f"{kind} (added automatically)"))
        env_path = f"/etc/systemd/system/{unit_name}.env" if kind == "k3s" else \
            f"/etc/default/{unit_name.removesuffix('.service')}"
        return Actor(
            name=kind, label=f"{kind} embedded containerd ({unit_name})",
            applies_to="the node's image pulls (the embedded containerd); CONTAINERD_* variables apply only there",
            configured=configured, live=live, pid=live_proc.pid if live_proc else None,
            started=live_proc.started if live_proc else None, live_note=note, issues=tuple(issues),
            files=tuple(files), edit_file=env_path, apply=f"systemctl restart {unit_name}",
            changed_since_start=changed_files(mtimes, live_proc.started if live_proc else None))
    return None


def microk8s(src: Source, processes: list[Process]) -> Actor | None:
    path = "/var/snap/microk8s/current/args/containerd-env"
    env, issues, mtime = env_file(src, path)
    proc = next((p for p in processes if p.name == "containerd" and p.argv and "/snap/microk8s/" in p.argv[0]), None)
    if mtime is None and proc is None:
        return None
    live, note = live_values(proc)
    return Actor(
        name="microk8s", label="microk8s containerd", applies_to="the node's image pulls",
        configured=tuple(v for k, v in env.items() if k in PROXY_VARS), live=live,
        pid=proc.pid if proc else None, started=proc.started if proc else None, live_note=note,
        issues=tuple(issues), files=(path,) if mtime is not None else (), edit_file=path,
        apply="microk8s stop && microk8s start",
        changed_since_start=changed_files({path: mtime} if mtime else {}, proc.started if proc else None))


def kubelet(src: Source, processes: list[Process]) -> Actor | None:
    """The kubelet: its environment reaches credential providers, not image pulls (the runtime pulls)."""
    proc = find_process(processes, "kubelet")
    unit = load_unit(src, "kubelet.service")
    if proc is None and not unit.found:
        return None
    live, note = live_values(proc)
    argv = list(proc.argv) if proc else unit.exec_start
    endpoint = (flag_values(argv, "--container-runtime-endpoint") or ["unix:///run/containerd/containerd.sock"])[-1]
    return Actor(
        name="kubelet", label=f"kubelet (pulls are made by the runtime at {endpoint})",
        applies_to="image credential providers and API traffic; image pulls are made by the CRI runtime",
        configured=unit.proxy_values(), live=live, pid=proc.pid if proc else None,
        started=proc.started if proc else None, live_note=note, issues=tuple(unit.issues), files=tuple(unit.files),
        edit_file="/etc/systemd/system/kubelet.service.d/http-proxy.conf",
        apply="systemctl daemon-reload && systemctl restart kubelet", pulls=False,
        changed_since_start=changed_files(unit.mtimes, proc.started if proc else None))


def runtime_of_kubelet(actor: Actor | None) -> str:
    """Which actor makes the kubelet's pulls (from its ``--container-runtime-endpoint``)."""
    if actor is not None and "crio" in actor.label:
        return "crio"
    return "containerd"


def aks(text: str, path: str) -> Actor:
    """An AKS ``httpProxyConfig`` (the inner object, the wrapped one, or a whole ``az aks show``)."""
    issues: list[Issue] = []
    try:
        doc: Any = syntax.load_json(text)
    except syntax.ConfigSyntaxError as exc:
        doc = {}
        issues.append(Issue(Code.CONFIG_UNREADABLE, Origin(path), {"file": path, "error": str(exc),
                                                                 "effect": "az aks rejects the file"}))
    if isinstance(doc, dict) and isinstance(doc.get("properties"), dict) and "httpProxyConfig" in doc["properties"]:
        doc = doc["properties"]
    if isinstance(doc, dict) and isinstance(doc.get("httpProxyConfig"), dict):
        if set(doc) == {"httpProxyConfig"}:
            issues.append(Issue(Code.AKS_PROXY_CONFIG_WRAPPED, Origin(path, 1), {"file": path}))
        doc = doc["httpProxyConfig"]
    cfg: dict[str, Any] = doc if isinstance(doc, dict) else {}
    values: list[Value] = []
    http = cfg.get("httpProxy")
    https = cfg.get("httpsProxy") or http
    if isinstance(https, str) and https:
        key = "httpsProxy" if cfg.get("httpsProxy") else "httpProxy"
        values.append(Value("HTTPS_PROXY", https, Origin(path, syntax.json_line(text, key)),
                            () if key == "httpsProxy" else ("httpsProxy empty: httpProxy is used",)))
    if isinstance(http, str) and http:
        values.append(Value("HTTP_PROXY", http, Origin(path, syntax.json_line(text, "httpProxy"))))
    key = "effectiveNoProxy" if isinstance(cfg.get("effectiveNoProxy"), list) else "noProxy"
    entries = [str(e) for e in cfg.get(key) or [] if isinstance(e, str | int)]
    if entries:
        values.append(Value("NO_PROXY", ",".join(entries), Origin(path, syntax.json_line(text, key)),
                            ("effectiveNoProxy (what applies)",) if key == "effectiveNoProxy" else ()))
    for e in cfg.get("noProxy") or []:
        if isinstance(e, str) and "*" in e:
            issues.append(Issue(Code.AKS_NOPROXY_WILDCARD, Origin(path, syntax.json_line(text, e)), {
                "file": path, "entry": e, "suggested": e.lstrip("*").lstrip(".") or e}))
    return Actor(
        name="aks", label="AKS cluster httpProxyConfig (every node and pod)",
        applies_to="node components (containerd, kubelet) and pods, after a node image reimage",
        configured=tuple(values), issues=tuple(issues), files=(path,), edit_file=path,
        apply="az aks update -g <rg> -n <cluster> --http-proxy-config " + path + " (reimages every node pool)")


def shell(env: dict[str, str]) -> Actor:
    """This shell: the values ctr, nerdctl, skopeo, curl and the az CLI use."""
    origin = Origin("environment of this shell")
    return Actor(name="shell", label="this shell (ctr, nerdctl, skopeo, crane; az CLI with Python's rules)",
                 applies_to="programs started from this shell",
                 configured=tuple(Value(k, v, origin) for k, v in env.items() if k in PROXY_VARS),
                 edit_file="your shell profile (export HTTPS_PROXY=… NO_PROXY=…)", apply="a new shell")


__all__ = ["aks", "k3s_like", "kubelet", "microk8s", "runtime_of_kubelet", "shell"]
