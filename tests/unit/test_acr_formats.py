"""The formats of the acr subcommands that report findings or decisions (lint, access, dns): text, json,
markdown and junit, where the JUnit failures are exactly what sets exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

REG = {"loginServer": "contoso1.azurecr.io", "location": "westeurope", "sku": {"name": "Premium"},
       "publicNetworkAccess": "Enabled",
       # warning (IP rule of a private range), info (Tasks bypass off), error (IPv6 rule)
       "networkRuleSet": {"defaultAction": "Deny", "ipRules": [{"value": "10.0.0.0/8"}, {"value": "2001:db8::/32"}],
                          "virtualNetworkRules": []},
       "privateEndpointConnections": [{"name": "pe1", "privateLinkServiceConnectionState": {"status": "Approved"}}]}
FORMATS = ["text", "json", "markdown", "junit"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "regdoctor", "acr", *args], capture_output=True, timeout=60,
                          check=False, stdin=subprocess.DEVNULL)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> str:
    f = tmp_path_factory.mktemp("fmt") / "registry.json"
    f.write_text(json.dumps(REG))
    return str(f)


def junit_failures(xml: str) -> tuple[int, int]:
    """(failure elements, the failures attribute summed over suites)."""
    root = ET.fromstring(xml)
    return len(root.findall(".//failure")), sum(int(s.get("failures", "0")) for s in root.iter("testsuite"))


COMMANDS: dict[str, list[str]] = {
    "lint": ["lint"],
    "access-deny": ["access", "--from", "20.1.2.3"],
    "access-allow": ["access", "--via-private-endpoint"],
    # nothing answers DNS on loopback port 53 here: every name is unresolved (errors), fast, no traffic out
    "dns": ["dns", "--resolver", "127.0.0.1", "--timeout", "1"],
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_format(config: str, command: str, fmt: str) -> None:
    verb, *rest = COMMANDS[command]
    r = run(verb, config, *rest, "--format", fmt)
    assert r.returncode in (0, 1) and "Traceback" not in r.stderr, r.stderr
    as_json = json.loads(run(verb, config, *rest, "--json").stdout)
    assert (as_json["schema"], as_json["tool"]) == (1, "regdoctor")
    if verb == "access":
        failing = sum(not d["allowed"] for d in as_json["decisions"])
    else:
        failing = sum(f["severity"] in ("error", "warning") for f in as_json["findings"])
    assert r.returncode == (1 if failing else 0)
    if fmt == "junit":
        assert junit_failures(r.stdout) == (failing, failing)
    elif fmt == "markdown":
        assert r.stdout.startswith("#")
    elif fmt == "text":
        assert "contoso1.azurecr.io" in r.stdout


def test_lint_json_findings_carry_basis_and_source(config: str) -> None:
    doc: dict[str, Any] = json.loads(run("lint", config, "--json").stdout)
    severities = {f["severity"] for f in doc["findings"]}
    assert {"error", "warning", "info"} <= severities  # the junit count above is tested on all three
    for f in doc["findings"]:
        assert f["evidence"]["basis"] in ("documented", "inferred")
        assert f["evidence"]["source"].startswith("https://")


def test_access_json_carries_source_and_credentials(config: str) -> None:
    doc = json.loads(run("access", config, "--from", "20.1.2.3", "--json").stdout)
    assert all(d["source"].startswith("https://") for d in doc["decisions"])
    assert doc["credentials"]["anonymous_pull"] is False and doc["client"]["kind"] == "ip"


def test_allowlist_formats_from_one_region_list(config: str, tmp_path: Path) -> None:
    texts = {fmt: run("allowlist", config, "--region", "East US", "--format", fmt).stdout
             for fmt in ("text", "json", "squid", "az")}
    for out in texts.values():
        assert "contoso1.eastus.data.azurecr.io" in out and "contoso1.westeurope.data.azurecr.io" in out


def test_the_offline_model_does_no_network_imports(config: str) -> None:
    """`acr access|lint|allowlist` run the pure model: neither dnspython nor regdoctor.net is imported."""
    code = (
        "import sys\n"
        "from regdoctor.cli import main\n"
        "for argv in (['acr', 'access', sys.argv[1], '--from', '20.1.2.3'], ['acr', 'lint', sys.argv[1]],\n"
        "             ['acr', 'allowlist', sys.argv[1]]):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "net = ('dns.', 'regdoctor.net', 'regdoctor.probe')\n"
        "bad = sorted(m for m in sys.modules if m == 'dns' or m.startswith(net))\n"
        "print('IMPORTED', bad, file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", code, config], capture_output=True, text=True, timeout=60, check=False)
    assert "IMPORTED []" in r.stderr, r.stderr[-2000:]
