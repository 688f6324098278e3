"""Access what-if: one row per rule of reference §2, and the endpoints each verdict covers."""

from __future__ import annotations

from typing import Any

import pytest
from acr_support import Inputs, RegistryConfig, build, parse_registry

from regdoctor.acr.access import Client, decide, judge
from regdoctor.acr.services import service

SUBNET = "/subscriptions/0000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/agents"
OTHER_SUBNET = SUBNET.replace("agents", "web")


def _approved(name: str = "pe1", status: str = "Approved") -> dict[str, Any]:
    return {"name": name, "properties": {"privateLinkServiceConnectionState": {"status": status}}}


def cfg(*, public: str = "Enabled", default: str = "Deny", ip_rules: tuple[str, ...] = (),
        vnet: tuple[str, ...] | None = (), bypass: str = "AzureServices", tasks: bool | None = None,
        protocol: str = "IPv4", connections: tuple[dict[str, Any], ...] = (), data: bool = True,
        regional: bool = False, location: str = "westeurope") -> RegistryConfig:
    """A Premium registry in the CLI shape, every network field explicit unless told otherwise."""
    nrs: dict[str, Any] = {"defaultAction": default, "ipRules": [{"action": "Allow", "ipAddressOrRange": v}
                                                                   for v in ip_rules]}
    if vnet is not None:
        nrs["virtualNetworkRules"] = [{"action": "Allow", "id": v} for v in vnet]
    doc: dict[str, Any] = {
        "loginServer": "contoso1.azurecr.io", "name": "contoso1", "location": location,
        "sku": {"name": "Premium"}, "publicNetworkAccess": public, "networkRuleSet": nrs,
        "networkRuleBypassOptions": bypass, "endpointProtocol": protocol, "dataEndpointEnabled": data,
        "privateEndpointConnections": list(connections), "regionalEndpoints": "Enabled" if regional else "Disabled",
    }
    if tasks is not None:
        doc["networkRuleBypassAllowedForTasks"] = tasks
    return parse_registry(doc)


IP = Client.from_ip
SUB = Client("subnet", SUBNET)
PE = Client("private-endpoint")


def svc(name: str) -> Client:
    return Client("service", name)


