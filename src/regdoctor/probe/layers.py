"""One function per layer of an endpoint walk: DNS, proxy decision, TCP, CONNECT, TLS, HTTP.

Strategy
--------
Each function runs one layer under its own ``Deadline``, records exactly one step (two for
TLS when an interception warning comes with the failure) in the ``StepLog`` and hands the
next layer what it needs: addresses, a connected socket, a wrapped socket, a response. A
function that fails records the failure and returns ``None``; ``probe.endpoint`` then marks the
layers behind it SKIP. ``net`` exceptions are caught here and turned into codes by
``probe.errors`` (by type); the decisions themselves are the pure verdicts of ``classify``.
"""

from __future__ import annotations

import dataclasses
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from regdoctor import classify
from regdoctor.kb.codes import Code
from regdoctor.net import Deadline, DnsError, HttpError, HttpMalformed, NetError, ProxyError, TcpError, TlsError
from regdoctor.net import dns as ndns
from regdoctor.net import http as nhttp
from regdoctor.net import proxy as nproxy
from regdoctor.net import socks as nsocks
from regdoctor.net import tcp as ntcp
from regdoctor.net import tls as ntls
from regdoctor.probe.errors import code_for
from regdoctor.probe.options import ProbeOptions
from regdoctor.probe.route import authority, dial
from regdoctor.probe.steps import StepLog
from regdoctor.proxyconf.rules import (
    ProxyURL,
    ProxyURLError,
    go_proxy_for,
    parse_proxy_url,
    python_proxy_for,
    redact_url,
)

# ------------------------------------------------------------------------------------- 1. DNS


def is_ip(host: str) -> bool:
    """An IP literal needs no lookup.

    >>> is_ip("10.0.0.1"), is_ip("::1"), is_ip("r.io")
    (True, True, False)
    """
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def observe_dns(host: str, port: int, deadline: Deadline) -> classify.DnsObservation:
    """Run getaddrinfo and the direct DNS query side by side, both under one deadline."""
    box: dict[str, Any] = {}

    def direct() -> None:
        try:
            box["answer"] = ndns.query_chain(host, deadline)
        except DnsError as exc:
            box["error"] = exc

    t = threading.Thread(target=direct, name=f"dns-{host}", daemon=True)
    t.start()
    sys_addrs: tuple[str, ...] | None
    sys_err: str | None = None
    try:
        sys_addrs = tuple(ndns.system_resolve(host, port, deadline))
    except DnsError as exc:
        sys_addrs, sys_err = None, str(exc.info.get("error") or exc.message)
    t.join(deadline.remaining() + 0.05)
    answer: ndns.DnsAnswer | None = box.get("answer")
    err: DnsError | None = box.get("error")
    detail: dict[str, Any] = {}
    if answer is not None:
        code: Code | None = None if answer.addresses else Code.DNS_NODATA
        result: str | None = None if answer.addresses else "NODATA"
        chain: tuple[tuple[str, str], ...] = answer.chain
    else:
        code = code_for(err) if err is not None else Code.DNS_TIMEOUT
        result = (err.info.get("rcode") or err.info.get("errno_name") or err.kind) if err is not None else "timeout"
        chain = tuple((str(c[0]), str(c[1])) for c in ((err.info.get("chain") if err else None) or [])
                      if len(c) == 2)
        if err is not None:
            detail = {k: err.info[k] for k in ("errno", "errno_name", "errno_text", "attempts") if k in err.info}
            detail["dns_error"] = err.message
    resolver = answer.nameserver if answer else (str(err.info.get("resolver")) if err and err.info.get("resolver")
                                                 else ",".join(ndns.nameservers()))
    dns_addrs = answer.addresses if answer else ()
    classes = {a: ndns.classify_address(a) for a in (*(sys_addrs or ()), *dns_addrs)}
    return classify.DnsObservation(
        host=host, system_addresses=sys_addrs, system_error=sys_err, dns_code=code, dns_addresses=dns_addrs,
        chain=chain, resolver=resolver, classes=classes, timeout_s=deadline.seconds,
        dns_result=str(result) if result else None, dns_detail=detail)


