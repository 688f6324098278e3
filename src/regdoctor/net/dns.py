"""DNS: what the system resolver returns, and what the DNS servers say, told apart.

Strategy
--------
Clients resolve through the system resolver (``getaddrinfo``: /etc/hosts, nsswitch, glibc), so
that is the answer regdoctor connects to. But getaddrinfo hides *why* it failed (NXDOMAIN,
SERVFAIL, REFUSED and a timeout can all come back as EAI_AGAIN), and it hides the CNAME chain.
So we also ask each nameserver of /etc/resolv.conf directly with dnspython over a *connected*
UDP socket, which makes an ICMP port-unreachable surface as ``ConnectionRefusedError`` instead
of a silent timeout. The rcode of that direct answer names the failure.

getaddrinfo cannot be cancelled, so it runs in a daemon thread and is abandoned at the deadline.
"""

# ruff: noqa: E402  (dnspython is imported after its idna switch is set, on purpose)
from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
import types
from dataclasses import dataclass, field
from typing import Any

import dns


def _features_without_metadata() -> None:
    """Answer dnspython's optional-feature question without ``importlib.metadata``.

    At import, ``dns.name`` asks ``dns._features.have("idna")``, and ``dns._features`` imports
    ``importlib.metadata`` (with ``zipfile``, ``email``, ``csv``: about half of dnspython's import
    time) to read installed versions. regdoctor uses none of the optional features — names reach
    dnspython already IDNA-encoded (``check_name``), and DNSSEC, DoH, DoQ, trio and WMI are never
    used — so the answer is "no" for each, which is what ``dns._features.force(name, False)``, the
    switch dnspython provides for this, would record. The module is put in place before dnspython
    loads its own; it offers the only function dnspython calls (``have``) and ``force``
    (tests/unit/test_terminal_speed.py checks that dnspython calls nothing else).
    """
    if "dns._features" in sys.modules:  # already loaded, with metadata: nothing left to save
        return
    cache: dict[str, bool] = {}

    def have(feature: str) -> bool:
        return cache.get(feature, False)

    def force(feature: str, enabled: bool) -> None:
        cache[feature] = enabled

    module = types.ModuleType("dns._features", _features_without_metadata.__doc__)
    module.have = have  # type: ignore[attr-defined]
    module.force = force  # type: ignore[attr-defined]
    module._cache = cache  # type: ignore[attr-defined]
    sys.modules["dns._features"] = module
    dns._features = module  # as the import system binds a loaded submodule


_features_without_metadata()

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from regdoctor.net import (
    Deadline,
    DnsError,
    DnsNameInvalid,
    DnsNxdomain,
    DnsRefused,
    DnsServfail,
    DnsSocketError,
    DnsSystemFailed,
    DnsTimeout,
    dns_error_class,
    errno_name,
)

RESOLV_CONF = "/etc/resolv.conf"
#: the port nameservers listen on (resolv.conf has no port syntax); tests point it at a
#: scripted server on an unprivileged loopback port
DNS_PORT = 53


def classify_address(addr: str) -> str:
    """public | private | loopback | link-local | other.

    >>> classify_address("10.1.2.3"), classify_address("20.50.1.1"), classify_address("::1")
    ('private', 'public', 'loopback')
    """
    ip = ipaddress.ip_address(addr)
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return "other"
    if ip.is_private or (ip.version == 4 and ip in ipaddress.ip_network("100.64.0.0/10")):
        return "private"
    return "public" if ip.is_global else "other"


def check_name(host: str) -> str:
    """The ASCII (IDNA) form of ``host``; ``DnsNameInvalid`` if no resolver could be asked for it.

    Names come from users, but also from servers (a token realm, a redirect ``Location``) and
    config files, so a label of 64 characters or an undecodable name is an answer to report,
    not a crash (the stdlib raises ``UnicodeError`` from deep inside ``getaddrinfo``).

    >>> check_name("MyReg.azurecr.io")
    'myreg.azurecr.io'
    >>> check_name("a" * 64 + ".io")
    Traceback (most recent call last):
    ...
    regdoctor.net.DnsNameInvalid: label 1 of aaaa…aaaa.io is longer than 63 characters
    """
    shown = host if len(host) <= 24 else f"{host[:4]}…{host[-7:]}"
    name = host.rstrip(".")
    if not name or len(name) > 253:
        raise DnsNameInvalid(f"{shown!s} is {'empty' if not name else 'longer than 253 characters'}", host=shown,
                             reason="length")
    try:
        ascii_name = name.encode("idna").decode("ascii").lower()
    except UnicodeError:
        labels = name.split(".")
        bad = next((i for i, lbl in enumerate(labels, 1) if not lbl or len(lbl) > 63), None)
        if bad is None:
            raise DnsNameInvalid(f"{shown} is not a valid IDNA name", host=shown, reason="idna") from None
        what = "empty" if not labels[bad - 1] else "longer than 63 characters"
        raise DnsNameInvalid(f"label {bad} of {shown} is {what}", host=shown, reason="label") from None
    if any(not lbl or len(lbl) > 63 for lbl in ascii_name.split(".")) or len(ascii_name) > 253:
        raise DnsNameInvalid(f"{shown} has an empty or over-long label", host=shown, reason="label")
    if not is_domain_name(ascii_name):
        # Go's resolver answers "no such host" without asking anyone; getaddrinfo would choke on a NUL
        raise DnsNameInvalid(f"{shown!r} has a character no host name may have", host=shown, reason="chars")
    return ascii_name


