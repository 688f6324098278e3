"""``golang.org/x/net/http/httpproxy``, the proxy rules of every Go client, ported (pure).

dockerd, containerd, podman, skopeo and buildah call ``net/http.ProxyFromEnvironment``,
which is ``httpproxy.FromEnvironment().ProxyFunc()``. This module is that algorithm
(golang/net ``http/httpproxy/proxy.go`` at 0ca694d2a5adcce7f36d4d65e5f8d72390d94051) over
an environment mapping, returning *why* as data: which variable, which NO_PROXY entry.

- ``go_config_from_env``: ``FromEnvironment`` — upper case first, an empty value falls
  through to the lower-case name; CGI when ``REQUEST_METHOD`` is non-empty.
- ``go_parse_proxy``: ``parseProxy`` — ``url.Parse``, retried with ``http://`` when that
  fails or yields no scheme or host. Unknown schemes are kept (``foo://host``); a value
  neither parse accepts is dropped (Go then goes direct, silently).
- ``GoNoProxy``: the NO_PROXY entries as Go's ``init`` compiles them (``*``; CIDRs; IPs
  with optional port; domains with or without leading ``.``/``*.``, optional port,
  IDNA-converted).
- ``go_proxy_for_url``: ``proxyForURL`` — https URLs use HTTPS_PROXY, http URLs
  HTTP_PROXY (refused under CGI), any other scheme none; ``useProxy`` on
  ``canonicalAddr`` (IDNA host, default port): localhost and loopback never proxied.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from regdoctor.proxyconf.goidna import GoIDNAError, lookup_to_ascii
from regdoctor.proxyconf.gourl import GoURL, GoURLError, go_join_host_port, go_split_host_port, go_url_parse

# net/http's transport and httpproxy's canonicalAddr share this table (socks5h: net/http only).
PORT_MAP = {"http": "80", "https": "443", "socks5": "1080"}
CGI_ERROR = "refusing to use HTTP_PROXY value in CGI environment; see golang.org/s/cgihttpproxy"


@dataclass(frozen=True)
class GoConfig:
    """``httpproxy.Config``, plus the variable each value came from."""

    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = ""
    cgi: bool = False
    http_proxy_var: str | None = None
    https_proxy_var: str | None = None
    no_proxy_var: str | None = None
    # x/net before 8c07e20f (2023-09, vendored from Go 1.22) re-parsed any scheme other than
    # http, https and socks5 as "http://" + value; daemons built with Go <= 1.21 still do
    keep_unknown_schemes: bool = True
    # x/net before cde1dda9 (2025-01, CVE-2025-22870; Go 1.23.7, 1.24.1) parsed the host with
    # net.ParseIP, so an IPv6 literal with a zone ("[1000::%25.example.com]") was matched
    # against NO_PROXY domains
    zones_are_ips: bool = True


def _get_env_any(env: Mapping[str, str], *names: str) -> tuple[str, str | None]:
    for name in names:
        value = env.get(name, "")
        if value != "":
            return value, name
    return "", None


def go_config_from_env(env: Mapping[str, str]) -> GoConfig:
    """``httpproxy.FromEnvironment`` over ``env``.

    >>> go_config_from_env({"HTTPS_PROXY": "", "https_proxy": "p:1"}).https_proxy_var
    'https_proxy'
    """
    http, http_var = _get_env_any(env, "HTTP_PROXY", "http_proxy")
    https, https_var = _get_env_any(env, "HTTPS_PROXY", "https_proxy")
    no, no_var = _get_env_any(env, "NO_PROXY", "no_proxy")
    return GoConfig(http, https, no, env.get("REQUEST_METHOD", "") != "", http_var, https_var, no_var)


class GoProxyParseError(ValueError):
    """``parseProxy`` failed: ``invalid proxy address "…": …`` (Go then ignores the value)."""


def go_parse_proxy(proxy: str, *, keep_unknown_schemes: bool = True) -> GoURL | None:
    """``parseProxy``: the URL Go uses for a proxy variable's value (None for ``""``).

    >>> go_parse_proxy("cache.corp.example.com:1234").string()
    'http://cache.corp.example.com:1234'
    >>> go_parse_proxy("foo://host").string()
    'foo://host'
    >>> go_parse_proxy("http://p:notaport").host  # Go's retry reads "http:" as the host
    'http:'
    """
    return go_parse_proxy_traced(proxy, keep_unknown_schemes=keep_unknown_schemes)[0]


def go_parse_proxy_traced(proxy: str, *, keep_unknown_schemes: bool = True) -> tuple[GoURL | None, str | None]:
    """``parseProxy`` and, when Go had to retry with ``http://``, why the value itself was
    rejected (``url.Parse``'s error, ``no scheme`` or ``no host``)."""
    if proxy == "":
        return None, None
    first_error: GoURLError | None = None
    try:
        url: GoURL | None = go_url_parse(proxy)
    except GoURLError as exc:
        url, first_error = None, exc
    if keep_unknown_schemes:
        retry = url is None or url.scheme == "" or url.host == ""
    else:  # the pre-2023 rule: any error or any scheme but these three, and no host check
        retry = url is None or url.scheme not in ("http", "https", "socks5")
    if retry:
        try:
            retried = go_url_parse("http://" + proxy)
        except GoURLError:
            pass
        else:
            why = first_error.reason if first_error is not None else (
                "no scheme" if url is not None and url.scheme == "" else
                "no host" if url is not None and url.host == "" else f"scheme {url.scheme if url else ''!r}")
            return retried, why
    if first_error is not None:
        raise GoProxyParseError(f"invalid proxy address {_quote(proxy)}: {first_error}")
    return url, None


def _quote(s: str) -> str:
    import json

    return json.dumps(s, ensure_ascii=False)


def _idna_ascii(v: str) -> str:
    """httpproxy's ``idnaASCII``: ASCII stays as is; otherwise Lookup.ToASCII (error: unchanged)."""
    if v.isascii():
        return v
    try:
        return lookup_to_ascii(v)
    except GoIDNAError:
        return v


def _go_parse_ip(s: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``net.ParseIP`` (no zones; IPv4 dotted-decimal only, leading zeros rejected)."""
    if "%" in s:
        return None
    try:
        ip = ipaddress.ip_address(s)
    except ValueError:
        return None
    return ip


def _go_parse_addr(s: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``netip.ParseAddr`` (IPv6 zones accepted and dropped by ``AsSlice``)."""
    base, sep, zone = s.partition("%")
    if sep and (":" not in base or zone == ""):
        return None
    try:
        return ipaddress.ip_address(base)
    except ValueError:
        return None


def _go_parse_cidr(s: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """``net.ParseCIDR``: ``addr/bits`` with decimal bits, host bits allowed."""
    addr, sep, bits = s.partition("/")
    if not sep or not bits.isascii() or not bits.isdigit() or len(bits) > 7:  # dtoi: decimal, zeros allowed
        return None
    ip = _go_parse_ip(addr)
    if ip is None or int(bits) > ip.max_prefixlen:
        return None
    return ipaddress.ip_network((ip, int(bits)), strict=False)


def _as16(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> ipaddress.IPv6Address:
    """Go's net.IP compares IPv4 and IPv4-mapped IPv6 as equal: compare in 16-byte form."""
    if isinstance(ip, ipaddress.IPv4Address):
        return ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + ip.packed)
    return ip


MatchKind = Literal["all", "cidr", "ip", "domain"]


@dataclass(frozen=True)
class GoMatcher:
    """One compiled NO_PROXY entry."""

    kind: MatchKind
    entry: str  # the entry as written (trimmed), for the report
    host: str = ""  # domain: with its leading dot, IDNA-converted
    port: str = ""
    match_host: bool = False  # domain written without a leading dot: the name itself matches too
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    net: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None

    def match(self, host: str, port: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> bool:
        if self.kind == "all":
            return True
        if self.kind == "cidr":
            assert self.net is not None and ip is not None
            return _cidr_contains(self.net, ip)
        if self.kind == "ip":
            assert self.ip is not None and ip is not None
            return _as16(self.ip) == _as16(ip) and self.port in ("", port)
        if ip is not None:
            return False
        if host.endswith(self.host) or (self.match_host and host == self.host[1:]):
            return self.port in ("", port)
        return False


def _cidr_contains(net: ipaddress.IPv4Network | ipaddress.IPv6Network,
                   ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """``(*net.IPNet).Contains``, byte for byte: IPv4 and IPv4-mapped IPv6 are the same 4 bytes,
    on both sides (so ``::ffff:0:0/96`` holds every IPv4 address, as it does in Go)."""
    number, mask = net.network_address.packed, net.netmask.packed
    if len(number) == 16 and number[:12] == _V4_IN_V6:
        number, mask = number[12:], mask[12:]
    addr = _as16(ip).packed
    if addr[:12] == _V4_IN_V6:
        addr = addr[12:]
    if len(addr) != len(number):
        return False
    return all(a & m == n for a, m, n in zip(addr, mask, number, strict=True))


_V4_IN_V6 = b"\0" * 10 + b"\xff\xff"


def _go_is_loopback(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """``net.IP.IsLoopback``: 127/8 (also IPv4-mapped) or ::1."""
    raw = _as16(ip).packed
    return raw[12] == 127 if raw[:12] == _V4_IN_V6 else raw == b"\0" * 15 + b"\1"


def _go_lower(s: str) -> str:
    """``strings.ToLower``: simple per-rune mapping (no final sigma; U+0130 becomes 'i'),
    invalid UTF-8 bytes become U+FFFD."""
    if s.isascii():
        return s.lower()
    out = []
    for ch in s:
        if "\udc80" <= ch <= "\udcff":
            out.append("\ufffd")
        elif ch == "\u0130":
            out.append("i")
        else:
            low = ch.lower()
            out.append(low if len(low) == 1 else ch)
    return "".join(out)


@dataclass(frozen=True)
class GoNoProxy:
    """NO_PROXY compiled as httpproxy's ``init`` does: IP matchers and domain matchers."""

    ip_matchers: tuple[GoMatcher, ...] = ()
    domain_matchers: tuple[GoMatcher, ...] = ()
    ignored: tuple[str, ...] = field(default=())  # entries Go skips as malformed


def go_compile_no_proxy(no_proxy: str) -> GoNoProxy:
    """Compile a NO_PROXY value.

    >>> [m.host for m in go_compile_no_proxy("*.Wildcard.io, foo.com:80").domain_matchers]
    ['.wildcard.io', '.foo.com']
    """
    ips: list[GoMatcher] = []
    domains: list[GoMatcher] = []
    ignored: list[str] = []
    for raw in no_proxy.split(","):
        p = _go_lower(_go_trim_space(raw))
        if not p:
            continue
        if p == "*":
            every = GoMatcher("all", "*")
            return GoNoProxy((every,), (every,), tuple(ignored))
        net = _go_parse_cidr(p)
        if net is not None:
            ips.append(GoMatcher("cidr", p, net=net))
            continue
        try:
            phost, pport = go_split_host_port(p)
        except ValueError:
            phost, pport = p, ""
        else:
            if not phost:
                ignored.append(p)
                continue
            if phost[0] == "[" and phost[-1] == "]":
                phost = phost[1:-1]
        pip = _go_parse_ip(phost)
        if pip is not None:
            ips.append(GoMatcher("ip", p, port=pport, ip=pip))
            continue
        if not phost:
            ignored.append(p)
            continue
        if phost.startswith("*."):
            phost = phost[1:]
        match_host = False
        if phost[0] != ".":
            match_host = True
            phost = "." + phost
        domains.append(GoMatcher("domain", p, host=_idna_ascii(phost), port=pport, match_host=match_host))
    return GoNoProxy(tuple(ips), tuple(domains), tuple(ignored))


_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"


def _go_trim_space(s: str) -> str:
    """``strings.TrimSpace``: Unicode White_Space (Python's ``str.strip`` also strips \\x1c-\\x1f)."""
    return s.strip(_GO_SPACE)


UseKind = Literal["proxy", "loopback", "no_proxy", "bad_address"]


@dataclass(frozen=True)
class GoUse:
    """``useProxy``'s answer with its reason."""

    use: bool
    kind: UseKind
    entry: str | None = None  # the NO_PROXY entry that matched


def go_use_proxy(no_proxy: GoNoProxy, addr: str, *, zones_are_ips: bool = True) -> GoUse:
    """``useProxy(addr)`` for a canonical ``host:port``.

    >>> go_use_proxy(go_compile_no_proxy(".barbaz.net"), "www.barbaz.net:80").entry
    '.barbaz.net'
    """
    if not addr:
        return GoUse(True, "proxy")
    try:
        host, port = go_split_host_port(addr)
    except ValueError:
        return GoUse(False, "bad_address")
    if host == "localhost":
        return GoUse(False, "loopback")
    ip = _go_parse_addr(host) if zones_are_ips else _go_parse_ip(host)
    if ip is not None and _go_is_loopback(ip):
        return GoUse(False, "loopback")
    name = _go_lower(_go_trim_space(host))
    if ip is not None:
        for m in no_proxy.ip_matchers:
            if m.match(name, port, ip):
                return GoUse(False, "no_proxy", m.entry)
    for m in no_proxy.domain_matchers:
        if m.match(name, port, ip):
            return GoUse(False, "no_proxy", m.entry)
    return GoUse(True, "proxy")


def go_canonical_addr(url: GoURL) -> str:
    """httpproxy's ``canonicalAddr``: IDNA host and an explicit port (``""`` if unknown scheme)."""
    return go_join_host_port(_idna_ascii(url.hostname()), url.port() or PORT_MAP.get(url.scheme, ""))


DecisionKind = Literal["proxy", "loopback", "no_proxy", "unset", "cgi_refused", "invalid_proxy", "scheme",
                       "bad_address"]


@dataclass(frozen=True)
class GoDecision:
    """What ``ProxyFunc()(reqURL)`` returns, and why."""

    proxy: GoURL | None  # the URL Go dials, None = direct (or error)
    error: str | None  # Go's error text (CGI refusal)
    kind: DecisionKind
    variable: str | None = None  # the variable the proxy (or NO_PROXY) came from
    value: str | None = None  # that variable's value
    entry: str | None = None  # the NO_PROXY entry that matched
    parse_error: str | None = None  # why an ignored proxy value did not parse


def go_proxy_for_url(cfg: GoConfig, req: GoURL) -> GoDecision:
    """``(*config).proxyForURL``: the proxy for one request URL.

    >>> d = go_proxy_for_url(GoConfig(https_proxy="secure.proxy.tld"), go_url_parse("https://secure.tld/"))
    >>> d.proxy.string() if d.proxy else None
    'http://secure.proxy.tld'
    """
    if req.scheme == "https":
        value, var = cfg.https_proxy, cfg.https_proxy_var
    elif req.scheme == "http":
        value, var = cfg.http_proxy, cfg.http_proxy_var
    else:
        return GoDecision(None, None, "scheme")
    try:
        proxy = go_parse_proxy(value, keep_unknown_schemes=cfg.keep_unknown_schemes)
    except GoProxyParseError as exc:
        return GoDecision(None, None, "invalid_proxy", var, value, parse_error=str(exc))
    if proxy is None:
        return GoDecision(None, None, "unset")
    if req.scheme == "http" and cfg.cgi:
        return GoDecision(None, CGI_ERROR, "cgi_refused", var, value)
    use = go_use_proxy(go_compile_no_proxy(cfg.no_proxy), go_canonical_addr(req), zones_are_ips=cfg.zones_are_ips)
    if not use.use:
        kind: DecisionKind = use.kind
        return GoDecision(None, None, kind, cfg.no_proxy_var if use.kind == "no_proxy" else var,
                          cfg.no_proxy if use.kind == "no_proxy" else value, use.entry)
    return GoDecision(proxy, None, "proxy", var, value)


__all__ = ["CGI_ERROR", "PORT_MAP", "GoConfig", "GoDecision", "GoMatcher", "GoNoProxy", "GoProxyParseError", "GoUse",
           "go_canonical_addr", "go_compile_no_proxy", "go_config_from_env", "go_parse_proxy", "go_parse_proxy_traced",
           "go_proxy_for_url", "go_use_proxy"]
