"""The default text output: the verdict first, one panel per root cause, trees where it failed.

Strategy
--------
A user in a terminal wants the answer before the evidence, so a report reads top-down:

1. the **verdict** line (healthy, or the first root cause with its layer and host), then one line
   naming the command, the endpoint count and the time;
2. one **panel per root cause** (errors before warnings, ``model.findings_sorted``), with what it
   is and why; the findings that follow from it (``Finding.consequence_of``) are folded into it
   as ``also`` rows, and ``explain``'s less likely readings of the same text
   (``Finding.alternative_of``) follow it as panels labelled *alternative*, in confidence order;
3. under each panel, **outside** its border, the fix, the confirming command and the docs link,
   wrapped between words only, a backquoted command never broken, so they copy whole;
4. the per-step **tree** only for endpoints that had a problem; a healthy endpoint is one line.

``verbose`` shows everything instead: each consequence as its own panel and every endpoint's tree.
The layout is built once as styled lines (``render.lines``) and emitted plain or in colour, so
piped output is the terminal's output without the colour.
"""

from __future__ import annotations

from collections.abc import Sequence

from regdoctor.kb import CodeInfo
from regdoctor.kb.codes import Code
from regdoctor.model import EndpointResult, Finding, Report, Step, findings_sorted
from regdoctor.render.lines import Line, Terminal, box, emit, labelled, plain, wrap

_STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
_BORDER = {"error": "red", "warning": "yellow", "info": "cyan"}
#: panels stop growing here: longer lines read badly, wider terminals keep the rest
MAX_WIDTH = 100
_LABEL = 5  # the widest row label: "match", "check"


def key(f: Finding) -> str:
    """How other findings name ``f`` in ``consequence_of`` / ``alternative_of``: ``CODE@host``.

    >>> from regdoctor import kb
    >>> from regdoctor.kb.codes import Code
    >>> key(kb.code(Code.TCP_TIMEOUT).finding(host="r.io", evidence={}))
    'TCP_TIMEOUT@r.io'
    """
    return f"{f.code}@{f.host}" if f.host else str(f.code)


def _width(term: Terminal) -> int:
    return max(min(term.width, MAX_WIDTH), 30)


def _alternative_of(f: Finding) -> str | None:
    return getattr(f, "alternative_of", None)  # explain's field (explain/ marks the alternatives)


# --------------------------------------------------------------------------- findings


def _title(f: Finding, index: int | None, role: str) -> Line:
    head = f"{index}. {f.code}" if index is not None else str(f.code)
    parts: Line = [(head, _SEVERITY_STYLE[f.severity]), (f" · {f.layer} · ", ""),
                   (role, "bold" if role == "root cause" else "dim")]
    if f.confidence is not None:
        parts.append((f" {f.confidence:.0%}", "bold"))
    if f.host:
        parts.append((f" · {f.host}", ""))
    return parts


def _panel(f: Finding, index: int | None, role: str, also: Sequence[Finding], width: int, verbose: bool) -> list[Line]:
    inner = width - 4
    body: list[Line] = [[(piece, "bold")] for piece in wrap(f.title, inner)]
    body += labelled("why", f.cause, inner, label_width=_LABEL)
    for i, c in enumerate(also):
        text = f"{c.code} ({c.layer}{', ' + c.host if c.host and c.host != f.host else ''}): {c.title}"
        body += labelled("also" if i == 0 else "", text, inner, label_width=_LABEL, style="dim")
    if f.matched:
        body += labelled("match", f.matched, inner, label_width=_LABEL, style="dim")
    if f.az_code:
        body += labelled("az", f"check-health {f.az_code}", inner, label_width=_LABEL)
    out = box(_title(f, index, role), body, width, _BORDER[f.severity])
    out += labelled("fix", f.fix, width, label_width=_LABEL, hard=False)
    if f.confirm:
        out += labelled("check", f"`{f.confirm}`", width, label_width=_LABEL, hard=False)
    if f.docs:
        out += labelled("docs", f.docs, width, label_width=_LABEL, label_style="dim", style="dim", hard=False)
    out.append([])
    return out


def _note(f: Finding, width: int) -> list[Line]:
    head = f"{f.code}{' at ' + f.host if f.host else ''}: {f.title}"
    out = labelled("note", head, width, label_width=_LABEL, label_style="cyan")
    out += labelled("", f.fix, width, label_width=_LABEL, hard=False)
    return out


