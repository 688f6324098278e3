"""`regdoctor logs` on every export shape: same events, same answers; injected incidents found exactly."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb")

from logs_data import generator

from regdoctor.acr import parse_registry
from regdoctor.logs import Options, run
from regdoctor.logs.findings import covering, iso
from regdoctor.logs.report import LogsReport

ROWS = 2500
VARIANTS = {
    "rest": {"shape": "rest"},
    "az": {"shape": "az"},
    "storage": {"shape": "storage"},
    "storage-layout": {"shape": "storage", "layout": "storage"},
    "csv": {"shape": "csv"},
    "csv-portal": {"shape": "csv", "csv_style": "portal"},
    "parquet": {"shape": "parquet"},
    "rest-gz": {"shape": "rest", "gz": True},
    "az-gz": {"shape": "az", "gz": True},
    "storage-gz": {"shape": "storage", "gz": True},
    "csv-gz": {"shape": "csv", "gz": True},
    "parquet-gz": {"shape": "parquet", "gz": True},
}


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[Path, Any]]]:
    gen = generator()
    root = tmp_path_factory.mktemp("exports")
    out = {}
    for name, kw in VARIANTS.items():
        m = gen.generate(root / name, rows=ROWS, repository_share=0.3, **kw)
        out[name] = (root / name, m)
    yield out


def codes(report: LogsReport, code: str) -> list[Any]:
    return [f for f in report.findings if f.code == code]


def sec(value: str) -> str:
    """The manifest's time (microseconds) as the report prints it (whole seconds, Z)."""
    return iso(datetime.fromisoformat(value)) or ""


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_shape_reads_every_event(exports: dict[str, tuple[Path, Any]], variant: str) -> None:
    path, m = exports[variant]
    report = run([str(path)], Options())
    s = report.analysis.summary
    assert s.events == m.rows == ROWS
    assert dict(s.statuses) == m.status_counts
    assert all(f.skipped == 0 for f in report.inputs)
    assert s.tables.get("repository", 0) > 0 and s.tables.get("login", 0) > 0
    # the shape is told from content, not from the name
    expected = "lines" if variant.startswith("storage") else variant.split("-", maxsplit=1)[0]
    assert {f.shape for f in report.inputs} == {expected}


@pytest.mark.parametrize("variant", ["storage", "parquet", "csv-portal", "az-gz"])
def test_injected_incidents_are_found(exports: dict[str, tuple[Path, Any]], variant: str) -> None:
    path, m = exports[variant]
    report = run([str(path)], Options())
    inc = m.incidents

    (fw,) = codes(report, "LOGS_FIREWALL_DENIALS")
    assert fw.evidence["count"] == inc["firewall"].count
    assert fw.evidence["first"] == sec(inc["firewall"].first)
    assert fw.evidence["last"] == sec(inc["firewall"].last)
    assert fw.evidence["per_address"] == inc["firewall"].detail["per_ip"]
    assert fw.evidence["caller"] == covering(inc["firewall"].detail["per_ip"])
    assert "new addresses" in fw.cause and "403" in fw.cause

    (stopped,) = codes(report, "LOGS_CREDENTIAL_STOPPED")
    sp = inc["expired_sp"]
    assert stopped.evidence["identity"] == sp.detail["identity"]
    assert stopped.evidence["count"] == sp.count
    assert stopped.evidence["first"] == sec(sp.first) and stopped.evidence["last"] == sec(sp.last)
    assert stopped.evidence["last_success"] == sec(sp.detail["last_success"])
    assert stopped.evidence["addresses"] == sp.ips and sp.ips > 1
    assert "az ad sp credential reset" in stopped.fix

    (thr,) = codes(report, "LOGS_THROTTLED")
    assert thr.evidence["count"] == inc["throttled"].count
    assert thr.evidence["identity"] == inc["throttled"].detail["identity"]
    assert thr.evidence["first"] == sec(inc["throttled"].first)
    assert thr.evidence["addresses"] == inc["throttled"].ips
    assert thr.evidence["peak_per_minute"] >= inc["throttled"].count / 10  # ten minutes long

    (spray,) = codes(report, "LOGS_AUTH_FAILURES_IP")
    assert spray.evidence["caller_ip"] == inc["spray"].detail["ip"]
    assert spray.evidence["count"] == inc["spray"].count
    assert spray.evidence["identities"] == inc["spray"].identities

    (nf,) = codes(report, "LOGS_NOT_FOUND")                   # the deleted tag, not the rare stray 404
    assert nf.evidence["reference"] == inc["deleted_tag"].detail["reference"]
    assert nf.evidence["count"] == inc["deleted_tag"].count == 72
    assert nf.evidence["first"] == sec(inc["deleted_tag"].first) and nf.evidence["last"] == sec(inc["deleted_tag"].last)
    # the guessed identities are the spraying address's finding, not fifteen findings of their own
    assert not [f for f in codes(report, "LOGS_AUTH_FAILURES_IDENTITY") if "@contoso.com" in f.evidence["identity"]]

    new = {f.evidence["caller"]: f for f in codes(report, "LOGS_NEW_CALLER_IP")}
    assert not new[fw.evidence["caller"]].root_cause          # explained by the firewall finding
    assert inc["spray"].detail["ip"] in new
    # noise (a user's occasional mistyped password, rare 5xx) is not a finding
    assert not codes(report, "LOGS_AUTH_FAILURES_IDENTITY")
    assert not codes(report, "LOGS_SERVER_ERRORS")
    assert report.problems


