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

from regdoctor.net import Deadline, ProxyClosed, ProxyNoResponse, ProxyNotHttp

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
    peer = _peer(sock)
    conn = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    headers = [("Host", authority), ("User-Agent", user_agent)]
    if proxy_authorization:
        headers.append(("Proxy-Authorization", proxy_authorization))
    data = conn.send(h11.Request(method="CONNECT", target=authority, headers=headers))
    try:
        sock.settimeout(max(deadline.remaining(), 0.001))
        sock.sendall(data or b"")
        conn.send(h11.EndOfMessage())
    except TimeoutError:
        raise ProxyNoResponse("sending CONNECT timed out", peer=peer) from None
    except OSError as exc:
        raise ProxyClosed(f"proxy closed the connection while sending CONNECT: {exc}", errno=exc.errno,
                          peer=peer) from None
    response: h11.Response | None = None
    body = bytearray()
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise ProxyNotHttp(f"the proxy's answer is not HTTP: {exc}", peer=peer) from None
        if event is h11.NEED_DATA:
            if deadline.expired():
                if response is not None:
                    return _reply(response, bytes(body), b"")
                raise ProxyNoResponse("no answer to CONNECT before the deadline", peer=peer)
            sock.settimeout(max(deadline.remaining(), 0.001))
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                if response is not None:  # head received, body never ended: the head is the answer
                    return _reply(response, bytes(body), b"")
                raise ProxyNoResponse("no answer to CONNECT before the deadline", peer=peer) from None
            except ConnectionResetError as exc:
                raise ProxyClosed("the proxy reset the connection without answering CONNECT", errno=exc.errno,
                                  peer=peer, reset=True) from None
            except OSError as exc:
                raise ProxyClosed(f"reading the CONNECT answer failed: {exc}", errno=exc.errno, peer=peer) from None
            if not chunk and response is None:
                raise ProxyClosed("the proxy closed the connection without answering CONNECT", peer=peer)
            conn.receive_data(chunk)
            continue
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            response = event
            if 200 <= event.status_code < 300:
                leftover, _closed = conn.trailing_data
                return _reply(event, b"", leftover)
            continue
        if isinstance(event, h11.Data):
            if len(body) < MAX_HEAD:
                body += event.data[: MAX_HEAD - len(body)]
            continue
        if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed) and response is not None:
            return _reply(response, bytes(body), b"")
        if isinstance(event, h11.ConnectionClosed):
            raise ProxyClosed("the proxy closed the connection without answering CONNECT", peer=peer)
        if event is h11.PAUSED:  # pragma: no cover - h11 pauses only after a full message
            break
    raise ProxyClosed("the proxy's answer ended unexpectedly", peer=peer)


def _peer(sock: socket.socket) -> str | None:
    try:
        host, port = sock.getpeername()[:2]
    except (OSError, ValueError):
        return None
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _reply(resp: h11.Response, body: bytes, leftover: bytes) -> ConnectReply:
    return ConnectReply(
        status=resp.status_code,
        reason=resp.reason.decode("latin-1"),
        headers=tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in resp.headers),
        body=body,
        leftover=leftover,
    )


__all__ = ["ConnectReply", "basic_auth", "connect_tunnel"]
