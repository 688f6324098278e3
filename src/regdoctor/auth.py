"""Pure registry-auth decoding: challenges, token responses, granted scopes.

Strategy
--------
The distribution token flow (``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` → GET
realm → ``{"token": …}``) is parsed here without I/O so that hostile headers and bodies can be
unit-tested. A JWT's ``access`` claim is read *without* verifying its signature: regdoctor only
reports what scope the token says it grants; the registry is the one that verifies it.

Challenges are read the way the pulling clients read them. containerd
(``core/remotes/docker/auth/parse.go``) and distribution
(``internal/client/auth/challenge/authchallenge.go``) share one tokenizer: one challenge per
``WWW-Authenticate`` line, scheme and parameter names lower-cased, quoted strings unescaped,
a later duplicate parameter wins, and parsing stops quietly at the first thing it does not
expect (so ``Basic realm="x", Bearer realm="y"`` on one line is Basic only). They differ in two
places: containerd keeps ``key=""`` and goes on while distribution stops there, and containerd
keeps only basic/digest/bearer, sorted bearer first. ``check`` follows containerd (dockerd and
containerd do the pull); :func:`parse_rfc7235` is the full RFC 7235 grammar (several
challenges per line, ``token68``), used to say what the clients miss. Every parser is a single
left-to-right scan with bounded input (no regex on header text).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from regdoctor.safejson import JSONLimitError, loads

MAX_TOKEN_RESPONSE = 1024 * 1024

#: RFC 7230 tchar: what distribution's and containerd's ``octetTypes`` call ``isToken``
_TOKEN_CHARS = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SPACE = frozenset(" \t\r\n")  # the peers' isSpace; RFC 7230 OWS is SP / HTAB only
_OWS = frozenset(" \t")
_TOKEN68_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/")
#: containerd ``AuthenticationScheme`` order: ``sort.Stable`` puts bearer, digest, basic first
_CONTAINERD_RANK = {"bearer": 0, "digest": 1, "basic": 2}
MAX_HEADER = 8192
MAX_HEADERS = 32


class ChallengeError(ValueError):
    """A WWW-Authenticate header that cannot be used."""


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" | "basic" | other, lower case
    params: dict[str, str] = field(default_factory=dict)
    #: RFC 7235 ``token68`` (``Negotiate abc==``); only the RFC reading sets it
    token68: str | None = None

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def _skip(s: str, i: int, chars: frozenset[str]) -> int:
    while i < len(s) and s[i] in chars:
        i += 1
    return i


def _token_end(s: str, i: int) -> int:
    return _skip(s, i, _TOKEN_CHARS)


def _quoted(s: str, i: int) -> tuple[str, int] | None:
    """The peers' ``expectTokenOrQuoted`` for a value starting with ``"`` at ``i``: the unescaped
    text and the index after the closing quote, or None when the quote never closes."""
    out: list[str] = []
    j = i + 1
    while j < len(s):
        c = s[j]
        if c == '"':
            return "".join(out), j + 1
        if c == "\\":
            j += 1
            if j == len(s):
                return None
        out.append(s[j])
        j += 1
    return None


def _peer_params(header: str, *, keep_empty: bool) -> tuple[str, dict[str, str]]:
    """``parseValueAndParams`` of distribution (``keep_empty=False``: an empty value ends the
    parse) and of containerd (``keep_empty=True``: ``key=""`` is kept and parsing goes on)."""
    params: dict[str, str] = {}
    end = _token_end(header, 0)
    scheme = header[:end].lower()
    if not scheme:
        return "", params
    i = end
    while True:
        i = _skip(header, i, _SPACE)
        kend = _token_end(header, i)
        key = header[i:kend].lower()
        if not key or kend >= len(header) or header[kend] != "=":
            return scheme, params
        i = kend + 1
        if i < len(header) and header[i] == '"':
            q = _quoted(header, i)
            value, i = q if q is not None else ("", len(header))
        else:
            vend = _token_end(header, i)
            value, i = header[i:vend], vend
        if not value and not keep_empty:
            return scheme, params
        params[key] = value
        i = _skip(header, i, _SPACE)
        if i >= len(header) or header[i] != ",":
            return scheme, params
        i += 1


def _header_lines(headers: str | Sequence[str]) -> list[str]:
    lines = [headers] if isinstance(headers, str) else list(headers)
    if len(lines) > MAX_HEADERS:
        raise ChallengeError(f"more than {MAX_HEADERS} WWW-Authenticate headers")
    for h in lines:
        if len(h) > MAX_HEADER:
            raise ChallengeError(f"the header is longer than {MAX_HEADER // 1024} KiB")
    return lines


def parse_distribution(headers: str | Sequence[str]) -> list[Challenge]:
    """distribution's ``parseAuthHeader``: one challenge per header line, any scheme.

    >>> [(c.scheme, c.params) for c in parse_distribution(['Basic realm="x", Bearer realm="y"'])]
    [('basic', {'realm': 'x'})]
    """
    out = []
    for h in _header_lines(headers):
        scheme, params = _peer_params(h, keep_empty=False)
        if scheme:
            out.append(Challenge(scheme, params))
    return out


def parse_containerd(headers: str | Sequence[str]) -> list[Challenge]:
    """containerd's ``ParseAuthHeader``: one challenge per line, only basic/digest/bearer,
    sorted bearer, digest, basic (stable).

    >>> [c.scheme for c in parse_containerd(["Basic realm=x", "Negotiate", "Bearer realm=y"])]
    ['bearer', 'basic']
    """
    out = []
    for h in _header_lines(headers):
        scheme, params = _peer_params(h, keep_empty=True)
        if scheme in _CONTAINERD_RANK:
            out.append(Challenge(scheme, params))
    return sorted(out, key=lambda c: _CONTAINERD_RANK[c.scheme])


def parse_challenges(headers: str | Sequence[str]) -> list[Challenge]:
    """The challenges as the pulling client reads them: containerd's rules (dockerd pulls
    through containerd or distribution's identical tokenizer), with schemes containerd drops
    kept at the end so that an unsupported scheme can be named.

    >>> c = parse_challenges('Bearer realm="https://a.io/token",service="a.io",scope="repository:x:pull"')[0]
    >>> (c.scheme, c.realm, c.params["service"])
    ('bearer', 'https://a.io/token', 'a.io')
    >>> [c.scheme for c in parse_challenges(['Basic realm="r"', 'Bearer realm="https://t"'])]
    ['bearer', 'basic']
    """
    out = []
    for h in _header_lines(headers):
        scheme, params = _peer_params(h, keep_empty=True)
        if scheme:
            out.append(Challenge(scheme, params))
    if not out:
        raise ChallengeError("no auth scheme in the header")
    return sorted(out, key=lambda c: _CONTAINERD_RANK.get(c.scheme, len(_CONTAINERD_RANK)))


def parse_rfc7235(headers: str | Sequence[str]) -> list[Challenge]:
    """Every challenge by the RFC 7235 grammar: several per header line, ``token68``, quoted
    pairs, empty list elements. Used to tell the user what the peers' one-per-line reading
    misses. Raises ChallengeError on text outside the grammar.

    >>> [(c.scheme, c.params, c.token68) for c in parse_rfc7235('Basic realm="x", Negotiate abc==')]
    [('basic', {'realm': 'x'}, None), ('negotiate', {}, 'abc==')]
    """
    out: list[Challenge] = []
    for h in _header_lines(headers):
        out += _rfc_line(h)
    return out


def _rfc_line(s: str) -> list[Challenge]:
    out: list[Challenge] = []
    i = 0
    n = len(s)
    while True:
        i = _skip_list_sep(s, i)
        if i >= n:
            return out
        end = _token_end(s, i)
        if end == i:
            raise ChallengeError(f"expected an auth scheme at offset {i}")
        scheme = s[i:end].lower()
        i = end
        if i < n and s[i] not in _OWS and s[i] != ",":
            raise ChallengeError(f"unexpected {s[i]!r} after the scheme at offset {i}")
        i = _skip(s, i, _OWS)
        params: dict[str, str] = {}
        token68: str | None = None
        if i < n and s[i] != ",":
            t_end = _skip(s, i, _TOKEN68_CHARS)
            t68_end = _skip(s, t_end, frozenset("="))
            after = _skip(s, t68_end, _OWS)
            if t_end > i and (after >= n or s[after] == ",") and not _is_param(s, i):
                token68, i = s[i:t68_end], after
            else:
                i = _rfc_params(s, i, params)
        out.append(Challenge(scheme, params, token68))


def _skip_list_sep(s: str, i: int) -> int:
    while i < len(s) and (s[i] in _OWS or s[i] == ","):
        i += 1
    return i


def _is_param(s: str, i: int) -> bool:
    """Does an ``auth-param`` (token BWS "=" BWS value) start at ``i``?"""
    end = _token_end(s, i)
    if end == i:
        return False
    j = _skip(s, end, _OWS)
    if j >= len(s) or s[j] != "=":
        return False
    j = _skip(s, j + 1, _OWS)
    return j < len(s) and (s[j] == '"' or s[j] in _TOKEN_CHARS)


def _rfc_params(s: str, i: int, params: dict[str, str]) -> int:
    n = len(s)
    while True:
        if not _is_param(s, i):
            raise ChallengeError(f"expected name=value at offset {i}")
        end = _token_end(s, i)
        key = s[i:end].lower()
        i = _skip(s, _skip(s, end, _OWS) + 1, _OWS)
        if s[i] == '"':
            q = _quoted(s, i)
            if q is None:
                raise ChallengeError(f"unterminated quoted string at offset {i}")
            value, i = q
        else:
            vend = _token_end(s, i)
            value, i = s[i:vend], vend
        params[key] = value  # RFC 7235: a name occurs once; the peers keep the last
        i = _skip(s, i, _OWS)
        if i >= n:
            return i
        if s[i] != ",":
            raise ChallengeError(f"expected ',' at offset {i}")
        j = _skip_list_sep(s, i)
        if j >= n or not _is_param(s, j):
            return j  # the end, or the next challenge's scheme
        i = j


def challenges_missed(headers: Sequence[str]) -> list[str]:
    """Schemes the RFC 7235 reading finds that the client's one-challenge-per-line reading
    does not (a second challenge on one header line); [] when they agree or the RFC reading
    fails.

    >>> challenges_missed(['Basic realm="x", Bearer realm="https://t/token"'])
    ['bearer']
    """
    try:
        rfc = parse_rfc7235(headers)
        seen = parse_challenges(headers)
    except ChallengeError:
        return []
    return [c.scheme for c in rfc[len(seen):]] if len(rfc) > len(seen) else []


def bearer_problem(ch: Challenge) -> str | None:
    """Why a Bearer challenge is unusable, or None (containerd ``GenerateTokenOptions``: a
    realm must be present and parse as a URL; to be fetched it must be http(s) with a host).

    >>> bearer_problem(Challenge("bearer", {"realm": "ftp://x"}))
    "realm 'ftp://x' is not an http(s) URL"
    >>> bearer_problem(Challenge("bearer", {"realm": "https://["}))
    "realm 'https://[' is not a valid URL (missing ']' in host)"
    """
    from regdoctor.credentials.keys import go_url_host

    realm = ch.realm
    if realm is None:
        return "the Bearer challenge has no realm"
    shown = realm[:200]
    if go_url_host(realm) is None:
        why = "missing ']' in host" if "[" in realm and "]" not in realm else "Go's url.Parse rejects it"
        return f"realm {shown!r} is not a valid URL ({why})"
    try:
        parts = urlsplit(realm)
        _ = parts.port
    except ValueError:
        return f"realm {shown!r} has an invalid host or port"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"realm {shown!r} is not an http(s) URL"
    return None


# -- scopes ---------------------------------------------------------------------------------------

_SCOPE_TYPE = re.compile(r"[a-z0-9]+(?:\([a-z0-9]+\))?")
_ACTION = re.compile(r"[a-z]*|\*")


class ScopeError(ValueError):
    """A scope string outside distribution's scope grammar."""


