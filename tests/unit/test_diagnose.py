"""Root cause vs consequence, from recorded observations (no sockets)."""

from __future__ import annotations

from regdoctor.diagnose import diagnose
from regdoctor.model import EndpointResult, Step


def _step(layer: str, name: str, status: str, code: str | None = None, **ev: object) -> Step:
    return Step(layer=layer, name=name, status=status, elapsed_ms=1.0, summary=name, code=code,  # type: ignore[arg-type]
                evidence=ev)


def _ep(*steps: Step, role: str = "registry", host: str = "r.io", parent: str | None = None) -> EndpointResult:
    return EndpointResult(host=host, port=443, role=role, steps=steps, parent=parent)  # type: ignore[arg-type]


def test_healthy_has_no_findings() -> None:
    e = _ep(_step("dns", "resolve", "pass"), _step("tcp", "connect", "pass"), _step("http", "GET /v2/", "pass"))
    assert diagnose([e]) == []


def test_first_failure_is_root_cause() -> None:
    e = _ep(_step("dns", "resolve", "pass"), _step("tcp", "connect", "fail", "TCP_TIMEOUT", address="10.0.0.1",
                                                   port=443, timeout_s=3), _step("tls", "handshake", "skip"))
    [f] = diagnose([e])
    assert (f.code, f.layer, f.root_cause, f.az_code) == ("TCP_TIMEOUT", "tcp", True, "CONNECTIVITY_CHALLENGE_ERROR")
    assert "10.0.0.1:443" in f.cause and "3 s" in f.cause


def test_explaining_warning_becomes_root_cause() -> None:
    e = _ep(_step("dns", "resolve", "warn", "DNS_PRIVATELINK_PUBLIC", addresses=["20.1.2.3"],
                  privatelink_name="r.privatelink.azurecr.io"),
            _step("tcp", "connect", "pass"),
            _step("http", "GET /v2/", "fail", "HTTP_FIREWALL_DENIED", client_ip="20.9.9.9", message="denied"),
            host="r.azurecr.io")
    f1, f2 = diagnose([e])
    assert (f1.code, f1.root_cause) == ("DNS_PRIVATELINK_PUBLIC", True)
    assert (f2.code, f2.root_cause) == ("HTTP_FIREWALL_DENIED", False)


def test_unrelated_warning_is_a_problem_but_no_root_cause() -> None:
    """A warning is a root cause only of what it explains; failures come first."""
    e = _ep(_step("proxy", "decide", "warn", "PROXY_RULES_DIFFER"),
            _step("tls", "handshake", "fail", "TLS_EXPIRED"))
    fs = diagnose([e])
    assert [(f.code, f.root_cause, f.consequence_of) for f in fs] == [
        ("TLS_EXPIRED", True, None), ("PROXY_RULES_DIFFER", False, None)]


def test_expiring_certificate_comes_after_the_failure_that_stops_the_pull() -> None:
    reg = _ep(_step("tls", "handshake", "warn", "TLS_EXPIRES_SOON", days_left=10),
              _step("http", "GET /v2/", "pass"), host="r.io")
    realm = _ep(_step("http", "GET /token", "fail", "TCP_REFUSED", address="10.0.0.7", port=443),
                role="realm", host="auth.r.io", parent="r.io")
    fs = diagnose([reg, realm])
    assert fs[0].code == "AUTH_REALM_UNREACHABLE" and fs[0].root_cause
    assert [f.code for f in fs] == ["AUTH_REALM_UNREACHABLE", "TCP_REFUSED", "TLS_EXPIRES_SOON"]
    assert fs[1].consequence_of == "AUTH_REALM_UNREACHABLE@auth.r.io"


def test_info_is_never_root() -> None:
    e = _ep(_step("dns", "resolve", "pass", "DNS_PRIVATE_ADDRESS", addresses=["10.0.0.4"]))
    [f] = diagnose([e])
    assert (f.severity, f.root_cause) == ("info", False)


