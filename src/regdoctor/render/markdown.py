"""``--format markdown``: a report to paste into a ticket."""

from __future__ import annotations

from collections.abc import Sequence

from regdoctor.model import Finding, Report, findings_sorted

_ICON = {"pass": "PASS", "warn": "WARN", "fail": "**FAIL**", "skip": "skip"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _findings(findings: Sequence[Finding], keep_order: bool = False, level: int = 3) -> list[str]:
    out: list[str] = []
    for i, f in enumerate(findings if keep_order else findings_sorted(findings), 1):
        role = f.role + (f" of `{f.alternative_of}`" if f.alternative_of else "")
        out += [
            f"{'#' * level} {i}. `{f.code}` — {f.title}",
            "",
            f"- **Layer:** {f.layer} ({role}, {f.severity}){f' — host `{f.host}`' if f.host else ''}",
            f"- **Why:** {f.cause}",
            f"- **Fix:** {f.fix}",
        ]
        if f.confirm:
            out.append(f"- **Confirm:** `{f.confirm}`")
        if f.confidence is not None:
            out.append(f"- **Confidence:** {f.confidence:.0%}")
        if f.az_code:
            out.append(f"- **az acr check-health code:** `{f.az_code}`")
        if f.docs:
            out.append(f"- **Docs:** {f.docs}")
        out.append("")
    return out


def render_report(report: Report) -> str:
    """The verdict first, as in the terminal: the diagnosis, then every endpoint's steps.

    Headings nest (## the check, ### Diagnosis and Endpoints, #### each finding or endpoint),
    so a ticket's outline reads as the report does."""
    lines = [f"## regdoctor check `{' '.join(report.targets)}`", "",
             f"**Status:** {report.status} ({report.elapsed_ms / 1000:.2f} s)", "", "### Diagnosis", ""]
    lines += _findings(report.findings, level=4) if report.findings else ["Healthy: every layer passed.", ""]
    lines += ["### Endpoints", ""]
    for e in report.endpoints:
        lines += [f"#### `{e.address}` ({e.role})", "", "| status | layer | step | ms | result | code |",
                  "|---|---|---|---:|---|---|"]
        for s in e.steps:
            lines.append(f"| {_ICON[s.status]} | {s.layer} | {s.name} | {s.elapsed_ms:.0f} | {_cell(s.summary)} | "
                         f"{s.code or ''} |")
        lines.append("")
    return "\n".join(lines)


def render_findings(findings: Sequence[Finding], *, header: str, keep_order: bool = False) -> str:
    lines = [f"## {header}", ""]
    lines += _findings(findings, keep_order) if findings else ["No problems found.", ""]
    return "\n".join(lines)
