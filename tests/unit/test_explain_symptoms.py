"""The symptom book: valid, consistent with the one catalogue, and its loader strict."""

from __future__ import annotations

import copy
import re
import tomllib
from typing import Any

import pytest

from regdoctor import kb
from regdoctor.explain import Scanner, explain, match_line
from regdoctor.kb import CatalogueError
from regdoctor.kb.symptoms import CONDITIONS, _data, book, build

RAW: dict[str, Any] = tomllib.loads(_data())
LEAVES = sorted(book().leaves.values(), key=lambda r: r.kind)


def test_book_loads_once_and_is_large() -> None:
    assert book() is book()
    assert len(book().leaves) >= 80 and len(book().symptoms) >= 30
    assert len(book().fingerprints) >= 40


def test_every_code_it_names_is_in_the_catalogue() -> None:
    cat = kb.catalogue()
    bk = book()
    for s in bk.symptoms:
        for c in s.candidates:
            assert c.code in cat, (s.id, c.code)
        assert s.on_proxy is None or s.on_proxy in cat


@pytest.mark.parametrize("sym", book().symptoms, ids=[s.id for s in book().symptoms])
def test_each_example_matches_its_symptom_through_the_prefilter(sym: Any) -> None:
    text = sym.example.replace('\\"', '"')
    assert sym.regex.search(text), sym.id
    # the prefilter admits the example line (the anchor is really in it)
    assert list(Scanner().candidates([sym.example.encode()])), sym.id
    m = match_line(text)
    assert m is not None
    ranked = [code for code, _ in m.ranked]
    assert sym.code in ranked or sym.on_proxy in ranked or m.entities.get("blocked_code") == sym.code, (
        sym.id, ranked)


def test_the_leaf_table_defines_exactly_the_kinds_the_grammar_reads() -> None:
    from regdoctor.explain.grammar import LEAF_KINDS

    assert set(book().leaves) == LEAF_KINDS


@pytest.mark.parametrize("rule", LEAVES, ids=[r.kind for r in LEAVES])
def test_each_leaf_example_reads_as_its_kind_through_the_prefilter(rule: Any) -> None:
    from regdoctor.explain.grammar import read

    cat = kb.catalogue()
    assert all(c.code in cat for c in (*rule.candidates, *rule.via_proxy)) and (rule.on_proxy is None
                                                                                or rule.on_proxy in cat)
    r = read(rule.example)
    assert r.leaf is not None and r.leaf.kind == rule.kind, (rule.kind, r.leaf)
    assert list(Scanner().candidates([rule.example.encode()])), rule.kind
    m = match_line(rule.example)
    assert m is not None
    ranked = [code for code, _ in m.ranked]
    expected = {rule.code, rule.on_proxy, *(c.code for c in rule.via_proxy)}
    assert expected & set(ranked) or m.entities.get("blocked_code") in expected, (rule.kind, ranked)


def test_alternatives_rank_below_their_primary() -> None:
    for s in book().symptoms:
        for alt in s.candidates[1:]:
            assert alt.confidence < s.candidates[0].confidence, s.id
            assert {c for c, _ in alt.boost} <= CONDITIONS


@pytest.mark.parametrize("code", sorted({c.code for s in book().symptoms for c in s.candidates}
                                        | {s.on_proxy for s in book().symptoms if s.on_proxy}
                                        | {c.code for r in LEAVES for c in (*r.candidates, *r.via_proxy)}
                                        | {r.on_proxy for r in LEAVES if r.on_proxy}))
def test_findings_read_well_without_entities(code: str) -> None:
    """No code explain can emit leaves a `{placeholder}` when the text reveals nothing."""
    from regdoctor.explain.findings import Acc as _Acc
    from regdoctor.explain.findings import build_finding as _build_finding
    from regdoctor.explain.match import LineMatch

    lm = LineMatch(lineno=1, symptom="x.y", matched="m", ranked=((code, 0.5),), entities={"endpoint_role": "registry"},
                   notes=(), line="m")
    f = _build_finding(code, 0.5, _Acc(lm, 1, 1), alternative=False, multi=False, bk=book())
    assert not re.search(r"\{[a-z_]+\}", f.cause + f.fix), (code, f.cause, f.fix)


def _mutate(path: list[Any], value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(RAW)
    node: Any = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return raw


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["symptom", 0, "code"], "NOT_A_CODE", "unknown code"),
        (["symptom", 0, "alternatives"], [{"code": "DNS_NODATA", "confidence": 0.99}], "not below the primary"),
        (["symptom", 0, "pattern"], "lookup (", "bad pattern"),
        (["symptom", 0, "pattern"], "(?P<nonsense>x)", "unknown named groups"),
        (["symptom", 0, "pattern"], "{{nofragment}}", "unknown fragment"),
        (["symptom", 0, "boost"], {"weather": 0.1}, "unknown boost condition"),
        (["symptom", 0, "confidence"], 1.5, "confidence"),
        (["symptom", 0, "on_proxy"], "NOPE_NOPE", "unknown code"),
        (["symptom", 1, "id"], RAW["symptom"][0]["id"], "duplicate ids"),
        (["symptom", 0, "anchors"], [], "anchors"),
        (["symptom", 0, "extra_key"], 1, "unknown keys"),
        (["fingerprint", next(i for i, f in enumerate(RAW["fingerprint"]) if "library" in f), "min"], "x.y",
         "bad version"),
    ],
)
def test_loader_rejects_malformed_books(path: list[Any], value: Any, message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        build(_mutate(path, value), kb.catalogue())


def _gated(text: str) -> bool:
    """Does the log scanner's prefilter (the grammar's anchors and the symptoms' gates) admit it?"""
    return any(g.search(b": " + text.encode()) for g in Scanner()._gate)


def test_gate_uses_literal_prefixed_regexes() -> None:
    gate = Scanner()._gate
    assert gate[0].pattern.startswith(b": (?:")  # the fast path for ": leaf" anchors
    assert len(gate) <= 12, "each gate regex is one more pass over every log"
    for s in book().symptoms:
        for a in s.gate:
            assert _gated(a), (s.id, a)


@pytest.mark.parametrize("sym", book().symptoms, ids=[s.id for s in book().symptoms])
def test_each_symptom_example_passes_the_log_gate(sym: Any) -> None:
    assert _gated(sym.example.replace('\\"', '"')), sym.id


@pytest.mark.parametrize("rule", LEAVES, ids=[r.kind for r in LEAVES])
def test_each_leaf_example_passes_the_log_gate(rule: Any) -> None:
    assert _gated(rule.example), rule.kind

def test_unknown_text_is_not_a_symptom() -> None:
    assert not explain("everything is fine, pulled alpine:latest in 1.2 s").findings
