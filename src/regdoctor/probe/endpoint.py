"""The layers for one host: DNS → proxy decision → TCP → proxy CONNECT → TLS → HTTP.

Strategy
--------
Each layer runs with its own deadline (``ProbeOptions.timeout``) and is recorded as a ``Step``.
The first failing layer ends the walk: the layers behind it are recorded as SKIP with the
reason, never as PASS (SPEC "Honest"). So a blackholed endpoint costs its deadline once.

``net`` raises; this module catches the ``NetError`` subclasses and turns them into steps via
the pure verdicts of ``regdoctor.classify``. Nothing above ``probe/`` sees a network exception.

A successful walk leaves a ``Route``: how to open a fresh, ready stream (same address, same
proxy, same TLS settings) for the registry flow's further requests (token, manifest, blob).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from regdoctor import __version__, classify
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Layer, Role, Step, StepStatus
from regdoctor.net import Deadline, DnsError, HttpError, ProxyError, TcpError, TlsError
from regdoctor.net import dns as ndns
from regdoctor.net import http as nhttp
from regdoctor.net import proxy as nproxy
from regdoctor.net import tcp as ntcp
from regdoctor.net import tls as ntls
from regdoctor.proxyconf.rules import (
    ProxyURL,
    ProxyURLError,
    go_proxy_for,
    parse_proxy_url,
    python_proxy_for,
    redact_url,
)

USER_AGENT = f"regdoctor/{__version__}"


@dataclass(frozen=True)
class ProbeOptions:
    timeout: float = 5.0
    #: "none" forces a direct connection; a URL forces that proxy; None reads the environment
    proxy: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    ca_file: str | None = None
    plain_http: bool = False
    user_agent: str = USER_AGENT


@dataclass
class Route:
    """How to reach an endpoint that passed its layers; ``open()`` gives a ready stream."""

    host: str
    port: int
    scheme: str
    address: str | None
    proxy: ProxyURL | None
    ctx: ssl.SSLContext | None
    opts: ProbeOptions

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        h = f"[{self.host}]" if ":" in self.host else self.host
        return h if self.port == default else f"{h}:{self.port}"

    def open(self, deadline: Deadline) -> socket.socket:
        """A new connection through the same path; raises ``NetError`` subclasses."""
        sock = _dial(self.host, self.port, self.address, self.proxy, self.opts, deadline)
        if self.scheme == "https" and self.ctx is not None:
            try:
                sni = self.host
                ssock, _ = ntls.handshake(sock, sni, self.ctx, deadline)
            except BaseException:
                sock.close()
                raise
            return ssock
        return sock

    def request(self, method: str, target: str, deadline: Deadline, headers: list[tuple[str, str]] | None = None,
                max_body: int = 64 * 1024) -> nhttp.HttpResponse:
        """One request on a fresh connection (``Connection: close``)."""
        sock = self.open(deadline)
        try:
            return nhttp.request(sock, method, self.host_header, target, deadline, headers or [],
                                 max_body=max_body, user_agent=self.opts.user_agent)
        finally:
            sock.close()


def _is_ip(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
    except OSError:
        return False
    return True


def _dial(host: str, port: int, address: str | None, proxy: ProxyURL | None, opts: ProbeOptions,
          deadline: Deadline) -> socket.socket:
    """TCP to the address, or TCP (+TLS) to the proxy and a CONNECT tunnel."""
    if proxy is None:
        assert address is not None
        return ntcp.connect(address, port, deadline)
    paddr = ndns.system_resolve(proxy.host, proxy.port, deadline)[0]
    sock = ntcp.connect(paddr, proxy.port, deadline)
    try:
        if proxy.scheme == "https":
            sock, _ = ntls.handshake(sock, proxy.host,
                                     ntls.make_context(opts.ca_file), deadline)
        auth = nproxy.basic_auth(proxy.username, proxy.password or "") if proxy.username else None
        reply = nproxy.connect_tunnel(sock, host, port, deadline, auth, opts.user_agent)
    except BaseException:
        sock.close()
        raise
    if not 200 <= reply.status < 300:
        sock.close()
        raise ProxyError("status", f"proxy answered CONNECT with {reply.status} {reply.reason}",
                         status=reply.status)
    return sock


class _Walk:
    """Accumulates steps for one endpoint; ``done`` once a layer failed."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.failed_at: str | None = None

    def add(self, layer: Layer, name: str, status: StepStatus, t0: float, summary: str, code: Code | None = None,
            evidence: Mapping[str, Any] | None = None) -> None:
        self.steps.append(Step(layer=layer, name=name, status=status, elapsed_ms=(time.monotonic() - t0) * 1000,
                               summary=summary, code=code, evidence=dict(evidence or {})))
        if status == "fail" and self.failed_at is None:
            self.failed_at = f"{layer} {name}"

    def verdict(self, layer: Layer, name: str, t0: float, v: classify.Verdict) -> None:
        self.add(layer, name, v.status, t0, v.summary, v.code, v.evidence)

    def skip(self, layer: Layer, name: str, reason: str | None = None) -> None:
        self.steps.append(Step(layer=layer, name=name, status="skip", elapsed_ms=0.0,
                               summary=reason or f"not run: {self.failed_at} failed"))

    @property
    def done(self) -> bool:
        return self.failed_at is not None


