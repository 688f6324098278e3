"""Every docstring example in src/ runs: the examples are documentation, so they must stay true."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
MODULES = sorted(
    ".".join(p.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
    for p in (SRC / "regdoctor").rglob("*.py")
    if p.name != "__main__.py"
)


def test_every_module_is_collected() -> None:
    assert len(MODULES) > 30 and "regdoctor.net.dns" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} failing example(s) in {name}"
