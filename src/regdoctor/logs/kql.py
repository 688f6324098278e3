"""The Log Analytics (KQL) queries that give ``regdoctor logs``' answers where the data lives.

Strategy
--------
One query per analysis, over the documented tables ``ContainerRegistryLoginEvents`` and
``ContainerRegistryRepositoryEvents`` (whose ``ResultDescription`` is the HTTP status as text,
hence ``toint``). The filters of the command line become ``where`` clauses: a relative
``--since 24h`` stays relative (``ago(24h)``), an instant becomes ``datetime(…)``, ``--ip``
networks become ``ipv4_is_in_range``/``ipv6_is_in_range``. The client column is computed from the
same rules as ``useragent`` (KQL's regular expressions are RE2, like DuckDB's). Strings are
escaped, so an identity or address from the command line cannot change a query's meaning.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from regdoctor.logs import useragent
from regdoctor.logs.timespec import span

LOGIN = "ContainerRegistryLoginEvents"
REPOSITORY = "ContainerRegistryRepositoryEvents"
_CTRL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Query:
    name: str
    title: str
    kql: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "title": self.title, "kql": self.kql}


def string(value: str) -> str:
    """A KQL string literal.

    >>> string('a"b\\\\c')
    '"a\\\\"b\\\\\\\\c"'
    """
    body = value.replace("\\", "\\\\").replace('"', '\\"')
    body = _CTRL_RE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", body)
    return f'"{body}"'


def _verbatim(pattern: str) -> str:
    return '@"' + pattern.replace('"', '""') + '"'


def _timespan(td_seconds: float) -> str:
    s = int(td_seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s and s % size == 0:
            return f"{s // size}{unit}"
    return f"{s}s"


def instant(raw: str | None, resolved: datetime | None) -> str | None:
    """``ago(24h)`` for a relative value, ``datetime(2024-05-06T00:00:00Z)`` for an instant.

    >>> instant("24h", None), instant("2024-05-06", datetime(2024, 5, 6))
    ('ago(1d)', 'datetime(2024-05-06T00:00:00Z)')
    """
    if raw is not None and raw.strip().lower() == "now":
        return "now()"
    if raw is not None:
        back = span(raw.strip())
        if back is not None:
            return f"ago({_timespan(back.total_seconds())})"
    if resolved is None:
        return None
    return f"datetime({resolved.strftime('%Y-%m-%dT%H:%M:%S')}Z)"


def _filters(*, since: str | None, until: str | None, identities: Sequence[str],
             networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network], ip_column: str) -> list[str]:
    out = []
    if since:
        out.append(f"| where TimeGenerated >= {since}")
    if until:
        out.append(f"| where TimeGenerated < {until}")
    if identities:
        out.append(f"| where Identity in~ ({', '.join(string(i) for i in identities)})")
    if networks:
        preds = [f"ipv{n.version}_is_in_range({ip_column}, {string(str(n))})" for n in networks]
        out.append(f"| where {' or '.join(preds)}")
    return out


def client_case(column: str = "UserAgent") -> str:
    """``case(...)`` naming the client, from ``useragent.RULES``."""
    arms = ", ".join(f"{column} matches regex {_verbatim(p)}, {string(n)}" for n, p in useragent.RULES)
    return f'case(isempty({column}), "none", {arms}, "other")'


def queries(*, since_raw: str | None = None, until_raw: str | None = None, since: datetime | None = None,
            until: datetime | None = None, identities: Sequence[str] = (),
            networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = (), min_count: int = 3
            ) -> list[Query]:
    """Every query, with the command line's filters applied.

    >>> qs = queries(since_raw="24h", identities=["alice@contoso.com"])
    >>> [q.name for q in qs][:3]
    ['overview', 'firewall_denials', 'firewall_history']
    >>> "ago(1d)" in qs[1].kql and '"alice@contoso.com"' in qs[1].kql
    True
    """
    lo = instant(since_raw, since)
    hi = instant(until_raw, until)
    ip = "CallerIp"
    normalise = (f'| extend Status = toint(ResultDescription), {ip} = iff(CallerIpAddress matches regex '
                 f'@"^[0-9.]+:[0-9]+$", tostring(split(CallerIpAddress, ":")[0]), '
                 f'trim(@"[\\[\\]]", tostring(split(CallerIpAddress, "]:")[0])))')
    where = _filters(since=lo, until=hi, identities=identities, networks=networks, ip_column=ip)

    def head(table: str) -> str:
        return "\n".join([table, normalise, *where])

    both = f"union isfuzzy=true {LOGIN}, {REPOSITORY}"  # isfuzzy: a table not exported yet is no error
    n = int(min_count)
    start = lo or f"toscalar({LOGIN} | summarize min(TimeGenerated))"
    end = hi or f"toscalar({LOGIN} | summarize max(TimeGenerated))"
    out = [
        Query("overview", "Events by table and result (the summary)",
              f"""{head(both)}
| summarize events = count(), first = min(TimeGenerated), last = max(TimeGenerated) by Type, ResultDescription
| order by events desc"""),
        Query("firewall_denials", "Logins refused by the network rules (403), by caller network",
              f"""{head(LOGIN)}
