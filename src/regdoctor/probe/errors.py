"""The one table from a network exception's type to its catalogue code.

Strategy
--------
``net/`` raises one exception class per phase and kind (the tree is drawn in its docstring);
this module is the only place that turns them into codes, by type, never by message text.
Both tables are total: ``tests/unit/test_net_errors.py`` walks every leaf class of the tree,
and every errno the kernel defines, and checks each lands on a code of its own. An errno no
rule names becomes ``TcpSocketError`` / ``DnsSocketError`` and so ``TCP_CONNECT_FAILED`` /
``DNS_SOCKET_ERROR``, with the errno as evidence: an honest "this failed, here is how",
never a guess at a cause.

On the way to a proxy, a TCP or DNS failure is the proxy's (``PROXY_*``), except where the
fault is local to this machine (a policy or resource refusal), which stays what it is.
"""

from __future__ import annotations

from regdoctor import net
from regdoctor.kb.codes import Code

CODES: dict[type[net.NetError], Code] = {
    net.DnsNameInvalid: Code.DNS_NAME_INVALID,
    net.DnsNxdomain: Code.DNS_NXDOMAIN,
    net.DnsNoData: Code.DNS_NODATA,
    net.DnsServfail: Code.DNS_SERVFAIL,
    net.DnsRefused: Code.DNS_REFUSED,
    net.DnsTimeout: Code.DNS_TIMEOUT,
    net.DnsResolverUnreachable: Code.DNS_RESOLVER_UNREACHABLE,
    net.DnsNetworkUnreachable: Code.DNS_NETWORK_UNREACHABLE,
    net.DnsHostUnreachable: Code.DNS_HOST_UNREACHABLE,
    net.DnsLocalPolicy: Code.DNS_LOCAL_POLICY,
    net.DnsSocketError: Code.DNS_SOCKET_ERROR,
    net.DnsSystemFailed: Code.DNS_SYSTEM_RESOLVER_FAILED,
    net.TcpRefused: Code.TCP_REFUSED,
    net.TcpTimeout: Code.TCP_TIMEOUT,
    net.TcpHostUnreachable: Code.TCP_HOST_UNREACHABLE,
    net.TcpNetUnreachable: Code.TCP_NET_UNREACHABLE,
    net.TcpReset: Code.TCP_RESET,
    net.TcpLocalPolicy: Code.TCP_LOCAL_POLICY,
    net.TcpLocalResource: Code.TCP_LOCAL_RESOURCE,
    net.TcpSocketError: Code.TCP_CONNECT_FAILED,
    net.ProxyClosed: Code.PROXY_CLOSED,
    net.ProxyNoResponse: Code.PROXY_NO_RESPONSE,
    net.ProxyNotHttp: Code.PROXY_NOT_HTTP,
    net.ProxyStatus: Code.PROXY_UNEXPECTED_STATUS,
    net.TlsVerifyFailed: Code.TLS_HANDSHAKE_FAILED,
    net.TlsTimeout: Code.TLS_HANDSHAKE_TIMEOUT,
    net.TlsClosed: Code.TLS_HANDSHAKE_CLOSED,
    net.TlsReset: Code.TCP_RESET,
    net.TlsNotTls: Code.TLS_NOT_TLS,
    net.TlsProtocolError: Code.TLS_HANDSHAKE_FAILED,
    net.HttpTimeout: Code.HTTP_NO_RESPONSE,
    net.HttpClosed: Code.HTTP_CONNECTION_CLOSED,
    net.HttpReset: Code.TCP_RESET,
    net.HttpMalformed: Code.HTTP_MALFORMED_RESPONSE,
    net.HttpTlsAnswer: Code.TLS_CLIENT_PLAIN_HTTP,
    net.HttpTooLarge: Code.HTTP_RESPONSE_TOO_LARGE,
}

#: A failure reaching the proxy itself (resolving its name, connecting to it).
TO_PROXY: dict[type[net.NetError], Code] = {
    net.TcpRefused: Code.PROXY_REFUSED,
    net.TcpTimeout: Code.PROXY_TIMEOUT,
    net.TcpHostUnreachable: Code.PROXY_UNREACHABLE,
    net.TcpNetUnreachable: Code.PROXY_UNREACHABLE,
    net.TcpReset: Code.PROXY_CLOSED,
    net.TcpLocalPolicy: Code.TCP_LOCAL_POLICY,
    net.TcpLocalResource: Code.TCP_LOCAL_RESOURCE,
    net.TcpSocketError: Code.TCP_CONNECT_FAILED,
    **{cls: Code.PROXY_UNRESOLVABLE for cls in net.leaf_classes(net.DnsError)},
}


def code_for(exc: net.NetError, *, to_proxy: bool = False) -> Code:
    """The code of a network exception (on the way to the proxy when ``to_proxy``).

    >>> code_for(net.TcpRefused("x")), code_for(net.TcpRefused("x"), to_proxy=True)
    ('TCP_REFUSED', 'PROXY_REFUSED')
    >>> code_for(net.DnsNetworkUnreachable("x"))
    'DNS_NETWORK_UNREACHABLE'
    """
    if to_proxy and type(exc) in TO_PROXY:
        return TO_PROXY[type(exc)]
    # a subclass a future net/ adds still gets its family's honest code (the test keeps this unused)
    for cls in type(exc).__mro__:
        if cls in CODES:
            return CODES[cls]
    return {"dns": Code.DNS_SOCKET_ERROR, "tcp": Code.TCP_CONNECT_FAILED, "proxy": Code.PROXY_CLOSED,
            "tls": Code.TLS_HANDSHAKE_FAILED}.get(exc.layer, Code.HTTP_CONNECTION_CLOSED)


__all__ = ["CODES", "TO_PROXY", "code_for"]
