"""Small scripted servers on 127.0.0.1 that misbehave on demand (urllib3 dummyserver style).

Strategy
--------
A ``Server`` listens on an ephemeral loopback port (each test its own), accepts in a daemon
thread and gives every connection to a ``handle(conn)`` function in a daemon thread of its own.
A handler is built from *actions*: ``routed({...})`` reads one request head and dispatches on
its path to an action such as ``answer(200, …)`` or a hostile one (``silence()``, ``rst()``,
``endless_headers()``, ``huge_body()``, ``drip()``…). Nothing large is ever built in memory:
a 2 GB body or a 10 MB header line is streamed in 64 KiB pieces until the client hangs up.

Every connection ends at the latest after ``HOLD_SECONDS`` or when the test stops its servers
(``Server.stop`` shuts every open connection), so a forgotten client cannot pin a thread, and
every server sends only to the loopback client that connected to it.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import json
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

HOLD_SECONDS = 20.0
MAX_HEAD = 64 * 1024
PIECE = 64 * 1024
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
API_HEADER = ("Docker-Distribution-Api-Version", "registry/2.0")
LAYER = "sha256:" + "a" * 64
CONFIG = "sha256:" + "c" * 64
REPO = "lab/app"


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class Conn:
    """One accepted connection: read a request head, send bytes, close, reset."""

    def __init__(self, sock: socket.socket, server: Server) -> None:
        self.sock = sock
        self.server = server
        self.started = time.monotonic()

    @property
    def stopping(self) -> bool:
        return self.server.stopped.is_set() or time.monotonic() - self.started > HOLD_SECONDS

    def read_request(self, wait: float = 5.0) -> Request | None:
        buf = b""
        self.sock.settimeout(wait)
        while b"\r\n\r\n" not in buf and len(buf) < MAX_HEAD:
            try:
                chunk = self.sock.recv(4096)
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        head = buf.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) < 2:
            return None
        headers = tuple((k.strip(), v.strip()) for k, _, v in (ln.partition(":") for ln in lines[1:]))
        return Request(parts[0], parts[1], headers)

    def send(self, data: bytes) -> bool:
        """Send all of ``data``; False once the client is gone (or the server stops)."""
        if self.stopping:
            return False
        try:
            self.sock.settimeout(5.0)
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def wait(self, seconds: float = HOLD_SECONDS) -> None:
        """Hold the connection open, silent, until the test ends (or ``seconds`` pass)."""
        end = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < end:
            self.server.stopped.wait(0.1)

    def rst(self) -> None:
        """Close with SO_LINGER 0: the kernel answers with RST instead of FIN."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


Handle = Callable[[Conn], None]
Action = Callable[[Conn, Request], None]


class Server:
    """A listener on 127.0.0.1:<ephemeral port>; ``tls`` wraps each connection before ``handle``."""

    def __init__(self, handle: Handle, tls: ssl.SSLContext | None = None) -> None:
        self.handle = handle
        self.tls = tls
        self.stopped = threading.Event()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        self.port: int = self.listener.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.requests: list[Request] = []
        self.thread = threading.Thread(target=self._accept, name=f"hostile-{self.port}", daemon=True)
        self.thread.start()

    @property
    def authority(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "") -> str:
        return f"{'https' if self.tls else 'http'}://{self.authority}{path}"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.conns.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            if self.tls is not None:
                sock.settimeout(5.0)
                sock = self.tls.wrap_socket(sock, server_side=True)
                self.conns.append(sock)
            self.handle(Conn(sock, self))
        except (OSError, ssl.SSLError):
            pass  # the client went away: nothing to answer
        finally:
            with contextlib.suppress(OSError):
                sock.close()

    def stop(self) -> None:
        self.stopped.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        for sock in self.conns:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        self.thread.join(2.0)


# ---------------------------------------------------------------------------------- routing


def routed(routes: Sequence[tuple[str, Action]], default: Action | None = None) -> Handle:
    """Read one request and run the action of the first route that matches its path (a route
    ending in ``*`` is a prefix, any other an exact path); 404 when none does."""

    def handle(conn: Conn) -> None:
        req = conn.read_request()
        if req is None:
            return
        conn.server.requests.append(req)
        for pattern, action in routes:
            if (pattern.endswith("*") and req.path.startswith(pattern[:-1])) or req.path == pattern:
                action(conn, req)
                return
        (default or answer(404, body=b'{"errors":[{"code":"NOT_FOUND","message":"no route"}]}'))(conn, req)

    return handle


def raw(action: Callable[[Conn], None]) -> Handle:
    """A handler that does not read a request first (TLS-stage and CONNECT-stage faults)."""
    return action


# --------------------------------------------------------------------------- healthy answers


