"""Entities of a line: hosts, addresses, resolver, proxy, status, image, ACR names, the client.

Pure functions over one (redacted) line and the line before it. Every regex here is literal-led
or pinned, so each costs time linear in the line length.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from regdoctor.errors import BadReference
from regdoctor.kb.symptoms import SymptomBook
from regdoctor.target import acr_name, parse_target

_METHOD_URL = re.compile(
    r"""(?P<method>GET|HEAD|POST|PUT|PATCH|DELETE|Get|Head|Post|Put|Patch|Delete)\s+"?"""
    r"""(?P<url>https?://[^\s"'<>]+?)"?(?=:\s|:$|"|\s|$)""")
ANY_URL = re.compile(r"""https?://[^\s"'<>()\[\]]+""")
_PY_POOL = re.compile(r"(?P<scheme>HTTPS?)ConnectionPool\(host='(?P<host>[^']+)', port=(?P<port>\d+)\)"
                      r"(?:: Max retries exceeded with url: (?P<path>\S+))?")
_PINGING = re.compile(r"pinging (?:container|docker) registry (?P<host>[A-Za-z0-9._-]+(?::\d+)?)")
_QUOTED_REGISTRY = re.compile(r"(?:registry login server|registry|access to registry) '(?P<host>[^'\s]+)'")
_CHECK_HEALTH = re.compile(r"check-health -n (?P<name>[A-Za-z0-9]+)")
_IMAGE_REFS = (
    re.compile(r"docker://(?P<ref>[^\s\"']+?)(?=:\s|\"|'|\s|$)"),
    re.compile(r"(?:Failed to pull image|failed to resolve reference|failed to pull and unpack image|"
               r"Error parsing image name) \"(?:docker://)?(?P<ref>[^\"\s]+)\""),
    re.compile(r"manifest for (?P<ref>\S+) not found"),
    re.compile(r"no such manifest: (?P<ref>\S+)"),
    re.compile(r"pull access denied for (?P<ref>[^\s,]+)"),
)
_READING_MANIFEST = re.compile(r"reading manifest (?P<tag>\S+) in (?P<repo>\S+?):\s")
_DIAL = re.compile(r"dial tcp (?P<address>\[[0-9A-Fa-f:.%]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[A-Za-z0-9._-]+)"
                   r":(?P<port>[0-9]{1,5})")
_PEER = re.compile(r"(?:read|write) tcp \S+->(?P<address>\[[0-9A-Fa-f:.%]+\]|[0-9.]+):(?P<port>[0-9]{1,5})")
_RESOLVER = re.compile(r" on (?P<resolver>\[[0-9A-Fa-f:.%]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f:]+):53\b")
_PROXY_DIAL = re.compile(r"proxyconnect tcp: dial tcp (?P<address>\[[0-9A-Fa-f:.%]+\]|[^\s:]+):(?P<port>[0-9]{1,5})")
_PROXY_LOOKUP = re.compile(r"proxyconnect tcp: dial tcp: lookup (?P<host>[A-Za-z0-9._-]+)")
_PROXY_ENV = re.compile(r"(?i)\b(?:https?|all)_proxy=[\"']?(?P<proxy>[^\s\"']+)")
_PROXY_FLAG = re.compile(r"--proxy[= ](?P<proxy>\S+)")
_STATUS = (
    re.compile(r"\b(?P<status>[1-5][0-9]{2}) \((?P<text>[A-Za-z][A-Za-z ]{2,40})\)"),
    re.compile(r"(?:status code|StatusCode:|status:|Response code:|status) (?P<status>[1-5][0-9]{2})\b"),
    re.compile(r"\b(?P<status>[1-5][0-9]{2}) (?P<text>Forbidden|Unauthorized|Too Many Requests|Bad Gateway|"
               r"Service Unavailable|Gateway Timeout|Internal Server Error|Not Found|Proxy Authentication Required)"),
)
BARE_STATUS = {"Forbidden": "403", "Bad Gateway": "502", "Service Unavailable": "503",
                "Internal Server Error": "500", "Gateway Timeout": "504", "Proxy Authentication Required": "407"}
ACR_HOST = re.compile(r"\b[A-Za-z0-9]{5,50}(?:\.[a-z0-9]+\.(?:data|geo))?\.azurecr\.io\b", re.IGNORECASE)
ACR_DATA = re.compile(r"^(?P<reg>[a-z0-9]+)\.(?P<region>[a-z0-9]+)\.(?:data|geo)\.azurecr\.io$")
_REASONS = re.compile(r"\[(?:Errno|WinError) (?P<num>-?\d+)\] (?P<text>[^'\")\]]+)")


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
    """Working state while one candidate line is read (mutable; never leaves this module)."""

    text: str
    prev: str
    entities: dict[str, Any] = field(default_factory=dict)
    urls: list[tuple[int, int, str, str]] = field(default_factory=list)  # (start, end, method, url)


