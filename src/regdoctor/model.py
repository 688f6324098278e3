"""Results as data: what a probe saw, what the diagnosis concluded, what a renderer shows.

Strategy
--------
Everything here is a frozen dataclass of plain values (str, int, float, bool, None, lists and
dicts of those), so a report can be serialised to JSON without a custom encoder and compared in
tests. Nothing in this module does I/O or decides anything.

The flow is one-way::

    probe/   -> EndpointResult(steps=[Step, ...])       what happened, per layer
    diagnose -> Finding(...)                             what it means, with the fix
    render/  -> text | json | markdown | junit           how it is shown

A ``Step`` carries the catalogue ``code`` of the problem it observed (or ``None`` when it passed)
plus raw ``evidence``; ``diagnose`` turns codes into findings by looking them up in the one
catalogue (``regdoctor.kb``), so no code string is spelled in two places.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from regdoctor.kb.codes import Code

Layer = Literal["dns", "proxy", "tcp", "tls", "http", "auth", "registry", "data", "config", "client"]
LAYERS: tuple[Layer, ...] = (
    "dns", "proxy", "tcp", "tls", "http", "auth", "registry", "data", "config", "client",
)
StepStatus = Literal["pass", "warn", "fail", "skip"]
Role = Literal["registry", "realm", "data", "replica", "mirror"]
Severity = Literal["error", "warning", "info"]

#: JSON-compatible evidence. ``Any`` because JSON is recursive; renderers only ever dump it.
Evidence = Mapping[str, Any]


@dataclass(frozen=True)
class Step:
    """One layer of one endpoint, as observed.

    ``code`` is the catalogue code of what went wrong (``None`` for a clean pass); a WARN step
    may carry a code too (e.g. ``PROXY_RULES_DIFFER``). ``summary`` is one human line.
    """

    layer: Layer
    name: str
    status: StepStatus
    elapsed_ms: float
    summary: str = ""
    code: Code | None = None
    evidence: Evidence = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointResult:
    """All steps run against one host:port, in the order they ran."""

    host: str
    port: int
    role: Role
    scheme: str = "https"
    steps: tuple[Step, ...] = ()
    #: Why this endpoint was probed (e.g. "redirect target of blob sha256:…").
    origin: str = ""
    #: The endpoint whose answer sent the check here, as ``host`` or ``host:port`` (its
    #: ``display``): a realm's or a data host's registry. None for what the user named.
    parent: str | None = None

    @property
    def address(self) -> str:
        """``host:port``, an IPv6 host in brackets (``[::1]:5000``), as Go's net.JoinHostPort writes it."""
        return join_host_port(self.host, self.port)

    @property
    def display(self) -> str:
        """``host`` or ``host:port`` as users write the endpoint (the default port omitted)."""
        default = 443 if self.scheme == "https" else 80
        h = f"[{self.host}]" if ":" in self.host else self.host
        return h if self.port == default else f"{h}:{self.port}"

    @property
    def failed(self) -> bool:
        return any(s.status == "fail" for s in self.steps)


@dataclass(frozen=True)
class Finding:
    """A diagnosis entry: one catalogue code applied to one host, with filled-in texts."""

    code: Code
    layer: Layer
    host: str | None
    root_cause: bool
    severity: Severity
    title: str
    cause: str
    fix: str
    evidence: Evidence
    docs: str | None
    az_code: str | None
    #: Only set by ``explain``: how sure the match is, and the text span it matched.
    confidence: float | None = None
    matched: str | None = None
    #: Only set by ``explain``: a command that would confirm the finding live.
    confirm: str | None = None
    #: The root cause this finding follows from, as ``CODE@host`` (None for a root cause, or a
    #: problem that follows from nothing seen in the run).
    consequence_of: str | None = None
    #: Only set by ``explain``: the text also fits this cause, less likely than the root cause
    #: named here (``CODE`` or ``CODE@host``); such a finding is never a root cause.
    alternative_of: str | None = None

    @property
    def role(self) -> str:
        """How the finding stands: ``root cause``, ``alternative`` (explain) or ``consequence``.

        >>> from regdoctor.kb.codes import Code
        >>> f = Finding(Code.TCP_TIMEOUT, "tcp", None, False, "error", "t", "c", "f", {}, None, None,
        ...             alternative_of="DNS_TIMEOUT")
        >>> f.role
        'alternative'
        """
        if self.root_cause:
            return "root cause"
        return "alternative" if self.alternative_of else "consequence"


def join_host_port(host: str, port: int | str) -> str:
    """``host:port``, brackets around an IPv6 host, so that the port stays readable.

    >>> join_host_port("r.io", 443), join_host_port("::1", 5000)
    ('r.io:443', '[::1]:5000')
    """
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@dataclass(frozen=True)
class NodeInfo:
    """Which machine a report is from (``check --node NAME --label KEY=VALUE``), so that
    ``regdoctor fleet`` can group many machines' reports by node pool or zone."""

    name: str
    labels: tuple[tuple[str, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "labels": dict(self.labels)}


@dataclass(frozen=True)
class Report:
    """What one ``check`` run produced."""

    targets: tuple[str, ...]
    endpoints: tuple[EndpointResult, ...]
    findings: tuple[Finding, ...]
    elapsed_ms: float = 0.0
    node: NodeInfo | None = None

    @property
    def problems(self) -> bool:
        """Errors and warnings are problems (exit 1); info findings are notes."""
        return any(f.severity in ("error", "warning") for f in self.findings)

    @property
    def status(self) -> Literal["ok", "problems"]:
        return "problems" if self.problems else "ok"


def finding_to_dict(f: Finding) -> dict[str, Any]:
    """The JSON shape of a finding (SPEC "JSON contract"); explain-only keys appear when set."""
    out: dict[str, Any] = {
        "code": f.code,
        "layer": f.layer,
        "host": f.host,
        "root_cause": f.root_cause,
        "severity": f.severity,
        "title": f.title,
        "cause": f.cause,
        "fix": f.fix,
        "evidence": dict(f.evidence),
        "docs": f.docs,
        "az_code": f.az_code,
        "consequence_of": f.consequence_of,
    }
    if f.confidence is not None:
        out["confidence"] = round(f.confidence, 3)
    if f.matched is not None:
        out["matched"] = f.matched
    if f.confirm is not None:
        out["confirm"] = f.confirm
    if f.alternative_of is not None:
        out["alternative_of"] = f.alternative_of
    return out


def step_to_dict(s: Step) -> dict[str, Any]:
    return {
        "layer": s.layer,
        "name": s.name,
        "status": s.status,
        "elapsed_ms": round(s.elapsed_ms, 1),
        "summary": s.summary,
        "code": s.code,
        "evidence": dict(s.evidence),
    }


def endpoint_to_dict(e: EndpointResult) -> dict[str, Any]:
    return {
        "host": e.host,
        "port": e.port,
        "role": e.role,
        "scheme": e.scheme,
        "origin": e.origin,
        "parent": e.parent,
        "steps": [step_to_dict(s) for s in e.steps],
    }


def findings_sorted(findings: Sequence[Finding]) -> list[Finding]:
    """Root causes (errors before warnings), then the consequences, then the other problems
    (warnings that explain nothing seen), then notes; stable within each group."""
    rank = {"error": 0, "warning": 1, "info": 2}

    def key(f: Finding) -> tuple[int, int]:
        if f.root_cause:
            group = 0
        elif f.consequence_of is not None:
            group = 1
        else:
            group = 2 if f.severity != "info" else 3
        return group, rank[f.severity]

    return sorted(findings, key=key)
