"""`regdoctor acr dns` against the lab's real dnsmasq: a healthy and a broken private-link chain.

The lab resolver (tests/lab/lab.py) serves
    labreg.azurecr.io    CNAME labreg.privatelink.azurecr.io                      A 10.200.0.1  (healthy)
    brokenreg.azurecr.io CNAME brokenreg.privatelink.azurecr.io
                         CNAME brokenreg.westeurope.cloudapp.azure.com            A 20.50.60.70 (broken)
and REFUSES every other name, so the data endpoints `<reg>.westeurope.data.azurecr.io`, which the
configs in data/ expect at 10.200.0.1, are missing records.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from lab.lab import Lab

pytestmark = pytest.mark.lab

DATA = Path(__file__).resolve().parent / "data"


def _dns(lab: Lab, registry: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    proc = lab.regdoctor("acr", "dns", str(DATA / f"acr_{registry}.json"), "--json", "--timeout", "3", *extra)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def _checks(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["host"]: c for c in doc["checks"]}


@pytest.mark.parametrize("resolver", [(), ("--resolver", "127.0.0.1")], ids=["system-resolver", "direct"])
def test_healthy_login_server_resolves_to_the_private_endpoint(lab: Lab, resolver: tuple[str, ...]) -> None:
    rc, doc, _ = _dns(lab, "labreg", *resolver)
    checks = _checks(doc)
    login = checks["labreg.azurecr.io"]
    assert login["status"] == "ok"
    assert login["resolved"]["addresses"] == ["10.200.0.1"]
    assert login["resolved"]["chain"] == [["labreg.azurecr.io", "labreg.privatelink.azurecr.io"]]
    # the data endpoint has no record in the lab resolver (REFUSED): a missing-record finding, exit 1
    data = checks["labreg.westeurope.data.azurecr.io"]
    assert data["status"] == "unresolved"
    assert data["resolved"]["error_kind"] in ("refused", "system")
    assert rc == 1
    codes = [(f["code"], f["host"]) for f in doc["findings"]]
    assert codes == [("ACR_DNS_UNRESOLVED", "labreg.westeurope.data.azurecr.io")]
    assert "labreg.westeurope.data.privatelink.azurecr.io" in doc["findings"][0]["fix"]


@pytest.mark.parametrize("resolver", [(), ("--resolver", "127.0.0.1")], ids=["system-resolver", "direct"])
def test_broken_privatelink_chain_to_a_public_address(lab: Lab, resolver: tuple[str, ...]) -> None:
    rc, doc, _ = _dns(lab, "brokenreg", *resolver)
    assert rc == 1
    login = _checks(doc)["brokenreg.azurecr.io"]
    assert login["status"] == "problem"
    assert login["resolved"]["addresses"] == ["20.50.60.70"]
    assert login["resolved"]["chain"] == [
        ["brokenreg.azurecr.io", "brokenreg.privatelink.azurecr.io"],
        ["brokenreg.privatelink.azurecr.io", "brokenreg.westeurope.cloudapp.azure.com"],
    ]
    by_host = {f["host"]: f for f in doc["findings"]}
    broken = by_host["brokenreg.azurecr.io"]
    assert broken["code"] == "DNS_PRIVATELINK_PUBLIC"
    assert broken["evidence"]["privatelink_name"] == "brokenreg.privatelink.azurecr.io"
    assert broken["evidence"]["addresses"] == ["20.50.60.70"]
    assert "20.50.60.70" in broken["cause"]
    assert by_host["brokenreg.westeurope.data.azurecr.io"]["code"] == "ACR_DNS_UNRESOLVED"


def test_text_output_shows_the_chain(lab: Lab) -> None:
    proc = lab.regdoctor("acr", "dns", str(DATA / "acr_brokenreg.json"))
    assert proc.returncode == 1, proc.stderr
    assert "brokenreg.azurecr.io -> brokenreg.privatelink.azurecr.io -> brokenreg.westeurope.cloudapp.azure.com" \
        " -> 20.50.60.70" in proc.stdout
    assert "DNS_PRIVATELINK_PUBLIC" in proc.stdout


def test_dead_resolver_costs_one_timeout(lab: Lab) -> None:
    # nothing answers DNS on the server address: every name fails, in parallel, within the deadline
    proc = lab.regdoctor("acr", "dns", str(DATA / "acr_labreg.json"), "--json", "--timeout", "1",
                         "--resolver", "10.200.0.99", timeout=20)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert {c["status"] for c in doc["checks"]} == {"unresolved"}
    assert {f["code"] for f in doc["findings"]} == {"ACR_DNS_UNRESOLVED"}
