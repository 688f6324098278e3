"""`regdoctor fleet`: reading reports from files and kubectl log streams, grouping nodes by cause and label,
and `check --node/--label/--npd` (no sockets except loopback closed ports through the real CLI)."""

from __future__ import annotations

import doctest
import gzip
import json
import time
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from click.testing import CliRunner

from regdoctor.cli import cli
from regdoctor.fleet import ingest, merge, node
from regdoctor.fleet.ingest import collect, read_stream
from regdoctor.fleet.merge import merge as merge_reports
from regdoctor.model import EndpointResult, Finding, NodeInfo, Report, Step
from regdoctor.render import npd as npd_render
from regdoctor.render import report_dict, report_json
from regdoctor.render.fleet import render_fleet
from regdoctor.render.npd import npd_verdict

DATA = "myreg.westeurope.data.azurecr.io"
REG = "myreg.azurecr.io"


@pytest.mark.parametrize("module", [ingest, merge, node, npd_render])
def test_doctests(module: Any) -> None:
    assert doctest.testmod(module).failed == 0


def _finding(code: str, layer: str, host: str, root: bool = True, severity: str = "error") -> Finding:
    return Finding(code=code, layer=layer, host=host, root_cause=root, severity=severity,  # type: ignore[arg-type]
                   title=f"title of {code}", cause="c", fix="f", evidence={}, docs=None, az_code=None)


def report(name: str, labels: dict[str, str], fault: str | None) -> Report:
    """A report as `check` builds it: the registry passes; the data endpoint fails as `fault` says."""
    ok = lambda layer, n: Step(layer=layer, name=n, status="pass", elapsed_ms=1.0)  # noqa: E731
    reg = EndpointResult(host=REG, port=443, role="registry", steps=(
        ok("dns", "resolve"), ok("tcp", "connect"), ok("tls", "handshake"), ok("http", "GET /v2/"),
        ok("auth", "token"), ok("registry", "manifest")))
    findings: tuple[Finding, ...] = ()
    data_steps = [ok("dns", "resolve")]
    if fault == "tcp":
        data_steps += [Step("tcp", "connect", "fail", 1500.0, code="TCP_TIMEOUT"),
                       Step("tls", "handshake", "skip", 0.0), Step("http", "GET /", "skip", 0.0)]
        findings = (_finding("DATA_ENDPOINT_BLOCKED", "data", DATA), _finding("TCP_TIMEOUT", "tcp", DATA, False))
    elif fault == "proxy":
        data_steps += [ok("tcp", "connect proxy"), Step("proxy", "CONNECT", "fail", 2.0, code="PROXY_DENIED"),
                       Step("tls", "handshake", "skip", 0.0)]
        findings = (_finding("DATA_ENDPOINT_BLOCKED", "data", DATA), _finding("PROXY_DENIED", "proxy", DATA, False))
    elif fault == "dns":
        reg = EndpointResult(host=REG, port=443, role="registry", steps=(
            Step("dns", "resolve", "fail", 1.0, code="DNS_RESOLVER_UNREACHABLE"), Step("tcp", "connect", "skip", 0.0)))
        findings = (_finding("DNS_RESOLVER_UNREACHABLE", "dns", REG),)
        data_steps = []
    elif fault == "warn":
        data_steps += [ok("tcp", "connect"), Step("tls", "handshake", "warn", 3.0, code="TLS_EXPIRES_SOON")]
        findings = (_finding("TLS_EXPIRES_SOON", "tls", DATA, severity="warning"),)
    else:
        data_steps += [ok("tcp", "connect"), ok("tls", "handshake"), ok("http", "GET /")]
    endpoints = [reg] + ([EndpointResult(host=DATA, port=443, role="data", steps=tuple(data_steps))]
                         if data_steps else [])
    return Report(targets=(f"{REG}/app:1",), endpoints=tuple(endpoints), findings=findings,
                  node=NodeInfo(name, tuple(sorted(labels.items()))))


