"""The peers' own proxy test tables (tests/data/peers/*.json), replayed against regdoctor's ports.

One data-driven test per table. A case that regdoctor answers differently on purpose
carries ``"deliberate_difference": "<reason>"``; it must then really differ (strict xfail),
so the mark cannot outlive the difference.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from regdoctor.proxyconf import goidna, goproxy, pyproxy
from regdoctor.proxyconf.gourl import go_url_parse

PEERS = Path(__file__).resolve().parents[1] / "data" / "peers"


def _cases(table: str) -> list[Any]:
    doc = json.loads((PEERS / f"{table}.json").read_text(encoding="utf-8"))
    assert doc["table"] == table and doc["cases"]
    params = []
    for i, case in enumerate(doc["cases"]):
        src = case["source"]
        assert src["repo"] and src["file"] and src["test"] and ("commit" in src), case
        marks = []
        if "deliberate_difference" in case:
            marks.append(pytest.mark.xfail(strict=True, reason=case["deliberate_difference"]))
        params.append(pytest.param(case, id=f"{i}-{src['test']}", marks=marks))
    return params


def _env(pairs: list[list[str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, value in pairs:
        env[name] = value  # an existing name keeps its place, as in os.environ
    return env


def _go_string(decision: goproxy.GoDecision) -> tuple[str, str | None]:
    return (decision.proxy.string() if decision.proxy is not None else "<nil>"), decision.error


@pytest.mark.parametrize("case", _cases("go_httpproxy_test"))
def test_go_httpproxy_table(case: dict[str, Any]) -> None:
    if case["kind"] == "proxy_for_url":
        c = case["cfg"]
        cfg = goproxy.GoConfig(c["HTTPProxy"], c["HTTPSProxy"], c["NoProxy"], c["CGI"])
        assert _go_string(goproxy.go_proxy_for_url(cfg, go_url_parse(case["req"]))) == (case["want"], case["wanterr"])
    elif case["kind"] == "from_environment":
        got = goproxy.go_config_from_env(_env(case["env"]))
        w = case["want"]
        assert (got.http_proxy, got.https_proxy, got.no_proxy, got.cgi) == (
            w["HTTPProxy"], w["HTTPSProxy"], w["NoProxy"], w["CGI"])
    else:
        assert case["kind"] == "use_proxy"
        use = goproxy.go_use_proxy(goproxy.go_compile_no_proxy(case["no_proxy"]), case["addr"])
        assert use.use is case["want"]


@pytest.mark.parametrize("case", _cases("go_net_http_proxy_env_test"))
def test_go_net_http_table(case: dict[str, Any]) -> None:
    cfg = goproxy.go_config_from_env(_env(case["env"]))
    assert _go_string(goproxy.go_proxy_for_url(cfg, go_url_parse(case["req"]))) == (case["want"], case["wanterr"])


@pytest.mark.parametrize("case", _cases("go_idna_lookup_test"))
def test_go_idna_lookup_table(case: dict[str, Any]) -> None:
    if case["want_err"]:
        with pytest.raises(goidna.GoIDNAError):
            goidna.lookup_to_ascii(case["unicode"])
    else:
        assert goidna.lookup_to_ascii(case["unicode"]) == case["want_ascii"]


@pytest.mark.parametrize("case", _cases("cpython_urllib_proxy_test"))
def test_cpython_urllib_table(case: dict[str, Any]) -> None:
    kind = case["kind"]
    if kind == "parse_proxy":
        if "want_error" in case:
            with pytest.raises(ValueError):
                pyproxy.parse_proxy(case["value"])
        else:
            assert list(pyproxy.parse_proxy(case["value"])) == case["want"]
        return
    env = _env(case["env"])
    if kind == "getproxies_environment":
        got = pyproxy.getproxies_environment(env)
        if "expect_exact" in case:
            assert got == case["expect_exact"]
        for key, value in case.get("expect_items", {}).items():
            assert got[key] == value
        for key in case.get("expect_absent", []):
            assert key not in got
    elif kind == "proxy_bypass_environment":
        proxies = pyproxy.getproxies_environment(env)
        assert pyproxy.proxy_bypass_environment(case["host"], proxies) is case["want"]
    else:
        assert kind == "proxy_handler"
        d = pyproxy.urllib_proxy_for(env, case["url"], case["proxies"])
        url_host = case["url"].split("//", 1)[1].split("/", 1)[0]
        assert (d.hostport if d.proxy is not None else url_host) == case["want_host"]


@pytest.mark.parametrize("case", _cases("requests_proxy_test"))
def test_requests_table(case: dict[str, Any]) -> None:
    kind = case["kind"]
    if kind == "is_ipv4_address":
        assert pyproxy.is_ipv4_address(case["value"]) is case["want"]
    elif kind == "is_valid_cidr":
        assert pyproxy.is_valid_cidr(case["value"]) is case["want"]
    elif kind == "address_in_network":
        assert pyproxy.address_in_network(case["ip"], case["net"]) is case["want"]
    elif kind == "select_proxy":
        assert pyproxy.select_proxy(case["url"], case["proxies"])[0] == case["want"]
    elif kind == "get_environ_proxies":
        got = pyproxy.get_environ_proxies(_env(case["env"]), case["url"], case["no_proxy"])
        assert (got == {}) is case["want_empty"]
    elif kind == "should_bypass_proxies":
        got = pyproxy.should_bypass_proxies(_env(case["env"]), case["url"], case["no_proxy"])
        assert got.bypass is case["want"]
    else:
        assert kind == "proxy_bypass_called_with"
        got = pyproxy.should_bypass_proxies(_env(case["env"]), case["url"], case["no_proxy"])
        assert got.hostname == case["want_hostname"]
