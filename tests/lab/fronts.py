"""Scripted misbehaving servers for the faults no real server produces (stdlib only, runnable as a script).

    python fronts.py [--cert PEM --key PEM] MODE@ADDR:PORT[+tls] ...

`+tls` wraps the socket in TLS with --cert/--key before the mode runs. Modes:

    acr403           every request -> 403 with the ACR firewall JSON body naming the TCP peer's IP
    acr403-manifest  GET /v2/ -> 401 Bearer challenge (realm https://auth.lab.test:5600/token), so a client
                     really fetches a token; /v2/<name>/manifests/<ref> -> the ACR 403 DENIED body; else 404
    azure403         every request -> 403 with the Azure Storage AuthorizationFailure XML body (a storage
                     account or data endpoint whose firewall refuses the client)
    redirect-loop    every GET -> 307 with Location: the very URL requested (https://<Host><target>)
    429              429 Too Many Requests, Retry-After: 1, Docker Hub rate-limit JSON
    502-html         502 Bad Gateway HTML page from "Server: lab-gateway"
    403-html         403 HTML "Access Denied - Web Filter" page with "Via: 1.1 lab-webfilter"
    503-json         503 with an UNAVAILABLE registry error body
    401-nochallenge  401 with a registry error body but no WWW-Authenticate header
    notregistry      200 "Welcome to nginx" HTML, no Docker-Distribution-API-Version header
    hang             accept (and handshake, with +tls), then stay silent
    tls-hang         alias of hang, for use with +tls: the handshake completes, the request is never answered
    readclose        read the request head (or what arrives before a 0.3 s gap), then close (FIN)
    tls-close        alias of readclose, for use with +tls
    reset            accept, wait for the client's first bytes (5 s at most), then close with SO_LINGER 0 (RST)
    garbage          read the request head, answer "SSH-2.0-OpenSSH_9.2\\r\\n", close
    endless-headers  "HTTP/1.1 200 OK\\r\\n" and then header lines without end

Every connection is bounded by HOLD_SECONDS; every thread is a daemon; SIGTERM ends the process.
All listeners are bound before any is served, so one accepted connection means all are up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

HOLD_SECONDS = 60.0  # the longest any connection is kept, so a forgotten client cannot pin a thread
MAX_HEAD = 64 * 1024
RESET_WAIT_SECONDS = 5.0
QUIET_GAP_SECONDS = 0.3
REGISTRY_API = ("Docker-Distribution-Api-Version", "registry/2.0")

Conn = socket.socket  # plain or ssl.SSLSocket (a subclass)


@dataclass(frozen=True)
class Spec:
    mode: str
    host: str
    port: int
    tls: bool


def parse_spec(text: str) -> Spec:
    mode, sep, addr = text.partition("@")
    tls = addr.endswith("+tls")
    host, _, port = addr.removesuffix("+tls").rpartition(":")
    if not sep or mode not in MODES or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"bad spec {text!r}: want MODE@ADDR:PORT[+tls], MODE in {sorted(MODES)}")
    return Spec(mode, host, int(port), tls)


def read_head(conn: Conn) -> bytes | None:
    """Read up to the end of the request head; None if the peer went away first."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < MAX_HEAD:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data


def respond(conn: Conn, head: bytes, status: str, headers: list[tuple[str, str]], body: bytes, ctype: str) -> None:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {ctype}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append("Connection: close")  # one request per connection keeps every mode stateless
    payload = ("\r\n".join(lines) + "\r\n\r\n").encode()
    if not head.startswith(b"HEAD "):
        payload += body
    conn.sendall(payload)


