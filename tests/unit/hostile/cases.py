"""The hostile cases: one server misbehaving at one stage of a pull, and the code that names it.

Each case builds its servers with a ``Kit`` (every server on a port of its own) and returns the
``regdoctor check`` arguments that point at them; the test runs the real CLI with ``--json
--timeout T`` and checks the bounds and the code. A registry is plain HTTP (``--plain-http``)
unless the stage under test is TLS or the proxy (then it is HTTPS with ``--ca``).
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hostile import certs
from hostile.servers import (
    LAYER,
    OCI_INDEX,
    OCI_MANIFEST,
    REPO,
    Action,
    Conn,
    Registry,
    Request,
    Server,
    answer,
    bad_chunking,
    close,
    data_host,
    deep_json,
    drip,
    endless_headers,
    garbage,
    gzip_bomb,
    head_bytes,
    header_line,
    http09,
    huge_body,
    json_answer,
    manifest_doc,
    raw,
    redirect,
    routed,
    rst,
    silence,
    tunnel_to_loopback,
)


@dataclass
class Kit:
    """Makes the servers of one case; ``stop()`` ends them all."""

    tmp: Path
    servers: list[Server] = field(default_factory=list)
    held: list[socket.socket] = field(default_factory=list)

    @property
    def ca(self) -> str:
        return certs.ca_file(self.tmp)

    def serve(self, handle: Callable[[Conn], None], tls: str | None = None) -> Server:
        server = Server(handle, certs.server_context(tls) if tls else None)
        self.servers.append(server)
        return server

    def registry(self, reg: Registry | None = None, tls: bool = False) -> Server:
        reg = reg or Registry()
        server = self.serve(lambda conn: None, "good" if tls else None)
        server.handle = reg.handle(server.url())
        return server

    def free_port(self) -> int:
        """A loopback port nobody listens on: bound but not listening (connecting is refused), and
        held until the case ends, so no server of a case running beside it can take it."""
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.held.append(s)
        return int(s.getsockname()[1])

    def plain(self, server: Server, ref_tail: str = f"/{REPO}:latest") -> list[str]:
        return [f"{server.authority}{ref_tail}", "--plain-http"]

    def tls(self, server: Server | int, ref_tail: str = f"/{REPO}:latest") -> list[str]:
        port = server if isinstance(server, int) else server.port
        return [f"127.0.0.1:{port}{ref_tail}", "--ca", self.ca]

    def stop(self) -> None:
        for s in self.servers:
            s.stop()
        for h in self.held:
            h.close()


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Kit], list[str]]
    code: str | None  # a finding with this code must be in the report (None: no finding at all)
    rc: int = 1


CASES: list[Case] = []


def case(id: str, code: str | None, rc: int = 1) -> Callable[[Callable[[Kit], list[str]]], Callable[[Kit], list[str]]]:
    def add(build: Callable[[Kit], list[str]]) -> Callable[[Kit], list[str]]:
        CASES.append(Case(id, build, code, rc))
        return build

    return add


def stage(id: str, code: str | None, rc: int = 1, **stages: Any) -> None:
    """A plain-HTTP registry whose stage ``v2``/``token``/``manifest``/``blob`` is replaced."""
    CASES.append(Case(id, lambda kit: kit.plain(kit.registry(Registry(**stages))), code, rc))


# --------------------------------------------------------------------------------- controls

stage("healthy", None, rc=0)


@case("healthy-tls-realm-data", None, rc=0)
def _healthy_tls(kit: Kit) -> list[str]:
    data = kit.serve(data_host(), "good")
    realm = kit.serve(routed([("/token", json_answer(200, {"token": "t", "expires_in": 60}))]), "good")
    return kit.tls(kit.registry(Registry(realm=realm.url("/token"), data=data.url()), tls=True))


@case("healthy-via-proxy", None, rc=0)
def _healthy_proxy(kit: Kit) -> list[str]:
    reg = kit.registry(tls=True)
    proxy = kit.serve(routed([("*", tunnel_to_loopback)], default=tunnel_to_loopback))
    return [*kit.tls(reg), "--proxy", proxy.url()]


@case("healthy-via-https-proxy", None, rc=0)  # TLS to the proxy, and the registry's TLS inside it
def _healthy_https_proxy(kit: Kit) -> list[str]:
    reg = kit.registry(tls=True)
    proxy = kit.serve(routed([], default=tunnel_to_loopback), "good")
    return [*kit.tls(reg), "--proxy", proxy.url()]


# ---------------------------------------------------------------------------- TCP and /v2/


@case("tcp-refused", "TCP_REFUSED")
def _refused(kit: Kit) -> list[str]:
    return [f"127.0.0.1:{kit.free_port()}/{REPO}:latest", "--plain-http"]


stage("v2-silence", "HTTP_NO_RESPONSE", v2=silence)
stage("v2-close", "HTTP_CONNECTION_CLOSED", v2=close)
stage("v2-rst", "TCP_RESET", v2=rst)
stage("v2-garbage", "HTTP_MALFORMED_RESPONSE", v2=garbage)
stage("v2-http09", "HTTP_MALFORMED_RESPONSE", v2=http09(b'{"repositories": []}\n'))
stage("v2-endless-headers", "HTTP_RESPONSE_TOO_LARGE", v2=endless_headers)
stage("v2-10MB-header-line", "HTTP_RESPONSE_TOO_LARGE", v2=header_line())
stage("v2-drip", "HTTP_NO_RESPONSE", v2=drip(b"HTTP/1.1 401 Unauthorized\r\n"))
stage("v2-1MB-challenge", "HTTP_RESPONSE_TOO_LARGE", v2=answer(401, [
    ("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:1/token",service="' + "s" * 1024 * 1024 + '"')]))
stage("v2-60KB-challenge", "AUTH_MALFORMED_CHALLENGE", v2=answer(401, [
    ("WWW-Authenticate", 'Bearer realm="http://127.0.0.1:1/token",' + "a=b," * 15000)]))
stage("v2-60KB-quoted-challenge", "AUTH_MALFORMED_CHALLENGE", v2=answer(401, [
    ("WWW-Authenticate", 'Bearer realm="' + '\\"' * 30000)]))
stage("v2-realm-bracket", "AUTH_MALFORMED_CHALLENGE", v2=answer(401, [
    ("WWW-Authenticate", 'Bearer realm="https://[",service="x"')]))
stage("v2-realm-ftp", "AUTH_MALFORMED_CHALLENGE", v2=answer(401, [
    ("WWW-Authenticate", 'Bearer realm="ftp://127.0.0.1/token",service="x"')]))
stage("v2-realm-file", "AUTH_MALFORMED_CHALLENGE", v2=answer(401, [
    ("WWW-Authenticate", 'Bearer realm="file:///etc/passwd",service="x"')]))


@case("v2-2GB-401-body", None, rc=0)  # the challenge is in the head: the body does not matter
def _huge_401(kit: Kit) -> list[str]:
    realm = kit.serve(routed([("/token", json_answer(200, {"token": "t"}))])).url("/token")
    return kit.plain(kit.registry(Registry(v2=huge_body(status=401, headers=[
        ("WWW-Authenticate", f'Bearer realm="{realm}"')]))))


stage("v2-redirect-loop", "REGISTRY_REDIRECT_LOOP", v2=redirect("/v2/"))
stage("v2-redirect-file", "REGISTRY_REDIRECT_BAD_SCHEME", v2=redirect("file:///etc/passwd"))
stage("v2-redirect-bracket", "REGISTRY_BAD_REDIRECT", v2=redirect("https://["))
stage("v2-redirect-long-label", "DNS_NAME_INVALID", v2=redirect("http://" + "a" * 64 + ".example/v2/"))
stage("v2-50-hops", "REGISTRY_REDIRECT_LOOP", v2=lambda conn, req: _hop(conn, req))
stage("v2-redirect-relative", None, rc=0, v2=redirect("/v2/ping"), extra=[("/v2/ping", Registry.challenge())])


def _api_front(kit: Kit, backend: str, **stages: Any) -> list[str]:
    """registry.k8s.io's shape: every /v2/ request but blobs is a 307 to the same path on ``backend``."""
    def to_backend(conn: Conn, req: Request) -> None:
        redirect(backend + req.target)(conn, req)

    return kit.plain(kit.registry(Registry(v2=to_backend, manifest=to_backend, **stages)))


