"""Pure classification of what a probe saw into catalogue codes.

Strategy
--------
``probe/`` performs I/O and hands the raw results (an HTTP status, headers and body; a
certificate chain; a CONNECT reply) to these functions, which decide what they mean. They are
pure so the unit tests can feed them recorded answers, including hostile ones.

Each function returns a ``Verdict``: the step status, the catalogue code (``None`` when all is
well), a one-line summary and the evidence to keep.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from regdoctor import safejson
from regdoctor.kb.codes import Code
from regdoctor.model import StepStatus
from regdoctor.probe.redirects import REDIRECT_STATUSES
from regdoctor.redact import redact_location

# ACR quotes the address; a proxy or gateway that rewrites the body may not
_ACR_DENIED_IP = re.compile(r"client with IP ['\"]?([^'\"\s]+?)['\"]?(?: is not allowed|[.,;]?\s|$)", re.IGNORECASE)
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_KEEP_HEADERS = (
    "server", "via", "content-type", "www-authenticate", "docker-distribution-api-version", "retry-after",
    "location", "x-squid-error", "x-ms-correlation-request-id", "x-ms-request-id", "x-ms-ratelimit-remaining",
    "ratelimit-limit", "ratelimit-remaining", "docker-ratelimit-source", "proxy-authenticate", "x-cache",
)
#: Issuer organisations of the public CAs behind well-known registries (inferred from their
#: certificates; a mismatch is reported as *likely* interception, never as a certainty).
KNOWN_ISSUERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (".azurecr.io", ("Microsoft Corporation", "DigiCert Inc")),
    (".azurecr.us", ("Microsoft Corporation", "DigiCert Inc")),
    (".azurecr.cn", ("DigiCert Inc", "Microsoft Corporation")),
    ("mcr.microsoft.com", ("Microsoft Corporation", "DigiCert Inc")),
    (".blob.core.windows.net", ("Microsoft Corporation", "DigiCert Inc")),
    ("docker.io", ("Amazon", "DigiCert Inc", "Let's Encrypt", "Google Trust Services", "Sectigo Limited")),
    ("docker.com", ("Amazon", "Cloudflare, Inc.", "Google Trust Services", "Let's Encrypt", "DigiCert Inc")),
    ("ghcr.io", ("DigiCert Inc", "Sectigo Limited", "Let's Encrypt")),
    ("quay.io", ("DigiCert Inc", "Let's Encrypt", "Amazon")),
    ("gcr.io", ("Google Trust Services", "Google Trust Services LLC")),
    (".pkg.dev", ("Google Trust Services", "Google Trust Services LLC")),
    (".amazonaws.com", ("Amazon",)),
)
#: Words that appear in the issuer names of TLS-inspecting proxies and firewalls.
INSPECTION_MARKERS = (
    "zscaler", "netskope", "fortinet", "fortigate", "palo alto", "blue coat", "bluecoat", "forcepoint",
    "sophos", "umbrella", "mcafee web gateway", "skyhigh", "check point", "checkpoint", "barracuda",
    "inspection", "secure web gateway", "ssl proxy", "tls proxy", "decrypt", "mitm", "websense", "squid",
    "cloudflare gateway", "iboss", "menlo", "cato networks", "untangle",
)


@dataclass(frozen=True)
class Verdict:
    status: StepStatus
    code: Code | None
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)


def kept_headers(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """The response headers worth keeping as evidence (never cookies or auth material)."""
    out: dict[str, str] = {}
    for k, v in headers:
        if k in _KEEP_HEADERS and k not in out:
            # a redirect's signed query (SAS, S3 credentials) is a secret: redacted before it is kept
            out[k] = redact_location(v)[:300] if k == "location" else v[:300]
    return out


def body_excerpt(body: bytes, limit: int = 400) -> str:
    text = body[:limit].decode("utf-8", "replace")
    text = "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)
    return text + ("…" if len(body) > limit else "")


def page_title(body: bytes) -> str | None:
    m = _TITLE.search(body[:65536])
    if not m:
        return None
    return " ".join(m.group(1).decode("utf-8", "replace").split())[:120] or None


def registry_errors(body: bytes, content_type: str) -> list[dict[str, str]]:
    """The ``errors`` array of a distribution error body, or [] if the body is not one."""
    if not body or ("json" not in content_type and not body.lstrip().startswith(b"{")):
        return []
    try:
        doc = safejson.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return []
    errs = doc.get("errors") if isinstance(doc, dict) else None
    if not isinstance(errs, list):
        return []
    out = []
    for e in errs[:10]:
        if isinstance(e, dict):
            out.append({"code": str(e.get("code", "")), "message": str(e.get("message", ""))[:500]})
    return out


def _is_html(content_type: str, body: bytes) -> bool:
    head = body[:512].lstrip().lower()
    return "html" in content_type or head.startswith((b"<!doctype html", b"<html"))


def classify_v2(
    status: int,
    reason: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    path: str = "/v2/",
) -> Verdict:
    """Decide what an answer to ``GET /v2/`` means.

    >>> classify_v2(401, "Unauthorized", [("www-authenticate", 'Bearer realm="https://r/token"')], b"").status
    'pass'
    >>> classify_v2(403, "Forbidden", [("content-type", "application/json")],
    ...     b'{"errors":[{"code":"DENIED","message":"client with IP \\'1.2.3.4\\' is not allowed access."}]}').code
    'HTTP_FIREWALL_DENIED'
    """
    hdrs = kept_headers(headers)
    ctype = hdrs.get("content-type", "").split(";")[0].strip().lower()
    errors = registry_errors(body, ctype)
    ev: dict[str, Any] = {"status": status, "reason": reason, "path": path, "headers": hdrs}
    if errors:
        ev["errors"] = errors
    answer = _Answer(status, f"{status} {reason}".strip(), hdrs, ctype, body, errors, ev)
    by_status = _V2_BY_STATUS.get(status)
    if by_status is not None:
        return by_status(answer)
    if status >= 500:
        return _v2_server_error(answer)
    return _v2_unexpected(answer)


@dataclass(frozen=True)
class _Answer:
    """One HTTP answer as ``classify_v2``'s status rules read it; ``ev`` is the verdict's evidence,
    which the rules extend."""

    status: int
    status_line: str
    hdrs: dict[str, str]
    ctype: str
    body: bytes
    errors: list[dict[str, str]]
    ev: dict[str, Any]


def _v2_unauthorized(a: _Answer) -> Verdict:
    challenge = a.hdrs.get("www-authenticate")
    if challenge:
        scheme = challenge.split(" ", 1)[0]
        return Verdict("pass", None, f"{a.status_line} with a {scheme} challenge: the network path and the "
                       "registry's firewall let this client in", a.ev)
    return Verdict("fail", Code.AUTH_NO_CHALLENGE, f"{a.status_line} without a WWW-Authenticate challenge", a.ev)


def _v2_ok(a: _Answer) -> Verdict:
    api = a.hdrs.get("docker-distribution-api-version")
    if api or (a.ctype == "application/json" and a.body.strip() in (b"{}", b"")):
        return Verdict("pass", None, f"{a.status_line}{f' ({api})' if api else ''}: anonymous access", a.ev)
    title = page_title(a.body)
    a.ev["page_title"] = title
    a.ev["body_excerpt"] = body_excerpt(a.body)
    return Verdict("fail", Code.HTTP_NOT_A_REGISTRY,
                   f"{a.status_line} without Docker-Distribution-API-Version"
                   f"{f' (page: {title})' if title else ''}", a.ev)


def _v2_forbidden(a: _Answer) -> Verdict:
    for e in a.errors:
        m = _ACR_DENIED_IP.search(e["message"])
        if e["code"].upper() == "DENIED" and m:
            a.ev.update(client_ip=m.group(1), message=e["message"])
            return Verdict("fail", Code.HTTP_FIREWALL_DENIED,
                           f"{a.status_line} DENIED: client with IP '{m.group(1)}' is not allowed access", a.ev)
    if a.errors:
        a.ev["errors_text"] = "; ".join(f"{e['code']}: {e['message']}" for e in a.errors)
        return Verdict("fail", Code.HTTP_FORBIDDEN, f"{a.status_line}: {a.ev['errors_text']}", a.ev)
    return _middlebox(a.status_line, a.ev, a.body, a.ctype)


def _v2_too_many(a: _Answer) -> Verdict:
    retry = a.hdrs.get("retry-after")
    msg = a.errors[0]["message"] if a.errors else body_excerpt(a.body, 200)
    a.ev.update(retry_after=retry, message=msg, retry_after_note=f" (Retry-After: {retry})" if retry else "")
    return Verdict("fail", Code.HTTP_RATE_LIMITED, f"{a.status_line}{f', Retry-After {retry}' if retry else ''}",
                   a.ev)


def _v2_server_error(a: _Answer) -> Verdict:
    """5xx, 407 and 451: a page (HTML, or a bare gateway error) is a middlebox's; a registry's
    own error document is the server's error."""
    if _is_html(a.ctype, a.body) or a.status in (407, 451) or (a.status in (502, 504) and not a.errors):
        return _middlebox(a.status_line, a.ev, a.body, a.ctype)
    a.ev["body_excerpt"] = body_excerpt(a.body)
    return Verdict("fail", Code.HTTP_SERVER_ERROR, f"{a.status_line}"
                   f"{': ' + a.errors[0]['code'] if a.errors else ''}", a.ev)


