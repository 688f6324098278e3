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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# ------------------------------------------------------------------------------ pieces

_HOST = r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,252}+"
# an address as Go prints it: [v6]:port, v4:port, name:port (port optional)
_ADDR = r"(?:\[[0-9A-Fa-f:.%a-z]{2,64}+\]|[A-Za-z0-9_.\-]{1,253}+)(?::[0-9]{1,5}+)?"
_ADDR_PARTS = re.compile(r"^(?:\[(?P<v6>[^\]]+)\]|(?P<host>[^:]+))(?::(?P<port>[0-9]+))?$")

#: HTTP reason phrases (Go's http.StatusText), which make a number a status
REASONS: Mapping[str, int] = {
    "Bad Request": 400, "Unauthorized": 401, "Payment Required": 402, "Forbidden": 403, "Not Found": 404,
    "Method Not Allowed": 405, "Not Acceptable": 406, "Proxy Authentication Required": 407,
    "Request Timeout": 408, "Conflict": 409, "Gone": 410, "Length Required": 411, "Precondition Failed": 412,
    "Request Entity Too Large": 413, "Payload Too Large": 413, "Request URI Too Long": 414,
    "Unsupported Media Type": 415, "Requested Range Not Satisfiable": 416, "Range Not Satisfiable": 416,
    "Misdirected Request": 421, "Unprocessable Entity": 422, "Too Many Requests": 429,
    "Request Header Fields Too Large": 431, "Unavailable For Legal Reasons": 451,
    "Internal Server Error": 500, "Not Implemented": 501, "Bad Gateway": 502, "Service Unavailable": 503,
    "Gateway Timeout": 504, "Gateway Time-out": 504, "HTTP Version Not Supported": 505,
    "Network Authentication Required": 511,
}
_REASON_ALT = "|".join(re.escape(r) for r in sorted(REASONS, key=len, reverse=True))
# Reason phrases a Go proxy CONNECT failure shows bare (transport.go: errors.New(resp.Status[4:]))
_CONNECT_REASONS = ("Proxy Authentication Required", "Forbidden", "Bad Gateway", "Service Unavailable",
                    "Gateway Timeout", "Internal Server Error", "Not Found", "Method Not Allowed",
                    "Bad Request", "Unauthorized", "Too Many Requests")

#: The OCI distribution spec's error codes, with docker/distribution's extras.
OCI_CODES = ("BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
             "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "MANIFEST_UNVERIFIED",
             "NAME_INVALID", "NAME_UNKNOWN", "SIZE_INVALID", "TAG_INVALID", "UNAUTHORIZED", "DENIED",
             "UNSUPPORTED", "TOOMANYREQUESTS", "UNAVAILABLE", "PAGINATION_NUMBER_INVALID", "RANGE_INVALID")
_OCI_UPPER = "|".join(sorted(OCI_CODES, key=len, reverse=True))
# distribution's ErrorCode.Error(): lower case, `_` -> space (oras-go, containerd, docker, c/image)
_OCI_LOWER_CODES = tuple(sorted({c.lower().replace("_", " ") for c in OCI_CODES} | {"too many requests"},
                               key=len, reverse=True))
_OCI_LOWER = "|".join(_OCI_LOWER_CODES)
# RFC 6750 / docker token errors a token service answers with
_OAUTH = ("insufficient_scope", "invalid_token", "invalid_grant", "invalid_client", "invalid_request",
          "unauthorized_client", "unsupported_grant_type")

# Python errno numbers (Linux, macOS, Windows) -> the leaf they name
PY_ERRNO: Mapping[int, str] = {
    -2: "nxdomain", -3: "eai_again", -5: "nodata", 8: "nxdomain", 11001: "nxdomain", 11002: "eai_again",
    -9: "nxdomain", 7: "nodata",
    111: "refused", 61: "refused", 10061: "refused",
    110: "timeout", 60: "timeout", 10060: "timeout",
    113: "host_unreachable", 65: "host_unreachable", 10065: "host_unreachable",
    101: "net_unreachable", 51: "net_unreachable", 10051: "net_unreachable",
    104: "reset", 54: "reset", 10054: "reset", 32: "broken_pipe",
    1: "local_policy", 13: "local_policy", 99: "local_resource", 24: "local_resource",
}

