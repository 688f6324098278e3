"""REF parsing and ACR naming rules: which registry host a reference names.

Strategy
--------
Docker's reference grammar decides the registry: the first path component is a registry host
when it contains a ``.`` or ``:`` or is ``localhost``; otherwise the image is on Docker Hub.
regdoctor adds one rule of its own (SPEC): a bare word that is a valid ACR registry name
(5–50 letters and digits) means ``<name>.azurecr.io``. Docker Hub's API host is
``registry-1.docker.io``, whatever the user wrote (``docker.io``, ``index.docker.io``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from regdoctor.errors import BadReference

ACR_SUFFIX = ".azurecr.io"
DOCKER_HUB = "registry-1.docker.io"
_DOCKER_HUB_ALIASES = {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
_ACR_NAME = re.compile(r"^[a-zA-Z0-9]{5,50}$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^\w[\w.-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$")
_ACR_DATA = re.compile(r"^(?P<reg>[a-z0-9]+)\.(?P<region>[a-z0-9]+)\.data\.azurecr\.io$")


@dataclass(frozen=True)
class Target:
    """What a REF names: the registry endpoint and, optionally, one image."""

    raw: str
    host: str  # the API host to connect to
    port: int
    repository: str | None = None
    tag: str | None = None
    digest: str | None = None
    #: ``http`` only when asked for (``--plain-http``); registries speak https.
    scheme: str = "https"

    @property
    def reference(self) -> str | None:
        """The manifest reference: the digest if given, else the tag (``latest`` by default)."""
        if self.repository is None:
            return None
        return self.digest or self.tag or "latest"

    @property
    def host_port(self) -> str:
        """``host`` or ``host:port`` as used in certs.d directory names."""
        default = 443 if self.scheme == "https" else 80
        h = f"[{self.host}]" if ":" in self.host else self.host
        return h if self.port == default else f"{h}:{self.port}"

    @property
    def acr_name(self) -> str | None:
        return acr_name(self.host)

    @property
    def is_docker_hub(self) -> bool:
        return self.host == DOCKER_HUB


def acr_name(host: str) -> str | None:
    """The registry name if ``host`` is an ACR login server or data endpoint.

    >>> acr_name("MyReg.azurecr.io"), acr_name("myreg.westeurope.data.azurecr.io"), acr_name("ghcr.io")
    ('myreg', 'myreg', None)
    """
    h = host.lower()
    m = _ACR_DATA.match(h)
    if m:
        return m.group("reg")
    if h.endswith(ACR_SUFFIX):
        name = h[: -len(ACR_SUFFIX)]
        if "." not in name and _ACR_NAME.match(name):
            return name
    return None


def acr_data_endpoint(registry: str, region: str) -> str:
    """``<reg>.<region>.data.azurecr.io`` (names are lower case in DNS)."""
    return f"{registry.lower()}.{region.lower()}.data.azurecr.io"


def _valid_host(host: str) -> bool:
    if host.startswith("[") and host.endswith("]"):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        pass
    else:
        return True
    labels = host.rstrip(".").split(".")
    return len(host) <= 253 and all(_LABEL.match(lbl) for lbl in labels)


def _split_host_port(hostport: str, raw: str) -> tuple[str, int | None]:
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise BadReference(f"{raw!r}: unbalanced '[' in the registry host")
        host, rest = hostport[: end + 1], hostport[end + 1:]
        port_s = rest[1:] if rest.startswith(":") else ("" if not rest else None)
        if port_s is None:
            raise BadReference(f"{raw!r}: unexpected text after the IPv6 address")
    elif ":" in hostport:
        host, _, port_s = hostport.partition(":")
    else:
        host, port_s = hostport, ""
    if not _valid_host(host):
        raise BadReference(f"{raw!r}: {host!r} is not a valid registry host name")
    if port_s == "":
        return host.lower(), None
    if not port_s.isdigit() or not 0 < int(port_s) < 65536:
        raise BadReference(f"{raw!r}: {port_s!r} is not a valid port")
    return host.lower(), int(port_s)


def parse_target(ref: str, *, plain_http: bool = False) -> Target:
    """Parse a REF as SPEC lists its forms.

    >>> t = parse_target("myreg.azurecr.io/team/app:1.2")
    >>> (t.host, t.port, t.repository, t.tag)
    ('myreg.azurecr.io', 443, 'team/app', '1.2')
    >>> parse_target("docker.io/library/alpine").host
    'registry-1.docker.io'
    """
    raw = ref
    ref = ref.strip()
    if ref.startswith(("https://", "http://")):
        if ref.startswith("http://"):
            plain_http = True
        ref = ref.split("://", 1)[1].rstrip("/")
        ref = ref.removesuffix("/v2")
    if not ref or any(c.isspace() for c in ref) or len(ref) > 4096:
        raise BadReference(f"{raw!r} is not a registry reference (expected e.g. myregistry, "
                           "host:port, host/repo:tag or host/repo@sha256:…)")
    scheme = "http" if plain_http else "https"
    default_port = 80 if plain_http else 443

    digest: str | None = None
    if "@" in ref:
        ref, _, digest = ref.partition("@")
        if not _DIGEST.match(digest):
            raise BadReference(f"{raw!r}: {digest!r} is not a valid digest (expected sha256:<64 hex>)")

    first, sep, rest = ref.partition("/")
    if not sep:
        # a single word: host[:port], localhost, or an ACR short name
        if "." in first or ":" in first or first.startswith("[") or first == "localhost":
            if digest:
                raise BadReference(f"{raw!r}: a digest needs a repository (host/repo@sha256:…)")
            host, port = _split_host_port(first, raw)
            return _finish(raw, host, port or default_port, None, None, None, scheme)
        if _ACR_NAME.match(first):
            if digest:
                raise BadReference(f"{raw!r}: a digest needs a repository (host/repo@sha256:…)")
            return Target(raw=raw, host=f"{first.lower()}{ACR_SUFFIX}", port=default_port, scheme=scheme)
        raise BadReference(f"{raw!r} is not a registry reference: a bare name must be an ACR registry name "
                           "(5-50 letters and digits) or a host name with a dot")

    if "." in first or ":" in first or first.startswith("[") or first == "localhost":
        host, port = _split_host_port(first, raw)
        path = rest
    else:
        host, port, path = "docker.io", None, ref
    tag: str | None = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, _, tag = path.rpartition(":")
        if not _TAG.match(tag):
            raise BadReference(f"{raw!r}: {tag!r} is not a valid tag")
    if not path:
        raise BadReference(f"{raw!r}: no repository after the registry host")
    for comp in path.split("/"):
        if not _PATH_COMPONENT.match(comp):
            raise BadReference(f"{raw!r}: {comp!r} is not a valid repository path component "
                               "(lower-case letters, digits and . _ - separators)")
    if host in _DOCKER_HUB_ALIASES and "/" not in path:
        path = f"library/{path}"
    return _finish(raw, host, port or default_port, path, tag, digest, scheme)


def _finish(raw: str, host: str, port: int, repo: str | None, tag: str | None, digest: str | None,
            scheme: str) -> Target:
    if host in _DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
    return Target(raw=raw, host=host.strip("[]"), port=port, repository=repo, tag=tag, digest=digest,
                  scheme=scheme)


__all__ = ["ACR_SUFFIX", "DOCKER_HUB", "Target", "acr_data_endpoint", "acr_name", "parse_target"]
