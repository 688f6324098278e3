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
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import h11

from regdoctor.net import (
    Deadline,
    HttpClosed,
    HttpError,
    HttpMalformed,
    HttpReset,
    HttpTimeout,
    HttpTlsAnswer,
    HttpTooLarge,
    h11io,
)

MAX_HEAD = 64 * 1024


@dataclass(frozen=True)
class HttpResponse:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    truncated: bool = False
    #: Seconds from sending the request to the response head (blackbox's "processing" phase).
    head_s: float | None = None

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


#: what a failed exchange is called at the HTTP layer
_FAILURES: dict[h11io.FailureKind, type[HttpError]] = {
    "timeout": HttpTimeout, "reset": HttpReset, "closed": HttpClosed, "eof": HttpClosed,
    "not_http": HttpMalformed, "protocol": HttpMalformed, "too_large": HttpTooLarge, "tls_record": HttpTlsAnswer,
}


def request(
    sock: socket.socket,
    method: str,
    host_header: str,
    target: str,
    deadline: Deadline,
    headers: Sequence[tuple[str, str]] = (),
    *,
    max_body: int = 64 * 1024,
    user_agent: str = "regdoctor",
    body: bytes = b"",
) -> HttpResponse:
    """Send one request and read its response within the deadline; a body cut by ``max_body``
    or the deadline comes back with ``truncated=True`` (the head is the answer)."""
    conn = h11.Connection(our_role=h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    fields = [("Host", host_header), ("User-Agent", user_agent), ("Accept-Encoding", "identity"),
              ("Connection", "close"), *headers]
    if body or method in ("POST", "PUT", "PATCH"):
        fields.append(("Content-Length", str(len(body))))
    # values go out as UTF-8 bytes, as Go sends a string (h11 would encode str as ASCII and raise)
    all_headers = [(k.encode("ascii"), v.encode("utf-8")) for k, v in fields]
    sent_at = time.monotonic()
    try:
        h11io.send(sock, conn, h11.Request(method=method, target=target, headers=all_headers), deadline, body)
        msg = h11io.read(conn, sock, deadline, max_body=max_body)
    except h11io.ReadFailure as exc:
        info: dict[str, Any] = {"received": exc.received}
        if exc.first_bytes is not None:
            info["first_bytes"] = exc.first_bytes
        raise _FAILURES[exc.kind](exc.message, errno=exc.errno, **info) from None
    return HttpResponse(status=msg.status, reason=msg.reason, headers=msg.headers, body=msg.body,
                        truncated=msg.truncated, head_s=msg.head_at - sent_at)


__all__ = ["HttpResponse", "request"]
