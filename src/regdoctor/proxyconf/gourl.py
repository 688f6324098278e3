"""Go's ``net/url.Parse`` for the parts a proxy decision depends on (pure).

Why a port and not ``urllib.parse``: Go clients read a proxy variable with ``url.Parse``,
and its answer differs from Python's on exactly the malformed values users write —
``cache.corp.example.com:1234`` is a URL with scheme ``cache.corp.example.com`` to Go,
``http://p:notaport`` is an error, and the retry with ``http://`` prepended then reads
it as host ``http:`` (so Go dials a host named ``http``). Reporting what the Go client
will really do needs Go's parser, byte for byte.

Ported from golang/go ``src/net/url/url.go`` (commit 7e6685ce9465d8bbb139a7760565cd792d0e0e5e):
``Parse``, ``parse``, ``getScheme``, ``parseAuthority``, ``parseHost``, ``unescape``,
``escape``/``shouldEscape``, ``validUserinfo``, ``validOptionalPort``, ``String``,
``Redacted``, ``Hostname``, ``Port``. Go strings are byte strings, so the port works on
UTF-8 bytes (``surrogateescape`` keeps undecodable environment bytes intact).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

_ENCODE_PATH, _ENCODE_PATH_SEGMENT, _ENCODE_HOST, _ENCODE_ZONE, _ENCODE_USER_PASSWORD, _ENCODE_QUERY, \
    _ENCODE_FRAGMENT = range(1, 8)
_UPPERHEX = b"0123456789ABCDEF"


class GoURLError(ValueError):
    """``url.Parse`` failed; the message is Go's (``parse "…": invalid port ":x" after host``),
    ``reason`` the part after the quoted URL (which may hold credentials: never split the
    message to get it)."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason if reason is not None else message


@dataclass(frozen=True)
class GoUserinfo:
    username: str
    password: str | None  # None: no password set (``user@host``)


@dataclass(frozen=True)
class GoURL:
    """Go's ``url.URL`` (the fields a proxy decision reads)."""

    scheme: str = ""
    opaque: str = ""
    user: GoUserinfo | None = None
    host: str = ""
    path: str = ""
    raw_path: str = ""
    omit_host: bool = False
    force_query: bool = False
    raw_query: str = ""
    fragment: str = ""
    raw_fragment: str = ""

    def hostname(self) -> str:
        """``u.Hostname()``: the host without a valid port and without IPv6 brackets."""
        return _split_host_port(self.host)[0]

    def port(self) -> str:
        """``u.Port()``: the port digits, or ``""``."""
        return _split_host_port(self.host)[1]

    def string(self) -> str:
        """``u.String()``, e.g. ``http://127.0.0.1:8080``.

        >>> go_url_parse("HTTP://u:p@Proxy:3128").string()
        'http://u:p@Proxy:3128'
        """
        return _b2s(_url_string(self))

    def redacted(self) -> str:
        """``u.Redacted()``: the password replaced with ``xxxxx``.

        >>> go_url_parse("http://u:secret@p:1").redacted()
        'http://u:xxxxx@p:1'
        """
        user = self.user
        if user is not None and user.password is not None:
            user = GoUserinfo(user.username, "xxxxx")
        return _b2s(_url_string(GoURL(**{**self.__dict__, "user": user})))


def go_url_parse(raw: str) -> GoURL:
    """Go's ``url.Parse(raw)``.

    >>> u = go_url_parse("cache.corp.example.com:1234")
    >>> (u.scheme, u.opaque, u.host)
    ('cache.corp.example.com', '1234', '')
    >>> go_url_parse("http://p:notaport")
    Traceback (most recent call last):
    ...
    regdoctor.proxyconf.gourl.GoURLError: parse "http://p:notaport": invalid port ":notaport" after host
    """
    data = _s2b(raw)
    u, sep, frag = data.partition(b"#")
    try:
        url = _parse(u)
    except GoURLError as exc:
        raise GoURLError(f"parse {_go_quote(u)}: {exc}", exc.reason) from None
    if not sep or not frag:
        return url
    try:
        fragment = _unescape(frag, _ENCODE_FRAGMENT)
    except GoURLError as exc:
        raise GoURLError(f"parse {_go_quote(data)}: {exc}", exc.reason) from None
    raw_fragment = b"" if _escape(fragment, _ENCODE_FRAGMENT) == frag else frag
    return GoURL(**{**url.__dict__, "fragment": _b2s(fragment), "raw_fragment": _b2s(raw_fragment)})


