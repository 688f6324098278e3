"""Reading per-node ``check --json`` reports from files and log streams (pure: text in, reports out).

Strategy
--------
Reports arrive three ways: one document per file (``check --json > node.json``), JSON Lines (``serve``
logs one compact document per round), and ``kubectl logs -l app=regdoctor --prefix [--timestamps]``,
which puts ``[pod/NAME/CONTAINER] `` and/or an RFC 3339 timestamp before every line and may carry
pretty-printed (multi-line) documents of several pods. So:

1. each line loses a kubectl prefix (the ``[pod/…]`` part names the stream; lines are grouped by it,
   so pods whose lines are interleaved still reassemble);
2. a line that holds a whole JSON object (after any other prefix text: the object starts at its
   first ``{"``) is a document;
3. a line that is exactly ``{`` opens a multi-line document, which ends at the next line that is
   exactly ``}`` (``check --json`` indents everything inside, so only the outer brace sits at
   column 0); a new ``{`` before then abandons the open one;
4. every other line is skipped and counted, never fatal: logs carry start-up messages and noise.

Documents that are JSON but not a regdoctor ``check`` report (another tool's output, ``explain
--json``, a newer schema) are rejected with the reason. Limits keep hostile input linear and
bounded: a line above ``MAX_LINE`` characters and a document above ``MAX_DOC_LINES`` lines are
skipped, and nesting deeper than Python's parser allows is rejected, not a crash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from regdoctor import safejson
from regdoctor.fleet.node import valid_node_name

MAX_LINE = 16 * 1024 * 1024
MAX_DOC_LINES = 200_000
SCHEMA = 1

# kubectl logs --prefix: "[pod/<name>/<container>] "; --timestamps: RFC 3339 with nanoseconds, then a space
_KUBECTL_PREFIX = re.compile(r"\[(?P<stream>[A-Za-z0-9][^\]\s]{0,300})\] ")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d) ")


#: one node's report is a few kB; this bounds a hostile stream's documents
_MAX_DOC = 16 * 1024 * 1024


@dataclass(frozen=True)
class NodeReport:
    """One node's report: its name, labels, where it came from, and the document itself."""

    node: str
    labels: tuple[tuple[str, str], ...]
    source: str
    doc: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Ingested:
    reports: tuple[NodeReport, ...]
    skipped_lines: int = 0
    rejected: tuple[tuple[str, str], ...] = ()  # (source, reason)
    superseded: int = 0  # older reports of a node that a later one replaced


@dataclass
class _Stream:
    name: str
    buffer: list[str] = field(default_factory=list)
    open_line: int = 0


@dataclass
class _Reader:
    source: str
    docs: list[tuple[str, str, Any]] = field(default_factory=list)  # (source, stream, parsed)
    skipped: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, stream: str, text: str) -> bool:
        try:
            obj = safejson.loads(text, max_bytes=_MAX_DOC)
        except safejson.JSONLimitError as exc:
            if exc.kind not in ("too_deep", "too_big"):
                return False  # not JSON at all: a log line, counted as skipped by the caller
            self.rejected.append((where, str(exc)))
            return True
        self.docs.append((where, stream, obj))
        return True


def _strip_prefix(line: str) -> tuple[str, str]:
    """(stream name, line without kubectl's prefix and timestamp)."""
    stream = ""
    m = _KUBECTL_PREFIX.match(line)
    if m:
        stream, line = m.group("stream"), line[m.end():]
    m = _TIMESTAMP.match(line)
    if m:
        line = line[m.end():]
    return stream, line


def read_stream(text: str, source: str) -> _Reader:
    """Every JSON document in ``text``; see the module docstring for the rules.

    >>> r = read_stream('starting\\n[pod/rd-x/rd] {"a": 1}\\n{\\n  "b": 2\\n}\\n', "stdin")
    >>> [(s, d) for _, s, d in r.docs], r.skipped
    ([('pod/rd-x/rd', {'a': 1}), ('', {'b': 2})], 1)
    """
    reader = _Reader(source)
    streams: dict[str, _Stream] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        if len(raw) > MAX_LINE:
            reader.skipped += 1
            continue
        name, line = _strip_prefix(raw)
        line = line.rstrip()
        st = streams.setdefault(name, _Stream(name))
        where = f"{source}:{lineno}" + (f" [{name}]" if name else "")
        if st.buffer:
            if line == "{":  # a new document before the open one closed: the open one was cut short
                reader.skipped += len(st.buffer)
                st.buffer = [line]
                st.open_line = lineno
                continue
            st.buffer.append(line)
            if line == "}":
                if not reader.add(f"{source}:{st.open_line}" + (f" [{name}]" if name else ""), name,
                                  "\n".join(st.buffer)):
                    reader.skipped += len(st.buffer)
                st.buffer = []
            elif len(st.buffer) > MAX_DOC_LINES:
                reader.skipped += len(st.buffer)
                st.buffer = []
            continue
        if line == "{":
            st.buffer = [line]
            st.open_line = lineno
            continue
        start = line.find('{"')
        if start >= 0 and line.endswith("}") and reader.add(where, name, line[start:]):
            continue
        reader.skipped += 1
    for st in streams.values():
        reader.skipped += len(st.buffer)
    return reader