def resolve(log: StepLog, host: str, port: int, opts: ProbeOptions, *, proxied: bool) -> list[str]:
    """Layer 1: the addresses a client would connect to (none for a proxied or failed lookup)."""
    log.begin("dns", "resolve", opts.timeout)
    t0 = time.monotonic()
    if is_ip(host) or host == "localhost" or host.endswith(".localhost"):
        # IP literals need no lookup; localhost names never go to DNS (RFC 6761)
        addresses = [host] if is_ip(host) else _local_addresses(host, port)
        log.add("dns", "resolve", "skip", t0, f"{host}: no DNS lookup needed ({', '.join(addresses) or 'none'})",
                evidence={"addresses": addresses,
                          "address_classes": {a: ndns.classify_address(a) for a in addresses}})
        return addresses
    try:
        ndns.check_name(host)
    except DnsError as exc:
        log.add("dns", "resolve", "fail", t0, exc.message, code_for(exc),
                {**exc.info, "reason_text": exc.message, "name_source": "the endpoint's name"})
        return []
    obs = observe_dns(host, port, Deadline(opts.timeout))
    log.verdict("dns", "resolve", t0, classify.dns_verdict(obs, proxied=proxied))
    return list(obs.system_addresses or ())


def _local_addresses(host: str, port: int) -> list[str]:
    try:
        return ndns.system_resolve(host, port, Deadline(1.0))
    except DnsError:
        return ["127.0.0.1", "::1"]


# -------------------------------------------------------------------------- 2. proxy decision


@dataclass(frozen=True)
class ProxyPlan:
    proxy: ProxyURL | None
    step: classify.Verdict


def _redact(url: str | None) -> str | None:
    return None if url is None else redact_url(url)


def decide_proxy(host: str, port: int, opts: ProbeOptions, scheme: str = "https") -> ProxyPlan:
    """Layer 2: the proxy this endpoint's traffic takes (Go's rules, or ``--proxy``), as a step."""
    go = go_proxy_for(opts.env, host, port, scheme=scheme)  # http URLs use HTTP_PROXY, https URLs HTTPS_PROXY
    py = python_proxy_for(opts.env, host, port, scheme=scheme)
    ev: dict[str, Any] = {
        "go": {"proxy": _redact(go.proxy), "reason": go.reason, "variable": go.source, "no_proxy_entry": go.entry},
        "python": {"proxy": _redact(py.proxy), "reason": py.reason, "variable": py.source,
                   "no_proxy_entry": py.entry},
    }
    if opts.proxy is None and go.kind in ("invalid_proxy", "cgi_refused"):
        ev.update(proxy=_redact(opts.env.get(go.source or "", "")), reason=go.reason)
        return ProxyPlan(None, classify.Verdict("fail", Code.PROXY_BAD_URL, f"Go clients: {go.reason}", ev))
    if opts.proxy is not None:
        chosen = None if opts.proxy.lower() in ("none", "direct", "") else opts.proxy
        why = "--proxy none: direct" if chosen is None else "--proxy given"
    else:
        chosen, why = go.proxy, f"Go rules: {go.reason}"
    ev["used"] = _redact(chosen)
    ev["used_reason"] = why
    proxy: ProxyURL | None = None
    if chosen is not None:
        try:
            proxy = parse_proxy_url(chosen)
        except ProxyURLError as exc:
            ev.update(proxy=_redact(chosen), reason=str(exc))
            return ProxyPlan(None, classify.Verdict("fail", Code.PROXY_BAD_URL, f"unusable proxy: {exc}", ev))
        if proxy.note is not None:
            ev.update(proxy=proxy.redacted, reason=proxy.note)
            return ProxyPlan(None, classify.Verdict("fail", Code.PROXY_BAD_URL, f"unusable proxy: {proxy.note}", ev))
        ev["proxy_address"] = proxy.address
    summary = f"via {proxy.redacted}" if proxy else "direct"
    summary += f" ({why})"
    if opts.proxy is None and (go.proxy or None) != (py.proxy or None):
        ev.update(go_proxy=_redact(go.proxy) or "direct", python_proxy=_redact(py.proxy) or "direct",
                  difference=f"Go: {go.reason}; Python: {py.reason}")
        return ProxyPlan(proxy, classify.Verdict("warn", Code.PROXY_RULES_DIFFER, summary +
                                                 f"; Python clients would go {_redact(py.proxy) or 'direct'}", ev))
    http_only = opts.env.get("HTTP_PROXY") or opts.env.get("http_proxy")
    if opts.proxy is None and proxy is None and http_only and scheme == "https" and go.kind == "unset":
        ev["http_proxy"] = _redact(http_only)
        return ProxyPlan(None, classify.Verdict("warn", Code.PROXY_HTTP_ONLY, summary + "; HTTP_PROXY is ignored "
                                                "for https", ev))
    return ProxyPlan(proxy, classify.Verdict("pass", None, summary, ev))


