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

from regdoctor.net import Deadline, ProxyStatus
from regdoctor.net import dns as ndns
from regdoctor.net import http as nhttp
from regdoctor.net import proxy as nproxy
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
         deadline: Deadline) -> socket.socket:
    """TCP to ``address``, or TCP (+TLS) to the proxy and a CONNECT tunnel to ``host:port``."""
    if proxy is None:
        if address is None:
            raise ValueError("dial needs an address when there is no proxy")
        return ntcp.connect(address, port, deadline)
    paddr = ndns.system_resolve(proxy.host, proxy.port, deadline)[0]
    sock = ntcp.connect(paddr, proxy.port, deadline)
    try:
        if proxy.scheme == "https":
            sock, _ = ntls.handshake(sock, proxy.host, ntls.make_context(opts.ca_file), deadline)
        auth = nproxy.basic_auth(proxy.username, proxy.password or "") if proxy.username else None
        reply = nproxy.connect_tunnel(sock, host, port, deadline, auth, opts.user_agent)
    except BaseException:
        sock.close()
        raise
    if not 200 <= reply.status < 300:
        sock.close()
        raise ProxyStatus(f"proxy answered CONNECT with {reply.status} {reply.reason}", peer=proxy.address,
                          status=reply.status)
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

    @property
    def host_header(self) -> str:
        return authority(self.host, self.port, self.scheme)

    def open(self, deadline: Deadline) -> socket.socket:
        """A new connection through the same path; raises ``NetError`` subclasses."""
        sock = dial(self.host, self.port, self.address, self.proxy, self.opts, deadline)
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
            return nhttp.request(sock, method, self.host_header, target, deadline, headers or [],
                                 max_body=max_body, user_agent=self.opts.user_agent, body=body)
        finally:
            sock.close()


__all__ = ["Route", "authority", "dial"]