def fleet40() -> list[Report]:
    """40 nodes: pool np2 (7 nodes, zone 3) drops the data endpoint; one np1 node has broken DNS."""
    out = []
    for i in range(40):
        pool = "np2" if i < 7 else "np1"
        zone = "3" if i < 7 or i % 3 == 0 else str(1 + i % 2)
        fault = "tcp" if pool == "np2" else ("dns" if i == 20 else None)
        out.append(report(f"aks-{pool}-{i:04d}", {"pool": pool, "zone": zone}, fault))
    return out


def test_the_pool_that_drops_the_data_endpoint_is_named() -> None:
    text = "".join(report_json(r, compact=True) for r in fleet40())
    v = merge_reports(collect([("stdin", text)]))
    assert (len(v.nodes), v.count("ok"), v.count("problems")) == (40, 32, 8)
    top = v.groups[0]
    assert top.summary == (f"7 of 40 nodes (pool np2, zone 3) fail at tcp to {DATA} "
                           "(DATA_ENDPOINT_BLOCKED via TCP_TIMEOUT), every node of pool np2")
    assert top.cause.role == "data" and len(top.nodes) == 7
    assert v.groups[1].summary.startswith(f"1 of 40 nodes (pool np1, zone 1) fail at dns to {REG}")
    pools = {(lg.key, lg.value): lg for lg in v.by_label}
    assert (pools["pool", "np2"].ok, pools["pool", "np2"].problems) == (0, 7)
    assert pools["pool", "np1"].problems == 1
    row = next(r for r in v.matrix if r.endpoint == f"{DATA}:443")
    assert dict(row.layers)["tcp"] == {"pass": 32, "warn": 0, "fail": 7, "skip": 0}


def test_same_code_different_mechanism_are_two_groups() -> None:
    reports = [report("n1", {"pool": "a"}, "tcp"), report("n2", {"pool": "a"}, "tcp"),
               report("n3", {"pool": "b"}, "proxy")]
    v = merge_reports(collect([("x", "".join(report_json(r, compact=True) for r in reports))]))
    assert [(g.cause.broke_at, len(g.nodes)) for g in v.groups] == [("tcp", 2), ("proxy", 1)]
    assert "fail at proxy to" in v.groups[1].summary and "PROXY_DENIED" in v.groups[1].summary


def test_warnings_count_as_problems_and_say_warn() -> None:
    v = merge_reports(collect([("x", report_json(report("n1", {}, "warn")))]))
    assert v.status == "problems" and v.groups[0].summary.startswith("1 of 1 node warn at tls to")


def test_kubectl_logs_with_prefix_timestamps_and_interleaved_pretty_documents() -> None:
    a = report_json(report("node-a", {"pool": "np1"}, None)).splitlines()
    b = report_json(report("node-b", {"pool": "np2"}, "tcp")).splitlines()
    lines = ["[pod/rd-aaaa/regdoctor] 2026-01-02T03:04:05.123456789Z regdoctor serve: listening"]
    for i in range(max(len(a), len(b))):  # two pods' lines interleaved, as a merged stream can be
        if i < len(a):
            lines.append(f"[pod/rd-aaaa/regdoctor] 2026-01-02T03:04:05.1Z {a[i]}")
        if i < len(b):
            lines.append(f"[pod/rd-bbbb/regdoctor] {b[i]}")
    lines += ["[pod/rd-bbbb/regdoctor] Traceback (most recent call last):", "random noise {not json}"]
    got = collect([("stdin", "\n".join(lines))])
    assert sorted(r.node for r in got.reports) == ["node-a", "node-b"]
    assert got.skipped_lines == 3 and not got.rejected


def test_any_prefix_before_a_one_line_document() -> None:
    line = report_json(report("n1", {}, None), compact=True).strip()
    got = collect([("log", f"Jan 01 10:00:00 host regdoctor[123]: {line}\n")])
    assert [r.node for r in got.reports] == ["n1"]


