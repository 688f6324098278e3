"""Ranking: line matches -> groups -> findings, best first, with the message-level summary.

Every matching line joins a group (symptom, code, host) with a count and first/last line; each
group yields its primary finding and its alternatives. Memory is bounded by ``MAX_GROUPS``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from regdoctor import kb
from regdoctor.explain.entities import Bounds, merge_bounds, version_texts
from regdoctor.explain.findings import Acc, build_finding, finding_host
from regdoctor.explain.match import LineMatch
from regdoctor.kb.codes import Code
from regdoctor.kb.symptoms import SymptomBook
from regdoctor.model import Finding

#: Alternatives kept per symptom group (after the primary).
MAX_ALTERNATIVES = 4
#: Distinct groups kept; further distinct hosts fold into their symptom's first group.
MAX_GROUPS = 500
#: Characters of a line kept as a group's sample.
SAMPLE_CHARS = 400
#: Entries kept per list in the message-level entity summary.
MAX_LIST = 20

_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}

@dataclass(frozen=True)
class Group:
    """Every line of one symptom on one host: the unit of ``explain --file`` output."""

    symptom: str
    code: Code
    layer: str
    host: str | None
    count: int
    first_line: int
    last_line: int
    #: the matched text of the group's first line, and that line (both redacted, cut)
    matched: str
    sample: str
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Explanation:
    """What ``explain`` concluded from a text: findings best first, groups, entity summary."""

    findings: tuple[Finding, ...]
    groups: tuple[Group, ...]
    entities: Mapping[str, Any]
    lines: int
    matched_lines: int
    cut_lines: int

    @property
    def recognised(self) -> bool:
        return bool(self.findings)

    def extra(self) -> dict[str, Any]:
        """The keys ``explain --json`` adds beside the findings (SPEC: additive)."""
        return {
            "input": {"lines": self.lines, "matched_lines": self.matched_lines, "cut_lines": self.cut_lines},
            "entities": dict(self.entities),
            "groups": [g.to_dict() for g in self.groups],
        }


def _summary(matches: Sequence[LineMatch]) -> dict[str, Any]:
    lists: dict[str, list[Any]] = {}
    bounds: Bounds = {}

    def add(key: str, value: Any) -> None:
        if value in (None, ""):
            return
        bucket = lists.setdefault(key, [])
        if value not in bucket and len(bucket) < MAX_LIST:
            bucket.append(value)

    for lm in matches:
        e = lm.entities
        for key in ("registry_host", "url_host", "host", "login_server", "python_host"):
            add("hosts", e.get(key))
        add("proxy_hosts", e.get("proxy_host"))
        add("addresses", e.get("address"))
        add("ports", e.get("port"))
        add("resolvers", e.get("resolver"))
        add("proxies", e.get("proxy_address") or e.get("proxy"))
        add("statuses", e.get("status"))
        add("client_ips", e.get("client_ip"))
        add("acr_registries", e.get("registry"))
        add("regions", e.get("region"))
        add("clients", e.get("client"))
        for lib, (lo, hi) in e.get("client_bounds", {}).items():
            merge_bounds(bounds, {lib: (tuple(lo) if lo else None, tuple(hi) if hi else None)})
        for v in e.get("client_facts", []):
            add("client_facts", v)
        add("repositories", e.get("repository"))
    # version hints of every line together: a library whose hints disagree is left out
    versions = version_texts(bounds)
    if versions:
        lists["client_versions"] = versions[:MAX_LIST]
    return lists


class Collector:
    """Groups line matches; bounded in the number of groups it keeps."""

    def __init__(self) -> None:
        self.groups: dict[tuple[str, str, str | None], Acc] = {}
        self.samples: list[LineMatch] = []
        self.matched_lines = 0

    def add(self, lm: LineMatch) -> None:
        self.matched_lines += 1
        host = finding_host(lm.code, lm.entities) or (str(lm.entities["address"]) if "address" in lm.entities
                                                        else None)
        key = (lm.symptom, lm.code, host)
        acc = self.groups.get(key)
        if acc is None and len(self.groups) >= MAX_GROUPS:
            # an adversarial log with endless distinct hosts: fold into the symptom's first group
            acc = next((a for k, a in self.groups.items() if k[0] == lm.symptom and k[1] == lm.code), None)
            if acc is None:
                return
        if acc is None:
            self.groups[key] = Acc(lm, 1, lm.lineno)
            if len(self.samples) < MAX_GROUPS:
                self.samples.append(lm)
        else:
            acc.count += 1
            acc.last_line = lm.lineno


def explanation(col: Collector, lines: int, cut: int, bk: SymptomBook) -> Explanation:
    """Findings from the groups: per group one root cause, the other readings its alternatives.

    Order: root causes, surest first; then findings that another root cause explains (catalogue
    ``explains``: consequences); then the alternatives, surest first (errors before warnings in
    each, as ``model.findings_sorted`` has it).
    """
    accs = sorted(col.groups.values(), key=lambda a: a.first.lineno)
    multi = len(accs) > 1
    made: dict[tuple[str, str | None], tuple[Finding, bool, int]] = {}
    for acc in accs:
        top = acc.first.code
        top_host = finding_host(top, acc.first.entities)
        ref = f"{top}@{top_host}" if top_host else str(top)
        for rank, (code, conf) in enumerate(acc.first.ranked[: MAX_ALTERNATIVES + 1]):
            f = build_finding(code, conf, acc, alternative=rank > 0, multi=multi, bk=bk, alternative_of=ref)
            key = (f.code, f.host)
            old = made.get(key)
            # a primary beats an alternative of the same code and host; else the surer one wins
            if old is None or (old[1] and rank == 0) or (old[1] == (rank > 0) and conf > (old[0].confidence or 0)):
                made[key] = (f, rank > 0, acc.first.lineno)
    primaries = {(f.code, f.host) for f, alt, _ in made.values() if not alt}
    out: list[tuple[Finding, int, int]] = []
    for f, alt, first in made.values():
        if alt:
            out.append((f, 2, first))
            continue
        # a code that another root cause's code explains (catalogue `explains`) is its consequence
        cause = next(((c, h) for c, h in primaries if c != f.code and h == f.host and f.code in kb.code(c).explains),
                     None)
        if cause is None:
            out.append((f, 0, first))
        else:
            ref = f"{cause[0]}@{cause[1]}" if cause[1] else str(cause[0])
            out.append((dataclasses.replace(f, root_cause=False, consequence_of=ref), 1, first))
    # the buckets and severities are those of model.findings_sorted, so a renderer's sort keeps this order
    out.sort(key=lambda t: (t[1] + (t[1] == 2 and t[0].severity == "info"), _SEVERITY_RANK[t[0].severity],
                            -(t[0].confidence or 0), t[2]))
    groups = tuple(
        Group(symptom=a.first.symptom, code=a.first.code, layer=kb.code(a.first.code).layer,
              host=finding_host(a.first.code, a.first.entities), count=a.count, first_line=a.first.lineno,
              last_line=a.last_line, matched=a.first.matched[:SAMPLE_CHARS], sample=a.first.line[:SAMPLE_CHARS],
              confidence=a.first.confidence)
        for a in accs)
    return Explanation(findings=tuple(f for f, _, _ in out), groups=groups, entities=_summary(col.samples),
                       lines=lines, matched_lines=col.matched_lines, cut_lines=cut)

