"""``regdoctor logs`` output: the summary of the inputs and events, the findings, the KQL queries.

Takes plain values (``LogsReport`` from ``regdoctor.logs.report``, ``Query`` lists) and returns
strings; the findings themselves use the common renderers, so they look like every command's.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from regdoctor.render import document, findings_json, findings_junit, findings_markdown, findings_text

if TYPE_CHECKING:
    from regdoctor.logs.kql import Query
    from regdoctor.logs.report import LogsReport
    from regdoctor.render.lines import Terminal

#: Inputs listed one per line in text and markdown; beyond, a count per shape (JSON lists all).
_LISTED_INPUTS = 5
_CLASS_NAMES = {"ok": "ok", "auth": "401 auth", "denied": "403 denied", "not_found": "404 not found",
                "throttled": "429 throttled", "server": "5xx server", "client": "other 4xx", "unknown": "no status"}


def _n(value: int) -> str:
    return f"{value:,}"


def _when(report: LogsReport) -> str:
    from regdoctor.logs.findings import iso

    s = report.analysis.summary
    return f"{iso(s.first)} → {iso(s.last)}" if s.first else "no events"


def _summary_rows(report: LogsReport) -> list[tuple[str, str]]:
    from regdoctor.logs.findings import iso

    s = report.analysis.summary
    rows = []
    if len(report.inputs) <= _LISTED_INPUTS:
        for f in report.inputs:
            skipped = f", {_n(f.skipped)} skipped" if f.skipped else ""
            rows.append(("input", f"{f.path}  [{f.shape}]  {_n(f.rows)} rows{skipped}"))
    else:
        # many files (a storage export has one per hour): a count per shape, and the damaged ones
        shapes: dict[str, int] = {}
        for f in report.inputs:
            shapes[f.shape] = shapes.get(f.shape, 0) + 1
        total = sum(f.rows for f in report.inputs)
        skipped_total = sum(f.skipped for f in report.inputs)
        rows.append(("inputs", f"{_n(len(report.inputs))} files ("
                               + ", ".join(f"{k} {_n(v)}" for k, v in shapes.items())
                               + f"), {_n(total)} rows" + (f", {_n(skipped_total)} skipped" if skipped_total else "")))
        damaged = [f for f in report.inputs if f.skipped]
        for f in damaged[:_LISTED_INPUTS]:
            rows.append(("skipped", f"{f.path}: {_n(f.skipped)} of {_n(f.rows + f.skipped)} records"))
        if len(damaged) > _LISTED_INPUTS:
            rows.append(("skipped", f"… and {len(damaged) - _LISTED_INPUTS} more files (--json lists every file)"))
    if report.scope():
        rows.append(("scope", report.scope()))
    rows.append(("events", f"{_n(s.events)} ({_when(report)}), {_n(s.failures)} failed, "
                           f"{_n(s.identities)} identities, {_n(s.ips)} addresses"))
    if s.classes:
        rows.append(("results", ", ".join(f"{_CLASS_NAMES.get(k, k)} {_n(v)}" for k, v in s.classes.items())))
    if s.tables:
        rows.append(("tables", ", ".join(f"{k} {_n(v)}" for k, v in s.tables.items())))
    if s.login_servers:
        rows.append(("servers", ", ".join(f"{k} {_n(e)}" + (f" ({_n(f)} failed)" if f else "")
                                          for k, e, f in s.login_servers)))
    if s.hourly:
        worst = max(s.hourly, key=lambda hc: sum(hc[1].values()))
        rows.append(("worst hour", f"{iso(worst[0])}: " + ", ".join(f"{_CLASS_NAMES.get(k, k)} {_n(v)}"
                                                                   for k, v in worst[1].items())))
    if s.clients:
        rows.append(("clients", ", ".join(f"{c} {_n(e)}" + (f" ({_n(f)} failed)" if f else "")
                                          for c, e, f in s.clients)))
    if report.rules is not None:
        r = report.rules
        rows.append(("rules", f"{r.login_server}: public network access {r.public_access}, default action "
                              f"{r.default_action}, {len(r.ip_rules)} IP rule(s)"))
    return rows


def logs_text(report: LogsReport, *, color: bool | None = None, width: int | None = None,
              term: Terminal | None = None) -> str:
    """The summary grid, the findings and the time taken; ``term`` (colour, width) wins over
    ``color``/``width``. Plain lines carry no padding: the grid's cells are not right-filled."""
    if term is not None:
        color, width = term.color, term.width
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=bool(color), no_color=not color, width=width or 100,
                      color_system=((term.color_system if term is not None else None) or "standard")  # type: ignore[arg-type]
                      if color else None,
                      highlight=False, soft_wrap=False, emoji=False)
    console.print(Text("regdoctor logs", style="bold"))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for k, v in _summary_rows(report):
        grid.add_row(k, escape(v))
    console.print(grid)
    console.print()
    body = findings_text(list(report.findings), term=term, color=color, width=width)
    head = "".join(line.rstrip() + "\n" for line in buf.getvalue().splitlines())
    return head + body + f"{report.elapsed_ms / 1000:.2f} s\n"


def logs_markdown(report: LogsReport) -> str:
    lines = ["## regdoctor logs", "", "| | |", "|---|---|"]
    for k, v in _summary_rows(report):
        lines.append(f"| {k} | {v.replace('|', chr(92) + '|')} |")
    lines.append("")
    return "\n".join(lines) + "\n" + findings_markdown(list(report.findings), header="Findings")


def logs_json(report: LogsReport) -> str:
    from regdoctor.model import findings_sorted

    return findings_json(findings_sorted(report.findings), report.status, **report.to_dict())


def logs_junit(report: LogsReport) -> str:
    """Failures are the findings that make the exit code 1 (errors and warnings)."""
    return findings_junit(list(report.findings), suite="regdoctor logs", failing=("error", "warning"))


def render_logs(fmt: str, report: LogsReport, term: Terminal | None = None) -> str:
    if fmt == "json":
        return logs_json(report)
    if fmt == "markdown":
        return logs_markdown(report)
    if fmt == "junit":
        return logs_junit(report)
    return logs_text(report, term=term)


def render_kql(fmt: str, queries: Sequence[Query]) -> str:
    """The KQL queries: ``// title`` blocks, a markdown list of ``kusto`` blocks, or JSON."""
    if fmt == "json":
        return document(queries=[q.to_dict() for q in queries])
    if fmt == "markdown":
        out = ["## Log Analytics queries (regdoctor logs --kql)", ""]
        for q in queries:
            out += [f"### {q.title}", "", "```kusto", q.kql, "```", ""]
        return "\n".join(out)
    return "\n\n".join(f"// {q.name}: {q.title}\n{q.kql}" for q in queries) + "\n"


__all__ = ["logs_json", "logs_junit", "logs_markdown", "logs_text", "render_kql", "render_logs"]
