"""The one catalogue: valid, complete, and every code the code base uses is in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from regdoctor import kb
from regdoctor.kb import CatalogueError, _validate, fill
from regdoctor.model import LAYERS

SRC = Path(__file__).resolve().parents[2] / "src" / "regdoctor"


def test_catalogue_loads_and_is_large() -> None:
    cat = kb.catalogue()
    assert len(cat) >= 60
    assert {c.layer for c in cat.values()} <= set(LAYERS)


def test_every_code_spelled_in_probe_or_diagnosis_is_catalogued() -> None:
    """No code string is used without a catalogue entry (the one-catalogue rule)."""
    cat = kb.catalogue()
    used: set[str] = set()
    for name in ("classify.py", "diagnose.py", "probe/endpoint.py", "probe/run.py"):
        text = (SRC / name).read_text()
        used |= set(re.findall(r'"((?:DNS|PROXY|TCP|TLS|HTTP|AUTH|REGISTRY|DATA|CLIENT)_[A-Z_]+)"', text))
    used -= {"HTTP_PROXY", "HTTPS_PROXY"}  # environment variable names, not codes
    assert used, "the scan found nothing: the regex is wrong"
    assert used <= set(cat), sorted(used - set(cat))


def test_az_codes_are_real_check_health_codes() -> None:
    known = {"DOCKER_COMMAND_ERROR", "DOCKER_DAEMON_ERROR", "DOCKER_VERSION_ERROR", "DOCKER_PULL_ERROR",
             "HELM_COMMAND_ERROR", "HELM_VERSION_ERROR", "NOTARY_COMMAND_ERROR", "NOTARY_VERSION_ERROR", "CMK_ERROR",
             "CONNECTIVITY_DNS_ERROR", "CONNECTIVITY_FORBIDDEN_ERROR", "CONNECTIVITY_CHALLENGE_ERROR",
             "CONNECTIVITY_AAD_LOGIN_ERROR", "CONNECTIVITY_WWW_AUTHENTICATE_ERROR", "CONNECTIVITY_REFRESH_TOKEN_ERROR",
             "CONNECTIVITY_ACCESS_TOKEN_ERROR", "CONNECTIVITY_SSL_ERROR", "CONNECTIVITY_TOOMANYREQUESTS_ERROR",
             "LOGIN_SERVER_ERROR"}
    for c in kb.catalogue().values():
        assert c.az_code is None or c.az_code in known, (c.code, c.az_code)


def test_docs_links_use_current_article_names() -> None:
    # the reference renamed these in 2025/2026; emitted links must use the new names
    for c in kb.catalogue().values():
        if c.docs:
            assert c.docs.startswith("https://"), c.code
            assert "firewall-access-rules" not in c.docs and "private-link.md" not in c.docs


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"bad code": {}}, "bad code name"),
        ({"X_Y": {"layer": "dns", "severity": "error", "title": "t", "cause": "c"}}, "missing fix"),
        ({"X_Y": {"layer": "nope", "severity": "error", "title": "t", "cause": "c", "fix": "f"}}, "unknown layer"),
        ({"X_Y": {"layer": "dns", "severity": "bad", "title": "t", "cause": "c", "fix": "f"}}, "unknown severity"),
        ({"X_Y": {"layer": "dns", "severity": "error", "title": "t", "cause": "c", "fix": "f", "explains": ["Z_Z"]}},
         "explains unknown"),
        ({"X_Y": {"layer": "dns", "severity": "error", "title": "t", "cause": "c", "fix": "f", "extra": 1}},
         "unknown keys"),
    ],
)
def test_validation_rejects_malformed_entries(raw: dict[str, object], message: str) -> None:
    with pytest.raises(CatalogueError, match=message):
        _validate(raw)


def test_fill_leaves_unknown_placeholders() -> None:
    assert fill("{a} and {b}", {"a": [1, 2]}) == "1, 2 and {b}"
    assert fill("{a}", {"a": None}) == "{a}"


def test_unknown_code_is_a_catalogue_error() -> None:
    with pytest.raises(CatalogueError):
        kb.code("NOT_A_CODE")
