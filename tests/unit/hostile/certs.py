"""Certificates made in the test (trustme): a CA the client is given with ``--ca``, and leaves
for 127.0.0.1 that are good, expired, for another name, or from a CA the client does not know."""

from __future__ import annotations

import datetime as dt
import functools
import ssl
import threading
from pathlib import Path

import trustme

_LOCK = threading.Lock()


@functools.cache
def _cas() -> tuple[trustme.CA, trustme.CA]:
    return trustme.CA(organization_name="regdoctor hostile CA"), trustme.CA(organization_name="someone else")


def ca() -> trustme.CA:
    with _LOCK:  # cases build their servers in parallel threads: one CA for all of them
        return _cas()[0]


def stranger() -> trustme.CA:
    """A CA the client is never told about."""
    with _LOCK:
        return _cas()[1]


def ca_file(directory: Path) -> str:
    path = directory / "hostile-ca.pem"
    if not path.exists():
        ca().cert_pem.write_to_path(str(path))
    return str(path)


def server_context(kind: str = "good") -> ssl.SSLContext:
    """A server context for 127.0.0.1: ``good``, ``expired``, ``wrong_name`` or ``unknown_ca``."""
    now = dt.datetime.now(dt.UTC)
    if kind == "good":
        leaf = ca().issue_cert("127.0.0.1", "localhost")
    elif kind == "expired":
        leaf = ca().issue_cert("127.0.0.1", not_before=now - dt.timedelta(days=30),
                               not_after=now - dt.timedelta(days=1))
    elif kind == "wrong_name":
        leaf = ca().issue_cert("registry.other.example")
    elif kind == "unknown_ca":
        leaf = stranger().issue_cert("127.0.0.1")
    else:
        raise ValueError(kind)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    leaf.configure_cert(ctx)
    ctx.set_alpn_protocols(["http/1.1"])  # as a registry's server does: the client's offer must match
    return ctx
