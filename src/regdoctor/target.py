"""REF parsing: which registry endpoint (and image) a user's reference names.

Strategy
--------
An image REF is read exactly as ``docker pull`` reads it: distribution/reference's
``ParseNormalizedNamed`` (:mod:`regdoctor.reference`), then ``ParseDockerRef``'s rule that a
digest wins over a tag. ``nginx:latest`` is ``docker.io/library/nginx:latest``; a first component
with a ``.`` or ``:``, ``localhost``, or an upper-case letter is the registry's domain.

SPEC adds one rule, because a diagnosis can be about a registry without an image: a single
component (no ``/``) whose host part — before an optional ``:port`` — contains a dot, is
``localhost``, or is a bracketed IPv6 literal names a registry (``myreg.azurecr.io``,
``localhost:5000``, ``10.0.0.5:5000``, ``[::1]:5000``). Such a REF must then be ``host[:port]``:
``myreg.azurecr.io:latest`` is refused (``latest`` is no port) rather than read, as docker would,
as the Docker Hub image ``library/myreg.azurecr.io:latest``. A bare word without a dot
(``nginx``, ``ubuntu:22.04``) is always a Docker Hub image; ACR short names come through
:func:`acr_target` (``check -n NAME``). ``https://host[:port][/v2/]`` URLs (and ``http://``,
which means plain HTTP) also name a registry; a distribution API URL (``/v2/<name>/manifests/<ref>``,
the URL a Go error prints) names its image, and ``docker://REF`` (containers-transports(5)) is REF.

The connection goes where docker's would: Docker Hub (``docker.io``, ``index.docker.io``) is
served by ``registry-1.docker.io``; any other domain is dialled as written (lower-cased), its
port checked as Go's dialler checks it (ASCII digits, at most 65535; regdoctor also refuses 0,
which no registry listens on), IPv6 literals as Go's ``net.ParseIP`` reads them (no zone), and
host names as Go's resolver accepts them (labels of at most 63, names of at most 253 octets).
Every refusal is an :class:`~regdoctor.reference.InvalidReference` (a ``BadReference``) with
one line naming the part that is wrong, in docker's words where docker has them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, replace

from regdoctor.reference import (
    ANCHORED_DIGEST_RE,
    ANCHORED_TAG_RE,
    DEFAULT_DOMAIN,
    DIGEST_HEX_LENGTH,
    HOST_PATTERN,
    LEGACY_DEFAULT_DOMAIN,
    PATH_COMPONENT_PATTERN,
    InvalidReference,
    RefError,
    parse_normalized_named,
    split_docker_domain,
)

ACR_SUFFIX = ".azurecr.io"
#: login-server suffixes of ACR in every cloud: public, Azure operated by 21Vianet, US Government
ACR_SUFFIXES = (".azurecr.io", ".azurecr.cn", ".azurecr.us")
DOCKER_HUB = "registry-1.docker.io"
#: domains docker serves from registry-1.docker.io (moby registry: IndexName and IndexHostname)
_DOCKER_HUB_DOMAINS = {DEFAULT_DOMAIN, LEGACY_DEFAULT_DOMAIN, DOCKER_HUB}
_ACR_NAME = re.compile(r"\A[a-zA-Z0-9]{5,50}\Z", re.ASCII)
_ACR_DATA = re.compile(r"\A(?P<reg>[a-z0-9]+)\.(?P<region>[a-z0-9]+)\.data(?P<suffix>\.azurecr\.(?:io|cn|us))\Z",
                       re.ASCII)
_HOST_PORT = re.compile(r"\A(?P<host>" + HOST_PATTERN + r")(?::(?P<port>[0-9]+))?\Z", re.ASCII)
_URL = re.compile(r"\A(?P<scheme>https?)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)\Z", re.ASCII | re.IGNORECASE)
_URL_PATHS = ("", "/", "/v2", "/v2/")
#: transports whose URL-like prefix wraps a docker reference (containers-transports(5): skopeo,
#: podman, buildah, CRI-O's `docker://`); helm's `oci://` names a chart without its version
_TRANSPORTS = ("docker://",)
_HOST_RE = re.compile(r"\A" + HOST_PATTERN + r"\Z", re.ASCII)
_PATH_COMPONENT_RE = re.compile(r"\A" + PATH_COMPONENT_PATTERN + r"\Z", re.ASCII)
_ECHO_MAX = 100
_MAX_PORT = 65535


@dataclass(frozen=True)
class Target:
    """What a REF names: the registry endpoint and, optionally, one image."""

    raw: str
    host: str  # the API host to connect to (lower case; IPv6 without brackets)
    port: int
    repository: str | None = None
    tag: str | None = None
    digest: str | None = None
    #: ``http`` only when asked for (``--plain-http``, an ``http://`` URL); registries speak https.
    scheme: str = "https"
    #: the registry as docker names it: ``docker.io``, ``localhost:5000``, ``[::1]:5000``
    domain: str = ""

    @property
    def reference(self) -> str | None:
        """The manifest reference: the digest if given, else the tag (``latest`` by default)."""
        if self.repository is None:
            return None
        return self.digest or self.tag or "latest"

    @property
    def name(self) -> str:
        """Docker's normalised name: ``docker.io/library/nginx`` (the domain alone for a registry)."""
        domain = self.domain or self.host_port
        return f"{domain}/{self.repository}" if self.repository else domain

    @property
    def normalized(self) -> str:
        """What docker pulls (``ParseDockerRef``): ``docker.io/library/nginx:latest``, or ``name@digest``."""
        if self.repository is None:
            return self.name
        return f"{self.name}@{self.digest}" if self.digest else f"{self.name}:{self.tag or 'latest'}"

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