@dataclass(frozen=True)
class Scope:
    """``resourcetype[(class)]:resourcename:action[,action]*`` (distribution ``spec/auth/scope``)."""

    type: str
    name: str
    actions: tuple[str, ...]
    resource_class: str = ""

    def __str__(self) -> str:
        typ = f"{self.type}({self.resource_class})" if self.resource_class else self.type
        return f"{typ}:{self.name}:{','.join(self.actions)}"


def parse_scope(value: str) -> list[Scope]:
    """Parse a ``scope`` value: resource scopes separated by spaces; the name may hold one
    ``:`` (a registry port), so the type ends at the first colon and the actions start after
    the last.

    >>> [str(s) for s in parse_scope("repository:localhost:5000/a:pull,push registry:catalog:*")]
    ['repository:localhost:5000/a:pull,push', 'registry:catalog:*']
    >>> parse_scope("repository(plugin):x/y:pull")[0].resource_class
    'plugin'
    """
    if len(value) > MAX_HEADER:
        raise ScopeError(f"the scope is longer than {MAX_HEADER // 1024} KiB")
    out = []
    for item in value.split(" "):
        if not item:
            continue  # containerd splits on every space; an empty scope is dropped by the server
        typ, sep1, rest = item.partition(":")
        name, sep2, actions = rest.rpartition(":")
        if not (sep1 and sep2) or not name:
            raise ScopeError(f"{item[:100]!r} is not type:name:actions")
        if not _SCOPE_TYPE.fullmatch(typ):
            raise ScopeError(f"{typ[:100]!r} is not a resource type (lower-case letters and digits, "
                             f"optional (class))")
        if name.count(":") > 1:
            raise ScopeError(f"resource name {name[:100]!r} holds more than one ':'")
        acts = tuple(actions.split(","))
        if not all(_ACTION.fullmatch(a) for a in acts):
            raise ScopeError(f"{actions[:100]!r} is not a list of actions")
        base, _, cls = typ.partition("(")
        out.append(Scope(base, name, acts, cls.rstrip(")")))
    return out


