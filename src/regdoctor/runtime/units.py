"""A systemd service's environment as systemd would build it at the next start, from the files.

Strategy
--------
systemd(1) order, for a system service ``NAME``:

1. the manager's ``DefaultEnvironment=`` (``/etc/systemd/system.conf``, then ``system.conf.d/*.conf``
   from /etc, /run, /usr/lib — where AKS puts the node proxy);
2. ``Environment=`` lines of the fragment and then of every drop-in, in drop-in file-name order
   (``NAME.d/*.conf`` and the type-wide ``service.d/*.conf`` from each unit directory; a drop-in in
   /etc hides one of the same name further down; one linked to /dev/null is masked);
3. ``EnvironmentFile=`` files, in order, overriding ``Environment=`` (systemd.exec(5)); ``-`` makes
   a missing file harmless, otherwise the service does not start. Each value is one absolute path
   or glob(3) pattern, specifiers resolved, never quoted or split into words (systemd ignores
   ``EnvironmentFile="/etc/x"``: the quotes make it relative).

User services (rootless Docker) read ``~/.config/systemd/user`` first and the manager's
``user.conf``. Only reading happens here (through ``Source``); the rules of each syntax are in
``syntax.py``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from regdoctor.kb.codes import Code
from regdoctor.runtime import syntax
from regdoctor.runtime.model import PROXY_VARS, Issue, Origin, Value
from regdoctor.runtime.source import Source

SYSTEM_DIRS = ("/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
               "/usr/lib/systemd/system", "/lib/systemd/system")
SYSTEM_CONF = ("/etc/systemd/system.conf", "/etc/systemd/system.conf.d", "/run/systemd/system.conf.d",
               "/usr/lib/systemd/system.conf.d")


def user_dirs(home: str) -> tuple[str, ...]:
    return (f"{home}/.config/systemd/user", "/etc/systemd/user", "/run/systemd/user", "/usr/lib/systemd/user")


USER_CONF = ("/etc/systemd/user.conf", "/etc/systemd/user.conf.d", "/usr/lib/systemd/user.conf.d")


@dataclass
class UnitEnv:
    """What the unit files say about one service."""

    unit: str
    fragment: str | None = None
    files: list[str] = field(default_factory=list)
    env: dict[str, Value] = field(default_factory=dict)
    exec_start: list[str] = field(default_factory=list)
    exec_origin: Origin | None = None
    issues: list[Issue] = field(default_factory=list)
    mtimes: dict[str, float] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.files)

    def proxy_values(self) -> tuple[Value, ...]:
        return tuple(v for k, v in self.env.items() if k in PROXY_VARS)


def _dropins(src: Source, dirs: tuple[str, ...], unit: str) -> list[str]:
    kind = unit.rsplit(".", 1)[-1]
    chosen: dict[str, str] = {}
    for d in dirs:
        for sub in (f"{d}/{kind}.d", f"{d}/{unit}.d"):
            for name in src.listdir(sub):
                if name.endswith(".conf") and name not in chosen:
                    chosen[name] = f"{sub}/{name}"
    return [chosen[n] for n in sorted(chosen) if not src.is_null(chosen[n])]


def _manager_env(src: Source, conf: tuple[str, ...], out: UnitEnv) -> None:
    files = [conf[0]]
    names: dict[str, str] = {}
    for d in conf[1:]:
        for n in src.listdir(d):
            if n.endswith(".conf") and n not in names:
                names[n] = f"{d}/{n}"
    files += [names[n] for n in sorted(names)]
    for path in files:
        ft = src.read(path)
        if ft is None:
            continue
        out.files.append(path)
        out.mtimes[path] = ft.mtime
        lines = [ln for ln in syntax.unit_lines(ft.text) if ln.section == "Manager" and ln.key == "DefaultEnvironment"]
        env = syntax.parse_environment([syntax.Line("", "Environment", ln.value, ln.line) for ln in lines], None)
        _apply(env, path, out, "DefaultEnvironment")


def _apply(env: syntax.EnvResult, path: str, out: UnitEnv, directive: str) -> None:
    if env.reset_at is not None:
        out.env.clear()
    for a in env.assignments:
        out.env.pop(a.name, None)
        out.env[a.name] = Value(a.name, a.value, Origin(path, a.line), a.notes)
        if a.name in PROXY_VARS:
            _value_issues(a, path, out, directive)
    for d in env.dropped:
        name = d.text.split("=", 1)[0].strip().removeprefix("export ").strip()
        if d.reason == "specifier" and (name in PROXY_VARS or "proxy" in d.text.lower()):
            out.issues.append(Issue(Code.UNIT_PERCENT_UNESCAPED, Origin(path, d.line), {
                "file": path, "line": d.line, "variable": name, "specifier": d.detail, "directive": directive,
                "effect": "systemd ignores this assignment, so the variable is not set at all"}))
        elif d.reason == "quoting":
            out.issues.append(Issue(Code.UNIT_UNBALANCED_QUOTES, Origin(path, d.line), {
                "file": path, "line": d.line, "directive": directive}))
        elif d.reason == "name" and name in PROXY_VARS:
            out.issues.append(Issue(Code.ENV_ASSIGNMENT_IGNORED, Origin(path, d.line), {
                "file": path, "line": d.line, "variable": name, "why": d.detail or "not a NAME=value assignment"}))


def _value_issues(a: syntax.Assignment, path: str, out: UnitEnv, directive: str) -> None:
    for note in a.notes:
        if note.startswith("specifiers replaced"):
            out.issues.append(Issue(Code.UNIT_PERCENT_UNESCAPED, Origin(path, a.line), {
                "file": path, "line": a.line, "variable": a.name, "specifier": note.split(": ", 1)[1],
                "directive": directive, "effect": "systemd replaced it with another value"}))


def load_unit(src: Source, unit: str, *, home: str | None = None) -> UnitEnv:
    """The environment systemd would give ``unit`` (a system unit, or a user unit of ``home``).

    >>> load_unit(Source("/nonexistent"), "docker.service").found
    False
    """
    dirs = user_dirs(home) if home else SYSTEM_DIRS
    out = UnitEnv(unit)
    _manager_env(src, USER_CONF if home else SYSTEM_CONF, out)
    fragment, masked = _fragment(src, dirs, unit)
    if masked is not None:
        out.issues.append(Issue(Code.UNIT_MASKED, Origin(masked), {"file": masked, "unit": unit}))
        return out
    out.fragment = fragment
    paths = ([fragment] if fragment else []) + _dropins(src, dirs, unit)
    if not paths:
        # no such unit here: the manager's defaults alone say nothing about it
        out.files.clear()
        out.env.clear()
        out.mtimes.clear()
        return out
    specs = syntax.unit_specifiers(unit, user_home=home or "/root")
    env_files: list[tuple[syntax.Line, str]] = []
    for path in paths:
        ft = src.read(path)
        if ft is None:
            continue
        out.files.append(path)
        out.mtimes[path] = ft.mtime
        _unit_file(path, syntax.unit_lines(ft.text), specs, out, env_files)
    for ln, unit_file in env_files:
        named = env_file_path(ln.value, specs)
        if named is not None:
            _env_files(src, *named, ln, unit_file, out)
    return out


def _fragment(src: Source, dirs: tuple[str, ...], unit: str) -> tuple[str | None, str | None]:
    """(the unit file found first in ``dirs``, the path masking the unit): systemd stops at either."""
    for d in dirs:
        path = f"{d}/{unit}"
        if src.is_null(path):
            return None, path
        if src.read(path) is not None:
            return path, None
    return None, None


def _unit_file(path: str, lines: list[syntax.Line], specs: Mapping[str, str], out: UnitEnv,
               env_files: list[tuple[syntax.Line, str]]) -> None:
    """One unit file or drop-in: its ``Environment=``, ``EnvironmentFile=`` (kept for later) and ``ExecStart=``."""
    service = [ln for ln in lines if ln.section == "Service"]
    stray = [ln for ln in lines if ln.section != "Service" and ln.key in ("Environment", "EnvironmentFile")]
    for ln in stray:
        out.issues.append(Issue(Code.UNIT_ENV_OUTSIDE_SERVICE, Origin(path, ln.line), {
            "file": path, "line": ln.line, "section": ln.section or "(none)", "directive": ln.key}))
    _apply(syntax.parse_environment(service, specs), path, out, "Environment")
    for ln in service:
        if ln.key == "EnvironmentFile":
            if not ln.value:
                env_files.clear()  # an empty assignment resets the list
            else:
                env_files.append((ln, path))
        elif ln.key == "ExecStart":
            if not ln.value:
                out.exec_start, out.exec_origin = [], None
            else:
                out.exec_start, out.exec_origin = syntax.exec_words(ln.value), Origin(path, ln.line)


def env_file_path(value: str, specs: Mapping[str, str]) -> tuple[str, bool] | None:
    """The path (or glob) an ``EnvironmentFile=`` value names and whether it is optional; None: ignored.

    systemd (``config_parse_unit_env_file``, ``exec_context_load_environment``) takes the whole value
    as one path: specifiers resolved, no quotes, no word splitting; one leading ``-`` makes it
    optional; a value with an unknown specifier or a path that is not absolute (a quoted one, say)
    is ignored with a warning.

    >>> env_file_path("-/etc/default/%N", {"N": "docker"})
    ('/etc/default/docker', True)
    >>> env_file_path("/etc/proxy env", {})
    ('/etc/proxy env', False)
    >>> env_file_path('"/etc/default/docker"', {}) is None
    True
    """
    resolved = syntax.resolve_specifiers(value, specs)
    if resolved is None:
        return None
    path = resolved[0]
    optional = path.startswith("-")
    path = path.removeprefix("-")
    return (path, optional) if path.startswith("/") else None


_GLOB_MAGIC = re.compile(r"[*?\[]")
_MAX_GLOB = 256  # matches kept per level: a pattern like /*/*/*/* must not walk the whole tree


def glob_files(src: Source, pattern: str) -> list[str]:
    """The paths glob(3) (no flags, as systemd calls it) finds for ``pattern`` under ``src``, sorted.

    A pattern without wildcards stands for itself. ``*`` and ``?`` never match a leading dot.

    >>> glob_files(Source("/nonexistent"), "/etc/default/docker")
    ['/etc/default/docker']
    >>> glob_files(Source("/nonexistent"), "/etc/default/docker*")
    []
    """
    if not _GLOB_MAGIC.search(pattern):
        return [pattern]
    found = [""]
    for part in pattern.split("/")[1:]:
        if not part:
            continue
        if not _GLOB_MAGIC.search(part):
            found = [f"{d}/{part}" for d in found]
            continue
        found = [f"{d}/{n}" for d in found for n in src.listdir(d or "/")
                 if fnmatch.fnmatchcase(n, part) and (part.startswith(".") or not n.startswith("."))][:_MAX_GLOB]
    return sorted(p for p in found if src.exists(p))


def _env_files(src: Source, pattern: str, optional: bool, ln: syntax.Line, unit_file: str, out: UnitEnv) -> None:
    """Apply the files a path or glob names; none, when not optional, is an issue (the unit fails to start)."""
    texts = [(path, ft) for path in glob_files(src, pattern) if (ft := src.read(path)) is not None]
    if not texts and not optional:
        out.issues.append(Issue(Code.UNIT_ENV_FILE_MISSING, Origin(unit_file, ln.line), {
            "file": unit_file, "line": ln.line, "env_file": pattern, "unit": out.unit}))
    for path, ft in texts:
        out.files.append(path)
        out.mtimes[path] = ft.mtime
        _apply(syntax.parse_env_file(ft.text), path, out, "EnvironmentFile")


def env_file(src: Source, path: str) -> tuple[dict[str, Value], list[Issue], float | None]:
    """An env file read on its own (``/etc/default/crio``, microk8s ``args/containerd-env``)."""
    ft = src.read(path)
    if ft is None:
        return {}, [], None
    holder = UnitEnv(path)
    _apply(syntax.parse_env_file(ft.text), path, holder, "EnvironmentFile")
    return holder.env, holder.issues, ft.mtime


__all__ = ["SYSTEM_DIRS", "UnitEnv", "env_file", "env_file_path", "glob_files", "load_unit", "user_dirs"]
