"""The one line and the exit status of ``check --npd`` (node-problem-detector's custom-plugin contract).

Contract (kubernetes/node-problem-detector ``pkg/custompluginmonitor``): exit 0 OK, 1 NonOK,
2 Unknown; stdout, cut to ``max_output_length`` (80 by default), is the condition's message.
The line leads with a condition-style reason and names the first root cause as
``CODE layer host:port``, so that the message alone says where the path breaks::

    RegistryUnreachable: TCP_TIMEOUT tcp myreg.westeurope.data.azurecr.io:443

Warnings (a certificate that expires soon, proxy rules that differ) are problems for ``check``
(exit 1) but not a broken node: NPD gets exit 0 and the warning in the message, so the node's
condition does not flip for something that does not stop pulls yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from regdoctor.model import Finding, Report, findings_sorted, join_host_port

OK, PROBLEM, UNKNOWN = 0, 1, 2

#: The reason word per layer of the root cause (a NodeCondition reason is CamelCase).
REASONS = {
    "dns": "RegistryUnreachable", "proxy": "RegistryUnreachable", "tcp": "RegistryUnreachable",
    "tls": "RegistryUnreachable", "http": "RegistryUnreachable", "data": "RegistryUnreachable",
    "auth": "RegistryAuthFailed", "registry": "RegistryPullFailed", "config": "RegistryMisconfigured",
}


@dataclass(frozen=True)
class NpdVerdict:
    status: int
    line: str


def _where(report: Report, f: Finding) -> str:
    if f.host is None:
        return f.layer
    port = next((e.port for e in report.endpoints if e.host == f.host), None)
    return f"{f.layer} {join_host_port(f.host, port)}" if port is not None else f"{f.layer} {f.host}"


def _fit(head: str, tail: str, limit: int) -> str:
    """``head`` + ``tail`` within ``limit``; the tail (a host name) is cut in the middle if needed."""
    line = head + tail
    if len(line) <= limit:
        return line
    room = limit - len(head) - 1
    if room < 8:
        return line[: limit - 1] + "…"
    keep = room // 2
    return head + tail[:keep] + "…" + tail[len(tail) - (room - keep):]


def npd_verdict(report: Report, max_length: int = 80) -> NpdVerdict:
    """Exit status and line for NPD.

    >>> npd_verdict(Report(targets=("r.io",), endpoints=(), findings=())).line
    'RegistryReachable: r.io'
    """
    findings = findings_sorted(report.findings)
    crash = [f for f in findings if f.layer == "client"]
    if crash:
        return NpdVerdict(UNKNOWN, _fit("Unknown: ", f"{crash[0].code} {crash[0].title}", max_length))
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        roots = [f for f in errors if f.root_cause] or errors
        first = roots[0]
        more = f" (+{len(roots) - 1} more)" if len(roots) > 1 else ""
        head = f"{REASONS.get(first.layer, 'RegistryUnreachable')}: {first.code} "
        line = _fit(head, _where(report, first) + more, max_length)
        if more and "…" in line:  # the host had to be cut: drop the count first
            line = _fit(head, _where(report, first), max_length)
        return NpdVerdict(PROBLEM, line)
    warnings = [f for f in findings if f.severity == "warning"]
    targets = ", ".join(report.targets) or "no registry"
    if warnings:
        return NpdVerdict(OK, _fit("RegistryReachable: warning ", f"{warnings[0].code} {_where(report, warnings[0])}",
                                   max_length))
    return NpdVerdict(OK, _fit("RegistryReachable: ", targets, max_length))
