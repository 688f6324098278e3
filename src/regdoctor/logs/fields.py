"""The canonical record every export shape is mapped onto, and the column names that feed it.

Strategy
--------
The three export shapes name the same facts differently: Log Analytics columns are PascalCase
(``TimeGenerated``, ``ResultDescription``, ``CallerIpAddress``), the diagnostic-settings storage
record is camelCase (``time``, ``resultDescription``, ``callerIpAddress``), a portal CSV may add
a unit to a header (``TimeGenerated [UTC]``). Names are therefore matched by a *key*: lower case,
a trailing ``[...]`` dropped, everything but letters and digits removed. Each canonical field
lists the keys it accepts, best first; when a file has several of them the first non-null value
wins (SQL ``coalesce``).

No I/O here: ``sources`` reads names from files, ``readers`` turns the mapping into SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_UNIT_RE = re.compile(r"\s*\[[^\]]*\]\s*$")
_NON_ALNUM_RE = re.compile(r"[^a-z0-9]")


def key(name: str) -> str:
    """The matching key of a column name.

    >>> key("TimeGenerated [UTC]"), key("callerIpAddress"), key("_ResourceId")
    ('timegenerated', 'calleripaddress', 'resourceid')
    """
    return _NON_ALNUM_RE.sub("", _UNIT_RE.sub("", name).lower())


@dataclass(frozen=True)
class Field:
    """One canonical field: its name in the normalised view and the keys that feed it."""

    name: str
    keys: tuple[str, ...]
    #: The name a camelCase (storage) record uses when the first record lacks the field.
    camel: str
    #: The Log Analytics column name.
    pascal: str


FIELDS: tuple[Field, ...] = (
    Field("time", ("timegenerated", "time", "timestamp"), "time", "TimeGenerated"),
    Field("result", ("resultdescription", "resultsignature"), "resultDescription", "ResultDescription"),
    Field("identity", ("identity",), "identity", "Identity"),
    Field("caller_ip", ("calleripaddress", "callerip", "clientip"), "callerIpAddress", "CallerIpAddress"),
    Field("login_server", ("loginserver",), "loginServer", "LoginServer"),
    Field("operation", ("operationname", "operation"), "operationName", "OperationName"),
    Field("user_agent", ("useragent",), "userAgent", "UserAgent"),
    Field("duration", ("durationms", "duration"), "durationMs", "DurationMs"),
    Field("region", ("region",), "region", "Region"),
    Field("correlation_id", ("correlationid",), "correlationId", "CorrelationId"),
    # ``Type`` is the Log Analytics table; ``category`` the storage record's; az adds ``TableName``
    # (usually "PrimaryResult", which says nothing and is ignored by ``readers``)
    Field("category", ("type", "category", "tablename"), "category", "Type"),
    Field("result_type", ("resulttype",), "resultType", "ResultType"),
    Field("repository", ("repository",), "repository", "Repository"),
    Field("tag", ("tag",), "tag", "Tag"),
    Field("digest", ("digest",), "digest", "Digest"),
    Field("size", ("size",), "size", "Size"),
)
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)
#: Without a time and a result a row says nothing about who was turned away.
REQUIRED = ("time", "result")

#: Canonical field -> the names (as written in the file) that feed it, best first.
Mapping_ = Mapping[str, tuple[str, ...]]


def match(names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Which of ``names`` feed which canonical field (fields with no match are absent).

    >>> m = match(["TimeGenerated [UTC]", "ResultDescription", "identity", "Type", "TableName", "Foo"])
    >>> m["time"], m["result"], m["category"], "caller_ip" in m
    (('TimeGenerated [UTC]',), ('ResultDescription',), ('Type', 'TableName'), False)
    """
    by_key: dict[str, str] = {}
    for n in names:
        by_key.setdefault(key(n), n)
    out: dict[str, tuple[str, ...]] = {}
    for f in FIELDS:
        found = tuple(by_key[k] for k in f.keys if k in by_key)
        if found:
            out[f.name] = found
    return out


def known_count(names: Iterable[str]) -> int:
    """How many canonical fields ``names`` feed (used to tell a login-events header from any CSV)."""
    return len(match(names))


def missing_required(mapping: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The required fields the mapping lacks, as Log Analytics column names."""
    pascal = {f.name: f.pascal for f in FIELDS}
    return [pascal[r] for r in REQUIRED if r not in mapping]


__all__ = ["FIELDS", "FIELD_NAMES", "REQUIRED", "Field", "key", "known_count", "match", "missing_required"]
