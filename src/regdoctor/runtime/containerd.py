"""containerd (and its CRI plugin, i.e. the kubelet's pulls): service environment, hosts.toml, certs.d.

Facts (containerd/cri#834, containerd#8377 ``ProxyFromEnvironment``; containerd ``docs/hosts.md``):
the daemon reads its proxy only from its service environment; ``ctr``/``nerdctl`` pull in the
client process with the shell's environment. Registry hosts come from ``config_path`` (CRI
``[plugins."io.containerd.grpc.v1.cri".registry]``, or ``io.containerd.cri.v1.images`` in config
version 3, default ``/etc/containerd/certs.d:/etc/docker/certs.d`` there): ``<dir>/<host[:port]>/
hosts.toml`` lists ``[host."…"]`` mirrors tried in order before ``server`` (the registry itself),
each with ``ca`` / ``skip_verify``; a directory without hosts.toml contributes its ``*.crt`` files
as CAs (Docker compatibility). The deprecated ``registry.mirrors`` / ``registry.configs`` tables
are read too.
"""

from __future__ import annotations

from typing import Any

from regdoctor.kb.codes import Code
from regdoctor.runtime import syntax
from regdoctor.runtime.docker import changed_files, find_process, flag_values, live_values, mirror_from_url
from regdoctor.runtime.model import Actor, Issue, Mirror, Origin, Trust, Value
from regdoctor.runtime.source import Process, Source
from regdoctor.runtime.units import load_unit

CONFIG = "/etc/containerd/config.toml"
_CRI_V2 = "io.containerd.grpc.v1.cri"
_CRI_V3 = "io.containerd.cri.v1.images"


def _table(doc: dict[str, Any], *keys: str) -> dict[str, Any]:
    cur: Any = doc
    for k in keys:
        cur = cur.get(k) if isinstance(cur, dict) else None
    return cur if isinstance(cur, dict) else {}


def registry_settings(doc: dict[str, Any]) -> tuple[list[str], dict[str, Any], dict[str, Any]]:
    """(config_path directories, legacy mirrors table, legacy configs table) of a config.toml."""
    version = doc.get("version", 1)
    reg = _table(doc, "plugins", _CRI_V3, "registry") if version == 3 else _table(doc, "plugins", _CRI_V2, "registry")
    if version == 1 and not reg:
        reg = _table(doc, "plugins", "cri", "registry")
    path = reg.get("config_path")
    if isinstance(path, str) and path:
        dirs = [d for d in path.split(":") if d]
    elif version == 3:
        dirs = ["/etc/containerd/certs.d", "/etc/docker/certs.d"]
    else:
        dirs = []
    return dirs, _table(reg, "mirrors"), _table(reg, "configs")


def hosts_dirs(src: Source, dirs: list[str], issues: list[Issue]) -> tuple[list[Mirror], list[Trust]]:
    """Mirrors and trust from ``<dir>/<host>/hosts.toml`` (or the directory's ``*.crt``)."""
    mirrors: list[Mirror] = []
    trust: list[Trust] = []
    for base in dirs:
        for name in src.listdir(base):
            d = f"{base}/{name}"
            ft = src.read(f"{d}/hosts.toml")
            registry = "*" if name == "_default" else name  # _default applies to every registry
            if ft is None:
                cas = tuple(f"{d}/{f}" for f in src.listdir(d) if f.endswith(".crt"))
                if cas:
                    trust.append(Trust(name, cas, Origin(d)))
                continue
            try:
                doc = syntax.load_toml(ft.text)
            except syntax.ConfigSyntaxError as exc:
                issues.append(Issue(Code.CONFIG_UNREADABLE, Origin(ft.path), {
                    "file": ft.path, "error": str(exc), "effect": "containerd ignores this registry's hosts.toml"}))
                continue
            hosts = doc.get("host")
            if isinstance(hosts, dict):
                for url, raw in hosts.items():
                    cfg = raw if isinstance(raw, dict) else {}
                    caps = cfg.get("capabilities", ["pull", "resolve", "push"])
                    if isinstance(caps, list) and "pull" not in caps and "resolve" not in caps:
                        continue
                    line = next((i for i, t in enumerate(ft.text.splitlines(), 1) if url in t), None)
                    m = mirror_from_url(registry, url, Origin(ft.path, line), insecure=bool(cfg.get("skip_verify")))
                    if m:
                        mirrors.append(m)
                    host_cas = _ca_list(cfg.get("ca"))
                    if host_cas or cfg.get("skip_verify"):
                        trust.append(Trust(f"{m.host}:{m.port}" if m else url, tuple(host_cas), Origin(ft.path, line),
                                           skip_verify=bool(cfg.get("skip_verify"))))
            # top-level ca/skip_verify belong to `server`, the registry itself (probed as the registry)
            server_cas = _ca_list(doc.get("ca"))
            if server_cas or doc.get("skip_verify"):
                trust.append(Trust(name, tuple(server_cas), Origin(ft.path), skip_verify=bool(doc.get("skip_verify"))))
    return mirrors, trust