# Go / glibc / Windows texts of a failed socket or lookup -> errno kind
_ERRNO_TEXT: Mapping[str, str] = {
    "connection refused": "refused",
    "no connection could be made because the target machine actively refused it": "refused",
    "connection reset by peer": "reset",
    "an existing connection was forcibly closed by the remote host": "reset",
    "broken pipe": "broken_pipe",
    "no route to host": "host_unreachable",
    "host is down": "host_unreachable",
    "network is unreachable": "net_unreachable",
    "a socket operation was attempted to an unreachable network": "net_unreachable",
    "a socket operation was attempted to an unreachable host": "host_unreachable",
    "connection timed out": "timeout",
    "operation timed out": "timeout",
    "a connection attempt failed because the connected party did not properly respond": "timeout",
    "i/o timeout": "timeout",
    "no such host": "nxdomain",
    "no such host is known": "nxdomain",
    "name or service not known": "nxdomain",
    "nodename nor servname provided, or not known": "nxdomain",
    "server misbehaving": "servfail",
    "temporary failure in name resolution": "eai_again",
    "this is usually a temporary error during hostname resolution": "eai_again",
    "a non-recoverable error occurred during a database lookup": "servfail",
    "no address associated with hostname": "nodata",
    "permission denied": "local_policy",
    "operation not permitted": "local_policy",
    "cannot assign requested address": "local_resource",
    "too many open files": "local_resource",
}
# the errno a socket text stands for (Linux names)
_ERRNO_NAME: Mapping[str, str] = {
    "connection refused": "ECONNREFUSED", "connection reset by peer": "ECONNRESET", "broken pipe": "EPIPE",
    "no route to host": "EHOSTUNREACH", "host is down": "EHOSTDOWN", "network is unreachable": "ENETUNREACH",
    "connection timed out": "ETIMEDOUT", "operation timed out": "ETIMEDOUT", "permission denied": "EACCES",
    "operation not permitted": "EPERM", "cannot assign requested address": "EADDRNOTAVAIL",
    "too many open files": "EMFILE",
}
def _grouped(words: list[str]) -> str:
    """An alternation grouped by first letter (either case): ``re`` tries one branch per position."""
    groups: dict[str, list[str]] = {}
    for w in words:
        groups.setdefault(w[0].lower(), []).append(w[1:])
    return "|".join(f"[{c.upper()}{c}](?:{'|'.join(re.escape(r) for r in sorted(rest, key=len, reverse=True))})"
                    for c, rest in sorted(groups.items()))


_ERRNO_ALT = _grouped(list(_ERRNO_TEXT))
# the phrases without their first letter: present whatever its case
_ERRNO_TRIGGERS = tuple(sorted({t[1:] for t in _ERRNO_TEXT}))
# where a leaf text can start: after Go's ": ", Python's "] " / "'" / "(", or at the line start
_AFTER_SEP = r"(?:(?<=: )|(?<=\] )|(?<=')|(?<=\()|(?<=tcp )|(?<=udp )|^)"


# ------------------------------------------------------------------------------ tokens

#: Tokens of one kind read per line: a real error chain has a few; hostile input is cut here.
MAX_TOKENS = 32


@dataclass(frozen=True)
class Token:
    """One piece of a line: its kind, where it is, and what it carries."""

    kind: str  # url | proxy | op | errno | eof | timeout | tls | status | reason | oci | oauth | detail | body
    start: int
    end: int
    value: str
    fields: Mapping[str, str] = field(default_factory=dict)
    #: only a leaf after a lookup (glibc's bare `Try again`)
    needs_lookup: bool = False


def _g(m: re.Match[str], *names: str) -> dict[str, str]:
    return {n: m.group(n) for n in names if m.group(n)}


def _url(m: re.Match[str]) -> Token:
    url = m.group("url").rstrip(":.,;)]}'")
    f = {"url": url}
    if m.group("method"):
        f["method"] = m.group("method").upper()
    return Token("url", m.start("url") if not m.group("method") else m.start(), m.start("url") + len(url), url, f)


def _addr_fields(raw: str | None, prefix: str = "") -> dict[str, str]:
    if not raw:
        return {}
    m = _ADDR_PARTS.match(raw)
    if not m:
        return {}
    out = {f"{prefix}address": (m.group("v6") or m.group("host") or "")}
    if m.group("port"):
        out[f"{prefix}port"] = m.group("port")
    return out


def _op(m: re.Match[str]) -> Token:
    op = m.group("op")
    f: dict[str, str] = {"op": op}
    if m.group("remote"):
        f.update(_addr_fields(m.group("remote")))
        f["local"] = m.group("local") or ""
    elif m.group("addr"):
        f.update(_addr_fields(m.group("addr")))
    return Token("op", m.start(), m.end(), op, f)


def _py_pool(m: re.Match[str]) -> Token:
    f = {"op": "pool", "host": m.group("host").lower(), "port": m.group("port"), "scheme": m.group("scheme").lower()}
    if m.group("path"):
        f["path"] = m.group("path")
    return Token("op", m.start(), m.end(), "pool", f)


def _py_resolve(m: re.Match[str]) -> Token:
    return Token("op", m.start(), m.end(), "lookup", {"op": "lookup", "host": m.group("host").lower()})


def _py_connect_to(m: re.Match[str]) -> Token:
    return Token("errno", m.start(), m.end(), "timeout", {"op_hint": "dial", "host": m.group("host").lower(),
                                                          **_g(m, "timeout_s")})


def _errno(m: re.Match[str]) -> Token:
    text = m.group("text")
    f = {"errno_text": text}
    if text.lower() in _ERRNO_NAME:
        f["errno_name"] = _ERRNO_NAME[text.lower()]
    return Token("errno", m.start(), m.end(), _ERRNO_TEXT[text.lower()], f)


def _py_errno(m: re.Match[str]) -> Token | None:
    kind = PY_ERRNO.get(int(m.group("num")))
    if kind is None:
        return Token("errno", m.start(), m.end(), "other", {"errno": m.group("num"), "errno_text": m.group("text")})
    return Token("errno", m.start(), m.end(), kind, {"errno": m.group("num"), "errno_text": m.group("text")})


def _simple(kind: str, value: str) -> Callable[[re.Match[str]], Token]:
    def make(m: re.Match[str]) -> Token:
        return Token(kind, m.start(), m.end(), value, {k: v for k, v in m.groupdict().items() if v})
    return make


