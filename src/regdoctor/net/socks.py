"""The SOCKS5 hop: ask a SOCKS5 server (RFC 1928) on an open socket for a TCP stream to ``host:port``.

Strategy
--------
As Go's client (golang.org/x/net/proxy) does it: offer "no authentication" and, when the proxy URL
holds a user, username/password (RFC 1929); send CONNECT with the host *name* unless it is an IP
literal (Go resolves nothing itself for ``socks5://`` or ``socks5h://``); read the reply and its bound
address whole, so the stream after it belongs to the tunnel. A refusal is returned as the status an
HTTP proxy would answer CONNECT with (``regdoctor.kb.socks``), so one classifier judges both. Every
read has the deadline; a peer that is silent, closes, or answers bytes that are no SOCKS5 reply
raises the same errors as the HTTP proxy hop.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import unquote

from regdoctor.kb.socks import AUTH_FAILURES, AUTH_STATUS, REPLIES, UNKNOWN_REPLY_STATUS
from regdoctor.net import Deadline, ProxyClosed, ProxyError, ProxyNoResponse, ProxyNotHttp, peer_of

_NO_AUTH, _USER_PASS, _NO_ACCEPTABLE = 0x00, 0x02, 0xFF
_CONNECT = 0x01
_IPV4, _DOMAIN, _IPV6 = 0x01, 0x03, 0x04


@dataclass(frozen=True)
class SocksReply:
    """The server's answer: 0 granted; else its REP (or -1: credentials refused) and the status it equals."""

    rep: int
    status: int
    reason: str
    bound: str = ""


def socks5_connect(sock: socket.socket, host: str, port: int, deadline: Deadline,
                   username: str | None = None, password: str | None = None) -> SocksReply:
    """Open a SOCKS5 tunnel to ``host:port`` over ``sock``; a refusal is returned, not raised.

    Raises ``ProxyNoResponse`` when the server stays silent past the deadline, ``ProxyClosed`` when it
    closes or resets, ``ProxyNotHttp`` when its bytes are no SOCKS5 (an HTTP proxy's answer, TLS…).
    """
    peer = peer_of(sock)
    where = f"socks connect {host}:{port}"
    methods = bytes([_NO_AUTH, _USER_PASS]) if username else bytes([_NO_AUTH])
    _send(sock, bytes([5, len(methods)]) + methods, deadline, where, peer)
    ver, method = _recv(sock, 2, deadline, where, peer)
    if ver != 5:
        raise ProxyNotHttp(f"{where}: the proxy's answer is not SOCKS5 (first bytes {bytes([ver, method])!r})",
                           peer=peer)
    if method == _NO_ACCEPTABLE or (method == _USER_PASS and not username) or method not in (_NO_AUTH, _USER_PASS):
        return SocksReply(-1, AUTH_STATUS, AUTH_FAILURES[1])
    if method == _USER_PASS:
        user, pw = unquote(username or "").encode()[:255], unquote(password or "").encode()[:255]
        _send(sock, bytes([1, len(user)]) + user + bytes([len(pw)]) + pw, deadline, where, peer)
        _, status = _recv(sock, 2, deadline, where, peer)
        if status != 0:
            return SocksReply(-1, AUTH_STATUS, AUTH_FAILURES[0])
    _send(sock, bytes([5, _CONNECT, 0]) + _address(host) + port.to_bytes(2, "big"), deadline, where, peer)
    ver, rep, _, atyp = _recv(sock, 4, deadline, where, peer)
    if ver != 5:
        raise ProxyNotHttp(f"{where}: the reply to CONNECT is not SOCKS5", peer=peer)
    if atyp == _IPV4:
        raw = _recv(sock, 4 + 2, deadline, where, peer)
        bound = f"{ipaddress.IPv4Address(raw[:4])}:{int.from_bytes(raw[4:], 'big')}"
    elif atyp == _IPV6:
        raw = _recv(sock, 16 + 2, deadline, where, peer)
        bound = f"[{ipaddress.IPv6Address(raw[:16])}]:{int.from_bytes(raw[16:], 'big')}"
    elif atyp == _DOMAIN:
        (n,) = _recv(sock, 1, deadline, where, peer)
        raw = _recv(sock, n + 2, deadline, where, peer)
        bound = f"{raw[:n].decode('ascii', 'replace')}:{int.from_bytes(raw[n:], 'big')}"
    else:
        raise ProxyNotHttp(f"{where}: the reply names an unknown address type {atyp}", peer=peer)
    if rep == 0:
        return SocksReply(0, 200, "succeeded", bound)
    text, status = REPLIES.get(rep, (f"unknown code: {rep}", UNKNOWN_REPLY_STATUS))
    return SocksReply(rep, status, text, bound)


def _address(host: str) -> bytes:
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        try:
            name = host.encode("idna")[:255]
        except UnicodeError:  # a name IDNA refuses (an empty or over-long label): sent as it is, the proxy judges
            name = host.encode("ascii", "replace")[:255]
        return bytes([_DOMAIN, len(name)]) + name
    return bytes([_IPV4 if ip.version == 4 else _IPV6]) + ip.packed


def _send(sock: socket.socket, data: bytes, deadline: Deadline, where: str, peer: str | None) -> None:
    try:
        sock.settimeout(max(deadline.remaining(), 0.001))
        sock.sendall(data)
    except TimeoutError:
        raise ProxyNoResponse(f"{where}: i/o timeout", peer=peer) from None
    except OSError as exc:
        raise _closed(exc, where, peer) from None


def _recv(sock: socket.socket, n: int, deadline: Deadline, where: str, peer: str | None) -> bytes:
    """Exactly ``n`` bytes before the deadline (a SOCKS5 message is at most 262 bytes: no size risk)."""
    buf = b""
    while len(buf) < n:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise ProxyNoResponse(f"{where}: i/o timeout", peer=peer)
        try:
            sock.settimeout(remaining)
            chunk = sock.recv(n - len(buf))
        except TimeoutError:
            raise ProxyNoResponse(f"{where}: i/o timeout", peer=peer) from None
        except OSError as exc:
            raise _closed(exc, where, peer) from None
        if not chunk:
            raise ProxyClosed(f"{where}: EOF", peer=peer)
        buf += chunk
    return buf


def _closed(exc: OSError, where: str, peer: str | None) -> ProxyError:
    return ProxyClosed(f"{where}: {exc.strerror or exc}".lower(), errno=exc.errno, peer=peer,
                       reset=isinstance(exc, ConnectionResetError))



__all__ = ["SocksReply", "socks5_connect"]
