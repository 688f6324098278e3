"""Input files: expand globs and directories, and tell each file's export shape from its first bytes.

Strategy
--------
Shapes are detected, never flagged, from at most the first ``HEAD_BYTES`` of a file (after
gzip, told by its magic bytes ``1f 8b``):

* ``PAR1``                                   -> ``parquet``
* ``{`` with ``"tables": [`` at the top       -> ``rest``   (Log Analytics REST answer)
* ``{`` whose first line is a whole object   -> ``lines``  (diagnostic-settings ``PT1H.json``,
  or any JSON Lines export)
* ``[`` followed by an object                 -> ``az``     (``az monitor log-analytics query``)
* a text line naming known columns           -> ``csv``    (``,`` ``;`` tab or ``|``)

The names found there (the first record's keys, the CSV header) are matched to the canonical
fields (``fields.match``), so the readers can ask DuckDB for exactly those columns. Everything
after the head is DuckDB's to read. A file that fits no shape, or lacks the time and result
columns, is ``BadInput`` naming the file and what is wrong with it (exit 2).
"""

from __future__ import annotations

import csv
import glob
import json
import os
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from regdoctor import safejson
from regdoctor.errors import BadInput
from regdoctor.logs import fields

Shape = Literal["rest", "az", "lines", "csv", "parquet", "empty"]
SHAPE_TITLES: dict[str, str] = {
    "rest": "Log Analytics REST answer",
    "az": "az monitor log-analytics query list",
    "lines": "JSON lines (diagnostic-settings storage export)",
    "csv": "CSV",
    "parquet": "Parquet",
    "empty": "empty file",
}
HEAD_BYTES = 256 * 1024
#: Refuse to expand more files than this (a glob over a whole disk is a mistake, not an input).
MAX_FILES = 100_000
_GZIP_MAGIC = b"\x1f\x8b"
_GLOB_CHARS = re.compile(r"[*?\[]")
_TABLES_RE = re.compile(r'^\{\s*"tables"\s*:\s*\[')
_COLUMNS_RE = re.compile(r'"columns"\s*:\s*(?=\[)')
_DELIMITERS = (",", ";", "\t", "|")
#: Login-event records are two or three levels deep; a REST answer five.
_MAX_DEPTH = 64


@dataclass(frozen=True)
class Source:
    """One input file, its shape, and how its names map to the canonical fields."""

    path: str
    shape: Shape
    gzip: bool = False
    #: canonical field -> names in the file, best first (``(field, names)`` pairs, stable order)
    columns: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: ``lines``: fields found only inside the first record's nested ``properties`` object
    nested: tuple[tuple[str, str], ...] = ()
    #: ``lines``: the records are pretty-printed (not one per line)
    multiline: bool = False
    #: ``csv``: delimiter and the header names in file order
    delimiter: str = ","
    header: tuple[str, ...] = ()
    #: ``parquet``: column types, as DuckDB names them (filled by ``engine``)
    types: tuple[tuple[str, str], ...] = ()

    @property
    def mapping(self) -> dict[str, tuple[str, ...]]:
        return dict(self.columns)

    @property
    def title(self) -> str:
        return SHAPE_TITLES[self.shape] + (", gzip" if self.gzip else "")


# --------------------------------------------------------------------------- file lists

def expand(args: Sequence[str]) -> list[str]:
    """Files named by ``args``: paths, globs (``**`` recursive) and directories (every file below).

    >>> expand(["/nonexistent/*.json"])
    Traceback (most recent call last):
    ...
    regdoctor.errors.BadInput: /nonexistent/*.json: no file matches
    """
    out: list[str] = []
    seen: set[str] = set()

    def add(p: str) -> None:
        real = os.path.realpath(p)
        if real not in seen:
            seen.add(real)
            out.append(p)
        if len(out) > MAX_FILES:
            raise BadInput(f"more than {MAX_FILES} input files; narrow the glob")

    for arg in args:
        if _GLOB_CHARS.search(arg) and not os.path.exists(arg):
            hits = sorted(h for h in glob.glob(arg, recursive=True) if os.path.isfile(h))
            if not hits:
                raise BadInput(f"{arg}: no file matches")
            for h in hits:
                add(h)
        elif os.path.isdir(arg):
            files = sorted(str(p) for p in Path(arg).rglob("*")
                           if p.is_file() and not any(part.startswith(".") for part in p.relative_to(arg).parts))
            if not files:
                raise BadInput(f"{arg}: directory has no files")
            for f in files:
                add(f)
        elif os.path.isfile(arg):
            add(arg)
        elif os.path.exists(arg):
            raise BadInput(f"{arg}: not a regular file")
        else:
            raise BadInput(f"{arg}: no such file")
    return out


# --------------------------------------------------------------------------- detection

