"""The layers for one host: DNS → proxy decision → TCP → proxy CONNECT → TLS → HTTP.

Strategy
--------
Each layer (``probe.layers``) runs with its own deadline (``ProbeOptions.timeout``) and is
recorded as a ``Step``. The first failing layer ends the walk: the layers behind it are
recorded as SKIP with the reason, never as PASS (SPEC "Honest"). So a blackholed endpoint
costs its deadline once.

``net`` raises; the layer functions catch its typed exceptions and turn them into steps via
``probe.errors`` and the pure verdicts of ``regdoctor.classify``. Nothing above ``probe/`` sees
a network exception.

A successful walk leaves a ``Route``: how to open a fresh, ready stream (same address, same
proxy, same TLS settings) for the registry flow's further requests (token, manifest, blob).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from regdoctor import classify
from regdoctor.model import EndpointResult, Role
from regdoctor.net import http as nhttp
from regdoctor.probe import layers
from regdoctor.probe.options import USER_AGENT, ProbeOptions
from regdoctor.probe.route import Route, authority
from regdoctor.probe.steps import StepLog

# the names other modules import from here
decide_proxy = layers.decide_proxy


def probe_endpoint(
    host: str,
    port: int,
    role: Role,
    opts: ProbeOptions,
    *,
    origin: str = "",
    parent: str | None = None,
    path: str = "/v2/",
    http_check: Callable[[nhttp.HttpResponse], classify.Verdict] | None = None,
    request_headers: list[tuple[str, str]] | None = None,
    shown_path: str | None = None,
    method: str = "GET",
    body: bytes = b"",
) -> tuple[EndpointResult, Route | None, nhttp.HttpResponse | None]:
    """Walk every layer for ``host:port``; return the steps, a route if all passed, and the
    HTTP response of ``GET path`` if one came back. ``shown_path`` replaces ``path`` in the
    recorded steps when the real one carries secrets (a signed redirect URL); ``parent`` is the
    endpoint whose answer sent the check here (a realm's or data host's registry)."""
    log = StepLog(observer=opts.observer, where=(host, port, role))
    shown = shown_path or path
    scheme = "http" if opts.plain_http else "https"

    def result() -> EndpointResult:
        return EndpointResult(host=host, port=port, role=role, scheme=scheme, steps=tuple(log.steps), origin=origin,
                              parent=parent)

    plan = layers.decide_proxy(host, port, opts, scheme)
    proxy = plan.proxy
    if plan.step.status == "fail":
        # an unusable proxy setting fails the request before any lookup or dial (Go's transport
        # asks its Proxy func first; requests and urllib parse the proxy URL first)
        log.skip("dns", "resolve", "not looked up: the client stops at its unusable proxy setting")
        addresses: list[str] = []
    else:
        addresses = layers.resolve(log, host, port, opts, proxied=proxy is not None)
    log.verdict("proxy", "decide", time.monotonic(), plan.step)
    conn = None
    if not log.done:
        conn = layers.connect_proxy(log, proxy, opts) if proxy is not None else \
            layers.connect_direct(log, addresses, port, opts)
    # an https registry is tunnelled through the proxy (CONNECT); a plain-HTTP one is forwarded
    # (a SOCKS5 proxy carries any stream: plain HTTP goes through its CONNECT too)
    forwarded = proxy is not None and scheme == "http" and not proxy.socks
    if conn is not None and proxy is not None and not (
            layers.forward(log, conn, proxy, port, opts) if forwarded else
            layers.tunnel(log, conn, proxy, host, port, opts)):
        conn.sock.close()
        conn = None
    if conn is None:
        _skip_rest(log, scheme, shown, proxied=proxy is not None)
        return result(), None, None
    ctx = None
    if scheme == "https":
        secured = layers.tls(log, conn, host, port, proxy, opts)
        if secured is None:
            log.skip("http", f"GET {shown}")
            return result(), None, None
        if secured == "plain":
            scheme = "http"  # check --as: an insecure registry the actor reaches over plain HTTP
        else:
            ctx = secured
    else:
        log.skip("tls", "handshake", "plain HTTP requested (--plain-http)")
    route = Route(host=host, port=port, scheme=scheme, address=conn.address, proxy=proxy, ctx=ctx, opts=opts,
                  forwarded=forwarded)
    base = {"address": conn.address or (proxy.address if proxy else None), "port": port, "path": shown,
            "timeout_s": opts.timeout, "tls_note": " and TLS handshake" if scheme == "https" else ""}
    if forwarded and proxy is not None:  # the proxy may answer itself: its evidence, as for CONNECT
        base.update(layers.proxy_evidence(proxy, port, opts))
    own = http_check or (lambda r: classify.classify_v2(r.status, r.reason, r.headers, r.body, path=shown))

    def check(r: nhttp.HttpResponse) -> classify.Verdict:
        if forwarded and proxy is not None:
            answer = layers.forwarded_answer(r, credentials_sent=proxy.username is not None,
                                             proxy_address=proxy.address)
            if answer is not None:
                return answer
        return own(r)

    response = layers.http(log, conn, route.host_header, route.target(path), opts, check,
                           [*(request_headers or []), *route.proxy_headers()], base=base, method=method,
                           body=body)
    return result(), (None if log.done else route), response


def _skip_rest(log: StepLog, scheme: str, shown: str, *, proxied: bool) -> None:
    """Mark every layer that did not run as SKIP, after the one that failed."""
    ran = {(s.layer, s.name) for s in log.steps}
    if not any(layer == "tcp" for layer, _ in ran):
        log.skip("tcp", "connect proxy" if proxied else "connect")
    if proxied and ("proxy", "CONNECT") not in ran:
        log.skip("proxy", "CONNECT")
    if scheme == "https":
        log.skip("tls", "handshake")
    log.skip("http", f"GET {shown}")  # the skip names the default request


__all__ = ["USER_AGENT", "ProbeOptions", "Route", "authority", "decide_proxy", "probe_endpoint"]
