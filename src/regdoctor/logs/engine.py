"""The embedded DuckDB: bounded settings, the normalised ``events`` view, and the one scan.

Strategy
--------
Ten million events must be analysed in seconds with bounded memory, and a JSON export is read
at the speed of its parser, so the raw files are scanned exactly once. Two views are defined:
``events_raw`` (the readers' raw text, with the time parsed) and ``events`` (the typed,
normalised record of ``readers``). The one scan aggregates ``events_raw`` by its raw values —
file, category, login server, identity, caller address, user agent, result, operation, region,
time bucket — with the count and the first and last time; the normalisation of ``events`` is
then applied to those few thousand aggregated rows and they are folded again into ``cube``
(normalising first and grouping after gives the same groups, but costs a normalisation per
event instead of per group). Successful requests are bucketed by hour, everything else by
minute, so per-minute peaks and bursts of failures stay exact while millions of successes fold
into a few thousand rows.
Every later question (``analysis``) is asked of ``cube``, not of the files. The one exception is
a handful of correlation IDs for server errors (a support case needs them): an ID is unique per
row, so carrying it through the scan would cost more than the rest of the scan, and it is
fetched afterwards with a ``LIMIT`` that stops reading as soon as it has them.

Memory is bounded by DuckDB itself: ``memory_limit``, ``threads``, ``preserve_insertion_order``
off, and a private ``temp_directory`` it spills to; no extension is installed or loaded from the
network.

Rows whose time cannot be read (a truncated line, a wrong type, a malformed CSV line) stay in
the scan with a NULL bucket and are counted per file as skipped; CSV lines DuckDB rejects are
added from its rejects table. A file DuckDB cannot read at all is ``BadInput`` naming it.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from regdoctor.errors import BadInput, RegdoctorError, UsageError
from regdoctor.logs import fields, readers, useragent
from regdoctor.logs.sources import Source

if TYPE_CHECKING:
    import duckdb

#: Default DuckDB memory limit: with Python and the library the process stays well under 1 GB.
DEFAULT_MEMORY = "512MB"
#: Class of a status, as the analyses name them.
CLASS_SQL = ("CASE WHEN status BETWEEN 200 AND 399 THEN 'ok' WHEN status = 401 THEN 'auth' "
             "WHEN status = 403 THEN 'denied' WHEN status = 404 THEN 'not_found' WHEN status = 429 THEN 'throttled' "
             "WHEN status >= 500 THEN 'server' WHEN status >= 400 THEN 'client' ELSE 'unknown' END")


@dataclass(frozen=True)
class Settings:
    memory_limit: str = DEFAULT_MEMORY
    threads: int | None = None
    temp_dir: str | None = None


@dataclass(frozen=True)
class FileStats:
    """What one input file contributed."""

    path: str
    shape: str
    rows: int
    skipped: int


class MemoryLimitError(UsageError):
    """The input needs more memory than ``--memory-limit`` allows (exit 2: raise the limit)."""


def _duck() -> Any:
    import duckdb

    return duckdb


@dataclass(frozen=True)
class Db:
    """A DuckDB connection and its private scratch directory (spill files, unpacked inputs)."""

    con: duckdb.DuckDBPyConnection
    scratch: str


@contextmanager
def connect(settings: Settings) -> Iterator[Db]:
    """An in-memory DuckDB with bounded memory, threads and a private spill directory."""
    duck = _duck()
    tmp = tempfile.mkdtemp(prefix="regdoctor-logs-", dir=settings.temp_dir)
    threads = settings.threads or max(1, os.cpu_count() or 1)
    config = {"memory_limit": settings.memory_limit, "threads": threads, "temp_directory": tmp,
              "preserve_insertion_order": False, "autoinstall_known_extensions": False,
              "autoload_known_extensions": False}
    try:
        con = duck.connect(":memory:", config=config)
    except duck.Error as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise UsageError(f"cannot start DuckDB with memory limit {settings.memory_limit!r}: {_first_line(exc)}"
                         ) from None
    try:
        with contextlib.suppress(duck.Error):  # without ICU, TIMESTAMPTZ is UTC already
            con.execute("SET TimeZone = 'UTC'")
        yield Db(con, tmp)
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:400] if text else type(exc).__name__


# --------------------------------------------------------------------------- preparing sources

def prepare(con: duckdb.DuckDBPyConnection, sources: Sequence[Source], scratch: str
            ) -> tuple[list[Source], dict[str, str]]:
    """Fill in what needs DuckDB (Parquet schemas) and unpack gzip-compressed Parquet.

    Returns the sources and a map from each source path to the path DuckDB must read.
    """
    duck = _duck()
    out: list[Source] = []
    paths: dict[str, str] = {}
    for n, src in enumerate(sources):
        if src.shape != "parquet":
            out.append(src)
            continue
        read = src.path
        if src.gzip:
            read = os.path.join(scratch, f"unpacked-{n}.parquet")
            try:
                with gzip.open(src.path, "rb") as fin, open(read, "wb") as fout:
                    shutil.copyfileobj(fin, fout, 1 << 20)
            except (OSError, EOFError) as exc:
                raise BadInput(f"{src.path}: cannot unpack gzip: {exc}") from None
            paths[src.path] = read
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({readers.lit(read)})").fetchall()
        except duck.Error as exc:
            raise BadInput(f"{src.path}: not a readable Parquet file: {_first_line(exc)}") from None
        types = tuple((str(r[0]), str(r[1])) for r in described)
        mapping = fields.match([t[0] for t in types])
        missing = fields.missing_required(mapping)
        if missing:
            raise BadInput(f"{src.path}: the Parquet schema has no {' or '.join(missing)} column, so it is not a "
                           "ContainerRegistryLoginEvents/RepositoryEvents export")
        time_col = mapping["time"][0]
        time_type = dict(types)[time_col]
        if not readers.time_type_ok(time_type):
            raise BadInput(f"{src.path}: column {time_col} has type {time_type}; expected a timestamp or text")
        out.append(Source(src.path, "parquet", src.gzip, columns=tuple(mapping.items()), types=types))
    return out, paths


# --------------------------------------------------------------------------- the scan

@dataclass(frozen=True)
class Scan:
    files: tuple[FileStats, ...]
    #: rows in the cube's scope (after the time window), skipped rows excluded
    rows: int


def _document_bytes(group: Sequence[Source], paths: dict[str, str]) -> int:
    """A REST document must fit in one JSON object buffer: size it from the largest file."""
    largest = 0
    for s in group:
        try:
            size = os.path.getsize(paths.get(s.path, s.path))
        except OSError:
            continue
        largest = max(largest, size * (12 if s.gzip else 1))
    return max(1 << 20, min(largest + 4096, readers.MAX_DOCUMENT_BYTES))


def events_sql(sources: Sequence[Source], paths: dict[str, str]) -> tuple[str, list[str]]:
    """The ``events_raw`` view's body (parsed time, raw text) and the CSV rejects tables it fills."""
    groups: dict[tuple[object, ...], list[Source]] = {}
    for s in sources:
        if s.shape != "empty":
            groups.setdefault(readers.key_signature(s), []).append(s)
    parts: list[str] = []
    csv_tags: list[str] = []
    for i, group in enumerate(groups.values()):
        tag = f"g{i}"
        raw = readers.raw_select(group, tag=tag, paths=paths, document_bytes=_document_bytes(group, paths))
        parts.append(readers.timed(raw, typed_time=readers.is_typed_time(group[0])))
        if group[0].shape == "csv":
            csv_tags.append(tag)
    if not parts:
        parts.append(readers.timed("SELECT " + ", ".join(f"NULL::VARCHAR AS r_{f}" for f in fields.FIELD_NAMES)
                                   + ", NULL::VARCHAR AS file WHERE false", typed_time=False))
    return "\nUNION ALL BY NAME\n".join(f"({p})" for p in parts), csv_tags