# (id, config, client, allowed, rule starts with, reason contains, basis)
CASES: list[tuple[str, RegistryConfig, Client, bool, str, str, str]] = [
    # ---- publicNetworkAccess=Disabled overrides everything on the public path
    ("public-disabled-ip-with-pe", cfg(public="Disabled", ip_rules=("203.0.113.0/24",), connections=(_approved(),)),
     IP("203.0.113.9"), False, "publicNetworkAccess=Disabled",
     "overrides all firewall configurations; this client must come through a private endpoint", "documented"),
    ("public-disabled-ip-no-pe", cfg(public="Disabled"), IP("198.51.100.7"), False, "publicNetworkAccess=Disabled",
     "must come through a private endpoint", "documented"),
    ("public-disabled-overrides-service-endpoint", cfg(public="Disabled", vnet=(SUBNET,)), SUB, False,
     "publicNetworkAccess=Disabled", "also disables access within the virtual network", "documented"),
    ("public-disabled-default-allow", cfg(public="Disabled", default="Allow"), IP("198.51.100.7"), False,
     "publicNetworkAccess=Disabled", "disabled", "documented"),
    # ---- defaultAction=Allow admits everyone ([troubleshoot]: "allows access ... from all networks")
    ("default-allow-ip", cfg(default="Allow", ip_rules=("203.0.113.0/24",)), IP("198.51.100.7"), True,
     "defaultAction=Allow", "they change nothing", "documented"),
    ("default-allow-subnet", cfg(default="Allow"), SUB, True, "defaultAction=Allow", "accept all networks",
     "documented"),
    # ---- ipRules
    ("ip-rule-cidr-matches", cfg(ip_rules=("203.0.113.0/24",)), IP("203.0.113.9"), True, "ipRules[203.0.113.0/24]",
     "IP rule 203.0.113.0/24 holds 203.0.113.9", "documented"),
    ("ip-rule-single-address", cfg(ip_rules=("198.51.100.17",)), IP("198.51.100.17"), True, "ipRules[198.51.100.17]",
     "IP rule 198.51.100.17 holds", "documented"),
    ("ip-rule-second-of-many", cfg(ip_rules=("192.0.2.0/28", "198.51.100.0/24")), IP("198.51.100.200"), True,
     "ipRules[198.51.100.0/24]", "holds", "documented"),
    ("ip-rule-no-match", cfg(ip_rules=("203.0.113.0/24",)), IP("198.51.100.7"), False, "defaultAction=Deny",
     "198.51.100.7 is not in ipRules", "documented"),
    ("ip-rule-edge-outside", cfg(ip_rules=("203.0.113.0/25",)), IP("203.0.113.128"), False, "defaultAction=Deny",
     "not in ipRules", "documented"),
    ("ip-ipv6-client-ipv4-registry", cfg(ip_rules=("203.0.113.0/24",)), IP("2001:db8::5"), False,
     "endpointProtocol=IPv4", "reachable over IPv4 only", "documented"),
    ("ip-ipv6-client-cannot-match", cfg(ip_rules=("203.0.113.0/24",), protocol="IPv4AndIPv6"), IP("2001:db8::5"),
     False, "defaultAction=Deny", "IPv6", "inferred"),
    ("ip-private-client-address", cfg(ip_rules=("203.0.113.0/24",)), IP("10.1.2.3"), False, "defaultAction=Deny",
     "public egress address", "inferred"),
    ("ip-invalid-rule-ignored", cfg(ip_rules=("not-an-ip", "203.0.113.0/24")), IP("203.0.113.1"), True,
     "ipRules[203.0.113.0/24]", "holds", "documented"),
    # ---- virtualNetworkRules (service endpoints)
    ("subnet-listed", cfg(vnet=(SUBNET,)), SUB, True, "virtualNetworkRules[agents]", "service endpoint",
     "documented"),
    ("subnet-listed-other-case", cfg(vnet=(SUBNET.upper(),)), SUB, True, "virtualNetworkRules",
     "is in virtualNetworkRules", "documented"),
    ("subnet-not-listed", cfg(vnet=(OTHER_SUBNET,)), SUB, False, "defaultAction=Deny", "not in virtualNetworkRules",
     "documented"),
    ("subnet-rules-absent-from-json", cfg(vnet=None), SUB, False, "virtualNetworkRules=(absent)",
     "cannot be told; likely refused", "inferred"),
    # ---- trusted services
    ("aci-trusted", cfg(), svc("aci"), True, "networkRuleBypassOptions=AzureServices", "managed identity",
     "documented"),
    ("aci-trusted-vnet-absent", cfg(vnet=None), svc("aci"), True, "networkRuleBypassOptions=AzureServices",
     "likely admitted", "inferred"),
    ("defender-bypass-off", cfg(bypass="None"), svc("defender"), False, "networkRuleBypassOptions=None",
     "bypass is off", "documented"),
    ("defender-with-service-endpoint", cfg(vnet=(SUBNET,)), svc("defender"), False, "virtualNetworkRules",
     "doesn't apply to a registry configured with a service endpoint", "documented"),
    ("aml-public-disabled-bypass-on", cfg(public="Disabled"), svc("aml"), True,
     "networkRuleBypassOptions=AzureServices", "even with public network access disabled", "documented"),
    ("acr-import-public-disabled-bypass-off", cfg(public="Disabled", bypass="None"), svc("acr-import"), False,
     "publicNetworkAccess=Disabled", "bypass is off", "documented"),
    ("app-service-not-trusted", cfg(), svc("webapp"), False, "defaultAction=Deny",
     "doesn't apply to App Service", "documented"),
    ("aks-not-trusted", cfg(), svc("aks"), False, "defaultAction=Deny", "--from or --subnet", "documented"),
    ("devops-default-allow", cfg(default="Allow"), svc("devops"), True, "defaultAction=Allow", "all networks",
     "documented"),
    # ---- Tasks bypass
    ("tasks-bypass-on", cfg(tasks=True), svc("tasks"), True, "networkRuleBypassAllowedForTasks=true",
     "system-assigned identity", "documented"),
    ("tasks-bypass-default-off", cfg(), svc("tasks"), False, "networkRuleBypassAllowedForTasks=false",
     "default since 2025-06-01", "documented"),
    ("tasks-public-disabled-bypass-on", cfg(public="Disabled", tasks=True), svc("acr-tasks"), False,
     "publicNetworkAccess=Disabled", "not documented, so the task is likely refused", "inferred"),
    ("tasks-public-disabled-bypass-off", cfg(public="Disabled", tasks=False), svc("tasks"), False,
     "publicNetworkAccess=Disabled", "dedicated agent pool", "documented"),
    ("tasks-dual-stack", cfg(tasks=True, protocol="IPv4AndIPv6"), svc("tasks"), False,
     "endpointProtocol=IPv4AndIPv6", "don't work", "documented"),
    ("tasks-default-allow", cfg(default="Allow"), svc("tasks"), True, "defaultAction=Allow", "all networks",
     "documented"),
    # ---- private endpoint path
    ("pe-approved-public-disabled", cfg(public="Disabled", connections=(_approved(),)), PE, True,
     "privateEndpointConnection[pe1]", "don't apply to private endpoints", "documented"),
    ("pe-approved-ip-rules-irrelevant", cfg(ip_rules=("203.0.113.0/24",), connections=(_approved(),)), PE, True,
     "privateEndpointConnection[pe1]", "IP network rules", "documented"),
    ("pe-pending-only", cfg(public="Disabled", connections=(_approved("pe2", "Pending"),)), PE, False,
     "privateEndpointConnection.status", "pe2 is Pending", "inferred"),
    ("pe-rejected-and-approved", cfg(connections=(_approved("a", "Rejected"), _approved("b"))), PE, True,
     "privateEndpointConnection[b]", "approved", "documented"),
    ("pe-none", cfg(), PE, False, "privateEndpointConnections=[]", "no private endpoint connection", "documented"),
]