def extract(text: str, prev: str) -> LineState:
    """The generic entities of a line (symptom groups add and override later)."""
    ln = LineState(text, prev)
    e = ln.entities
    ln.urls = [(m.start(), m.end(), m.group("method").upper(), m.group("url")) for m in _METHOD_URL.finditer(text)]
    for src in (text, prev):
        if "registry_host" not in e:
            m = _PINGING.search(src)
            if m:
                hp = m.group("host")
                host, _, port = hp.partition(":")
                e["registry_host"] = host.lower()
                if port:
                    e["registry_port"] = int(port)
        for rx in _IMAGE_REFS:
            if "repository" in e:
                break
            m = rx.search(src)
            if m:
                for k, v in image_entities(m.group("ref")).items():
                    e.setdefault(k, v)
        if "repository" not in e:
            m = _READING_MANIFEST.search(src)
            if m:
                for k, v in image_entities(f"{m.group('repo')}:{m.group('tag')}").items():
                    e.setdefault(k, v)
        if "registry_host" not in e:
            m = _QUOTED_REGISTRY.search(src)
            if m:
                e["login_server"] = m.group("host").lower()
    m = _PY_POOL.search(text)
    if m:
        e["python_host"] = m.group("host").lower()
        e["python_url"] = (f"{m.group('scheme').lower()}://{m.group('host')}:{m.group('port')}"
                           f"{m.group('path') or '/'}")
    m = _CHECK_HEALTH.search(text)
    if m:
        e["registry_name"] = m.group("name").lower()
    m = _PROXY_DIAL.search(text)
    if m:
        e["proxy_address"] = f"{m.group('address')}:{m.group('port')}"
    m = _PROXY_LOOKUP.search(text)
    if m:
        e["proxy_host"] = m.group("host").lower()
    m = _PROXY_ENV.search(text) or _PROXY_FLAG.search(text)
    if m:
        e["proxy"] = m.group("proxy")
    for m in _DIAL.finditer(text):
        if text[max(0, m.start() - 18): m.start()].endswith("proxyconnect tcp: "):
            continue  # that address is the proxy's, not the registry's
        e["address"], e["port"] = strip_brackets(m.group("address")), int(m.group("port"))
    if "address" not in e:
        m = _PEER.search(text)
        if m:
            e["address"], e["port"] = strip_brackets(m.group("address")), int(m.group("port"))
    m = _RESOLVER.search(text)
    if m:
        e["resolver"] = strip_brackets(m.group("resolver"))
    for rx in _STATUS:
        m = rx.search(text)
        if m:
            e["status"] = m.group("status")
            if "text" in rx.groupindex and m.group("text"):
                e["status_text"] = m.group("text").strip()
            break
    m = _REASONS.search(text)
    if m:
        e["errno_text"] = m.group("text").strip()
    return ln



def fingerprints(text: str, prev: str, bk: SymptomBook) -> dict[str, Any]:
    client: str | None = None
    bounds: dict[str, list[tuple[int, ...] | None]] = {}
    facts: list[str] = []
    for fp in bk.fingerprints:
        src = text if fp.anchor in text else (prev if fp.anchor in prev else None)
        if src is None or (fp.regex is not None and not fp.regex.search(src)):
            continue
        if fp.client and client is None:
            client = fp.client
        if fp.library:
            lo_hi = bounds.setdefault(fp.library, [None, None])
            if fp.min is not None and (lo_hi[0] is None or fp.min > lo_hi[0]):
                lo_hi[0] = fp.min
            if fp.max is not None and (lo_hi[1] is None or fp.max < lo_hi[1]):
                lo_hi[1] = fp.max
        if fp.fact and fp.fact not in facts:
            facts.append(fp.fact)
    out: dict[str, Any] = {}
    if client:
        out["client"] = client
    versions = [_version_text(lib, lo, hi) for lib, (lo, hi) in bounds.items()]
    if versions:
        out["client_version"] = versions
    if facts:
        out["client_facts"] = facts
    return out


def _version_text(lib: str, lo: tuple[int, ...] | None, hi: tuple[int, ...] | None) -> str:
    def v(t: tuple[int, ...]) -> str:
        return ".".join(str(p) for p in t)

    if lo is not None and hi is not None:
        if lo > hi:
            return f"{lib} (conflicting hints: ≥ {v(lo)} and ≤ {v(hi)})"
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

