"""``--format junit``: one test case per step (check) or per finding, for CI dashboards."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from xml.etree import ElementTree as ET

from regdoctor.model import Finding, Report


def render_report(report: Report) -> str:
    suites = ET.Element("testsuites", name="regdoctor check")
    for e in report.endpoints:
        suite = ET.SubElement(suites, "testsuite", name=f"{e.host}:{e.port} ({e.role})",
                              tests=str(len(e.steps)),
                              failures=str(sum(s.status == "fail" for s in e.steps)),
                              skipped=str(sum(s.status == "skip" for s in e.steps)))
        for s in e.steps:
            case = ET.SubElement(suite, "testcase", classname=f"{e.host}.{s.layer}", name=s.name,
                                 time=f"{s.elapsed_ms / 1000:.3f}")
            if s.status == "fail":
                ET.SubElement(case, "failure", message=f"{s.code}: {s.summary}", type=s.code or "fail")
            elif s.status == "skip":
                ET.SubElement(case, "skipped", message=s.summary)
            elif s.status == "warn":
                ET.SubElement(case, "system-out").text = f"WARN {s.code}: {s.summary}"
    _diagnosis_suite(suites, report.findings, "diagnosis")
    return ET.tostring(suites, encoding="unicode") + "\n"


def _diagnosis_suite(parent: ET.Element, findings: Sequence[Finding], name: str,
                     failing: Collection[str] = ("error",)) -> None:
    suite = ET.SubElement(parent, "testsuite", name=name, tests=str(max(len(findings), 1)),
                          failures=str(sum(f.severity in failing for f in findings)))
    if not findings:
        ET.SubElement(suite, "testcase", classname=name, name="no problems found")
    for f in findings:
        case = ET.SubElement(suite, "testcase", classname=f"{name}.{f.layer}", name=f"{f.code} {f.host or ''}".strip())
        if f.severity in failing:
            ET.SubElement(case, "failure", message=f.title, type=f.code).text = f"{f.cause}\nFix: {f.fix}"
        else:
            ET.SubElement(case, "system-out").text = f"{f.severity}: {f.cause}\nFix: {f.fix}"


def render_findings(findings: Sequence[Finding], *, suite: str, failing: Collection[str] = ("error",)) -> str:
    """One test case per finding; those of a ``failing`` severity are failures (the ones that set exit 1)."""
    suites = ET.Element("testsuites", name=suite)
    _diagnosis_suite(suites, findings, suite, failing)
    return ET.tostring(suites, encoding="unicode") + "\n"
