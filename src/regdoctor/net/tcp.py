"""TCP connect, with the four ways it fails told apart.

refused (RST to the SYN), timeout (SYN silently dropped), host/net unreachable (ICMP or no
route), reset (accepted, then RST). The errno is the evidence; clients print it verbatim
(``connect: connection refused``), so we keep its text too.
"""

from __future__ import annotations

import errno
import os
import socket

from regdoctor.net import Deadline, TcpError

_KINDS = {
    errno.ECONNREFUSED: "refused",
    errno.EHOSTUNREACH: "host_unreachable",
    errno.EHOSTDOWN: "host_unreachable",
    errno.ENETUNREACH: "net_unreachable",
    errno.ENETDOWN: "net_unreachable",
    errno.EACCES: "host_unreachable",  # local firewall reject (admin prohibited) on some kernels
    errno.EPERM: "host_unreachable",
    errno.ECONNRESET: "reset",
    errno.ETIMEDOUT: "timeout",
}


def errno_text(err: int | None) -> str:
    """The Go-style text for an errno: ``connection refused``, ``no route to host``…"""
    return os.strerror(err).lower() if err else "unknown error"


def classify_oserror(exc: OSError) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout"
    return _KINDS.get(exc.errno or 0, "other")


def connect(address: str, port: int, deadline: Deadline) -> socket.socket:
    """Open a TCP connection to ``address:port`` (an IP literal) within the deadline."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    remaining = deadline.remaining()
    if remaining <= 0:
        sock.close()
        raise TcpError("timeout", f"no time left to connect to {address}:{port}", address=address, port=port)
    sock.settimeout(remaining)
    try:
        sock.connect((address, port))
    except OSError as exc:
        sock.close()
        kind = classify_oserror(exc)
        text = "i/o timeout" if kind == "timeout" else errno_text(exc.errno)
        raise TcpError(kind, f"dial tcp {address}:{port}: {text}", address=address, port=port,
                       errno=exc.errno, errno_text=text) from None
    return sock


__all__ = ["classify_oserror", "connect", "errno_text"]