# -------------------------------------------------------------------------------------- 3. TCP


@dataclass
class Connected:
    """What the TCP layer hands on: the socket and the registry address (None when proxied)."""

    sock: socket.socket
    address: str | None
    #: bytes the proxy tunnel delivered before we spoke (none from a TLS or HTTP server)
    early: bytes = b""


def connect_proxy(log: StepLog, proxy: ProxyURL, opts: ProbeOptions) -> Connected | None:
    """Layer 3 behind a proxy: resolve and connect to the proxy itself."""
    log.begin("tcp", "connect proxy", opts.timeout)
    t0 = time.monotonic()
    deadline = Deadline(opts.timeout)
    ev: dict[str, Any] = {"proxy_address": proxy.address, "proxy": proxy.redacted, "proxy_host": proxy.host,
                          "timeout_s": opts.timeout}
    try:
        paddrs = ndns.system_resolve(proxy.host, proxy.port, deadline)
    except DnsError as exc:
        log.add("tcp", "connect proxy", "fail", t0, f"proxy host {proxy.host} does not resolve: {exc.message}",
                code_for(exc, to_proxy=True), {**ev, **exc.info, "dns_error": exc.info.get("error") or exc.kind})
        return None
    try:
        sock = ntcp.connect(paddrs[0], proxy.port, deadline)
    except TcpError as exc:
        log.add("tcp", "connect proxy", "fail", t0, exc.message, code_for(exc, to_proxy=True),
                {**ev, **exc.info, "address": paddrs[0]})
        return None
    log.add("tcp", "connect proxy", "pass", t0, f"connected to proxy {proxy.address} ({paddrs[0]})",
            evidence={"proxy_address": proxy.address, "address": paddrs[0]})
    return Connected(sock, None)


def connect_direct(log: StepLog, addresses: list[str], port: int, opts: ProbeOptions) -> Connected | None:
    """Layer 3 without a proxy: try each address in order, sharing the deadline as Go's dialer does."""
    log.begin("tcp", "connect", opts.timeout)
    t0 = time.monotonic()
    deadline = Deadline(opts.timeout)
    attempts: list[dict[str, Any]] = []
    last: TcpError | None = None
    for i, addr in enumerate(addresses):
        per = Deadline(max(deadline.remaining() / (len(addresses) - i), 0.05))
        try:
            sock = ntcp.connect(addr, port, per)
        except TcpError as exc:
            attempts.append({"address": addr, "result": exc.kind, "error": exc.message})
            last = exc
            continue
        attempts.append({"address": addr, "result": "connected"})
        log.add("tcp", "connect", "pass", t0, f"connected to {addr}:{port}",
                evidence={"address": addr, "port": port, "attempts": attempts})
        return Connected(sock, addr)
    if last is None:
        log.add("tcp", "connect", "fail", t0, "no address to connect to", Code.DNS_NODATA, {"resolver": "system"})
        return None
    log.add("tcp", "connect", "fail", t0, last.message, code_for(last),
            {**last.info, "port": port, "timeout_s": opts.timeout, "attempts": attempts, "during": "connect"})
    return None