def _eof(m: re.Match[str]) -> Token:
    return Token("eof", m.start(), m.end(), "unexpected_eof" if m.group("unexpected") else "eof")


def _x509(m: re.Match[str]) -> Token:
    what = (m.group("what") or m.group("what2") or "").lower()
    fields = {k: v for k, v in m.groupdict().items() if v and k not in ("what", "what2")}
    fields["tls_error"] = m.group(0)[:300]
    if what.startswith("certificate signed by unknown authority"):
        kind = "unknown_ca"
    elif what.startswith("certificate has expired or is not yet valid"):
        kind = {"after": "expired", "before": "not_yet_valid"}.get(m.group("when") or "", "expired_or_not_yet")
    elif what.startswith(("certificate is valid for", "certificate is not valid for", "cannot validate")):
        kind = "name_mismatch"
    elif what.startswith("certificate relies on legacy common name"):
        kind = "cn_only"
    elif what.startswith("certificate is not trusted"):
        kind = "unknown_ca"
    else:
        kind = "handshake_failed"
    return Token("tls", m.start(), m.end(), kind, fields)


def _status(m: re.Match[str]) -> Token:
    f = {"status": m.group("status")}
    text = m.groupdict().get("text")
    if text:
        f["status_text"] = text.strip()
    return Token("status", m.start(), m.end(), m.group("status"), f)


def _reason_status(m: re.Match[str]) -> Token:
    text = m.group("text")
    return Token("status", m.start(), m.end(), str(REASONS[text]), {"status": str(REASONS[text]), "status_text": text})


def _tunnel(m: re.Match[str]) -> Token:
    f = {"status": m.group("status"), "via": "tunnel"}
    if m.group("text"):
        f["status_text"] = m.group("text")
    return Token("reason", m.start(), m.end(), m.group("status"), f)


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _go_status(m: re.Match[str]) -> Token | None:
    text = _CAMEL.sub(" ", m.group("name"))  # NotFound -> "Not Found"
    status = REASONS.get(text)
    if status is None or status < 400:
        return None
    return Token("status", m.start(), m.end(), str(status), {"status": str(status), "status_text": text})


def _bare_reason(m: re.Match[str]) -> Token:
    text = m.group("text")
    return Token("reason", m.start("text"), m.end(), str(REASONS[text]),
                 {"status": str(REASONS[text]), "status_text": text})


def _oci(m: re.Match[str]) -> Token:
    g = m.groupdict()
    code = (g.get("upper") or g.get("lower") or g.get("lower2") or "").upper().replace(" ", "_")
    if code == "TOO_MANY_REQUESTS":
        code = "TOOMANYREQUESTS"
    f = {"oci_code": code}
    if g.get("message"):
        f["message"] = m.group("message").strip()[:300]
    return Token("oci", m.start(), m.end(), code, f)


def _oauth(m: re.Match[str]) -> Token:
    return Token("oauth", m.start(), m.end(), m.group("code"), {"oauth_error": m.group("code")})


_DETAIL_PAIR = re.compile(r"(?P<k>[A-Za-z]{1,20}+):(?P<v>[^\s\[\]]{0,200}+)")


def _detail(m: re.Match[str]) -> Token:
    pairs = {p.group("k").lower(): p.group("v") for p in _DETAIL_PAIR.finditer(m.group("body"))}
    f = {f"detail_{k}": v for k, v in pairs.items() if v and k in ("name", "action", "type", "tag", "digest")}
    return Token("detail", m.start(), m.end(), "map", f)


def _json_message(m: re.Match[str]) -> Token:
    return Token("detail", m.start(), m.end(), "message", {"message": m.group("message")[:300]})


def _body(kind: str) -> Callable[[re.Match[str]], Token]:
    def make(m: re.Match[str]) -> Token:
        return Token("body", m.start(), m.end(), kind, {k: v for k, v in m.groupdict().items() if v})
    return make


def _op_lookup(m: re.Match[str]) -> Token:
    f: dict[str, str] = {"op": "lookup", "host": m.group("lhost").lower().rstrip(".")}
    res = _addr_fields(m.group("resolver"))
    if res.get("address"):
        f["resolver"] = res["address"]
    return Token("op", m.start(), m.end(), "lookup", f)


def _py_verify(m: re.Match[str]) -> Token:
    reason = (m.group("reason") or "").lower()
    if "certificate in certificate chain" in reason:
        kind = "unknown_ca"
    elif "self signed" in reason or "self-signed" in reason:
        kind = "self_signed"
    elif "expired" in reason:
        kind = "expired"
    elif "hostname mismatch" in reason or "ip address mismatch" in reason:
        kind = "name_mismatch"
    elif reason:
        kind = "unknown_ca"
    else:
        kind = "verify_failed"
    return Token("tls", m.start(), m.end(), kind, {"tls_error": m.group(0)[:200]})


def _oci_any(m: re.Match[str]) -> Token | None:
    json_code = m.groupdict().get("json")
    if json_code:
        code = json_code.upper()
        if code not in OCI_CODES:
            return None
        return Token("oci", m.start(), m.end(), code, {"oci_code": code})
    tok = _oci(m)
    message = m.groupdict().get("message2") or m.groupdict().get("message3")
    if message:
        return Token("oci", tok.start, tok.end, tok.value, {**tok.fields, "message": message.strip()[:300]})
    return tok


