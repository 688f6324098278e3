"""Scripted misbehaving servers for the faults no real server produces (stdlib only, runnable as a script).

    python fronts.py [--cert PEM --key PEM] [--storage DIR --log FILE] MODE@ADDR:PORT[+tls] ...

`+tls` wraps the socket in TLS with --cert/--key before the mode runs. Modes:

    acr403           every request -> 403 with the ACR firewall JSON body naming the TCP peer's IP
    acr403-manifest  GET /v2/ -> 401 Bearer challenge (realm https://auth.lab.test:5600/token), so a client
                     really fetches a token; /v2/<name>/manifests/<ref> -> the ACR 403 DENIED body; else 404
    azure403         every request -> 403 with the Azure Storage AuthorizationFailure XML body (a storage
                     account or data endpoint whose firewall refuses the client)
    redirect-loop    every GET -> 307 with Location: the very URL requested (https://<Host><target>)
    api-redirect     registry.k8s.io's shape: every GET/HEAD, GET /v2/ included -> 307 to the same path on
                     https://registry.lab.test:5601 (a real token-auth registry, which then challenges, issues
                     the token through its realm and redirects blobs to its data host)
    api-redirect-drop the same to https://data-drop.lab.test:5601, an address nft drops (the backend a
                     registry hands its API to is blocked while the registry itself answers)
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
    acr-flow         an ACR imitation whose token endpoint is the registry host itself (needs --storage, --log):
                     GET /v2/ -> 401 Bearer realm="https://registry.lab.test:<port>/oauth2/token"; GET
                     /oauth2/token?service=&scope= -> 200 {"access_token": <opaque random string, not a JWT>}
                     anonymously or with Basic labuser:labpass, 401 UNAUTHORIZED for other credentials;
                     manifests (bytes, media type and digest as the registry storage --storage holds them), tag
                     lists and blobs only with a Bearer token it issued (else 401 with the challenge); a blob ->
                     307 to the ACR-style data endpoint https://pullreg.westeurope.data.azurecr.io/<storage
                     path>?sv=..&se=..&sig=<SAS signature>; an unknown tag -> 404 MANIFEST_UNKNOWN.
                     Each request, with every header (name and value, in order), and each token it issued
                     are logged as JSON lines to --log before the answer is sent.
    acr-flow-429data acr-flow whose blob redirect goes to /throttled/<storage path> on the data endpoint,
                     which the lab data host answers 429 with Retry-After: 2 (pullpath.py data)

Every connection is bounded by HOLD_SECONDS; every thread is a daemon; SIGTERM ends the process.
All listeners are bound before any is served, so one accepted connection means all are up.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import datetime as dt
import json
import re
import secrets
import signal
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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


def redirect_to(conn: Conn, _peer_ip: str, backend: str | None) -> None:
    """Every GET/HEAD -> 307 to the same target on ``backend`` (None: on the host asked, a loop)."""
    head = read_head(conn)
    if head is None:
        return
    method, target, headers = request_line(head)
    if method not in ("GET", "HEAD"):
        respond(conn, head, "405 Method Not Allowed", [], b"", "text/plain")
        return
    origin = backend or f"https://{headers.get('host', 'data-loop.lab.test')}"
    respond(conn, head, "307 Temporary Redirect", [("Location", origin + target)], b"", "application/octet-stream")


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


# ---------------------------------------------------------------------- acr-flow: ACR's token endpoint on the registry

ACR_LOGIN_SERVER = "registry.lab.test"  # the login server name (the good lab leaf covers it)
ACR_DATA_ENDPOINT = "pullreg.westeurope.data.azurecr.io"  # lab.REPLICA_ENDPOINTS: served by the lab data host
ACR_SAS = "sv=2024-01-01&se=2099-01-01&sig=SECRETSIGNATURE%3D"  # a SAS-like query; the signature must never leak
ACR_USERS = {"labuser": "labpass"}  # lab.TOKEN_USERS' labuser (Basic at /oauth2/token)
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_NAME = r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*"  # distribution's repository grammar
_DIGEST = r"sha256:[0-9a-f]{64}"
ACR_MANIFEST = re.compile(rf"^/v2/({_NAME})/manifests/({_DIGEST}|[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})$")
ACR_BLOB = re.compile(rf"^/v2/({_NAME})/blobs/({_DIGEST})$")
ACR_TAGS = re.compile(rf"^/v2/({_NAME})/tags/list$")
MAX_BODY = 64 * 1024

Answer = tuple[str, list[tuple[str, str]], bytes, str]  # status, headers, body, content type


@dataclass
class AcrFlow:
    """The shared state of the acr-flow listeners: where the registry storage is, the log, the issued tokens."""

    storage: Path | None = None
    log_path: Path | None = None
    tokens: dict[str, frozenset[str]] = field(default_factory=dict)  # opaque token -> repositories it may pull
    lock: threading.Lock = field(default_factory=threading.Lock)

    def log(self, record: dict[str, Any]) -> None:
        if self.log_path is None:
            return
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        with self.lock, self.log_path.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"time": now, **record}) + "\n")

    def _repo_dir(self, name: str) -> Path | None:
        if self.storage is None:
            return None
        repo = self.storage / "docker/registry/v2/repositories" / name
        return repo if (repo / "_manifests").is_dir() else None

    def blob_file(self, digest: str) -> Path | None:
        if self.storage is None:
            return None
        hexpart = digest.removeprefix("sha256:")
        data = self.storage / "docker/registry/v2/blobs/sha256" / hexpart[:2] / hexpart / "data"
        return data if data.is_file() else None

    def manifest(self, name: str, ref: str) -> tuple[str, bytes] | str:
        """(digest, bytes) of a manifest as the registry stored it, else the registry error code."""
        repo = self._repo_dir(name)
        if repo is None:
            return "NAME_UNKNOWN"
        if ref.startswith("sha256:"):
            link = repo / "_manifests/revisions/sha256" / ref.removeprefix("sha256:") / "link"
        else:
            link = repo / "_manifests/tags" / ref / "current/link"
        data = self.blob_file(link.read_text().strip()) if link.is_file() else None
        if data is None:
            return "MANIFEST_UNKNOWN"
        return link.read_text().strip(), data.read_bytes()

    def tags(self, name: str) -> list[str] | None:
        repo = self._repo_dir(name)
        return None if repo is None else sorted(p.name for p in (repo / "_manifests/tags").iterdir() if p.is_dir())

    def has_layer(self, name: str, digest: str) -> bool:
        repo = self._repo_dir(name)
        link = None if repo is None else repo / "_layers/sha256" / digest.removeprefix("sha256:") / "link"
        return link is not None and link.is_file() and self.blob_file(digest) is not None


ACR = AcrFlow()


def request_headers(head: bytes) -> list[tuple[str, str]]:
    """Every header of a request head, in order, names as sent."""
    out = []
    for line in head.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            out.append((name.strip(), value.strip()))
    return out


def _basic_user(authorization: str) -> str | None:
    """The user of a valid `Basic` header, None for any other header or credentials."""
    scheme, _, blob = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(blob.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    known = ACR_USERS.get(user)
    return user if known is not None and secrets.compare_digest(known, password) else None


def acr_answer(
    method: str, target: str, headers: dict[str, str], port: int, throttled: bool, record: dict[str, Any]
) -> Answer:
    """What the ACR imitation answers; facts worth logging (issued token, user, grants) go into `record`."""
    url = urlsplit(target)
    realm = f"https://{ACR_LOGIN_SERVER}:{port}/oauth2/token"

    def unauthorized(scope: str | None = None) -> Answer:
        challenge = f'Bearer realm="{realm}",service="{ACR_LOGIN_SERVER}"' + (f',scope="{scope}"' if scope else "")
        return ("401 Unauthorized", [REGISTRY_API, ("WWW-Authenticate", challenge)],
                json_error("UNAUTHORIZED", ACR_UNAUTHORIZED), JSON)  # fmt: skip

    def not_found(code: str, message: str) -> Answer:
        return "404 Not Found", [REGISTRY_API], json_error(code, message), JSON

    if url.path == "/oauth2/token":
        if method != "GET":
            # Only the GET flow (Basic or anonymous) is imitated. 404 is what clients take as "use GET".
            return not_found("NOT_FOUND", "only GET /oauth2/token is imitated here")
        authorization = headers.get("authorization")
        user = "" if authorization is None else _basic_user(authorization)
        if user is None:
            return "401 Unauthorized", [], json_error("UNAUTHORIZED", ACR_UNAUTHORIZED), JSON
        granted = set()
        for value in parse_qs(url.query).get("scope", []):
            for item in value.split():
                kind, _, rest = item.partition(":")
                name, _, actions = rest.rpartition(":")
                if kind == "repository" and "pull" in actions.split(","):
                    granted.add(name)
        token = "opq" + secrets.token_urlsafe(40)  # opaque: no dots, not base64 JSON, no "eyJ" prefix
        with ACR.lock:
            ACR.tokens[token] = frozenset(granted)
        record.update(user=user or "(anonymous)", granted=sorted(granted), issued_token=token)
        return "200 OK", [], json.dumps({"access_token": token}).encode(), JSON

    scheme, _, token = headers.get("authorization", "").partition(" ")
    with ACR.lock:
        grants = ACR.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
    if url.path in ("/v2", "/v2/"):
        return unauthorized() if grants is None else ("200 OK", [REGISTRY_API], b"{}", JSON)
    manifest, blob, tags = ACR_MANIFEST.match(url.path), ACR_BLOB.match(url.path), ACR_TAGS.match(url.path)
    match = manifest or blob or tags
    if match is None:
        return not_found("NOT_FOUND", "not found")
    name = match.group(1)
    if grants is None or name not in grants:
        return unauthorized(f"repository:{name}:pull")
    if tags is not None:  # skopeo inspect lists the tags too
        listed = ACR.tags(name)
        if listed is None:
            return not_found("NAME_UNKNOWN", f"repository '{name}' not found")
        return "200 OK", [REGISTRY_API], json.dumps({"name": name, "tags": listed}).encode(), JSON
    if manifest is not None:
        found = ACR.manifest(name, manifest.group(2))
        if found == "NAME_UNKNOWN":
            return not_found("NAME_UNKNOWN", f"repository '{name}' not found")
        if isinstance(found, str):
            return not_found("MANIFEST_UNKNOWN", f'manifest tagged by "{manifest.group(2)}" is not found')
        digest, body = found
        try:
            media = str(json.loads(body).get("mediaType") or OCI_MANIFEST)
        except (ValueError, AttributeError):
            media = OCI_MANIFEST
        return "200 OK", [REGISTRY_API, ("Docker-Content-Digest", digest), ("ETag", f'"{digest}"')], body, media
    digest = match.group(2)
    if not ACR.has_layer(name, digest):
        return not_found("BLOB_UNKNOWN", "blob unknown to registry")
    hexpart = digest.removeprefix("sha256:")
    storage_path = f"/docker/registry/v2/blobs/sha256/{hexpart[:2]}/{hexpart}/data"
    location = f"https://{ACR_DATA_ENDPOINT}{'/throttled' if throttled else ''}{storage_path}?{ACR_SAS}"
    return "307 Temporary Redirect", [REGISTRY_API, ("Location", location)], b"", "application/octet-stream"


def acr_flow(conn: Conn, peer_ip: str, *, throttled: bool) -> None:
    head = read_head(conn)
    if head is None:
        return
    method, target, lower = request_line(head)
    # Drain a request body (the OAuth2 POST), so closing the connection is a FIN, not an RST.
    pending = min(int(lower.get("content-length", "0") or 0), MAX_BODY) - len(head.partition(b"\r\n\r\n")[2])
    while pending > 0:
        chunk = conn.recv(min(pending, 4096))
        if not chunk:
            break
        pending -= len(chunk)
    here = conn.getsockname()
    record: dict[str, Any] = {
        "listen": f"{here[0]}:{here[1]}",
        "peer": peer_ip,
        "method": method,
        "path": target,
        "headers": [[name, value] for name, value in request_headers(head)],
    }
    status, headers, body, ctype = acr_answer(method, target, lower, int(here[1]), throttled, record)
    ACR.log({**record, "status": int(status.split()[0])})  # before the answer: a client holding it can read the log
    respond(conn, head, status, headers, body, ctype)


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
    "redirect-loop": lambda conn, ip: redirect_to(conn, ip, None),
    "api-redirect": lambda conn, ip: redirect_to(conn, ip, "https://registry.lab.test:5601"),
    "api-redirect-drop": lambda conn, ip: redirect_to(conn, ip, "https://data-drop.lab.test:5601"),
    "notregistry": http_mode("200 OK", lambda _ip: b"<html>Welcome to nginx</html>\n", HTML, []),
    "hang": hang,
    "tls-hang": hang,
    "readclose": readclose,
    "tls-close": readclose,
    "reset": reset,
    "garbage": garbage,
    "endless-headers": endless_headers,
    "acr-flow": lambda conn, ip: acr_flow(conn, ip, throttled=False),
    "acr-flow-429data": lambda conn, ip: acr_flow(conn, ip, throttled=True),
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
    parser.add_argument("--storage", type=Path, help="acr-flow: the registry storage root (manifests, blobs)")
    parser.add_argument("--log", type=Path, help="acr-flow: JSON-lines request log")
    parser.add_argument("specs", nargs="+", type=parse_spec, metavar="MODE@ADDR:PORT[+tls]")
    args = parser.parse_args(argv)
    tls: ssl.SSLContext | None = None
    if any(spec.tls for spec in args.specs):
        if not (args.cert and args.key):
            parser.error("+tls needs --cert and --key")
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)
        tls.set_alpn_protocols(["http/1.1"])  # Go offers h2 too; these fronts speak HTTP/1.1 only
    if any(spec.mode.startswith("acr-flow") for spec in args.specs):
        if not (args.storage and args.log):
            parser.error("acr-flow modes need --storage and --log")
        ACR.storage, ACR.log_path = args.storage, args.log
    listeners = [(spec, socket.create_server((spec.host, spec.port), backlog=128)) for spec in args.specs]
    for spec, listener in listeners:
        threading.Thread(target=serve, args=(spec, listener, tls if spec.tls else None), daemon=True).start()
    print(f"fronts ready: {' '.join(a for a in argv if '@' in a)}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