def _labels(node: Any) -> tuple[tuple[str, str], ...]:
    labels = node.get("labels") if isinstance(node, dict) else None
    if not isinstance(labels, dict):
        return ()
    pairs = [(str(k)[:317], str(v)[:63]) for k, v in labels.items() if isinstance(v, str | int) and v != ""]
    return tuple(sorted(pairs[:16]))


def check_document_problem(obj: Any) -> str | None:
    """Why ``obj`` is not a ``check --json`` document (None when it is one).

    >>> check_document_problem({"schema": 1, "tool": "regdoctor", "status": "ok", "endpoints": [], "findings": []})
    >>> check_document_problem({"schema": 1, "tool": "regdoctor", "status": "ok", "findings": []})
    'a regdoctor document without endpoints (not from `check --json`)'
    """
    if not isinstance(obj, dict):
        return "JSON, but not an object"
    if obj.get("tool") != "regdoctor":
        return "JSON, but not a regdoctor document"
    schema = obj.get("schema")
    if not isinstance(schema, int) or isinstance(schema, bool):
        return "a regdoctor document without a schema number"
    if schema > SCHEMA:
        return f"schema {schema} is newer than this regdoctor reads (schema {SCHEMA}); upgrade regdoctor"
    if not isinstance(obj.get("endpoints"), list):
        return "a regdoctor document without endpoints (not from `check --json`)"
    if not isinstance(obj.get("findings"), list):
        return "a regdoctor document without findings"
    if obj.get("status") not in ("ok", "problems"):
        return "a regdoctor document without a valid status"
    return None


def _fallback_name(source: str, stream: str) -> str:
    # kubectl's stream is pod/<pod>/<container>: the pod names the node well enough when the report does not
    parts = stream.split("/")
    if len(parts) == 3 and parts[0] == "pod":
        return parts[1]
    base = source.rsplit("/", 1)[-1]
    for ext in (".jsonl", ".json", ".log", ".txt"):
        base = base.removesuffix(ext)
    return base or source


def collect(texts: Iterable[tuple[str, str]]) -> Ingested:
    """Reports from ``(source name, text)`` pairs, one per node (a node's later report wins).

    >>> doc = '{"schema":1,"tool":"regdoctor","status":"ok","node":{"name":"n1"},"endpoints":[],"findings":[]}'
    >>> got = collect([("a.jsonl", doc + "\\n" + doc), ("b.txt", "hello")])
    >>> [r.node for r in got.reports], got.superseded, got.skipped_lines
    (['n1'], 1, 1)
    """
    by_node: dict[str, NodeReport] = {}
    skipped = superseded = 0
    rejected: list[tuple[str, str]] = []
    for source, text in texts:
        reader = read_stream(text, source)
        skipped += reader.skipped
        rejected += reader.rejected
        for where, stream, obj in reader.docs:
            problem = check_document_problem(obj)
            if problem is not None:
                rejected.append((where, problem))
                continue
            node = obj.get("node")
            name = node.get("name") if isinstance(node, dict) else None
            if not isinstance(name, str) or not name:
                name = _fallback_name(source, stream)
            elif not valid_node_name(name):
                rejected.append((where, f"node name {name[:80]!r} is not a Kubernetes node name"))
                continue
            if name in by_node:
                superseded += 1
                del by_node[name]  # re-insert: the order of reports is the order of their latest arrival
            by_node[name] = NodeReport(node=name, labels=_labels(node), source=where, doc=obj)
    return Ingested(reports=tuple(by_node.values()), skipped_lines=skipped, rejected=tuple(rejected),
                    superseded=superseded)