#: (literals of which one must be in the line, the token's regex, what it makes of a match)
Spec = tuple[tuple[str, ...], re.Pattern[str], Callable[[re.Match[str]], Token | None]]

_SPECS: tuple[Spec, ...] = (
    # ---- method + URL (Go url.Error quotes since 1.14; ggcr/oras/containerd use upper case)
    (("://",),
     re.compile(r"""(?:(?P<method>\b(?:GET|HEAD|POST|PUT|PATCH|DELETE|Get|Head|Post|Put|Patch|Delete)) {1,3}+"?)?"""
                r"""(?P<url>https?://[^\s"'<>\\`]{1,4096}+)"""), _url),
    # ---- proxy hop
    (("proxyconnect", "error connecting to proxy", "socks connect"),
     re.compile(r"proxyconnect (?:tcp|udp)|http: error connecting to proxy|socks connect"),
     _simple("proxy", "go")),
    (("ProxyError(", "to proxy", "Your proxy appears"),
     re.compile(r"ProxyError\(|Unable to connect to proxy|Cannot connect to proxy|Your proxy appears to only use HTTP"),
     _simple("proxy", "python")),
    (("Tunnel connection failed",),
     re.compile(rf"Tunnel connection failed: (?P<status>[1-5][0-9]{{2}})(?: (?P<text>{_REASON_ALT}))?"), _tunnel),
    # ---- operations and their addresses
    (("dial ", "read ", "write ", "lookup "),
     re.compile(rf"(?P<op>dial|read|write) (?:tcp|udp)[46]?(?: (?:(?P<local>{_ADDR})->(?P<remote>{_ADDR})|"
                rf"(?P<addr>{_ADDR})))?|(?P<op2>lookup) (?P<lhost>{_HOST})(?: on (?P<resolver>{_ADDR}))?"),
     lambda m: _op(m) if m.group("op") else _op_lookup(m)),
    (("connectex:", "getaddrinfow:", "wsarecv:", "wsasend:", "getsockopt:"),
     re.compile(r"(?P<op>connectex|getaddrinfow|wsarecv|wsasend|getsockopt):"), _simple("op", "win")),
    (("ConnectionPool(",),
     re.compile(r"(?P<scheme>HTTPS?)ConnectionPool\(host='(?P<host>[^'\s]{1,253}+)', port=(?P<port>[0-9]{1,5}+)\)"
                r"(?:: Max retries exceeded with url: (?P<path>[^\s()]{1,2048}+))?"), _py_pool),
    (("Failed to resolve '",),
     re.compile(rf"Failed to resolve '(?P<host>{_HOST})'"), _py_resolve),
    (("Connection to ",),
     re.compile(rf"Connection to (?P<host>{_HOST}) timed out\."
                r"(?: \(connect timeout=(?P<timeout_s>[0-9.]{1,10}+)\))?"),
     _py_connect_to),
    # ---- network leaves
    (_ERRNO_TRIGGERS,
     re.compile(rf"{_AFTER_SEP}(?P<text>{_ERRNO_ALT})"), _errno),
    (("Try again",),
     re.compile(r"(?<=: )Try again\b"),
     lambda m: Token("errno", m.start(), m.end(), "eai_again", {"errno_text": "Try again"}, needs_lookup=True)),
    (("[Errno ", "[WinError "),
     re.compile(r"\[(?:Errno|WinError) (?P<num>-?[0-9]{1,6}+)\] (?P<text>[^'\")\]]{0,120}+)"), _py_errno),
    (("EOF",),
     re.compile(r"(?<![\w-])(?P<unexpected>unexpected )?EOF(?![\w-])"), _eof),
    (("UNEXPECTED_EOF_WHILE_READING", "EOF occurred", "SSLEOFError"),
     re.compile(r"UNEXPECTED_EOF_WHILE_READING|EOF occurred in violation of protocol|SSLEOFError"),
     _simple("eof", "tls_eof")),
    (("RemoteDisconnected(", "Remote end closed", "server closed idle", "connection closed before"),
     re.compile(r"RemoteDisconnected\(|Remote end closed connection without response|"
                r"server closed idle connection|connection closed before (?:server preface|message completed)"),
     _simple("eof", "closed")),
    (("ConnectionResetError", "Connection aborted"),
     re.compile(r"ConnectionResetError|Connection aborted"), _simple("errno", "reset")),
    (("ConnectionRefusedError",),
     re.compile(r"ConnectionRefusedError"), _simple("errno", "refused")),
    (("ConnectTimeout",),
     re.compile(r"ConnectTimeoutError|ConnectTimeout\("), _simple("errno", "timeout")),
    # ---- timeouts above the socket
    (("Client.Timeout exceeded", "timeout awaiting"),
     re.compile(r"Client\.Timeout exceeded while awaiting headers|timeout awaiting response headers"),
     _simple("timeout", "headers")),
    (("Client.Timeout or",),
     re.compile(r"Client\.Timeout or context cancellation while reading body"), _simple("timeout", "body")),
    (("TLS handshake timeout", "handshake operation timed out"),
     re.compile(r"net/http: TLS handshake timeout|_ssl\.c:[0-9]{1,6}+: The handshake operation timed out"),
     _simple("timeout", "tls_handshake")),
    (("ReadTimeoutError", "Read timed out"),
     re.compile(r"(?:ReadTimeoutError|Read timed out)"), _simple("timeout", "read")),
    (("request canceled",),
     re.compile(r"net/http: request canceled(?: while waiting for connection)?"), _simple("timeout", "canceled")),
    (("Network timed out",), re.compile(r"Network timed out while trying to connect"), _simple("timeout", "context")),
    (("deadline exceeded", "DeadlineExceeded"),
     re.compile(r"context deadline exceeded|DeadlineExceeded|deadline exceeded"), _simple("timeout", "context")),
    # ---- TLS
    (("x509: ", "certificate signed by unknown authority", "certificate has expired", "certificate is valid for",
      "certificate is not valid for", "cannot validate certificate", "legacy Common Name"),
     re.compile(r"(?:x509: )?(?P<what>certificate signed by unknown authority"
                r"(?: \(possibly because of \"(?P<reason>[^\"]{0,200}+)\""
                r"(?: while trying to verify candidate authority certificate \"(?P<issuer>[^\"]{0,200}+)\")?)?|"
                r"certificate has expired or is not yet valid(?:: current time (?P<now>[0-9TZ:.+-]{4,40}+) is "
                r"(?P<when>after|before) (?P<bound>[0-9TZ:.+-]{4,40}+))?|"
                r"certificate is valid for (?P<cert_names>[^\n]{0,300}?), not (?P<host>[A-Za-z0-9_.*-]{1,253}+)|"
                r"certificate is not valid for any names[^\n]{0,60}?match (?P<host2>[A-Za-z0-9_.-]{1,253}+)|"
                r"cannot validate certificate for (?P<address>[^\s]{1,64}+) because it doesn't contain any IP SANs|"
                r"certificate relies on legacy Common Name field)|"
                r"x509: (?P<what2>certificate is not trusted|negative serial number|[a-z][a-z ,]{2,80}+)"), _x509),
    (("tls: first record", "tls: oversized", "server gave HTTP response", "WRONG_VERSION_NUMBER",
      "wrong version number", "HTTP_REQUEST", "http request", "InvalidContentType", "packet length too long",
      "unknown protocol"),
     re.compile(r"tls: first record does not look like a TLS handshake|tls: oversized record received"
                r"(?: with length (?P<length>[0-9]{1,6}+))?|http: server gave HTTP response to HTTPS client|"
                r"\[SSL: WRONG_VERSION_NUMBER\]|wrong version number|SSL: HTTP_REQUEST|http request|"
                # rustls; OpenSSL's other wordings of a plain-HTTP peer
                r"received corrupt message of type InvalidContentType|packet length too long|ssl3_get_record:wrong|"
                r"SSL routines:[A-Za-z0-9_]{0,40}:unknown protocol"),
     _simple("tls", "not_tls")),
    (("remote error: tls", "tls: ", "local error: tls", "SSLV3_ALERT", "TLSV1_ALERT"),
     re.compile(r"(?P<tls_error>remote error: tls: [a-z ]{1,40}+|tls: handshake failure|"
                r"tls: protocol version not supported|tls: server selected unsupported protocol version[^\n]{0,20}|"
                r"local error: tls: [a-z ]{1,40}+|SSLV3_ALERT_[A-Z_]{1,40}+|TLSV1_ALERT_[A-Z_]{1,40}+|"
                r"tls: failed to parse certificate[^\n]{0,80}|tls: unsupported certificate)"),
     _simple("tls", "handshake_failed")),
    (("CERTIFICATE_VERIFY_FAILED",),
     re.compile(r"CERTIFICATE_VERIFY_FAILED\] certificate verify failed: (?P<reason>[A-Za-z][A-Za-z ,'-]{0,80}+)|"
                r"CERTIFICATE_VERIFY_FAILED"), _py_verify),
    (("Hostname mismatch",),
     re.compile(r"Hostname mismatch, certificate is not valid for '(?P<host>[^'\s]{1,253}+)'"),
     _simple("tls", "name_mismatch")),
    # ---- HTTP statuses in any wording
    (tuple(REASONS),
     re.compile(rf"\b(?P<status>[45][0-9]{{2}}) \(?(?P<text>{_REASON_ALT})\b"), _status),
    (("tatus", "STATUS", "ttp code", "TTP code", "esponse code", "rror code"),
     re.compile(r"(?:[Ss]tatus(?:[ _-]?[Cc]ode)?|STATUS(?:_CODE)?|[Hh]ttp code|HTTP code|[Rr]esponse code|"
                r"[Ee]rror code)"
                r"(?: from registry| from [A-Z]{3,7}+ "
                r"request to [^\s:]{1,2048}+)?[\s:=]{0,3}+\(?(?P<status>[45][0-9]{2})\b"
                r"(?: (?P<text>[A-Z][A-Za-z -]{2,40}+))?"),
     _status),
    (("HTTP/", "HTTP "),
     re.compile(r"HTTP(?:/[0-9.]{1,3}+)? (?P<status>[45][0-9]{2})\b(?: (?P<text>[A-Z][A-Za-z -]{2,40}+))?"), _status),
    (("returned ", "answered ", "responded with ", "failed with ", "with status ", "got ", "error "),
     re.compile(r"(?:returned|answered|responded with|failed with|with status|got|error) (?P<status>[45][0-9]{2})\b"
                r"(?: (?P<text>[A-Z][A-Za-z -]{2,40}+))?"), _status),
    (("status code ", "status: ", "statuscode: "),
     re.compile(r"(?:unexpected status code|response status code|unexpected status:|status code|statuscode:) "
                r"(?P<status>[45][0-9]{2})"), _status),
    # Go's constant names in logs (`response was http.StatusNotFound`)
    (("http.Status",), re.compile(r"http\.Status(?P<name>[A-Z][A-Za-z]{2,40}+)"), _go_status),
    # containerd's errdefs.ErrNotFound at the end of a chain (`…/hello:nope: not found`)
    (("not found",), re.compile(r"(?<=: )not found(?=\s*$|[\"'\]])"), _simple("oci", "NOT_FOUND")),
    # a bare reason phrase right after `URL: ` (Go: a proxy's non-200 answer to CONNECT)
    (_CONNECT_REASONS,
     re.compile(rf"(?<=: )(?P<text>{'|'.join(re.escape(r) for r in _CONNECT_REASONS)})(?=$|[\s.;,\"'])"), _bare_reason),
    # ---- registry (OCI distribution) error codes
    (OCI_CODES,
     re.compile(rf"\b(?P<upper>{_OCI_UPPER})\b(?::\s?(?P<message>[^;\n]{{0,300}}+))?"), _oci_any),
    (_OCI_LOWER_CODES,
     re.compile(rf"(?:(?<=: )|(?<=^)|(?<=Error )|(?<=\] )|(?<=\"))(?P<lower>{_OCI_LOWER})(?=:|\s*$)"
                rf"(?::\s?(?P<message2>[^;\n]{{0,300}}+))?|(?<=\s)(?P<lower2>{_OCI_LOWER})(?=:)"
                rf"(?::\s?(?P<message3>[^;\n]{{0,300}}+))?"), _oci_any),
    (('"code"',), re.compile(r"\"code\"\s{0,3}+:\s{0,3}+\"(?P<json>[A-Za-z_]{3,40}+)\""), _oci_any),
    (_OAUTH,
     re.compile(rf"(?P<code>{'|'.join(_OAUTH)})\b"), _oauth),
    (("map[",),
     re.compile(r"map\[(?P<body>[^\[\]\n]{0,512}+)\]"), _detail),
    (('"message"',),
     re.compile(r"\"message\"\s{0,3}+:\s{0,3}+\"(?P<message>[^\"]{0,300}+)\""), _json_message),
    # ---- bodies
    (("<!", "<h", "<H"),
     re.compile(r"(?i:<!doctype html|<html)"), _body("html")),
    (("<title>",),
     re.compile(r"<title>(?P<page_title>[^<]{1,120}+)</title>"), _body("title")),
    (("<Error>", "<?xml"),
     re.compile(r"<Error>\s{0,3}+<Code>(?P<storage_code>[A-Za-z]{2,64}+)</Code>|<\?xml[^>]{0,80}+>\s{0,3}+<Error>"),
     _body("storage_xml")),
    (("malformed HTTP", "server response was not HTTP", "transport connection broken", "BadStatusLine",
      "bad status line", "invalid header"),
     re.compile(r"(?:(?<=: )|(?<=\()|(?<=, )|^)"
                r"(?P<http_error>malformed HTTP (?:response|status code|version)|server response was not HTTP|"
                r"net/http: HTTP/1\.x transport connection broken[^\n]{0,60}|"
                r"BadStatusLine|bad status line|invalid header)"), _body("malformed")),
)