def head_bytes(status: int, headers: Iterable[tuple[str, str]], reason: str | None = None) -> bytes:
    from http import HTTPStatus

    text = reason if reason is not None else (HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_
                                              else "Whatever")
    lines = [f"HTTP/1.1 {status} {text}", *(f"{k}: {v}" for k, v in headers), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def answer(status: int, headers: Sequence[tuple[str, str]] = (), body: bytes = b"",
           ctype: str = "application/json", reason: str | None = None) -> Action:
    def act(conn: Conn, _req: Request) -> None:
        hdrs = [("Content-Type", ctype), ("Content-Length", str(len(body))), API_HEADER, ("Connection", "close"),
                *headers]
        conn.send(head_bytes(status, hdrs, reason) + body)

    return act


def json_answer(status: int, doc: Any, ctype: str = "application/json",
                headers: Sequence[tuple[str, str]] = ()) -> Action:
    return answer(status, headers, json.dumps(doc).encode(), ctype)


def redirect(location: str, status: int = 307) -> Action:
    return answer(status, [("Location", location)], b"", "text/plain")


def manifest_doc(layer: str = LAYER) -> dict[str, Any]:
    return {"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": CONFIG, "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": 1024}]}


# --------------------------------------------------------------------------- hostile actions


def silence(conn: Conn, _req: Request | None = None) -> None:
    """Accept (and read the request), then say nothing until the test ends."""
    conn.wait()


def close(conn: Conn, _req: Request | None = None) -> None:
    """Close (FIN) without a word."""
    conn.sock.close()


def rst(conn: Conn, req: Request | None = None) -> None:
    """Reset (RST) without a word, once the client has spoken (its request, or its ClientHello
    when used raw): a reset before it spoke races its first write (EPIPE or RST, by timing)."""
    if req is None:
        with contextlib.suppress(OSError):
            conn.sock.settimeout(5.0)
            conn.sock.recv(65536)
    conn.rst()


