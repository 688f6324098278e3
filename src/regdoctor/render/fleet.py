"""``regdoctor fleet`` output: text, json, markdown, junit of a ``FleetVerdict``.

Text leads with the groups (one sentence each: "7 of 40 nodes (pool np2, zone 3) fail at tcp to
…"), then the label groups (pools, zones), then the endpoint × layer matrix, then what the input
held besides reports (skipped lines, rejected documents), so nothing is dropped silently.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree as ET

from regdoctor.fleet.merge import FleetVerdict, MatrixRow

_STATUS_LETTERS = (("fail", "✗"), ("warn", "!"), ("pass", "✓"), ("skip", "-"))


def fleet_dict(v: FleetVerdict) -> dict[str, Any]:
    return {
        "schema": 1,
        "tool": "regdoctor",
        "status": v.status,
        "nodes_total": len(v.nodes),
        "nodes_ok": v.count("ok"),
        "nodes_problems": v.count("problems"),
        "nodes_unknown": v.count("unknown"),
        "groups": [{
            "summary": g.summary, "code": g.cause.code, "layer": g.cause.layer, "host": g.cause.host,
            "role": g.cause.role, "severity": g.cause.severity, "title": g.cause.title,
            "broke_at": {"layer": g.cause.broke_at, "code": g.cause.via_code or g.cause.code},
            "nodes": list(g.nodes),
            "labels": {k: [{"value": val, "affected": a, "total": t} for val, a, t in vals] for k, vals in g.labels},
        } for g in v.groups],
        "by_label": [{
            "key": lg.key, "value": lg.value, "nodes": lg.nodes, "ok": lg.ok, "problems": lg.problems,
            "unknown": lg.unknown, "causes": [{"cause": c, "nodes": n} for c, n in lg.causes],
        } for lg in v.by_label],
        "matrix": [{
            "endpoint": row.endpoint, "role": row.role, "layers": {layer: dict(c) for layer, c in row.layers},
        } for row in v.matrix],
        "nodes": [{
            "name": n.name, "labels": dict(n.labels), "status": n.status, "source": n.source,
            "causes": [{"code": c.code, "layer": c.layer, "host": c.host, "role": c.role,
                        "broke_at": {"layer": c.broke_at, "code": c.via_code or c.code}} for c in n.causes],
        } for n in v.nodes],
        "input": {"skipped_lines": v.skipped_lines, "superseded_reports": v.superseded,
                  "rejected": [{"where": w, "reason": r} for w, r in v.rejected]},
    }


def fleet_json(v: FleetVerdict) -> str:
    return json.dumps(fleet_dict(v), indent=2, ensure_ascii=False) + "\n"


def _headline(v: FleetVerdict) -> str:
    n = len(v.nodes)
    parts = [f"{v.count('ok')} ok"]
    if v.count("problems"):
        parts.append(f"{v.count('problems')} with problems")
    if v.count("unknown"):
        parts.append(f"{v.count('unknown')} could not be checked")
    return f"regdoctor fleet: {n} node{'s' if n != 1 else ''} — {', '.join(parts)}"


def _cell(counts: dict[str, int] | Any) -> str:
    return " ".join(f"{mark}{counts[k]}" for k, mark in _STATUS_LETTERS if counts.get(k))


def _matrix_lines(rows: tuple[MatrixRow, ...]) -> list[str]:
    layers = [layer for row in rows for layer, _ in row.layers]
    order = list(dict.fromkeys(layers))
    head = ["endpoint", *order]
    table = [[f"{r.endpoint} ({r.role})", *(_cell(dict(r.layers).get(layer, {})) for layer in order)] for r in rows]
    widths = [max(len(x[i]) for x in [head, *table]) for i in range(len(head))]
    return ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in [head, *table]]


def fleet_text(v: FleetVerdict) -> str:
    out = [_headline(v), ""]
    if v.groups:
        out.append("Root causes:")
        for g in v.groups:
            out.append(f"  • {g.summary}")
            if g.cause.title:
                out.append(f"      {g.cause.title}")
            out.append(f"      nodes: {', '.join(g.nodes[:12])}{' …' if len(g.nodes) > 12 else ''}")
        out.append("")
    else:
        out += ["Every node reached every endpoint.", ""]
    if v.by_label:
        out.append("By label:")
        for lg in v.by_label:
            tail = "; ".join(f"{c} ×{n}" for c, n in lg.causes[:3])
            bad = lg.problems + lg.unknown
            out.append(f"  {lg.key} {lg.value}: {lg.ok}/{lg.nodes} ok" + (f", {bad} failing: {tail}" if bad else ""))
        out.append("")
    if v.matrix:
        out.append("Endpoints × layers (nodes: ✗ fail, ! warn, ✓ pass, - skipped):")
        out += ["  " + line for line in _matrix_lines(v.matrix)]
        out.append("")
    notes = []
    if v.skipped_lines:
        notes.append(f"{v.skipped_lines} input line(s) were not part of a report (log noise)")
    if v.superseded:
        notes.append(f"{v.superseded} older report(s) replaced by a later one of the same node")
    for where, why in v.rejected[:10]:
        notes.append(f"rejected {where}: {why}")
    if len(v.rejected) > 10:
        notes.append(f"… and {len(v.rejected) - 10} more rejected documents")
    if notes:
        out.append("Input:")
        out += [f"  {n}" for n in notes]
    return "\n".join(out).rstrip() + "\n"


def fleet_markdown(v: FleetVerdict) -> str:
    out = [f"## {_headline(v)}", ""]
    if v.groups:
        out += ["| nodes | root cause | code | host | role |", "|---:|---|---|---|---|"]
        out += [f"| {len(g.nodes)} | {g.summary} | `{g.cause.code}` | {g.cause.host or ''} | {g.cause.role or ''} |"
                for g in v.groups]
        out.append("")
    if v.by_label:
        out += ["| label | value | ok | failing | causes |", "|---|---|---:|---:|---|"]
        out += [f"| {lg.key} | {lg.value} | {lg.ok}/{lg.nodes} | {lg.problems + lg.unknown} | "
                f"{'; '.join(f'{c} ×{n}' for c, n in lg.causes[:3])} |" for lg in v.by_label]
        out.append("")
    if v.matrix:
        lines = _matrix_lines(v.matrix)
        out += ["```", *lines, "```", ""]
    if v.skipped_lines or v.rejected:
        out.append(f"_Input: {v.skipped_lines} non-report line(s), {len(v.rejected)} rejected document(s)._")
    return "\n".join(out).rstrip() + "\n"


def fleet_junit(v: FleetVerdict) -> str:
    """One test case per node; the failures are the nodes that set exit 1 (with problems, or unknown)."""
    name = f"regdoctor fleet {len(v.nodes)} node(s)"
    failing = v.count("problems") + v.count("unknown")
    suites = ET.Element("testsuites", name=name, tests=str(len(v.nodes)), failures=str(failing))
    suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(v.nodes)), failures=str(failing), errors="0")
    for n in v.nodes:
        labels = ",".join(f"{k}={val}" for k, val in n.labels)
        case = ET.SubElement(suite, "testcase", classname=f"fleet.{labels or 'node'}", name=n.name)
        causes = "; ".join(f"{c.codes} {c.broke_at} {c.host or ''}".strip() for c in n.causes)
        if n.status == "problems":
            ET.SubElement(case, "failure", message=causes, type=n.causes[0].code if n.causes else "problems")
        elif n.status == "unknown":
            ET.SubElement(case, "failure", message=causes or "no usable report", type="unknown")
    return ET.tostring(suites, encoding="unicode") + "\n"


def render_fleet(fmt: str, v: FleetVerdict) -> str:
    if fmt == "json":
        return fleet_json(v)
    if fmt == "markdown":
        return fleet_markdown(v)
    if fmt == "junit":
        return fleet_junit(v)
    return fleet_text(v)