#: what a TLS server answers a plain-HTTP request with (Go's net/http, nginx): the client should have
#: spoken TLS. explain's symptom ``tls.client_plain_http`` reads the same words (a unit test holds them
#: to each other).
PLAIN_HTTP_TO_TLS = (b"Client sent an HTTP request to an HTTPS server",
                     b"The plain HTTP request was sent to HTTPS port")


def _v2_bad_request(a: _Answer) -> Verdict:
    if any(p in a.body for p in PLAIN_HTTP_TO_TLS):
        a.ev["body_excerpt"] = body_excerpt(a.body)
        return Verdict("fail", Code.TLS_CLIENT_PLAIN_HTTP, f"{a.status_line}: plain HTTP sent to a TLS port", a.ev)
    return _v2_unexpected(a)


def _v2_unexpected(a: _Answer) -> Verdict:
    """A status no rule reads: unexpected, with the start of the body as evidence."""
    a.ev["body_excerpt"] = body_excerpt(a.body)
    return Verdict("fail", Code.HTTP_UNEXPECTED_STATUS, a.status_line, a.ev)


def _v2_redirect(a: _Answer) -> Verdict:
    """A redirect with a Location: registry clients follow it (registry.k8s.io sends every API
    request to a regional backend), so the answer is the one at its end (``probe.api``)."""
    location = a.hdrs.get("location")  # kept_headers redacted its signature
    if not location:
        return _v2_unexpected(a)
    a.ev["location"] = location
    return Verdict("pass", None, f"{a.status_line}: redirected to {a.ev['location']}", a.ev)