@dataclass(frozen=True)
class ProxyPlan:
    proxy: ProxyURL | None
    step: classify.Verdict


def decide_proxy(host: str, port: int, opts: ProbeOptions) -> ProxyPlan:
    """The proxy this endpoint's traffic takes (Go's rules, or ``--proxy``) and the step for it."""
    scheme = "http" if opts.plain_http else "https"  # http URLs use HTTP_PROXY, https URLs HTTPS_PROXY
    go = go_proxy_for(opts.env, host, port, scheme=scheme)
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
        if proxy.scheme.startswith("socks"):
            ev.update(proxy=proxy.redacted, reason="SOCKS proxies are not probed by regdoctor yet")
            return ProxyPlan(None, classify.Verdict("fail", Code.PROXY_BAD_URL, "SOCKS proxy: not supported", ev))
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


def _redact(url: str | None) -> str | None:
    return None if url is None else redact_url(url)


def _resolve(host: str, port: int, deadline: Deadline) -> classify.DnsObservation:
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
    kind = None if answer is not None else (err.kind if err is not None else "timeout")
    if answer is not None and not answer.addresses:
        kind = "nodata"
    resolver = answer.nameserver if answer else (str(err.info.get("resolver")) if err and err.info.get("resolver")
                                                 else ",".join(ndns.nameservers()))
    dns_addrs = answer.addresses if answer else ()
    classes = {a: ndns.classify_address(a) for a in (*(sys_addrs or ()), *dns_addrs)}
    return classify.DnsObservation(
        host=host, system_addresses=sys_addrs, system_error=sys_err, dns_kind=kind, dns_addresses=dns_addrs,
        chain=answer.chain if answer else tuple(tuple(c) for c in (err.info.get("chain") or []) if len(c) == 2)
        if err else (), resolver=resolver, classes=classes, timeout_s=deadline.seconds)


def _local_addresses(host: str, port: int) -> list[str]:
    try:
        return ndns.system_resolve(host, port, Deadline(1.0))
    except DnsError:
        return ["127.0.0.1", "::1"]


