"""The questions asked of the aggregated events (``cube``), answered as frozen values.

Strategy
--------
Every pattern is the same shape of question: *which groups of failing events* (by caller
network, identity, address, region, repository) *are largest, when did they start and end,
how high was their per-minute peak, which values dominate them, and in which bursts did they
come*. ``profile`` answers it for any filter and grouping, in SQL over ``cube`` (small: a few
thousand rows per day of traffic), so the answer for ten million events costs milliseconds.
A few follow-up questions give history: when did an identity last succeed, was an address
ever admitted before it was refused, when was it first seen.

Nothing here decides what is a problem: ``findings`` does, from these values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import TYPE_CHECKING, Any

from regdoctor.logs import useragent
from regdoctor.logs.readers import lit

if TYPE_CHECKING:
    import duckdb

#: Failures at most this many minutes apart belong to one burst (a kubelet's image pull back-off
#: tops out at five minutes, so its retries stay one burst).
BURST_GAP_MINUTES = 10
#: How many bursts a group reports (the largest, in time order).
BURSTS_PER_GROUP = 3
#: 5xx under this share of a region's events, with no minute at the burst rate, are the
#: background every service has, not an incident.
SERVER_NOISE_SHARE = 0.005
SERVER_BURST_PER_MINUTE = 10

#: Dimensions a group can be broken down by: name -> SQL over ``cube``.
DIMENSIONS: dict[str, str] = {
    "ip": "caller_ip",
    "identity": "identity",
    "client": "client || chr(9) || coalesce(client_version, '')",
    "login_server": "login_server",
    "region": "region",
    "operation": "operation",
    "repository": "repository || coalesce(':' || tag, '')",
    "status": "CAST(status AS VARCHAR)",
    "table": "tbl",
}

_ids = count()


@dataclass(frozen=True)
class Window:
    """A burst: failures with no gap longer than ``BURST_GAP_MINUTES``."""

    start: datetime
    end: datetime
    count: int
    peak_per_minute: int


@dataclass(frozen=True)
class Group:
    """One group of events: its key values, size, time span, peak and dominant values."""

    key: tuple[str | None, ...]
    count: int
    first: datetime
    last: datetime
    identities: int
    ips: int
    peak_per_minute: int
    peak_minute: datetime | None
    top: Mapping[str, tuple[tuple[str, int], ...]] = field(default_factory=dict)
    bursts: tuple[Window, ...] = ()


@dataclass(frozen=True)
class History:
    """What else one key value (an address, an identity) did in scope, whatever the status."""

    first_seen: datetime
    last_seen: datetime
    events: int
    ok: int
    first_ok: datetime | None
    last_ok: datetime | None
    ips: int


@dataclass(frozen=True)
class NewAddress:
    login_server: str | None
    ip: str
    net: str
    first_seen: datetime
    events: int
    failures: int
    statuses: tuple[int, ...] = ()


@dataclass(frozen=True)
class Summary:
    events: int
    first: datetime | None
    last: datetime | None
    classes: Mapping[str, int]
    tables: Mapping[str, int]
    statuses: tuple[tuple[str, int], ...]
    #: (login server, events, failures), most events first
    login_servers: tuple[tuple[str, int, int], ...]
    #: (client label, events, failures), most events first
    clients: tuple[tuple[str, int, int], ...]
    identities: int
    ips: int
    #: (hour, failures by class) for every hour with a failure, in time order
    hourly: tuple[tuple[datetime, Mapping[str, int]], ...] = ()

    @property
    def failures(self) -> int:
        return sum(v for k, v in self.classes.items() if k not in ("ok", "unknown"))


@dataclass(frozen=True)
class Analysis:
    summary: Summary
    window_start: datetime | None
    window_end: datetime | None
    #: addresses first seen after this are "new" (None: the span is too short to tell)
    baseline_end: datetime | None
    denied: tuple[Group, ...] = ()
    auth_identity: tuple[Group, ...] = ()
    auth_ip: tuple[Group, ...] = ()
    throttled: tuple[Group, ...] = ()
    server: tuple[Group, ...] = ()
    permission: tuple[Group, ...] = ()
    not_found: tuple[Group, ...] = ()
    new_addresses: tuple[NewAddress, ...] = ()
    ip_history: Mapping[str, History] = field(default_factory=dict)
    identity_history: Mapping[str, History] = field(default_factory=dict)
    #: all events per (login server, region), the denominator of server-error rates
    region_events: Mapping[tuple[str | None, str | None], int] = field(default_factory=dict)
    #: a few correlation IDs of each server-error group (by its key)
    correlation_ids: Mapping[tuple[str | None, ...], tuple[str, ...]] = field(default_factory=dict)


def _none(v: Any) -> str | None:
    return None if v is None or v == "" else str(v)


def _dim_value(dim: str, value: str) -> str:
    if dim == "client":
        client, _, version = value.partition("\t")
        return useragent.label(client, version or None)
    return value


def profile(con: duckdb.DuckDBPyConnection, where: str, keys: Sequence[str], *, dims: Mapping[str, int],
            limit: int, min_count: int = 1, having: str = "") -> tuple[Group, ...]:
    """The ``limit`` largest groups of ``cube`` rows matching ``where``, grouped by ``keys``.

    ``dims`` names the dimensions to break each group down by, with how many top values to keep.
    ``having`` is an extra SQL condition on the group (``ids``, ``ips``, ``n`` are available).
    """
    t = f"p{next(_ids)}"
    kexpr = ", ".join(f"coalesce(CAST({k} AS VARCHAR), '') AS k{i}" for i, k in enumerate(keys))
    kcols = ", ".join(f"k{i}" for i in range(len(keys)))
    cond = f"n >= {int(min_count)}" + (f" AND ({having})" if having else "")
    con.execute(f"CREATE TEMP TABLE {t}_b AS SELECT *, {kexpr} FROM cube WHERE {where}")
    con.execute(f"""CREATE TEMP TABLE {t}_g AS SELECT * FROM (
        SELECT {kcols}, sum(n) AS n, min(first) AS first, max(last) AS last,
               count(DISTINCT identity) AS ids, count(DISTINCT caller_ip) AS ips
        FROM {t}_b GROUP BY {kcols}) WHERE {cond} ORDER BY n DESC, {kcols} LIMIT {int(limit)}""")
    groups = con.execute(f"SELECT {kcols}, n, first, last, ids, ips FROM {t}_g ORDER BY n DESC, {kcols}").fetchall()
    if not groups:
        con.execute(f"DROP TABLE {t}_b")
        con.execute(f"DROP TABLE {t}_g")
        return ()
    con.execute(f"CREATE TEMP TABLE {t}_m AS SELECT {kcols}, bucket, sum(n) AS c, min(first) AS f, max(last) AS l "
                f"FROM {t}_b SEMI JOIN {t}_g USING ({kcols}) GROUP BY {kcols}, bucket")
    peaks = {tuple(r[:-2]): (int(r[-2]), r[-1]) for r in con.execute(
        f"SELECT {kcols}, max(c), arg_max(bucket, c) FROM {t}_m GROUP BY {kcols}").fetchall()}
    tops: dict[tuple[Any, ...], dict[str, list[tuple[str, int]]]] = {}
    for dim, n_top in dims.items():
        expr = DIMENSIONS[dim]
        rows = con.execute(f"""SELECT {kcols}, v, c FROM (
            SELECT {kcols}, {expr} AS v, sum(n) AS c FROM {t}_b SEMI JOIN {t}_g USING ({kcols})
            WHERE {expr} IS NOT NULL GROUP BY ALL)
            QUALIFY row_number() OVER (PARTITION BY {kcols} ORDER BY c DESC, v) <= {int(n_top)}
            ORDER BY {kcols}, c DESC, v""").fetchall()
        for r in rows:
            tops.setdefault(tuple(r[:-2]), {}).setdefault(dim, []).append((_dim_value(dim, str(r[-2])), int(r[-1])))
    gap = f"INTERVAL {BURST_GAP_MINUTES} MINUTE"
    bursts: dict[tuple[Any, ...], list[Window]] = {}
    for r in con.execute(f"""
        WITH g AS (SELECT *, CASE WHEN bucket - lag(bucket) OVER (PARTITION BY {kcols} ORDER BY bucket) <= {gap}
                              THEN 0 ELSE 1 END AS brk FROM {t}_m),
             i AS (SELECT *, sum(brk) OVER (PARTITION BY {kcols} ORDER BY bucket ROWS UNBOUNDED PRECEDING) AS isl
                   FROM g),
             w AS (SELECT {kcols}, isl, min(f) AS s, max(l) AS e, sum(c) AS c, max(c) AS p FROM i GROUP BY {kcols}, isl)
        SELECT {kcols}, s, e, c, p FROM w
        QUALIFY row_number() OVER (PARTITION BY {kcols} ORDER BY c DESC, s) <= {BURSTS_PER_GROUP}
        ORDER BY {kcols}, s""").fetchall():
        bursts.setdefault(tuple(r[:-4]), []).append(Window(r[-4], r[-3], int(r[-2]), int(r[-1])))
    for suffix in ("b", "g", "m"):
        con.execute(f"DROP TABLE {t}_{suffix}")
    out = []
    nk = len(keys)
    for r in groups:
        k = tuple(r[:nk])
        peak, peak_at = peaks.get(k, (0, None))
        out.append(Group(key=tuple(_none(v) for v in k), count=int(r[nk]), first=r[nk + 1], last=r[nk + 2],
                         identities=int(r[nk + 3]), ips=int(r[nk + 4]), peak_per_minute=peak, peak_minute=peak_at,
                         top={d: tuple(v) for d, v in tops.get(k, {}).items()}, bursts=tuple(bursts.get(k, ()))))
    return tuple(out)


def history(con: duckdb.DuckDBPyConnection, column: str, values: Sequence[str]) -> dict[str, History]:
    """For each value of ``column`` (``caller_ip`` or ``identity``): everything it did in scope."""
    if not values:
        return {}
    listed = ", ".join(lit(v) for v in sorted(set(values)))
    rows = con.execute(f"""SELECT {column}, min(first), max(last), sum(n),
        coalesce(sum(n) FILTER (WHERE cls = 'ok'), 0),
        min(first) FILTER (WHERE cls = 'ok'), max(last) FILTER (WHERE cls = 'ok'), count(DISTINCT caller_ip)
        FROM cube WHERE {column} IN ({listed}) GROUP BY {column}""").fetchall()
    return {str(r[0]): History(r[1], r[2], int(r[3]), int(r[4]), r[5], r[6], int(r[7])) for r in rows}


def summary(con: duckdb.DuckDBPyConnection) -> Summary:
    row = con.execute("SELECT coalesce(sum(n), 0), min(first), max(last), count(DISTINCT identity), "
                      "count(DISTINCT caller_ip) FROM cube").fetchone()
    assert row is not None
    classes = {str(k): int(v) for k, v in con.execute("SELECT cls, sum(n) FROM cube GROUP BY cls ORDER BY 2 DESC")
               .fetchall()}
    tables = {str(k): int(v) for k, v in con.execute("SELECT tbl, sum(n) FROM cube GROUP BY tbl ORDER BY 2 DESC")
              .fetchall()}
    statuses = tuple((str(k) if k is not None else "unknown", int(v)) for k, v in con.execute(
        "SELECT status, sum(n) FROM cube GROUP BY status ORDER BY 2 DESC, 1").fetchall())
    failed = "coalesce(sum(n) FILTER (WHERE cls NOT IN ('ok', 'unknown')), 0)"
    servers = tuple((str(k), int(a), int(b)) for k, a, b in con.execute(
        f"SELECT coalesce(login_server, '(none)'), sum(n), {failed} FROM cube GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10"
    ).fetchall())
    hourly: dict[datetime, dict[str, int]] = {}
    for hour, cls, n in con.execute(
            "SELECT date_trunc('hour', bucket) AS h, cls, sum(n) FROM cube WHERE cls NOT IN ('ok', 'unknown') "
            "GROUP BY ALL ORDER BY h, cls").fetchall():
        hourly.setdefault(hour, {})[str(cls)] = int(n)
    clients = tuple((_dim_value("client", str(k)), int(a), int(b)) for k, a, b in con.execute(
        f"SELECT {DIMENSIONS['client']}, sum(n), coalesce(sum(n) FILTER (WHERE cls NOT IN ('ok', 'unknown')), 0) "
        "FROM cube GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10").fetchall())
    return Summary(int(row[0]), row[1], row[2], classes, tables, statuses, servers, clients, int(row[3]), int(row[4]),
                   tuple(hourly.items()))


def new_addresses(con: duckdb.DuckDBPyConnection, after: datetime) -> tuple[NewAddress, ...]:
    """Addresses first seen after ``after`` that failed at least once."""
    rows = con.execute(f"""SELECT login_server, caller_ip, any_value(net), min(first), sum(n),
        coalesce(sum(n) FILTER (WHERE cls NOT IN ('ok', 'unknown')), 0) AS nf,
        list(DISTINCT status ORDER BY status) FILTER (WHERE cls NOT IN ('ok', 'unknown'))
        FROM cube WHERE caller_ip IS NOT NULL GROUP BY login_server, caller_ip
        HAVING min(first) > TIMESTAMP '{after.isoformat(sep=' ')}' AND nf > 0
        ORDER BY min(first), caller_ip LIMIT 10000""").fetchall()
    return tuple(NewAddress(_none(r[0]), str(r[1]), str(r[2]), r[3], int(r[4]), int(r[5]),
                            tuple(int(s) for s in (r[6] or ()) if s is not None)) for r in rows)


def _in_cube(column: str) -> str:
    """``column``'s value (NULL included) is one the filtered ``cube`` still holds."""
    return (f"({column} IN (SELECT {column} FROM cube) OR ({column} IS NULL AND "
            f"EXISTS (SELECT 1 FROM cube WHERE {column} IS NULL)))")


