"""Untrusted JSON is bounded: deep or huge documents are the sender's fault, never a crash."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regdoctor import safejson


@pytest.mark.parametrize("n", [65, 1000, 100_000, 2_000_000])
def test_deep_documents_are_refused(n: int) -> None:
    for doc in ("[" * n + "]" * n, '{"a":' * n + "1" + "}" * n):
        with pytest.raises(safejson.JSONLimitError):
            safejson.loads(doc, max_bytes=10**8)


def test_limits_are_parameters() -> None:
    assert safejson.loads("[[[]]]", max_depth=3) == [[[]]]
    with pytest.raises(safejson.JSONLimitError):
        safejson.loads("[[[]]]", max_depth=2)
    with pytest.raises(safejson.JSONLimitError):
        safejson.loads(b"[1]" + b" " * 100, max_bytes=10)


@settings(max_examples=300, deadline=100)
@given(st.binary(max_size=2000) | st.text(max_size=2000).map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_any_input_gives_a_value_or_a_value_error(data: bytes) -> None:
    with contextlib.suppress(ValueError):  # ValueError is the documented failure; anything else fails the test
        safejson.loads(data)
