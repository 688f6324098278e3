"""One HTTP/1.1 exchange with h11 on a stream we already own (plain TCP, tunnel or TLS).

Strategy
--------
Using our own stream instead of an HTTP library keeps every layer observable: by the time we
get here DNS, TCP, the proxy and TLS have each been recorded, so a failure here is an HTTP
failure. h11 enforces the head-size bound (endless headers end as ``too_large``); we enforce
the body bound and the deadline on every ``recv`` (a slow drip cannot outlive it). A body cut
by either bound is returned with ``truncated=True``: the head is already the answer.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence
from dataclasses import dataclass

import h11

from regdoctor.net import Deadline, HttpClosed, HttpMalformed, HttpReset, HttpTimeout, HttpTooLarge

MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool = False

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


def request(
    sock: socket.socket,
    method: str,
    host_header: str,
    target: str,
    deadline: Deadline,
    headers: Sequence[tuple[str, str]] = (),
    max_body: int = 64 * 1024,
    user_agent: str = "regdoctor",
) -> HttpResponse:
    """Send one request and read its response within the deadline."""
    conn = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    all_headers = [("Host", host_header), ("User-Agent", user_agent), ("Accept-Encoding", "identity"),
                   ("Connection", "close"), *headers]
    try:
        sock.settimeout(max(deadline.remaining(), 0.001))
        sock.sendall(conn.send(h11.Request(method=method, target=target, headers=all_headers)) or b"")
        sock.sendall(conn.send(h11.EndOfMessage()) or b"")
    except TimeoutError:
        raise HttpTimeout("sending the request timed out", got_response=False) from None
    except ConnectionResetError as exc:
        raise HttpReset("connection reset by peer while sending the request", errno=exc.errno) from None
    except OSError as exc:
        raise HttpClosed(f"the connection closed while sending the request: {exc}", errno=exc.errno) from None

    response: h11.Response | None = None
    body = bytearray()
    truncated = False
    received = 0
    head = bytearray()
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            if response is not None:
                truncated = True
                break
            # h11 marks an over-long head with the status a server would answer (431), not in words
            cls = HttpTooLarge if exc.error_status_hint == 431 else HttpMalformed
            raise cls(f"invalid HTTP response: {exc}", received=received) from None
        if event is h11.NEED_DATA:
            if deadline.expired():
                if response is not None:
                    truncated = True
                    break
                raise HttpTimeout("no response headers before the deadline", received=received)
            try:
                sock.settimeout(max(deadline.remaining(), 0.001))
                chunk = sock.recv(65536)
            except TimeoutError:
                if response is not None:
                    truncated = True
                    break
                raise HttpTimeout("no response headers before the deadline", received=received) from None
            except ConnectionResetError as exc:
                if response is not None:
                    truncated = True
                    break
                raise HttpReset("connection reset by peer before a response", errno=exc.errno,
                                received=received) from None
            except OSError as exc:
                if response is not None:
                    truncated = True
                    break
                raise HttpClosed(f"reading the response failed: {exc}", errno=exc.errno, received=received) from None
            if received < 80:
                head += chunk[: 80 - received]
            received += len(chunk)
            if not chunk and response is None:
                if received:
                    # bytes came back, but not an HTTP response: say what they were
                    shown = head.decode("latin-1").encode("unicode_escape").decode("ascii")
                    raise HttpMalformed(f"the server answered {shown!r} (not HTTP) and closed",
                                        received=received, first_bytes=shown)
                raise HttpClosed("the server closed the connection without a response", received=received)
            conn.receive_data(chunk)
            continue
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            response = event
            continue
        if isinstance(event, h11.Data):
            room = max_body - len(body)
            if room > 0:
                body += event.data[:room]
            if len(event.data) > room:
                truncated = True
                break
            continue
        if isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    if response is None:  # pragma: no cover - the loop only leaves with a response
        raise HttpClosed("no response")
    return HttpResponse(
        status=response.status_code,
        reason=response.reason.decode("latin-1"),
        headers=tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in response.headers),
        body=bytes(body),
        truncated=truncated,
    )


__all__ = ["HttpResponse", "request"]
