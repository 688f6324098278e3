"""distribution's and containerd's own challenge and scope tests (tests/data/peers/), run
against regdoctor's parsers, plus the cases where the two peers differ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from regdoctor import auth

PEERS = Path(__file__).parents[1] / "data" / "peers"


def _table(name: str) -> list[dict[str, Any]]:
    cases: list[dict[str, Any]] = json.loads((PEERS / name).read_text(encoding="utf-8"))["cases"]
    for c in cases:
        assert c["source"]["repo"] and c["source"]["test"] and len(c["source"]["commit"]) == 40, c["id"]
    return cases


DISTRIBUTION = _table("distribution_challenge_test.json")
CONTAINERD = _table("containerd_auth_parse_test.json")


def _run(case: dict[str, Any], parse: Any) -> None:
    if "deliberate_difference" in case:
        pytest.skip(case["deliberate_difference"])
    kind, inp, expect = case["kind"], case["input"], case["expect"]
    if kind == "parse":
        got = [{"scheme": c.scheme, "params": c.params} for c in parse(inp["headers"])]
        assert got == expect["challenges"]
        # check reads what containerd reads: the same challenges, bearer first
        assert [(c.scheme, c.params) for c in auth.parse_challenges(inp["headers"])] == \
            [(c.scheme, c.params) for c in auth.parse_containerd(inp["headers"])]
    elif kind == "scope":
        got = [[s.type, s.resource_class, s.name, list(s.actions)] for s in auth.parse_scope(inp["scope"])]
        assert got == expect["scopes"]
        assert " ".join(str(s) for s in auth.parse_scope(inp["scope"])) == inp["scope"]
    elif kind == "token_scopes":
        common = " ".join(inp["common"]) if inp["common"] else None
        assert auth.token_scopes(inp["requested"], common) == expect["scopes"]
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize("case", DISTRIBUTION, ids=[c["id"] for c in DISTRIBUTION])
def test_distribution_table(case: dict[str, Any]) -> None:
    _run(case, auth.parse_distribution)


@pytest.mark.parametrize("case", CONTAINERD, ids=[c["id"] for c in CONTAINERD])
def test_containerd_table(case: dict[str, Any]) -> None:
    _run(case, auth.parse_containerd)


# Where the peers differ (read from their sources; recorded here, `check` follows containerd)
@pytest.mark.parametrize(
    ("header", "distribution", "containerd"),
    [
        # an empty value: distribution stops, containerd keeps it and goes on
        ('Bearer realm="https://a/t",empty="",service="s"', {"realm": "https://a/t"},
         {"realm": "https://a/t", "empty": "", "service": "s"}),
        # an unterminated quoted string: distribution drops it, containerd keeps ""
        ('Bearer realm="https://a/t",service="s', {"realm": "https://a/t"}, {"realm": "https://a/t", "service": ""}),
    ],
)
def test_where_the_peers_differ(header: str, distribution: dict[str, str], containerd: dict[str, str]) -> None:
    assert auth.parse_distribution([header])[0].params == distribution
    assert auth.parse_containerd([header])[0].params == containerd
    assert auth.parse_challenges([header])[0].params == containerd


def test_unknown_schemes_kept_by_distribution_dropped_by_containerd() -> None:
    headers = ["Negotiate abc==", 'Basic realm="r"', 'Bearer realm="https://t"']
    assert [c.scheme for c in auth.parse_distribution(headers)] == ["negotiate", "basic", "bearer"]
    assert [c.scheme for c in auth.parse_containerd(headers)] == ["bearer", "basic"]
    assert [c.scheme for c in auth.parse_challenges(headers)] == ["bearer", "basic", "negotiate"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('Basic realm="x", Bearer realm="https://t/token", service="s"',
         [("basic", {"realm": "x"}, None), ("bearer", {"realm": "https://t/token", "service": "s"}, None)]),
        ("Negotiate abc==", [("negotiate", {}, "abc==")]),
        ("Bearer", [("bearer", {}, None)]),
        (",, Basic realm=x ,, ", [("basic", {"realm": "x"}, None)]),
        ('BASIC REALM="a\\\\b\\"c"', [("basic", {"realm": 'a\\b"c'}, None)]),
        ('Basic realm = "x" , charset=UTF-8', [("basic", {"realm": "x", "charset": "UTF-8"}, None)]),
        ('Bearer realm="a,b", scope="c d"', [("bearer", {"realm": "a,b", "scope": "c d"}, None)]),
        ("Bearer a=1, a=2", [("bearer", {"a": "2"}, None)]),
    ],
)
def test_rfc7235_reading(header: str, expected: list[tuple[str, dict[str, str], str | None]]) -> None:
    assert [(c.scheme, c.params, c.token68) for c in auth.parse_rfc7235(header)] == expected


@pytest.mark.parametrize("header", ['Basic realm="x', "Basic a=1 b=2", "Bearer =x", '"Basic"', "Basic realm=x y"])
def test_rfc7235_rejects(header: str) -> None:
    with pytest.raises(auth.ChallengeError):
        auth.parse_rfc7235(header)


@pytest.mark.parametrize("realm", ["https://[", "https://[::1", "http://a b/t", "https://h:99x/t", "https://\x00/t"])
def test_malformed_realm_is_the_servers_fault(realm: str) -> None:
    problem = auth.bearer_problem(auth.Challenge("bearer", {"realm": realm}))
    assert problem is not None and "realm" in problem


@pytest.mark.parametrize("scope", ["repository", "repository:name", "Repo:x:pull", "repository::pull",
                                   "repository:a:b:c:pull", "repository:x:PULL", "repository(:x:pull"])
def test_scope_grammar_rejects(scope: str) -> None:
    with pytest.raises(auth.ScopeError):
        auth.parse_scope(scope)