def probe_endpoint(
    host: str,
    port: int,
    role: Role,
    opts: ProbeOptions,
    *,
    origin: str = "",
    path: str = "/v2/",
    http_check: Callable[[nhttp.HttpResponse], classify.Verdict] | None = None,
    request_headers: list[tuple[str, str]] | None = None,
    shown_path: str | None = None,
) -> tuple[EndpointResult, Route | None, nhttp.HttpResponse | None]:
    """Walk every layer for ``host:port``; return the steps, a route if all passed, and the
    HTTP response of ``GET path`` if one came back. ``shown_path`` replaces ``path`` in the
    recorded steps when the real one carries secrets (a signed redirect URL)."""
    walk = _Walk()
    real_path, path = path, shown_path or path
    scheme = "http" if opts.plain_http else "https"
    proxied_plan = decide_proxy(host, port, opts)
    proxy = proxied_plan.proxy

    # 1. DNS -----------------------------------------------------------------------------------
    t0 = time.monotonic()
    addresses: list[str] = []
    if _is_ip(host) or host == "localhost" or host.endswith(".localhost"):
        # IP literals need no lookup; localhost names never go to DNS (RFC 6761)
        addresses = [host] if _is_ip(host) else list(_local_addresses(host, port))
        walk.add("dns", "resolve", "skip", t0, f"{host}: no DNS lookup needed ({', '.join(addresses) or 'none'})",
                 evidence={"addresses": addresses,
                           "address_classes": {a: ndns.classify_address(a) for a in addresses}})
    else:
        obs = _resolve(host, port, Deadline(opts.timeout))
        v = classify.dns_verdict(obs, proxied=proxy is not None)
        walk.verdict("dns", "resolve", t0, v)
        addresses = list(obs.system_addresses or ())

    # 2. Proxy decision --------------------------------------------------------------------------
    t0 = time.monotonic()
    walk.verdict("proxy", "decide", t0, proxied_plan.step)
    if walk.done:
        for layer, name in (("tcp", "connect"), ("tls", "handshake"), ("http", f"GET {path}")):
            walk.skip(layer, name)  # type: ignore[arg-type]
        return _result(host, port, role, scheme, walk, origin), None, None

    # 3. TCP (to the registry, or to the proxy) ---------------------------------------------------
    t0 = time.monotonic()
    sock: socket.socket | None = None
    address: str | None = None  # the registry address connected to (None when proxied)
    deadline = Deadline(opts.timeout)
    if proxy is not None:
        try:
            paddrs = ndns.system_resolve(proxy.host, proxy.port, deadline)
        except DnsError as exc:
            walk.add("tcp", "connect proxy", "fail", t0, f"proxy host {proxy.host} does not resolve: {exc.message}",
                     Code.PROXY_UNRESOLVABLE, {"proxy_host": proxy.host, "dns_error": exc.info.get("error") or exc.kind,
                                            "proxy": proxy.redacted})
            paddrs = []
        if paddrs:
            try:
                sock = ntcp.connect(paddrs[0], proxy.port, deadline)
                walk.add("tcp", "connect proxy", "pass", t0, f"connected to proxy {proxy.address} ({paddrs[0]})",
                         evidence={"proxy_address": proxy.address, "address": paddrs[0]})
            except TcpError as exc:
                walk.add("tcp", "connect proxy", "fail", t0, exc.message,
                         classify.net_error_code("tcp", exc.kind, to_proxy=True),
                         {"proxy_address": proxy.address, "address": paddrs[0], "errno_text": exc.info.get(
                             "errno_text"), "timeout_s": opts.timeout, "proxy": proxy.redacted})
    else:
        attempts: list[dict[str, Any]] = []
        last: TcpError | None = None
        for i, addr in enumerate(addresses):
            # share the deadline among the remaining addresses, as Go's dialer does
            per = Deadline(max(deadline.remaining() / (len(addresses) - i), 0.05))
            try:
                sock = ntcp.connect(addr, port, per)
                attempts.append({"address": addr, "result": "connected"})
                address = addr
                break
            except TcpError as exc:
                attempts.append({"address": addr, "result": exc.kind, "error": exc.message})
                last = exc
        if sock is not None:
            walk.add("tcp", "connect", "pass", t0, f"connected to {address}:{port}",
                     evidence={"address": address, "port": port, "attempts": attempts})
        elif last is not None:
            walk.add("tcp", "connect", "fail", t0, last.message, classify.net_error_code("tcp", last.kind),
                     {"address": last.info.get("address"), "port": port, "errno_text": last.info.get("errno_text"),
                      "timeout_s": opts.timeout, "attempts": attempts, "during": "connect"})
        else:
            walk.add("tcp", "connect", "fail", t0, "no address to connect to", Code.DNS_NODATA,
                     {"resolver": "system"})

    # 4. Proxy CONNECT ---------------------------------------------------------------------------
    if proxy is not None and sock is not None:
        t0 = time.monotonic()
        deadline = Deadline(opts.timeout)
        base_ev: dict[str, Any] = {"proxy_address": proxy.address, "proxy": proxy.redacted,
                                   "auth_note": " (credentials were sent)" if proxy.username else
                                   " (no credentials in the proxy URL)", "timeout_s": opts.timeout}
        try:
            if proxy.scheme == "https":
                try:
                    sock, _ = ntls.handshake(sock, proxy.host,
                                             ntls.make_context(opts.ca_file), deadline)
                except TlsError as exc:
                    code = Code.PROXY_HTTPS_SCHEME_ON_HTTP_PROXY if exc.kind in ("not_tls", "closed") \
                        else Code.PROXY_TLS_FAILED
                    walk.add("proxy", "CONNECT", "fail", t0, f"TLS to the proxy failed: {exc.message}", code,
                             {**base_ev, "tls_error": exc.message})
                    raise _Stop from None
            auth = nproxy.basic_auth(proxy.username, proxy.password or "") if proxy.username else None
            reply = nproxy.connect_tunnel(sock, host, port, deadline, auth, opts.user_agent)
            v = classify.classify_connect_reply(reply.status, reply.reason, reply.headers, reply.body)
            v = replace(v, evidence={**base_ev, **v.evidence})
            walk.verdict("proxy", "CONNECT", t0, v)
        except ProxyError as exc:
            code = classify.net_error_code("proxy", exc.kind)
            walk.add("proxy", "CONNECT", "fail", t0, exc.message, code, base_ev)
        except _Stop:
            pass
    elif proxy is not None:
        walk.skip("proxy", "CONNECT")

    # 5. TLS -------------------------------------------------------------------------------------
    ctx: ssl.SSLContext | None = None
    if scheme == "https":
        if walk.done or sock is None:
            walk.skip("tls", "handshake")
        else:
            t0 = time.monotonic()
            ctx = ntls.make_context(opts.ca_file)
            sni = host
            trust = f"--ca {opts.ca_file}" if opts.ca_file else "the system trust store"
            try:
                sock, info = ntls.handshake(sock, sni, ctx, Deadline(opts.timeout))
                walk.verdict("tls", "handshake", t0, _tls_ok(host, info, trust))
            except TlsError as exc:
                sock.close()
                sock = None
                chain: list[dict[str, Any]] = []
                issuer_org: str | None = None
                if exc.kind == "verify":
                    chain, issuer_org = _read_chain(host, port, address, proxy, opts)
                v = classify.tls_failure_verdict(
                    host, exc.kind, exc.message, verify_kind=exc.info.get("verify_kind"), chain=chain,
                    issuer_org=issuer_org, now=ntls.now_utc(), trust_store=trust)
                ev = {**v.evidence, "address": address or (proxy.address if proxy else None), "port": port,
                      "timeout_s": opts.timeout, "host_port": f"{host}:{port}" if port != 443 else host}
                if exc.kind == "not_tls":
                    ev["peer_speaks"] = _plain_http_probe(host, port, address, proxy, opts)
                walk.add("tls", "handshake", "fail", t0, v.summary, v.code, ev)
                if ev.get("intercepted"):
                    walk.steps.insert(len(walk.steps) - 1, Step(
                        layer="tls", name="issuer", status="warn", elapsed_ms=0.0,
                        summary=f"issuer {ev.get('issuer')} is not this registry's usual CA",
                        code=Code.TLS_INTERCEPTED, evidence=ev))
    else:
        walk.skip("tls", "handshake", "plain HTTP requested (--plain-http)")

    # 6. HTTP ------------------------------------------------------------------------------------
    response: nhttp.HttpResponse | None = None
    if walk.done or sock is None:
        if sock is not None:
            sock.close()
        walk.skip("http", f"GET {path}")
        return _result(host, port, role, scheme, walk, origin), None, None
    t0 = time.monotonic()
    route = Route(host=host, port=port, scheme=scheme, address=address, proxy=proxy, ctx=ctx, opts=opts)
    base = {"address": address or (proxy.address if proxy else None), "port": port, "path": path,
            "timeout_s": opts.timeout, "tls_note": " and TLS handshake" if scheme == "https" else ""}
    try:
        response = nhttp.request(sock, "GET", route.host_header, real_path, Deadline(opts.timeout),
                                 request_headers or [], user_agent=opts.user_agent)
        v = (http_check or (lambda r: classify.classify_v2(r.status, r.reason, r.headers, r.body, path=path)))(
            response)
        walk.verdict("http", f"GET {path}", t0, replace(v, evidence={**base, **v.evidence}))
    except HttpError as exc:
        code = classify.net_error_code("http", exc.kind)
        walk.add("http", f"GET {path}", "fail", t0, exc.message, code,
                 {**base, "http_error": exc.message, "received_bytes": exc.info.get("received", 0),
                  "during": "the HTTP request"})
    finally:
        sock.close()
    return _result(host, port, role, scheme, walk, origin), (None if walk.done else route), response


