"""Generator of realistic ACR resource-log exports, in every shape ``regdoctor logs`` reads.

It writes ``ContainerRegistryLoginEvents`` (and, with ``--repository-share``,
``ContainerRegistryRepositoryEvents``) for one registry over a span of days, and a manifest of
what it injected, counted from the generated rows themselves (the ground truth tests assert on).

The population: users (UPNs), service principals (application IDs), managed identities (object
IDs, AKS kubelets), the `<token>` identity of repository-scoped tokens, the admin user; each
identity calls from its own pool of egress addresses (office NAT, AKS outbound IPs, CI runners,
private-endpoint addresses) with the user agent of its real client (docker, containerd, podman,
skopeo, helm, oras, az, crane, cri-o, buildkit). Load follows the working day (a diurnal curve,
peak around 14:00 UTC).

Injected incidents (each one a pattern ``regdoctor logs`` must find):

* ``firewall``  - the CI moved to a new egress range (20.61.5.32/27) that is not in the registry's
  ipRules: a burst of 403 from addresses never seen before, for 45 minutes.
* ``expired_sp`` - the deploy service principal's secret expired: from that moment every login
  of that identity is a 401, from all of its addresses (it had succeeded before).
* ``throttled`` - a CI fan-out burst: one managed identity, four runners, ten minutes, most of
  it answered 429.
* ``spray``     - one address trying many identities with bad passwords (401 for each).
* ``deleted_tag`` - (with repository events) a tag still deployed after it was deleted: the AKS
  kubelets pull ``platform/api:v1.7`` every five minutes for six hours and get 404.

Shapes: ``rest`` (Log Analytics REST ``{"tables": …}``), ``az`` (``az monitor log-analytics
query`` list, every value ``str()``-ed), ``storage`` (diagnostic-settings ``PT1H.json`` lines,
camelCase, under the ``insights-logs-…/resourceId=…/y=/m=/d=/h=/m=00/`` layout with
``--layout storage``), ``csv`` (``--csv-style portal`` writes a ``TimeGenerated [UTC]`` header and
US-style times, as an inferred portal layout), ``parquet``; ``--gzip`` compresses any of them.

The rows are made by DuckDB from hashes of the row number (no Python loop), so ten million rows
take seconds and the same seed gives the same file on any machine.

    python bench/gen_login_events.py --rows 100000 --shape storage --out /tmp/logs
    python bench/gen_login_events.py --rows 10000000 --shape parquet --out /tmp/big
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import shutil
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SHAPES = ("rest", "az", "storage", "csv", "parquet")

REGISTRY = "contosoprod"
LOGIN_SERVER = f"{REGISTRY}.azurecr.io"
SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-cb9272f09590"
RESOURCE_GROUP = "rg-platform"
RESOURCE_ID = (f"/SUBSCRIPTIONS/{SUBSCRIPTION.upper()}/RESOURCEGROUPS/{RESOURCE_GROUP.upper()}"
               f"/PROVIDERS/MICROSOFT.CONTAINERREGISTRY/REGISTRIES/{REGISTRY.upper()}")
WORKSPACE = "5f8b3e2a-94c1-4d1e-9a7b-2e6c0f3d8a11"

# Real user agents (as the clients send them); the analysis parses client and version out of them.
UA = {
    "docker": "docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/5.15.0-1052-azure os/linux arch/amd64 "
              "UpstreamClient(Docker-Client/24.0.7 \\(linux\\))",
    "docker_old": "docker/20.10.21 go/go1.18.7 git-commit/3056208 kernel/5.4.0-1098-azure os/linux arch/amd64 "
                  "UpstreamClient(Docker-Client/20.10.21 \\(linux\\))",
    "containerd": "containerd/1.7.15-1",
    "containerd_aks": "containerd/v1.6.26-azure",
    "podman": "containers/5.0.2 (github.com/containers/image)",
    "skopeo": "containers/5.26.1 (github.com/containers/image)",
    "helm": "Helm/3.14.2",
    "oras": "oras/1.1.0",
    "az": "python/3.11.8 (Linux-6.5.0-1017-azure-x86_64-with-glibc2.35) AZURECLI/2.58.0 (DEB)",
    "crane": "crane/v0.19.1 go-containerregistry/v0.19.1",
    "crio": "cri-o/1.28.4 go/go1.21.7 os/linux arch/amd64",
    "buildkit": "buildkit/v0.12.5",
}


@dataclass(frozen=True)
class Identity:
    name: str
    kind: str  # user | service-principal | managed-identity | token | admin
    weight: float
    ua: str
    #: egress pool: first address and how many addresses
    pool: str
    pool_size: int
    region: str = "westeurope"


IDENTITIES: tuple[Identity, ...] = (
    Identity("6a2c1e5f-0f2d-4f0e-9a8b-1c2d3e4f5a6b", "managed-identity", 22, "containerd_aks", "20.103.12.40", 6),
    Identity("9b7d3a1c-2e4f-4a6b-8c9d-0e1f2a3b4c5d", "managed-identity", 18, "containerd_aks", "20.82.99.10", 4,
             "eastus"),
    Identity("3f1e7c2a-5b6d-4e8f-9a0b-1c2d3e4f5a60", "service-principal", 6, "docker", "51.124.40.16", 8),  # expires
    Identity("c0ffee00-1234-4abc-9def-0123456789ab", "managed-identity", 10, "docker", "20.61.3.64", 16),  # CI
    Identity("e1d2c3b4-a596-4877-8665-544332211000", "service-principal", 4, "helm", "52.157.66.80", 4),
    Identity("alice@contoso.com", "user", 2.5, "docker", "198.51.100.10", 3),
    Identity("bob@contoso.com", "user", 2.0, "podman", "198.51.100.10", 3),
    Identity("carol@contoso.com", "user", 1.5, "az", "198.51.100.10", 3),
    Identity("dave@contoso.com", "user", 1.2, "skopeo", "203.0.113.20", 2),
    Identity("erin@contoso.com", "user", 1.0, "oras", "203.0.113.20", 2),
    Identity("frank@contoso.com", "user", 0.8, "docker_old", "203.0.113.25", 1),
    Identity("<token>", "token", 3.0, "crane", "40.74.28.0", 4),
    Identity(REGISTRY, "admin", 0.6, "docker", "198.51.100.10", 3),
    Identity("7e6d5c4b-3a29-4817-a6f5-e4d3c2b1a099", "managed-identity", 4, "crio", "10.20.1.4", 8),  # via PE
    Identity("4d3c2b1a-0f9e-4d8c-b7a6-958473625140", "service-principal", 2, "buildkit", "20.61.3.64", 16),
)
EXPIRED_SP = IDENTITIES[2].name
CI_IDENTITY = IDENTITIES[3].name
FIREWALL_RANGE = ("20.61.5.32", 27)
SPRAY_IP = "185.220.101.47"
DELETED_TAG = ("platform/api", "v1.7")
DELETED_TAG_PULLS = 72
REPOSITORIES = ("platform/api", "platform/web", "platform/worker", "base/python", "base/node", "tools/kubectl",
                "charts/platform", "ml/trainer")

#: Relative load per UTC hour (a working day centred on Europe, night never zero: clusters pull).
DIURNAL = (3, 2.5, 2, 2, 2.5, 3.5, 5, 7, 9, 10, 10.5, 10.5, 10, 10.5, 11, 10.5, 9.5, 8, 6.5, 5.5, 5, 4.5, 4, 3.5)


@dataclass
class Incident:
    kind: str
    count: int
    status: int
    first: str
    last: str
    identities: int
    ips: int
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class Manifest:
    shape: str
    rows: int
    files: list[str]
    start: str
    end: str
    login_server: str
    incidents: dict[str, Incident]
    status_counts: dict[str, int]


def _ip_int(ip: str) -> int:
    a, b, c, d = (int(x) for x in ip.split("."))
    return (a << 24) | (b << 16) | (c << 8) | d


def _u(i: str, k: int) -> str:
    """A uniform [0, 1) value from the row number ``i`` and stream ``k`` (deterministic, thread-safe)."""
    return f"((hash({i}, {k}, $seed) % 1000000007)::DOUBLE / 1000000007)"


def _ip_sql(base: str, offset: str) -> str:
    v = f"({base} + {offset})::BIGINT"
    return f"concat_ws('.', ({v} >> 24) & 255, ({v} >> 16) & 255, ({v} >> 8) & 255, {v} & 255)"


def _sql_list(values: list[Any]) -> str:
    def lit(v: Any) -> str:
        if isinstance(v, str):
            return "'" + v.replace("'", "''") + "'"
        return repr(v)

    return "[" + ", ".join(lit(v) for v in values) + "]"


def _hour_lookup() -> list[int]:
    """1000 slots, each an hour, in proportion to ``DIURNAL`` (inverse CDF by table lookup)."""
    total = sum(DIURNAL)
    out: list[int] = []
    for h, w in enumerate(DIURNAL):
        out += [h] * round(1000 * w / total)
    return (out + [DIURNAL.index(max(DIURNAL))] * 1000)[:1000]


def build_events(con: Any, *, rows: int, start: datetime, days: float, seed: int, repository_share: float,
                 incidents: bool = True) -> None:
    """Create the table ``ev`` (canonical Log Analytics columns plus an ``incident`` label)."""
    span = days * 86400.0
    ids = IDENTITIES
    weights = [i.weight for i in ids]
    cum = [sum(weights[: k + 1]) / sum(weights) for k in range(len(weights))]
    fw_n = max(23, rows // 500) if incidents else 0
    th_n = max(60, rows // 200) if incidents else 0
    spray_n = max(15, rows // 2000) if incidents else 0
    bg_n = rows - fw_n - th_n - spray_n - (DELETED_TAG_PULLS if incidents and repository_share > 0 else 0)
    if bg_n <= 0:
        raise SystemExit("--rows too small for the incidents (at least 200)")
    t0 = start.replace(tzinfo=None)
    t_exp = t0 + timedelta(seconds=span * 0.45)
    t_fw = t0 + timedelta(seconds=span * 0.62)
    t_th = t0 + timedelta(seconds=span * 0.30)
    t_spray = t0 + timedelta(seconds=span * 0.80)
    t_dt = t0 + timedelta(seconds=span * 0.70)
    ndays = max(1, math.ceil(days))
    hours = _hour_lookup()
    params = {"seed": seed}
    ua_of = [UA[i.ua] for i in ids]

    # identity index: weighted pick through cumulative weights (15 entries, a cheap lambda)
    pick = f"len(list_filter({_sql_list(cum)}, lambda c: c < {_u('i', 1)})) + 1"
    bg = f"""
    CREATE TEMP TABLE bg AS
    WITH r AS (
      SELECT i, {pick} AS k,
             floor({_u('i', 2)} * {ndays})::INT AS day,
             {_sql_list(hours)}[floor({_u('i', 3)} * 1000)::INT + 1] AS hr,
             floor({_u('i', 4)} * 3600)::INT AS sec
      FROM range({bg_n}) t(i)
    ), t AS (
      SELECT *, TIMESTAMP '{t0.isoformat(sep=' ')}' + to_seconds(day * 86400 + hr * 3600 + sec)
                + to_microseconds(floor({_u('i', 5)} * 1000000)::BIGINT) AS ts
      FROM r
    )
    SELECT i, k, ts FROM t WHERE ts < TIMESTAMP '{(t0 + timedelta(seconds=span)).isoformat(sep=' ')}'
    """
    con.execute(bg, params)
    names = _sql_list([x.name for x in ids])
    pools = _sql_list([_ip_int(x.pool) for x in ids])
    sizes = _sql_list([x.pool_size for x in ids])
    regions = _sql_list([x.region for x in ids])
    uas = _sql_list(ua_of)
    kinds = _sql_list([x.kind for x in ids])
    ops = "CASE WHEN is_repo THEN (CASE WHEN " + _u("i", 7) + " < 0.85 THEN 'Pull' ELSE 'Push' END) ELSE 'Login' END"
    background = f"""
    SELECT 'background' AS incident, ts AS TimeGenerated, {names}[k] AS Identity,
           {_ip_sql(f'{pools}[k]', f'floor({_u("i", 6)} * {sizes}[k])')} AS CallerIpAddress,
           {uas}[k] AS UserAgent, {regions}[k] AS Region, is_repo,
           {ops} AS OperationName,
           CASE
             WHEN {names}[k] = '{EXPIRED_SP}' AND ts >= TIMESTAMP '{t_exp.isoformat(sep=' ')}' THEN '401'
             WHEN {_u('i', 8)} < 0.005 AND {kinds}[k] = 'user' THEN '401'
             WHEN {_u('i', 14)} < 0.0002 THEN (CASE WHEN {_u('i', 10)} < 0.5 THEN '500' ELSE '503' END)
             WHEN is_repo AND {_u('i', 15)} < 0.0005 THEN '404'
             ELSE '200' END AS ResultDescription,
           i
    FROM (SELECT *, {_u('i', 11)} < {repository_share} AS is_repo FROM bg)
    """
    if not incidents:
        background = background.replace(f"WHEN {names}[k] = '{EXPIRED_SP}'", "WHEN false")
    fw_base = _ip_int(FIREWALL_RANGE[0])
    fw_size = 2 ** (32 - FIREWALL_RANGE[1])
    parts = [background]
    if incidents:
        parts.append(f"""
    SELECT 'firewall', TIMESTAMP '{t_fw.isoformat(sep=' ')}' + to_microseconds(floor({_u('i', 20)} * 2700e6)::BIGINT),
           CASE WHEN {_u('i', 21)} < 0.7 THEN '{CI_IDENTITY}' ELSE '{ids[14].name}' END,
           {_ip_sql(str(fw_base), f'floor({_u("i", 22)} * {fw_size})')},
           CASE WHEN {_u('i', 21)} < 0.7 THEN '{UA["docker"]}' ELSE '{UA["buildkit"]}' END,
           'westeurope', false, 'Login', '403', 1000000000 + i
    FROM range({fw_n}) t(i)""")
        parts.append(f"""
    SELECT 'throttled', TIMESTAMP '{t_th.isoformat(sep=' ')}' + to_microseconds(floor({_u('i', 30)} * 600e6)::BIGINT),
           '{CI_IDENTITY}', {_ip_sql(str(_ip_int(ids[3].pool)), f'floor({_u("i", 31)} * 4)')},
           '{UA["docker"]}', 'westeurope', false, 'Login',
           CASE WHEN {_u('i', 32)} < 0.75 THEN '429' ELSE '200' END, 2000000000 + i
    FROM range({th_n}) t(i)""")
        parts.append(f"""
    SELECT 'spray', TIMESTAMP '{t_spray.isoformat(sep=' ')}' + to_microseconds(floor({_u('i', 40)} * 5400e6)::BIGINT),
           {_sql_list([f'{u}@contoso.com' for u in ('admin', 'test', 'ci', 'deploy', 'root', 'registry', 'build',
                                                    'svc-acr', 'jenkins', 'gitlab', 'ops', 'devops', 'backup',
                                                    'support', 'guest')])}[(i % 15) + 1],
           '{SPRAY_IP}', 'Go-http-client/1.1', 'westeurope', false, 'Login', '401', 3000000000 + i
    FROM range({spray_n}) t(i)""")
        if repository_share > 0:
            kubelet = ids[0]
            parts.append(f"""
    SELECT 'deleted_tag', TIMESTAMP '{t_dt.isoformat(sep=' ')}' + to_seconds(i * 300 + floor({_u('i', 50)} * 20)::INT),
           '{kubelet.name}', {_ip_sql(str(_ip_int(kubelet.pool)), f'floor({_u("i", 51)} * {kubelet.pool_size})')},
           '{UA[kubelet.ua]}', '{kubelet.region}', true, 'Pull', '404', 4000000000 + i
    FROM range({DELETED_TAG_PULLS}) t(i)""")
    union = " UNION ALL ".join(parts)
    digest = "'sha256:' || sha256(CAST(i % 5000 AS VARCHAR))"
    con.execute(f"""
    CREATE TEMP TABLE ev AS
    SELECT incident, TimeGenerated, Identity, CallerIpAddress, UserAgent, Region, OperationName, ResultDescription,
           CASE WHEN is_repo THEN 'ContainerRegistryRepositoryEvents' ELSE 'ContainerRegistryLoginEvents' END AS Type,
           CAST((15 + floor(400 * {_u('i', 12)} * {_u('i', 13)}))::INT AS VARCHAR) AS DurationMs,
           md5(CAST(i AS VARCHAR) || '-c')::UUID::VARCHAR AS CorrelationId,
           md5(CAST(i AS VARCHAR) || '-j')::UUID::VARCHAR AS JwtId,
           CASE WHEN incident = 'deleted_tag' THEN '{DELETED_TAG[0]}'
                WHEN is_repo THEN {_sql_list(list(REPOSITORIES))}[(i % {len(REPOSITORIES)}) + 1] END AS Repository,
           CASE WHEN incident = 'deleted_tag' THEN '{DELETED_TAG[1]}'
                WHEN is_repo THEN 'v1.' || (i % 40)::VARCHAR END AS Tag,
           CASE WHEN is_repo THEN {digest} END AS Digest,
           CASE WHEN is_repo THEN 'application/vnd.oci.image.manifest.v1+json' END AS MediaType,
           CASE WHEN is_repo THEN 'application/vnd.oci.image.config.v1+json' END AS ArtifactType,
           CASE WHEN is_repo THEN (1000 + (hash(i, 77) % 80000000))::BIGINT END AS Size,
           CASE WHEN is_repo THEN '{WORKSPACE}' END AS UserTenantId,
           (30000 + hash(i, 78) % 30000)::INT AS src_port
    FROM ({union})
    ORDER BY TimeGenerated
    """, params)


# ----------------------------------------------------------------------------- writers

_LA_COLS = ("TenantId", "SourceSystem", "TimeGenerated", "LoginServer", "OperationName", "Identity",
            "CallerIpAddress", "ResultType", "ResultDescription", "DurationMs", "Region", "UserAgent", "JwtId",
            "CorrelationId", "Category", "Type", "_ResourceId", "_SubscriptionId")
_REPO_COLS = ("Repository", "Tag", "Digest", "MediaType", "ArtifactType", "Size", "UserTenantId")


def _la_columns(with_repo: bool, *, time_expr: str = "TimeGenerated", time_name: str = "TimeGenerated") -> list[str]:
    cols = {
        "TenantId": f"'{WORKSPACE}'", "SourceSystem": "'Azure'", "TimeGenerated": time_expr,
        "LoginServer": f"'{LOGIN_SERVER}'", "OperationName": "OperationName", "Identity": "Identity",
        "CallerIpAddress": "CallerIpAddress",
        "ResultType": "CASE WHEN ResultDescription IN ('200', '201', '202') THEN 'Succeeded' ELSE 'Failed' END",
        "ResultDescription": "ResultDescription", "DurationMs": "DurationMs", "Region": "Region",
        "UserAgent": "UserAgent", "JwtId": "JwtId", "CorrelationId": "CorrelationId", "Category": "Type",
        "Type": "Type", "_ResourceId": f"'{RESOURCE_ID.lower()}'", "_SubscriptionId": f"'{SUBSCRIPTION}'",
    }
    out = [f"{v} AS \"{time_name if k == 'TimeGenerated' else k}\"" for k, v in cols.items()]
    if with_repo:
        out += [f'"{c}"' for c in _REPO_COLS]
    return out


def _la_select(with_repo: bool, *, time_expr: str = "TimeGenerated") -> str:
    return ", ".join(_la_columns(with_repo, time_expr=time_expr))


_ISO7 = "strftime(TimeGenerated, '%Y-%m-%dT%H:%M:%S.%f') || '0Z'"


def _storage_select() -> str:
    """The diagnostic-settings record: camelCase common schema (7 fractional digits)."""
    return f"""
      {_ISO7} AS "time", '{RESOURCE_ID}' AS "resourceId", OperationName AS "operationName", Type AS "category",
      CASE WHEN ResultDescription IN ('200', '201', '202') THEN 'Succeeded' ELSE 'Failed' END AS "resultType",
      ResultDescription AS "resultDescription", DurationMs AS "durationMs",
      CASE WHEN Type = 'ContainerRegistryRepositoryEvents' THEN CallerIpAddress || ':' || src_port
           ELSE CallerIpAddress END AS "callerIpAddress",
      CorrelationId AS "correlationId", Identity AS "identity", '{LOGIN_SERVER}' AS "loginServer",
      UserAgent AS "userAgent", Region AS "region", JwtId AS "jwtId",
      Repository AS "repository", Tag AS "tag", Digest AS "digest", MediaType AS "mediaType", Size AS "size",
      'Information' AS "level", 'westeurope' AS "location"
    """


def _gzip_file(path: Path) -> Path:
    gz = path.with_name(path.name + ".gz")
    with path.open("rb") as src, gzip.open(gz, "wb", compresslevel=5) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    path.unlink()
    return gz


def _write(con: Any, shape: str, out: Path, *, gz: bool, with_repo: bool, layout: str, csv_style: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    la = _la_select(with_repo)
    if shape == "parquet":
        path = out / "events.parquet"
        con.execute(f"COPY (SELECT {la} FROM ev ORDER BY TimeGenerated) TO '{path}' (FORMAT parquet)")
        return [_gzip_file(path) if gz else path]
    if shape == "csv":
        path = out / "events.csv"
        if csv_style == "portal":
            parts = _la_columns(with_repo, time_expr="strftime(TimeGenerated, '%-m/%-d/%Y, %-I:%M:%S.%g %p')",
                                time_name="TimeGenerated [UTC]")
        else:
            parts = _la_columns(with_repo)
        # the portal's column order is not documented: shuffle it to prove the reader does not care
        parts = parts[3:] + parts[:3]
        comp = ", COMPRESSION gzip" if gz else ""
        target = path.with_name(path.name + ".gz") if gz else path
        con.execute(f"COPY (SELECT {', '.join(parts)} FROM ev ORDER BY TimeGenerated) TO '{target}' "
                    f"(FORMAT csv, HEADER{comp})")
        return [target]
    if shape == "storage":
        comp = ", COMPRESSION gzip" if gz else ""
        ext = ".json.gz" if gz else ".json"
        if layout != "storage":
            target = out / f"PT1H{ext}"
            con.execute(f"COPY (SELECT {_storage_select()} FROM ev ORDER BY TimeGenerated) TO '{target}' "
                        f"(FORMAT json{comp})")
            return [target]
        files = []
        hours = con.execute("SELECT DISTINCT Type, date_trunc('hour', TimeGenerated) FROM ev ORDER BY 2").fetchall()
        for typ, hour in hours:
            d = (out / f"insights-logs-{typ.lower()}" / f"resourceId={RESOURCE_ID}" / f"y={hour:%Y}" / f"m={hour:%m}"
                 / f"d={hour:%d}" / f"h={hour:%H}" / "m=00")
            d.mkdir(parents=True, exist_ok=True)
            target = d / f"PT1H{ext}"
            con.execute(f"COPY (SELECT {_storage_select()} FROM ev WHERE Type = ? AND date_trunc('hour', "
                        f"TimeGenerated) = ? ORDER BY TimeGenerated) TO '{target}' (FORMAT json{comp})",
                        [typ, hour])
            files.append(target)
        return files
    # rest and az: a JSON document built in Python (the service caps such answers at 500,000 rows)
    rows = con.execute(f"SELECT {_la_select(with_repo, time_expr=_ISO7)} FROM ev ORDER BY TimeGenerated").fetchall()
    names = list(_LA_COLS) + (list(_REPO_COLS) if with_repo else [])
    if shape == "rest":
        types = {"TimeGenerated": "datetime", "Size": "long"}
        doc: Any = {"tables": [{"name": "PrimaryResult",
                                "columns": [{"name": n, "type": types.get(n, "string")} for n in names],
                                "rows": [list(r) for r in rows]}]}
        path = out / "rest.json"
    else:
        # az: one object per row, TableName added, keys sorted, every value str()-ed (None -> "None")
        doc = [dict(sorted({"TableName": "PrimaryResult", **{n: str(v) for n, v in zip(names, r, strict=True)}}
                           .items())) for r in rows]
        path = out / "az.json"
    path.write_text(json.dumps(doc, indent=None if len(rows) > 2000 else 2))
    return [_gzip_file(path) if gz else path]


def _manifest(con: Any, shape: str, files: list[Path]) -> Manifest:
    def q(sql: str) -> Any:
        return con.execute(sql).fetchall()

    incidents: dict[str, Incident] = {}
    for kind, status in (("firewall", "403"), ("throttled", "429"), ("spray", "401"), ("deleted_tag", "404")):
        n, first, last, idn, ipn = q(f"SELECT count(*), min(TimeGenerated), max(TimeGenerated), "
                                     f"count(DISTINCT Identity), count(DISTINCT CallerIpAddress) FROM ev "
                                     f"WHERE incident = '{kind}' AND ResultDescription = '{status}'")[0]
        if n:
            incidents[kind] = Incident(kind, n, int(status), str(first), str(last), idn, ipn)
    n, first, last, ipn, ok_before = q(
        f"SELECT count(*) FILTER (WHERE ResultDescription = '401'), "
        f"min(TimeGenerated) FILTER (WHERE ResultDescription = '401'), "
        f"max(TimeGenerated) FILTER (WHERE ResultDescription = '401'), "
        f"count(DISTINCT CallerIpAddress) FILTER (WHERE ResultDescription = '401'), "
        f"max(TimeGenerated) FILTER (WHERE ResultDescription = '200') FROM ev WHERE Identity = '{EXPIRED_SP}'")[0]
    if n:
        incidents["expired_sp"] = Incident("expired_sp", n, 401, str(first), str(last), 1, ipn,
                                           {"identity": EXPIRED_SP, "last_success": str(ok_before)})
    if "firewall" in incidents:
        incidents["firewall"].detail = {"range": f"{FIREWALL_RANGE[0]}/{FIREWALL_RANGE[1]}",
                                        "per_ip": dict(q("SELECT CallerIpAddress, count(*) FROM ev WHERE incident = "
                                                         "'firewall' GROUP BY 1 ORDER BY 2 DESC, 1"))}
    if "spray" in incidents:
        incidents["spray"].detail = {"ip": SPRAY_IP}
    if "deleted_tag" in incidents:
        incidents["deleted_tag"].detail = {"reference": ":".join(DELETED_TAG)}
    if "throttled" in incidents:
        incidents["throttled"].detail = {"identity": CI_IDENTITY}
    start, end, total = q("SELECT min(TimeGenerated), max(TimeGenerated), count(*) FROM ev")[0]
    status = dict(q("SELECT ResultDescription, count(*) FROM ev GROUP BY 1 ORDER BY 1"))
    return Manifest(shape, total, [str(f) for f in files], str(start), str(end), LOGIN_SERVER, incidents, status)


def generate(out: Path | str, *, rows: int = 10_000, shape: str = "storage", start: datetime | None = None,
             days: float = 7.0, seed: int = 42, gz: bool = False, repository_share: float = 0.0,
             incidents: bool = True, layout: str = "single", csv_style: str = "plain",
             memory_limit: str = "2GB") -> Manifest:
    """Write one export of ``rows`` events in ``shape`` under ``out``; return what was injected.

    >>> m = generate("/tmp/gen-doc", rows=1000, shape="az")   # doctest: +SKIP
    >>> m.incidents["firewall"].status
    403
    """
    import duckdb

    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}")
    start = start or datetime(2024, 5, 6, tzinfo=UTC)
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = 'UTC'")
    build_events(con, rows=rows, start=start, days=days, seed=seed, repository_share=repository_share,
                 incidents=incidents)
    files = _write(con, shape, Path(out), gz=gz, with_repo=repository_share > 0, layout=layout, csv_style=csv_style)
    manifest = _manifest(con, shape, files)
    con.close()
    return manifest


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--shape", choices=SHAPES, default="storage")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--days", type=float, default=7.0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--start", default="2024-05-06T00:00:00Z")
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--repository-share", type=float, default=0.0,
                   help="fraction of rows that are ContainerRegistryRepositoryEvents (pull/push)")
    p.add_argument("--no-incidents", action="store_true")
    p.add_argument("--layout", choices=("single", "storage"), default="single")
    p.add_argument("--csv-style", choices=("plain", "portal"), default="plain")
    p.add_argument("--manifest", type=Path, help="write the manifest JSON here (default: stdout)")
    a = p.parse_args(argv)
    start = datetime.fromisoformat(a.start.replace("Z", "+00:00"))
    m = generate(a.out, rows=a.rows, shape=a.shape, start=start, days=a.days, seed=a.seed, gz=a.gzip,
                 repository_share=a.repository_share, incidents=not a.no_incidents, layout=a.layout,
                 csv_style=a.csv_style)
    text = json.dumps(asdict(m), indent=2, default=str)
    if a.manifest:
        a.manifest.write_text(text)
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
