"""Pure registry-auth decoding: challenges, token responses, granted scopes.

Strategy
--------
The distribution token flow (``WWW-Authenticate: Bearer realm=…,service=…,scope=…`` → GET
realm → ``{"token": …}``) is parsed here without I/O so that hostile headers and bodies can be
unit-tested. A JWT's ``access`` claim is read *without* verifying its signature: regdoctor only
reports what scope the token says it grants; the registry is the one that verifies it.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

_TCHAR = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_PARAM = re.compile(rf"\s*({_TCHAR})\s*=\s*(\"(?:[^\"\\]|\\.)*\"|{_TCHAR})\s*,?")
_SCHEME = re.compile(rf"\s*({_TCHAR})(?:\s+|$)")


class ChallengeError(ValueError):
    """A WWW-Authenticate header that cannot be used."""


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "bearer" | "basic" | other, lower case
    params: dict[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")


def parse_challenges(header: str) -> list[Challenge]:
    """Parse a WWW-Authenticate value into challenges (RFC 7235, quoted strings unescaped).

    >>> c = parse_challenges('Bearer realm="https://a.io/token",service="a.io",scope="repository:x:pull"')[0]
    >>> (c.scheme, c.realm, c.params["service"])
    ('bearer', 'https://a.io/token', 'a.io')
    >>> [c.scheme for c in parse_challenges('Basic realm="r", Bearer realm="https://t"')]
    ['basic', 'bearer']
    """
    if len(header) > 8192:
        raise ChallengeError("the header is longer than 8 KiB")
    out: list[Challenge] = []
    pos = 0
    text = header.strip()
    while pos < len(text):
        m = _SCHEME.match(text, pos)
        if not m:
            raise ChallengeError(f"cannot read an auth scheme at offset {pos}")
        scheme = m.group(1).lower()
        pos = m.end()
        params: dict[str, str] = {}
        while pos < len(text):
            pm = _PARAM.match(text, pos)
            if not pm:
                break
            key, value = pm.group(1).lower(), pm.group(2)
            if value.startswith('"'):
                value = re.sub(r"\\(.)", r"\1", value[1:-1])
            params[key] = value
            pos = pm.end()
        out.append(Challenge(scheme, params))
        while pos < len(text) and text[pos] in ", ":
            pos += 1
    if not out:
        raise ChallengeError("no challenge in the header")
    return out


def bearer_problem(ch: Challenge) -> str | None:
    """Why a Bearer challenge is unusable, or None.

    >>> bearer_problem(Challenge("bearer", {"realm": "ftp://x"}))
    "realm 'ftp://x' is not an http(s) URL"
    """
    realm = ch.realm
    if not realm:
        return "the Bearer challenge has no realm"
    parts = urlsplit(realm)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"realm {realm!r} is not an http(s) URL"
    try:
        _ = parts.port
    except ValueError:
        return f"realm {realm!r} has an invalid port"
    return None


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
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"the token response is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ValueError("the token response is not a JSON object")
    token = doc.get("token") or doc.get("access_token")
    if not isinstance(token, str) or not token:
        raise ValueError("the token response has no token")
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
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
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
    "Challenge", "ChallengeError", "TokenInfo", "basic_header", "bearer_problem", "grants_pull", "jwt_access",
    "parse_challenges", "parse_token_response", "token_url",
]
