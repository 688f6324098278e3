"""Many nodes' reports, one verdict: who fails, where, grouped by root cause and by node pool/zone.

Strategy
--------
A node's verdict is its own report's: ``unknown`` when regdoctor failed there (a ``client``
finding), ``problems`` when it has an error or warning, else ``ok``. Its causes are its root-cause
findings (or, when a report flags none, its first problem), keyed by ``(code, layer, host)``:
the same fault on 7 nodes is one group of 7, which is what an operator acts on.

Each group is then read against the node labels the reports carry (``check --label pool=np2
--label zone=3``): a label value shared by every affected node is named ("pool np2"), and when
the affected nodes are exactly the nodes of one label value the sentence says so ("every node
of pool np2"), which tells a pool-wide egress rule from a single bad node.

The matrix counts, per endpoint and layer, how many nodes passed, warned, failed or skipped it
(a node's worst step of that layer counts).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from regdoctor.fleet.ingest import Ingested, NodeReport
from regdoctor.model import LAYERS

_WORST = {"fail": 3, "warn": 2, "pass": 1, "skip": 0}
_VERB = {"error": "fail", "warning": "warn"}


@dataclass(frozen=True)
class Cause:
    code: str
    layer: str
    host: str | None
    role: str | None
    severity: str
    title: str
    #: where the path actually broke, when that is a lower layer than the finding's own: a data
    #: endpoint "blocked" by a dropped SYN (tcp TCP_TIMEOUT) is another fault than one a proxy denies
    via_layer: str | None = None
    via_code: str | None = None

    @property
    def key(self) -> tuple[str, str, str | None, str | None]:
        return (self.code, self.layer, self.host, self.via_code)

    @property
    def broke_at(self) -> str:
        return self.via_layer or self.layer

    @property
    def codes(self) -> str:
        return f"{self.code} via {self.via_code}" if self.via_code else self.code


@dataclass(frozen=True)
class NodeVerdict:
    name: str
    labels: tuple[tuple[str, str], ...]
    status: str  # ok | problems | unknown
    causes: tuple[Cause, ...]
    source: str


@dataclass(frozen=True)
class CauseGroup:
    cause: Cause
    nodes: tuple[str, ...]
    #: label key -> ((value, affected nodes with it, all nodes with it), ...)
    labels: tuple[tuple[str, tuple[tuple[str, int, int], ...]], ...]
    summary: str


@dataclass(frozen=True)
class LabelGroup:
    """All nodes that share one label value (a pool, a zone) and how they fare."""

    key: str
    value: str
    nodes: int
    ok: int
    problems: int
    unknown: int
    causes: tuple[tuple[str, int], ...]  # (code layer host, nodes)


@dataclass(frozen=True)
class MatrixRow:
    endpoint: str
    role: str
    layers: tuple[tuple[str, Mapping[str, int]], ...]  # (layer, {"pass": n, "warn": n, "fail": n, "skip": n})


@dataclass(frozen=True)
class FleetVerdict:
    nodes: tuple[NodeVerdict, ...]
    groups: tuple[CauseGroup, ...]
    by_label: tuple[LabelGroup, ...]
    matrix: tuple[MatrixRow, ...]
    skipped_lines: int
    rejected: tuple[tuple[str, str], ...]
    superseded: int

    @property
    def status(self) -> str:
        return "ok" if all(n.status == "ok" for n in self.nodes) else "problems"

    def count(self, status: str) -> int:
        return sum(1 for n in self.nodes if n.status == status)


def _first_failure(doc: Mapping[str, Any], host: str | None) -> tuple[str | None, str | None]:
    """(layer, code) of the first failed step on ``host``'s endpoints."""
    for e in doc.get("endpoints") or ():
        if not isinstance(e, dict) or e.get("host") != host:
            continue
        for s in e.get("steps") or ():
            if isinstance(s, dict) and s.get("status") == "fail" and isinstance(s.get("code"), str):
                layer = s.get("layer")
                return (layer if isinstance(layer, str) else None), s["code"][:80]
    return None, None


def _endpoint_roles(doc: Mapping[str, Any]) -> dict[str, str]:
    roles: dict[str, str] = {}
    for e in doc.get("endpoints") or ():
        if isinstance(e, dict) and isinstance(e.get("host"), str):
            roles.setdefault(e["host"], str(e.get("role") or ""))
    return roles


def _str(v: Any, limit: int = 300) -> str:
    return v[:limit] if isinstance(v, str) else ""


def node_verdict(r: NodeReport) -> NodeVerdict:
    """One node's status and root causes, from its report.

    >>> doc = {"endpoints": [{"host": "h", "role": "data"}], "findings": [{"code": "TCP_TIMEOUT", "layer": "tcp",
    ...        "host": "h", "root_cause": True, "severity": "error", "title": "t"}]}
    >>> v = node_verdict(NodeReport("n1", (), "f", doc))
    >>> v.status, v.causes[0].role
    ('problems', 'data')
    """
    roles = _endpoint_roles(r.doc)
    findings = [f for f in r.doc.get("findings") or () if isinstance(f, dict)]
    problems = [f for f in findings if f.get("severity") in ("error", "warning")]
    if any(f.get("layer") == "client" for f in findings):
        status = "unknown"
        chosen = [f for f in findings if f.get("layer") == "client"][:1]
    elif problems:
        status = "problems"
        chosen = [f for f in problems if f.get("root_cause") is True] or problems[:1]
    else:
        status, chosen = "ok", []
    causes: list[Cause] = []
    seen: set[tuple[str, str, str | None, str | None]] = set()
    for f in chosen:
        host = f.get("host") if isinstance(f.get("host"), str) else None
        code, layer = _str(f.get("code"), 80) or "UNKNOWN", _str(f.get("layer"), 20) or "client"
        via_layer, via_code = _first_failure(r.doc, host)
        if via_code == code or via_layer == layer:
            via_layer = via_code = None
        c = Cause(code=code, layer=layer, host=host[:253] if host else None, role=roles.get(host or "") or None,
                  severity=_str(f.get("severity"), 10) or "error", title=_str(f.get("title")),
                  via_layer=via_layer, via_code=via_code)
        if c.key not in seen:
            seen.add(c.key)
            causes.append(c)
    return NodeVerdict(name=r.node, labels=r.labels, status=status, causes=tuple(causes), source=r.source)