def _plan(findings: Sequence[Finding], keep_order: bool) -> list[tuple[Finding, str, list[Finding]]]:
    """The panels to draw: (finding, its role, what folds into it), root causes first.

    A consequence folds into its root cause when that root is in the list; an alternative
    follows the finding it is an alternative to. Whatever has nothing to follow stands alone.
    """
    ordered = list(findings) if keep_order else findings_sorted(findings)
    keys = {key(f): f for f in ordered}
    codes = {str(f.code): f for f in ordered}

    def anchor(name: str | None) -> Finding | None:
        return None if name is None else keys.get(name) or codes.get(name)

    heads = [f for f in ordered if f.severity != "info" or f.root_cause]
    alts = {id(f) for f in heads if anchor(_alternative_of(f)) is not None}
    folded = {id(f) for f in heads if not f.root_cause and id(f) not in alts
              and (a := anchor(f.consequence_of)) is not None and a is not f}
    standalone = [f for f in heads if id(f) not in alts and id(f) not in folded]
    if keep_order and any(f.confidence is not None for f in standalone):  # explain: most likely first
        standalone.sort(key=lambda f: -(f.confidence or 0.0))
    plan: list[tuple[Finding, str, list[Finding]]] = []
    for f in standalone:
        also = [c for c in heads if id(c) in folded and anchor(c.consequence_of) is f]
        role = "root cause" if f.root_cause else ("consequence" if f.consequence_of else "problem")
        plan.append((f, role, also))
        alternatives = sorted((a for a in heads if id(a) in alts and anchor(_alternative_of(a)) is f),
                              key=lambda a: -(a.confidence or 0.0))
        plan += [(a, "alternative", []) for a in alternatives]
    return plan


def finding_lines(findings: Sequence[Finding], width: int, *, keep_order: bool = False,
                  verbose: bool = False) -> list[Line]:
    """Panels for ``findings`` (root causes with what folds into them), then the notes."""
    out: list[Line] = []
    plan = _plan(findings, keep_order)
    index = 1
    for f, role, also in plan:
        if verbose:
            out += _panel(f, index, role, [], width, verbose)
            index += 1
            for c in also:
                out += _panel(c, index, f"consequence of {f.code}", [], width, verbose)
                index += 1
        else:
            out += _panel(f, index if len(plan) > 1 else None, role, also, width, verbose)
            index += 1
    notes = [f for f in (findings if keep_order else findings_sorted(findings))
             if f.severity == "info" and not f.root_cause]
    for n in notes:
        out += _note(n, width)
    if notes:
        out.append([])
    return out


def render_findings(findings: Sequence[Finding], *, header: str | None = None, term: Terminal | None = None,
                    keep_order: bool = False, verbose: bool = False) -> str:
    """A list of findings (explain, acr lint, proxy, a crash) as text.

    >>> print(render_findings([], header="regdoctor explain"), end="")
    regdoctor explain
    No problems found.
    """
    term = term or Terminal()
    width = _width(term)
    lines: list[Line] = [[(piece, "bold" if i == 0 else "")] for i, piece in enumerate(
        p for row in (header or "").splitlines() for p in wrap(row, width))]
    if not findings:
        lines.append([("No problems found.", "green")])
    lines += finding_lines(findings, width, keep_order=keep_order, verbose=verbose)
    return emit(lines, term)


# --------------------------------------------------------------------------- check


def _verdict(report: Report, width: int) -> list[Line]:
    findings = report.findings
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    notes = sum(f.severity == "info" for f in findings)
    roots = [f for f in findings_sorted(findings) if f.root_cause and f.severity != "info"]
    stopped = next((f for f in findings if f.code == Code.CLIENT_INTERRUPTED), None)
    if stopped is not None and not report.problems:  # Ctrl-C: what did not run cannot be called healthy
        # an unfinished endpoint ends with the interruption's mark (after the steps it did finish)
        unfinished = sum(bool(e.steps) and (e.steps[-1].layer, e.steps[-1].name, e.steps[-1].status)
                         == ("client", "probe", "skip") for e in report.endpoints)
        text = (f"Diagnosis: interrupted after {stopped.evidence.get('elapsed_s', '?')} s, no problem found in "
                f"what ran; {unfinished} of {len(report.endpoints)} endpoint(s) not finished.")
        mark, style = "!", "bold yellow"
    elif not report.problems:
        text = "Diagnosis: healthy. Every layer passed." if not notes else \
            f"Diagnosis: healthy, with {notes} note{'s' if notes != 1 else ''}."
        mark, style = "✓", "bold green"
    else:
        text = f"Diagnosis: {errors} problem(s), {warnings} warning(s)"
        if roots:
            r = roots[0]
            text += f"; root cause: {r.code} ({r.layer}){' at ' + r.host if r.host else ''}"
            if len(roots) > 1:
                text += f" and {len(roots) - 1} more"
        mark, style = ("✗", "bold red") if errors else ("!", "bold yellow")
    actor = _vantage(report)
    if actor is not None:  # check --as: whose path this verdict is about
        text = text.replace("Diagnosis:", f"Diagnosis as {actor}:", 1)
    out: list[Line] = [[(f"{mark} " if i == 0 else "  ", style), (piece, style)]
                       for i, piece in enumerate(wrap(text, width - 2))]
    n = len(report.endpoints)
    tail = f"regdoctor check {' '.join(report.targets)} · {n} endpoint{'s' if n != 1 else ''} · " \
           f"{report.elapsed_ms / 1000:.2f} s"
    out += [[("  ", ""), (piece, "dim")] for piece in wrap(tail, width - 2)]
    return out