@case("api-redirect-healthy", None, rc=0)
def _api_healthy(kit: Kit) -> list[str]:
    return _api_front(kit, kit.registry().url(), data=kit.serve(data_host()).url())


@case("api-redirect-backend-refused", "DATA_ENDPOINT_BLOCKED")
def _api_refused(kit: Kit) -> list[str]:
    return _api_front(kit, f"http://127.0.0.1:{kit.free_port()}")


@case("api-redirect-backend-silence", "DATA_ENDPOINT_BLOCKED")
def _api_silence(kit: Kit) -> list[str]:
    return _api_front(kit, kit.serve(raw(silence)).url())


@case("api-redirect-backend-2GB-manifest", "REGISTRY_BAD_MANIFEST")
def _api_big_manifest(kit: Kit) -> list[str]:
    backend = kit.registry(Registry(manifest=huge_body(ctype=OCI_MANIFEST)))
    return _api_front(kit, backend.url())


@case("api-redirect-manifest-ftp", "REGISTRY_REDIRECT_BAD_SCHEME")
def _api_ftp(kit: Kit) -> list[str]:
    return kit.plain(kit.registry(Registry(manifest=redirect("ftp://127.0.0.1/manifest"))))


@case("api-redirect-ping-loop-across-hosts", "REGISTRY_REDIRECT_LOOP")
def _api_pingpong(kit: Kit) -> list[str]:
    a = kit.serve(lambda conn: None)
    b = kit.serve(routed([("/*", lambda conn, req: redirect(a.url(req.target))(conn, req))]))
    a.handle = routed([("/*", lambda conn, req: redirect(b.url(req.target))(conn, req))])
    return kit.plain(a)
