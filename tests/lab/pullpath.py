"""The pull path past `GET /v2/`: a Docker token service and a blob data host (runnable as a script).

    python pullpath.py token --listen ADDR:PORT --cert PEM --key PEM --sign-cert PEM --sign-key PEM
                             --issuer ISS --service SVC --log FILE
    python pullpath.py data --root DIR --log FILE ADDR:PORT=CERT,KEY ...

token: the Docker registry token protocol, as the real distribution registry's `auth: token` verifies it.
    GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...]  (Basic auth optional)
        -> 200 {"token", "access_token", "expires_in": 300, "issued_at"}: an ES256 JWT whose header
           carries the signing certificate in x5c. Access not granted is left out of `access`, as real
           token servers do; unknown user or wrong password -> 401 UNAUTHORIZED with a Basic challenge.
    GET /throttled?...  -> 429, Retry-After: 1, a TOOMANYREQUESTS JSON body.
    POST /token (the OAuth2 form docker sends for an identity token: grant_type=refresh_token)
        -> {"access_token": …} for a refresh token in REFRESH_TOKENS, else 401.
    Log: one JSON line per request: time, peer, method, path (with query), authorization (whether the
    header was present; never its value), status, and for a 200 token the granted `access`.

data: a storage-like blob host. The registry's redirect middleware sends blob GETs here with the storage
    driver path (/docker/registry/v2/blobs/sha256/<2>/<hex>/data), so the host serves DIR + path: 200,
    206 for a satisfiable Range, 416 otherwise, 404 (Azure-like XML BlobNotFound) for anything else. Any
    path under /throttled/ -> 429 with Retry-After: 2 (a throttled data endpoint). The query is ignored.
    Each ADDR:PORT gets its own certificate (a good one, an expired one). Log: one JSON line per
    request: time, listen, peer, method, path, every header (name and value, in order), status.

A request's log line is written before its response is sent, so a client holding the answer can read
the log at once. TLS handshakes run in the per-connection thread, so a client that never sends a
ClientHello cannot stall the accept loop. Every connection is bounded by HOLD_SECONDS; SIGTERM ends the
process.
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
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

HOLD_SECONDS = 60.0
JSON = "application/json"
OCTETS = "application/octet-stream"
TOKEN_TTL = 300
ACR_UNAUTHORIZED = "authentication required, visit https://aka.ms/acr/authorization for more information."
# A rule maps (repository, requested actions) to the granted actions.
Rule = Callable[[str, list[str]], list[str]]


def _lab_repo_all(name: str, actions: list[str]) -> list[str]:
    return actions if name.startswith("lab/") else []


def _pull_on(*names: str) -> Rule:
    def rule(name: str, actions: list[str]) -> list[str]:
        return [a for a in actions if a == "pull"] if name in names else []

    return rule


# user -> (password, rule); lab.TOKEN_USERS mirrors the passwords.
USERS: dict[str, tuple[str, Rule]] = {
    "labuser": ("labpass", _lab_repo_all),
    "limited": ("limitedpass", _pull_on("lab/hello")),
}
# library/nginx: lab.DOCKER_HUB_REPO, an official image, which Docker Hub lets anyone pull
#: identity (refresh) tokens, as `az acr login` stores them (user "<token>"): token -> user
REFRESH_TOKENS = {"lab-identity-token": "labuser"}
ANONYMOUS: Rule = _pull_on("lab/hello", "lab/multi", "library/nginx")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLog:
    def __init__(self, path: str) -> None:
        self._file = open(path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (lives as long as the process)
        self._lock = threading.Lock()

    def write(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._file.write(json.dumps({"time": _now(), **record}) + "\n")


class TLSServer(ThreadingHTTPServer):
    """A threaded HTTPS server that handshakes in the connection's own thread."""

    daemon_threads = True

    def __init__(self, addr: tuple[str, int], handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext) -> None:
        self.tls = tls
        super().__init__(addr, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(HOLD_SECONDS)
        here = "{}:{}".format(*request.getsockname()[:2])  # before wrapping: a failed wrap closes the socket
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError) as exc:
            # Normal here (a client refusing the expired leaf, a readiness probe): one line in the
            # process log, nothing in the JSON request log, which holds requests only.
            print(f"{client_address[0]} -> {here}: handshake failed: {exc!r}", file=sys.stderr, flush=True)
            return
        try:
            super().finish_request(conn, client_address)
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_WR)
            conn.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Peers resetting or timing out mid-request are the normal case; one line, not a traceback.
        exc = sys.exc_info()[1]
        print(f"{client_address}: {exc!r}", file=sys.stderr, flush=True)