def correlation_samples(con: duckdb.DuckDBPyConnection, groups: Sequence[Group], *, since: datetime | None,
                        until: datetime | None, per_group: int = 5) -> dict[tuple[str | None, ...], tuple[str, ...]]:
    """A few correlation IDs of each server-error group (login server, region), read from ``events``.

    The rows must also be in scope: inside the time window, and of the identities and addresses
    left in ``cube`` after the filters. This reads the files again, so it runs only for the groups
    that are reported, and stops at the ``LIMIT``: right away when errors are many, after a whole
    pass when they are few (the price of an ID per row carried through the main scan would be
    paid on every run instead)."""
    out: dict[tuple[str | None, ...], tuple[str, ...]] = {}
    window = "".join(f" AND time {op} TIMESTAMP '{t.isoformat(sep=' ')}'" for op, t in ((">=", since), ("<", until))
                     if t is not None)
    for g in groups[:3]:
        server, region = g.key[0], g.key[1]
        rows = con.execute(f"""SELECT DISTINCT correlation_id FROM (
            SELECT correlation_id FROM events
            WHERE status >= 500 AND correlation_id IS NOT NULL{window}
              AND login_server IS NOT DISTINCT FROM ? AND region IS NOT DISTINCT FROM ?
              AND {_in_cube("caller_ip")} AND {_in_cube("identity")}
            LIMIT {min(int(per_group) * 4, g.count)}) LIMIT {int(per_group)}""", [server, region]).fetchall()
        out[g.key] = tuple(sorted(str(r[0]) for r in rows))
    return out