stage("v2-conflicting-lengths", "HTTP_MALFORMED_RESPONSE", v2=lambda conn, req: conn.send(head_bytes(
    401, [("Content-Length", "5"), ("Content-Length", "7")]) + b"hello") and None)
stage("v2-bad-status-code", "HTTP_MALFORMED_RESPONSE", v2=lambda conn, req: conn.send(
    b"HTTP/1.1 99999999999999999999 Huge\r\nContent-Length: 0\r\n\r\n") and None)
stage("v2-endless-100-continue", "HTTP_NO_RESPONSE",
      v2=lambda conn, req: _forever(conn, b"HTTP/1.1 100 Continue\r\n\r\n"))


def _forever(conn: Conn, piece: bytes) -> None:
    while conn.send(piece * 100):
        pass


# ------------------------------------------------------------------------------------- TLS


def _tls_stage(id: str, code: str, handle: Callable[[Conn], None]) -> None:
    CASES.append(Case(id, lambda kit: kit.tls(kit.serve(raw(handle))), code))


_tls_stage("tls-silence", "TLS_HANDSHAKE_TIMEOUT", silence)
_tls_stage("tls-close", "TLS_HANDSHAKE_CLOSED", lambda conn: _read_then(conn, close))
_tls_stage("tls-rst", "TCP_RESET", rst)
_tls_stage("tls-garbage", "TLS_NOT_TLS", garbage)
_tls_stage("tls-plain-http", "TLS_NOT_TLS", lambda conn: _read_then(conn, lambda c: c.send(head_bytes(
    400, [("Content-Length", "0"), ("Connection", "close")]))))


def _read_then(conn: Conn, then: Callable[[Conn], object]) -> None:
    """Read what the client sent first (its ClientHello), then act: closing with unread data
    would make the kernel send RST instead of FIN."""
    conn.sock.settimeout(5.0)
    conn.sock.recv(65536)
    then(conn)
# a TLS record header that never completes, one byte a second
_tls_stage("tls-drip", "TLS_HANDSHAKE_TIMEOUT", lambda conn: drip(b"\x16\x03\x03\x40\x00" + b"\x02" * 64)(conn, None))


