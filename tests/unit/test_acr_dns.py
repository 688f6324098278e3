"""acr dns, the pure half: expectations from config, and judging recorded resolutions."""

from __future__ import annotations

from pathlib import Path

import acr_support as c
import pytest

from regdoctor.acr.dns import Resolution, check, expectations, judge

DATA = Path(__file__).resolve().parent / "data" / "acr"


def _cfg() -> c.RegistryConfig:
    return c.load(str(DATA / "combined.json"), private_endpoints=[str(DATA / "private_endpoint_show.json")])


def test_expectations_cover_login_and_every_replica_data_endpoint() -> None:
    got = [(e.host, e.role, e.member, e.addresses, e.source) for e in expectations(_cfg())]
    assert got == [
        ("contosoreg.azurecr.io", "login", "registry", ("10.1.0.4",), "endpoint"),
        ("contosoreg.westeurope.data.azurecr.io", "data", "registry_data_westeurope", ("10.1.0.6",), "endpoint"),
        ("contosoreg.eastus.data.azurecr.io", "data", "registry_data_eastus", ("10.1.0.7",), "endpoint"),
        ("contosoreg.japaneast.data.azurecr.io", "data", "registry_data_japaneast", (), ""),
    ]


def test_zone_records_are_the_expectation_when_no_endpoint_data() -> None:
    cfg = c.load(str(DATA / "combined.json"))
    assert [e.addresses for e in expectations(cfg)][:2] == [("10.1.0.4",), ("10.1.0.5",)]


def test_regional_endpoints_need_their_own_records() -> None:
    cfg = c.parse_registry({"loginServer": "geo12.azurecr.io", "location": "eastus", "regionalEndpoints": "Enabled",
                            "privateEndpointConnections": [
                                {"name": "p", "privateLinkServiceConnectionState": {"status": "Approved"}}]})
    assert [(e.record, e.member) for e in expectations(cfg)] == [
        ("geo12.privatelink.azurecr.io", "registry"),
        ("geo12.eastus.data.privatelink.azurecr.io", "registry_data_eastus"),
        ("geo12.eastus.geo.privatelink.azurecr.io", "registry_eastus")]


def test_no_private_endpoint_expects_public() -> None:
    cfg = c.parse_registry({"loginServer": "open12.azurecr.io", "location": "eastus"})
    (exp,) = expectations(cfg)
    assert not exp.private and "public" in exp.describe()


LOGIN = "contosoreg.azurecr.io"
PL = "contosoreg.privatelink.azurecr.io"


@pytest.mark.parametrize(
    ("resolution", "status", "codes", "basis"),
    [
        (Resolution(LOGIN, "10.0.0.10", ("10.1.0.4",), ((LOGIN, PL),)), "ok", [], None),
        (Resolution(LOGIN, "10.0.0.10", ("20.50.60.70",), ((LOGIN, PL), (PL, "x.westeurope.cloudapp.azure.com"))),
         "problem", ["DNS_PRIVATELINK_PUBLIC"], "documented"),
        (Resolution(LOGIN, "10.0.0.10", ("20.50.60.70",), ()), "problem", ["ACR_DNS_NOT_PRIVATE"], "documented"),
        (Resolution(LOGIN, "10.0.0.10", ("10.9.9.9",), ((LOGIN, PL),)), "problem", ["ACR_DNS_WRONG_ADDRESS"],
         "documented"),
        (Resolution(LOGIN, "10.0.0.10", (), (), "NXDOMAIN", "nxdomain"), "unresolved", ["ACR_DNS_UNRESOLVED"],
         "documented"),
        (Resolution(LOGIN, "10.0.0.10", (), (), "REFUSED", "refused"), "unresolved", ["ACR_DNS_UNRESOLVED"],
         "documented"),
    ],
    ids=["healthy", "privatelink-to-public", "public-without-privatelink", "stale-private", "nxdomain", "refused"],
)
def test_judge_login_server(resolution: Resolution, status: str, codes: list[str], basis: str | None) -> None:
    cfg = _cfg()
    exp = expectations(cfg)[0]
    result = judge(cfg, exp, resolution)
    assert result.status == status
    assert [f.code for f in result.findings] == codes
    if basis:
        assert result.findings[0].evidence["basis"] == basis
        assert "{" not in result.findings[0].cause


def test_broken_chain_on_a_data_endpoint_is_inferred() -> None:
    cfg = _cfg()
    exp = expectations(cfg)[1]
    pl = "contosoreg.westeurope.data.privatelink.azurecr.io"
    res = Resolution(exp.host, "10.0.0.10", ("52.1.2.3",), ((exp.host, pl), (pl, "z.trafficmanager.net")))
    (f,) = judge(cfg, exp, res).findings
    assert (f.code, f.evidence["basis"], f.evidence["privatelink_name"]) == ("DNS_PRIVATELINK_PUBLIC", "inferred", pl)


def test_unresolved_names_the_record_to_add() -> None:
    cfg = _cfg()
    exp = expectations(cfg)[3]
    (f,) = judge(cfg, exp, Resolution(exp.host, "the system resolver (10.0.0.10)", error="NXDOMAIN",
                                      error_kind="nxdomain")).findings
    assert "contosoreg.japaneast.data.privatelink.azurecr.io" in f.fix
    assert "NXDOMAIN" in f.cause and "private endpoint" in f.cause


def test_check_matches_by_host() -> None:
    cfg = _cfg()
    res = [Resolution(e.host, "r", e.addresses or ("10.1.0.99",)) for e in expectations(cfg)]
    assert [x.status for x in check(cfg, res)] == ["ok", "ok", "ok", "ok"]