# ----------------------------------------------------------------------------- 4. proxy CONNECT


def _proxy_tls(log: StepLog, conn: Connected, proxy: ProxyURL, opts: ProbeOptions, step: str, t0: float, *,
               deadline: Deadline, base: dict[str, Any]) -> bool:
    """TLS to an ``https://`` proxy (before CONNECT or a forwarded request); False when it failed."""
    if proxy.scheme != "https":
        return True
    try:
        conn.sock, _ = ntls.handshake(conn.sock, proxy.host, opts.tls_context(), deadline)
    except TlsError as exc:
        code = Code.PROXY_HTTPS_SCHEME_ON_HTTP_PROXY if exc.kind in ("not_tls", "closed") \
            else Code.PROXY_TLS_FAILED
        log.add("proxy", step, "fail", t0, f"TLS to the proxy failed: {exc.message}", code,
                {**base, "tls_error": exc.message})
        return False
    return True


def proxy_evidence(proxy: ProxyURL, port: int, opts: ProbeOptions) -> dict[str, Any]:
    """What a proxy finding's texts name: the proxy (redacted), the port, whether credentials went."""
    return {"proxy_address": proxy.address, "proxy": proxy.redacted, "timeout_s": opts.timeout, "port": port,
            "auth_note": " (credentials were sent)" if proxy.username else " (no credentials in the proxy URL)"}


def tunnel(log: StepLog, conn: Connected, proxy: ProxyURL, host: str, port: int, opts: ProbeOptions) -> bool:
    """Layer 4: TLS to an https:// proxy if asked, then CONNECT; True when the tunnel is open."""
    if proxy.socks:
        return socks_tunnel(log, conn, proxy, host, port, opts)
    log.begin("proxy", "CONNECT", opts.timeout)
    t0 = time.monotonic()
    deadline = Deadline(opts.timeout)
    base = proxy_evidence(proxy, port, opts)
    if not _proxy_tls(log, conn, proxy, opts, "CONNECT", t0, deadline=deadline, base=base):
        return False
    auth = nproxy.basic_auth(proxy.username, proxy.password or "") if proxy.username else None
    try:
        reply = nproxy.connect_tunnel(conn.sock, host, port, deadline, auth, opts.user_agent)
    except ProxyError as exc:
        log.add("proxy", "CONNECT", "fail", t0, exc.message, code_for(exc), {**base, **exc.info})
        return False
    v = classify.classify_connect_reply(reply.status, reply.reason, reply.headers, reply.body,
                                        credentials_sent=proxy.username is not None, proxy_address=proxy.address)
    log.verdict("proxy", "CONNECT", t0, v, **base)
    conn.early = reply.leftover
    return v.status != "fail"


def socks_tunnel(log: StepLog, conn: Connected, proxy: ProxyURL, host: str, port: int, opts: ProbeOptions) -> bool:
    """Layer 4 behind a SOCKS5 proxy: its CONNECT (RFC 1928), judged as an HTTP proxy's answer with the
    same meaning would be (``kb.socks``); True when the stream is open."""
    log.begin("proxy", "SOCKS5 CONNECT", opts.timeout)
    t0 = time.monotonic()
    base = proxy_evidence(proxy, port, opts)
    try:
        reply = nsocks.socks5_connect(conn.sock, host, port, Deadline(opts.timeout), proxy.username, proxy.password)
    except ProxyError as exc:
        log.add("proxy", "SOCKS5 CONNECT", "fail", t0, exc.message, code_for(exc), {**base, **exc.info})
        return False
    v = classify.classify_connect_reply(reply.status, reply.reason, [], b"",
                                        credentials_sent=proxy.username is not None, proxy_address=proxy.address)
    answer = "granted" if reply.rep == 0 else f"reply {reply.rep}: {reply.reason}" if reply.rep > 0 else reply.reason
    # the finding's texts quote what the proxy answered: the SOCKS reply, not the status it equals
    v = dataclasses.replace(v, summary=f"SOCKS5 CONNECT {host}:{port} {answer}"
                            f"{f' (bound {reply.bound})' if reply.bound else ''}",
                            evidence={**v.evidence, "status_line": f"SOCKS5 {answer}"})
    log.verdict("proxy", "SOCKS5 CONNECT", t0, v, **base, socks_reply=reply.rep, socks_reason=reply.reason)
    return v.status != "fail"


