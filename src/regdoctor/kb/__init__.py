"""The knowledge base, as data: the codes catalogue (and, beside it, the symptom patterns).

Strategy
--------
The catalogue is a TOML file shipped inside the package (``codes.toml``), read with the
standard library's ``tomllib`` and validated on load: an entry with an unknown layer, a missing
title or an ``explains`` that names an unknown code is a packaging bug, so it raises
``CatalogueError`` instead of producing half a finding later. Everything above this module asks
for codes by name through ``code(...)``; no other module spells cause or fix texts.

Parsing the whole file costs ~15 ms (tomllib is pure Python), more than a healthy check's own
network work, while a failing check needs a handful of entries. The file is a flat list of
``[CODE]`` tables, so ``code(name)`` parses only that table's text (found by its header line);
``catalogue()`` parses and checks the whole file, for the commands that list every code.
tests/unit/test_catalogue.py holds the one-table reading to the whole-file one, entry by entry.
A healthy run reads neither.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import Any, cast

from regdoctor.kb.codes import Code
from regdoctor.model import LAYERS, Evidence, Finding, Layer, Severity, join_host_port

_SEVERITIES = ("error", "warning", "info")
_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]+$")
_PLACEHOLDER_RE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
#: ``{address}:{port}`` in a template: one authority, written as Go writes it (``[::1]:5000``)
_HOST_PORT_RE = re.compile(r"\{([a-z_][a-z0-9_]*)\}:\{port\}")


class CatalogueError(Exception):
    """The packaged catalogue is malformed (a bug in regdoctor, not in the user's input)."""


@dataclass(frozen=True)
class CodeInfo:
    code: Code
    layer: Layer
    severity: Severity
    title: str
    cause: str
    fix: str
    docs: str | None
    az_code: str | None
    explains: tuple[Code, ...]

    def finding(
        self,
        *,
        host: str | None,
        evidence: Evidence,
        root_cause: bool = True,
        extra: Mapping[str, Any] | None = None,
    ) -> Finding:
        """Fill this entry's templates from ``host``, ``evidence`` and ``extra`` values."""
        values: dict[str, Any] = {"host": host or "the registry"}
        values.update(evidence)
        if extra:
            values.update(extra)
        return Finding(
            code=self.code,
            layer=self.layer,
            host=host,
            root_cause=root_cause,
            severity=self.severity,
            title=self.title,
            cause=fill(self.cause, values),
            fix=fill(self.fix, values),
            evidence=dict(evidence),
            docs=self.docs,
            az_code=self.az_code,
        )


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _is_ipv6(text: str) -> bool:
    import ipaddress

    try:
        ipaddress.IPv6Address(text.partition("%")[0])
    except ValueError:
        return False
    return True


def fill(template: str, values: Mapping[str, Any]) -> str:
    """Replace ``{name}`` placeholders present in ``values``; leave the others as written.

    >>> fill("{host}:{port} {missing}", {"host": "r.io", "port": 443})
    'r.io:443 {missing}'
    >>> fill("dial tcp {address}:{port}", {"address": "2001:db8::1", "port": 443})
    'dial tcp [2001:db8::1]:443'
    """

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        return _text(values[key]) if key in values and values[key] is not None else m.group(0)

    def authority(m: re.Match[str]) -> str:
        host, port = values.get(m.group(1)), values.get("port")
        if isinstance(host, str) and host.count(":") >= 2 and port is not None and _is_ipv6(host):
            return join_host_port(host, _text(port))
        return m.group(0)

    return _PLACEHOLDER_RE.sub(sub, _HOST_PORT_RE.sub(authority, template))


def _validate(raw: Mapping[str, Any], known: Collection[str] | None = None) -> dict[Code, CodeInfo]:
    """Check parsed entries; ``explains`` must name codes of ``known`` (default: of ``raw`` itself)."""
    out: dict[str, CodeInfo] = {}
    for name, entry in raw.items():
        if not _CODE_RE.match(name):
            raise CatalogueError(f"bad code name {name!r}")
        if not isinstance(entry, dict):
            raise CatalogueError(f"{name}: entry is not a table")
        unknown = set(entry) - {"layer", "severity", "title", "cause", "fix", "docs", "az_code", "explains"}
        if unknown:
            raise CatalogueError(f"{name}: unknown keys {sorted(unknown)}")
        for key in ("layer", "severity", "title", "cause", "fix"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise CatalogueError(f"{name}: missing {key}")
        if entry["layer"] not in LAYERS:
            raise CatalogueError(f"{name}: unknown layer {entry['layer']!r}")
        if entry["severity"] not in _SEVERITIES:
            raise CatalogueError(f"{name}: unknown severity {entry['severity']!r}")
        explains = entry.get("explains", [])
        if not isinstance(explains, list) or not all(isinstance(e, str) for e in explains):
            raise CatalogueError(f"{name}: explains must be a list of codes")
        out[name] = CodeInfo(
            code=cast(Code, name),  # checked against the generated enum below
            layer=cast(Layer, entry["layer"]),
            severity=cast(Severity, entry["severity"]),
            title=entry["title"],
            cause=entry["cause"],
            fix=entry["fix"],
            docs=entry.get("docs"),
            az_code=entry.get("az_code"),
            explains=tuple(cast(Code, e) for e in explains),
        )
    for info in out.values():
        for other in info.explains:
            if other not in (out if known is None else known):
                raise CatalogueError(f"{info.code}: explains unknown code {other}")
    stale = [name for name in out if name not in Code.__members__]
    if stale:
        raise CatalogueError(f"kb/codes.py is stale (run scripts/gen_codes.py): {stale[:5]}")
    return {Code(k): replace(v, code=Code(k), explains=tuple(Code(e) for e in v.explains)) for k, v in out.items()}


#: a top-level table header on a line of its own: ``[CODE]``
_TABLE_RE = re.compile(r"^\[([A-Z][A-Z0-9_]*)\][ \t]*$", re.MULTILINE)


@lru_cache(maxsize=1)
def _source() -> str:
    # here, not at the top: a run that reports no finding never reads the file; pkgutil (the
    # package loader's get_data, zipped installs included) costs 0.5 ms where importlib.resources costs 3-7
    import pkgutil

    data = pkgutil.get_data(__name__, "codes.toml")
    if data is None:
        raise CatalogueError("codes.toml is not in the package")
    return data.decode("utf-8")


@lru_cache(maxsize=1)
def tables() -> dict[str, str]:
    """Each ``[CODE]`` table's own text (its header to the next one), by code, in file order."""
    text = _source()
    heads = list(_TABLE_RE.finditer(text))
    ends = [m.start() for m in heads[1:]] + [len(text)]
    return {m.group(1): text[m.start():end] for m, end in zip(heads, ends, strict=True)}


@lru_cache(maxsize=1)
def catalogue() -> dict[Code, CodeInfo]:
    """All codes, validated, in file order."""
    import tomllib

    return _validate(tomllib.loads(_source()))


@cache
def _entry(name: Code) -> CodeInfo | None:
    if catalogue.cache_info().currsize:  # the whole file is read already
        return catalogue().get(name)
    table = tables().get(name)
    if table is None:
        return None
    import tomllib

    try:
        raw = tomllib.loads(table)
    except tomllib.TOMLDecodeError:
        raw = {}
    if set(raw) != {name}:  # not a table of its own after all: read the whole file
        return catalogue().get(name)
    return _validate(raw, known=Code.__members__)[name]


def code(name: Code) -> CodeInfo:
    """One catalogue entry, parsed from its own table. Every ``Code`` has one (``_validate``
    checks the generated enum against the file), so a ``CatalogueError`` here means a packaging bug."""
    info = _entry(name)
    if info is None:
        raise CatalogueError(f"code {name} is not in the catalogue")
    return info


def parse_code(name: str) -> Code:
    """A code named in data (symptoms.toml, a report read back); ``CatalogueError`` if unknown.

    >>> parse_code("TCP_TIMEOUT") is Code.TCP_TIMEOUT
    True
    """
    try:
        return Code(name)
    except ValueError:
        raise CatalogueError(f"code {name!r} is not in the catalogue") from None


__all__ = ["CatalogueError", "Code", "CodeInfo", "catalogue", "code", "fill", "parse_code", "tables"]