def _label_index(nodes: Sequence[NodeVerdict]) -> dict[str, Counter[str]]:
    index: dict[str, Counter[str]] = defaultdict(Counter)
    for n in nodes:
        for k, v in n.labels:
            index[k][v] += 1
    return index


def _values(values: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" +{len(values) - limit}" if len(values) > limit else "")


def describe(cause: Cause, affected: int, total: int,
             labels: Sequence[tuple[str, Sequence[tuple[str, int, int]]]]) -> str:
    """The one sentence an operator reads.

    >>> c = Cause("TCP_TIMEOUT", "tcp", "myreg.weu.data.azurecr.io", "data", "error", "")
    >>> print(describe(c, 7, 40, [("pool", [("np2", 7, 7)]), ("zone", [("3", 7, 12)])]))
    7 of 40 nodes (pool np2, zone 3) fail at tcp to myreg.weu.data.azurecr.io (TCP_TIMEOUT), every node of pool np2
    """
    parts: list[str] = []
    whole: list[str] = []
    for key, vals in labels:
        names = [v for v, _, _ in vals]
        parts.append(f"{key} {_values(names)}" if len(names) == 1 else f"{key}s {_values(names)}")
        if len(vals) == 1 and vals[0][1] == vals[0][2] and vals[0][2] > 1:
            whole.append(f"{key} {vals[0][0]}")
    noun = "node" if total == 1 else "nodes"
    where = f" ({', '.join(parts)})" if parts else ""
    verb = _VERB.get(cause.severity, "fail")
    if cause.layer == "client":
        what = f"could not be checked ({cause.code})"
    else:
        to = f" to {cause.host}" if cause.host else ""
        what = f"{verb} at {cause.broke_at}{to} ({cause.codes})"
    tail = f", every node of {' and '.join(whole)}" if whole else ""
    return f"{affected} of {total} {noun}{where} {what}{tail}"


def _matrix(reports: Sequence[NodeReport]) -> tuple[MatrixRow, ...]:
    cells: dict[tuple[str, str], dict[str, Counter[str]]] = {}
    for r in reports:
        for e in r.doc.get("endpoints") or ():
            if not isinstance(e, dict):
                continue
            ep = f"{_str(e.get('host'), 253)}:{e.get('port')}"
            row = cells.setdefault((ep, _str(e.get("role"), 20)), {})
            worst: dict[str, str] = {}
            for s in e.get("steps") or ():
                if not isinstance(s, dict) or s.get("status") not in _WORST or s.get("layer") not in LAYERS:
                    continue
                layer, status = s["layer"], s["status"]
                if layer not in worst or _WORST[status] > _WORST[worst[layer]]:
                    worst[layer] = status
            for layer, status in worst.items():
                row.setdefault(layer, Counter())[status] += 1
    out = []
    for (ep, role), row in cells.items():
        layers = tuple((layer, {k: row[layer][k] for k in ("pass", "warn", "fail", "skip")})
                       for layer in LAYERS if layer in row)
        out.append(MatrixRow(endpoint=ep, role=role, layers=layers))
    return tuple(out)


def merge(ingested: Ingested) -> FleetVerdict:
    """The fleet verdict from every node's report."""
    nodes = tuple(node_verdict(r) for r in ingested.reports)
    total = len(nodes)
    index = _label_index(nodes)
    members: dict[tuple[str, str, str | None, str | None], list[NodeVerdict]] = defaultdict(list)
    first: dict[tuple[str, str, str | None, str | None], Cause] = {}
    for n in nodes:
        for c in n.causes:
            members[c.key].append(n)
            first.setdefault(c.key, c)
    groups = []
    for key, affected in members.items():
        cause = first[key]
        labels = []
        for lkey in sorted(index):
            got = Counter(v for n in affected for k, v in n.labels if k == lkey)
            if got:
                labels.append((lkey, tuple((v, cnt, index[lkey][v]) for v, cnt in got.most_common())))
        groups.append(CauseGroup(cause=cause, nodes=tuple(n.name for n in affected), labels=tuple(labels),
                                 summary=describe(cause, len(affected), total, labels)))
    groups.sort(key=lambda g: (-len(g.nodes), g.cause.code, g.cause.host or ""))
    by_label = []
    for lkey in sorted(index):
        for value in sorted(index[lkey]):
            these = [n for n in nodes if (lkey, value) in n.labels]
            causes = Counter(f"{c.codes} {c.broke_at} {c.host or '-'}" for n in these for c in n.causes)
            by_label.append(LabelGroup(key=lkey, value=value, nodes=len(these),
                                       ok=sum(n.status == "ok" for n in these),
                                       problems=sum(n.status == "problems" for n in these),
                                       unknown=sum(n.status == "unknown" for n in these),
                                       causes=tuple(causes.most_common())))
    return FleetVerdict(nodes=nodes, groups=tuple(groups), by_label=tuple(by_label),
                        matrix=_matrix(ingested.reports), skipped_lines=ingested.skipped_lines,
                        rejected=ingested.rejected, superseded=ingested.superseded)
