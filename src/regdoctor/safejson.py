"""JSON from untrusted sources (registries, token services, user files), bounded in size and depth.

Strategy
--------
A registry, a token service or a hand-edited config file can send JSON nested thousands of
levels deep or megabytes long. ``json.loads`` is C code that guards its own recursion, but on a
deep document it raises ``RecursionError`` (not ``ValueError``), and the code that walks the
result could recurse too. So every untrusted document goes through ``loads``: the size is
checked before parsing, a ``RecursionError`` becomes a ``JSONLimitError``, and the depth of
the parsed value is measured *iteratively* (an explicit stack, never recursion) against a
limit far above what any real manifest, token or config needs. Both errors are ``ValueError``
subclasses, so callers that already treat unparsable JSON as the sender's fault keep working.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

#: Real manifests, indexes, tokens and configs nest fewer than 10 levels.
MAX_DEPTH = 64
#: The largest document regdoctor reads by default (an image index with many platforms fits).
MAX_BYTES = 4 * 1024 * 1024


class JSONLimitError(ValueError):
    """The document is larger or deeper than regdoctor accepts."""


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of a parsed JSON value, measured without recursion; stops past ``limit``.

    >>> depth(1), depth([]), depth({"a": [1, {"b": 2}]})
    (0, 1, 3)
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((c, level) for c in children if isinstance(c, dict | list))
    return deepest


def loads(data: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``data`` as JSON within the limits; ``ValueError`` (or ``JSONLimitError``) if it cannot be.

    >>> loads(b'{"token": "t"}')
    {'token': 't'}
    >>> loads("[" * 10000 + "]" * 10000)
    Traceback (most recent call last):
    ...
    regdoctor.safejson.JSONLimitError: JSON nested more than 64 levels deep
    """
    if len(data) > max_bytes:
        raise JSONLimitError(f"JSON document larger than {max_bytes} bytes")
    text = data.decode("utf-8", "strict") if isinstance(data, bytes) else data
    try:
        value = json.loads(text)
    except RecursionError:
        raise JSONLimitError(f"JSON nested more than {max_depth} levels deep") from None
    if depth(value, max_depth) > max_depth:
        raise JSONLimitError(f"JSON nested more than {max_depth} levels deep")
    return value


__all__ = ["MAX_BYTES", "MAX_DEPTH", "JSONLimitError", "depth", "loads"]
