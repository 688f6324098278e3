"""A scripted DNS server on an unprivileged loopback port (UDP, and TCP on the same port for
truncated answers), for ``net.dns.query_chain(..., port=)`` without root."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

import dns.flags
import dns.message
import dns.rcode
import dns.rrset

#: what the server does with one query: the datagrams to send back (none: stay silent)
Script = Callable[[dns.message.Message], list[bytes]]


def reply(q: dns.message.Message, rcode: int = dns.rcode.NOERROR, answers: tuple[str, ...] = (),
          tc: bool = False) -> bytes:
    """An answer to ``q`` with ``answers`` as zone-file lines (``name ttl IN A 10.0.0.1``)."""
    r = dns.message.make_response(q)
    r.set_rcode(rcode)
    for line in answers:
        name, ttl, cls, rtype, *data = line.split()
        r.answer.append(dns.rrset.from_text(name, int(ttl), cls, rtype, " ".join(data)))
    if tc:
        r.flags |= dns.flags.TC
    return bytes(r.to_wire())


class DnsServer:
    def __init__(self, script: Script, tcp_script: Script | None = None) -> None:
        self.script = script
        self.tcp_script = tcp_script or script
        self.stopped = threading.Event()
        self.queries: list[dns.message.Message] = []
        for _ in range(20):  # one port number free for both UDP and TCP
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port: int = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        self.tcp.listen(8)
        self.udp.settimeout(0.1)
        self.tcp.settimeout(0.1)
        threading.Thread(target=self._udp, daemon=True).start()
        threading.Thread(target=self._tcp, daemon=True).start()

    def _udp(self) -> None:
        while not self.stopped.is_set():
            try:
                data, peer = self.udp.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            q = dns.message.from_wire(data)
            self.queries.append(q)
            for out in self.script(q):
                with contextlib.suppress(OSError):
                    self.udp.sendto(out, peer)

    def _tcp(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.tcp.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(2.0)
                with contextlib.suppress(OSError):
                    size = int.from_bytes(conn.recv(2), "big")
                    q = dns.message.from_wire(conn.recv(size))
                    for out in self.tcp_script(q):
                        conn.sendall(len(out).to_bytes(2, "big") + out)

    def stop(self) -> None:
        self.stopped.set()
        self.udp.close()
        self.tcp.close()


def closed_udp_port() -> int:
    """A loopback UDP port nobody listens on: a query there gets ICMP port unreachable."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
