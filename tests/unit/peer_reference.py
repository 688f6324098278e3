"""The checks of distribution/reference's own tests, over the tables transcribed in tests/data/peers/.

Each ``CHECKS`` entry restates, in Python, what one Go test function asserts about one case (the
table's ``asserts`` says it in words). The checks read a *implementation* — a mapping from Go
function name to a function of the input returning an outcome in one shape: ``{"err": <Go error
variable>}`` or ``{"string", "name", "domain", "path", "tag", "digest", "familiar_name",
"familiar_string"}`` (absent keys: no such part). :func:`python_impl` gives regdoctor's port; the
peer oracle (scripts/peer_oracle) gives the same shape from the Go code itself, so the data and
these checks can be verified against the peer (tests/data/peers/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from regdoctor import reference as R

PEERS = Path(__file__).resolve().parents[1] / "data" / "peers"
Outcome = dict[str, Any]
Impl = Mapping[str, Callable[[str], Any]]

# Go error variable (as the tables name them) for each error kind
GO_ERROR = {
    R.RefError.INVALID_FORMAT: "ErrReferenceInvalidFormat",
    R.RefError.TAG_INVALID_FORMAT: "ErrTagInvalidFormat",
    R.RefError.DIGEST_REF_INVALID_FORMAT: "ErrDigestInvalidFormat",
    R.RefError.NAME_CONTAINS_UPPERCASE: "ErrNameContainsUppercase",
    R.RefError.NAME_EMPTY: "ErrNameEmpty",
    R.RefError.NAME_TOO_LONG: "ErrNameTooLong",
    R.RefError.NAME_NOT_CANONICAL: "ErrNameNotCanonical",
    R.RefError.NAME_IS_IDENTIFIER: "ErrNameIsIdentifier",  # a formatted error in Go (no variable)
    R.RefError.DIGEST_INVALID_FORMAT: "digest.ErrDigestInvalidFormat",
    R.RefError.DIGEST_INVALID_LENGTH: "digest.ErrDigestInvalidLength",
    R.RefError.DIGEST_UNSUPPORTED: "digest.ErrDigestUnsupported",
}


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((PEERS / name).read_text(encoding="utf-8"))
    return doc


def outcome_of(ref: R.Reference) -> Outcome:
    out: Outcome = {"string": str(ref), "familiar_string": R.familiar_string(ref)}
    if ref.is_named:
        out |= {"name": ref.name, "domain": ref.domain, "path": ref.path, "familiar_name": R.familiar_name(ref)}
    if ref.tag:
        out["tag"] = ref.tag
    if ref.digest:
        out["digest"] = ref.digest
    return out


def python_impl(algorithms: frozenset[str]) -> dict[str, Callable[[str], Any]]:
    """regdoctor.reference, with go-digest knowing ``algorithms`` (the test binary's registrations)."""

    def wrap(fn: Callable[..., R.Reference], *extra: Any) -> Callable[[str], Outcome]:
        def run(s: str) -> Outcome:
            try:
                return outcome_of(fn(s, *extra))
            except R.InvalidReference as exc:
                return {"err": GO_ERROR[exc.kind]}
        return run

    def match(rx: Any) -> Callable[[str], list[str] | None]:
        def run(s: str) -> list[str] | None:
            m = rx.match(s)
            return None if m is None else [g or "" for g in m.groups()]
        return run

    return {
        "Parse": wrap(R.parse, algorithms),
        "ParseNormalizedNamed": wrap(R.parse_normalized_named, algorithms),
        "ParseDockerRef": wrap(R.parse_docker_ref, algorithms),
        "ParseAnyReference": wrap(R.parse_any_reference, algorithms),
        "ParseNamed": wrap(R.parse_named, algorithms),
        "WithName": wrap(R.with_name),
        "rx.domain": lambda s: R.ANCHORED_DOMAIN_RE.match(s) is not None,
        "rx.name": match(R.ANCHORED_NAME_RE),
        "rx.ref": match(R.REFERENCE_RE),
        "rx.ident": lambda s: R.ANCHORED_IDENTIFIER_RE.match(s) is not None,
    }


# ------------------------------------------------------------------ one check per Go test function

def _parts(o: Outcome, case: Mapping[str, Any], name_key: str, with_domain: bool) -> None:
    assert "err" not in o, o
    assert o["string"] == case["input"], o
    assert o.get("name", "") == case.get(name_key, ""), o
    if with_domain:
        assert o.get("domain", "") == case.get("domain", ""), o
    assert o.get("tag", "") == case.get("tag", ""), o
    assert o.get("digest", "") == case.get("digest", ""), o


def reference_parse(case: Mapping[str, Any], impl: Impl) -> None:
    o = impl["Parse"](case["input"])
    if case.get("err"):
        assert o.get("err") == case["err"], o
    else:
        _parts(o, case, "repository", with_domain=True)


def serialization(case: Mapping[str, Any], impl: Impl) -> None:
    o = impl["Parse"](case["input"])
    if case.get("err"):
        assert o.get("err") == case["err"], o
    else:
        _parts(o, case, "name", with_domain=False)


def with_name_failure(case: Mapping[str, Any], impl: Impl) -> None:
    assert impl["WithName"](case["input"]).get("err") == case["err"]


def domain_and_path(case: Mapping[str, Any], impl: Impl, fn: str = "WithName") -> None:
    o = impl[fn](case["input"])
    assert "err" not in o, o
    assert (o["domain"], o["path"]) == (case["domain"], case["path"]), o


def parse_named(case: Mapping[str, Any], impl: Impl) -> None:
    o = impl["ParseNamed"](case["input"])
    if case.get("err"):
        assert o.get("err") == case["err"], o
    else:
        assert (o["domain"], o["path"]) == (case["domain"], case["path"]), o


def validity(case: Mapping[str, Any], impl: Impl) -> None:
    o = impl["ParseNormalizedNamed"](case["input"])
    assert ("err" not in o) == case["valid"], o


def repository_info(case: Mapping[str, Any], impl: Impl) -> None:
    o = impl["ParseNormalizedNamed"](case["input"])
    assert "err" not in o, o
    assert (o["familiar_name"], o["string"], o["domain"], o["path"]) == (
        case["FamiliarName"], case["FullName"], case["Domain"], case["RemoteName"]), o


def tag_and_digest(case: Mapping[str, Any], impl: Impl) -> None:
    o = impl["ParseNormalizedNamed"](case["input"])
    assert o["string"] == case["FullString"] and o.get("tag") and o.get("digest"), o
    assert o["familiar_string"] == case["input"], o


def any_reference(case: Mapping[str, Any], impl: Impl) -> None:
    o = impl["ParseAnyReference"](case["input"])
    assert "err" not in o and o["string"] == case["Equivalent"], o
    expected = case.get("Expected")
    if expected:
        assert "name" not in o and o["digest"] == expected["digestReference"], o
    else:
        assert o == impl["Parse"](case["Equivalent"]), o


def normalized_split(case: Mapping[str, Any], impl: Impl) -> None:
    domain_and_path(case, impl, "ParseNormalizedNamed")


def docker_ref(case: Mapping[str, Any], impl: Impl) -> None:
    o = impl["ParseDockerRef"](case["input"])
    assert "err" not in o and o["string"] == case["expected"], o
    assert "err" not in impl["Parse"](o["string"])


def _regexp(key: str) -> Callable[[Mapping[str, Any], Impl], None]:
    def check(case: Mapping[str, Any], impl: Impl) -> None:
        got = impl[key](case["input"])
        if key in ("rx.domain", "rx.ident"):
            assert got == case["match"], got
        elif not case["match"]:
            assert got is None, got
        else:
            assert got is not None, got
            subs = case.get("subs", [])
            assert got[: len(subs)] == subs, got
    return check


CHECKS: dict[str, Callable[[Mapping[str, Any], Impl], None]] = {
    "TestReferenceParse": reference_parse,
    "TestWithNameFailure": with_name_failure,
    "TestDomainAndPath": domain_and_path,
    "TestSerialization": serialization,
    "TestParseNamed": parse_named,
    "TestValidateReferenceName": validity,
    "TestValidateRemoteName": validity,
    "TestParseRepositoryInfo": repository_info,
    "TestParseReferenceWithTagAndDigest": tag_and_digest,
    "TestInvalidReferenceComponents": validity,
    "TestParseAnyReference": any_reference,
    "TestNormalizedSplitHostname": normalized_split,
    "TestParseDockerRef": docker_ref,
    "TestDomainRegexp": _regexp("rx.domain"),
    "TestFullNameRegexp": _regexp("rx.name"),
    "TestReferenceRegexp": _regexp("rx.ref"),
    "TestIdentifierRegexp": _regexp("rx.ident"),
}
