"""The documented case table (tests/data/acr/cases.toml) as data-driven tests of `acr access` and `acr allowlist`.

Each case is a configuration and a client; the expected login and data decisions, the data hosts,
the regional endpoints, the allow list and the regions were written from Microsoft's pages, and the
case names the sentence it follows (or says "inferred"). `test_table_size` prints the size per category.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from regdoctor.acr import docs
from regdoctor.acr.access import Client, anonymous_pull, decide
from regdoctor.acr.allowlist import from_config
from regdoctor.acr.fields import At
from regdoctor.acr.inputs import Document, Inputs, build
from regdoctor.acr.model import RegistryConfig

TABLE = Path(__file__).resolve().parents[1] / "data" / "acr" / "cases.toml"
DATA = tomllib.loads(TABLE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DATA["case"]
CATEGORIES = {"sku", "public-access", "ip", "cidr", "subnet", "trusted", "tasks", "private-endpoint", "ipv6",
              "data-endpoints", "regional", "regions", "anonymous"}


def config_of(case: dict[str, Any]) -> RegistryConfig:
    registry = json.loads(DATA["base"])
    for key, value in json.loads(case["registry"]).items():
        if value is None:
            registry.pop(key, None)
        else:
            registry[key] = value
    lists = {name: (Document(json.loads(case[key]), At(f"{case['id']}:{key}")),)
             for key, name in (("replications", "replications"), ("connections", "connections"),
                               ("dns_records", "zone_records"), ("private_endpoints", "private_endpoints"))
             if key in case}
    return build(Inputs(registry=Document(registry, At(case["id"])), **lists))


def client_of(spec: str) -> Client:
    kind, _, value = spec.partition(":")
    if kind == "ip":
        return Client.from_ip(value)
    if kind == "subnet":
        return Client("subnet", value)
    if kind == "service":
        name, _, identity = value.partition("/")
        return Client("service", name, identity or None)  # type: ignore[arg-type]
    assert kind == "pe", spec
    return Client("private-endpoint", value)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    cfg = config_of(case)
    decisions = decide(cfg, client_of(case["client"]))
    login = decisions[0]
    assert login.endpoint == "login"
    assert (login.allowed, login.basis) == (case["login"] == "allow", case["basis"]), login
    assert login.rule.startswith(case["rule"]), login.rule
    assert case.get("reason", "") in login.reason, login.reason
    if login.basis == "inferred":  # inferred conclusions are presented as likely, not certain
        assert "likely" in login.reason or "cannot be told" in login.reason, login.reason
    data = [d for d in decisions if d.endpoint == "data"]
    assert data and all(d.allowed == (case["data"] == "allow") for d in data), data
    if "data_hosts" in case:
        assert [d.host for d in data] == case["data_hosts"]
    assert [d.host for d in decisions if d.endpoint == "regional"] == case.get("regional", [])
    if "allowlist" in case:
        assert list(dict.fromkeys(r.fqdn for r in from_config(cfg))) == case["allowlist"]
    if "regions" in case:
        assert list(cfg.regions) == case["regions"]
    if "credentials" in case:
        assert anonymous_pull(cfg).allowed == (case["credentials"] == "anonymous")
    # every decision names the page its rule comes from
    assert all(d.source in docs.PAGES for d in decisions)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case_names_its_source(case: dict[str, Any]) -> None:
    key, _, sentence = case["follows"].partition(": ")
    assert key == "inferred" or key in docs.PAGES, case["follows"]
    assert len(sentence) > 20, case["follows"]
    assert case["category"] in CATEGORIES


def test_every_command_uses_the_same_regions() -> None:
    """access, allowlist and dns take their regions from one list, whatever source carried them."""
    from regdoctor.acr.dns import expectations

    for case in CASES:
        cfg = config_of(case)
        regions = list(cfg.regions)
        if cfg.data_endpoints_on:
            assert [d.region for d in decide(cfg, Client.from_ip("20.1.2.3")) if d.endpoint == "data"] == regions
            assert [r.region for r in from_config(cfg) if r.role == "data"] == regions
        if cfg.private_link:
            assert [e.region for e in expectations(cfg) if e.role == "data"] == regions


def test_table_size() -> None:
    counts = Counter(c["category"] for c in CASES)
    inferred = sum(c["follows"].startswith("inferred") for c in CASES)
    print("\ncase table:", len(CASES), "cases;", dict(sorted(counts.items())), f"; {inferred} inferred")
    assert len(CASES) >= 40 and set(counts) == CATEGORIES
    assert len({c["id"] for c in CASES}) == len(CASES)


def test_data_decisions_agree_with_their_rule() -> None:
    """A data endpoint's reason speaks of the rule it names (the IPv6 rule is not explained by public access)."""
    for case in CASES:
        cfg = config_of(case)
        for d in decide(cfg, client_of(case["client"])):
            if d.rule.startswith("endpointProtocol"):
                assert "IPv6" in d.reason or "IPv4" in d.reason, (case["id"], d)
            if d.rule == "publicNetworkAccess=Disabled" and not d.allowed:
                assert "public" in d.reason, (case["id"], d)