def test_rejected_documents_say_why() -> None:
    explain = json.dumps({"schema": 1, "tool": "regdoctor", "status": "ok", "findings": []})
    newer = json.dumps({"schema": 2, "tool": "regdoctor", "status": "ok", "endpoints": [], "findings": []})
    other = json.dumps({"kind": "Pod"})
    bad_name = json.dumps({"schema": 1, "tool": "regdoctor", "status": "ok", "endpoints": [], "findings": [],
                           "node": {"name": "a b"}})
    deep = "[" * 100_000 + "]" * 100_000
    got = collect([("s", "\n".join([explain, newer, other, bad_name, '{"x": ' + deep + "}"]))])
    reasons = [why for _, why in got.rejected]
    assert any("without endpoints" in r for r in reasons)
    assert any("schema 2 is newer" in r for r in reasons)
    assert any("not a regdoctor document" in r for r in reasons)
    assert any("not a Kubernetes node name" in r for r in reasons)
    assert any("nested deeper than" in r for r in reasons)
    assert not got.reports


def test_nameless_reports_are_named_after_pod_or_file() -> None:
    doc = json.dumps({"schema": 1, "tool": "regdoctor", "status": "ok", "endpoints": [], "findings": []})
    got = collect([("stdin", f"[pod/regdoctor-x7k2p/regdoctor] {doc}"), ("/r/aks-np1-3.json", doc)])
    assert [r.node for r in got.reports] == ["regdoctor-x7k2p", "aks-np1-3"]


def test_hostile_streams_stay_linear() -> None:
    t0 = time.monotonic()
    for text in ["{" * 2_000_000, "{\n" + '  "a": 1,\n' * 200_001 + "}", '{"' * 500_000 + "}",
                 "\n".join(["{"] * 100_000)]:
        read_stream(text, "x")
    assert time.monotonic() - t0 < 10


def test_later_report_of_a_node_wins() -> None:
    old, new = report("n1", {}, "tcp"), report("n1", {}, None)
    got = collect([("s", report_json(old, compact=True) + report_json(new, compact=True))])
    assert got.superseded == 1 and merge_reports(got).status == "ok"


def test_formats() -> None:
    v = merge_reports(collect([("s", "".join(report_json(r, compact=True) for r in fleet40()))]))
    doc = json.loads(render_fleet("json", v))
    assert (doc["schema"], doc["tool"], doc["status"], doc["nodes_total"]) == (1, "regdoctor", "problems", 40)
    assert doc["groups"][0]["broke_at"] == {"layer": "tcp", "code": "TCP_TIMEOUT"}
    junit = ET.fromstring(render_fleet("junit", v))
    suite = junit.find("testsuite")
    assert suite is not None and suite.get("tests") == "40" and suite.get("failures") == "8"
    md = render_fleet("markdown", v)
    assert "| 7 | 7 of 40 nodes (pool np2, zone 3)" in md
    text = render_fleet("text", v)
    assert "7 of 40 nodes (pool np2, zone 3) fail at tcp" in text and "pool np2: 0/7 ok" in text


def test_fleet_cli_files_dirs_stdin_gz(tmp_path: Any) -> None:
    reports = fleet40()[:9]
    for r in reports[:4]:
        (tmp_path / f"{r.node.name}.json").write_text(report_json(r))  # type: ignore[union-attr]
    with gzip.open(tmp_path / "more.jsonl.gz", "wt") as fh:
        fh.write("".join(report_json(r, compact=True) for r in reports[4:8]))
    stdin = report_json(reports[8], compact=True)
    res = CliRunner().invoke(cli, ["fleet", str(tmp_path), "-", "--json"], input=stdin)
    assert res.exit_code == 1, res.output
    doc = json.loads(res.output)
    assert doc["nodes_total"] == 9 and doc["nodes_problems"] == 7


def test_fleet_cli_bad_input() -> None:
    runner = CliRunner()
    res = runner.invoke(cli, ["fleet", "-"], input="just noise\nmore noise\n")
    assert res.exit_code == 2 and "no regdoctor check report" in res.output and "Traceback" not in res.output
    res = runner.invoke(cli, ["fleet", "/nonexistent/x.json"])
    assert res.exit_code == 2 and "no such file" in res.output
    res = runner.invoke(cli, ["fleet"])
    assert res.exit_code == 2