def urls(text: str) -> list[Url]:
    """The URLs of ``text`` with their methods (the first spec of the grammar alone).

    >>> [u.host for u in urls('Head "https://r.io/v2/a/manifests/1": EOF')]
    ['r.io']
    """
    _, rx, make = _SPECS[0]
    out = []
    for m in rx.finditer(text):
        t = make(m)
        if t is not None:
            out.append(_parse_url(t.start, t.value, t.fields.get("method")))
        if len(out) >= MAX_TOKENS:
            break
    return out


def tokens(text: str) -> list[Token]:
    """Every piece of ``text`` the grammar knows, in text order (linear in ``len(text)``).

    >>> [t.kind for t in tokens('Head "https://r.io/v2/a/manifests/1": dial tcp 1.2.3.4:443: i/o timeout')]
    ['url', 'op', 'errno']
    """
    out: list[Token] = []
    for triggers, rx, make in _SPECS:
        if not any(t in text for t in triggers):
            continue
        n = 0
        for m in rx.finditer(text):
            t = make(m)
            if t is not None:
                out.append(t)
                n += 1
                if n >= MAX_TOKENS:  # a real error has a handful; a hostile line stops here
                    break
    out.sort(key=lambda t: (t.start, -t.end))
    # drop a token inside an earlier one of the same kind (an OCI code inside a JSON message…)
    kept: list[Token] = []
    for t in out:
        if kept and t.start < kept[-1].end and t.kind == kept[-1].kind:
            last = kept[-1]
            if t.value == last.value:  # the same piece read twice: keep what either saw
                kept[-1] = Token(last.kind, last.start, max(last.end, t.end), last.value, {**t.fields, **last.fields})
            continue
        if t.needs_lookup and not any(k.kind == "op" and k.value == "lookup" for k in kept):
            continue
        kept.append(t)
    return kept


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class Url:
    """A URL in the line, with the method that requested it."""

    start: int
    url: str
    method: str | None
    host: str | None
    port: int | None
    scheme: str
    path: str


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