def test_mixed_shapes_at_once(exports: dict[str, tuple[Path, Any]]) -> None:
    names = ["rest", "az-gz", "storage-layout", "csv-portal", "parquet-gz"]
    report = run([str(exports[n][0]) for n in names], Options())
    assert report.analysis.summary.events == ROWS * len(names)
    (fw,) = codes(report, "LOGS_FIREWALL_DENIALS")
    assert fw.evidence["count"] == exports["rest"][1].incidents["firewall"].count * len(names)
    assert len({f.shape for f in report.inputs}) == 5


def test_globs_and_time_window(exports: dict[str, tuple[Path, Any]]) -> None:
    path, m = exports["storage-layout"]
    fw = m.incidents["firewall"]
    day = datetime.fromisoformat(fw.first).date().isoformat()
    glob = str(path / "insights-logs-containerregistryloginevents" / "**" / f"d={day[8:10]}" / "**" / "PT1H.json")
    report = run([glob], Options(since=datetime.fromisoformat(day), until=datetime.fromisoformat(fw.last)))
    assert all("loginevents" in f.path for f in report.inputs)
    s = report.analysis.summary
    assert s.first is not None and s.first >= datetime.fromisoformat(day)
    assert s.tables == {"login": s.events}
    (f,) = codes(report, "LOGS_FIREWALL_DENIALS")
    assert f.evidence["count"] == fw.count - 1                 # the last one is at --until, which is exclusive


def test_identity_and_ip_filters(exports: dict[str, tuple[Path, Any]]) -> None:
    path, m = exports["parquet"]
    sp = m.incidents["expired_sp"].detail["identity"]
    only = run([str(path)], Options(identities=(sp.upper(),)))
    assert {f.code for f in only.findings} == {"LOGS_CREDENTIAL_STOPPED"}
    assert only.analysis.summary.identities == 1
    import ipaddress

    net = run([str(path)], Options(networks=(ipaddress.ip_network("20.61.5.0/24"),)))
    assert net.analysis.summary.events == m.incidents["firewall"].count
    assert {f.code for f in net.findings} == {"LOGS_FIREWALL_DENIALS"}   # nothing before it: not "new"


# ------------------------------------------------------------------------------ hand-made records