@case("tls-unknown-ca", "TLS_UNKNOWN_CA")
def _unknown_ca(kit: Kit) -> list[str]:
    return kit.tls(kit.serve(Registry().handle("https://127.0.0.1"), "unknown_ca"))


@case("tls-expired", "TLS_EXPIRED")
def _expired(kit: Kit) -> list[str]:
    return kit.tls(kit.serve(Registry().handle("https://127.0.0.1"), "expired"))


@case("tls-wrong-name", "TLS_NAME_MISMATCH")
def _wrong_name(kit: Kit) -> list[str]:
    return kit.tls(kit.serve(Registry().handle("https://127.0.0.1"), "wrong_name"))


@case("tls-then-endless-headers", "HTTP_RESPONSE_TOO_LARGE")
def _tls_endless(kit: Kit) -> list[str]:
    return kit.tls(kit.registry(Registry(v2=endless_headers), tls=True))


@case("tls-then-2GB-manifest", "REGISTRY_BAD_MANIFEST")
def _tls_huge(kit: Kit) -> list[str]:
    return kit.tls(kit.registry(Registry(manifest=huge_body(ctype=OCI_MANIFEST)), tls=True))


# ------------------------------------------------------------------- realm (another server)


def _realm_stage(id: str, code: str, action: Action | None = None, *, refused: bool = False) -> None:
    def build(kit: Kit) -> list[str]:
        if refused:
            realm = f"http://127.0.0.1:{kit.free_port()}/token"
        else:
            assert action is not None
            realm = kit.serve(routed([("/token", action)], default=action)).url("/token")
        return kit.plain(kit.registry(Registry(realm=realm)))

    CASES.append(Case(id, build, code))


_realm_stage("realm-refused", "AUTH_REALM_UNREACHABLE", refused=True)
_realm_stage("realm-silence", "AUTH_REALM_UNREACHABLE", silence)
_realm_stage("realm-close", "AUTH_REALM_UNREACHABLE", close)
_realm_stage("realm-rst", "AUTH_REALM_UNREACHABLE", rst)
_realm_stage("realm-garbage", "AUTH_REALM_UNREACHABLE", garbage)
_realm_stage("realm-endless-headers", "AUTH_REALM_UNREACHABLE", endless_headers)
_realm_stage("realm-drip", "AUTH_REALM_UNREACHABLE", drip(b"HTTP/1.1 200 OK\r\n"))
_realm_stage("realm-deep-json", "AUTH_TOKEN_FAILED", answer(200, body=deep_json()))
_realm_stage("realm-2GB-token", "AUTH_TOKEN_FAILED", huge_body(prefix=b'{"token": "'))


@case("realm-path-space-utf8", None, rc=0)
def _realm_space(kit: Kit) -> list[str]:
    realm = kit.serve(routed([("/*", json_answer(200, {"token": "t"}))])).url("/tok en/\u00e9")
    return kit.plain(kit.registry(Registry(realm=realm)))


@case("realm-path-control-char", "AUTH_MALFORMED_CHALLENGE")
def _realm_ctl(kit: Kit) -> list[str]:
    realm = kit.serve(routed([("/*", json_answer(200, {"token": "t"}))])).url("/tok\x01en")
    return kit.plain(kit.registry(Registry(realm=realm)))


# ------------------------------------------------------------------- token (the registry's)

stage("token-deep-json", "AUTH_TOKEN_FAILED", token=answer(200, body=deep_json()))
# a JWT whose claims cannot be read is an opaque token to clients too: nothing to report
stage("token-deep-jwt", None, rc=0, token=json_answer(200, {"token": "e30." + "W1" * 20000 + ".x"}))
stage("token-2GB", "AUTH_TOKEN_FAILED", token=huge_body(prefix=b'{"token": "'))
stage("token-not-json", "AUTH_TOKEN_FAILED", token=answer(200, body=b"<html>token?</html>", ctype="text/html"))
stage("token-gzip-bomb", "AUTH_TOKEN_FAILED", token=gzip_bomb())
stage("token-bad-chunking", "AUTH_TOKEN_FAILED", token=bad_chunking())
stage("token-crlf", "AUTH_TOKEN_FAILED", token=json_answer(200, {"token": "a\r\nX-Injected: 1"}))
stage("token-nul", "AUTH_TOKEN_FAILED", token=json_answer(200, {"token": "a\0b"}))
stage("token-utf8", None, rc=0, token=json_answer(200, {"token": "t\u00f6k\u00e9n-\u2603"}))
stage("token-60KB", None, rc=0, token=json_answer(200, {"token": "t" * 60_000}))
stage("token-list", "AUTH_TOKEN_FAILED", token=json_answer(200, [{"token": "x"}] * 100_000))
stage("token-silence", "HTTP_NO_RESPONSE", token=silence)
stage("token-rst", "TCP_RESET", token=rst)
stage("token-drip", "HTTP_NO_RESPONSE", token=drip(b"HTTP/1.1 200 OK\r\n"))
stage("token-endless-headers", "HTTP_RESPONSE_TOO_LARGE", token=endless_headers)


