"""Fake DNS upstreams for the lab's dnsmasq (stdlib only, runnable as a script).

    python fakedns.py servfail@127.0.0.1:5354 silent@127.0.0.1:5355

- ``servfail`` answers every UDP query with rcode 2, echoing the question. dnsmasq never produces
  SERVFAIL for a dead upstream (it just waits), so a real SERVFAIL needs a responder of its own.
- ``silent`` reads every query and never answers: dnsmasq forwards and waits, and the client times out.

All sockets are bound before the first answer, so one answered SERVFAIL proves the whole process is up.
Exits on SIGTERM; worker threads are daemons.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
from collections.abc import Callable

SERVFAIL = 2


def servfail_reply(query: bytes) -> bytes | None:
    """The SERVFAIL answer to `query`, or None when the packet is too mangled to echo."""
    if len(query) < 12 or int.from_bytes(query[4:6], "big") != 1:
        return None
    pos = 12
    while pos < len(query) and query[pos] != 0:  # walk the QNAME labels (queries carry no pointers)
        pos += query[pos] + 1
    end = pos + 1 + 4  # root label, QTYPE, QCLASS
    if end > len(query):
        return None
    flags = int.from_bytes(query[2:4], "big")
    # QR=1, keep opcode and RD, RA=1, rcode=SERVFAIL.
    reply_flags = 0x8000 | (flags & 0x7900) | 0x0080 | SERVFAIL
    header = query[:2] + reply_flags.to_bytes(2, "big") + b"\x00\x01" + b"\x00\x00" * 3
    return header + query[12:end]


def _serve(sock: socket.socket, answer: Callable[[bytes], bytes | None]) -> None:
    while True:
        data, peer = sock.recvfrom(4096)
        reply = answer(data)
        if reply is not None:
            sock.sendto(reply, peer)


MODES: dict[str, Callable[[bytes], bytes | None]] = {
    "servfail": servfail_reply,
    "silent": lambda _query: None,
}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    bound: list[tuple[socket.socket, Callable[[bytes], bytes | None]]] = []
    for spec in argv:
        mode, _, addr = spec.partition("@")
        host, _, port = addr.rpartition(":")
        if mode not in MODES or not host or not port.isdigit():
            print(f"fakedns: bad spec {spec!r} (want MODE@ADDR:PORT, MODE in {sorted(MODES)})", file=sys.stderr)
            return 2
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((host, int(port)))
        bound.append((sock, MODES[mode]))
    for sock, answer in bound:
        threading.Thread(target=_serve, args=(sock, answer), daemon=True).start()
    print(f"fakedns ready: {' '.join(argv)}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
