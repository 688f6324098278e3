"""A proven path to an endpoint: how to open a fresh, ready stream for the next request.

The endpoint walk (``probe.endpoint``) records every layer as its own step; once they all
passed, the registry flow needs more requests on the same path (token, manifest, blob). A
``Route`` re-dials exactly what was proven — the same address or the same proxy, the same TLS
settings — and raises ``net`` exceptions, which the flow records as steps of its own.
"""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass

from regdoctor.net import Deadline, HttpMalformed, ProxyStatus
from regdoctor.net import dns as ndns
from regdoctor.net import http as nhttp
from regdoctor.net import proxy as nproxy
from regdoctor.net import socks as nsocks
from regdoctor.net import tcp as ntcp
from regdoctor.net import tls as ntls
from regdoctor.probe.options import ProbeOptions
from regdoctor.proxyconf.rules import ProxyURL


def authority(host: str, port: int, scheme: str) -> str:
    """``host`` or ``host:port`` as a Host header, a Docker config key or a certs.d name.

    >>> authority("r.io", 443, "https"), authority("r.io", 5000, "https"), authority("::1", 80, "http")
    ('r.io', 'r.io:5000', '[::1]')
    """
    default = 443 if scheme == "https" else 80
    h = f"[{host}]" if ":" in host else host
    return h if port == default else f"{h}:{port}"


def dial(host: str, port: int, address: str | None, proxy: ProxyURL | None, opts: ProbeOptions,
         deadline: Deadline, scheme: str = "https", *, tunnel: bool = True) -> socket.socket:
    """TCP to ``address``, or TCP (+TLS) to the proxy and — unless ``tunnel`` is False (a
    forwarded plain-HTTP request) — a CONNECT tunnel to ``host:port``.

    Bytes that arrive on the tunnel before the client spoke cannot come from a TLS or HTTP
    server (both speak only when spoken to): the far end is not what ``scheme`` says."""
    if proxy is None:
        if address is None:
            raise ValueError("dial needs an address when there is no proxy")
        return ntcp.connect(address, port, deadline)
    paddr = ndns.system_resolve(proxy.host, proxy.port, deadline)[0]
    sock = ntcp.connect(paddr, proxy.port, deadline)
    try:
        if proxy.scheme == "https":
            sock, _ = ntls.handshake(sock, proxy.host, opts.tls_context(), deadline)
        if proxy.socks:
            # a SOCKS5 stream carries plain HTTP and TLS alike: no forwarding, nothing sent before us
            granted = nsocks.socks5_connect(sock, host, port, deadline, proxy.username, proxy.password)
            if granted.rep != 0:
                raise ProxyStatus(f"SOCKS5 proxy refused CONNECT: {granted.reason}", peer=proxy.address,
                                  status=granted.status)
            return sock
        if not tunnel:
            return sock
        auth = nproxy.basic_auth(proxy.username, proxy.password or "") if proxy.username else None
        reply = nproxy.connect_tunnel(sock, host, port, deadline, auth, opts.user_agent)
    except BaseException:
        sock.close()
        raise
    if not 200 <= reply.status < 300:
        sock.close()
        raise ProxyStatus(f"proxy answered CONNECT with {reply.status} {reply.reason}", peer=proxy.address,
                          status=reply.status)
    if reply.leftover:
        sock.close()
        early = ntls.spoke_first(reply.leftover)
        if scheme == "https":
            raise early
        raise HttpMalformed(early.message.replace("TLS handshake", "request"), **early.info)
    return sock


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
    #: plain HTTP through a proxy: requests go to the proxy in absolute form, no tunnel
    forwarded: bool = False

    @property
    def host_header(self) -> str:
        return authority(self.host, self.port, self.scheme)

    def target(self, path: str) -> str:
        """The request target: ``path``, or ``http://host[:port]path`` when forwarded to a proxy.

        >>> Route("r.io", 5000, "http", None, None, None, ProbeOptions(), forwarded=True).target("/v2/")
        'http://r.io:5000/v2/'
        """
        return f"{self.scheme}://{self.host_header}{path}" if self.forwarded else path

    def proxy_headers(self) -> list[tuple[str, str]]:
        """``Proxy-Authorization`` for a forwarded request to a proxy with credentials (only then)."""
        if self.forwarded and self.proxy is not None and self.proxy.username:
            return [("Proxy-Authorization", nproxy.basic_auth(self.proxy.username, self.proxy.password or ""))]
        return []

    def open(self, deadline: Deadline) -> socket.socket:
        """A new connection through the same path; raises ``NetError`` subclasses."""
        sock = dial(self.host, self.port, self.address, self.proxy, self.opts, deadline, self.scheme,
                    tunnel=not self.forwarded)
        if self.scheme == "https" and self.ctx is not None:
            try:
                ssock, _ = ntls.handshake(sock, self.host, self.ctx, deadline)
            except BaseException:
                sock.close()
                raise
            return ssock
        return sock

    def request(self, method: str, target: str, deadline: Deadline, headers: list[tuple[str, str]] | None = None,
                max_body: int = 64 * 1024, body: bytes = b"") -> nhttp.HttpResponse:
        """One request on a fresh connection (``Connection: close``)."""
        sock = self.open(deadline)
        try:
            return nhttp.request(sock, method, self.host_header, self.target(target), deadline,
                                 [*(headers or []), *self.proxy_headers()], max_body=max_body,
                                 user_agent=self.opts.user_agent, body=body)
        finally:
            sock.close()


__all__ = ["Route", "authority", "dial"]
