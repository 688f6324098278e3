"""A SOCKS5 server's replies (RFC 1928 §6, RFC 1929 §2) and what they mean: the ONE table ``check``'s
SOCKS client (``regdoctor.net.socks``) and ``explain``'s grammar both read.

A SOCKS5 server refusing CONNECT says what an HTTP proxy says with a status: its upstream failed (a
502), its rules forbid the destination (a 403), it wants credentials (a 407). Each reply is mapped to
that status, so the same fault gets the same code behind either kind of proxy and the HTTP proxy's
classifier (``classify.classify_connect_reply``, the ``connect.*`` leaves) decides both.
"""

from __future__ import annotations

from collections.abc import Mapping

#: REP -> (the words golang.org/x/net/proxy prints after ``unknown error ``, the CONNECT status it equals)
REPLIES: Mapping[int, tuple[str, int]] = {
    0x01: ("general SOCKS server failure", 502),
    0x02: ("connection not allowed by ruleset", 403),
    0x03: ("network unreachable", 502),
    0x04: ("host unreachable", 502),
    0x05: ("connection refused", 502),
    0x06: ("TTL expired", 504),
    0x07: ("command not supported", 501),
    0x08: ("address type not supported", 501),
}
#: an unassigned REP: the server failed in a way the RFC does not name
UNKNOWN_REPLY_STATUS = 502
#: the client's credentials were refused, or none of its methods accepted (x/net/proxy's words): a 407
AUTH_FAILURES: tuple[str, ...] = ("username/password authentication failed", "no acceptable authentication methods")
AUTH_STATUS = 407

__all__ = ["AUTH_FAILURES", "AUTH_STATUS", "REPLIES", "UNKNOWN_REPLY_STATUS"]