def go_join_host_port(host: str, port: str) -> str:
    """``net.JoinHostPort``: brackets around a host that contains a colon."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def go_split_host_port(hostport: str) -> tuple[str, str]:
    """``net.SplitHostPort``; raises ``ValueError`` with Go's reason.

    >>> go_split_host_port("[::1]:80")
    ('::1', '80')
    """
    def fail(why: str) -> ValueError:
        return ValueError(f"address {hostport}: {why}")

    i = hostport.rfind(":")
    if i < 0:
        raise fail("missing port in address")
    no_open_before = no_close_before = 0  # Go's j, k: no '[' resp. ']' may follow these positions
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise fail("missing ']' in address")
        if end + 1 == len(hostport):
            raise fail("missing port in address")
        if end + 1 != i:
            raise fail("too many colons in address" if hostport[end + 1] == ":" else "missing port in address")
        host = hostport[1:end]
        no_open_before, no_close_before = 1, end + 1
    else:
        host = hostport[:i]
        if ":" in host:
            raise fail("too many colons in address")
    if "[" in hostport[no_open_before:]:
        raise fail("unexpected '[' in address")
    if "]" in hostport[no_close_before:]:
        raise fail("unexpected ']' in address")
    return host, hostport[i + 1:]


# --- internals -----------------------------------------------------------------------------------

def _s2b(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _b2s(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _go_quote(b: bytes) -> str:
    """A double-quoted form for error messages, like strconv.Quote (never parsed back)."""
    return json.dumps(b.decode("utf-8", "backslashreplace"), ensure_ascii=False)


def _ishex(c: int) -> bool:
    return 48 <= c <= 57 or 97 <= c <= 102 or 65 <= c <= 70


def _unhex(c: int) -> int:
    if 48 <= c <= 57:
        return c - 48
    if 97 <= c <= 102:
        return c - 87
    if 65 <= c <= 70:
        return c - 55
    return 0


def _should_escape(c: int, mode: int) -> bool:
    if 97 <= c <= 122 or 65 <= c <= 90 or 48 <= c <= 57:
        return False
    if mode in (_ENCODE_HOST, _ENCODE_ZONE) and c in b"!$&'()*+,;=:[]<>\"":
        return False
    if c in b"-_.~":
        return False
    if c in b"$&+,/:;=?@":
        if mode == _ENCODE_PATH:
            return c == ord("?")
        if mode == _ENCODE_PATH_SEGMENT:
            return c in b"/;,?"
        if mode == _ENCODE_USER_PASSWORD:
            return c in b"@/?:"
        if mode == _ENCODE_QUERY:
            return True
        if mode == _ENCODE_FRAGMENT:
            return False
    return not (mode == _ENCODE_FRAGMENT and c in b"!()*")


def _unescape(s: bytes, mode: int) -> bytes:
    n = 0
    has_plus = False
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x25:  # '%'
            n += 1
            if i + 2 >= len(s) or not _ishex(s[i + 1]) or not _ishex(s[i + 2]):
                raise GoURLError(f"invalid URL escape {_go_quote(s[i:i + 3])}")
            if mode == _ENCODE_HOST and _unhex(s[i + 1]) < 8 and s[i:i + 3] != b"%25":
                raise GoURLError(f"invalid URL escape {_go_quote(s[i:i + 3])}")
            if mode == _ENCODE_ZONE:
                v = _unhex(s[i + 1]) << 4 | _unhex(s[i + 2])
                if s[i:i + 3] != b"%25" and v != 0x20 and _should_escape(v, _ENCODE_HOST):
                    raise GoURLError(f"invalid URL escape {_go_quote(s[i:i + 3])}")
            i += 3
        elif c == 0x2B:  # '+'
            has_plus = mode == _ENCODE_QUERY
            i += 1
        else:
            if mode in (_ENCODE_HOST, _ENCODE_ZONE) and c < 0x80 and _should_escape(c, mode):
                raise GoURLError(f"invalid character {_go_quote(s[i:i + 1])} in host name")
            i += 1
    if n == 0 and not has_plus:
        return s
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c == 0x25:
            out.append(_unhex(s[i + 1]) << 4 | _unhex(s[i + 2]))
            i += 3
            continue
        out.append(0x20 if c == 0x2B and mode == _ENCODE_QUERY else c)
        i += 1
    return bytes(out)


def _escape(s: bytes, mode: int) -> bytes:
    out = bytearray()
    for c in s:
        if c == 0x20 and mode == _ENCODE_QUERY:
            out.append(0x2B)
        elif _should_escape(c, mode):
            out += b"%" + _UPPERHEX[c >> 4:(c >> 4) + 1] + _UPPERHEX[c & 15:(c & 15) + 1]
        else:
            out.append(c)
    return bytes(out)


def _get_scheme(raw: bytes) -> tuple[bytes, bytes]:
    for i, c in enumerate(raw):
        if 97 <= c <= 122 or 65 <= c <= 90:
            continue
        if 48 <= c <= 57 or c in b"+-.":
            if i == 0:
                return b"", raw
            continue
        if c == 0x3A:  # ':'
            if i == 0:
                raise GoURLError("missing protocol scheme")
            return raw[:i], raw[i + 1:]
        return b"", raw
    return b"", raw


def _parse(raw: bytes) -> GoURL:
    if any(b < 0x20 or b == 0x7F for b in raw):
        raise GoURLError("net/url: invalid control character in URL")
    if raw == b"*":
        return GoURL(path="*")
    scheme_b, rest = _get_scheme(raw)
    scheme = _b2s(scheme_b).lower()
    force_query = False
    raw_query = b""
    if rest.endswith(b"?") and rest.count(b"?") == 1:
        force_query, rest = True, rest[:-1]
    else:
        rest, _, raw_query = rest.partition(b"?")
    fields: dict[str, object] = {"scheme": scheme, "force_query": force_query, "raw_query": _b2s(raw_query)}
    if not rest.startswith(b"/"):
        if scheme:
            return GoURL(**fields, opaque=_b2s(rest))  # type: ignore[arg-type]
        if b":" in rest.partition(b"/")[0]:
            raise GoURLError("first path segment in URL cannot contain colon")
    if (scheme or not rest.startswith(b"///")) and rest.startswith(b"//"):
        authority, rest = rest[2:], b""
        i = authority.find(b"/")
        if i >= 0:
            authority, rest = authority[:i], authority[i:]
        fields["user"], fields["host"] = _parse_authority(authority)
    elif scheme and rest.startswith(b"/"):
        fields["omit_host"] = True
    path = _unescape(rest, _ENCODE_PATH)
    fields["path"] = _b2s(path)
    fields["raw_path"] = "" if _escape(path, _ENCODE_PATH) == rest else _b2s(rest)
    return GoURL(**fields)  # type: ignore[arg-type]


_USERINFO_OK = frozenset(b"-._:~!$&'()*+,;=%@")


def _parse_authority(authority: bytes) -> tuple[GoUserinfo | None, str]:
    i = authority.rfind(b"@")
    host = _parse_host(authority[i + 1:] if i >= 0 else authority)
    if i < 0:
        return None, host
    userinfo = authority[:i]
    if not all(c < 0x80 and (chr(c).isalnum() or c in _USERINFO_OK) for c in userinfo):
        raise GoURLError("net/url: invalid userinfo")
    if b":" not in userinfo:
        return GoUserinfo(_b2s(_unescape(userinfo, _ENCODE_USER_PASSWORD)), None), host
    username, _, password = userinfo.partition(b":")
    return GoUserinfo(_b2s(_unescape(username, _ENCODE_USER_PASSWORD)),
                      _b2s(_unescape(password, _ENCODE_USER_PASSWORD))), host


def _valid_optional_port(port: bytes) -> bool:
    if not port:
        return True
    return port[0] == 0x3A and all(48 <= b <= 57 for b in port[1:])


def _parse_host(host: bytes) -> str:
    if host.startswith(b"["):
        i = host.rfind(b"]")
        if i < 0:
            raise GoURLError("missing ']' in host")
        colon_port = host[i + 1:]
        if not _valid_optional_port(colon_port):
            raise GoURLError(f"invalid port {_go_quote(colon_port)} after host")
        zone = host[:i].find(b"%25")
        if zone >= 0:
            return _b2s(_unescape(host[:zone], _ENCODE_HOST) + _unescape(host[zone:i], _ENCODE_ZONE)
                        + _unescape(host[i:], _ENCODE_HOST))
    else:
        i = host.rfind(b":")
        if i != -1 and not _valid_optional_port(host[i:]):
            raise GoURLError(f"invalid port {_go_quote(host[i:])} after host")
    return _b2s(_unescape(host, _ENCODE_HOST))


def _split_host_port(hostport: str) -> tuple[str, str]:
    host, port = hostport, ""
    colon = host.rfind(":")
    if colon != -1 and _valid_optional_port(_s2b(host[colon:])):
        host, port = host[:colon], host[colon + 1:]
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, port


def _valid_encoded(s: bytes, mode: int) -> bool:
    return all(c in b"!$&'()*+,;=:@[]%" or not _should_escape(c, mode) for c in s)


def _escaped_path(u: GoURL) -> bytes:
    path = _s2b(u.path)
    if u.raw_path and _valid_encoded(_s2b(u.raw_path), _ENCODE_PATH):
        try:
            if _unescape(_s2b(u.raw_path), _ENCODE_PATH) == path:
                return _s2b(u.raw_path)
        except GoURLError:
            pass
    return b"*" if u.path == "*" else _escape(path, _ENCODE_PATH)


def _escaped_fragment(u: GoURL) -> bytes:
    frag = _s2b(u.fragment)
    if u.raw_fragment and _valid_encoded(_s2b(u.raw_fragment), _ENCODE_FRAGMENT):
        try:
            if _unescape(_s2b(u.raw_fragment), _ENCODE_FRAGMENT) == frag:
                return _s2b(u.raw_fragment)
        except GoURLError:
            pass
    return _escape(frag, _ENCODE_FRAGMENT)


def _url_string(u: GoURL) -> bytes:
    buf = bytearray()
    if u.scheme:
        buf += _s2b(u.scheme) + b":"
    if u.opaque:
        buf += _s2b(u.opaque)
    else:
        if (u.scheme or u.host or u.user is not None) and not (u.omit_host and not u.host and u.user is None):
            if u.host or u.path or u.user is not None:
                buf += b"//"
            if u.user is not None:
                buf += _escape(_s2b(u.user.username), _ENCODE_USER_PASSWORD)
                if u.user.password is not None:
                    buf += b":" + _escape(_s2b(u.user.password), _ENCODE_USER_PASSWORD)
                buf += b"@"
            if u.host:
                buf += _escape(_s2b(u.host), _ENCODE_HOST)
        path = _escaped_path(u)
        if path and path[:1] != b"/" and u.host:
            buf += b"/"
        if not buf and b":" in path.partition(b"/")[0]:
            buf += b"./"
        buf += path
    if u.force_query or u.raw_query:
        buf += b"?" + _s2b(u.raw_query)
    if u.fragment:
        buf += b"#" + _escaped_fragment(u)
    return bytes(buf)


__all__ = ["GoURL", "GoURLError", "GoUserinfo", "go_join_host_port", "go_split_host_port", "go_url_parse"]