def _v2_not_found(a: _Answer) -> Verdict:
    a.ev["body_excerpt"] = body_excerpt(a.body)
    return Verdict("fail", Code.HTTP_NOT_A_REGISTRY, f"{a.status_line}: no /v2/ API here", a.ev)


_V2_BY_STATUS: dict[int, Callable[[_Answer], Verdict]] = {
    401: _v2_unauthorized, 200: _v2_ok, 403: _v2_forbidden, 429: _v2_too_many,
    407: _v2_server_error, 451: _v2_server_error, 404: _v2_not_found, 400: _v2_bad_request,
    # the redirects Go's client follows, which probe.api follows too
    **dict.fromkeys(REDIRECT_STATUSES, _v2_redirect),
}


def _middlebox(status_line: str, ev: dict[str, Any], body: bytes, ctype: str) -> Verdict:
    title = page_title(body)
    via = ev["headers"].get("via") or ev["headers"].get("server")
    ev.update(
        page_title=title,
        body_excerpt=body_excerpt(body),
        via=via,
        page_title_note=f" titled \"{title}\"" if title else "",
    )
    ev["via_note"] = f" (from {via})" if via else ""
    ev["status"] = status_line
    return Verdict("fail", Code.HTTP_MIDDLEBOX_BLOCKED,
                   f"{status_line} from a middlebox{f': {title}' if title else ''}"
                   f"{f' via {via}' if via else ''}", ev)