def forward(log: StepLog, conn: Connected, proxy: ProxyURL, port: int, opts: ProbeOptions) -> bool:
    """Layer 4 for a plain-HTTP registry behind a proxy: no tunnel. Go's transport sends an
    ``http://`` request to the proxy itself, in absolute form (``GET http://host/v2/``), over TLS
    first when the proxy URL is ``https://``; the proxy's own refusals then come back as HTTP
    answers (``forwarded_answer``)."""
    t0 = time.monotonic()
    base = proxy_evidence(proxy, port, opts)
    if not _proxy_tls(log, conn, proxy, opts, "forward", t0, deadline=Deadline(opts.timeout), base=base):
        return False
    log.add("proxy", "forward", "pass", t0, f"plain HTTP goes to {proxy.address} as absolute-form requests "
            "(no CONNECT), as Go clients send it", evidence=base)
    return True


#: headers only a proxy puts on its own answer (a registry behind it sets none of them)
_PROXY_MARKS = ("x-squid-error", "proxy-authenticate", "x-cache-lookup")


def forwarded_answer(response: nhttp.HttpResponse, *, credentials_sent: bool = False,
                     proxy_address: str = "<proxy>:<port>") -> classify.Verdict | None:
    """The proxy's own answer to a forwarded request (407, or a refusal it marks as its own),
    judged as a CONNECT answer would be; None when the answer came from the registry.

    >>> from regdoctor.net.http import HttpResponse
    >>> forwarded_answer(HttpResponse(403, "Forbidden", (("x-squid-error", "ERR_ACCESS_DENIED 0"),), b"")).code
    'PROXY_DENIED'
    >>> forwarded_answer(HttpResponse(401, "Unauthorized", (("docker-distribution-api-version", "2.0"),), b""))
    """
    names = {k for k, _ in response.headers}
    if "docker-distribution-api-version" in names or response.status < 400:
        return None
    if response.status == 407 or names & set(_PROXY_MARKS):
        return classify.classify_connect_reply(response.status, response.reason, response.headers, response.body,
                                               credentials_sent=credentials_sent, proxy_address=proxy_address)
    return None


# -------------------------------------------------------------------------------------- 5. TLS


def tls(log: StepLog, conn: Connected, host: str, port: int, proxy: ProxyURL | None,
        opts: ProbeOptions) -> ssl.SSLContext | Literal["plain"] | None:
    """Layer 5: the verified handshake; on failure, the chain the server showed as evidence.
    ``"plain"``: an insecure registry that does not speak TLS, reached over plain HTTP on
    ``conn`` as its actor falls back to it."""
    log.begin("tls", "handshake", opts.timeout)
    t0 = time.monotonic()
    extra = opts.extra_trust(host, port)
    ctx = opts.tls_context(extra)
    trust = f"--ca {opts.ca_file}" if opts.ca_file else "the system trust store" + (
        f" + {', '.join(extra)}" if extra else "")
    try:
        if conn.early:
            raise ntls.spoke_first(conn.early)
        conn.sock, info = ntls.handshake(conn.sock, host, ctx, Deadline(opts.timeout))
    except TlsError as exc:
        conn.sock.close()
        chain: list[dict[str, Any]] = []
        issuer_org: str | None = None
        verify_kind = exc.info.get("verify_kind")
        if verify_kind is not None and opts.skips_verify(host, port):
            return _unverified(log, conn, host, port, proxy, opts, t0=t0, failed=exc)
        if opts.skips_verify(host, port) and proxy is None and _plain_fallback(log, conn, port, opts, t0=t0,
                                                                               failed=exc):
            return "plain"
        if verify_kind is not None:
            chain, issuer_org = _read_chain(host, port, conn.address, proxy, opts)
        v = classify.tls_failure_verdict(host, code_for(exc), exc.message, verify_kind=verify_kind, chain=chain,
                                         issuer_org=issuer_org, now=ntls.now_utc(), trust_store=trust)
        ev = {**v.evidence, "address": conn.address or (proxy.address if proxy else None), "port": port,
              "timeout_s": opts.timeout, "host_port": f"{host}:{port}" if port != 443 else host}
        if exc.kind == "not_tls":
            ev["peer_speaks"] = _plain_http_probe(host, port, conn.address, proxy, opts)
        if ev.get("intercepted"):
            log.add("tls", "issuer", "warn", t0, f"issuer {ev.get('issuer')} is not this registry's usual CA",
                    Code.TLS_INTERCEPTED, ev)
        log.add("tls", "handshake", "fail", t0, v.summary, v.code, ev)
        return None
    log.verdict("tls", "handshake", t0, tls_ok(host, info, trust))
    return ctx