def token_scopes(requested: Sequence[str], challenge_scope: str | None) -> list[str]:
    """containerd ``GetTokenScopes``: the request's scopes plus the challenge's (split on each
    space), sorted and deduplicated as strings.

    >>> token_scopes(["repository:a:pull"], "repository:a:pull,push repository:a:pull")
    ['repository:a:pull', 'repository:a:pull,push']
    """
    common = challenge_scope.split(" ") if challenge_scope is not None else []
    return sorted(set([*requested, *common]))


#: docker's OAuth client id (distribution's token handler sends one; registries log it)
OAUTH_CLIENT_ID = "regdoctor"


def oauth_refresh_form(service: str | None, scopes: list[str], refresh_token: str) -> bytes:
    """The form docker POSTs to the realm for an identity (refresh) token, as distribution's
    ``fetchTokenWithOAuth`` builds it (``internal/client/auth/session.go``): ``scope`` (the
    scopes joined by spaces, empty for a login), ``service``, ``client_id``,
    ``grant_type=refresh_token``, ``refresh_token``; encoded as Go's ``url.Values`` does, keys
    sorted. ACR's ``az acr login`` stores such a token (user ``<token>``); there is no
    fallback to Basic on failure.

    >>> oauth_refresh_form("r.azurecr.io", ["repository:a:pull"], "RT")
    b'client_id=regdoctor&grant_type=refresh_token&refresh_token=RT&scope=repository%3Aa%3Apull&service=r.azurecr.io'
    """
    form = {"scope": " ".join(scopes), "service": service or "", "client_id": OAUTH_CLIENT_ID,
            "grant_type": "refresh_token", "refresh_token": refresh_token}
    return urlencode(sorted(form.items())).encode("ascii")