def classify_connect_reply(status: int, reason: str, headers: Sequence[tuple[str, str]], body: bytes, *,
                           credentials_sent: bool = False, proxy_address: str = "<proxy>:<port>") -> Verdict:
    """Decide what a proxy's answer to CONNECT means (``credentials_sent``: the proxy URL held a user).

    >>> classify_connect_reply(407, "Proxy Authentication Required", [], b"").code
    'PROXY_AUTH_REQUIRED'
    """
    hdrs = kept_headers(headers)
    status_line = f"{status} {reason}".strip()
    squid = hdrs.get("x-squid-error")
    ev: dict[str, Any] = {"status": status, "status_line": status_line, "headers": hdrs,
                          "proxy_reason": f" ({squid})" if squid else ""}
    title = page_title(body)
    if title:
        ev["page_title"] = title
    if 200 <= status < 300:
        return Verdict("pass", None, f"CONNECT answered {status_line}", ev)
    if status == 407:
        ev.update(proxy_auth_fix(headers, credentials_sent=credentials_sent, proxy_address=proxy_address))
        return Verdict("fail", Code.PROXY_AUTH_REQUIRED, f"CONNECT answered {status_line}", ev)
    if status == 403:
        return Verdict("fail", Code.PROXY_DENIED, f"CONNECT answered {status_line}{ev['proxy_reason']}", ev)
    if status in (500, 502, 503, 504):
        return Verdict("fail", Code.PROXY_UPSTREAM_FAILED, f"CONNECT answered {status_line}{ev['proxy_reason']}", ev)
    return Verdict("fail", Code.PROXY_UNEXPECTED_STATUS, f"CONNECT answered {status_line}", ev)


#: the only proxy authentication Go's transport does: the proxy URL's user and password as Basic
_GO_PROXY_SCHEMES = frozenset({"basic"})


def proxy_auth_fix(headers: Sequence[tuple[str, str]], *, credentials_sent: bool,
                   proxy_address: str = "<proxy>:<port>") -> dict[str, Any]:
    """What a 407 asks for and what to do: the schemes the proxy offers (``Proxy-Authenticate``),
    and the fix for a Go client, which sends the proxy URL's credentials as Basic and nothing else.

    >>> proxy_auth_fix([("Proxy-Authenticate", "Negotiate"), ("Proxy-Authenticate", "NTLM")],
    ...                credentials_sent=True)["proxy_auth_schemes"]
    ['negotiate', 'ntlm']
    """
    schemes = sorted({v.strip().split(None, 1)[0].rstrip(",").lower() for k, v in headers
                      if k.lower() == "proxy-authenticate" and v.strip()})
    if schemes and not _GO_PROXY_SCHEMES & set(schemes):
        fix = (f"The proxy offers only {', '.join(schemes)} authentication, which Go clients (docker, containerd, "
               "podman, the kubelet) cannot do: they send the proxy URL's user and password as Basic only. Ask the "
               "proxy team to allow the registry's hosts without authentication (or to enable Basic), or run a "
               "local authenticating relay (cntlm, px) and point HTTPS_PROXY at it.")
    elif credentials_sent:
        fix = ("The proxy refused the user and password in the proxy URL: check them with the proxy team. In the URL, "
               "`@`, `:`, `/`, `%` and `#` in the user or password must be percent-encoded (`%40`, `%3A`, …), and in "
               "systemd drop-ins every `%` is written `%%`.")
    else:
        fix = (f"Put the credentials in the proxy URL, percent-encoded: `HTTPS_PROXY=http://USER:PASSWORD@{proxy_address}`"
               " (in systemd drop-ins write `%` as `%%`).")
    return {"proxy_auth_schemes": schemes, "proxy_auth_fix": fix}


def expected_issuers(host: str) -> tuple[str, ...] | None:
    h = host.lower()
    for suffix, orgs in KNOWN_ISSUERS:
        if h == suffix.lstrip(".") or h.endswith(suffix if suffix.startswith(".") else "." + suffix) \
                or h == suffix:
            return orgs
    return None


def looks_like_inspection(issuer: str) -> bool:
    low = issuer.lower()
    return any(m in low for m in INSPECTION_MARKERS)


def interception(host: str, issuer: str, issuer_org: str | None) -> dict[str, Any] | None:
    """Evidence for TLS_INTERCEPTED when the issuer is not the registry's usual CA, else None.

    >>> interception("myreg.azurecr.io", "CN=Zscaler Intermediate Root CA,O=Zscaler Inc.", "Zscaler Inc.")["basis"]
    'issuer is not one of the public CAs of this registry, and looks like a TLS-inspection product'
    """
    expected = expected_issuers(host)
    marker = looks_like_inspection(issuer)
    org = issuer_org or ""
    if expected is not None and not any(e.lower() in org.lower() for e in expected):
        basis = "issuer is not one of the public CAs of this registry"
        if marker:
            basis += ", and looks like a TLS-inspection product"
        return {"expected_issuers": list(expected), "basis": basis}
    if expected is None and marker:
        return {"expected_issuers": "none known for this host",
                "basis": "issuer name looks like a TLS-inspection product"}
    return None


