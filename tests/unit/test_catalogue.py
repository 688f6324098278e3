"""The one catalogue: valid, complete, and every code the code base uses is in it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from regdoctor import kb
from regdoctor.kb import CatalogueError, Code, _validate, fill
from regdoctor.model import LAYERS

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "regdoctor"


def test_catalogue_loads_and_is_large() -> None:
    cat = kb.catalogue()
    assert len(cat) >= 60
    assert {c.layer for c in cat.values()} <= set(LAYERS)


def test_each_code_read_from_its_own_table_is_the_whole_files_entry() -> None:
    """``code(name)`` parses only that code's ``[CODE]`` table: the file must stay a flat list of
    such tables (no dotted or array tables, no multi-line string holding a header line), and
    each table read alone must give exactly what the whole file gives."""
    assert list(kb.tables()) == list(kb.catalogue())  # every table found by its header line, in order
    whole = kb.catalogue()
    kb._entry.cache_clear()
    kb.catalogue.cache_clear()  # so that code() really reads one table each time
    try:
        for name, info in whole.items():
            assert kb.code(name) == info, name
        assert kb.catalogue.cache_info().misses == 0  # no entry needed the whole file
    finally:
        kb._entry.cache_clear()
        kb.catalogue.cache_clear()


def test_an_entry_read_alone_is_still_validated() -> None:
    with pytest.raises(CatalogueError, match="explains unknown code"):
        _validate({"TCP_TIMEOUT": {"layer": "tcp", "severity": "error", "title": "t", "cause": "c", "fix": "f",
                                   "explains": ["NOT_A_CODE"]}}, known=Code.__members__)


def _python_sources() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if p != SRC / "kb" / "codes.py"]


def test_codes_enum_is_generated_from_the_catalogue() -> None:
    """kb/codes.py mirrors codes.toml exactly (scripts/gen_codes.py writes it)."""
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_codes.py"), "--check"], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert [c.value for c in Code] == list(kb.catalogue())


def test_python_code_names_codes_only_through_the_enum() -> None:
    """Every module of src/ is scanned: a code is written ``Code.NAME`` (which mypy and this test
    check), never as a bare string that a typo could turn into an uncatalogued code."""
    known = set(kb.catalogue())
    bare: list[str] = []
    unknown: list[str] = []
    for path in _python_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            where = f"{path.relative_to(SRC)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings \
                    and node.value in known:
                bare.append(f"{where} {node.value!r}")
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Code" \
                    and node.attr not in known and not node.attr.startswith("_"):
                unknown.append(f"{where} Code.{node.attr}")
    assert not bare, f"write Code.NAME instead of a string: {bare[:10]}"
    assert not unknown, f"not in the catalogue: {unknown[:10]}"
    assert len(_python_sources()) > 30, "the scan must cover all of src/"


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
        kb.parse_code("NOT_A_CODE")


def test_an_ipv6_address_and_its_port_read_as_one_authority() -> None:
    from regdoctor.kb import fill

    assert fill("{address}:{port} answered", {"address": "::1", "port": 5000}) == "[::1]:5000 answered"
    assert fill("{address}:{port}", {"address": "10.0.0.1", "port": 443}) == "10.0.0.1:443"
    assert fill("{host}:{port}", {"host": "r.io", "port": 443}) == "r.io:443"
    assert fill("{address}:{port}", {"address": "not:an:address", "port": 1}) == "not:an:address:1"
    assert fill("{address}:{port}", {"address": "::1"}) == "::1:{port}"  # no port known: left as written
