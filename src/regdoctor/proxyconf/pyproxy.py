"""CPython urllib's and requests' proxy rules, ported over an environment mapping (pure).

The az CLI and other Python tools use requests; plain scripts use ``urllib.request``.
Both read the environment through ``urllib.request.getproxies_environment`` and
``proxy_bypass_environment`` (POSIX; macOS and Windows add system settings, not modelled).

Sources: python/cpython ``Lib/urllib/request.py`` as shipped with CPython 3.11.7 (the
rules are unchanged through 3.13: 3.12 rewrote ``getproxies_environment`` to read each
variable once, with identical results), and psf/requests ``src/requests/utils.py`` 2.34.2
(1f6589ec3a1ee910f9a65cc3ceac60b26677bc0e): ``should_bypass_proxies``,
``get_environ_proxies``, ``select_proxy``. requests 2.34.0 added the dot boundary
(``example.com`` no longer bypasses ``badexample.com``; CPython bpo-39057).

Every function takes the environment as a mapping, in its iteration order (the order
decides between ``HTTP_PROXY`` and ``Http_Proxy``, as it does for ``os.environ``).
Errors: ``ValueError`` exactly where the peer raises one (a port that is not a number,
a proxy URL with no authority, a NUL in a host).
"""

from __future__ import annotations

import re
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import ParseResult, unquote, urlparse

# ---------------------------------------------------------------- urllib.request (CPython 3.11)