def token_url(realm: str, service: str | None, scopes: list[str]) -> str:
    """The token request URL: realm + service + one ``scope`` per requested scope.

    >>> token_url("https://a.io/token", "a.io", ["repository:lab/x:pull"])
    'https://a.io/token?service=a.io&scope=repository%3Alab%2Fx%3Apull'
    """
    query: list[tuple[str, str]] = []
    if service:
        query.append(("service", service))
    query += [("scope", s) for s in scopes]
    sep = "&" if "?" in realm else "?"
    return realm + (sep + urlencode(query) if query else "")


@dataclass(frozen=True)
class TokenInfo:
    token: str
    expires_in: int | None
    granted: list[str]  # "repository:lab/x:pull,push" forms; [] when the token is opaque
    opaque: bool


def parse_token_response(body: bytes) -> TokenInfo:
    """Read ``{"token"|"access_token": …, "expires_in": …}``; raise ValueError if unusable.

    >>> parse_token_response(b'{"token": "abc", "expires_in": 300}').expires_in
    300
    """
    try:
        doc = loads(body, max_bytes=MAX_TOKEN_RESPONSE, max_depth=32)
    except JSONLimitError as exc:
        raise ValueError(f"the token response is not usable JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError("the token response is not a JSON object")
    token = doc.get("token") or doc.get("access_token")
    if not isinstance(token, str) or not token:
        raise ValueError("the token response has no token")
    if any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in token):
        # Go's net/http refuses such a header value ("invalid header field value"): no pull can use it
        raise ValueError("the token has a control character, which no client can send in a header")
    exp = doc.get("expires_in")
    granted = jwt_access(token)
    return TokenInfo(token=token, expires_in=exp if isinstance(exp, int) else None,
                     granted=granted or [], opaque=granted is None)


