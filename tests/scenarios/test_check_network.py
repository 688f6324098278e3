"""One scenario per network fault: the installed CLI, run inside the lab's client namespace,
must name the right layer and code as the first root cause (issue: `regdoctor check`, network path).

Every fault here is real: a real registry, squid, dnsmasq, nftables rules, real certificates;
scripted fronts only for what no real server does on demand (tests/lab/fronts.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from lab.lab import Lab

pytestmark = pytest.mark.lab

R = "registry.lab.test"


@dataclass(frozen=True)
class Case:
    id: str
    ref: str
    code: str | None  # the expected first root cause; None = healthy
    layer: str | None = None
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    resolv: str | None = None
    ca: str = "lab"  # which CA file to pass with --ca: lab | inspection | none
    exit: int | None = None  # default: 0 if healthy else 1


CASES = [
    # --- dns
    Case("dns-nxdomain", "nx.lab.test", "DNS_NXDOMAIN", "dns"),
    Case("dns-servfail", "servfail.lab.test", "DNS_SERVFAIL", "dns"),
    Case("dns-refused", "otherregistry.azurecr.io", "DNS_REFUSED", "dns"),
    Case("dns-timeout", "dnstimeout.lab.test", "DNS_TIMEOUT", "dns", args=("--timeout", "2")),
    Case("dns-nodata", "nodata.lab.test", "DNS_NODATA", "dns"),
    Case("dns-resolver-down", f"{R}:5441", "DNS_RESOLVER_UNREACHABLE", "dns",
         resolv="nameserver 127.0.0.9\noptions timeout:1 attempts:1\n"),
    Case("dns-privatelink-public", "brokenreg.azurecr.io", "DNS_PRIVATELINK_PUBLIC", "dns"),
    # --- tcp
    Case("tcp-refused", f"{R}:5449", "TCP_REFUSED", "tcp"),
    Case("tcp-timeout", f"{R}:5455", "TCP_TIMEOUT", "tcp", args=("--timeout", "3")),
    Case("tcp-host-unreachable", f"{R}:8443", "TCP_HOST_UNREACHABLE", "tcp"),
    Case("tcp-net-unreachable", f"{R}:8445", "TCP_NET_UNREACHABLE", "tcp"),
    Case("tcp-no-arp", "blackhole.lab.test:5441", "TCP_HOST_UNREACHABLE", "tcp", args=("--timeout", "6")),
    Case("tcp-reset", f"{R}:5458", "TCP_RESET", "tcp"),
    # --- tls
    Case("tls-plain-http-server", f"{R}:5000", "TLS_NOT_TLS", "tls"),
    # the reverse: --plain-http to the real registry's TLS port (Go answers `Client sent an HTTP request to
    # an HTTPS server.`) and to a TLS port that answers the plain request with a TLS record
    Case("tls-plain-http-to-go-tls-port", f"{R}:5443", "TLS_CLIENT_PLAIN_HTTP", "tls", args=("--plain-http",)),
    Case("tls-plain-http-to-tls-port", f"{R}:5446", "TLS_CLIENT_PLAIN_HTTP", "tls", args=("--plain-http",)),
    Case("tls-expired", f"{R}:5444", "TLS_EXPIRED", "tls"),
    Case("tls-not-yet-valid", f"{R}:5445", "TLS_NOT_YET_VALID", "tls"),
    Case("tls-unknown-ca", f"{R}:5446", "TLS_UNKNOWN_CA", "tls"),
    Case("tls-wrong-name", f"{R}:5447", "TLS_NAME_MISMATCH", "tls"),
    Case("tls-self-signed", f"{R}:5448", "TLS_SELF_SIGNED", "tls"),
    Case("tls-handshake-timeout", f"{R}:5454", "TLS_HANDSHAKE_TIMEOUT", "tls", args=("--timeout", "2")),
    Case("tls-closed", f"{R}:5457", "TLS_HANDSHAKE_CLOSED", "tls"),
    Case("tls-intercepted-trusted", "labreg.azurecr.io:5440", "TLS_INTERCEPTED", "tls", ca="inspection"),
    Case("tls-intercepted-untrusted", "labreg.azurecr.io:5440", "TLS_INTERCEPTED", "tls"),
    # --- http
    Case("http-acr-firewall", f"{R}:5450", "HTTP_FIREWALL_DENIED", "http"),
    Case("http-rate-limited", f"{R}:5451", "HTTP_RATE_LIMITED", "http"),
    Case("http-html-502", f"{R}:5452", "HTTP_MIDDLEBOX_BLOCKED", "http"),
    Case("http-html-403", f"{R}:5453", "HTTP_MIDDLEBOX_BLOCKED", "http"),
    Case("http-no-response", f"{R}:5456", "HTTP_NO_RESPONSE", "http", args=("--timeout", "2")),
    Case("http-not-a-registry", f"{R}:5459", "HTTP_NOT_A_REGISTRY", "http"),
    Case("http-closed", f"{R}:5460", "HTTP_CONNECTION_CLOSED", "http"),
    Case("http-503", f"{R}:5442", "HTTP_SERVER_ERROR", "http"),
    Case("http-garbage", f"{R}:8450", "HTTP_MALFORMED_RESPONSE", "http"),
    Case("http-endless-headers", f"{R}:8451", "HTTP_RESPONSE_TOO_LARGE", "http"),
    Case("auth-no-challenge", f"{R}:8452", "AUTH_NO_CHALLENGE", "auth"),
    # --- proxy
    Case("proxy-denied", "blocked.lab.test:5441", "PROXY_DENIED", "proxy",
         env={"HTTPS_PROXY": "http://127.0.0.1:3128"}),
    Case("proxy-auth-missing", f"{R}:5441", "PROXY_AUTH_REQUIRED", "proxy",
         env={"HTTPS_PROXY": "http://127.0.0.1:3132"}),
    Case("proxy-auth-wrong", f"{R}:5441", "PROXY_AUTH_REQUIRED", "proxy",
         env={"HTTPS_PROXY": "http://labproxy:wrong-secret@127.0.0.1:3132"}),
    Case("proxy-closes", f"{R}:5441", "PROXY_CLOSED", "proxy", env={"HTTPS_PROXY": "http://127.0.0.1:3130"}),
    Case("proxy-silent", f"{R}:5441", "PROXY_NO_RESPONSE", "proxy", args=("--timeout", "2"),
         env={"HTTPS_PROXY": "http://127.0.0.1:3131"}),
    Case("proxy-down", f"{R}:5441", "PROXY_REFUSED", "proxy", env={"HTTPS_PROXY": "http://127.0.0.1:3129"}),
    Case("proxy-name-nx", f"{R}:5441", "PROXY_UNRESOLVABLE", "proxy",
         env={"HTTPS_PROXY": "http://proxy.nx.lab.test:3128"}),
    Case("proxy-https-scheme", f"{R}:5441", "PROXY_HTTPS_SCHEME_ON_HTTP_PROXY", "proxy",
         env={"HTTPS_PROXY": "https://127.0.0.1:3128"}),
    Case("proxy-upstream-refused", f"{R}:5449", "PROXY_UPSTREAM_FAILED", "proxy",
         env={"HTTPS_PROXY": "http://127.0.0.1:3128"}),
    Case("proxy-upstream-nxdomain", "nx.lab.test:5441", "PROXY_UPSTREAM_FAILED", "proxy",
         env={"HTTPS_PROXY": "http://127.0.0.1:3128"}),
    Case("proxy-flag-overrides-env", f"{R}:5441", "PROXY_REFUSED", "proxy", args=("--proxy", "http://127.0.0.1:3129")),
    Case("proxy-rules-differ", f"{R}:5441", "PROXY_RULES_DIFFER", "proxy",
         env={"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "*.lab.test"}),
    Case("proxy-http-only", f"{R}:5455", "PROXY_HTTP_ONLY", "proxy", args=("--timeout", "2"),
         env={"HTTP_PROXY": "http://127.0.0.1:3128"}),
    # a real SOCKS5 proxy (Dante): its RFC 1928 refusals read as an HTTP proxy's with the same meaning
    Case("socks-denied", "blocked.lab.test:5441", "PROXY_DENIED", "proxy",
         env={"HTTPS_PROXY": "socks5h://127.0.0.1:1080"}),
    Case("socks-upstream-refused", f"{R}:5449", "PROXY_UPSTREAM_FAILED", "proxy",
         env={"HTTPS_PROXY": "socks5h://127.0.0.1:1080"}),
    Case("socks-upstream-nxdomain", "nx.lab.test:5441", "PROXY_UPSTREAM_FAILED", "proxy",
         env={"HTTPS_PROXY": "socks5h://127.0.0.1:1080"}),
    Case("socks-down", f"{R}:5441", "PROXY_REFUSED", "proxy", env={"HTTPS_PROXY": "socks5://127.0.0.1:1081"}),
    # a plain-HTTP registry behind a proxy: forwarded in absolute form (no CONNECT), as Go does; the
    # proxy's refusal comes back as an HTTP answer marked by squid, and is still the proxy's
    Case("proxy-forward-denied", "blocked.lab.test:5000", "PROXY_DENIED", "proxy", args=("--plain-http",),
         env={"HTTP_PROXY": "http://127.0.0.1:3128"}),
    Case("proxy-forward-auth-missing", f"{R}:5000", "PROXY_AUTH_REQUIRED", "proxy", args=("--plain-http",),
         env={"HTTP_PROXY": "http://127.0.0.1:3132"}),
]


def run_check(lab: Lab, case: Case) -> tuple[int, dict[str, Any], str]:
    args = ["check", case.ref, "--json", *case.args]
    if case.ca != "none":
        args += ["--ca", str(lab.ca_file if case.ca == "lab" else lab.inspection_ca_file)]
    r = lab.regdoctor(*args, env=case.env, resolv=case.resolv, timeout=60)
    assert "Traceback" not in r.stderr, r.stderr
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        pytest.fail(f"not JSON (exit {r.returncode}): {r.stdout[:500]} {r.stderr[:500]}")
    return r.returncode, doc, r.stderr


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault(lab: Lab, case: Case) -> None:
    code, doc, _ = run_check(lab, case)
    assert doc["schema"] == 1 and doc["tool"] == "regdoctor"
    roots = [f for f in doc["findings"] if f["root_cause"]]
    assert roots, f"no root cause: {json.dumps(doc['findings'], indent=1)[:2000]}"
    first = roots[0]
    assert (first["code"], first["layer"]) == (case.code, case.layer), json.dumps(doc, indent=1)[:3000]
    assert code == (case.exit if case.exit is not None else 1)
    assert doc["status"] == "problems"


@pytest.mark.parametrize(("case_id", "says", "not_says"), [
    ("proxy-auth-missing", "Put the credentials in the proxy URL", "refused the user"),
    ("proxy-auth-wrong", "refused the user and password", "Put the credentials"),
    ("proxy-forward-auth-missing", "Put the credentials in the proxy URL", "refused the user"),
])
def test_proxy_407_fix_follows_what_was_sent(lab: Lab, case_id: str, says: str, not_says: str) -> None:
    # real squid with Basic auth: no credentials, and wrong ones, get different fixes
    case = next(c for c in CASES if c.id == case_id)
    _, doc, _ = run_check(lab, case)
    first = next(f for f in doc["findings"] if f["root_cause"])
    assert first["code"] == "PROXY_AUTH_REQUIRED" and first["evidence"]["proxy_auth_schemes"] == ["basic"]
    assert says in first["fix"] and not_says not in first["fix"], first["fix"]
    assert "wrong-secret" not in json.dumps(doc)


def test_distinct_fault_count() -> None:
    """The issue asks for at least 25 distinct lab faults."""
    assert len({c.id for c in CASES}) >= 25
    assert len({c.code for c in CASES}) >= 25


def _steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for e in doc["endpoints"] for s in e["steps"]]


@pytest.mark.parametrize(
    ("ref", "args"),
    [(f"{R}:5441", ()), (f"{R}:5443", ()), (f"{R}:5000", ("--plain-http",)), ("labreg.azurecr.io:5441", ())],
    ids=["tls", "tls-htpasswd", "plain-http", "privatelink-healthy"],
)
def test_healthy_registry(lab: Lab, ref: str, args: tuple[str, ...]) -> None:
    code, doc, _ = run_check(lab, Case("healthy", ref, None, args=args))
    assert code == 0, json.dumps(doc, indent=1)[:3000]
    assert doc["status"] == "ok"
    assert not [s for s in _steps(doc) if s["status"] == "fail"]
    assert all(f["severity"] == "info" for f in doc["findings"])


def test_plain_http_registry_is_forwarded_through_the_proxy(lab: Lab) -> None:
    """HTTP_PROXY applies to http:// registries (Go's rules by scheme), and Go sends the request to
    the proxy in absolute form, without CONNECT: so does the check, and squid logs it as such."""
    log = lab.dir / "squid" / "access.log"
    before = log.read_text() if log.exists() else ""
    code, doc, _ = run_check(lab, Case("healthy", f"{R}:5000", None, args=("--plain-http",),
                                       env={"HTTP_PROXY": "http://127.0.0.1:3128"}))
    assert code == 0, json.dumps(doc, indent=1)[:3000]
    names = [s["name"] for s in _steps(doc)]
    assert "forward" in names and "CONNECT" not in names
    new = log.read_text()[len(before):]
    assert f"GET http://{R}:5000/v2/" in new and "CONNECT" not in new


def test_healthy_tls_records_chain_and_version(lab: Lab) -> None:
    _, doc, _ = run_check(lab, Case("healthy", f"{R}:5441", None))
    tls = next(s for s in _steps(doc) if s["layer"] == "tls")
    assert tls["evidence"]["version"].startswith("TLSv1.")
    assert tls["evidence"]["sni"] == R
    assert "Lab" in tls["evidence"]["chain"][0]["issuer"]


def test_private_endpoint_dns_is_noted(lab: Lab) -> None:
    _, doc, _ = run_check(lab, Case("pe", "labreg.azurecr.io:5441", None))
    dns = _steps(doc)[0]
    assert dns["evidence"]["cname_chain"][0] == ["labreg.azurecr.io", "labreg.privatelink.azurecr.io"]
    assert [f["code"] for f in doc["findings"]] == ["DNS_PRIVATE_ADDRESS"]


def test_dropped_port_costs_its_deadline_once(lab: Lab) -> None:
    """A silently dropped endpoint with --timeout 3 returns in under 4 s, whole command included."""
    t0 = time.monotonic()
    code, doc, _ = run_check(lab, Case("drop", f"{R}:5455", "TCP_TIMEOUT", args=("--timeout", "3")))
    wall = time.monotonic() - t0
    assert code == 1 and doc["findings"][0]["code"] == "TCP_TIMEOUT"
    assert wall < 4.0, f"took {wall:.2f} s"


def test_firewall_denial_reports_the_client_ip(lab: Lab) -> None:
    _, doc, _ = run_check(lab, Case("fw", f"{R}:5450", "HTTP_FIREWALL_DENIED"))
    f = doc["findings"][0]
    assert f["evidence"]["client_ip"] == "10.200.0.2"
    assert "10.200.0.2" in f["fix"] and f["az_code"] == "CONNECTIVITY_FORBIDDEN_ERROR"


def test_broken_privatelink_explains_the_firewall_denial(lab: Lab) -> None:
    _, doc, _ = run_check(lab, Case("pl", "brokenreg.azurecr.io", "DNS_PRIVATELINK_PUBLIC"))
    codes = [(f["code"], f["root_cause"]) for f in doc["findings"]]
    assert codes[:2] == [("DNS_PRIVATELINK_PUBLIC", True), ("HTTP_FIREWALL_DENIED", False)]
    assert "20.50.60.70" in doc["findings"][0]["cause"]


def test_plain_http_registry_evidence(lab: Lab) -> None:
    _, doc, _ = run_check(lab, Case("plain", f"{R}:5000", "TLS_NOT_TLS"))
    assert "plain HTTP" in doc["findings"][0]["evidence"]["peer_speaks"]


def test_squid_tunnel_is_used_and_works(lab: Lab) -> None:
    code, doc, _ = run_check(lab, Case("via-squid", f"{R}:5441", None, env={"HTTPS_PROXY": "http://127.0.0.1:3128"}))
    assert code == 0, json.dumps(doc, indent=1)[:2000]
    names = [s["name"] for s in _steps(doc)]
    assert "CONNECT" in names
    time.sleep(0.3)
    assert f"CONNECT {R}:5441" in lab.squid_access_log.read_text()


def test_socks5_tunnel_is_used_and_works(lab: Lab) -> None:
    """Through Dante, a TLS registry and a plain-HTTP one both pass: SOCKS5 carries either stream."""
    for ref, extra in ((f"{R}:5441", ()), (f"{R}:5000", ("--plain-http",))):
        code, doc, _ = run_check(lab, Case("via-socks", ref, None, args=extra,
                                           env={"HTTPS_PROXY": "socks5h://127.0.0.1:1080",
                                                "HTTP_PROXY": "socks5h://127.0.0.1:1080"}))
        assert code == 0, json.dumps(doc["findings"], indent=1)[:2000]
        assert any(s["name"] == "SOCKS5 CONNECT" and s["status"] == "pass" for s in _steps(doc)), _steps(doc)


def test_proxy_credentials_work_and_are_never_printed(lab: Lab) -> None:
    env = {"HTTPS_PROXY": "http://labproxy:proxypass@127.0.0.1:3132"}
    for fmt in ("--json", "--format=markdown", "--format=text", "--format=junit"):
        r = lab.regdoctor("check", f"{R}:5441", "--ca", str(lab.ca_file), fmt, env=env)
        assert r.returncode == 0, r.stdout[:2000]
        assert "proxypass" not in r.stdout + r.stderr


def test_proxy_upstream_failure_keeps_squid_reason(lab: Lab) -> None:
    _, doc, _ = run_check(lab, Case("up", f"{R}:5449", "PROXY_UPSTREAM_FAILED",
                                    env={"HTTPS_PROXY": "http://127.0.0.1:3128"}))
    ev = doc["findings"][0]["evidence"]
    assert ev["status"] == 503 and "x-squid-error" in ev["headers"]


def test_rules_differ_names_both_runtimes(lab: Lab) -> None:
    _, doc, _ = run_check(lab, Case("differ", f"{R}:5441", "PROXY_RULES_DIFFER",
                                    env={"HTTPS_PROXY": "http://127.0.0.1:3128", "NO_PROXY": "*.lab.test"}))
    f = doc["findings"][0]
    assert f["evidence"]["go_proxy"] == "direct" and f["evidence"]["python_proxy"] == "http://127.0.0.1:3128"


def test_endpoints_run_concurrently(lab: Lab) -> None:
    """Two blackholed registries cost one deadline, not two."""
    t0 = time.monotonic()
    r = lab.regdoctor("check", f"{R}:5455", "blackhole.lab.test:5455", "--timeout", "2", "--json")
    wall = time.monotonic() - t0
    doc = json.loads(r.stdout)
    assert [e["host"] for e in doc["endpoints"]] == [R, "blackhole.lab.test"]
    assert wall < 3.5, f"took {wall:.2f} s"


@pytest.mark.parametrize("fmt", ["text", "markdown", "junit"])
def test_other_formats(lab: Lab, fmt: str) -> None:
    r = lab.regdoctor("check", f"{R}:5444", "--ca", str(lab.ca_file), f"--format={fmt}")
    assert r.returncode == 1 and "TLS_EXPIRED" in r.stdout


def test_bad_reference_is_one_line(lab: Lab) -> None:
    r = lab.regdoctor("check", "not a ref!")
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_fix_commands_reach_a_plain_http_registry_as_the_check_did(lab: Lab) -> None:
    _, doc, _ = run_check(lab, Case("plain-missing-tag", f"{R}:5000/lab/hello:no-such-tag", None,
                                    args=("--plain-http",)))
    first = next(f for f in doc["findings"] if f["root_cause"])
    assert first["code"] == "REGISTRY_MANIFEST_UNKNOWN", doc["findings"]
    assert "skopeo list-tags --tls-verify=false docker://" in first["fix"], first["fix"]
    _, doc, _ = run_check(lab, Case("tls-missing-tag", f"{R}:5441/lab/hello:no-such-tag", None))
    first = next(f for f in doc["findings"] if f["root_cause"])
    assert "skopeo list-tags docker://" in first["fix"], first["fix"]