def _ts(value: datetime) -> str:
    return f"TIMESTAMP '{value.isoformat(sep=' ')}'"


def scan(con: duckdb.DuckDBPyConnection, sources: Sequence[Source], paths: dict[str, str], *,
         since: datetime | None = None, until: datetime | None = None) -> Scan:
    """Create the ``events`` view and aggregate it once into ``cube``; per-file counts."""
    duck = _duck()
    body, csv_tags = events_sql(sources, paths)
    window = []
    if since is not None:
        window.append(f"time >= {_ts(since)}")
    if until is not None:
        window.append(f"time < {_ts(until)}")
    where = f"WHERE time IS NULL OR ({' AND '.join(window)})" if window else ""
    ok = readers.RAW_OK
    # Aggregate the raw text first: a GROUP BY over the file's own (often dictionary-encoded)
    # values is several times faster than normalising ten million rows one by one; the
    # normalisation then runs on the aggregate's few thousand rows (``_finish_cube``).
    cube = f"""
CREATE TABLE cube_raw AS
SELECT file, r_category, r_login_server, r_identity, r_caller_ip, r_user_agent, r_result, r_operation, r_region,
       {readers.RAW_HAS_REPOSITORY} AS has_repository,
       CASE WHEN NOT {ok} THEN r_repository END AS r_repository,
       CASE WHEN NOT {ok} THEN r_tag END AS r_tag,
       CASE WHEN time IS NULL THEN NULL
            WHEN {ok} THEN date_trunc('hour', time)
            ELSE date_trunc('minute', time) END AS bucket,
       count(*) AS n, min(time) AS first, max(time) AS last
FROM events_raw {where}
GROUP BY ALL"""
    try:
        con.execute(f"CREATE VIEW events_raw AS {body}")
        con.execute(f"CREATE VIEW events AS {readers.normalised('SELECT * FROM events_raw')}")
        con.execute(cube)
    except duck.OutOfMemoryException as exc:
        raise MemoryLimitError(f"the input needs more memory than the limit allows ({_first_line(exc)}); "
                               "raise --memory-limit or read fewer files at once") from None
    except duck.Error as exc:
        raise _read_error(con, exc, sources, paths) from None
    stats = {str(r[0]): (int(r[1]), int(r[2])) for r in con.execute(
        "SELECT file, sum(n), coalesce(sum(n) FILTER (WHERE bucket IS NULL), 0) FROM cube_raw GROUP BY file"
    ).fetchall()}
    rejected: dict[str, int] = {}
    for tag in csv_tags:
        for path, count in con.execute(
            # one rejected line can be reported once per missing column: count lines, not errors
            f"SELECT s.file_path, count(DISTINCT e.line) FROM {readers.ident('rej_' + tag)} e "
            f"JOIN {readers.ident('scan_' + tag)} s USING (scan_id, file_id) GROUP BY ALL"
        ).fetchall():
            rejected[str(path)] = rejected.get(str(path), 0) + int(count)
    back = {v: k for k, v in paths.items()}
    files = []
    for s in sources:
        read = paths.get(s.path, s.path)
        rows, skipped = stats.get(read, (0, 0))
        extra = rejected.get(read, 0)
        files.append(FileStats(back.get(read, s.path), s.shape, rows - skipped, skipped + extra))
    _finish_cube(con)
    total = int(con.execute("SELECT coalesce(sum(n), 0) FROM cube").fetchone()[0])  # type: ignore[index]
    return Scan(tuple(files), total)


