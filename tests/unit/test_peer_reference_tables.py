"""distribution/reference's own test tables (tests/data/peers/distribution_*_test.json), case by case.

Two readers are held to them:

* ``regdoctor.reference`` — the port of the Go package — must agree with every case of every table;
* ``regdoctor.target.parse_target`` — what ``regdoctor check REF`` uses — must agree with every case
  of the tables about ``ParseNormalizedNamed`` and ``ParseDockerRef``, except the cases the data
  lists with a ``deliberate_difference`` (SPEC's registry-only extension). Those must really differ,
  and be read as a registry, so the list cannot go stale.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from peer_reference import CHECKS, GO_ERROR, Impl, Outcome, load, outcome_of, python_impl

from regdoctor import reference as R
from regdoctor.target import Target, parse_target

FILES = ("distribution_reference_test.json", "distribution_normalize_test.json", "distribution_regexp_test.json")
CHECK_READS = ("ParseNormalizedNamed", "ParseDockerRef")  # the functions `docker pull` reads a REF with


def _cases(name: str) -> list[Any]:
    doc = load(name)
    algorithms = frozenset(doc["peer"]["registered_algorithms"])
    return [pytest.param(table["test"], case, algorithms, id=f"{table['test']}[{i}]")
            for table in doc["tables"] for i, case in enumerate(table["cases"])]


def _run(test: str, case: dict[str, Any], algorithms: frozenset[str]) -> None:
    CHECKS[test](case, python_impl(algorithms))


@pytest.mark.parametrize(("test", "case", "algorithms"), _cases(FILES[0]))
def test_distribution_reference_test(test: str, case: dict[str, Any], algorithms: frozenset[str]) -> None:
    _run(test, case, algorithms)


@pytest.mark.parametrize(("test", "case", "algorithms"), _cases(FILES[1]))
def test_distribution_normalize_test(test: str, case: dict[str, Any], algorithms: frozenset[str]) -> None:
    _run(test, case, algorithms)


@pytest.mark.parametrize(("test", "case", "algorithms"), _cases(FILES[2]))
def test_distribution_regexp_test(test: str, case: dict[str, Any], algorithms: frozenset[str]) -> None:
    _run(test, case, algorithms)


# ------------------------------------------------------------------ `regdoctor check REF` against the same cases

def _target_outcome(s: str, docker_ref: bool) -> Outcome:
    try:
        t = parse_target(s)
    except R.InvalidReference as exc:
        return {"err": GO_ERROR[exc.kind]}
    if t.repository is None:
        return {"registry": t.host_port}
    tag = t.tag or ""
    if docker_ref:  # ParseDockerRef: tagged "latest" when bare, the tag dropped beside a digest
        tag = "" if t.digest else (tag or "latest")
    return outcome_of(R.Reference(t.domain, t.repository, tag, t.digest or ""))


def _target_impl() -> Impl:
    impl: dict[str, Callable[[str], Any]] = dict(python_impl(R.DOCKER_ALGORITHMS))
    impl["ParseNormalizedNamed"] = lambda s: _target_outcome(s, docker_ref=False)
    impl["ParseDockerRef"] = lambda s: _target_outcome(s, docker_ref=True)
    return impl


def _check_cases() -> list[Any]:
    out = []
    for name in FILES:
        for table in load(name)["tables"]:
            if table["function"] in CHECK_READS:
                out += [pytest.param(table["test"], table["function"], case, id=f"{table['test']}[{i}]")
                        for i, case in enumerate(table["cases"])]
    return out


def _agrees(test: str, function: str, case: dict[str, Any]) -> bool:
    """The table's own check passes for parse_target, and parse_target's whole reading (domain, path,
    tag, digest, or the error kind) is the docker function's, as the port computes it."""
    impl = _target_impl()
    try:
        CHECKS[test](case, impl)
    except (AssertionError, KeyError):  # a wrong part, or a part docker has and the reading lacks
        return False
    return bool(impl[function](case["input"]) == python_impl(R.DOCKER_ALGORITHMS)[function](case["input"]))


@pytest.mark.parametrize(("test", "function", "case"), _check_cases())
def test_check_reads_refs_as_docker(test: str, function: str, case: dict[str, Any]) -> None:
    if not case.get("deliberate_difference"):
        assert _agrees(test, function, case), (parse_target(case["input"]), case)
        return
    assert not _agrees(test, function, case)  # a listed difference must be real...
    t = parse_target(case["input"])  # ...and be SPEC's extension: the REF names a registry alone
    assert isinstance(t, Target) and t.repository is None and "/" not in case["input"], t


def test_the_only_deliberate_difference_is_the_registry_extension() -> None:
    reasons = {case["deliberate_difference"] for name in FILES for table in load(name)["tables"]
               for case in table["cases"] if "deliberate_difference" in case}
    assert len(reasons) == 1 and "SPEC" in next(iter(reasons)), reasons
