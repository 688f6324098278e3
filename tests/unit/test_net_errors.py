"""The network error tree maps to codes totally: every class, every errno, never by message."""

from __future__ import annotations

import errno

import pytest

from regdoctor import kb, net
from regdoctor.kb.codes import Code
from regdoctor.probe.errors import CODES, TO_PROXY, code_for


def test_every_leaf_class_has_its_code() -> None:
    leaves = net.leaf_classes()
    assert len(leaves) >= 30
    missing = [c.__name__ for c in leaves if c not in CODES]
    assert not missing, missing
    # the table names leaves only (a base class there would hide a missing leaf)
    assert set(CODES) <= set(leaves)


def test_codes_belong_to_the_failure_s_layer() -> None:
    """A TCP exception is a tcp code, a DNS exception a dns code (a reset during TLS/HTTP is TCP_RESET)."""
    for cls, code in CODES.items():
        layer = kb.code(code).layer
        assert layer == cls.layer or code == Code.TCP_RESET, (cls.__name__, code)


def test_the_proxy_table_covers_every_tcp_and_dns_failure() -> None:
    for cls in net.leaf_classes(net.TcpError) + net.leaf_classes(net.DnsError):
        assert cls in TO_PROXY, cls.__name__


@pytest.mark.parametrize("err", sorted(errno.errorcode))
def test_every_errno_lands_on_a_specific_class(err: int) -> None:
    """An errno no rule names is an honest TCP_CONNECT_FAILED / DNS_SOCKET_ERROR, never a guess."""
    tcp = net.tcp_error_class(err)("x", errno=err)
    dns = net.dns_error_class(err)("x", errno=err)
    assert code_for(tcp) in CODES.values() and code_for(dns) in CODES.values()
    assert tcp.info["errno_name"] == errno.errorcode[err]


@pytest.mark.parametrize(("err", "tcp", "dns"), [
    (errno.ECONNREFUSED, Code.TCP_REFUSED, Code.DNS_RESOLVER_UNREACHABLE),
    (errno.ENETUNREACH, Code.TCP_NET_UNREACHABLE, Code.DNS_NETWORK_UNREACHABLE),
    (errno.EHOSTUNREACH, Code.TCP_HOST_UNREACHABLE, Code.DNS_HOST_UNREACHABLE),
    (errno.ETIMEDOUT, Code.TCP_TIMEOUT, Code.DNS_TIMEOUT),
    (errno.EPERM, Code.TCP_LOCAL_POLICY, Code.DNS_LOCAL_POLICY),
    (errno.EADDRNOTAVAIL, Code.TCP_LOCAL_RESOURCE, Code.DNS_SOCKET_ERROR),
    (errno.EIO, Code.TCP_CONNECT_FAILED, Code.DNS_SOCKET_ERROR),
])
def test_errno_meanings(err: int, tcp: Code, dns: Code) -> None:
    assert code_for(net.tcp_error_class(err)("x")) == tcp
    assert code_for(net.dns_error_class(err)("x")) == dns


def test_to_proxy_keeps_local_faults_local() -> None:
    assert code_for(net.TcpRefused("x"), to_proxy=True) == Code.PROXY_REFUSED
    assert code_for(net.DnsNxdomain("x"), to_proxy=True) == Code.PROXY_UNRESOLVABLE
    assert code_for(net.TcpLocalPolicy("x"), to_proxy=True) == Code.TCP_LOCAL_POLICY


def test_a_class_the_table_does_not_know_gets_its_family_s_honest_code() -> None:
    """A leaf a future net/ adds without a table entry still lands on its layer's generic code."""
    import gc

    def family_code(layer: str) -> Code:
        future = type("FutureError", (net.NetError,), {"layer": layer, "kind": "future"})
        try:
            return code_for(future("x"))
        finally:
            del future
            gc.collect()  # drop it from NetError.__subclasses__(), which the totality tests walk

    assert [family_code(layer) for layer in ("dns", "tcp", "proxy", "tls", "http", "other")] == [
        Code.DNS_SOCKET_ERROR, Code.TCP_CONNECT_FAILED, Code.PROXY_CLOSED, Code.TLS_HANDSHAKE_FAILED,
        Code.HTTP_CONNECTION_CLOSED, Code.HTTP_CONNECTION_CLOSED]
    # a subclass of a known leaf inherits that leaf's code
    sub = type("SubRefused", (net.TcpRefused,), {})
    try:
        assert code_for(sub("x")) == Code.TCP_REFUSED
    finally:
        del sub
        gc.collect()
    assert all(c.__name__ not in ("FutureError", "SubRefused") for c in net.leaf_classes())
