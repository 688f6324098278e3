"""TLS: handshake with verification, and read the certificate chain as evidence.

Strategy
--------
The handshake runs with verification on (system store, or ``--ca``): regdoctor never silently
disables it. When verification fails, OpenSSL's verify code names the reason (expired, not yet
valid, wrong name, unknown CA, self-signed), and the probe makes a second, unverified handshake
only to *read* the chain it was shown, as evidence; nothing is ever sent over that connection.

Only public ``ssl`` API is used. After a verified handshake ``getpeercert()`` gives the leaf,
already decoded by OpenSSL, so the healthy path imports nothing more. After an unverified one
``getpeercert()`` is empty by design, so the DER leaf (``getpeercert(binary_form=True)``) is
decoded with ``cryptography`` — the field's standard parser, imported only on that failure
path because it costs ~60 ms. The rest of the chain is read where Python offers it publicly
(``SSLSocket.get_verified_chain()`` / ``get_unverified_chain()``, Python 3.13+); on older
versions the evidence is the leaf, which is what names the issuer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import select
import socket
import ssl
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from regdoctor.net import (
    Deadline,
    TlsClosed,
    TlsNotTls,
    TlsProtocolError,
    TlsReset,
    TlsTimeout,
    TlsVerifyFailed,
)

# OpenSSL X509_V_ERR_* codes that name a cause
_VERIFY_KINDS = {
    9: "not_yet_valid",
    10: "expired",
    62: "name_mismatch",
    64: "name_mismatch",
    18: "self_signed",
    19: "unknown_ca",
    20: "unknown_ca",
    21: "unknown_ca",
    2: "unknown_ca",
}
_NOT_TLS_REASONS = {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG",
                    "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "HTTPS_PROXY_REQUEST"}
_EOF_REASONS = {"UNEXPECTED_EOF_WHILE_READING", "EOF"}


@dataclass(frozen=True)
class CertInfo:
    subject: str
    issuer: str
    issuer_org: str | None
    sans: tuple[str, ...]
    not_before: str
    not_after: str
    serial: str
    sha256: str
    self_issued: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "issuer": self.issuer,
            "sans": list(self.sans),
            "not_before": self.not_before,
            "not_after": self.not_after,
            "serial": self.serial,
            "sha256": self.sha256,
        }


@dataclass(frozen=True)
class TlsInfo:
    version: str
    cipher: str
    sni: str | None
    alpn: str | None
    chain: tuple[CertInfo, ...]
    verified: bool


_OID_SHORT = {"commonName": "CN", "organizationName": "O", "organizationalUnitName": "OU", "countryName": "C",
              "stateOrProvinceName": "ST", "localityName": "L", "domainComponent": "DC", "emailAddress": "E"}


def _name(rdns: Any) -> tuple[str, str | None]:
    """An OpenSSL name tuple as an RFC 4514 string (last RDN first, like cryptography prints it)."""
    parts: list[str] = []
    org: str | None = None
    for rdn in rdns or ():
        for key, value in rdn:
            if key == "organizationName" and org is None:
                org = str(value)
            v = str(value).replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+")
            parts.append(f"{_OID_SHORT.get(key, key)}={v}")
    return ",".join(reversed(parts)), org


def _iso(openssl_time: str) -> str:
    return dt.datetime.fromtimestamp(ssl.cert_time_to_seconds(openssl_time), dt.UTC).isoformat()


def cert_info(info: dict[str, Any], der: bytes) -> CertInfo:
    """Build a ``CertInfo`` from the dict OpenSSL decodes (``getpeercert()``/``get_info()``).

    Using the ssl module's own decoding keeps ``cryptography`` (~60 ms to import) off the
    healthy path; ``parse_der`` decodes what only exists as DER (an unverified peer).
    """
    subject, _ = _name(info.get("subject"))
    issuer, org = _name(info.get("issuer"))
    sans = []
    for kind, value in info.get("subjectAltName", ()):
        if kind == "DNS":
            sans.append(str(value))
        elif kind == "IP Address":
            sans.append(f"IP:{str(value).strip()}")
    return CertInfo(
        subject=subject,
        issuer=issuer,
        issuer_org=org,
        sans=tuple(sans),
        not_before=_iso(info["notBefore"]),
        not_after=_iso(info["notAfter"]),
        serial=str(info.get("serialNumber", "")).lower().lstrip("0") or "0",
        sha256=hashlib.sha256(der).hexdigest(),
        self_issued=info.get("subject") == info.get("issuer"),
    )


def parse_der(der: bytes) -> CertInfo:
    """Read the fields a diagnosis needs from a DER certificate (with ``cryptography``)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_der_x509_certificate(der)
    sans: list[str] = []
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [str(n) for n in ext.get_values_for_type(x509.DNSName)]
        sans += [f"IP:{ip}" for ip in ext.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    orgs = cert.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        issuer_org=str(orgs[0].value) if orgs else None,
        sans=tuple(sans),
        not_before=cert.not_valid_before_utc.isoformat(),
        not_after=cert.not_valid_after_utc.isoformat(),
        serial=format(cert.serial_number, "x"),
        sha256=hashlib.sha256(der).hexdigest(),
        self_issued=cert.issuer == cert.subject,
    )


