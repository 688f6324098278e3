"""The default text output, with rich: a tree of steps per endpoint, then the diagnosis."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from regdoctor.kb import CodeInfo
from regdoctor.model import EndpointResult, Finding, Report, findings_sorted

_STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _console(color: bool | None, width: int | None) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=color is False, width=width or 100,
                      highlight=False, soft_wrap=False, emoji=False)
    return console, buf


def _short(text: str, limit: int) -> str:
    """Long step names (a blob path) are cut in the tree; the full name stays in --json."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _endpoint_tree(e: EndpointResult) -> Tree:
    label = Text.assemble((f"{e.host}:{e.port}", "bold"), f"  ({e.role}", f", {e.origin})" if e.origin else ")")
    tree = Tree(label)
    for s in e.steps:
        line = Text.assemble(
            (f"{s.status.upper():4}", _STATUS_STYLE[s.status]),
            f"  {s.layer:<8} {_short(s.name, 40):<14}",
            (f"{s.elapsed_ms:7.1f} ms  ", "dim"),
            s.summary,
        )
        if s.code:
            line.append(f"  [{s.code}]", style=_STATUS_STYLE[s.status])
        tree.add(line)
    return tree


def _finding_block(f: Finding, index: int) -> Panel:
    head = Text.assemble(
        (f"{index}. {f.code}", _SEVERITY_STYLE[f.severity]),
        f"  [{f.layer}]",
        (f"  {f.role}" + (f" (of {f.alternative_of})" if f.alternative_of else ""),
         "bold" if f.root_cause else "dim"),
        f"  {f.host}" if f.host else "",
    )
    body = Table.grid(padding=(0, 1))
    body.add_column(style="bold", no_wrap=True)
    body.add_column(overflow="fold")  # long URLs and commands wrap instead of being cut with "…"
    body.add_row("what", escape(f.title))
    body.add_row("why", escape(f.cause))
    body.add_row("fix", escape(f.fix))
    if f.confirm:
        body.add_row("confirm", escape(f.confirm))
    if f.confidence is not None:
        body.add_row("confidence", f"{f.confidence:.0%}")
    if f.matched:
        body.add_row("matched", escape(f.matched))
    if f.az_code:
        body.add_row("az code", f.az_code)
    if f.docs:
        body.add_row("docs", f.docs)
    return Panel(body, title=head, title_align="left", border_style=_SEVERITY_STYLE[f.severity])


def render_findings(findings: Sequence[Finding], *, header: str | None = None, color: bool | None = None,
                    width: int | None = None, keep_order: bool = False) -> str:
    console, buf = _console(color, width)
    if header:
        console.print(Text(header, style="bold"))
    if not findings:
        console.print(Text("No problems found.", style="green"))
    for i, f in enumerate(findings if keep_order else findings_sorted(findings), 1):
        console.print(_finding_block(f, i))
    return buf.getvalue()


def render_report(report: Report, *, color: bool | None = None, width: int | None = None) -> str:
    console, buf = _console(color, width)
    console.print(Text(f"regdoctor check {' '.join(report.targets)}", style="bold"))
    console.print(Group(*(_endpoint_tree(e) for e in report.endpoints)))
    console.print()
    errors = [f for f in report.findings if f.severity == "error"]
    warnings = [f for f in report.findings if f.severity == "warning"]
    if not report.findings:
        console.print(Text("Diagnosis: healthy. Every layer passed.", style="bold green"))
    else:
        roots = [f for f in report.findings if f.root_cause and f.severity != "info"]
        verdict = (f"Diagnosis: {len(errors)} problem(s), {len(warnings)} warning(s)"
                   if errors or warnings else "Diagnosis: healthy, with notes")
        if roots:
            verdict += f"; root cause: {roots[0].code} ({roots[0].layer})"
        console.print(Text(verdict, style="bold red" if errors else ("yellow" if warnings else "green")))
        for i, f in enumerate(findings_sorted(report.findings), 1):
            console.print(_finding_block(f, i))
    console.print(Text(f"{report.elapsed_ms / 1000:.2f} s", style="dim"))
    return buf.getvalue()


def render_catalogue(entries: list[CodeInfo]) -> str:
    console, buf = _console(None, 160)
    table = Table(show_lines=False)
    for col in ("code", "layer", "severity", "title", "az check-health"):
        table.add_column(col, overflow="fold")
    for c in entries:
        table.add_row(c.code, c.layer, c.severity, c.title, c.az_code or "")
    console.print(table)
    return buf.getvalue()