def environment_proxy_sources(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """``getproxies_environment`` with provenance: scheme -> (value, variable name).

    >>> environment_proxy_sources({"HTTPS_PROXY": "http://a:1", "https_proxy": ""})
    {}
    """
    proxies: dict[str, tuple[str, str]] = {}
    # first pass: any case; second pass: names ending in lower-case "_proxy" win (or cancel)
    for name, value in env.items():
        lname = name.lower()
        if value and lname[-6:] == "_proxy":
            proxies[lname[:-6]] = (value, name)
    # CVE-2016-1000110: under CGI, HTTP_PROXY may come from a client's "Proxy:" header
    if "REQUEST_METHOD" in env:
        proxies.pop("http", None)
    for name, value in env.items():
        if name[-6:] == "_proxy":
            lname = name.lower()
            if value:
                proxies[lname[:-6]] = (value, name)
            else:
                proxies.pop(lname[:-6], None)
    return proxies


def getproxies_environment(env: Mapping[str, str]) -> dict[str, str]:
    """``urllib.request.getproxies_environment()`` with ``os.environ`` = ``env``.

    >>> getproxies_environment({"HTTPS_PROXY": "http://a:1", "No_Proxy": "x"})
    {'https': 'http://a:1', 'no': 'x'}
    """
    return {k: v for k, (v, _) in environment_proxy_sources(env).items()}


_PORTPROG = re.compile("(.*):([0-9]*)", re.DOTALL)


def _splitport(host: str) -> tuple[str, str | None]:
    """``urllib.parse._splitport`` ("name:" loses its colon: the match rebinds the host)."""
    match = _PORTPROG.fullmatch(host)
    if match:
        host, port = match.groups()
        if port:
            return host, port
    return host, None


def bypass_entry(host: str, proxies: Mapping[str, str]) -> str | None:
    """The ``no_proxy`` entry that makes ``proxy_bypass_environment(host, proxies)`` true.

    >>> bypass_entry("www.newdomain.com:1234", {"no": "localhost, newdomain.com:1234"})
    'newdomain.com:1234'
    """
    try:
        no_proxy = proxies["no"]
    except KeyError:
        return None
    if no_proxy == "*":
        return "*"
    host = host.lower()
    hostonly, _ = _splitport(host)
    for entry in no_proxy.split(","):
        name = entry.strip()
        if name:
            name = name.lstrip(".").lower()
            if name in (hostonly, host):
                return entry.strip()
            name = "." + name
            if hostonly.endswith(name) or host.endswith(name):
                return entry.strip()
    return None


def proxy_bypass_environment(host: str, proxies: Mapping[str, str]) -> bool:
    """``urllib.request.proxy_bypass_environment(host, proxies)``."""
    return bypass_entry(host, proxies) is not None


_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")


def parse_proxy(proxy: str) -> tuple[str | None, str | None, str | None, str]:
    """``urllib.request._parse_proxy``: (scheme, user, password, host[:port]).

    >>> parse_proxy("joe:password@proxy.example.com:3128")
    (None, 'joe', 'password', 'proxy.example.com:3128')
    """
    scheme: str | None
    scheme, r_scheme = _splittype(proxy)
    if not r_scheme.startswith("/"):
        scheme, authority = None, proxy
    else:
        if not r_scheme.startswith("//"):
            raise ValueError(f"proxy URL with no authority: {proxy!r}")
        end = r_scheme.find("/", r_scheme.find("@")) if "@" in r_scheme else r_scheme.find("/", 2)
        authority = r_scheme[2:] if end == -1 else r_scheme[2:end]
    userinfo, sep, hostport = authority.rpartition("@")
    if not sep:
        return scheme, None, None, authority
    user, colon, password = userinfo.partition(":")
    return scheme, user, (password if colon else None), hostport


def _splittype(url: str) -> tuple[str | None, str]:
    """``urllib.parse._splittype``: a leading ``scheme:`` (lower-cased), else None."""
    match = re.match("([^/:]+):(.*)", url, re.DOTALL)
    if match:
        scheme, data = match.groups()
        return scheme.lower(), data
    return None, url


PyKind = Literal["proxy", "no_proxy", "unset", "no_host"]


@dataclass(frozen=True)
class PyDecision:
    """Which proxy a Python client uses for one URL, and why."""

    proxy: str | None  # the proxy value as set, None = direct
    kind: PyKind
    key: str | None = None  # the proxies key it came from: "https", "all", "https://host", …
    variable: str | None = None  # the environment variable behind it (or behind no_proxy)
    entry: str | None = None  # the no_proxy entry that matched ("*" for the whole-value star)
    hostport: str | None = None  # urllib: where it connects (``_parse_proxy``'s host[:port])


def urllib_proxy_for(env: Mapping[str, str], url: str, proxies: Mapping[str, str] | None = None) -> PyDecision:
    """``urllib.request.urlopen(url)`` with the default ProxyHandler, ``os.environ`` = ``env``.

    urllib has no ``all_proxy`` fallback (``all`` becomes an ``all_open`` that no URL calls),
    and passes ``req.host`` *with* its port to ``proxy_bypass``.

    >>> urllib_proxy_for({"https_proxy": "p:3128", "no_proxy": "r.io"}, "https://a.r.io/").kind
    'no_proxy'
    """
    sources = environment_proxy_sources(env)
    # ProxyHandler(proxies): one <type>_open per key, lower-cased (default: the environment's)
    handled: dict[str, tuple[str, str | None]] = dict(sources)
    if proxies is not None:
        handled = {k.lower(): (v, None) for k, v in proxies.items()}
    req_type, rest = _splittype(url)
    host = _request_host(rest)
    if req_type is None or req_type not in handled:
        return PyDecision(None, "unset")
    proxy, variable = handled[req_type]
    _, user, password, hostport = parse_proxy(proxy)
    if host:  # proxy_bypass(req.host) reads the environment, whatever the handler was given
        entry = bypass_entry(host, {k: v for k, (v, _) in sources.items()})
        if entry is not None:
            return PyDecision(None, "no_proxy", req_type, sources["no"][1], entry)
    if user and password:
        # proxy_open builds Proxy-Authorization here; credentials that are not UTF-8-encodable
        # (undecodable environment bytes) raise UnicodeEncodeError, a ValueError
        f"{unquote(user)}:{unquote(password)}".encode()
    return PyDecision(proxy, "proxy", req_type, variable, hostport=unquote(hostport))


def _request_host(rest: str) -> str:
    """``Request.host``: the netloc after ``//``, percent-decoded (``_splithost`` + ``unquote``)."""
    match = re.match("//([^/#?]*)(.*)", rest, re.DOTALL)
    return unquote(match.group(1)) if match else ""


# ---------------------------------------------------------------- requests 2.34.2


def is_ipv4_address(string_ip: str) -> bool:
    """requests ``is_ipv4_address`` (``inet_aton``: ``127.1`` counts)."""
    try:
        socket.inet_aton(string_ip)
    except OSError:
        return False
    return True


def is_valid_cidr(string_network: str) -> bool:
    """requests ``is_valid_cidr``: IPv4 ``a.b.c.d/1..32`` only."""
    if string_network.count("/") != 1:
        return False
    address, _, bits = string_network.partition("/")
    try:
        mask = int(bits)
    except ValueError:
        return False
    if mask < 1 or mask > 32:
        return False
    try:
        socket.inet_aton(address)
    except OSError:
        return False
    return True


def address_in_network(ip: str, net: str) -> bool:
    """requests ``address_in_network``."""
    ipaddr = struct.unpack("=L", socket.inet_aton(ip))[0]
    netaddr, bits = net.split("/")
    netmask = struct.unpack("=L", socket.inet_aton(_dotted_netmask(int(bits))))[0]
    network = struct.unpack("=L", socket.inet_aton(netaddr))[0] & netmask
    return bool((ipaddr & netmask) == (network & netmask))


def _dotted_netmask(mask: int) -> str:
    bits = 0xFFFFFFFF ^ (1 << 32 - mask) - 1
    return socket.inet_ntoa(struct.pack(">I", bits))


@dataclass(frozen=True)
class Bypass:
    """``should_bypass_proxies``' answer, with the entry and the name handed to ``proxy_bypass``."""

    bypass: bool
    entry: str | None = None
    variable: str | None = None
    hostname: str | None = None  # what requests passes to urllib's proxy_bypass (None: not reached)


def should_bypass_proxies(env: Mapping[str, str], url: str, no_proxy: str | None) -> Bypass:
    """requests ``should_bypass_proxies(url, no_proxy)`` with ``os.environ`` = ``env`` (POSIX).

    >>> should_bypass_proxies({}, "http://192.168.0.1/", "192.168.0.0/24").entry
    '192.168.0.0/24'
    """
    no_proxy_arg = no_proxy
    variable: str | None = None
    if no_proxy is None:
        # lower case first, but an empty no_proxy falls through to NO_PROXY here
        if env.get("no_proxy"):
            no_proxy, variable = env["no_proxy"], "no_proxy"
        else:
            no_proxy = env.get("NO_PROXY")
            variable = "NO_PROXY" if no_proxy else None
    parsed = urlparse(url)
    hostname = parsed.hostname
    if hostname is None:
        return Bypass(True)
    entry = _requests_no_proxy_entry(hostname, parsed, no_proxy) if no_proxy else None
    if entry is not None:
        return Bypass(True, entry, variable)
    # then urllib's proxy_bypass(hostname), with no_proxy_arg (if given) as the environment's no_proxy
    scoped = dict(env)
    if no_proxy_arg is not None:
        scoped["no_proxy"] = no_proxy_arg
    sources = environment_proxy_sources(scoped)
    matched = bypass_entry(hostname, {k: v for k, (v, _) in sources.items()})
    if matched is not None:
        return Bypass(True, matched, sources["no"][1], hostname)
    return Bypass(False, hostname=hostname)


def _requests_no_proxy_entry(hostname: str, parsed: ParseResult, no_proxy: str) -> str | None:
    """The ``no_proxy`` entry requests' own loop matches (before urllib is asked), or None: an
    IPv4 host against CIDRs and equal addresses, any other host by suffix, with or without port.

    >>> _requests_no_proxy_entry("a.corp.io", urlparse("https://a.corp.io:443/"), "x.io, .corp.io")
    '.corp.io'
    """
    hosts = [h for h in no_proxy.replace(" ", "").split(",") if h]
    if is_ipv4_address(hostname):
        for proxy_ip in hosts:
            if is_valid_cidr(proxy_ip):
                if address_in_network(hostname, proxy_ip):
                    return proxy_ip
            elif hostname == proxy_ip:
                return proxy_ip
        return None
    # requests reads the port only here: an IPv4 host with a bad port never raises above
    host_with_port = f"{hostname}:{parsed.port}" if parsed.port else hostname
    for entry in hosts:
        host = entry.lstrip(".")
        if host in (hostname, host_with_port):
            return entry
        host = "." + host
        if hostname.endswith(host) or host_with_port.endswith(host):
            return entry
    return None


def get_environ_proxies(env: Mapping[str, str], url: str, no_proxy: str | None = None) -> dict[str, str]:
    """requests ``get_environ_proxies``: ``{}`` when bypassed, else every environment proxy."""
    if should_bypass_proxies(env, url, no_proxy).bypass:
        return {}
    return getproxies_environment(env)


def select_proxy(url: str, proxies: Mapping[str, str] | None) -> tuple[str | None, str | None]:
    """requests ``select_proxy``: (proxy, key) — ``scheme://host``, ``scheme``, ``all://host``, ``all``.

    >>> select_proxy("hTTp://u:p@Some.Host/path", {"http://some.host": "x", "http": "y"})
    ('x', 'http://some.host')
    """
    proxies = proxies or {}
    parts = urlparse(url)
    if parts.hostname is None:
        if parts.scheme in proxies:
            return proxies[parts.scheme], parts.scheme
        return proxies.get("all"), ("all" if "all" in proxies else None)
    for key in (parts.scheme + "://" + parts.hostname, parts.scheme, "all://" + parts.hostname, "all"):
        if key in proxies:
            return proxies[key], key
    return None, None


def requests_proxy_for(env: Mapping[str, str], url: str, no_proxy: str | None = None) -> PyDecision:
    """``requests.get(url)`` with ``os.environ`` = ``env``: ``Session.merge_environment_settings``
    (``get_environ_proxies``), then the adapter's ``select_proxy``.

    >>> requests_proxy_for({"ALL_PROXY": "socks5://p"}, "https://r.io/").key
    'all'
    """
    bypass = should_bypass_proxies(env, url, no_proxy)
    if bypass.bypass:
        if bypass.hostname is None and bypass.entry is None:
            return PyDecision(None, "no_host")
        return PyDecision(None, "no_proxy", variable=bypass.variable, entry=bypass.entry)
    sources = environment_proxy_sources(env)
    proxy, key = select_proxy(url, {k: v for k, (v, _) in sources.items()})
    if not proxy:
        return PyDecision(None, "unset")
    return PyDecision(proxy, "proxy", key, sources[key][1] if key else None)


__all__ = ["Bypass", "PyDecision", "address_in_network", "bypass_entry", "environment_proxy_sources",
           "get_environ_proxies", "getproxies_environment", "is_ipv4_address", "is_valid_cidr", "parse_proxy",
           "proxy_bypass_environment", "requests_proxy_for", "select_proxy", "should_bypass_proxies",
           "urllib_proxy_for"]