def _finish_cube(con: duckdb.DuckDBPyConnection) -> None:
    """Normalise the aggregated raw values (the same expressions as the ``events`` view), fold the
    groups that normalise to the same key, drop skipped rows; add the status class, the client of
    each user agent and the caller's /24."""
    norm = readers.normal_columns(has_repository="has_repository")
    keys = ["tbl", "login_server", "identity", "caller_ip", "user_agent", "status", "operation", "region", "result",
            "repository", "tag"]
    norm["result"] = f"CASE WHEN ({norm['status']}) IS NULL THEN {norm['result']} END"  # kept only when unparsed
    select = ", ".join(f"{norm[k]} AS {k}" for k in keys)
    con.execute(f"""
CREATE TABLE cube_norm AS
SELECT file, {select}, bucket, sum(n)::BIGINT AS n, min(first) AS first, max(last) AS last
FROM cube_raw WHERE bucket IS NOT NULL GROUP BY ALL""")
    con.execute(f"""
CREATE TABLE ua AS SELECT user_agent, {useragent.sql_client('user_agent')} AS client,
       {useragent.sql_version('user_agent')} AS client_version
FROM (SELECT DISTINCT user_agent FROM cube_norm)""")
    con.execute("""
CREATE TABLE ipnet AS SELECT caller_ip,
       CASE WHEN regexp_matches(caller_ip, '^[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$')
            THEN regexp_extract(caller_ip, '^([0-9]+\\.[0-9]+\\.[0-9]+)\\.', 1) || '.0/24'
            ELSE caller_ip END AS net
FROM (SELECT DISTINCT caller_ip FROM cube_norm)""")
    con.execute(f"""
CREATE TABLE cube AS
SELECT c.file, c.tbl, c.login_server, c.identity, c.caller_ip, c.user_agent, c.status, c.operation, c.region,
       c.result, c.repository, c.tag, c.bucket, sum(c.n)::BIGINT AS n, min(c.first) AS first, max(c.last) AS last,
       {CLASS_SQL} AS cls, any_value(ua.client) AS client,
       any_value(ua.client_version) AS client_version, any_value(ipnet.net) AS net
FROM cube_norm c
LEFT JOIN ua ON c.user_agent IS NOT DISTINCT FROM ua.user_agent
LEFT JOIN ipnet ON c.caller_ip IS NOT DISTINCT FROM ipnet.caller_ip
GROUP BY c.file, c.tbl, c.login_server, c.identity, c.caller_ip, c.user_agent, c.status, c.operation, c.region,
         c.result, c.repository, c.tag, c.bucket""")
    for t in ("cube_raw", "cube_norm", "ua", "ipnet"):
        con.execute(f"DROP TABLE {t}")


