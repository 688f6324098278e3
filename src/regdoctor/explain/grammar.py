"""The grammar of a registry client's error: wrappers -> URL + method -> proxy hop -> leaf -> server answer.

Strategy
--------
Clients differ in their wrappers; the pieces inside are few and stable, because every client is
built from the same libraries (reference client-errors.md §1)::

    Error response from daemon: Get "https://r.io/v2/": proxyconnect tcp: dial tcp 10.1.2.3:3128: connect: refused
    └──── client wrapper ─────┘ └── method + URL ──┘ └── proxy hop ──┘ └─── op + address ───┘ └──── leaf ───┘

    GET "https://r.io/v2/x/manifests/1": response status code 401: unauthorized: authentication required: [map[…]]
    └──────────── method + URL ────────┘ └─── HTTP status ───┘ └──── registry error code: message ────┘ └ detail ┘

So this module does not list messages; it tokenizes a line into those pieces and reads them
outside-in:

- **URLs** with their method (Go's ``url.Error``: ``Get "…"`` since Go 1.14, ``Get …:`` before;
  upper-case methods from go-containerregistry, oras-go and containerd);
- **proxy hops** (``proxyconnect tcp:``, urllib3's ``ProxyError``, ``Tunnel connection failed``);
- **operations** with their address (``dial tcp A:P``, ``lookup H on NS:53``, ``read tcp L->R``,
  ``connectex:``, urllib3 ``HTTPSConnectionPool(host=…)``, ``Failed to resolve 'H'``);
- **network leaves**: the syscall and resolver texts of Go, glibc, Windows and Python
  (``connection refused``, ``i/o timeout``, ``no such host``, ``[Errno 111]`` …), ``EOF``, the HTTP
  client timeouts, the x509 / TLS / OpenSSL verdicts;
- **server answers**: an HTTP status in any wording (``401 Unauthorized``, ``status 403``,
  ``status code: 503``, ``StatusCode=429``, ``response status code 404``, a bare reason phrase
  after a URL, which in Go is a proxy's answer to CONNECT), the OCI distribution error codes in
  every rendering (``DENIED: m``, ``denied: m``, oras-go's ``name unknown: m``, JSON
  ``"code":"NAME_UNKNOWN"``), Go ``map[…]`` detail dumps, HTML pages and storage XML errors.

A leaf's *kind* (``tcp.refused``, ``dns.timeout``, ``status.403``, ``oci.denied`` …) is decided
by the leaf together with the operation it ends (``i/o timeout`` after ``lookup`` is DNS, after
``dial`` is TCP, after ``read`` is a silent server); what each kind means — codes, confidences,
what it becomes behind a proxy — is data (``kb/symptoms.toml [leaf.*]``). Wrapper phrases and
registry-specific messages stay refinements there (``[[symptom]]``).

Every token regex starts with a literal, and its variable parts are bounded or possessive, so
tokenizing costs time linear in the line length whatever the text.

>>> r = read('Get "https://r.io/v2/": proxyconnect tcp: dial tcp 10.1.2.3:3128: connect: connection refused')
>>> (r.leaf.kind, r.proxied, r.url.host, r.fields["leaf_address"])
('tcp.refused', True, 'r.io', '10.1.2.3')
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from regdoctor.explain.tokens import Token, Url, parse_url, tokens
from regdoctor.explain.vocab import DNSSD_ERRORS, ERRNO_TEXT, OAUTH, OCI_CODES, PY_ERRNO, STORAGE_STATUS


@dataclass(frozen=True)
class Leaf:
    """The failure a line ends in: its kind (a key of the leaf table) and what it carries."""

    kind: str
    start: int
    end: int
    text: str
    fields: Mapping[str, str]


@dataclass(frozen=True)
class Reading:
    """A line read outside-in."""

    tokens: tuple[Token, ...]
    urls: tuple[Url, ...]
    leaf: Leaf | None
    #: the URL the leaf is about (the innermost one before it), if any
    url: Url | None
    #: the leaf sits behind a proxy hop: it is the proxy's failure (or the proxy's answer)
    proxied: bool
    #: merged fields of every token (addresses, resolver, status, codes, detail …)
    fields: Mapping[str, str]


# Leaves ranked by how much they say about the cause: the most specific one decides; among
# equals the innermost (last) one, which Go prints last.
_RANK = {"errno": 90, "tls": 85, "oci": 80, "oauth": 78, "reason": 76, "status": 70, "malformed": 60,
         "eof": 50, "timeout": 40}
_TIMEOUT_RANK = {"tls_handshake": 82, "read": 55, "headers": 45, "body": 45, "canceled": 42, "context": 30}


def _rank(t: Token) -> int:
    if t.kind == "timeout":
        return _TIMEOUT_RANK.get(t.value, 40)
    if t.kind == "body":
        # a page where an error was expected says little alone, but it is an answer; a storage
        # XML error is one too, and its code names the status (below any status the line prints)
        if t.value == "storage_xml":
            return 34 if t.fields.get("storage_code") in STORAGE_STATUS else -1
        return {"malformed": 60, "html": 35}.get(t.value, -1)
    if t.kind == "errno" and t.value == "other":
        return 20
    if t.kind == "errno" and t.fields.get("symbolic"):
        return _RANK["errno"] + 1  # the errno's name outranks the text beside it
    return _RANK.get(t.kind, -1)


_INHERENTLY_DNS = frozenset({"nxdomain", "servfail", "eai_again", "nodata"})


def _family(errno: Token, before: list[Token]) -> str:
    """``dns`` when the failing operation is a lookup, ``conn`` after a connection was made, else ``tcp``."""
    if errno.value in _INHERENTLY_DNS:
        return "dns"
    nearest: Token | None = None
    for t in reversed(before):
        if t.kind == "url":
            break
        if t.kind == "op":
            if t.fields.get("op") == "lookup":
                return "dns"
            nearest = nearest or t
    op = nearest.fields.get("op") if nearest is not None else None
    if op in ("read", "write", "wsarecv", "wsasend") and errno.value == "timeout":
        return "conn"
    if op == "dial" and errno.value == "timeout" and nearest is not None and set(nearest.fields) == {"op"}:
        # Go's dial names the address it dialled; one with none ran out of time before it had any,
        # while resolving the name (the lookup's own error, `lookup H: …`, was then only the deadline's)
        return "dns"
    return "tcp"


def read(text: str) -> Reading:
    """Tokenize one line and decide its leaf (see the module docstring).

    >>> r = read('Get "https://r.io/v2/": dial tcp: lookup r.io on 10.0.0.2:53: '
    ...          'read udp 10.0.0.5:4->10.0.0.2:53: i/o timeout')
    >>> (r.leaf.kind, r.fields["host"], r.fields["resolver"])
    ('dns.timeout', 'r.io', '10.0.0.2')
    >>> read('GET https://ghcr.io/v2/o/a/manifests/1: UNAUTHORIZED: authentication required; '
    ...      '[map[Action:pull Class: Name:o/a Type:repository]]').leaf.kind
    'oci.unauthorized'
    >>> read('received unexpected HTTP status: 503 Service Unavailable').leaf.kind
    'status.503'
    """
    toks = tokens(text)
    urls = tuple(parse_url(t.start, t.value, t.fields.get("method")) for t in toks if t.kind == "url")
    best = _most_telling(_before_plain_http_retry(text, toks, urls))
    found = _ranked_leaf(text, toks, urls, best) if best is not None else None
    fields = _token_fields(toks)
    if found is None and urls:
        found = _proxy_reason_leaf(text, urls[-1])
    if found is None:
        found = _bare_lookup_leaf(text, toks, urls)
    leaf, url, proxied = found or (None, None, False)
    if leaf is not None:
        for k, v in leaf.fields.items():
            fields[k] = v
        _addresses(toks, leaf, fields)
    if any(t.kind == "body" and t.value == "html" for t in toks):
        fields["html"] = "1"
    if any(t.kind == "body" and t.value == "storage_xml" for t in toks):
        fields["storage_xml"] = "1"
    return Reading(tokens=tuple(toks), urls=urls, leaf=leaf, url=url, proxied=proxied, fields=fields)


#: a leaf, the URL it is about, and whether it sits behind a proxy hop
_Found = tuple[Leaf, Url | None, bool]


def _most_telling(toks: list[Token]) -> Token | None:
    """The token that says most about the cause; among equals the last (innermost) one."""
    best: Token | None = None
    for t in toks:
        r = _rank(t)
        if r >= 0 and (best is None or r >= _rank(best)):
            best = t
    return best


def _before_plain_http_retry(text: str, toks: list[Token], urls: tuple[Url, ...]) -> list[Token]:
    """The tokens of the first attempt when the line joins it with a plain-HTTP retry of the same host.

    go-containerregistry, Flux and others ping ``https://H/v2/`` and, for an insecure registry, retry
    ``http://H/v2/``, reporting both errors joined by ``; ``. The HTTPS failure is what the registry's
    clients meet (the retry's refusal or timeout only says nothing serves plain HTTP there).
    """
    for later in urls[1:]:
        if later.scheme != "http" or "; " not in text[:later.start]:
            continue
        first = next((u for u in urls if u.start < later.start and u.scheme == "https" and u.host == later.host), None)
        if first is not None:
            cut = text.rfind("; ", first.start, later.start)
            if cut > 0:
                return [t for t in toks if t.start < cut]
    return toks


def _ranked_leaf(text: str, toks: list[Token], urls: tuple[Url, ...], best: Token) -> _Found:
    """The leaf the most telling token makes, the URL before it, and whether a proxy hop is in between."""
    before = [t for t in toks if t.start < best.start]
    # the URL the leaf is about: the innermost one before it; a URL inside a server message
    # (Docker Hub's link to its docs) comes after the code, so it never counts
    url = next((u for u in reversed(urls) if u.start < best.start), None)
    connect = best.kind == "reason" and (best.fields.get("via") == "tunnel" or _bare_after_url(text, best, url))
    proxied = connect or any(t.kind == "proxy" for t in before) or "proxy_host" in best.fields
    kind = _kind(best, before, connect)
    if best.kind in ("oci", "status") and any(t.kind == "body" and t.value == "html" for t in toks):
        kind = "http.html"  # an HTML page where the registry answers JSON: a middlebox's page
    fields = dict(best.fields)
    if best.kind == "body" and "storage_code" in fields:
        fields.setdefault("status", str(STORAGE_STATUS[fields["storage_code"]]))
    inner = _grpc_status_subject(best, urls)
    if inner is not None:
        # the call's deadline ran out during the innermost request its description names
        return Leaf(kind, inner.start, len(text), text[inner.start:].strip(), fields), inner, proxied
    return Leaf(kind, best.start, best.end, text[best.start:best.end], fields), url, proxied


def _grpc_status_subject(best: Token, urls: tuple[Url, ...]) -> Url | None:
    """The request a gRPC status code is about: ``rpc error: code = DeadlineExceeded desc = … Get "URL":``.

    The code is the status of the whole CRI call; the description is the client's error chain, whose
    innermost (last) URL is what was under way when the deadline ran out. Only when the chain has no leaf
    of its own (any other leaf outranks a bare deadline) does the code decide, and then about that URL.
    """
    if "grpc_code" not in best.fields:
        return None
    after = [u for u in urls if u.start > best.start]
    return after[-1] if after else None


def _token_fields(toks: list[Token]) -> dict[str, str]:
    """Every token's fields merged (the first value wins), and the address a dial names."""
    fields: dict[str, str] = {}
    for t in toks:
        for k, v in t.fields.items():
            if k in ("op", "op_hint", "url", "method"):
                continue
            fields.setdefault(k, v)
        if t.kind == "op" and t.fields.get("op") in ("dial", "connectex") and "address" in t.fields:
            fields["dial_address"] = t.fields["address"]
    return fields


def _proxy_reason_leaf(text: str, last_url: Url) -> _Found | None:
    """A proxy's own reason phrase right after the last URL: its refusal of CONNECT."""
    reason = _custom_reason(text, last_url)
    if reason is None:
        return None
    leaf = Leaf(f"connect.{_status_family(reason.value)}", reason.start, reason.end,
                text[reason.start:reason.end], dict(reason.fields))
    return leaf, last_url, True


def _bare_lookup_leaf(text: str, toks: list[Token], urls: tuple[Url, ...]) -> _Found | None:
    """A lookup with nothing after it (a message cut short, as guides quote it) still names DNS."""
    lookup = next((t for t in reversed(toks) if t.kind == "op" and t.fields.get("op") == "lookup"), None)
    if lookup is None:
        return None
    url = next((u for u in reversed(urls) if u.start < lookup.start), None)
    proxied = any(t.kind == "proxy" and t.start < lookup.start for t in toks)
    leaf = Leaf("dns.unknown", lookup.start, lookup.end, text[lookup.start:lookup.end], dict(lookup.fields))
    return leaf, url, proxied


_PHRASE = re.compile(r'"?: (?P<text>[A-Za-z]{6,40}+)(?=["\').]*\s*$)')
# words of a proxy's own reason phrase (McAfee/Skyhigh, Bluecoat, Squid variants): which refusal it is
_PHRASE_WORDS = (("auth", "407"), ("denied", "403"), ("forbidden", "403"), ("block", "403"), ("authorizedonly", "403"),
                 ("notallowed", "403"), ("not allowed", "403"), ("policy", "403"), ("gateway", "502"),
                 ("unavailable", "503"), ("timeout", "504"))


def _custom_reason(text: str, url: Url) -> Token | None:
    """One word right after the last URL (``Get URL: authenticationrequired``), and nothing else read.

    Go shows a proxy's answer to CONNECT as its bare reason phrase; proxies use their own
    (``AuthorizedOnly``, ``authenticationrequired``). Read only when no other leaf exists.
    """
    end = url.start + text[url.start:].find(url.url) + len(url.url)
    m = _PHRASE.match(text, end)
    if m is None:
        return None
    words = m.group("text").lower()
    status = next((code for word, code in _PHRASE_WORDS if word in words), "400")
    return Token("reason", m.start("text"), m.end(), status, {"status": status, "status_text": m.group("text")})


def _bare_after_url(text: str, tok: Token, url: Url | None) -> bool:
    """Go's CONNECT failure: the reason phrase right after the URL (``Get "URL": Forbidden``)."""
    if url is None:
        return False
    return text[url.start:tok.start].split(url.url, 1)[-1] in ('": ', ": ")


def _addresses(toks: list[Token], leaf: Leaf, fields: dict[str, str]) -> None:
    """The address, port and host the leaf is about: those of the operation it ends."""
    for t in reversed([t for t in toks if t.start < leaf.start and t.kind == "op"]):
        op = t.fields.get("op")
        if op == "lookup":
            if "host" in t.fields:  # a resolver API's call (dnssd) names no host
                fields.setdefault("lookup_host", t.fields["host"])
            if "resolver" in t.fields:
                fields["resolver"] = t.fields["resolver"]
        elif op in ("dial", "read", "write") and "address" in t.fields:
            fields.setdefault("leaf_address", t.fields["address"])
            if "port" in t.fields:
                fields.setdefault("leaf_port", t.fields["port"])
            fields.setdefault("during", op)
        elif op == "pool":
            fields.setdefault("pool_host", t.fields["host"])
            fields.setdefault("pool_port", t.fields["port"])


def _kind(t: Token, before: list[Token], connect: bool) -> str:
    if t.kind == "errno":
        return f"{_family(t, before)}.{t.value}"
    if t.kind == "eof":
        return f"conn.{t.value}"
    if t.kind in ("status", "reason"):
        family = _status_family(t.value)
        # a proxy answering CONNECT with a redirect refuses the tunnel like any other non-2xx
        return f"connect.{'4xx' if family == '3xx' else family}" if connect else f"status.{family}"
    if t.kind == "oci":
        return f"oci.{t.value.lower()}"
    if t.kind == "body" and t.value == "storage_xml":
        return f"status.{_status_family(str(STORAGE_STATUS[t.fields['storage_code']]))}"
    if t.kind == "body":
        return "http.malformed" if t.value == "malformed" else "http.html"
    return f"{t.kind}.{t.value}"


_EXACT_STATUSES = frozenset({"401", "403", "404", "407", "429", "500", "502", "503", "504"})


def _status_family(status: str) -> str:
    if status in _EXACT_STATUSES:
        return status
    if status.startswith("3"):
        return "3xx"  # a redirect the client reports instead of following
    return "5xx" if status.startswith("5") else "4xx"  # a 1xx refusal is as unexpected as a 4xx


#: every leaf kind ``read`` can produce (the leaf table must define each; a unit test checks)
LEAF_KINDS = frozenset(
    [f"dns.{k}" for k in sorted(set(PY_ERRNO.values()) | set(ERRNO_TEXT.values()))]
    + [f"tcp.{k}" for k in sorted(set(PY_ERRNO.values()) | set(ERRNO_TEXT.values())) if k not in _INHERENTLY_DNS]
    + ["tcp.other", "dns.other", "dns.unknown"] + [f"dns.{kind}" for _, kind in sorted(DNSSD_ERRORS.values())]
    + ["conn.timeout", "conn.eof", "conn.unexpected_eof", "conn.tls_eof", "conn.closed"]
    + [f"timeout.{k}" for k in _TIMEOUT_RANK]
    + [f"tls.{k}" for k in ("unknown_ca", "expired", "not_yet_valid", "expired_or_not_yet", "name_mismatch",
                            "cn_only", "handshake_failed", "not_tls", "self_signed", "verify_failed")]
    + [f"{p}.{s}" for p in ("status", "connect") for s in (*sorted(_EXACT_STATUSES), "4xx", "5xx")] + ["status.3xx"]
    + [f"oci.{c.lower()}" for c in OCI_CODES] + [f"oauth.{c}" for c in OAUTH] + ["http.malformed", "http.html"]
    + ["oci.not_found"]
)



__all__ = ["LEAF_KINDS", "Leaf", "Reading", "read"]
