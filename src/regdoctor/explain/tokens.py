"""Tokens: every piece of an error line the grammar knows, found in one linear pass per piece.

Each piece has literals of which one must be in the line (``triggers``, so a line pays only for
the pieces it may hold), a regex that starts with a literal or is pinned, with bounded or
possessive repeats (linear in the line, whatever the text), and a maker that turns a match into a
:class:`Token`. At most ``MAX_TOKENS`` of one kind are read per line. The gate anchors at the end
are what the scanner looks for before any line is decoded: every leaf token holds one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from regdoctor.explain.vocab import (
    ADDR,
    ADDR_PARTS,
    AFTER_SEP,
    CONNECT_REASONS,
    DNSSD_BY_NAME,
    DNSSD_ERRORS,
    ERRNO_ALT,
    ERRNO_NAME,
    ERRNO_TEXT,
    ERRNO_TRIGGERS,
    HOST,
    NODE_ERRNO,
    OAUTH,
    OCI_CODES,
    OCI_LOWER,
    OCI_LOWER_CODES,
    OCI_UPPER,
    PY_ERRNO,
    REASON_ALT,
    REASONS,
    TLS_PHRASES,
    WINSOCK_DEFAULT,
    WINSOCK_LOCALIZED,
)
from regdoctor.kb.socks import AUTH_FAILURES as SOCKS_AUTH_FAILURES
from regdoctor.kb.socks import AUTH_STATUS as SOCKS_AUTH_STATUS
from regdoctor.kb.socks import REPLIES as SOCKS_REPLIES

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
    m = ADDR_PARTS.match(raw)
    if not m:
        return {}
    out = {f"{prefix}address": (m.group("v6") or m.group("host") or "")}
    if m.group("port"):
        out[f"{prefix}port"] = m.group("port")
    return out


_IP_LITERAL = re.compile(r"\A(?:[0-9]{1,3}+(?:\.[0-9]{1,3}+){3}|[0-9A-Fa-f:.%]{2,64}+)\Z")


def _desktop_dialing(m: re.Match[str]) -> Token:
    """Docker Desktop's forwarder names the destination *host* it dials (``dialing H:443 …``).

    The dial that follows (``connecting to IP:443: dial tcp IP:443: …``) shows only an address, so the
    name is the one thing that tells which endpoint (registry, CDN, storage) the connection was for.
    """
    f: dict[str, str] = {"op": "dial", **_addr_fields(m.group("addr"))}
    name = f.get("address", "")
    if name and "." in name and not _IP_LITERAL.match(name):
        f["dialing_host"] = name.lower().rstrip(".")
    return Token("op", m.start(), m.end(), "dial", f)


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


#: after a socket error Go's chain ends (or a wrapper closes a quote, a bracket, a sentence)
_CHAIN_END = re.compile(r"\s*+(?:$|[\"'\])};,.]|\()")


def _errno(m: re.Match[str]) -> Token | None:
    text = m.group("text")
    if ERRNO_TEXT[text.lower()] == "local_policy" and not _CHAIN_END.match(m.string, m.end()):
        # `denied: Permission denied for "sha256:…" from request …` is a registry's sentence, not EACCES
        return None
    f = {"errno_text": text}
    if text.lower() in ERRNO_NAME:
        f["errno_name"] = ERRNO_NAME[text.lower()]
    return Token("errno", m.start(), m.end(), ERRNO_TEXT[text.lower()], f)


_WINSOCK_LOCALIZED = re.compile("|".join(re.escape(p) for p in sorted(WINSOCK_LOCALIZED, key=len, reverse=True)))
_ENGLISH_ERRNO = re.compile(rf"(?:{ERRNO_ALT})")


def _winsock_text(m: re.Match[str]) -> Token | None:
    """A Winsock call's message in the system's language: its catalogue words, else the call's phase."""
    text = m.group("text")
    if _ENGLISH_ERRNO.match(text):
        return None  # English: the errno texts read it
    found = _WINSOCK_LOCALIZED.search(text)
    kind = WINSOCK_LOCALIZED[found.group(0)] if found else WINSOCK_DEFAULT[m.group("call")]
    start = m.start("text")
    return Token("errno", start, m.end(), kind, {"errno_text": text[:120], "localized": "1"},
                 needs_lookup=kind in ("nxdomain", "eai_again"))


