"""How clients turn a registry (or an ``auths`` key) into the key credentials are stored under.

Strategy
--------
Two families of clients, two sets of rules, each ported from its source:

* docker/cli (``cli/config/credentials/file_store.go``, ``cli/config/configfile/file.go``):
  ``ConvertToHostname`` strips a scheme and a path from legacy keys (``https://r.io/v1/`` →
  ``r.io``) using Go's ``net/url`` when the key has ``://``, with docker's fallback for the
  unbracketed IPv6 hosts newer Go rejects; ``getAuthConfigKey`` stores Docker Hub under
  ``https://index.docker.io/v1/`` for ``docker.io`` and ``index.docker.io`` only.
* containers/image (``pkg/docker/config/config.go``): keys may name a namespace
  (``quay.io/org/repo``, most specific first); ``normalizeAuthFileKey`` trims ``http(s)://``
  and, for those keys only, the path; ``docker.io`` and ``registry-1.docker.io`` become
  ``index.docker.io``.

Only the part of Go's ``url.Parse`` that decides the host (scheme, authority, userinfo,
port and escape rules) is reproduced; every function here is linear in its input.
"""

from __future__ import annotations

from collections.abc import Iterator

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.")
_USERINFO_PUNCT = frozenset("-._:~!$&'()*+,;=%@")
#: ASCII bytes Go's ``shouldEscape(c, encodeHost)`` lets through unescaped in a host
_HOST_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:[]<>\"")
_HEX = frozenset("0123456789abcdefABCDEF")


class _URLError(ValueError):
    pass


def _valid_optional_port(port: str) -> bool:
    if port == "":
        return True
    return port[0] == ":" and all("0" <= c <= "9" for c in port[1:])


def _unescape_host(s: str) -> str:
    # Go's unescape(s, encodeHost): %XX only for non-ASCII bytes (or %25), ASCII must be allowed
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == "%":
            if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                raise _URLError("invalid URL escape")
            if int(s[i + 1], 16) < 8 and s[i:i + 3] != "%25":
                raise _URLError("invalid URL escape in host")
            out.append(int(s[i + 1:i + 3], 16))
            i += 3
            continue
        if ord(c) < 0x80 and c not in _HOST_OK:
            raise _URLError("invalid character in host name")
        out += c.encode("utf-8", "surrogatepass")
        i += 1
    return out.decode("utf-8", "replace")


def _parse_host(host: str) -> str:
    if host.startswith("["):
        end = host.rfind("]")
        if end < 0:
            raise _URLError("missing ']' in host")
        if not _valid_optional_port(host[end + 1:]):
            raise _URLError("invalid port after host")
    else:
        colon = host.rfind(":")
        if colon != -1:
            if not _valid_optional_port(host[colon:]):
                raise _URLError("invalid port after host")
            if ":" in host[:colon]:  # an unbracketed IPv6 literal: rejected by current Go
                raise _URLError("unbracketed IPv6 literal in host")
    return _unescape_host(host)


def _valid_userinfo(s: str) -> bool:
    return all(c.isascii() and (c.isalnum() or c in _USERINFO_PUNCT) for c in s)


def go_url_host(raw: str) -> str | None:
    """``url.Parse(raw).Host`` as Go computes it, or None when Go's parser returns an error.

    >>> go_url_host("https://user@example.com:6555/v2/"), go_url_host("https://[::1"), go_url_host("unix:///x")
    ('example.com:6555', None, '')
    """
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in raw):
        return None  # Go rejects control bytes anywhere
    rest, _, fragment = raw.partition("#")
    if not _valid_escapes(fragment):
        return None
    scheme = ""
    for i, c in enumerate(rest):
        if c == ":":
            if i == 0:
                return None  # missing protocol scheme
            scheme, rest = rest[:i], rest[i + 1:]
            break
        if c not in _SCHEME_CHARS or (i == 0 and not c.isalpha()):
            break
    rest = rest[:-1] if rest.endswith("?") and rest.count("?") == 1 else rest.partition("?")[0]
    if not rest.startswith("/"):
        if scheme:
            return ""  # opaque: scheme:opaque, no host
        first = rest.partition("/")[0]
        return None if ":" in first else ""
    if not rest.startswith("//") or (not scheme and rest.startswith("///")):
        return ""
    authority, slash, path = rest[2:].partition("/")
    at = authority.rfind("@")
    try:
        host = _parse_host(authority[at + 1:])
    except _URLError:
        return None
    if at >= 0 and not (_valid_userinfo(authority[:at]) and _valid_escapes(authority[:at])):
        return None
    return host if _valid_escapes(slash + path) else None


