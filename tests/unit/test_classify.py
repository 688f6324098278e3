"""Pure verdicts on recorded answers, hostile ones included."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from regdoctor import classify, kb
from regdoctor.classify import DnsObservation, classify_connect_reply, classify_v2, dns_verdict
from regdoctor.kb.codes import Code

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
#: what the probe layers add to a verdict's evidence before it becomes a finding (probe/layers.py)
_LAYER_CONTEXT = {"address": "10.0.0.4", "port": 443, "path": "/v2/", "timeout_s": 5.0, "tls_note": "",
                  "host_port": "r.io", "during": "GET /v2/", "proxy_address": "10.0.0.9:3128",
                  "proxy": "http://10.0.0.9:3128", "auth_note": "", "registry": "r",
                  "peer_speaks": "plain HTTP (HTTP/1.1 400 Bad Request)"}


def assert_texts_filled(v: classify.Verdict) -> None:
    """The finding a failing verdict becomes reads whole: a summary, and no ``{placeholder}`` the
    verdict's evidence should have filled in its code's cause and fix (kb/codes.toml)."""
    assert isinstance(v.summary, str) and v.summary.strip() and "None" not in v.summary, v
    if v.code is None:
        return
    f = kb.code(v.code).finding(host="r.io", evidence={**_LAYER_CONTEXT, **v.evidence}, root_cause=True)
    for text in (f.title, f.cause, f.fix):
        assert not _PLACEHOLDER.findall(text), (v.code, _PLACEHOLDER.findall(text), sorted(v.evidence))


ACR_DENIED = json.dumps({"errors": [{"code": "DENIED", "message": "client with IP '203.0.113.7' is not allowed "
                                     "access. Refer https://aka.ms/acr/firewall to grant access."}]}).encode()
JSON = [("content-type", "application/json; charset=utf-8")]


@pytest.mark.parametrize(
    ("status", "headers", "body", "verdict", "code"),
    [
        (401, [("www-authenticate", 'Bearer realm="https://r.io/oauth2/token",service="r.io"')], b"", "pass", None),
        (401, [("www-authenticate", 'Basic realm="Registry"')], b"", "pass", None),
        (401, JSON, b'{"errors":[{"code":"UNAUTHORIZED"}]}', "fail", "AUTH_NO_CHALLENGE"),
        (200, [("docker-distribution-api-version", "registry/2.0")], b"{}", "pass", None),
        (200, JSON, b"{}", "pass", None),
        (200, [("content-type", "text/html")], b"<html><title>Welcome</title></html>", "fail",
         "HTTP_NOT_A_REGISTRY"),
        (403, JSON, ACR_DENIED, "fail", "HTTP_FIREWALL_DENIED"),
        (403, JSON, b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
         "fail", "HTTP_FORBIDDEN"),
        (403, [("content-type", "text/html")], b"<html><title>Blocked</title></html>", "fail",
         "HTTP_MIDDLEBOX_BLOCKED"),
        (403, [], b"", "fail", "HTTP_MIDDLEBOX_BLOCKED"),
        (429, [*JSON, ("retry-after", "30")], b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
         "fail", "HTTP_RATE_LIMITED"),
        (502, [("content-type", "text/html")], b"<html><title>502 Bad Gateway</title>", "fail",
         "HTTP_MIDDLEBOX_BLOCKED"),
        (503, JSON, b'{"errors":[{"code":"UNAVAILABLE","message":"down"}]}', "fail", "HTTP_SERVER_ERROR"),
        (500, [("content-type", "text/plain")], b"oops", "fail", "HTTP_SERVER_ERROR"),
        (404, [("content-type", "text/plain")], b"404 page not found", "fail", "HTTP_NOT_A_REGISTRY"),
        # a redirect clients follow passes: the answer that counts is at its end (probe.api)
        (301, [("location", "https://elsewhere/")], b"", "pass", None),
        (307, [("location", "/v2/?sig=SECRET")], b"", "pass", None),
        (307, [], b"", "fail", "HTTP_UNEXPECTED_STATUS"),  # no Location: nowhere to go
        (300, [("location", "https://elsewhere/")], b"", "fail", "HTTP_UNEXPECTED_STATUS"),  # Go does not follow
    ],
)
def test_classify_v2(status: int, headers: list[tuple[str, str]], body: bytes, verdict: str, code: str | None) -> None:
    v = classify_v2(status, "X", headers, body)
    assert (v.status, v.code) == (verdict, code)
    assert_texts_filled(v)


def test_firewall_denied_keeps_client_ip() -> None:
    v = classify_v2(403, "Forbidden", JSON, ACR_DENIED)
    assert v.evidence["client_ip"] == "203.0.113.7"
    assert "aka.ms/acr/firewall" in v.evidence["message"]


def test_hostile_bodies_are_bounded() -> None:
    huge = b"<html><title>" + b"A" * 1_000_000 + b"</title>"
    v = classify_v2(403, "Forbidden", [("content-type", "text/html")], huge)
    assert len(v.evidence["body_excerpt"]) < 500
    binary = bytes(range(256)) * 10
    v = classify_v2(500, "x", [], binary)
    assert v.code == "HTTP_SERVER_ERROR"
    assert classify.registry_errors(b"{not json", "application/json") == []
    assert classify.registry_errors(b'{"errors": "nope"}', "application/json") == []
    assert classify.registry_errors(b"[1,2]", "application/json") == []


def test_cookies_and_auth_headers_are_not_kept() -> None:
    kept = classify.kept_headers([("set-cookie", "s=1"), ("authorization", "Bearer x"), ("server", "nginx")])
    assert kept == {"server": "nginx"}


@pytest.mark.parametrize(
    ("status", "code"),
    [(200, None), (407, "PROXY_AUTH_REQUIRED"), (403, "PROXY_DENIED"), (503, "PROXY_UPSTREAM_FAILED"),
     (500, "PROXY_UPSTREAM_FAILED"), (502, "PROXY_UPSTREAM_FAILED"), (405, "PROXY_UNEXPECTED_STATUS")],
)
def test_connect_reply(status: int, code: str | None) -> None:
    v = classify_connect_reply(status, "X", [("x-squid-error", "ERR_ACCESS_DENIED 0")], b"")
    assert v.code == code
    assert_texts_filled(v)


def _obs(**kw: object) -> DnsObservation:
    base: dict[str, object] = {"host": "r.io", "system_addresses": ("10.0.0.4",), "system_error": None,
                               "dns_code": None, "dns_addresses": ("10.0.0.4",), "resolver": "127.0.0.1",
                               "classes": {"10.0.0.4": "private", "20.1.2.3": "public", "127.0.0.1": "loopback"}}
    base.update(kw)
    return DnsObservation(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("obs", "proxied", "status", "code"),
    [
        (_obs(), False, "pass", None),
        (_obs(system_addresses=None, system_error="Name or service not known", dns_code=Code.DNS_NXDOMAIN,
              dns_addresses=()), False, "fail", "DNS_NXDOMAIN"),
        (_obs(system_addresses=None, dns_code=Code.DNS_SERVFAIL, dns_addresses=()), False, "fail", "DNS_SERVFAIL"),
        (_obs(system_addresses=None, dns_code=Code.DNS_REFUSED, dns_addresses=()), False, "fail", "DNS_REFUSED"),
        (_obs(system_addresses=None, dns_code=Code.DNS_TIMEOUT, dns_addresses=()), False, "fail", "DNS_TIMEOUT"),
        (_obs(system_addresses=None, dns_code=Code.DNS_RESOLVER_UNREACHABLE, dns_addresses=()), False, "fail",
         "DNS_RESOLVER_UNREACHABLE"),
        (_obs(system_addresses=None, dns_code=Code.DNS_NODATA, dns_addresses=()), False, "fail", "DNS_NODATA"),
        (_obs(system_addresses=None, system_error="Temporary failure in name resolution", dns_code=None,
              dns_addresses=("10.0.0.4",)), False, "fail",
         "DNS_SYSTEM_RESOLVER_FAILED"),
        (_obs(system_addresses=None, dns_code=Code.DNS_NXDOMAIN, dns_addresses=()), True, "pass", None),
        (_obs(dns_addresses=("20.1.2.3",)), False, "warn", "DNS_HOSTS_OVERRIDE"),
        (_obs(dns_code=Code.DNS_NXDOMAIN, dns_addresses=()), False, "pass", None),
        (_obs(system_addresses=("127.0.0.1",), dns_addresses=("127.0.0.1",)), False, "warn", "DNS_LOOPBACK"),
        (_obs(system_addresses=("20.1.2.3",), dns_addresses=("20.1.2.3",),
              chain=(("r.azurecr.io", "r.privatelink.azurecr.io"), ("r.privatelink.azurecr.io", "x.cloudapp.net"))),
         False, "warn", "DNS_PRIVATELINK_PUBLIC"),
        (_obs(chain=(("r.azurecr.io", "r.privatelink.azurecr.io"),)), False, "pass", "DNS_PRIVATE_ADDRESS"),
    ],
)
def test_dns_verdict(obs: DnsObservation, proxied: bool, status: str, code: str | None) -> None:
    v = dns_verdict(obs, proxied=proxied)
    assert (v.status, v.code) == (status, code)
    assert_texts_filled(v)


NOW = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)


def _leaf(**kw: object) -> dict[str, object]:
    leaf: dict[str, object] = {"subject": "CN=r.io", "issuer": "CN=Lab CA", "sans": ["r.io"],
                               "not_before": "2026-01-01T00:00:00+00:00", "not_after": "2027-01-01T00:00:00+00:00"}
    leaf.update(kw)
    return leaf


@pytest.mark.parametrize(
    ("kind", "verify_kind", "chain", "org", "code"),
    [
        (Code.TLS_HANDSHAKE_FAILED, "expired", [_leaf()], None, "TLS_EXPIRED"),
        (Code.TLS_HANDSHAKE_FAILED, "not_yet_valid", [_leaf()], None, "TLS_NOT_YET_VALID"),
        (Code.TLS_HANDSHAKE_FAILED, "name_mismatch", [_leaf(sans=["other.io"])], None, "TLS_NAME_MISMATCH"),
        (Code.TLS_HANDSHAKE_FAILED, "name_mismatch", [_leaf(sans=[])], None, "TLS_CN_ONLY"),
        (Code.TLS_HANDSHAKE_FAILED, "unknown_ca", [_leaf()], None, "TLS_UNKNOWN_CA"),
        (Code.TLS_HANDSHAKE_FAILED, "unknown_ca", [_leaf(issuer="CN=r.io")], None, "TLS_SELF_SIGNED"),
        (Code.TLS_HANDSHAKE_FAILED, "self_signed", [_leaf(issuer="CN=r.io")], None, "TLS_SELF_SIGNED"),
        (Code.TLS_HANDSHAKE_TIMEOUT, None, [], None, "TLS_HANDSHAKE_TIMEOUT"),
        (Code.TLS_HANDSHAKE_CLOSED, None, [], None, "TLS_HANDSHAKE_CLOSED"),
        (Code.TCP_RESET, None, [], None, "TCP_RESET"),
        (Code.TLS_NOT_TLS, None, [], None, "TLS_NOT_TLS"),
        (Code.TLS_HANDSHAKE_FAILED, None, [], None, "TLS_HANDSHAKE_FAILED"),
    ],
)
def test_tls_failure(kind: Code, verify_kind: str | None, chain: list[dict[str, object]], org: str | None,
                     code: str) -> None:
    v = classify.tls_failure_verdict("r.io", kind, "msg", verify_kind=verify_kind, chain=chain, issuer_org=org,
                                     now=NOW, trust_store="system")
    assert v.code == code
    assert_texts_filled(v)


def test_unknown_ca_with_inspection_issuer_is_flagged() -> None:
    v = classify.tls_failure_verdict(
        "myreg.azurecr.io", Code.TLS_HANDSHAKE_FAILED, "x", verify_kind="unknown_ca",
        chain=[_leaf(issuer="CN=Zscaler Intermediate Root CA,O=Zscaler Inc.")], issuer_org="Zscaler Inc.",
        now=NOW, trust_store="system")
    assert v.evidence["intercepted"] is True


@pytest.mark.parametrize(
    ("host", "issuer", "org", "flag"),
    [
        ("myreg.azurecr.io", "CN=Microsoft Azure RSA TLS Issuing CA 03,O=Microsoft Corporation",
         "Microsoft Corporation", False),
        ("myreg.azurecr.io", "CN=Contoso Inspection,O=Contoso Secure Web Gateway", "Contoso Secure Web Gateway", True),
        ("registry.internal", "CN=Corp Root CA,O=Corp", "Corp", False),
        ("registry.internal", "CN=FortiGate CA,O=Fortinet", "Fortinet", True),
        ("ghcr.io", "CN=Sectigo ECC,O=Sectigo Limited", "Sectigo Limited", False),
    ],
)
def test_interception(host: str, issuer: str, org: str, flag: bool) -> None:
    assert (classify.interception(host, issuer, org) is not None) is flag


def test_certificate_window() -> None:
    assert classify.certificate_window("2020-01-01T00:00:00+00:00", "2020-01-02T00:00:00+00:00", NOW)[0] == "expired"
    assert classify.certificate_window("2099-01-01T00:00:00+00:00", "2099-12-31T00:00:00+00:00", NOW)[0] == \
        "not_yet_valid"
    status, days = classify.certificate_window("2026-01-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00", NOW)
    assert (status, days) == ("ok", 5)


@pytest.mark.parametrize(
    ("host", "sans", "ok"),
    [("r.io", ["r.io"], True), ("a.r.io", ["*.r.io"], True), ("a.b.r.io", ["*.r.io"], False),
     ("r.io", ["*.r.io"], False), ("10.0.0.1", ["IP:10.0.0.1"], True), ("R.IO", ["r.io"], True)],
)
def test_name_matches(host: str, sans: list[str], ok: bool) -> None:
    assert classify.name_matches(host, sans) is ok


def test_407_fix_follows_what_was_sent_and_what_the_proxy_offers() -> None:
    # Go's transport sends the proxy URL's credentials as Basic and knows no other proxy scheme
    from regdoctor.classify import classify_connect_reply

    basic = [("Proxy-Authenticate", 'Basic realm="corp"')]
    none_sent = classify_connect_reply(407, "Proxy Authentication Required", basic, b"", proxy_address="10.0.0.5:3128")
    assert "USER:PASSWORD@10.0.0.5:3128" in none_sent.evidence["proxy_auth_fix"]
    wrong = classify_connect_reply(407, "Proxy Authentication Required", basic, b"", credentials_sent=True)
    assert "refused the user and password" in wrong.evidence["proxy_auth_fix"]
    assert "Put the credentials" not in wrong.evidence["proxy_auth_fix"]
    ntlm = classify_connect_reply(407, "Proxy Authentication Required",
                                  [("Proxy-Authenticate", "NTLM"), ("Proxy-Authenticate", "Negotiate")], b"",
                                  credentials_sent=True)
    assert ntlm.evidence["proxy_auth_schemes"] == ["negotiate", "ntlm"]
    assert "Basic only" in ntlm.evidence["proxy_auth_fix"]
    # a proxy that offers Basic beside NTLM can take the URL's credentials
    both = classify_connect_reply(407, "X", [("Proxy-Authenticate", "NTLM"), ("Proxy-Authenticate", "Basic")], b"",
                                  credentials_sent=True)
    assert "refused the user and password" in both.evidence["proxy_auth_fix"]


def test_a_redirects_signature_is_not_kept() -> None:
    v = classify_v2(307, "Temporary Redirect", [("location", "https://s.blob.core.windows.net/c?sig=SECRET")], b"")
    assert "SECRET" not in repr(v), v