def certificate_window(not_before: str, not_after: str, now: dt.datetime) -> tuple[str, int]:
    """("ok"|"expired"|"not_yet_valid", days left)."""
    nb = dt.datetime.fromisoformat(not_before)
    na = dt.datetime.fromisoformat(not_after)
    if now < nb:
        return "not_yet_valid", (na - now).days
    if now > na:
        return "expired", (na - now).days
    return "ok", (na - now).days


def name_matches(host: str, sans: Sequence[str]) -> bool:
    """RFC 6125 matching as Go does it: exact, or one left-most ``*`` label."""
    h = host.lower().rstrip(".")
    for san in sans:
        s = san.lower()
        if s.startswith("ip:"):
            if s[3:] == h:
                return True
            continue
        if s == h:
            return True
        if s.startswith("*.") and "." in h and h.split(".", 1)[1] == s[2:]:
            return True
    return False


def summarize_chain(chain: Sequence[Mapping[str, Any]]) -> str:
    if not chain:
        return "no certificate"
    leaf = chain[0]
    return f"{leaf.get('subject', '?')} issued by {leaf.get('issuer', '?')}"


@dataclass(frozen=True)
class DnsObservation:
    """What the two resolution paths returned for one name (inputs of ``dns_verdict``)."""

    host: str
    system_addresses: tuple[str, ...] | None  # None = getaddrinfo failed
    system_error: str | None
    #: the code of the direct DNS query's failure (``probe.errors``); None = NOERROR with addresses
    dns_code: Code | None
    dns_addresses: tuple[str, ...] = ()
    chain: tuple[tuple[str, str], ...] = ()
    resolver: str = "?"
    classes: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 0.0
    #: the direct query's result as evidence: rcode or failure kind, errno, every server tried
    dns_result: str | None = None
    dns_detail: Mapping[str, Any] = field(default_factory=dict)


def dns_verdict(obs: DnsObservation, *, proxied: bool) -> Verdict:
    """Decide what the DNS observations mean. A proxied client does not resolve the registry
    itself (the proxy does), so a local failure is then only noted, not a fault.

    >>> dns_verdict(DnsObservation("r.io", None, "Name or service not known", Code.DNS_NXDOMAIN,
    ...                            resolver="127.0.0.1"), proxied=False).code
    'DNS_NXDOMAIN'
    """
    ev: dict[str, Any] = {
        "resolver": obs.resolver,
        "system_addresses": list(obs.system_addresses or []),
        "dns_addresses": list(obs.dns_addresses),
        "cname_chain": [list(c) for c in obs.chain],
        "address_classes": dict(obs.classes),
        "timeout_s": obs.timeout_s,
    }
    if obs.system_error:
        ev["system_error"] = obs.system_error
    if obs.dns_result:
        ev["dns_result"] = obs.dns_result
    ev.update(obs.dns_detail)
    privatelink = next((t for _, t in obs.chain if ".privatelink." in t), None)
    if privatelink:
        ev["privatelink_name"] = privatelink

    if obs.system_addresses is None:
        if obs.dns_code is None and obs.dns_addresses:
            code = Code.DNS_SYSTEM_RESOLVER_FAILED
        else:
            code = obs.dns_code or Code.DNS_NODATA
        if proxied:
            ev["local_code"] = code
            return Verdict("pass", None, f"not resolvable here ({code}); not needed: the proxy resolves "
                           "names for its clients", ev)
        what = obs.system_error or (obs.dns_result or "no address")
        return Verdict("fail", code, f"{obs.host}: {what} (resolver {obs.resolver})", ev)

    addrs = obs.system_addresses
    ev["addresses"] = list(addrs)
    shown = ", ".join(f"{a} ({obs.classes.get(a, '?')})" for a in addrs)
    chain_txt = (" via " + " -> ".join([obs.chain[0][0], *[t for _, t in obs.chain]])) if obs.chain else ""
    summary = f"{shown}{chain_txt}"
    public = [a for a in addrs if obs.classes.get(a) == "public"]
    if privatelink and public:
        ev["addresses"] = public
        return Verdict("warn", Code.DNS_PRIVATELINK_PUBLIC,
                       f"{summary}: privatelink chain ends in a public address", ev)
    if obs.dns_code is not None:
        # found only by the system resolver (/etc/hosts, nsswitch): that is what clients use
        summary += f" (system resolver only; direct DNS: {obs.dns_result or obs.dns_code})"
    elif obs.dns_addresses and not set(obs.dns_addresses) & set(addrs):
        return Verdict("warn", Code.DNS_HOSTS_OVERRIDE, f"{summary}; direct DNS says "
                       f"{', '.join(obs.dns_addresses)}", ev)
    loop = [a for a in addrs if obs.classes.get(a) == "loopback"]
    if loop and obs.host != "localhost" and not obs.host.endswith(".localhost"):
        ev["addresses"] = loop
        return Verdict("warn", Code.DNS_LOOPBACK, f"{summary}: loopback", ev)
    if privatelink:
        ev["addresses"] = list(addrs)
        ev["privatelink_note"] = f" through {privatelink}"
        return Verdict("pass", Code.DNS_PRIVATE_ADDRESS, f"{summary} (private endpoint)", ev)
    return Verdict("pass", None, summary, ev)


