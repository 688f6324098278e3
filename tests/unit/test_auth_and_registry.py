"""Registry auth and content decisions on recorded answers."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path

import pytest

from regdoctor import auth
from regdoctor.credentials import Credential, CredentialError, load_client_config
from regdoctor.credentials import find_credential as _find
from regdoctor.net.http import HttpResponse
from regdoctor.probe.manifest import pick_platform
from regdoctor.probe.registry import data_verdict, manifest_failure, token_verdict
from regdoctor.redact import redact_location


def _jwt(access: object) -> str:
    def enc(d: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).decode().rstrip("=")
    return f"{enc({'alg': 'ES256'})}.{enc({'access': access})}.sig"


def _resp(status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    return HttpResponse(status=status, reason="X", headers=tuple(headers or [("content-type", "application/json")]),
                        body=body)


@pytest.mark.parametrize(
    ("header", "schemes", "realm"),
    [
        ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"', ["bearer"],
         "https://auth.docker.io/token"),
        ('Basic realm="Registry Realm"', ["basic"], "Registry Realm"),
        ('Bearer realm="https://r.io/oauth2/token",service="r.io",scope="repository:a/b:pull,push"', ["bearer"],
         "https://r.io/oauth2/token"),
        # one challenge per header line, as containerd and distribution read it
        ('Basic realm="x", Bearer realm="https://t/token"', ["basic"], "x"),
        ('bearer realm=unquoted', ["bearer"], "unquoted"),
        ('Bearer realm="with \\"quote\\""', ["bearer"], 'with "quote"'),
        ("Negotiate", ["negotiate"], None),
    ],
)
def test_parse_challenges(header: str, schemes: list[str], realm: str | None) -> None:
    chs = auth.parse_challenges(header)
    assert [c.scheme for c in chs] == schemes
    assert chs[0].realm == realm


@pytest.mark.parametrize("header", ["", "   ", "=bad", "x" * 9000])
def test_parse_challenges_rejects_garbage(header: str) -> None:
    with pytest.raises(auth.ChallengeError):
        auth.parse_challenges(header)


def test_scope_params_survive_commas() -> None:
    [c] = auth.parse_challenges('Bearer realm="https://r/t",scope="repository:a:pull,push"')
    assert c.params["scope"] == "repository:a:pull,push"


@pytest.mark.parametrize(
    ("params", "problem"),
    [({}, True), ({"realm": "ftp://x"}, True), ({"realm": "https://"}, True), ({"realm": "https://h:99x/t"}, True),
     ({"realm": "https://h/t"}, False)],
)
def test_bearer_problem(params: dict[str, str], problem: bool) -> None:
    assert (auth.bearer_problem(auth.Challenge("bearer", params)) is not None) is problem


def test_token_response_and_scopes() -> None:
    tok = _jwt([{"type": "repository", "name": "lab/hello", "actions": ["pull"]}])
    info = auth.parse_token_response(json.dumps({"token": tok, "expires_in": 300}).encode())
    assert info.granted == ["repository:lab/hello:pull"] and not info.opaque
    assert auth.grants_pull(info.granted, "lab/hello") and not auth.grants_pull(info.granted, "lab/other")
    assert auth.parse_token_response(b'{"access_token": "opaque"}').opaque
    for bad in (b"", b"[]", b'{"token": ""}', b"\xff\xfe"):
        with pytest.raises(ValueError):
            auth.parse_token_response(bad)


@pytest.mark.parametrize(
    ("status", "body", "creds", "code"),
    [
        (200, json.dumps({"token": _jwt([{"type": "repository", "name": "r", "actions": ["pull"]}])}), True, None),
        (200, json.dumps({"token": _jwt([])}), False, "AUTH_CREDENTIALS_REQUIRED"),
        (200, json.dumps({"token": _jwt([])}), True, "AUTH_INSUFFICIENT_SCOPE"),
        (200, json.dumps({"token": "opaque-token"}), False, None),
        (200, "not json", True, "AUTH_TOKEN_FAILED"),
        (401, '{"errors":[{"code":"UNAUTHORIZED","message":"bad"}]}', True, "AUTH_BAD_CREDENTIALS"),
        (401, "", False, "AUTH_CREDENTIALS_REQUIRED"),
        (429, "", False, "AUTH_TOKEN_THROTTLED"),
        (403, '{"errors":[{"code":"DENIED","message":"client with IP \'1.2.3.4\' is not allowed access."}]}', True,
         "HTTP_FIREWALL_DENIED"),
        (403, '{"errors":[{"code":"DENIED","message":"retrieving permissions failed"}]}', True,
         "AUTH_PERMISSION_DENIED"),
        (500, "", True, "AUTH_TOKEN_FAILED"),
    ],
)
def test_token_verdict(status: int, body: str, creds: bool, code: str | None) -> None:
    v = token_verdict(_resp(status, body.encode()), creds, "r", {"realm": "https://t/token"})
    assert v.code == code


def test_token_never_in_evidence() -> None:
    tok = _jwt([{"type": "repository", "name": "r", "actions": ["pull"]}])
    v = token_verdict(_resp(200, json.dumps({"token": tok}).encode()), True, "r", {})
    assert tok not in json.dumps(v.evidence) and tok not in v.summary


@pytest.mark.parametrize(
    ("status", "body", "code"),
    [
        (404, '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}', "REGISTRY_MANIFEST_UNKNOWN"),
        (404, '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known"}]}', "REGISTRY_NAME_UNKNOWN"),
        (401, '{"errors":[{"code":"UNAUTHORIZED"}]}', "AUTH_CREDENTIALS_REQUIRED"),
        (403, '{"errors":[{"code":"DENIED","message":"client with IP \'10.0.0.2\' is not allowed access."}]}',
         "REGISTRY_FIREWALL_DENIED"),
        (403, '{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}',
         "REGISTRY_DENIED"),
        (403, "<html>blocked</html>", "HTTP_MIDDLEBOX_BLOCKED"),
        (429, '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow"}]}', "HTTP_RATE_LIMITED"),
        (500, "", "REGISTRY_UNEXPECTED_STATUS"),
    ],
)
def test_manifest_failure(status: int, body: str, code: str) -> None:
    v = manifest_failure(_resp(status, body.encode()), {"path": "/v2/r/manifests/latest"}, False)
    assert v is not None and v.code == code


def test_firewall_on_manifest_keeps_client_ip() -> None:
    body = b'{"errors":[{"code":"DENIED","message":"client with IP \'10.200.0.2\' is not allowed access."}]}'
    v = manifest_failure(_resp(403, body), {"path": "/v2/r/manifests/latest"}, True)
    assert v is not None and v.evidence["client_ip"] == "10.200.0.2"


def test_pick_platform() -> None:
    idx = {"manifests": [
        {"digest": "sha256:a", "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"digest": "sha256:b", "platform": {"os": "linux", "architecture": "amd64"}},
        "garbage",
    ]}
    assert pick_platform(idx, "linux/amd64") == ("sha256:b", ["linux/arm64/v8", "linux/amd64"])
    assert pick_platform(idx, "linux/arm64/v8")[0] == "sha256:a"
    assert pick_platform(idx, "windows/amd64")[0] is None


def test_redact_location_hides_signatures() -> None:
    url = "https://acct.blob.core.windows.net/c/d?sv=2020&se=2026&sig=abcSECRET%3D&sp=r"
    red = redact_location(url)
    assert "SECRET" not in red and red.startswith("https://acct.blob.core.windows.net/c/d?")
    assert redact_location("https://u:pw@h/x") == "https://h/x"


@pytest.mark.parametrize(
    ("status", "code"),
    [(200, None), (206, None), (403, "DATA_ENDPOINT_DENIED"), (429, "DATA_BLOB_THROTTLED"),
     (500, "DATA_UNEXPECTED_STATUS")],
)
def test_data_verdict(status: int, code: str | None) -> None:
    assert data_verdict(_resp(status, b"x")).code == code


def find_credential(host: str, env: dict[str, str], username: str | None = None,
                    password: str | None = None) -> Credential | None:
    return _find(host, load_client_config(env, which=lambda name: None), env, username=username, password=password)


def _write_helper(tmp: Path, name: str, script: str) -> None:
    p = tmp / f"docker-credential-{name}"
    p.write_text("#!/bin/sh\n" + script)
    p.chmod(p.stat().st_mode | stat.S_IEXEC)


def test_credentials_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / ".docker"
    cfg.mkdir()
    enc = base64.b64encode(b"fileuser:filepass").decode()
    (cfg / "config.json").write_text(json.dumps({"auths": {"r.io": {"auth": enc}},
                                                 "credHelpers": {"h.io": "fake"}}))
    _write_helper(tmp_path, "fake", 'read s; echo "{\\"ServerURL\\":\\"$s\\",\\"Username\\":\\"hu\\",'
                                    '\\"Secret\\":\\"hs\\"}"\n')
    env = {"HOME": str(tmp_path), "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    c = find_credential("r.io", env)
    assert c is not None and (c.username, c.secret) == ("fileuser", "filepass")
    assert "filepass" not in repr(c)
    c = find_credential("h.io", env)
    assert c is not None
    assert (c.username, c.secret) == ("hu", "hs")
    assert c.source == f"credential helper docker-credential-fake (credHelpers in {cfg / 'config.json'})"
    assert find_credential("other.io", env) is None
    c = find_credential("r.io", env, username="u", password="p")
    assert c is not None and c.source == "--username/--password-stdin"


def test_broken_helper_is_reported(tmp_path: Path) -> None:
    cfg = tmp_path / ".docker"
    cfg.mkdir()
    (cfg / "config.json").write_text(json.dumps({"credsStore": "broken"}))
    _write_helper(tmp_path, "broken", "echo 'keychain locked' >&2; exit 1\n")
    env = {"HOME": str(tmp_path), "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    with pytest.raises(CredentialError, match="keychain locked"):
        find_credential("r.io", env)
    (cfg / "config.json").write_text(json.dumps({"credsStore": "missing"}))
    with pytest.raises(CredentialError, match="not found on PATH"):
        find_credential("r.io", env)


def test_podman_auth_json(tmp_path: Path) -> None:
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps({"auths": {"q.io": {"auth": base64.b64encode(b"pu:pp").decode()}}}))
    c = find_credential("q.io", {"HOME": str(tmp_path), "REGISTRY_AUTH_FILE": str(auth_file)})
    assert c is not None and c.username == "pu"


def test_unreadable_config_is_a_problem_not_a_credential(tmp_path: Path) -> None:
    cfg = tmp_path / ".docker"
    cfg.mkdir()
    (cfg / "config.json").write_bytes(b"\x00\xffnot json")
    assert find_credential("r.io", {"HOME": str(tmp_path)}) is None
    kinds = {(p.kind, p.readers) for p in load_client_config({"HOME": str(tmp_path)}).problems}
    assert kinds == {("not_json", ("docker", "containers"))}