def acr_suffix(host: str) -> str | None:
    """The ACR cloud suffix of a login server or data endpoint (``.azurecr.io``, ``.azurecr.cn``,
    ``.azurecr.us``), or None.

    >>> acr_suffix("r1234.azurecr.us"), acr_suffix("r1234.chinaeast2.data.azurecr.cn"), acr_suffix("ghcr.io")
    ('.azurecr.us', '.azurecr.cn', None)
    """
    h = host.lower()
    m = _ACR_DATA.match(h)
    if m:
        return m.group("suffix")
    for suffix in ACR_SUFFIXES:
        name = h[: -len(suffix)]
        if h.endswith(suffix) and "." not in name and _ACR_NAME.match(name):
            return suffix
    return None


def acr_name(host: str) -> str | None:
    """The registry name if ``host`` is an ACR login server or data endpoint, in any cloud.

    >>> acr_name("MyReg.azurecr.io"), acr_name("myreg.westeurope.data.azurecr.io"), acr_name("ghcr.io")
    ('myreg', 'myreg', None)
    >>> acr_name("govreg.azurecr.us")
    'govreg'
    """
    h = host.lower()
    m = _ACR_DATA.match(h)
    if m:
        return m.group("reg")
    suffix = acr_suffix(h)
    return h[: -len(suffix)] if suffix else None


def acr_data_endpoint(registry: str, region: str, suffix: str = ACR_SUFFIX) -> str:
    """``<reg>.<region>.data<suffix>``: a replica's dedicated data endpoint in the registry's cloud.

    >>> acr_data_endpoint("MyReg", "westeurope"), acr_data_endpoint("r1", "usgovvirginia", ".azurecr.us")
    ('myreg.westeurope.data.azurecr.io', 'r1.usgovvirginia.data.azurecr.us')
    """
    return f"{registry.lower()}.{region.lower()}.data{suffix}"


def _echo(text: str) -> str:
    """The input, quoted and cut to about 100 characters, for an error line."""
    if len(text) > _ECHO_MAX:
        return repr(text[:_ECHO_MAX]) + f"… ({len(text)} characters)"
    return repr(text)


def _bad(raw: str, what: str, kind: RefError = RefError.INVALID_FORMAT) -> InvalidReference:
    return InvalidReference(kind, f"{_echo(raw)}: {what}")


# --------------------------------------------------------------------------- host and port