@dataclass
class Response:
    status: int
    body: bytes
    ctype: str
    headers: list[tuple[str, str]] = field(default_factory=list)


class Handler(BaseHTTPRequestHandler):
    """Each request: build a Response, write its log record, then send it. Logging before sending means
    that once a client holds the answer, the log line is already on disk: tests read logs without races."""

    protocol_version = "HTTP/1.1"  # keep-alive, as registries and storage accounts speak it
    timeout = HOLD_SECONDS

    def version_string(self) -> str:
        return "lab"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the JSON log is the log

    def send(self, resp: Response) -> None:
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.ctype)
        self.send_header("Content-Length", str(len(resp.body)))
        for name, value in resp.headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)


# ---------------------------------------------------------------------- token service


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Signer:
    """ES256 JWTs with the signing certificate in x5c (what distribution's token verifier reads)."""

    def __init__(self, cert_pem: str, key_pem: str) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        cert = x509.load_pem_x509_certificate(Path(cert_pem).read_bytes())
        key = serialization.load_pem_private_key(Path(key_pem).read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise SystemExit("token signing key must be EC P-256 (ES256)")
        self._key = key
        self._x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()

    def sign(self, claims: dict[str, Any]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        header = {"typ": "JWT", "alg": "ES256", "x5c": [self._x5c]}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        # JWS wants the raw r||s pair (32 bytes each for P-256), not the DER that cryptography returns.
        r, s = decode_dss_signature(self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        return f"{signing_input}.{_b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def parse_scopes(values: list[str]) -> list[tuple[str, str, list[str]]]:
    """`repository:lab/hello:pull,push` (repeated, or space-separated in one value) -> (type, name, actions)."""
    scopes = []
    for value in values:
        for item in value.split():
            kind, _, rest = item.partition(":")
            name, _, actions = rest.rpartition(":")  # the name may itself hold a colon (host:port/repo)
            if kind and name:
                scopes.append((kind, name, [a for a in actions.split(",") if a]))
    return scopes


def grant(rule: Rule, scopes: list[tuple[str, str, list[str]]]) -> list[dict[str, Any]]:
    access: list[dict[str, Any]] = []
    for kind, name, actions in scopes:
        allowed = rule(name, actions) if kind == "repository" else []
        if allowed:
            access.append({"type": kind, "name": name, "actions": sorted(set(allowed))})
    return access


def _error(code: str, message: str) -> bytes:
    # Compact, byte for byte the shape registries and ACR send.
    return json.dumps({"errors": [{"code": code, "message": message}]}, separators=(",", ":")).encode()


def token_handler(signer: Signer, issuer: str, default_service: str, log: JsonLog) -> type[Handler]:
    class TokenHandler(Handler):
        def do_GET(self) -> None:
            record: dict[str, Any] = {
                "peer": self.client_address[0],
                "method": self.command,
                "path": self.path,
                "authorization": "Authorization" in self.headers,  # never the value
            }
            url = urlsplit(self.path)
            if self.command == "POST":
                # the OAuth2 form of distribution's fetchTokenWithOAuth (an identity token, as ACR issues)
                length = min(int(self.headers.get("Content-Length") or 0), 65536)
                form = parse_qs(self.rfile.read(length).decode("ascii", "replace"))
                record["grant_type"] = form.get("grant_type", [""])[0]
                resp, access = self._oauth(form) if url.path == "/token" else (
                    Response(404, _error("NOT_FOUND", "no such endpoint"), JSON), None)
                if access is not None:
                    record["access"] = access
            elif url.path == "/token":
                resp, access = self._token(parse_qs(url.query))
                if access is not None:
                    record["access"] = access
            elif url.path == "/throttled":
                body = _error("TOOMANYREQUESTS", "too many requests to the lab token service, retry after 1 s")
                resp = Response(429, body, JSON, [("Retry-After", "1")])
            else:
                resp = Response(404, _error("NOT_FOUND", "no such endpoint"), JSON)
            log.write(record | {"status": resp.status})
            self.send(resp)

        do_HEAD = do_GET
        do_POST = do_GET

        def _user(self) -> tuple[bool, str, Rule]:
            """(credentials ok, user name, the user's rule); anonymous is ok with user ""."""
            auth = self.headers.get("Authorization")
            if auth is None:
                return True, "", ANONYMOUS
            scheme, _, blob = auth.partition(" ")
            if scheme.lower() != "basic":
                return False, "", ANONYMOUS
            try:
                user, _, password = base64.b64decode(blob.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False, "", ANONYMOUS
            known = USERS.get(user)
            if known is None or not secrets.compare_digest(known[0], password):
                return False, user, ANONYMOUS
            return True, user, known[1]

        def _oauth(self, form: dict[str, list[str]]) -> tuple[Response, list[dict[str, Any]] | None]:
            user = REFRESH_TOKENS.get(form.get("refresh_token", [""])[0]) \
                if form.get("grant_type", [""])[0] == "refresh_token" else None
            if user is None:
                return Response(401, _error("UNAUTHORIZED", ACR_UNAUTHORIZED), JSON), None
            scopes = [s for s in form.get("scope", [""])[0].split(" ") if s]
            return self._issue(user, USERS[user][1], {"scope": scopes, "service": form.get("service", [])},
                               refresh=form["refresh_token"][0])

        def _token(self, query: dict[str, list[str]]) -> tuple[Response, list[dict[str, Any]] | None]:
            ok, user, rule = self._user()
            if not ok:
                challenge = [("WWW-Authenticate", 'Basic realm="lab"')]
                return Response(401, _error("UNAUTHORIZED", ACR_UNAUTHORIZED), JSON, challenge), None
            return self._issue(user, rule, query)

        def _issue(self, user: str, rule: Rule, query: dict[str, list[str]],
                   refresh: str | None = None) -> tuple[Response, list[dict[str, Any]] | None]:
            access = grant(rule, parse_scopes(query.get("scope", [])))
            now = int(time.time())
            claims = {
                "iss": issuer,
                "sub": user,
                "aud": query.get("service", [default_service])[0],
                "exp": now + TOKEN_TTL,
                "nbf": now - 10,  # a little slack for clocks; the registry allows some leeway too
                "iat": now,
                "jti": secrets.token_hex(16),
                "access": access,
            }
            token = signer.sign(claims)
            issued = dt.datetime.fromtimestamp(now, dt.UTC).isoformat().replace("+00:00", "Z")
            body: dict[str, Any] = {"token": token, "access_token": token, "expires_in": TOKEN_TTL,
                                    "issued_at": issued}
            if refresh is not None:  # the OAuth answer: access_token (+ the refresh token), no "token"
                body = {"access_token": token, "refresh_token": refresh, "expires_in": TOKEN_TTL,
                        "issued_at": issued}
            return Response(200, json.dumps(body).encode(), JSON), access

    return TokenHandler


# ---------------------------------------------------------------------- data host

AZURE_NOT_FOUND = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code>'
    b"<Message>The specified blob does not exist.</Message></Error>"
)
THROTTLED = (
    b'<?xml version="1.0" encoding="utf-8"?><Error><Code>TooManyRequests</Code>'
    b"<Message>Too many requests to the lab data host, retry after 2 s.</Message></Error>"
)
THROTTLED_HEADERS = [("x-ms-error-code", "TooManyRequests")]
RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


class Unsatisfiable(ValueError):
    pass


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) of a single satisfiable range; None = no usable Range header (send it all).

    Raises Unsatisfiable for a range outside the blob (answered 416).
    """
    if header is None:
        return None
    m = RANGE.match(header.strip())
    if m is None:
        return None  # multi-range or another unit: ignored, the whole body is sent (as RFC 9110 allows)
    first, last = m.groups()
    if not first:  # a suffix range: the last N bytes
        if not last or int(last) == 0:
            raise Unsatisfiable(header)
        return max(0, size - int(last)), size - 1
    start = int(first)
    if start >= size or (last and int(last) < start):
        raise Unsatisfiable(header)
    return start, min(int(last), size - 1) if last else size - 1


def data_handler(root: Path, log: JsonLog) -> type[Handler]:
    root = root.resolve()

    class DataHandler(Handler):
        def do_GET(self) -> None:
            resp = self._serve()
            log.write(
                {
                    "listen": "{}:{}".format(*self.connection.getsockname()[:2]),
                    "peer": self.client_address[0],
                    "method": self.command,
                    "path": self.path,
                    "headers": [[name, value] for name, value in self.headers.items()],  # all, in order
                    "status": resp.status,
                }
            )
            self.send(resp)

        do_HEAD = do_GET

        def _serve(self) -> Response:
            path = unquote(urlsplit(self.path).path)  # a SAS-style query string is ignored, as storage would
            if path.startswith("/throttled/"):  # the throttled data endpoint (fronts.py acr-flow-429data)
                return Response(429, THROTTLED, "application/xml", [("Retry-After", "2"), *THROTTLED_HEADERS])
            target = (root / path.lstrip("/")).resolve()
            if not target.is_relative_to(root) or not target.is_file():
                return Response(404, AZURE_NOT_FOUND, "application/xml", [("x-ms-error-code", "BlobNotFound")])
            data = target.read_bytes()
            base = [("Accept-Ranges", "bytes"), ("x-ms-blob-type", "BlockBlob")]
            try:
                span = _byte_range(self.headers.get("Range"), len(data))
            except Unsatisfiable:
                return Response(416, b"", OCTETS, [("Content-Range", f"bytes */{len(data)}"), *base])
            if span is None:
                return Response(200, data, OCTETS, base)
            first, last = span
            rng = ("Content-Range", f"bytes {first}-{last}/{len(data)}")
            return Response(206, data[first : last + 1], OCTETS, [rng, *base])

    return DataHandler


# ---------------------------------------------------------------------- main


def _addr(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"bad address {text!r}: want ADDR:PORT")
    return host, int(port)


def _tls(cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["http/1.1"])  # Go offers h2 too; http.server speaks HTTP/1.1 only
    return ctx


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="lab pull path servers", epilog=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    tok = sub.add_parser("token")
    tok.add_argument("--listen", type=_addr, required=True)
    tok.add_argument("--cert", required=True)
    tok.add_argument("--key", required=True)
    tok.add_argument("--sign-cert", required=True)
    tok.add_argument("--sign-key", required=True)
    tok.add_argument("--issuer", required=True)
    tok.add_argument("--service", required=True, help="aud when a request names no service")
    tok.add_argument("--log", required=True)
    data = sub.add_parser("data")
    data.add_argument("--root", type=Path, required=True)
    data.add_argument("--log", required=True)
    data.add_argument("listen", nargs="+", metavar="ADDR:PORT=CERT,KEY")
    args = parser.parse_args(argv)

    servers: list[TLSServer] = []
    if args.cmd == "token":
        handler = token_handler(Signer(args.sign_cert, args.sign_key), args.issuer, args.service, JsonLog(args.log))
        servers.append(TLSServer(args.listen, handler, _tls(args.cert, args.key)))
    else:
        log = JsonLog(args.log)
        for spec in args.listen:
            addr, _, files = spec.partition("=")
            cert, _, key = files.partition(",")
            servers.append(TLSServer(_addr(addr), data_handler(args.root, log), _tls(cert, key)))
    # Every listener is bound before any is served, so one accepted connection means all are up.
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"pullpath {args.cmd} ready: {[s.server_address for s in servers]}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
