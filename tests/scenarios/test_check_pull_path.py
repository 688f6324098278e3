"""Past `GET /v2/`: token service, manifest, blob download and the data endpoints it redirects to
(issue: `regdoctor check` through the registry). Real distribution registries verify the lab token
service's JWTs and redirect blob downloads to separate data hosts (tests/lab)."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from lab.lab import Lab
from lab.runcli import check, root, steps

pytestmark = pytest.mark.lab

R = "registry.lab.test"
IMG = "lab/hello:latest"


CASES = [
    # id, ref, extra args, password, expected code, expected layer, evidence checks
    ("data-blackholed", f"{R}:5604/{IMG}", ("--timeout", "2"), None, "DATA_ENDPOINT_BLOCKED", "data",
     {"fqdn": "data-drop.lab.test", "blocked_code": "TCP_TIMEOUT"}),
    ("data-refused", f"{R}:5605/{IMG}", (), None, "DATA_ENDPOINT_BLOCKED", "data",
     {"fqdn": "data-refused.lab.test", "blocked_code": "TCP_REFUSED"}),
    # a certificate that fails verification is named as such on a data host too: the fix is that
    # certificate (or the clock), not an allow list (roles.toml [wrap] certificate)
    ("data-expired-tls", f"{R}:5606/{IMG}", (), None, "TLS_EXPIRED", "tls",
     {"tls_error": "certificate verify failed: certificate has expired"}),
    ("data-nxdomain", f"{R}:5608/{IMG}", (), None, "DATA_ENDPOINT_BLOCKED", "data",
     {"fqdn": "data-nx.lab.test", "blocked_code": "DNS_NXDOMAIN"}),
    ("data-403", f"{R}:5607/{IMG}", (), None, "DATA_ENDPOINT_DENIED", "data", {"status": 403}),
    ("redirect-loop", f"{R}:5609/{IMG}", (), None, "REGISTRY_REDIRECT_LOOP", "registry", {}),
    ("realm-blackholed", f"{R}:5602/{IMG}", ("--timeout", "2"), None, "AUTH_REALM_UNREACHABLE", "auth",
     {"realm_host": "auth-down.lab.test", "blocked_code": "TCP_TIMEOUT"}),
    ("token-throttled", f"{R}:5603/{IMG}", (), None, "AUTH_TOKEN_THROTTLED", "auth", {}),
    ("bad-credentials", f"{R}:5601/{IMG}", ("-u", "labuser"), "wrong-password", "AUTH_BAD_CREDENTIALS", "auth",
     {"status": 401}),
    ("no-credentials-private", f"{R}:5601/lab/private:latest", (), None, "AUTH_CREDENTIALS_REQUIRED", "auth", {}),
    ("insufficient-scope", f"{R}:5601/lab/private:latest", ("-u", "limited"), "limitedpass",
     "AUTH_INSUFFICIENT_SCOPE", "auth", {}),
    ("manifest-unknown", f"{R}:5601/lab/hello:no-such-tag", (), None, "REGISTRY_MANIFEST_UNKNOWN", "registry",
     {"status": 404}),
    ("acr-403-on-manifest", f"{R}:5610/{IMG}", (), None, "REGISTRY_FIREWALL_DENIED", "registry",
     {"client_ip": "10.200.0.2"}),
    ("platform-missing", f"{R}:5601/lab/multi:latest", ("--platform", "windows/amd64"), None,
     "REGISTRY_PLATFORM_MISSING", "registry", {}),
    ("basic-no-credentials", f"{R}:5443/{IMG}", (), None, "AUTH_CREDENTIALS_REQUIRED", "auth", {}),
    ("basic-bad-credentials", f"{R}:5443/{IMG}", ("-u", "labuser"), "nope", "AUTH_BAD_CREDENTIALS", "auth", {}),
    # a registry that hands its API to a backend (registry.k8s.io's shape) whose address is dropped
    ("api-backend-blackholed", f"{R}:5614/{IMG}", ("--timeout", "2"), None, "DATA_ENDPOINT_BLOCKED", "data",
     {"fqdn": "data-drop.lab.test", "blocked_code": "TCP_TIMEOUT"}),
]


@pytest.mark.parametrize(("cid", "ref", "args", "password", "code", "layer", "evidence"), CASES,
                         ids=[c[0] for c in CASES])
def test_pull_path_fault(lab: Lab, cid: str, ref: str, args: tuple[str, ...], password: str | None, code: str,
                         layer: str, evidence: dict[str, Any]) -> None:
    rc, doc, _ = check(lab, ref, *args, password=password)
    first = root(doc)
    assert (first["code"], first["layer"]) == (code, layer), json.dumps(doc["findings"], indent=1)[:3000]
    for k, v in evidence.items():
        assert first["evidence"].get(k) == v, (k, first["evidence"])
    assert rc == 1


def test_an_expired_certificate_on_the_data_host_names_that_host(lab: Lab) -> None:
    _, doc, _ = check(lab, f"{R}:5606/{IMG}")
    f = root(doc)
    assert (f["code"], f["host"]) == ("TLS_EXPIRED", "data-badtls.lab.test"), f
    assert all(s["status"] in ("pass", "skip") for s in steps(doc, R) if s["layer"] in ("dns", "tcp", "tls", "http"))


def test_at_least_twelve_pull_path_scenarios() -> None:
    assert len(CASES) >= 12


def test_data_endpoint_blocked_names_the_fqdn_and_the_registry_works(lab: Lab) -> None:
    _, doc, _ = check(lab, f"{R}:5604/{IMG}", "--timeout", "2")
    f = root(doc)
    assert "data-drop.lab.test" in f["fix"] and "registry.lab.test" in f["cause"]
    reg = steps(doc, R)
    assert all(s["status"] in ("pass", "skip") for s in reg if s["layer"] in ("dns", "tcp", "tls", "http", "auth"))
    data = next(e for e in doc["endpoints"] if e["host"] == "data-drop.lab.test")
    assert data["role"] == "data"
    consequence = [x for x in doc["findings"] if x["code"] == "TCP_TIMEOUT"]
    assert consequence and consequence[0]["root_cause"] is False


def test_manifest_unknown_is_not_a_network_fault(lab: Lab) -> None:
    _, doc, _ = check(lab, f"{R}:5601/lab/hello:no-such-tag")
    f = root(doc)
    assert "not a network fault" in f["title"].lower()
    assert all(s["status"] == "pass" for s in steps(doc) if s["layer"] in ("dns", "tcp", "tls", "http"))


@pytest.mark.parametrize(
    ("ref", "args", "password"),
    [
        (f"{R}:5601/{IMG}", (), None),
        (f"{R}:5601/{IMG}", ("-u", "labuser"), "labpass"),
        (f"{R}:5601/lab/private:latest", ("-u", "labuser"), "labpass"),
        (f"{R}:5601/lab/multi:latest", (), None),
        (f"{R}:5601/lab/multi:latest", ("--platform", "linux/arm64"), None),
        (f"{R}:5443/{IMG}", ("-u", "labuser"), "labpass"),
    ],
    ids=["anonymous", "labuser", "private-with-credentials", "index-amd64", "index-arm64", "basic-auth"],
)
def test_healthy_pull_path(lab: Lab, ref: str, args: tuple[str, ...], password: str | None) -> None:
    rc, doc, _ = check(lab, ref, *args, password=password)
    assert rc == 0, json.dumps(doc, indent=1)[:4000]
    names = [s["name"] for s in steps(doc, R)]
    assert "manifest" in names and "blob" in names
    assert not [s for s in steps(doc) if s["status"] == "fail"]


def test_healthy_pull_reports_scope_and_data_endpoint(lab: Lab) -> None:
    _, doc, _ = check(lab, f"{R}:5601/{IMG}", "-u", "labuser", password="labpass")
    token = next(s for s in steps(doc, R) if s["name"] == "token")
    assert "repository:lab/hello:pull" in token["summary"]
    roles = {e["host"]: e["role"] for e in doc["endpoints"]}
    assert roles == {R: "registry", "auth.lab.test": "realm", "data.lab.test": "data"}
    data = next(e for e in doc["endpoints"] if e["host"] == "data.lab.test")
    http = next(s for s in data["steps"] if s["layer"] == "http")
    assert http["status"] == "pass" and "206" in http["summary"]


def test_credentials_never_reach_the_data_host(lab: Lab) -> None:
    before = lab.data_log.read_text() if lab.data_log.exists() else ""
    rc, _, _ = check(lab, f"{R}:5601/{IMG}", "-u", "labuser", password="labpass")
    assert rc == 0
    new = lab.data_log.read_text()[len(before):]
    requests = [json.loads(line) for line in new.splitlines() if line.strip()]
    assert requests, "the data host saw no request: the redirect was not followed"
    for req in requests:
        names = {name.lower() for name, _value in req["headers"]}
        assert "authorization" not in names, req
        assert "labpass" not in json.dumps(req)


def test_canary_password_appears_in_no_output(lab: Lab) -> None:
    canary = "canary-Pa55-7f3e9"  # wrong password: it also lands in error paths
    for fmt in ("--json", "--format=text", "--format=markdown", "--format=junit"):
        for ref in (f"{R}:5601/{IMG}", f"{R}:5443/{IMG}"):
            _, out, err = check(lab, ref, "-u", "labuser", password=canary, fmt=fmt)
            text = out if isinstance(out, str) else json.dumps(out)
            assert canary not in text + err
            assert base64.b64encode(f"labuser:{canary}".encode()).decode() not in text + err


def test_tokens_appear_in_no_output(lab: Lab) -> None:
    for fmt in ("--json", "--format=text", "--format=markdown"):
        _, out, err = check(lab, f"{R}:5601/{IMG}", "-u", "labuser", password="labpass", fmt=fmt)
        text = out if isinstance(out, str) else json.dumps(out)
        assert "eyJ" not in text + err  # every JWT starts with the base64 of '{"'


def test_docker_config_credentials_are_used(lab: Lab) -> None:
    home = lab.dir / "home-docker-config"
    (home / ".docker").mkdir(parents=True, exist_ok=True)
    enc = base64.b64encode(b"labuser:labpass").decode()
    (home / ".docker" / "config.json").write_text(json.dumps({"auths": {f"{R}:5601": {"auth": enc}}}))
    rc, doc, _ = check(lab, f"{R}:5601/lab/private:latest", env={"HOME": str(home)})
    assert rc == 0, json.dumps(doc["findings"], indent=1)
    cred = next(s for s in steps(doc, R) if s["name"] == "credentials")
    # the source names the file and the auths key docker used, never the secret
    assert cred["evidence"]["credential_source"] == f"{home / '.docker' / 'config.json'} (auths['{R}:5601'])"
    assert "labpass" not in json.dumps(doc)


def test_identity_token_is_exchanged_the_oauth_way(lab: Lab) -> None:
    """`az acr login` stores an identity token (user <token>): docker POSTs it to the realm as an OAuth
    refresh token (grant_type=refresh_token), never as Basic credentials. The check does the same."""
    home = lab.dir / "home-identity-token"
    (home / ".docker").mkdir(parents=True, exist_ok=True)
    token_user = base64.b64encode(b"<token>:").decode()
    (home / ".docker" / "config.json").write_text(json.dumps(
        {"auths": {f"{R}:5601": {"auth": token_user, "identitytoken": "lab-identity-token"}}}))
    before = len(lab.records(lab.token_log))
    rc, doc, _ = check(lab, f"{R}:5601/lab/private:latest", env={"HOME": str(home)})
    assert rc == 0, json.dumps(doc["findings"], indent=1)
    new = lab.records(lab.token_log)[before:]
    assert any(r["method"] == "POST" and r.get("grant_type") == "refresh_token" and r["status"] == 200
               for r in new)
    assert not any(r["authorization"] for r in new)  # the identity token never went as Basic
    assert "lab-identity-token" not in json.dumps(doc)
    # a token the service does not know: the login fails at the token service, named as such
    (home / ".docker" / "config.json").write_text(json.dumps(
        {"auths": {f"{R}:5601": {"auth": token_user, "identitytoken": "stale"}}}))
    rc, doc, _ = check(lab, f"{R}:5601/lab/private:latest", env={"HOME": str(home)})
    assert rc == 1 and root(doc)["code"] == "AUTH_BAD_CREDENTIALS"


def test_broken_credential_helper(lab: Lab) -> None:
    home = lab.dir / "home-cred-helper"
    (home / ".docker").mkdir(parents=True, exist_ok=True)
    (home / ".docker" / "config.json").write_text(json.dumps({"credHelpers": {f"{R}:5601": "labbroken"}}))
    helper = home / "bin" / "docker-credential-labbroken"
    helper.parent.mkdir(exist_ok=True)
    helper.write_text("#!/bin/sh\necho 'error getting credentials - keychain is locked' >&2\nexit 1\n")
    helper.chmod(helper.stat().st_mode | stat.S_IEXEC)
    path = f"{helper.parent}:{Path('/usr/bin')}:{Path('/bin')}"
    rc, doc, _ = check(lab, f"{R}:5601/{IMG}", env={"HOME": str(home), "PATH": f"{path}:" + _lab_path(lab)})
    f = root(doc)
    assert f["code"] == "AUTH_CREDENTIAL_HELPER_FAILED" and "keychain is locked" in f["cause"]
    assert rc == 1


def _lab_path(lab: Lab) -> str:
    return lab._client_env(None)["PATH"]


def test_region_adds_replica_data_endpoints(lab: Lab) -> None:
    # pullreg.<region>.data.azurecr.io: westeurope is the lab's data host, eastus is blackholed
    rc, doc, _ = check(lab, "pullreg.azurecr.io:5441", "--region", "westeurope", "--region", "eastus",
                       "--timeout", "2")
    hosts = {e["host"]: e for e in doc["endpoints"]}
    assert hosts["pullreg.westeurope.data.azurecr.io"]["role"] == "data"
    assert not [s for s in hosts["pullreg.westeurope.data.azurecr.io"]["steps"] if s["status"] == "fail"]
    f = root(doc)
    assert (f["code"], f["host"]) == ("DATA_ENDPOINT_BLOCKED", "pullreg.eastus.data.azurecr.io")
    assert f["az_code"] == "DOCKER_PULL_ERROR"
    assert rc == 1


def test_every_acr_finding_names_an_az_code(lab: Lab) -> None:
    _, doc, _ = check(lab, f"{R}:5610/{IMG}")
    assert root(doc)["az_code"] == "CONNECTIVITY_FORBIDDEN_ERROR"


def test_acr_short_name_on_443(lab: Lab) -> None:
    """`regdoctor check -n goodreg` means goodreg.azurecr.io on 443 (az's convention): the lab's token
    registry there. A bare `goodreg` is what docker reads it as, an image on Docker Hub
    (tests/scenarios/test_check_docker_hub.py)."""
    rc, doc, _ = check(lab, "-n", "goodreg")
    assert rc == 0, json.dumps(doc["findings"], indent=1)
    assert doc["targets"] == ["-n goodreg"]
    # no image: `docker login` semantics, so the realm the challenge names is probed too
    assert [(e["host"], e["port"], e["role"], e["parent"]) for e in doc["endpoints"]] == [
        ("goodreg.azurecr.io", 443, "registry", None), ("auth.lab.test", 5600, "realm", "goodreg.azurecr.io")]
    rc, doc, _ = check(lab, "goodreg.azurecr.io/lab/hello:latest")
    assert rc == 0, json.dumps(doc["findings"], indent=1)
    rc, doc, _ = check(lab, "--name", "dropreg", "--timeout", "2")
    assert (rc, root(doc)["code"]) == (1, "TCP_TIMEOUT")


def test_registry_without_image_is_unhealthy_when_its_token_service_is_down(lab: Lab) -> None:
    """Healthy means `docker login` would work: a realm that cannot be reached is the root cause,
    even when no image is named (the token is asked for without a scope, as docker login does)."""
    rc, doc, _ = check(lab, f"{R}:5602")
    assert rc == 1
    first = root(doc)
    assert (first["code"], first["layer"], first["host"]) == ("AUTH_REALM_UNREACHABLE", "auth", "auth-down.lab.test")
    [realm] = [e for e in doc["endpoints"] if e["role"] == "realm"]
    assert realm["parent"] == f"{R}:5602" and "scope=" not in json.dumps(realm["steps"])


def test_a_registry_that_hands_its_api_to_another_host_is_followed_as_clients_do(lab: Lab) -> None:
    """registry.k8s.io's shape (fronts.py api-redirect): GET /v2/ and the manifest 307 to :5601, whose
    challenge, token and blob redirect then work (tests/scenarios/test_runtime_lab.py: dockerd and
    containerd pull through the same redirects)."""
    ref = f"{R}:5613/{IMG}"
    rc, doc, _ = check(lab, ref)
    assert (rc, doc["findings"]) == (0, []), json.dumps(doc["endpoints"], indent=1)[:3000]
    backend = [e for e in doc["endpoints"] if (e["host"], e["port"]) == (R, 5601)]
    assert [(e["role"], e["origin"]) for e in backend] == [("data", f"API redirect from {R}:5613")]
    names = [s["name"] for s in steps(doc, R) if s["layer"] == "registry"]
    assert "manifest redirect" in names, names
    # the token went to the host whose challenge asked for it, and came from that challenge's realm
    assert any(r["path"].startswith("/token?") for r in lab.records(lab.token_log))
