"""Entities of a line: hosts, addresses, resolver, proxy, status, image, ACR names, the client.

Pure functions over one (redacted) line and the line before it. Every regex here is literal-led
or pinned, so each costs time linear in the line length.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from regdoctor.errors import BadReference
from regdoctor.explain.grammar import Reading
from regdoctor.kb.symptoms import SymptomBook
from regdoctor.target import acr_name, parse_target

# containerd/nerdctl logrus fields: `… msg="trying next host" error="…" host="r.io:5000"`
_LOGRUS_HOST = re.compile(r'\bhost="?(?P<host>[A-Za-z0-9._-]{1,253}+(?::[0-9]{1,5}+)?)"?')
# (containers/image before 5.x printed no host: `pinging docker registry returned: Get …`)
# the registry a client says its request was for: containers/image's ping, and its login's
# `authenticating creds for "R"` (the token request that follows may go to another host)
_REGISTRY_NAMED = re.compile(r"(?:pinging (?:container|docker) registry (?!returned\b)|authenticating creds for \"?)"
                      r"(?P<host>[A-Za-z0-9._-]{1,253}+(?::[0-9]{1,5}+)?)")
_QUOTED_REGISTRY = re.compile(r"(?:registry login server|registry|access to registry) '(?P<host>[^'\s]{1,253}+)'")
_CHECK_HEALTH = re.compile(r"check-health -n (?P<name>[A-Za-z0-9]{1,50}+)")
# the command the user ran, pasted above its error: `docker pull [--platform P] REF`, `podman pull`,
# `nerdctl pull`, `crictl pull`, `buildah pull`, `ctr [-n NS] image(s) pull` (options taking a value
# are the ones these tools have; any other option is a flag or `--opt=value`)
_PULL_COMMAND = re.compile(r"\b(?:docker|podman|nerdctl|crictl|buildah|ctr(?: (?:-n|--namespace)[= ]\S{1,64}+)?"
                           r" i(?:mages?)?) pull(?: (?:--platform|--creds|--user|-u|--authfile|--cert-dir|-n|"
                           r"--namespace)[= ]\S{1,200}+| --?[a-z][a-z-]{0,30}+(?:=\S{1,200}+)?){0,6}+"
                           r" (?P<ref>[^\s\"'-][^\s\"']{0,511}+)")
_IMAGE_REFS = (
    re.compile(r"docker://(?P<ref>[^\s\"']{1,512}+)"),
    re.compile(r"(?:Failed to pull image|failed to resolve reference|failed to pull and unpack image|"
               r"Error parsing image name|Pulling image|pulling image) \"(?:docker://)?(?P<ref>[^\"\s]{1,512}+)\""),
    re.compile(r"manifest for (?P<ref>[^\s]{1,512}+) not found"),
    # BuildKit: `failed to resolve source metadata for docker.io/library/x:1`, `load metadata for …`
    re.compile(r"(?:resolve source metadata|load metadata) for (?P<ref>[^\s:]{1,256}+(?::[^\s:]{1,128}+)?)"),
    re.compile(r"no such manifest: (?P<ref>[^\s]{1,512}+)"),
    re.compile(r"pull access denied for (?P<ref>[^\s,]{1,512}+)"),
    # docker push's header names the repository as docker parsed it
    re.compile(r"The push refers to repository \[(?P<ref>[^\]\s]{1,512}+)\]"),
    _PULL_COMMAND,
)
#: pullers whose registry mirrors leave no mark on the request (containerd's carry `?ns=`)
_UNMARKED_MIRRORS = ("podman", "buildah")
_READING_MANIFEST = re.compile(r"reading manifest (?P<tag>[^\s]{1,128}+) in (?P<repo>[^\s:]{1,512}+)")
_PROXY_ENV = re.compile(r"(?i)\b(?:https?|all)_proxy=[\"']?(?P<proxy>[^\s\"']{1,512}+)")
_PROXY_FLAG = re.compile(r"--proxy[= ](?P<proxy>[^\s]{1,512}+)")
#: reason phrases a client shows without the number (Go's CONNECT errors)
BARE_STATUS = {"Forbidden": "403", "Bad Gateway": "502", "Service Unavailable": "503",
               "Internal Server Error": "500", "Gateway Timeout": "504", "Proxy Authentication Required": "407"}
ACR_DATA = re.compile(r"^(?P<reg>[a-z0-9]{1,50})\.(?P<region>[a-z0-9]{1,40})\.(?:data|geo)\.azurecr\.io$")


def strip_brackets(value: str) -> str:
    return value[1:-1] if value.startswith("[") and value.endswith("]") else value


def host_port(url: str) -> tuple[str | None, int | None, str, str]:
    """Host, port, scheme and path of a URL, tolerating junk (``(None, None, "", "")``)."""
    try:
        parts = urlsplit(url.rstrip(":.,;"))
        host, port = parts.hostname, parts.port
    except ValueError:
        return None, None, "", ""
    return host, port, parts.scheme, parts.path


def image_entities(ref: str) -> dict[str, Any]:
    """Registry host, repository and reference of an image ref, if it parses."""
    try:
        t = parse_target(ref.rstrip(":,."))
    except BadReference:
        return {}
    out: dict[str, Any] = {"registry_host": t.host}
    if t.port != 443:
        out["registry_port"] = t.port
    if t.repository:
        out["repository"] = t.repository
        out["reference"] = t.reference
    return out


@dataclass
class LineState:
    """Working state while one candidate line is read (mutable; never leaves the package)."""

    text: str
    prev: str
    reading: Reading
    entities: dict[str, Any] = field(default_factory=dict)
    #: a pasted message, whose lines may be one message wrapped (a log's records are not)
    wrapped: bool = False


def _wrapper_entities(e: dict[str, Any], src: str, own: bool) -> None:
    """Hosts and images that wrappers name (`pinging container registry H`, `docker://…`)."""
    if "registry_host" not in e:
        m = _REGISTRY_NAMED.search(src) or (_LOGRUS_HOST.search(src) if own and "trying next host" in src else None)
        if m:
            host, _, port = m.group("host").partition(":")
            e["registry_host"] = host.lower()
            if port:
                e["registry_port"] = int(port)
            # the client says which registry its request was for, whatever host the request reached
            e["registry_named_by_client"] = True
    for rx in _IMAGE_REFS:
        if "repository" in e:
            break
        m = rx.search(src)
        if m:
            ref = m.group("ref")
            if rx.pattern.startswith("docker://"):
                ref = ref.split(": ", 1)[0].rstrip(":")
            if rx is _PULL_COMMAND and m.group(0).startswith(_UNMARKED_MIRRORS):
                # containers/image tries registries.conf mirrors first and marks their requests with
                # nothing: another host below this command may be a mirror as well as a redirect
                e["unmarked_mirrors"] = True
            for k, v in image_entities(ref).items():
                e.setdefault(k, v)
    if "repository" not in e:
        m = _READING_MANIFEST.search(src)
        if m:
            for k, v in image_entities(f"{m.group('repo')}:{m.group('tag')}").items():
                e.setdefault(k, v)
    if "registry_host" not in e and "login_server" not in e:
        m = _QUOTED_REGISTRY.search(src)
        if m:
            e["login_server"] = m.group("host").lower()


def _port(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and int(value) < 65536 else None


def _python_pool_entities(e: dict[str, Any], f: Mapping[str, str]) -> None:
    """The host and URL of a urllib3 ``HTTPSConnectionPool(host=…, port=…)`` wrapper."""
    if "pool_host" in f:
        e["python_host"] = f["pool_host"]
        e["python_url"] = (f"{f.get('scheme', 'https')}://{f['pool_host']}:{f.get('pool_port', '443')}"
                           f"{f.get('path', '/')}")


def _dns_leaf_entities(e: dict[str, Any], r: Reading, f: Mapping[str, str]) -> None:
    """The name that did not resolve (the proxy's, behind ``proxyconnect``) and the resolver asked."""
    host = f.get("lookup_host") or f.get("host")
    if host:
        e["proxy_host" if r.proxied else "host"] = host
    if "resolver" in f:
        e["resolver"] = f["resolver"]


def _socket_leaf_entities(e: dict[str, Any], r: Reading, f: Mapping[str, str]) -> None:
    """The peer of a failed socket (the proxy's, behind ``proxyconnect``) and whether it was a read or write."""
    if r.proxied:
        port = f.get("leaf_port")
        e["proxy_address"] = f"{f['leaf_address']}:{port}" if port else f["leaf_address"]
    else:
        e["address"] = f["leaf_address"]
        port_n = _port(f.get("leaf_port"))
        if port_n is not None:
            e["port"] = port_n
    if f.get("during") in ("read", "write"):
        e["during"] = f["during"]


_SOCKET_KINDS = ("tcp.", "conn.", "timeout.", "tls.", "http.")


def _leaf_peer_entities(e: dict[str, Any], r: Reading, f: Mapping[str, str], kind: str) -> None:
    """Who the leaf error is about: a name, a socket peer or a dialled address (the proxy's when proxied)."""
    if kind.startswith("dns."):
        _dns_leaf_entities(e, r, f)
    elif "leaf_address" in f and kind.startswith(_SOCKET_KINDS):
        _socket_leaf_entities(e, r, f)
    elif "dial_address" in f and not r.proxied:
        e["address"] = f["dial_address"]
    if r.proxied and "lookup_host" in f and "proxy_host" not in e and not kind.startswith("dns."):
        e["proxy_host"] = f["lookup_host"]


#: grammar fields copied as they are: what the server or the OS answered
_ANSWER_FIELDS = ("status", "status_text", "errno_text", "errno_name", "client_ip", "page_title", "timeout_s",
                  "cert_names", "issuer", "http_error", "oauth_error")


def _answer_entities(e: dict[str, Any], f: Mapping[str, str]) -> None:
    """The status, errno, page and registry error the line carries."""
    for key in _ANSWER_FIELDS:
        if key in f:
            e[key] = f[key]
    if "message" in f:
        e["message"] = f["message"]
    if "oci_code" in f:
        e["errors"] = f["oci_code"] + (f": {f['message']}" if "message" in f else "")


def _tls_entities(e: dict[str, Any], r: Reading, f: Mapping[str, str], kind: str) -> None:
    """A TLS leaf: its text, the clock against the validity bound, the name a certificate lacked."""
    if not kind.startswith("tls."):
        return
    e["tls_error"] = f.get("tls_error") or (r.leaf.text if r.leaf else "")
    if "now" in f:
        e["now"] = f["now"]
        e["not_after" if f.get("when") == "after" else "not_before"] = f.get("bound", "")
    if kind != "tls.name_mismatch":
        return
    wanted = f.get("host") or f.get("host2")
    if wanted:
        e["host"] = wanted.lower()
    if "address" in f and "leaf_address" not in f:
        e["address"] = f["address"]


def _network_entities(e: dict[str, Any], r: Reading) -> None:
    """Addresses, resolver, proxy, status and server message, as the grammar read them."""
    f = r.fields
    kind = r.leaf.kind if r.leaf else ""
    _python_pool_entities(e, f)
    _leaf_peer_entities(e, r, f, kind)
    _answer_entities(e, f)
    _tls_entities(e, r, f, kind)
    if "detail_name" in f:
        e.setdefault("repository", f["detail_name"])
    if "detail_action" in f:
        e["scope_action"] = f["detail_action"]
    if kind == "tcp.timeout" and "host" in f and "address" not in e:
        e["host"] = f["host"]
    if "dialing_host" in f and not r.proxied:
        e.setdefault("host", f["dialing_host"])  # Docker Desktop's `dialing H:443`: the endpoint dialled


def extract(text: str, prev: str, reading: Reading) -> LineState:
    """The entities of a line: the grammar's, and those its wrappers name (here or on the line before)."""
    ln = LineState(text, prev, reading)
    e = ln.entities
    for src, own in ((text, True), (prev, False)):
        _wrapper_entities(e, src, own)
    m = _CHECK_HEALTH.search(text)
    if m:
        e["registry_name"] = m.group("name").lower()
    m = _PROXY_ENV.search(text) or _PROXY_FLAG.search(text)
    if m:
        e["proxy"] = m.group("proxy")
    _network_entities(e, reading)
    return ln


Bounds = dict[str, tuple[tuple[int, ...] | None, tuple[int, ...] | None]]


def fingerprints(text: str, prev: str, bk: SymptomBook) -> dict[str, Any]:
    """The client that printed the line and what its wording says about versions (never a contradiction).

    >>> from regdoctor.kb.symptoms import book
    >>> fingerprints('Get "https://r.io/v2/": context deadline exceeded (Client.Timeout exceeded '
    ...              'while awaiting headers)', "", book())["client_version"]
    ['Go ≥ 1.14']
    """
    client: str | None = None
    bounds: Bounds = {}
    facts: list[str] = []
    for fp in bk.fingerprints:
        src = text if fp.anchor in text else (prev if fp.anchor in prev else None)
        if src is None or (fp.regex is not None and not fp.regex.search(src)):
            continue
        if fp.client and client is None:
            client = fp.client
        if fp.library:
            merge_bounds(bounds, {fp.library: (fp.min, fp.max)})
        if fp.fact and fp.fact not in facts:
            facts.append(fp.fact)
    out: dict[str, Any] = {}
    if client:
        out["client"] = client
    if bounds:
        out["client_bounds"] = {lib: [list(lo) if lo else None, list(hi) if hi else None]
                                for lib, (lo, hi) in bounds.items()}
    versions = version_texts(bounds)
    if versions:
        out["client_version"] = versions
    if facts:
        out["client_facts"] = facts
    return out


def merge_bounds(into: Bounds, more: Bounds) -> None:
    """Narrow each library's (min, max) by another observation's."""
    for lib, (lo, hi) in more.items():
        old_lo, old_hi = into.get(lib, (None, None))
        if lo is not None and (old_lo is None or lo > old_lo):
            old_lo = lo
        if hi is not None and (old_hi is None or hi < old_hi):
            old_hi = hi
        into[lib] = (old_lo, old_hi)


def version_texts(bounds: Bounds) -> list[str]:
    """One text per library whose hints agree; a library whose hints contradict each other (two
    clients' lines in one log, a paste of two machines) says nothing rather than something false.

    >>> version_texts({"Go": ((1, 14), None), "containerd": ((2, 1), (2, 0))})
    ['Go ≥ 1.14']
    """
    return [t for lib, (lo, hi) in bounds.items() if (t := _version_text(lib, lo, hi)) is not None]


def _version_text(lib: str, lo: tuple[int, ...] | None, hi: tuple[int, ...] | None) -> str | None:
    def v(t: tuple[int, ...]) -> str:
        return ".".join(str(p) for p in t)

    if lo is not None and hi is not None:
        if lo > hi:
            return None
        return f"{lib} {v(lo)}" if lo == hi else f"{lib} {v(lo)}–{v(hi)}"
    if lo is not None:
        return f"{lib} ≥ {v(lo)}"
    return f"{lib} ≤ {v(hi)}" if hi is not None else lib


def acr_entities(e: dict[str, Any]) -> None:
    for key in ("url_host", "host", "registry_host", "login_server"):
        h = e.get(key)
        if not isinstance(h, str):
            continue
        m = ACR_DATA.match(h.lower())
        if m:
            e.setdefault("registry", m.group("reg"))
            e.setdefault("region", m.group("region"))
        name = acr_name(h)
        if name:
            e.setdefault("registry", name)
    if "registry" not in e and isinstance(e.get("registry_name"), str):
        e["registry"] = e["registry_name"]