def _ca_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def containerd(src: Source, processes: list[Process]) -> Actor | None:
    """The system containerd (not dockerd's managed one, not k3s's embedded one)."""
    proc = find_process(processes, "containerd", parent_not=("dockerd", "k3s", "k3s-server", "k3s-agent", "rke2"))
    if proc is not None and "/snap/microk8s/" in (proc.argv[0] if proc.argv else ""):
        proc = None
    unit = load_unit(src, "containerd.service")
    argv = list(proc.argv) if proc else unit.exec_start
    config = (flag_values(argv, "--config", "-c") or [CONFIG])[-1]
    issues = list(unit.issues)
    files = list(unit.files)
    ft = src.read(config)
    doc: dict[str, Any] = {}
    if ft is not None:
        files.append(config)
        try:
            doc = syntax.load_toml(ft.text)
        except syntax.ConfigSyntaxError as exc:
            issues.append(Issue(Code.CONFIG_UNREADABLE, Origin(config), {
                "file": config, "error": str(exc), "effect": "containerd refuses to start with this file"}))
    if proc is None and not unit.found and ft is None:
        return None
    dirs, legacy_mirrors, legacy_configs = registry_settings(doc)
    mirrors, trust = hosts_dirs(src, dirs, issues)
    for reg, entry in legacy_mirrors.items():
        endpoints = entry.get("endpoint") if isinstance(entry, dict) else None
        for url in endpoints if isinstance(endpoints, list) else []:
            if isinstance(url, str):
                m = mirror_from_url(reg, url, Origin(config))
                # the legacy list contains the upstream itself as its last entry, as a rule
                if m and m.host not in (reg, "registry-1.docker.io"):
                    mirrors.append(m)
    for host, entry in legacy_configs.items():
        tls = entry.get("tls") if isinstance(entry, dict) else None
        if isinstance(tls, dict) and (tls.get("ca_file") or tls.get("insecure_skip_verify")):
            trust.append(Trust(host, tuple(_ca_list(tls.get("ca_file"))), Origin(config),
                               skip_verify=bool(tls.get("insecure_skip_verify"))))
    live, note = live_values(proc)
    mtimes = dict(unit.mtimes)
    return Actor(
        name="containerd", label="containerd (CRI: the kubelet's and crictl's pulls)",
        applies_to="pulls made by the daemon (CRI/kubelet, crictl); ctr and nerdctl pull with the shell's environment",
        configured=unit.proxy_values(), live=live, pid=proc.pid if proc else None,
        started=proc.started if proc else None, live_note=note, mirrors=tuple(mirrors), trust=tuple(trust),
        issues=tuple(issues), files=tuple(files) + tuple(dirs),
        edit_file="/etc/systemd/system/containerd.service.d/http-proxy.conf",
        apply="systemctl daemon-reload && systemctl restart containerd",
        changed_since_start=changed_files(mtimes, proc.started if proc else None))


def values_from(env: dict[str, Value], names: tuple[str, ...]) -> tuple[Value, ...]:
    return tuple(v for k, v in env.items() if k in names)


__all__ = ["CONFIG", "containerd", "hosts_dirs", "registry_settings", "values_from"]
