"""`check --acr-config`: the lab's ACR imitation answers the firewall 403, and a config file explains it.

The lab fronts (tests/lab/fronts.py) answer like ACR's firewall: `acr403` on registry.lab.test:5450 and
on 20.50.60.70:443 (where brokenreg.azurecr.io's broken private-link chain ends) refuses every request
with `403 DENIED: client with IP '10.200.0.2' is not allowed access`; `acr403-manifest` on :5610 lets the
challenge and the token through and refuses the manifest. The configs in data/ are the registries'
`az acr show` JSON: the IP missing from ipRules, public access disabled, and a config that admits the IP.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lab.lab import Lab
from lab.runcli import check

pytestmark = pytest.mark.lab

DATA = Path(__file__).resolve().parent / "data"
R = "registry.lab.test"
CLIENT_IP = "10.200.0.2"  # the client netns address, which the fronts report as the IP they saw


def findings(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["code"]: f for f in doc["findings"]}


def test_ip_missing_from_ip_rules_is_named_with_the_exact_fix(lab: Lab) -> None:
    rc, doc, _ = check(lab, f"{R}:5450", "--acr-config", str(DATA / "acr_labfw_iprules.json"))
    assert rc == 1
    first = doc["findings"][0]
    assert (first["code"], first["root_cause"], first["layer"]) == ("ACR_FIREWALL_IP_NOT_ALLOWED", True, "http")
    assert first["cause"] == (f"{CLIENT_IP} is not in ipRules (203.0.113.0/24, 198.51.100.17); default action "
                              f"Deny; public access Enabled: {R} refuses it.")
    assert first["fix"].startswith(f"`az acr network-rule add --name registry --ip-address {CLIENT_IP}`")
    assert first["evidence"]["rule"] == "defaultAction=Deny"
    assert first["evidence"]["source"].startswith("https://learn.microsoft.com/azure/container-registry/")
    # the live refusal stays, folded under the explanation
    fw = findings(doc)["HTTP_FIREWALL_DENIED"]
    assert fw["root_cause"] is False and fw["evidence"]["client_ip"] == CLIENT_IP


def test_public_access_disabled_and_dns_resolving_public(lab: Lab) -> None:
    rc, doc, _ = check(lab, "brokenreg.azurecr.io", "--acr-config", str(DATA / "acr_brokenreg.json"))
    assert rc == 1
    by_code = findings(doc)
    # the broken private DNS chain stays a root cause; the config explains the 403 it leads to
    assert by_code["DNS_PRIVATELINK_PUBLIC"]["root_cause"]
    # the config's data endpoints are probed too (the one list of regions): the lab has no record for it
    assert "brokenreg.westeurope.data.azurecr.io" in {e["host"] for e in doc["endpoints"]}
    why = by_code["ACR_FIREWALL_PUBLIC_DISABLED"]
    assert why["cause"].startswith(f"public access is Disabled: this client ({CLIENT_IP}) must come through the "
                                   "private endpoint; its DNS resolves brokenreg.azurecr.io to 20.50.60.70, a "
                                   "public address")
    assert "brokenreg.privatelink.azurecr.io" in why["cause"]
    assert "regdoctor acr dns" in why["fix"] and "--public-network-enabled true" in why["fix"]
    assert by_code["HTTP_FIREWALL_DENIED"]["root_cause"] is False


def test_a_config_that_admits_the_ip_says_it_is_stale(lab: Lab) -> None:
    rc, doc, _ = check(lab, f"{R}:5450", "--acr-config", str(DATA / "acr_labfw_admits.json"))
    assert rc == 1
    first = doc["findings"][0]
    assert first["code"] == "ACR_FIREWALL_CONFIG_ADMITS", json.dumps(doc["findings"], indent=1)
    assert "ipRules[10.200.0.0/24]" in first["cause"] and "a few minutes" in first["fix"]


def test_repository_denial_is_explained_too(lab: Lab) -> None:
    rc, doc, _ = check(lab, f"{R}:5610/lab/hello:latest", "--acr-config", str(DATA / "acr_labfw_iprules.json"))
    assert rc == 1
    by_code = findings(doc)
    assert by_code["ACR_FIREWALL_IP_NOT_ALLOWED"]["evidence"]["explains"] == "REGISTRY_FIREWALL_DENIED"
    assert by_code["REGISTRY_FIREWALL_DENIED"]["root_cause"] is False


@pytest.mark.parametrize("fmt", ["--format=text", "--format=markdown"])
def test_explanation_in_every_format(lab: Lab, fmt: str) -> None:
    rc, out, _ = check(lab, f"{R}:5450", "--acr-config", str(DATA / "acr_labfw_iprules.json"), fmt=fmt)
    assert rc == 1 and f"az acr network-rule add --name registry --ip-address {CLIENT_IP}" in out


def test_a_config_of_another_registry_is_refused(lab: Lab) -> None:
    r = lab.regdoctor("check", "otherreg1.azurecr.io", "--acr-config", str(DATA / "acr_brokenreg.json"), "--json")
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "describes brokenreg.azurecr.io" in r.stderr