def test_data_endpoint_failure_is_wrapped() -> None:
    reg = _ep(_step("http", "GET /v2/", "pass"), host="r.azurecr.io")
    data = _ep(_step("dns", "resolve", "pass"),
               _step("tcp", "connect", "fail", "TCP_TIMEOUT", address="10.0.0.9", port=443),
               role="data", host="r.westeurope.data.azurecr.io", parent="r.azurecr.io")
    f1, f2 = diagnose([reg, data])
    assert (f1.code, f1.layer, f1.root_cause) == ("DATA_ENDPOINT_BLOCKED", "data", True)
    assert f1.evidence["blocked_code"] == "TCP_TIMEOUT"
    assert "r.westeurope.data.azurecr.io" in f1.fix and "r.azurecr.io" in f1.cause
    assert (f2.code, f2.root_cause) == ("TCP_TIMEOUT", False)


def test_root_causes_sort_first_across_endpoints() -> None:
    a = _ep(_step("dns", "resolve", "pass", "DNS_PRIVATE_ADDRESS"), host="a.io")
    b = _ep(_step("tcp", "connect", "fail", "TCP_REFUSED"), host="b.io")
    assert [f.code for f in diagnose([a, b])] == ["TCP_REFUSED", "DNS_PRIVATE_ADDRESS"]


def test_each_data_endpoint_names_its_own_registry() -> None:
    """`check one.azurecr.io two.azurecr.io/app:1`: two's data host is two's, not one's."""
    one = _ep(_step("http", "GET /v2/", "pass"), host="one.azurecr.io")
    two = _ep(_step("http", "GET /v2/", "pass"), host="two.azurecr.io")
    data = _ep(_step("tcp", "connect", "fail", "TCP_TIMEOUT", address="10.0.0.9", port=443),
               role="data", host="two.westeurope.data.azurecr.io", parent="two.azurecr.io")
    [wrapped] = [f for f in diagnose([one, two, data]) if f.code == "DATA_ENDPOINT_BLOCKED"]
    assert "two.azurecr.io" in wrapped.cause and "two.azurecr.io" in wrapped.fix
    assert "one.azurecr.io" not in wrapped.cause + wrapped.fix


def test_no_data_endpoint_wrap_when_the_registry_failed_first() -> None:
    """`--region` on a registry whose DNS fails: "while the registry itself is reachable" is false."""
    reg = _ep(_step("dns", "resolve", "fail", "DNS_NXDOMAIN", resolver="127.0.0.1"), host="r.azurecr.io")
    rep = _ep(_step("dns", "resolve", "fail", "DNS_NXDOMAIN", resolver="127.0.0.1"),
              role="data", host="r.eastus.data.azurecr.io", parent="r.azurecr.io")
    fs = diagnose([reg, rep])
    assert "DATA_ENDPOINT_BLOCKED" not in [f.code for f in fs]
    assert [(f.code, f.host, f.root_cause) for f in fs] == [
        ("DNS_NXDOMAIN", "r.azurecr.io", True), ("DNS_NXDOMAIN", "r.eastus.data.azurecr.io", False)]
    assert fs[1].consequence_of == "DNS_NXDOMAIN@r.azurecr.io"


def test_proxy_failure_on_a_data_host_stays_the_proxy_s() -> None:
    """The same rule as explain (kb/roles.toml): a proxy that wants credentials is the proxy's fault."""
    reg = _ep(_step("http", "GET /v2/", "pass"), host="r.io")
    data = _ep(_step("proxy", "CONNECT", "fail", "PROXY_AUTH_REQUIRED", proxy_address="p:3128"),
               role="data", host="cdn.example.net", parent="r.io")
    assert [f.code for f in diagnose([reg, data])] == ["PROXY_AUTH_REQUIRED"]


def test_no_ipv6_route_on_a_token_host_is_not_wrapped_as_the_realms() -> None:
    from regdoctor.diagnose import diagnose
    from regdoctor.kb.codes import Code
    from regdoctor.model import EndpointResult, Step

    def realm(address: str) -> EndpointResult:
        return EndpointResult("auth.example", 443, "realm", parent="r.example", steps=(
            Step("tcp", "connect", "fail", 1.0, "network is unreachable", Code.TCP_NET_UNREACHABLE,
                 {"address": address, "port": 443, "errno_text": "connect: network is unreachable"}),))

    registry = EndpointResult("r.example", 443, "registry", steps=(Step("http", "GET /v2/", "pass", 1.0, "401"),))
    assert [f.code for f in diagnose([registry, realm("2600:1f18::1")])] == ["TCP_NET_UNREACHABLE"]
    assert diagnose([registry, realm("10.0.0.4")])[0].code == "AUTH_REALM_UNREACHABLE"
