"""Every `regdoctor acr` subcommand (and `check --acr-config`) on a table of bad inputs: exit 2, exactly
one line on stderr naming the input (and the key, for a wrong shape), nothing on stdout, no traceback.

The rows run once each, in parallel, through the installed CLI (a real process per row)."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

GOOD = {"loginServer": "contoso1.azurecr.io", "location": "westeurope", "sku": {"name": "Premium"},
        "networkRuleSet": {"defaultAction": "Deny", "ipRules": []},
        "privateEndpointConnections": [{"name": "pe1", "privateLinkServiceConnectionState": {"status": "Approved"}}]}
COMMANDS = {"lint": [], "access": ["--from", "20.1.2.3"], "allowlist": [], "dns": ["--timeout", "0.5"]}


def reg(**over: Any) -> str:
    return json.dumps({**GOOD, **over})


# (id, CONFIG content or None for the good one, extra args with {f:NAME} file placeholders, files, message part)
REGISTRY_ROWS: list[tuple[str, bytes | str, str]] = [
    ("truncated", '{"loginServer": "contoso1.azurecr.io", "networkRuleSet": {"defaultAction": "De', "truncated"),
    ("malformed", "{not json}", "not valid JSON"),
    ("array", '[{"loginServer": "contoso1.azurecr.io"}]', "a JSON array is not a registry"),
    ("binary", b"\x00\x01\x02\xff\xfe binary", "not UTF-8"),
    ("empty", "", "empty"),
    ("deep", "[" * 5000 + "]" * 5000, "nested too deeply"),
    ("other-resource", '{"id": "/subscriptions/x/providers/Microsoft.Storage/storageAccounts/s"}',
     "not a container registry"),
    ("public-access-enum", reg(publicNetworkAccess="Off"),
     "publicNetworkAccess: expected one of Enabled, Disabled, got 'Off'"),
    ("default-action-enum", reg(networkRuleSet={"defaultAction": "Block"}),
     "networkRuleSet.defaultAction: expected one of Allow, Deny, got 'Block'"),
    ("ip-rules-type", reg(networkRuleSet={"defaultAction": "Deny", "ipRules": "1.2.3.4"}),
     "networkRuleSet.ipRules: expected a list, got a JSON string"),
    ("ip-rule-action", reg(networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": "1.2.3.4",
                                                                                 "action": "Deny"}]}),
     "networkRuleSet.ipRules[0].action: expected one of Allow, got 'Deny'"),
    ("ip-rule-value-type", reg(networkRuleSet={"defaultAction": "Deny", "ipRules": [{"value": 1234}]}),
     "networkRuleSet.ipRules[0].value: expected a string, got a JSON number"),
    ("sku-enum", reg(sku={"name": "Ultra"}), "sku.name: expected one of Classic, Basic, Standard, Premium"),
    ("location", reg(location="west europe!"), "location: 'west europe!' is not an Azure region name"),
    ("data-host-type", reg(dataEndpointHostNames=[5]), "dataEndpointHostNames[0]: expected a host name"),
    ("login-server", reg(loginServer="not a host!"), "loginServer: 'not a host!' is not a host name"),
    ("endpoint-protocol", reg(endpointProtocol="IPv6"), "endpointProtocol: expected one of IPv4, IPv4AndIPv6"),
    ("tasks-bool", reg(networkRuleBypassAllowedForTasks="maybe"),
     "networkRuleBypassAllowedForTasks: expected true or false, got 'maybe'"),
    ("connection-shape", reg(privateEndpointConnections=[{"foo": 1}]),
     "privateEndpointConnections[0]: not a private endpoint connection"),
    ("connection-status", reg(privateEndpointConnections=[{"privateLinkServiceConnectionState": {"status": "Maybe"}}]),
     "privateEndpointConnections[0].privateLinkServiceConnectionState.status: expected one of Approved"),
    ("rest-nesting", json.dumps({"name": "contoso1", "properties": {"networkRuleSet": []}}),
     "properties.networkRuleSet: expected a JSON object, got a JSON array"),
]

LIST_ROWS: list[tuple[str, str, Any, str]] = [
    ("dns-records-foo", "--dns-records", {"foo": 1},
     "expected a JSON array of private DNS record sets"),
    ("dns-records-address", "--dns-records", [{"name": "contoso1", "aRecords": [{"ipv4Address": "999.1.1.1"}]}],
     "[0].aRecords[0].ipv4Address: expected an IPv4 address, got '999.1.1.1'"),
    ("dns-records-other-zone", "--dns-records",
     [{"fqdn": "acct.privatelink.blob.core.windows.net.", "aRecords": [{"ipv4Address": "10.0.0.1"}]}],
     "no A record of the privatelink.azurecr.io zone"),
    ("dns-records-other-registry", "--dns-records",
     [{"name": "other99", "aRecords": [{"ipv4Address": "10.0.0.1"}]}], "not for contoso1.azurecr.io"),
    ("replications-shape", "--replications", {"name": "x"}, "expected a JSON array of replications"),
    ("replications-region", "--replications", [{"location": "west europe!"}],
     "[0].location: 'west europe!' is not an Azure region name"),
    ("connections-shape", "--connections", {"value": "x"}, "expected a JSON array of private endpoint connections"),
    ("private-endpoint-ip", "--private-endpoint",
     {"customDnsConfigs": [{"fqdn": "contoso1.azurecr.io", "ipAddresses": ["not-ip"]}]},
     "customDnsConfigs[0].ipAddresses[0]: expected an IP address, got 'not-ip'"),
    ("private-endpoint-other-registry", "--private-endpoint",
     {"customDnsConfigs": [{"fqdn": "other99.azurecr.io", "ipAddresses": ["10.0.0.4"]}]},
     "not for contoso1.azurecr.io"),
    ("private-endpoint-shape", "--private-endpoint", [{"unrelated": True}], "[0]: not one of the private endpoints"),
]

# (id, argv after `regdoctor`, message part); "{cfg}" is the good registry file
OPTION_ROWS: list[tuple[str, list[str], str]] = [
    ("access-no-client", ["acr", "access", "{cfg}"], "exactly one of"),
    ("access-two-clients", ["acr", "access", "{cfg}", "--from", "1.2.3.4", "--via-private-endpoint"], "exactly one"),
    ("access-bad-ip", ["acr", "access", "{cfg}", "--from", "999.1.1.1"], "not an IP address"),
    ("access-bad-subnet", ["acr", "access", "{cfg}", "--subnet", "vnet1/subnets/x"], "not a subnet resource ID"),
    ("access-bad-service", ["acr", "access", "{cfg}", "--service", "teleport"], "unknown; known: aci"),
    ("access-identity-alone", ["acr", "access", "{cfg}", "--from", "1.2.3.4", "--identity", "user"],
     "--identity goes with --service"),
    ("access-connection-alone", ["acr", "access", "{cfg}", "--from", "1.2.3.4", "--endpoint-connection", "pe1"],
     "--endpoint-connection goes with --via-private-endpoint"),
    ("access-unknown-connection", ["acr", "access", "{cfg}", "--via-private-endpoint", "--endpoint-connection", "nope"],
     "no private endpoint connection named 'nope' (known: pe1)"),
    ("allowlist-region-config", ["acr", "allowlist", "{cfg}", "--region", "west europe!"],
     "--region 'west europe!' is not an Azure region name"),
    ("allowlist-region-name", ["acr", "allowlist", "contoso1", "--region", "west europe!"],
     "--region 'west europe!' is not an Azure region name"),
    ("allowlist-region-empty", ["acr", "allowlist", "contoso1", "--region", ""], "is not an Azure region name"),
    ("allowlist-region-hostname", ["acr", "allowlist", "contoso1", "--region", "eastus.evil.com"],
     "is not an Azure region name"),
    ("allowlist-name-flags-with-config", ["acr", "allowlist", "{cfg}", "--data-endpoints"], "apply to NAME only"),
    ("dns-bad-resolver", ["acr", "dns", "{cfg}", "--resolver", "dns.example"], "not an IP address"),
    ("dns-timeout-nan", ["acr", "dns", "{cfg}", "--timeout", "nan"], "finite number of seconds"),
    ("lint-no-config", ["acr", "lint"], "give either CONFIG"),
    ("lint-config-and-name", ["acr", "lint", "{cfg}", "--name", "contoso1"], "give either CONFIG"),
    ("lint-zone-rg-without-name", ["acr", "lint", "{cfg}", "--dns-zone-resource-group", "rg"], "with --name only"),
    ("lint-missing-file", ["acr", "lint", "/nonexistent/registry.json"], "/nonexistent/registry.json: no such file"),
    ("lint-directory", ["acr", "lint", "/tmp"], "/tmp: is a directory"),
    ("lint-two-stdin", ["acr", "lint", "-", "--replications", "-"], "only one input can be read from stdin"),
    ("check-acr-config-other-registry", ["check", "otherreg1.azurecr.io", "--acr-config", "{cfg}"],
     "describes contoso1.azurecr.io, which no REF names"),
    ("check-acr-config-bad-shape", ["check", "contoso1.azurecr.io", "--acr-config", "{bad}"],
     "publicNetworkAccess: expected one of Enabled, Disabled"),
    ("check-acr-config-stdin-twice", ["check", "contoso1.azurecr.io", "--acr-config", "-", "-u", "x",
                                      "--password-stdin"], "cannot both read standard input"),
]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "regdoctor", *argv], capture_output=True, input=b"", timeout=60,
                          check=False)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], str]]:
    d = tmp_path_factory.mktemp("acr-bad")
    good = d / "good.json"
    good.write_text(json.dumps(GOOD))
    bad = d / "bad.json"
    bad.write_text(reg(publicNetworkAccess="Off"))
    jobs: dict[str, tuple[list[str], str]] = {}
    for rid, content, message in REGISTRY_ROWS:
        f = d / f"{rid}.json"
        f.write_bytes(content if isinstance(content, bytes) else content.encode())
        for verb, args in COMMANDS.items():
            jobs[f"{verb}:{rid}"] = (["acr", verb, str(f), *args], message)
    for rid, option, doc, message in LIST_ROWS:
        f = d / f"{rid}.json"
        f.write_text(json.dumps(doc))
        for verb, args in COMMANDS.items():
            jobs[f"{verb}:{rid}"] = (["acr", verb, str(good), option, str(f), *args], message)
    for rid, argv, message in OPTION_ROWS:
        jobs[rid] = ([str(good) if a == "{cfg}" else str(bad) if a == "{bad}" else a for a in argv], message)
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = dict(zip(jobs, pool.map(lambda job: _run(job[0]), jobs.values()), strict=True))
    return {k: (done[k], jobs[k][1]) for k in jobs}


ROW_IDS = ([f"{v}:{r[0]}" for r in REGISTRY_ROWS for v in COMMANDS]
           + [f"{v}:{r[0]}" for r in LIST_ROWS for v in COMMANDS] + [r[0] for r in OPTION_ROWS])


@pytest.mark.parametrize("row", ROW_IDS)
def test_bad_input_is_exit_2_and_one_line(results: dict[str, tuple[subprocess.CompletedProcess[str], str]],
                                          row: str) -> None:
    r, message = results[row]
    assert r.returncode == 2, (r.returncode, r.stdout[:500], r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == "", r.stdout[:500]
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert message in lines[0], lines[0]
    if ":" in row and not row.endswith(("truncated", "malformed", "binary", "empty", "deep")):
        assert ".json" in lines[0], lines[0]  # a wrong shape names the file


def test_table_size() -> None:
    print(f"\nbad-input table: {len(ROW_IDS)} runs ({len(REGISTRY_ROWS)} registry shapes and {len(LIST_ROWS)} list "
          f"files x {len(COMMANDS)} subcommands, {len(OPTION_ROWS)} option rows)")
    assert len(ROW_IDS) >= 100