def json_error(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


def http_mode(
    status: str, body: Callable[[str], bytes], ctype: str, headers: list[tuple[str, str]]
) -> Callable[[Conn, str], None]:
    def handle(conn: Conn, peer_ip: str) -> None:
        head = read_head(conn)
        if head is not None:
            respond(conn, head, status, headers, body(peer_ip), ctype)

    return handle


def request_line(head: bytes) -> tuple[str, str, dict[str, str]]:
    """(method, target, lower-cased headers) of a request head; blanks when it is not HTTP."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split()
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    if len(parts) != 3:
        return "", "", headers
    return parts[0], parts[1], headers


def acr403_manifest(conn: Conn, peer_ip: str) -> None:
    # ACR with a firewall rule that lets the client reach the login server and the token endpoint but
    # refuses the manifest: the client gets through the challenge and the token, and only then sees DENIED.
    head = read_head(conn)
    if head is None:
        return
    _method, target, _headers = request_line(head)
    path = target.partition("?")[0]
    if path in ("/v2", "/v2/"):
        challenge = f'Bearer realm="{LAB_TOKEN_REALM}",service="{LAB_TOKEN_SERVICE}"'
        body = json_error("UNAUTHORIZED", ACR_UNAUTHORIZED)
        respond(conn, head, "401 Unauthorized", [REGISTRY_API, ("WWW-Authenticate", challenge)], body, JSON)
    elif MANIFEST_PATH.match(path):
        body = json_error("DENIED", ACR_DENIED.format(ip=peer_ip))
        respond(conn, head, "403 Forbidden", [REGISTRY_API], body, JSON)
    else:
        respond(conn, head, "404 Not Found", [REGISTRY_API], json_error("NOT_FOUND", "not found"), JSON)


def redirect_loop(conn: Conn, _peer_ip: str) -> None:
    head = read_head(conn)
    if head is None:
        return
    method, target, headers = request_line(head)
    if method not in ("GET", "HEAD"):
        respond(conn, head, "405 Method Not Allowed", [], b"", "text/plain")
        return
    location = f"https://{headers.get('host', 'data-loop.lab.test')}{target}"
    respond(conn, head, "307 Temporary Redirect", [("Location", location)], b"", "application/octet-stream")


def hang(conn: Conn, _peer_ip: str) -> None:
    # Drain what arrives (so the peer's writes never block) but never answer; the socket
    # timeout (HOLD_SECONDS) or the peer's close ends it.
    while conn.recv(4096):
        pass


def readclose(conn: Conn, _peer_ip: str) -> None:
    # Read everything first, so the close is a FIN, not an RST. A TLS ClientHello never ends in a
    # blank line, so "everything" is: the whole head, or whatever came before a short quiet gap.
    data = conn.recv(4096)
    conn.settimeout(QUIET_GAP_SECONDS)
    with contextlib.suppress(TimeoutError):
        while data and b"\r\n\r\n" not in data and len(data) < MAX_HEAD:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk


def reset(conn: Conn, _peer_ip: str) -> None:
    # Wait for the client's first bytes (ClientHello or request) before the RST, as a middlebox does.
    # Resetting right after accept races the client's connect(): it would then see the reset at
    # connect time ("connect: connection reset by peer") or at read time, at random.
    conn.settimeout(RESET_WAIT_SECONDS)
    with contextlib.suppress(TimeoutError):
        conn.recv(1)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close() now sends RST


def garbage(conn: Conn, _peer_ip: str) -> None:
    if read_head(conn) is not None:
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")


def endless_headers(conn: Conn, _peer_ip: str) -> None:
    if read_head(conn) is None:
        return
    conn.sendall(b"HTTP/1.1 200 OK\r\n")
    deadline = time.monotonic() + HOLD_SECONDS
    n = 0
    while time.monotonic() < deadline:  # ends early when the client gives up (send fails)
        batch = "".join(f"X-Lab-Filler-{n + i}: {'f' * 48}\r\n" for i in range(64))
        conn.sendall(batch.encode())
        n += 64


ACR_DENIED = "client with IP '{ip}' is not allowed access. Refer https://aka.ms/acr/firewall to grant access."
ACR_UNAUTHORIZED = "authentication required, visit https://aka.ms/acr/authorization for more information."
LAB_TOKEN_REALM = "https://auth.lab.test:5600/token"  # the lab's token service (pullpath.py token)
LAB_TOKEN_SERVICE = "registry.lab.test"
MANIFEST_PATH = re.compile(r"^/v2/(.+)/manifests/([^/]+)$")
AZURE_403 = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthorizationFailure</Code>'
    b"<Message>This request is not authorized to perform this operation.</Message></Error>"
)
JSON = "application/json; charset=utf-8"
HTML = "text/html"
PAGE_502 = (
    b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>lab-gateway</p></body></html>\n"
)
PAGE_403 = (
    b"<html><head><title>Access Denied - Web Filter</title></head>"
    b"<body><h1>Access Denied</h1><p>This site is blocked by your organisation's web filter.</p></body></html>\n"
)

MODES: dict[str, Callable[[Conn, str], None]] = {
    "acr403": http_mode(
        "403 Forbidden", lambda ip: json_error("DENIED", ACR_DENIED.format(ip=ip)), JSON, [REGISTRY_API]
    ),
    "429": http_mode(
        "429 Too Many Requests",
        lambda _ip: json_error(
            "TOOMANYREQUESTS",
            "You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit",
        ),
        JSON,
        [REGISTRY_API, ("Retry-After", "1")],
    ),
    "502-html": http_mode("502 Bad Gateway", lambda _ip: PAGE_502, HTML, [("Server", "lab-gateway")]),
    "403-html": http_mode("403 Forbidden", lambda _ip: PAGE_403, HTML, [("Via", "1.1 lab-webfilter")]),
    "503-json": http_mode(
        "503 Service Unavailable", lambda _ip: json_error("UNAVAILABLE", "service unavailable"), JSON, [REGISTRY_API]
    ),
    "401-nochallenge": http_mode(
        "401 Unauthorized", lambda _ip: json_error("UNAUTHORIZED", "authentication required"), JSON, [REGISTRY_API]
    ),
    "acr403-manifest": acr403_manifest,
    "azure403": http_mode(
        "403 Forbidden",
        lambda _ip: AZURE_403,
        "application/xml",
        [("Server", "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"), ("x-ms-error-code", "AuthorizationFailure")],
    ),
    "redirect-loop": redirect_loop,
    "notregistry": http_mode("200 OK", lambda _ip: b"<html>Welcome to nginx</html>\n", HTML, []),
    "hang": hang,
    "tls-hang": hang,
    "readclose": readclose,
    "tls-close": readclose,
    "reset": reset,
    "garbage": garbage,
    "endless-headers": endless_headers,
}


def handle(spec: Spec, conn: socket.socket, peer_ip: str, tls: ssl.SSLContext | None) -> None:
    try:
        conn.settimeout(HOLD_SECONDS)
        if tls is not None and spec.mode != "reset":
            conn = tls.wrap_socket(conn, server_side=True)  # the handshake is bounded by the timeout too
        MODES[spec.mode](conn, peer_ip)
    except (OSError, ssl.SSLError):
        pass  # peers hanging up, resetting or failing the handshake are the normal case here
    finally:
        conn.close()


def serve(spec: Spec, listener: socket.socket, tls: ssl.SSLContext | None) -> None:
    while True:
        conn, peer = listener.accept()
        threading.Thread(target=handle, args=(spec, conn, peer[0], tls), daemon=True).start()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="lab fault fronts", epilog=__doc__)
    parser.add_argument("--cert", help="PEM certificate (chain) for +tls specs")
    parser.add_argument("--key", help="PEM private key for +tls specs")
    parser.add_argument("specs", nargs="+", type=parse_spec, metavar="MODE@ADDR:PORT[+tls]")
    args = parser.parse_args(argv)
    tls: ssl.SSLContext | None = None
    if any(spec.tls for spec in args.specs):
        if not (args.cert and args.key):
            parser.error("+tls needs --cert and --key")
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
        tls.set_alpn_protocols(["http/1.1"])  # Go offers h2 too; these fronts speak HTTP/1.1 only
    listeners = [(spec, socket.create_server((spec.host, spec.port), backlog=128)) for spec in args.specs]
    for spec, listener in listeners:
        threading.Thread(target=serve, args=(spec, listener, tls if spec.tls else None), daemon=True).start()
    print(f"fronts ready: {' '.join(a for a in argv if '@' in a)}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
