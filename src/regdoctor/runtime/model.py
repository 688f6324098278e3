"""What the runtime audit found, as data: each actor's proxy variables, mirrors and CA trust.

Every value keeps its ``Origin`` (a file and line, or ``/proc/<pid>/environ``), because the fix is
always "edit *this* line of *this* file" and users rarely know which file their daemon reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from regdoctor.kb.codes import Code

#: the variables a Go or Python client reads for its proxy (upper and lower case)
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
              "ALL_PROXY", "all_proxy")
Rules = Literal["go", "python"]


@dataclass(frozen=True)
class Origin:
    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True)
class Value:
    """One proxy variable of one actor, as that actor's parser reads it."""

    name: str
    value: str
    origin: Origin
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Issue:
    """A configuration mistake seen while reading (a catalogue code plus evidence)."""

    code: Code
    origin: Origin
    evidence: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Mirror:
    """A host an actor tries before (or instead of) the registry it mirrors."""

    registry: str  # the registry as the config names it: "docker.io", "myreg.azurecr.io:5000"
    url: str  # https://mirror.corp:5000 (path kept when the config has one)
    host: str
    port: int
    scheme: str
    origin: Origin
    insecure: bool = False
    #: True when the actor falls back to the registry itself after the mirror fails
    fallback: bool = True


@dataclass(frozen=True)
class RegistryEntry:
    """One ``[[registry]]`` table (or a v1 ``[registries.block]``/``insecure`` name) as read."""

    prefix: str
    location: str
    origin: Origin
    blocked: bool = False
    insecure: bool = False


@dataclass(frozen=True)
class Trust:
    """Extra CA certificates (or no verification) an actor uses for one host[:port]."""

    host_port: str
    ca_files: tuple[str, ...]  # as seen inside the root
    origin: Origin
    skip_verify: bool = False


@dataclass(frozen=True)
class Actor:
    """One program that makes registry requests, and the settings it really uses."""

    name: str  # "dockerd", "docker-cli", "containerd", "crio", "podman", "k3s", "rke2", "microk8s", "kubelet",
    #            "aks", "shell"
    label: str  # "Docker daemon (dockerd)"
    applies_to: str  # what its proxy is used for ("image pulls, pushes and logins")
    #: the proxy variables its configuration files give it (what a restart would load)
    configured: tuple[Value, ...] = ()
    #: the live process's variables (``/proc/<pid>/environ``), None when not running or not readable
    live: tuple[Value, ...] | None = None
    pid: int | None = None
    started: float | None = None
    live_note: str = ""  # why there is no live view ("not running", "environ not readable: …")
    #: settings that take precedence over the environment (daemon.json ``proxies``), as env names
    overrides: tuple[Value, ...] = ()
    mirrors: tuple[Mirror, ...] = ()
    trust: tuple[Trust, ...] = ()
    insecure: tuple[str, ...] = ()
    blocked: tuple[str, ...] = ()
    #: registries.conf ``[[registry]]`` entries (podman, CRI-O): the one for an image is
    #: ``regconf.find_registry``'s choice
    registries: tuple[RegistryEntry, ...] = ()
    issues: tuple[Issue, ...] = ()
    files: tuple[str, ...] = ()  # every file read for this actor, in order
    rules: Rules = "go"
    edit_file: str = ""  # where its proxy should be set
    apply: str = ""  # the command that makes a change take effect
    #: proxies for pulls at all? (the Docker CLI config does not configure pulls)
    pulls: bool = True
    #: files changed after the running process started (path -> mtime)
    changed_since_start: tuple[str, ...] = ()

    def env(self, *, live: bool = True) -> dict[str, str]:
        """The environment its requests use: the live one when known (``live``), else the files';
        ``overrides`` win over both (dockerd sets them from daemon.json at start)."""
        base = self.live if live and self.live is not None else self.configured
        out = {v.name: v.value for v in base}
        for v in self.overrides:
            out[v.name] = v.value
        return out

    def value(self, name: str, *, live: bool = True) -> Value | None:
        for v in self.overrides:
            if v.name == name:
                return v
        base = self.live if live and self.live is not None else self.configured
        return next((v for v in base if v.name == name), None)

    def where(self, name: str) -> str:
        """The file (and line) to edit for variable ``name``: its configured origin, else ``edit_file``."""
        for v in (*self.overrides, *self.configured):
            if v.name == name:
                return str(v.origin)
        return self.edit_file

    @property
    def restart_pending(self) -> bool:
        if self.live is None:
            return False
        return {v.name: v.value for v in self.live} != {v.name: v.value for v in self.configured}


@dataclass(frozen=True)
class Route:
    """How one actor reaches one host: proxied or direct, by which rule."""

    actor: str
    host: str
    port: int
    role: str  # registry | realm | data | mirror
    proxy: str | None  # redacted
    reason: str
    source: Origin | None  # where the deciding variable came from
    live: bool  # decided from the running process's environment


__all__ = ["PROXY_VARS", "Actor", "Issue", "Mirror", "Origin", "RegistryEntry", "Route", "Rules", "Trust", "Value"]
