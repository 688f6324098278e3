"""The only package that opens sockets.

Strategy
--------
Each layer of a connection is its own small module, so every layer is observed separately and
fails with its own exception: ``dns`` resolves, ``tcp`` connects, ``proxy`` sends CONNECT on an
open socket, ``tls`` wraps a socket, ``http`` speaks one request/response with h11 on whatever
stream it is given. Every call takes a ``Deadline``; no call can block past it.

Exception tree. One class per phase and kind, so ``probe/`` maps a failure to a catalogue code
by its *type* in one total table (``regdoctor.probe.errors``), never by its message. Every
instance carries the ``errno`` (or ``None``), the ``peer`` it was talking to and the evidence a
finding needs in ``info``::

    NetError
    ├── DnsError
    │   ├── DnsNameInvalid          the name cannot be looked up (label > 63, name > 253, bad IDNA)
    │   ├── DnsNxdomain             the resolver answered NXDOMAIN
    │   ├── DnsNoData               NOERROR without an address record
    │   ├── DnsServfail             SERVFAIL
    │   ├── DnsRefused              REFUSED
    │   ├── DnsTimeout              no answer before the deadline
    │   ├── DnsResolverUnreachable  ICMP port unreachable from the resolver (ECONNREFUSED on UDP)
    │   ├── DnsNetworkUnreachable   no route to the resolver's network (ENETUNREACH, ENETDOWN)
    │   ├── DnsHostUnreachable      no route to the resolver host (EHOSTUNREACH, EHOSTDOWN)
    │   ├── DnsLocalPolicy          this machine refused to send the query (EPERM, EACCES)
    │   ├── DnsSocketError          any other errno (carried as evidence, never guessed)
    │   └── DnsSystemFailed         getaddrinfo() failed (its EAI_* code carried)
    ├── TcpError
    │   ├── TcpRefused              RST to the SYN (ECONNREFUSED)
    │   ├── TcpTimeout              SYN unanswered before the deadline (or ETIMEDOUT)
    │   ├── TcpHostUnreachable      EHOSTUNREACH, EHOSTDOWN (ICMP host/admin unreachable, no ARP)
    │   ├── TcpNetUnreachable       ENETUNREACH, ENETDOWN (no route, ICMP net unreachable)
    │   ├── TcpReset                accepted, then RST (ECONNRESET, ECONNABORTED, EPIPE)
    │   ├── TcpLocalPolicy          this machine refused the connect (EPERM, EACCES: local firewall)
    │   ├── TcpLocalResource        no local address/port/buffer (EADDRNOTAVAIL, EADDRINUSE, ENOBUFS…)
    │   └── TcpSocketError          any other errno (carried as evidence, never guessed)
    ├── ProxyError
    │   ├── ProxyClosed             the proxy closed or reset without answering CONNECT
    │   ├── ProxyNoResponse         the proxy stayed silent past the deadline
    │   ├── ProxyNotHttp            the proxy's answer is not HTTP
    │   └── ProxyStatus             the proxy answered CONNECT with a non-2xx status (``status``)
    ├── TlsError
    │   ├── TlsVerifyFailed         certificate verification failed (``verify_kind``, OpenSSL code)
    │   ├── TlsTimeout              the handshake did not finish before the deadline
    │   ├── TlsClosed               the peer closed during the handshake
    │   ├── TlsReset                the peer reset during the handshake
    │   ├── TlsNotTls               the peer does not speak TLS (plain HTTP, another protocol)
    │   └── TlsProtocolError        any other handshake failure (alert, no shared cipher…)
    └── HttpError
        ├── HttpTimeout             no response head before the deadline
        ├── HttpClosed              closed without a response
        ├── HttpReset               reset before a response
        ├── HttpMalformed           bytes that are not an HTTP response
        └── HttpTooLarge            a response head larger than the bound (endless headers)

``probe/`` catches these and records an observation; nothing above ``probe/`` sees them.
"""

from __future__ import annotations

import errno as _errno
import os
import time
from typing import Any, ClassVar


