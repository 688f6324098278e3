"""Every text of the reference catalogues -> the right layer (and code), table-driven.

The table is data: tests/unit/data/explain/reference_texts.toml holds each text of
client-errors.md (wrappers, §2 per layer, §3 wording drift), of the symptom table of
acr-network-model.md (§5) and of fault-lab.md §5, with the layer the reference gives it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from regdoctor import kb
from regdoctor.explain import explain
from regdoctor.model import findings_sorted

TABLE = Path(__file__).parent / "data" / "explain" / "reference_texts.toml"
ROWS: list[dict[str, Any]] = tomllib.loads(TABLE.read_text(encoding="utf-8"))["text"]


def test_the_table_is_large_and_well_formed() -> None:
    assert len(ROWS) >= 150
    cat = kb.catalogue()
    for row in ROWS:
        assert row["text"].strip() and row["source"]
        assert ("layer" in row) != ("layers" in row), row["source"]
        for code in [*row.get("codes", []), *([row["code"]] if "code" in row else []), *row.get("also", [])]:
            assert code in cat, (row["source"], code)


@pytest.mark.parametrize("row", ROWS, ids=[r["source"] for r in ROWS])
def test_reference_text_names_the_right_layer(row: dict[str, Any]) -> None:
    ex = explain(row["text"])
    assert ex.findings, f"no symptom recognised in {row['text']!r}"
    top = ex.findings[0]
    layers = row.get("layers") or [row["layer"]]
    assert top.layer in layers, (top.code, [(f.code, f.confidence) for f in ex.findings])
    codes = row.get("codes") or ([row["code"]] if "code" in row else None)
    if codes:
        assert top.code in codes, [(f.code, f.confidence) for f in ex.findings]
    ranked = [f.code for f in ex.findings]
    for other in row.get("also", []):
        assert other in ranked, f"{other} missing from the ranked causes {ranked}"
    if "version" in row:
        assert row["version"] in top.evidence.get("client_version", []), top.evidence.get("client_version")
    if "fact" in row:
        assert row["fact"] in top.evidence.get("client_facts", []), top.evidence.get("client_facts")
    # what the user sees is what explain ranked: the renderers' sort keeps this order
    assert findings_sorted(list(ex.findings)) == list(ex.findings)
    assert top.matched
    # a confirm command whenever the text names the registry to check, none when it names no host
    if top.evidence.get("registry_host") or top.evidence.get("registry"):
        assert top.confirm is not None
    if not (top.host or top.evidence.get("registry_host") or top.evidence.get("url_host")):
        assert top.confirm is None
    assert top.confirm is None or top.confirm.startswith("regdoctor check ")
    assert 0 < (top.confidence or 0) <= 1


def test_every_layer_of_the_reference_is_covered() -> None:
    layers = {explain(r["text"]).findings[0].layer for r in ROWS}
    assert layers >= {"dns", "proxy", "tcp", "tls", "http", "auth", "registry", "data", "config"}
