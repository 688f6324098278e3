"""Go's and Python's rules for choosing a proxy from the environment, side by side.

Strategy
--------
Pull clients are Go programs (dockerd, containerd, podman, skopeo) and follow
``golang.org/x/net/http/httpproxy``; the az CLI and other Python tools follow urllib and
requests. The two disagree on case precedence, ``*``, leading dots, ``*.`` wildcards, ports and
loopback (see reference/client-errors.md §4). Both are implemented here as pure functions of an
environment mapping so a difference can be reported as a finding. The Python rules are tested
against the standard library's own ``urllib.request`` functions as an oracle.

Only https requests matter to registries, so only the https side is modelled.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from regdoctor.redact import redact_url, userinfo


@dataclass(frozen=True)
class ProxyURL:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    raw: str

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def redacted(self) -> str:
        """The URL with the password replaced, safe to print."""
        return f"{self.scheme}://{userinfo(self.username, self.password)}{self.address}"


class ProxyURLError(ValueError):
    pass


def parse_proxy_url(value: str) -> ProxyURL:
    """Parse a proxy setting the way Go does: no scheme means ``http://``.

    >>> parse_proxy_url("proxy.corp:3128").address
    'proxy.corp:3128'
    >>> parse_proxy_url("https://u:p%40ss@p:8443").redacted
    'https://u:***@p:8443'
    """
    raw = value.strip()
    text = raw if "://" in raw else f"http://{raw}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ProxyURLError(f"cannot parse {redact_url(raw)!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https", "socks5", "socks5h"):
        raise ProxyURLError(f"unsupported proxy scheme {scheme!r}")
    if not parts.hostname:
        raise ProxyURLError("no host in the proxy URL")
    if port is None:
        port = 443 if scheme == "https" else (1080 if scheme.startswith("socks") else 80)
    return ProxyURL(
        scheme=scheme,
        host=parts.hostname,
        port=port,
        username=unquote(parts.username) if parts.username is not None else None,
        password=unquote(parts.password) if parts.password is not None else None,
        raw=raw,
    )


@dataclass(frozen=True)
class ProxyChoice:
    """The proxy a runtime would use for one https host, and why."""

    proxy: str | None  # the raw setting, e.g. "http://proxy:3128"; None = direct
    source: str | None  # the variable it came from, or why none applies
    reason: str  # one line: "HTTPS_PROXY is set", "NO_PROXY entry '.corp' matches", …

    @property
    def direct(self) -> bool:
        return self.proxy is None


def _first(env: Mapping[str, str], *names: str) -> tuple[str | None, str | None]:
    for n in names:
        v = env.get(n)
        if v:
            return v, n
    return None, None


def _is_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _go_no_proxy_match(no_proxy: str, host: str, port: int) -> str | None:
    """Return the NO_PROXY entry that makes Go bypass the proxy, or None."""
    host = host.lower()
    ip = _is_ip(host)
    for raw in no_proxy.split(","):
        p = raw.strip().lower()
        if not p:
            continue
        if p == "*":
            return "*"
        try:
            net = ipaddress.ip_network(p, strict=False) if "/" in p else None
        except ValueError:
            net = None
        if net is not None:
            if ip is not None and ip in net:
                return raw.strip()
            continue
        phost, pport = p, ""
        if p.count(":") == 1 or (p.startswith("[") and "]:" in p):
            phost, _, pport = p.rpartition(":")
            phost = phost.strip("[]")
        pip = _is_ip(phost)
        if pip is not None:
            if ip is not None and ip == pip and (not pport or pport == str(port)):
                return raw.strip()
            continue
        if ip is not None:
            continue  # Go compares names only with names
        match_host = False
        if phost.startswith("*."):
            phost = phost[1:]
        if not phost.startswith("."):
            match_host = True
            phost = "." + phost
        if (host.endswith(phost) or (match_host and host == phost[1:])) and (not pport or pport == str(port)):
            return raw.strip()
    return None


def go_proxy_for(env: Mapping[str, str], host: str, port: int = 443) -> ProxyChoice:
    """golang.org/x/net/http/httpproxy for an https URL to ``host:port``.

    >>> go_proxy_for({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".corp"}, "r.corp").reason
    "NO_PROXY entry '.corp' matches r.corp"
    """
    proxy, source = _first(env, "HTTPS_PROXY", "https_proxy")
    if proxy is None:
        http_only, http_src = _first(env, "HTTP_PROXY", "http_proxy")
        why = (f"{http_src} is set but Go uses only HTTPS_PROXY/https_proxy for https URLs"
               if http_only else "no HTTPS_PROXY/https_proxy set")
        return ProxyChoice(None, None, why)
    h = host.lower().strip("[]")
    ip = _is_ip(h)
    if h == "localhost" or (ip is not None and ip.is_loopback):
        return ProxyChoice(None, "loopback", f"Go never proxies {host} (loopback)")
    no_proxy, np_src = _first(env, "NO_PROXY", "no_proxy")
    if no_proxy:
        entry = _go_no_proxy_match(no_proxy, h, port)
        if entry is not None:
            return ProxyChoice(None, np_src, f"{np_src} entry '{entry}' matches {host}")
    return ProxyChoice(proxy, source, f"{source} is set")


def _python_env_proxies(env: Mapping[str, str]) -> dict[str, str]:
    """urllib.request.getproxies_environment: lower case wins, empty lower case cancels."""
    proxies: dict[str, str] = {}
    for name, value in env.items():
        lname = name.lower()
        if value and lname.endswith("_proxy"):
            proxies[lname[:-6]] = value
    if "REQUEST_METHOD" in env:
        proxies.pop("http", None)
    for name, value in env.items():
        if name.endswith("_proxy"):
            lname = name.lower()
            if value:
                proxies[lname[:-6]] = value
            else:
                proxies.pop(lname[:-6], None)
    return proxies


def _python_no_proxy_match(no_proxy: str, host: str, port: int | None) -> str | None:
    """requests' should_bypass_proxies (≥ 2.34, dot boundary) then urllib's proxy_bypass_environment."""
    host = host.lower()
    if no_proxy.strip() == "*":
        return "*"
    entries = [e for e in no_proxy.replace(" ", "").split(",") if e]
    ip = _is_ip(host)
    if ip is not None and ip.version == 4:
        for e in entries:
            if "/" in e:
                try:
                    if ip in ipaddress.ip_network(e, strict=False):
                        return e
                except ValueError:
                    continue
            elif host == e:
                return e
    host_port = f"{host}:{port}" if port is not None else host
    for e in entries:
        name = e.lstrip(".").lower()
        if not name:
            continue
        if name in (host, host_port) or host.endswith("." + name) or host_port.endswith("." + name):
            return e
    return None


def python_proxy_for(env: Mapping[str, str], host: str, port: int = 443) -> ProxyChoice:
    """urllib/requests for an https URL to ``host:port`` (port explicit only when not 443).

    >>> python_proxy_for({"HTTPS_PROXY": "http://a:1", "https_proxy": ""}, "r.io").reason
    'no https_proxy/HTTPS_PROXY/all_proxy in effect'
    """
    proxies = _python_env_proxies(env)
    proxy = proxies.get("https")
    src = "https_proxy" if proxy else None
    if proxy:
        src = "https_proxy" if env.get("https_proxy") else "HTTPS_PROXY"
    elif proxies.get("all"):
        proxy = proxies["all"]
        src = "all_proxy" if env.get("all_proxy") else "ALL_PROXY"
    if not proxy:
        return ProxyChoice(None, None, "no https_proxy/HTTPS_PROXY/all_proxy in effect")
    no_proxy = env.get("no_proxy") or env.get("NO_PROXY") or ""
    np_src = "no_proxy" if env.get("no_proxy") else "NO_PROXY"
    explicit_port = None if port == 443 else port
    entry = _python_no_proxy_match(no_proxy, host.strip("[]"), explicit_port) if no_proxy else None
    if entry is not None:
        return ProxyChoice(None, np_src, f"{np_src} entry '{entry}' matches {host}")
    return ProxyChoice(proxy, src, f"{src} is set")


__all__ = ["ProxyChoice", "ProxyURL", "ProxyURLError", "go_proxy_for", "parse_proxy_url", "python_proxy_for",
           "redact_url"]