def _read_error(con: duckdb.DuckDBPyConnection, exc: BaseException, sources: Sequence[Source],
                paths: dict[str, str]) -> RegdoctorError:
    """``BadInput`` naming the file DuckDB could not read (found by reading each alone if needed)."""
    duck = _duck()
    message = _first_line(exc)
    for s in sources:
        if paths.get(s.path, s.path) in message or s.path in message:
            return BadInput(f"{s.path}: cannot read as {s.title}: {message}")
    for i, s in enumerate(sources):
        if s.shape == "empty":
            continue
        try:
            probe = readers.raw_select([s], tag=f"probe{i}", paths=paths, document_bytes=_document_bytes([s], paths))
            con.execute(f"SELECT count(*) FROM ({probe})").fetchall()
        except duck.Error as inner:
            return BadInput(f"{s.path}: cannot read as {s.title}: {_first_line(inner)}")
    return RegdoctorError(f"DuckDB failed while reading the inputs: {message}")


def apply_filters(con: duckdb.DuckDBPyConnection, *, identities: Sequence[str] = (),
                  networks: Sequence[Any] = ()) -> int:
    """Keep only the given identities (case-insensitive) and caller addresses/networks.

    Both are keys of ``cube``, so filtering its rows gives exactly the counts that filtering the
    raw events would. Returns the rows left in scope.
    """
    import ipaddress

    if identities:
        values = ", ".join(readers.lit(i.lower()) for i in identities)
        con.execute(f"DELETE FROM cube WHERE identity IS NULL OR lower(identity) NOT IN ({values})")
    if networks:
        keep: list[str] = []
        for (ip,) in con.execute("SELECT DISTINCT caller_ip FROM cube WHERE caller_ip IS NOT NULL").fetchall():
            try:
                addr = ipaddress.ip_address(str(ip))
            except ValueError:
                continue
            if any(addr.version == net.version and addr in net for net in networks):
                keep.append(str(ip))
        con.execute("CREATE TEMP TABLE keep_ip (ip VARCHAR)")
        if keep:
            con.execute("INSERT INTO keep_ip SELECT unnest($1::VARCHAR[])", [keep])
        con.execute("DELETE FROM cube WHERE caller_ip IS NULL OR caller_ip NOT IN (SELECT ip FROM keep_ip)")
    row = con.execute("SELECT coalesce(sum(n), 0) FROM cube").fetchone()
    return int(row[0]) if row else 0


__all__ = [
    "CLASS_SQL",
    "DEFAULT_MEMORY",
    "Db",
    "FileStats",
    "MemoryLimitError",
    "Scan",
    "Settings",
    "apply_filters",
    "connect",
    "events_sql",
    "prepare",
    "scan",
]
