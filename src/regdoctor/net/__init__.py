"""The only package that opens sockets.

Strategy
--------
Each layer of a connection is its own small module, so every layer is observed separately and
fails with its own exception: ``dns`` resolves, ``tcp`` connects, ``proxy`` sends CONNECT on an
open socket, ``tls`` wraps a socket, ``http`` speaks one request/response with h11 on whatever
stream it is given. Every call takes a ``Deadline``; no call can block past it.

Exception tree (every class carries the evidence a finding needs as attributes)::

    NetError
    ├── DnsError            .kind: nxdomain | nodata | servfail | refused | timeout | unreachable
    │                              | system (getaddrinfo failed)
    ├── TcpError            .kind: refused | timeout | host_unreachable | net_unreachable | reset
    │                              | other
    ├── ProxyError          .kind: closed | timeout | not_http | bad_url
    ├── TlsError            .kind: verify | timeout | closed | reset | not_tls | failed
    └── HttpError           .kind: timeout | closed | reset | protocol | too_large

``probe/`` catches these and records an observation; nothing above ``probe/`` sees them.
"""

from __future__ import annotations

import time
from typing import Any


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


class NetError(Exception):
    """Base of every network failure; ``kind`` says which, ``info`` carries evidence."""

    layer = "net"

    def __init__(self, kind: str, message: str, **info: Any) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.info: dict[str, Any] = info


class DnsError(NetError):
    layer = "dns"


class TcpError(NetError):
    layer = "tcp"


class ProxyError(NetError):
    layer = "proxy"


class TlsError(NetError):
    layer = "tls"


class HttpError(NetError):
    layer = "http"


__all__ = ["Deadline", "DnsError", "HttpError", "NetError", "ProxyError", "TcpError", "TlsError"]
