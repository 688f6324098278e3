"""`check` with no REF reads the user's credential files; broken ones are findings, never a crash.

Only loopback traffic: the registry comes from DOCKER_AUTH_CONFIG and is a closed port."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_ENV_AUTH = json.dumps({"auths": {"127.0.0.1:9": {"auth": base64.b64encode(b"u:s3cret-pw").decode()}}})


def _check(home: Path, *args: str) -> tuple[int, dict[str, object], str]:
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower() and not k.startswith(("DOCKER", "REGISTRY"))}
    env.update(HOME=str(home), DOCKER_AUTH_CONFIG=_ENV_AUTH, XDG_RUNTIME_DIR=str(home))
    r = subprocess.run([sys.executable, "-m", "regdoctor", "check", "--json", "--timeout", "1", *args],
                       capture_output=True, text=True, env=env, timeout=60, check=False)
    assert "Traceback" not in r.stderr
    return r.returncode, json.loads(r.stdout), r.stdout + r.stderr


@pytest.mark.parametrize(("content", "kind"), [
    (b"{broken", "not_json"),
    (b"[" * 1000 + b"]" * 1000, "too_deep"),
    (b'{"x": ' * 1000 + b"1" + b"}" * 1000, "too_deep"),
    (b"\xef\xbb\xbf{}", "not_json"),
    (b'{"auths": []}', "wrong_shape"),
    (b'{"auths": {"127.0.0.1:9": {"auth": "%%%"}}}', "bad_entry"),
    (b"x" * (2 * 1024 * 1024), "too_big"),
])
def test_broken_docker_config_is_a_finding(tmp_path: Path, content: bytes, kind: str) -> None:
    (tmp_path / ".docker").mkdir()
    cfg = tmp_path / ".docker" / "config.json"
    cfg.write_bytes(content)
    rc, doc, text = _check(tmp_path)
    assert rc == 1
    found = [f for f in doc["findings"] if f["code"] == "AUTH_CONFIG_UNREADABLE"]  # type: ignore[union-attr]
    assert found and found[0]["evidence"]["config_path"] == str(cfg)
    assert found[0]["evidence"]["problem"] == kind and found[0]["host"] is None
    assert "{" not in found[0]["cause"].replace("{broken", "")  # every placeholder filled
    assert doc["targets"] == ["127.0.0.1:9"]  # the registry came from DOCKER_AUTH_CONFIG
    assert "s3cret-pw" not in text


def test_broken_docker_auth_config_and_auth_json(tmp_path: Path) -> None:
    (tmp_path / "containers").mkdir()
    (tmp_path / "containers" / "auth.json").write_text("")  # empty: podman refuses it, docker never reads it
    _rc, doc, _ = _check(tmp_path, "127.0.0.1:9")
    paths = {f["evidence"]["config_path"]: f["evidence"]["readers"] for f in doc["findings"]  # type: ignore[union-attr]
             if f["code"] == "AUTH_CONFIG_UNREADABLE"}
    assert paths == {str(tmp_path / "containers" / "auth.json"): "podman/skopeo/buildah"}
