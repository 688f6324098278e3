"""The containers/image family: podman (+ buildah, skopeo) and CRI-O — proxies, registries.conf, certs.d.

Facts (containers/common ``docs/containers.conf.5.md``, containers/image
``docs/containers-registries.conf.5.md`` and ``containers-certs.d.5.md``, Red Hat CRI-O docs):

- podman/buildah/skopeo pull in their own process: the invoking shell's proxy variables, plus
  ``containers.conf`` ``[engine] env = ["https_proxy=…"]``, which podman sets in its own
  environment. containers.conf is read from ``/usr/share/containers``, then ``/etc/containers``,
  then ``$HOME/.config/containers`` (each with ``containers.conf.d/*.conf`` drop-ins, plus
  ``containers.rootful.conf.d`` for root), later files overriding earlier ones;
  ``CONTAINERS_CONF`` replaces the lookup.
- CRI-O reads its service environment (``/etc/sysconfig/crio``, ``/etc/default/crio``,
  ``crio.service.d`` drop-ins; the ``[Service]`` header is mandatory).
- registries.conf (``/etc/containers/registries.conf`` + ``registries.conf.d/*.conf``;
  ``CONTAINERS_REGISTRIES_CONF`` overrides; rootless ``~/.config/containers/registries.conf``
  replaces the system file): ``[[registry]]`` ``prefix``/``location``, ``blocked``, ``insecure``,
  ``[[registry.mirror]]`` tried in order before the location; the v1 tables
  ``[registries.insecure]``/``[registries.block]`` too.
- CA trust: ``/etc/containers/certs.d/<host[:port]>/*.crt``, then ``/etc/docker/certs.d``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from regdoctor.kb.codes import Code
from regdoctor.runtime import syntax
from regdoctor.runtime.docker import (
    CERTS_D,
    certs_dir_trust,
    changed_files,
    find_process,
    live_values,
    mirror_from_url,
)
from regdoctor.runtime.model import PROXY_VARS, Actor, Issue, Mirror, Origin, RegistryEntry, Trust, Value
from regdoctor.runtime.source import Process, Source
from regdoctor.runtime.units import env_file, load_unit

REGISTRIES_CONF = "/etc/containers/registries.conf"
REGISTRIES_CONF_D = "/etc/containers/registries.conf.d"
CONTAINERS_CERTS_D = "/etc/containers/certs.d"


@dataclass
class Registries:
    mirrors: list[Mirror] = field(default_factory=list)
    insecure: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    entries: list[RegistryEntry] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def _registry_host(location: str) -> str:
    return location.split("/", 1)[0]


def registries_conf_files(src: Source, env: Mapping[str, str], home: str = "/root") -> list[str]:
    """The registries.conf files containers/image reads, in order (later entries for a prefix win).

    ``CONTAINERS_REGISTRIES_CONF`` names the only file; otherwise a rootless user's own file replaces
    the system one, and ``registries.conf.d/*.conf`` follow either.

    >>> registries_conf_files(Source("/nonexistent"), {"CONTAINERS_REGISTRIES_CONF": "/srv/regs.conf"})
    ['/srv/regs.conf']
    >>> registries_conf_files(Source("/nonexistent"), {}, home="/home/u")
    ['/etc/containers/registries.conf']
    """
    if "CONTAINERS_REGISTRIES_CONF" in env:
        return [env.get("CONTAINERS_REGISTRIES_CONF") or REGISTRIES_CONF]
    user = f"{home}/.config/containers/registries.conf"
    paths = [user] if home != "/root" and src.read(user) is not None else [REGISTRIES_CONF]
    return paths + [f"{REGISTRIES_CONF_D}/{n}" for n in src.listdir(REGISTRIES_CONF_D) if n.endswith(".conf")]


def registries_conf(src: Source, env: dict[str, str], home: str = "/root") -> Registries:
    """Mirrors, insecure and blocked registries from registries.conf and its drop-ins."""
    out = Registries()
    entries: dict[str, tuple[dict[str, Any], str, str]] = {}
    for path in registries_conf_files(src, env, home):
        read = _registries_doc(src, path, out)
        if read is None:
            continue
        doc, text = read
        for prefix, reg in _v2_entries(doc):
            entries[prefix] = (reg, path, text)  # a later file's entry for the same prefix replaces it
        _add_v1_tables(doc, path, text, out)
    for prefix, (reg, path, text) in entries.items():
        _add_registry_entry(prefix, reg, path, text, out)
    return out


def _line_of(text: str, needle: str) -> int | None:
    """The first line of ``text`` holding ``needle`` quoted (where a TOML value names it)."""
    return next((i for i, t in enumerate(text.splitlines(), 1) if f'"{needle}"' in t or f"'{needle}'" in t), None)


def _registries_doc(src: Source, path: str, out: Registries) -> tuple[dict[str, Any], str] | None:
    """The parsed file and its text, read once (None when missing, or unreadable: then an issue,
    as the pullers refuse it)."""
    ft = src.read(path)
    if ft is None:
        return None
    out.files.append(path)
    try:
        return syntax.load_toml(ft.text), ft.text
    except syntax.ConfigSyntaxError as exc:
        out.issues.append(Issue(Code.CONFIG_UNREADABLE, Origin(path), {
            "file": path, "error": str(exc), "effect": "podman, buildah, skopeo and CRI-O refuse to pull"}))
        return None


def _v2_entries(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The ``[[registry]]`` tables with the prefix each applies to (``location`` when no ``prefix``)."""
    regs = doc.get("registry")
    out = []
    for reg in regs if isinstance(regs, list) else []:
        if isinstance(reg, dict):
            prefix = str(reg.get("prefix") or reg.get("location") or "")
            if prefix:
                out.append((prefix, reg))
    return out


def _add_v1_tables(doc: dict[str, Any], path: str, text: str, out: Registries) -> None:
    """The v1 format's ``[registries.insecure]`` and ``[registries.block]`` lists (containers/image
    ``ConvertToV2``: one entry per name, prefix = location = the name without a trailing ``/``)."""
    v1 = doc.get("registries")
    if not isinstance(v1, dict):
        return
    flags: dict[str, dict[str, bool]] = {}
    for kind, target in (("insecure", out.insecure), ("block", out.blocked)):
        table = v1.get(kind)
        names = table.get("registries") if isinstance(table, dict) else None
        found = [str(n) for n in names or [] if isinstance(n, str)]
        target.extend(found)
        for n in found:
            flags.setdefault(n.rstrip("/"), {})["blocked" if kind == "block" else "insecure"] = True
    out.entries += [RegistryEntry(name, name, Origin(path, _line_of(text, name)), **f)
                    for name, f in flags.items()]


def _add_registry_entry(prefix: str, reg: dict[str, Any], path: str, text: str, out: Registries) -> None:
    """One ``[[registry]]``: insecure, blocked, its mirrors, and a location that redirects the prefix."""
    registry = _registry_host(prefix)
    location = str(reg.get("location") or prefix)
    if reg.get("insecure"):
        out.insecure.append(registry)
    if reg.get("blocked"):
        out.blocked.append(registry)
    origin = Origin(path, _line_of(text, prefix))
    out.entries.append(RegistryEntry(prefix.rstrip("/"), location.rstrip("/"), origin,
                                     blocked=bool(reg.get("blocked")), insecure=bool(reg.get("insecure"))))
    out.mirrors += _entry_mirrors(registry, reg, path, text)
    if _registry_host(location) != registry:
        # a location other than the prefix redirects every pull: treat it as a mirror without fallback
        mm = mirror_from_url(registry, _registry_host(location), Origin(path), fallback=False)
        if mm:
            out.mirrors.append(mm)


def _entry_mirrors(registry: str, reg: dict[str, Any], path: str, text: str) -> list[Mirror]:
    """The ``[[registry.mirror]]`` tables with a ``location``, in the order they are tried."""
    out = []
    for m in reg.get("mirror") or []:
        if not isinstance(m, dict) or not isinstance(m.get("location"), str):
            continue
        loc = m["location"]
        line = next((i for i, t in enumerate(text.splitlines(), 1) if loc in t), None)
        mm = mirror_from_url(registry, _registry_host(loc), Origin(path, line), insecure=bool(m.get("insecure")))
        if mm:
            out.append(mm)
    return out


def containers_trust(src: Source, home: str = "/root") -> list[Trust]:
    out = certs_dir_trust(src, f"{home}/.config/containers/certs.d") if home != "/root" else []
    return out + certs_dir_trust(src, CONTAINERS_CERTS_D) + certs_dir_trust(src, CERTS_D)


def containers_conf_env(src: Source, env: dict[str, str], home: str = "/root") -> tuple[list[Value], list[str],
                                                                                          list[Issue]]:
    """containers.conf ``[engine] env`` after the lookup order and drop-ins; (values, files, issues)."""
    if env.get("CONTAINERS_CONF"):
        paths = [env["CONTAINERS_CONF"]]
    else:
        paths = []
        for base in ("/usr/share/containers", "/etc/containers", f"{home}/.config/containers"):
            paths.append(f"{base}/containers.conf")
            for d in ("containers.conf.d", "containers.rootful.conf.d" if home == "/root" else
                      "containers.rootless.conf.d"):
                paths += [f"{base}/{d}/{n}" for n in src.listdir(f"{base}/{d}") if n.endswith(".conf")]
    values: list[Value] = []
    files: list[str] = []
    issues: list[Issue] = []
    for path in paths:
        ft = src.read(path)
        if ft is None:
            continue
        files.append(path)
        try:
            doc = syntax.load_toml(ft.text)
        except syntax.ConfigSyntaxError as exc:
            issues.append(Issue(Code.CONFIG_UNREADABLE, Origin(path), {
                "file": path, "error": str(exc), "effect": "podman refuses to start with this file"}))
            continue
        engine = doc.get("engine")
        items = engine.get("env") if isinstance(engine, dict) else None
        if not isinstance(items, list):
            continue
        values = []  # an array set in a later file replaces the earlier one
        for item in items:
            if not isinstance(item, str):
                continue
            name, eq, val = item.partition("=")
            if eq and name in PROXY_VARS:
                line = next((i for i, t in enumerate(ft.text.splitlines(), 1) if item in t), None)
                values.append(Value(name, val, Origin(path, line), ("containers.conf [engine] env",)))
    return values, files, issues


def podman(src: Source, shell_env: dict[str, str], processes: list[Process]) -> Actor | None:
    """podman run from this shell (root): the shell's variables, then ``[engine] env``."""
    del processes
    engine, files, issues = containers_conf_env(src, shell_env)
    regs = registries_conf(src, shell_env)
    if not files and not regs.files and not src.exists("/usr/bin/podman"):
        return None
    shell_values = tuple(Value(k, v, Origin("environment of this shell")) for k, v in shell_env.items()
                         if k in PROXY_VARS)
    return Actor(
        name="podman", label="podman / buildah / skopeo (this shell's user)",
        applies_to="pulls made by podman, buildah and skopeo in their own process",
        configured=shell_values, overrides=tuple(engine), mirrors=tuple(regs.mirrors),
        trust=tuple(containers_trust(src)), insecure=tuple(regs.insecure), blocked=tuple(regs.blocked),
        registries=tuple(regs.entries),
        issues=tuple(issues + regs.issues), files=tuple(files + regs.files),
        edit_file="/etc/containers/containers.conf ([engine] env = [\"https_proxy=…\", \"no_proxy=…\"])",
        apply="nothing (used by the next podman command)")


def crio(src: Source, processes: list[Process]) -> Actor | None:
    """CRI-O's service environment, registries.conf and certs.d."""
    proc = find_process(processes, "crio")
    unit = load_unit(src, "crio.service")
    configured = list(unit.proxy_values())
    files = list(unit.files)
    issues = list(unit.issues)
    mtimes = dict(unit.mtimes)
    if unit.fragment is None:
        # without the packaged unit (a partial root) read the env files distributions point it at
        for path in ("/etc/sysconfig/crio", "/etc/default/crio", "/etc/sysconfig/proxy"):
            env, extra, mtime = env_file(src, path)
            if mtime is not None:
                files.append(path)
                mtimes[path] = mtime
                issues += extra
                for k, v in env.items():
                    if k in PROXY_VARS:
                        configured = [c for c in configured if c.name != k] + [v]
    if proc is None and not unit.found and not files and not src.exists("/usr/bin/crio"):
        return None
    regs = registries_conf(src, {})
    live, note = live_values(proc)
    return Actor(
        name="crio", label="CRI-O (the kubelet's pulls)", applies_to="pulls made for the kubelet (CRI) and crictl",
        configured=tuple(configured), live=live, pid=proc.pid if proc else None,
        started=proc.started if proc else None, live_note=note, mirrors=tuple(regs.mirrors),
        trust=tuple(containers_trust(src)), insecure=tuple(regs.insecure), blocked=tuple(regs.blocked),
        registries=tuple(regs.entries),
        issues=tuple(issues + regs.issues), files=tuple(files + regs.files),
        edit_file="/etc/systemd/system/crio.service.d/00-proxy.conf",
        apply="systemctl daemon-reload && systemctl restart crio",
        changed_since_start=changed_files(mtimes, proc.started if proc else None))


__all__ = ["CONTAINERS_CERTS_D", "REGISTRIES_CONF", "REGISTRIES_CONF_D", "Registries", "containers_conf_env",
           "containers_trust", "crio", "podman", "registries_conf", "registries_conf_files"]
