"""Socket-level tests of ``net/`` and the layer functions of ``probe/``, on loopback, no root.

Each test talks to a scripted server of its own (``servers.py``, ``dnsserver.py``) and checks
the typed exception (or step code) and the evidence it carries. They take seconds, so a change
to ``net/`` that breaks a failure's type shows here first.
"""

from __future__ import annotations

import errno
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import dns.rcode
import h11
import pytest

from hostile import certs
from hostile.dnsserver import DnsServer, closed_udp_port, reply
from hostile.servers import (
    Conn,
    Request,
    Server,
    answer,
    close,
    endless_headers,
    garbage,
    head_bytes,
    routed,
    rst,
    silence,
    tunnel_to_loopback,
)
from regdoctor import net
from regdoctor.classify import classify_v2
from regdoctor.diagnose import diagnose
from regdoctor.kb.codes import Code
from regdoctor.net import Deadline, h11io
from regdoctor.net import dns as ndns
from regdoctor.net import http as nhttp
from regdoctor.net import proxy as nproxy
from regdoctor.net import tcp as ntcp
from regdoctor.net import tls as ntls
from regdoctor.probe import layers
from regdoctor.probe.endpoint import ProbeOptions, probe_endpoint
from regdoctor.probe.errors import code_for
from regdoctor.probe.route import Route, dial
from regdoctor.probe.steps import StepLog
from regdoctor.proxyconf.rules import parse_proxy_url


def serve(made: list[Server], handle: object, tls: str | None = None) -> Server:
    s = Server(handle, certs.server_context(tls) if tls else None)  # type: ignore[arg-type]
    made.append(s)
    return s


# ---------------------------------------------------------------------------------------- DNS


@pytest.fixture
def dns_servers() -> Iterator[list[DnsServer]]:
    made: list[DnsServer] = []
    yield made
    for s in made:
        s.stop()


def dns_server(made: list[DnsServer], script: object, tcp_script: object = None) -> DnsServer:
    s = DnsServer(script, tcp_script)  # type: ignore[arg-type]
    made.append(s)
    return s


def _a_and_aaaa(q: object) -> list[bytes]:
    qname = q.question[0].name.to_text()  # type: ignore[attr-defined]
    if q.question[0].rdtype == 1:  # type: ignore[attr-defined]
        return [reply(q, answers=(f"{qname} 60 IN CNAME edge.example.", "edge.example. 60 IN A 10.9.8.7"))]  # type: ignore[arg-type]
    return [reply(q, answers=(f"{qname} 60 IN CNAME edge.example.", "edge.example. 60 IN AAAA fd00::7"))]  # type: ignore[arg-type]


def test_dns_answer_follows_the_cname_chain(dns_servers: list[DnsServer]) -> None:
    s = dns_server(dns_servers, _a_and_aaaa)
    ans = ndns.query_chain("reg.example", Deadline(2.0), ["127.0.0.1"], port=s.port)
    assert ans.a == ("10.9.8.7",) and ans.aaaa == ("fd00::7",)
    assert ans.chain == (("reg.example", "edge.example"),) and ans.rcode == "NOERROR"
    assert ans.addresses == ("10.9.8.7", "fd00::7")


def test_dns_cname_loop_is_bounded(dns_servers: list[DnsServer]) -> None:
    s = dns_server(dns_servers, lambda q: [reply(q, answers=("reg.example. 60 IN CNAME b.example.",
                                                             "b.example. 60 IN CNAME reg.example."))])
    ans = ndns.query_chain("reg.example", Deadline(2.0), ["127.0.0.1"], port=s.port)
    assert ans.addresses == () and len(ans.chain) == 16


@pytest.mark.parametrize(("rcode", "cls"), [
    (dns.rcode.NXDOMAIN, net.DnsNxdomain), (dns.rcode.SERVFAIL, net.DnsServfail),
    (dns.rcode.REFUSED, net.DnsRefused), (dns.rcode.FORMERR, net.DnsSocketError),
])
def test_dns_rcodes_are_typed(dns_servers: list[DnsServer], rcode: int, cls: type[net.DnsError]) -> None:
    s = dns_server(dns_servers, lambda q: [reply(q, rcode)])
    with pytest.raises(cls) as info:
        ndns.query_chain("reg.example", Deadline(2.0), ["127.0.0.1"], port=s.port)
    assert info.value.info["rcode"] == dns.rcode.to_text(rcode)
    assert info.value.info["attempts"][0]["result"] == dns.rcode.to_text(rcode)
    assert info.value.peer == f"127.0.0.1:{s.port}"


def test_dns_servfail_moves_on_to_the_next_server(dns_servers: list[DnsServer]) -> None:
    seen: list[int] = []

    def script(q: object) -> list[bytes]:
        seen.append(1)
        return [reply(q, dns.rcode.SERVFAIL if len(seen) == 1 else dns.rcode.NOERROR,  # type: ignore[arg-type]
                      answers=() if len(seen) == 1 else ("reg.example. 60 IN A 10.0.0.1",))]

    s = dns_server(dns_servers, script)
    ans = ndns.query_chain("reg.example", Deadline(3.0), ["127.0.0.1", "127.0.0.1"], port=s.port)
    assert ans.a == ("10.0.0.1",)
    assert [a["result"] for a in ans.attempts] == ["SERVFAIL", "NOERROR"]


