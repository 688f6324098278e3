"""The one redactor: every secret regdoctor could print goes through here first.

Strategy
--------
Secrets reach regdoctor's output from three places: proxy settings (``http://user:pass@proxy``),
redirect locations (signed storage URLs: SAS ``sig``, S3 credentials) and pasted error texts
(``explain``: all of the above plus ``Authorization`` headers, JWTs, Docker config ``auth``
values, ``docker login -p``). Each rule is written once, here:

- :func:`userinfo` is how a URL's credentials are shown (``user:***@``);
- :func:`redact_url` masks the password of one URL-ish value (a proxy setting), whose host is
  after its last ``@``;
- :func:`redact_location` keeps only scheme, host and path of a redirect target, every query
  value masked (a signed URL is a bearer credential);
- :func:`redact` masks every secret in free text.

Hostile input must not make redaction slow (a pasted 60 KB line of ``-`` before an ``@`` once
took seconds). So every pattern here starts with a literal or is pinned to the start of a run
(a look-behind that refuses to start inside the run), and every repeat is possessive: each
character is looked at a bounded number of times, whatever the text. The ``@`` rule is code,
not a regex: it finds each ``@``, takes the whitespace-delimited token around it and reads the
URL authority in it the way ``urlsplit`` does (the *last* ``@`` of the authority ends the
userinfo, so a password holding a raw ``@`` is masked whole).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

#: What a secret becomes.
MASK = "***"

# A token around an `@`: a run of characters that are neither whitespace nor quotes; it starts
# only where such a run starts (the look-behind), so a long run costs one attempt, not one per
# character.
_RUN_CHARS = r"""[^\s"'<>`]"""
_AT_TOKEN = re.compile(rf"""(?<!{_RUN_CHARS})[^\s"'<>`@]*+@{_RUN_CHARS}*+""")

_SCHEME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*+://")

# Authorization headers (also Proxy-Authorization), with or without a scheme word.
_AUTHORIZATION = re.compile(
    r"""(?i)(authorization["']?\s*+[:=]\s*+["']?)((?:bearer|basic|token|negotiate|digest)\s++)?(?!\*\*\*)[^\s"',;]++""")
# Credentials and signatures in query strings (SAS `sig`, S3 signatures, OAuth tokens).
_QUERY = re.compile(
    r"""(?i)([?&;](?:access_token|refresh_token|id_token|token|password|passwd|pwd|secret|client_secret|sig|"""
    r"""signature|x-amz-signature|x-amz-credential|x-amz-security-token|code)=)(?!\*\*\*)[^&\s"'#]++""")
# JSON / key=value secrets (Docker config "auth", identity tokens, passwords).
_KEY_VALUE = re.compile(
    r"""(?i)(["']?\b(?:password|passwd|secret|auth|identitytoken|registrytoken|refresh_token|access_token)"""
    r"""["']?\s*+[:=]\s*+["']?)(?!\*\*\*)[^\s"',}]++""")
# JWTs wherever they appear; pinned to the start of a base64url run.
_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]{8,}+\.[A-Za-z0-9_-]*+")
# `docker login -p SECRET`, `--password SECRET`, `--password=SECRET` (not --password-stdin).
_PASSWORD_FLAG = re.compile(r"(--password[= ]|(?<!\S)-p\s++)(?!-)(?!\*\*\*)\S++")

# (trigger substrings of the lower-cased text, pattern, replacement): a pattern runs only when
# one of its triggers is present, so a line without secrets costs a few substring tests.
_RULES: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    (("authorization",), _AUTHORIZATION, rf"\1\2{MASK}"),
    (("token=", "password=", "passwd=", "pwd=", "secret=", "sig=", "signature=", "x-amz-", "code="),
     _QUERY, rf"\1{MASK}"),
    (("password", "passwd", "secret", "auth", "identitytoken", "registrytoken", "_token"), _KEY_VALUE, rf"\1{MASK}"),
    (("eyj",), _JWT, MASK),
    (("--password", "-p"), _PASSWORD_FLAG, rf"\1{MASK}"),
)


def userinfo(username: str | None, password: str | None) -> str:
    """The credentials part of a URL as regdoctor shows it: the password masked.

    >>> userinfo("bob", "hunter2"), userinfo("bob", None), userinfo(None, None)
    ('bob:***@', 'bob@', '')
    """
    if not username and password is None:
        return ""
    return f"{username or ''}:{MASK}@" if password is not None else f"{username}@"