def _vantage(report: Report) -> str | None:
    """The actor a ``check --as`` probed as: the first step of each of its endpoints says so."""
    return next((str(s.evidence["actor"]) for e in report.endpoints for s in e.steps[:1]
                 if s.layer == "proxy" and s.name == "actor" and s.evidence.get("actor")), None)


def _step_lines(s: Step, last: bool, width: int) -> list[Line]:
    branch, cont = ("└── ", "    ") if last else ("├── ", "│   ")
    name = s.name if len(s.name) <= 16 else s.name[:15] + "…"  # the full name stays in --json
    head: Line = [(branch, "dim"), (f"{s.status.upper():4}", _STATUS_STYLE[s.status]),
                  (f"  {s.layer:<8} {name:<16} ", ""), (f"{s.elapsed_ms:7.1f} ms", "dim")]
    summary = s.summary + (f" [{s.code}]" if s.code else "")
    used = len(plain(head)) + 2
    if width - used >= 30:
        pieces = wrap(summary, width - used)
        out = [[*head, ("  ", ""), (pieces[0], "")]]
        out += [[(cont, "dim"), (" " * (used - len(cont)), ""), (p, "")] for p in pieces[1:]]
    else:  # narrow terminal: the summary goes under the step
        out = [head] + [[(cont, "dim"), ("  ", ""), (p, "")] for p in wrap(summary, width - len(cont) - 2)]
    if s.code and out[-1][-1][0].endswith(f"[{s.code}]"):
        text = out[-1][-1][0]
        cut = len(text) - len(f"[{s.code}]")
        out[-1] = [*out[-1][:-1], (text[:cut], ""), (text[cut:], _STATUS_STYLE[s.status])]
    return out


def _endpoint_name(e: EndpointResult) -> str:
    return e.address


def _folded(steps: Sequence[Step]) -> list[Step]:
    """Runs of passed steps, and of steps skipped for one reason, as one line each (compact view)."""
    out: list[Step] = []
    i = 0
    while i < len(steps):
        s, j = steps[i], i + 1
        if s.status in ("pass", "skip"):
            while j < len(steps) and steps[j].status == s.status and (s.status == "pass"
                                                                       or steps[j].summary == s.summary):
                j += 1
        run = steps[i:j]
        if len(run) == 1:
            out.append(s)
        else:
            layers = ", ".join(dict.fromkeys(x.layer for x in run))
            summary = f"{len(run)} steps passed" if s.status == "pass" else s.summary
            out.append(Step(layer=s.layer, name=f"+{len(run) - 1} more", status=s.status,
                            elapsed_ms=sum(x.elapsed_ms for x in run), summary=f"{summary} ({layers})"))
        i = j
    return out


def endpoint_lines(e: EndpointResult, width: int, *, verbose: bool = True) -> list[Line]:
    """The tree of one endpoint's steps; not ``verbose``: passed and same-reason skipped runs folded."""
    label = f"({e.role}, {e.origin})" if e.origin else f"({e.role})"
    out = _beside(_endpoint_name(e), "bold", "  ", label, "", width)
    steps = list(e.steps) if verbose else _folded(e.steps)
    for i, s in enumerate(steps):
        out += _step_lines(s, i == len(steps) - 1, width)
    return out


def _healthy_line(e: EndpointResult, width: int) -> list[Line]:
    ran = [s for s in e.steps if s.status != "skip"]
    ms = sum(s.elapsed_ms for s in e.steps)
    text = f"({e.role}) {len(ran)} steps passed, {ms:.0f} ms"
    lines = _beside(_endpoint_name(e), "bold", " ", text, "dim", width - 2)
    return [[("✓ ", "green"), *lines[0]], *[[("  ", ""), *line] for line in lines[1:]]]


