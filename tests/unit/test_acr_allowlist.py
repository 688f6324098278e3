"""acr allowlist: the rows reference §1 asks for, and the four output forms."""

from __future__ import annotations

import json
from pathlib import Path

import acr_support as c
import pytest

from regdoctor.acr import allowlist as al
from regdoctor.acr.regions import tag_region
from regdoctor.render import acr as render

DATA = Path(__file__).resolve().parent / "data" / "acr"


def _rows(rules: list[al.Rule]) -> list[tuple[str, str | None, str | None]]:
    return [(r.fqdn, r.service_tag, r.condition) for r in rules]


@pytest.mark.parametrize(
    ("fixture", "replications", "expected"),
    [
        ("rest_premium_private.json", None, [
            ("contosoreg.azurecr.io", "AzureContainerRegistry", None), ("azurecr.io", None, None),
            ("contosoreg.westeurope.data.azurecr.io", "AzureContainerRegistry.WestEurope", None),
            ("contosoreg.eastus.data.azurecr.io", "AzureContainerRegistry.EastUS", None)]),
        ("cli_selected_networks.json", "replications_cli.json", [
            ("fabrikamci.azurecr.io", "AzureContainerRegistry", None), ("azurecr.io", None, None),
            ("*.blob.core.windows.net", "Storage.EastUS", None),
            ("*.blob.core.windows.net", "Storage.NorthEurope", None)]),
        ("cli_data_endpoint_recording.json", None, [
            ("testreg000002.azurecr.io", "AzureContainerRegistry", None), ("azurecr.io", None, None),
            ("testreg000002.eastus.data.azurecr.io", "AzureContainerRegistry.EastUS", None)]),
    ],
    ids=["data-endpoints-two-regions", "storage-per-replica", "recording"],
)
def test_rules_from_config(fixture: str, replications: str | None, expected: list[tuple[str, str, str]]) -> None:
    cfg = c.load(str(DATA / fixture), replications=str(DATA / replications) if replications else None)
    assert _rows(al.from_config(cfg)) == expected


def test_regional_endpoints_and_planned_region() -> None:
    cfg = c.parse_registry({"loginServer": "geo12.azurecr.io", "location": "westeurope", "dataEndpointEnabled": True,
                            "regionalEndpoints": "Enabled"})
    fqdns = [r.fqdn for r in al.from_config(cfg, ["East US 2"])]
    assert fqdns == ["geo12.azurecr.io", "azurecr.io", "geo12.westeurope.data.azurecr.io",
                     "geo12.eastus2.data.azurecr.io", "geo12.westeurope.geo.azurecr.io", "geo12.eastus2.geo.azurecr.io"]


def test_name_only_lists_both_data_paths_with_conditions() -> None:
    rules = al.rules_for(name="myreg", login_server="myreg.azurecr.io", suffix="azurecr.io", regions=["westeurope"],
                         data_endpoints=None, regional_endpoints=False)
    assert _rows(rules)[2:] == [
        ("myreg.westeurope.data.azurecr.io", "AzureContainerRegistry.WestEurope",
         "if dedicated data endpoints are enabled"),
        ("*.blob.core.windows.net", "Storage.WestEurope", "if dedicated data endpoints are disabled")]


def test_bases_are_marked() -> None:
    rules = al.rules_for(name="myreg", login_server="myreg.azurecr.io", suffix="azurecr.io", regions=["eastus"],
                         data_endpoints=True, regional_endpoints=True)
    tags = {r.role: r.tag_basis for r in rules}
    assert tags == {"login": "documented", "certificate": None, "data": "inferred", "regional": "inferred"}
    assert all(r.port == 443 and r.protocol == "https" for r in rules)


@pytest.mark.parametrize(("region", "tag"), [
    ("westeurope", "WestEurope"), ("eastus2", "EastUS2"), ("southcentralus", "SouthCentralUS"),
    ("uksouth", "UKSouth"), ("germanywestcentral", "GermanyWestCentral"), ("North Europe", "NorthEurope"),
    ("southafricanorth", "SouthAfricaNorth"),
])
def test_service_tag_region_casing(region: str, tag: str) -> None:
    assert tag_region(region) == tag


def _rules() -> list[al.Rule]:
    return al.rules_for(name="myreg", login_server="myreg.azurecr.io", suffix="azurecr.io",
                        regions=["westeurope", "eastus"], data_endpoints=False, regional_endpoints=False)


def test_squid_acl() -> None:
    out = render.allowlist_squid(_rules(), registry="myreg")
    assert "acl acr_myreg dstdomain myreg.azurecr.io azurecr.io .blob.core.windows.net\n" in out
    assert "http_access allow CONNECT acr_myreg acr_https" in out


def test_azure_firewall_commands_quote_wildcards() -> None:
    out = render.allowlist_az_firewall(_rules(), registry="myreg")
    assert "az network firewall application-rule create" in out
    assert "--protocols Https=443" in out
    assert "--target-fqdns myreg.azurecr.io azurecr.io '*.blob.core.windows.net'" in out
    assert "Storage.EastUS Storage.WestEurope" in out


def test_text_and_json_forms() -> None:
    text = render.allowlist_text(_rules(), registry="myreg.azurecr.io")
    assert "myreg.azurecr.io:443" in text and "Storage.WestEurope" in text
    doc = json.loads(json.dumps([r.to_dict() for r in _rules()]))
    assert doc[0] == {"fqdn": "myreg.azurecr.io", "port": 443, "protocol": "https", "role": "login", "region": None,
                      "purpose": doc[0]["purpose"], "service_tag": "AzureContainerRegistry",
                      "service_tag_basis": "documented", "basis": "documented", "condition": None,
                      "source": "https://learn.microsoft.com/azure/container-registry/container-registry-firewall-rules"}