def _py_errno(m: re.Match[str]) -> Token | None:
    kind = PY_ERRNO.get(int(m.group("num")))
    if kind is None:
        return Token("errno", m.start(), m.end(), "other", {"errno": m.group("num"), "errno_text": m.group("text")})
    return Token("errno", m.start(), m.end(), kind, {"errno": m.group("num"), "errno_text": m.group("text")})


def _node_errno(m: re.Match[str]) -> Token:
    # a symbolic errno (Node's `connect ECONNREFUSED`, Ruby's `Errno::EHOSTUNREACH`) is the kernel's own
    # verdict; a message a library prints after it may be its own wording
    f = {"errno_name": m.group("code"), "symbolic": "1"}
    if m.group("host"):
        f["host"] = m.group("host").lower()
    return Token("errno", m.start(), m.end(), NODE_ERRNO[m.group("code")], f)


def _os_error(m: re.Match[str]) -> Token | None:
    kind = PY_ERRNO.get(int(m.group("num")))
    return None if kind is None else Token("errno", m.start(), m.end(), kind, {"errno": m.group("num")})


def _dnssd(m: re.Match[str]) -> Token | None:
    if m.group("code"):
        entry = DNSSD_ERRORS.get(int(m.group("code")))
        kind = entry[1] if entry else "other"
        start = m.start()
    else:
        kind = DNSSD_BY_NAME.get(m.group("name2"), "other")
        start = m.start("name2")  # after the `kDNSService` the lookup op was read from
    return Token("errno", start, m.end(), kind, {"errno_text": m.group(0)[:80], "dnssd": "1"}, needs_lookup=True)


#: a SOCKS5 server's reply text -> the status an HTTP proxy answers CONNECT with for the same refusal
#: (kb.socks: the table check's SOCKS client uses too)
_SOCKS_STATUS = {text: str(status) for text, status in SOCKS_REPLIES.values()}


def _socks_reply(m: re.Match[str]) -> Token:
    status = str(SOCKS_AUTH_STATUS) if m.group("auth") else _SOCKS_STATUS[m.group("rep")]
    return Token("reason", m.start(), m.end(), status, {"status": status, "via": "tunnel", "socks_reply": m.group(0)})


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
    elif what.startswith(("certificate is expired", "certificate has expired")):
        kind = "expired"
    elif what.startswith("certificate name does not match"):
        kind = "name_mismatch"
    else:
        kind = "handshake_failed"
    return Token("tls", m.start(), m.end(), kind, fields)


def _status(m: re.Match[str]) -> Token:
    f = {"status": m.group("status")}
    text = m.groupdict().get("text")
    if text:
        f["status_text"] = text.strip()
    return Token("status", m.start(), m.end(), m.group("status"), f)


#: reason phrases that, bare, can only be a server's status: those Go's CONNECT error never shows
_BARE_STATUS_REASONS = tuple(sorted((r for r in REASONS if r not in CONNECT_REASONS and REASONS[r] >= 400
                                     and r not in ("Conflict", "Gone", "Not Acceptable")), key=len, reverse=True))


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