class _Stop(Exception):
    """Internal: a layer already recorded its failure."""


def _result(host: str, port: int, role: Role, scheme: str, walk: _Walk, origin: str) -> EndpointResult:
    return EndpointResult(host=host, port=port, role=role, scheme=scheme, steps=tuple(walk.steps), origin=origin)


def _tls_ok(host: str, info: ntls.TlsInfo, trust: str) -> classify.Verdict:
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
        sock = _dial(host, port, address, proxy, opts, deadline)
    except (TcpError, ProxyError, TlsError, DnsError):
        return [], None
    try:
        ssock, info = ntls.handshake(sock, host, ntls.make_context(verify=False),
                                     deadline)
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
        sock = _dial(host, port, address, proxy, opts, deadline)
    except (TcpError, ProxyError, TlsError, DnsError):
        return "something that is not TLS"
    try:
        hh = host if port == 80 else f"{host}:{port}"
        r = nhttp.request(sock, "GET", hh, "/v2/", deadline, user_agent=opts.user_agent)
    except HttpError:
        return "something that is neither TLS nor HTTP"
    finally:
        sock.close()
    api = r.header("docker-distribution-api-version")
    return f"plain HTTP (HTTP/1.1 {r.status} {r.reason}{', ' + api if api else ''})"


__all__ = ["ProbeOptions", "Route", "decide_proxy", "probe_endpoint"]