def _valid_escapes(s: str) -> bool:
    # Go's unescape outside hosts: every '%' starts a two-digit hex escape
    i = s.find("%")
    while i != -1:
        if i + 2 >= len(s) or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
            return False
        i = s.find("%", i + 3)
    return True


def _split_host_port(hostport: str) -> tuple[str, str]:
    # Go's url.splitHostPort, behind URL.Hostname() and URL.Port()
    host, port = hostport, ""
    colon = host.rfind(":")
    if colon != -1 and _valid_optional_port(host[colon:]):
        host, port = host[:colon], host[colon + 1:]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def _join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _host_from_url_fallback(raw: str) -> str:
    _, sep, rest = raw.partition("://")
    if not sep:
        return ""
    host = rest.partition("/")[0]
    if not host:
        return ""
    if host.count(":") > 1 and not host.startswith("["):
        cut = host.rfind(":")
        addr, port = host[:cut], host[cut + 1:]
        if addr and port and all("0" <= c <= "9" for c in port):
            return _join_host_port(addr, port)
    return host


def convert_to_hostname(maybe_url: str) -> str:
    """docker/cli's ``credentials.ConvertToHostname``: the host[:port] a stored key stands for.

    >>> [convert_to_hostname(k) for k in ("https://r.io/v2/", "r.io:5000", "https://::1:6555/v2/")]
    ['r.io', 'r.io:5000', '[::1]:6555']
    """
    if "://" in maybe_url:
        hostport = go_url_host(maybe_url)
        if hostport:
            host, port = _split_host_port(hostport)
            if host:
                return host if port == "" else _join_host_port(host, port)
        fallback = _host_from_url_fallback(maybe_url)
        if fallback:
            return fallback
    return maybe_url.partition("/")[0]


def docker_auth_config_key(domain: str) -> str:
    """docker/cli's ``getAuthConfigKey``: Docker Hub's historical key, else the domain itself.

    >>> docker_auth_config_key("docker.io"), docker_auth_config_key("registry-1.docker.io")
    ('https://index.docker.io/v1/', 'registry-1.docker.io')
    """
    return DOCKER_HUB_KEY if domain in ("docker.io", "index.docker.io") else domain


def normalize_registry(registry: str) -> str:
    """containers/image ``normalizeRegistry``: Docker Hub's hosts become ``index.docker.io``.

    >>> normalize_registry("docker.io")
    'index.docker.io'
    """
    return "index.docker.io" if registry in ("registry-1.docker.io", "docker.io") else registry


def normalize_auth_file_key(key: str, legacy_format: bool = False) -> str:
    """containers/image ``normalizeAuthFileKey``: an ``auths`` key as the registry it names.

    >>> normalize_auth_file_key("https://index.docker.io/v1/"), normalize_auth_file_key("quay.io/org")
    ('index.docker.io', 'quay.io/org')
    """
    stripped = key.removeprefix("http://").removeprefix("https://")
    if legacy_format or stripped != key:
        stripped = stripped.partition("/")[0]
    return normalize_registry(stripped)


def auth_key_lookup_order(key: str, registry: str, legacy_format: bool = False) -> Iterator[str]:
    """containers/image ``authKeyLookupOrder``: the keys to try, most specific first.

    >>> list(auth_key_lookup_order("quay.io/a/b", "quay.io"))
    ['quay.io/a/b', 'quay.io/a', 'quay.io']
    """
    if legacy_format:
        yield registry
        return
    while True:
        yield key
        cut = key.rfind("/")
        if cut == -1:
            return
        key = key[:cut]


def validate_key(key: str) -> bool:
    """containers/image ``validateKey``: is ``key`` namespaced; ValueError if it is no key.

    >>> validate_key("localhost:5000/repo"), validate_key("quay.io")
    (True, False)
    """
    if key.startswith(("http://", "https://")):
        raise ValueError(f"key {key[:100]} contains http[s]:// prefix")
    if "@" in key:
        raise ValueError(f"key {key[:100]} contains a '@' character")
    slash = key.find("/")
    if slash != -1 and ":" in key[slash + 1:]:
        raise ValueError(f"key {key[:100]} contains a ':' character after host[:port]")
    return slash != -1


__all__ = [
    "DOCKER_HUB_KEY", "auth_key_lookup_order", "convert_to_hostname", "docker_auth_config_key", "go_url_host",
    "normalize_auth_file_key", "normalize_registry", "validate_key",
]
