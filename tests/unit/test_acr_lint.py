"""acr lint: one row per pitfall of the reference, each asserted present and, where it matters, absent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import acr_support as c
import pytest

from regdoctor import kb
from regdoctor.acr.lint import lint

DATA = Path(__file__).resolve().parent / "data" / "acr"
SUBNET = "/subscriptions/0000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/agents"


def reg(**props: Any) -> dict[str, Any]:
    """A healthy Premium registry (REST shape) with ``props`` overriding its properties."""
    base: dict[str, Any] = {
        "loginServer": "contoso1.azurecr.io", "publicNetworkAccess": "Enabled",
        "networkRuleSet": {"defaultAction": "Allow", "ipRules": [], "virtualNetworkRules": []},
        "networkRuleBypassOptions": "AzureServices", "networkRuleBypassAllowedForTasks": True,
        "dataEndpointEnabled": False, "dataEndpointHostNames": [], "privateEndpointConnections": [],
        "endpointProtocol": "IPv4",
    }
    base.update(props)
    return {"name": "contoso1", "location": "westeurope", "sku": {"name": "Premium"}, "properties": base}


def rules(default: str = "Deny", ips: tuple[str, ...] = (), vnet: tuple[str, ...] | None = ()) -> dict[str, Any]:
    nrs: dict[str, Any] = {"defaultAction": default, "ipRules": [{"action": "Allow", "value": v} for v in ips]}
    if vnet is not None:
        nrs["virtualNetworkRules"] = [{"action": "Allow", "id": s} for s in vnet]
    return nrs


def conn(name: str, status: str, description: str = "") -> dict[str, Any]:
    return {"name": name, "properties": {"privateLinkServiceConnectionState": {"status": status,
                                                                               "description": description}}}


def records(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"name": n, "fqdn": f"{n}.privatelink.azurecr.io.", "aRecords": [{"ipv4Address": ip}]} for n, ip in pairs]


def codes_of(doc: dict[str, Any], **parts: Any) -> list[str]:
    return [f.code for f in lint(c.build(c.Inputs(registry=doc, **parts)))]


PE_OK = [conn("pe1", "Approved")]

#: Every code `acr lint` can emit (the `config (acr lint / acr dns)` section of codes.toml, less the live DNS ones).
LINT_CODES = {
    "ACR_NETWORK_RULES_NOT_PREMIUM", "ACR_SERVICE_ENDPOINT_PUBLIC_DISABLED", "ACR_TRUSTED_SERVICES_OFF",
    "ACR_TRUSTED_SERVICES_INEFFECTIVE", "ACR_TASKS_BYPASS_OFF", "ACR_TASKS_PUBLIC_DISABLED",
    "ACR_IP_RULES_PUBLIC_DISABLED", "ACR_IP_RULES_DEFAULT_ALLOW", "ACR_IP_RULES_PRIVATE_ENDPOINT",
    "ACR_IP_RULE_INVALID", "ACR_IP_RULE_PRIVATE_RANGE", "ACR_DUAL_STACK_NO_DATA_ENDPOINT",
    "ACR_DUAL_STACK_IPV4_ONLY_RULES",
    "ACR_PRIVATE_ENDPOINT_NOT_APPROVED", "ACR_NO_ACCESS_PATH", "CONFIG_VNET_RULES_UNKNOWN",
    "ACR_PRIVATE_DNS_RECORD_MISSING", "ACR_PRIVATE_DNS_RECORD_PUBLIC", "ACR_PRIVATE_DNS_RECORD_MISMATCH",
}

# (id, registry document, extra inputs, codes that must appear, codes that must not)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], set[str], set[str]]] = [
    ("healthy-default", reg(), {}, set(), {"ACR_NETWORK_RULES_NOT_PREMIUM", "ACR_TASKS_BYPASS_OFF"}),
    ("not-premium-with-rules", {**reg(networkRuleSet=rules(ips=("203.0.113.0/24",))), "sku": {"name": "Standard"}},
     {}, {"ACR_NETWORK_RULES_NOT_PREMIUM"}, set()),
    ("not-premium-public-disabled", {**reg(publicNetworkAccess="Disabled"), "sku": {"name": "Basic"}}, {},
     {"ACR_NETWORK_RULES_NOT_PREMIUM"}, set()),
    ("standard-without-network-features", {**reg(), "sku": {"name": "Standard"}}, {}, set(),
     {"ACR_NETWORK_RULES_NOT_PREMIUM"}),
    ("service-endpoint-public-disabled", reg(publicNetworkAccess="Disabled", networkRuleSet=rules(vnet=(SUBNET,)),
                                             privateEndpointConnections=PE_OK), {},
     {"ACR_SERVICE_ENDPOINT_PUBLIC_DISABLED", "ACR_TRUSTED_SERVICES_INEFFECTIVE"}, {"ACR_TRUSTED_SERVICES_OFF"}),
    ("trusted-services-off-restricted", reg(networkRuleSet=rules(), networkRuleBypassOptions="None"), {},
     {"ACR_TRUSTED_SERVICES_OFF"}, set()),
    ("trusted-services-off-open", reg(networkRuleBypassOptions="None"), {}, set(), {"ACR_TRUSTED_SERVICES_OFF"}),
    ("trusted-services-with-service-endpoint", reg(networkRuleSet=rules(vnet=(SUBNET,))), {},
     {"ACR_TRUSTED_SERVICES_INEFFECTIVE"}, {"ACR_TRUSTED_SERVICES_OFF"}),
    ("tasks-bypass-off", reg(networkRuleSet=rules(), networkRuleBypassAllowedForTasks=False), {},
     {"ACR_TASKS_BYPASS_OFF"}, set()),
    ("tasks-bypass-unset-means-off", reg(networkRuleSet=rules(), networkRuleBypassAllowedForTasks=None), {},
     {"ACR_TASKS_BYPASS_OFF"}, set()),
    ("tasks-bypass-on", reg(networkRuleSet=rules()), {}, set(), {"ACR_TASKS_BYPASS_OFF"}),
    ("tasks-public-disabled", reg(publicNetworkAccess="Disabled", privateEndpointConnections=PE_OK), {},
     {"ACR_TASKS_PUBLIC_DISABLED"}, {"ACR_TASKS_BYPASS_OFF", "ACR_NO_ACCESS_PATH"}),
    ("ip-rules-public-disabled", reg(publicNetworkAccess="Disabled", networkRuleSet=rules(ips=("203.0.113.0/24",)),
                                     privateEndpointConnections=PE_OK), {},
     {"ACR_IP_RULES_PUBLIC_DISABLED"}, {"ACR_IP_RULES_PRIVATE_ENDPOINT"}),
    ("ip-rules-default-allow", reg(networkRuleSet=rules(default="Allow", ips=("203.0.113.0/24",))), {},
     {"ACR_IP_RULES_DEFAULT_ALLOW"}, set()),
    ("ip-rules-and-private-endpoint", reg(networkRuleSet=rules(ips=("203.0.113.0/24",)),
                                          privateEndpointConnections=PE_OK), {},
     {"ACR_IP_RULES_PRIVATE_ENDPOINT"}, {"ACR_IP_RULES_PUBLIC_DISABLED"}),
    ("ip-rule-ipv6", reg(networkRuleSet=rules(ips=("2001:db8::/48",))), {}, {"ACR_IP_RULE_INVALID"}, set()),
    ("ip-rule-garbage", reg(networkRuleSet=rules(ips=("office",))), {}, {"ACR_IP_RULE_INVALID"}, set()),
    ("ip-rule-private-range", reg(networkRuleSet=rules(ips=("10.0.0.0/8",))), {}, {"ACR_IP_RULE_PRIVATE_RANGE"},
     set()),
    ("ip-rule-public-ok", reg(networkRuleSet=rules(ips=("203.0.113.0/24", "198.51.100.7"))), {}, set(),
     {"ACR_IP_RULE_INVALID", "ACR_IP_RULE_PRIVATE_RANGE"}),
    ("dual-stack-no-data-endpoint", reg(endpointProtocol="IPv4AndIPv6"), {}, {"ACR_DUAL_STACK_NO_DATA_ENDPOINT"},
     set()),
    ("dual-stack-with-data-endpoint", reg(endpointProtocol="IPv4AndIPv6", dataEndpointEnabled=True), {}, set(),
     {"ACR_DUAL_STACK_NO_DATA_ENDPOINT"}),
    ("dual-stack-ipv4-rules", reg(endpointProtocol="IPv4AndIPv6", dataEndpointEnabled=True,
                                  networkRuleSet=rules(ips=("203.0.113.0/24",))), {},
     {"ACR_DUAL_STACK_IPV4_ONLY_RULES"}, set()),
    ("pe-pending", reg(privateEndpointConnections=[conn("pe1", "Pending")]), {},
     {"ACR_PRIVATE_ENDPOINT_NOT_APPROVED"}, set()),
    ("pe-rejected-from-list-file", reg(), {"connections": [{"name": "pe9", "privateLinkServiceConnectionState":
                                                            {"status": "Rejected"}}]},
     {"ACR_PRIVATE_ENDPOINT_NOT_APPROVED"}, set()),
    ("pe-approved", reg(privateEndpointConnections=PE_OK), {}, set(), {"ACR_PRIVATE_ENDPOINT_NOT_APPROVED"}),
    ("no-access-path", reg(publicNetworkAccess="Disabled"), {}, {"ACR_NO_ACCESS_PATH"}, set()),
    ("no-access-path-pending", reg(publicNetworkAccess="Disabled", privateEndpointConnections=[conn("p", "Pending")]),
     {}, {"ACR_NO_ACCESS_PATH", "ACR_PRIVATE_ENDPOINT_NOT_APPROVED"}, set()),
    ("vnet-rules-absent", reg(networkRuleSet=rules(vnet=None)), {}, {"CONFIG_VNET_RULES_UNKNOWN"}, set()),
    ("dns-records-complete", reg(privateEndpointConnections=PE_OK, dataEndpointEnabled=True),
     {"zone_records": records(("contoso1", "10.0.0.4"), ("contoso1.westeurope.data", "10.0.0.5"))}, set(),
     {"ACR_PRIVATE_DNS_RECORD_MISSING", "ACR_PRIVATE_DNS_RECORD_PUBLIC"}),
    ("dns-replica-data-endpoint-missing", reg(privateEndpointConnections=PE_OK, dataEndpointEnabled=True),
     {"zone_records": records(("contoso1", "10.0.0.4"), ("contoso1.westeurope.data", "10.0.0.5")),
      "replications": [{"location": "westeurope"}, {"location": "eastus"}]},
     {"ACR_PRIVATE_DNS_RECORD_MISSING"}, set()),
    ("dns-record-public-ip", reg(privateEndpointConnections=PE_OK),
     {"zone_records": records(("contoso1", "20.1.2.3"), ("contoso1.westeurope.data", "10.0.0.5"))},
     {"ACR_PRIVATE_DNS_RECORD_PUBLIC"}, {"ACR_PRIVATE_DNS_RECORD_MISSING"}),
    ("dns-regional-endpoint-missing", reg(privateEndpointConnections=PE_OK, regionalEndpoints="Enabled"),
     {"zone_records": records(("contoso1", "10.0.0.4"), ("contoso1.westeurope.data", "10.0.0.5"))},
     {"ACR_PRIVATE_DNS_RECORD_MISSING"}, set()),
    ("dns-records-not-given", reg(privateEndpointConnections=PE_OK), {}, set(), {"ACR_PRIVATE_DNS_RECORD_MISSING"}),
    ("dns-record-stale-vs-endpoint", reg(privateEndpointConnections=PE_OK),
     {"zone_records": records(("contoso1", "10.0.0.4"), ("contoso1.westeurope.data", "10.0.0.5")),
      "private_endpoints": [{"customDnsConfigs": [{"fqdn": "contoso1.azurecr.io", "ipAddresses": ["10.0.0.9"]}]}]},
     {"ACR_PRIVATE_DNS_RECORD_MISMATCH"}, set()),
]


@pytest.mark.parametrize(("doc", "parts", "present", "absent"), [c_[1:] for c_ in CASES], ids=[c_[0] for c_ in CASES])
def test_pitfall(doc: dict[str, Any], parts: dict[str, Any], present: set[str], absent: set[str]) -> None:
    found = set(codes_of(doc, **parts))
    assert present <= found, f"missing {present - found}; found {sorted(found)}"
    assert not (absent & found), f"unexpected {absent & found}"


def test_healthy_registry_has_no_findings() -> None:
    assert codes_of(reg()) == []


def test_every_finding_carries_a_basis_and_inferred_ones_say_likely() -> None:
    seen: set[str] = set()
    for _, doc, parts, _, _ in CASES:
        for f in lint(c.build(c.Inputs(registry=doc, **parts))):
            seen.add(f.code)
            assert f.evidence["basis"] in ("documented", "inferred"), f.code
            if f.evidence["basis"] == "inferred":
                assert "likely" in f.cause or "likely" in f.title, f.code
            assert "{" not in f.cause, (f.code, f.cause)  # every placeholder filled
            assert "{" not in f.fix.replace("{registry}", ""), (f.code, f.fix)
    assert seen >= LINT_CODES, f"lint codes never exercised: {LINT_CODES - seen}"
    assert set(kb.catalogue()) >= LINT_CODES


def test_fixture_combined_with_private_endpoint() -> None:
    cfg = c.load(str(DATA / "combined.json"), private_endpoints=[str(DATA / "private_endpoint_show.json")])
    found = [(f.code, f.host) for f in lint(cfg)]
    assert ("ACR_PRIVATE_DNS_RECORD_MISSING", "contosoreg.eastus.data.azurecr.io") in found
    assert ("ACR_PRIVATE_DNS_RECORD_MISSING", "contosoreg.japaneast.data.azurecr.io") in found
    assert ("ACR_PRIVATE_DNS_RECORD_MISMATCH", "contosoreg.westeurope.data.azurecr.io") in found
    assert ("ACR_PRIVATE_ENDPOINT_NOT_APPROVED", "contosoreg.azurecr.io") in found
    assert ("ACR_IP_RULES_PUBLIC_DISABLED", "contosoreg.azurecr.io") in found
    # 203.0.113.0/24 is a documentation range, standing for a public one: not a private-range finding
    assert "ACR_IP_RULE_PRIVATE_RANGE" not in {code for code, _ in found}
