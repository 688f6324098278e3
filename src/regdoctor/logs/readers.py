"""SQL that reads each export shape with DuckDB's own readers and normalises it onto one record.

Strategy
--------
Python never parses the events: for each group of files with the same shape and the same column
names it writes one DuckDB table function call (``read_json`` / ``read_csv`` / ``read_parquet``)
with the columns listed explicitly, every one read as text, ``ignore_errors`` on. Listing the
columns means DuckDB skips everything else in a record (``_ResourceId`` is long) and never guesses
a type, so a value of the wrong type becomes a NULL instead of an error. A record whose time
cannot be read is kept with a NULL time so ``engine`` can count it as skipped.

``normalised`` then turns the raw text into the typed view (``normal_columns`` holds its
expressions, which ``engine`` also applies to the aggregated raw values)::

    time TIMESTAMP (UTC)   status INTEGER (from ResultDescription)   result VARCHAR
    identity  caller_ip (port removed)  login_server (lower case)  operation  user_agent
    duration_ms DOUBLE  region  correlation_id  tbl ('login' | 'repository')  result_type
    repository  tag  digest  size BIGINT  file

``"None"`` (what ``az`` prints for a null) and empty strings are NULL. The time accepts ISO 8601
with any number of fractional digits and an offset or ``Z``, and the US-style
``5/6/2024, 1:02:03.456 PM`` of a portal export.
"""

from __future__ import annotations

from collections.abc import Sequence

from regdoctor.logs import fields
from regdoctor.logs.sources import Source

