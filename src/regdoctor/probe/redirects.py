"""Redirects as Docker and containerd follow them: only ``http``/``https``, at most
``MAX_REDIRECTS`` hops, a Location joined the way Go's ``ResolveReference`` does, never an
exception on a Location a hostile server sends (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from regdoctor.kb.codes import Code

#: Only these redirects are followed, as Docker and containerd do.
REDIRECT_SCHEMES = ("http", "https")
MAX_REDIRECTS = 5
#: the statuses Go's client follows (it re-sends a GET as a GET after each of them)
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def join_location(base: str, location: str) -> str:
    """``urljoin`` that never raises: a Location it cannot join is kept as given (and refused later).

    A Location with a scheme is absolute (Go's ``ResolveReference``), even without a host:
    ``http://`` is a redirect to nowhere, not back to the base.

    >>> join_location("https://r.io/v2/x", "/blobs/y"), join_location("https://r.io/v2/x", "http://")
    ('https://r.io/blobs/y', 'http://')
    """
    if urlscheme(location):
        return location[:8192]
    try:
        return urljoin(base, location[:8192])
    except ValueError:
        return location[:8192]


def urlscheme(url: str) -> str:
    """The scheme of ``url`` in lower case, or "" (never raises).

    >>> urlscheme("FTP://x/y"), urlscheme("no scheme")
    ('ftp', '')
    """
    head, sep, _ = url.partition(":")
    return head.lower() if sep and head.replace("+", "").replace("-", "").replace(".", "").isalnum() else ""


@dataclass(frozen=True)
class RedirectRefused:
    """A redirect clients would not follow, and the code that says why."""

    code: Code
    reason: str


def redirect_target(url: str) -> tuple[str, str, int, str] | RedirectRefused:
    """(scheme, host, port, path?query) of a redirect clients would follow, or why they would not.

    Docker and containerd follow only http and https redirects; anything else (``ftp://``,
    ``file://``, ``data:``) or a URL without a usable host is the registry's fault, reported
    as such, never dialled.

    >>> redirect_target("https://s.blob.core.windows.net/c/b?sig=x")
    ('https', 's.blob.core.windows.net', 443, '/c/b?sig=x')
    >>> redirect_target("file:///etc/passwd").code, redirect_target("https://[").reason
    ('REGISTRY_REDIRECT_BAD_SCHEME', "not a URL: missing ']' in host")
    """
    from regdoctor.credentials.keys import go_url_host

    scheme = urlscheme(url)
    if scheme not in REDIRECT_SCHEMES:
        return RedirectRefused(Code.REGISTRY_REDIRECT_BAD_SCHEME,
                               f"scheme {scheme!r} is not http or https" if scheme else "no scheme")
    if go_url_host(url) is None:  # a control character, a bad escape or host: Go's url.Parse fails
        why = "missing ']' in host" if "[" in url and "]" not in url else \
            "Go's url.Parse rejects it (a control character, a bad escape or host)"
        return RedirectRefused(Code.REGISTRY_BAD_REDIRECT, f"not a URL: {why}")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        return RedirectRefused(Code.REGISTRY_BAD_REDIRECT, f"not a URL: {exc}")
    if not host:
        return RedirectRefused(Code.REGISTRY_BAD_REDIRECT, "no host in the URL")
    return scheme, host, port, request_target(parts.path, parts.query)


def request_target(path: str, query: str) -> str:
    """``path?query`` as Go's client puts it on the request line: what a request line cannot
    carry (a space, a byte above 0x7E) percent-encoded, escapes already there kept.

    Header values arrive decoded as Latin-1, so encoding them back as Latin-1 escapes the very
    bytes that came over the wire (``é`` sent as UTF-8 stays ``%C3%A9``).

    >>> request_target("/a b/c", "x=a b"), request_target("", "")
    ('/a%20b/c?x=a%20b', '/')
    """
    from urllib.parse import quote

    def esc(text: str, safe: str) -> str:
        encoding = "latin-1" if all(ord(c) < 256 for c in text) else "utf-8"
        return quote(text, safe=safe, encoding=encoding)

    safe = "/%!$&'()*+,;=:@-._~"
    path = path if path.startswith("/") else "/" + path
    return esc(path, safe) + ("?" + esc(query, safe + "?") if query else "")


__all__ = ["MAX_REDIRECTS", "REDIRECT_SCHEMES", "REDIRECT_STATUSES", "RedirectRefused", "join_location",
           "redirect_target", "request_target", "urlscheme"]