def _endpoint(domain: str, raw: str, default_port: int) -> tuple[str, int]:
    """The host and port to dial for a docker domain (``host[:port]``, grammar already checked)."""
    m = _HOST_PORT.match(domain)
    if m is None:  # pragma: no cover - callers pass domains the grammar accepted
        raise _bad(raw, f"{_echo(domain)} is not a registry host[:port]")
    host, port_s = m.group("host"), m.group("port")
    if host.startswith("["):
        try:
            ip = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise _bad(raw, f"{_echo(host)} is not an IPv6 address") from None
        host = str(ip)
    else:
        host = host.lower()
        if len(host) > 253 or any(len(label) > 63 for label in host.split(".")):
            raise _bad(raw, f"{_echo(host)} is not a resolvable host name (a label is longer than 63 "
                            "characters or the name longer than 253)")
    if port_s is None:
        return host, default_port
    port = int(port_s)  # ASCII digits only: the grammar says [0-9]+ (compiled with re.ASCII)
    if not 0 < port <= _MAX_PORT:
        raise _bad(raw, f"invalid port {port_s[:20]!r} (a TCP port is 1-{_MAX_PORT})")
    return host, port


def _registry(raw: str, domain: str, scheme: str) -> Target:
    default_port = 80 if scheme == "http" else 443
    if domain.lower() in _DOCKER_HUB_DOMAINS:
        return Target(raw=raw, host=DOCKER_HUB, port=default_port, scheme=scheme, domain=DEFAULT_DOMAIN)
    host, port = _endpoint(domain, raw, default_port)
    return Target(raw=raw, host=host, port=port, scheme=scheme, domain=domain.lower())


def _names_registry(component: str) -> bool:
    """SPEC's extension: a single component whose host part has a dot, is localhost or is ``[v6]``."""
    if component.startswith("["):
        return True
    host = component.partition(":")[0]
    return "." in host or host.lower() == "localhost"


def _registry_only(raw: str, component: str, scheme: str) -> Target:
    m = _HOST_PORT.match(component)
    if m is None:
        raise _bad(raw, _why_not_host_port(component))
    return _registry(raw, component, scheme)


def _why_not_host_port(text: str) -> str:
    """Which part of a would-be ``host[:port]`` is wrong."""
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            return "unbalanced '[' in the registry host"
        host, rest = text[: close + 1], text[close + 1:]
    else:
        host, colon, port = text.partition(":")
        rest = colon + port
    if not _HOST_RE.match(host):
        if "%" in host:
            return f"{_echo(host)}: IPv6 zone identifiers are not allowed in a registry host"
        return (f"{_echo(host)} is not a valid registry host (letters, digits and inner '-' per "
                "dot-separated label, or [IPv6])")
    port = rest[1:] if rest.startswith(":") else rest
    hint = "" if "@" in rest or "/" in rest else "; an image needs a repository: host/repo:tag"
    return f"{_echo(port)} is not a port (a registry is host[:port]{hint})"


# --------------------------------------------------------------------------- public API

def parse_target(ref: str, *, plain_http: bool = False) -> Target:
    """Parse a REF as docker reads it, plus SPEC's registry-only extension.

    >>> t = parse_target("nginx:1.25")
    >>> (t.host, t.port, t.repository, t.tag, t.normalized)
    ('registry-1.docker.io', 443, 'library/nginx', '1.25', 'docker.io/library/nginx:1.25')
    >>> t = parse_target("myreg.azurecr.io/team/app:1.2")
    >>> (t.host, t.port, t.repository, t.tag)
    ('myreg.azurecr.io', 443, 'team/app', '1.2')
    >>> t = parse_target("[::1]:5000")
    >>> (t.host, t.port, t.repository, t.domain)
    ('::1', 5000, None, '[::1]:5000')
    """
    scheme = "http" if plain_http else "https"
    transport = next((t for t in _TRANSPORTS if ref[: len(t)].lower() == t), None)
    if transport is not None:  # `docker://nginx:1.25` as skopeo writes it: the REF after the transport
        inner = ref[len(transport):]
        if "://" in inner:  # one transport wraps a docker reference, never a URL or another transport
            raise _bad(ref, f"after {transport} comes a reference (host/repo:tag), not a URL")
        return replace(parse_target(inner, plain_http=plain_http), raw=ref)
    url = _URL.match(ref) if "://" in ref else None
    if url is not None:
        return _parse_url(ref, url, plain_http)
    if ref[:6].lower() == "oci://":
        raise _bad(ref, "helm's oci:// URL names a chart without its version: give it as host/repo:VERSION")
    if "://" in ref:
        raise _bad(ref, "not a reference or a registry URL (expected https://host[:port][/v2/])")
    if "/" not in ref and _names_registry(ref):
        return _registry_only(ref, ref, scheme)
    try:
        named = parse_normalized_named(ref)
    except InvalidReference as exc:
        raise _bad(ref, _describe(ref, exc), exc.kind) from None
    if named.domain in _DOCKER_HUB_DOMAINS:
        default_port = 80 if plain_http else 443
        host, port = DOCKER_HUB, default_port
    else:
        host, port = _endpoint(named.domain, ref, 80 if plain_http else 443)
    return Target(raw=ref, host=host, port=port, repository=named.path, tag=named.tag or None,
                  digest=named.digest or None, scheme=scheme, domain=named.domain)


