from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import regdoctor
from regdoctor import render
from regdoctor.diagnose import diagnose
from regdoctor.model import EndpointResult, Report, Step


def _report() -> Report:
    e = EndpointResult(host="r.io", port=443, role="registry", steps=(
        Step("dns", "resolve", "pass", 1.0, "10.0.0.1"),
        Step("tcp", "connect", "fail", 3000.0, "dial tcp 10.0.0.1:443: i/o timeout", "TCP_TIMEOUT",
             {"address": "10.0.0.1", "port": 443, "timeout_s": 3.0}),
        Step("tls", "handshake", "skip", 0.0, "not run"),
    ))
    return Report(targets=("r.io",), endpoints=(e,), findings=tuple(diagnose([e])), elapsed_ms=3001.0)


def test_json_contract() -> None:
    doc = json.loads(render.report_json(_report()))
    assert (doc["schema"], doc["tool"], doc["status"]) == (1, "regdoctor", "problems")
    [ep] = doc["endpoints"]
    assert {"host", "port", "role", "steps"} <= set(ep)
    assert {"layer", "name", "status", "elapsed_ms", "evidence"} <= set(ep["steps"][0])
    [f] = doc["findings"]
    assert {"code", "layer", "host", "root_cause", "title", "cause", "fix", "evidence", "docs", "az_code"} <= set(f)
    assert f["root_cause"] is True and f["code"] == "TCP_TIMEOUT"


def test_text_markdown_junit() -> None:
    r = _report()
    text = render.report_text(r, color=False)
    assert "TCP_TIMEOUT" in text and "root cause" in text and "FAIL" in text
    md = render.report_markdown(r)
    assert "| **FAIL** | tcp | connect |" in md and "`TCP_TIMEOUT`" in md
    root = ET.fromstring(render.report_junit(r))
    assert root.find(".//failure") is not None


def test_findings_document() -> None:
    doc = json.loads(render.render_findings("json", list(_report().findings), header="x", extra={"entities": {}}))
    assert doc["schema"] == 1 and doc["status"] == "problems" and doc["entities"] == {}


def test_public_api_is_curated() -> None:
    assert sorted(regdoctor.__all__) == sorted(
        ["EndpointResult", "Finding", "Report", "Step", "Target", "__version__", "check", "diagnose", "explain",
         "parse_target"])
    for name in regdoctor.__all__:
        assert getattr(regdoctor, name) is not None