def _mask_authority(token: str) -> str:
    """Mask the password of every ``user:pass@`` authority in one whitespace-free token."""
    out: list[str] = []
    pos = 0
    while True:
        at = token.find("@", pos)
        if at < 0:
            break
        scheme = token.rfind("://", pos, at)
        if scheme >= 0:
            start = scheme + 3
        else:
            # scheme-less: `HTTPS_PROXY=user:pass@host`, `lookup user:pass@proxy`
            eq = token.rfind("=", pos, at)
            start = eq + 1 if eq >= 0 and ":" in token[eq + 1: at] else pos
        # the authority ends at the first `/`, `?` or `#` after the LAST `@` before the next URL
        nxt = token.find("://", at)
        limit = len(token) if nxt < 0 else nxt
        last_at = token.rfind("@", at, limit)
        end = limit
        for sep in "/?#":
            i = token.find(sep, last_at, limit)
            if 0 <= i < end:
                end = i
        cred = token[start:last_at]
        colon = cred.find(":")
        # no password (`git@host`, `user@host`), an image digest (`alpine:3.19@sha256:…`), or
        # a path with an `@` (`docker://host/repo@sha256:…`): nothing to hide
        hide = (colon >= 0 and "/" not in cred and not token.startswith(("sha256:", "sha512:"), last_at + 1)
                and cred[colon + 1:] != MASK)
        out.append(token[pos:start])
        out.append(f"{cred[:colon]}:{MASK}" if hide else cred)
        out.append(token[last_at:end])
        pos = end
    out.append(token[pos:])
    return "".join(out)


def redact_url(value: str) -> str:
    """Mask the password in one URL-ish setting (a proxy value, with or without a scheme).

    One value names one host, the one after its *last* ``@``: everything between the first ``:``
    of the userinfo and that ``@`` becomes ``***``, however a client would split it (an unescaped
    ``@`` or ``/`` in a password, a scheme written twice).

    >>> redact_url("http://bob:s3cret@proxy:3128"), redact_url("bob:p@ss@proxy:3128")
    ('http://bob:***@proxy:3128', 'bob:***@proxy:3128')
    >>> redact_url("user:pw@https://u:p@q"), redact_url("http://proxy:3128")
    ('user:***@q', 'http://proxy:3128')
    """
    if "@" not in value:
        return value
    head, _, tail = value.rpartition("@")
    scheme = _SCHEME_PREFIX.match(head)
    prefix = scheme.group(0) if scheme else ""
    info = head[len(prefix):]
    if ":" not in info:
        return value
    return f"{prefix}{info.split(':', 1)[0]}:{MASK}@{tail}"


def redact_location(url: str) -> str:
    """Keep scheme, host and path of a redirect target; mask every query value; drop userinfo.

    >>> redact_location("https://s.blob.core.windows.net/x/data?sv=2020&sig=SECRET&se=1")
    'https://s.blob.core.windows.net/x/data?sv=***&sig=***&se=***'
    >>> redact_location("/v2/?x=1"), redact_location("//u:p@h/x")
    ('/v2/?x=***', '//h/x')
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # a hostile Location: keep only what precedes any query or userinfo
        return url.split("?", 1)[0].rpartition("@")[2][:300]
    # a relative Location (a front end's `/v2/`) stays relative
    origin = f"//{parts.netloc.rpartition('@')[2]}" if parts.netloc or parts.scheme else ""
    base = f"{parts.scheme + ':' if parts.scheme else ''}{origin}{parts.path}"
    if not parts.query:
        return base
    return base + "?" + "&".join(f"{k}={MASK}" for k, _ in parse_qsl(parts.query, keep_blank_values=True))


def redact(text: str) -> str:
    """Mask passwords, tokens and signatures in free text; keep everything a diagnosis needs.

    Linear in the length of the text (see the module docstring).

    >>> redact('proxyconnect tcp: dial http://bob:s3cret@proxy:3128 Authorization: Bearer abc')
    'proxyconnect tcp: dial http://bob:***@proxy:3128 Authorization: Bearer ***'
    >>> redact('docker pull alpine:3.19@sha256:0123 && docker login -p hunter2 r.io')
    'docker pull alpine:3.19@sha256:0123 && docker login -p *** r.io'
    """
    if "@" in text:
        # in free text a token may hold an image digest (`alpine:3.19@sha256:…`) or several URLs:
        # each authority is read on its own (``_mask_authority``)
        text = _AT_TOKEN.sub(lambda m: _mask_authority(m.group(0)), text)
    low = text.lower()
    for triggers, rx, repl in _RULES:
        if any(t in low for t in triggers):
            text = rx.sub(repl, text)
    return text


__all__ = ["MASK", "redact", "redact_location", "redact_url", "userinfo"]