| where Status == 403
| summarize denials = count(), first = min(TimeGenerated), last = max(TimeGenerated),
    identities = dcount(Identity), addresses = make_set({ip}, 256)
    by LoginServer, CallerNetwork = iff({ip} contains ":", {ip}, format_ipv4_mask({ip}, 24))
| where denials >= {n}
| order by denials desc"""),
        Query("firewall_history", "Were the refused addresses admitted before (rule change) or new?",
              f"""let denied = {head(LOGIN)}
| where Status == 403
| summarize firstDenied = min(TimeGenerated), denials = count() by {ip};
{head(LOGIN)}
| join kind=inner denied on {ip}
| summarize firstSeen = min(TimeGenerated), admitted = countif(Status between (200 .. 399)),
    lastAdmitted = maxif(TimeGenerated, Status between (200 .. 399)) by {ip}, firstDenied, denials
| extend verdict = case(admitted == 0 and firstSeen >= firstDenied, "new address",
    lastAdmitted < firstDenied, "admitted before: rules changed", "intermittent")
| order by denials desc"""),
        Query("auth_by_identity", "Authentication failures (401) by identity; stoppedWorking = dead secret",
              f"""{head(LOGIN)}
| summarize failures = countif(Status == 401), successes = countif(Status between (200 .. 399)),
    firstFailure = minif(TimeGenerated, Status == 401), lastFailure = maxif(TimeGenerated, Status == 401),
    lastSuccess = maxif(TimeGenerated, Status between (200 .. 399)),
    failingAddresses = dcountif({ip}, Status == 401), addresses = dcount({ip}) by LoginServer, Identity
| where failures >= {n}
| extend stoppedWorking = successes > 0 and lastSuccess < firstFailure
| order by failures desc"""),
        Query("auth_by_address", "One address failing as many identities (401)",
              f"""{head(LOGIN)}
| where Status == 401
| summarize failures = count(), identities = dcount(Identity), identityList = make_set(Identity, 20),
    first = min(TimeGenerated), last = max(TimeGenerated) by LoginServer, {ip}
| where identities >= 3 and failures >= {n}
| order by failures desc"""),
        Query("throttled", "Throttled requests (429) by identity, with the per-minute peak",
              f"""{head(both)}
| where Status == 429
| summarize n = count(), addresses = dcount({ip}) by LoginServer, Identity, Minute = bin(TimeGenerated, 1m)
| summarize throttled = sum(n), peakPerMinute = max(n), first = min(Minute), last = max(Minute)
    by LoginServer, Identity
| where throttled >= {n}
| order by throttled desc"""),
        Query("server_errors", "Server errors (5xx) by region, with correlation IDs for a support case",
              f"""{head(both)}
| where Status >= 500
| summarize errors = count(), statuses = make_set(ResultDescription), first = min(TimeGenerated),
    last = max(TimeGenerated), correlationIds = make_set(CorrelationId, 5) by LoginServer, Region
| order by errors desc"""),
        Query("permission_denied", "Repository operations refused after login (403): role or token scope",
              f"""{head(REPOSITORY)}
| where Status == 403
| summarize denials = count(), operations = make_set(OperationName), repositories = make_set(Repository, 10),
    first = min(TimeGenerated), last = max(TimeGenerated) by LoginServer, Identity
| order by denials desc"""),
        Query("not_found", "Repository or tag not found (404)",
              f"""{head(REPOSITORY)}
| where Status == 404
| summarize requests = count(), tags = make_set(Tag, 10), identities = make_set(Identity, 10),
    first = min(TimeGenerated), last = max(TimeGenerated) by LoginServer, Repository
| where requests >= {n}
| order by requests desc"""),
        Query("new_addresses", "Failing addresses first seen after the start of the window",
              f"""let windowStart = {start};
let windowEnd = {end};
let baselineEnd = windowStart + min_of(max_of((windowEnd - windowStart) / 4, 1h), 24h);
{head(both)}
| summarize firstSeen = min(TimeGenerated), events = count(), failures = countif(Status >= 400) by LoginServer, {ip}
| where firstSeen > baselineEnd and failures > 0
| summarize addresses = make_set({ip}, 50), firstSeen = min(firstSeen), failures = sum(failures), events = sum(events)
    by LoginServer, CallerNetwork = iff({ip} contains ":", {ip}, format_ipv4_mask({ip}, 24))
| order by failures desc"""),
        Query("failures_per_minute", "Failures per minute by class (bursts; add `| render timechart`)",
              f"""{head(both)}
| where Status >= 400
| summarize failures = count() by Minute = bin(TimeGenerated, 1m), Class = case(Status == 401, "auth",
    Status == 403, "denied", Status == 404, "not found", Status == 429, "throttled", Status >= 500, "server", "other")
| order by Minute asc"""),
        Query("clients", "Events and failures by client (from the user agent)",
              f"""{head(both)}
| extend Client = {client_case()}
| summarize events = count(), failures = countif(Status >= 400) by Client, UserAgent
| order by failures desc, events desc"""),
    ]
    return out


__all__ = ["LOGIN", "REPOSITORY", "Query", "client_case", "instant", "queries", "string"]