def _unverified(log: StepLog, conn: Connected, host: str, port: int, proxy: ProxyURL | None, opts: ProbeOptions, *,
                t0: float, failed: TlsError) -> ssl.SSLContext | None:
    """The actor does not verify this registry's certificate (``check --as``): neither does the
    check, on a fresh connection; the note says what verification would have said."""
    ctx = opts.tls_context(verify=False)
    deadline = Deadline(opts.timeout)
    try:
        conn.sock = dial(host, port, conn.address, proxy, opts, deadline)
        conn.sock, info = ntls.handshake(conn.sock, host, ctx, deadline)
    except NetError as exc:
        log.add("tls", "handshake", "fail", t0, f"{exc.message} (without verification, as the actor connects)",
                code_for(exc), {**exc.info, "address": conn.address, "port": port, "timeout_s": opts.timeout})
        return None
    host_port = host if port == 443 else f"{host}:{port}"
    log.add("tls", "handshake", "pass", t0, f"{info.version}, not verified: {host_port} is insecure in the actor's "
            f"configuration ({failed.message})", Code.TLS_VERIFY_SKIPPED,
            {"host_port": host_port, "verify_error": failed.message, "version": info.version,
             "chain": [c.as_dict() for c in info.chain], "verified": False})
    return ctx


def _plain_fallback(log: StepLog, conn: Connected, port: int, opts: ProbeOptions, *, t0: float,
                   failed: TlsError) -> bool:
    """An insecure registry whose HTTPS fails: docker (an ``http://`` endpoint after the
    ``https://`` one) and containers/image (``insecure``: ping over http when https fails) try plain
    HTTP next, so the check does too, on a fresh connection. Behind a proxy the plain request
    would be forwarded instead: not attempted (the TLS failure stands)."""
    if conn.address is None:
        return False
    try:
        conn.sock = ntcp.connect(conn.address, port, Deadline(opts.timeout))
    except NetError:
        return False
    conn.early = b""
    log.add("tls", "handshake", "pass", t0, f"no TLS ({failed.message}): plain HTTP, as the actor falls back for "
            "an insecure registry", Code.TLS_PLAIN_HTTP_FALLBACK,
            {"host_port": f"{conn.address}:{port}", "tls_error": failed.message, "port": port})
    return True


def tls_ok(host: str, info: ntls.TlsInfo, trust: str) -> classify.Verdict:
    """What a verified handshake still says: interception by a trusted inspection CA, expiry soon."""
    chain = [c.as_dict() for c in info.chain]
    ev: dict[str, Any] = {"version": info.version, "cipher": info.cipher, "sni": info.sni, "alpn": info.alpn,
                          "chain": chain, "trust_store": trust, "verified": info.verified}
    leaf = info.chain[0] if info.chain else None
    summary = f"{info.version}, {classify.summarize_chain(chain)}"
    if leaf is None:
        return classify.Verdict("pass", None, summary, ev)
    ev.update(subject=leaf.subject, issuer=leaf.issuer, not_after=leaf.not_after)
    inter = classify.interception(host, leaf.issuer if len(info.chain) < 2 else info.chain[-1].issuer,
                                  leaf.issuer_org)
    if inter is not None:
        ev.update(inter)
        return classify.Verdict("warn", Code.TLS_INTERCEPTED, summary + " — not this registry's usual CA", ev)
    _, days = classify.certificate_window(leaf.not_before, leaf.not_after, ntls.now_utc())
    if days < 14:
        ev["days_left"] = days
        return classify.Verdict("warn", Code.TLS_EXPIRES_SOON, summary + f" — expires in {days} days", ev)
    return classify.Verdict("pass", None, summary, ev)