def jwt_access(token: str) -> list[str] | None:
    """The scopes a JWT's ``access`` claim grants, or None if the token is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 65536:
        return None
    try:
        payload = loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)), max_depth=32)
    except ValueError:  # binascii.Error and JSONLimitError are ValueErrors
        return None
    if not isinstance(payload, dict):
        return None
    access = payload.get("access")
    if not isinstance(access, list):
        return []
    out = []
    for a in access:
        if isinstance(a, dict):
            actions = a.get("actions") or []
            acts = ",".join(str(x) for x in actions) if isinstance(actions, list) else ""
            out.append(f"{a.get('type', '?')}:{a.get('name', '?')}:{acts}")
    return out


def grants_pull(granted: list[str], repository: str) -> bool:
    """Does a granted-scope list include pull on ``repository``?

    >>> grants_pull(["repository:lab/x:pull,push"], "lab/x"), grants_pull(["repository:lab/x:"], "lab/x")
    (True, False)
    """
    for g in granted:
        typ, _, rest = g.partition(":")
        name, _, actions = rest.rpartition(":")
        if typ == "repository" and name == repository and ("pull" in actions.split(",") or "*" in actions):
            return True
    return False


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


__all__ = [
    "Challenge", "ChallengeError", "Scope", "ScopeError", "TokenInfo", "basic_header", "bearer_problem",
    "challenges_missed", "grants_pull", "jwt_access", "parse_challenges", "parse_containerd", "parse_distribution",
    "parse_rfc7235", "parse_scope", "parse_token_response", "token_scopes", "token_url",
]
