"""JSON from untrusted sources (registries, token services, user files), bounded in size and depth.

This is the ONE loader for untrusted JSON in regdoctor.

Strategy
--------
CPython's ``json`` decoder recurses once per nesting level, so a document of a few thousand
``[`` raises ``RecursionError`` (or worse, with a raised recursion limit, exhausts the C stack).
Config files, token responses and JWT payloads come from users' disks and from servers, so
their depth is measured *before* decoding, by one linear scan that skips string literals and
counts brackets, and the decoder only ever sees documents it can handle. The scan's regex has
two disjoint alternatives and no nested quantifier, so it is linear in the input length.

Every failure is one exception type, :class:`JSONLimitError` (a ``ValueError``), whose
message names what is wrong (size, depth, encoding, syntax with line and column) and never
quotes the document: these documents hold passwords and tokens.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: A JSON string (escapes included; an unterminated one runs to the end, so a failed match never
#: backtracks and restarts at the next quote) or one bracket; ``finditer`` skips everything else.
_STRING_OR_BRACKET = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_OPEN = frozenset(b"[{")
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
DEFAULT_MAX_DEPTH = 64


class JSONLimitError(ValueError):
    """The bytes are not a JSON document within the limits.

    ``kind`` is one of ``too_big``, ``too_deep``, ``not_utf8``, ``not_json``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def nesting_depth(data: bytes, stop_above: int | None = None) -> int:
    """The deepest bracket nesting outside string literals (0 for a scalar); the scan stops as
    soon as the depth passes ``stop_above``.

    >>> nesting_depth(b'{"a": [1, {"b": "[[["}]}')
    3
    """
    depth = deepest = 0
    for m in _STRING_OR_BRACKET.finditer(data):
        tok = m.group()
        if len(tok) != 1:
            continue  # a string literal
        if tok[0] in _OPEN:
            depth += 1
            deepest = max(deepest, depth)
            if stop_above is not None and depth > stop_above:
                break
        else:
            depth -= 1
    return deepest


def loads(data: bytes | str, *, max_bytes: int = DEFAULT_MAX_BYTES,
                  max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Decode one JSON document, or raise :class:`JSONLimitError`.

    >>> loads(b'{"auths": {}}')
    {'auths': {}}
    >>> loads(b"[" * 100)
    Traceback (most recent call last):
    ...
    regdoctor.safejson.JSONLimitError: nested deeper than 64 levels
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise JSONLimitError("too_big", f"larger than {max_bytes} bytes ({len(raw)} bytes)")
    if nesting_depth(raw, stop_above=max_depth) > max_depth:
        raise JSONLimitError("too_deep", f"nested deeper than {max_depth} levels")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JSONLimitError("not_utf8", f"not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JSONLimitError("not_json", f"not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:  # unreachable after the depth scan; kept so a bug stays a typed error
        raise JSONLimitError("too_deep", f"nested deeper than {max_depth} levels") from None


#: the names earlier callers used
loads_limited = loads
MAX_BYTES, MAX_DEPTH = DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_DEPTH", "MAX_BYTES", "MAX_DEPTH", "JSONLimitError", "loads",
           "loads_limited", "nesting_depth"]