def _parse_url(start: int, url: str, method: str | None) -> Url:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return Url(start, url, method, None, None, "", "")
    return Url(start, url, method, host, port, parts.scheme, parts.path or "/")


# Leaves ranked by how much they say about the cause: the most specific one decides; among
# equals the innermost (last) one, which Go prints last.
_RANK = {"errno": 90, "tls": 85, "oci": 80, "oauth": 78, "reason": 76, "status": 70, "malformed": 60,
         "eof": 50, "timeout": 40}
_TIMEOUT_RANK = {"tls_handshake": 82, "read": 55, "headers": 45, "body": 45, "canceled": 42, "context": 30}


def _rank(t: Token) -> int:
    if t.kind == "timeout":
        return _TIMEOUT_RANK.get(t.value, 40)
    if t.kind == "body":
        # a page where an error was expected says little alone, but it is an answer
        return {"malformed": 60, "html": 35}.get(t.value, -1)
    if t.kind == "errno" and t.value == "other":
        return 20
    return _RANK.get(t.kind, -1)


_INHERENTLY_DNS = frozenset({"nxdomain", "servfail", "eai_again", "nodata"})


def _family(errno: Token, before: list[Token]) -> str:
    """``dns`` when the failing operation is a lookup, ``conn`` after a connection was made, else ``tcp``."""
    if errno.value in _INHERENTLY_DNS:
        return "dns"
    nearest: str | None = None
    for t in reversed(before):
        if t.kind == "url":
            break
        if t.kind == "op":
            op = t.fields.get("op")
            if op == "lookup":
                return "dns"
            nearest = nearest or op
    if nearest in ("read", "write", "wsarecv", "wsasend") and errno.value == "timeout":
        return "conn"
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
    urls = tuple(_parse_url(t.start, t.value, t.fields.get("method")) for t in toks if t.kind == "url")
    best: Token | None = None
    for t in toks:
        r = _rank(t)
        if r >= 0 and (best is None or r >= _rank(best)):
            best = t
    fields: dict[str, str] = {}
    leaf: Leaf | None = None
    proxied = False
    url: Url | None = None
    if best is not None:
        before = [t for t in toks if t.start < best.start]
        # the URL the leaf is about: the innermost one before it; a URL inside a server message
        # (Docker Hub's link to its docs) comes after the code, so it never counts
        url = next((u for u in reversed(urls) if u.start < best.start), None)
        connect = best.kind == "reason" and (best.fields.get("via") == "tunnel" or _bare_after_url(text, best, url))
        proxied = connect or any(t.kind == "proxy" for t in before)
        kind = _kind(best, before, connect)
        if best.kind in ("oci", "status") and any(t.kind == "body" and t.value == "html" for t in toks):
            kind = "http.html"  # an HTML page where the registry answers JSON: a middlebox's page
        leaf = Leaf(kind, best.start, best.end, text[best.start:best.end], dict(best.fields))
    for t in toks:
        for k, v in t.fields.items():
            if k in ("op", "op_hint", "url", "method"):
                continue
            fields.setdefault(k, v)
        if t.kind == "op" and t.fields.get("op") in ("dial", "connectex") and "address" in t.fields:
            fields["dial_address"] = t.fields["address"]
    if leaf is None and urls:
        reason = _custom_reason(text, urls[-1])
        if reason is not None:
            url, proxied = urls[-1], True
            leaf = Leaf(f"connect.{_status_family(reason.value)}", reason.start, reason.end,
                        text[reason.start:reason.end], dict(reason.fields))
    if leaf is None:
        # a lookup with nothing after it (a message cut short, as guides quote it) still names DNS
        lookup = next((t for t in reversed(toks) if t.kind == "op" and t.fields.get("op") == "lookup"), None)
        if lookup is not None:
            url = next((u for u in reversed(urls) if u.start < lookup.start), None)
            proxied = any(t.kind == "proxy" and t.start < lookup.start for t in toks)
            leaf = Leaf("dns.unknown", lookup.start, lookup.end, text[lookup.start:lookup.end], dict(lookup.fields))
    if leaf is not None:
        for k, v in leaf.fields.items():
            fields[k] = v
        _addresses(toks, leaf, fields)
    if any(t.kind == "body" and t.value == "html" for t in toks):
        fields["html"] = "1"
    if any(t.kind == "body" and t.value == "storage_xml" for t in toks):
        fields["storage_xml"] = "1"
    return Reading(tokens=tuple(toks), urls=urls, leaf=leaf, url=url, proxied=proxied, fields=fields)


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
    if t.kind == "timeout":
        return f"timeout.{t.value}"
    if t.kind == "tls":
        return f"tls.{t.value}"
    if t.kind in ("status", "reason"):
        return f"{'connect' if connect else 'status'}.{_status_family(t.value)}"
    if t.kind == "oci":
        return f"oci.{t.value.lower()}"
    if t.kind == "oauth":
        return f"oauth.{t.value}"
    if t.kind == "body":
        return "http.malformed" if t.value == "malformed" else "http.html"
    return f"{t.kind}.{t.value}"


