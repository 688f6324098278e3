"""Registry JSON loading: CLI and REST shapes, list files, combined files, and hostile input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import acr_support as c
import pytest

from regdoctor.errors import BadInput

DATA = Path(__file__).resolve().parent / "data" / "acr"


def _load(name: str, **kw: Any) -> c.RegistryConfig:
    extra = {k: str(DATA / v) for k, v in kw.items() if k != "private_endpoints"}
    pes = [str(DATA / p) for p in kw.get("private_endpoints", ())]
    return c.load(str(DATA / name), private_endpoints=pes, **extra)


# ------------------------------------------------------------------------------------ the two shapes

@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("rest_premium_private.json", {
            "shape": "rest", "name": "contosoreg", "sku": "Premium", "public_enabled": False, "default_deny": True,
            "ip_rules": ("203.0.113.0/24",), "vnet_rules": None, "regions": ("westeurope", "eastus"),
            "connections": (("pe-weu.1234", "Approved"),), "data_endpoints_on": True,
        }),
        ("cli_selected_networks.json", {
            "shape": "cli", "name": "fabrikamci", "sku": "Premium", "public_enabled": True, "default_deny": True,
            "ip_rules": ("203.0.113.0/24", "198.51.100.17"), "vnet_rules": 1, "regions": ("eastus",),
            "connections": (), "data_endpoints_on": False,
        }),
        ("spec_registry_get.json", {  # the REST spec example, wrapper and all
            "shape": "rest", "name": "myregistry", "sku": "Standard", "public_enabled": True, "default_deny": False,
            "ip_rules": (), "vnet_rules": None, "regions": ("westus",), "connections": (), "data_endpoints_on": False,
        }),
        ("cli_data_endpoint_recording.json", {  # the CLI recording of reference §7
            "shape": "cli", "name": "testreg000002", "sku": "Premium", "public_enabled": True, "default_deny": False,
            "ip_rules": (), "vnet_rules": 0, "regions": ("eastus",), "connections": (), "data_endpoints_on": True,
        }),
    ],
    ids=["rest", "cli", "rest-spec-example", "cli-recording"],
)
def test_both_shapes_normalise_alike(fixture: str, expected: dict[str, Any]) -> None:
    cfg = _load(fixture)
    got = {
        "shape": cfg.shape, "name": cfg.name, "sku": cfg.sku, "public_enabled": cfg.public_enabled,
        "default_deny": cfg.default_deny, "ip_rules": tuple(r.value for r in cfg.ip_rules),
        "vnet_rules": None if cfg.vnet_rules is None else len(cfg.vnet_rules), "regions": cfg.regions,
        "connections": tuple((x.name, x.status) for x in cfg.connections), "data_endpoints_on": cfg.data_endpoints_on,
    }
    assert got == expected


def test_rest_and_cli_ip_rule_keys_mean_the_same() -> None:
    rest = c.parse_registry({"name": "r1234", "properties": {"networkRuleSet": {
        "defaultAction": "Deny", "ipRules": [{"action": "Allow", "value": "16.17.18.0/24"}]}}})
    cli = c.parse_registry({"name": "r1234", "networkRuleSet": {
        "defaultAction": "Deny", "ipRules": [{"action": "Allow", "ipAddressOrRange": "16.17.18.0/24"}]}})
    assert rest.ip_rules == cli.ip_rules == (c.IpRule("16.17.18.0/24"),)
    assert (rest.shape, cli.shape) == ("rest", "cli")


def test_defaults_apply_when_fields_are_absent() -> None:
    cfg = c.parse_registry({"loginServer": "bare1.azurecr.io"})
    assert (cfg.public_enabled, cfg.default_deny, cfg.bypass_azure_services, cfg.tasks_bypass_effective) == \
        (True, False, True, False)
    assert cfg.vnet_rules is None and cfg.premium is None and cfg.regions == ()


def test_unknown_fields_are_ignored_and_keys_are_case_insensitive() -> None:
    cfg = c.parse_registry({"LoginServer": "MyReg1.AzureCR.io", "futureField": {"x": 1},
                            "PublicNetworkAccess": "disabled", "networkRuleSet": {"DefaultAction": "DENY"}})
    assert (cfg.login_server, cfg.name, cfg.public_enabled, cfg.default_deny) == \
        ("myreg1.azurecr.io", "myreg1", False, True)


def test_sovereign_cloud_suffix_carries_to_every_host() -> None:
    cfg = c.parse_registry({"loginServer": "cnreg.azurecr.cn", "location": "chinanorth3", "dataEndpointEnabled": True})
    assert cfg.data_endpoint("chinanorth3") == "cnreg.chinanorth3.data.azurecr.cn"
    assert cfg.privatelink_zone == "privatelink.azurecr.cn"
    assert c.storage_wildcard(cfg.suffix) == "*.blob.core.chinacloudapi.cn"


def test_az_network_rule_list_keys_for_vnet_rules() -> None:
    cfg = c.parse_registry({"name": "r1234", "networkRuleSet": {"defaultAction": "Deny", "virtualNetworkRules": [
        {"action": "Allow", "virtualNetworkSubnetResourceId": "/subscriptions/s/x/subnets/a"}]}})
    assert cfg.vnet_rules == (c.VnetRule("/subscriptions/s/x/subnets/a"),)


# ------------------------------------------------------------------------------------ list files

@pytest.mark.parametrize(
    ("replications", "regions", "routing"),
    [
        ("replications_rest.json", ("westeurope", "eastus", "japaneast"), (True, True, False)),
        ("replications_cli.json", ("westeurope", "eastus", "northeurope"), (True, True)),
    ],
    ids=["rest-value", "cli-array"],
)
def test_replications_add_regions(replications: str, regions: tuple[str, ...], routing: tuple[bool, ...]) -> None:
    cfg = _load("rest_premium_private.json", replications=replications)
    assert cfg.regions == regions
    assert tuple(r.region_endpoint_enabled for r in cfg.replicas) == routing


def test_connection_list_merges_with_the_registry_json() -> None:
    cfg = _load("rest_premium_private.json", connections="pe_connections_cli.json")
    assert [(x.name, x.status, x.approved) for x in cfg.connections] == [
        ("pe-weu.1234", "Approved", True), ("pe-onprem.5678", "Pending", False)]


@pytest.mark.parametrize("records", ["dns_records_cli.json", "dns_records_rest.json"], ids=["cli", "rest"])
def test_zone_records_both_shapes(records: str) -> None:
    cfg = _load("rest_premium_private.json", zone_records=records)
    assert cfg.zone_records is not None
    by_host = {r.host: r.addresses for r in cfg.zone_records}
    assert by_host["contosoreg.azurecr.io"] == ("10.1.0.4",)
    assert by_host["contosoreg.westeurope.data.azurecr.io"] == ("10.1.0.5",)
    assert all(r.source == "zone" for r in cfg.zone_records)  # the SOA record set is skipped


def test_private_endpoint_custom_dns_configs() -> None:
    cfg = _load("rest_premium_private.json", private_endpoints=["private_endpoint_show.json"])
    assert {r.host: r.addresses for r in cfg.endpoint_records}["contosoreg.eastus.data.azurecr.io"] == ("10.1.0.7",)


def test_combined_file_equals_separate_files() -> None:
    combined = _load("combined.json")
    separate = _load("rest_premium_private.json", replications="replications_rest.json",
                     connections="pe_connections_cli.json", zone_records="dns_records_cli.json")
    assert combined == separate


# ------------------------------------------------------------------------------------ bad input

def _write(tmp_path: Path, data: bytes) -> str:
    p = tmp_path / "in.json"
    p.write_bytes(data)
    return str(p)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"loginServer": "r1.azurecr.io", "networkRuleSet": {', "not valid JSON (truncated?)"),
        (b'{"loginServer": "r1.azurecr.io",, }', "not valid JSON"),
        (b'[{"loginServer": "r1.azurecr.io"}]', "a JSON array is not a registry"),
        (b'"just a string"', "a JSON string is not a registry"),
        (b"{}", "not a container registry"),
        (b'{"kind": "something else", "name": "x"}', "not a container registry"),
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"publicNetworkAccess": "Disabled"}', "neither loginServer nor name"),
        (b'{"name": "bad-name!", "publicNetworkAccess": "Enabled"}', "is not a registry name"),
        (b'{"name": "r1234", "networkRuleSet": {"ipRules": "1.2.3.4"}}', "ipRules: expected a list"),
        (b'{"name": "r1234", "networkRuleSet": {"ipRules": [{"action": "Allow"}]}}', "neither value nor"),
        (b'{"name": "r1234", "dataEndpointEnabled": "maybe"}', "expected true or false"),
        (b'{"name": "r1234", "networkRuleSet": []}', "networkRuleSet: expected a JSON object"),
    ],
    ids=["truncated", "malformed", "array", "string", "empty-object", "other-resource", "empty-file", "binary",
         "deep-nesting", "no-name", "bad-name", "wrong-type", "rule-without-value", "bad-bool", "bad-nesting"],
)
def test_bad_input_is_one_clear_error(tmp_path: Path, data: bytes, message: str) -> None:
    with pytest.raises(BadInput) as exc:
        c.load(_write(tmp_path, data))
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_file_over_the_cap_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    p = tmp_path / "big.json"
    with p.open("wb") as fh:  # 50 MB of valid-looking JSON
        fh.write(b'{"loginServer": "r1.azurecr.io", "pad": "')
        fh.write(b"x" * (50 * 1024 * 1024))
        fh.write(b'"}')
    with pytest.raises(BadInput, match="larger than 20 MB"):
        c.load(str(p))


@pytest.mark.parametrize(
    ("kind", "doc", "message"),
    [
        ("replications", {"value": [{"name": "x"}]}, r"value\[0\]: not one of the replications"),
        ("replications", [{"location": "west europe!"}], r"\[0\]\.location: 'west europe!' is not an Azure region"),
        ("replications", "eastus", "expected a JSON array"),
        ("connections", [1, 2], "expected a JSON object"),
        ("zone_records", [{"aRecords": "10.0.0.1"}], "aRecords: expected a list"),
    ],
)
def test_bad_list_files(tmp_path: Path, kind: str, doc: Any, message: str) -> None:
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps(doc))
    with pytest.raises(BadInput, match=message):
        c.load(str(DATA / "rest_premium_private.json"), **{kind: str(extra)})


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="no such file"):
        c.load(str(tmp_path / "nope.json"))
    with pytest.raises(BadInput, match="is a directory"):
        c.load(str(tmp_path))