#: one character of a registry error's message: not a separator, nor the start of the list's next
#: error (` denied: `, ` UNAUTHORIZED: `); linear (the lookahead fails at once off a space)
_ITEM = rf"(?:(?! (?:{OCI_LOWER}|{OCI_UPPER}):)[^;\n])"


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
    # Node's tunnel agents (tunnel-agent, global-agent, hpagent) name the CONNECT they failed
    (("tunneling socket could not be established",),
     re.compile(r"tunneling socket could not be established"), _simple("proxy", "node")),
    # a SOCKS5 server's refusal of CONNECT (RFC 1928's REP, as x/net/proxy prints it: `socks connect tcp
    # P->H:443: unknown error host unreachable`) is the proxy's answer about its upstream, as a 502 or a
    # 403 to an HTTP CONNECT is: read as that status on the tunnel
    (("unknown error ", "authentication failed", "acceptable authentication"),
     re.compile(rf"unknown error (?P<rep>{'|'.join(re.escape(t) for t, _ in SOCKS_REPLIES.values())})|"
                rf"(?P<auth>{'|'.join(re.escape(t) for t in SOCKS_AUTH_FAILURES)})"), _socks_reply),
    (("Tunnel connection failed",),
     re.compile(rf"Tunnel connection failed: (?P<status>[1-5][0-9]{{2}})(?: (?P<text>{REASON_ALT}))?"), _tunnel),
    # ---- operations and their addresses
    (("dial ", "read ", "write ", "lookup "),
     re.compile(rf"(?P<op>dial|read|write) (?:tcp|udp)[46]?(?: (?:(?P<local>{ADDR})->(?P<remote>{ADDR})|"
                rf"(?P<addr>{ADDR})))?|(?P<op2>lookup) (?P<lhost>{HOST})(?: on (?P<resolver>{ADDR}))?"
                # Go's lookup names its host, then the resolver, a colon or the end (a cut message, or
                # one the user elided: `lookup HOST ... i/o timeout`): `DNS lookup to HOST at IP …: OK`
                # (az acr check-health) is prose
                r"(?= on |:|,| ?(?:\.\.\.|…)|[\"'.\s]*+$)"),
     lambda m: _op(m) if m.group("op") else _op_lookup(m)),
    # Docker Desktop's forwarder: `dialing HOST:443 container via direct connection because …`
    (("dialing ",), re.compile(rf"dialing (?P<addr>{ADDR})"), _desktop_dialing),
    (("connectex:", "getaddrinfow:", "wsarecv:", "wsasend:", "getsockopt:"),
     re.compile(r"(?P<op>connectex|getaddrinfow|wsarecv|wsasend|getsockopt):"), _simple("op", "win")),
    # ... and the system's message after it in any language (the English ones are ERRNO_TEXT's)
    (("connectex: ", "getaddrinfow: ", "wsarecv: ", "wsasend: "),
     re.compile(r"(?P<call>connectex|getaddrinfow|wsarecv|wsasend): (?P<text>[^\s\"'][^\n\"']{0,300}+)"),
     _winsock_text),
    (("ConnectionPool(",),
     re.compile(r"(?P<scheme>HTTPS?)ConnectionPool\(host='(?P<host>[^'\s]{1,253}+)', port=(?P<port>[0-9]{1,5}+)\)"
                r"(?:: Max retries exceeded with url: (?P<path>[^\s()]{1,2048}+))?"), _py_pool),
    (("Failed to resolve '",),
     re.compile(rf"Failed to resolve '(?P<host>{HOST})'"), _py_resolve),
    (("Connection to ",),
     re.compile(rf"Connection to (?P<host>{HOST}) timed out\."
                r"(?: \(connect timeout=(?P<timeout_s>[0-9.]{1,10}+)\))?"),
     _py_connect_to),
    # ---- network leaves
    (ERRNO_TRIGGERS,
     re.compile(rf"{AFTER_SEP}(?P<text>{ERRNO_ALT})"), _errno),
    (("Try again",),
     re.compile(r"(?<=: )Try again\b"),
     lambda m: Token("errno", m.start(), m.end(), "eai_again", {"errno_text": "Try again"}, needs_lookup=True)),
    # other clients' words for the same leaves: Node/libuv codes, Rust's `(os error N)`, Java, curl, .NET
    (tuple(NODE_ERRNO), re.compile(rf"(?:getaddrinfo )?\b(?P<code>{'|'.join(NODE_ERRNO)})\b(?: (?P<host>{HOST}))?"),
     _node_errno),
    (("(os error ",), re.compile(r"\(os error (?P<num>[0-9]{1,5}+)\)"), _os_error),
    (("UnknownHostException", "Could not resolve host", "remote name could not be resolved", "Could not resolve proxy"),
     re.compile(rf"(?:UnknownHostException: |Could not resolve host: |The remote name could not be resolved: '|"
                rf"(?P<proxy>Could not resolve proxy: ))(?P<host>{HOST})"),
     lambda m: Token("errno", m.start(), m.end(), "nxdomain",
                     {"host": m.group("host").lower(), "errno_text": m.group(0)[:120],
                      **({"proxy_host": m.group("host").lower()} if m.group("proxy") else {})})),
    # macOS's resolver API (vocab.DNSSD_ERRORS): the call is a lookup, its error code the verdict
    (("dnssd", "DNSService"), re.compile(r"\bdnssd\b|\bk?DNSService(?:GetAddrInfo|QueryRecord|Err)?"),
     lambda m: Token("op", m.start(), m.end(), "lookup", {"op": "lookup"})),
    (("(-655", "kDNSServiceErr_"),
     re.compile(r"(?:(?P<name>[A-Z][A-Za-z]{1,30}+) )?\((?P<code>-655[0-9]{2})\)|"
                r"kDNSServiceErr_(?P<name2>[A-Za-z]{2,30}+)"),
     _dnssd),
    (("Received HTTP code",), re.compile(r"Received HTTP code (?P<status>[1-5][0-9]{2}) from proxy after CONNECT"),
     lambda m: Token("reason", m.start(), m.end(), m.group("status"), {"status": m.group("status"), "via": "tunnel"})),
    (("Unable to connect to the remote server", "Failed to connect to "),
     re.compile(r"Unable to connect to the remote server|Failed to connect to (?P<host>[A-Za-z0-9_.-]{1,253}+) port"),
     lambda m: Token("errno", m.start(), m.end(), "other", {k: v for k, v in m.groupdict().items() if v})),
    (("Empty reply from server",), re.compile(r"Empty reply from server"), _simple("eof", "closed")),
    (tuple(TLS_PHRASES), re.compile("|".join(re.escape(p) for p in sorted(TLS_PHRASES, key=len, reverse=True))),
     lambda m: Token("tls", m.start(), m.end(), TLS_PHRASES[m.group(0)], {"tls_error": m.group(0)})),
    (("[Errno ", "[WinError "),
     re.compile(r"\[(?:Errno|WinError) (?P<num>-?[0-9]{1,6}+)\] (?P<text>[^'\")\]]{0,120}+)"), _py_errno),
    (("EOF",),
     re.compile(r"(?<![\w-])(?P<unexpected>unexpected )?EOF(?![\w-])"), _eof),
    # the peer closed during the handshake: Python, Java's JSSE, Node, .NET's SslStream
    (("UNEXPECTED_EOF_WHILE_READING", "EOF occurred", "SSLEOFError", "Remote host terminated the handshake",
      "Remote host closed connection during handshake", "before secure TLS connection", "closed the transport stream",
      "0 bytes from the transport stream"),
     re.compile(r"UNEXPECTED_EOF_WHILE_READING|EOF occurred in violation of protocol|SSLEOFError|"
                r"Remote host terminated the handshake|Remote host closed connection during handshake|"
                r"Client network socket disconnected before secure TLS connection was established|"
                r"the remote party has closed the transport stream|"
                r"Received an unexpected EOF or 0 bytes from the transport stream"),
     _simple("eof", "tls_eof")),
    # ... and after it, before an answer: Python, Go's transport, Node's `socket hang up` (not Go's
    # `http2: client connection lost`: every kubelet log has it about the API server, a ping that timed out)
    (("RemoteDisconnected(", "Remote end closed", "server closed idle", "connection closed before", "socket hang up"),
     re.compile(r"RemoteDisconnected\(|Remote end closed connection without response|"
                r"server closed idle connection|connection closed before (?:server preface|message completed)|"
                r"\bsocket hang up\b"),
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
    # other stacks' whole-request and connect deadlines: .NET's HttpClient.Timeout, Java's HttpClient,
    # Ruby's Net::HTTP, Node's got
    (("HttpClient.Timeout", "HttpTimeoutException", "Timeout awaiting '", "Net::ReadTimeout"),
     re.compile(r"configured HttpClient\.Timeout of [0-9.]{1,10}+ seconds elapsing|"
                r"HttpTimeoutException: request timed out|Timeout awaiting '[a-z]{1,20}+' for [0-9]{1,10}+ms|"
                r"(?P<read>Net::ReadTimeout)"),
     lambda m: Token("timeout", m.start(), m.end(), "read" if m.group("read") else "context")),
    (("HttpConnectTimeoutException", "Net::OpenTimeout"),
     re.compile(r"HttpConnectTimeoutException|Net::OpenTimeout"),
     lambda m: Token("errno", m.start(), m.end(), "timeout", {"errno_text": m.group(0)})),
    (("request canceled",),
     re.compile(r"net/http: request canceled(?: while waiting for connection)?"), _simple("timeout", "canceled")),
    (("Network timed out",), re.compile(r"Network timed out while trying to connect"), _simple("timeout", "context")),
    (("deadline exceeded", "DeadlineExceeded"),
     # `rpc error: code = DeadlineExceeded desc = …`: the gRPC status of the whole call (CRI), not a leaf
     # of the chain in desc (grammar.read places it on the chain's innermost request)
     re.compile(r"(?<=code = )(?P<grpc_code>DeadlineExceeded)|context deadline exceeded|DeadlineExceeded|"
                r"deadline exceeded"), _simple("timeout", "context")),
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
                # macOS's verifier (Go before 1.18 printed its words) names the certificate first:
                # `x509: “reg.example” certificate is not trusted`
                r"x509: (?:[“\"](?P<cert_subject>[^”\"\n]{1,253}+)[”\"] )?"
                r"(?P<what2>certificate is not trusted|negative serial number|[a-z][a-z ,]{2,80}+)"), _x509),
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
    (("remote error: tls", "tls: ", "local error: tls", "SSLV3_ALERT", "TLSV1_ALERT", "v1 alert ", "v3 alert ",
      "v13 alert "),
     # (OpenSSL's reason strings come in both cases: `SSLV3_ALERT_HANDSHAKE_FAILURE`, `tlsv1 alert internal error`)
     re.compile(r"(?P<tls_error>remote error: tls: [a-z ]{1,40}+|tls: handshake failure|"
                r"\b(?:ssl|tls)v(?:1[0-3]?|3) alert [a-z ]{3,40}+|"
                r"tls: protocol version not supported|tls: server selected unsupported protocol version[^\n]{0,20}|"
                r"local error: tls: [a-z ]{1,40}+|SSLV3_ALERT_[A-Z_]{1,40}+|TLSV1_ALERT_[A-Z_]{1,40}+|"
                r"tls: failed to parse certificate[^\n]{0,80}|tls: unsupported certificate)"),
     _simple("tls", "handshake_failed")),
    # Python's ssl (`[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: REASON`), and OpenSSL's own
    # reason string as pyOpenSSL and OpenSSL's error queue print it
    # (`('SSL routines', 'tls_process_server_certificate', 'certificate verify failed')`)
    (("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"),
     re.compile(r"CERTIFICATE_VERIFY_FAILED\] certificate verify failed: (?P<reason>[A-Za-z][A-Za-z ,'-]{0,80}+)|"
                r"CERTIFICATE_VERIFY_FAILED|(?<=[':])certificate verify failed(?=['):\s]|$)"), _py_verify),
    (("Hostname mismatch",),
     re.compile(r"Hostname mismatch, certificate is not valid for '(?P<host>[^'\s]{1,253}+)'"),
     _simple("tls", "name_mismatch")),
    # ---- HTTP statuses in any wording
    (tuple(REASONS),
     # `429: Too Many …`, .NET's `(403) Forbidden`; never a port (`r.io:443: Forbidden`, `port 443: …`)
     re.compile(rf"(?<![:.])(?<![Pp]ort )\b(?P<status>[45][0-9]{{2}})\)?:? \(?(?P<text>{REASON_ALT})\b"), _status),
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
    # a redirect the client reported instead of following (an upload answered 301/307, a front end sending
    # plain HTTP to HTTPS or a path elsewhere): only after words that introduce a status, as `302 Found`
    # elsewhere in a log is no error
    (("Server error: ", "status code", "unexpected status", "unexpected HTTP status"),
     re.compile(r"(?:Server error: |(?:unexpected |response )?status code:? |unexpected status: |"
                r"received unexpected HTTP status: )(?P<status>30[1-8])\b(?: (?P<text>[A-Z][A-Za-z -]{2,40}+))?"),
     _status),
    # urllib3's Retry giving up: `ResponseError('too many 503 error responses')`
    (("error responses",), re.compile(r"too many (?P<status>[45][0-9]{2}) error responses"), _status),
    (("status code ", "status: ", "statuscode: "),
     re.compile(r"(?:unexpected status code|response status code|unexpected status:|status code|statuscode:) "
                r"(?P<status>[45][0-9]{2})"), _status),
    # Go's constant names in logs (`response was http.StatusNotFound`)
    (("http.Status",), re.compile(r"http\.Status(?P<name>[A-Z][A-Za-z]{2,40}+)"), _go_status),
    # containerd's errdefs.ErrNotFound at the end of a chain (`…/hello:nope: not found`)
    # ... and distribution's errcode UNKNOWN carrying the status text (`unknown: Not Found`, Artifactory's
    # and Nexus's envelope of a 404): a registry's JSON answer, so the registry's 404, not some server's
    (("not found", "unknown: Not Found"),
     re.compile(r"(?<=: )not found(?=\s*$|[\"'\]])|(?:(?<=: )|^)unknown: Not Found\b"), _simple("oci", "NOT_FOUND")),
    # a bare reason phrase no proxy sends to CONNECT (`Error: Request Entity Too Large`): the server's status
    (_BARE_STATUS_REASONS,
     re.compile(rf"(?:(?<=: )|^)(?P<text>{'|'.join(re.escape(r) for r in _BARE_STATUS_REASONS)})\b"), _reason_status),
    # a bare reason phrase right after `URL: ` (Go: a proxy's non-200 answer to CONNECT)
    (CONNECT_REASONS,
     re.compile(rf"(?<=: )(?P<text>{'|'.join(re.escape(r) for r in CONNECT_REASONS)})(?=$|[\s.;,\"'])"), _bare_reason),
    # ---- registry (OCI distribution) error codes
    # (a message ends where the next error of a list begins: containers/image prints `errors:` and
    # one `code: message` per line, which a flattened paste or event puts on one line)
    (OCI_CODES,
     re.compile(rf"\b(?P<upper>{OCI_UPPER})\b(?::\s?(?P<message>{_ITEM}{{0,300}}+))?"), _oci_any),
    (OCI_LOWER_CODES,
     re.compile(rf"(?:(?<=: )|(?<=^)|(?<=Error )|(?<=\] )|(?<=\"))(?P<lower>{OCI_LOWER})(?=:|\.?\s*$)"
                rf"(?::\s?(?P<message2>{_ITEM}{{0,300}}+))?|(?<=\s)(?P<lower2>{OCI_LOWER})(?=:)"
                rf"(?::\s?(?P<message3>{_ITEM}{{0,300}}+))?"), _oci_any),
    (('"code"',), re.compile(r"\"code\"\s{0,3}+:\s{0,3}+\"(?P<json>[A-Za-z_]{3,40}+)\""), _oci_any),
    (OAUTH,
     re.compile(rf"(?P<code>{'|'.join(OAUTH)})\b"), _oauth),
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
     re.compile(r"(?:<\?xml[^>]{0,80}+>\s{0,3}+<Error>|<Error>(?=\s{0,3}+<Code>))"
                r"\s{0,3}+(?:<Code>(?P<storage_code>[A-Za-z]{2,64}+)</Code>)?"),
     _body("storage_xml")),
    # the storage service's own Server header in a dumped response: the blob host answered, not the registry
    (("Windows-Azure-Blob", "AmazonS3"), re.compile(r"Windows-Azure-Blob/|\bAmazonS3\b"), _body("storage_xml")),
    (("malformed HTTP", "server response was not HTTP", "transport connection broken", "BadStatusLine",
      "bad status line", "invalid header"),
     re.compile(r"(?:(?<=: )|(?<=\()|(?<=, )|^)"
                r"(?P<http_error>malformed HTTP (?:response|status code|version)|server response was not HTTP|"
                r"net/http: HTTP/1\.x transport connection broken[^\n]{0,60}|"
                r"BadStatusLine|bad status line|invalid header)"), _body("malformed")),
)


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