def _read_chain(host: str, port: int, address: str | None, proxy: ProxyURL | None,
                opts: ProbeOptions) -> tuple[list[dict[str, Any]], str | None]:
    """Second, unverified handshake only to read the chain the server shows (evidence)."""
    deadline = Deadline(opts.timeout)
    try:
        sock = dial(host, port, address, proxy, opts, deadline)
    except NetError:
        return [], None
    try:
        ssock, info = ntls.handshake(sock, host, opts.tls_context(verify=False), deadline)
        ssock.close()
    except TlsError:
        sock.close()
        return [], None
    return [c.as_dict() for c in info.chain], (info.chain[0].issuer_org if info.chain else None)


def _plain_http_probe(host: str, port: int, address: str | None, proxy: ProxyURL | None,
                      opts: ProbeOptions) -> str:
    """What a peer that is not TLS speaks: try one plain-HTTP ``GET /v2/`` (evidence only)."""
    deadline = Deadline(min(opts.timeout, 3.0))
    try:
        sock = dial(host, port, address, proxy, opts, deadline)
    except NetError:
        return "something that is not TLS"
    try:
        r = nhttp.request(sock, "GET", authority(host, port, "http"), "/v2/", deadline, user_agent=opts.user_agent)
    except HttpError:
        return "something that is neither TLS nor HTTP"
    finally:
        sock.close()
    api = r.header("docker-distribution-api-version")
    return f"plain HTTP (HTTP/1.1 {r.status} {r.reason}{', ' + api if api else ''})"


# ------------------------------------------------------------------------------------- 6. HTTP


def http(log: StepLog, conn: Connected, host_header: str, path: str, opts: ProbeOptions,
         check: Callable[[nhttp.HttpResponse], classify.Verdict], headers: list[tuple[str, str]], *,
         base: dict[str, Any], method: str = "GET", body: bytes = b"") -> nhttp.HttpResponse | None:
    """Layer 6: one request (``GET path`` unless told) on the stream; its answer judged by
    ``check``. ``base`` is the step's context (address, port, the path as shown without secrets)."""
    log.begin("http", f"{method} {base['path']}", opts.timeout)
    t0 = time.monotonic()
    name = f"{method} {base['path']}"
    try:
        if conn.early:
            early = ntls.spoke_first(conn.early)
            raise HttpMalformed(early.message.replace("TLS handshake", "request"), **early.info)
        response = nhttp.request(conn.sock, method, host_header, path, Deadline(opts.timeout), headers,
                                 user_agent=opts.user_agent, body=body)
    except HttpError as exc:
        log.add("http", name, "fail", t0, exc.message, code_for(exc),
                {**base, **exc.info, "http_error": exc.message, "received_bytes": exc.info.get("received", 0),
                 "during": "the HTTP request"})
        return None
    finally:
        conn.sock.close()
    # time to the response head: blackbox_exporter's "processing" phase (serve's metrics)
    timing = {"first_byte_ms": round(response.head_s * 1000, 1)} if response.head_s is not None else {}
    log.verdict("http", name, t0, check(response), **base, **timing)
    return response


__all__ = [
    "Connected",
    "ProxyPlan",
    "connect_direct",
    "connect_proxy",
    "decide_proxy",
    "forward",
    "forwarded_answer",
    "http",
    "is_ip",
    "observe_dns",
    "proxy_evidence",
    "resolve",
    "tls",
    "tls_ok",
    "tunnel",
]