def _beside(name: str, name_style: str, gap: str, text: str, style: str, width: int) -> list[Line]:
    """``name`` then ``text`` wrapped beside it; when a word of ``text`` would not fit in the room
    left (a long host name on a narrow terminal), ``text`` goes under ``name``, indented, so that
    no word is broken.

    >>> [plain(x) for x in _beside("h.io:443", "", "  ", "(registry, REF docker.io/library/nginx:latest)", "", 40)]
    ['h.io:443', '    (registry, REF', '    docker.io/library/nginx:latest)']
    """
    room = width - len(name) - len(gap)
    if room >= max((len(w) for w in text.split()), default=0):
        return [[(name, name_style), (gap, ""), (p, style)] if i == 0 else [("    ", ""), (p, style)]
                for i, p in enumerate(wrap(text, room))]
    return [[(name, name_style)], *[[("    ", ""), (p, style)] for p in wrap(text, max(width - 4, 20))]]


def _problem(e: EndpointResult) -> bool:
    """Worth its tree: a step failed or warned, or nothing passed (e.g. interrupted)."""
    return any(s.status in ("fail", "warn") for s in e.steps) or not any(s.status == "pass" for s in e.steps)


def report_lines(report: Report, width: int, *, verbose: bool = False) -> list[Line]:
    out = _verdict(report, width)
    out.append([])
    if report.findings:
        out += finding_lines(report.findings, width, verbose=verbose)
    for e in report.endpoints:
        out += endpoint_lines(e, width, verbose=verbose) if verbose or _problem(e) else _healthy_line(e, width)
    return out


def render_report(report: Report, *, term: Terminal | None = None, verbose: bool = False) -> str:
    """``check``'s text: the verdict, the root-cause panels, then the endpoints."""
    term = term or Terminal()
    return emit(report_lines(report, _width(term), verbose=verbose), term)


# --------------------------------------------------------------------------- codes


def render_catalogue(entries: Sequence[CodeInfo], *, term: Terminal | None = None) -> str:
    """``regdoctor codes``: one row per code; the title wraps in the last column."""
    term = term or Terminal(width=160)
    width = max(term.width, 40)
    cw = max((len(c.code) for c in entries), default=4)
    cw = max(cw, len("code"))
    lw = max([len("layer"), *(len(c.layer) for c in entries)])  # the header is a row too
    head = f"{'code':<{cw}}  {'layer':<{lw}}  {'severity':<8}  "
    rest = width - len(head)
    lines: list[Line] = []
    if rest < 20:  # too narrow for columns: one block per code
        for c in entries:
            lines.append([(c.code, _SEVERITY_STYLE[c.severity]), (f"  {c.layer} {c.severity}", "dim")])
            lines += [[("  ", ""), (p, "")] for p in wrap(c.title + (f" (az: {c.az_code})" if c.az_code else ""),
                                                         width - 2)]
        return emit(lines, term)
    lines.append([((head + "title (az code)")[:width], "bold")])
    for c in entries:
        text = c.title + (f" (az: {c.az_code})" if c.az_code else "")
        for i, p in enumerate(wrap(text, rest)):
            if i == 0:
                lines.append([(f"{c.code:<{cw}}", _SEVERITY_STYLE[c.severity]),
                              (f"  {c.layer:<{lw}}  {c.severity:<8}  ", ""), (p, "")])
            else:
                lines.append([(" " * len(head), ""), (p, "")])
    return emit(lines, term)


def _template(text: str) -> str:
    """A catalogue template as a reader sees it: ``{host}`` becomes ``<host>`` (filled in a finding)."""
    import re

    return re.sub(r"\{([a-z_][a-z0-9_]*)\}", r"<\1>", text)


def render_code_entries(entries: Sequence[CodeInfo], *, term: Terminal | None = None) -> str:
    """``regdoctor codes CODE…``: each entry whole — title, layer, severity, why, fix, docs, az code."""
    term = term or Terminal()
    width = _width(term)
    lines: list[Line] = []
    for n, c in enumerate(entries):
        if n:
            lines.append([])
        lines.append([(c.code, _SEVERITY_STYLE[c.severity] + " bold"), (f" · {c.layer} · {c.severity}", "dim")])
        lines += [[(p, "bold")] for p in wrap(c.title, width)]
        rows = [("why", _template(c.cause)), ("fix", _template(c.fix))]
        rows += [("docs", c.docs)] if c.docs else []
        rows += [("az", f"check-health {c.az_code}")] if c.az_code else []
        rows += [("causes", ", ".join(c.explains))] if c.explains else []
        for label, text in rows:
            lines += labelled(label, text, width, label_width=6, hard=False)
    return emit(lines, term)


__all__ = ["MAX_WIDTH", "endpoint_lines", "finding_lines", "key", "render_catalogue", "render_code_entries",
           "render_findings", "render_report", "report_lines"]