class Deadline:
    """A point in monotonic time; ``remaining()`` is what a blocking call may still spend."""

    __slots__ = ("_end", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    def expired(self) -> bool:
        return self.remaining() <= 0.0


def peer_of(sock: Any) -> str | None:
    """The ``host:port`` a connected socket talks to (``[v6]:port``), as evidence; None once it is gone."""
    try:
        host, port = sock.getpeername()[:2]
    except (OSError, ValueError):
        return None
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def errno_name(err: int | None) -> str | None:
    """The symbolic name of an errno, as evidence (``ENETUNREACH``), or None.

    >>> errno_name(101), errno_name(None)
    ('ENETUNREACH', None)
    """
    return _errno.errorcode.get(err) if err else None


def errno_text(err: int | None) -> str:
    """The text Go prints for an errno (``connection refused``, ``no route to host``…).

    >>> errno_text(111)
    'connection refused'
    """
    return os.strerror(err).lower() if err else "unknown error"


class NetError(Exception):
    """Base of every network failure. ``kind`` names the leaf class for evidence and logs."""

    layer: ClassVar[str] = "net"
    kind: ClassVar[str] = "error"

    def __init__(self, message: str, *, errno: int | None = None, peer: str | None = None, **info: Any) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno
        self.peer = peer
        self.info: dict[str, Any] = info
        if errno is not None:
            self.info.setdefault("errno", errno)
            self.info.setdefault("errno_name", errno_name(errno))
        if peer is not None:
            self.info.setdefault("peer", peer)


# ---------------------------------------------------------------------------------------- DNS


class DnsError(NetError):
    layer = "dns"


class DnsNameInvalid(DnsError):
    kind = "name_invalid"


class DnsNxdomain(DnsError):
    kind = "nxdomain"


class DnsNoData(DnsError):
    kind = "nodata"


class DnsServfail(DnsError):
    kind = "servfail"


class DnsRefused(DnsError):
    kind = "refused"


class DnsTimeout(DnsError):
    kind = "timeout"


class DnsResolverUnreachable(DnsError):
    kind = "unreachable"


class DnsNetworkUnreachable(DnsError):
    kind = "net_unreachable"


class DnsHostUnreachable(DnsError):
    kind = "host_unreachable"


class DnsLocalPolicy(DnsError):
    kind = "local_policy"


class DnsSocketError(DnsError):
    kind = "socket_error"


class DnsSystemFailed(DnsError):
    kind = "system"


# ---------------------------------------------------------------------------------------- TCP


class TcpError(NetError):
    layer = "tcp"


class TcpRefused(TcpError):
    kind = "refused"


class TcpTimeout(TcpError):
    kind = "timeout"


class TcpHostUnreachable(TcpError):
    kind = "host_unreachable"


class TcpNetUnreachable(TcpError):
    kind = "net_unreachable"


class TcpReset(TcpError):
    kind = "reset"


class TcpLocalPolicy(TcpError):
    kind = "local_policy"


class TcpLocalResource(TcpError):
    kind = "local_resource"


class TcpSocketError(TcpError):
    kind = "socket_error"


# -------------------------------------------------------------------------------------- proxy


class ProxyError(NetError):
    layer = "proxy"


class ProxyClosed(ProxyError):
    kind = "closed"


class ProxyNoResponse(ProxyError):
    kind = "timeout"


class ProxyNotHttp(ProxyError):
    kind = "not_http"


class ProxyStatus(ProxyError):
    kind = "status"


# ---------------------------------------------------------------------------------------- TLS


class TlsError(NetError):
    layer = "tls"


class TlsVerifyFailed(TlsError):
    kind = "verify"


class TlsTimeout(TlsError):
    kind = "timeout"


class TlsClosed(TlsError):
    kind = "closed"


class TlsReset(TlsError):
    kind = "reset"


class TlsNotTls(TlsError):
    kind = "not_tls"


class TlsProtocolError(TlsError):
    kind = "failed"


# --------------------------------------------------------------------------------------- HTTP


class HttpError(NetError):
    layer = "http"


class HttpTimeout(HttpError):
    kind = "timeout"


class HttpClosed(HttpError):
    kind = "closed"


class HttpReset(HttpError):
    kind = "reset"


class HttpMalformed(HttpError):
    kind = "protocol"


class HttpTlsAnswer(HttpError):
    """A plain-HTTP request answered with a TLS record: the port speaks TLS. The request failed,
    but what is missing is TLS on the client's side: the fault belongs to that layer."""

    kind = "tls_record"
    layer = "tls"


class HttpTooLarge(HttpError):
    kind = "too_large"


# -------------------------------------------------------------------------- errno -> exception

#: What a connect(), send() or recv() errno means on a TCP socket. Every errno the kernel can
#: return lands somewhere: those not named here are ``TcpSocketError`` with the errno as
#: evidence, never a guess (``test_net_errors`` walks ``errno.errorcode``).
_TCP_ERRNO: dict[int, type[TcpError]] = {
    _errno.ECONNREFUSED: TcpRefused,
    _errno.ETIMEDOUT: TcpTimeout,
    _errno.EHOSTUNREACH: TcpHostUnreachable,
    _errno.EHOSTDOWN: TcpHostUnreachable,
    _errno.ENETUNREACH: TcpNetUnreachable,
    _errno.ENETDOWN: TcpNetUnreachable,
    _errno.ECONNRESET: TcpReset,
    _errno.ECONNABORTED: TcpReset,
    _errno.EPIPE: TcpReset,
    _errno.EPERM: TcpLocalPolicy,
    _errno.EACCES: TcpLocalPolicy,
    _errno.EADDRNOTAVAIL: TcpLocalResource,
    _errno.EADDRINUSE: TcpLocalResource,
    _errno.ENOBUFS: TcpLocalResource,
    _errno.ENOMEM: TcpLocalResource,
    _errno.EMFILE: TcpLocalResource,
    _errno.ENFILE: TcpLocalResource,
    _errno.EAFNOSUPPORT: TcpLocalResource,
}

#: The same for the UDP socket a DNS query goes out on (connected, so ICMP errors surface).
_DNS_ERRNO: dict[int, type[DnsError]] = {
    _errno.ECONNREFUSED: DnsResolverUnreachable,
    _errno.ETIMEDOUT: DnsTimeout,
    _errno.ENETUNREACH: DnsNetworkUnreachable,
    _errno.ENETDOWN: DnsNetworkUnreachable,
    _errno.EHOSTUNREACH: DnsHostUnreachable,
    _errno.EHOSTDOWN: DnsHostUnreachable,
    _errno.EPERM: DnsLocalPolicy,
    _errno.EACCES: DnsLocalPolicy,
}


def tcp_error_class(err: int | None) -> type[TcpError]:
    """The exception class for an errno seen on a TCP socket.

    >>> tcp_error_class(111).__name__, tcp_error_class(101).__name__, tcp_error_class(5).__name__
    ('TcpRefused', 'TcpNetUnreachable', 'TcpSocketError')
    """
    return _TCP_ERRNO.get(err or 0, TcpSocketError)


def dns_error_class(err: int | None) -> type[DnsError]:
    """The exception class for an errno seen on the DNS query's UDP socket.

    >>> dns_error_class(101).__name__, dns_error_class(111).__name__
    ('DnsNetworkUnreachable', 'DnsResolverUnreachable')
    """
    return _DNS_ERRNO.get(err or 0, DnsSocketError)


def leaf_classes(base: type[NetError] = NetError) -> list[type[NetError]]:
    """Every concrete (leaf) class of the tree below ``base``: what the code table must cover."""
    out: list[type[NetError]] = []
    stack = list(base.__subclasses__())
    while stack:
        cls = stack.pop()
        subs = cls.__subclasses__()
        if subs:
            stack.extend(subs)
        else:
            out.append(cls)
    return sorted(out, key=lambda c: c.__name__)


__all__ = [
    "Deadline",
    "DnsError",
    "DnsHostUnreachable",
    "DnsLocalPolicy",
    "DnsNameInvalid",
    "DnsNetworkUnreachable",
    "DnsNoData",
    "DnsNxdomain",
    "DnsRefused",
    "DnsResolverUnreachable",
    "DnsServfail",
    "DnsSocketError",
    "DnsSystemFailed",
    "DnsTimeout",
    "HttpClosed",
    "HttpError",
    "HttpMalformed",
    "HttpReset",
    "HttpTimeout",
    "HttpTlsAnswer",
    "HttpTooLarge",
    "NetError",
    "ProxyClosed",
    "ProxyError",
    "ProxyNoResponse",
    "ProxyNotHttp",
    "ProxyStatus",
    "TcpError",
    "TcpHostUnreachable",
    "TcpLocalPolicy",
    "TcpLocalResource",
    "TcpNetUnreachable",
    "TcpRefused",
    "TcpReset",
    "TcpSocketError",
    "TcpTimeout",
    "TlsClosed",
    "TlsError",
    "TlsNotTls",
    "TlsProtocolError",
    "TlsReset",
    "TlsTimeout",
    "TlsVerifyFailed",
    "dns_error_class",
    "errno_name",
    "errno_text",
    "leaf_classes",
    "peer_of",
    "tcp_error_class",
]
