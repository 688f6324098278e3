"""Addresses as the ACR firewall sees them: IP rule ranges, client addresses, public or not.

Strategy
--------
An ``ipRules`` entry is "the IP or IP range in CIDR format. Only IPV4 address is allowed"
(REST spec, ``IPRule.value``): ``a.b.c.d`` or ``a.b.c.d/n``. ``parse_rule`` accepts exactly that
written form — dotted quad, decimal prefix 0-32 — and says what is wrong with anything else
(an IPv6 range, a netmask, leading zeros, text) instead of guessing. A range written with host
bits set (``20.1.2.3/24``) is read as the network that contains it, and flagged, because which of
the two the service stores is not documented (inferred).

The address a client is judged by is the one the registry sees. An IPv4-mapped IPv6 address
(``::ffff:20.1.2.3``) is that IPv4 address. Private-use ranges (RFC 1918, shared CGNAT space,
loopback, link-local, ULA) never arrive from the internet; documentation ranges (``203.0.113.0/24``
…) are treated as public on purpose: they stand for public addresses in examples.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_PRIVATE_V4 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                                                      "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8"))
_PRIVATE_V6 = tuple(ipaddress.IPv6Network(n) for n in ("fc00::/7", "fe80::/10", "::1/128", "::/128"))
# The written form of IPRule.value: a dotted quad, optionally /prefix (decimal, no leading zeros).
_RULE = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:/(0|[1-9]\d?))?")


@dataclass(frozen=True)
class RuleRange:
    """An ``ipRules`` value as the model reads it: the network, or why it admits nobody."""

    text: str
    network: ipaddress.IPv4Network | None
    problem: str | None = None
    #: Written with host bits set (``20.1.2.3/24``): read as ``network``, which is inferred.
    host_bits: bool = False


def parse_rule(text: str) -> RuleRange:
    """Read one ``ipRules`` value.

    >>> parse_rule("20.1.2.3").network, parse_rule("20.1.2.0/24").network
    (IPv4Network('20.1.2.3/32'), IPv4Network('20.1.2.0/24'))
    >>> r = parse_rule("20.1.2.3/24"); (r.network, r.host_bits)
    (IPv4Network('20.1.2.0/24'), True)
    >>> parse_rule("2001:db8::/32").problem, parse_rule("10.0.0.0/255.0.0.0").problem
    ('an IPv6 range (ipRules take IPv4 only)', 'not an IPv4 address or CIDR range')
    """
    value = text.strip()
    m = _RULE.fullmatch(value)
    if m is None:
        try:
            ipaddress.IPv6Network(value, strict=False)
        except ValueError:
            return RuleRange(text, None, "not an IPv4 address or CIDR range")
        return RuleRange(text, None, "an IPv6 range (ipRules take IPv4 only)")
    octets = m.groups()[:4]
    if any(len(o) > 1 and o.startswith("0") for o in octets) or any(int(o) > 255 for o in octets):
        return RuleRange(text, None, "not an IPv4 address or CIDR range")
    prefix = int(m.group(5)) if m.group(5) is not None else 32
    if prefix > 32:
        return RuleRange(text, None, "not an IPv4 address or CIDR range")
    net = ipaddress.IPv4Network(f"{'.'.join(octets)}/{prefix}", strict=False)
    return RuleRange(text, net, host_bits=str(net.network_address) != ".".join(octets))


def client_address(text: str) -> Address:
    """The address the registry judges: IPv4-mapped IPv6 is its IPv4 address; ``ValueError`` if none.

    >>> client_address("::ffff:20.1.2.3"), client_address(" 2001:db8::1 ")
    (IPv4Address('20.1.2.3'), IPv6Address('2001:db8::1'))
    """
    addr = ipaddress.ip_address(text.strip())
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def is_private_use(value: str) -> bool:
    """An address or CIDR inside a private-use block (``False`` for public ones and for non-addresses).

    >>> is_private_use("10.1.0.0/16"), is_private_use("203.0.113.9"), is_private_use("fd00::1")
    (True, False, True)
    """
    try:
        net = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return False
    if isinstance(net, ipaddress.IPv4Network):
        return any(net.subnet_of(p) for p in _PRIVATE_V4)
    return any(net.subnet_of(p) for p in _PRIVATE_V6)


def is_public(address: str) -> bool:
    """A valid address outside every private-use block (what a private endpoint never gets).

    >>> is_public("20.50.60.70"), is_public("10.200.0.1"), is_public("not-an-ip")
    (True, False, False)
    """
    try:
        ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return not is_private_use(address)


__all__ = ["Address", "RuleRange", "client_address", "is_private_use", "is_public", "parse_rule"]