def read_head(path: str) -> tuple[bytes, bool]:
    """The first ``HEAD_BYTES`` of the content (decompressed when gzip) and whether it was gzip."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(HEAD_BYTES)
    except OSError as exc:
        raise BadInput(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not raw.startswith(_GZIP_MAGIC):
        return raw, False
    dec = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        head = dec.decompress(raw, HEAD_BYTES)
    except zlib.error as exc:
        raise BadInput(f"{path}: gzip data is corrupt ({exc})") from None
    if not head and len(raw) < HEAD_BYTES and not dec.eof:
        raise BadInput(f"{path}: gzip data is truncated")
    return head, True


def detect(path: str) -> Source:
    """The shape of ``path`` and its column mapping, from its first bytes."""
    head, gz = read_head(path)
    if not head.strip():
        return Source(path, "empty", gz)
    if head.startswith(b"PAR1"):
        return Source(path, "parquet", gz)
    if b"\x00" in head[:4096]:
        raise BadInput(f"{path}: binary data, not a login-events export (JSON, CSV or Parquet)")
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    if text.count("\ufffd") > max(8, len(text) // 100):
        raise BadInput(f"{path}: not UTF-8 text, not a login-events export (JSON, CSV or Parquet)")
    body = text.lstrip()
    if body.startswith("{"):
        return _json_object(path, gz, body, complete=len(head) < HEAD_BYTES)
    if body.startswith("["):
        return _json_list(path, gz, body)
    return _csv(path, gz, text)


def _shallow(path: str, text: str) -> None:
    """Checked before any ``json`` call on ``text``: CPython's decoder recurses once per level."""
    if safejson.nesting_depth(text.encode("utf-8", "surrogatepass"), stop_above=_MAX_DEPTH) > _MAX_DEPTH:
        raise BadInput(f"{path}: JSON nested deeper than {_MAX_DEPTH} levels, not a login-events export")


def _require(path: str, mapping: dict[str, tuple[str, ...]], where: str) -> None:
    missing = fields.missing_required(mapping)
    if missing:
        raise BadInput(f"{path}: {where} has no {' or '.join(missing)} column, so it is not a "
                       "ContainerRegistryLoginEvents/RepositoryEvents export")


def _json_object(path: str, gz: bool, body: str, complete: bool) -> Source:
    first_line = body.split("\n", 1)[0].strip()
    _shallow(path, first_line)
    record: object = None
    try:
        record = json.loads(first_line)
    except ValueError:
        record = None
    if (isinstance(record, dict) and "tables" in record) or _TABLES_RE.match(body):
        return _rest(path, gz, body)
    multiline = False
    if not isinstance(record, dict):
        # pretty-printed records, one after another (DuckDB's "unstructured" JSON)
        _shallow(path, body)
        try:
            record, _ = json.JSONDecoder().raw_decode(body)
        except json.JSONDecodeError as exc:
            cut = exc.msg.startswith("Unterminated") or exc.pos >= len(body.rstrip()) - 1
            what = "is cut off" if complete and cut else "is not valid JSON"
            raise BadInput(f"{path}: the first record {what} ({exc.msg} at line {exc.lineno} column {exc.colno})"
                           ) from None
        if not isinstance(record, dict):
            raise BadInput(f"{path}: JSON, but not an object per record")
        multiline = True
    keys = list(record)
    mapping = fields.match(keys)
    nested: list[tuple[str, str]] = []
    props = next((record[k] for k in keys if fields.key(k) == "properties"), None)
    if isinstance(props, dict):
        inner = fields.match(list(props))
        for name, names in inner.items():
            if name not in mapping:
                nested.append((name, names[0]))
    _require(path, {**mapping, **{n: (k,) for n, k in nested}}, "the first record")
    camel = "time" in keys or any(k[:1].islower() for k in keys)
    for f in fields.FIELDS:
        if f.name not in mapping and all(n != f.name for n, _ in nested):
            # absent from the first record: ask for it under the name its style would use
            mapping[f.name] = (f.camel if camel else f.pascal,)
    return Source(path, "lines", gz, columns=tuple(mapping.items()), nested=tuple(nested), multiline=multiline)


def _rest(path: str, gz: bool, body: str) -> Source:
    m = _COLUMNS_RE.search(body)
    if m:
        _shallow(path, body)
        try:
            cols, _ = json.JSONDecoder().raw_decode(body, m.end())
        except ValueError:
            cols = None
        if isinstance(cols, list):
            names = [str(c["name"]) for c in cols if isinstance(c, dict) and isinstance(c.get("name"), str)]
            _require(path, fields.match(names), "the first table")
    return Source(path, "rest", gz)


def _json_list(path: str, gz: bool, body: str) -> Source:
    i = 1
    while i < len(body) and body[i] in " \t\r\n":
        i += 1
    if body[i:i + 1] == "]":
        return Source(path, "empty", gz)
    _shallow(path, body)
    try:
        first, _ = json.JSONDecoder().raw_decode(body, i)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: a JSON list whose first element is not valid JSON ({exc.msg})") from None
    if not isinstance(first, dict):
        raise BadInput(f"{path}: a JSON list of {type(first).__name__}, not of objects (rows)")
    mapping = fields.match(list(first))
    _require(path, mapping, "the first object")
    for f in fields.FIELDS:
        mapping.setdefault(f.name, (f.pascal,))
    return Source(path, "az", gz, columns=tuple(mapping.items()))


def _csv(path: str, gz: bool, text: str) -> Source:
    line = text.split("\n", 1)[0].rstrip("\r")
    best: tuple[int, str, list[str]] = (0, ",", [])
    for delim in _DELIMITERS:
        try:
            names = next(csv.reader([line], delimiter=delim))
        except (csv.Error, StopIteration):
            continue
        n = fields.known_count(names)
        if n > best[0]:
            best = (n, delim, names)
    count, delim, names = best
    if count < 2:
        shown = line[:60].encode("unicode_escape").decode("ascii")
        raise BadInput(f"{path}: not a login-events export (not JSON or Parquet, and the first line "
                       f"'{shown}' names no Log Analytics columns such as TimeGenerated, ResultDescription)")
    mapping = fields.match(names)
    _require(path, mapping, "the CSV header")
    return Source(path, "csv", gz, columns=tuple(mapping.items()), delimiter=delim, header=tuple(names))


def detect_all(paths: Iterable[str]) -> list[Source]:
    return [detect(p) for p in paths]


__all__ = ["HEAD_BYTES", "SHAPE_TITLES", "Shape", "Source", "detect", "detect_all", "expand", "read_head"]