def test_all_healthy_exit_0() -> None:
    res = CliRunner().invoke(cli, ["fleet", "-"], input=report_json(report("n1", {"pool": "a"}, None)))
    assert res.exit_code == 0 and "Every node reached every endpoint." in res.output


# ---------------------------------------------------------------------- check --node / --label / --npd


def test_check_node_object_is_additive() -> None:
    res = CliRunner().invoke(cli, ["check", "127.0.0.1:1", "--json", "--timeout", "0.5", "--node", "aks-np1-0",
                                   "--label", "pool=np1", "--label", "topology.kubernetes.io/zone=westeurope-3",
                                   "--label", "empty="])
    doc = json.loads(res.output)
    assert list(doc)[:2] == ["schema", "tool"] and res.exit_code == 1
    labels = {"pool": "np1", "topology.kubernetes.io/zone": "westeurope-3"}
    assert doc["node"] == {"name": "aks-np1-0", "labels": labels}
    plain = report_dict(Report(targets=(), endpoints=(), findings=()))
    assert "node" not in plain  # without --node the document is as before


@pytest.mark.parametrize("args, message", [
    (["--node", "not a node"], "--node"),
    (["--label", "novalue"], "KEY=VALUE"),
    (["--label", "bad key=1"], "not a label key"),
    (["--label", "k=" + "x" * 64], "at most 63"),
    (["--label", "k=1", "--label", "k=2"], "twice"),
])
def test_check_node_label_validation(args: list[str], message: str) -> None:
    res = CliRunner().invoke(cli, ["check", "127.0.0.1:1", *args])
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output


def test_npd_problem_line_and_exit() -> None:
    res = CliRunner().invoke(cli, ["check", "127.0.0.1:1", "--npd", "--timeout", "0.5"])
    assert res.exit_code == 1
    assert res.output == "RegistryUnreachable: TCP_REFUSED tcp 127.0.0.1:1\n"


def test_npd_bad_usage_and_crash_are_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    res = CliRunner().invoke(cli, ["check", "--npd", "--label", "x"])
    assert res.exit_code == 2 and res.stdout.startswith("Unknown: ") and len(res.stdout.strip()) <= 80

    from regdoctor.probe import run

    def boom(*a: Any, **k: Any) -> Report:
        raise RuntimeError("a bug")

    monkeypatch.setattr(run, "run_jobs", boom)
    res = CliRunner().invoke(cli, ["check", "127.0.0.1:1", "--npd"])
    assert res.exit_code == 2 and res.stdout.startswith("Unknown: regdoctor failed: RuntimeError")


def test_npd_lines_fit_max_output_length() -> None:
    long_host = "averyveryverylongregistryname" * 3 + ".westeurope.data.azurecr.io"
    r = Report(targets=("x",), endpoints=(EndpointResult(host=long_host, port=443, role="data"),),
               findings=(_finding("DATA_ENDPOINT_BLOCKED", "data", long_host),
                         _finding("TLS_UNKNOWN_CA", "tls", "other.io")))
    for limit in (40, 80, 200):
        v = npd_verdict(r, max_length=limit)
        assert v.status == 1 and len(v.line) <= limit and v.line.startswith("RegistryUnreachable: DATA_ENDPOINT")
    assert npd_verdict(r, 200).line.endswith("(+1 more)")
    soon = _finding("TLS_EXPIRES_SOON", "tls", "h", severity="warning")
    warn = Report(targets=("x",), endpoints=(), findings=(soon,))
    assert npd_verdict(warn).status == 0 and "warning TLS_EXPIRES_SOON" in npd_verdict(warn).line
    crash = Report(targets=("x",), endpoints=(), findings=(_finding("CLIENT_INTERNAL_ERROR", "client", "h"),))
    assert npd_verdict(crash).status == 2
    auth = Report(targets=("x",), endpoints=(), findings=(_finding("AUTH_BAD_CREDENTIALS", "auth", "h"),))
    assert npd_verdict(auth).line.startswith("RegistryAuthFailed: ")