def test_dns_silence_is_a_timeout(dns_servers: list[DnsServer]) -> None:
    s = dns_server(dns_servers, lambda q: [])
    t0 = time.monotonic()
    with pytest.raises(net.DnsTimeout) as info:
        ndns.query_chain("reg.example", Deadline(0.4), ["127.0.0.1"], port=s.port)
    assert time.monotonic() - t0 < 1.5
    assert info.value.info["attempts"] == [{"nameserver": "127.0.0.1", "result": "timeout"}]
    assert info.value.message == "no answer from 127.0.0.1 for reg.example"
    assert info.value.peer == f"127.0.0.1:{s.port}" and info.value.info["resolver"] == "127.0.0.1"


def test_dns_deadline_is_shared_between_servers(dns_servers: list[DnsServer]) -> None:
    """Two silent servers each get half the deadline, as glibc's rotation would: both are asked."""
    s = dns_server(dns_servers, lambda q: [])
    t0 = time.monotonic()
    with pytest.raises(net.DnsTimeout) as info:
        ndns.query_chain("reg.example", Deadline(0.8), ["127.0.0.1", "127.0.0.1"], port=s.port)
    assert len(info.value.info["attempts"]) == 2 and len(s.queries) == 2
    assert time.monotonic() - t0 < 1.3


def test_dns_port_unreachable_is_resolver_unreachable_with_errno() -> None:
    with pytest.raises(net.DnsResolverUnreachable) as info:
        ndns.query_chain("reg.example", Deadline(1.0), ["127.0.0.1"], port=closed_udp_port())
    assert info.value.errno == errno.ECONNREFUSED
    attempt = info.value.info["attempts"][0]
    assert attempt["errno_name"] == "ECONNREFUSED" and attempt["result"] == "unreachable"
    assert "connection refused" in info.value.message


def test_dns_garbage_and_foreign_ids_are_skipped(dns_servers: list[DnsServer]) -> None:
    def script(q: object) -> list[bytes]:
        other = reply(q, answers=("reg.example. 60 IN A 10.6.6.6",))  # type: ignore[arg-type]
        foreign = bytes([other[0] ^ 0xFF, other[1]]) + other[2:]  # same answer, another query id
        return [b"\x00garbage", foreign, reply(q, answers=("reg.example. 60 IN A 10.0.0.2",))]  # type: ignore[arg-type]

    s = dns_server(dns_servers, script)
    assert ndns.query_chain("reg.example", Deadline(2.0), ["127.0.0.1"], port=s.port).a == ("10.0.0.2",)


def test_dns_truncated_answer_is_asked_again_over_tcp(dns_servers: list[DnsServer]) -> None:
    s = dns_server(dns_servers, lambda q: [reply(q, tc=True)],
                   lambda q: [reply(q, answers=("reg.example. 60 IN A 10.0.0.3",))])
    assert ndns.query_chain("reg.example", Deadline(2.0), ["127.0.0.1"], port=s.port).a == ("10.0.0.3",)


def test_dns_noerror_without_address_is_empty(dns_servers: list[DnsServer]) -> None:
    s = dns_server(dns_servers, lambda q: [reply(q)])
    ans = ndns.query_chain("reg.example", Deadline(2.0), ["127.0.0.1"], port=s.port)
    assert ans.addresses == () and ans.rcode == "NOERROR"


def test_dns_expired_deadline_asks_nobody() -> None:
    d = Deadline(0.0)
    with pytest.raises(net.DnsTimeout, match="no nameserver answered"):
        ndns.query_chain("reg.example", d, ["127.0.0.1"], port=closed_udp_port())


def test_dns_names_no_resolver_can_be_asked_for() -> None:
    for bad, reason in [("", "length"), ("a" * 254, "length"), ("a" * 64 + ".io", "label"), ("a..b", "label"),
                        ("\udcff.io", "idna"), ("a\0b.io", "chars"), ("-a.io", "chars"), ("a b.io", "chars")]:
        with pytest.raises(net.DnsNameInvalid) as info:
            ndns.check_name(bad)
        assert info.value.info["reason"] == reason, bad
    with pytest.raises(net.DnsNameInvalid):
        ndns.system_resolve("a" * 64 + ".io", 443, Deadline(1.0))


def test_system_resolver_reads_hosts_for_localhost() -> None:
    assert "127.0.0.1" in ndns.system_resolve("localhost", 443, Deadline(2.0))


def test_nameservers_from_resolv_conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 10.1.1.1\nnameserver bogus\nnameserver ::1\n")
    monkeypatch.setattr(ndns, "RESOLV_CONF", str(conf))
    assert ndns.nameservers() == ["10.1.1.1", "::1"]
    monkeypatch.setattr(ndns, "RESOLV_CONF", str(tmp_path / "missing"))
    assert ndns.nameservers() == ["127.0.0.1"]


def test_classify_address() -> None:
    assert [ndns.classify_address(a) for a in ("169.254.1.1", "0.0.0.0", "100.64.0.1", "8.8.8.8", "192.0.2.1")] == [
        "link-local", "other", "private", "public", "private"]


