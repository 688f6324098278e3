"""One ``regdoctor logs`` run: files in, a ``LogsReport`` out (no printing, no exit codes).

The order matters for the user: the ACR config is read first and every input's shape detected
before DuckDB reads a byte, so a bad argument fails in milliseconds, not after a ten-second scan.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from regdoctor.logs import analysis, engine, findings, sources
from regdoctor.logs.network import Rules, network_judge

if TYPE_CHECKING:
    from regdoctor.acr.model import RegistryConfig
from regdoctor.model import Finding

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Options:
    since: datetime | None = None
    until: datetime | None = None
    identities: tuple[str, ...] = ()
    networks: tuple[Network, ...] = ()
    #: a group smaller than this is not a finding
    min_count: int = 3
    #: groups reported per pattern
    limit: int = 10
    acr_config: RegistryConfig | None = None
    settings: engine.Settings = field(default_factory=engine.Settings)


@dataclass(frozen=True)
class LogsReport:
    inputs: tuple[engine.FileStats, ...]
    analysis: analysis.Analysis
    findings: tuple[Finding, ...]
    rules: Rules | None
    elapsed_ms: float
    options: Options

    @property
    def problems(self) -> bool:
        return any(f.severity in ("error", "warning") for f in self.findings)

    @property
    def status(self) -> str:
        return "problems" if self.problems else "ok"

    def scope(self) -> str:
        parts = []
        if self.options.since:
            parts.append(f"since {findings.iso(self.options.since)}")
        if self.options.until:
            parts.append(f"until {findings.iso(self.options.until)}")
        if self.options.identities:
            parts.append("for " + ", ".join(self.options.identities))
        if self.options.networks:
            parts.append("from " + ", ".join(str(n) for n in self.options.networks))
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` document's body beside ``status`` and ``findings``."""
        s = self.analysis.summary
        return {
            "inputs": [{"file": f.path, "shape": f.shape, "rows": f.rows, "skipped": f.skipped} for f in self.inputs],
            "scope": {"since": findings.iso(self.options.since), "until": findings.iso(self.options.until),
                      "identities": list(self.options.identities),
                      "networks": [str(n) for n in self.options.networks]},
            "summary": {
                "events": s.events, "failures": s.failures, "first": findings.iso(s.first),
                "last": findings.iso(s.last), "classes": dict(s.classes), "tables": dict(s.tables),
                "statuses": dict(s.statuses),
                "login_servers": [{"login_server": k, "events": e, "failures": f} for k, e, f in s.login_servers],
                "clients": [{"client": c, "events": e, "failures": f} for c, e, f in s.clients],
                "identities": s.identities, "addresses": s.ips,
                "new_after": findings.iso(self.analysis.baseline_end),
                "failures_per_hour": [{"hour": findings.iso(h), **dict(c)} for h, c in s.hourly],
            },
            "registry_rules": None if self.rules is None else {
                "registry": self.rules.registry, "login_server": self.rules.login_server,
                "public_network_access": self.rules.public_access, "default_action": self.rules.default_action,
                "ip_rules": list(self.rules.ip_rules)},
            "elapsed_ms": round(self.elapsed_ms, 1),
        }


def run(args: Sequence[str], options: Options) -> LogsReport:
    """Read every file named by ``args`` (paths, globs, directories) and analyse them.

    >>> run(["/nonexistent.json"], Options())
    Traceback (most recent call last):
    ...
    regdoctor.errors.BadInput: /nonexistent.json: no such file
    """
    started = time.perf_counter()
    rules, judge = network_judge(options.acr_config) if options.acr_config is not None else (None, None)
    srcs = sources.detect_all(sources.expand(args))
    with engine.connect(options.settings) as db:
        srcs, paths = engine.prepare(db.con, srcs, db.scratch)
        scanned = engine.scan(db.con, srcs, paths, since=options.since, until=options.until)
        if options.identities or options.networks:
            engine.apply_filters(db.con, identities=options.identities, networks=options.networks)
        result = analysis.analyse(db.con, since=options.since, until=options.until, limit=options.limit,
                                  min_count=options.min_count)
    report = LogsReport(scanned.files, result, (), rules, 0.0, options)
    found = findings.findings(result, files=[(f.path, f.rows, f.skipped) for f in scanned.files], rules=rules,
                              judge=judge, min_count=options.min_count, scope=report.scope())
    return LogsReport(scanned.files, result, tuple(found), rules, (time.perf_counter() - started) * 1000, options)


__all__ = ["LogsReport", "Options", "run"]
