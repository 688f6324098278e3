"""``--format junit``: for CI dashboards, with failures that agree with the exit code.

Strategy
--------
A CI job fails on regdoctor's exit code, and its dashboard shows the JUnit failures; the two
must tell the same story. Exit 1 means "an error or a warning was found", so **the failures are
exactly the error and warning findings**, one ``<failure>`` each, whatever the command:

- one ``<testsuite>`` named for the command and its subject (``regdoctor check r.io/app:1``,
  ``regdoctor explain stdin``, ``regdoctor acr lint r.azurecr.io``);
- ``check``: one test case per step that ran, ``classname`` ``host:port.layer`` (the port
  matters: two registries on one host are two endpoints). The finding a step produced is that
  step's ``<failure>``; findings no step produced (a data endpoint named as the root cause of
  another endpoint's failure, a broken credential file) get a case of their own. Skipped steps
  are ``<skipped>``. Info findings (notes) never fail; they are ``<system-out>``.
- the commands whose result is a list of findings: one case per finding, ``classname`` the
  code (``host`` and title in the name).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from xml.etree import ElementTree as ET

from regdoctor.model import Finding, Report, findings_sorted

#: the severities that set exit 1 (SPEC "Exit codes": problems found)
FAILING: tuple[str, ...] = ("error", "warning")


def _fail(case: ET.Element, f: Finding) -> None:
    role = "root cause" if f.root_cause else (f"consequence of {f.consequence_of}" if f.consequence_of else f.severity)
    ET.SubElement(case, "failure", message=f"{f.code}: {f.title}", type=f.code).text = \
        f"{f.severity}, {role}{' at ' + f.host if f.host else ''}\n{f.cause}\nFix: {f.fix}"


def _note(case: ET.Element, f: Finding) -> None:
    ET.SubElement(case, "system-out").text = f"{f.severity} {f.code}: {f.cause}\nFix: {f.fix}"


def _suite(parent: ET.Element, name: str, cases: list[ET.Element], failures: int, skipped: int = 0) -> None:
    suite = ET.SubElement(parent, "testsuite", name=name, tests=str(len(cases)), failures=str(failures),
                          errors="0", skipped=str(skipped))
    suite.extend(cases)
    parent.set("tests", str(sum(int(s.get("tests", "0")) for s in parent)))
    parent.set("failures", str(sum(int(s.get("failures", "0")) for s in parent)))


def render_report(report: Report) -> str:
    """``check --format junit``: steps as cases, the error and warning findings as the failures."""
    name = f"regdoctor check {' '.join(report.targets)}".strip()
    suites = ET.Element("testsuites", name=name)
    findings = findings_sorted(report.findings)
    left = list(findings)
    cases: list[ET.Element] = []
    failures = skipped = 0
    for e in report.endpoints:
        for s in e.steps:
            case = ET.Element("testcase", classname=f"{e.address}.{s.layer}", name=s.name,
                              time=f"{s.elapsed_ms / 1000:.3f}")
            cases.append(case)
            if s.status == "skip":
                ET.SubElement(case, "skipped", message=s.summary)
                skipped += 1
                continue
            match = next((f for f in left if s.code is not None and f.code == s.code and f.host == e.host), None)
            if match is None:
                if s.status != "pass":
                    ET.SubElement(case, "system-out").text = f"{s.status.upper()} {s.code or ''}: {s.summary}"
                continue
            left.remove(match)
            if match.severity in FAILING:
                _fail(case, match)
                failures += 1
            else:
                _note(case, match)
    ports = {e.host: e.port for e in reversed(report.endpoints)}
    for f in left:
        where = f"{f.host}:{ports[f.host]}.{f.layer}" if f.host in ports else str(f.code)
        case = ET.Element("testcase", classname=where, name=f"{f.code} {f.host or ''}".strip())
        cases.append(case)
        if f.severity in FAILING:
            _fail(case, f)
            failures += 1
        else:
            _note(case, f)
    if not cases:
        cases.append(ET.Element("testcase", classname="regdoctor.check", name="no endpoint checked"))
    _suite(suites, name, cases, failures, skipped)
    return ET.tostring(suites, encoding="unicode") + "\n"


def render_findings(findings: Sequence[Finding], *, suite: str, failing: Collection[str] = FAILING) -> str:
    """One case per finding, ``classname`` its code; those of a ``failing`` severity fail.

    >>> render_findings([], suite="regdoctor acr lint r.azurecr.io").count('failures="0"')
    2
    """
    suites = ET.Element("testsuites", name=suite)
    cases: list[ET.Element] = []
    failures = 0
    for f in findings:
        case = ET.Element("testcase", classname=str(f.code), name=f"{f.host}: {f.title}" if f.host else f.title)
        cases.append(case)
        if f.severity in failing:
            _fail(case, f)
            failures += 1
        else:
            _note(case, f)
    if not cases:
        cases.append(ET.Element("testcase", classname="regdoctor", name="no problems found"))
    _suite(suites, suite, cases, failures)
    return ET.tostring(suites, encoding="unicode") + "\n"


__all__ = ["FAILING", "render_findings", "render_report"]