_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def is_domain_name(name: str) -> bool:
    """Go's ``isDomainName``: letters, digits, ``_`` and ``-`` (not first or last in a label).

    >>> is_domain_name("my_reg-1.azurecr.io"), is_domain_name("-a.io"), is_domain_name("a b.io")
    (True, False, False)
    """
    for label in name.split("."):
        if label.startswith("-") or label.endswith("-") or any(c not in _LABEL_CHARS for c in label):
            return False
    return True


#: getaddrinfo's EAI_* codes by number (socket exposes them as constants)
_GAI_NAMES = {getattr(socket, n): n for n in dir(socket) if n.startswith("EAI_")}


def system_resolve(host: str, port: int, deadline: Deadline) -> list[str]:
    """Addresses from getaddrinfo, in the order a client would try them (duplicates dropped).

    Raises ``DnsSystemFailed`` (with the ``EAI_*`` code and, for ``EAI_SYSTEM``, the errno),
    ``DnsNameInvalid`` for a name no resolver can be asked for, and ``DnsTimeout`` when the
    deadline passes first.
    """
    name = check_name(host)
    result: list[list[str]] = []
    error: list[OSError] = []

    def run() -> None:
        try:
            infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM)
            seen: list[str] = []
            for info in infos:
                addr = str(info[4][0])
                if addr not in seen:
                    seen.append(addr)
            result.append(seen)
        except OSError as exc:  # socket.gaierror is an OSError
            error.append(exc)

    t = threading.Thread(target=run, name=f"getaddrinfo-{name}", daemon=True)
    t.start()
    t.join(deadline.remaining())
    if t.is_alive():
        raise DnsTimeout(f"getaddrinfo({name}) did not return in time", via="system", host=name)
    if error:
        exc = error[0]
        gai = exc.errno if isinstance(exc, socket.gaierror) else None
        text = exc.strerror or str(exc)
        raise DnsSystemFailed(f"getaddrinfo({name}): {text}", error=text, gai_code=gai,
                              gai_name=_GAI_NAMES.get(gai) if gai is not None else None, host=name,
                              errno=None if gai is not None else exc.errno)
    return result[0]


def parse_resolv_conf(text: str) -> list[str]:
    r"""The ``nameserver`` addresses of a resolv.conf text, in order (glibc reads at most 3).

    >>> parse_resolv_conf("# x\nnameserver 10.0.0.2\nsearch corp\nnameserver fe80::1%eth0\n")
    ['10.0.0.2', 'fe80::1%eth0']
    """
    found: list[str] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver" and not parts[1].startswith(("#", ";")):
            try:
                ipaddress.ip_address(parts[1].split("%", 1)[0])
            except ValueError:
                continue
            found.append(parts[1])
    return found[:3]


def nameservers() -> list[str]:
    """The nameservers of /etc/resolv.conf, as glibc would use them (127.0.0.1 if none).

    (A direct parse: ``dns.resolver`` would cost 15 ms of imports on every run for six lines.)
    """
    try:
        with open(RESOLV_CONF, encoding="utf-8", errors="replace") as fh:
            found = parse_resolv_conf(fh.read(65536))
    except OSError:
        found = []
    return found or ["127.0.0.1"]


@dataclass(frozen=True)
class DnsAnswer:
    """A direct answer from one nameserver for one name, CNAME chain followed."""

    nameserver: str
    rcode: str
    chain: tuple[tuple[str, str], ...] = ()  # (owner, target) CNAME links, in order
    a: tuple[str, ...] = ()
    aaaa: tuple[str, ...] = ()
    attempts: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.a + self.aaaa


def _exchange(qname: str, rdtype: dns.rdatatype.RdataType, ns: str, timeout: float,
              port: int) -> dns.message.Message:
    q = dns.message.make_query(qname, rdtype)
    wire = q.to_wire()
    family = socket.AF_INET6 if ":" in ns else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(max(timeout, 0.001))
        # connect() so that an ICMP port-unreachable is reported to us (ECONNREFUSED)
        sock.connect((ns.split("%", 1)[0], port))
        sock.send(wire)
        while True:
            data = sock.recv(65535)
            try:
                r = dns.message.from_wire(data)
            except dns.exception.DNSException:
                continue  # not an answer to us; keep waiting until the timeout
            if r.id == q.id:
                break
    if r.flags & dns.flags.TC:
        from dns import query as dns_query  # only for truncated answers: it is a heavy import

        r = dns_query.tcp(q, ns.split("%", 1)[0], timeout=max(timeout, 0.001), port=port)
    return r


