"""The proxy hop: send ``CONNECT host:port`` on an open socket and read the proxy's answer.

Strategy
--------
h11 frames the exchange. A CONNECT answered 2xx switches h11 to SWITCHED_PROTOCOL, after which
the socket carries the tunnel; any bytes h11 already buffered past the response head belong to
the tunnel and are returned so the TLS layer can replay them (a well-behaved proxy sends none
before the client speaks, but we do not assume it).
"""

from __future__ import annotations

import base64
import socket
from dataclasses import dataclass
from urllib.parse import unquote

import h11

from regdoctor.net import Deadline, ProxyClosed, ProxyError, ProxyNoResponse, ProxyNotHttp, h11io, peer_of

MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class ConnectReply:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    leftover: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None


def basic_auth(username: str, password: str) -> str:
    token = base64.b64encode(f"{unquote(username)}:{unquote(password)}".encode()).decode("ascii")
    return f"Basic {token}"


#: what a failed exchange is called on the proxy hop
_FAILURES: dict[h11io.FailureKind, type[ProxyError]] = {
    "timeout": ProxyNoResponse, "reset": ProxyClosed, "closed": ProxyClosed, "eof": ProxyClosed,
    "not_http": ProxyNotHttp, "protocol": ProxyNotHttp, "too_large": ProxyNotHttp, "tls_record": ProxyNotHttp,
}


def connect_tunnel(
    sock: socket.socket,
    host: str,
    port: int,
    deadline: Deadline,
    proxy_authorization: str | None = None,
    user_agent: str = "regdoctor",
) -> ConnectReply:
    """Ask the proxy on ``sock`` for a tunnel to ``host:port``; return its reply.

    A non-2xx reply is returned, not raised: it is an answer. Raises ``ProxyClosed`` when the
    proxy closes or resets without answering, ``ProxyNoResponse`` when it stays silent past the
    deadline, and ``ProxyNotHttp`` when it answers something that is not HTTP.
    """
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    peer = peer_of(sock)
    conn = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    headers = [("Host", authority), ("User-Agent", user_agent)]
    if proxy_authorization:
        headers.append(("Proxy-Authorization", proxy_authorization))
    try:
        h11io.send(sock, conn, h11.Request(method="CONNECT", target=authority, headers=headers), deadline)
        msg = h11io.read(conn, sock, deadline, max_body=MAX_HEAD, done_at_head=lambda r: 200 <= r.status_code < 300)
    except h11io.ReadFailure as exc:
        raise _FAILURES[exc.kind](f"CONNECT {authority}: {exc.message}", errno=exc.errno, peer=peer,
                                  reset=exc.kind == "reset") from None
    return ConnectReply(status=msg.status, reason=msg.reason, headers=msg.headers, body=msg.body,
                        leftover=msg.leftover)



__all__ = ["ConnectReply", "basic_auth", "connect_tunnel"]