_EXACT_STATUSES = frozenset({"401", "403", "404", "407", "429", "500", "502", "503", "504"})


def _status_family(status: str) -> str:
    if status in _EXACT_STATUSES:
        return status
    return "5xx" if status.startswith("5") else "4xx"  # a 1xx-3xx refusal is as unexpected as a 4xx


#: every leaf kind ``read`` can produce (the leaf table must define each; a unit test checks)
LEAF_KINDS = frozenset(
    [f"dns.{k}" for k in sorted(set(PY_ERRNO.values()) | set(_ERRNO_TEXT.values()))]
    + [f"tcp.{k}" for k in sorted(set(PY_ERRNO.values()) | set(_ERRNO_TEXT.values())) if k not in _INHERENTLY_DNS]
    + ["tcp.other", "dns.other", "dns.unknown"]
    + ["conn.timeout", "conn.eof", "conn.unexpected_eof", "conn.tls_eof", "conn.closed"]
    + [f"timeout.{k}" for k in _TIMEOUT_RANK]
    + [f"tls.{k}" for k in ("unknown_ca", "expired", "not_yet_valid", "expired_or_not_yet", "name_mismatch",
                            "cn_only", "handshake_failed", "not_tls", "self_signed", "verify_failed")]
    + [f"{p}.{s}" for p in ("status", "connect") for s in (*sorted(_EXACT_STATUSES), "4xx", "5xx")]
    + [f"oci.{c.lower()}" for c in OCI_CODES] + [f"oauth.{c}" for c in _OAUTH] + ["http.malformed", "http.html"]
    + ["oci.not_found"]
)


