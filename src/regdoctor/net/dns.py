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

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype

from regdoctor.net import Deadline, DnsError

RESOLV_CONF = "/etc/resolv.conf"


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


def system_resolve(host: str, port: int, deadline: Deadline) -> list[str]:
    """Addresses from getaddrinfo, in the order a client would try them (duplicates dropped).

    Raises ``DnsError(kind="system")`` on failure and ``DnsError(kind="timeout")`` when the
    deadline passes first.
    """
    result: list[list[str]] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            seen: list[str] = []
            for info in infos:
                addr = str(info[4][0])
                if addr not in seen:
                    seen.append(addr)
            result.append(seen)
        except OSError as exc:  # socket.gaierror is an OSError
            error.append(exc)

    t = threading.Thread(target=run, name=f"getaddrinfo-{host}", daemon=True)
    t.start()
    t.join(deadline.remaining())
    if t.is_alive():
        raise DnsError("timeout", f"getaddrinfo({host}) did not return in time", via="system")
    if error:
        exc = error[0]
        return _raise_system(host, exc)
    return result[0]


def _raise_system(host: str, exc: BaseException) -> list[str]:
    errno_ = getattr(exc, "errno", None)
    text = getattr(exc, "strerror", None) or str(exc)
    raise DnsError("system", f"getaddrinfo({host}): {text}", errno=errno_, error=text)


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
    attempts: tuple[dict[str, str], ...] = field(default_factory=tuple)

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.a + self.aaaa


def _exchange(qname: str, rdtype: dns.rdatatype.RdataType, ns: str, timeout: float) -> dns.message.Message:
    q = dns.message.make_query(qname, rdtype)
    wire = q.to_wire()
    family = socket.AF_INET6 if ":" in ns else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(max(timeout, 0.001))
        # connect() so that an ICMP port-unreachable is reported to us (ECONNREFUSED)
        sock.connect((ns.split("%", 1)[0], 53))
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

        r = dns_query.tcp(q, ns.split("%", 1)[0], timeout=max(timeout, 0.001))
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


def query_chain(host: str, deadline: Deadline, servers: list[str] | None = None) -> DnsAnswer:
    """Ask the nameservers directly for A and AAAA of ``host``; raise ``DnsError`` by rcode.

    Tries nameservers in order, like glibc, moving on after SERVFAIL, REFUSED, a timeout or an
    unreachable server; NXDOMAIN and NOERROR are final.
    """
    servers = servers or nameservers()
    attempts: list[dict[str, str]] = []
    last: DnsError | None = None
    per_server = max(deadline.remaining() / len(servers), 0.2)
    for ns in servers:
        if deadline.expired():
            break
        try:
            budget = min(per_server, deadline.remaining())
            ra = _exchange(host, dns.rdatatype.A, ns, budget)
        except TimeoutError:
            attempts.append({"nameserver": ns, "result": "timeout"})
            last = DnsError("timeout", f"no answer from {ns} for {host}", resolver=ns)
            continue
        except ConnectionRefusedError:
            attempts.append({"nameserver": ns, "result": "unreachable"})
            last = DnsError("unreachable", f"{ns}:53 refused the query (nothing listens)", resolver=ns)
            continue
        except (OSError, dns.exception.DNSException) as exc:
            attempts.append({"nameserver": ns, "result": f"error: {exc}"})
            last = DnsError("unreachable", f"query to {ns} failed: {exc}", resolver=ns)
            continue
        rcode = dns.rcode.to_text(ra.rcode())
        attempts.append({"nameserver": ns, "result": rcode})
        if rcode in ("SERVFAIL", "REFUSED"):
            last = DnsError(rcode.lower(), f"{ns} answered {rcode} for {host}", resolver=ns, rcode=rcode)
            continue
        if rcode == "NXDOMAIN":
            chain, _ = _parse(host, ra, dns.rdatatype.A)
            raise DnsError("nxdomain", f"{ns} answered NXDOMAIN for {host}", resolver=ns, rcode=rcode,
                           chain=[list(c) for c in chain], attempts=attempts)
        chain, a = _parse(host, ra, dns.rdatatype.A)
        aaaa: list[str] = []
        if not deadline.expired():
            try:
                r6 = _exchange(host, dns.rdatatype.AAAA, ns, min(per_server, deadline.remaining()))
                if r6.rcode() == dns.rcode.NOERROR:
                    _, aaaa = _parse(host, r6, dns.rdatatype.AAAA)
            except (OSError, dns.exception.DNSException):
                pass  # AAAA is best effort: the A answer already decided reachability
        return DnsAnswer(nameserver=ns, rcode=rcode, chain=tuple(chain), a=tuple(a), aaaa=tuple(aaaa),
                         attempts=tuple(attempts))
    if last is None:
        last = DnsError("timeout", f"no nameserver answered for {host} in time", resolver=servers[0])
    last.info["attempts"] = attempts
    raise last


__all__ = ["DnsAnswer", "classify_address", "nameservers", "parse_resolv_conf", "query_chain", "system_resolve"]