def _parse(qname: str, r: dns.message.Message, rdtype: dns.rdatatype.RdataType) -> tuple[
        list[tuple[str, str]], list[str]]:
    """Follow the CNAME links of the answer section from ``qname``, as a stub resolver does."""
    sets = {(rr.name, rr.rdtype): rr for rr in r.answer}
    name = dns.name.from_text(qname)
    chain: list[tuple[str, str]] = []
    for _ in range(16):  # a bound against CNAME loops in a hostile answer
        cname = sets.get((name, dns.rdatatype.CNAME))
        if cname is None:
            break
        target: dns.name.Name = next(iter(cname)).target
        chain.append((name.to_text(omit_final_dot=True), target.to_text(omit_final_dot=True)))
        name = target
    rrset = sets.get((name, rdtype))
    return chain, [rd.to_text() for rd in rrset] if rrset is not None else []


def query_chain(host: str, deadline: Deadline, servers: list[str] | None = None,
                port: int | None = None) -> DnsAnswer:
    """Ask the nameservers directly for A and AAAA of ``host``; raise a ``DnsError`` subclass.

    Tries nameservers in order, like glibc, moving on after SERVFAIL, REFUSED, a timeout or an
    unreachable server; NXDOMAIN and NOERROR are final. A failure of every server raises the
    last one's error, with every attempt (and its errno) in ``info["attempts"]``.
    """
    name = check_name(host)
    servers = servers or nameservers()
    port = port or DNS_PORT
    attempts: list[dict[str, Any]] = []
    last: DnsError | None = None
    per_server = max(deadline.remaining() / len(servers), 0.2)
    for ns in servers:
        if deadline.expired():
            break
        peer = f"{ns}:{port}"
        try:
            budget = min(per_server, deadline.remaining())
            ra = _exchange(name, dns.rdatatype.A, ns, budget, port)
        except TimeoutError as exc:
            if exc.errno is None:
                attempts.append({"nameserver": ns, "result": "timeout"})
                last = DnsTimeout(f"no answer from {ns} for {name}", peer=peer, resolver=ns)
                continue
            last = _socket_failure(exc, ns, name, attempts, port)
            continue
        except OSError as exc:
            last = _socket_failure(exc, ns, name, attempts, port)
            continue
        except dns.exception.DNSException as exc:  # a query dnspython cannot build or send
            attempts.append({"nameserver": ns, "result": f"error: {type(exc).__name__}"})
            last = DnsSocketError(f"query to {ns} for {name} failed: {exc}", peer=peer, resolver=ns)
            continue
        rcode = dns.rcode.to_text(ra.rcode())
        attempts.append({"nameserver": ns, "result": rcode})
        if rcode == "SERVFAIL":
            last = DnsServfail(f"{ns} answered SERVFAIL for {name}", peer=peer, resolver=ns, rcode=rcode)
            continue
        if rcode == "REFUSED":
            last = DnsRefused(f"{ns} answered REFUSED for {name}", peer=peer, resolver=ns, rcode=rcode)
            continue
        if rcode == "NXDOMAIN":
            chain, _ = _parse(name, ra, dns.rdatatype.A)
            raise DnsNxdomain(f"{ns} answered NXDOMAIN for {name}", peer=peer, resolver=ns, rcode=rcode,
                              chain=[list(c) for c in chain], attempts=attempts)
        if rcode != "NOERROR":  # FORMERR, NOTIMP, …: the server's answer, named as it is
            last = DnsSocketError(f"{ns} answered {rcode} for {name}", peer=peer, resolver=ns, rcode=rcode)
            continue
        chain, a = _parse(name, ra, dns.rdatatype.A)
        aaaa: list[str] = []
        if not deadline.expired():
            try:
                r6 = _exchange(name, dns.rdatatype.AAAA, ns, min(per_server, deadline.remaining()), port)
                if r6.rcode() == dns.rcode.NOERROR:
                    _, aaaa = _parse(name, r6, dns.rdatatype.AAAA)
            except (OSError, dns.exception.DNSException):
                pass  # AAAA is best effort: the A answer already decided reachability
        return DnsAnswer(nameserver=ns, rcode=rcode, chain=tuple(chain), a=tuple(a), aaaa=tuple(aaaa),
                         attempts=tuple(attempts))
    if last is None:
        last = DnsTimeout(f"no nameserver answered for {name} in time", peer=f"{servers[0]}:{port}",
                          resolver=servers[0])
    last.info["attempts"] = attempts
    raise last


def _socket_failure(exc: OSError, ns: str, name: str, attempts: list[dict[str, Any]], port: int) -> DnsError:
    """A socket error of the query to ``ns``, typed by its errno (ENETUNREACH is not "refused")."""
    cls = dns_error_class(exc.errno)
    what = os.strerror(exc.errno).lower() if exc.errno else str(exc)
    attempts.append({"nameserver": ns, "result": cls.kind, "errno": exc.errno, "errno_name": errno_name(exc.errno)})
    return cls(f"query to {ns}:{port} for {name}: {what}", errno=exc.errno, peer=f"{ns}:{port}", resolver=ns,
               errno_text=what)


__all__ = ["DNS_PORT", "DnsAnswer", "check_name", "classify_address", "is_domain_name", "nameservers",
           "parse_resolv_conf", "query_chain", "system_resolve"]