def garbage(conn: Conn, _req: Request | None = None) -> None:
    """Bytes of another protocol (an SSH banner and binary noise), then close."""
    conn.send(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n" + bytes(range(256)) * 4)
    conn.sock.close()


def http09(body: bytes) -> Action:
    """An HTTP/0.9 answer: the body alone, no status line, no headers, then close."""

    def act(conn: Conn, _req: Request) -> None:
        conn.send(body)
        conn.sock.close()

    return act


def endless_headers(conn: Conn, _req: Request | None = None) -> None:
    """A status line and then header lines without end, until the client hangs up."""
    if not conn.send(b"HTTP/1.1 200 OK\r\n"):
        return
    block = b"".join(b"X-Filler-%d: %s\r\n" % (n, b"v" * 40) for n in range(1000))
    while conn.send(block):
        pass


def header_line(size: int = 10 * 1024 * 1024) -> Action:
    """One header line of ``size`` bytes (10 MB), streamed, never completed before the client quits."""

    def act(conn: Conn, _req: Request) -> None:
        if not conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Big: "):
            return
        sent = 0
        piece = b"a" * PIECE
        while sent < size and conn.send(piece):
            sent += PIECE
        conn.send(b"\r\nContent-Length: 2\r\n\r\n{}")

    return act


def huge_body(size: int = 2 * 1024**3, ctype: str = "application/json", status: int = 200,
              headers: Sequence[tuple[str, str]] = (), prefix: bytes = b"") -> Action:
    """A head announcing ``size`` bytes (2 GB), then the body streamed until the client hangs up."""

    def act(conn: Conn, _req: Request) -> None:
        hdrs = [("Content-Type", ctype), ("Content-Length", str(size)), API_HEADER, *headers]
        if not conn.send(head_bytes(status, hdrs) + prefix):
            return
        sent = len(prefix)
        piece = b" " * PIECE
        while sent < size and conn.send(piece):
            sent += PIECE

    return act


def drip(data: bytes, interval: float = 1.0) -> Action:
    """``data`` one byte every ``interval`` seconds (1 byte/s): never silent, never done."""

    def act(conn: Conn, _req: Request | None = None) -> None:
        for i in range(len(data)):
            if not conn.send(data[i:i + 1]):
                return
            conn.server.stopped.wait(interval)
        conn.wait()

    return act


def bad_chunking(ctype: str = "application/json") -> Action:
    """``Transfer-Encoding: chunked`` whose first chunk size is not hex."""

    def act(conn: Conn, _req: Request) -> None:
        hdrs = [("Content-Type", ctype), ("Transfer-Encoding", "chunked"), API_HEADER]
        conn.send(head_bytes(200, hdrs) + b'zz\r\n{"token": "x"}\r\n0\r\n\r\n')
        conn.sock.close()

    return act


@functools.cache
def bomb(inflated: int = 256 * 1024 * 1024) -> bytes:
    """gzip of ``inflated`` zero bytes (256 MiB → ~250 KiB), compressed piecewise."""
    out = io.BytesIO()
    zero = bytes(1024 * 1024)
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
        for _ in range(inflated // len(zero)):
            gz.write(zero)
    return out.getvalue()


def gzip_bomb(ctype: str = "application/json", status: int = 200) -> Action:
    """``Content-Encoding: gzip`` (although the client asked for identity) over a gzip bomb."""

    body = bomb()  # made when the case is defined, not while a client waits

    def act(conn: Conn, _req: Request) -> None:
        hdrs = [("Content-Type", ctype), ("Content-Encoding", "gzip"), ("Content-Length", str(len(body))),
                API_HEADER]
        conn.send(head_bytes(status, hdrs) + body)

    return act


def deep_json(depth: int = 100_000) -> bytes:
    return b'{"token": ' + b"[" * depth + b"]" * depth + b"}"


# ---------------------------------------------------------------------------------- servers


@dataclass
class Registry:
    """What a healthy registry answers at each stage; replace one stage to make it hostile."""

    realm: str | None = None  # None: the token service is this registry's own /token
    v2: Action | None = None
    token: Action | None = None
    manifest: Action | None = None
    blob: Action | None = None
    data: str | None = None  # where blobs are redirected (None: served by the registry)
    extra: list[tuple[str, Action]] = field(default_factory=list)

    @staticmethod
    def challenge(realm: str | None = None) -> Action:
        """The 401 of a token-auth registry; the realm defaults to ``/token`` on the host asked."""
        def act(conn: Conn, req: Request) -> None:
            where = realm or f"{conn.server.url()}/token"
            answer(401, [("WWW-Authenticate", f'Bearer realm="{where}",service="hostile"')],
                   b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}')(conn, req)

        return act

    def handle(self, base: str) -> Handle:
        challenge = self.challenge(self.realm or f"{base}/token")
        token = json_answer(200, {"token": "hostile-opaque-token", "expires_in": 300})
        manifest = json_answer(200, manifest_doc(), OCI_MANIFEST,
                               [("Docker-Content-Digest", "sha256:" + "d" * 64)])
        blob = redirect(f"{self.data}/blobs/{LAYER}?sig=SECRET") if self.data else \
            answer(206, body=b"\0" * 1024, ctype="application/octet-stream")
        return routed([
            *self.extra,
            ("/v2/", self.v2 or challenge),
            ("/token", self.token or token),
            (f"/v2/{REPO}/manifests/*", self.manifest or manifest),
            (f"/v2/{REPO}/blobs/*", self.blob or blob),
        ])


def data_host() -> Handle:
    """A healthy blob store: 206 with the first KiB of any blob."""
    return routed([("/*", answer(206, body=b"\0" * 1024, ctype="application/octet-stream"))])


__all__ = [
    "LAYER", "OCI_INDEX", "OCI_MANIFEST", "REPO", "Action", "Conn", "Registry", "Request", "Server",
    "answer", "bad_chunking", "bomb", "close", "data_host", "deep_json", "drip", "endless_headers",
    "garbage", "gzip_bomb", "header_line", "http09", "huge_body", "json_answer", "manifest_doc", "raw",
    "redirect", "routed", "rst", "silence",
]


def tunnel_to_loopback(conn: Conn, req: Request) -> None:
    """A working CONNECT proxy, for loopback targets only: 200, then bytes both ways."""
    host, _, port = req.target.rpartition(":")
    if req.method != "CONNECT" or host != "127.0.0.1":
        conn.send(head_bytes(403, [("Content-Length", "0")]))
        return
    try:
        upstream = socket.create_connection((host, int(port)), timeout=5.0)
    except OSError:
        conn.send(head_bytes(502, [("Content-Length", "0")]))
        return
    conn.server.conns.append(upstream)
    conn.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
    try:
        _relay(conn.sock, upstream)
    finally:
        upstream.close()


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Bytes both ways between ``a`` and ``b`` in this one thread, until both ends are done.

    One thread, because ``a`` may be a TLS socket (an https proxy's client side): OpenSSL's
    connection state is not safe to read in one thread while another writes it (two pump threads
    corrupted records now and then: the client saw `tlsv1 alert decode error`)."""
    import selectors

    sel = selectors.DefaultSelector()
    for s in (a, b):
        s.settimeout(5.0)
        sel.register(s, selectors.EVENT_READ)
    live = {a, b}
    deadline = time.monotonic() + HOLD_SECONDS
    try:
        while live and time.monotonic() < deadline:
            # bytes OpenSSL already decrypted do not make the socket readable again
            ready = [s for s in live if isinstance(s, ssl.SSLSocket) and s.pending()] or \
                [key.fileobj for key, _ in sel.select(timeout=0.2)]
            for src in ready:
                assert isinstance(src, socket.socket)
                dst = b if src is a else a
                try:
                    chunk = src.recv(PIECE)
                except (ssl.SSLWantReadError, TimeoutError):
                    continue
                except OSError:
                    chunk = b""
                if chunk:
                    with contextlib.suppress(OSError):
                        dst.sendall(chunk)
                    continue
                live.discard(src)
                sel.unregister(src)
                with contextlib.suppress(OSError):
                    dst.shutdown(socket.SHUT_WR)
    finally:
        sel.close()
