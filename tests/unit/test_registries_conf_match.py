"""registries.conf entry choice against containers/image's own test tables (TestRefMatchingPrefix,
TestRefMatchingSubdomainPrefix), and FindRegistry's longest-prefix rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from regdoctor.runtime.model import Origin
from regdoctor.runtime.regconf import RegistryEntry, find_registry, ref_matching_prefix

TABLE = json.loads((Path(__file__).parent / "data/runtime/containers/ref_matching_prefix.json").read_text())


def test_the_table_is_whole() -> None:
    assert len(TABLE["cases"]) == 48 and TABLE["source"].startswith("containers/image")


@pytest.mark.parametrize("case", TABLE["cases"], ids=lambda c: f"{c['ref'][:40]}~{c['prefix'][:30]}")
def test_containers_image_table(case: dict[str, Any]) -> None:
    assert ref_matching_prefix(case["ref"], case["prefix"]) == case["expected"]


def _e(prefix: str, **kw: bool) -> RegistryEntry:
    return RegistryEntry(prefix, prefix, Origin("/etc/containers/registries.conf"), **kw)


def test_longest_prefix_wins_and_first_of_equal_length() -> None:
    entries = [_e("quay.io", blocked=True), _e("quay.io/team"), _e("*.corp.example"), _e("quay.io", insecure=True)]
    assert find_registry(entries, "quay.io/team/app") == entries[1]
    assert find_registry(entries, "quay.io/teamx/app") == entries[0]  # not a namespace boundary
    assert find_registry(entries, "reg.corp.example/app") == entries[2]
    assert find_registry(entries, "docker.io/library/nginx") is None
    # FindRegistry's `length > prefixLen`: the first of two equal prefixes stays
    assert find_registry(entries, "quay.io/other") is entries[0]