def baseline(first: datetime | None, last: datetime | None, since: datetime | None) -> datetime | None:
    """Where "new" starts: a quarter of the span after its start, at least 1 h, at most 24 h.

    A span shorter than two hours has no baseline (``None``): every address would look new.

    >>> baseline(datetime(2024, 5, 6), datetime(2024, 5, 13), None)
    datetime.datetime(2024, 5, 7, 0, 0)
    """
    start = since or first
    if start is None or last is None or last - start < timedelta(hours=2):
        return None
    quarter = (last - start) / 4
    return start + min(max(quarter, timedelta(hours=1)), timedelta(hours=24))


def analyse(con: duckdb.DuckDBPyConnection, *, since: datetime | None = None, until: datetime | None = None,
            limit: int = 10, min_count: int = 3) -> Analysis:
    """Every pattern over ``cube``."""
    summ = summary(con)
    base = baseline(summ.first, summ.last, since)
    groups: dict[str, tuple[Group, ...]] = {}
    groups["denied"] = profile(con, "tbl = 'login' AND status = 403", ["login_server", "net"],
                               dims={"ip": 256, "identity": 5, "client": 5, "region": 3}, limit=limit,
                               min_count=min_count)
    groups["auth_identity"] = profile(con, "status = 401 AND identity IS NOT NULL", ["login_server", "identity"],
                                      dims={"ip": 10, "client": 5, "region": 3, "operation": 3}, limit=limit,
                                      min_count=min_count)
    groups["auth_ip"] = profile(con, "status = 401 AND caller_ip IS NOT NULL", ["login_server", "caller_ip"],
                                dims={"identity": 10, "client": 5}, limit=limit, min_count=min_count,
                                having="ids >= 3")
    groups["throttled"] = profile(con, "status = 429", ["login_server", "identity"],
                                  dims={"ip": 5, "client": 3, "operation": 3, "repository": 3}, limit=limit,
                                  min_count=min_count)
    groups["server"] = profile(con, "status >= 500", ["login_server", "region"],
                               dims={"status": 5, "operation": 3, "identity": 3}, limit=limit,
                               min_count=min_count)
    groups["permission"] = profile(con, "tbl = 'repository' AND status = 403", ["login_server", "identity"],
                                   dims={"operation": 3, "repository": 5, "ip": 5, "client": 3}, limit=limit,
                                   min_count=min_count)
    groups["not_found"] = profile(con, "tbl = 'repository' AND status = 404",
                                  ["login_server", DIMENSIONS["repository"]],
                                  dims={"identity": 5, "ip": 5, "client": 3}, limit=limit,
                                  min_count=min_count)
    ips = sorted({ip for g in groups["denied"] for ip, _ in g.top.get("ip", ())}
                 | {g.key[1] for g in groups["auth_ip"] if g.key[1]})
    ids = sorted({g.key[1] for g in groups["auth_identity"] + groups["throttled"] if g.key[1]})
    regions = {(_none(r[0]), _none(r[1])): int(r[2]) for r in con.execute(
        "SELECT login_server, region, sum(n) FROM cube GROUP BY ALL").fetchall()}
    groups["server"] = tuple(g for g in groups["server"]
                             if g.count >= SERVER_NOISE_SHARE * regions.get((g.key[0], g.key[1]), 0)
                             or g.peak_per_minute >= SERVER_BURST_PER_MINUTE)
    return Analysis(
        summary=summ, window_start=since or summ.first, window_end=until or summ.last, baseline_end=base,
        new_addresses=new_addresses(con, base) if base else (),
        ip_history=history(con, "caller_ip", ips), identity_history=history(con, "identity", ids),
        region_events=regions,
        correlation_ids=correlation_samples(con, groups["server"], since=since, until=until), **groups)


__all__ = [
    "BURST_GAP_MINUTES",
    "DIMENSIONS",
    "SERVER_BURST_PER_MINUTE",
    "SERVER_NOISE_SHARE",
    "Analysis",
    "Group",
    "History",
    "NewAddress",
    "Summary",
    "Window",
    "analyse",
    "baseline",
    "history",
    "new_addresses",
    "profile",
    "summary",
]
