"""Which proxy each client uses for a registry endpoint: Go's rules and Python's, side by side.

Pull clients are Go programs (dockerd, containerd, podman, skopeo) and follow
``golang.org/x/net/http/httpproxy`` (``goproxy``); the az CLI and other Python tools follow
requests and urllib (``pyproxy``). They disagree on case precedence, ``*``, leading dots,
``*.`` wildcards, ports, IP ranges and loopback (docs/reference/client-errors.md §4), so
regdoctor evaluates both and reports a difference as a finding. This module turns the
ports' answers into ``ProxyChoice`` records: the proxy, the variable it came from, the
NO_PROXY entry that matched, and a one-line reason.

The scheme matters: an ``https://`` registry uses HTTPS_PROXY, a ``--plain-http`` one
HTTP_PROXY (and, under CGI, Go refuses it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from regdoctor.proxyconf import goproxy
from regdoctor.proxyconf.gourl import GoURL, _go_quote, go_join_host_port
from regdoctor.redact import redact_url, userinfo

_DEFAULT_PORT = {"http": 80, "https": 443}
_GO_DIAL_PORT = {**goproxy.PORT_MAP, "socks5h": "1080"}  # net/http's canonicalAddr for the proxy itself
KNOWN_SCHEMES = ("http", "https", "socks5", "socks5h")


@dataclass(frozen=True)
class ProxyURL:
    """A proxy setting as a Go client reads it (``parseProxy``), ready to dial."""

    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None
    raw: str
    # Set when Go reads the value in a way its author cannot have meant (why, in one line)
    note: str | None = None

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def redacted(self) -> str:
        """The URL with the password replaced, safe to print."""
        return f"{self.scheme}://{userinfo(self.username, self.password)}{self.address}"

    @property
    def socks(self) -> bool:
        """A SOCKS5 proxy: the stream to the destination is the proxy's CONNECT, plain HTTP included.
        (Go's transport speaks SOCKS5 only: a ``socks4://`` URL it dials as an HTTP proxy, and so do we.)"""
        return self.scheme in ("socks5", "socks5h")

    @property
    def known_scheme(self) -> bool:
        """Go's transport speaks http, https, socks5 and socks5h; any other scheme it keeps but
        dials as a plain HTTP proxy on port 0 unless a port is given."""
        return self.scheme in KNOWN_SCHEMES


class ProxyURLError(ValueError):
    pass


_MANGLED_HOST = re.compile(r"^(?:https?|socks[45]h?|tcp)$|^[\u201c\u201d\u2018\u2019\"']")


def mangled_host(host: str) -> bool:
    """Is a proxy "host" really part of a malformed URL (a scheme word, a quote)? Go dials it anyway.

    >>> mangled_host("http"), mangled_host("\u201dhttp"), mangled_host("proxy.corp"), mangled_host("https-proxy")
    (True, True, False, False)
    """
    return _MANGLED_HOST.match(host) is not None


def parse_proxy_url(value: str) -> ProxyURL:
    """Parse a proxy setting exactly as Go does (``httpproxy.parseProxy``): a value that does
    not parse as a URL with scheme and host is retried with ``http://`` in front.

    >>> parse_proxy_url("proxy.corp:3128").address
    'proxy.corp:3128'
    >>> parse_proxy_url("https://u:p%40ss@p:8443").redacted
    'https://u:***@p:8443'
    >>> parse_proxy_url("http://p:notaport").host  # Go's retry reads "http://http://p:notaport"
    'http'
    """
    try:
        url, retried_because = goproxy.go_parse_proxy_traced(value)
    except goproxy.GoProxyParseError as exc:
        raise ProxyURLError(_scrub(str(exc), value)) from None
    if url is None:
        raise ProxyURLError("empty proxy setting")
    host = url.hostname()
    port_text = url.port() or _GO_DIAL_PORT.get(url.scheme, "")
    if not host:
        raise ProxyURLError(f"no host in the proxy URL {redact_url(value)!r} (Go would dial this machine)")
    port = int(port_text) if port_text else 0
    if port > 65535:
        raise ProxyURLError(f"port {port} out of range in {redact_url(value)!r} (Go's dial fails: invalid port)")
    note = None
    if retried_because is not None and "://" in value:
        # the author wrote a URL; Go rejected it and read "http://" + value instead
        note = (f"Go cannot parse {redact_url(value)!r} ({_scrub(retried_because, value)}) and retries it as "
                f"{redact_url('http://' + value)!r}: host {host!r}")
    elif not url.port() and url.scheme not in _GO_DIAL_PORT:
        note = f"Go keeps the unknown scheme {url.scheme!r} and, with no port given, dials port 0"
    elif mangled_host(host):
        note = (f"Go reads the host of {redact_url(value)!r} as {host!r}, a scheme or a quote: the URL is "
                "malformed (a doubled `http://`, a missing `:` after the scheme, typographic quotes)")
    user = url.user
    return ProxyURL(scheme=url.scheme, host=host, port=port,
                    username=user.username if user is not None else None,
                    password=user.password if user is not None else None, raw=value.strip(), note=note)


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _scrub(text: str, raw: str) -> str:
    """Hide credentials in a message that quotes parts of ``raw`` back (Go's errors do): a quoted
    piece holding ``@`` is redacted as a URL, a piece of the userinfo becomes ``***``."""
    if "@" not in raw:
        return text
    # Go's url.Error quotes the whole value first: replace that quote exactly, whatever it holds
    # (a hypothesis run found `http://: :0@` slipping past a quoted-piece regex)
    whole = _go_quote(raw.encode("utf-8", "surrogateescape"))
    if whole in text:
        text = text.replace(whole, _go_quote(redact_url(raw).encode("utf-8", "surrogateescape")))
    creds = raw.rpartition("@")[0]

    def hide(match: re.Match[str]) -> str:
        quoted = match.group(0)
        try:
            content = json.loads(quoted)
        except ValueError:
            content = quoted[1:-1]
        if not isinstance(content, str) or not content:
            return quoted
        if "@" in content:
            return json.dumps(redact_url(content), ensure_ascii=False)
        return '"***"' if content in creds else quoted

    return _QUOTED.sub(hide, text)


ChoiceKind = Literal["proxy", "no_proxy", "loopback", "unset", "cgi_refused", "invalid_proxy", "scheme",
                     "bad_address", "no_host"]


@dataclass(frozen=True)
class ProxyChoice:
    """The proxy one client would use for one registry URL, and why."""

    proxy: str | None  # the raw setting, e.g. "http://proxy:3128"; None = direct
    source: str | None  # the variable it came from ("loopback" when Go never proxies the host)
    reason: str  # one line: "HTTPS_PROXY is set", "NO_PROXY entry '.corp' matches r.corp", …
    kind: ChoiceKind = "proxy"
    entry: str | None = None  # the NO_PROXY entry that matched
    error: str | None = None  # the client's own error (Go's CGI refusal)
    client: str = "go"  # "go", "requests" or "urllib"

    @property
    def direct(self) -> bool:
        return self.proxy is None


def _bare(host: str) -> str:
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def go_proxy_for(env: Mapping[str, str], host: str, port: int = 443, *, scheme: str = "https") -> ProxyChoice:
    """What ``net/http.ProxyFromEnvironment`` answers for ``scheme://host:port``.

    >>> go_proxy_for({"HTTPS_PROXY": "http://p:3128", "NO_PROXY": ".corp"}, "r.corp").reason
    "NO_PROXY entry '.corp' matches r.corp"
    >>> go_proxy_for({"HTTP_PROXY": "http://p:3128"}, "r.lan", 5000, scheme="http").source
    'HTTP_PROXY'
    """
    cfg = goproxy.go_config_from_env(env)
    d = goproxy.go_proxy_for_url(cfg, GoURL(scheme=scheme, host=go_join_host_port(_bare(host), str(port))))
    upper = scheme.upper()
    if d.kind == "proxy":
        return ProxyChoice(d.value, d.variable, f"{d.variable} is set")
    if d.kind == "no_proxy":
        return ProxyChoice(None, d.variable, f"{d.variable} entry '{d.entry}' matches {host}", "no_proxy", d.entry)
    if d.kind == "loopback":
        return ProxyChoice(None, "loopback", f"Go never proxies {host} (loopback)", "loopback")
    if d.kind == "cgi_refused":
        return ProxyChoice(None, d.variable, "REQUEST_METHOD is set (CGI): Go refuses HTTP_PROXY for http URLs",
                           "cgi_refused", error=d.error)
    if d.kind == "invalid_proxy":
        why = _scrub(d.parse_error or "", d.value or "")
        return ProxyChoice(None, d.variable, f"{d.variable} does not parse ({why}); Go ignores it and connects "
                           "directly", "invalid_proxy", error=why)
    if d.kind == "scheme":
        return ProxyChoice(None, None, f"Go uses no proxy for {scheme} URLs", "scheme")
    if d.kind == "bad_address":
        return ProxyChoice(None, None, f"Go cannot split {host}:{port} into host and port", "bad_address")
    if scheme == "https" and cfg.http_proxy_var:
        why = f"{cfg.http_proxy_var} is set but Go uses only HTTPS_PROXY/https_proxy for https URLs"
    else:
        why = f"no {upper}_PROXY/{scheme}_proxy set"
    return ProxyChoice(None, None, why, "unset")


def python_proxy_for(env: Mapping[str, str], host: str, port: int = 443, *, scheme: str = "https",
                     explicit_port: bool | None = None, client: Literal["requests", "urllib"] = "requests",
                     no_proxy: str | None = None) -> ProxyChoice:
    """What requests (default) or urllib picks for ``scheme://host[:port]/``.

    ``explicit_port``: whether the URL the Python client builds names the port (default:
    only when it differs from the scheme's default, as ``https://name/`` does not).

    >>> python_proxy_for({"HTTPS_PROXY": "http://a:1", "https_proxy": ""}, "r.io").reason
    'no https_proxy/HTTPS_PROXY/all_proxy in effect'
    """
    from regdoctor.proxyconf import pyproxy  # here: only the runtime audit asks about Python clients

    if explicit_port is None:
        explicit_port = port != _DEFAULT_PORT.get(scheme)
    bare = _bare(host)
    netloc = f"[{bare}]" if ":" in bare else bare
    url = f"{scheme}://{netloc}:{port}/" if explicit_port else f"{scheme}://{netloc}/"
    if client == "urllib":
        d = pyproxy.urllib_proxy_for(env, url)
        fallback = f"{scheme}_proxy/{scheme.upper()}_PROXY"
    else:
        d = pyproxy.requests_proxy_for(env, url, no_proxy)
        fallback = f"{scheme}_proxy/{scheme.upper()}_PROXY/all_proxy"
    if d.kind == "proxy":
        via = f" ({d.key} fallback)" if d.key and d.key.startswith("all") else ""
        return ProxyChoice(d.proxy, d.variable, f"{d.variable} is set{via}", client=client)
    if d.kind == "no_proxy":
        where = d.variable or "no_proxy argument"
        return ProxyChoice(None, d.variable, f"{where} entry '{d.entry}' matches {host}", "no_proxy", d.entry,
                           client=client)
    if d.kind == "no_host":
        return ProxyChoice(None, None, f"no host in {url}", "no_host", client=client)
    return ProxyChoice(None, None, f"no {fallback} in effect", "unset", client=client)


def parse_proxy_option(value: str) -> ProxyURL:
    """regdoctor's own ``--proxy``: stricter than the environment rules, so a typo is a usage
    error: ``http[s]://host[:port]``, ``socks5[h]://…`` or ``host:port``.

    >>> parse_proxy_option("squid.corp:3128").address
    'squid.corp:3128'
    >>> parse_proxy_option("notaurl")
    Traceback (most recent call last):
    ...
    regdoctor.proxyconf.rules.ProxyURLError: 'notaurl' is not a proxy URL: expected http://HOST:PORT, HOST:PORT or none
    """
    text = value.strip()
    expected = f"{redact_url(text)!r} is not a proxy URL: expected http://HOST:PORT, HOST:PORT or none"
    has_scheme = "://" in text
    if not has_scheme and ":" not in text.rpartition("@")[2]:
        raise ProxyURLError(expected)
    proxy = parse_proxy_url(text)
    if proxy.note is not None or not proxy.known_scheme:
        raise ProxyURLError(proxy.note or expected)
    if not has_scheme and (proxy.scheme != "http" or not proxy.port):
        raise ProxyURLError(expected)
    return proxy


__all__ = ["KNOWN_SCHEMES", "ProxyChoice", "ProxyURL", "ProxyURLError", "go_proxy_for", "parse_proxy_option",
           "parse_proxy_url", "python_proxy_for", "redact_url"]
