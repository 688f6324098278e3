"""TCP connect, with every way it fails told apart by errno (see the tree in ``regdoctor.net``).

refused (RST to the SYN), timeout (SYN silently dropped), host/net unreachable (ICMP or no
route), reset, a local policy or resource refusal, and any other errno carried as it is. Go
clients print the errno's text verbatim (``connect: connection refused``), so it is kept too.
"""

from __future__ import annotations

import socket

from regdoctor.net import Deadline, TcpError, TcpTimeout, errno_text, tcp_error_class


def error_for(exc: OSError, address: str, port: int, what: str = "dial tcp") -> TcpError:
    """The typed error for an ``OSError`` raised by a TCP socket talking to ``address:port``.

    >>> type(error_for(ConnectionRefusedError(111, "x"), "10.0.0.1", 443)).__name__
    'TcpRefused'
    >>> error_for(TimeoutError(), "10.0.0.1", 443).message
    'dial tcp 10.0.0.1:443: i/o timeout'
    """
    peer = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
    if isinstance(exc, TimeoutError) and exc.errno is None:
        return TcpTimeout(f"{what} {peer}: i/o timeout", peer=peer, address=address, port=port,
                          errno_text="i/o timeout")
    text = errno_text(exc.errno)
    return tcp_error_class(exc.errno)(f"{what} {peer}: {text}", errno=exc.errno, peer=peer, address=address,
                                      port=port, errno_text=text)


def connect(address: str, port: int, deadline: Deadline) -> socket.socket:
    """Open a TCP connection to ``address:port`` (an IP literal) within the deadline."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    remaining = deadline.remaining()
    if remaining <= 0:
        raise error_for(TimeoutError(), address, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.settimeout(remaining)
    try:
        sock.connect((address, port))
    except OSError as exc:
        sock.close()
        raise error_for(exc, address, port) from None
    return sock


__all__ = ["connect", "error_for"]