def test_observe_dns_puts_both_resolvers_side_by_side(dns_servers: list[DnsServer],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    s = dns_server(dns_servers, lambda q: [reply(q, dns.rcode.NXDOMAIN)])
    monkeypatch.setattr(ndns, "DNS_PORT", s.port)
    monkeypatch.setattr(ndns, "nameservers", lambda: ["127.0.0.1"])
    obs = layers.observe_dns("localhost", 443, Deadline(2.0))
    assert obs.dns_code == Code.DNS_NXDOMAIN and obs.dns_result == "NXDOMAIN"
    assert "127.0.0.1" in (obs.system_addresses or ()) and obs.resolver == "127.0.0.1"
    assert obs.dns_detail["dns_error"].startswith("127.0.0.1 answered NXDOMAIN")


def test_observe_dns_names_an_unreachable_resolver_by_errno(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ndns, "DNS_PORT", closed_udp_port())
    monkeypatch.setattr(ndns, "nameservers", lambda: ["127.0.0.1"])
    obs = layers.observe_dns("localhost", 443, Deadline(1.0))
    assert obs.dns_code == Code.DNS_RESOLVER_UNREACHABLE and obs.dns_result == "ECONNREFUSED"
    assert obs.dns_detail["errno_name"] == "ECONNREFUSED"


# ---------------------------------------------------------------------------------------- TCP


def test_tcp_connect_and_its_failures(servers: list[Server]) -> None:
    s = serve(servers, silence)
    ntcp.connect("127.0.0.1", s.port, Deadline(1.0)).close()
    with socket.socket() as free, pytest.raises(net.TcpRefused) as info:  # bound, not listening: refused
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
        ntcp.connect("127.0.0.1", port, Deadline(1.0))
    assert info.value.info["errno_name"] == "ECONNREFUSED" and info.value.peer == f"127.0.0.1:{port}"
    with pytest.raises(net.TcpTimeout):
        ntcp.connect("127.0.0.1", port, Deadline(0.0))


def test_tcp_syn_unanswered_is_a_timeout() -> None:
    """A full accept queue drops the SYN: the connect waits for its deadline, as for a blackhole."""
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(0)
        port = lst.getsockname()[1]
        held = []
        try:
            with pytest.raises(net.TcpTimeout) as info:
                for _ in range(8):
                    held.append(ntcp.connect("127.0.0.1", port, Deadline(0.3)))
            assert info.value.message == f"dial tcp 127.0.0.1:{port}: i/o timeout"
        finally:
            for h in held:
                h.close()


def test_tcp_error_for_names_ipv6_peers() -> None:
    e = ntcp.error_for(OSError(errno.EHOSTUNREACH, "x"), "fd00::1", 443)
    assert isinstance(e, net.TcpHostUnreachable) and e.peer == "[fd00::1]:443"
    assert e.message == "dial tcp [fd00::1]:443: no route to host"
    assert e.errno == errno.EHOSTUNREACH
    assert e.info == {"address": "fd00::1", "port": 443, "errno_text": "no route to host", "errno": errno.EHOSTUNREACH,
                      "errno_name": "EHOSTUNREACH", "peer": "[fd00::1]:443"}
    t = ntcp.error_for(TimeoutError(), "10.0.0.1", 5000, what="connect")
    assert t.message == "connect 10.0.0.1:5000: i/o timeout" and t.errno is None and "errno" not in t.info


def test_net_error_evidence() -> None:
    e = net.TcpRefused("m", errno=errno.ECONNREFUSED, peer="p:1", errno_name="custom")
    assert (e.message, e.errno, e.peer, str(e)) == ("m", errno.ECONNREFUSED, "p:1", "m")
    assert e.info == {"errno_name": "custom", "errno": errno.ECONNREFUSED, "peer": "p:1"}  # given values win
    assert net.TcpRefused("m").info == {} and (net.TcpRefused.layer, net.TcpRefused.kind) == ("tcp", "refused")
    assert net.errno_text(None) == "unknown error" and net.errno_name(0) is None


# ---------------------------------------------------------------------------------- h11 / HTTP


def _client(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=2.0)


@pytest.mark.parametrize(("action", "cls"), [
    (silence, net.HttpTimeout), (close, net.HttpClosed), (rst, net.HttpReset), (garbage, net.HttpMalformed),
    (endless_headers, net.HttpTooLarge),
])
def test_http_failures_are_typed(servers: list[Server], action: object, cls: type[net.HttpError]) -> None:
    s = serve(servers, routed([], default=action))  # type: ignore[arg-type]
    with _client(s) as sock, pytest.raises(cls) as info:
        nhttp.request(sock, "GET", "r", "/v2/", Deadline(0.5))
    assert "received" in info.value.info
    if cls is net.HttpMalformed:
        assert info.value.info["first_bytes"].startswith("SSH-2.0")


def tls_alert(conn: Conn, _req: Request | None = None) -> None:
    """A TLS listener's answer to a plain-HTTP request: an alert record (handshake failure), then close."""
    conn.send(b"\x15\x03\x01\x00\x02\x02\x28")
    conn.sock.close()


def test_a_tls_record_where_http_was_due_is_plain_http_sent_to_a_tls_port(servers: list[Server]) -> None:
    s = serve(servers, routed([], default=tls_alert))
    with _client(s) as sock, pytest.raises(net.HttpTlsAnswer) as info:
        nhttp.request(sock, "GET", "r", "/v2/", Deadline(1.0))
    assert info.value.layer == "tls" and code_for(info.value) == Code.TLS_CLIENT_PLAIN_HTTP


def test_http_response_head_and_bounded_body(servers: list[Server]) -> None:
    s = serve(servers, routed([("/v2/", answer(200, [("X-A", "1"), ("X-A", "2")], b"x" * 5000))]))
    with _client(s) as sock:
        r = nhttp.request(sock, "GET", "r", "/v2/", Deadline(2.0), [("Authorization", "Bearer t\u00f6k")],
                          max_body=100)
    assert r.status == 200 and r.truncated and len(r.body) == 100
    with _client(s) as sock:
        whole = nhttp.request(sock, "GET", "r", "/v2/", Deadline(2.0))
    assert whole.body == b"x" * 5000 and not whole.truncated and whole.reason == "OK"
    assert whole.headers[0] == ("content-type", "application/json")
    assert r.header_all("x-a") == ["1", "2"] and r.header("missing") is None
    assert r.content_type == "application/json" and r.head_s is not None and r.head_s >= 0
    assert s.requests[0].header("Authorization") == "Bearer t\u00c3\u00b6k"  # UTF-8 bytes, read as Latin-1


def test_http_body_cut_by_the_peer_keeps_the_head(servers: list[Server]) -> None:
    s = serve(servers, routed([], default=lambda conn, req: conn.send(head_bytes(
        200, [("Content-Length", "100")]) + b"half") and conn.rst()))
    with _client(s) as sock:
        r = nhttp.request(sock, "GET", "r", "/", Deadline(2.0))
    assert r.status == 200 and r.truncated and r.body == b"half"


def test_h11io_send_failures() -> None:
    # a socket whose write side we shut: EPIPE is "closed"
    a, b = socket.socketpair()
    with a, b:
        a.shutdown(socket.SHUT_WR)
        conn = h11.Connection(h11.CLIENT)
        with pytest.raises(h11io.ReadFailure) as info:
            h11io.send(a, conn, h11.Request(method="GET", target="/", headers=[("Host", "r")]), Deadline(1.0))
        assert info.value.kind == "closed" and info.value.errno == errno.EPIPE
    # a peer that never reads: a 20 MB request cannot be sent before the deadline
    a, b = socket.socketpair()
    with a, b:
        conn = h11.Connection(h11.CLIENT)
        with pytest.raises(h11io.ReadFailure) as info:
            h11io.send(a, conn, h11.Request(method="GET", target="/", headers=[("Host", "r"), ("X", "v" * 20_000_000)]),
                       Deadline(0.2))
        assert info.value.kind == "timeout"


def test_h11io_reset_while_sending(servers: list[Server]) -> None:
    s = serve(servers, rst)
    sock = _client(s)
    time.sleep(0.2)
    with sock, pytest.raises(h11io.ReadFailure) as info:
        for _ in range(5):  # the first write may still be taken before the RST arrives
            conn = h11.Connection(h11.CLIENT)
            h11io.send(sock, conn, h11.Request(method="GET", target="/", headers=[("Host", "r")]), Deadline(1.0))
            time.sleep(0.05)
    assert info.value.kind in ("reset", "closed")


def test_h11io_recv_on_a_dead_socket_is_closed() -> None:
    sock = socket.socket()
    with sock, pytest.raises(h11io.ReadFailure) as info:
        h11io.read(h11.Connection(h11.CLIENT), sock, Deadline(1.0), max_body=10)
    assert info.value.kind == "closed"


# -------------------------------------------------------------------------------- proxy CONNECT


def test_proxy_connect_sends_credentials_and_reads_the_reply(servers: list[Server]) -> None:
    s = serve(servers, routed([], default=answer(407, [("Proxy-Authenticate", "Basic realm=x")], b"no")))
    auth = nproxy.basic_auth("us%40er", "p%3Ass")
    assert auth == "Basic dXNAZXI6cDpzcw=="  # percent-decoded as the URL's userinfo
    with _client(s) as sock:
        reply = nproxy.connect_tunnel(sock, "fd00::1", 443, Deadline(2.0), auth)
    assert reply.status == 407 and reply.header("proxy-authenticate") == "Basic realm=x"
    assert reply.header("missing") is None
    assert s.requests[0].target == "[fd00::1]:443" and s.requests[0].header("Proxy-Authorization") == auth


@pytest.mark.parametrize(("action", "cls"), [
    (silence, net.ProxyNoResponse), (close, net.ProxyClosed), (rst, net.ProxyClosed), (garbage, net.ProxyNotHttp),
    (endless_headers, net.ProxyNotHttp),
])
def test_proxy_failures_are_typed(servers: list[Server], action: object, cls: type[net.ProxyError]) -> None:
    s = serve(servers, routed([], default=action))  # type: ignore[arg-type]
    with _client(s) as sock, pytest.raises(cls) as info:
        nproxy.connect_tunnel(sock, "r.io", 443, Deadline(0.5))
    assert info.value.peer == f"127.0.0.1:{s.port}" and info.value.message.startswith("CONNECT r.io:443:")


def test_proxy_bytes_past_the_head_are_kept(servers: list[Server]) -> None:
    s = serve(servers, routed([], default=lambda conn, req: conn.send(b"HTTP/1.1 200 OK\r\n\r\nSSH-2.0-x\r\n")))
    with _client(s) as sock:
        time.sleep(0.1)
        reply = nproxy.connect_tunnel(sock, "r.io", 443, Deadline(2.0))
    assert reply.status == 200 and reply.leftover.startswith(b"SSH-2.0")
    assert net.peer_of(socket.socket()) is None


# ---------------------------------------------------------------------------------------- TLS


def _tls(server: Server, ca: str | None, deadline: float = 2.0,
         sni: str = "127.0.0.1") -> tuple[ssl.SSLSocket, ntls.TlsInfo]:
    sock = _client(server)
    try:
        return ntls.handshake(sock, sni, ntls.make_context(ca), Deadline(deadline))
    except BaseException:
        sock.close()
        raise


def test_tls_handshake_reads_the_chain(servers: list[Server], tmp_path: Path) -> None:
    s = serve(servers, silence, "good")
    ssock, info = _tls(s, certs.ca_file(tmp_path))
    ssock.close()
    assert info.verified and info.version.startswith("TLS") and info.sni == "127.0.0.1"
    leaf = info.chain[0]
    assert "IP:127.0.0.1" in leaf.sans and leaf.issuer_org == "regdoctor hostile CA" and not leaf.self_issued
    assert set(leaf.as_dict()) == {"subject", "issuer", "sans", "not_before", "not_after", "serial", "sha256"}


@pytest.mark.parametrize(("kind", "verify_kind"), [
    ("expired", "expired"), ("wrong_name", "name_mismatch"), ("unknown_ca", "unknown_ca")])
def test_tls_verify_failures_name_their_kind(servers: list[Server], tmp_path: Path, kind: str,
                                             verify_kind: str) -> None:
    s = serve(servers, silence, kind)
    with pytest.raises(net.TlsVerifyFailed) as info:
        _tls(s, certs.ca_file(tmp_path))
    assert info.value.info["verify_kind"] == verify_kind
    assert isinstance(info.value.info["verify_code"], int) and info.value.info["verify_message"]
    assert info.value.message == f"certificate verify failed: {info.value.info['verify_message']}"


def test_tls_unverified_handshake_decodes_the_leaf_with_cryptography(servers: list[Server]) -> None:
    s = serve(servers, silence, "wrong_name")
    sock = _client(s)
    ssock, info = ntls.handshake(sock, "127.0.0.1", ntls.make_context(verify=False), Deadline(2.0))
    ssock.close()
    assert not info.verified and info.chain[0].sans == ("registry.other.example",)
    assert info.chain[0].issuer_org == "regdoctor hostile CA"


@pytest.mark.parametrize(("action", "cls"), [
    (silence, net.TlsTimeout), (rst, net.TlsReset), (garbage, net.TlsNotTls)])
def test_tls_failures_are_typed(servers: list[Server], tmp_path: Path, action: object,
                                cls: type[net.TlsError]) -> None:
    s = serve(servers, action)
    with pytest.raises(cls):
        _tls(s, certs.ca_file(tmp_path), deadline=0.5)


def test_tls_peer_closing_after_the_hello_is_closed(servers: list[Server], tmp_path: Path) -> None:
    def read_then_close(conn: object) -> None:
        conn.sock.recv(65536)  # type: ignore[attr-defined]
        conn.sock.close()  # type: ignore[attr-defined]

    s = serve(servers, read_then_close)
    with pytest.raises(net.TlsClosed):
        _tls(s, certs.ca_file(tmp_path))


def test_tls_context_keeps_going_past_unreadable_extra_cas(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate")
    ctx = ntls.make_context(None, extra=[str(bad), str(tmp_path / "missing.pem"), certs.ca_file(tmp_path)])
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname


def test_tls_spoke_first() -> None:
    e = ntls.spoke_first(b"\x00\xffSSH")
    assert isinstance(e, net.TlsNotTls) and e.info["reason"] == "SPOKE_FIRST"
    assert e.info["first_bytes"] == "\\x00\\xffSSH"


# ------------------------------------------------------------------------- probe layers, routes


def _opts(tmp_path: Path, **kw: object) -> ProbeOptions:
    return ProbeOptions(timeout=0.5, env={}, ca_file=certs.ca_file(tmp_path), **kw)  # type: ignore[arg-type]


def test_decide_proxy_rules() -> None:
    def plan(env: dict[str, str], proxy: str | None = None) -> layers.ProxyPlan:
        return layers.decide_proxy("r.io", 443, ProbeOptions(env=env, proxy=proxy))

    assert plan({"HTTPS_PROXY": "http://[bad"}).step.code == Code.PROXY_BAD_URL
    assert plan({}, "socks5://127.0.0.1:1080").step.status == "pass"  # a SOCKS5 proxy is probed (net/socks)
    assert plan({}, "http://[::1").step.code == Code.PROXY_BAD_URL
    assert plan({"ALL_PROXY": "http://p:1"}).step.code == Code.PROXY_RULES_DIFFER
    http_only = plan({"HTTP_PROXY": "http://user:secret@p:1"})
    assert http_only.step.code == Code.PROXY_HTTP_ONLY and "secret" not in str(http_only.step.evidence)
    none = plan({"HTTPS_PROXY": "http://p:1"}, "none")
    assert none.proxy is None and none.step.status == "pass" and "--proxy none" in none.step.summary
    via = plan({}, "http://u:pw@127.0.0.1:3128")
    assert via.proxy is not None and via.step.evidence["proxy_address"] == "127.0.0.1:3128"
    assert "pw" not in via.step.summary


def test_resolve_localhost_without_dns() -> None:
    log = StepLog()
    assert "127.0.0.1" in layers.resolve(log, "localhost", 443, ProbeOptions(timeout=1.0), proxied=False)
    assert log.steps[0].status == "skip" and "no DNS lookup needed" in log.steps[0].summary


def test_connect_proxy_that_does_not_resolve(tmp_path: Path) -> None:
    log = StepLog()
    proxy = parse_proxy_url("http://" + "a" * 64 + ".example:3128")
    assert layers.connect_proxy(log, proxy, _opts(tmp_path)) is None
    assert log.steps[0].code == Code.PROXY_UNRESOLVABLE


def test_connect_direct_without_addresses(tmp_path: Path) -> None:
    log = StepLog()
    assert layers.connect_direct(log, [], 443, _opts(tmp_path)) is None
    assert log.steps[0].code == Code.DNS_NODATA


def test_connect_direct_tries_the_next_address(servers: list[Server], tmp_path: Path) -> None:
    s = serve(servers, silence)  # listens on 127.0.0.1 only: the same port on 127.0.0.2 refuses
    log = StepLog()
    conn = layers.connect_direct(log, ["127.0.0.2", "127.0.0.1"], s.port, _opts(tmp_path))
    assert conn is not None and conn.address == "127.0.0.1"
    conn.sock.close()
    assert [a["result"] for a in log.steps[0].evidence["attempts"]] == ["refused", "connected"]


def test_https_proxy_tunnel(servers: list[Server], tmp_path: Path) -> None:
    reg = serve(servers, routed([("/v2/", answer(200))]), "good")
    proxy = serve(servers, routed([], default=tunnel_to_loopback), "good")
    opts = _opts(tmp_path, proxy=proxy.url())
    result, route, resp = probe_endpoint("127.0.0.1", reg.port, "registry", opts)
    assert route is not None and resp is not None and resp.status == 200, result.steps
    assert route.proxy is not None and route.proxy.scheme == "https"
    assert route.request("GET", "/v2/", Deadline(2.0)).status == 200  # the route re-dials the same path


def test_https_scheme_on_a_plain_proxy(servers: list[Server], tmp_path: Path) -> None:
    reg = serve(servers, routed([("/v2/", answer(200))]), "good")


    def http_proxy(conn: object) -> None:  # a plain proxy answers a ClientHello with 400, as squid does
        conn.sock.settimeout(2.0)  # type: ignore[attr-defined]
        conn.sock.recv(65536)  # type: ignore[attr-defined]
        conn.sock.sendall(head_bytes(400, [("Content-Length", "0"), ("Connection", "close")]))  # type: ignore[attr-defined]

    proxy = serve(servers, http_proxy)
    result, route, _ = probe_endpoint("127.0.0.1", reg.port, "registry",
                                      _opts(tmp_path, proxy=proxy.url().replace("http:", "https:")))
    assert route is None
    assert [s.code for s in result.steps if s.code] == [Code.PROXY_HTTPS_SCHEME_ON_HTTP_PROXY]


def test_tunnel_with_early_bytes_over_plain_http(servers: list[Server], tmp_path: Path) -> None:
    proxy = serve(servers, routed([], default=lambda conn, req: conn.send(b"HTTP/1.1 200 OK\r\n\r\nSSH-2.0-x\r\n")
                                  and conn.wait(2.0)))
    with pytest.raises(net.HttpMalformed):  # a plain-HTTP request tunnelled through CONNECT
        dial("127.0.0.1", 1, None, parse_proxy_url(proxy.url()), _opts(tmp_path), Deadline(1.0), "http")
    # the HTTP layer, given a tunnel whose far end spoke first
    conn = layers.Connected(socket.socket(), None, early=b"SSH-2.0-x\r\n")
    log = StepLog()
    never = classify_v2  # the check is never reached: the layer fails first
    assert layers.http(log, conn, "r", "/v2/", _opts(tmp_path), lambda r: never(200, "", [], b""), [],
                       base={"path": "/v2/"}) is None
    step = log.steps[0]
    assert step.code == Code.HTTP_MALFORMED_RESPONSE and step.evidence["first_bytes"] == "SSH-2.0-x\\r\\n"
    with pytest.raises(net.TlsNotTls):
        dial("127.0.0.1", 1, None, parse_proxy_url(proxy.url()), _opts(tmp_path), Deadline(1.0))


def test_dial_refusals(servers: list[Server], tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs an address"):
        dial("r.io", 443, None, None, _opts(tmp_path), Deadline(1.0))
    proxy = serve(servers, routed([], default=answer(403, body=b"denied", ctype="text/html")))
    with pytest.raises(net.ProxyStatus) as info:
        dial("127.0.0.1", 1, None, parse_proxy_url(proxy.url()), _opts(tmp_path), Deadline(1.0))
    assert info.value.info["status"] == 403


def test_tls_failure_reads_the_chain_it_was_shown(servers: list[Server], tmp_path: Path) -> None:
    reg = serve(servers, routed([("/v2/", answer(200))]), "unknown_ca")
    result, route, _ = probe_endpoint("127.0.0.1", reg.port, "registry", _opts(tmp_path))
    tls_step = next(s for s in result.steps if s.layer == "tls")
    assert route is None and tls_step.code == Code.TLS_UNKNOWN_CA
    assert tls_step.evidence["chain"][0]["issuer"].endswith("O=someone else")


def test_tls_not_tls_says_what_the_peer_speaks(servers: list[Server], tmp_path: Path) -> None:
    def http_server(conn: object) -> None:
        conn.sock.settimeout(2.0)  # type: ignore[attr-defined]
        data = conn.sock.recv(65536)  # type: ignore[attr-defined]
        if data.startswith(b"\x16"):
            conn.sock.sendall(head_bytes(400, [("Content-Length", "0")]))  # type: ignore[attr-defined]
            return
        conn.sock.sendall(head_bytes(401, [("Content-Length", "0"), ("Docker-Distribution-Api-Version",  # type: ignore[attr-defined]
                                                                       "registry/2.0")]))

    reg = serve(servers, http_server)
    result, _, _ = probe_endpoint("127.0.0.1", reg.port, "registry", _opts(tmp_path))
    tls_step = next(s for s in result.steps if s.layer == "tls")
    assert tls_step.code == Code.TLS_NOT_TLS
    assert tls_step.evidence["peer_speaks"] == "plain HTTP (HTTP/1.1 401 Unauthorized, registry/2.0)"


def test_route_request_through_plain_connection(servers: list[Server], tmp_path: Path) -> None:
    reg = serve(servers, routed([("/v2/x", answer(200, body=b"ok"))]))
    route = Route(host="127.0.0.1", port=reg.port, scheme="http", address="127.0.0.1", proxy=None, ctx=None,
                  opts=_opts(tmp_path, plain_http=True))
    assert route.host_header == f"127.0.0.1:{reg.port}"
    assert route.request("GET", "/v2/x", Deadline(2.0)).body == b"ok"


def test_silent_threads_do_not_outlive_the_deadline(servers: list[Server], tmp_path: Path) -> None:
    s = serve(servers, silence)
    before = threading.active_count()
    t0 = time.monotonic()
    result, _, _ = probe_endpoint("127.0.0.1", s.port, "registry", _opts(tmp_path, plain_http=True))
    assert time.monotonic() - t0 < 1.5
    assert [x.code for x in result.steps if x.code] == [Code.HTTP_NO_RESPONSE]
    assert threading.active_count() <= before + 2  # the server's own connection thread


# ------------------------------------------------------------------ bounds and evidence, exactly


def _chunked(pieces: list[bytes]) -> object:
    def act(conn: object, req: object) -> None:
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"
        conn.send(head_bytes(200, [("Transfer-Encoding", "chunked")]) + body)  # type: ignore[attr-defined]

    return act


@pytest.mark.parametrize(("max_body", "truncated"), [(30, False), (31, False), (29, True), (10, True)])
def test_body_bound_is_exact_across_chunks(servers: list[Server], max_body: int, truncated: bool) -> None:
    s = serve(servers, routed([], default=_chunked([b"0123456789", b"abcdefghij", b"ABCDEFGHIJ"])))  # type: ignore[arg-type]
    with _client(s) as sock:
        r = nhttp.request(sock, "GET", "r", "/", Deadline(2.0), max_body=max_body)
    assert r.body == b"0123456789abcdefghijABCDEFGHIJ"[:max_body] and r.truncated is truncated


def test_not_http_evidence_is_the_first_80_bytes(servers: list[Server]) -> None:
    noise = b"".join(b"%03d|" % i for i in range(100))  # 400 bytes, no line end: h11 waits, then EOF
    s = serve(servers, routed([], default=lambda conn, req: conn.send(noise) and conn.sock.close()))
    with _client(s) as sock, pytest.raises(net.HttpMalformed) as info:
        nhttp.request(sock, "GET", "r", "/", Deadline(2.0))
    assert info.value.info["first_bytes"] == noise[:80].decode()
    assert info.value.info["received"] == len(noise)
    assert info.value.message == f"the peer answered {noise[:80].decode()!r} (not HTTP) and closed"


@pytest.mark.parametrize(("action", "message", "errno_"), [
    (silence, "no response before the deadline", None),
    (close, "the peer closed the connection without a response", None),
    (rst, "connection reset by peer before a response", errno.ECONNRESET),
])
def test_http_failure_messages_and_errno(servers: list[Server], action: object, message: str,
                                         errno_: int | None) -> None:
    s = serve(servers, routed([], default=action))  # type: ignore[arg-type]
    with _client(s) as sock, pytest.raises(net.HttpError) as info:
        nhttp.request(sock, "GET", "r", "/", Deadline(0.5))
    assert info.value.message == message and info.value.errno == errno_ and info.value.info["received"] == 0


def test_head_time_is_measured_from_the_send(servers: list[Server]) -> None:
    def slow(conn: object, req: object) -> None:
        time.sleep(0.3)
        answer(200)(conn, req)  # type: ignore[arg-type]

    s = serve(servers, routed([], default=slow))
    t0 = time.monotonic()
    with _client(s) as sock:
        r = nhttp.request(sock, "POST", "r", "/token", Deadline(2.0), body=b"grant_type=x")
    assert r.head_s is not None and 0.25 < r.head_s <= time.monotonic() - t0
    assert s.requests[0].method == "POST" and s.requests[0].header("Content-Length") == "12"


def test_proxy_failure_evidence(servers: list[Server]) -> None:
    s = serve(servers, routed([], default=rst))
    with _client(s) as sock, pytest.raises(net.ProxyClosed) as info:
        nproxy.connect_tunnel(sock, "r.io", 443, Deadline(1.0))
    assert info.value.errno == errno.ECONNRESET and info.value.info["reset"] is True
    s2 = serve(servers, routed([], default=close))
    with _client(s2) as sock, pytest.raises(net.ProxyClosed) as info:
        nproxy.connect_tunnel(sock, "r.io", 443, Deadline(1.0))
    assert info.value.info["reset"] is False
    assert info.value.message == "CONNECT r.io:443: the peer closed the connection without a response"


def test_proxy_reply_keeps_reason_and_body(servers: list[Server]) -> None:
    s = serve(servers, routed([], default=answer(403, body=b"denied by policy", ctype="text/html",
                                                 reason="Forbidden by corp")))
    with _client(s) as sock:
        reply = nproxy.connect_tunnel(sock, "r.io", 443, Deadline(1.0))
    assert (reply.status, reply.reason, reply.body) == (403, "Forbidden by corp", b"denied by policy")


def test_tcp_over_ipv6_loopback() -> None:
    with socket.socket(socket.AF_INET6) as lst:
        lst.bind(("::1", 0))
        lst.listen(1)
        port = lst.getsockname()[1]
        ntcp.connect("::1", port, Deadline(1.0)).close()
    with socket.socket(socket.AF_INET6) as free, pytest.raises(net.TcpRefused) as info:
        free.bind(("::1", 0))
        port = free.getsockname()[1]
        ntcp.connect("::1", port, Deadline(1.0))
    assert info.value.peer == f"[::1]:{port}" and info.value.info["port"] == port
    t = ntcp.error_for(TimeoutError(), "::1", 5)
    assert t.info == {"peer": "[::1]:5", "address": "::1", "port": 5, "errno_text": "i/o timeout"}
    with pytest.raises(net.TcpTimeout) as tinfo:
        ntcp.connect("::1", port, Deadline(0.0))
    assert tinfo.value.info["port"] == port


def test_certificate_fields_match_cryptography(servers: list[Server], tmp_path: Path) -> None:
    """The leaf read from OpenSSL's decoding (verified) and from DER (unverified) is the same certificate,
    field by field, as cryptography reads it."""
    from cryptography import x509

    s = serve(servers, silence, "good")
    ssock, verified = _tls(s, certs.ca_file(tmp_path))
    der = ssock.getpeercert(binary_form=True)
    ssock.close()
    sock = _client(s)
    usock, unverified = ntls.handshake(sock, "127.0.0.1", ntls.make_context(verify=False), Deadline(2.0))
    usock.close()
    cert = x509.load_der_x509_certificate(der)
    for leaf in (verified.chain[0], unverified.chain[0]):
        assert leaf.subject == cert.subject.rfc4514_string() and leaf.issuer == cert.issuer.rfc4514_string()
        assert leaf.serial == format(cert.serial_number, "x") and leaf.sha256 == __import__("hashlib").sha256(
            der).hexdigest()
        assert leaf.not_after == cert.not_valid_after_utc.isoformat()
        assert leaf.not_before == cert.not_valid_before_utc.isoformat()
        assert leaf.issuer_org == "regdoctor hostile CA" and leaf.self_issued is False
        assert set(leaf.sans) == {"IP:127.0.0.1", "localhost"}
    assert verified.alpn == "http/1.1" and unverified.verified is False


def test_rdn_escaping_matches_rfc4514() -> None:
    name = ((("commonName", "a,b+c\\d"),), (("organizationName", "Org"),), (("organizationName", "Second"),))
    text, org = ntls._name(name)
    assert (text, org) == ("O=Second,O=Org,CN=a\\,b\\+c\\\\d", "Org")
    assert ntls._name(((("madeUpKey", "v"),),)) == ("madeUpKey=v", None)
    info = {"subject": ((("commonName", "x"),),), "issuer": ((("commonName", "x"),),), "serialNumber": "00AB",
            "notBefore": "Jan  1 00:00:00 2026 GMT", "notAfter": "Jan  1 00:00:00 2027 GMT",
            "subjectAltName": (("DNS", "r.io"), ("IP Address", "10.0.0.1\n"), ("email", "e@x"))}
    c = ntls.cert_info(info, b"der")
    assert (c.serial, c.self_issued, c.sans, c.not_before) == ("ab", True, ("r.io", "IP:10.0.0.1"),
                                                               "2026-01-01T00:00:00+00:00")
    assert ntls.cert_info({**info, "serialNumber": "000"}, b"").serial == "0"


def test_context_alpn_and_unverified_mode() -> None:
    ctx = ntls.make_context(verify=False)
    assert ctx.check_hostname is False and ctx.verify_mode == ssl.CERT_NONE


@pytest.mark.parametrize("kind", ["unknown_ca", "expired", "wrong_name"])
def test_a_registry_the_actor_marks_insecure_is_not_verified(servers: list[Server], tmp_path: Path,
                                                             kind: str) -> None:
    # check --as: daemon.json insecure-registries, registries.conf insecure, hosts.toml skip_verify
    reg = serve(servers, routed([("/v2/", answer(200, [("Docker-Distribution-API-Version", "registry/2.0")]))]), kind)
    strict, _, _ = probe_endpoint("127.0.0.1", reg.port, "registry", _opts(tmp_path))
    assert strict.failed and next(s for s in strict.steps if s.layer == "tls").status == "fail"
    opts = _opts(tmp_path, insecure=frozenset({f"127.0.0.1:{reg.port}"}))
    result, route, resp = probe_endpoint("127.0.0.1", reg.port, "registry", opts)
    assert route is not None and resp is not None and resp.status == 200, result.steps
    tls = next(s for s in result.steps if s.layer == "tls")
    assert tls.status == "pass" and tls.code == Code.TLS_VERIFY_SKIPPED and tls.evidence["verify_error"]
    assert route.request("GET", "/v2/", Deadline(2.0)).status == 200  # the route keeps the unverified context
    [note] = diagnose([result])
    assert note.code == Code.TLS_VERIFY_SKIPPED and not note.root_cause and note.severity == "info"


def test_an_insecure_registry_without_tls_is_reached_over_plain_http(servers: list[Server], tmp_path: Path) -> None:
    # docker and containers/image try plain HTTP after https for an insecure registry
    reg = serve(servers, routed([("/v2/", answer(200, [("Docker-Distribution-API-Version", "registry/2.0")]))]))
    strict, _, _ = probe_endpoint("127.0.0.1", reg.port, "registry", _opts(tmp_path))
    assert strict.failed
    opts = _opts(tmp_path, insecure=frozenset({f"127.0.0.1:{reg.port}"}))
    result, route, resp = probe_endpoint("127.0.0.1", reg.port, "registry", opts)
    assert route is not None and route.scheme == "http" and result.scheme == "http", result.steps
    assert resp is not None and resp.status == 200
    tls = next(s for s in result.steps if s.layer == "tls")
    assert tls.code == Code.TLS_PLAIN_HTTP_FALLBACK and tls.status == "pass"
    assert route.request("GET", "/v2/", Deadline(2.0)).status == 200
