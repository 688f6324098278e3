"""Property tests: any bytes into the config readers, the challenge, scope and token parsers
give a result or a documented error, never another exception, and each call is fast."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from timing import bounded

from regdoctor import auth
from regdoctor.credentials import keys
from regdoctor.credentials.files import AuthFile, ClientConfig, parse_auth_file, parse_docker_env_config
from regdoctor.credentials.helper import CredentialError, parse_helper_output
from regdoctor.credentials.lookup import ContainersLookupError, containers_lookup, docker_lookup, registries_in_config
from regdoctor.safejson import JSONLimitError, loads

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LIMIT_S = 0.1

# JSON-ish text: mostly the characters config files and headers are made of
_jsonish = st.text(alphabet=st.sampled_from('{}[]":,\\ abcz019=./@-_\n\tuA\u00e9\x00'), max_size=400)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(
        ["auths", "credHelpers", "credsStore", "auth", "identitytoken", "username", "password", "r.io",
         "https://r.io/v1/", "psFormat", "proxies", "AUTHS"]), kids, max_size=4),
    max_leaves=20)
_documents = st.one_of(st.binary(max_size=400), _jsonish.map(str.encode),
                       _json_values.map(lambda v: json.dumps(v).encode()))


def _timed(fn: Callable[[], Any]) -> Any:
    return bounded(fn, LIMIT_S)


def _no_helpers(helper: str, server: str) -> None:
    raise CredentialError(helper, "not run in property tests")


@FAST
@given(_documents, st.sampled_from(["docker", "containers"]), st.booleans())
def test_config_reader_total(data: bytes, reader: str, legacy: bool) -> None:
    f = _timed(lambda: parse_auth_file("c.json", data, reader, legacy=legacy))  # type: ignore[arg-type]
    assert isinstance(f, AuthFile)
    if f.problem is not None:
        assert f.problem.kind in ("too_big", "too_deep", "not_json", "wrong_shape", "bad_entry")
        assert f.problem.detail and len(f.problem.detail) < 400
    cfg = ClientConfig(docker=f if reader == "docker" else AuthFile("d", "docker"),
                       containers=(f,) if reader == "containers" else ())
    _timed(lambda: registries_in_config(cfg))
    for domain in ("r.io", "docker.io"):
        with contextlib.suppress(CredentialError):
            _timed(lambda d=domain: docker_lookup(cfg, d, _no_helpers))  # type: ignore[misc]
        with contextlib.suppress(ContainersLookupError):
            _timed(lambda d=domain: containers_lookup(cfg, f"{d}/a/b", _no_helpers))  # type: ignore[misc]


@FAST
@given(st.one_of(_jsonish, st.text(max_size=300), _json_values.map(json.dumps)))
def test_docker_auth_config_total(value: str) -> None:
    f = _timed(lambda: parse_docker_env_config(value))
    assert isinstance(f, AuthFile)


@FAST
@given(st.integers(0, 3), st.binary(max_size=300))
def test_helper_output_total(code: int, out: bytes) -> None:
    try:
        _timed(lambda: parse_helper_output("h", code, out))
    except CredentialError as exc:
        assert exc.reason


@FAST
@given(st.text(max_size=300))
def test_key_rules_total(key: str) -> None:
    _timed(lambda: keys.convert_to_hostname(key))
    _timed(lambda: keys.normalize_auth_file_key(key))
    _timed(lambda: list(keys.auth_key_lookup_order(key, key.partition("/")[0])))
    with contextlib.suppress(ValueError):
        keys.validate_key(key)


_headerish = st.text(alphabet=st.sampled_from('BasicBearerNegotiate realm="\\,= ;\t/:x\u00ff'), max_size=300)


@FAST
@given(st.lists(st.one_of(_headerish, st.text(max_size=200)), min_size=0, max_size=4))
def test_challenge_parsers_total(headers: list[str]) -> None:
    _timed(lambda: auth.parse_containerd(headers))
    _timed(lambda: auth.parse_distribution(headers))
    _timed(lambda: auth.challenges_missed(headers))
    for parse in (auth.parse_challenges, auth.parse_rfc7235):
        try:
            chs = _timed(lambda: parse(headers))  # noqa: B023 - called at once
        except auth.ChallengeError:
            continue
        for c in chs:
            if c.scheme == "bearer":
                _timed(lambda: auth.bearer_problem(c))  # noqa: B023


@FAST
@given(st.one_of(st.text(max_size=300), st.text(alphabet=st.sampled_from("repository:()a/b,*pull "), max_size=200)))
def test_scope_parser_total(value: str) -> None:
    try:
        scopes = _timed(lambda: auth.parse_scope(value))
    except auth.ScopeError:
        return
    assert all(s.type and s.name for s in scopes)


@FAST
@given(_documents)
def test_token_response_total(body: bytes) -> None:
    try:
        info = _timed(lambda: auth.parse_token_response(body))
    except ValueError:
        return
    assert info.token


@FAST
@given(_documents)
def test_loads_limited_total(data: bytes) -> None:
    try:
        _timed(lambda: loads(data))
    except JSONLimitError as exc:
        assert exc.kind in ("too_big", "too_deep", "not_utf8", "not_json")


def test_hostile_sizes_are_linear() -> None:
    # deep, wide, long and escape-heavy inputs at the limits, each well under a second
    for data in (b"[" * 200_000, b"[]," * 300_000, b'"' + b'\\"' * 300_000, b'{"auths": {' + b'"a": {}, ' * 50_000):
        t0 = time.perf_counter()
        parse_auth_file("c.json", data, "docker")
        assert time.perf_counter() - t0 < 1.0
    for header in ("Bearer " + "a=b," * 2000, 'Bearer realm="' + "\\x" * 4000, "," * 8000):
        t0 = time.perf_counter()
        for parse in (auth.parse_challenges, auth.parse_rfc7235):
            with contextlib.suppress(auth.ChallengeError):
                parse(header)
        assert time.perf_counter() - t0 < 0.1