@pytest.mark.parametrize(("config", "client", "allowed", "rule", "reason", "basis"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_login_server_verdict(config: RegistryConfig, client: Client, allowed: bool, rule: str, reason: str,
                              basis: str) -> None:
    v = judge(config, client)
    assert (v.allowed, v.basis) == (allowed, basis), v
    assert v.rule.startswith(rule), v.rule
    assert reason in v.reason, v.reason
    if basis == "inferred":  # reference: inferred conclusions are presented as likely, not certain
        assert "likely" in v.reason or "cannot" in v.reason or "unknown" in v.reason, v.reason


# ------------------------------------------------------------------------------------ every endpoint

def _geo(**kw: Any) -> RegistryConfig:
    base = cfg(**kw)
    return build([Inputs(registry={"loginServer": base.login_server, "location": "westeurope",
                                   "sku": {"name": "Premium"}, "publicNetworkAccess": base.public_network_access,
                                   "networkRuleSet": {"defaultAction": base.default_action, "ipRules": [
                                       {"value": r.value} for r in base.ip_rules]},
                                   "dataEndpointEnabled": base.data_endpoint_enabled,
                                   "regionalEndpoints": base.regional_endpoints,
                                   "privateEndpointConnections": [_approved()] if base.connections else []},
                         replications={"value": [{"location": "westeurope"}, {"location": "eastus"}]})])


def _summary(decisions: list[Any]) -> list[tuple[str, str, bool, str]]:
    return [(d.endpoint, d.host, d.allowed, d.basis) for d in decisions]


def test_geo_replicas_each_get_a_data_endpoint_decision() -> None:
    got = _summary(decide(_geo(ip_rules=("203.0.113.0/24",)), IP("203.0.113.4")))
    assert got == [
        ("login", "contoso1.azurecr.io", True, "documented"),
        ("data", "contoso1.westeurope.data.azurecr.io", True, "inferred"),
        ("data", "contoso1.eastus.data.azurecr.io", True, "inferred"),
    ]


def test_regional_endpoints_follow_the_login_server() -> None:
    got = _summary(decide(_geo(regional=True, ip_rules=("203.0.113.0/24",)), IP("198.51.100.1")))
    assert [g[0] for g in got] == ["login", "data", "data", "regional", "regional"]
    assert got[-1] == ("regional", "contoso1.eastus.geo.azurecr.io", False, "inferred")
    assert not any(g[2] for g in got)


def test_private_endpoint_covers_every_data_endpoint_documented() -> None:
    got = _summary(decide(_geo(public="Disabled", connections=(_approved(),), data=False), PE))
    # a private endpoint switches data endpoints on by itself, even when the JSON says otherwise
    assert got[1:] == [("data", "contoso1.westeurope.data.azurecr.io", True, "documented"),
                       ("data", "contoso1.eastus.data.azurecr.io", True, "documented")]


def test_public_disabled_data_endpoints_denied_documented() -> None:
    got = _summary(decide(_geo(public="Disabled"), IP("203.0.113.4")))
    assert {g[3] for g in got} == {"documented"} and not any(g[2] for g in got)


def test_without_data_endpoints_storage_is_unknown_and_says_so() -> None:
    d = decide(cfg(data=False, ip_rules=("203.0.113.0/24",)), IP("203.0.113.4"))[-1]
    assert (d.endpoint, d.host, d.allowed, d.basis) == ("data", "*.blob.core.windows.net", True, "inferred")
    assert "not documented" in d.reason and "likely" in d.reason


def test_storage_after_login_denied() -> None:
    d = decide(cfg(data=False), IP("198.51.100.1"))[-1]
    assert (d.allowed, d.basis) == (False, "inferred")
    assert "never receives the blob redirect" in d.reason


def test_decision_json_shape_is_the_spec_contract() -> None:
    d = decide(cfg(ip_rules=("203.0.113.0/24",)), IP("203.0.113.9"))[0].to_dict()
    assert {"endpoint", "host", "allowed", "rule", "reason"} <= set(d)
    assert d["endpoint"] in ("login", "data", "regional") and isinstance(d["allowed"], bool)


@pytest.mark.parametrize(("name", "key"), [("ACI", "aci"), ("container-instances", "aci"), ("web app", "app-service"),
                                           ("acr_tasks", "tasks"), ("defender-for-cloud", "defender")])
def test_service_aliases(name: str, key: str) -> None:
    found = service(name)
    assert found is not None and found.key == key


def test_bad_ip_and_unknown_service() -> None:
    with pytest.raises(ValueError):
        Client.from_ip("300.1.1.1")
    with pytest.raises(ValueError, match="unknown service"):
        judge(cfg(), svc("nonsense"))