def parse_registry(text: str, *, plain_http: bool = False) -> Target:
    """A registry alone, from a place that can only hold one (a Docker config key): ``host[:port]``
    with any domain docker's grammar accepts (with or without a dot), or a registry URL.

    >>> parse_registry("myregistry:5000").host_port, parse_registry("index.docker.io").host
    ('myregistry:5000', 'registry-1.docker.io')
    """
    url = _URL.match(text) if "://" in text else None
    if url is not None:
        return _parse_url(text, url, plain_http)
    return _registry_only(text, text, "http" if plain_http else "https")


def acr_target(name: str, *, plain_http: bool = False) -> Target:
    """``-n NAME`` as ``az acr -n`` reads it: ``myregistry`` → ``myregistry.azurecr.io``.

    A login server (``myregistry.azurecr.io``, or one of a sovereign cloud such as
    ``myregistry.azurecr.us``) is accepted too, as az accepts it.

    >>> t = acr_target("MyRegistry")
    >>> t.host, t.raw
    ('myregistry.azurecr.io', '-n MyRegistry')
    >>> acr_target("govreg.azurecr.us").host
    'govreg.azurecr.us'
    """
    suffix = next((s for s in ACR_SUFFIXES if name.lower().endswith(s)), ACR_SUFFIX)
    short = name[: -len(suffix)] if name.lower().endswith(suffix) else name
    if not _ACR_NAME.match(short):
        raise InvalidReference(RefError.INVALID_FORMAT,
                               f"-n {_echo(name)}: an ACR registry name is 5-50 letters and digits")
    host = f"{short.lower()}{suffix}"
    # raw is what the user typed: a report's `regdoctor check -n NAME` line must not turn into a bare word
    return Target(raw=f"-n {name}", host=host, port=80 if plain_http else 443,
                  scheme="http" if plain_http else "https", domain=host)


def _parse_url(raw: str, url: re.Match[str], plain_http: bool) -> Target:
    authority, path = url.group("authority"), url.group("path")
    if "@" in authority:
        # never echo: the userinfo is a secret
        raise InvalidReference(RefError.INVALID_FORMAT,
                               "a registry URL must not carry credentials (user:password@); use "
                               "-u USER --password-stdin or the Docker config")
    scheme = "http" if plain_http or url.group("scheme").lower() == "http" else "https"
    if not authority:
        raise _bad(raw, "no host in the URL")
    route = api_route(path)
    if route is not None:
        return _api_url(raw, authority, *route, scheme)
    if path not in _URL_PATHS:
        raise _bad(raw, "a registry URL is https://host[:port][/v2/] or an API URL (/v2/<name>/manifests/<tag>); "
                        "write an image as host/repo:tag")
    return _registry_only(raw, authority, scheme)


_CHECKED_DOMAIN = "registry.invalid"  # RFC 6761: never a real host; only the grammar sees it


def api_route(path: str) -> tuple[str, str | None] | None:
    """(name, manifest reference) of a distribution API path (registry/api/v2/descriptors.go), the
    URL every Go error prints (``Get "https://r/v2/<name>/manifests/<reference>": …``); the
    reference is None for ``tags/list`` and ``blobs/…``. The name and reference are checked by
    the REF grammar afterwards. A reference never holds ``/``, so the last ``/manifests/`` splits.

    >>> api_route("/v2/team/manifests/app/manifests/1.2"), api_route("/v2/a/blobs/sha256:0"), api_route("/v2/")
    (('team/manifests/app', '1.2'), ('a', None), None)
    """
    if not path.startswith("/v2/"):
        return None
    rest = path[4:]
    name, sep, reference = rest.rpartition("/manifests/")
    if sep and name and reference and "/" not in reference:
        return name, reference
    if rest.endswith("/tags/list") and len(rest) > len("/tags/list"):
        return rest[: -len("/tags/list")], None
    name, sep, blob = rest.rpartition("/blobs/")
    if sep and name and (blob.startswith("uploads") or (":" in blob and "/" not in blob)):
        return name, None
    return None


