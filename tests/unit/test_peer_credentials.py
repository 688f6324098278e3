"""docker/cli's and containers/image's own test tables (tests/data/peers/), run against regdoctor.

Each case says where it comes from (repo, file, test, commit). A case agrees, or it carries a
``deliberate_difference`` with the reason; there are none today.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest

from regdoctor.credentials import keys
from regdoctor.credentials.files import (
    AuthFile,
    ClientConfig,
    containers_auth_paths,
    decode_auth,
    load_client_config,
    parse_auth_file,
    parse_docker_env_config,
)
from regdoctor.credentials.helper import CredentialError, HelperAnswer, run_helper
from regdoctor.credentials.lookup import (
    ContainersLookupError,
    Credential,
    containers_lookup,
    docker_helper_for,
    docker_lookup,
    find_credential,
)

PEERS = Path(__file__).parents[1] / "data" / "peers"
TESTDATA = PEERS / "containers_image_testdata"


def _table(name: str) -> list[dict[str, Any]]:
    doc = json.loads((PEERS / name).read_text(encoding="utf-8"))
    cases: list[dict[str, Any]] = doc["cases"]
    for c in cases:
        src = c["source"]
        assert src["repo"] and src["file"] and src["test"] and len(src["commit"]) == 40, c["id"]
    return cases


DOCKER = _table("docker_cli_credentials_test.json")
CONTAINERS = _table("containers_image_auth_test.json")


def _expect_credential(got: Credential | None, expect: dict[str, Any]) -> None:
    if expect.get("anonymous"):
        assert got is None
        return
    assert got is not None
    if "identity_token" in expect:
        assert (got.username, got.secret) == ("<token>", expect["identity_token"])
    else:
        assert (got.username, got.secret) == (expect["username"], expect["password"])


def _docker_config(inp: dict[str, Any]) -> ClientConfig:
    docker = parse_auth_file("config.json", json.dumps(inp["config"]).encode(), "docker")
    env = inp.get("docker_auth_config")
    return ClientConfig(docker=docker, docker_env=parse_docker_env_config(env) if env else None)


def _mock_runner(stores: dict[str, dict[str, Any]]) -> Any:
    def run(helper: str, server: str) -> HelperAnswer | None:
        answer = stores.get(helper, {}).get(server)
        if isinstance(answer, str):
            raise CredentialError(f"docker-credential-{helper}", answer)
        if answer is None:
            return None  # the mock store has nothing: "credentials not found"
        return HelperAnswer(answer["username"], answer["password"])
    return run


def _helper_script(tmp: Path, stdin: str, stdout: str, code: int) -> Path:
    script = tmp / "docker-credential-peer"
    script.write_text(
        "#!/usr/bin/env python3\nimport sys\n"
        f"got = sys.stdin.read()\nif got != {stdin!r}:\n    print('stdin was', repr(got)); sys.exit(99)\n"
        f"sys.stdout.write({stdout!r})\nsys.exit({code})\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


@pytest.mark.parametrize("case", DOCKER, ids=[c["id"] for c in DOCKER])
def test_docker_cli_table(case: dict[str, Any], tmp_path: Path) -> None:
    if "deliberate_difference" in case:
        pytest.skip(case["deliberate_difference"])
    kind, inp, expect = case["kind"], case["input"], case["expect"]
    if kind == "convert_to_hostname":
        assert keys.convert_to_hostname(inp) == expect
    elif kind == "lookup":
        cfg = _docker_config(inp)
        target = inp.get("domain") or inp["key"]
        run = _mock_runner(inp.get("stores", {}))
        if "error" in expect:
            with pytest.raises(CredentialError, match=expect["error"]):
                docker_lookup(cfg, target, run)
        else:
            _expect_credential(docker_lookup(cfg, target, run), expect)
    elif kind == "load_docker_config":
        raw = inp["raw"]
        f = parse_auth_file("config.json", None if raw is None else raw.encode(), "docker")
        assert (f.problem.kind if f.problem else None) == expect["problem"]
    elif kind == "helper_choice":
        cfg = _docker_config(inp)
        assert docker_helper_for(cfg, keys.docker_auth_config_key(inp["domain"])) == expect["helper"]
    elif kind == "decode_auth":
        assert decode_auth(inp["auth"]) == (expect["username"], expect["password"])
    elif kind == "parse_env":
        f = parse_docker_env_config(inp["value"])
        if "problem" in expect:
            assert f.problem is not None and f.problem.kind == expect["problem"]
            assert expect["detail_contains"] in f.problem.detail
        else:
            assert f.problem is None
            assert {a.key: {"username": a.username, "password": a.password} for a in f.auths} == expect["auths"]
    elif kind == "helper_get":
        _helper_script(tmp_path, inp["stdin"], inp["stdout"], inp["exit"])
        env = {"PATH": f"{tmp_path}:{os.environ['PATH']}"}
        if "error_contains" in expect:
            with pytest.raises(CredentialError, match=expect["error_contains"]):
                run_helper("peer", inp["stdin"], env)
        else:
            got = run_helper("peer", inp["stdin"], env)
            if expect.get("not_found"):
                assert got is None
            else:
                assert got is not None and (got.username, got.secret) == (expect["username"], expect["secret"])
    else:
        raise AssertionError(f"unknown kind {kind}")


def _place(tmp: Path, spec: str) -> Path:
    return tmp / spec.replace("$XDG_RUNTIME_DIR", "run").replace("$HOME", "home").lstrip("/")


def _helpers_from_conf(name: str) -> tuple[str, ...]:
    import tomllib

    return tuple(tomllib.loads((TESTDATA / name).read_text())["credential-helpers"])


def _containers_env(case_input: dict[str, Any], tmp: Path) -> tuple[dict[str, str], ClientConfig]:
    (tmp / "home").mkdir()
    (tmp / "run").mkdir()
    env = {"HOME": str(tmp / "home"), "PATH": f"{TESTDATA}:{os.environ['PATH']}"}
    if not case_input.get("no_xdg_runtime_dir"):
        env["XDG_RUNTIME_DIR"] = str(tmp / "run")
    for where, src in case_input.get("files", {}).items():
        dest = _place(tmp, where)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(TESTDATA / src, dest)
    for where, text in case_input.get("raw_files", {}).items():
        dest = _place(tmp, where)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    cfg = load_client_config(env, home=env["HOME"], uid=4242, which=lambda name: None)
    if "registries_conf" in case_input:
        cfg = ClientConfig(docker=cfg.docker, containers=cfg.containers,
                           containers_helpers=_helpers_from_conf(case_input["registries_conf"]))
    return env, cfg


@pytest.mark.parametrize("case", CONTAINERS, ids=[c["id"] for c in CONTAINERS])
def test_containers_image_table(case: dict[str, Any], tmp_path: Path) -> None:
    if "deliberate_difference" in case:
        pytest.skip(case["deliberate_difference"])
    kind, inp, expect = case["kind"], case["input"], case["expect"]
    if kind == "lookup":
        env, cfg = _containers_env(inp, tmp_path)

        def run(helper: str, server: str) -> HelperAnswer | None:
            return run_helper(helper, server, env)

        if "error_contains" in expect:
            with pytest.raises(ContainersLookupError, match=expect["error_contains"]):
                containers_lookup(cfg, inp["key"], run)
        else:
            _expect_credential(containers_lookup(cfg, inp["key"], run), expect)
    elif kind == "system_context":
        cfg = ClientConfig(docker=AuthFile("none", "docker"))
        sc = inp["system_context_auth"]
        got = find_credential(inp["key"], cfg, {}, username=sc["username"], password=sc["password"],
                              client="containers")
        _expect_credential(got, expect)
    elif kind == "key_order":
        key = inp["key"]
        registry = key.partition("/")[0]
        assert list(keys.auth_key_lookup_order(key, registry)) == expect["order"]
        assert list(keys.auth_key_lookup_order(key, registry, legacy_format=True)) == expect["legacy_order"]
    elif kind == "validate_key":
        if expect.get("error"):
            with pytest.raises(ValueError):
                keys.validate_key(inp["key"])
        else:
            assert keys.validate_key(inp["key"]) is expect["namespaced"]
    elif kind == "auth_path":
        env = {}
        if inp.get("xdg_runtime_dir"):
            xdg = inp["xdg_runtime_dir"].replace("$TMP", str(tmp_path))
            env["XDG_RUNTIME_DIR"] = xdg
        if inp.get("registry_auth_file"):
            env["REGISTRY_AUTH_FILE"] = inp["registry_auth_file"]
        paths = [str(p) for p, _ in containers_auth_paths(env, "/home/u", 4242)]
        want = expect["path"]
        if want is None:
            assert not any(p.startswith(env["XDG_RUNTIME_DIR"]) for p in paths)
        else:
            want = want.replace("$UID", "4242").replace("$TMP", str(tmp_path))
            assert paths[0] == want
            if expect.get("only"):
                assert paths == [want]
    else:
        raise AssertionError(f"unknown kind {kind}")


def test_tables_have_no_unexplained_skips() -> None:
    for case in DOCKER + CONTAINERS:
        if "deliberate_difference" in case:
            assert len(case["deliberate_difference"]) > 20, case["id"]
