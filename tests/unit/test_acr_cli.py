"""`regdoctor acr …` end to end through the installed CLI: outputs, exit codes, bad input (no network)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data" / "acr"


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "regdoctor", "acr", *args], capture_output=True, input=stdin,
                          timeout=60, check=False, env=env)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def one_line_exit_2(r: subprocess.CompletedProcess[str]) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


# ------------------------------------------------------------------------------------ bad input

@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"loginServer": "contoso1.azurecr.io", "networkRuleSet": {"defaultAction": "De', "truncated"),
        (b"{not json}", "not valid JSON"),
        (b'[{"loginServer": "contoso1.azurecr.io"}]', "a JSON array is not a registry"),
        (b"\x00\x01\x02\xff\xfe binary", "not UTF-8"),
        (b'{"id": "/subscriptions/x/providers/Microsoft.Storage/storageAccounts/s"}', "not a container registry"),
    ],
    ids=["truncated", "malformed", "array", "binary", "not-a-registry"],
)
@pytest.mark.parametrize("command", ["lint", "access --from 203.0.113.1", "allowlist", "dns"])
def test_bad_config_is_exit_2_one_line(tmp_path: Path, command: str, content: bytes, message: str) -> None:
    f = tmp_path / "registry.json"
    f.write_bytes(content)
    verb, *rest = command.split()
    assert message in one_line_exit_2(run(verb, str(f), *rest))


def test_fifty_megabytes_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "huge.json"
    with f.open("wb") as fh:
        fh.write(b'{"loginServer": "contoso1.azurecr.io", "tags": {"pad": "')
        fh.write(b"a" * (50 * 1024 * 1024))
        fh.write(b'"}}')
    assert "larger than 20 MB" in one_line_exit_2(run("lint", str(f)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["access", str(DATA / "cli_selected_networks.json")], "exactly one of"),
        (["access", str(DATA / "cli_selected_networks.json"), "--from", "1.2.3.4", "--service", "aci"], "exactly one"),
        (["access", str(DATA / "cli_selected_networks.json"), "--from", "999.1.1.1"], "not an IP address"),
        (["access", str(DATA / "cli_selected_networks.json"), "--service", "teleport"], "unknown; known: aci"),
        (["access", str(DATA / "cli_selected_networks.json"), "--subnet", "vnet1"], "not a subnet resource ID"),
        (["lint"], "give either CONFIG"),
        (["lint", str(DATA / "cli_selected_networks.json"), "--name", "fabrikamci"], "give either CONFIG"),
        (["lint", "/nonexistent/registry.json"], "no such file"),
        (["dns", str(DATA / "cli_selected_networks.json"), "--resolver", "dns.example"], "not an IP address"),
        (["lint", str(DATA / "cli_selected_networks.json"), "--replications", str(DATA / "pe_connections_cli.json")],
         "pe_connections_cli.json: [0]: not one of the replications"),
        (["allowlist", "not a name!"], "no such file"),
    ],
    ids=["no-client", "two-clients", "bad-ip", "bad-service", "bad-subnet", "no-config", "config-and-name",
         "missing-file", "bad-resolver", "wrong-list-file", "bad-name"],
)
def test_usage_errors(args: list[str], message: str) -> None:
    assert message in one_line_exit_2(run(*args))


# ------------------------------------------------------------------------------------ outputs and exit codes

def test_access_json_contract_and_exit_codes() -> None:
    ok = run("access", str(DATA / "cli_selected_networks.json"), "--from", "203.0.113.9", "--json")
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert (doc["schema"], doc["tool"]) == (1, "regdoctor")
    assert doc["decisions"][0] == {"endpoint": "login", "host": "fabrikamci.azurecr.io", "allowed": True,
                                   "rule": "ipRules[203.0.113.0/24]",
                                   "reason": "IP rule 203.0.113.0/24 holds 203.0.113.9",
                                   "basis": "documented", "region": None,
                                   "source": "https://learn.microsoft.com/azure/container-registry/"
                                             "container-registry-access-selected-networks"}
    denied = run("access", str(DATA / "rest_premium_private.json"), "--from", "203.0.113.9")
    assert denied.returncode == 1
    assert "DENY" in denied.stdout and "public network access is disabled" in denied.stdout


def test_access_reads_stdin_and_markdown() -> None:
    r = run("access", "-", "--via-private-endpoint", "--format", "markdown",
            stdin=(DATA / "rest_premium_private.json").read_bytes())
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("### regdoctor acr access: `contosoreg.azurecr.io`")
    assert "| ALLOW | data | `contosoreg.eastus.data.azurecr.io` |" in r.stdout


def test_lint_json_is_the_finding_shape_and_exit_1() -> None:
    r = run("lint", str(DATA / "combined.json"), "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["schema"] == 1 and doc["status"] == "problems"
    f = doc["findings"][0]
    assert {"code", "layer", "host", "root_cause", "title", "cause", "fix", "evidence", "docs", "az_code"} <= set(f)
    assert all(x["evidence"]["basis"] in ("documented", "inferred") for x in doc["findings"])


def test_lint_clean_registry_exit_0() -> None:
    r = run("lint", str(DATA / "cli_data_endpoint_recording.json"))
    assert r.returncode == 0, r.stdout
    assert "No problems found" in r.stdout


@pytest.mark.parametrize(("fmt", "needle"), [("squid", "acl acr_contosoreg dstdomain"),
                                             ("az", "az network firewall application-rule create"),
                                             ("text", "contosoreg.japaneast.data.azurecr.io:443"),
                                             ("json", '"service_tag": "AzureContainerRegistry.JapanEast"')])
def test_allowlist_formats(fmt: str, needle: str) -> None:
    r = run("allowlist", str(DATA / "combined.json"), "--format", fmt)
    assert r.returncode == 0, r.stderr
    assert needle in r.stdout


def test_allowlist_by_name_without_config() -> None:
    r = run("allowlist", "myregistry", "--region", "westeurope", "--no-data-endpoints", "--json")
    assert r.returncode == 0, r.stderr
    fqdns = [x["fqdn"] for x in json.loads(r.stdout)["rules"]]
    assert fqdns == ["myregistry.azurecr.io", "azurecr.io", "*.blob.core.windows.net"]


# ------------------------------------------------------------------------------------ --name through az

def _fake_az(tmp_path: Path, script: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text("#!/bin/sh\n" + script)
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_name_fetches_through_az(tmp_path: Path) -> None:
    show, reps = DATA / "cli_selected_networks.json", DATA / "replications_cli.json"
    env = _fake_az(tmp_path, f"""
case "$2 $3" in
  "show -n") cat {show} ;;
  "replication list") cat {reps} ;;
  "private-endpoint-connection list") echo '[]' ;;
  *) echo "ERROR: unexpected $*" >&2; exit 1 ;;
esac
""")
    r = run("allowlist", "--name", "fabrikamci", "--json", env=env)
    assert r.returncode == 0, r.stderr
    assert "Storage.NorthEurope" in r.stdout


def test_name_without_az_is_exit_2(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}
    line = one_line_exit_2(run("lint", "--name", "fabrikamci", env=env))
    assert "az CLI, which is not on PATH" in line


def test_name_when_az_fails_is_exit_2(tmp_path: Path) -> None:
    env = _fake_az(tmp_path, 'echo "ERROR: Please run \'az login\' to setup account." >&2; exit 1\n')
    line = one_line_exit_2(run("lint", "--name", "fabrikamci", env=env))
    assert "az login" in line