def make_context(ca_file: str | None = None, *, verify: bool = True, extra: Sequence[str] = ()) -> ssl.SSLContext:
    """A client context: system trust store (plus ``extra`` CA files, as a runtime's certs.d adds
    them), or only ``ca_file`` when given."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        if ca_file:
            ctx.load_verify_locations(cafile=ca_file)
        else:
            ctx.load_default_certs()
            for path in extra:
                with contextlib.suppress(ssl.SSLError, OSError, ValueError):
                    ctx.load_verify_locations(cafile=path)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def _chain(ssock: ssl.SSLSocket, verified: bool) -> tuple[CertInfo, ...]:
    if verified:
        leaf = cert_info(ssock.getpeercert() or {}, ssock.getpeercert(binary_form=True) or b"") \
            if ssock.getpeercert() else None
        rest = getattr(ssock, "get_verified_chain", None)  # public from Python 3.13
        ders = [bytes(c) for c in rest()[1:]] if rest is not None else []
    else:
        der = ssock.getpeercert(binary_form=True)
        leaf = parse_der(der) if der else None
        rest = getattr(ssock, "get_unverified_chain", None)  # public from Python 3.13
        ders = [bytes(c) for c in rest()[1:]] if rest is not None else []
    if leaf is None:
        return ()
    return (leaf, *(parse_der(d) for d in ders))


#: a relay with nothing to carry for this long gives up (every probe closes its socket long before)
RELAY_IDLE_SECONDS = 60.0


def relay(outer: ssl.SSLSocket) -> socket.socket:
    """A plain socket whose bytes travel inside ``outer`` (the TLS session with an https:// proxy).

    ``SSLContext.wrap_socket`` on an ``SSLSocket`` wraps its file descriptor, so the registry's
    handshake would go out *unencrypted by the proxy session* and the proxy would see garbage
    (``UNEXPECTED_MESSAGE``). urllib3 solves this TLS-in-TLS case with memory BIOs; here one
    daemon thread pumps bytes between ``outer`` and one end of a socket pair, so the inner TLS
    session (and every deadline on it) works on an ordinary socket. A reset of ``outer`` is
    passed on as a reset; either side closing ends the relay and closes ``outer``.
    """
    inner, end = socket.socketpair()
    threading.Thread(target=_pump, args=(outer, end), name="tls-in-tls", daemon=True).start()
    return inner


def _pump(outer: ssl.SSLSocket, end: socket.socket) -> None:
    reset = False
    try:
        while True:
            ready = [outer] if outer.pending() else select.select([outer, end], [], [], RELAY_IDLE_SECONDS)[0]
            if not ready:
                break
            if outer in ready:
                outer.settimeout(0.0)
                try:
                    data = outer.recv(65536)
                except ssl.SSLWantReadError:
                    data = None  # half a record: wait for the rest
                if data == b"":
                    break
                if data:
                    end.sendall(data)
            if end in ready:
                data = end.recv(65536)
                if not data:
                    break
                outer.settimeout(RELAY_IDLE_SECONDS)
                outer.sendall(data)
    except (ssl.SSLError, OSError) as exc:
        reset = isinstance(exc, ConnectionResetError)
    finally:
        if reset:
            with contextlib.suppress(OSError):
                end.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        end.close()
        outer.close()


def handshake(sock: socket.socket, sni: str | None, ctx: ssl.SSLContext, deadline: Deadline) -> tuple[
        ssl.SSLSocket, TlsInfo]:
    """Wrap ``sock`` in TLS (inside its TLS session when ``sock`` is itself TLS: an https://
    proxy's tunnel); raise the ``TlsError`` subclass that names the failure."""
    if not isinstance(sock, ssl.SSLSocket):
        return _handshake(sock, sni, ctx, deadline)
    inner = relay(sock)
    try:
        return _handshake(inner, sni, ctx, deadline)
    except BaseException:
        inner.close()
        raise


def _handshake(sock: socket.socket, sni: str | None, ctx: ssl.SSLContext, deadline: Deadline) -> tuple[
        ssl.SSLSocket, TlsInfo]:
    sock.settimeout(max(deadline.remaining(), 0.001))
    try:
        ssock = ctx.wrap_socket(sock, server_hostname=sni, do_handshake_on_connect=False)
        ssock.do_handshake()
    except ssl.SSLCertVerificationError as exc:
        kind = _VERIFY_KINDS.get(exc.verify_code, "verify")
        raise TlsVerifyFailed(f"certificate verify failed: {exc.verify_message}",
                              verify_kind=kind, verify_code=exc.verify_code,
                              verify_message=exc.verify_message) from None
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
        raise TlsClosed("the peer closed the connection during the TLS handshake") from None
    except ssl.SSLError as exc:
        reason = exc.reason or ""
        if reason in _NOT_TLS_REASONS:
            raise TlsNotTls(f"the peer does not speak TLS ({reason.lower()})", reason=reason) from None
        if reason in _EOF_REASONS:
            raise TlsClosed("the peer closed the connection during the TLS handshake") from None
        raise TlsProtocolError(f"TLS handshake failed: {reason or exc}", reason=reason) from None
    except TimeoutError:
        raise TlsTimeout("TLS handshake did not complete before the deadline") from None
    except ConnectionResetError as exc:
        raise TlsReset("connection reset by peer during the TLS handshake", errno=exc.errno) from None
    except OSError as exc:
        raise TlsClosed(f"TLS handshake failed: {exc}", errno=exc.errno) from None
    verified = ctx.verify_mode != ssl.CERT_NONE
    info = TlsInfo(
        version=ssock.version() or "?",
        cipher=(ssock.cipher() or ("?",))[0],
        sni=sni,
        alpn=ssock.selected_alpn_protocol(),
        chain=_chain(ssock, verified),
        verified=verified,
    )
    return ssock, info


def spoke_first(early: bytes) -> TlsNotTls:
    """The error for bytes that came before our ClientHello (a TLS server speaks only after it):
    through a proxy tunnel, the far end is something else (an SSH banner, a proxy's own page).

    >>> spoke_first(b"SSH-2.0-x").info["first_bytes"]
    'SSH-2.0-x'
    """
    shown = early[:80].decode("latin-1").encode("unicode_escape").decode("ascii")
    return TlsNotTls(f"the peer sent {shown!r} before the TLS handshake began (not TLS)", reason="SPOKE_FIRST",
                     first_bytes=shown)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


__all__ = ["CertInfo", "TlsInfo", "cert_info", "handshake", "make_context", "now_utc", "parse_der", "spoke_first"]
