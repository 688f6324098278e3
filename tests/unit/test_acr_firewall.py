"""`check --acr-config`, the pure half: a live firewall refusal held against the registry's configuration."""

from __future__ import annotations

from typing import Any

import pytest

from regdoctor import kb
from regdoctor.acr.access import Client, judge
from regdoctor.acr.firewall import enrich, explain_denial
from regdoctor.acr.parse import parse_registry
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Finding, Step

LOGIN = "reg1.azurecr.io"
DATA = "reg1.westeurope.data.azurecr.io"


def cfg(**props: Any) -> Any:
    doc = {"loginServer": LOGIN, "location": "westeurope", "sku": {"name": "Premium"}, **props}
    return parse_registry(doc)


def denied(code: Code = Code.HTTP_FIREWALL_DENIED, host: str = LOGIN, ip: str = "20.1.2.3",
           root: bool = True) -> Finding:
    return kb.code(code).finding(host=host, evidence={"client_ip": ip, "message": "denied"}, root_cause=root)


DENY = {"networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"value": "198.51.100.0/24"}]}}
PE = {"privateEndpointConnections": [{"name": "pe1", "privateLinkServiceConnectionState": {"status": "Approved"}}]}


def test_ip_not_in_ip_rules_names_the_rule_and_the_exact_fix() -> None:
    f = explain_denial(cfg(**DENY), denied(), config="show.json")
    assert f is not None and f.code == Code.ACR_FIREWALL_IP_NOT_ALLOWED and f.root_cause
    assert f.cause == ("20.1.2.3 is not in ipRules (198.51.100.0/24); default action Deny; public access Enabled: "
                       "reg1.azurecr.io refuses it.")
    assert f.fix == "`az acr network-rule add --name reg1 --ip-address 20.1.2.3`"
    assert f.evidence["rule"] == "defaultAction=Deny" and f.evidence["basis"] == "documented"
    assert f.evidence["explains"] == Code.HTTP_FIREWALL_DENIED


def test_same_model_as_acr_access() -> None:
    """The explanation's rule and reason are those of `acr access --from IP`, not a copy of them."""
    c = cfg(**DENY)
    f = explain_denial(c, denied())
    v = judge(c, Client.from_ip("20.1.2.3"))
    assert f is not None and (f.evidence["rule"], f.evidence["reason"]) == (v.rule, v.reason)


def test_private_address_seen_points_at_service_endpoint() -> None:
    f = explain_denial(cfg(**DENY), denied(ip="10.1.2.3"))
    assert f is not None and "service endpoint" in f.fix and "--subnet" in f.fix


def test_no_ip_rules_at_all() -> None:
    f = explain_denial(cfg(networkRuleSet={"defaultAction": "Deny"}), denied())
    assert f is not None and "is not in ipRules (none)" in f.cause


def test_public_disabled_with_dns_resolving_public_through_privatelink() -> None:
    chain = [[LOGIN, "reg1.privatelink.azurecr.io"], ["reg1.privatelink.azurecr.io", "x.cloudapp.azure.com"]]
    f = explain_denial(cfg(publicNetworkAccess="Disabled", **PE), denied(), addresses=["20.50.60.70"], chain=chain)
    assert f is not None and f.code == Code.ACR_FIREWALL_PUBLIC_DISABLED
    assert f.cause.startswith("public access is Disabled: this client (20.1.2.3) must come through the private "
                              "endpoint; its DNS resolves reg1.azurecr.io to 20.50.60.70, a public address "
                              "although the chain passes reg1.privatelink.azurecr.io")
    assert "168.63.129.16" in f.fix


def test_public_disabled_without_dns_evidence() -> None:
    f = explain_denial(cfg(publicNetworkAccess="Disabled"), denied())
    assert f is not None and "regdoctor acr dns" in f.cause


def test_config_that_admits_the_client_is_stale() -> None:
    c = cfg(networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": "20.1.2.0/24"}]})
    f = explain_denial(c, denied(), config="show.json")
    assert f is not None and f.code == Code.ACR_FIREWALL_CONFIG_ADMITS
    assert "show.json admits it (ipRules[20.1.2.0/24]" in f.cause and "a few minutes" in f.fix


def test_ipv6_client_on_ipv4_registry_is_another_rule() -> None:
    f = explain_denial(cfg(**DENY), denied(ip="2001:db8::1"), config="show.json")
    assert f is not None and f.code == Code.ACR_FIREWALL_RULE and "endpointProtocol=IPv4" in f.cause


@pytest.mark.parametrize(("props", "code", "basis"), [
    ({"publicNetworkAccess": "Disabled", **PE}, Code.ACR_FIREWALL_PUBLIC_DISABLED, "documented"),
    ({**DENY, "dataEndpointEnabled": True}, Code.ACR_FIREWALL_IP_NOT_ALLOWED, "inferred"),
])
def test_data_endpoint_denial(props: dict[str, Any], code: Code, basis: str) -> None:
    f = explain_denial(cfg(**props), denied(Code.DATA_ENDPOINT_DENIED, host=DATA))
    assert f is not None and f.code == code and f.evidence["basis"] == basis
    assert (f.evidence["endpoint"], f.evidence["region"]) == ("data", "westeurope")


def test_data_denial_without_an_address() -> None:
    fw = kb.code(Code.DATA_ENDPOINT_DENIED).finding(host=DATA, evidence={"client_ip": "this client's egress address"})
    assert explain_denial(cfg(**DENY), fw) is None  # nothing to hold against the rules
    f = explain_denial(cfg(publicNetworkAccess="Disabled", **PE), fw)
    assert f is not None and f.code == Code.ACR_FIREWALL_PUBLIC_DISABLED


@pytest.mark.parametrize("finding", [
    denied(host="other1.azurecr.io"),                                   # another registry
    denied(host="reg1x.blob.core.windows.net"),                         # storage, not this registry's name
    kb.code(Code.TCP_TIMEOUT).finding(host=LOGIN, evidence={}),         # not a firewall refusal
])
def test_findings_it_does_not_explain(finding: Finding) -> None:
    assert explain_denial(cfg(**DENY), finding) is None


def test_enrich_puts_the_explanation_first_and_keeps_the_refusal_as_consequence() -> None:
    dns = Step("dns", "resolve", "pass", 1.0, evidence={"addresses": ["20.50.60.70"], "cname_chain": []})
    endpoint = EndpointResult(LOGIN, 443, "registry", steps=(dns,))
    other = kb.code(Code.TLS_EXPIRES_SOON).finding(host=LOGIN, evidence={}, root_cause=False)
    out = enrich([denied(), other], [endpoint], cfg(publicNetworkAccess="Disabled"), config="c.json")
    assert [(f.code, f.root_cause) for f in out] == [
        (Code.ACR_FIREWALL_PUBLIC_DISABLED, True), (Code.HTTP_FIREWALL_DENIED, False),
        (Code.TLS_EXPIRES_SOON, False)]
    assert out[1].consequence_of == f"ACR_FIREWALL_PUBLIC_DISABLED@{LOGIN}"
    assert "resolves reg1.azurecr.io to 20.50.60.70" in out[0].cause


def test_a_consequence_stays_a_consequence() -> None:
    fw = denied(root=False)
    from dataclasses import replace

    fw = replace(fw, consequence_of=f"DNS_PRIVATELINK_PUBLIC@{LOGIN}")
    out = enrich([fw], [], cfg(publicNetworkAccess="Disabled"))
    assert (out[0].root_cause, out[0].consequence_of) == (False, f"DNS_PRIVATELINK_PUBLIC@{LOGIN}")
    assert out[1].consequence_of == f"ACR_FIREWALL_PUBLIC_DISABLED@{LOGIN}"


def test_every_explanation_text_is_filled() -> None:
    cases = [(cfg(**DENY), denied()), (cfg(**DENY), denied(ip="10.0.0.9")), (cfg(publicNetworkAccess="Disabled"),
             denied()), (cfg(networkRuleSet={"defaultAction": "Allow"}), denied()), (cfg(**DENY), denied(ip="::2"))]
    for c, fw in cases:
        f = explain_denial(c, fw)
        assert f is not None
        for text in (f.title, f.cause, f.fix):
            assert "{" not in text and "None" not in text, (f.code, text)