#: Largest JSON record DuckDB may hold at once: a storage record is a few KB. DuckDB reserves
#: buffers of about twice this per thread, so it is also what bounds the reader's memory.
MAX_RECORD_BYTES = 16 << 20
#: Largest REST document (one JSON object): the service caps answers at about 100 MB.
MAX_DOCUMENT_BYTES = 192 << 20
_PORTAL_TIMES = ("%m/%d/%Y, %I:%M:%S.%g %p", "%m/%d/%Y, %I:%M:%S %p", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %H:%M:%S")


def lit(value: str) -> str:
    """A SQL string literal.

    >>> lit("it's")
    "'it''s'"
    """
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _files(sources: Sequence[Source], paths: dict[str, str] | None = None) -> str:
    return "[" + ", ".join(lit((paths or {}).get(s.path, s.path)) for s in sources) + "]"


def _coalesce(exprs: Sequence[str]) -> str:
    return exprs[0] if len(exprs) == 1 else f"coalesce({', '.join(exprs)})"


def _raw_columns(src: Source, column: dict[str, str]) -> str:
    """``<expr> AS r_<field>`` for every canonical field; ``column`` maps a file name to its SQL."""
    mapping = src.mapping
    nested = dict(src.nested)
    out = []
    for f in fields.FIELDS:
        exprs = [column[n] for n in mapping.get(f.name, ()) if n in column]
        if f.name in nested:
            exprs.append(f"json_extract_string(r_properties, {lit('$.' + ident(nested[f.name]))})")
        out.append(f"{_coalesce(exprs) if exprs else 'NULL'} AS r_{f.name}")
    return ", ".join(out)


def key_signature(src: Source) -> tuple[object, ...]:
    """Files with the same signature are read by one table function call."""
    return (src.shape, src.gzip, src.columns, src.nested, src.multiline, src.delimiter, src.header, src.types)


def raw_select(group: Sequence[Source], *, tag: str, paths: dict[str, str] | None = None,
               document_bytes: int = MAX_DOCUMENT_BYTES) -> str:
    """One SELECT reading every file of ``group`` (same signature); ``tag`` names its rejects table.

    ``document_bytes`` bounds a REST document (the engine passes what the file sizes need)."""
    src = group[0]
    files = _files(group, paths)
    comp = "'gzip'" if src.gzip else "'none'"
    if src.shape in ("lines", "az"):
        names = sorted({n for _, ns in src.columns for n in ns})
        cols = {n: f"c{i}" for i, n in enumerate(names)}
        spec = ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names)
        if src.nested:
            props = next((n for n in ("properties", "Properties") if n not in names), "properties")
            spec += f", {lit(props)}: 'JSON'"
            prop_col = f"{ident(props)} AS r_properties, "
        else:
            prop_col = ""
        fmt = "'array'" if src.shape == "az" else ("'unstructured'" if src.multiline else "'newline_delimited'")
        renames = ", ".join(f"{ident(n)} AS {cols[n]}" for n in names)
        inner = (f"SELECT {renames}, {prop_col}filename AS file FROM read_json({files}, format={fmt}, "
                 f"columns={{{spec}}}, ignore_errors=true, compression={comp}, filename=true, "
                 f"maximum_object_size={MAX_RECORD_BYTES})")
        return f"SELECT {_raw_columns(src, cols)}, file FROM ({inner})"
    if src.shape == "csv":
        cols = {n: f"c{i}" for i, n in enumerate(src.header)}
        spec = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(src.header)))
        # duplicate header names: the first wins (``cols`` keeps the last, so rebuild it)
        first: dict[str, str] = {}
        for i, n in enumerate(src.header):
            first.setdefault(n, f"c{i}")
        inner = (f"SELECT *, filename AS file FROM read_csv({files}, header=true, auto_detect=false, "
                 f"columns={{{spec}}}, delim={lit(src.delimiter)}, quote='\"', escape='\"', ignore_errors=true, "
                 f"store_rejects=true, rejects_table={lit('rej_' + tag)}, rejects_scan={lit('scan_' + tag)}, "
                 f"compression={comp}, filename=true, max_line_size=16777216)")
        del cols
        return f"SELECT {_raw_columns(src, first)}, file FROM ({inner})"
    if src.shape == "parquet":
        types = dict(src.types)
        cols = {n: (ident(n) if n == _time_column(src) and _typed_time(types.get(n, ""))
                    else f"CAST({ident(n)} AS VARCHAR)") for n in types}
        return f"SELECT {_raw_columns(src, cols)}, filename AS file FROM read_parquet({files}, filename=true)"
    if src.shape == "rest":
        def value(k: str) -> str:
            return f"json_extract_string(r[list_position(cn, {lit(k)})], '$')"
        parts = []
        for f in fields.FIELDS:
            parts.append(f"{_coalesce([value(k) for k in f.keys])} AS r_{f.name}")
        struct = "STRUCT(name VARCHAR, columns STRUCT(name VARCHAR, type VARCHAR)[], rows JSON[][])[]"
        tables = (f"read_json({files}, columns={{'tables': '{struct}'}}, format='auto', compression={comp}, "
                  f"filename=true, maximum_object_size={document_bytes})")
        # the same key as fields.key(): unit suffix dropped, lower case, letters and digits only
        norm = ("lambda c: regexp_replace(lower(regexp_replace(c.name, '\\s*\\[[^\\]]*\\]\\s*$', '')), "
                "'[^a-z0-9]', '', 'g')")
        return (f"SELECT {', '.join(parts)}, file FROM (SELECT unnest(t.rows) AS r, "
                f"list_transform(t.columns, {norm}) AS cn, file FROM "
                f"(SELECT unnest(tables) AS t, filename AS file FROM {tables}))")
    raise ValueError(f"no reader for shape {src.shape}")


def _time_column(src: Source) -> str | None:
    names = src.mapping.get("time", ())
    return names[0] if names else None


_TIME_TYPES = ("TIMESTAMP", "DATE")


def _typed_time(duck_type: str) -> bool:
    return duck_type.upper().startswith(_TIME_TYPES)


def time_type_ok(duck_type: str) -> bool:
    """Whether a Parquet time column of this type can be read as a time."""
    return _typed_time(duck_type) or duck_type.upper() == "VARCHAR"


def time_expr(*, typed_time: bool) -> str:
    """SQL turning ``r_time`` into a UTC TIMESTAMP (NULL when it is not a time)."""
    if typed_time:
        return "CAST(r_time AS TIMESTAMP)"
    fmts = "[" + ", ".join(lit(f) for f in _PORTAL_TIMES) + "]"
    return f"coalesce(CAST(try_cast(r_time AS TIMESTAMPTZ) AS TIMESTAMP), try_strptime(r_time, {fmts}))"