# -------------------------------------------------------------------------------- manifest


def _index(entries: list[dict[str, Any]]) -> Action:
    return answer(200, body=json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries},
                                       separators=(",", ":")).encode(), ctype=OCI_INDEX)


stage("manifest-deep-json", "REGISTRY_BAD_MANIFEST", manifest=answer(200, body=deep_json(), ctype=OCI_MANIFEST))
stage("manifest-2GB", "REGISTRY_BAD_MANIFEST", manifest=huge_body(ctype=OCI_MANIFEST))
stage("manifest-bogus-media-type", "REGISTRY_BAD_MANIFEST", manifest=json_answer(
    200, {**manifest_doc(), "mediaType": "application/x-evil+json"}, "application/x-evil+json"))
stage("manifest-no-media-type", "REGISTRY_BAD_MANIFEST", manifest=json_answer(
    200, {k: v for k, v in manifest_doc().items() if k != "mediaType"}, "text/plain"))
stage("manifest-schema1", "REGISTRY_BAD_MANIFEST", manifest=json_answer(
    200, {"schemaVersion": 1, "name": REPO, "tag": "latest", "fsLayers": []},
    "application/vnd.docker.distribution.manifest.v1+prettyjws"))
stage("manifest-gzip-bomb", "REGISTRY_BAD_MANIFEST", manifest=gzip_bomb(OCI_MANIFEST))
stage("manifest-bad-chunking", "REGISTRY_BAD_MANIFEST", manifest=bad_chunking(OCI_MANIFEST))
stage("manifest-drip-body", "REGISTRY_BAD_MANIFEST", manifest=lambda conn, req: drip(
    b"{" * 64, 0.5)(conn, req) if conn.send(head_bytes(200, [("Content-Type", OCI_MANIFEST),
                                                            ("Content-Length", "100000")])) else None)
stage("manifest-http09", "HTTP_MALFORMED_RESPONSE", manifest=http09(json.dumps(manifest_doc()).encode()))
stage("manifest-silence", "HTTP_NO_RESPONSE", manifest=silence)
stage("manifest-rst", "TCP_RESET", manifest=rst)
stage("manifest-short-body", "REGISTRY_BAD_MANIFEST", manifest=lambda conn, req: conn.send(head_bytes(
    200, [("Content-Type", OCI_MANIFEST), ("Content-Length", "5000")]) + b'{"schemaVersion": 2,') and close(conn))
stage("manifest-not-object", "REGISTRY_BAD_MANIFEST", manifest=answer(200, body=b"[" * 60 + b"]" * 60,
                                                                      ctype=OCI_MANIFEST))
stage("manifest-layers-not-list", "REGISTRY_BAD_MANIFEST", manifest=json_answer(
    200, {**manifest_doc(), "layers": {"digest": 1}}, OCI_MANIFEST))
stage("manifest-digest-not-string", "REGISTRY_BAD_MANIFEST", manifest=json_answer(
    200, {**manifest_doc(), "layers": [{"digest": ["sha256:x"], "size": "big"}]}, OCI_MANIFEST))
stage("manifest-config-not-object", "REGISTRY_BAD_MANIFEST", manifest=json_answer(
    200, {**manifest_doc(), "config": "sha256:x"}, OCI_MANIFEST))