def write_lines(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def login(ip: str, status: str = "403", t: str = "2024-05-06T10:00:00.1234567Z", **extra: Any) -> dict[str, Any]:
    return {"time": t, "category": "ContainerRegistryLoginEvents", "operationName": "Login",
            "resultDescription": status, "callerIpAddress": ip, "identity": "ci@contoso.com",
            "loginServer": "MyReg.azurecr.io", "userAgent": "docker/25.0.3 go/go1.21.6", **extra}


def test_ports_are_stripped_and_ipv6_kept(tmp_path: Path) -> None:
    recs = [login("20.1.2.3:51234", t=f"2024-05-06T10:00:0{i}Z") for i in range(4)]
    recs += [login("[2001:db8::7]:443", t=f"2024-05-06T10:01:0{i}Z") for i in range(3)]
    recs += [login("2001:db8::7", t="2024-05-06T10:02:00Z")]
    report = run([str(write_lines(tmp_path / "PT1H.json", recs))], Options())
    got = {f.evidence["caller"]: f.evidence["count"] for f in codes(report, "LOGS_FIREWALL_DENIALS")}
    assert got == {"20.1.2.3": 4, "2001:db8::7": 4}
    (f,) = [f for f in report.findings if f.evidence.get("caller") == "20.1.2.3"]
    assert f.host == "myreg.azurecr.io" and "--name myreg --ip-address 20.1.2.3" in f.fix


def test_nested_properties_and_pascal_case_lines(tmp_path: Path) -> None:
    nested = [{"time": f"2024-05-06T10:00:0{i}Z", "category": "ContainerRegistryLoginEvents",
               "resultDescription": "401", "properties": {"identity": "bob@contoso.com", "loginServer": "r.azurecr.io",
                                                          "callerIpAddress": "198.51.100.9"}} for i in range(3)]
    pascal = [{"TimeGenerated": f"2024-05-06T11:00:0{i}Z", "ResultDescription": "401", "Identity": "bob@contoso.com",
               "CallerIpAddress": "198.51.100.9", "LoginServer": "r.azurecr.io"} for i in range(3)]
    report = run([str(write_lines(tmp_path / "a.json", nested)), str(write_lines(tmp_path / "b.jsonl", pascal))],
                 Options())
    (f,) = codes(report, "LOGS_AUTH_FAILURES_IDENTITY")
    assert f.evidence["identity"] == "bob@contoso.com" and f.evidence["count"] == 6 and f.host == "r.azurecr.io"
    assert "never logged in successfully" in f.cause


def test_csv_any_order_case_and_delimiter(tmp_path: Path) -> None:
    rows = "\n".join(f"401;198.51.100.{i % 2};{i}/6/2024, 1:0{i}:00.5 PM;eve@contoso.com;None" for i in range(1, 6))
    p = tmp_path / "export.csv"
    p.write_text("resultdescription;CALLERIPADDRESS;TimeGenerated [UTC];identity;UserAgent\n" + rows + "\n")
    report = run([str(p)], Options())
    assert report.inputs[0].shape == "csv" and report.inputs[0].skipped == 0
    s = report.analysis.summary
    assert s.events == 5 and s.first == datetime(2024, 1, 6, 13, 1, 0, 500000)
    assert [c for c, _, _ in s.clients] == ["none"]           # az's "None" is a null


def test_rest_with_two_tables_in_different_column_orders(tmp_path: Path) -> None:
    doc = {"tables": [
        {"name": "PrimaryResult", "columns": [{"name": "TimeGenerated", "type": "datetime"},
                                             {"name": "ResultDescription", "type": "string"},
                                             {"name": "CallerIpAddress", "type": "string"}],
         "rows": [["2024-05-06T10:00:00Z", "403", "20.9.9.9"]] * 3},
        {"name": "Second", "columns": [{"name": "CallerIpAddress", "type": "string"},
                                      {"name": "ResultDescription", "type": "string"},
                                      {"name": "TimeGenerated", "type": "datetime"}],
         "rows": [["20.9.9.9", "403", "2024-05-06T10:05:00Z"]] * 2},
    ]}
    p = tmp_path / "rest.json.gz"
    with gzip.open(p, "wt") as fh:
        json.dump(doc, fh, indent=2)
    report = run([str(p)], Options())
    (f,) = codes(report, "LOGS_FIREWALL_DENIALS")
    assert f.evidence["count"] == 5 and report.inputs[0].shape == "rest"


def test_acr_config_holds_callers_against_the_rules(exports: dict[str, tuple[Path, Any]], tmp_path: Path) -> None:
    cfg = tmp_path / "acr.json"
    cfg.write_text(json.dumps({
        "name": "contosoprod", "loginServer": "contosoprod.azurecr.io", "location": "westeurope",
        "sku": {"name": "Premium"}, "publicNetworkAccess": "Enabled",
        "networkRuleSet": {"defaultAction": "Deny",
                           "ipRules": [{"action": "Allow", "ipAddressOrRange": "20.61.3.64/28"}]},
    }))
    report = run([str(exports["storage"][0])], Options(acr_config=_acr(cfg)))
    (fw,) = codes(report, "LOGS_FIREWALL_DENIALS")
    assert "not in ipRules (1 rule), public network access Enabled with default action Deny" in fw.cause
    assert "`az acr network-rule add --name contosoprod --ip-address 20.61.5.32/27`" in fw.fix
    assert all(v["rule"] == "defaultAction=Deny" and not v["allowed"] for v in fw.evidence["network_rules"])
    # the same logs against a registry whose public access is off: the fix changes with the rule
    cfg.write_text(json.dumps({"name": "contosoprod", "loginServer": "contosoprod.azurecr.io",
                               "publicNetworkAccess": "Disabled"}))
    (fw2,) = codes(run([str(exports["storage"][0])], Options(acr_config=_acr(cfg))), "LOGS_FIREWALL_DENIALS")
    assert "public network access is Disabled" in fw2.cause and "private endpoint" in fw2.fix
    # and against rules that now admit the range
    cfg.write_text(json.dumps({"name": "contosoprod", "loginServer": "contosoprod.azurecr.io",
                               "networkRuleSet": {"defaultAction": "Deny",
                                                  "ipRules": [{"ipAddressOrRange": "20.61.5.0/24"}]}}))
    (fw3,) = codes(run([str(exports["storage"][0])], Options(acr_config=_acr(cfg))), "LOGS_FIREWALL_DENIALS")
    assert "current rules admit them" in fw3.cause and "nothing needs adding" in fw3.fix


def test_server_errors_permission_and_not_found(tmp_path: Path) -> None:
    recs = [login("20.1.1.1", "200", t=f"2024-05-06T09:{m:02d}:00Z", identity=f"u{m}@contoso.com") for m in range(60)]
    recs += [login("20.1.1.2", "503", t=f"2024-05-06T10:0{i % 5}:{i:02d}Z", region="eastus", correlationId=f"c-{i}")
             for i in range(30)]
    repo = {"category": "ContainerRegistryRepositoryEvents", "repository": "app/api", "tag": "v2"}
    recs += [login("20.1.1.3:40000", "403", t=f"2024-05-06T11:00:0{i}Z", operationName="Push",
                   identity="reader-sp", **repo) for i in range(4)]
    recs += [login("20.1.1.4:40001", "404", t=f"2024-05-06T12:00:0{i}Z", operationName="Pull", **repo)
             for i in range(5)]
    report = run([str(write_lines(tmp_path / "PT1H.json", recs))], Options())
    (srv,) = codes(report, "LOGS_SERVER_ERRORS")
    assert srv.evidence["count"] == 30 and srv.evidence["region"] == "eastus"
    assert srv.evidence["peak_per_minute"] == 6 and len(srv.evidence["correlation_ids"]) == 5
    assert "503" in srv.cause
    (perm,) = codes(report, "LOGS_PERMISSION_DENIED")
    assert perm.evidence["identity"] == "reader-sp" and perm.evidence["role"] == "AcrPush"
    assert "--role AcrPush" in perm.fix and "app/api:v2" in perm.cause
    (nf,) = codes(report, "LOGS_NOT_FOUND")
    assert nf.evidence["repository"] == "app/api" and nf.evidence["count"] == 5
    # repository 403s are not firewall denials
    assert not codes(report, "LOGS_FIREWALL_DENIALS")


def _acr(path: Path) -> Any:
    return parse_registry(json.loads(path.read_text()))
