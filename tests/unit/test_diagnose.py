"""Root cause vs consequence, from recorded observations (no sockets)."""

from __future__ import annotations

from regdoctor.diagnose import diagnose
from regdoctor.model import EndpointResult, Step


def _step(layer: str, name: str, status: str, code: str | None = None, **ev: object) -> Step:
    return Step(layer=layer, name=name, status=status, elapsed_ms=1.0, summary=name, code=code,  # type: ignore[arg-type]
                evidence=ev)


def _ep(*steps: Step, role: str = "registry", host: str = "r.io") -> EndpointResult:
    return EndpointResult(host=host, port=443, role=role, steps=steps)  # type: ignore[arg-type]


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


def test_unrelated_warning_stays_its_own_root() -> None:
    e = _ep(_step("proxy", "decide", "warn", "PROXY_RULES_DIFFER"),
            _step("tls", "handshake", "fail", "TLS_EXPIRED"))
    codes = {f.code: f.root_cause for f in diagnose([e])}
    assert codes == {"PROXY_RULES_DIFFER": True, "TLS_EXPIRED": True}


def test_info_is_never_root() -> None:
    e = _ep(_step("dns", "resolve", "pass", "DNS_PRIVATE_ADDRESS", addresses=["10.0.0.4"]))
    [f] = diagnose([e])
    assert (f.severity, f.root_cause) == ("info", False)


def test_data_endpoint_failure_is_wrapped() -> None:
    reg = _ep(_step("http", "GET /v2/", "pass"), host="r.azurecr.io")
    data = _ep(_step("dns", "resolve", "pass"),
               _step("tcp", "connect", "fail", "TCP_TIMEOUT", address="10.0.0.9", port=443),
               role="data", host="r.westeurope.data.azurecr.io")
    f1, f2 = diagnose([reg, data])
    assert (f1.code, f1.layer, f1.root_cause) == ("DATA_ENDPOINT_BLOCKED", "data", True)
    assert f1.evidence["blocked_code"] == "TCP_TIMEOUT"
    assert "r.westeurope.data.azurecr.io" in f1.fix and "r.azurecr.io" in f1.cause
    assert (f2.code, f2.root_cause) == ("TCP_TIMEOUT", False)


def test_root_causes_sort_first_across_endpoints() -> None:
    a = _ep(_step("dns", "resolve", "pass", "DNS_PRIVATE_ADDRESS"), host="a.io")
    b = _ep(_step("tcp", "connect", "fail", "TCP_REFUSED"), host="b.io")
    assert [f.code for f in diagnose([a, b])] == ["TCP_REFUSED", "DNS_PRIVATE_ADDRESS"]