stage("manifest-with-manifests-number", "REGISTRY_BAD_MANIFEST", manifest=json_answer(
    200, {**manifest_doc(), "manifests": 5}, OCI_MANIFEST))
stage("index-manifests-not-list", "REGISTRY_BAD_MANIFEST", manifest=json_answer(
    200, {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": {"a": 1}}, OCI_INDEX))
stage("index-100k-entries", "REGISTRY_PLATFORM_MISSING", manifest=_index([{}] * 100_000))
stage("index-100k-full-entries", "REGISTRY_BAD_MANIFEST", manifest=_index([
    {"mediaType": OCI_MANIFEST, "digest": "sha256:" + f"{i:064x}", "size": 500,
     "platform": {"os": "plan9", "architecture": "mips"}} for i in range(100_000)]))
stage("index-of-index", "REGISTRY_BAD_MANIFEST", manifest=_index([
    {"mediaType": OCI_INDEX, "digest": "sha256:" + "e" * 64, "platform": {"os": "linux", "architecture": "amd64"}}]))
stage("index-entries-hostile", "REGISTRY_BAD_MANIFEST", manifest=_index(
    [1, None, "x", [], {"platform": []}, {"platform": {"os": ["linux"], "architecture": {}}}]))  # type: ignore[list-item]


# ------------------------------------------------------------------------------------ blob


def _blob_redirect(id: str, code: str, location: str) -> None:
    stage(id, code, blob=redirect(location))


stage("blob-redirect-loop", "REGISTRY_REDIRECT_LOOP", blob=lambda conn, req: redirect(req.target)(conn, req))


def _hop(conn: Conn, req: Request) -> None:
    n = int(req.target.rsplit("hop=", 1)[-1]) if "hop=" in req.target else 0
    redirect(f"{req.path}?hop={n + 1}")(conn, req) if n < 50 else answer(206, body=b"\0")(conn, req)


stage("blob-50-hops", "REGISTRY_REDIRECT_LOOP", blob=_hop)


@case("blob-50-hops-via-data-host", "REGISTRY_REDIRECT_LOOP")
def _hops_data(kit: Kit) -> list[str]:
    data = kit.serve(routed([("/*", _hop)]))
    return kit.plain(kit.registry(Registry(data=data.url())))


_blob_redirect("blob-redirect-ftp", "REGISTRY_REDIRECT_BAD_SCHEME", "ftp://127.0.0.1/blob")
_blob_redirect("blob-redirect-file", "REGISTRY_REDIRECT_BAD_SCHEME", "file:///etc/passwd")
_blob_redirect("blob-redirect-data", "REGISTRY_REDIRECT_BAD_SCHEME", "data:text/plain;base64,AAAA")
_blob_redirect("blob-redirect-bracket", "REGISTRY_BAD_REDIRECT", "https://[")
_blob_redirect("blob-redirect-no-host", "REGISTRY_BAD_REDIRECT", "http://")
_blob_redirect("blob-redirect-bad-port", "REGISTRY_BAD_REDIRECT", "http://127.0.0.1:99999/x")


@case("blob-redirect-space-utf8", None, rc=0)  # Go escapes these in the path: the data host is asked
def _space(kit: Kit) -> list[str]:
    data = kit.serve(data_host())
    return kit.plain(kit.registry(Registry(blob=redirect(data.url("/a b/\u00e9t\u00e9?x=a b")))))


@case("blob-redirect-control-char", "REGISTRY_BAD_REDIRECT")  # Go: "invalid control character in URL"
def _ctl(kit: Kit) -> list[str]:
    data = kit.serve(data_host())
    return kit.plain(kit.registry(Registry(blob=redirect(data.url("/a\x7fb")))))
_blob_redirect("blob-redirect-long-label", "DNS_NAME_INVALID", "http://" + "a" * 64 + ".example/x")
stage("blob-10MB-location", "HTTP_RESPONSE_TOO_LARGE", blob=header_line())
stage("blob-silence", "HTTP_NO_RESPONSE", blob=silence)
stage("blob-rst", "TCP_RESET", blob=rst)
stage("blob-2GB", None, rc=0, blob=huge_body(status=206, ctype="application/octet-stream"))


# ------------------------------------------------------------------------------- data host


def _data_stage(id: str, code: str | None, action: Action | None = None, *, refused: bool = False,
                rc: int = 1) -> None:
    def build(kit: Kit) -> list[str]:
        if refused:
            url = f"http://127.0.0.1:{kit.free_port()}"
        else:
            assert action is not None
            url = kit.serve(routed([("/*", action)])).url()
        return kit.plain(kit.registry(Registry(data=url)))

    CASES.append(Case(id, build, code, rc))


_data_stage("data-refused", "DATA_ENDPOINT_BLOCKED", refused=True)
_data_stage("data-silence", "DATA_ENDPOINT_BLOCKED", silence)
_data_stage("data-close", "DATA_ENDPOINT_BLOCKED", close)
_data_stage("data-rst", "DATA_ENDPOINT_BLOCKED", rst)
_data_stage("data-garbage", "DATA_ENDPOINT_BLOCKED", garbage)
_data_stage("data-endless-headers", "DATA_ENDPOINT_BLOCKED", endless_headers)
_data_stage("data-drip", "DATA_ENDPOINT_BLOCKED", drip(b"HTTP/1.1 206 Partial\r\n"))
_data_stage("data-403", "DATA_ENDPOINT_DENIED", answer(403, body=b"<Error><Code>AuthorizationFailure</Code></Error>",
                                                       ctype="application/xml"))
_data_stage("data-redirect-file", "REGISTRY_REDIRECT_BAD_SCHEME", redirect("file:///etc/shadow"))
_data_stage("data-2GB", None, huge_body(status=206, ctype="application/octet-stream"), rc=0)


# ----------------------------------------------------------------------------- proxy CONNECT


def _proxy_stage(id: str, code: str, handle: Callable[[Conn], None] | None = None, *,
                 refused: bool = False) -> None:
    def build(kit: Kit) -> list[str]:
        reg = kit.registry(tls=True)
        if refused:
            url = f"http://127.0.0.1:{kit.free_port()}"
        else:
            assert handle is not None
            url = kit.serve(handle).url()
        return [*kit.tls(reg), "--proxy", url]

    CASES.append(Case(id, build, code))


def _after_connect(action: Action) -> Callable[[Conn], None]:
    return routed([], default=action)


_proxy_stage("proxy-refused", "PROXY_REFUSED", refused=True)
_proxy_stage("proxy-silence", "PROXY_NO_RESPONSE", _after_connect(silence))
_proxy_stage("proxy-close", "PROXY_CLOSED", _after_connect(close))
_proxy_stage("proxy-rst", "PROXY_CLOSED", _after_connect(rst))
_proxy_stage("proxy-garbage", "PROXY_NOT_HTTP", _after_connect(garbage))
_proxy_stage("proxy-http09", "PROXY_NOT_HTTP", _after_connect(http09(b"hello\n")))
_proxy_stage("proxy-endless-headers", "PROXY_NOT_HTTP", _after_connect(endless_headers))
_proxy_stage("proxy-10MB-header-line", "PROXY_NOT_HTTP", _after_connect(header_line()))
_proxy_stage("proxy-drip", "PROXY_NO_RESPONSE", _after_connect(drip(b"HTTP/1.1 200 Connection established\r\n")))
_proxy_stage("proxy-407", "PROXY_AUTH_REQUIRED", _after_connect(answer(
    407, [("Proxy-Authenticate", 'Basic realm="corp"')], b"", "text/html")))
_proxy_stage("proxy-2GB-403", "PROXY_DENIED", _after_connect(huge_body(status=403, ctype="text/html")))
_proxy_stage("proxy-200-then-garbage", "TLS_NOT_TLS", _after_connect(
    lambda conn, req: garbage(conn) if conn.send(b"HTTP/1.1 200 OK\r\n\r\n") else None))
_proxy_stage("proxy-200-then-silence", "TLS_HANDSHAKE_TIMEOUT", _after_connect(
    lambda conn, req: silence(conn) if conn.send(b"HTTP/1.1 200 OK\r\n\r\n") else None))


__all__ = ["CASES", "LAYER", "Case", "Kit"]
