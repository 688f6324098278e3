"""dockerd and the Docker CLI config: where each reads its proxy, mirrors and CA trust.

Facts (docker/docs ``engine/daemon/proxy.md`` and ``engine/cli/proxy.md``, moby#42835/#43448,
docker/cli#93/#507):

- dockerd's pulls, pushes and logins use its process environment (systemd drop-ins, rootless:
  ``~/.config/systemd/user/docker.service.d``) unless ``daemon.json`` ``"proxies"`` (Engine 23.0+)
  or the ``--http-proxy``/``--https-proxy``/``--no-proxy`` flags set them, which win.
  The first 23.0 pre-releases read top-level ``http-proxy`` keys; releases refuse those, and
  engines before 23.0 refuse a ``proxies`` key (unknown directives stop dockerd from starting).
- ``registry-mirrors`` apply to Docker Hub only; ``insecure-registries``;
  ``/etc/docker/certs.d/<host[:port]>/*.crt`` are added to the system roots for that host.
- ``~/.docker/config.json`` ``proxies.default`` is injected into new containers and builds, never
  used for the daemon's pulls; ``proxies`` without ``default`` makes every docker command warn
  ``cannot unmarshal string into Go struct field ConfigFile.proxies``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from regdoctor.kb.codes import Code
from regdoctor.runtime import syntax
from regdoctor.runtime.model import PROXY_VARS, Actor, Issue, Mirror, Origin, Trust, Value
from regdoctor.runtime.source import FileText, Process, Source
from regdoctor.runtime.units import UnitEnv, load_unit

DAEMON_JSON = "/etc/docker/daemon.json"
CERTS_D = "/etc/docker/certs.d"
_JSON_PROXY_KEYS = {"http-proxy": "HTTP_PROXY", "https-proxy": "HTTPS_PROXY", "no-proxy": "NO_PROXY"}
_FLAG_PROXY = {"--http-proxy": "HTTP_PROXY", "--https-proxy": "HTTPS_PROXY", "--no-proxy": "NO_PROXY"}


def flag_values(argv: list[str] | tuple[str, ...], *names: str) -> list[str]:
    """Values of ``--flag V`` / ``--flag=V`` options in an argv.

    >>> flag_values(["dockerd", "--registry-mirror=https://m", "--registry-mirror", "http://n"], "--registry-mirror")
    ['https://m', 'http://n']
    """
    out = []
    for i, a in enumerate(argv):
        for n in names:
            if a == n and i + 1 < len(argv):
                out.append(argv[i + 1])
            elif a.startswith(n + "="):
                out.append(a[len(n) + 1:])
    return out


def mirror_from_url(registry: str, url: str, origin: Origin, *, insecure: bool = False,
                    fallback: bool = True) -> Mirror | None:
    """A mirror entry from a URL or a bare ``host[:port]`` (https assumed)."""
    text = url.strip()
    if not text:
        return None
    try:  # a bracketed host that is not an IP (`https://[mirror]`) fails in urlsplit itself
        parts = urlsplit(text if "://" in text else f"https://{text}")
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    scheme = parts.scheme or "https"
    return Mirror(registry=registry, url=text, host=parts.hostname, port=port or (80 if scheme == "http" else 443),
                  scheme=scheme, origin=origin, insecure=insecure or scheme == "http", fallback=fallback)


def certs_dir_trust(src: Source, base: str) -> list[Trust]:
    """``<base>/<host[:port]>/*.crt`` (Docker's and containers/image's certs.d layout)."""
    out = []
    for name in src.listdir(base):
        d = f"{base}/{name}"
        cas = tuple(f"{d}/{f}" for f in src.listdir(d) if f.endswith(".crt"))
        if cas:
            out.append(Trust(host_port=name, ca_files=cas, origin=Origin(d)))
    return out


def _daemon_json(src: Source, path: str, issues: list[Issue], files: list[str]) -> tuple[dict[str, Any], float | None]:
    ft = src.read(path)
    if ft is None:
        return {}, None
    files.append(path)
    try:
        doc = syntax.load_json(ft.text)
    except syntax.ConfigSyntaxError as exc:
        issues.append(Issue(Code.CONFIG_UNREADABLE, Origin(path), {
            "file": path, "error": str(exc), "effect": "dockerd refuses to start with this file"}))
        return {}, ft.mtime
    if not isinstance(doc, dict):
        issues.append(Issue(Code.CONFIG_UNREADABLE, Origin(path), {
            "file": path, "error": "not a JSON object", "effect": "dockerd refuses to start with this file"}))
        return {}, ft.mtime
    for key in _JSON_PROXY_KEYS:
        if key in doc:
            issues.append(Issue(Code.DOCKER_DAEMON_JSON_TOPLEVEL_PROXY, Origin(path, syntax.json_line(ft.text, key)), {
                "file": path, "line": syntax.json_line(ft.text, key), "key": key,
                "expected": '"proxies": {"http-proxy": …, "https-proxy": …, "no-proxy": …}'}))
    proxies = doc.get("proxies")
    if isinstance(proxies, dict):
        for key in proxies:
            if key not in _JSON_PROXY_KEYS:
                where = Origin(path, syntax.json_line(ft.text, key))
                issues.append(Issue(Code.DOCKER_DAEMON_JSON_TOPLEVEL_PROXY, where, {
                    "file": path, "line": syntax.json_line(ft.text, key), "key": f"proxies.{key}",
                    "expected": '"proxies": {"http-proxy": …, "https-proxy": …, "no-proxy": …}'}))
    doc["_text"] = ft.text
    return doc, ft.mtime


def find_process(processes: list[Process], name: str, *, parent_not: tuple[str, ...] = ()) -> Process | None:
    by_pid = {p.pid: p for p in processes}
    for p in processes:
        if p.name != name:
            continue
        parent = by_pid.get(p.ppid)
        if parent is not None and parent.name in parent_not:
            continue
        return p
    return None


def live_values(proc: Process | None) -> tuple[tuple[Value, ...] | None, str]:
    """The proxy variables of a running process, or None with the reason."""
    if proc is None:
        return None, "not running (no process found)"
    if proc.environ is None:
        return None, f"pid {proc.pid}: /proc/{proc.pid}/environ not readable ({proc.environ_error})"
    origin = Origin(f"/proc/{proc.pid}/environ")
    return tuple(Value(k, v, origin) for k, v in proc.environ.items() if k in PROXY_VARS), ""


def changed_files(mtimes: dict[str, float], started: float | None) -> tuple[str, ...]:
    """Files modified after the process started (their settings are not loaded yet)."""
    if started is None:
        return ()
    return tuple(p for p, m in mtimes.items() if m > started + 1.0)


def dockerd(src: Source, processes: list[Process]) -> Actor | None:
    """The Docker daemon (rootful, else the first rootless one found)."""
    proc = find_process(processes, "dockerd")
    unit, rootless_home = _docker_unit(src)
    default_json = f"{rootless_home}/.config/docker/daemon.json" if rootless_home else DAEMON_JSON
    argv = list(proc.argv) if proc else unit.exec_start
    config = (flag_values(argv, "--config-file") or [default_json])[-1]
    issues = list(unit.issues)
    files = list(unit.files)
    doc, json_mtime = _daemon_json(src, config, issues, files)
    if proc is None and not unit.found and not doc and not src.exists("/usr/bin/dockerd"):
        return None
    argv_origin = Origin(f"/proc/{proc.pid}/cmdline" if proc else str(unit.exec_origin or "ExecStart"))
    certs = f"{rootless_home}/.config/docker/certs.d" if rootless_home else CERTS_D
    live, note = live_values(proc)
    mtimes = dict(unit.mtimes)
    if json_mtime is not None:
        mtimes[config] = json_mtime
    user = " --user" if rootless_home else ""
    dropin = (f"{rootless_home}/.config/systemd/user/docker.service.d/http-proxy.conf" if rootless_home
              else "/etc/systemd/system/docker.service.d/http-proxy.conf")
    return Actor(
        name="dockerd", label="Docker daemon (dockerd" + (", rootless)" if rootless_home else ")"),
        applies_to="image pulls, pushes and logins (docker pull/push/login, FROM in builds)",
        configured=unit.proxy_values(), live=live, pid=proc.pid if proc else None,
        started=proc.started if proc else None, live_note=note,
        overrides=tuple(daemon_proxy_overrides(doc, config, argv, argv_origin)),
        mirrors=tuple(_daemon_mirrors(doc, config, argv, argv_origin)),
        trust=tuple(certs_dir_trust(src, certs)), insecure=tuple(_daemon_insecure(doc, argv)), issues=tuple(issues),
        files=tuple(files), edit_file=dropin, apply=f"systemctl{user} daemon-reload && systemctl{user} restart docker",
        changed_since_start=changed_files(mtimes, proc.started if proc else None))


def _docker_unit(src: Source) -> tuple[UnitEnv, str | None]:
    """docker.service as a system unit, else the first user's rootless one (with that user's home)."""
    unit = load_unit(src, "docker.service")
    if unit.found:
        return unit, None
    for home, _uid in src.homes():
        u = load_unit(src, "docker.service", home=home)
        if u.found:
            return u, home
    return unit, None


def daemon_proxy_overrides(doc: Mapping[str, Any], config: str, argv: list[str], argv_origin: Origin) -> list[Value]:
    """The proxy settings that win over dockerd's environment: ``daemon.json`` ``proxies``, then the flags.

    A ``--http-proxy``/``--https-proxy``/``--no-proxy`` flag replaces the same setting from the file.

    >>> doc = {"proxies": {"https-proxy": "http://file:3128", "no-proxy": "a.example"}}
    >>> argv = ["dockerd", "--https-proxy", "http://flag:3128"]
    >>> [(v.name, v.value) for v in daemon_proxy_overrides(doc, "daemon.json", argv, Origin("ExecStart"))]
    [('NO_PROXY', 'a.example'), ('no_proxy', 'a.example'), ('HTTPS_PROXY', 'http://flag:3128'), \
('https_proxy', 'http://flag:3128')]
    """
    text = str(doc.get("_text", ""))
    overrides: list[Value] = []
    proxies = doc.get("proxies")
    if isinstance(proxies, dict):
        for key, env in _JSON_PROXY_KEYS.items():
            v = proxies.get(key)
            if isinstance(v, str) and v:
                o = Origin(config, syntax.json_line(text, key))
                why = ("daemon.json proxies",)
                overrides += [Value(env, v, o, why), Value(env.lower(), v, o, why)]
    for flag, env in _FLAG_PROXY.items():
        for v in flag_values(argv, flag)[-1:]:
            overrides = [x for x in overrides if x.name.upper() != env]
            why = (f"{flag} flag",)
            overrides += [Value(env, v, argv_origin, why), Value(env.lower(), v, argv_origin, why)]
    return overrides


def _daemon_mirrors(doc: Mapping[str, Any], config: str, argv: list[str], argv_origin: Origin) -> list[Mirror]:
    """Docker Hub mirrors: ``daemon.json`` ``registry-mirrors``, then ``--registry-mirror`` flags."""
    found: list[Mirror | None] = []
    mirror_list = doc.get("registry-mirrors")
    if isinstance(mirror_list, list):
        origin = Origin(config, syntax.json_line(str(doc.get("_text", "")), "registry-mirrors"))
        found += [mirror_from_url("docker.io", m, origin) for m in mirror_list if isinstance(m, str)]
    found += [mirror_from_url("docker.io", m, argv_origin) for m in flag_values(argv, "--registry-mirror")]
    return [m for m in found if m is not None]


def _daemon_insecure(doc: Mapping[str, Any], argv: list[str]) -> list[str]:
    """``daemon.json`` ``insecure-registries`` and ``--insecure-registry`` flags."""
    listed = doc.get("insecure-registries")
    insecure = [str(x) for x in listed if isinstance(x, str)] if isinstance(listed, list) else []
    return insecure + flag_values(argv, "--insecure-registry")


def _cli_config(src: Source, home: str, docker_config: str | None) -> tuple[str, FileText | None]:
    path = f"{docker_config}/config.json" if docker_config else f"{home}/.docker/config.json"
    return path, src.read(path)


def docker_cli(src: Source, shell_env: dict[str, str], processes: list[Process]) -> Actor | None:
    """``~/.docker/config.json`` ``proxies`` (containers and builds only)."""
    del processes
    for home, _uid in src.homes():
        docker_config = shell_env.get("DOCKER_CONFIG") if home == shell_env.get("HOME", "/root") else None
        path, ft = _cli_config(src, home, docker_config)
        if ft is None:
            continue
        issues: list[Issue] = []
        values: list[Value] = []
        try:
            doc = syntax.load_json(ft.text)
        except syntax.ConfigSyntaxError as exc:
            issues.append(Issue(Code.CONFIG_UNREADABLE, Origin(path), {
                "file": path, "error": str(exc), "effect": "every docker command warns and ignores the file"}))
            doc = {}
        proxies = doc.get("proxies") if isinstance(doc, dict) else None
        if isinstance(proxies, dict):
            for key, val in proxies.items():
                if not isinstance(val, dict):
                    line = syntax.json_line(ft.text, key)
                    issues.append(Issue(Code.DOCKER_CONFIG_PROXIES_NO_DEFAULT, Origin(path, line),
                                        {"file": path, "line": line, "key": key}))
            default = proxies.get("default")
            if isinstance(default, dict):
                names = {"httpsProxy": "HTTPS_PROXY", "httpProxy": "HTTP_PROXY", "noProxy": "NO_PROXY",
                         "allProxy": "ALL_PROXY"}
                for key, env in names.items():
                    v = default.get(key)
                    if isinstance(v, str) and v:
                        values.append(Value(env, v, Origin(path, syntax.json_line(ft.text, key))))
        if not values and not issues:
            continue
        return Actor(name="docker-cli", label="Docker CLI config (containers and builds)",
                     applies_to="the environment of new containers and build steps, never the daemon's pulls",
                     configured=tuple(values), issues=tuple(issues), files=(path,), edit_file=path,
                     apply="nothing (used by the next docker run/build)", pulls=False)
    return None


__all__ = ["CERTS_D", "DAEMON_JSON", "UnitEnv", "certs_dir_trust", "changed_files", "daemon_proxy_overrides",
           "docker_cli", "dockerd", "find_process", "flag_values", "live_values", "mirror_from_url"]
