"""The exporter's HTTP endpoint (``regdoctor serve``): stdlib ``http.server``, threaded but bounded.

It lives in ``net/`` because it is the one listening socket regdoctor opens: every socket is here.

``ThreadingHTTPServer`` starts a thread per connection without limit; a scrape storm or a client
that opens connections and never speaks would grow that without bound. Here at most
``max_handlers`` requests are served at once (more are closed at once: Prometheus retries on its
next scrape), each connection has a read timeout, requests are GET/HEAD only, and nothing is
logged per request (stdout carries the JSON report lines).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def json_answer(doc: Any, status: int = 200) -> Answer:
    return Answer(status, "application/json; charset=utf-8",
                  (json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n").encode())


Route = Callable[[str], Answer]  # Accept header -> answer


class BoundedServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 16

    def __init__(self, address: tuple[str, int], routes: dict[str, Route], max_handlers: int = 8,
                 read_timeout: float = 10.0) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.routes = routes
        self._slots = threading.BoundedSemaphore(max_handlers)
        handler = type("_TimedHandler", (_Handler,), {"timeout": read_timeout})  # per-connection read timeout
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # full: close now rather than queue without bound
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: BoundedServer
    protocol_version = "HTTP/1.1"
    server_version = "regdoctor"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self, head_only: bool) -> None:
        path = self.path.split("?", 1)[0]
        route = self.server.routes.get(path)
        if route is None:
            ans = Answer(404, "text/plain; charset=utf-8",
                         ("not found; try " + ", ".join(sorted(self.server.routes)) + "\n").encode())
        else:
            ans = route(self.headers.get("Accept", ""))
        self.send_response(ans.status)
        self.send_header("Content-Type", ans.content_type)
        self.send_header("Content-Length", str(len(ans.body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head_only:
            self.wfile.write(ans.body)

    def do_GET(self) -> None:
        self._answer(head_only=False)

    def do_HEAD(self) -> None:
        self._answer(head_only=True)
