"""`regdoctor logs` pure parts: column names, user agents (Python and SQL agree), times, KQL, helpers."""

from __future__ import annotations

import doctest
import importlib
import ipaddress
from datetime import datetime

import pytest

from regdoctor.logs import fields, findings, kql, timespec, useragent


@pytest.mark.parametrize("module", ["fields", "useragent", "timespec", "kql", "findings", "readers", "analysis",
                                    "network", "sources", "report", "engine"])
def test_doctests(module: str) -> None:
    mod = importlib.import_module(f"regdoctor.logs.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_names_match_in_any_case_and_with_units() -> None:
    m = fields.match(["TIMEGENERATED [UTC]", "resultdescription", "Caller IP Address", "user_agent", "TableName"])
    assert m["time"] == ("TIMEGENERATED [UTC]",)
    assert m["result"] == ("resultdescription",)
    assert m["caller_ip"] == ("Caller IP Address",)
    assert m["user_agent"] == ("user_agent",)
    assert m["category"] == ("TableName",)
    assert fields.missing_required(fields.match(["Identity"])) == ["TimeGenerated", "ResultDescription"]


REAL_AGENTS = [
    ("docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/5.15.0-1052-azure os/linux arch/amd64 "
     "UpstreamClient(Docker-Client/24.0.7 \\(linux\\))", "docker", "24.0.7"),
    ("containerd/v1.6.26-azure", "containerd", "1.6.26-azure"),
    ("containerd/1.7.15-1", "containerd", "1.7.15-1"),
    ("containers/5.29.2 (github.com/containers/image)", "containers/image", "5.29.2"),
    ("Helm/3.14.2", "helm", "3.14.2"),
    ("oras/1.1.0", "oras", "1.1.0"),
    ("python/3.11.8 (Linux-6.5.0-1017-azure-x86_64-with-glibc2.35) AZURECLI/2.58.0 (DEB)", "az", "2.58.0"),
    ("crane/v0.19.1 go-containerregistry/v0.19.1", "crane", "0.19.1"),
    ("go-containerregistry/v0.16.1", "go-containerregistry", "0.16.1"),
    ("cri-o/1.28.4 go/go1.21.7 os/linux arch/amd64", "cri-o", "1.28.4"),
    ("buildkit/v0.12.5", "buildkit", "0.12.5"),
    ("Go-http-client/1.1", "go-http-client", "1.1"),
    ("curl/8.5.0", "curl", "8.5.0"),
    ("Mozilla/5.0 (X11; Linux x86_64)", "other", None),
    (None, "none", None),
    ("", "none", None),
]


@pytest.mark.parametrize(("ua", "client", "version"), REAL_AGENTS)
def test_user_agent_python(ua: str | None, client: str, version: str | None) -> None:
    assert useragent.parse(ua) == (client, version)


def test_user_agent_sql_agrees_with_python() -> None:
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.execute("CREATE TABLE u (ua VARCHAR)")
    con.executemany("INSERT INTO u VALUES (?)", [(ua,) for ua, _, _ in REAL_AGENTS])
    rows = con.execute(f"SELECT ua, {useragent.sql_client('ua')}, {useragent.sql_version('ua')} FROM u").fetchall()
    for ua, client, version in rows:
        expect = useragent.parse(ua)
        assert (client, version if ua else None) == (expect[0], expect[1] if ua else None), ua


def test_user_agent_regex_is_linear_on_hostile_input() -> None:
    import time

    hostile = "docker/" + "1." * 200_000 + "x" * 200_000
    t = time.perf_counter()
    useragent.parse(hostile)
    useragent.parse("a" * 500_000)
    assert time.perf_counter() - t < 1.0


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-05-06", datetime(2024, 5, 6)),
    ("2024-05-06T12:00:00.1234567Z", datetime(2024, 5, 6, 12, 0, 0, 123456)),
    ("2024-05-06T14:00:00+02:00", datetime(2024, 5, 6, 12, 0)),
    ("90m", datetime(2024, 5, 10, 10, 30)),
    ("7d", datetime(2024, 5, 3, 12, 0)),
    ("2w", datetime(2024, 4, 26, 12, 0)),
    ("PT6H", datetime(2024, 5, 10, 6, 0)),
    ("now", datetime(2024, 5, 10, 12, 0)),
])
def test_times(value: str, expected: datetime) -> None:
    assert timespec.parse_instant(value, datetime(2024, 5, 10, 12, 0)) == expected


@pytest.mark.parametrize("bad", ["yesterday", "24x", "2024-13-01", "", "P"])
def test_bad_times(bad: str) -> None:
    with pytest.raises(timespec.BadTime):
        timespec.parse_instant(bad, datetime(2024, 5, 10))


def test_covering_network() -> None:
    assert findings.covering(["20.61.5.32", "20.61.5.63"]) == "20.61.5.32/27"
    assert findings.covering(["10.0.0.1", "10.0.1.1"]) == "10.0.0.0/23"
    assert findings.covering(["2001:db8::1", "2001:db8::ff"]) == "2001:db8::/120"


def test_identity_kinds() -> None:
    assert findings.identity_kind("3f1e7c2a-5b6d-4e8f-9a0b-1c2d3e4f5a60", "reg") == \
        "service principal or managed identity"
    assert findings.identity_kind("reg", "reg") == "admin user"
    assert findings.identity_kind(None, "reg") == "anonymous"


def test_kql_filters_and_escaping() -> None:
    qs = kql.queries(since_raw="24h", until_raw="2024-05-10T00:00:00Z", until=datetime(2024, 5, 10),
                     identities=['evil") | take 1 //'], networks=[ipaddress.ip_network("20.61.5.0/24"),
                                                                ipaddress.ip_network("2001:db8::/64")])
    text = "\n".join(q.kql for q in qs)
    assert "ago(1d)" in text and "datetime(2024-05-10T00:00:00Z)" in text
    assert '"evil\\") | take 1 //"' in text          # the quote is escaped: still one string literal
    assert 'ipv4_is_in_range(CallerIp, "20.61.5.0/24")' in text
    assert 'ipv6_is_in_range(CallerIp, "2001:db8::/64")' in text
    names = [q.name for q in qs]
    assert {"firewall_denials", "auth_by_identity", "auth_by_address", "throttled", "server_errors",
            "new_addresses", "failures_per_minute", "clients"} <= set(names)
    for q in kql.queries(since_raw="7d", identities=["alice@contoso.com"]):
        assert q.kql.count("(") == q.kql.count(")"), q.name
    assert "ContainerRegistryLoginEvents" in qs[1].kql
