"""Reading one HTTP message with h11 from a socket we own, under a deadline (shared by the
HTTP request and the proxy CONNECT).

Strategy
--------
Both exchanges are the same loop: send, then feed h11 what ``recv`` returns until a response
head (and, for a request, its body) is complete. What differs is only what a failure is
*called* at each layer, so the loop raises one neutral ``ReadFailure`` with a ``kind`` (and the
errno and bytes seen), and each caller maps kinds to its own typed exception in a small table.
A failure after the head arrived is not an error: the head is already the answer, so the
message comes back with ``truncated=True``. Every ``recv`` gets the deadline's remainder, and
h11 bounds the head (``max_incomplete_event_size``), so neither a silent peer, a slow drip nor
endless headers can outlive the deadline or the memory bound.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import h11

from regdoctor.net import Deadline

FailureKind = Literal["timeout", "reset", "closed", "eof", "not_http", "protocol", "too_large", "tls_record"]


class ReadFailure(Exception):  # an event of the exchange, mapped to a typed NetError by its caller
    """The exchange failed before a response head arrived (or while sending)."""

    def __init__(self, kind: FailureKind, message: str, *, errno: int | None = None, received: int = 0,
                 first_bytes: str | None = None) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message
        self.errno = errno
        self.received = received
        self.first_bytes = first_bytes


@dataclass(frozen=True)
class Message:
    """A response as read: head, (bounded) body, whether it was cut, bytes past the head."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool
    leftover: bytes = b""
    #: monotonic time the head was complete (time to first byte, for serve's phase split)
    head_at: float = 0.0


def send(sock: socket.socket, conn: h11.Connection, request: h11.Request, deadline: Deadline,
         body: bytes = b"") -> None:
    """Send a request (with ``body``, whose Content-Length the request carries) and its end;
    ``ReadFailure`` (timeout, reset, closed) if the peer will not take it."""
    try:
        sock.settimeout(max(deadline.remaining(), 0.001))
        # one write: a server that answers the head and resets at once must not turn an empty
        # second send (h11's end of a body-less request) into "reset while sending"
        data = (conn.send(request) or b"") + (conn.send(h11.Data(data=body)) or b"" if body else b"")
        sock.sendall(data + (conn.send(h11.EndOfMessage()) or b""))
    except TimeoutError:
        raise ReadFailure("timeout", "sending the request timed out") from None
    except ConnectionResetError as exc:
        raise ReadFailure("reset", "connection reset by peer while sending", errno=exc.errno) from None
    except OSError as exc:
        raise ReadFailure("closed", f"the connection closed while sending: {exc}", errno=exc.errno) from None


def _recv(sock: socket.socket, deadline: Deadline, received: int) -> bytes:
    if deadline.expired():
        raise ReadFailure("timeout", "no response before the deadline", received=received)
    try:
        sock.settimeout(max(deadline.remaining(), 0.001))
        return sock.recv(65536)
    except TimeoutError:
        raise ReadFailure("timeout", "no response before the deadline", received=received) from None
    except ConnectionResetError as exc:
        raise ReadFailure("reset", "connection reset by peer before a response", errno=exc.errno,
                          received=received) from None
    except OSError as exc:
        raise ReadFailure("closed", f"reading the response failed: {exc}", errno=exc.errno,
                          received=received) from None


def read(conn: h11.Connection, sock: socket.socket, deadline: Deadline, *, max_body: int,
         done_at_head: Callable[[h11.Response], bool] = lambda _: False) -> Message:
    """Read one response; ``done_at_head`` returns True for a head that ends the exchange (a
    2xx answer to CONNECT: what follows belongs to the tunnel and is returned as ``leftover``)."""
    response: h11.Response | None = None
    body = bytearray()
    received, head = 0, bytearray()
    truncated = False
    head_at = 0.0
    while True:
        try:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                chunk = _recv(sock, deadline, received)
                head += chunk[: max(0, 80 - received)]
                received += len(chunk)
                if not chunk and response is None:
                    _eof(head, received)
                conn.receive_data(chunk)
                continue
        except h11.RemoteProtocolError as exc:
            if response is not None:
                truncated = True
                break
            if _tls_record(head):
                raise ReadFailure("tls_record", _TLS_ANSWER, received=received) from None
            # h11 marks an over-long head with the status a server would answer (431), not in words
            raise ReadFailure("too_large" if exc.error_status_hint == 431 else "protocol", f"invalid HTTP: {exc}",
                              received=received) from None
        except ReadFailure:
            if response is None:
                raise
            truncated = True  # the head is the answer; the body was cut by the deadline or the peer
            break
        if isinstance(event, h11.Response):
            response, head_at = event, time.monotonic()
            if done_at_head(event):
                return _message(event, b"", False, conn.trailing_data[0], head_at)
        elif isinstance(event, h11.Data):
            room = max_body - len(body)
            body += event.data[: max(room, 0)]
            if len(event.data) > room:
                truncated = True
                break
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    if response is None:  # pragma: no cover - the loop leaves only with a response
        raise ReadFailure("closed", "no response", received=received)
    return _message(response, bytes(body), truncated, b"", head_at)


#: a TLS record header: content type alert (21) or handshake (22), then version 3.x
_TLS_ANSWER = "the peer answered with a TLS record: it speaks TLS on this port, not plain HTTP"


def _tls_record(head: bytes | bytearray) -> bool:
    """Do the first bytes look like a TLS record (what a TLS server sends a plain-HTTP client)?

    >>> _tls_record(b"\\x15\\x03\\x01\\x00\\x02\\x02\\x32"), _tls_record(b"HTTP/1.1 200 OK")
    (True, False)
    """
    return len(head) >= 3 and head[0] in (0x15, 0x16) and head[1] == 0x03 and head[2] <= 0x04


def _eof(head: bytearray, received: int) -> None:
    if received and _tls_record(head):
        raise ReadFailure("tls_record", _TLS_ANSWER, received=received)
    if received:
        # bytes came back, but not an HTTP response: say what they were
        shown = head.decode("latin-1").encode("unicode_escape").decode("ascii")
        raise ReadFailure("not_http", f"the peer answered {shown!r} (not HTTP) and closed", received=received,
                          first_bytes=shown)
    raise ReadFailure("eof", "the peer closed the connection without a response", received=received)


def _message(resp: h11.Response, body: bytes, truncated: bool, leftover: bytes, head_at: float) -> Message:
    return Message(status=resp.status_code, reason=resp.reason.decode("latin-1"),
                   headers=tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in resp.headers),
                   body=body, truncated=truncated, leftover=leftover, head_at=head_at)


__all__ = ["FailureKind", "Message", "ReadFailure", "read", "send"]
