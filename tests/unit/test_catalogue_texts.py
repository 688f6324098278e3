"""Every catalogue text can be filled: each placeholder is a key some producer sets.

The lab checks the rendered texts of every finding it produces (tests/lab/lab.py
``assert_texts_filled``); this test covers the codes no lab scenario reaches: a placeholder
whose name no module of src/ ever writes as an evidence key would stay ``{unfilled}`` forever.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from regdoctor import kb

SRC = Path(__file__).resolve().parents[2] / "src" / "regdoctor"
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
#: filled by kb.CodeInfo.finding itself or by diagnose's extras, not by evidence
_ALWAYS = {"host", "registry"}


def _keys_written_in_src() -> set[str]:
    keys: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys |= {k.value for k in node.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)}
            elif isinstance(node, ast.keyword) and node.arg:
                keys.add(node.arg)
            elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                    and isinstance(node.slice.value, str):
                keys.add(node.slice.value)
    return keys


def test_every_placeholder_is_a_key_some_producer_sets() -> None:
    written = _keys_written_in_src() | _ALWAYS
    orphans = {}
    for c in kb.catalogue().values():
        names = set(_PLACEHOLDER.findall(c.title + c.cause + c.fix)) - written
        if names:
            orphans[c.code] = sorted(names)
    assert not orphans, orphans


def test_titles_have_no_placeholders_and_no_text_says_none() -> None:
    for c in kb.catalogue().values():
        assert not _PLACEHOLDER.search(c.title), c.code
        assert not re.search(r"(?<!`)\bNone\b(?!`)", c.cause + c.fix), c.code  # `None` quoted is an Azure value