# ------------------------------------------------------------------------------ gate
# The scanner's prefilter must admit every line that holds a leaf: these literals (``": X"``
# means X after a Go-style ``": "`` or at a line start) and byte patterns cover every leaf
# token above; a unit test feeds every leaf example through the scanner.

GATE_ANCHORS: tuple[str, ...] = (
    # sockets and resolvers (Go, glibc, Windows)
    ": connection refused", ": connection reset", ": no route to host", ": network is unreachable",
    ": connection timed out", ": operation timed out", ": i/o timeout", ": no such host", ": server misbehaving",
    ": Temporary failure in name resolution", ": No such host is known", ": broken pipe", ": host is down",
    ": No connection could be made", ": A connection attempt failed", ": An existing connection was forcibly closed",
    ": A non-recoverable error", ": This is usually a temporary error", ": A socket operation was attempted",
    ": permission denied", ": operation not permitted", ": cannot assign requested address",
    ": too many open files", ": lookup ", ": Try again",
    # Python (urllib3, requests, ssl)
    "[Errno ", "[WinError ", "RemoteDisconnected", "Remote end closed", "ConnectionResetError", "Connection aborted",
    "ConnectionRefusedError", "ConnectTimeout", "ReadTimeoutError", "Read timed out", "SSLEOFError",
    "EOF occurred in violation", "UNEXPECTED_EOF_WHILE_READING", "[SSL: ", "CERTIFICATE_VERIFY_FAILED",
    "Hostname mismatch", "SSLV3_ALERT", "TLSV1_ALERT", "Tunnel connection failed", "HTTPSConnectionPool(",
    ": The handshake operation timed out",
    # EOF, timeouts, TLS, HTTP transport
    ": EOF", ": unexpected EOF", "Client.Timeout", ": net/http: ", ": context deadline exceeded", "DeadlineExceeded",
    ": x509: ", ": tls: ", ": remote error: tls", ": local error: tls", ": http: server gave HTTP response",
    ": malformed HTTP", "server response was not HTTP", "BadStatusLine",
    # server answers: reason phrases, registry error codes, bodies
    *REASONS, *OCI_CODES, *(f": {c.lower().replace('_', ' ')}" for c in OCI_CODES), ": too many requests",
    ": not found", "http.Status",
    "toomanyrequests",  # Docker Hub's quota text often starts a log line after a timestamp
    "<html", "<HTML", "<!DOCTYPE", "<!doctype", "<Error>", "<?xml",
)
#: anchors of leaves that are about a registry by themselves (registry and token error codes)
STANDALONE_ANCHORS: tuple[str, ...] = (
    *OCI_CODES, *(f": {c.lower().replace('_', ' ')}" for c in OCI_CODES), *_OAUTH, "Proxy Authentication Required",
)
#: byte regexes for anchors that would be costly as literals (a common first letter)
GATE_PATTERNS: tuple[bytes, ...] = (
    # status code / StatusCode / status: 403 / status=503
    rb"tatus(?:[ _-]?[Cc]ode|: ?[45][0-9][0-9]|=[45][0-9][0-9]| [45][0-9][0-9])",
    rb"esponse code",
    rb"HTTP/[12](?:\.[01])? [45][0-9][0-9]",
    rb"_(?:scope|token|grant|client|request|grant_type)\b",  # OAuth error codes
)


__all__ = [
    "GATE_ANCHORS",
    "GATE_PATTERNS",
    "LEAF_KINDS",
    "OCI_CODES",
    "REASONS",
    "STANDALONE_ANCHORS",
    "Leaf",
    "Reading",
    "Token",
    "Url",
    "read",
    "tokens",
    "urls",
]
