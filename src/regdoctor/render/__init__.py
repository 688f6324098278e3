"""Renderers: text (rich), json, markdown, junit. Colours and formats live only here.

Every function returns a string; the CLI prints it. JSON documents follow SPEC's contract:
``"schema": 1`` and ``"tool": "regdoctor"`` first, additive changes only.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from regdoctor.model import Finding, Report, endpoint_to_dict, finding_to_dict, findings_sorted

if TYPE_CHECKING:
    from regdoctor.kb import CodeInfo
    from regdoctor.render.lines import Terminal

SCHEMA = 1


def document(**body: Any) -> str:
    """Any ``--json`` document: ``schema`` and ``tool`` first, then ``body`` in order."""
    return json.dumps({"schema": SCHEMA, "tool": "regdoctor", **body}, indent=2, ensure_ascii=False,
                      default=str) + "\n"


_doc = document


def report_dict(report: Report) -> dict[str, Any]:
    """The ``check --json`` document as a dict (``serve`` keeps it and ``fleet`` reads it)."""
    node = {"node": report.node.as_dict()} if report.node is not None else {}
    return {
        "schema": SCHEMA,
        "tool": "regdoctor",
        "status": report.status,
        "targets": list(report.targets),
        **node,
        "elapsed_ms": round(report.elapsed_ms, 1),
        "endpoints": [endpoint_to_dict(e) for e in report.endpoints],
        "findings": [finding_to_dict(f) for f in findings_sorted(report.findings)],
    }


def report_json(report: Report, *, compact: bool = False) -> str:
    """The ``check --json`` document; ``compact``: on one line (JSON Lines, as ``serve`` logs each round)."""
    doc = report_dict(report)
    if compact:
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
    return json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"


def findings_json(findings: Sequence[Finding], status: str, **extra: Any) -> str:
    """The document of ``explain``, ``acr lint``, ``proxy`` and ``logs`` with ``--json``."""
    return _doc(status=status, **extra, findings=[finding_to_dict(f) for f in findings])


def catalogue_json(entries: Iterable[CodeInfo]) -> str:
    return _doc(codes=[
        {"code": c.code, "layer": c.layer, "severity": c.severity, "title": c.title, "cause": c.cause,
         "fix": c.fix, "docs": c.docs, "az_code": c.az_code, "explains": list(c.explains)}
        for c in entries
    ])


def catalogue_text(entries: Iterable[CodeInfo], *, term: Terminal | None = None) -> str:
    from regdoctor.render.text import render_catalogue

    return render_catalogue(list(entries), term=term)


def code_entries_text(entries: Iterable[CodeInfo], *, term: Terminal | None = None) -> str:
    from regdoctor.render.text import render_code_entries

    return render_code_entries(list(entries), term=term)


def _term(term: Terminal | None, color: bool | None, width: int | None) -> Terminal:
    """``term``, or one made from the older ``color``/``width`` arguments (plain, 100 columns)."""
    from regdoctor.render.lines import Terminal

    if term is not None:
        return term
    return Terminal(color=bool(color), width=width or 100, color_system="standard" if color else None)


def report_text(report: Report, *, term: Terminal | None = None, verbose: bool = False, color: bool | None = None,
                width: int | None = None) -> str:
    from regdoctor.render.text import render_report

    return render_report(report, term=_term(term, color, width), verbose=verbose)


def findings_text(findings: Sequence[Finding], *, header: str | None = None, term: Terminal | None = None,
                  keep_order: bool = False, verbose: bool = False, color: bool | None = None,
                  width: int | None = None) -> str:
    from regdoctor.render.text import render_findings

    return render_findings(findings, header=header, term=_term(term, color, width), keep_order=keep_order,
                           verbose=verbose)


def report_markdown(report: Report) -> str:
    from regdoctor.render.markdown import render_report

    return render_report(report)


def findings_markdown(findings: Sequence[Finding], *, header: str, keep_order: bool = False) -> str:
    from regdoctor.render.markdown import render_findings

    return render_findings(findings, header=header, keep_order=keep_order)


def report_junit(report: Report) -> str:
    from regdoctor.render.junit import render_report

    return render_report(report)


def findings_junit(findings: Sequence[Finding], *, suite: str, failing: Collection[str] = ("error", "warning")) -> str:
    from regdoctor.render.junit import render_findings

    return render_findings(findings, suite=suite, failing=failing)


def render_findings(fmt: str, findings: Sequence[Finding], *, header: str, status: str | None = None,
                    extra: Mapping[str, Any] | None = None, keep_order: bool = False, suite: str | None = None,
                    term: Terminal | None = None, verbose: bool = False) -> str:
    """One call for commands whose result is a list of findings (explain, acr lint, …).

    ``keep_order`` keeps the caller's order (``explain`` ranks by confidence); otherwise root
    causes come first, then by severity. ``suite`` names the JUnit suite (the command and its
    subject; default ``header``); ``term`` is where text goes (colour, width)."""
    findings = list(findings) if keep_order else findings_sorted(findings)
    if status is None:
        status = "problems" if any(f.severity in ("error", "warning") for f in findings) else "ok"
    if fmt == "json":
        return findings_json(findings, status, **dict(extra or {}))
    if fmt == "markdown":
        return findings_markdown(findings, header=header, keep_order=keep_order)
    if fmt == "junit":
        return findings_junit(findings, suite=suite or header)
    return findings_text(findings, header=header, keep_order=keep_order, term=term, verbose=verbose)


def render_report(fmt: str, report: Report, *, term: Terminal | None = None, verbose: bool = False) -> str:
    if fmt == "json":
        return report_json(report)
    if fmt == "markdown":
        return report_markdown(report)
    if fmt == "junit":
        return report_junit(report)
    return report_text(report, term=term, verbose=verbose)


__all__ = [
    "SCHEMA", "catalogue_json", "catalogue_text", "code_entries_text", "document", "findings_json",
    "findings_markdown", "findings_text",
    "render_findings", "render_report", "report_dict", "report_json", "report_markdown", "report_text",
]