def timed(raw: str, *, typed_time: bool) -> str:
    """``raw_select`` with its time parsed: ``time`` plus the raw ``r_*`` text columns and ``file``."""
    cols = ", ".join(f"r_{f}" for f in fields.FIELD_NAMES if f != "time")
    return f"SELECT {time_expr(typed_time=typed_time)} AS time, {cols}, file FROM ({raw})"


#: A raw result that is certainly a success (3 digits, 200-399): decided on the text, per row,
#: before anything is cast (the aggregate's time bucket depends on it).
RAW_OK = "(length(r_result) = 3 AND r_result BETWEEN '200' AND '399')"
#: The raw repository column says "this is a repository event".
RAW_HAS_REPOSITORY = "(r_repository IS NOT NULL AND r_repository NOT IN ('', 'None'))"


def normal_columns(*, has_repository: str = RAW_HAS_REPOSITORY) -> dict[str, str]:
    """The typed view's columns as SQL over the raw ``r_*`` columns (``time`` excluded).

    Used twice with the same meaning: per row for the ``events`` view, and on the aggregated raw
    values (where ``has_repository`` is a column of its own, since the repository itself is only
    kept for failures)."""
    def nz(x: str) -> str:
        return f"nullif(nullif({x}, ''), 'None')"

    ip = nz("trim(r_caller_ip)")
    caller = (f"CASE WHEN starts_with({ip}, '[') THEN split_part(substr({ip}, 2), ']', 1) "
              f"WHEN length({ip}) - length(replace({ip}, ':', '')) = 1 THEN split_part({ip}, ':', 1) "
              f"ELSE {ip} END")
    status = ("coalesce(try_cast(r_result AS INTEGER), "
              "try_cast(regexp_extract(r_result, '^\\s*([1-5][0-9][0-9])\\b', 1) AS INTEGER))")
    category = "lower(r_category)"
    tbl = (f"CASE WHEN contains({category}, 'repositoryevents') THEN 'repository' "
           f"WHEN contains({category}, 'loginevents') THEN 'login' "
           f"WHEN {has_repository} THEN 'repository' "
           "WHEN lower(r_operation) IN ('pull', 'push', 'delete', 'untag', 'purge', 'purgetag', "
           "'purgemanifest') THEN 'repository' ELSE 'login' END")
    return {
        "status": status, "result": nz("r_result"), "identity": nz("r_identity"), "caller_ip": caller,
        "login_server": f"lower({nz('r_login_server')})", "operation": nz("r_operation"),
        "user_agent": nz("r_user_agent"), "duration_ms": f"try_cast({nz('r_duration')} AS DOUBLE)",
        "region": nz("r_region"), "correlation_id": nz("r_correlation_id"), "tbl": tbl,
        "result_type": nz("r_result_type"), "repository": nz("r_repository"), "tag": nz("r_tag"),
        "digest": nz("r_digest"), "size": f"try_cast({nz('r_size')} AS BIGINT)",
    }


def normalised(timed_rows: str) -> str:
    """The typed view's SELECT over rows with a parsed ``time`` and raw ``r_*`` columns."""
    cols = ",\n  ".join(f"{expr} AS {name}" for name, expr in normal_columns().items())
    return f"SELECT time, {cols}, file FROM ({timed_rows})"


def is_typed_time(src: Source) -> bool:
    """The group's time column is already a TIMESTAMP/DATE (Parquet from a pipeline)."""
    if src.shape != "parquet":
        return False
    col = _time_column(src)
    return col is not None and _typed_time(dict(src.types).get(col, ""))


__all__ = ["MAX_DOCUMENT_BYTES", "MAX_RECORD_BYTES", "RAW_HAS_REPOSITORY", "RAW_OK", "ident", "is_typed_time",
           "key_signature", "lit", "normal_columns", "normalised", "raw_select", "time_expr", "time_type_ok", "timed"]