def _api_url(raw: str, authority: str, name: str, reference: str | None, scheme: str) -> Target:
    """A registry API URL as the image it is about: ``/v2/<name>/manifests/<reference>`` is that
    image; ``tags/list`` and ``blobs/…`` name the repository (its default tag is checked).

    >>> t = _api_url("u", "r.io", "team/app", "1.2", "https")
    >>> t.normalized, t.raw
    ('r.io/team/app:1.2', 'u')
    """
    registry = _registry_only(raw, authority, scheme)  # the URL names its host: no Docker Hub guess
    sep = "@" if reference and ":" in reference else ":"
    try:  # the name and reference by docker's grammar, under a domain that is surely one
        image = parse_normalized_named(f"{_CHECKED_DOMAIN}/{name}" + (f"{sep}{reference}" if reference else ""))
    except InvalidReference as exc:
        raise _bad(raw, f"the URL's {'image' if reference else 'repository'}: {exc}", exc.kind) from None
    return replace(registry, repository=image.path, tag=image.tag or None, digest=image.digest or None)


def _describe(ref: str, exc: InvalidReference) -> str:
    """Docker's error, and which part of the REF it is about when that can be told."""
    if exc.kind is RefError.INVALID_FORMAT:
        return f"{exc}: {_which_part(ref)}"
    if exc.kind is RefError.NAME_CONTAINS_UPPERCASE:
        remote = split_docker_domain(ref)[1].partition(":")[0]
        return f"invalid reference format: repository name {_echo(remote)} must be lowercase"
    if exc.kind is RefError.NAME_IS_IDENTIFIER:
        return "invalid repository name: cannot specify 64-byte hexadecimal strings (an image ID is not a REF)"
    if exc.kind in (RefError.DIGEST_INVALID_FORMAT, RefError.DIGEST_INVALID_LENGTH, RefError.DIGEST_UNSUPPORTED):
        algorithm = ref.rpartition("@")[2].partition(":")[0]
        if algorithm in DIGEST_HEX_LENGTH:
            return f"{exc}: a {algorithm} digest is {DIGEST_HEX_LENGTH[algorithm]} lower-case hex digits"
        return f"{exc} {_echo(algorithm)} (docker knows {', '.join(sorted(DIGEST_HEX_LENGTH))})"
    return str(exc)


def _which_part(ref: str) -> str:
    """The first part of a REF the grammar refuses, in words (for the message only: the grammar
    has decided already)."""
    if not ref:
        return "the reference is empty"
    if any(c.isspace() for c in ref):
        return "it contains white space"
    name, at, digest = ref.partition("@")
    if at and not ANCHORED_DIGEST_RE.match(digest):
        return f"digest {_echo(digest)} is not algorithm:hex, e.g. sha256:<64 hex digits>"
    first, slash, rest = name.partition("/")
    has_domain = bool(slash) and ("." in first or ":" in first or first == "localhost" or first.lower() != first)
    head, _, tail = (rest if has_domain else name).rpartition("/")
    last, colon, tag = tail.partition(":")
    if colon and not ANCHORED_TAG_RE.match(tag):
        return f"tag {_echo(tag)} is not 1-128 letters, digits, '_', '.', '-' (and not first '.' or '-')"
    if has_domain and not _HOST_PORT.match(first):
        if not first.startswith("[") and first.count(":") > 1:
            return f"registry {_echo(first)}: an IPv6 address goes in brackets, e.g. [fd00::1]:5000"
        return f"registry {_echo(first)} is not host[:port]"
    for comp in [*(head.split("/") if head else []), last]:
        if not _PATH_COMPONENT_RE.match(comp):
            if not comp:
                return "an empty path component (a '/' too many or too few)"
            return (f"path component {_echo(comp)} is not lower-case letters and digits joined by "
                    "'.', '_', '__' or '-'")
    return "expected [host[:port]/]path[:tag][@digest]"


__all__ = ["ACR_SUFFIX", "ACR_SUFFIXES", "DOCKER_HUB", "Target", "acr_data_endpoint", "acr_name", "acr_suffix",
           "acr_target", "parse_registry", "parse_target"]