#: verify kinds from ``net.tls`` -> catalogue codes
_TLS_VERIFY_CODES = {
    "expired": Code.TLS_EXPIRED,
    "not_yet_valid": Code.TLS_NOT_YET_VALID,
    "name_mismatch": Code.TLS_NAME_MISMATCH,
    "self_signed": Code.TLS_SELF_SIGNED,
    "unknown_ca": Code.TLS_UNKNOWN_CA,
}


def tls_failure_verdict(
    host: str,
    failure: Code,
    message: str,
    *,
    verify_kind: str | None,
    chain: Sequence[Mapping[str, Any]],
    issuer_org: str | None,
    now: dt.datetime,
    trust_store: str,
) -> Verdict:
    """Decide what a failed handshake means, from the error and the chain read afterwards.

    ``failure`` is the code of the exception (``probe.errors``); a verification failure is
    refined by ``verify_kind`` (OpenSSL's reason) and the chain that was shown."""
    ev: dict[str, Any] = {"tls_error": message, "chain": list(chain), "trust_store": trust_store,
                          "now": now.replace(microsecond=0).isoformat()}
    if verify_kind is None:
        if failure == Code.TCP_RESET:
            ev["during"] = "the TLS handshake"
        return Verdict("fail", failure, message, ev)
    code = _TLS_VERIFY_CODES.get(verify_kind, Code.TLS_HANDSHAKE_FAILED)
    leaf = chain[0] if chain else {}
    if leaf:
        ev.update(subject=leaf.get("subject"), issuer=leaf.get("issuer"), not_before=leaf.get("not_before"),
                  not_after=leaf.get("not_after"), cert_names=leaf.get("sans") or [leaf.get("subject")])
    if code == Code.TLS_NAME_MISMATCH and leaf and not leaf.get("sans") and host.lower() in str(
            leaf.get("subject", "")).lower():
        code = Code.TLS_CN_ONLY
    if code == Code.TLS_UNKNOWN_CA and leaf and leaf.get("subject") == leaf.get("issuer"):
        code = Code.TLS_SELF_SIGNED
    note = ""
    if code in (Code.TLS_UNKNOWN_CA, Code.TLS_SELF_SIGNED) and leaf:
        inter = interception(host, str(leaf.get("issuer", "")), issuer_org)
        if inter is not None:
            ev.update(inter)
            ev["intercepted"] = True
            note = "; the issuer looks like a TLS-inspecting proxy or firewall"
    ev["interception_note"] = note
    who = f" (issuer {leaf.get('issuer')})" if leaf else ""
    return Verdict("fail", code, f"{message}{who}", ev)


__all__ = [
    "DnsObservation",
    "Verdict",
    "body_excerpt",
    "certificate_window",
    "classify_connect_reply",
    "classify_v2",
    "dns_verdict",
    "expected_issuers",
    "interception",
    "kept_headers",
    "looks_like_inspection",
    "name_matches",
    "page_title",
    "registry_errors",
    "tls_failure_verdict",
]