def parse_url(start: int, url: str, method: str | None) -> Url:
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return Url(start, url, method, None, None, "", "")
    return Url(start, url, method, host, port, parts.scheme, parts.path or "/")


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
            out.append(parse_url(t.start, t.value, t.fields.get("method")))
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



# ------------------------------------------------------------------------------ gate
# The scanner's prefilter must admit every line that holds a leaf: these literals (``": X"``
# means X after a Go-style ``": "`` or at a line start) and byte patterns cover every leaf
# token above; a unit test feeds every leaf example through the scanner.

GATE_ANCHORS: tuple[str, ...] = (
    # sockets and resolvers (Go, glibc, Windows, Java): every socket text in either case of its first
    # letter, as the grammar reads it (Java's `Connection reset`), a lookup, glibc's bare `Try again`
    *(f": {t}" for t in ERRNO_TEXT), *(f": {t[0].upper()}{t[1:]}" for t in ERRNO_TEXT), ": lookup ", ": Try again",
    # Windows' Winsock calls, whose message may be in any language
    ": connectex: ", ": wsarecv: ", ": wsasend: ", ": getaddrinfow: ",
    # other stacks: each certificate verdict where it can start (a capital needs no `: ` before it)
    *(p if p[0].isupper() else f": {p}" for p in TLS_PHRASES), "InsecureRegistryException", "SSL routines",
    ": Remote host terminated the handshake", ": Remote host closed connection during handshake",
    ": Client network socket disconnected", ": socket hang up",
    ": Authentication failed because the remote party", ": Received an unexpected EOF",
    ": tunneling socket could not be established", ": unknown error ", ": username/password authentication failed",
    ": no acceptable authentication methods", ": The request was canceled due to the configured HttpClient",
    "HttpTimeoutException", "HttpConnectTimeoutException", "Net::OpenTimeout", "Net::ReadTimeout",
    ": Timeout awaiting '", ": kDNSServiceErr_", "DNSServiceGetAddrInfo",
    *(f": {name} ({code})" for code, (name, _) in DNSSD_ERRORS.items()),
    # Python (urllib3, requests, ssl)
    "[Errno ", "[WinError ", "RemoteDisconnected", "Remote end closed", "ConnectionResetError", "Connection aborted",
    "ConnectionRefusedError", "ConnectTimeout", "ReadTimeoutError", "Read timed out", "SSLEOFError",
    "EOF occurred in violation", "UNEXPECTED_EOF_WHILE_READING", "[SSL: ", "CERTIFICATE_VERIFY_FAILED",
    "Hostname mismatch", "SSLV3_ALERT", "TLSV1_ALERT", "Tunnel connection failed", "HTTPSConnectionPool(",
    ": The handshake operation timed out",
    # EOF, timeouts, TLS, HTTP transport
    *NODE_ERRNO, "(os error ", "UnknownHostException", "Could not resolve host", "remote name could not be resolved",
    "Could not resolve proxy", "Received HTTP code", "Unable to connect to the remote server",
    ": Failed to connect to ",
    "Empty reply from server", "PKIX path building failed", "SSL certificate problem", "invalid peer certificate",
    ": unable to get local issuer certificate", ": self signed certificate", ": self-signed certificate",
    ": certificate has expired", "ERR_TLS_CERT_ALTNAME_INVALID", "UNABLE_TO_", "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT", "CERT_HAS_EXPIRED", "The remote certificate is invalid",
    "Could not establish trust relationship", "The SSL connection could not be established",
    ": EOF", ": unexpected EOF", "Client.Timeout", ": net/http: ", ": context deadline exceeded", "DeadlineExceeded",
    ": x509: ", ": tls: ", ": remote error: tls", ": local error: tls", ": http: server gave HTTP response",
    ": malformed HTTP", "server response was not HTTP", "BadStatusLine",
    # server answers: reason phrases, registry error codes, bodies
    # (a reason phrase after a number is found by the status wordings below; alone, it follows ": ")
    *(f": {r}" for r in REASONS), *(f": {c}" for c in OCI_CODES),
    *(f": {c.lower().replace('_', ' ')}" for c in OCI_CODES), ": too many requests",
    ": not found", "http.Status", ": Server error: 30",  # docker's old push client: a redirect it did not follow
    "toomanyrequests",  # Docker Hub's quota text often starts a log line after a timestamp
    "<html", "<HTML", "<!DOCTYPE", "<!doctype", "<Error>", "<?xml",
)
#: anchors of leaves that are about a registry by themselves (registry and token error codes)
STANDALONE_ANCHORS: tuple[str, ...] = (
    *OCI_CODES, *(f": {c.lower().replace('_', ' ')}" for c in OCI_CODES), *OAUTH, "Proxy Authentication Required",
)
#: byte regexes for anchors that would be costly as literals (a common first letter)
GATE_PATTERNS: tuple[bytes, ...] = (
    # status code / StatusCode / status: 403 / status=503
    rb"tatus(?:[ _-]?[Cc]ode|: ?[345][0-9][0-9]|=[45][0-9][0-9]| [45][0-9][0-9])",
    rb"esponse code",
    rb"HTTP/[12](?:\.[01])? [45][0-9][0-9]",
    rb"_(?:scope|token|grant|client|request|grant_type)\b",  # OAuth error codes
    rb'"code" ?: ?"[A-Z]',  # a registry error body: {"errors":[{"code":"DENIED",…
)



__all__ = ["GATE_ANCHORS", "GATE_PATTERNS", "MAX_TOKENS", "STANDALONE_ANCHORS", "Token", "Url", "parse_url", "tokens",
           "urls"]
