"""The SOCKS5 hop (``net.socks``, ``probe.layers.socks_tunnel``) against scripted SOCKS5 servers on loopback.

Each server speaks RFC 1928/1929 byte by byte as the test scripts it: grants, each refusal, credentials
accepted or refused, no acceptable method, an HTTP proxy's answer, silence, a close. A granted stream
then reaches a loopback registry, so ``check``'s whole endpoint walk runs through it.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from hostile import certs
from hostile.servers import Conn, Server, answer, routed
from hostile.servers import _relay as relay
from regdoctor import net
from regdoctor.kb.codes import Code
from regdoctor.kb.socks import REPLIES
from regdoctor.net import Deadline
from regdoctor.net import socks as nsocks
from regdoctor.probe.endpoint import ProbeOptions, probe_endpoint


def _read(conn: Conn, n: int) -> bytes:
    buf = b""
    conn.sock.settimeout(5.0)
    while len(buf) < n:
        chunk = conn.sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("client went away")
        buf += chunk
    return buf


def socks5(*, rep: int = 0, need_auth: tuple[str, str] | None = None, methods_ok: bool = True,
           seen: list[bytes] | None = None) -> Callable[[Conn], None]:
    """A SOCKS5 server: the greeting, RFC 1929 when ``need_auth``, then CONNECT answered ``rep``
    (0: a stream to the loopback target, the only destination it will open)."""
    def handle(conn: Conn) -> None:
        _ver, n = _read(conn, 2)
        offered = _read(conn, n)
        if not methods_ok:
            conn.send(bytes([5, 0xFF]))
            return
        if need_auth is not None:
            if 2 not in offered:
                conn.send(bytes([5, 0xFF]))
                return
            conn.send(bytes([5, 2]))
            _, ulen = _read(conn, 2)
            user = _read(conn, ulen).decode()
            (plen,) = _read(conn, 1)
            pw = _read(conn, plen).decode()
            ok = (user, pw) == need_auth
            conn.send(bytes([1, 0 if ok else 1]))
            if not ok:
                return
        else:
            conn.send(bytes([5, 0]))
        head = _read(conn, 4)
        atyp = head[3]
        addr = _read(conn, 4) if atyp == 1 else _read(conn, 16) if atyp == 4 else _read(conn, _read(conn, 1)[0])
        port = int.from_bytes(_read(conn, 2), "big")
        if seen is not None:
            seen.append(head + addr)
        if rep != 0 or atyp != 1 or addr != bytes([127, 0, 0, 1]):
            conn.send(bytes([5, rep or 2, 0, 1, 0, 0, 0, 0, 0, 0]))
            return
        upstream = socket.create_connection(("127.0.0.1", port), timeout=5.0)
        conn.server.conns.append(upstream)
        conn.send(bytes([5, 0, 0, 1, 127, 0, 0, 1]) + (4242).to_bytes(2, "big"))
        relay(conn.sock, upstream)
    return handle


def _socket_to(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=2.0)


def test_a_granted_stream_carries_the_bytes(servers: list[Server]) -> None:
    echo = Server(lambda c: c.send(_read(c, 5)))
    proxy = Server(socks5())
    servers += [echo, proxy]
    sock = _socket_to(proxy)
    reply = nsocks.socks5_connect(sock, "127.0.0.1", echo.port, Deadline(2.0))
    assert (reply.rep, reply.status, reply.bound) == (0, 200, "127.0.0.1:4242")
    sock.sendall(b"hello")
    assert sock.recv(5) == b"hello"
    sock.close()


@pytest.mark.parametrize("rep", sorted(REPLIES))
def test_each_refusal_is_the_status_an_http_proxy_would_answer(servers: list[Server], rep: int) -> None:
    proxy = Server(socks5(rep=rep))
    servers.append(proxy)
    reply = nsocks.socks5_connect(_socket_to(proxy), "r.example", 443, Deadline(2.0))
    assert (reply.rep, reply.status, reply.reason) == (rep, REPLIES[rep][1], REPLIES[rep][0])


def test_a_name_goes_as_a_name_and_an_address_as_an_address(servers: list[Server]) -> None:
    seen: list[bytes] = []
    proxy = Server(socks5(rep=1, seen=seen))
    servers.append(proxy)
    for host in ("r.example", "10.1.2.3", "::1"):
        nsocks.socks5_connect(_socket_to(proxy), host, 443, Deadline(2.0))
        time.sleep(0.05)
    assert seen[0] == bytes([5, 1, 0, 3]) + b"r.example"  # ATYP 3: the proxy resolves, as Go asks it to
    assert seen[1] == bytes([5, 1, 0, 1, 10, 1, 2, 3])
    assert seen[2] == bytes([5, 1, 0, 4]) + bytes(15) + b"\x01"


def test_credentials_accepted_refused_and_missing(servers: list[Server]) -> None:
    echo = Server(lambda c: c.send(_read(c, 2)))
    proxy = Server(socks5(need_auth=("user", "p@ss")))
    servers += [echo, proxy]
    ok = nsocks.socks5_connect(_socket_to(proxy), "127.0.0.1", echo.port, Deadline(2.0), "user", "p%40ss")
    assert ok.rep == 0  # the URL's percent-encoding is undone, as Go's url.UserPassword is
    bad = nsocks.socks5_connect(_socket_to(proxy), "127.0.0.1", echo.port, Deadline(2.0), "user", "wrong")
    assert (bad.rep, bad.status, bad.reason) == (-1, 407, "username/password authentication failed")
    none = nsocks.socks5_connect(_socket_to(proxy), "127.0.0.1", echo.port, Deadline(2.0))
    assert (none.status, none.reason) == (407, "no acceptable authentication methods")


def test_an_http_proxy_a_silent_one_and_a_closing_one_raise_typed_errors(servers: list[Server]) -> None:
    http = Server(lambda c: (_read(c, 3), c.send(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")))
    silent = Server(lambda c: c.wait(5.0))
    closing = Server(lambda c: _read(c, 3))
    servers += [http, silent, closing]
    with pytest.raises(net.ProxyNotHttp, match="not SOCKS5"):
        nsocks.socks5_connect(_socket_to(http), "r.example", 443, Deadline(2.0))
    t0 = time.monotonic()
    with pytest.raises(net.ProxyNoResponse):
        nsocks.socks5_connect(_socket_to(silent), "r.example", 443, Deadline(0.3))
    assert time.monotonic() - t0 < 1.5  # the deadline holds
    with pytest.raises(net.ProxyClosed):
        nsocks.socks5_connect(_socket_to(closing), "r.example", 443, Deadline(2.0))


def _opts(tmp_path: Path, **kw: object) -> ProbeOptions:
    return ProbeOptions(timeout=0.5, env={}, ca_file=certs.ca_file(tmp_path), **kw)  # type: ignore[arg-type]


def test_check_walks_a_registry_through_a_socks5_proxy(servers: list[Server], tmp_path: Path) -> None:
    reg = Server(routed([("/v2/", answer(200))]), certs.server_context("good"))
    proxy = Server(socks5())
    servers += [reg, proxy]
    result, route, resp = probe_endpoint("127.0.0.1", reg.port, "registry",
                                         _opts(tmp_path, proxy=f"socks5h://127.0.0.1:{proxy.port}"))
    assert route is not None and resp is not None and resp.status == 200, result.steps
    assert any(s.name == "SOCKS5 CONNECT" and s.status == "pass" for s in result.steps)
    assert route.request("GET", "/v2/", Deadline(2.0)).status == 200  # the route re-dials through it


@pytest.mark.parametrize(("rep", "code"), [(2, Code.PROXY_DENIED), (4, Code.PROXY_UPSTREAM_FAILED),
                                           (7, Code.PROXY_UNEXPECTED_STATUS)])
def test_a_refusal_is_the_code_an_http_proxys_refusal_gets(servers: list[Server], tmp_path: Path, rep: int,
                                                             code: Code) -> None:
    proxy = Server(socks5(rep=rep))
    servers.append(proxy)
    # (a loopback target: the walk looks its name up as a client would, and a test sends nothing off loopback)
    result, route, _ = probe_endpoint("127.0.0.1", 9, "registry", _opts(tmp_path, proxy=f"socks5://127.0.0.1:{proxy.port}"))
    assert route is None
    failed = [s for s in result.steps if s.status == "fail"]
    assert [s.code for s in failed] == [code], result.steps
    assert "SOCKS5 reply" in failed[0].evidence["status_line"]


@pytest.mark.parametrize("rep", sorted(REPLIES))
def test_check_and_explain_read_a_refusal_alike(rep: int) -> None:
    """One table (kb.socks): the verdict check gives a reply and the code explain gives Go's words for it."""
    from regdoctor.classify import classify_connect_reply
    from regdoctor.explain import explain

    text, status = REPLIES[rep]
    probed = classify_connect_reply(status, text, [], b"").code
    read = explain(f'Get "https://r.example/v2/": socks connect tcp 127.0.0.1:1080->r.example:443: '
                   f"unknown error {text}")
    assert read.findings and read.findings[0].code == probed


def test_only_socks5_schemes_are_spoken_to_as_socks() -> None:
    """Go's transport speaks SOCKS5 for socks5:// and socks5h:// and dials any other scheme as an HTTP proxy."""
    from regdoctor.proxyconf.rules import parse_proxy_url

    assert [parse_proxy_url(v).socks for v in ("socks5://p:1", "socks5h://p:1", "socks4://p:1", "http://p:1")] == \
        [True, True, False, False]
